//! The profile page `/me`: display name, email, language, password, other sessions.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::services::account::{self, PasswordForm, ProfileForm};
use crate::services::auth;
use crate::web::AppState;
use crate::web::extract::CurrentUser;
use crate::web::render::{base_context, insert_errors, invalid_or, page, redirect_with_flash};

fn profile_page(
    state: &AppState,
    user: &CurrentUser,
    form: &ProfileForm,
    errors: Option<&FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(user.ctx(), "/me");
    c.insert(
        "form",
        &serde_json::json!({
            "display_name": form.display_name,
            "email": form.email,
            "language": form.language,
        }),
    );
    c.insert("login", &user.user().login);
    c.insert("private_rooms", &user.ctx().site.private_rooms);
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    page(state, "account/me.html", &c, status)
}

/// `GET /me`.
pub async fn show_profile(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let u = user.user();
    let form = ProfileForm {
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        language: u.language.clone().unwrap_or_default(),
    };
    profile_page(&state, &user, &form, None, StatusCode::OK)
}

/// `POST /me`.
pub async fn update_profile(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let id = user.user().id;
    let f = form.clone();
    match state
        .core
        .db
        .write(move |conn| account::update_profile(conn, id, &f))
        .await
    {
        Ok(()) => {
            let mut res = redirect_with_flash(&state, "/me", "flash.saved");
            // The profile language is the new choice: forget an older per-device switch.
            let https = state.core.config.is_https();
            let gone = crate::web::context::make_cookie(
                "yui_lang",
                String::new(),
                https,
                Some(actix_web::cookie::time::Duration::ZERO),
            );
            res.add_cookie(&gone)
                .map_err(|e| AppError::Internal(e.into()))?;
            Ok(res)
        }
        Err(e) => {
            let errors = invalid_or(e)?;
            profile_page(
                &state,
                &user,
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// `POST /me/password`.
pub async fn change_password(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let keep = user.session().token_hash.clone();
    match account::change_password(&state.core, user.user(), keep, form.into_inner()).await {
        Ok(()) => Ok(redirect_with_flash(&state, "/me", "flash.password_changed")),
        Err(e) => {
            let errors = invalid_or(e)?;
            let u = user.user();
            let form = ProfileForm {
                display_name: u.display_name.clone(),
                email: u.email.clone(),
                language: u.language.clone().unwrap_or_default(),
            };
            profile_page(
                &state,
                &user,
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// `POST /me/sessions/end`: logs out every other browser.
pub async fn end_other_sessions(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let id = user.user().id;
    let keep = user.session().token_hash.clone();
    state
        .core
        .db
        .write(move |conn| auth::logout_others(conn, id, &keep))
        .await?;
    Ok(redirect_with_flash(&state, "/me", "flash.sessions_ended"))
}

/// `GET /me/room`: the member's private room (created on first visit), when the site allows them.
pub async fn my_room(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let allowed = user.ctx().site.private_rooms;
    let name = crate::i18n::t(
        user.ctx().lang,
        "rooms.private_name",
        &[("name", &user.user().display_name)],
    );
    let actor = user.actor();
    let slug = state
        .core
        .db
        .write(move |conn| crate::services::rooms::private_room(conn, &actor, &name, allowed))
        .await?;
    Ok(crate::web::render::redirect(&format!("/rooms/{slug}")))
}
