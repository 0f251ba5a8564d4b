//! The admin panel's pages: members, a new member, the CSV import, site settings, the audit log.

use serde::Serialize;

use super::{Errors, Layout, Page, Pager};
use crate::i18n::Lang;
use crate::services::admin::AuditEntry;
use crate::services::admin::{NewMemberForm, SiteRole};
use crate::services::auth::User;
use crate::services::import::RowError;
use crate::services::site::{SettingsForm, SiteSettings};

/// A member row.
#[derive(Debug, Clone, Serialize)]
pub struct MemberItem {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub role: String,
    pub disabled: bool,
    pub created: String,
    /// When the account last logged in (empty: never, or not since this was recorded).
    pub last_login: String,
}

/// Builds a member row (no password hash ever reaches a template).
pub fn member_item(site: &SiteSettings, u: &User) -> MemberItem {
    MemberItem {
        login: u.login.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        role: u.site_role.to_string(),
        disabled: u.disabled,
        created: site.local_date(u.created_at),
        last_login: u
            .last_login_at
            .map(|at| site.local_datetime(at))
            .unwrap_or_default(),
    }
}

/// An audit row.
#[derive(Debug, Clone, Serialize)]
pub struct AuditItem {
    pub at: String,
    pub actor: String,
    /// What happened, in the reader's language (the stored code when it has no label).
    pub action: String,
    /// The stored code (`room_post.approved`), shown small for searching the log.
    pub code: String,
    pub detail: String,
    pub ip: String,
}

/// Builds an audit row.
pub fn audit_item(site: &SiteSettings, lang: Lang, e: &AuditEntry) -> AuditItem {
    AuditItem {
        at: site.local_datetime(e.at),
        actor: e.actor_login.clone().unwrap_or_else(|| "-".into()),
        action: crate::i18n::lookup(lang, &format!("audit.code.{}", e.action))
            .unwrap_or(&e.action)
            .to_owned(),
        code: e.action.clone(),
        detail: e.detail.clone(),
        ip: e.ip.clone().unwrap_or_default(),
    }
}

/// The site roles a form offers, in order.
fn site_roles() -> Vec<&'static str> {
    SiteRole::ALL.map(SiteRole::as_str).to_vec()
}

/// `admin/members.html`: a page of members with their role and state.
#[derive(Debug, Clone, Serialize)]
pub struct AdminMembersPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// This page's members.
    pub members: Vec<MemberItem>,
    /// The admin's own login (their own row offers no disable or role change).
    pub me: String,
    /// The site roles.
    pub roles: Vec<&'static str>,
    /// Links to the other pages.
    pub pager: Pager,
}

impl Page for AdminMembersPage {
    const TEMPLATE: &'static str = "admin/members.html";
}

impl AdminMembersPage {
    /// Page `n` of `users`, seen by the admin `me`.
    pub fn new(
        layout: Layout,
        site: &SiteSettings,
        users: &[User],
        me: String,
        pager: Pager,
    ) -> Self {
        Self {
            layout,
            members: users.iter().map(|u| member_item(site, u)).collect(),
            me,
            roles: site_roles(),
            pager,
        }
    }
}

/// `admin/member_new.html`: the form that creates a member.
#[derive(Debug, Clone, Serialize)]
pub struct NewMemberPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The form's values (never the password).
    pub form: NewMemberView,
    /// The site roles.
    pub roles: Vec<&'static str>,
    /// Field errors.
    pub errors: Errors,
}

impl Page for NewMemberPage {
    const TEMPLATE: &'static str = "admin/member_new.html";
}

impl NewMemberPage {
    /// The form with `form`'s values and `errors`.
    pub fn new(layout: Layout, form: &NewMemberForm, errors: Errors) -> Self {
        Self {
            layout,
            form: NewMemberView {
                login: form.login.clone(),
                email: form.email.clone(),
                display_name: form.display_name.clone(),
                role: form.role.clone(),
            },
            roles: site_roles(),
            errors,
        }
    }
}

/// The new member form's values.
#[derive(Debug, Clone, Serialize)]
pub struct NewMemberView {
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
}

/// `admin/settings.html`: the site's settings.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The form's values.
    pub form: SettingsView,
    /// The time zones offered.
    pub timezones: [&'static str; 6],
    /// Field errors.
    pub errors: Errors,
}

impl Page for SettingsPage {
    const TEMPLATE: &'static str = "admin/settings.html";
}

