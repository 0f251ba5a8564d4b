//! Login, logout, first-run setup and password reset.

use actix_web::cookie::time::Duration as CookieDuration;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::services::auth::{self, LoginAttempt, ResetProblem, SESSION_DAYS};
use crate::services::setup;
use crate::web::AppState;
use crate::web::context::{cookie_names, make_cookie};
use crate::web::extract::{Ctx, CurrentUser};
use crate::web::render::{
    base_context, insert_errors, invalid_or, ok, page, redirect_with_flash, safe_next,
    with_form_token,
};

fn session_cookie(state: &AppState, token: String) -> actix_web::cookie::Cookie<'static> {
    let https = state.core.config.is_https();
    make_cookie(
        cookie_names(https).session,
        token,
        https,
        Some(CookieDuration::days(SESSION_DAYS)),
    )
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

fn login_page(
    state: &AppState,
    ctx: &Ctx,
    name: &str,
    next: &str,
    errors: Option<&crate::error::FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(ctx, "/login");
    with_form_token(&mut c, ctx);
    c.insert("name", name);
    c.insert("next", &safe_next(Some(next)));
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    page(state, "auth/login.html", &c, status)
}

/// `GET /login`.
pub async fn login_form(
    state: web::Data<AppState>,
    ctx: Ctx,
    q: web::Query<LoginQuery>,
) -> Result<HttpResponse, AppError> {
    login_page(
        &state,
        &ctx,
        "",
        q.next.as_deref().unwrap_or("/"),
        None,
        StatusCode::OK,
    )
}

