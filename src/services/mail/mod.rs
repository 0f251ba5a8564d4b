//! The one way to send mail: `queue` (one person) and `queue_many` (one text for many people,
//! each with their own link) render a typed mail from `emails` in the recipient's language and
//! insert outbox rows in the caller's transaction. Nothing here sends; the jobs loop does, woken by
//! `Db` once the transaction has committed (`db::mail_queued`).
//!
//! A mail is `templates/email/<name>/{subject,body}.txt`; every body extends `email/base.txt`,
//! which writes the greeting and the footer its `EmailTemplate` asks for.

pub mod emails;

use serde::Serialize;

use super::Core;
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::models::room::MemberContact;
use crate::models::user::User;
use crate::models::{now, outbox};
use crate::templates::Templates;

/// What closes a mail (after its own text, separated by a blank line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Footer {
    /// Nothing.
    None,
    /// Where to change the room mail one receives (`mail.notify_footer`).
    RoomMail,
    /// "If it was not you, choose a new password now" with the reset link (`mail.not_you`):
    /// mails about a change to the account.
    NotYou,
}

/// A mail's typed context: one struct per directory under `templates/email/` (see `emails`).
pub trait EmailTemplate: Serialize {
    /// Its directory under `templates/email/`.
    const NAME: &'static str;
    /// Whether it opens with the greeting by the recipient's name (`mail.greeting`). Mails that
    /// go to someone without an account, or are rendered once for many people, do not.
    const GREETING: bool = true;
    /// What closes it.
    const FOOTER: Footer = Footer::None;
}

/// Who a mail goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The account, when it goes to one: the sender skips disabled accounts.
    pub user_id: Option<i64>,
    /// The address it is sent to.
    pub address: String,
    /// The language it is written in.
    pub lang: Lang,
    /// The name the greeting uses (the account's display name).
    pub name: Option<String>,
}

impl Recipient {
    /// An account at its own address, in its language, greeted by its display name: the one place
    /// an account's row becomes a recipient (`From<&User>`, `From<&MemberContact>`).
    pub fn account(user_id: i64, email: &str, display_name: &str, language: Option<&str>) -> Self {
        Self {
            user_id: Some(user_id),
            address: email.to_owned(),
            lang: Lang::of_account(language),
            name: Some(display_name.to_owned()),
        }
    }

    /// Someone who has no account (yet): an invitation's address.
    pub fn address(address: &str, lang: Lang) -> Self {
        Self {
            user_id: None,
            address: address.to_owned(),
            lang,
            name: None,
        }
    }

    /// The same person at another of their addresses (a new account email, an added address).
    #[must_use]
    pub fn at(self, address: &str) -> Self {
        Self {
            address: address.to_owned(),
            ..self
        }
    }
}

impl From<&User> for Recipient {
    fn from(u: &User) -> Self {
        Self::account(u.id, &u.email, &u.display_name, u.language.as_deref())
    }
}

impl From<&MemberContact> for Recipient {
    fn from(m: &MemberContact) -> Self {
        Self::account(m.user_id, &m.email, &m.display_name, m.language.as_deref())
    }
}

/// Renders `mail` for `to` and queues it in the caller's transaction; the sender is woken once
/// that transaction commits.
pub fn queue<T: EmailTemplate>(
    core: &Core,
    conn: &mut DbConn,
    to: &Recipient,
    mail: &T,
) -> AppResult<()> {
    let (subject, body) = render(
        &core.templates,
        &core.config.base_url(),
        mail,
        to.lang,
        to.name.as_deref(),
    )?;
    let subject = in_site_name(core, conn, &subject)?;
    let at = now();
    outbox::enqueue(
        conn,
        &outbox::NewMail {
            user_id: to.user_id,
            to_addr: &to.address,
            subject: &subject,
            body_text: &body,
            created_at: at,
            next_attempt_at: at,
        },
    )?;
    crate::db::mail_queued();
    Ok(())
}

/// A placeholder no template text contains; replaced by each recipient's link.
const LINK_MARK: &str = "\u{1}LINK\u{1}";