impl SettingsPage {
    /// The form with `form`'s values and `errors`.
    pub fn new(layout: Layout, form: &SettingsForm, errors: Errors) -> Self {
        Self {
            layout,
            form: SettingsView {
                title: form.title.clone(),
                tagline: form.tagline.clone(),
                language: form.language.clone(),
                timezone: form.timezone.clone(),
                private_rooms: form.private_rooms.is_some(),
                holidays: form.holidays.clone(),
            },
            timezones: [
                "Asia/Tokyo",
                "UTC",
                "Europe/London",
                "America/New_York",
                "America/Los_Angeles",
                "Australia/Sydney",
            ],
            errors,
        }
    }
}

/// The settings form's values.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    pub title: String,
    pub tagline: String,
    pub language: String,
    pub timezone: String,
    pub private_rooms: bool,
    /// The site's own holidays, one `YYYY-MM-DD name` per line.
    pub holidays: String,
}

/// `admin/overview.html`: the admin's start page: the first steps of a new site, each with its
/// link, done ones ticked.
#[derive(Debug, Clone, Serialize)]
pub struct OverviewPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The steps, in the order an admin takes them.
    pub steps: Vec<Step>,
    /// Steps not done yet.
    pub open_steps: usize,
    /// The backups card.
    pub backups: BackupPanel,
    /// The backup schedule form's values.
    pub schedule: ScheduleView,
    /// The schedule form's field errors.
    pub errors: Errors,
}

/// The backup schedule form's values.
#[derive(Debug, Clone, Serialize)]
pub struct ScheduleView {
    /// Whether the daily backup is on.
    pub enabled: bool,
    /// Its time, `HH:MM`.
    pub at: String,
    /// How many archives to keep.
    pub keep: String,
    /// Where they go (empty: the default).
    pub dir: String,
    /// Where archives go when `dir` is empty (shown as the placeholder).
    pub default_dir: String,
}

/// The overview's backups card: the last backup, the last verified restore, and a warning.
#[derive(Debug, Clone, Serialize)]
pub struct BackupPanel {
    /// When the last backup finished (local time), if there was one.
    pub last_backup: Option<String>,
    /// Its size, for people.
    pub last_backup_size: Option<String>,
    /// Where it was written.
    pub last_backup_path: Option<String>,
    /// When the last verified restore ran (local time), if one did.
    pub last_verified: Option<String>,
    /// Whether it passed.
    pub verified_ok: bool,
    /// What it found.
    pub verified_detail: Option<String>,
    /// The warning's translation key (`backups.warn_*`), when there is something to fix.
    pub warning: Option<&'static str>,
    /// Days after which a backup or a verified restore counts as old.
    pub stale_days: i64,
}

impl BackupPanel {
    /// The card from the recorded status.
    pub fn new(
        b: &crate::services::backup::BackupStatus,
        site: &SiteSettings,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        use crate::services::backup::STALE_DAYS;
        let old = |at: chrono::DateTime<chrono::Utc>| (now - at).num_days() >= STALE_DAYS;
        let warning = match (&b.last_backup, &b.last_verified) {
            (None, _) => Some("backups.warn_none"),
            (Some(_), None) => Some("backups.warn_never_verified"),
            (Some(_), Some(v)) if !v.ok => Some("backups.warn_verify_failed"),
            (Some(last), Some(v)) if old(last.at) || old(v.at) => Some("backups.warn_old"),
            _ => None,
        };
        Self {
            last_backup: b
                .last_backup
                .as_ref()
                .map(|r| site.local_datetime(r.at.naive_utc())),
            last_backup_size: b
                .last_backup
                .as_ref()
                .map(|r| super::files::human_size(i64::try_from(r.bytes).unwrap_or(i64::MAX))),
            last_backup_path: b.last_backup.as_ref().map(|r| r.path.clone()),
            last_verified: b
                .last_verified
                .as_ref()
                .map(|r| site.local_datetime(r.at.naive_utc())),
            verified_ok: b.last_verified.as_ref().is_some_and(|r| r.ok),
            verified_detail: b.last_verified.as_ref().map(|r| r.detail.clone()),
            warning,
            stale_days: STALE_DAYS,
        }
    }
}

