//! Safety checks (安否確認): the list, starting a check, the dashboard (proxy answers, reminders,
//! close, CSV), the logged-in answer form, and the personal link `/a/{token}` that answers without a
//! login on a tiny page made for congested phone networks.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::services::safety::{self, StartForm};
use crate::web::AppState;
use crate::web::extract::{Ctx, CurrentUser, room_slug};
use crate::web::render::{base_context, insert_errors, invalid_or, ok, page, redirect_with_flash};
use crate::web::views::safety::{answer_view, check_item, dashboard_view};

/// `GET /safety`.
pub async fn list_checks(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let list = state
        .core
        .db
        .read(move |conn| safety::list(conn, &actor))
        .await?;
    let site = &user.ctx().site;
    let mut c = base_context(user.ctx(), "/safety");
    c.insert(
        "managed",
        &list
            .managed
            .iter()
            .map(|n| check_item(n, None, site))
            .collect::<Vec<_>>(),
    );
    c.insert(
        "mine",
        &list
            .mine
            .iter()
            .map(|(n, r)| check_item(n, Some(r), site))
            .collect::<Vec<_>>(),
    );
    c.insert("may_start", &list.may_start);
    ok(&state, "safety/index.html", &c)
}

async fn start_page(
    state: &AppState,
    user: &CurrentUser,
    form: &StartForm,
    errors: Option<&FieldErrors>,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let rooms = state
        .core
        .db
        .read(move |conn| safety::startable_rooms(conn, &actor))
        .await?;
    let everyone = crate::services::authz::is_site_admin(&user.actor());
    if rooms.is_empty() && !everyone {
        return Err(AppError::NotFound);
    }
    let mut c = base_context(user.ctx(), "/safety/new");
    c.insert("everyone", &everyone);
    c.insert(
        "rooms",
        &rooms
            .iter()
            .map(|r| serde_json::json!({ "slug": r.slug, "name": r.name }))
            .collect::<Vec<_>>(),
    );
    c.insert(
        "form",
        &serde_json::json!({
            "scope": form.scope, "title": form.title, "message": form.message,
            "drill": form.drill.is_some(), "extra_kind": form.extra_kind,
            "extra_question": form.extra_question, "extra_choices": form.extra_choices,
            "remind_every": form.remind_every, "remind_max": form.remind_max,
        }),
    );
    let status = match errors {
        Some(e) => {
            insert_errors(&mut c, e);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        None => StatusCode::OK,
    };
    page(state, "safety/new.html", &c, status)
}

/// `GET /safety/new`.
pub async fn new_check(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let form = StartForm {
        title: crate::i18n::t(user.ctx().lang, "safety.default_title", &[]),
        remind_every: "30".into(),
        remind_max: "3".into(),
        ..StartForm::default()
    };
    start_page(&state, &user, &form, None).await
}

/// `POST /safety`.
pub async fn start_check(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<StartForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (actor, core, f) = (user.actor(), state.core.clone(), form.clone());
    match state
        .core
        .db
        .write(move |conn| safety::start(&core, conn, &actor, &f))
        .await
    {
        Ok(id) => Ok(redirect_with_flash(
            &state,
            &format!("/safety/{id}"),
            "flash.safety_started",
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            start_page(&state, &user, &form, Some(&errors)).await
        }
    }
}

/// `GET /safety/{id}`: the dashboard (a recipient without it is sent to their answer form).
pub async fn show_check(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = user.actor();
    let board = state
        .core
        .db
        .read(move |conn| match safety::dashboard(conn, &actor, id) {
            Err(AppError::NotFound)
                if crate::services::notices::is_recipient(conn, id, actor.id)? =>
            {
                Ok(None)
            }
            other => other.map(Some),
        })
        .await?;
    let Some(board) = board else {
        return Ok(crate::web::render::redirect(&format!(
            "/safety/{id}/answer"
        )));
    };
    let mut c = base_context(user.ctx(), &format!("/safety/{id}"));
    c.insert("check", &dashboard_view(&board, &user.ctx().site));
    ok(&state, "safety/dashboard.html", &c)
}

/// `GET /safety/{id}/export.csv`.
pub async fn export_csv(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (actor, site) = (user.actor(), user.ctx().site.clone());
    let (_, csv) = state
        .core
        .db
        .read(move |conn| safety::csv(conn, &actor, id, &site))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"safety-{id}.csv\""),
        ))
        .body(csv))
}

/// The answer fields (repeated keys allowed, for multiple-choice questions).
type Fields = web::Form<Vec<(String, String)>>;

/// `GET /safety/{id}/answer`: the answer form of a logged-in recipient.
pub async fn answer_form(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = user.actor();
    let page_data = state
        .core
        .db
        .read(move |conn| safety::open_as_member(conn, &actor, id))
        .await?;
    let mut c = base_context(user.ctx(), &format!("/safety/{id}/answer"));
    c.insert(
        "answer",
        &answer_view(&page_data, &format!("/safety/{id}/answer")),
    );
    ok(&state, "safety/answer.html", &c)
}

