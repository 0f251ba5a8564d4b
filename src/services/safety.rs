//! Safety checks (安否確認, DESIGN.md §8) on the notice engine: started by a site admin (for everyone
//! or a room) or a room's safety officer (for that room); each recipient gets a personal link
//! `/a/{token}` that answers without logging in while the check is open; the dashboard shows live
//! counts, who has not answered, a per-room breakdown and "need help" first. A drill (訓練) is a
//! check of its own, marked everywhere.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::authz::{Action, RoomAction, authorize, authorize_room, is_site_admin};
use super::notices::{self, Audience, Draft, Question, QuestionKind};
use super::rooms::load_for;
use super::{Actor, Core};
use crate::db::DbConn;
use crate::db::types::NoticeKind;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::notice::{self as m, Notice, Recipient};
use crate::models::room::{self, Room};

/// The conditions, most urgent first.
pub const CONDITIONS: [&str; 3] = ["need_help", "injured", "safe"];
/// Where one is.
pub const PLACES: [&str; 4] = ["home", "work", "shelter", "other"];

/// The built-in questions (labels come from i18n in the templates), plus the starter's own.
pub fn questions(extra: Option<Question>) -> Vec<Question> {
    let fixed = |key: &str, kind, choices: &[&str], required| Question {
        key: key.into(),
        kind,
        label: String::new(),
        choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        required,
    };
    let mut q = vec![
        fixed(
            "condition",
            QuestionKind::Single,
            &["safe", "injured", "need_help"],
            true,
        ),
        fixed("place", QuestionKind::Single, &PLACES, false),
        fixed("can_come", QuestionKind::Single, &["yes", "no"], false),
        fixed("comment", QuestionKind::Text, &[], false),
    ];
    q.extend(extra);
    q
}

/// The form that starts a check.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct StartForm {
    /// `all` (site admins) or a room's slug.
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub message: String,
    /// A checkbox: present = drill.
    pub drill: Option<String>,
    /// The starter's own question: `none`, `single`, `multiple` or `text`.
    #[serde(default)]
    pub extra_kind: String,
    #[serde(default)]
    pub extra_question: String,
    #[serde(default)]
    pub extra_choices: String,
    #[serde(default)]
    pub remind_every: String,
    #[serde(default)]
    pub remind_max: String,
    /// The confirmation page's answer for a real check: `yes` (start it) or `edit` (back to the
    /// form); absent the first time.
    #[serde(default)]
    pub confirmed: Option<String>,
}