/// Queues one mail per `(recipient, link)`: the same text for everyone but for their own link.
/// `mail` is given the placeholder that becomes each link; the text is rendered once per language,
/// not once per person (a safety check for 10,000 people renders twice), and the rows go to the
/// outbox in batches. Such mails have no greeting. Returns how many were queued.
pub fn queue_many<T: EmailTemplate>(
    core: &Core,
    conn: &mut DbConn,
    to: &[(Recipient, String)],
    mail: impl FnOnce(&'static str) -> T,
) -> AppResult<usize> {
    const {
        assert!(
            !T::GREETING,
            "a mail rendered once for many people cannot greet each by name"
        );
    };
    let mail = mail(LINK_MARK);
    let base_url = core.config.base_url();
    let mut rendered: Vec<(Lang, String, String)> = Vec::new();
    for lang in Lang::ALL {
        let (subject, body) = render(&core.templates, &base_url, &mail, lang, None)?;
        rendered.push((lang, in_site_name(core, conn, &subject)?, body));
    }
    let bodies: Vec<(&str, String)> = to
        .iter()
        .map(|(who, link)| {
            let (_, subject, body) = rendered
                .iter()
                .find(|(l, ..)| *l == who.lang)
                .unwrap_or(&rendered[0]);
            (subject.as_str(), body.replace(LINK_MARK, link))
        })
        .collect();
    let at = now();
    let rows: Vec<outbox::NewMail<'_>> = to
        .iter()
        .zip(&bodies)
        .map(|((who, _), (subject, body))| outbox::NewMail {
            user_id: who.user_id,
            to_addr: &who.address,
            subject,
            body_text: body,
            created_at: at,
            next_attempt_at: at,
        })
        .collect();
    outbox::enqueue_many(conn, &rows)?;
    if !rows.is_empty() {
        crate::db::mail_queued();
    }
    Ok(rows.len())
}

/// A subject that says which site it comes from (`[みどり町内会] 地震 安否確認`): people get mail
/// from several places, and a safety check must be recognised at a glance.
fn in_site_name(core: &Core, conn: &mut DbConn, subject: &str) -> AppResult<String> {
    let title = match core.site_cache.fresh() {
        Some(site) => site.title.clone(),
        None => super::site::load(conn)?.title,
    };
    Ok(format!("[{}] {subject}", title.trim()))
}

/// The subject (trimmed) and body of `mail` in `lang`; `name` is the greeting's, `base_url` the
/// site's (for the links the layout adds).
pub fn render<T: EmailTemplate>(
    templates: &Templates,
    base_url: &str,
    mail: &T,
    lang: Lang,
    name: Option<&str>,
) -> AppResult<(String, String)> {
    let mut c = tera::Context::from_serialize(mail)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("mail {}: {e}", T::NAME)))?;
    c.insert("lang", lang.code());
    c.insert("greeting", &T::GREETING);
    c.insert("footer", &T::FOOTER);
    if T::GREETING {
        let name = name.ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!(
                "mail {} greets its recipient, who has no name",
                T::NAME
            ))
        })?;
        c.insert("recipient_name", name);
    }
    if T::FOOTER == Footer::NotYou {
        c.insert("reset_link", &format!("{base_url}/password/reset"));
    }
    let subject = templates.render(&format!("email/{}/subject.txt", T::NAME), &c)?;
    let body = templates.render(&format!("email/{}/body.txt", T::NAME), &c)?;
    Ok((subject.trim().to_owned(), body))
}

#[cfg(test)]
mod tests {
    use super::emails::*;
    use super::*;

    const BASE: &str = "http://x.test";

    fn templates() -> Templates {
        Templates::load(&crate::assets::Assets::load()).unwrap()
    }

    fn hanako() -> Recipient {
        Recipient::account(7, "hana@x.test", "山田 花子", Some("en"))
    }

