//! Room posts: the editor (一時保存 / 投稿), the post page with 承認 and 差し戻し for approvers, and
//! the approval inbox `/inbox`.

use actix_web::{HttpResponse, web};

use crate::db::types::{CommentId, PostId, RevisionId};
use crate::error::AppError;
use crate::i18n;
use crate::services::files::{self as cabinet, PostImages};
use crate::services::form::{self, FormOutcome};
use crate::services::room_posts::{self, RoomPostForm, Saved};
use crate::services::rooms::{self, RoomCtx};
use crate::web::AppState;
use crate::web::extract::{Ctx, CurrentUser, room_slug};
use crate::web::render::{self, redirect_with_flash};
use crate::web::views::room_posts::{
    CommentPage, EditorExtras, EditorForm, EditorPage, InboxPage, RoomPostPage, WhatsNewPage,
    body_with_image, image_markdown, inbox_item, live_item,
};
use crate::web::views::{ConfirmPage, Errors, Layout, feed};

fn saved_flash(saved: Saved) -> &'static str {
    match saved {
        Saved::Draft => "flash.post_draft_saved",
        Saved::Pending => "flash.post_pending",
        Saved::Published => "flash.post_published",
    }
}

/// The editor of `post_id` (or a new post) in `ctx`'s room.
fn editor(
    user: &CurrentUser,
    ctx: &RoomCtx,
    post_id: Option<i64>,
    form: EditorForm,
    extras: EditorExtras,
) -> EditorPage {
    let layout = Layout::new(user.ctx(), &EditorPage::path(&ctx.room.slug, post_id));
    EditorPage::new(layout, &user.actor(), ctx, post_id, form, extras)
}

/// The editor again with the rendered body above it: nothing is saved (works without JavaScript).
async fn preview_page(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
    post_id: Option<i64>,
    form: RoomPostForm,
) -> Result<HttpResponse, AppError> {
    let (actor, body) = (user.actor(), form.body.clone());
    let (ctx, html, images) = state
        .core
        .db
        .read(move |conn| {
            let (ctx, html) = room_posts::preview(conn, &actor, &slug, post_id, &body)?;
            let images = cabinet::post_images(conn, &actor, &ctx)?;
            Ok((ctx, html, images))
        })
        .await?;
    let extras = EditorExtras {
        preview: Some(html),
        images,
        ..EditorExtras::default()
    };
    render::ok(state, &editor(user, &ctx, post_id, (&form).into(), extras))
}

/// The editor again with the image chosen in its picker added to the end of the body (the picker
/// without JavaScript; nothing is saved). An image this author may not read in this room's
/// cabinet is refused under the picker.
async fn insert_image_page(
    state: &AppState,
    user: &CurrentUser,
    slug: String,
    post_id: Option<i64>,
    mut form: RoomPostForm,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let chosen = form.image.trim().parse::<i64>().ok().filter(|id| *id > 0);
    let (ctx, image, images) = state
        .core
        .db
        .read(move |conn| {
            // The same room and post checks as a preview.
            let (ctx, _) = room_posts::preview(conn, &actor, &slug, post_id, "")?;
            let image = match chosen {
                Some(id) => match cabinet::post_image(conn, &actor, &slug, id) {
                    Ok(image) => Some(image),
                    Err(AppError::NotFound) => None,
                    Err(e) => return Err(e),
                },
                None => None,
            };
            let images = cabinet::post_images(conn, &actor, &ctx)?;
            Ok((ctx, image, images))
        })
        .await?;
    let Some(image) = image else {
        let mut errors = crate::error::FieldErrors::default();
        errors.add("image", "editor.image_not_found");
        let extras = EditorExtras {
            errors: errors.into(),
            images,
            ..EditorExtras::default()
        };
        return render::invalid(state, &editor(user, &ctx, post_id, (&form).into(), extras));
    };
    form.body = body_with_image(&form.body, &image_markdown(&ctx.room.slug, &image));
    let extras = EditorExtras {
        images,
        ..EditorExtras::default()
    };
    render::ok(state, &editor(user, &ctx, post_id, (&form).into(), extras))
}

