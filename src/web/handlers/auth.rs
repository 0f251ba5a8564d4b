//! Login, logout, first-run setup and password reset.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::services::auth::{self, LoginAttempt, SESSION_DAYS};
use crate::services::form::FormOutcome;
use crate::services::setup::{self, SetupForm, SetupLink};
use crate::web::AppState;
use crate::web::cookies::{cookie_names, make_cookie, removal};
use crate::web::extract::{Ctx, CurrentUser};
use crate::web::render::{self, keep_token_private, redirect_with_flash, safe_next};
use crate::web::views::auth::{
    LoginPage, ResetFormPage, ResetRequestPage, SetupFormView, SetupPage, reset_problem_key,
};
use crate::web::views::blog::FirstRunPage;
use crate::web::views::{Errors, Layout};

/// A redirect that also logs the browser in with the session `token`.
fn logged_in(
    state: &AppState,
    to: &str,
    flash: &'static str,
    token: String,
) -> Result<HttpResponse, AppError> {
    let https = state.core.config.is_https();
    let session = make_cookie(
        cookie_names(https).session,
        token,
        https,
        Some(CookieDuration::days(SESSION_DAYS)),
    );
    let mut res = redirect_with_flash(state, to, flash);
    res.add_cookie(&session)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

/// `?next=` on the login page.
#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// The login form.
#[derive(Debug, serde::Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    #[serde(default)]
    next: String,
}

fn login_page(ctx: &Ctx, name: String, next: &str, errors: Errors) -> LoginPage {
    LoginPage {
        layout: Layout::with_form_token(ctx, "/login"),
        name,
        next: safe_next(Some(next)),
        errors,
    }
}

/// `GET /login`.
pub async fn login_form(
    state: web::Data<AppState>,
    ctx: Ctx,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    // Members land on their home, not on the public blog.
    let next = q.next.as_deref().unwrap_or("/home");
    render::ok(
        &state,
        &login_page(&ctx, String::new(), next, Errors::default()),
    )
}

/// `POST /login`: checks the password, rotates the session, returns to `next` (same-site paths only).
pub async fn login(
    state: web::Data<AppState>,
    ctx: Ctx,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let LoginForm {
        name,
        password,
        next,
    } = form.into_inner();
    let attempt = LoginAttempt {
        name: name.clone(),
        password,
        ip_key: ctx.ip_key(),
        ip: ctx.ip.to_string(),
        previous_session: ctx.session.as_ref().map(|s| s.token_hash.clone()),
    };
    match FormOutcome::of(auth::login(&state.core, attempt).await, ())? {
        FormOutcome::Saved(token) => {
            logged_in(&state, &safe_next(Some(&next)), "flash.logged_in", token)
        }
        FormOutcome::Invalid { errors, .. } => {
            render::invalid(&state, &login_page(&ctx, name, &next, errors.into()))
        }
    }
}