/// Rooms the actor may start a check for (site admins: every active room; officers: theirs).
pub fn startable_rooms(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<Room>> {
    let candidates = if is_site_admin(actor) {
        room::list_active(conn)?
    } else {
        let ids = room::officer_rooms(conn, actor.id)?;
        room::list_active(conn)?
            .into_iter()
            .filter(|r| ids.contains(&r.id))
            .collect()
    };
    let mut out = Vec::new();
    for r in candidates {
        if load_for(conn, Some(actor), &r.slug, RoomAction::StartSafetyCheck).is_ok() {
            out.push(r);
        }
    }
    Ok(out)
}

/// Whether the actor may start any check at all (the link on `/safety`).
pub fn may_start_any(conn: &mut DbConn, actor: &Actor) -> AppResult<bool> {
    Ok(
        authorize(Some(actor), Action::StartSafetyCheckForEveryone).is_ok()
            || !startable_rooms(conn, actor)?.is_empty(),
    )
}

/// What the start form offers the actor: everyone (site admins) and the rooms they may start a
/// check for. Someone who may start none gets 404.
pub struct StartOptions {
    /// A check for everyone on the site.
    pub everyone: bool,
    /// Rooms a check may go to.
    pub rooms: Vec<Room>,
}

/// The start form's choices for the actor (404 when there are none).
pub fn start_options(conn: &mut DbConn, actor: &Actor) -> AppResult<StartOptions> {
    let everyone = authorize(Some(actor), Action::StartSafetyCheckForEveryone).is_ok();
    let rooms = startable_rooms(conn, actor)?;
    if rooms.is_empty() && !everyone {
        return Err(AppError::NotFound);
    }
    Ok(StartOptions { everyone, rooms })
}

fn extra_question(form: &StartForm, e: &mut FieldErrors) -> Option<Question> {
    let mut inner = FieldErrors::default();
    let q = notices::parse_question(
        &form.extra_kind,
        &form.extra_question,
        &form.extra_choices,
        &mut inner,
    );
    for err in inner.0 {
        let field = match err.field {
            "question" => "extra_question",
            "choices" => "extra_choices",
            _ => "extra_kind",
        };
        e.add(field, err.message);
    }
    q.map(|mut q| {
        q.key = "extra".into();
        q.required = false;
        q
    })
}

/// A start form that passed every check, with who it goes to.
struct CheckedStart {
    /// The room (`None`: everyone).
    room: Option<Room>,
    audience: Vec<Audience>,
    extra: Option<Question>,
    reminders: notices::Reminders,
}

/// Everything `start` checks, without starting: permission, fields, and that someone receives it.
fn check_start(conn: &mut DbConn, actor: &Actor, form: &StartForm) -> AppResult<CheckedStart> {
    let (room, audience) = if form.scope == "all" {
        authorize(Some(actor), Action::StartSafetyCheckForEveryone)?;
        (None, notices::everyone(conn)?)
    } else {
        let ctx = load_for(
            conn,
            Some(actor),
            form.scope.trim(),
            RoomAction::StartSafetyCheck,
        )?;
        let audience = notices::room_audience(conn, ctx.room.id)?;
        (Some(ctx.room), audience)
    };
    let mut e = FieldErrors::default();
    let title = form.title.trim();
    if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
        e.add("title", "error.title_length");
    }
    if form.message.chars().count() > 5_000 {
        e.add("message", "error.too_long");
    }
    let extra = extra_question(form, &mut e);
    let reminders = notices::parse_reminders(&form.remind_every, &form.remind_max, &mut e);
    if audience.is_empty() {
        e.add("scope", "notice.nobody");
    }
    e.into_result()?;
    Ok(CheckedStart {
        room,
        audience,
        extra,
        reminders,
    })
}

/// What a real (not drill) check would do, for the page that asks "start it?" before any mail
/// goes out: how many people it reaches and where (`None`: everyone on the site).
#[derive(Debug, Clone)]
pub struct StartPreview {
    pub recipients: usize,
    pub room_name: Option<String>,
}

/// Checks a start form as `start` would, and says what starting it would do; starts nothing.
pub fn preview_start(
    conn: &mut DbConn,
    actor: &Actor,
    form: &StartForm,
) -> AppResult<StartPreview> {
    let checked = check_start(conn, actor, form)?;
    Ok(StartPreview {
        recipients: checked.audience.len(),
        room_name: checked.room.map(|r| r.name),
    })
}

/// Starts a check: the notice, a recipient row with a hashed personal token per person, and one
/// mail per person and address, all in the caller's transaction. Returns the check's id.
pub fn start(core: &Core, conn: &mut DbConn, actor: &Actor, form: &StartForm) -> AppResult<i64> {
    let checked = check_start(conn, actor, form)?;
    let title = form.title.trim();
    let (room_id, audience) = (checked.room.as_ref().map(|r| r.id), checked.audience);
    let questions = questions(checked.extra);
    let reminders = checked.reminders;
    let id = notices::create(
        core,
        conn,
        actor,
        &Draft {
            kind: NoticeKind::Safety.as_str(),
            room_id,
            title,
            body: &form.message,
            drill: form.drill.is_some(),
            questions: &questions,
            deadline: None,
            reminders,
        },
        &audience,
        true,
    )?;
    let notice = m::find(conn, id)?;
    notices::queue_notice_mail(core, conn, &notice, &audience, false)?;
    Ok(id)
}

/// What the answer page shows.
#[derive(Debug)]
pub struct AnswerPage {
    /// The check.
    pub notice: Notice,
    /// The person's row (their current answer, if any).
    pub mine: Recipient,
    /// Their display name (shown so a shared phone answers for the right person).
    pub name: String,
}

