//! Room posts: the editor (一時保存 / 投稿), the post page with 承認 and 差し戻し for approvers, and
//! the approval inbox `/inbox`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::services::authz::RoomAction;
use crate::services::room_posts::{self, RoomPostForm, Saved};
use crate::services::rooms;
use crate::web::AppState;
use crate::web::extract::{Ctx, CurrentUser, room_slug};
use crate::web::render::{base_context, insert_errors, invalid_or, ok, page, redirect_with_flash};
use crate::web::views::room_posts::{comment_view, inbox_item, revision_view};
use crate::web::views::rooms::room_item;

fn saved_flash(saved: Saved) -> &'static str {
    match saved {
        Saved::Draft => "flash.post_draft_saved",
        Saved::Pending => "flash.post_pending",
        Saved::Published => "flash.post_saved",
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "one editor page for new and existing posts"
)]
fn editor_page(
    state: &AppState,
    user: &CurrentUser,
    ctx: &rooms::RoomCtx,
    post_id: Option<i64>,
    form: &RoomPostForm,
    note: Option<&str>,
    preview: Option<&str>,
    errors: Option<&FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let room = &ctx.room;
    let path = match post_id {
        Some(id) => format!("/rooms/{}/posts/{id}/edit", room.slug),
        None => format!("/rooms/{}/posts/new", room.slug),
    };
    let mut c = base_context(user.ctx(), &path);
    c.insert("room", &room_item(room, None));
    c.insert("post_id", &post_id);
    // Whether the submit button publishes or asks for approval depends on who presses it.
    c.insert(
        "need_approval",
        &room_posts::waits_for_approval(&user.actor(), ctx),
    );
    c.insert("note", &note);
    c.insert("preview", &preview);
    c.insert("public_space", &room.is_public_space());
    c.insert(
        "form",
        &serde_json::json!({
            "title": form.title, "body": form.body,
            "publish_at": form.publish_at, "publish_until": form.publish_until,
            "slug": form.slug, "tags": form.tags,
        }),
    );
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    page(state, "rooms/post_edit.html", &c, status)
}

/// The editor again with the rendered body above it: nothing is saved (works without JavaScript).
async fn preview_page(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
    post_id: Option<i64>,
    form: RoomPostForm,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let body = form.body.clone();
    let (ctx, html) = state
        .core
        .db
        .read(move |conn| room_posts::preview(conn, &actor, &slug, post_id, &body))
        .await?;
    editor_page(
        state,
        user,
        &ctx,
        post_id,
        &form,
        None,
        Some(&html),
        None,
        StatusCode::OK,
    )
}

/// `GET /rooms/{room}/posts/new`.
pub async fn new_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let ctx = state
        .core
        .db
        .read(move |conn| rooms::load_for(conn, Some(&actor), &slug, RoomAction::CreateContent))
        .await?;
    if !ctx.room.features.split(',').any(|f| f == "blog") {
        return Err(AppError::NotFound);
    }
    editor_page(
        &state,
        &user,
        &ctx,
        None,
        &RoomPostForm::default(),
        None,
        None,
        None,
        StatusCode::OK,
    )
}

