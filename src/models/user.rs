//! Accounts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{lower, now};
use crate::db::DbConn;
use crate::db::schema::users;

/// A row of `users`.
#[derive(Debug, Clone, Queryable, Selectable, Identifiable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    #[diesel(deserialize_as = String)]
    pub site_role: SiteRole,
    pub language: Option<String>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub last_login_at: Option<NaiveDateTime>,
    /// The member's own time zone (an IANA name); `None`: the site's.
    pub timezone: Option<String>,
}

impl User {
    /// Whether this user is a site administrator.
    pub fn is_admin(&self) -> bool {
        self.site_role == SiteRole::Admin
    }
}

pub use crate::db::types::SiteRole;

/// A new account.
#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub login: &'a str,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub site_role: &'a str,
    pub language: Option<&'a str>,
    pub disabled: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Inserts an account and reads it back.
pub fn insert(conn: &mut DbConn, new: &NewUser<'_>) -> QueryResult<User> {
    diesel::insert_into(users::table)
        .values(new)
        .execute(conn)?;
    find_by_login(conn, new.login)
}

/// Finds an account by id, if it exists.
pub fn find_opt(conn: &mut DbConn, id: i64) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Finds an account by id.
pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<User> {
    users::table.find(id).select(User::as_select()).first(conn)
}

/// Finds an account by login.
pub fn find_by_login(conn: &mut DbConn, login: &str) -> QueryResult<User> {
    users::table
        .filter(users::login.eq(login))
        .select(User::as_select())
        .first(conn)
}

/// Finds an account by login, `None` if there is none (other errors stay errors).
pub fn find_by_login_opt(conn: &mut DbConn, login: &str) -> QueryResult<Option<User>> {
    find_by_login(conn, login).optional()
}

/// Finds an account by login or (case-insensitive) email, for the login form.
pub fn find_by_login_or_email(conn: &mut DbConn, name: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(
            users::login
                .eq(name)
                .or(lower(users::email).eq(name.to_lowercase())),
        )
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Finds an account by (case-insensitive) email.
pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(lower(users::email).eq(email.to_lowercase()))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Whether an email is taken by someone other than `except`.
pub fn email_taken(conn: &mut DbConn, email: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut q = users::table
        .filter(lower(users::email).eq(email.to_lowercase()))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(users::id.ne(id));
    }
    q.select(users::id)
        .first::<i64>(conn)
        .optional()
        .map(|o| o.is_some())
}

/// Whether any enabled site administrator exists.
pub fn admin_exists(conn: &mut DbConn) -> QueryResult<bool> {
    users::table
        .filter(users::site_role.eq(SiteRole::Admin.as_str()))
        .filter(users::disabled.eq(false))
        .select(users::id)
        .first::<i64>(conn)
        .optional()
        .map(|o| o.is_some())
}

/// Counts enabled administrators (the last one may not be demoted or disabled).
pub fn count_active_admins(conn: &mut DbConn) -> QueryResult<i64> {
    users::table
        .filter(users::site_role.eq(SiteRole::Admin.as_str()))
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)
}

/// Every enabled administrator, by id.
pub fn active_admins(conn: &mut DbConn) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::site_role.eq(SiteRole::Admin.as_str()))
        .filter(users::disabled.eq(false))
        .order(users::id.asc())
        .select(User::as_select())
        .load(conn)
}

/// Counts all accounts.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    users::table.count().get_result(conn)
}

/// One page of accounts, ordered by login.
pub fn list(conn: &mut DbConn, offset: i64, limit: i64) -> QueryResult<Vec<User>> {
    users::table
        .order(users::login.asc())
        .offset(offset)
        .limit(limit)
        .select(User::as_select())
        .load(conn)
}

/// Counts enabled accounts.
pub fn count_active(conn: &mut DbConn) -> QueryResult<i64> {
    users::table
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)
}

/// One page of enabled accounts, ordered by login.
pub fn list_active(conn: &mut DbConn, offset: i64, limit: i64) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::disabled.eq(false))
        .order(users::login.asc())
        .offset(offset)
        .limit(limit)
        .select(User::as_select())
        .load(conn)
}

