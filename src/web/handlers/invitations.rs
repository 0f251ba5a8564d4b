//! Invitation links: a manager invites by email; the link joins a logged-in account, asks an existing
//! account to log in first, or lets someone without an account create one.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::services::auth::SESSION_DAYS;
use crate::services::form::{self, FormOutcome};
use crate::services::invitations::{self, InviteCheck, SignupForm};
use crate::services::rooms;
use crate::web::AppState;
use crate::web::cookies::{cookie_names, make_cookie};
use crate::web::extract::{Ctx, CurrentUser, room_slug};
use crate::web::handlers::rooms::members_page_invalid;
use crate::web::render::{self, keep_token_private, redirect_with_flash};
use crate::web::views::rooms::{InvitePage, SignupView};
use crate::web::views::{Errors, Layout};

/// The invite form on a room's members page.
#[derive(Debug, serde::Deserialize)]
pub struct InviteForm {
    email: String,
    role: String,
}

/// `POST /rooms/{room}/invitations`.
pub async fn invite(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    form: web::Form<InviteForm>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let (actor, core, s, f) = (
        user.actor(),
        state.core.clone(),
        slug.clone(),
        form.into_inner(),
    );
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| invitations::invite(&core, conn, &actor, &s, &f.email, &f.role),
                |conn| rooms::members_page(conn, &actor, &s),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(()) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/members"),
            "flash.invitation_sent",
        )),
        FormOutcome::Invalid { errors, page } => members_page_invalid(&state, &user, &page, errors),
    }
}

/// The invitation's page, with a signup form's values and errors; its URL carries the token.
fn invite_page(
    state: &AppState,
    ctx: &Ctx,
    token: String,
    check: &InviteCheck,
    form: SignupView,
    errors: Errors,
) -> Result<HttpResponse, AppError> {
    let status = match (check, errors.is_empty()) {
        (InviteCheck::Open { .. }, true) => StatusCode::OK,
        (InviteCheck::Open { .. }, false) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::GONE,
    };
    let layout = Layout::with_form_token(ctx, "/invite");
    let logged_in = ctx.session.is_some();
    let page = InvitePage::new(layout, logged_in, token, check, form, errors);
    Ok(keep_token_private(render::with_status(
        state, &page, status,
    )?))
}

/// `GET /invite/{token}`.
pub async fn show_invitation(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (actor, t) = (ctx.actor(), token.clone());
    let check = state
        .core
        .db
        .read(move |conn| invitations::check_link(conn, actor.as_ref(), &t))
        .await?;
    invite_page(
        &state,
        &ctx,
        token,
        &check,
        SignupView::default(),
        Errors::default(),
    )
}

/// `POST /invite/{token}`: the logged-in account joins.
pub async fn accept_invitation(
    state: web::Data<AppState>,
    user: CurrentUser,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let (actor, token) = (user.actor(), token.into_inner());
    let slug = state
        .core
        .db
        .write(move |conn| invitations::accept(conn, &actor, &token))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}"),
        "flash.room_joined",
    ))
}

/// `POST /invite/{token}/signup`: a new account for the invited address, in the room, logged in.
pub async fn signup_invitation(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
    form: web::Form<SignupForm>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let form = form.into_inner();
    let typed = SignupView {
        login: form.login.clone(),
        display_name: form.display_name.clone(),
    };
    match invitations::signup(&state.core, ctx.actor(), token.clone(), form).await? {
        FormOutcome::Saved((session, slug)) => {
            let https = state.core.config.is_https();
            let mut res =
                redirect_with_flash(&state, &format!("/rooms/{slug}"), "flash.room_joined");
            let cookie = make_cookie(
                cookie_names(https).session,
                session,
                https,
                Some(CookieDuration::days(SESSION_DAYS)),
            );
            res.add_cookie(&cookie)
                .map_err(|e| AppError::Internal(e.into()))?;
            Ok(res)
        }
        FormOutcome::Invalid { errors, page } => {
            invite_page(&state, &ctx, token, &page, typed, errors.into())
        }
    }
}