/// `POST /rooms/{room}/posts`.
pub async fn create_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    form: web::Form<RoomPostForm>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let form = form.into_inner();
    if form.action == "preview" {
        return preview_page(&state, &user, slug, None, form).await;
    }
    let (actor, core, site, s, f) = (
        user.actor(),
        state.core.clone(),
        user.ctx().site.clone(),
        slug.clone(),
        form.clone(),
    );
    match state
        .core
        .db
        .write(move |conn| room_posts::create(&core, conn, &actor, &s, &f, &site))
        .await
    {
        Ok((id, saved)) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/posts/{id}"),
            saved_flash(saved),
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            let actor = user.actor();
            let ctx = state
                .core
                .db
                .read(move |conn| rooms::load(conn, Some(&actor), &slug))
                .await?;
            editor_page(
                &state,
                &user,
                &ctx,
                None,
                &form,
                None,
                None,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// `GET /rooms/{room}/posts/{id}`.
pub async fn show_post(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let actor = ctx
        .session
        .as_ref()
        .map(|s| crate::services::Actor::from(&s.user));
    let (p, (comments, may_comment, may_approve)) = state
        .core
        .db
        .read(move |conn| {
            let p = room_posts::show(conn, actor.as_ref(), &slug, id)?;
            let comments = room_posts::comments(conn, actor.as_ref(), &p)?;
            Ok((p, comments))
        })
        .await?;
    let site = &ctx.site;
    let mut c = base_context(&ctx, &format!("/rooms/{}/posts/{id}", p.ctx.room.slug));
    c.insert("room", &room_item(&p.ctx.room, p.ctx.access.role));
    c.insert("post_id", &p.post.id);
    c.insert("author_name", &p.author_name);
    c.insert("live", &p.live.as_ref().map(|r| revision_view(site, r)));
    c.insert("newer", &p.newer.as_ref().map(|r| revision_view(site, r)));
    c.insert("hidden_from_readers", &p.hidden_from_readers);
    let public_url = p
        .post
        .slug
        .as_deref()
        .filter(|_| p.ctx.room.is_public_space() && p.live.is_some() && !p.hidden_from_readers)
        .map(crate::models::blog::public_path);
    c.insert("public_url", &public_url);
    c.insert("can_publish", &p.can_publish);
    c.insert("can_edit", &p.can_edit);
    c.insert("can_delete", &p.can_delete);
    c.insert(
        "comments",
        &comments
            .iter()
            .map(|cm| comment_view(site, cm))
            .collect::<Vec<_>>(),
    );
    c.insert("may_comment", &may_comment);
    c.insert("may_approve_comments", &may_approve);
    ok(&state, "rooms/post.html", &c)
}

/// `GET /rooms/{room}/posts/{id}/edit`: starts from the newest revision.
pub async fn edit_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let (ctx, post, rev) = state
        .core
        .db
        .read(move |conn| room_posts::for_edit(conn, &actor, &slug, id))
        .await?;
    let site = &user.ctx().site;
    let form = RoomPostForm {
        title: rev.title.clone(),
        body: rev.body_md.clone(),
        publish_at: rev
            .publish_at
            .map(|t| site.local_input(t))
            .unwrap_or_default(),
        publish_until: rev
            .publish_until
            .map(|t| site.local_input(t))
            .unwrap_or_default(),
        slug: post.slug.clone().unwrap_or_default(),
        tags: rev.tags.clone(),
        action: String::new(),
    };
    let note = (rev.status == "sent_back").then_some(rev.note.as_str());
    editor_page(
        &state,
        &user,
        &ctx,
        Some(id),
        &form,
        note,
        None,
        None,
        StatusCode::OK,
    )
}

/// `POST /rooms/{room}/posts/{id}`: a new revision.
pub async fn update_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<RoomPostForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let form = form.into_inner();
    if form.action == "preview" {
        return preview_page(&state, &user, slug, Some(id), form).await;
    }
    let (actor, core, site, s, f) = (
        user.actor(),
        state.core.clone(),
        user.ctx().site.clone(),
        slug.clone(),
        form.clone(),
    );
    match state
        .core
        .db
        .write(move |conn| room_posts::update(&core, conn, &actor, &s, id, &f, &site))
        .await
    {
        Ok(saved) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/posts/{id}"),
            saved_flash(saved),
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            let actor = user.actor();
            let ctx = state
                .core
                .db
                .read(move |conn| rooms::load(conn, Some(&actor), &slug))
                .await?;
            editor_page(
                &state,
                &user,
                &ctx,
                Some(id),
                &form,
                None,
                None,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// The approve / send-back form.
#[derive(Debug, serde::Deserialize)]
pub struct DecisionForm {
    revision: i64,
    #[serde(default)]
    note: String,
    /// Where to go afterwards: `inbox` or the post (default).
    #[serde(default)]
    back: String,
}

fn after_decision(slug: &str, id: i64, back: &str) -> String {
    if back == "inbox" {
        "/inbox".to_owned()
    } else {
        format!("/rooms/{slug}/posts/{id}")
    }
}

/// `POST /rooms/{room}/posts/{id}/approve`.
pub async fn approve_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let form = form.into_inner();
    let (actor, core, s, rev) = (
        user.actor(),
        state.core.clone(),
        slug.clone(),
        form.revision,
    );
    state
        .core
        .db
        .write(move |conn| room_posts::approve(&core, conn, &actor, &s, id, rev))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &after_decision(&slug, id, &form.back),
        "flash.post_approved",
    ))
}

