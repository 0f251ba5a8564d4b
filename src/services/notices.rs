//! The notice engine shared by circular notices (回覧板) and safety checks (安否確認): a notice goes
//! to a list of recipients; each reads it and may answer its questions; the sender sees who has
//! read and answered, reminds the rest (by hand or automatically), exports CSV and closes it.
//! This module holds what both kinds share (recipients, personal link tokens, answers, reminders,
//! status, CSV fields, managing a notice); `circulars` holds the circular notices' use cases and
//! `safety` the safety checks' own rules (personal links, conditions, the dashboard). Not to be
//! confused with `new_posts` (the mail about new room posts).

use chrono::{Duration as ChronoDuration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::authz::{RoomAction, authorize_room};
use super::mail::{self, emails};
use super::{Actor, Core};
use crate::db::DbConn;
use crate::db::types::{NoticeId, NoticeKind, UserId};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Lang;
use crate::markdown;
use crate::models::notice::{self as m, NewNotice, NewRecipient};
/// The rows a notice page shows (pages name them through this service, never through `models`).
pub use crate::models::notice::{Notice, Recipient};
use crate::models::{audit, now};

/// Longest free-text answer, in characters.
pub const MAX_ANSWER_CHARS: usize = 1000;
/// Most choices a question may offer.
pub const MAX_CHOICES: usize = 20;

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One of the choices.
    Single,
    /// Any number of the choices.
    Multiple,
    /// Free text.
    Text,
}

/// A question of a notice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// The form field and the key in the stored answer.
    pub key: String,
    /// Single, multiple or text.
    pub kind: QuestionKind,
    /// The question as shown (free text; the safety check's built-in questions use i18n keys in
    /// their own template instead).
    pub label: String,
    /// The choices, for single and multiple.
    pub choices: Vec<String>,
    /// Whether an answer must give it.
    pub required: bool,
}

/// Parses the stored questions.
pub fn questions_of(n: &Notice) -> Vec<Question> {
    serde_json::from_str(&n.questions).unwrap_or_default()
}

/// Checks a submitted answer against the questions; returns it as stored (JSON object) or the
/// fields in error. Unknown fields are ignored.
pub fn parse_answer(
    questions: &[Question],
    fields: &[(String, String)],
) -> Result<serde_json::Map<String, serde_json::Value>, FieldErrors> {
    let mut e = FieldErrors::default();
    let mut out = serde_json::Map::new();
    for q in questions {
        let given: Vec<&str> = fields
            .iter()
            .filter(|(k, _)| *k == q.key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect();
        let field = field_name(&q.key);
        match q.kind {
            QuestionKind::Single => match given.as_slice() {
                [] if q.required => e.add(field, "notice.answer_required"),
                [] => {}
                [one] if q.choices.iter().any(|c| c == one) => {
                    out.insert(q.key.clone(), (*one).into());
                }
                _ => e.add(field, "error.invalid_choice"),
            },
            QuestionKind::Multiple => {
                if given.is_empty() && q.required {
                    e.add(field, "notice.answer_required");
                } else if given.iter().all(|g| q.choices.iter().any(|c| c == g)) {
                    let mut picked: Vec<&str> = given.clone();
                    picked.dedup();
                    out.insert(q.key.clone(), picked.into());
                } else {
                    e.add(field, "error.invalid_choice");
                }
            }
            QuestionKind::Text => match given.first() {
                None if q.required => e.add(field, "notice.answer_required"),
                None => {}
                Some(t) if t.chars().count() > MAX_ANSWER_CHARS => e.add(field, "error.too_long"),
                Some(t) => {
                    out.insert(q.key.clone(), (*t).into());
                }
            },
        }
    }
    if e.is_empty() { Ok(out) } else { Err(e) }
}

/// `FieldErrors` wants `&'static str` names; questions have a few fixed keys.
fn field_name(key: &str) -> &'static str {
    match key {
        "condition" => "condition",
        "place" => "place",
        "can_come" => "can_come",
        "comment" => "comment",
        "extra" => "extra",
        _ => "q",
    }
}

