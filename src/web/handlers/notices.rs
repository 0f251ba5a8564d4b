//! Circular notices (回覧板): sending one to a room, the recipients' list and page (reading marks it
//! read; answering its question), and the sender's status table with reminders, CSV and closing.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::services::notices::{self, CircularForm};
use crate::services::rooms;
use crate::web::AppState;
use crate::web::extract::{CurrentUser, room_slug};
use crate::web::render::{base_context, insert_errors, invalid_or, ok, page, redirect_with_flash};
use crate::web::views::notices::{circular_item, circular_view};
use crate::web::views::rooms::room_item;

/// `GET /notices`.
pub async fn list_notices(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let (received, sent) = state
        .core
        .db
        .read(move |conn| notices::my_circulars(conn, &actor))
        .await?;
    let site = &user.ctx().site;
    let mut c = base_context(user.ctx(), "/notices");
    c.insert(
        "received",
        &received
            .iter()
            .map(|(n, r)| circular_item(n, Some(r), site))
            .collect::<Vec<_>>(),
    );
    c.insert(
        "sent",
        &sent
            .iter()
            .map(|n| circular_item(n, None, site))
            .collect::<Vec<_>>(),
    );
    ok(&state, "notices/index.html", &c)
}

async fn form_page(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
    form: &CircularForm,
    errors: Option<&FieldErrors>,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let ctx = state
        .core
        .db
        .read(move |conn| {
            rooms::load_for(
                conn,
                Some(&actor),
                &slug,
                crate::services::authz::RoomAction::SendNotice,
            )
        })
        .await?;
    let mut c = base_context(user.ctx(), &format!("/rooms/{}/notices/new", ctx.room.slug));
    c.insert("room", &room_item(&ctx.room, ctx.access.role));
    c.insert(
        "form",
        &serde_json::json!({
            "title": form.title, "body": form.body, "question_kind": form.question_kind,
            "question": form.question, "choices": form.choices, "deadline": form.deadline,
            "to": form.to, "remind_every": form.remind_every, "remind_max": form.remind_max,
        }),
    );
    let status = match errors {
        Some(e) => {
            insert_errors(&mut c, e);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        None => StatusCode::OK,
    };
    page(state, "notices/new.html", &c, status)
}

/// `GET /rooms/{room}/notices/new`.
pub async fn new_notice(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    form_page(&state, &user, slug, &CircularForm::default(), None).await
}

/// `POST /rooms/{room}/notices`.
pub async fn send_notice(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    form: web::Form<CircularForm>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let form = form.into_inner();
    let (actor, core, site, s, f) = (
        user.actor(),
        state.core.clone(),
        user.ctx().site.clone(),
        slug.clone(),
        form.clone(),
    );
    match state
        .core
        .db
        .write(move |conn| notices::send_circular(&core, conn, &actor, &s, &f, &site))
        .await
    {
        Ok(id) => Ok(redirect_with_flash(
            &state,
            &format!("/notices/{id}"),
            "flash.notice_sent",
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            form_page(&state, &user, slug, &form, Some(&errors)).await
        }
    }
}

/// `GET /notices/{id}` (opening it marks it read).
pub async fn show_notice(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = user.actor();
    let view = state
        .core
        .db
        .write(move |conn| notices::open_circular(conn, &actor, id))
        .await?;
    let mut c = base_context(user.ctx(), &format!("/notices/{id}"));
    c.insert("notice", &circular_view(&view, &user.ctx().site));
    ok(&state, "notices/show.html", &c)
}

/// `POST /notices/{id}/answer`.
pub async fn answer_notice(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    fields: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (actor, f) = (user.actor(), fields.into_inner());
    state
        .core
        .db
        .write(move |conn| notices::answer_circular(conn, &actor, id, &f))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/notices/{id}"),
        "flash.notice_answered",
    ))
}

/// `POST /notices/{id}/remind`.
pub async fn remind_notice(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (actor, core) = (user.actor(), state.core.clone());
    state
        .core
        .db
        .write(move |conn| notices::remind_now(&core, conn, &actor, id, "circular"))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/notices/{id}"),
        "flash.reminded",
    ))
}

/// `POST /notices/{id}/close`.
pub async fn close_notice(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = user.actor();
    state
        .core
        .db
        .write(move |conn| notices::close(conn, &actor, id, "circular"))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/notices/{id}"),
        "flash.notice_closed",
    ))
}

/// `GET /notices/{id}/export.csv`.
pub async fn export_notice(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let (actor, site) = (user.actor(), user.ctx().site.clone());
    let (_, csv) = state
        .core
        .db
        .read(move |conn| notices::circular_csv(conn, &actor, id, &site))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"notice-{id}.csv\""),
        ))
        .body(csv))
}
