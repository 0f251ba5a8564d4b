//! Failed logins, counted per client network and per account (kept in the DB so several
//! `yui serve` processes share the counters).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::login_failures;

/// Records one failure; returns its id.
pub fn record(
    conn: &mut DbConn,
    ip_key: &str,
    account_key: &str,
    at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::ip_key.eq(ip_key),
            login_failures::account_key.eq(account_key),
            login_failures::at.eq(at),
        ))
        .execute(conn)?;
    super::last_insert_id(conn)
}

/// Forgets one recorded attempt (a login that turned out to be right).
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(login_failures::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Holds, until the transaction ends, a lock per counter key, so that checking a limit and counting
/// the attempt happen one request at a time per key. SQLite needs nothing more: a write transaction
/// (`BEGIN IMMEDIATE`) already excludes every other writer. PostgreSQL under READ COMMITTED would let
/// 200 parallel requests all count 0 and all pass, so it takes a transaction-scoped advisory lock
/// per key (a hash of it; a collision only serialises two unrelated keys). The keys are locked in
/// sorted order, so two requests sharing a network and an account cannot wait on each other.
pub fn lock_counters(conn: &mut DbConn, keys: &[&str]) -> QueryResult<()> {
    let DbConn::Pg(pg) = conn else {
        return Ok(());
    };
    let mut keys = keys.to_vec();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(format!("login_failures:{key}"))
            .execute(pg)?;
    }
    Ok(())
}

/// Failures from one client network since a time.
pub fn count_for_ip(conn: &mut DbConn, ip_key: &str, since: NaiveDateTime) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::ip_key.eq(ip_key))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)
}

/// Failures against one account key since a time.
pub fn count_for_account(
    conn: &mut DbConn,
    account_key: &str,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    login_failures::table
        .filter(login_failures::account_key.eq(account_key))
        .filter(login_failures::at.gt(since))
        .count()
        .get_result(conn)
}

/// Forgets failures older than a time.
pub fn purge_before(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(login_failures::table.filter(login_failures::at.lt(before))).execute(conn)
}
