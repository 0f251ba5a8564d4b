//! Circular notices (回覧板) on the notice engine (`notices`): a room member who may send notices
//! sends one to the room's members (or the chosen ones), each reads and answers it on its page, and
//! the sender (or whoever may send notices in the room) follows who has read and answered,
//! reminds, exports CSV and closes it (those last through `notices`).

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::authz::RoomAction;
use super::notices::{
    Audience, Draft, Question, Status, answer_text, create, csv_field, managed, parse_answer,
    parse_question, parse_reminders, questions_of, queue_notice_mail, record, room_audience,
    status,
};
use super::rooms::{RoomCtx, load_for};
use super::{Actor, Core};
use crate::db::DbConn;
use crate::db::types::NoticeKind;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::notice::{self as m, Notice, Recipient};
use crate::models::{now, user};

/// The form that sends a circular notice.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CircularForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub body: String,
    /// `none`, `single`, `multiple` or `text`.
    #[serde(default)]
    pub question_kind: String,
    #[serde(default)]
    pub question: String,
    /// One choice per line.
    #[serde(default)]
    pub choices: String,
    /// `datetime-local` in the site's time zone; empty = none.
    #[serde(default)]
    pub deadline: String,
    /// Logins, one per line or comma-separated (for scripts; the page ticks names instead); empty
    /// and nobody ticked = every member of the room.
    #[serde(default)]
    pub to: String,
    /// The form's other fields: a ticked member is `to_{user id}` (the page lists the room's
    /// members by display name, so a sender never needs, nor sees, anyone's login).
    #[serde(flatten)]
    pub other: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub remind_every: String,
    #[serde(default)]
    pub remind_max: String,
}

impl CircularForm {
    /// The user ids of the members ticked on the page.
    pub fn ticked(&self) -> Vec<i64> {
        self.other
            .keys()
            .filter_map(|k| k.strip_prefix("to_")?.parse().ok())
            .collect()
    }
}

/// The room a new circular notice would go out from, and who it can go to.
pub struct NewCircular {
    /// A room where the actor may send notices.
    pub ctx: RoomCtx,
    /// The room's members who can receive it (not the sender), `(user id, display name)`, by name.
    pub people: Vec<(i64, String)>,
}

/// The room a new circular notice would go out from: one where the actor may send notices.
pub fn room_for_new_circular(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
) -> AppResult<NewCircular> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::SendNotice)?;
    let reachable: std::collections::HashSet<i64> = room_audience(conn, ctx.room.id)?
        .into_iter()
        .map(|a| a.user_id)
        .collect();
    let mut people: Vec<(i64, String)> = crate::models::room::members(conn, ctx.room.id)?
        .into_iter()
        .filter(|m| m.user_id != actor.id && reachable.contains(&m.user_id))
        .map(|m| (m.user_id, m.display_name))
        .collect();
    people.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(NewCircular { ctx, people })
}

