//! Circular notices (回覧板) and safety checks (安否確認): one notice, many recipients, each with read
//! and answer state.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::last_insert_id;
use crate::db::DbConn;
use crate::db::schema::{notice_recipients, notices, room_members, users};
use crate::db::types::NoticeKind;

/// A row of `notices`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notices)]
pub struct Notice {
    pub id: i64,
    #[diesel(deserialize_as = String)]
    pub kind: NoticeKind,
    pub room_id: Option<i64>,
    pub sender_id: i64,
    pub title: String,
    pub body_md: String,
    pub body_html: String,
    pub drill: bool,
    pub questions: String,
    pub deadline: Option<NaiveDateTime>,
    pub remind_every_minutes: i64,
    pub remind_max: i64,
    pub reminders_sent: i64,
    pub next_remind_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
}

/// A new notice.
#[derive(Debug, Insertable)]
#[diesel(table_name = notices)]
pub struct NewNotice<'a> {
    pub kind: &'a str,
    pub room_id: Option<i64>,
    pub sender_id: i64,
    pub title: &'a str,
    pub body_md: &'a str,
    pub body_html: &'a str,
    pub drill: bool,
    pub questions: &'a str,
    pub deadline: Option<NaiveDateTime>,
    pub remind_every_minutes: i64,
    pub remind_max: i64,
    pub next_remind_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// A row of `notice_recipients`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notice_recipients)]
pub struct Recipient {
    pub notice_id: i64,
    pub user_id: i64,
    pub token_hash: Option<String>,
    pub read_at: Option<NaiveDateTime>,
    pub answered_at: Option<NaiveDateTime>,
    pub answer: Option<String>,
    pub condition: Option<String>,
    pub proxy_by: Option<i64>,
    pub reminded_at: Option<NaiveDateTime>,
}

/// A new recipient row.
#[derive(Debug)]
pub struct NewRecipient {
    pub notice_id: i64,
    pub user_id: i64,
    pub token_hash: Option<String>,
}

/// Someone a notice can go to: an enabled account, its email and language.
#[derive(Debug, Clone, Queryable)]
pub struct AudienceRow {
    pub user_id: i64,
    pub email: String,
    pub language: Option<String>,
}

/// Every enabled account (a site-wide safety check), by id.
pub fn audience_all(conn: &mut DbConn) -> QueryResult<Vec<AudienceRow>> {
    users::table
        .filter(users::disabled.eq(false))
        .order(users::id.asc())
        .select((users::id, users::email, users::language))
        .load(conn)
}

/// The enabled members of a room, by id.
pub fn audience_of_room(conn: &mut DbConn, room_id: i64) -> QueryResult<Vec<AudienceRow>> {
    room_members::table
        .inner_join(users::table.on(users::id.eq(room_members::user_id)))
        .filter(room_members::room_id.eq(room_id))
        .filter(users::disabled.eq(false))
        .order(users::id.asc())
        .select((users::id, users::email, users::language))
        .load(conn)
}

