//! Circular notices (回覧板): sending one to a room, the recipients' list and page (reading marks it
//! read; answering its question), and the sender's status table with reminders, CSV and closing.

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::services::circulars::{self, CircularForm};
use crate::services::form::{self, FormOutcome};
use crate::services::notices;
use crate::web::AppState;
use crate::web::extract::{CurrentUser, room_slug};
use crate::web::render::{self, redirect_with_flash};
use crate::web::views::notices::{
    NoticeFormPage, NoticePage, NoticesPage, circular_item, circular_view,
};
use crate::web::views::{Errors, Layout};

/// `GET /notices`.
pub async fn list_notices(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let (received, sent) = state
        .core
        .db
        .read(move |conn| circulars::my_circulars(conn, &actor))
        .await?;
    let site = &user.ctx().site;
    let page = NoticesPage {
        layout: Layout::new(user.ctx(), "/notices"),
        received: received
            .iter()
            .map(|(n, r)| circular_item(n, Some(r), site))
            .collect(),
        sent: sent.iter().map(|n| circular_item(n, None, site)).collect(),
    };
    render::ok(&state, &page)
}

/// The notice form of `ctx`'s room.
fn form_page(
    user: &CurrentUser,
    new: &circulars::NewCircular,
    form: &CircularForm,
    errors: Errors,
) -> NoticeFormPage {
    let layout = Layout::new(
        user.ctx(),
        &format!("/rooms/{}/notices/new", new.ctx.room.slug),
    );
    NoticeFormPage::new(layout, new, form, errors)
}

/// `GET /rooms/{room}/notices/new`.
pub async fn new_notice(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let new = state
        .core
        .db
        .read(move |conn| circulars::room_for_new_circular(conn, &actor, &slug))
        .await?;
    let page = form_page(&user, &new, &CircularForm::default(), Errors::default());
    render::ok(&state, &page)
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
    let (actor, core, site) = (user.actor(), state.core.clone(), user.ctx().site.clone());
    let (s, f) = (slug.clone(), form.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| circulars::send_circular(&core, conn, &actor, &s, &f, &site),
                |conn| circulars::room_for_new_circular(conn, &actor, &s),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(id) => Ok(redirect_with_flash(
            &state,
            &format!("/notices/{id}"),
            "flash.notice_sent",
        )),
        FormOutcome::Invalid { errors, page } => {
            render::invalid(&state, &form_page(&user, &page, &form, errors.into()))
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
        .write(move |conn| circulars::open_circular(conn, &actor, id))
        .await?;
    let page = NoticePage {
        layout: Layout::new(user.ctx(), &format!("/notices/{id}")),
        notice: circular_view(&view, &user.ctx().site),
    };
    render::ok(&state, &page)
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
        .write(move |conn| circulars::answer_circular(conn, &actor, id, &f))
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
        .write(move |conn| {
            notices::remind_now(
                &core,
                conn,
                &actor,
                id,
                crate::db::types::NoticeKind::Circular,
            )
        })
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
        .write(move |conn| notices::close(conn, &actor, id, crate::db::types::NoticeKind::Circular))
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
        .read(move |conn| circulars::circular_csv(conn, &actor, id, &site))
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"notice-{id}.csv\""),
        ))
        .body(csv))
}
