//! App passwords: per-member credentials for WebDAV and Subsonic clients.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{app_passwords, users};
use crate::db::types::AppPasswordScope;
use crate::models::user::User;

/// A row of `app_passwords`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = app_passwords)]
pub struct AppPassword {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    #[diesel(deserialize_as = String)]
    pub scope: AppPasswordScope,
    pub secret_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_client: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
    /// The secret sealed under the site's key (scope `subsonic` only: token authentication).
    pub secret_sealed: Option<String>,
}

/// Records a new app password (its secret's keyed hash); returns its id.
pub fn insert(
    conn: &mut DbConn,
    user_id: i64,
    name: &str,
    scope: AppPasswordScope,
    secret_hash: &str,
    secret_sealed: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(app_passwords::table)
        .values((
            app_passwords::user_id.eq(user_id),
            app_passwords::name.eq(name),
            app_passwords::scope.eq(scope.as_str()),
            app_passwords::secret_hash.eq(secret_hash),
            app_passwords::secret_sealed.eq(secret_sealed),
            app_passwords::created_at.eq(at),
        ))
        .execute(conn)?;
    super::last_insert_id(conn)
}

/// A member's app passwords, live ones first, newest first.
pub fn list_for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<AppPassword>> {
    app_passwords::table
        .filter(app_passwords::user_id.eq(user_id))
        .order((
            app_passwords::revoked_at.is_not_null(),
            app_passwords::id.desc(),
        ))
        .select(AppPassword::as_select())
        .load(conn)
}

/// How many live app passwords a member has.
pub fn count_live(conn: &mut DbConn, user_id: i64) -> QueryResult<i64> {
    app_passwords::table
        .filter(app_passwords::user_id.eq(user_id))
        .filter(app_passwords::revoked_at.is_null())
        .count()
        .get_result(conn)
}

/// The live app password with this keyed hash, of the account with this login, with its account.
pub fn find_live(
    conn: &mut DbConn,
    login: &str,
    secret_hash: &str,
) -> QueryResult<Option<(AppPassword, User)>> {
    app_passwords::table
        .inner_join(users::table)
        .filter(users::login.eq(login))
        .filter(app_passwords::secret_hash.eq(secret_hash))
        .filter(app_passwords::revoked_at.is_null())
        .select((AppPassword::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// The live app password with this keyed hash, whoever's it is (the `OpenSubsonic` `apiKey`, which
/// names no account), with its account.
pub fn find_live_by_hash(
    conn: &mut DbConn,
    secret_hash: &str,
) -> QueryResult<Option<(AppPassword, User)>> {
    app_passwords::table
        .inner_join(users::table)
        .filter(app_passwords::secret_hash.eq(secret_hash))
        .filter(app_passwords::revoked_at.is_null())
        .select((AppPassword::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// The live app passwords of `scope` with a sealed secret, of the account with this login, with
/// the account (Subsonic's token authentication tries each).
pub fn live_sealed_for_login(
    conn: &mut DbConn,
    login: &str,
    scope: AppPasswordScope,
) -> QueryResult<Vec<(AppPassword, User)>> {
    app_passwords::table
        .inner_join(users::table)
        .filter(users::login.eq(login))
        .filter(app_passwords::scope.eq(scope.as_str()))
        .filter(app_passwords::secret_sealed.is_not_null())
        .filter(app_passwords::revoked_at.is_null())
        .order(app_passwords::id.desc())
        // A member has at most 50 live ones (`services::app_passwords::MAX_LIVE`).
        .limit(50)
        .select((AppPassword::as_select(), User::as_select()))
        .load(conn)
}

/// Revokes one of a member's app passwords; returns whether a live one was revoked.
pub fn revoke(conn: &mut DbConn, user_id: i64, id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        app_passwords::table
            .filter(app_passwords::id.eq(id))
            .filter(app_passwords::user_id.eq(user_id))
            .filter(app_passwords::revoked_at.is_null()),
    )
    .set(app_passwords::revoked_at.eq(Some(at)))
    .execute(conn)
    .map(|n| n > 0)
}

/// Records a use: when and by which client.
pub fn touch(conn: &mut DbConn, id: i64, at: NaiveDateTime, client: &str) -> QueryResult<()> {
    diesel::update(app_passwords::table.filter(app_passwords::id.eq(id)))
        .set((
            app_passwords::last_used_at.eq(Some(at)),
            app_passwords::last_client.eq(Some(client)),
        ))
        .execute(conn)
        .map(drop)
}
