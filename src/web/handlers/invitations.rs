//! Invitation links: a manager invites by email; the link joins a logged-in account, asks an existing
//! account to log in first, or lets someone without an account create one.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::services::auth::SESSION_DAYS;
use crate::services::invitations::{self, InviteCheck, SignupForm};
use crate::services::rooms;
use crate::web::AppState;
use crate::web::context::{cookie_names, make_cookie};
use crate::web::extract::{Ctx, CurrentUser};
use crate::web::render::{
    base_context, insert_errors, invalid_or, page, redirect_with_flash, with_form_token,
};

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
    let slug = slug.into_inner();
    if !rooms::valid_slug(&slug) {
        return Err(AppError::NotFound);
    }
    let (actor, core, s, form) = (
        user.actor(),
        state.core.clone(),
        slug.clone(),
        form.into_inner(),
    );
    match state
        .core
        .db
        .write(move |conn| invitations::invite(&core, conn, &actor, &s, &form.email, &form.role))
        .await
    {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/members"),
            "flash.invitation_sent",
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            super::rooms::members_page_with_errors(&state, &user, slug, &errors).await
        }
    }
}

fn invite_page(
    state: &AppState,
    ctx: &Ctx,
    token: &str,
    check: &InviteCheck,
    errors: Option<&FieldErrors>,
    form: Option<&SignupForm>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(ctx, "/invite");
    with_form_token(&mut c, ctx);
    c.insert("token", token);
    let (problem, room_name, role, email, account_exists) = match check {
        InviteCheck::Open {
            invitation,
            room_name,
            account_exists,
            ..
        } => (
            None,
            room_name.clone(),
            invitation.role.clone(),
            invitation.email.clone(),
            *account_exists,
        ),
        InviteCheck::Invalid => (
            Some("invite.invalid"),
            String::new(),
            String::new(),
            String::new(),
            false,
        ),
        InviteCheck::Expired => (
            Some("invite.expired"),
            String::new(),
            String::new(),
            String::new(),
            false,
        ),
        InviteCheck::Used => (
            Some("invite.used"),
            String::new(),
            String::new(),
            String::new(),
            false,
        ),
    };
    c.insert("problem", &problem);
    c.insert("room_name", &room_name);
    c.insert("role", &role);
    c.insert("email", &email);
    c.insert("account_exists", &account_exists);
    c.insert(
        "form",
        &serde_json::json!({
            "login": form.map(|f| f.login.clone()).unwrap_or_default(),
            "display_name": form.map(|f| f.display_name.clone()).unwrap_or_default(),
        }),
    );
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    let mut res = page(state, "rooms/invite.html", &c, status)?;
    // The token is in the URL: never pass it on in a Referer.
    res.headers_mut().insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    Ok(res)
}

/// `GET /invite/{token}`.
pub async fn show_invitation(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let t = token.clone();
    let check = state
        .core
        .db
        .read(move |conn| invitations::check(conn, &t, crate::models::now()))
        .await?;
    let status = if matches!(check, InviteCheck::Open { .. }) {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    invite_page(&state, &ctx, &token, &check, None, None, status)
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
    match invitations::signup(&state.core, token.clone(), form.clone()).await {
        Ok((session, slug)) => {
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
        Err(e) => {
            let errors = invalid_or(e)?;
            let t = token.clone();
            let check = state
                .core
                .db
                .read(move |conn| invitations::check(conn, &t, crate::models::now()))
                .await?;
            invite_page(
                &state,
                &ctx,
                &token,
                &check,
                Some(&errors),
                Some(&form),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}
