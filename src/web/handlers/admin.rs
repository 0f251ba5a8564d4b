//! The admin panel: members, site settings, audit log.

use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::services::admin::{self, MemberChange, NewMemberForm, SiteRole};
use crate::services::backup::{self, ScheduleForm};
use crate::services::form::{self, FormOutcome};
use crate::services::import::{self, ImportResult};
use crate::services::site::SettingsForm;
use crate::web::AppState;
use crate::web::extract::{Admin, PageQuery};
use crate::web::render::{self, redirect_with_flash};
use crate::web::views::admin::{
    AdminMembersPage, AuditPage, ImportPage, NewMemberPage, OverviewPage, SettingsPage, audit_item,
};
use crate::web::views::{Errors, Layout, Pager};

/// The pager of a list of `total` rows, `admin::PAGE_SIZE` a page.
fn pager(base: &str, n: i64, total: i64) -> Pager {
    let pages = ((total + admin::PAGE_SIZE - 1) / admin::PAGE_SIZE).max(1);
    Pager::new(base, n, n < pages)
}

/// `GET /admin`: the overview, where a new site's first steps wait (setup lands here).
pub async fn dashboard(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let (actor, core) = (admin.actor(), state.core.clone());
    let overview = state
        .core
        .db
        .read(move |conn| admin::overview(conn, &actor, &core))
        .await?;
    let page = OverviewPage::new(
        Layout::new(admin.ctx(), "/admin"),
        &overview,
        chrono::Utc::now(),
        None,
        &state.core.config.data_dir,
    );
    render::ok(&state, &page)
}

/// `POST /admin/backups/schedule`: the daily backup's time, how many to keep, where.
pub async fn save_backup_schedule(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<ScheduleForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (actor, ip, f, core) = (
        admin.actor(),
        admin.ctx().ip.to_string(),
        form.clone(),
        state.core.clone(),
    );
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| backup::save_schedule(conn, &actor, &f, &ip),
                |conn| admin::overview(conn, &actor, &core),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(()) => Ok(redirect_with_flash(&state, "/admin#backups", "flash.saved")),
        FormOutcome::Invalid { errors, page } => {
            let layout = Layout::new(admin.ctx(), "/admin");
            render::invalid(
                &state,
                &OverviewPage::new(
                    layout,
                    &page,
                    chrono::Utc::now(),
                    Some((&form, errors.into())),
                    &state.core.config.data_dir,
                ),
            )
        }
    }
}

/// `GET /admin/members`.
pub async fn list_members(
    state: web::Data<AppState>,
    admin: Admin,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let n = q.number()?;
    let actor = admin.actor();
    let (rows, total) = state
        .core
        .db
        .read(move |conn| admin::list_members(conn, &actor, n))
        .await?;
    let page = AdminMembersPage::new(
        Layout::new(admin.ctx(), "/admin/members"),
        &admin.ctx().site,
        &rows,
        admin.user().login.clone(),
        pager("/admin/members", n, total),
    );
    render::ok(&state, &page)
}

/// `GET /admin/members/new`.
pub async fn new_member(
    state: web::Data<AppState>,
    admin: Admin,
) -> Result<HttpResponse, AppError> {
    let form = NewMemberForm {
        login: String::new(),
        email: String::new(),
        display_name: String::new(),
        role: SiteRole::Member.as_str().to_owned(),
        password: String::new(),
    };
    let layout = Layout::new(admin.ctx(), "/admin/members/new");
    render::ok(
        &state,
        &NewMemberPage::new(layout, &form, Errors::default()),
    )
}

/// `POST /admin/members`.
pub async fn create_member(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<NewMemberForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let ip = admin.ctx().ip.to_string();
    let created = admin::create_member(&state.core, &admin.actor(), form.clone(), ip).await;
    match FormOutcome::of(created, ())? {
        FormOutcome::Saved(_) => Ok(redirect_with_flash(
            &state,
            "/admin/members",
            "flash.member_created",
        )),
        FormOutcome::Invalid { errors, .. } => {
            let layout = Layout::new(admin.ctx(), "/admin/members/new");
            render::invalid(&state, &NewMemberPage::new(layout, &form, errors.into()))
        }
    }
}