/// Who a notice goes to: id, mail address, language.
#[derive(Debug, Clone)]
pub struct Audience {
    /// Account id.
    pub user_id: i64,
    /// The account's mail address.
    pub email: String,
    /// Preferred language.
    pub lang: Lang,
}

impl From<m::AudienceRow> for Audience {
    fn from(r: m::AudienceRow) -> Self {
        Self {
            user_id: r.user_id,
            email: r.email,
            lang: Lang::of_account(r.language.as_deref()),
        }
    }
}

impl Audience {
    /// The person as the recipient of a notice's mail at `address` (one of theirs).
    fn at(&self, address: String) -> mail::Recipient {
        mail::Recipient {
            user_id: Some(self.user_id),
            address,
            lang: self.lang,
            name: None,
        }
    }
}

/// Every enabled account (a site-wide safety check).
pub fn everyone(conn: &mut DbConn) -> AppResult<Vec<Audience>> {
    Ok(m::audience_all(conn)?.into_iter().map(Into::into).collect())
}

/// The enabled members of a room.
pub fn room_audience(conn: &mut DbConn, room_id: i64) -> AppResult<Vec<Audience>> {
    Ok(m::audience_of_room(conn, room_id)?
        .into_iter()
        .map(Into::into)
        .collect())
}

/// Reminder settings of a new notice.
#[derive(Debug, Clone, Copy, Default)]
pub struct Reminders {
    /// Minutes between automatic reminders (0 = none).
    pub every_minutes: i64,
    /// How many at most.
    pub max: i64,
}

/// Parses the reminder fields of a form (both empty = none).
pub fn parse_reminders(every: &str, max: &str, e: &mut FieldErrors) -> Reminders {
    let every = every.trim();
    let max = max.trim();
    if every.is_empty() || every == "0" {
        return Reminders::default();
    }
    let every_minutes = every
        .parse::<i64>()
        .ok()
        .filter(|m| (5..=24 * 60).contains(m));
    if every_minutes.is_none() {
        e.add("remind_every", "notice.remind_range");
    }
    let max = if max.is_empty() {
        Some(3)
    } else {
        max.parse::<i64>().ok()
    }
    .filter(|m| (1..=20).contains(m));
    if max.is_none() {
        e.add("remind_max", "notice.remind_count");
    }
    Reminders {
        every_minutes: every_minutes.unwrap_or(0),
        max: max.unwrap_or(0),
    }
}

/// What is needed to create a notice and its recipients.
pub struct Draft<'a> {
    /// `circular` or `safety`.
    pub kind: &'a str,
    /// The room, or `None` for everyone.
    pub room_id: Option<i64>,
    /// Title.
    pub title: &'a str,
    /// Markdown body.
    pub body: &'a str,
    /// A drill (訓練).
    pub drill: bool,
    /// The questions.
    pub questions: &'a [Question],
    /// Answer by.
    pub deadline: Option<NaiveDateTime>,
    /// Automatic reminders.
    pub reminders: Reminders,
}

/// Creates the notice and one recipient row per person (with the hash of a personal link's token
/// when `link_tokens`); returns the notice id. Mails are the caller's.
pub fn create(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    draft: &Draft<'_>,
    audience: &[Audience],
    link_tokens: bool,
) -> AppResult<i64> {
    let at = now();
    let questions = serde_json::to_string(draft.questions)
        .map_err(|e| AppError::Internal(anyhow::anyhow!("questions: {e}")))?;
    let id = m::insert(
        conn,
        &NewNotice {
            kind: draft.kind,
            room_id: draft.room_id,
            sender_id: actor.id,
            title: draft.title,
            body_md: draft.body,
            body_html: &markdown::render(draft.body),
            drill: draft.drill,
            questions: &questions,
            deadline: draft.deadline,
            remind_every_minutes: draft.reminders.every_minutes,
            remind_max: draft.reminders.max,
            next_remind_at: (draft.reminders.every_minutes > 0)
                .then(|| at + ChronoDuration::minutes(draft.reminders.every_minutes)),
            created_at: at,
        },
    )?;
    let rows: Vec<NewRecipient> = audience
        .iter()
        .map(|a| NewRecipient {
            notice_id: id,
            user_id: a.user_id,
            token_hash: link_tokens.then(|| {
                super::token::hash_token(&answer_token(core, NoticeId(id), UserId(a.user_id)))
            }),
        })
        .collect();
    m::insert_recipients(conn, &rows)?;
    audit::record(
        conn,
        Some(actor.id),
        &format!("{}.started", draft.kind),
        &format!("notice {id}: {} recipients", rows.len()),
        None,
    )?;
    Ok(id)
}

