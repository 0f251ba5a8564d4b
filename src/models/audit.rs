//! The audit log of logins and admin actions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::now;
use crate::db::DbConn;
use crate::db::schema::{audit_log, users};

/// One audit entry with the actor's login, for the admin page.
#[derive(Debug, Clone, Queryable)]
pub struct AuditEntry {
    pub id: i64,
    pub at: NaiveDateTime,
    pub actor_login: Option<String>,
    pub action: String,
    pub detail: String,
    pub ip: Option<String>,
}

/// Appends an entry.
pub fn record(
    conn: &mut DbConn,
    actor_id: Option<i64>,
    action: &str,
    detail: &str,
    ip: Option<&str>,
) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::at.eq(now()),
            audit_log::actor_id.eq(actor_id),
            audit_log::action.eq(action),
            audit_log::detail.eq(detail),
            audit_log::ip.eq(ip),
        ))
        .execute(conn)
        .map(drop)
}

/// The newest entries first.
pub fn list(conn: &mut DbConn, offset: i64, limit: i64) -> QueryResult<Vec<AuditEntry>> {
    audit_log::table
        .left_join(users::table)
        .order(audit_log::id.desc())
        .offset(offset)
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::at,
            users::login.nullable(),
            audit_log::action,
            audit_log::detail,
            audit_log::ip,
        ))
        .load(conn)
}

/// Counts entries.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    audit_log::table.count().get_result(conn)
}
