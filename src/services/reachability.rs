//! Reachability (issue #5): the addresses a member can be reached at in an emergency. Besides the
//! account's own email a member registers up to two more (three in all); a test mail carries a link
//! that verifies its address; an address the outbox gave up on permanently is bouncing until a later
//! mail gets through or it is verified again. Admins see everyone's status and can test everyone
//! before a drill, and `safety_addresses` tells the safety check where to send.

use std::collections::{HashMap, HashSet};

use chrono::{Duration, NaiveDateTime};

use super::authz::{Action, authorize, authorize_address_link};
use super::mail::{self, Recipient, emails};
use super::token::{hash_token, looks_like_token, new_token};
use super::{Actor, Core};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::contact::{
    self, ContactAddress, NewContactAddress, NewContactToken, address_key,
};
use crate::models::user::{self, User};
use crate::models::{audit, now};

/// Addresses a member may have in all, the account's own email included.
pub const MAX_ADDRESSES: usize = 3;
/// How long a verification link works.
pub const LINK_DAYS: i64 = 7;
/// Test mails a member may ask for per hour (the admin's "test everyone" is not limited). Each test
/// goes to an address the member typed, so this bounds what the site can be made to send to a
/// stranger.
pub const TESTS_PER_HOUR: i64 = 10;
/// Page size of the admin overview.
pub const PAGE_SIZE: i64 = 50;
/// The longest bounce message kept.
const MAX_ERROR_CHARS: usize = 500;

/// Whether mail to an address is known to arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressStatus {
    /// A link mailed to it was opened, and nothing bounced since.
    Verified,
    /// Never verified, and nothing bounced.
    Unverified,
    /// The outbox gave up on a mail to it (a permanent SMTP error).
    Bouncing,
}

impl AddressStatus {
    /// The name used in templates and translation keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "verified",
            Self::Unverified => "unverified",
            Self::Bouncing => "bouncing",
        }
    }

    fn of(row: Option<&ContactAddress>) -> Self {
        match row {
            Some(r) if r.bouncing_at.is_some() => Self::Bouncing,
            Some(r) if r.verified_at.is_some() => Self::Verified,
            _ => Self::Unverified,
        }
    }
}

/// Which of a member's addresses (as it appears in URLs: `account` or the row id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressRef {
    /// The account's own email.
    Account,
    /// An address the member added.
    Extra(i64),
}

impl AddressRef {
    /// Parses the URL form; anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        if s == "account" {
            return Some(Self::Account);
        }
        if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok().filter(|id| *id > 0).map(Self::Extra)
    }

    /// The URL form.
    pub fn to_param(self) -> String {
        match self {
            Self::Account => "account".to_owned(),
            Self::Extra(id) => id.to_string(),
        }
    }
}

/// One address of a member and its status.
#[derive(Debug, Clone)]
pub struct Address {
    /// Which address it is.
    pub which: AddressRef,
    /// The address as typed.
    pub address: String,
    /// Verified, unverified or bouncing.
    pub status: AddressStatus,
    /// When it was last verified.
    pub verified_at: Option<NaiveDateTime>,
    /// What the mail server said when it bounced.
    pub bounce_error: Option<String>,
}

/// A member's addresses from their rows: the account email first, then the added ones (an added
/// address equal to the account email is shown once, as the account email).
pub fn addresses_of(user: &User, rows: &[ContactAddress]) -> Vec<Address> {
    let own_key = address_key(&user.email);
    let own = rows
        .iter()
        .find(|r| r.user_id == user.id && r.address_key == own_key);
    let mut out = vec![Address {
        which: AddressRef::Account,
        address: user.email.clone(),
        status: AddressStatus::of(own),
        verified_at: own.and_then(|r| r.verified_at),
        bounce_error: own.and_then(|r| r.bounce_error.clone()),
    }];
    out.extend(
        rows.iter()
            .filter(|r| r.user_id == user.id && r.extra && r.address_key != own_key)
            .map(|r| Address {
                which: AddressRef::Extra(r.id),
                address: r.address.clone(),
                status: AddressStatus::of(Some(r)),
                verified_at: r.verified_at,
                bounce_error: r.bounce_error.clone(),
            }),
    );
    out
}