/// `POST /login`: checks the password, rotates the session, returns to `next` (same-site paths only).
pub async fn login(
    state: web::Data<AppState>,
    ctx: Ctx,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let attempt = LoginAttempt {
        name: form.name.clone(),
        password: form.password,
        ip_key: ctx.ip_key(),
        ip: ctx.ip.to_string(),
        previous_session: ctx.session.as_ref().map(|s| s.token_hash.clone()),
    };
    match auth::login(&state.core, attempt).await {
        Ok(token) => {
            let mut res =
                redirect_with_flash(&state, &safe_next(Some(&form.next)), "flash.logged_in");
            res.add_cookie(&session_cookie(&state, token))
                .map_err(|e| AppError::Internal(e.into()))?;
            Ok(res)
        }
        Err(e) => {
            let errors = invalid_or(e)?;
            login_page(
                &state,
                &ctx,
                &form.name,
                &form.next,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
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
    let gone = make_cookie(
        cookie_names(https).session,
        String::new(),
        https,
        Some(CookieDuration::ZERO),
    );
    res.add_cookie(&gone)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}

/// `?token=` of the setup link.
#[derive(Debug, serde::Deserialize)]
pub struct SetupQuery {
    #[serde(default)]
    token: String,
}

fn setup_page(
    state: &AppState,
    ctx: &Ctx,
    form: &setup::SetupForm,
    errors: Option<&crate::error::FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(ctx, "/setup");
    with_form_token(&mut c, ctx);
    c.insert(
        "form",
        &serde_json::json!({
            "token": form.token,
            "site_title": form.site_title,
            "language": form.language,
            "login": form.login,
            "email": form.email,
            "display_name": form.display_name,
        }),
    );
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    page(state, "setup/setup.html", &c, status)
}

/// `GET /setup?token=`: the first-admin form, only with the token `serve` printed.
pub async fn setup_form(
    state: web::Data<AppState>,
    ctx: Ctx,
    q: web::Query<SetupQuery>,
) -> Result<HttpResponse, AppError> {
    let token = q.into_inner().token;
    let t = token.clone();
    let (needed, valid) = state
        .core
        .db
        .read(move |conn| Ok((setup::needed(conn)?, setup::token_valid(conn, &t)?)))
        .await?;
    if !needed {
        return Err(AppError::NotFound);
    }
    if !valid {
        let mut c = base_context(&ctx, "/setup");
        c.insert("invalid_token", &true);
        return page(&state, "setup/first_run.html", &c, StatusCode::NOT_FOUND);
    }
    let form = setup::SetupForm {
        token,
        site_title: ctx.site.title.clone(),
        language: ctx.lang.code().to_owned(),
        login: String::new(),
        email: String::new(),
        display_name: String::new(),
        password: String::new(),
        password_confirm: String::new(),
    };
    setup_page(&state, &ctx, &form, None, StatusCode::OK)
}

/// `POST /setup`: creates the first administrator and logs them in.
pub async fn setup(
    state: web::Data<AppState>,
    ctx: Ctx,
    form: web::Form<setup::SetupForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    match setup::complete(&state.core, form.clone()).await {
        Ok(token) => {
            let mut res = redirect_with_flash(&state, "/admin", "flash.setup_done");
            res.add_cookie(&session_cookie(&state, token))
                .map_err(|e| AppError::Internal(e.into()))?;
            Ok(res)
        }
        Err(e) => {
            let errors = invalid_or(e)?;
            setup_page(
                &state,
                &ctx,
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// `GET /password/reset`.
pub async fn reset_request_form(
    state: web::Data<AppState>,
    ctx: Ctx,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(&ctx, "/password/reset");
    with_form_token(&mut c, &ctx);
    c.insert("sent", &false);
    ok(&state, "auth/reset_request.html", &c)
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
    let core = state.core.clone();
    let ip = ctx.ip.to_string();
    state
        .core
        .db
        .write(move |conn| auth::request_reset(&core, conn, &email, &ip))
        .await?;
    let mut c = base_context(&ctx, "/password/reset");
    with_form_token(&mut c, &ctx);
    c.insert("sent", &true);
    ok(&state, "auth/reset_request.html", &c)
}

fn problem_key(p: ResetProblem) -> &'static str {
    match p {
        ResetProblem::Unknown => "reset.link_invalid",
        ResetProblem::Expired => "reset.link_expired",
        ResetProblem::Used => "reset.link_used",
    }
}

fn reset_page(
    state: &AppState,
    ctx: &Ctx,
    problem: Option<ResetProblem>,
    errors: Option<&crate::error::FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(ctx, "/password/reset");
    with_form_token(&mut c, ctx);
    c.insert("problem", &problem.map(problem_key));
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    let mut res = page(state, "auth/reset_form.html", &c, status)?;
    // The token is in the URL: never send it onward in a Referer.
    res.headers_mut().insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    Ok(res)
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
        .read(move |conn| auth::check_reset_token(conn, &token, crate::models::now()))
        .await?;
    match checked {
        Ok(_) => reset_page(&state, &ctx, None, None, StatusCode::OK),
        Err(p) => reset_page(&state, &ctx, Some(p), None, StatusCode::GONE),
    }
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
    let token = token.into_inner();
    let form = form.into_inner();
    let t = token.clone();
    let checked = state
        .core
        .db
        .read(move |conn| auth::check_reset_token(conn, &t, crate::models::now()))
        .await?;
    let user = match checked {
        Ok(u) => u,
        Err(p) => return reset_page(&state, &ctx, Some(p), None, StatusCode::GONE),
    };
    if let Err(e) = auth::check_new_password(&form.password, &form.password_confirm, &user.login) {
        let errors = invalid_or(e)?;
        return reset_page(
            &state,
            &ctx,
            None,
            Some(&errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let hash = state.core.passwords.hash(form.password).await?;
    let done = state
        .core
        .db
        .write(move |conn| auth::complete_reset(conn, &token, &hash))
        .await?;
    match done {
        Ok(_) => Ok(redirect_with_flash(
            &state,
            "/login",
            "flash.password_reset_done",
        )),
        Err(p) => reset_page(&state, &ctx, Some(p), None, StatusCode::GONE),
    }
}