/// `POST /logout`.
pub async fn logout(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let hash = user.session().token_hash.clone();
    state
        .core
        .db
        .write(move |conn| auth::logout(conn, &hash))
        .await?;
    let https = state.core.config.is_https();
    let mut res = redirect_with_flash(&state, "/", "flash.logged_out");
    res.add_cookie(&removal(cookie_names(https).session, https))
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

/// `?token=` of the setup link.
#[derive(Debug, serde::Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

/// `GET /setup?token=`: the first-admin form, only with the token `serve` printed.
pub async fn setup_form(
    state: web::Data<AppState>,
    ctx: Ctx,
    q: web::Query<SetupQuery>,
) -> Result<HttpResponse, AppError> {
    let token = q.into_inner().token;
    let t = token.clone();
    let link = state
        .core
        .db
        .read(move |conn| setup::check_link(conn, &t))
        .await?;
    let page = match link {
        SetupLink::Done => return Err(AppError::NotFound),
        SetupLink::Invalid => {
            let page = FirstRunPage {
                layout: Layout::new(&ctx, "/setup"),
                invalid_token: true,
            };
            return render::with_status(&state, &page, StatusCode::NOT_FOUND);
        }
        SetupLink::Valid => SetupPage {
            layout: Layout::with_form_token(&ctx, "/setup"),
            form: SetupFormView {
                token,
                site_title: ctx.site.title.clone(),
                language: ctx.lang.code().to_owned(),
                login: String::new(),
                email: String::new(),
                display_name: String::new(),
            },
            errors: Errors::default(),
        },
    };
    render::ok(&state, &page)
}

/// `POST /setup`: creates the first administrator and logs them in.
pub async fn setup(
    state: web::Data<AppState>,
    ctx: Ctx,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let shown = SetupFormView::from(&form);
    match FormOutcome::of(setup::complete(&state.core, form).await, ())? {
        FormOutcome::Saved(token) => logged_in(&state, "/admin", "flash.setup_done", token),
        FormOutcome::Invalid { errors, .. } => {
            let page = SetupPage {
                layout: Layout::with_form_token(&ctx, "/setup"),
                form: shown,
                errors: errors.into(),
            };
            render::invalid(&state, &page)
        }
    }
}

fn reset_request_page(ctx: &Ctx, sent: bool) -> ResetRequestPage {
    ResetRequestPage {
        layout: Layout::with_form_token(ctx, "/password/reset"),
        sent,
    }
}

/// `GET /password/reset`.
pub async fn reset_request_form(
    state: web::Data<AppState>,
    ctx: Ctx,
) -> Result<HttpResponse, AppError> {
    render::ok(&state, &reset_request_page(&ctx, false))
}

/// The reset request form.
#[derive(Debug, serde::Deserialize)]
pub struct ResetRequestForm {
    email: String,
}

/// `POST /password/reset`: the same answer whether or not the address is known.
pub async fn reset_request(
    state: web::Data<AppState>,
    ctx: Ctx,
    form: web::Form<ResetRequestForm>,
) -> Result<HttpResponse, AppError> {
    let email: String = form.into_inner().email.chars().take(254).collect();
    let (core, ip) = (state.core.clone(), ctx.ip.to_string());
    state
        .core
        .db
        .write(move |conn| auth::request_reset(&core, conn, &email, &ip))
        .await?;
    render::ok(&state, &reset_request_page(&ctx, true))
}

/// The reset form's page: the form (with `errors`), or why the link cannot be used (`problem`).
fn reset_page(
    state: &AppState,
    ctx: &Ctx,
    problem: Option<auth::ResetProblem>,
    errors: Errors,
) -> Result<HttpResponse, AppError> {
    let status = match (problem, errors.is_empty()) {
        (Some(_), _) => StatusCode::GONE,
        (None, true) => StatusCode::OK,
        (None, false) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let page = ResetFormPage {
        layout: Layout::with_form_token(ctx, "/password/reset"),
        problem: problem.map(reset_problem_key),
        errors,
    };
    Ok(keep_token_private(render::with_status(
        state, &page, status,
    )?))
}

/// `GET /password/reset/{token}`.
pub async fn reset_form(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let checked = state
        .core
        .db
        .read(move |conn| auth::check_reset_link(conn, &token))
        .await?;
    reset_page(&state, &ctx, checked.err(), Errors::default())
}

/// The new-password form.
#[derive(Debug, serde::Deserialize)]
pub struct NewPasswordForm {
    password: String,
    password_confirm: String,
}

/// `POST /password/reset/{token}`: sets the password, spends the token, ends every session.
pub async fn reset_confirm(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
    form: web::Form<NewPasswordForm>,
) -> Result<HttpResponse, AppError> {
    let NewPasswordForm {
        password,
        password_confirm,
    } = form.into_inner();
    let done =
        auth::reset_password(&state.core, token.into_inner(), password, password_confirm).await?;
    match done {
        Ok(FormOutcome::Saved(())) => Ok(redirect_with_flash(
            &state,
            "/login",
            "flash.password_reset_done",
        )),
        Ok(FormOutcome::Invalid { errors, .. }) => reset_page(&state, &ctx, None, errors.into()),
        Err(problem) => reset_page(&state, &ctx, Some(problem), Errors::default()),
    }
}