/// Every enabled account as `(login, display name)`, by display name: the list people are picked
/// from by name (a small organisation's directory; capped all the same).
pub fn directory(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    users::table
        .filter(users::disabled.eq(false))
        .order((users::display_name.asc(), users::login.asc()))
        .limit(5000)
        .select((users::login, users::display_name))
        .load(conn)
}

/// Enabled accounts whose display name is exactly `name` (to pick a person by name).
pub fn find_active_by_display_name(conn: &mut DbConn, name: &str) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::disabled.eq(false))
        .filter(users::display_name.eq(name))
        .limit(2)
        .select(User::as_select())
        .load(conn)
}

/// Profile fields a user edits.
#[derive(Debug)]
pub struct ProfileChanges<'a> {
    pub display_name: &'a str,
    pub email: &'a str,
    pub language: Option<&'a str>,
    pub timezone: Option<&'a str>,
    pub updated_at: NaiveDateTime,
}

/// Saves profile fields.
pub fn update_profile(conn: &mut DbConn, id: i64, changes: &ProfileChanges<'_>) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::display_name.eq(changes.display_name),
            users::email.eq(changes.email),
            users::language.eq(changes.language),
            users::timezone.eq(changes.timezone),
            users::updated_at.eq(changes.updated_at),
        ))
        .execute(conn)
        .map(drop)
}

/// Replaces the account's email (after the new address confirmed itself).
pub fn set_email(conn: &mut DbConn, id: i64, email: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::email.eq(email), users::updated_at.eq(now())))
        .execute(conn)
        .map(drop)
}

/// Replaces the password hash.
pub fn set_password_hash(conn: &mut DbConn, id: i64, hash: &str) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now())))
        .execute(conn)
        .map(drop)
}

/// Enables or disables an account.
pub fn set_disabled(conn: &mut DbConn, id: i64, disabled: bool) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((users::disabled.eq(disabled), users::updated_at.eq(now())))
        .execute(conn)
        .map(drop)
}

/// Changes the site role.
pub fn set_role(conn: &mut DbConn, id: i64, role: SiteRole) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set((
            users::site_role.eq(role.as_str()),
            users::updated_at.eq(now()),
        ))
        .execute(conn)
        .map(drop)
}

/// Serialises, until the transaction ends, what is decided once per account (its private room is
/// made on first use): on PostgreSQL the account row's lock (`FOR UPDATE`), because under READ
/// COMMITTED two first visits would both find no room and both make one; SQLite's `BEGIN
/// IMMEDIATE` already lets one writer in at a time.
pub fn lock_account(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(_) => Ok(()),
        DbConn::Pg(c) => diesel::sql_query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::BigInt, _>(id)
            .execute(c)
            .map(drop),
    }
}

/// Notes a successful login.
pub fn touch_last_login(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(users::table.find(id))
        .set(users::last_login_at.eq(at))
        .execute(conn)
        .map(drop)
}

/// Enabled accounts whose display name contains `q` (all when empty), by name, at most `limit`:
/// among those who share a room with `viewer`, or everyone when `viewer` is `None` (site admins).
pub fn people(
    conn: &mut DbConn,
    viewer: Option<i64>,
    q: &str,
    limit: i64,
) -> QueryResult<Vec<(i64, String)>> {
    use crate::db::schema::room_members;
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut query = users::table
        .filter(users::disabled.eq(false))
        .filter(users::display_name.like(pattern).escape('\\'))
        .select((users::id, users::display_name))
        .order((users::display_name.asc(), users::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some(v) = viewer {
        // The viewer's rooms first: one subselect of room_members inside another is a join of
        // the table with itself, which diesel refuses without an alias.
        let mine: Vec<i64> = room_members::table
            .filter(room_members::user_id.eq(v))
            .select(room_members::room_id)
            .load(conn)?;
        query = query.filter(
            users::id.eq_any(
                room_members::table
                    .filter(room_members::room_id.eq_any(mine))
                    .select(room_members::user_id),
            ),
        );
    }
    query.load(conn)
}
