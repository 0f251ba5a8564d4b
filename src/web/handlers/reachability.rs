//! Reachability: a member's addresses (`/me/addresses`), the verification link (`/verify/{token}`)
//! and the admin overview (`/admin/reachability`).

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderValue, REFERRER_POLICY};
use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::services::Actor;
use crate::services::reachability::{self, AddressRef, LinkProblem, MAX_ADDRESSES};
use crate::web::AppState;
use crate::web::extract::{Admin, Ctx, CurrentUser, PageQuery};
use crate::web::render::{
    base_context, insert_errors, invalid_or, ok, page, redirect_with_flash, with_form_token,
};
use crate::web::views::Pager;
use crate::web::views::reachability::{address_item, member_addresses_item};

async fn addresses_page(
    state: &AppState,
    user: &CurrentUser,
    typed: &str,
    errors: Option<&FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let addresses = state
        .core
        .db
        .read(move |conn| reachability::list_own(conn, &actor))
        .await?;
    let mut c = base_context(user.ctx(), "/me/addresses");
    let site = &user.ctx().site;
    let items: Vec<_> = addresses.iter().map(|a| address_item(site, a)).collect();
    c.insert("count", &items.len());
    c.insert("can_add", &(items.len() < MAX_ADDRESSES));
    c.insert("addresses", &items);
    c.insert("max", &MAX_ADDRESSES);
    c.insert("typed", typed);
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    page(state, "account/addresses.html", &c, status)
}

/// `GET /me/addresses`.
pub async fn show_addresses(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    addresses_page(&state, &user, "", None, StatusCode::OK).await
}

/// The "add an address" form.
#[derive(Debug, serde::Deserialize)]
pub struct AddressForm {
    address: String,
}

/// `POST /me/addresses`.
pub async fn add_address(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<AddressForm>,
) -> Result<HttpResponse, AppError> {
    let typed = form.into_inner().address;
    let (actor, a) = (user.actor(), typed.clone());
    match state
        .core
        .db
        .write(move |conn| reachability::add_address(conn, &actor, &a))
        .await
    {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            "/me/addresses",
            "flash.address_added",
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            addresses_page(
                &state,
                &user,
                &typed,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /me/addresses/{id}/test`: mails a verification link to one address.
pub async fn send_test(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let which = AddressRef::parse(&id).ok_or(AppError::NotFound)?;
    let (actor, core) = (user.actor(), state.core.clone());
    state
        .core
        .db
        .write(move |conn| reachability::send_test(&core, conn, &actor, which))
        .await?;
    Ok(redirect_with_flash(
        &state,
        "/me/addresses",
        "flash.test_sent",
    ))
}

/// `POST /me/addresses/{id}/delete`.
pub async fn remove_address(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let Some(AddressRef::Extra(id)) = AddressRef::parse(&id) else {
        return Err(AppError::NotFound);
    };
    let actor = user.actor();
    state
        .core
        .db
        .write(move |conn| reachability::remove_address(conn, &actor, id))
        .await?;
    Ok(redirect_with_flash(
        &state,
        "/me/addresses",
        "flash.address_removed",
    ))
}

fn link_page(
    state: &AppState,
    ctx: &Ctx,
    token: &str,
    outcome: &Result<String, LinkProblem>,
    done: bool,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(ctx, "/verify");
    with_form_token(&mut c, ctx);
    c.insert("token", token);
    c.insert("done", &done);
    let status = match outcome {
        Ok(address) => {
            c.insert("address", address);
            c.insert("problem", &None::<&str>);
            StatusCode::OK
        }
        Err(p) => {
            c.insert("address", "");
            c.insert("problem", p.message_key());
            match p {
                LinkProblem::Invalid => StatusCode::NOT_FOUND,
                LinkProblem::Expired | LinkProblem::Used => StatusCode::GONE,
                LinkProblem::OtherAccount => StatusCode::CONFLICT,
            }
        }
    };
    let mut res = page(state, "account/verify.html", &c, status)?;
    // The token is in the URL: never pass it on in a Referer.
    res.headers_mut()
        .insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(res)
}

fn visitor(ctx: &Ctx) -> Option<Actor> {
    ctx.session.as_ref().map(|s| Actor::from(&s.user))
}

/// `GET /verify/{token}`: says which address the link confirms, with a button (changes nothing, so
/// a mail scanner that follows links cannot verify an address nobody reads).
pub async fn show_verification(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (actor, t) = (visitor(&ctx), token.clone());
    let outcome = state
        .core
        .db
        .read(move |conn| reachability::check_link(conn, actor.as_ref(), &t))
        .await?;
    link_page(&state, &ctx, &token, &outcome, false)
}

/// `POST /verify/{token}`: verifies the address; works without logging in.
pub async fn confirm_verification(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (actor, t) = (visitor(&ctx), token.clone());
    let logged_in = actor.is_some();
    let outcome = state
        .core
        .db
        .write(move |conn| reachability::confirm_link(conn, actor.as_ref(), &t))
        .await?;
    if outcome.is_ok() && logged_in {
        return Ok(redirect_with_flash(
            &state,
            "/me/addresses",
            "flash.address_verified",
        ));
    }
    link_page(&state, &ctx, &token, &outcome, true)
}

/// `GET /admin/reachability`: every enabled member's addresses and their status.
pub async fn admin_overview(
    state: web::Data<AppState>,
    admin: Admin,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let n = q.number()?;
    let actor = admin.actor();
    let (members, total) = state
        .core
        .db
        .read(move |conn| reachability::overview(conn, &actor, n))
        .await?;
    let mut c = base_context(admin.ctx(), "/admin/reachability");
    let site = &admin.ctx().site;
    let items: Vec<_> = members
        .iter()
        .map(|m| member_addresses_item(site, m))
        .collect();
    c.insert("members", &items);
    let pages = ((total + reachability::PAGE_SIZE - 1) / reachability::PAGE_SIZE).max(1);
    c.insert("pager", &Pager::new("/admin/reachability", n, n < pages));
    ok(&state, "admin/reachability.html", &c)
}

/// `POST /admin/reachability/test`: a test mail to every address of every enabled member.
pub async fn test_everyone(
    state: web::Data<AppState>,
    admin: Admin,
) -> Result<HttpResponse, AppError> {
    let (actor, core) = (admin.actor(), state.core.clone());
    state
        .core
        .db
        .write(move |conn| reachability::send_test_to_everyone(&core, conn, &actor))
        .await?;
    Ok(redirect_with_flash(
        &state,
        "/admin/reachability",
        "flash.test_everyone_sent",
    ))
}
