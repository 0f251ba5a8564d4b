//! Safety checks (安否確認): the list, starting a check, the dashboard (proxy answers, reminders,
//! close, CSV), the logged-in answer form, and the personal link `/a/{token}` that answers without a
//! login on a tiny page made for congested phone networks.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::services::form::{self, FormOutcome};
use crate::services::safety::{self, AnswerPage, StartForm};
use crate::web::AppState;
use crate::web::extract::{Ctx, CurrentUser, room_slug};
use crate::web::render::{self, redirect, redirect_with_flash};
use crate::web::views::safety::{
    AnswerFormPage, AnswerLinkPage, DashboardPage, SafetyListPage, StartCheckPage, answer_view,
    dashboard_view,
};
use crate::web::views::{ConfirmPage, Errors, HiddenField, Layout};

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
    let layout = Layout::new(user.ctx(), "/safety");
    render::ok(
        &state,
        &SafetyListPage::new(layout, &user.ctx().site, &list),
    )
}

/// `GET /safety/new`.
pub async fn new_check(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let options = state
        .core
        .db
        .read(move |conn| safety::start_options(conn, &actor))
        .await?;
    let form = StartForm {
        title: i18n::t(user.ctx().lang, "safety.default_title", &[]),
        remind_every: "30".into(),
        remind_max: "3".into(),
        ..StartForm::default()
    };
    let layout = Layout::new(user.ctx(), "/safety/new");
    let page = StartCheckPage::new(layout, &options, &form, Errors::default());
    render::ok(&state, &page)
}

/// `POST /safety`.
pub async fn start_check(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<StartForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (actor, core, f) = (user.actor(), state.core.clone(), form.clone());
    let real = form.drill.is_none();
    match form.confirmed.as_deref() {
        Some("yes") => {}
        // Back from the confirmation page: the form again, as it was typed.
        Some("edit") => {
            let options = state
                .core
                .db
                .read(move |conn| safety::start_options(conn, &actor))
                .await?;
            let layout = Layout::new(user.ctx(), "/safety/new");
            let page = StartCheckPage::new(layout, &options, &form, Errors::default());
            return render::ok(&state, &page);
        }
        // A real check mails everyone in its scope at once: say so, and start it only when asked
        // again (a drill starts at once).
        _ if real => {
            let outcome = state
                .core
                .db
                .read(move |conn| {
                    form::submit(
                        conn,
                        |conn| safety::preview_start(conn, &actor, &f),
                        |conn| safety::start_options(conn, &actor),
                    )
                })
                .await?;
            return match outcome {
                FormOutcome::Saved(preview) => {
                    let layout = Layout::new(user.ctx(), "/safety/new");
                    render::ok(
                        &state,
                        &confirm_start(layout, user.ctx().lang, &form, &preview),
                    )
                }
                FormOutcome::Invalid { errors, page } => {
                    let layout = Layout::new(user.ctx(), "/safety/new");
                    let page = StartCheckPage::new(layout, &page, &form, errors.into());
                    render::invalid(&state, &page)
                }
            };
        }
        _ => {}
    }
    let (actor, f) = (user.actor(), form.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| safety::start(&core, conn, &actor, &f),
                |conn| safety::start_options(conn, &actor),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(id) => Ok(redirect_with_flash(
            &state,
            &format!("/safety/{id}"),
            "flash.safety_started",
        )),
        FormOutcome::Invalid { errors, page } => {
            let layout = Layout::new(user.ctx(), "/safety/new");
            let page = StartCheckPage::new(layout, &page, &form, errors.into());
            render::invalid(&state, &page)
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
                if crate::services::notices::is_recipient(
                    conn,
                    crate::db::types::NoticeId(id),
                    crate::db::types::UserId(actor.id),
                )? =>
            {
                Ok(None)
            }
            other => other.map(Some),
        })
        .await?;
    let Some(board) = board else {
        return Ok(redirect(&format!("/safety/{id}/answer")));
    };
    let page = DashboardPage {
        layout: Layout::new(user.ctx(), &format!("/safety/{id}")),
        check: dashboard_view(&board, &user.ctx().site),
    };
    render::ok(&state, &page)
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
    let path = format!("/safety/{id}/answer");
    let page = AnswerFormPage {
        layout: Layout::new(user.ctx(), &path),
        answer: answer_view(&page_data, &path),
        errors: Errors::default(),
    };
    render::ok(&state, &page)
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
        .write(move |conn| {
            crate::services::notices::remind_now(
                &core,
                conn,
                &actor,
                id,
                crate::db::types::NoticeKind::Safety,
            )
        })
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
    form: web::Form<super::ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = user.actor();
    if !form.is_yes() {
        // Closing ends the answers for good: ask first, saying who has not answered.
        let (title, unanswered) = state
            .core
            .db
            .read(move |conn| {
                crate::services::notices::close_preview(
                    conn,
                    &actor,
                    id,
                    crate::db::types::NoticeKind::Safety,
                )
            })
            .await?;
        let lang = user.ctx().lang;
        let page = ConfirmPage {
            layout: Layout::new(user.ctx(), &format!("/safety/{id}")),
            heading: i18n::t(lang, "safety.confirm_close_heading", &[("title", &title)]),
            message: i18n::t(
                lang,
                "safety.confirm_close",
                &[("n", &unanswered.to_string())],
            ),
            action: format!("/safety/{id}/close"),
            fields: Vec::new(),
            confirm_label: i18n::t(lang, "safety.close_now", &[]),
            cancel_url: Some(format!("/safety/{id}")),
        };
        return render::ok(&state, &page);
    }
    let actor = user.actor();
    state
        .core
        .db
        .write(move |conn| {
            crate::services::notices::close(conn, &actor, id, crate::db::types::NoticeKind::Safety)
        })
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/safety/{id}"),
        "flash.safety_closed",
    ))
}