/// Finds the recipient row a personal link opens. Unknown, malformed or stale tokens are `NotFound`
/// (nothing about who exists); a closed check is `Gone("safety.closed")`. The link is its own
/// credential for a phone without a session; but someone logged in as another account gets
/// `Conflict("safety.not_yours")` and answers nothing (answering for others is the dashboard's
/// proxy answer, which is recorded as such).
pub fn open_by_token(conn: &mut DbConn, token: &str, viewer: Option<i64>) -> AppResult<AnswerPage> {
    if !super::token::looks_like_token(token) {
        return Err(AppError::NotFound);
    }
    let hash = super::token::hash_token(token);
    let mine = m::by_token_hash(conn, &hash)?.ok_or(AppError::NotFound)?;
    if viewer.is_some_and(|v| v != mine.user_id) {
        return Err(AppError::Conflict("safety.not_yours"));
    }
    let notice = m::find(conn, mine.notice_id)?;
    if notice.closed_at.is_some() {
        return Err(AppError::Gone("safety.closed"));
    }
    let name = crate::models::user::find(conn, mine.user_id)?.display_name;
    Ok(AnswerPage { notice, mine, name })
}

/// Records an answer through a personal link (no login): the same checks as `open_by_token`.
pub fn answer_by_token(
    conn: &mut DbConn,
    token: &str,
    viewer: Option<i64>,
    fields: &[(String, String)],
) -> AppResult<Notice> {
    let page = open_by_token(conn, token, viewer)?;
    let answer = notices::parse_answer(&notices::questions_of(&page.notice), fields)
        .map_err(AppError::Invalid)?;
    notices::record(conn, &page.notice, page.mine.user_id, &answer, None)?;
    Ok(page.notice)
}