/// The enabled accounts among `ids` (a reminder's laggards), in no particular order.
pub fn audience_by_ids(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<AudienceRow>> {
    let mut out = Vec::with_capacity(ids.len());
    // Bounded IN lists: SQLite allows 32,766 bound parameters per statement.
    for chunk in ids.chunks(5_000) {
        out.extend(
            users::table
                .filter(users::id.eq_any(chunk))
                .filter(users::disabled.eq(false))
                .select((users::id, users::email, users::language))
                .load::<AudienceRow>(conn)?,
        );
    }
    Ok(out)
}

/// Inserts a notice and returns its id.
pub fn insert(conn: &mut DbConn, new: &NewNotice<'_>) -> QueryResult<i64> {
    diesel::insert_into(notices::table)
        .values(new)
        .execute(conn)?;
    last_insert_id(conn)
}

/// Inserts recipients in batches (a check for 10,000 members is a few statements, not 10,000).
pub fn insert_recipients(conn: &mut DbConn, rows: &[NewRecipient]) -> QueryResult<()> {
    // SQLite allows 32,766 bound parameters per statement; 3 per row. The multi-backend
    // connection has no multi-row INSERT, so each backend gets the statement directly.
    for chunk in rows.chunks(5_000) {
        let values: Vec<_> = chunk
            .iter()
            .map(|r| {
                (
                    notice_recipients::notice_id.eq(r.notice_id),
                    notice_recipients::user_id.eq(r.user_id),
                    notice_recipients::token_hash.eq(r.token_hash.clone()),
                )
            })
            .collect();
        let insert = diesel::insert_into(notice_recipients::table).values(values);
        match conn {
            DbConn::Sqlite(c) => insert.execute(c)?,
            DbConn::Pg(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// A notice by id.
pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Notice> {
    notices::table
        .find(id)
        .select(Notice::as_select())
        .first(conn)
}

/// Notices of one kind, newest first, optionally only those of some rooms (`None`: all, including
/// site-wide ones).
pub fn list(
    conn: &mut DbConn,
    kind: NoticeKind,
    rooms: Option<&[i64]>,
    limit: i64,
) -> QueryResult<Vec<Notice>> {
    let mut q = notices::table
        .filter(notices::kind.eq(kind.as_str()))
        .order(notices::created_at.desc())
        .limit(limit)
        .select(Notice::as_select())
        .into_boxed();
    if let Some(ids) = rooms {
        q = q.filter(notices::room_id.eq_any(ids.to_vec()));
    }
    q.load(conn)
}

/// Notices of one kind sent to `user_id`, newest first, with the person's own row.
pub fn for_recipient(
    conn: &mut DbConn,
    kind: NoticeKind,
    user_id: i64,
    limit: i64,
) -> QueryResult<Vec<(Notice, Recipient)>> {
    notices::table
        .inner_join(notice_recipients::table)
        .filter(notices::kind.eq(kind.as_str()))
        .filter(notice_recipients::user_id.eq(user_id))
        .order(notices::created_at.desc())
        .limit(limit)
        .select((Notice::as_select(), Recipient::as_select()))
        .load(conn)
}

/// Notices of one kind that `sender_id` sent, newest first.
pub fn sent_by(
    conn: &mut DbConn,
    kind: NoticeKind,
    sender_id: i64,
    limit: i64,
) -> QueryResult<Vec<Notice>> {
    notices::table
        .filter(notices::kind.eq(kind.as_str()))
        .filter(notices::sender_id.eq(sender_id))
        .order(notices::created_at.desc())
        .limit(limit)
        .select(Notice::as_select())
        .load(conn)
}

/// One recipient's row.
pub fn recipient(
    conn: &mut DbConn,
    notice_id: i64,
    user_id: i64,
) -> QueryResult<Option<Recipient>> {
    notice_recipients::table
        .find((notice_id, user_id))
        .select(Recipient::as_select())
        .first(conn)
        .optional()
}

/// Whether `user_id` is among the notice's recipients.
pub fn is_recipient(conn: &mut DbConn, notice_id: i64, user_id: i64) -> QueryResult<bool> {
    notice_recipients::table
        .find((notice_id, user_id))
        .select(notice_recipients::user_id)
        .first::<i64>(conn)
        .optional()
        .map(|r| r.is_some())
}

/// The recipient row a personal link's token hash belongs to.
pub fn by_token_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<Recipient>> {
    notice_recipients::table
        .filter(notice_recipients::token_hash.eq(hash))
        .select(Recipient::as_select())
        .first(conn)
        .optional()
}

/// A recipient with the person's name and login.
pub type RecipientRow = (Recipient, String, String);

/// Every recipient of a notice with display name and login, by name.
pub fn recipients(conn: &mut DbConn, notice_id: i64) -> QueryResult<Vec<RecipientRow>> {
    notice_recipients::table
        .inner_join(users::table.on(users::id.eq(notice_recipients::user_id)))
        .filter(notice_recipients::notice_id.eq(notice_id))
        .order(users::display_name.asc())
        .select((Recipient::as_select(), users::display_name, users::login))
        .load(conn)
}

/// `(room id, user id)` for every recipient of a notice who is a member of some room (for the
/// per-room breakdown of a site-wide check).
pub fn recipient_rooms(conn: &mut DbConn, notice_id: i64) -> QueryResult<Vec<(i64, i64)>> {
    notice_recipients::table
        .inner_join(room_members::table.on(room_members::user_id.eq(notice_recipients::user_id)))
        .filter(notice_recipients::notice_id.eq(notice_id))
        .select((room_members::room_id, room_members::user_id))
        .load(conn)
}

/// Marks a recipient as having read the notice (the first time only).
pub fn mark_read(
    conn: &mut DbConn,
    notice_id: i64,
    user_id: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        notice_recipients::table
            .find((notice_id, user_id))
            .filter(notice_recipients::read_at.is_null()),
    )
    .set(notice_recipients::read_at.eq(at))
    .execute(conn)
    .map(drop)
}

/// Records (or replaces) an answer; reading is implied.
pub fn record_answer(
    conn: &mut DbConn,
    notice_id: i64,
    user_id: i64,
    answer: &str,
    condition: Option<&str>,
    proxy_by: Option<i64>,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(notice_recipients::table.find((notice_id, user_id)))
        .set((
            notice_recipients::answer.eq(answer),
            notice_recipients::condition.eq(condition),
            notice_recipients::answered_at.eq(at),
            notice_recipients::proxy_by.eq(proxy_by),
        ))
        .execute(conn)?;
    mark_read(conn, notice_id, user_id, at)?;
    Ok(1)
}

/// Closes a notice (answers are refused from then on; reminders stop).
pub fn close(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(notices::table.find(id).filter(notices::closed_at.is_null()))
        .set((
            notices::closed_at.eq(at),
            notices::next_remind_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)
        .map(drop)
}

/// Open notices whose automatic reminder is due.
pub fn due_reminders(conn: &mut DbConn, at: NaiveDateTime) -> QueryResult<Vec<Notice>> {
    notices::table
        .filter(notices::closed_at.is_null())
        .filter(notices::next_remind_at.le(at))
        .select(Notice::as_select())
        .load(conn)
}

/// Claims a due reminder round: moves `next_remind_at` on from the value this process saw.
/// `true` only for the one process whose update matched, so a round is sent once across processes.
pub fn claim_reminder(
    conn: &mut DbConn,
    notice: &Notice,
    next: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let Some(seen) = notice.next_remind_at else {
        return Ok(false);
    };
    diesel::update(
        notices::table
            .find(notice.id)
            .filter(notices::next_remind_at.eq(seen))
            .filter(notices::closed_at.is_null()),
    )
    .set((
        notices::next_remind_at.eq(next),
        notices::reminders_sent.eq(notices::reminders_sent + 1),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Recipients who have not answered (or, for notices without questions, not read).
pub fn laggards(conn: &mut DbConn, notice_id: i64, by_read: bool) -> QueryResult<Vec<i64>> {
    let q = notice_recipients::table
        .filter(notice_recipients::notice_id.eq(notice_id))
        .select(notice_recipients::user_id)
        .into_boxed();
    let q = if by_read {
        q.filter(notice_recipients::read_at.is_null())
    } else {
        q.filter(notice_recipients::answered_at.is_null())
    };
    q.load(conn)
}

/// Records that reminders went to these recipients now.
pub fn mark_reminded(
    conn: &mut DbConn,
    notice_id: i64,
    users: &[i64],
    at: NaiveDateTime,
) -> QueryResult<()> {
    for chunk in users.chunks(5_000) {
        diesel::update(
            notice_recipients::table
                .filter(notice_recipients::notice_id.eq(notice_id))
                .filter(notice_recipients::user_id.eq_any(chunk.to_vec())),
        )
        .set(notice_recipients::reminded_at.eq(at))
        .execute(conn)?;
    }
    Ok(())
}