/// The member action form (one button per action).
#[derive(Debug, serde::Deserialize)]
pub struct MemberActionForm {
    action: String,
    #[serde(default)]
    role: String,
}

impl MemberActionForm {
    /// The change the pressed button asks for (400 for anything else).
    fn change(&self) -> Result<MemberChange, AppError> {
        let bad = || AppError::Invalid(FieldErrors::default());
        Ok(match self.action.as_str() {
            "disable" => MemberChange::Disable,
            "enable" => MemberChange::Enable,
            "send_reset" => MemberChange::SendReset,
            "role" => MemberChange::Role(SiteRole::parse(&self.role).ok_or_else(bad)?),
            _ => return Err(bad()),
        })
    }
}

/// `POST /admin/members/{login}`: disable, enable, change role, send a reset link.
pub async fn change_member(
    state: web::Data<AppState>,
    admin: Admin,
    login: web::Path<String>,
    form: web::Form<MemberActionForm>,
) -> Result<HttpResponse, AppError> {
    let change = form.change()?;
    let (actor, core) = (admin.actor(), state.core.clone());
    let (ip, login) = (admin.ctx().ip.to_string(), login.into_inner());
    state
        .core
        .db
        .write(move |conn| admin::change_member(&core, conn, &actor, &login, change, &ip))
        .await?;
    Ok(redirect_with_flash(
        &state,
        "/admin/members",
        "flash.member_updated",
    ))
}

/// `GET /admin/settings`.
pub async fn settings(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let form = SettingsForm::from(admin.ctx().site.as_ref());
    let layout = Layout::new(admin.ctx(), "/admin/settings");
    render::ok(&state, &SettingsPage::new(layout, &form, Errors::default()))
}

/// `POST /admin/settings`.
pub async fn save_settings(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (actor, ip, f) = (admin.actor(), admin.ctx().ip.to_string(), form.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| admin::save_settings(conn, &actor, &f, &ip),
                |_| Ok(()),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(()) => {
            state.core.site_cache.invalidate();
            Ok(redirect_with_flash(
                &state,
                "/admin/settings",
                "flash.saved",
            ))
        }
        FormOutcome::Invalid { errors, .. } => {
            let layout = Layout::new(admin.ctx(), "/admin/settings");
            render::invalid(&state, &SettingsPage::new(layout, &form, errors.into()))
        }
    }
}

/// `GET /admin/audit`.
pub async fn audit(
    state: web::Data<AppState>,
    admin: Admin,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let n = q.number()?;
    let actor = admin.actor();
    let (rows, total) = state
        .core
        .db
        .read(move |conn| admin::list_audit(conn, &actor, n))
        .await?;
    let site = &admin.ctx().site;
    let page = AuditPage {
        layout: Layout::new(admin.ctx(), "/admin/audit"),
        entries: rows
            .iter()
            .map(|e| audit_item(site, admin.ctx().lang, e))
            .collect(),
        pager: pager("/admin/audit", n, total),
    };
    render::ok(&state, &page)
}

/// `GET /admin/members/import`.
pub async fn import_form(
    state: web::Data<AppState>,
    admin: Admin,
) -> Result<HttpResponse, AppError> {
    let layout = Layout::new(admin.ctx(), "/admin/members/import");
    render::ok(&state, &ImportPage::new(layout, String::new(), &[]))
}

/// The import form: the CSV text.
#[derive(Debug, serde::Deserialize)]
pub struct ImportForm {
    csv: String,
}

/// `POST /admin/members/import`: all rows or none.
pub async fn import_members(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<ImportForm>,
) -> Result<HttpResponse, AppError> {
    let text = form.into_inner().csv;
    let (actor, core, t) = (admin.actor(), state.core.clone(), text.clone());
    let result = state
        .core
        .db
        .write(move |conn| import::import_members(&core, conn, &actor, &t))
        .await?;
    match result {
        ImportResult::Imported(_) => Ok(redirect_with_flash(
            &state,
            "/admin/members",
            "flash.members_imported",
        )),
        ImportResult::Rejected(errors) => {
            let layout = Layout::new(admin.ctx(), "/admin/members/import");
            render::invalid(&state, &ImportPage::new(layout, text, &errors))
        }
    }
}