/// The editor shown again with the errors of a refused save (422).
async fn editor_invalid(
    state: &AppState,
    user: &CurrentUser,
    ctx: RoomCtx,
    post_id: Option<i64>,
    form: &RoomPostForm,
    errors: Errors,
) -> Result<HttpResponse, AppError> {
    let actor = user.actor();
    let (ctx, images) = state
        .core
        .db
        .read(move |conn| {
            let images = cabinet::post_images(conn, &actor, &ctx)?;
            Ok((ctx, images))
        })
        .await?;
    let extras = EditorExtras {
        errors,
        images,
        ..EditorExtras::default()
    };
    render::invalid(state, &editor(user, &ctx, post_id, form.into(), extras))
}

/// The room for an editor page and the cabinet's images for its picker.
fn with_images(
    conn: &mut crate::db::DbConn,
    actor: &crate::services::Actor,
    ctx: RoomCtx,
) -> crate::error::AppResult<(RoomCtx, PostImages)> {
    let images = cabinet::post_images(conn, actor, &ctx)?;
    Ok((ctx, images))
}

/// `GET /rooms/{room}/posts/new`.
pub async fn new_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let (ctx, images) = state
        .core
        .db
        .read(move |conn| {
            let ctx = room_posts::room_for_new_post(conn, &actor, &slug)?;
            with_images(conn, &actor, ctx)
        })
        .await?;
    let form = (&RoomPostForm::default()).into();
    let extras = EditorExtras {
        images,
        ..EditorExtras::default()
    };
    render::ok(&state, &editor(&user, &ctx, None, form, extras))
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
    match form.action.as_str() {
        "preview" => return preview_page(&state, &user, slug, None, form).await,
        "insert_image" => return insert_image_page(&state, &user, slug, None, form).await,
        _ => {}
    }
    let (actor, core, site) = (user.actor(), state.core.clone(), user.ctx().site.clone());
    let (s, f) = (slug.clone(), form.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| room_posts::create(&core, conn, &actor, &s, &f, &site),
                |conn| rooms::load(conn, Some(&actor), &s),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved((id, saved)) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/posts/{id}"),
            saved_flash(saved),
        )),
        FormOutcome::Invalid { errors, page } => {
            editor_invalid(&state, &user, page, None, &form, errors.into()).await
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
    let actor = ctx.actor();
    let post = state
        .core
        .db
        .read(move |conn| room_posts::show_with_comments(conn, actor.as_ref(), &slug, id))
        .await?;
    let path = format!("/rooms/{}/posts/{id}", post.page.ctx.room.slug);
    let page = RoomPostPage::new(Layout::new(&ctx, &path), &ctx.site, &post);
    render::ok(&state, &page)
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
    let (ctx, post, rev, images) = state
        .core
        .db
        .read(move |conn| {
            let (ctx, post, rev) = room_posts::for_edit(conn, &actor, &slug, id)?;
            let (ctx, images) = with_images(conn, &actor, ctx)?;
            Ok((ctx, post, rev, images))
        })
        .await?;
    let form = EditorForm::from_revision(&user.ctx().site, &post, &rev);
    let extras = EditorExtras {
        note: (rev.status == crate::db::types::RevisionStatus::SentBack).then(|| rev.note.clone()),
        images,
        ..EditorExtras::default()
    };
    render::ok(&state, &editor(&user, &ctx, Some(id), form, extras))
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
    match form.action.as_str() {
        "preview" => return preview_page(&state, &user, slug, Some(id), form).await,
        "insert_image" => return insert_image_page(&state, &user, slug, Some(id), form).await,
        _ => {}
    }
    let (actor, core, site) = (user.actor(), state.core.clone(), user.ctx().site.clone());
    let (s, f) = (slug.clone(), form.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| room_posts::update(&core, conn, &actor, &s, id, &f, &site),
                |conn| rooms::load(conn, Some(&actor), &s),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(saved) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/posts/{id}"),
            saved_flash(saved),
        )),
        FormOutcome::Invalid { errors, page } => {
            editor_invalid(&state, &user, page, Some(id), &form, errors.into()).await
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
        .write(move |conn| {
            room_posts::approve(&core, conn, &actor, &s, PostId(id), RevisionId(rev))
        })
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
        .write(move |conn| {
            room_posts::send_back(&core, conn, &actor, &s, PostId(id), RevisionId(rev), &note)
        })
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
    form: web::Form<super::ConfirmForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s) = (user.actor(), slug.clone());
    if !form.is_yes() {
        // A deleted post does not come back: ask first, naming it.
        let title = state
            .core
            .db
            .read(move |conn| room_posts::delete_preview(conn, &actor, &s, id))
            .await?;
        let lang = user.ctx().lang;
        let back = format!("/rooms/{slug}/posts/{id}");
        let page = ConfirmPage {
            layout: Layout::new(user.ctx(), &back),
            heading: i18n::t(lang, "posts.confirm_delete_heading", &[("title", &title)]),
            message: i18n::t(lang, "posts.confirm_delete", &[]),
            action: format!("{back}/delete"),
            fields: Vec::new(),
            confirm_label: i18n::t(lang, "posts.delete", &[]),
            cancel_url: Some(back),
        };
        return render::ok(&state, &page);
    }
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
    let (rows, events) = state
        .core
        .db
        .read(move |conn| {
            Ok((
                room_posts::inbox(conn, &actor)?,
                crate::services::calendar::approval::inbox(conn, &actor)?,
            ))
        })
        .await?;
    let site = &user.ctx().site;
    let page = InboxPage {
        layout: Layout::new(user.ctx(), "/inbox"),
        items: rows.iter().map(|r| inbox_item(site, r)).collect(),
        events: events
            .iter()
            .map(|w| crate::web::views::calendar::inbox_event(site, w))
            .collect(),
    };
    render::ok(&state, &page)
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

