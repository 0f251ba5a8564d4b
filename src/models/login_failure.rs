//! Failed logins, counted per client network and per account (kept in the DB so several
//! `yui serve` processes share the counters).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::login_failures;

/// Records one failure.
pub fn record(
    conn: &mut DbConn,
    ip_key: &str,
    account_key: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::ip_key.eq(ip_key),
            login_failures::account_key.eq(account_key),
            login_failures::at.eq(at),
        ))
        .execute(conn)
        .map(drop)
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