/// A recipient's personal answer-link token: the same in every mail about the notice, derived from
/// the server secret, never stored (only its hash is).
pub fn answer_token(core: &Core, notice_id: NoticeId, user_id: UserId) -> String {
    core.secret
        .token_for(&format!("answer:{notice_id}:{user_id}"))
}

/// Records an answer that `parse_answer` accepted. Refused (`Conflict`) once the notice is closed.
pub fn record(
    conn: &mut DbConn,
    notice: &Notice,
    user_id: i64,
    answer: &serde_json::Map<String, serde_json::Value>,
    proxy_by: Option<i64>,
) -> AppResult<()> {
    if notice.closed_at.is_some() {
        return Err(AppError::Conflict("notice.closed"));
    }
    let condition = answer.get("condition").and_then(|v| v.as_str());
    let text = serde_json::Value::Object(answer.clone()).to_string();
    m::record_answer(conn, notice.id, user_id, &text, condition, proxy_by, now())?;
    Ok(())
}

/// The `reminder` mails for one round: to every recipient who has not answered (or, without
/// questions, not read). Returns how many were queued.
pub fn remind(core: &Core, conn: &mut DbConn, notice: &Notice) -> AppResult<usize> {
    let by_read = questions_of(notice).is_empty();
    let laggards = m::laggards(conn, notice.id, by_read)?;
    if laggards.is_empty() {
        return Ok(0);
    }
    let audience: Vec<Audience> = m::audience_by_ids(conn, &laggards)?
        .into_iter()
        .map(Into::into)
        .collect();
    let n = queue_notice_mail(core, conn, notice, &audience, true)?;
    m::mark_reminded(conn, notice.id, &laggards, now())?;
    Ok(n)
}

/// Queues the mail of a notice (first or reminder) to each person at every address that reaches
/// them, each with their own link.
pub fn queue_notice_mail(
    core: &Core,
    conn: &mut DbConn,
    notice: &Notice,
    audience: &[Audience],
    reminder: bool,
) -> AppResult<usize> {
    let base = core.config.base_url();
    // A safety check reaches every address a person verified (a phone carrier's beside work
    // mail), skipping bouncing ones; a circular notice goes to the account's own address.
    let safety = notice.kind == NoticeKind::Safety;
    let reach = if safety {
        let members: Vec<(i64, &str)> = audience
            .iter()
            .map(|a| (a.user_id, a.email.as_str()))
            .collect();
        super::reachability::safety_addresses_many(conn, &members)?
    } else {
        std::collections::HashMap::new()
    };
    let mut to = Vec::with_capacity(audience.len());
    for a in audience {
        let link = if safety {
            format!(
                "{base}/a/{}",
                answer_token(core, NoticeId(notice.id), UserId(a.user_id))
            )
        } else {
            format!("{base}/notices/{}", notice.id)
        };
        match reach.get(&a.user_id) {
            Some(addrs) => to.extend(addrs.iter().map(|addr| (a.at(addr.clone()), link.clone()))),
            None => to.push((a.at(a.email.clone()), link)),
        }
    }
    let (title, body) = (&notice.title, markdown::plain_text(&notice.body_md));
    if safety {
        mail::queue_many(core, conn, &to, |link| emails::SafetyCheck {
            title,
            drill: notice.drill,
            reminder,
            body: &body,
            link,
        })
    } else {
        mail::queue_many(core, conn, &to, |link| emails::CircularNotice {
            title,
            link,
            body: &body,
            reminder,
        })
    }
}