/// The personal link's page: the form (`Ok`, with `errors` of a refused answer), or why the link
/// cannot be used.
fn link_page(
    state: &AppState,
    ctx: &Ctx,
    token: &str,
    found: Result<AnswerPage, AppError>,
    done: bool,
    errors: Errors,
) -> Result<HttpResponse, AppError> {
    let (answer, problem, status) = match found {
        Ok(p) => {
            let status = if errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            (Some(answer_view(&p, &format!("/a/{token}"))), None, status)
        }
        Err(AppError::Conflict(key)) => (None, Some(key), StatusCode::CONFLICT),
        Err(AppError::Gone(key)) => (None, Some(key), StatusCode::GONE),
        Err(AppError::NotFound) => (None, Some("safety.bad_link"), StatusCode::NOT_FOUND),
        Err(e) => return Err(AppError::Internal(anyhow::anyhow!("{e}"))),
    };
    let page = AnswerLinkPage {
        layout: Layout::new(ctx, "/a/"),
        answer,
        problem,
        done,
        errors,
    };
    render::with_status(state, &page, status)
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
    link_page(&state, &ctx, &token, found, false, Errors::default())
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
    let answered = state
        .core
        .answers
        .answer(&state.core.db, t, viewer, f)
        .await;
    match answered {
        Ok(FormOutcome::Saved(p)) => {
            link_page(&state, &ctx, &token, Ok(p), true, Errors::default())
        }
        Ok(FormOutcome::Invalid { errors, page }) => {
            link_page(&state, &ctx, &token, Ok(page), false, errors.into())
        }
        Err(e) => link_page(&state, &ctx, &token, Err(e), false, Errors::default()),
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

/// The page that asks before a real check goes out, with the form's values to send again.
fn confirm_start(
    layout: Layout,
    lang: Lang,
    form: &StartForm,
    preview: &safety::StartPreview,
) -> ConfirmPage {
    let n = preview.recipients.to_string();
    let message = match &preview.room_name {
        Some(room) => i18n::t(lang, "safety.confirm_room", &[("room", room), ("n", &n)]),
        None => i18n::t(lang, "safety.confirm_everyone", &[("n", &n)]),
    };
    let field = |name: &str, value: &str| HiddenField {
        name: name.to_owned(),
        value: value.to_owned(),
    };
    ConfirmPage {
        layout,
        heading: i18n::t(
            lang,
            "safety.confirm_heading",
            &[("title", form.title.trim())],
        ),
        message,
        action: "/safety".to_owned(),
        fields: vec![
            field("scope", &form.scope),
            field("title", &form.title),
            field("message", &form.message),
            field("extra_kind", &form.extra_kind),
            field("extra_question", &form.extra_question),
            field("extra_choices", &form.extra_choices),
            field("remind_every", &form.remind_every),
            field("remind_max", &form.remind_max),
        ],
        confirm_label: i18n::t(lang, "safety.confirm_start", &[]),
        cancel_url: None,
    }
}