impl OverviewPage {
    /// The page from where the site stands.
    pub fn new(
        layout: Layout,
        overview: &crate::services::admin::Overview,
        now: chrono::DateTime<chrono::Utc>,
        submitted: Option<(&crate::services::backup::ScheduleForm, Errors)>,
        data_dir: &std::path::Path,
    ) -> Self {
        let s = &overview.steps;
        let (form, errors) = match submitted {
            Some((form, errors)) => (form.clone(), errors),
            None => ((&overview.schedule).into(), Errors::default()),
        };
        let schedule = ScheduleView {
            enabled: form.enabled.is_some(),
            at: form.at,
            keep: form.keep,
            dir: form.dir,
            default_dir: data_dir.join("backups").display().to_string(),
        };
        let steps: Vec<Step> = [
            ("name", s.site_named, "/admin/settings"),
            ("post", s.first_post, "/admin/posts/new"),
            ("room", s.first_room, "/admin/rooms/new"),
            ("people", s.people, "/admin/members/new"),
            ("mail", s.mail, "#mail"),
        ]
        .into_iter()
        .map(|(key, done, link)| Step { key, done, link })
        .collect();
        let open_steps = steps.iter().filter(|s| !s.done).count();
        Self {
            layout,
            steps,
            open_steps,
            backups: BackupPanel::new(&overview.backups, &overview.site, now),
            schedule,
            errors,
        }
    }
}

/// One first step: its text's key (`steps.<key>`), whether it is done, where it is done.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub key: &'static str,
    pub done: bool,
    pub link: &'static str,
}

impl Page for OverviewPage {
    const TEMPLATE: &'static str = "admin/overview.html";
}

/// `admin/audit.html`: a page of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// This page's entries, newest first.
    pub entries: Vec<AuditItem>,
    /// Links to the other pages.
    pub pager: Pager,
}

impl Page for AuditPage {
    const TEMPLATE: &'static str = "admin/audit.html";
}

/// `admin/import.html`: members from CSV, and the rows that stopped an import.
#[derive(Debug, Clone, Serialize)]
pub struct ImportPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The CSV sent last time.
    pub csv: String,
    /// What is wrong with it, row by row.
    pub row_errors: Vec<RowErrorView>,
    /// The header line the CSV must have.
    pub columns: String,
}

impl Page for ImportPage {
    const TEMPLATE: &'static str = "admin/import.html";
}

impl ImportPage {
    /// The form with `csv` and its `errors`.
    pub fn new(layout: Layout, csv: String, errors: &[RowError]) -> Self {
        Self {
            layout,
            csv,
            row_errors: errors
                .iter()
                .map(|e| RowErrorView {
                    line: e.line,
                    column: e.column,
                    message: e.message,
                })
                .collect(),
            columns: crate::services::import::COLUMNS.join(","),
        }
    }
}

/// A CSV row's problem.
#[derive(Debug, Clone, Serialize)]
pub struct RowErrorView {
    /// The line (1-based).
    pub line: usize,
    /// The column's name.
    pub column: &'static str,
    /// The message's translation key.
    pub message: &'static str,
}

#[cfg(test)]
mod tests {
    use crate::i18n::{Lang, lookup};

    /// Codes the services write with `format!` or through a variable, which the scan below cannot see.
    const WRITTEN_INDIRECTLY: &[&str] = &[
        "safety.started",
        "safety.closed",
        "circular.started",
        "circular.closed",
        "room.archived",
        "room.restored",
        "room.request_approved",
        "room.request_declined",
        "event.occurrence_deleted",
        "event.following_deleted",
    ];

    /// The string literals in the third argument (the action) of every `audit::record(` call
    /// under `src/`.
    fn recorded_codes() -> Vec<String> {
        let mut codes = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (at, _) in text.match_indices("audit::record(") {
                    let args = &text[at + "audit::record(".len()..];
                    let (mut depth, mut commas, mut third) = (1, 0, String::new());
                    for c in args.chars() {
                        match c {
                            '(' | '[' | '{' => depth += 1,
                            ')' | ']' | '}' => depth -= 1,
                            ',' if depth == 1 => commas += 1,
                            _ => {}
                        }
                        if depth == 0 || commas > 2 {
                            break;
                        }
                        if commas == 2 {
                            third.push(c);
                        }
                    }
                    // Literals only: a `format!` pattern is listed in WRITTEN_INDIRECTLY.
                    codes.extend(
                        third
                            .split('"')
                            .skip(1)
                            .step_by(2)
                            .filter(|lit| !lit.contains('{'))
                            .map(str::to_owned),
                    );
                }
            }
        }
        codes.sort();
        codes.dedup();
        codes
    }

    #[test]
    fn every_audit_code_has_a_label_in_both_languages() {
        let mut codes = recorded_codes();
        assert!(codes.len() > 30, "the scan found too little: {codes:?}");
        codes.extend(WRITTEN_INDIRECTLY.iter().map(|c| (*c).to_owned()));
        for code in &codes {
            for lang in Lang::ALL {
                assert!(
                    lookup(lang, &format!("audit.code.{code}")).is_some(),
                    "audit.code.{code} has no {lang:?} label"
                );
            }
        }
    }
}
