//! Member CSV import (admin): every row is checked first and the errors are reported per row and
//! column; only a file without a single error is imported, in one transaction, so nothing is ever
//! half-imported. New members get a mail with a link to choose their password.

use std::collections::HashSet;

use super::authz::{Action, RoomRole, authorize};
use super::{Actor, Core};
use crate::db::DbConn;
use crate::error::AppResult;
use crate::models::user::SiteRole;
use crate::models::{audit, now, room, user};

/// The columns, in order (a header row with these names comes first).
pub const COLUMNS: [&str; 5] = ["name", "login", "email", "rooms", "role"];
/// Most rows one import takes.
pub const MAX_ROWS: usize = 5000;

/// A problem with one cell (or the whole file when `line` is 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The line in the file (1 = the header).
    pub line: usize,
    /// The column (`name`, `login`, …) or `file`.
    pub column: &'static str,
    /// An i18n key.
    pub message: &'static str,
}

/// The outcome of an import.
#[derive(Debug, Clone)]
pub enum ImportResult {
    /// Nothing was imported; here is why.
    Rejected(Vec<RowError>),
    /// Every row was imported.
    Imported(usize),
}

struct Row {
    name: String,
    login: String,
    email: String,
    rooms: Vec<i64>,
    role: RoomRole,
}

fn check_rows(conn: &mut DbConn, text: &str) -> AppResult<Result<Vec<Row>, Vec<RowError>>> {
    let mut errors = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(str::to_lowercase).collect(),
        Err(_) => {
            return Ok(Err(vec![RowError {
                line: 1,
                column: "file",
                message: "import.unreadable",
            }]));
        }
    };
    if header != COLUMNS {
        return Ok(Err(vec![RowError {
            line: 1,
            column: "file",
            message: "import.bad_header",
        }]));
    }
    let mut rows = Vec::new();
    let mut seen = Seen::default();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        if rows.len() + errors.len() >= MAX_ROWS {
            errors.push(RowError {
                line,
                column: "file",
                message: "import.too_many",
            });
            break;
        }
        let Ok(record) = record else {
            errors.push(RowError {
                line,
                column: "file",
                message: "import.unreadable",
            });
            continue;
        };
        if record.len() != COLUMNS.len() {
            errors.push(RowError {
                line,
                column: "file",
                message: "import.wrong_columns",
            });
            continue;
        }
        rows.push(check_row(conn, line, &record, &mut seen, &mut errors)?);
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(RowError {
            line: 0,
            column: "file",
            message: "import.empty",
        });
    }
    Ok(if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    })
}

/// Logins and addresses met earlier in the same file.
#[derive(Default)]
struct Seen {
    logins: HashSet<String>,
    emails: HashSet<String>,
}

/// Checks one data row, recording its problems; returns the row as it would be imported.
fn check_row(
    conn: &mut DbConn,
    line: usize,
    record: &csv::StringRecord,
    seen: &mut Seen,
    errors: &mut Vec<RowError>,
) -> AppResult<Row> {
    let cell = |n: usize| record.get(n).unwrap_or("").to_owned();
    let (name, login, email, rooms_cell, role_cell) =
        (cell(0), cell(1).to_lowercase(), cell(2), cell(3), cell(4));
    let mut err = |column, message| {
        errors.push(RowError {
            line,
            column,
            message,
        });
    };
    if !super::account::valid_display_name(&name) {
        err("name", "error.display_name_format");
    }
    if !super::account::valid_login(&login) {
        err("login", "error.login_format");
    } else if !seen.logins.insert(login.clone()) || user::find_by_login_opt(conn, &login)?.is_some()
    {
        err("login", "error.login_taken");
    }
    if !super::account::valid_email(&email) {
        err("email", "error.email_format");
    } else if !seen.emails.insert(email.to_lowercase()) || user::email_taken(conn, &email, None)? {
        err("email", "error.email_taken");
    }
    let mut room_ids = Vec::new();
    for slug in rooms_cell
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        match room::find_by_slug_opt(conn, slug)? {
            Some(r) if !r.archived => room_ids.push(r.id),
            _ => {
                err("rooms", "room.unknown_room");
                break;
            }
        }
    }
    let role = if role_cell.is_empty() {
        Some(RoomRole::Member)
    } else {
        RoomRole::parse(&role_cell)
    };
    if role.is_none() {
        err("role", "error.invalid_choice");
    }
    Ok(Row {
        name,
        login,
        email,
        rooms: room_ids,
        role: role.unwrap_or(RoomRole::Member),
    })
}

/// Checks and, if every row is right, imports the members (site admins).
pub fn import_members(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    text: &str,
) -> AppResult<ImportResult> {
    authorize(Some(actor), Action::Administer)?;
    let rows = match check_rows(conn, text)? {
        Ok(rows) => rows,
        Err(errors) => return Ok(ImportResult::Rejected(errors)),
    };
    let hash = super::account::unusable_password_hash()?;
    let at = now();
    for row in &rows {
        let account = super::account::NewAccount {
            login: row.login.clone(),
            email: row.email.clone(),
            display_name: row.name.clone(),
            role: SiteRole::Member,
            language: None,
        };
        let u = super::account::insert_account(conn, &account, &hash)?;
        for room_id in &row.rooms {
            room::set_member(conn, *room_id, u.id, row.role, at)?;
        }
        super::auth::send_password_link(core, conn, &u, super::auth::PasswordLink::Welcome)?;
    }
    audit::record(
        conn,
        Some(actor.id),
        "members.imported",
        &rows.len().to_string(),
        None,
    )?;
    Ok(ImportResult::Imported(rows.len()))
}
