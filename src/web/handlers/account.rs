//! The profile page `/me` (display name, email, language, password, other sessions) and the link
//! that confirms a new email.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::services::account::{
    self, EmailLinkProblem, FromSession, PasswordForm, ProfileForm, ProfileSaved,
};
use crate::services::app_passwords::{self, NewAppPasswordForm};
use crate::services::form::FormOutcome;
use crate::services::{auth, pictures, rooms};
use crate::web::AppState;
use crate::web::extract::{Ctx, CurrentUser};
use crate::web::render::{self, keep_token_private, redirect, redirect_with_flash};
use crate::web::views::account::{
    AppPasswordRow, EmailConfirmPage, NewAppPasswordView, ProfileFormView, ProfilePage,
    ZoneGroupView,
};
use crate::web::views::{Errors, Layout};

/// The profile page with the member's app passwords (read here: every form of `/me` renders it).
async fn profile_page(
    state: &AppState,
    user: &CurrentUser,
    form: ProfileFormView,
    errors: Errors,
) -> Result<ProfilePage, AppError> {
    let u = user.user().clone();
    let items = state
        .core
        .db
        .read(move |conn| app_passwords::list(conn, &u))
        .await?;
    let layout = Layout::new(user.ctx(), "/me");
    let (picture, initial) = layout
        .user
        .as_ref()
        .map(|u| (u.picture.clone(), u.initial.clone()))
        .unwrap_or_default();
    Ok(ProfilePage {
        layout,
        picture,
        initial,
        picture_max_mb: pictures::MAX_UPLOAD_BYTES / (1024 * 1024),
        form,
        login: user.user().login.clone(),
        private_rooms: user.ctx().site.private_rooms,
        errors,
        app_passwords: AppPasswordRow::list(items, &user.ctx().site),
        new_app_password: None,
        app_name: String::new(),
        dav_url: format!("{}/dav/", state.core.config.base_url()),
        subsonic_url: state.core.config.base_url(),
        site_zone: user.ctx().site.timezone.name().to_owned(),
        zone_groups: ZoneGroupView::all(),
    })
}

/// The profile form as the account stands.
fn saved_profile(user: &CurrentUser) -> ProfileFormView {
    let u = user.user();
    ProfileFormView {
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        language: u.language.clone().unwrap_or_default(),
        timezone: u.timezone.clone().unwrap_or_default(),
    }
}

fn from_session(user: &CurrentUser) -> FromSession {
    FromSession {
        token_hash: user.session().token_hash.clone(),
        ip_key: user.ctx().ip_key(),
    }
}

/// `GET /me`.
pub async fn show_profile(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let page = profile_page(&state, &user, saved_profile(&user), Errors::default()).await?;
    render::ok(&state, &page)
}

/// `POST /me`: name, language and time zone save at once; a new email waits for its confirmation link.
pub async fn update_profile(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let typed = ProfileFormView::from(&form);
    let saved = account::update_profile(&state.core, user.user(), from_session(&user), form).await;
    match FormOutcome::of(saved, ())? {
        FormOutcome::Saved(saved) => {
            let flash = match saved {
                ProfileSaved::Saved => "flash.saved",
                ProfileSaved::EmailConfirmationSent => "flash.email_change_sent",
            };
            let mut res = redirect_with_flash(&state, "/me", flash);
            // The profile language is the new choice: forget an older per-device switch.
            res.add_cookie(&crate::web::lang::forget(state.core.config.is_https()))
                .map_err(|e| AppError::Internal(e.into()))?;
            Ok(res)
        }
        FormOutcome::Invalid { errors, .. } => render::invalid(
            &state,
            &profile_page(&state, &user, typed, errors.into()).await?,
        ),
    }
}

