//! Rooms: the list, a room's home, joining and leaving, and the manager's pages (settings, members,
//! permissions). Site admins create and archive rooms from the admin panel.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::services::authz::{JoinPolicy, RoomAction, RoomRole, authorize_room};
use crate::services::rooms::{self, RoomForm};
use crate::web::AppState;
use crate::web::extract::{Admin, Ctx, CurrentUser, room_slug};
use crate::web::render::{base_context, insert_errors, invalid_or, ok, page, redirect_with_flash};
use crate::web::views::room_posts::{live_item, own_item};
use crate::web::views::rooms::{
    cells_view, invitation_items, member_items, request_items, role_names, room_form_view,
    room_item,
};

/// `GET /rooms`.
pub async fn list_rooms(state: web::Data<AppState>, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let actor = ctx
        .session
        .as_ref()
        .map(|s| crate::services::Actor::from(&s.user));
    let items = state
        .core
        .db
        .read(move |conn| rooms::list_visible(conn, actor.as_ref()))
        .await?;
    let mut c = base_context(&ctx, "/rooms");
    let views: Vec<_> = items.iter().map(|i| room_item(&i.room, i.role)).collect();
    c.insert("rooms", &views);
    ok(&state, "rooms/index.html", &c)
}

/// `GET /rooms/{room}`.
pub async fn show_room(
    state: web::Data<AppState>,
    ctx: Ctx,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = ctx
        .session
        .as_ref()
        .map(|s| crate::services::Actor::from(&s.user));
    let a = actor.clone();
    let (home, pending, (posts, notify_mode)) = state
        .core
        .db
        .read(move |conn| {
            let home = rooms::home(conn, a.as_ref(), &slug)?;
            let pending = match &a {
                Some(actor) if home.ctx.access.role.is_none() => {
                    rooms::has_pending_request(conn, actor, home.ctx.room.id)?
                }
                _ => false,
            };
            let posts = crate::services::room_posts::room_posts(conn, a.as_ref(), &home.ctx)?;
            let notify_mode = match &a {
                Some(actor) if home.ctx.access.role.is_some() => Some(
                    crate::services::notify::mode_of(conn, actor, home.ctx.room.id)?,
                ),
                _ => None,
            };
            Ok((home, pending, (posts, notify_mode)))
        })
        .await?;
    let access = &home.ctx.access;
    let can = |action| authorize_room(actor.as_ref(), access, action).is_ok();
    let may_join = actor.is_some() && can(RoomAction::Join);
    let mut c = base_context(&ctx, &format!("/rooms/{}", home.ctx.room.slug));
    c.insert("room", &room_item(&home.ctx.room, access.role));
    c.insert("description", &home.ctx.room.description);
    c.insert(
        "children",
        &home
            .children
            .iter()
            .map(|r| room_item(r, None))
            .collect::<Vec<_>>(),
    );
    c.insert("members", &member_items(&home.members));
    c.insert("can_manage", &can(RoomAction::Manage));
    c.insert(
        "can_join",
        &(may_join && access.join_policy == JoinPolicy::Open),
    );
    c.insert(
        "can_request",
        &(may_join && access.join_policy == JoinPolicy::Request && !pending),
    );
    c.insert("request_pending", &pending);
    c.insert(
        "invite_only",
        &(actor.is_some() && access.role.is_none() && access.join_policy == JoinPolicy::Invite),
    );
    c.insert("can_leave", &(actor.is_some() && can(RoomAction::Leave)));
    c.insert("notify_mode", &notify_mode);
    let blog = home.ctx.room.features.split(',').any(|f| f == "blog");
    c.insert(
        "can_send_notice",
        &(actor.is_some() && can(RoomAction::SendNotice)),
    );
    c.insert(
        "files_enabled",
        &home.ctx.room.features.split(',').any(|f| f == "files"),
    );
    c.insert(
        "can_create",
        &(blog && actor.is_some() && can(RoomAction::CreateContent)),
    );
    let site = &ctx.site;
    let slug = &home.ctx.room.slug;
    c.insert(
        "posts",
        &posts
            .visible
            .iter()
            .map(|p| live_item(site, slug, p))
            .collect::<Vec<_>>(),
    );
    c.insert(
        "my_posts",
        &posts
            .mine
            .iter()
            .map(|(p, r)| own_item(site, slug, p.id, r))
            .collect::<Vec<_>>(),
    );
    ok(&state, "rooms/show.html", &c)
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
    let actor = user.actor();
    let s = slug.clone();
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

fn settings_page(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    form: &RoomForm,
    errors: Option<&FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(user.ctx(), action);
    c.insert("action", action);
    c.insert("form", &room_form_view(form));
    c.insert("creating", &(action == "/admin/rooms"));
    c.insert("roles", &role_names(false));
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    page(state, "rooms/settings.html", &c, status)
}

/// `GET /rooms/{room}/settings`.
pub async fn edit_room(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let ctx = state
        .core
        .db
        .read(move |conn| rooms::load_for(conn, Some(&actor), &slug, RoomAction::Manage))
        .await?;
    let action = format!("/rooms/{}/settings", ctx.room.slug);
    settings_page(
        &state,
        &user,
        &action,
        &RoomForm::from_room(&ctx.room),
        None,
        StatusCode::OK,
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
    let actor = user.actor();
    let (s, f) = (slug.clone(), form.clone());
    match state
        .core
        .db
        .write(move |conn| rooms::update_room(conn, &actor, &s, &f))
        .await
    {
        Ok(new_slug) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{new_slug}"),
            "flash.saved",
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            settings_page(
                &state,
                &user,
                &format!("/rooms/{slug}/settings"),
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// The members page and the room's open invitations.
type MembersPage = (
    rooms::MembersPage,
    Vec<crate::models::invitation::Invitation>,
);

/// Loads everything the members page shows.
async fn load_members_page(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
) -> Result<MembersPage, AppError> {
    let actor = user.actor();
    state
        .core
        .db
        .read(move |conn| {
            let page = rooms::members_page(conn, &actor, &slug)?;
            let invitations = crate::services::invitations::open_for_room(conn, page.ctx.room.id)?;
            Ok((page, invitations))
        })
        .await
}

/// The members page again, with a form's field errors (422).
pub async fn members_page_with_errors(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
    errors: &FieldErrors,
) -> Result<HttpResponse, AppError> {
    let data = load_members_page(state, user, slug).await?;
    members_page_response(
        state,
        user,
        &data,
        Some(errors),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
}

fn members_page_response(
    state: &AppState,
    user: &CurrentUser,
    data: &MembersPage,
    errors: Option<&FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let (
        rooms::MembersPage {
            ctx,
            members,
            requests,
            officers,
        },
        invitations,
    ) = data;
    let mut c = base_context(user.ctx(), &format!("/rooms/{}/members", ctx.room.slug));
    c.insert(
        "invitations",
        &invitation_items(&user.ctx().site, invitations),
    );
    c.insert("room", &room_item(&ctx.room, ctx.access.role));
    c.insert("members", &member_items(members));
    let officer_logins: Vec<&str> = members
        .iter()
        .filter(|m| officers.contains(&m.user_id))
        .map(|m| m.login.as_str())
        .collect();
    c.insert("officers", &officer_logins);
    c.insert("requests", &request_items(&user.ctx().site, requests));
    c.insert("roles", &role_names(true));
    c.insert("me", &user.user().login);
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    page(state, "rooms/members.html", &c, status)
}

/// `GET /rooms/{room}/members`.
pub async fn list_members(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let data = load_members_page(&state, &user, slug).await?;
    members_page_response(&state, &user, &data, None, StatusCode::OK)
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
    let actor = user.actor();
    let (s, form) = (slug.clone(), form.into_inner());
    match state
        .core
        .db
        .write(move |conn| rooms::add_member(conn, &actor, &s, &form.login, &form.role))
        .await
    {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/members"),
            "flash.member_updated",
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            members_page_with_errors(&state, &user, slug, &errors).await
        }
    }
}

/// A member action: a new role, or `remove`.
#[derive(Debug, serde::Deserialize)]
pub struct MemberChangeForm {
    action: String,
    #[serde(default)]
    role: String,
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
    let new_role = match form.action.as_str() {
        "remove" => None,
        "role" => {
            Some(RoomRole::parse(&form.role).ok_or(AppError::Invalid(FieldErrors::default()))?)
        }
        _ => return Err(AppError::Invalid(FieldErrors::default())),
    };
    let actor = user.actor();
    let s = slug.clone();
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
    let mut c = base_context(user.ctx(), &format!("/rooms/{}/permissions", ctx.room.slug));
    c.insert("room", &room_item(&ctx.room, ctx.access.role));
    c.insert("rows", &cells_view(&cells));
    c.insert(
        "roles",
        &role_names(true).into_iter().rev().collect::<Vec<_>>(),
    );
    ok(&state, "rooms/permissions.html", &c)
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
    let actor = user.actor();
    let s = slug.clone();
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
    let mut c = base_context(admin.ctx(), "/admin/rooms");
    c.insert(
        "rooms",
        &all.iter().map(|r| room_item(r, None)).collect::<Vec<_>>(),
    );
    ok(&state, "admin/rooms.html", &c)
}

/// `GET /admin/rooms/new`.
pub async fn new_room(state: web::Data<AppState>, admin: Admin) -> Result<HttpResponse, AppError> {
    settings_page(
        &state,
        &admin,
        "/admin/rooms",
        &RoomForm::new_room(),
        None,
        StatusCode::OK,
    )
}

/// `POST /admin/rooms`.
pub async fn create_room(
    state: web::Data<AppState>,
    admin: Admin,
    form: web::Form<RoomForm>,
) -> Result<HttpResponse, AppError> {
    let form = form.into_inner();
    let actor = admin.actor();
    let f = form.clone();
    match state
        .core
        .db
        .write(move |conn| rooms::create_room(conn, &actor, &f))
        .await
    {
        Ok(slug) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}"),
            "flash.room_created",
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            settings_page(
                &state,
                &admin,
                "/admin/rooms",
                &form,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
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