/// The addresses of the acting member.
pub fn list_own(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<Address>> {
    authorize(Some(actor), Action::EditOwnProfile)?;
    let u = user::find(conn, actor.id)?;
    let rows = contact::for_user(conn, u.id)?;
    Ok(addresses_of(&u, &rows))
}

/// Adds an address for the acting member (three in all at most, the account email included).
pub fn add_address(core: &Core, conn: &mut DbConn, actor: &Actor, address: &str) -> AppResult<()> {
    authorize(Some(actor), Action::EditOwnProfile)?;
    let address = address.trim();
    let mut e = FieldErrors::default();
    if !super::account::valid_email(address) {
        e.add("address", "error.email_format");
        return Err(AppError::Invalid(e));
    }
    let u = user::find(conn, actor.id)?;
    let rows = contact::for_user(conn, u.id)?;
    let current = addresses_of(&u, &rows);
    let key = address_key(address);
    if current.iter().any(|a| address_key(&a.address) == key) {
        e.add("address", "reach.duplicate");
    } else if current.len() >= MAX_ADDRESSES {
        e.add("address", "reach.limit");
    }
    e.into_result()?;
    // A row may be left from an earlier account email: it becomes an added address, status and all.
    if let Some(row) = rows.iter().find(|r| r.address_key == key) {
        contact::set_extra(conn, row.id, true)?;
    } else {
        contact::insert(
            conn,
            &NewContactAddress {
                user_id: u.id,
                address,
                address_key: &key,
                extra: true,
                created_at: now(),
            },
        )?;
    }
    // The account's own email hears of it: an address that receives the member's safety links
    // and may accept invitations is worth a word to the owner if a stolen session added it.
    mail::queue(
        core,
        conn,
        &Recipient::from(&u),
        &emails::AddressAdded {
            address,
            link: &format!("{}/me/addresses", core.config.base_url()),
        },
    )?;
    audit::record(conn, Some(u.id), "address.added", "", None)?;
    Ok(())
}

/// An added address of `user_id` (404 for the account email, someone else's or an unknown id).
fn own_extra(conn: &mut DbConn, user: &User, id: i64) -> AppResult<ContactAddress> {
    let row = contact::find(conn, id)?;
    if row.user_id != user.id || !row.extra || row.address_key == address_key(&user.email) {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

/// Removes an address the acting member added (the account email cannot be removed here).
pub fn remove_address(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()> {
    authorize(Some(actor), Action::EditOwnProfile)?;
    let u = user::find(conn, actor.id)?;
    let row = own_extra(conn, &u, id)?;
    contact::delete(conn, row.id)?;
    audit::record(conn, Some(u.id), "address.removed", "", None)?;
    Ok(())
}

/// The status row of the account's own email, made on first use.
fn account_row(conn: &mut DbConn, user_id: i64, email: &str) -> AppResult<ContactAddress> {
    let key = address_key(email);
    if let Some(row) = contact::find_by_key(conn, user_id, &key)? {
        return Ok(row);
    }
    Ok(contact::insert(
        conn,
        &NewContactAddress {
            user_id,
            address: email.trim(),
            address_key: &key,
            extra: false,
            created_at: now(),
        },
    )?)
}

/// Queues one test mail with a fresh verification link to `row`'s address.
fn queue_test(
    core: &Core,
    conn: &mut DbConn,
    user: &User,
    row: &ContactAddress,
    from_admin: bool,
) -> AppResult<()> {
    let token = new_token();
    let at = now();
    contact::insert_token(
        conn,
        &NewContactToken {
            user_id: user.id,
            contact_id: Some(row.id),
            token_hash: &hash_token(&token),
            created_at: at,
            expires_at: at + Duration::days(LINK_DAYS),
        },
    )?;
    mail::queue(
        core,
        conn,
        &Recipient::from(user).at(&row.address),
        &emails::AddressTest {
            address: &row.address,
            link: &format!("{}/verify/{token}", core.config.base_url()),
            days: LINK_DAYS,
            from_admin,
        },
    )
}

/// Sends the acting member a test mail (with a verification link) to one of their addresses.
pub fn send_test(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    which: AddressRef,
) -> AppResult<()> {
    authorize(Some(actor), Action::EditOwnProfile)?;
    let u = user::find(conn, actor.id)?;
    let row = match which {
        AddressRef::Account => account_row(conn, u.id, &u.email)?,
        AddressRef::Extra(id) => own_extra(conn, &u, id)?,
    };
    let at = now();
    if contact::count_tokens_since(conn, u.id, at - Duration::hours(1))? >= TESTS_PER_HOUR {
        return Err(AppError::RateLimited("reach.too_many_tests"));
    }
    queue_test(core, conn, &u, &row, false)?;
    audit::record(conn, Some(u.id), "address.test_sent", "", None)?;
    Ok(())
}

/// Why a verification link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Unknown token, garbage, or its address was removed.
    Invalid,
    /// Older than `LINK_DAYS`.
    Expired,
    /// Used already.
    Used,
    /// The visitor is logged in as another account.
    OtherAccount,
}

impl LinkProblem {
    /// The i18n key of the message.
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Invalid => "reach.link_invalid",
            Self::Expired => "reach.link_expired",
            Self::Used => "reach.link_used",
            Self::OtherAccount => "reach.link_other_account",
        }
    }
}

/// Finds the token and its address, or says why it cannot be used.
fn open_link(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    token: &str,
    at: NaiveDateTime,
) -> AppResult<Result<(i64, ContactAddress), LinkProblem>> {
    if !looks_like_token(token) {
        return Ok(Err(LinkProblem::Invalid));
    }
    let Some(t) = contact::find_token(conn, &hash_token(token))? else {
        return Ok(Err(LinkProblem::Invalid));
    };
    if t.used_at.is_some() {
        return Ok(Err(LinkProblem::Used));
    }
    if t.expires_at <= at {
        return Ok(Err(LinkProblem::Expired));
    }
    let Some(contact_id) = t.contact_id else {
        return Ok(Err(LinkProblem::Invalid));
    };
    let row = contact::find(conn, contact_id)?;
    let owner = user::find(conn, row.user_id)?;
    // A row left from an earlier account email is no longer one of the member's addresses.
    if row.user_id != t.user_id || !(row.extra || row.address_key == address_key(&owner.email)) {
        return Ok(Err(LinkProblem::Invalid));
    }
    if authorize_address_link(actor, row.user_id).is_err() {
        return Ok(Err(LinkProblem::OtherAccount));
    }
    Ok(Ok((t.id, row)))
}

/// What a verification link would confirm: the address, or why it cannot be used. Changes nothing.
pub fn check_link(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    token: &str,
) -> AppResult<Result<String, LinkProblem>> {
    Ok(open_link(conn, actor, token, now())?.map(|(_, row)| row.address))
}

/// Uses a verification link: its address becomes verified (and no longer bouncing). Returns the
/// address, or why nothing was done.
pub fn confirm_link(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    token: &str,
) -> AppResult<Result<String, LinkProblem>> {
    let at = now();
    let (token_id, row) = match open_link(conn, actor, token, at)? {
        Ok(found) => found,
        Err(problem) => return Ok(Err(problem)),
    };
    if !contact::use_token(conn, token_id, at)? {
        return Ok(Err(LinkProblem::Used));
    }
    contact::mark_verified(conn, row.id, at)?;
    audit::record(conn, Some(row.user_id), "address.verified", "", None)?;
    Ok(Ok(row.address))
}

/// The addresses member `user_id` has proven to own: the account email and every added address a
/// link mailed to it has verified (bouncing or not: a bounce says nothing about who owns it).
/// Invitations are bound to these.
pub fn proven_addresses(conn: &mut DbConn, user_id: i64) -> diesel::QueryResult<Vec<String>> {
    let u = user::find(conn, user_id)?;
    let own_key = address_key(&u.email);
    let mut out = vec![u.email];
    out.extend(
        contact::for_user(conn, user_id)?
            .into_iter()
            .filter(|r| r.extra && r.verified_at.is_some() && r.address_key != own_key)
            .map(|r| r.address),
    );
    Ok(out)
}

/// Every address mail for member `user_id` should go to: the account email plus its verified added
/// addresses, without those marked bouncing, deduplicated case-insensitively, the account email
/// first. Never empty: when every address is filtered out, the account email is returned anyway.
pub fn safety_addresses(conn: &mut DbConn, user_id: i64) -> diesel::QueryResult<Vec<String>> {
    let u = user::find(conn, user_id)?;
    let rows = contact::for_user(conn, user_id)?;
    Ok(addresses_from(&u.email, &rows))
}

/// `safety_addresses` for many members at once (`(user id, account email)`), in a few queries:
/// a safety check for 10,000 people must not ask twice per person.
pub fn safety_addresses_many(
    conn: &mut DbConn,
    members: &[(i64, &str)],
) -> diesel::QueryResult<HashMap<i64, Vec<String>>> {
    let mut rows_by_user: HashMap<i64, Vec<ContactAddress>> = HashMap::new();
    for chunk in members.chunks(5_000) {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        for r in contact::for_users(conn, &ids)? {
            rows_by_user.entry(r.user_id).or_default().push(r);
        }
    }
    Ok(members
        .iter()
        .map(|(id, email)| {
            let rows = rows_by_user.get(id).map_or(&[][..], Vec::as_slice);
            (*id, addresses_from(email, rows))
        })
        .collect())
}

/// The rule behind `safety_addresses`, given the account email and its address rows.
fn addresses_from(email: &str, rows: &[ContactAddress]) -> Vec<String> {
    let own_key = address_key(email);
    let own_bouncing = rows
        .iter()
        .any(|r| r.address_key == own_key && r.bouncing_at.is_some());
    let mut seen = HashSet::from([own_key]);
    let mut out = Vec::new();
    if !own_bouncing {
        out.push(email.to_owned());
    }
    for r in rows {
        if r.extra
            && r.verified_at.is_some()
            && r.bouncing_at.is_none()
            && seen.insert(r.address_key.clone())
        {
            out.push(r.address.clone());
        }
    }
    if out.is_empty() {
        out.push(email.to_owned());
    }
    out
}

/// The outbox gave up on a mail to `to_addr` for good: every member address equal to it is bouncing
/// (an account whose own email it is gets its status row now).
pub fn record_bounce(
    conn: &mut DbConn,
    to_addr: &str,
    error: &str,
    at: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let key = address_key(to_addr);
    for (user_id, email) in contact::accounts_with_email(conn, &key)? {
        if contact::find_by_key(conn, user_id, &key)?.is_none() {
            contact::insert(
                conn,
                &NewContactAddress {
                    user_id,
                    address: email.trim(),
                    address_key: &key,
                    extra: false,
                    created_at: at,
                },
            )?;
        }
    }
    let error: String = error.chars().take(MAX_ERROR_CHARS).collect();
    contact::mark_bouncing(conn, &key, &error, at).map(drop)
}

/// A mail to `to_addr` was accepted by the mail server: it is no longer bouncing.
pub fn record_delivery(conn: &mut DbConn, to_addr: &str) -> diesel::QueryResult<()> {
    contact::clear_bouncing(conn, &address_key(to_addr)).map(drop)
}

/// One member and their addresses, for the admin overview.
#[derive(Debug, Clone)]
pub struct MemberAddresses {
    /// The account.
    pub user: User,
    /// Its addresses, the account email first.
    pub addresses: Vec<Address>,
}

/// One page of enabled members with the status of each address, and the number of such members.
pub fn overview(
    conn: &mut DbConn,
    actor: &Actor,
    page: i64,
) -> AppResult<(Vec<MemberAddresses>, i64)> {
    authorize(Some(actor), Action::Administer)?;
    let total = user::count_active(conn)?;
    let users = user::list_active(conn, (page - 1).max(0) * PAGE_SIZE, PAGE_SIZE)?;
    let ids: Vec<i64> = users.iter().map(|u| u.id).collect();
    let rows = contact::for_users(conn, &ids)?;
    let by_user = group(rows);
    let members = users
        .into_iter()
        .map(|u| {
            let addresses = addresses_of(&u, by_user.get(&u.id).map_or(&[], Vec::as_slice));
            MemberAddresses { user: u, addresses }
        })
        .collect();
    Ok((members, total))
}

fn group(rows: Vec<ContactAddress>) -> HashMap<i64, Vec<ContactAddress>> {
    let mut by_user: HashMap<i64, Vec<ContactAddress>> = HashMap::new();
    for r in rows {
        by_user.entry(r.user_id).or_default().push(r);
    }
    by_user
}

/// Before a drill: queues one test mail (with a verification link) to every address of every enabled
/// member; returns how many were queued.
pub fn send_test_to_everyone(core: &Core, conn: &mut DbConn, actor: &Actor) -> AppResult<usize> {
    authorize(Some(actor), Action::Administer)?;
    let users = user::list_active(conn, 0, i64::MAX)?;
    let by_user = group(contact::for_active_users(conn)?);
    let mut queued = 0;
    for u in &users {
        let rows = by_user.get(&u.id).map_or(&[][..], Vec::as_slice);
        for a in addresses_of(u, rows) {
            let row = match a.which {
                AddressRef::Account => account_row(conn, u.id, &u.email)?,
                AddressRef::Extra(id) => rows
                    .iter()
                    .find(|r| r.id == id)
                    .cloned()
                    .ok_or(AppError::NotFound)?,
            };
            queue_test(core, conn, u, &row, true)?;
            queued += 1;
        }
    }
    audit::record(
        conn,
        Some(actor.id),
        "address.test_everyone",
        &queued.to_string(),
        None,
    )?;
    Ok(queued)
}

/// Records `address` as a verified address of `user_id` without mailing it: the account email if it
/// is that, otherwise an added address. For `yui demo`, whose made-up addresses receive nothing, and
/// for an address that proved its mailbox another way (a confirmed change of the account email, an
/// account made through an invitation link).
pub fn verify_without_mail(conn: &mut DbConn, user_id: i64, address: &str) -> AppResult<()> {
    let u = user::find(conn, user_id)?;
    let key = address_key(address);
    let row = if key == address_key(&u.email) {
        account_row(conn, u.id, &u.email)?
    } else if let Some(row) = contact::find_by_key(conn, u.id, &key)? {
        contact::set_extra(conn, row.id, true)?;
        row
    } else {
        contact::insert(
            conn,
            &NewContactAddress {
                user_id: u.id,
                address: address.trim(),
                address_key: &key,
                extra: true,
                created_at: now(),
            },
        )?
    };
    contact::mark_verified(conn, row.id, now())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> User {
        let at = now();
        User {
            id: 7,
            login: "hanako".into(),
            email: "Hanako@Example.test".into(),
            display_name: "花子".into(),
            password_hash: String::new(),
            site_role: crate::db::types::SiteRole::Member,
            language: None,
            disabled: false,
            created_at: at,
            updated_at: at,
            last_login_at: None,
            timezone: None,
        }
    }

    fn row(id: i64, address: &str, extra: bool, verified: bool, bouncing: bool) -> ContactAddress {
        let at = now();
        ContactAddress {
            id,
            user_id: 7,
            address: address.into(),
            address_key: address_key(address),
            extra,
            created_at: at,
            verified_at: verified.then_some(at),
            bouncing_at: bouncing.then_some(at),
            bounce_error: bouncing.then(|| "550".into()),
        }
    }

    #[test]
    fn the_account_email_comes_first_and_is_listed_once() {
        let u = user();
        let rows = [
            row(1, "hanako@example.test", true, true, false),
            row(2, "phone@carrier.test", true, false, true),
            row(3, "old@example.test", false, true, false),
        ];
        let list = addresses_of(&u, &rows);
        let shown: Vec<_> = list
            .iter()
            .map(|a| (a.which, a.address.as_str(), a.status))
            .collect();
        assert_eq!(
            shown,
            [
                (
                    AddressRef::Account,
                    "Hanako@Example.test",
                    AddressStatus::Verified
                ),
                (
                    AddressRef::Extra(2),
                    "phone@carrier.test",
                    AddressStatus::Bouncing
                ),
            ]
        );
    }

    #[test]
    fn address_refs_parse_only_their_url_forms() {
        assert_eq!(AddressRef::parse("account"), Some(AddressRef::Account));
        assert_eq!(AddressRef::parse("12"), Some(AddressRef::Extra(12)));
        for bad in ["", "0", "-1", "1e3", "Account", "99999999999999999999"] {
            assert_eq!(AddressRef::parse(bad), None, "{bad}");
        }
        assert_eq!(AddressRef::Extra(5).to_param(), "5");
    }
}
