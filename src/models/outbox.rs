//! The mail outbox: services insert rows in their own transaction; the jobs loop claims and sends them.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{outbox, users};

/// A row of `outbox`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxMail {
    pub id: i64,
    pub user_id: Option<i64>,
    pub to_addr: String,
    pub subject: String,
    pub body_text: String,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    pub failed_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

/// A mail to queue.
#[derive(Debug, Insertable)]
#[diesel(table_name = outbox)]
pub struct NewMail<'a> {
    pub user_id: Option<i64>,
    pub to_addr: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    pub created_at: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
}

/// Queues a mail.
pub fn enqueue(conn: &mut DbConn, mail: &NewMail<'_>) -> QueryResult<()> {
    diesel::insert_into(outbox::table)
        .values(mail)
        .execute(conn)
        .map(drop)
}

/// Queues many mails in a few statements (a safety check for 10,000 people is three, not 10,000).
pub fn enqueue_many(conn: &mut DbConn, mails: &[NewMail<'_>]) -> QueryResult<()> {
    // 6 parameters per row; SQLite allows 32,766 per statement. The multi-backend connection has
    // no multi-row INSERT, so each backend gets the statement directly.
    for chunk in mails.chunks(4_000) {
        let insert = diesel::insert_into(outbox::table).values(chunk);
        match conn {
            DbConn::Sqlite(c) => insert.execute(c)?,
            DbConn::Pg(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// Claims up to `limit` due mails for `owner` until `lease_until` and returns them. A mail whose
/// lease ran out (its sender died) becomes due again, so two instances never hold the same mail at once.
pub fn claim_due(
    conn: &mut DbConn,
    owner: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<OutboxMail>> {
    let due = outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::failed_at.is_null())
        .filter(outbox::next_attempt_at.le(now))
        .filter(
            outbox::lease_until
                .is_null()
                .or(outbox::lease_until.lt(now)),
        )
        .order(outbox::id.asc())
        .limit(limit)
        .select(outbox::id)
        .load::<i64>(conn)?;
    if due.is_empty() {
        return Ok(Vec::new());
    }
    // Re-check the lease in the UPDATE itself: on PostgreSQL another instance may have claimed a row
    // between our SELECT and this UPDATE.
    diesel::update(
        outbox::table.filter(outbox::id.eq_any(&due)).filter(
            outbox::lease_until
                .is_null()
                .or(outbox::lease_until.lt(now)),
        ),
    )
    .set((
        outbox::lease_owner.eq(owner),
        outbox::lease_until.eq(lease_until),
    ))
    .execute(conn)?;
    outbox::table
        .filter(outbox::id.eq_any(&due))
        .filter(outbox::lease_owner.eq(owner))
        .filter(outbox::lease_until.eq(lease_until))
        .select(OutboxMail::as_select())
        .load(conn)
}

/// Whether the mail's recipient account is disabled (such mail is never sent).
pub fn recipient_disabled(conn: &mut DbConn, user_id: i64) -> QueryResult<bool> {
    users::table
        .find(user_id)
        .select(users::disabled)
        .first::<bool>(conn)
        .optional()
        .map(|d| d.unwrap_or(true))
}

/// Marks a mail sent.
pub fn mark_sent(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::sent_at.eq(at),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)
        .map(drop)
}

/// Schedules another attempt after a temporary failure.
pub fn mark_retry(conn: &mut DbConn, id: i64, error: &str, next: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::next_attempt_at.eq(next),
            outbox::last_error.eq(error),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)
        .map(drop)
}

/// Records a permanent failure.
pub fn mark_failed(conn: &mut DbConn, id: i64, error: &str, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::failed_at.eq(at),
            outbox::last_error.eq(error),
            outbox::lease_until.eq(None::<NaiveDateTime>),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)
        .map(drop)
}

/// Counts mails not yet sent nor failed.
pub fn count_pending(conn: &mut DbConn) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::failed_at.is_null())
        .count()
        .get_result(conn)
}

/// The newest mails, for the admin page and tests.
pub fn recent(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<OutboxMail>> {
    outbox::table
        .order(outbox::id.desc())
        .limit(limit)
        .select(OutboxMail::as_select())
        .load(conn)
}
