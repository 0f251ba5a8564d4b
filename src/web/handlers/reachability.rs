//! Reachability: a member's addresses (`/me/addresses`), the verification link (`/verify/{token}`)
//! and the admin overview (`/admin/reachability`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::services::form::{self, FormOutcome};
use crate::services::reachability::{self, AddressRef, LinkProblem};
use crate::web::AppState;
use crate::web::extract::{Admin, Ctx, CurrentUser, PageQuery};
use crate::web::render::{self, keep_token_private, redirect_with_flash};
use crate::web::views::reachability::{
    AddressesPage, ReachabilityPage, VerifyPage, member_addresses_item,
};
use crate::web::views::{Errors, Layout, Pager};

/// `GET /me/addresses`.
pub async fn show_addresses(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let addresses = state
        .core
        .db
        .read(move |conn| reachability::list_own(conn, &actor))
        .await?;
    let layout = Layout::new(user.ctx(), "/me/addresses");
    let page = AddressesPage::new(
        layout,
        &user.ctx().site,
        &addresses,
        String::new(),
        Errors::default(),
    );
    render::ok(&state, &page)
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
    let (actor, a, core) = (user.actor(), typed.clone(), state.core.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| reachability::add_address(&core, conn, &actor, &a),
                |conn| reachability::list_own(conn, &actor),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(()) => Ok(redirect_with_flash(
            &state,
            "/me/addresses",
            "flash.address_added",
        )),
        FormOutcome::Invalid { errors, page } => {
            let layout = Layout::new(user.ctx(), "/me/addresses");
            let site = &user.ctx().site;
            let page = AddressesPage::new(layout, site, &page, typed, errors.into());
            render::invalid(&state, &page)
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

/// The page of a verification link: the address it confirms (`Ok`) or why it cannot.
fn link_page(
    state: &AppState,
    ctx: &Ctx,
    token: String,
    outcome: Result<String, LinkProblem>,
    done: bool,
) -> Result<HttpResponse, AppError> {
    let status = match &outcome {
        Ok(_) => StatusCode::OK,
        Err(LinkProblem::Invalid) => StatusCode::NOT_FOUND,
        Err(LinkProblem::Expired | LinkProblem::Used) => StatusCode::GONE,
        Err(LinkProblem::OtherAccount) => StatusCode::CONFLICT,
    };
    let page = VerifyPage {
        layout: Layout::with_form_token(ctx, "/verify"),
        token,
        done,
        problem: outcome.as_ref().err().map(|p| p.message_key()),
        address: outcome.unwrap_or_default(),
    };
    Ok(keep_token_private(render::with_status(
        state, &page, status,
    )?))
}

/// `GET /verify/{token}`: says which address the link confirms, with a button (changes nothing, so
/// a mail scanner that follows links cannot verify an address nobody reads).
pub async fn show_verification(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (actor, t) = (ctx.actor(), token.clone());
    let outcome = state
        .core
        .db
        .read(move |conn| reachability::check_link(conn, actor.as_ref(), &t))
        .await?;
    link_page(&state, &ctx, token, outcome, false)
}

/// `POST /verify/{token}`: verifies the address; works without logging in.
pub async fn confirm_verification(
    state: web::Data<AppState>,
    ctx: Ctx,
    token: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let token = token.into_inner();
    let (actor, t) = (ctx.actor(), token.clone());
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
    link_page(&state, &ctx, token, outcome, true)
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
    let site = &admin.ctx().site;
    let pages = ((total + reachability::PAGE_SIZE - 1) / reachability::PAGE_SIZE).max(1);
    let page = ReachabilityPage {
        layout: Layout::new(admin.ctx(), "/admin/reachability"),
        members: members
            .iter()
            .map(|m| member_addresses_item(site, m))
            .collect(),
        pager: Pager::new("/admin/reachability", n, n < pages),
    };
    render::ok(&state, &page)
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