/// Sends every automatic reminder round that is due (jobs loop): each round is claimed in the
/// transaction that queues its mail, so with several processes a round goes out once.
pub fn send_due_reminders(core: &Core, at: NaiveDateTime) -> AppResult<usize> {
    let due = core
        .db
        .run_sync(false, |conn| Ok(m::due_reminders(conn, at)?))?;
    let mut sent = 0;
    for notice in due {
        sent += core.db.run_sync(true, |conn| {
            let done = notice.reminders_sent + 1;
            let next = (done < notice.remind_max)
                .then(|| at + ChronoDuration::minutes(notice.remind_every_minutes));
            if !m::claim_reminder(conn, &notice, next)? {
                return Ok(0);
            }
            remind(core, conn, &notice)
        })?;
    }
    Ok(sent)
}

/// Read / answered counts and the per-person rows of a notice.
#[derive(Debug)]
pub struct Status {
    /// Recipients with name and login.
    pub rows: Vec<m::RecipientRow>,
    /// How many have read it.
    pub read: usize,
    /// How many have answered.
    pub answered: usize,
}

/// The per-person status of a notice.
pub fn status(conn: &mut DbConn, notice_id: i64) -> AppResult<Status> {
    let rows = m::recipients(conn, notice_id)?;
    let read = rows.iter().filter(|(r, ..)| r.read_at.is_some()).count();
    let answered = rows
        .iter()
        .filter(|(r, ..)| r.answered_at.is_some())
        .count();
    Ok(Status {
        rows,
        read,
        answered,
    })
}

/// Quotes a CSV field (RFC 4180) and defuses spreadsheet formulas (`=`, `+`, `-`, `@` at the start).
pub fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// An answer value as CSV text (choices of a multiple answer joined by ` / `).
pub fn answer_text(answer: Option<&str>, key: &str) -> String {
    let Some(v) = answer
        .and_then(|a| serde_json::from_str::<serde_json::Value>(a).ok())
        .and_then(|v| v.get(key).cloned())
    else {
        return String::new();
    };
    match v {
        serde_json::Value::String(s) => s,
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str())
            .collect::<Vec<_>>()
            .join(" / "),
        other => other.to_string(),
    }
}

/// The optional question of a notice form: its kind (`none`, `single`, `multiple` or `text`), the
/// question and the choices (one per line). Errors name the fields `question_kind`, `question` and
/// `choices`.
pub fn parse_question(
    kind: &str,
    question: &str,
    choices: &str,
    e: &mut FieldErrors,
) -> Option<Question> {
    let kind = match kind {
        "" | "none" => return None,
        "single" => QuestionKind::Single,
        "multiple" => QuestionKind::Multiple,
        "text" => QuestionKind::Text,
        _ => {
            e.add("question_kind", "error.invalid_choice");
            return None;
        }
    };
    let label = question.trim().to_owned();
    if label.is_empty() || label.chars().count() > 300 {
        e.add("question", "notice.question_needed");
    }
    let mut choices: Vec<String> = choices
        .lines()
        .map(|c| c.trim().chars().take(100).collect::<String>())
        .filter(|c| !c.is_empty())
        .collect();
    choices.dedup();
    if kind != QuestionKind::Text && !(2..=MAX_CHOICES).contains(&choices.len()) {
        e.add("choices", "notice.choices_needed");
    }
    if kind == QuestionKind::Text {
        choices.clear();
    }
    Some(Question {
        key: "q".into(),
        kind,
        label,
        choices,
        required: true,
    })
}

