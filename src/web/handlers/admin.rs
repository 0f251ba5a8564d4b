//! The admin panel: members, site settings, audit log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::models::user::SiteRole;
use crate::services::admin::{self, MemberChange, NewMemberForm};
use crate::services::site::SettingsForm;
use crate::web::AppState;
use crate::web::extract::{Admin, PageQuery};
use crate::web::render::{
    base_context, insert_errors, invalid_or, ok, page, redirect, redirect_with_flash,
};
use crate::web::views::Pager;
use crate::web::views::admin::{audit_item, member_item};

/// `GET /admin`.
pub async fn dashboard(_admin: Admin) -> HttpResponse {
    redirect("/admin/members")
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
    let mut c = base_context(admin.ctx(), "/admin/members");
    let items: Vec<_> = rows
        .iter()
        .map(|u| member_item(&admin.ctx().site, u))
        .collect();
    c.insert("members", &items);
    c.insert("me", &admin.user().login);
    c.insert("roles", &SiteRole::ALL.map(SiteRole::as_str));
    let pages = ((total + admin::PAGE_SIZE - 1) / admin::PAGE_SIZE).max(1);
    c.insert("pager", &Pager::new("/admin/members", n, n < pages));
    ok(&state, "admin/members.html", &c)
}

fn new_member_page(
    state: &AppState,
    admin: &Admin,
    form: &NewMemberForm,
    errors: Option<&FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(admin.ctx(), "/admin/members/new");
    c.insert("form", &serde_json::json!({
        "login": form.login, "email": form.email, "display_name": form.display_name, "role": form.role,
    }));
    c.insert("roles", &SiteRole::ALL.map(SiteRole::as_str));
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    page(state, "admin/member_new.html", &c, status)
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
        role: "member".into(),
        password: String::new(),
    };
    new_member_page(&state, &admin, &form, None, StatusCode::OK)
}

/// `POST /admin/members`.
pub async fn create_member(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<NewMemberForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let ip = admin.ctx().ip.to_string();
    match admin::create_member(&state.core, &admin.actor(), form.clone(), ip).await {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            "/admin/members",
            "flash.member_created",
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            new_member_page(
                &state,
                &admin,
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
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

/// `POST /admin/members/{login}`: disable, enable, change role, send a reset link.
pub async fn change_member(
    state: web::Data<AppState>,
    admin: Admin,
    login: web::Path<String>,
    form: web::Form<MemberActionForm>,
) -> Result<HttpResponse, AppError> {
    let change = match form.action.as_str() {
        "disable" => MemberChange::Disable,
        "enable" => MemberChange::Enable,
        "send_reset" => MemberChange::SendReset,
        "role" => MemberChange::Role(
            SiteRole::parse(&form.role).ok_or(AppError::Invalid(FieldErrors::default()))?,
        ),
        _ => return Err(AppError::Invalid(FieldErrors::default())),
    };
    let actor = admin.actor();
    let core = state.core.clone();
    let ip = admin.ctx().ip.to_string();
    let login = login.into_inner();
    state
        .core
        .db
        .write(move |conn| admin::change_member(&core, conn, &actor, &login, change, &ip))
        .await?;
    state.core.mail_wakeup.notify_one();
    Ok(redirect_with_flash(
        &state,
        "/admin/members",
        "flash.member_updated",
    ))
}

fn settings_page(
    state: &AppState,
    admin: &Admin,
    form: &SettingsForm,
    errors: Option<&FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(admin.ctx(), "/admin/settings");
    c.insert("form", &serde_json::json!({
        "title": form.title, "tagline": form.tagline, "language": form.language, "timezone": form.timezone,
        "private_rooms": form.private_rooms.is_some(),
    }));
    c.insert(
        "timezones",
        &[
            "Asia/Tokyo",
            "UTC",
            "Europe/London",
            "America/New_York",
            "America/Los_Angeles",
            "Australia/Sydney",
        ],
    );
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    page(state, "admin/settings.html", &c, status)
}

/// `GET /admin/settings`.
pub async fn settings(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let s = &admin.ctx().site;
    let form = SettingsForm {
        title: s.title.clone(),
        tagline: s.tagline.clone(),
        language: s.language.code().to_owned(),
        timezone: s.timezone.name().to_owned(),
        private_rooms: s.private_rooms.then(|| "on".to_owned()),
    };
    settings_page(&state, &admin, &form, None, StatusCode::OK)
}

/// `POST /admin/settings`.
pub async fn save_settings(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<SettingsForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let actor = admin.actor();
    let ip = admin.ctx().ip.to_string();
    let f = form.clone();
    match state
        .core
        .db
        .write(move |conn| admin::save_settings(conn, &actor, &f, &ip))
        .await
    {
        Ok(()) => {
            state.core.site_cache.invalidate();
            Ok(redirect_with_flash(
                &state,
                "/admin/settings",
                "flash.saved",
            ))
        }
        Err(e) => {
            let errors = invalid_or(e)?;
            settings_page(
                &state,
                &admin,
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
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
    let mut c = base_context(admin.ctx(), "/admin/audit");
    let items: Vec<_> = rows
        .iter()
        .map(|e| audit_item(&admin.ctx().site, e))
        .collect();
    c.insert("entries", &items);
    let pages = ((total + admin::PAGE_SIZE - 1) / admin::PAGE_SIZE).max(1);
    c.insert("pager", &Pager::new("/admin/audit", n, n < pages));
    ok(&state, "admin/audit.html", &c)
}

fn import_page(
    state: &AppState,
    admin: &Admin,
    text: &str,
    errors: &[crate::services::import::RowError],
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(admin.ctx(), "/admin/members/import");
    c.insert("csv", text);
    let rows: Vec<_> = errors
        .iter()
        .map(|e| serde_json::json!({ "line": e.line, "column": e.column, "message": e.message }))
        .collect();
    c.insert("row_errors", &rows);
    c.insert("columns", &crate::services::import::COLUMNS.join(","));
    page(state, "admin/import.html", &c, status)
}

/// `GET /admin/members/import`.
pub async fn import_form(
    state: web::Data<AppState>,
    admin: Admin,
) -> Result<HttpResponse, AppError> {
    import_page(&state, &admin, "", &[], StatusCode::OK)
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
    match state
        .core
        .db
        .write(move |conn| crate::services::import::import_members(&core, conn, &actor, &t))
        .await?
    {
        crate::services::import::ImportResult::Imported(_) => {
            state.core.mail_wakeup.notify_one();
            Ok(redirect_with_flash(
                &state,
                "/admin/members",
                "flash.members_imported",
            ))
        }
        crate::services::import::ImportResult::Rejected(errors) => import_page(
            &state,
            &admin,
            &text,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}