    /// One sample of every mail (and of each branch of their templates), rendered in `lang`: the
    /// directory name and `subject\n----\nbody`.
    #[expect(
        clippy::too_many_lines,
        reason = "a table: one sample per mail and per branch of its templates"
    )]
    fn samples(t: &Templates, lang: Lang) -> Vec<(&'static str, String)> {
        fn one<T: EmailTemplate>(
            t: &Templates,
            lang: Lang,
            name: &str,
            mail: &T,
        ) -> (&'static str, String) {
            let (s, b) = render(t, BASE, mail, lang, Some(name)).unwrap();
            (T::NAME, format!("{s}\n----\n{b}"))
        }
        let n = "山田 花子";
        vec![
            one(
                t,
                lang,
                n,
                &AddressAdded {
                    address: "hana@phone.test",
                    link: "http://x.test/me/addresses",
                },
            ),
            one(
                t,
                lang,
                n,
                &AddressTest {
                    address: "hana@phone.test",
                    link: "http://x.test/verify/TOK",
                    days: 7,
                    from_admin: false,
                },
            ),
            one(
                t,
                lang,
                n,
                &AddressTest {
                    address: "hana@phone.test",
                    link: "http://x.test/verify/TOK",
                    days: 7,
                    from_admin: true,
                },
            ),
            one(
                t,
                lang,
                "Chief <b>",
                &ApprovalRequest {
                    who: "Member & co",
                    room: "council",
                    title: "防災訓練の報告",
                    link: "http://x.test/inbox",
                },
            ),
            one(
                t,
                lang,
                "Chief <b>",
                &EventApprovalRequest {
                    who: "Member & co",
                    room: "council",
                    title: "保護者会",
                    link: "http://x.test/inbox",
                },
            ),
            one(
                t,
                lang,
                "花子",
                &EventDecided {
                    room: "council",
                    title: "保護者会",
                    approved: true,
                    note: "",
                    link: "http://x.test/rooms/council/calendar/events/1",
                },
            ),
            one(
                t,
                lang,
                "花子",
                &EventDecided {
                    room: "council",
                    title: "保護者会",
                    approved: false,
                    note: "日付を確認してください",
                    link: "http://x.test/rooms/council/calendar/events/1",
                },
            ),
            one(
                t,
                lang,
                n,
                &CircularNotice {
                    title: "回覧 <1>",
                    link: "http://x.test/notices/3",
                    body: "本文\n二行目",
                    reminder: false,
                },
            ),
            one(
                t,
                lang,
                n,
                &CircularNotice {
                    title: "回覧",
                    link: "http://x.test/notices/3",
                    body: "",
                    reminder: true,
                },
            ),
            one(
                t,
                lang,
                "花子",
                &Digest {
                    items: "・room: title\n  http://x.test/rooms/r/posts/1\n・room2: t2\n  http://x.test/rooms/r2/posts/2",
                    count: 2,
                },
            ),
            one(
                t,
                lang,
                "花子",
                &EmailChangeConfirm {
                    login: "hanako",
                    new_email: "new@x.test",
                    hours: 24,
                    link: "http://x.test/email/confirm/TOK",
                },
            ),
            one(
                t,
                lang,
                "花子",
                &EmailChangeNotice {
                    login: "hanako",
                    new_email: "new@x.test",
                    hours: 24,
                },
            ),
            one(
                t,
                lang,
                "Manager",
                &JoinRequest {
                    who: "Taro",
                    room: "council",
                    message: "入れてください",
                    link: "http://x.test/rooms/council/members",
                },
            ),
            one(
                t,
                lang,
                "Manager",
                &JoinRequest {
                    who: "Taro",
                    room: "council",
                    message: "",
                    link: "http://x.test/rooms/council/members",
                },
            ),
            one(
                t,
                lang,
                "花子",
                &NewComment {
                    who: "Taro",
                    title: "題名",
                    link: "http://x.test/rooms/r/posts/1",
                },
            ),
            one(
                t,
                lang,
                "花子",
                &NewPost {
                    who: "Taro",
                    room: "square",
                    title: "夏祭り",
                    link: "http://x.test/rooms/r/posts/1",
                },
            ),
            one(
                t,
                lang,
                "花子",
                &EventReminder {
                    title: "朝練",
                    when: "2027-01-05 10:00–11:00 (Asia/Tokyo)",
                    place: "体育館",
                    room: "club",
                    link: "http://x.test/rooms/club/calendar/events/1?at=20270105T010000Z",
                },
            ),
            one(
                t,
                lang,
                "花子",
                &EventReminder {
                    title: "遠足",
                    when: "2027-01-06",
                    place: "",
                    room: "club",
                    link: "http://x.test/rooms/club/calendar/events/2",
                },
            ),
            one(t, lang, "花子", &PasswordChanged { login: "hanako" }),
            one(
                t,
                lang,
                "花子",
                &PasswordReset {
                    login: "hanako",
                    minutes: 60,
                    link: "http://x.test/password/reset/TOK",
                },
            ),
            one(
                t,
                lang,
                "花子",
                &PostApproved {
                    room: "council",
                    title: "報告",
                    link: "http://x.test/rooms/council/posts/1",
                },
            ),
            one(
                t,
                lang,
                "花子",
                &PostSentBack {
                    room: "council",
                    title: "報告",
                    note: "直してください",
                    link: "http://x.test/rooms/council/posts/1",
                },
            ),
            one(
                t,
                lang,
                n,
                &RoomInvitation {
                    who: "Taro",
                    room: "council",
                    link: "http://x.test/invite/TOK",
                    days: 7,
                },
            ),
            one(
                t,
                lang,
                n,
                &SafetyCheck {
                    title: "地震 安否確認",
                    drill: true,
                    reminder: false,
                    body: "落ち着いて",
                    link: "http://x.test/a/TOK",
                },
            ),
            one(
                t,
                lang,
                n,
                &SafetyCheck {
                    title: "地震 安否確認",
                    drill: false,
                    reminder: true,
                    body: "",
                    link: "http://x.test/a/TOK",
                },
            ),
            one(
                t,
                lang,
                "花子",
                &Welcome {
                    login: "hanako",
                    days: 14,
                    link: "http://x.test/password/reset/TOK",
                },
            ),
        ]
    }

    #[test]
    fn every_mail_renders_in_every_language() {
        let t = templates();
        let mut names = std::collections::BTreeSet::new();
        for lang in Lang::ALL {
            for (name, text) in samples(&t, lang) {
                let (subject, body) = text.split_once("\n----\n").unwrap();
                assert!(
                    !subject.is_empty() && !subject.contains('\n'),
                    "{name}: {subject:?}"
                );
                assert!(
                    body.ends_with('\n') && !body.contains(LINK_MARK),
                    "{name}: {body:?}"
                );
                names.insert(name);
            }
        }
        // Every directory under templates/email/ is a typed mail (and has a sample above).
        let dirs: std::collections::BTreeSet<String> =
            std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/email"))
                .unwrap()
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().unwrap().is_dir())
                .map(|e| e.file_name().into_string().unwrap())
                .collect();
        assert_eq!(
            names
                .into_iter()
                .map(str::to_owned)
                .collect::<std::collections::BTreeSet<_>>(),
            dirs
        );
    }

    #[test]
    fn the_layout_writes_the_greeting_and_the_footer_a_mail_asks_for() {
        let t = templates();
        let (subject, body) = render(
            &t,
            BASE,
            &PasswordChanged { login: "hanako" },
            Lang::En,
            Some("山田 花子"),
        )
        .unwrap();
        assert_eq!(subject, "Your password was changed");
        assert_eq!(
            body,
            "Hello 山田 花子,\n\nThe password of the account “hanako” was just changed, and other \
             browsers were logged out. If this was you, there is nothing more to do.\n\nIf it was \
             not you, someone knows your password or is using your account: choose a new password \
             now at http://x.test/password/reset (this logs out every browser and cancels a \
             pending change of address), and tell the site's administrator.\n"
        );
        let (_, body) = render(
            &t,
            BASE,
            &CircularNotice {
                title: "回覧 <1>",
                link: "http://x.test/notices/3",
                body: "本文",
                reminder: false,
            },
            Lang::En,
            None,
        )
        .unwrap();
        assert_eq!(
            body,
            "A circular notice “回覧 <1>” has arrived. Please read it (and answer, if it asks):\n\n\
             http://x.test/notices/3\n\n本文\n\n",
            "no greeting, no footer, text as given (mail is not HTML)"
        );
        // A mail that greets needs a name to greet.
        assert!(render(&t, BASE, &PasswordChanged { login: "x" }, Lang::Ja, None).is_err());
    }

    #[test]
    fn a_recipient_is_built_from_an_account_in_one_way() {
        let to = hanako();
        assert_eq!(to.lang, Lang::En);
        assert_eq!(to.name.as_deref(), Some("山田 花子"));
        let other = to.clone().at("hana@phone.test");
        assert_eq!(
            (other.user_id, other.address.as_str(), other.lang),
            (Some(7), "hana@phone.test", Lang::En)
        );
        assert_eq!(
            Recipient::account(1, "a@x.test", "A", Some("fr")).lang,
            Lang::default(),
            "an unknown language falls back to the default"
        );
    }

    #[test]
    fn the_sender_is_woken_once_the_transaction_that_queued_mail_has_committed() {
        use futures_util::FutureExt;
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::config::Config::load(dir.path(), None, []).unwrap();
        config.database.url = Some(format!("sqlite://{}", dir.path().join("yui.db").display()));
        // No jobs loop runs here, so a wake-up stays stored in the `Notify` for the test to see.
        let core = crate::app::build_core(config).unwrap();
        let woken = || core.db.mail_wakeup().notified().now_or_never().is_some();
        let mail = PasswordChanged { login: "hanako" };
        // No account behind it: the database is empty.
        let to = Recipient {
            user_id: None,
            ..hanako()
        };
        core.db
            .run_sync(true, |conn| {
                queue(&core, conn, &to, &mail)?;
                assert!(
                    !woken(),
                    "woken before the commit, the sender finds nothing"
                );
                Ok(())
            })
            .unwrap();
        assert!(woken(), "woken after the commit");
        assert!(!woken(), "once");
        let queued = |core: &Core| {
            core.db
                .run_sync(false, |conn| {
                    let lease = now() + chrono::Duration::hours(1);
                    Ok(outbox::claim_due(conn, "t", now(), lease, 10)?.len())
                })
                .unwrap()
        };
        assert_eq!(queued(&core), 1);
        // Rolled back: nothing to send, nobody woken.
        let failed = core.db.run_sync(true, |conn| {
            queue(&core, conn, &to, &mail)?;
            Err::<(), _>(AppError::NotFound)
        });
        assert!(failed.is_err());
        assert!(!woken());
        // A transaction without mail does not wake it either.
        core.db.run_sync(true, |_| Ok(())).unwrap();
        assert!(!woken());
        assert_eq!(queued(&core), 0, "the rolled back mail is not there");
    }
}