/// `POST /safety/{id}/answer`.
pub async fn answer(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    fields: Fields,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (actor, f) = (user.actor(), fields.into_inner());
    state
        .core
        .db
        .write(move |conn| safety::answer_as_member(conn, &actor, id, &f))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/safety/{id}/answer"),
        "flash.safety_answered",
    ))
}

/// `POST /safety/{id}/proxy/{login}`: a proxy answer (代理回答) from the dashboard.
pub async fn proxy_answer(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(i64, String)>,
    fields: Fields,
) -> Result<HttpResponse, AppError> {
    let (id, login) = path.into_inner();
    let (actor, f) = (user.actor(), fields.into_inner());
    state
        .core
        .db
        .write(move |conn| safety::proxy_answer(conn, &actor, id, &login, &f))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/safety/{id}"),
        "flash.safety_proxy",
    ))
}

/// `POST /safety/{id}/remind`.
pub async fn remind(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (actor, core) = (user.actor(), state.core.clone());
    state
        .core
        .db
        .write(move |conn| crate::services::notices::remind_now(&core, conn, &actor, id, "safety"))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/safety/{id}"),
        "flash.reminded",
    ))
}

/// `POST /safety/{id}/close`.
pub async fn close(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = user.actor();
    state
        .core
        .db
        .write(move |conn| crate::services::notices::close(conn, &actor, id, "safety"))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/safety/{id}"),
        "flash.safety_closed",
    ))
}

fn link_page(
    state: &AppState,
    ctx: &Ctx,
    token: &str,
    found: &Result<safety::AnswerPage, AppError>,
    done: bool,
    errors: Option<&FieldErrors>,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(ctx, "/a/");
    let status = match found {
        Ok(p) => {
            c.insert("answer", &answer_view(p, &format!("/a/{token}")));
            match errors {
                Some(e) => {
                    insert_errors(&mut c, e);
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                None => StatusCode::OK,
            }
        }
        Err(AppError::Conflict(key)) => {
            c.insert("answer", &None::<()>);
            c.insert("problem", key);
            if *key == "safety.closed" {
                StatusCode::GONE
            } else {
                StatusCode::CONFLICT
            }
        }
        Err(AppError::NotFound) => {
            c.insert("answer", &None::<()>);
            c.insert("problem", "safety.bad_link");
            StatusCode::NOT_FOUND
        }
        Err(e) => return Err(AppError::Internal(anyhow::anyhow!("{e}"))),
    };
    c.insert("done", &done);
    page(state, "safety/link.html", &c, status)
}

/// The logged-in account looking at a personal link, if any.
fn viewer_of(ctx: &Ctx) -> Option<i64> {
    ctx.session.as_ref().map(|s| s.user.id)
}

/// `GET /a/{token}`: the personal answer page (no login; a few kilobytes, no script).
pub async fn link_form(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (t, viewer) = (token.clone(), viewer_of(&ctx));
    let found = state
        .core
        .db
        .read(move |conn| safety::open_by_token(conn, &t, viewer))
        .await;
    link_page(&state, &ctx, &token, &found, false, None)
}

/// `POST /a/{token}`: records the answer and shows the same page with a confirmation.
pub async fn link_answer(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
    fields: Fields,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (t, f, viewer) = (token.clone(), fields.into_inner(), viewer_of(&ctx));
    // Group commit: many answers share one write transaction (and one fsync); the reply comes
    // after it committed.
    let result = state
        .core
        .answers
        .answer(&state.core.db, t, viewer, f)
        .await;
    match result {
        Ok(p) => link_page(&state, &ctx, &token, &Ok(p), true, None),
        Err(AppError::Invalid(errors)) => {
            let (t, viewer) = (token.clone(), viewer_of(&ctx));
            let found = state
                .core
                .db
                .read(move |conn| safety::open_by_token(conn, &t, viewer))
                .await;
            link_page(&state, &ctx, &token, &found, false, Some(&errors))
        }
        Err(e) => link_page(&state, &ctx, &token, &Err(e), false, None),
    }
}

/// The officer toggle on a room's members page.
#[derive(Debug, serde::Deserialize)]
pub struct OfficerForm {
    /// `on` or `off`.
    #[serde(default)]
    officer: String,
}

/// `POST /rooms/{room}/officers/{login}`.
pub async fn set_officer(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    form: web::Form<OfficerForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, login) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let on = form.officer == "on";
    let (actor, s) = (user.actor(), slug.clone());
    state
        .core
        .db
        .write(move |conn| safety::set_officer(conn, &actor, &s, &login, on))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/members"),
        "flash.member_updated",
    ))
}