/// `POST /rooms/{room}/posts/{id}/send-back`.
pub async fn send_back_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<DecisionForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let form = form.into_inner();
    let (actor, core, s, rev, note) = (
        user.actor(),
        state.core.clone(),
        slug.clone(),
        form.revision,
        form.note.clone(),
    );
    match state
        .core
        .db
        .write(move |conn| room_posts::send_back(&core, conn, &actor, &s, id, rev, &note))
        .await
    {
        Ok(()) => Ok(redirect_with_flash(
            &state,
            &after_decision(&slug, id, &form.back),
            "flash.post_sent_back",
        )),
        Err(AppError::Invalid(_)) => Ok(redirect_with_flash(
            &state,
            &after_decision(&slug, id, &form.back),
            "flash.note_required",
        )),
        Err(e) => Err(e),
    }
}

/// `POST /rooms/{room}/posts/{id}/delete`.
pub async fn delete_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s) = (user.actor(), slug.clone());
    state
        .core
        .db
        .write(move |conn| room_posts::delete(conn, &actor, &s, id))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}"),
        "flash.post_deleted",
    ))
}

/// `GET /inbox`: everything the user may approve, across rooms.
pub async fn inbox(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let rows = state
        .core
        .db
        .read(move |conn| room_posts::inbox(conn, &actor))
        .await?;
    let mut c = base_context(user.ctx(), "/inbox");
    c.insert(
        "items",
        &rows
            .iter()
            .map(|r| inbox_item(&user.ctx().site, r))
            .collect::<Vec<_>>(),
    );
    ok(&state, "inbox.html", &c)
}

/// The comment form.
#[derive(Debug, serde::Deserialize)]
pub struct CommentForm {
    comment: String,
}

/// `POST /rooms/{room}/posts/{id}/comments`.
pub async fn add_comment(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, core, s, body) = (
        user.actor(),
        state.core.clone(),
        slug.clone(),
        form.into_inner().comment,
    );
    let back = format!("/rooms/{slug}/posts/{id}");
    match state
        .core
        .db
        .write(move |conn| room_posts::add_comment(&core, conn, &actor, &s, id, &body))
        .await
    {
        Ok(true) => Ok(redirect_with_flash(&state, &back, "flash.comment_pending")),
        Ok(false) => Ok(redirect_with_flash(&state, &back, "flash.comment_added")),
        Err(AppError::Invalid(e)) if !e.is_empty() => {
            Ok(redirect_with_flash(&state, &back, "flash.comment_empty"))
        }
        Err(e) => Err(e),
    }
}

/// `POST /rooms/{room}/posts/{id}/comments/{comment}/approve`.
pub async fn approve_comment(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id, comment) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s) = (user.actor(), slug.clone());
    state
        .core
        .db
        .write(move |conn| room_posts::approve_comment(conn, &actor, &s, id, comment))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/posts/{id}"),
        "flash.comment_approved",
    ))
}

/// The notification form on a room's page.
#[derive(Debug, serde::Deserialize)]
pub struct NotifyForm {
    mode: String,
}

/// `POST /rooms/{room}/notifications`.
pub async fn set_notifications(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
    form: web::Form<NotifyForm>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s, mode) = (user.actor(), slug.clone(), form.into_inner().mode);
    state
        .core
        .db
        .write(move |conn| crate::services::notify::set_mode(conn, &actor, &s, &mode))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}"),
        "flash.saved",
    ))
}

/// `GET /new`: 新着, the newest posts across the user's rooms.
pub async fn whats_new(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let rows = state
        .core
        .db
        .read(move |conn| crate::services::notify::whats_new(conn, &actor))
        .await?;
    let site = &user.ctx().site;
    let items: Vec<_> = rows
        .iter()
        .map(|(p, slug, room_name)| {
            let mut item = crate::web::views::room_posts::live_item(site, slug, p);
            item.room_name = Some(room_name.clone());
            item
        })
        .collect();
    let mut c = base_context(user.ctx(), "/new");
    c.insert("items", &items);
    ok(&state, "new.html", &c)
}

/// `GET /rooms/{room}/feed.atom`: the Atom feed of a room anyone may read.
pub async fn room_feed(
    state: web::Data<AppState>,
    ctx: Ctx,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let (room, posts) = state
        .core
        .db
        .read(move |conn| {
            // Read as an anonymous visitor: a feed reader never logs in, so only public rooms have one.
            let ctx = rooms::load(conn, None, &slug)?;
            let posts = room_posts::room_posts(conn, None, &ctx)?.visible;
            Ok((ctx.room, posts))
        })
        .await?;
    let xml =
        crate::web::views::feed::room_atom(&ctx.site, &state.core.config.base_url(), &room, &posts);
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .body(xml))
}
