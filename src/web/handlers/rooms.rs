//! Rooms: the list, a room's home, joining and leaving, and the manager's pages (settings, members,
//! permissions). Site admins create and archive rooms from the admin panel.

use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::services::authz::RoomRole;
use crate::services::form::{self, FormOutcome};
use crate::services::room_posts;
use crate::services::rooms::{self, MembersPage, RoomForm};
use crate::web::AppState;
use crate::web::extract::{Admin, Ctx, CurrentUser, room_slug};
use crate::web::render::{self, redirect_with_flash};
use crate::web::views::rooms::{
    AdminRoomsPage, PermissionsPage, RoomMembersPage, RoomPage, RoomSettingsPage, RoomsPage,
    room_item,
};
use crate::web::views::{Errors, Layout};

/// `GET /rooms`.
pub async fn list_rooms(state: web::Data<AppState>, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let actor = ctx.actor();
    let items = state
        .core
        .db
        .read(move |conn| rooms::list_visible(conn, actor.as_ref()))
        .await?;
    render::ok(&state, &RoomsPage::new(Layout::new(&ctx, "/rooms"), &items))
}

/// `GET /rooms/{room}`.
pub async fn show_room(
    state: web::Data<AppState>,
    ctx: Ctx,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = ctx.actor();
    let home = state
        .core
        .db
        .read(move |conn| room_posts::home_page(conn, actor.as_ref(), &slug))
        .await?;
    let layout = Layout::new(&ctx, &format!("/rooms/{}", home.home.ctx.room.slug));
    render::ok(&state, &RoomPage::new(layout, &ctx.site, &home))
}

/// The join form (a message only matters for rooms that take requests).
#[derive(Debug, Default, serde::Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    message: String,
}

/// `POST /rooms/{room}/join`: joins an open room, or sends a request to its managers.
pub async fn join_room(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    form: web::Form<JoinForm>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let (s, core, message) = (slug.clone(), state.core.clone(), form.into_inner().message);
    let outcome = state
        .core
        .db
        .write(move |conn| rooms::join(&core, conn, &actor, &s, &message))
        .await?;
    let flash = match outcome {
        rooms::JoinOutcome::Joined => "flash.room_joined",
        rooms::JoinOutcome::Requested => "flash.room_requested",
    };
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}"),
        flash,
    ))
}

/// A decision on a join request.
#[derive(Debug, serde::Deserialize)]
pub struct DecisionForm {
    decision: String,
}

/// `POST /rooms/{room}/requests/{login}`: approve or decline.
pub async fn decide_request(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, login) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let approve = match form.decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(AppError::Invalid(FieldErrors::default())),
    };
    let (actor, s) = (user.actor(), slug.clone());
    state
        .core
        .db
        .write(move |conn| rooms::decide_request(conn, &actor, &s, &login, approve))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/members"),
        "flash.member_updated",
    ))
}

/// `POST /rooms/{room}/leave`.
pub async fn leave_room(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    state
        .core
        .db
        .write(move |conn| rooms::leave(conn, &actor, &slug))
        .await?;
    Ok(redirect_with_flash(&state, "/rooms", "flash.room_left"))
}

/// The settings page at `action` (its path too).
fn settings_page(
    user: &CurrentUser,
    action: String,
    form: &RoomForm,
    errors: Errors,
) -> RoomSettingsPage {
    RoomSettingsPage::new(Layout::new(user.ctx(), &action), action, form, errors)
}

/// The admin's new-room form, listing the parents and people to pick from.
fn new_room_page(
    user: &CurrentUser,
    choices: &rooms::NewRoomChoices,
    form: &RoomForm,
    errors: Errors,
) -> RoomSettingsPage {
    settings_page(user, "/admin/rooms".to_owned(), form, errors).with_choices(choices, form)
}

/// `GET /rooms/{room}/settings`.
pub async fn edit_room(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let (ctx, form) = state
        .core
        .db
        .read(move |conn| rooms::settings_form(conn, &actor, &slug))
        .await?;
    let action = format!("/rooms/{}/settings", ctx.room.slug);
    render::ok(
        &state,
        &settings_page(&user, action, &form, Errors::default()),
    )
}

/// `POST /rooms/{room}/settings`.
pub async fn update_room(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    form: web::Form<RoomForm>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let form = form.into_inner();
    let (actor, s, f) = (user.actor(), slug.clone(), form.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| rooms::update_room(conn, &actor, &s, &f),
                |conn| rooms::settings_form(conn, &actor, &s),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(new_slug) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{new_slug}"),
            "flash.saved",
        )),
        FormOutcome::Invalid {
            errors,
            page: (_, saved),
        } => {
            let (action, form) = (format!("/rooms/{slug}/settings"), saved.with_typed(form));
            render::invalid(&state, &settings_page(&user, action, &form, errors.into()))
        }
    }
}

/// The members page of `page`, seen by `user`.
fn members_page(user: &CurrentUser, page: &MembersPage, errors: Errors) -> RoomMembersPage {
    let path = format!("/rooms/{}/members", page.ctx.room.slug);
    let layout = Layout::new(user.ctx(), &path);
    let me = user.user().login.clone();
    RoomMembersPage::new(layout, &user.ctx().site, page, me, errors)
}