/// `POST /me/password`.
pub async fn change_password(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, AppError> {
    let changed = account::change_password(
        &state.core,
        user.user(),
        from_session(&user),
        form.into_inner(),
    )
    .await;
    match FormOutcome::of(changed, ())? {
        FormOutcome::Saved(()) => Ok(redirect_with_flash(&state, "/me", "flash.password_changed")),
        FormOutcome::Invalid { errors, .. } => {
            let page = profile_page(&state, &user, saved_profile(&user), errors.into()).await?;
            render::invalid(&state, &page)
        }
    }
}

/// `POST /me/app-passwords`: makes an app password (the current password is needed) and shows
/// its secret on this one page (never stored, never shown again).
pub async fn create_app_password(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<NewAppPasswordForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let name = form.name.clone();
    let made = app_passwords::create(&state.core, user.user(), user.ctx().ip_key(), form).await;
    match FormOutcome::of(made, ())? {
        FormOutcome::Saved(made) => {
            let mut page =
                profile_page(&state, &user, saved_profile(&user), Errors::default()).await?;
            page.new_app_password = Some(NewAppPasswordView {
                name: made.name,
                secret: made.secret,
            });
            render::ok(&state, &page)
        }
        FormOutcome::Invalid { errors, .. } => {
            let mut page = profile_page(&state, &user, saved_profile(&user), errors.into()).await?;
            page.app_name = name;
            render::invalid(&state, &page)
        }
    }
}

/// `POST /me/app-passwords/{id}/revoke`: refused from the next request on.
pub async fn revoke_app_password(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (u, id) = (user.user().clone(), id.into_inner());
    state
        .core
        .db
        .write(move |conn| app_passwords::revoke(conn, &u, id))
        .await?;
    Ok(redirect_with_flash(
        &state,
        "/me",
        "flash.app_password_revoked",
    ))
}

/// The page of an email-change link: what it does (`Ok(address)`) or why it cannot.
fn email_link_page(
    state: &AppState,
    ctx: &Ctx,
    token: String,
    outcome: Result<String, EmailLinkProblem>,
    done: bool,
) -> Result<HttpResponse, AppError> {
    let status = match &outcome {
        Ok(_) => StatusCode::OK,
        Err(EmailLinkProblem::Invalid) => StatusCode::NOT_FOUND,
        Err(EmailLinkProblem::Expired | EmailLinkProblem::Used) => StatusCode::GONE,
        Err(EmailLinkProblem::OtherAccount | EmailLinkProblem::Taken) => StatusCode::CONFLICT,
    };
    let page = EmailConfirmPage {
        layout: Layout::with_form_token(ctx, "/email/confirm"),
        token,
        done,
        problem: outcome.as_ref().err().map(|p| p.message_key()),
        address: outcome.unwrap_or_default(),
    };
    Ok(keep_token_private(render::with_status(
        state, &page, status,
    )?))
}

/// `GET /email/confirm/{token}`: says which address the link makes the account's email, with a
/// button (a mail scanner that follows links changes nothing).
pub async fn show_email_change(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (actor, t) = (ctx.actor(), token.clone());
    let outcome = state
        .core
        .db
        .read(move |conn| account::check_email_link(conn, actor.as_ref(), &t))
        .await?;
    email_link_page(&state, &ctx, token, outcome, false)
}

/// `POST /email/confirm/{token}`: makes the new address the account's email; works without a login.
pub async fn confirm_email_change(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (actor, t) = (ctx.actor(), token.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| account::confirm_email_change(conn, actor.as_ref(), &t))
        .await?;
    email_link_page(&state, &ctx, token, outcome, true)
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
        .write(move |conn| rooms::private_room(conn, &actor, &name, allowed))
        .await?;
    Ok(redirect(&format!("/rooms/{slug}")))
}

/// At most this many bytes of a picture upload are read (and dropped) past the limit before the
/// request is refused outright: a browser shows the form's error only once its body was taken.
const PICTURE_DRAIN_LIMIT: usize = 4 * pictures::MAX_UPLOAD_BYTES;

/// The `picture` field of the upload form: its bytes up to the limit, or `TooLarge`.
async fn picture_field(
    form: &mut actix_multipart::Multipart,
) -> Result<pictures::Upload, AppError> {
    use futures_util::StreamExt as _;
    let broken = || AppError::Invalid(crate::error::FieldErrors::default());
    let (mut bytes, mut seen, mut too_large) = (Vec::new(), 0usize, false);
    while let Some(field) = form.next().await {
        let mut field = field.map_err(|_| broken())?;
        let ours = field.name() == Some("picture");
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| broken())?;
            seen += chunk.len();
            if seen > PICTURE_DRAIN_LIMIT {
                return Err(AppError::PayloadTooLarge);
            }
            if !ours || too_large {
                continue;
            }
            if bytes.len() + chunk.len() > pictures::MAX_UPLOAD_BYTES {
                too_large = true;
                bytes = Vec::new();
            } else {
                bytes.extend_from_slice(&chunk);
            }
        }
    }
    Ok(if too_large {
        pictures::Upload::TooLarge
    } else {
        pictures::Upload::Bytes(bytes)
    })
}

/// `POST /me/picture` (multipart, the CSRF token in the action URL's query): the session's own
/// member's new profile picture; a refused file leaves the old picture and shows why (422).
pub async fn upload_picture(
    state: web::Data<AppState>,
    user: CurrentUser,
    mut form: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    let upload = picture_field(&mut form).await?;
    let saved = pictures::set_picture(&state.core, &user.actor(), upload).await;
    match FormOutcome::of(saved, ())? {
        FormOutcome::Saved(()) => Ok(redirect_with_flash(&state, "/me", "flash.picture_saved")),
        FormOutcome::Invalid { errors, .. } => {
            let page = profile_page(&state, &user, saved_profile(&user), errors.into()).await?;
            render::invalid(&state, &page)
        }
    }
}

/// `POST /me/picture/delete`: the session's own member goes back to the placeholder.
pub async fn remove_picture(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    state
        .core
        .db
        .write(move |conn| pictures::remove_picture(conn, &actor))
        .await?;
    Ok(redirect_with_flash(&state, "/me", "flash.picture_removed"))
}