/// Loads a notice of `kind` the actor may manage now: a circular notice by `ManageCircular`, a
/// safety check of a room by those who may see its results, a check for everyone by site admins.
/// Having sent it is not enough on its own (an officer or sender who lost the room kept
/// close/remind/CSV of everyone's answers).
pub fn managed(conn: &mut DbConn, actor: &Actor, id: i64, kind: NoticeKind) -> AppResult<Notice> {
    let notice = m::find(conn, id)?;
    if notice.kind != kind {
        return Err(AppError::NotFound);
    }
    let Some(room_id) = notice.room_id else {
        super::authz::authorize(Some(actor), super::authz::Action::Administer)?;
        return Ok(notice);
    };
    let action = if notice.kind == NoticeKind::Safety {
        RoomAction::ViewSafetyResults
    } else {
        RoomAction::ManageCircular {
            sender: notice.sender_id == actor.id,
        }
    };
    let room = crate::models::room::find(conn, room_id)?;
    let ctx = super::rooms::load(conn, Some(actor), &room.slug)?;
    authorize_room(Some(actor), &ctx.access, action)?;
    Ok(notice)
}

/// Sends a reminder round now (by hand).
pub fn remind_now(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    kind: NoticeKind,
) -> AppResult<usize> {
    let notice = managed(conn, actor, id, kind)?;
    if notice.closed_at.is_some() {
        return Err(AppError::Conflict("notice.closed"));
    }
    remind(core, conn, &notice)
}

/// Closes a notice.
pub fn close(conn: &mut DbConn, actor: &Actor, id: i64, kind: NoticeKind) -> AppResult<Notice> {
    let notice = managed(conn, actor, id, kind)?;
    m::close(conn, id, now())?;
    audit::record(
        conn,
        Some(actor.id),
        &format!("{}.closed", notice.kind),
        &format!("notice {id}"),
        None,
    )?;
    Ok(notice)
}

/// What closing would end, for the page that asks first: the notice's title and how many of its
/// recipients have not answered. Asked of those who may close it, as `close` asks.
pub fn close_preview(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    kind: NoticeKind,
) -> AppResult<(String, usize)> {
    let notice = managed(conn, actor, id, kind)?;
    let unanswered = m::recipients(conn, id)?
        .iter()
        .filter(|(r, ..)| r.answered_at.is_none())
        .count();
    Ok((notice.title, unanswered))
}

/// Whether `user_id` received the notice (used by safety to answer as a member).
pub fn is_recipient(conn: &mut DbConn, notice_id: NoticeId, user_id: UserId) -> AppResult<bool> {
    Ok(m::is_recipient(conn, notice_id.0, user_id.0)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(kind: QuestionKind) -> Question {
        Question {
            key: "q".into(),
            kind,
            label: "出欠".into(),
            choices: vec!["出席".into(), "欠席".into()],
            required: true,
        }
    }

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn answers_are_checked_against_their_question() {
        let single = [q(QuestionKind::Single)];
        assert_eq!(
            parse_answer(&single, &f(&[("q", "出席")])).unwrap()["q"],
            "出席"
        );
        assert!(parse_answer(&single, &f(&[("q", "たぶん")])).is_err());
        assert!(parse_answer(&single, &f(&[])).is_err(), "required");
        assert!(parse_answer(&single, &f(&[("q", "出席"), ("q", "欠席")])).is_err());
        let multiple = [q(QuestionKind::Multiple)];
        let a = parse_answer(&multiple, &f(&[("q", "出席"), ("q", "欠席")])).unwrap();
        assert_eq!(a["q"], serde_json::json!(["出席", "欠席"]));
        let text = [q(QuestionKind::Text)];
        assert!(parse_answer(&text, &f(&[("q", &"あ".repeat(MAX_ANSWER_CHARS + 1))])).is_err());
        // Fields that are not questions (role, user_id …) are ignored.
        let a = parse_answer(&text, &f(&[("q", "はい"), ("user_id", "1")])).unwrap();
        assert_eq!(a.len(), 1);
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("山田"), "山田");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
    }
}