/// The answer page of a logged-in recipient (from the banner).
pub fn open_as_member(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<AnswerPage> {
    let notice = m::find(conn, id)?;
    if notice.kind != NoticeKind::Safety {
        return Err(AppError::NotFound);
    }
    let mine = m::recipient(conn, id, actor.id)?.ok_or(AppError::NotFound)?;
    if notice.closed_at.is_some() {
        return Err(AppError::Gone("safety.closed"));
    }
    let name = crate::models::user::find(conn, actor.id)?.display_name;
    Ok(AnswerPage { notice, mine, name })
}

/// Records a logged-in recipient's answer.
pub fn answer_as_member(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    fields: &[(String, String)],
) -> AppResult<Notice> {
    let page = open_as_member(conn, actor, id)?;
    let answer = notices::parse_answer(&notices::questions_of(&page.notice), fields)
        .map_err(AppError::Invalid)?;
    notices::record(conn, &page.notice, actor.id, &answer, None)?;
    Ok(page.notice)
}

/// Which recipients the actor may see in a check's results: everyone (site admins, and viewers of
/// a room check), or, for a site-wide check, the members of the rooms whose results they may see.
/// `None` = not a viewer at all.
fn visible_scope(conn: &mut DbConn, actor: &Actor, notice: &Notice) -> AppResult<Option<Scope>> {
    let viewable = if is_site_admin(actor) {
        room::list_active(conn)?
    } else {
        viewable_rooms(conn, actor)?
    };
    Ok(scope_in(actor, notice, viewable))
}

/// `visible_scope` once the rooms whose results the actor may see are known.
fn scope_in(actor: &Actor, notice: &Notice, viewable: Vec<Room>) -> Option<Scope> {
    if notice.kind != NoticeKind::Safety {
        return None;
    }
    if is_site_admin(actor) {
        return Some(Scope::All(viewable));
    }
    match notice.room_id {
        Some(rid) => viewable
            .into_iter()
            .find(|r| r.id == rid)
            .map(|r| Scope::All(vec![r])),
        None if viewable.is_empty() => None,
        None => Some(Scope::Rooms(viewable)),
    }
}

/// Rooms whose safety results the actor may see (their managers and safety officers).
fn viewable_rooms(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<Room>> {
    let mine: HashSet<i64> = room::roles_of(conn, actor.id)?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    // A room the actor belongs to but cannot read (準備中, behind an unreadable parent) is
    // skipped: it once made `/safety` answer 404 for everyone who was in one.
    let wanted = |r: &Room| !r.archived && mine.contains(&r.id);
    Ok(super::rooms::readable_many(conn, actor, wanted)?
        .into_iter()
        .filter(|ctx| {
            authorize_room(Some(actor), &ctx.access, RoomAction::ViewSafetyResults).is_ok()
        })
        .map(|ctx| ctx.room)
        .collect())
}

enum Scope {
    /// Every recipient; these rooms for the breakdown.
    All(Vec<Room>),
    /// Only members of these rooms.
    Rooms(Vec<Room>),
}

/// One person on the dashboard.
#[derive(Debug, Clone)]
pub struct PersonRow {
    /// Their row.
    pub recipient: Recipient,
    /// Display name.
    pub name: String,
    /// Login (proxy answers name it).
    pub login: String,
}

/// A room's line in the breakdown: `[need_help, injured, safe, unanswered]`.
#[derive(Debug, Clone)]
pub struct RoomCounts {
    /// The room's name.
    pub name: String,
    /// Counts in `CONDITIONS` order, then unanswered.
    pub counts: [usize; 4],
}

/// The dashboard of a check.
#[derive(Debug)]
pub struct Dashboard {
    /// The check.
    pub notice: Notice,
    /// `[need_help, injured, safe, unanswered]` over the visible people.
    pub counts: [usize; 4],
    /// People: need help first, then injured, not answered, safe; by name within each.
    pub people: Vec<PersonRow>,
    /// Per room.
    pub rooms: Vec<RoomCounts>,
    /// The room the check went to (`None`: everyone).
    pub room_name: Option<String>,
}

fn bucket(r: &Recipient) -> usize {
    match r.condition.as_deref() {
        Some("need_help") => 0,
        Some("injured") => 1,
        Some(_) => 3,
        None => 2,
    }
}

fn counts_of<'a>(rows: impl Iterator<Item = &'a Recipient>) -> [usize; 4] {
    let mut c = [0; 4];
    for r in rows {
        match r.condition.as_deref() {
            Some("need_help") => c[0] += 1,
            Some("injured") => c[1] += 1,
            Some(_) => c[2] += 1,
            None => c[3] += 1,
        }
    }
    c
}

/// The dashboard, for site admins and the managers and officers of the rooms concerned (each sees
/// their rooms' people only). Anyone else: 404.
pub fn dashboard(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<Dashboard> {
    let notice = m::find(conn, id)?;
    let scope = visible_scope(conn, actor, &notice)?.ok_or(AppError::NotFound)?;
    let all = m::recipients(conn, id)?;
    let memberships = m::recipient_rooms(conn, id)?;
    let (rooms, filter): (Vec<Room>, Option<HashSet<i64>>) = match scope {
        Scope::All(rooms) => (rooms, None),
        Scope::Rooms(rooms) => {
            let ids: HashSet<i64> = rooms.iter().map(|r| r.id).collect();
            let people = memberships
                .iter()
                .filter(|(rid, _)| ids.contains(rid))
                .map(|(_, uid)| *uid)
                .collect();
            (rooms, Some(people))
        }
    };
    let mut people: Vec<PersonRow> = all
        .into_iter()
        .filter(|(r, ..)| filter.as_ref().is_none_or(|f| f.contains(&r.user_id)))
        .map(|(recipient, name, login)| PersonRow {
            recipient,
            name,
            login,
        })
        .collect();
    people.sort_by(|a, b| {
        bucket(&a.recipient)
            .cmp(&bucket(&b.recipient))
            .then_with(|| a.name.cmp(&b.name))
    });
    let counts = counts_of(people.iter().map(|p| &p.recipient));
    let by_user: HashMap<i64, &Recipient> = people
        .iter()
        .map(|p| (p.recipient.user_id, &p.recipient))
        .collect();
    let room_name = match notice.room_id {
        Some(rid) => Some(room::find(conn, rid)?.name),
        None => None,
    };
    let breakdown = rooms
        .iter()
        .filter(|r| notice.room_id.is_none_or(|rid| rid == r.id))
        .map(|r| RoomCounts {
            name: r.name.clone(),
            counts: counts_of(
                memberships
                    .iter()
                    .filter(|(rid, _)| *rid == r.id)
                    .filter_map(|(_, uid)| by_user.get(uid).copied()),
            ),
        })
        .filter(|rc| rc.counts.iter().sum::<usize>() > 0)
        .collect();
    Ok(Dashboard {
        notice,
        counts,
        people,
        rooms: breakdown,
        room_name,
    })
}

/// A proxy answer (代理回答) by someone who may see the person on the dashboard.
pub fn proxy_answer(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    login: &str,
    fields: &[(String, String)],
) -> AppResult<()> {
    let board = dashboard(conn, actor, id)?;
    let person = board
        .people
        .iter()
        .find(|p| p.login == login)
        .ok_or(AppError::NotFound)?;
    let answer = notices::parse_answer(&notices::questions_of(&board.notice), fields)
        .map_err(AppError::Invalid)?;
    notices::record(
        conn,
        &board.notice,
        person.recipient.user_id,
        &answer,
        Some(actor.id),
    )?;
    crate::models::audit::record(
        conn,
        Some(actor.id),
        "safety.proxy_answer",
        &format!("check {id}: for {login}"),
        None,
    )?;
    Ok(())
}

/// What `/safety` lists: checks the actor may see results of, and open checks they were sent.
#[derive(Debug)]
pub struct SafetyList {
    /// Checks whose dashboard the actor may open, newest first.
    pub managed: Vec<Notice>,
    /// Open checks sent to the actor, with their own row.
    pub mine: Vec<(Notice, Recipient)>,
    /// Whether the actor may start a check.
    pub may_start: bool,
}

/// The `/safety` page.
pub fn list(conn: &mut DbConn, actor: &Actor) -> AppResult<SafetyList> {
    let candidates = m::list(conn, NoticeKind::Safety, None, 200)?;
    // The viewer's rooms once, not once per check.
    let viewable = if is_site_admin(actor) {
        Vec::new()
    } else {
        viewable_rooms(conn, actor)?
    };
    let managed = candidates
        .into_iter()
        .filter(|n| scope_in(actor, n, viewable.clone()).is_some())
        .collect();
    let mine = m::for_recipient(conn, NoticeKind::Safety, actor.id, 50)?
        .into_iter()
        .filter(|(n, _)| n.closed_at.is_none())
        .collect();
    Ok(SafetyList {
        managed,
        mine,
        may_start: may_start_any(conn, actor)?,
    })
}

/// CSV of a check (what the dashboard shows the actor).
pub fn csv(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    site: &super::site::SiteSettings,
) -> AppResult<(String, String)> {
    let board = dashboard(conn, actor, id)?;
    let mut out = String::from(
        "\u{feff}name,login,condition,place,can_come,comment,extra,answered_at,proxy\r\n",
    );
    for p in &board.people {
        let a = p.recipient.answer.as_deref();
        let answered = p
            .recipient
            .answered_at
            .map(|d: NaiveDateTime| site.local_datetime(d))
            .unwrap_or_default();
        let row = [
            notices::csv_field(&p.name),
            notices::csv_field(&p.login),
            notices::answer_text(a, "condition"),
            notices::answer_text(a, "place"),
            notices::answer_text(a, "can_come"),
            notices::csv_field(&notices::answer_text(a, "comment")),
            notices::csv_field(&notices::answer_text(a, "extra")),
            answered,
            if p.recipient.proxy_by.is_some() {
                "yes".into()
            } else {
                String::new()
            },
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    Ok((board.notice.title, out))
}

/// Managers designate (or undesignate) a room's safety officers on the members page.
pub fn set_officer(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    login: &str,
    on: bool,
) -> AppResult<()> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let target = crate::models::user::find_by_login_opt(conn, login)?.ok_or(AppError::NotFound)?;
    if room::role_in(conn, ctx.room.id, target.id)?.is_none() {
        return Err(AppError::NotFound);
    }
    room::set_safety_officer(conn, ctx.room.id, target.id, on)?;
    crate::models::audit::record(
        conn,
        Some(actor.id),
        if on {
            "safety.officer_added"
        } else {
            "safety.officer_removed"
        },
        &format!("{} in {}", target.login, ctx.room.slug),
        None,
    )?;
    Ok(())
}