/// A form of the members page refused: the page again, with its errors (422).
pub fn members_page_invalid(
    state: &AppState,
    user: &CurrentUser,
    page: &MembersPage,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    render::invalid(state, &members_page(user, page, errors.into()))
}

/// `GET /rooms/{room}/members`.
pub async fn list_members(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let page = state
        .core
        .db
        .read(move |conn| rooms::members_page(conn, &actor, &slug))
        .await?;
    render::ok(&state, &members_page(&user, &page, Errors::default()))
}

/// The "add a member" form.
#[derive(Debug, serde::Deserialize)]
pub struct AddMemberForm {
    login: String,
    role: String,
}

/// `POST /rooms/{room}/members`.
pub async fn add_member(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    form: web::Form<AddMemberForm>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s, f) = (user.actor(), slug.clone(), form.into_inner());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| rooms::add_member(conn, &actor, &s, &f.login, &f.role),
                |conn| rooms::members_page(conn, &actor, &s),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(()) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/members"),
            "flash.member_updated",
        )),
        FormOutcome::Invalid { errors, page } => members_page_invalid(&state, &user, &page, errors),
    }
}

/// A member action: a new role, or `remove`.
#[derive(Debug, serde::Deserialize)]
pub struct MemberChangeForm {
    action: String,
    #[serde(default)]
    role: String,
}

impl MemberChangeForm {
    /// The member's new role, or `None` to remove them (400 for anything else).
    fn new_role(&self) -> Result<Option<RoomRole>, AppError> {
        let bad = || AppError::Invalid(FieldErrors::default());
        match self.action.as_str() {
            "remove" => Ok(None),
            "role" => RoomRole::parse(&self.role).map(Some).ok_or_else(bad),
            _ => Err(bad()),
        }
    }
}

/// `POST /rooms/{room}/members/{login}`.
pub async fn change_member(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
    form: web::Form<MemberChangeForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, login) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let new_role = form.new_role()?;
    let (actor, s) = (user.actor(), slug.clone());
    state
        .core
        .db
        .write(move |conn| rooms::change_member(conn, &actor, &s, &login, new_role))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/members"),
        "flash.member_updated",
    ))
}

/// `GET /rooms/{room}/permissions`.
pub async fn permissions(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let (ctx, cells) = state
        .core
        .db
        .read(move |conn| rooms::permissions_page(conn, &actor, &slug))
        .await?;
    let layout = Layout::new(user.ctx(), &format!("/rooms/{}/permissions", ctx.room.slug));
    render::ok(&state, &PermissionsPage::new(layout, &ctx, &cells))
}

/// `POST /rooms/{room}/permissions`: checkboxes named `cell:<permission>:<role>`.
pub async fn save_permissions(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let on: Vec<String> = form
        .iter()
        .filter_map(|(k, _)| k.strip_prefix("cell:").map(str::to_owned))
        .collect();
    let (actor, s) = (user.actor(), slug.clone());
    state
        .core
        .db
        .write(move |conn| rooms::save_permissions(conn, &actor, &s, &on))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/permissions"),
        "flash.saved",
    ))
}

/// `GET /admin/rooms`.
pub async fn admin_rooms(
    state: web::Data<AppState>,
    admin: Admin,
) -> Result<HttpResponse, AppError> {
    let actor = admin.actor();
    let all = state
        .core
        .db
        .read(move |conn| rooms::all_rooms(conn, &actor))
        .await?;
    let page = AdminRoomsPage {
        layout: Layout::new(admin.ctx(), "/admin/rooms"),
        rooms: all.iter().map(|r| room_item(r, None)).collect(),
    };
    render::ok(&state, &page)
}

/// `GET /admin/rooms/new`.
pub async fn new_room(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    let actor = admin.actor();
    let choices = state
        .core
        .db
        .read(move |conn| rooms::new_room_choices(conn, &actor))
        .await?;
    let page = new_room_page(&admin, &choices, &RoomForm::new_room(), Errors::default());
    render::ok(&state, &page)
}

/// `POST /admin/rooms`.
pub async fn create_room(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<RoomForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let (actor, f) = (admin.actor(), form.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| rooms::create_room(conn, &actor, &f),
                |conn| rooms::new_room_choices(conn, &actor),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(slug) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}"),
            "flash.room_created",
        )),
        FormOutcome::Invalid { errors, page } => {
            render::invalid(&state, &new_room_page(&admin, &page, &form, errors.into()))
        }
    }
}

/// The archive form.
#[derive(Debug, serde::Deserialize)]
pub struct ArchiveForm {
    archived: String,
}

/// `POST /admin/rooms/{room}/archive`.
pub async fn archive_room(
    state: web::Data<AppState>,
    admin: Admin,
    slug: web::Path<String>,
    form: web::Form<ArchiveForm>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let archived = form.archived == "true";
    let actor = admin.actor();
    state
        .core
        .db
        .write(move |conn| rooms::set_archived(conn, &actor, &slug, archived))
        .await?;
    Ok(redirect_with_flash(&state, "/admin/rooms", "flash.saved"))
}