/// Sends a circular notice to the room's members (or the chosen ones); returns its id.
pub fn send_circular(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    form: &CircularForm,
    site: &super::site::SiteSettings,
) -> AppResult<i64> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::SendNotice)?;
    let mut e = FieldErrors::default();
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
        e.add("title", "error.title_length");
    }
    if form.body.chars().count() > super::blog::MAX_BODY_CHARS {
        e.add("body", "error.too_long");
    }
    let question = parse_question(&form.question_kind, &form.question, &form.choices, &mut e);
    let deadline = match form.deadline.trim() {
        "" => None,
        raw => {
            let d = site.parse_local_input(raw);
            if d.is_none() {
                e.add("deadline", "error.date_format");
            }
            d
        }
    };
    let reminders = parse_reminders(&form.remind_every, &form.remind_max, &mut e);
    let members = room_audience(conn, ctx.room.id)?;
    let chosen: Vec<&str> = form
        .to
        .split([',', '\n', ' ', '、'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let ticked = form.ticked();
    let audience: Vec<Audience> = if chosen.is_empty() && ticked.is_empty() {
        members
            .into_iter()
            .filter(|m| m.user_id != actor.id)
            .collect()
    } else {
        let mut picked = Vec::new();
        for login in chosen {
            let found = user::find_by_login_opt(conn, login)?
                .and_then(|u| members.iter().find(|m| m.user_id == u.id).cloned());
            match found {
                Some(a) if !picked.iter().any(|p: &Audience| p.user_id == a.user_id) => {
                    picked.push(a);
                }
                Some(_) => {}
                None => e.add("to", "notice.not_a_member"),
            }
        }
        for id in ticked {
            match members.iter().find(|m| m.user_id == id) {
                Some(a) if !picked.iter().any(|p: &Audience| p.user_id == a.user_id) => {
                    picked.push(a.clone());
                }
                Some(_) => {}
                // Someone removed from the room since the page was shown, or a forged id.
                None => e.add("to", "notice.not_a_member"),
            }
        }
        picked
    };
    if audience.is_empty() {
        e.add("to", "notice.nobody");
    }
    e.into_result()?;
    let questions: Vec<Question> = question.into_iter().collect();
    let id = create(
        core,
        conn,
        actor,
        &Draft {
            kind: NoticeKind::Circular.as_str(),
            room_id: Some(ctx.room.id),
            title,
            body: &form.body,
            drill: false,
            questions: &questions,
            deadline,
            reminders,
        },
        &audience,
        false,
    )?;
    let notice = m::find(conn, id)?;
    queue_notice_mail(core, conn, &notice, &audience, false)?;
    Ok(id)
}

/// How the actor stands to a circular notice.
#[derive(Debug)]
pub struct CircularView {
    /// The notice.
    pub notice: Notice,
    /// The room's name and slug.
    pub room: (String, String),
    /// The actor's own row, when they are a recipient.
    pub mine: Option<Recipient>,
    /// Everyone's status, when the actor sent it or may send notices in the room.
    pub status: Option<Status>,
}

/// Loads a circular notice for the actor: a recipient (marking it read), or someone who may send
/// notices in its room. Anyone else gets 404.
pub fn open_circular(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<CircularView> {
    let notice = m::find(conn, id)?;
    if notice.kind != NoticeKind::Circular {
        return Err(AppError::NotFound);
    }
    let room = crate::models::room::find(conn, notice.room_id.ok_or(AppError::NotFound)?)?;
    let action = RoomAction::ManageCircular {
        sender: notice.sender_id == actor.id,
    };
    let manages = load_for(conn, Some(actor), &room.slug, action).is_ok();
    let mut mine = m::recipient(conn, id, actor.id)?;
    if mine.is_none() && !manages {
        return Err(AppError::NotFound);
    }
    if let Some(r) = mine.as_mut()
        && r.read_at.is_none()
    {
        let at = now();
        m::mark_read(conn, id, actor.id, at)?;
        r.read_at = Some(at);
    }
    let status = if manages {
        Some(status(conn, id)?)
    } else {
        None
    };
    Ok(CircularView {
        notice,
        room: (room.name, room.slug),
        mine,
        status,
    })
}

/// Records the actor's answer to a circular notice.
pub fn answer_circular(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    fields: &[(String, String)],
) -> AppResult<()> {
    let notice = m::find(conn, id)?;
    if notice.kind != NoticeKind::Circular || m::recipient(conn, id, actor.id)?.is_none() {
        return Err(AppError::NotFound);
    }
    let answer = parse_answer(&questions_of(&notice), fields).map_err(AppError::Invalid)?;
    record(conn, &notice, actor.id, &answer, None)
}

/// What came to the actor (with their own row), and what they sent.
pub type MyCirculars = (Vec<(Notice, Recipient)>, Vec<Notice>);

/// The circular notices page: what came to the actor, and what they sent.
pub fn my_circulars(conn: &mut DbConn, actor: &Actor) -> AppResult<MyCirculars> {
    let received = m::for_recipient(conn, NoticeKind::Circular, actor.id, 100)?;
    let sent = m::sent_by(conn, NoticeKind::Circular, actor.id, 100)?;
    Ok((received, sent))
}

/// CSV of a circular notice's status: name, login, read, answered, answer.
pub fn circular_csv(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    site: &super::site::SiteSettings,
) -> AppResult<(String, String)> {
    let notice = managed(conn, actor, id, NoticeKind::Circular)?;
    let st = status(conn, id)?;
    let mut out = String::from("\u{feff}name,login,read_at,answered_at,answer\r\n");
    let date = |d: Option<NaiveDateTime>| d.map(|d| site.local_datetime(d)).unwrap_or_default();
    for (r, name, login) in &st.rows {
        out.push_str(
            &[
                csv_field(name),
                csv_field(login),
                date(r.read_at),
                date(r.answered_at),
                csv_field(&answer_text(r.answer.as_deref(), "q")),
            ]
            .join(","),
        );
        out.push_str("\r\n");
    }
    Ok((notice.title, out))
}