/// `GET /rooms/{room}/posts/{id}/comments/{comment}`: the comment's page, to change its words or
/// delete it.
pub async fn comment_page(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id, comment) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let change = state
        .core
        .db
        .read(move |conn| {
            room_posts::comment_for_change(conn, &actor, &slug, PostId(id), CommentId(comment))
        })
        .await?;
    let body = change.comment.body_md.clone();
    render::ok(
        &state,
        &comment_view_page(&user, &change, body, Errors::default()),
    )
}

/// The comment page of `change` for `user`.
fn comment_view_page(
    user: &CurrentUser,
    change: &room_posts::CommentChange,
    body: String,
    errors: Errors,
) -> CommentPage {
    let path = format!(
        "/rooms/{}/posts/{}/comments/{}",
        change.page.ctx.room.slug, change.page.post.id, change.comment.id
    );
    let own = change.comment.author_id == user.actor().id;
    CommentPage::new(Layout::new(user.ctx(), &path), change, own, body, errors)
}

/// `POST /rooms/{room}/posts/{id}/comments/{comment}`: new words for one's own comment.
pub async fn update_comment(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64, i64)>,
    form: web::Form<CommentForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, id, comment) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s, body) = (user.actor(), slug.clone(), form.into_inner().comment);
    let typed = body.clone();
    let (post, cm) = (PostId(id), CommentId(comment));
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| room_posts::update_comment(conn, &actor, &s, post, cm, &body),
                |conn| room_posts::comment_for_change(conn, &actor, &s, post, cm),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(waits) => Ok(redirect_with_flash(
            &state,
            &format!("/rooms/{slug}/posts/{id}#comment-{comment}"),
            if waits {
                "flash.comment_edited_pending"
            } else {
                "flash.comment_edited"
            },
        )),
        FormOutcome::Invalid { errors, page } => render::invalid(
            &state,
            &comment_view_page(&user, &page, typed, errors.into()),
        ),
    }
}

/// `POST /rooms/{room}/posts/{id}/comments/{comment}/delete`.
pub async fn delete_comment(
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
        .write(move |conn| {
            room_posts::delete_comment(conn, &actor, &s, PostId(id), CommentId(comment))
        })
        .await?;
    Ok(redirect_with_flash(
        &state,
        &format!("/rooms/{slug}/posts/{id}#comments-title"),
        "flash.comment_deleted",
    ))
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
        .write(move |conn| {
            room_posts::approve_comment(conn, &actor, &s, PostId(id), CommentId(comment))
        })
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
        .write(move |conn| crate::services::new_posts::set_mode(conn, &actor, &s, &mode))
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
        .read(move |conn| crate::services::new_posts::whats_new(conn, &actor))
        .await?;
    let site = &user.ctx().site;
    let items = rows
        .iter()
        .map(|(p, slug, room_name)| {
            let mut item = live_item(site, slug, p);
            item.room_name = Some(room_name.clone());
            item
        })
        .collect();
    let page = WhatsNewPage {
        layout: Layout::new(user.ctx(), "/new"),
        items,
    };
    render::ok(&state, &page)
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
        .read(move |conn| room_posts::feed(conn, &slug))
        .await?;
    let xml = feed::room_atom(&ctx.site, &state.core.config.base_url(), &room, &posts);
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .body(xml))
}
