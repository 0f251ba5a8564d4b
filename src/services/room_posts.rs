//! Room posts and the approval workflow (承認, DESIGN.md §5): every save is a revision; with approval
//! on, a revision from someone without publish rights waits (`pending`) until an approver publishes
//! it or sends it back with a note. The live revision stays visible while a newer one waits.
//! `publish_at` / `publish_until` are honoured by the queries, not by a cron; only the new-post mail
//! of a scheduled post waits for the jobs loop (`new_posts::announce_due`).

use chrono::NaiveDateTime;

use super::authz::{RoomAction, RoomRole, authorize_room};
use super::mail::{self, Recipient, emails};
use super::rooms::{RoomCtx, load_for};
use super::site::SiteSettings;
use super::{Actor, Core};
use crate::db::DbConn;
use crate::db::types::{CommentId, CommentStatus, PostId, RevisionId, RevisionStatus};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Lang;
use crate::markdown;
use crate::models::room_post::{self, NewRevision};
/// The rows post pages show (pages name them through this service, never through `models`).
pub use crate::models::room_post::{LivePost, PendingRow, Revision, RoomPost};
use crate::models::{audit, now, room, user};

/// The editor form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RoomPostForm {
    pub title: String,
    pub body: String,
    /// `datetime-local` in the site's time zone; empty = now.
    #[serde(default)]
    pub publish_at: String,
    /// `datetime-local`; empty = no end.
    #[serde(default)]
    pub publish_until: String,
    /// The public space only: the address (`/posts/{slug}`); empty = made from the title.
    #[serde(default)]
    pub slug: String,
    /// The public space only: comma-separated tags.
    #[serde(default)]
    pub tags: String,
    /// `draft` (一時保存) or `submit` (publish, or ask for approval); the handler answers
    /// `preview` itself.
    #[serde(default)]
    pub action: String,
    /// The language of the title and body (`ja`, `en`); empty = told by the text
    /// (`Lang::of_text`), or the author's own language when the text does not tell.
    #[serde(default)]
    pub lang: String,
    /// The image picker's choice (a file id of the room's cabinet), for `insert_image`.
    #[serde(default)]
    pub image: String,
}

struct CleanPost {
    title: String,
    publish_at: Option<NaiveDateTime>,
    publish_until: Option<NaiveDateTime>,
    draft: bool,
    /// The address and tags, in the public space.
    blog: Option<super::post_address::BlogFields>,
    /// The language of the title and body.
    lang: Lang,
}

fn validate(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &RoomCtx,
    post: Option<&RoomPost>,
    form: &RoomPostForm,
    site: &SiteSettings,
) -> AppResult<CleanPost> {
    let mut e = FieldErrors::default();
    let title = form.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
        e.add("title", "error.title_length");
    }
    if form.body.chars().count() > markdown::MAX_BODY_CHARS {
        e.add("body", "error.too_long");
    }
    let mut date = |field: &'static str, raw: &str| {
        let raw = raw.trim();
        if raw.is_empty() {
            return None;
        }
        let parsed = site.parse_local_input(raw);
        if parsed.is_none() {
            e.add(field, "error.date_format");
        }
        parsed
    };
    let publish_at = date("publish_at", &form.publish_at);
    let publish_until = date("publish_until", &form.publish_until);
    if let (Some(from), Some(until)) = (publish_at, publish_until)
        && until <= from
    {
        e.add("publish_until", "post.until_before_from");
    }
    let lang = match form.lang.as_str() {
        "" => None,
        code => {
            let chosen = Lang::ALL.into_iter().find(|l| l.code() == code);
            if chosen.is_none() {
                e.add("lang", "error.invalid_choice");
            }
            chosen
        }
    };
    let draft = match form.action.as_str() {
        "draft" => true,
        "submit" => false,
        _ => {
            e.add("action", "error.invalid_choice");
            true
        }
    };
    let blog = if ctx.room.is_public_space() {
        let fields = super::post_address::check_fields(
            conn,
            ctx.room.id,
            post.map(|p| p.id),
            &title,
            &form.slug,
            &form.tags,
            &mut e,
        )?;
        // The address is the post's, not a revision's, so a change applies at once: on a live post
        // only those whose saves go live without approval may make it (links out there would
        // break before anyone approved anything).
        if let Some(p) = post
            && p.live_revision_id.is_some()
            && p.slug.as_deref() != Some(fields.slug.as_str())
            && ctx.room.need_approval
            && !may(actor, ctx, RoomAction::Publish)
        {
            e.add("slug", "error.slug_needs_approval");
        }
        Some(fields)
    } else {
        None
    };
    e.into_result()?;
    let lang = match lang.or_else(|| Lang::of_text(&format!("{title} {}", form.body))) {
        Some(lang) => lang,
        // Neither chosen nor told by the letters (numbers, emoji): the author's own language.
        None => user::find(conn, actor.id)?
            .language
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or(site.language),
    };
    Ok(CleanPost {
        title,
        publish_at,
        publish_until,
        draft,
        blog,
        lang,
    })
}

/// The room must have its posts feature on (`authz` answered it in the room's capabilities).
fn ensure_blog(ctx: &RoomCtx) -> AppResult<()> {
    if ctx.can.blog {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The room whose editor a new post opens in: one with posts, where the actor may write.
pub fn room_for_new_post(conn: &mut DbConn, actor: &Actor, slug: &str) -> AppResult<RoomCtx> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::CreateContent)?;
    ensure_blog(&ctx)?;
    Ok(ctx)
}

fn may(actor: &Actor, ctx: &RoomCtx, action: RoomAction) -> bool {
    authorize_room(Some(actor), &ctx.access, action).is_ok()
}

/// Whether the actor's submitted post waits for approval in this room (rather than going live).
pub fn waits_for_approval(actor: &Actor, ctx: &RoomCtx) -> bool {
    ctx.room.need_approval && !may(actor, ctx, RoomAction::Publish)
}

/// What a save did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Saved {
    /// Kept as a draft.
    Draft,
    /// Waiting for approval.
    Pending,
    /// Published (live).
    Published,
}

/// Writes a revision from `form` for `post`, publishing it or sending it for approval.
fn save_revision(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &RoomCtx,
    post: &RoomPost,
    form: &RoomPostForm,
    clean: &CleanPost,
) -> AppResult<Saved> {
    let at = now();
    let outcome = if clean.draft {
        Saved::Draft
    } else if !waits_for_approval(actor, ctx) {
        Saved::Published
    } else {
        Saved::Pending
    };
    let status = match outcome {
        Saved::Draft => RevisionStatus::Draft,
        Saved::Pending => RevisionStatus::Pending,
        Saved::Published => RevisionStatus::Published,
    };
    let body_html = markdown::render(&form.body);
    let excerpt = markdown::excerpt(&form.body, 160);
    let tags = clean.blog.as_ref().map_or("", |b| b.tags.as_str());
    let search_text = crate::textsearch::normalize(&format!(
        "{} {} {}",
        clean.title,
        markdown::plain_text(&form.body),
        tags
    ));
    let revision_id = room_post::insert_revision(
        conn,
        &NewRevision {
            post_id: post.id,
            editor_id: actor.id,
            title: &clean.title,
            body_md: &form.body,
            body_html: &body_html,
            excerpt: &excerpt,
            search_text: &search_text,
            grams: &crate::textsearch::bigrams(&search_text),
            status: status.as_str(),
            // A published revision always has a time, so lists can order by it.
            publish_at: clean
                .publish_at
                .or((outcome == Saved::Published).then_some(at)),
            publish_until: clean.publish_until,
            created_at: at,
            tags,
            lang: clean.lang.code(),
        },
    )?;
    if let Some(b) = &clean.blog
        && post.slug.as_deref() != Some(b.slug.as_str())
    {
        // The address is the post's, not a revision's: it changes at once (editors only).
        crate::models::blog::set_slug(conn, post.id, &b.slug)?;
    }
    room_post::supersede_unpublished(conn, post.id, revision_id)?;
    match outcome {
        Saved::Published => {
            room_post::make_live(conn, post, revision_id, actor.id, at)?;
            // Live now: announced at once (if never before); scheduled: by the jobs loop later.
            if clean.publish_at.is_none_or(|p| p <= at) {
                super::new_posts::announce(core, conn, ctx, post, &clean.title, at)?;
            }
        }
        Saved::Pending => notify_approvers(core, conn, ctx, post, &clean.title)?,
        Saved::Draft => {}
    }
    Ok(outcome)
}

/// Creates a post in a room; returns its id and what happened to it.
pub fn create(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    form: &RoomPostForm,
    site: &SiteSettings,
) -> AppResult<(i64, Saved)> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::CreateContent)?;
    ensure_blog(&ctx)?;
    let clean = validate(conn, actor, &ctx, None, form, site)?;
    let post_id = room_post::insert_post(conn, ctx.room.id, actor.id, now())?;
    let post = room_post::find_post(conn, ctx.room.id, post_id)?;
    let saved = save_revision(core, conn, actor, &ctx, &post, form, &clean)?;
    audit::record(
        conn,
        Some(actor.id),
        "room_post.created",
        &format!("{} #{post_id}", ctx.room.slug),
        None,
    )?;
    Ok((post_id, saved))
}

/// Saves a new revision of a post (its author, or someone who may edit others' content).
pub fn update(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: i64,
    form: &RoomPostForm,
    site: &SiteSettings,
) -> AppResult<Saved> {
    let (ctx, post) = load_for_edit(conn, actor, slug, post_id)?;
    let clean = validate(conn, actor, &ctx, Some(&post), form, site)?;
    let saved = save_revision(core, conn, actor, &ctx, &post, form, &clean)?;
    audit::record(
        conn,
        Some(actor.id),
        "room_post.updated",
        &format!("{} #{post_id}", ctx.room.slug),
        None,
    )?;
    Ok(saved)
}

/// Loads a post the actor may edit (its author, or someone who may edit others' content).
fn load_for_edit(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: i64,
) -> AppResult<(RoomCtx, RoomPost)> {
    let ctx = super::rooms::load(conn, Some(actor), slug)?;
    ensure_blog(&ctx)?;
    let post = room_post::find_post(conn, ctx.room.id, post_id)?;
    authorize_room(
        Some(actor),
        &ctx.access,
        RoomAction::EditContent {
            own: post.author_id == actor.id,
        },
    )?;
    Ok((ctx, post))
}

/// Renders the editor's preview without saving anything: for those who may write a new post in the
/// room (`post_id` = `None`) or edit that post. Returns the room for the editor page.
pub fn preview(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: Option<i64>,
    body: &str,
) -> AppResult<(RoomCtx, String)> {
    let ctx = if let Some(id) = post_id {
        load_for_edit(conn, actor, slug, id)?.0
    } else {
        let ctx = load_for(conn, Some(actor), slug, RoomAction::CreateContent)?;
        ensure_blog(&ctx)?;
        ctx
    };
    // An oversize body is still shown (the request limit bounds it); saving it is refused.
    Ok((ctx, markdown::render(body)))
}

/// Approves (publishes) a waiting revision.
pub fn approve(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: PostId,
    revision_id: RevisionId,
) -> AppResult<()> {
    let (ctx, post, revision) = pending_revision(conn, actor, slug, post_id, revision_id)?;
    let at = now();
    room_post::make_live(conn, &post, revision.id, actor.id, at)?;
    notify_author(core, conn, &ctx, &post, &revision, Decision::Approved)?;
    if revision.publish_at.is_none_or(|p| p <= at) {
        super::new_posts::announce(core, conn, &ctx, &post, &revision.title, at)?;
    }
    audit::record(
        conn,
        Some(actor.id),
        "room_post.approved",
        &format!("{} #{post_id}", ctx.room.slug),
        None,
    )?;
    Ok(())
}

/// Sends a waiting revision back to its author with a note (差し戻し).
pub fn send_back(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: PostId,
    revision_id: RevisionId,
    note: &str,
) -> AppResult<()> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        let mut e = FieldErrors::default();
        e.add("note", "post.note_required");
        return Err(AppError::Invalid(e));
    }
    let (ctx, post, revision) = pending_revision(conn, actor, slug, post_id, revision_id)?;
    room_post::send_back(conn, revision.id, note, actor.id, now())?;
    let mut sent = revision.clone();
    note.clone_into(&mut sent.note);
    notify_author(core, conn, &ctx, &post, &sent, Decision::SentBack)?;
    audit::record(
        conn,
        Some(actor.id),
        "room_post.sent_back",
        &format!("{} #{post_id}", ctx.room.slug),
        None,
    )?;
    Ok(())
}

fn pending_revision(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: PostId,
    revision_id: RevisionId,
) -> AppResult<(RoomCtx, RoomPost, Revision)> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Publish)?;
    ensure_blog(&ctx)?;
    let post = room_post::find_post(conn, ctx.room.id, post_id.0)?;
    let revision = room_post::revision(conn, revision_id.0)?;
    if revision.post_id != post.id || revision.status != RevisionStatus::Pending {
        // Already decided (or someone else's revision id): nothing to do here.
        return Err(AppError::Conflict("post.already_decided"));
    }
    Ok((ctx, post, revision))
}

/// What a confirmation page names before a post is deleted: its title. Refused exactly as the
/// deletion itself would be, so nobody is asked to confirm what they may not do.
pub fn delete_preview(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: i64,
) -> AppResult<String> {
    let (_, post) = deletable(conn, actor, slug, post_id)?;
    Ok(room_post::latest_revision(conn, post.id)?.title)
}

/// Deletes a post; one that was ever published needs publish rights (NetCommons' rule).
pub fn delete(conn: &mut DbConn, actor: &Actor, slug: &str, post_id: i64) -> AppResult<()> {
    let (ctx, post) = deletable(conn, actor, slug, post_id)?;
    room_post::mark_deleted(conn, post.id, now())?;
    audit::record(
        conn,
        Some(actor.id),
        "room_post.deleted",
        &format!("{} #{post_id}", ctx.room.slug),
        None,
    )?;
    Ok(())
}

/// The room and the post, once authz allows `actor` to delete it.
fn deletable(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: i64,
) -> AppResult<(RoomCtx, RoomPost)> {
    let ctx = super::rooms::load(conn, Some(actor), slug)?;
    let post = room_post::find_post(conn, ctx.room.id, post_id)?;
    authorize_room(
        Some(actor),
        &ctx.access,
        RoomAction::DeleteContent {
            own: post.author_id == actor.id,
            ever_published: post.ever_published,
        },
    )?;
    Ok((ctx, post))
}

/// A post page: the live revision (if readers may see it now) and, for its author and approvers, the
/// newest revision when it is not the live one.
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts the page shows buttons for"
)]
pub struct PostPage {
    /// The room.
    pub ctx: RoomCtx,
    /// The post.
    pub post: RoomPost,
    /// The live revision, if readers see it now or the actor is its author or an approver.
    pub live: Option<Revision>,
    /// The live revision exists but readers do not see it now (before `publish_at`, after `publish_until`).
    pub hidden_from_readers: bool,
    /// A newer revision the actor may see (draft, waiting, sent back).
    pub newer: Option<Revision>,
    /// The author's display name.
    pub author_name: String,
    /// Whether the actor may approve or send back.
    pub can_publish: bool,
    /// Whether the actor may edit.
    pub can_edit: bool,
    /// Whether the actor may delete.
    pub can_delete: bool,
}

fn visible_now(r: &Revision, at: NaiveDateTime) -> bool {
    r.publish_at.is_some_and(|p| p <= at) && r.publish_until.is_none_or(|u| u > at)
}

/// Loads a post page; 404 unless the actor may see some revision of it.
pub fn show(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    post_id: i64,
) -> AppResult<PostPage> {
    let ctx = super::rooms::load(conn, actor, slug)?;
    ensure_blog(&ctx)?;
    let post = room_post::find_post(conn, ctx.room.id, post_id)?;
    let at = now();
    let live = match post.live_revision_id {
        Some(id) => Some(room_post::revision(conn, id)?),
        None => None,
    };
    let reader_visible = live.as_ref().is_some_and(|r| visible_now(r, at));
    let own = actor.is_some_and(|a| a.id == post.author_id);
    let allowed = |action| authorize_room(actor, &ctx.access, action).is_ok();
    let can_publish = allowed(RoomAction::Publish);
    let privileged = own || can_publish;
    let live = live.filter(|_| reader_visible || privileged);
    let latest = room_post::latest_revision(conn, post.id)?;
    let newer = privileged
        .then_some(latest)
        .filter(|l| Some(l.id) != post.live_revision_id);
    if live.is_none() && newer.is_none() {
        return Err(AppError::NotFound);
    }
    let author_name = user::find(conn, post.author_id)?.display_name;
    Ok(PostPage {
        can_edit: allowed(RoomAction::EditContent { own }),
        can_delete: allowed(RoomAction::DeleteContent {
            own,
            ever_published: post.ever_published,
        }),
        ctx,
        post,
        hidden_from_readers: live.is_some() && !reader_visible,
        live,
        newer,
        author_name,
        can_publish,
    })
}

/// A revision to edit from: the newest one (so a sent-back draft is fixed, not rewritten).
pub fn for_edit(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: i64,
) -> AppResult<(RoomCtx, RoomPost, Revision)> {
    let (ctx, post) = load_for_edit(conn, actor, slug, post_id)?;
    let latest = room_post::latest_revision(conn, post.id)?;
    Ok((ctx, post, latest))
}

/// The posts part of a room home.
pub struct RoomPosts {
    /// What readers see now, newest first.
    pub visible: Vec<LivePost>,
    /// The actor's own posts that readers do not see (yet), with their newest revision.
    pub mine: Vec<(RoomPost, Revision)>,
}

/// The posts part of a room home: what readers see, and the actor's own posts with their state.
pub fn room_posts(conn: &mut DbConn, actor: Option<&Actor>, ctx: &RoomCtx) -> AppResult<RoomPosts> {
    if ensure_blog(ctx).is_err() {
        return Ok(RoomPosts {
            visible: Vec::new(),
            mine: Vec::new(),
        });
    }
    let visible = room_post::visible_in_room(conn, ctx.room.id, now(), 20)?;
    // Those who may write here (members with the right, site admins) see their own unpublished posts.
    let mine = if let Some(a) =
        actor.filter(|a| authorize_room(Some(a), &ctx.access, RoomAction::CreateContent).is_ok())
    {
        room_post::authors_latest(conn, ctx.room.id, a.id)?
            .into_iter()
            .filter(|(_, r)| r.status != RevisionStatus::Published || !visible_now(r, now()))
            .collect()
    } else {
        Vec::new()
    };
    Ok(RoomPosts { visible, mine })
}

/// Everything a room's home page shows.
pub struct RoomHomePage {
    /// The room, its sub-rooms and members.
    pub home: super::rooms::RoomHome,
    /// Its posts.
    pub posts: RoomPosts,
    /// The actor's new-post mail mode, if a member.
    pub notify_mode: Option<crate::db::types::MailMode>,
}

/// Loads a room's home page (404 unless the actor may read the room).
pub fn home_page(conn: &mut DbConn, actor: Option<&Actor>, slug: &str) -> AppResult<RoomHomePage> {
    let home = super::rooms::home(conn, actor, slug)?;
    let posts = room_posts(conn, actor, &home.ctx)?;
    let notify_mode = match actor {
        Some(a) => super::new_posts::mode_of(conn, a, &home.ctx)?,
        None => None,
    };
    Ok(RoomHomePage {
        home,
        posts,
        notify_mode,
    })
}

/// A room's Atom feed: the room and what readers see in it, read as an anonymous visitor (a feed
/// reader never logs in, so only rooms anyone may read have one).
pub fn feed(conn: &mut DbConn, slug: &str) -> AppResult<(room::Room, Vec<LivePost>)> {
    let ctx = super::rooms::load(conn, None, slug)?;
    let posts = room_posts(conn, None, &ctx)?.visible;
    Ok((ctx.room, posts))
}

/// The approval inbox: every waiting revision the actor may approve, across rooms.
pub fn inbox(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<PendingRow>> {
    let pending = room_post::pending(conn)?;
    let rooms: std::collections::HashSet<i64> = pending.iter().map(|row| row.room_id).collect();
    // Every room with something waiting, with the actor's access, in one walk.
    let approves: std::collections::HashSet<i64> =
        super::rooms::readable_many(conn, actor, |r| rooms.contains(&r.id))?
            .into_iter()
            .filter(|ctx| authorize_room(Some(actor), &ctx.access, RoomAction::Publish).is_ok())
            .map(|ctx| ctx.room.id)
            .collect();
    Ok(pending
        .into_iter()
        .filter(|row| approves.contains(&row.room_id))
        .collect())
}

/// Mails everyone in the room who may approve (after the room's overrides) that a revision waits;
/// where no member may (the public space has no members after the upgrade or on a new site), the
/// site admins, who may approve everywhere, so the revision does not wait unseen.
fn notify_approvers(
    core: &Core,
    conn: &mut DbConn,
    ctx: &RoomCtx,
    post: &RoomPost,
    title: &str,
) -> AppResult<()> {
    let author = user::find(conn, post.author_id)?;
    let link = format!("{}/inbox", core.config.base_url());
    let contacts = room::contacts(conn, ctx.room.id)?;
    let roles: Vec<(i64, RoomRole)> = contacts.iter().map(|m| (m.user_id, m.role)).collect();
    let approvers: Vec<(i64, String, String, Option<String>)> =
        match super::authz::approvers(&ctx.access, &roles) {
            super::authz::Approvers::Members(ids) => contacts
                .into_iter()
                .filter(|m| ids.contains(&m.user_id))
                .map(|m| (m.user_id, m.email, m.display_name, m.language))
                .collect(),
            super::authz::Approvers::SiteAdmins => user::active_admins(conn)?
                .into_iter()
                .map(|u| (u.id, u.email, u.display_name, u.language))
                .collect(),
        };
    for (user_id, email, display_name, language) in approvers {
        if user_id == author.id {
            continue;
        }
        mail::queue(
            core,
            conn,
            &Recipient::account(user_id, &email, &display_name, language.as_deref()),
            &emails::ApprovalRequest {
                who: &author.display_name,
                room: &ctx.room.name,
                title,
                link: &link,
            },
        )?;
    }
    Ok(())
}

/// What an approver decided about a revision (the mail its author gets).
#[derive(Debug, Clone, Copy)]
enum Decision {
    Approved,
    SentBack,
}

/// Mails the author about a decision.
fn notify_author(
    core: &Core,
    conn: &mut DbConn,
    ctx: &RoomCtx,
    post: &RoomPost,
    revision: &Revision,
    decision: Decision,
) -> AppResult<()> {
    let author = user::find(conn, revision.editor_id)?;
    if author.disabled {
        return Ok(());
    }
    let to = Recipient::from(&author);
    let link = format!(
        "{}{}",
        core.config.base_url(),
        super::url_path(&format!("/rooms/{}/posts/{}", ctx.room.slug, post.id))
    );
    let (room, title) = (ctx.room.name.as_str(), revision.title.as_str());
    match decision {
        Decision::Approved => mail::queue(
            core,
            conn,
            &to,
            &emails::PostApproved {
                room,
                title,
                link: &link,
            },
        ),
        Decision::SentBack => mail::queue(
            core,
            conn,
            &to,
            &emails::PostSentBack {
                room,
                title,
                note: &revision.note,
                link: &link,
            },
        ),
    }
}

/// A comment as the post page shows it.
#[derive(Debug, Clone)]
pub struct CommentView {
    /// The comment.
    pub row: crate::models::comment::CommentRow,
    /// Waiting for approval (shown to its author and to comment approvers only).
    pub pending: bool,
    /// The actor may change or delete it (`comment_for_change` decides which).
    pub changeable: bool,
}

/// The comments the actor may see on a post, and whether they may comment and approve comments.
pub fn comments(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    page: &PostPage,
) -> AppResult<(Vec<CommentView>, bool, bool)> {
    let may_comment =
        page.live.is_some() && authorize_room(actor, &page.ctx.access, RoomAction::Comment).is_ok();
    let may_approve = authorize_room(actor, &page.ctx.access, RoomAction::ApproveComments).is_ok();
    let me = actor.map(|a| a.id);
    let may = |action| authorize_room(actor, &page.ctx.access, action).is_ok();
    let may_change_own =
        may(RoomAction::EditComment { own: true }) || may(RoomAction::DeleteComment { own: true });
    let may_delete_others = may(RoomAction::DeleteComment { own: false });
    let rows = crate::models::comment::for_post(conn, page.post.id)?
        .into_iter()
        .filter(|c| c.status == CommentStatus::Published || may_approve || Some(c.author_id) == me)
        .map(|row| CommentView {
            pending: row.status == CommentStatus::Pending,
            changeable: if Some(row.author_id) == me {
                may_change_own
            } else {
                may_delete_others
            },
            row,
        })
        .collect();
    Ok((rows, may_comment, may_approve))
}

/// A post's page with the comments the actor may see.
pub struct PostWithComments {
    /// The post.
    pub page: PostPage,
    /// Its comments, oldest first.
    pub comments: Vec<CommentView>,
    /// The actor may comment.
    pub may_comment: bool,
    /// The actor may approve waiting comments.
    pub may_approve_comments: bool,
}

/// Loads a post's page and its comments (`show`, then `comments`).
pub fn show_with_comments(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    post_id: i64,
) -> AppResult<PostWithComments> {
    let page = show(conn, actor, slug, post_id)?;
    let (comments, may_comment, may_approve_comments) = comments(conn, actor, &page)?;
    Ok(PostWithComments {
        page,
        comments,
        may_comment,
        may_approve_comments,
    })
}

/// Adds a comment to a published post; in rooms with comment approval it waits unless the author may
/// approve comments. The post's author is mailed (a waiting comment goes to the approvers first).
pub fn add_comment(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: i64,
    body: &str,
) -> AppResult<bool> {
    let page = show(conn, Some(actor), slug, post_id)?;
    if page.live.is_none() {
        return Err(AppError::NotFound);
    }
    authorize_room(Some(actor), &page.ctx.access, RoomAction::Comment)?;
    let body = comment_body(body)?;
    let waits = page.ctx.room.comment_approval
        && authorize_room(Some(actor), &page.ctx.access, RoomAction::ApproveComments).is_err();
    let status = if waits {
        CommentStatus::Pending
    } else {
        CommentStatus::Published
    };
    crate::models::comment::insert(
        conn,
        post_id,
        actor.id,
        body,
        &markdown::render(body),
        status,
        now(),
    )?;
    if !waits && page.post.author_id != actor.id {
        let title = page
            .live
            .as_ref()
            .map(|r| r.title.clone())
            .unwrap_or_default();
        let commenter = user::find(conn, actor.id)?.display_name;
        let author = user::find(conn, page.post.author_id)?;
        if !author.disabled {
            let link = format!(
                "{}{}",
                core.config.base_url(),
                super::url_path(&format!("/rooms/{}/posts/{post_id}", page.ctx.room.slug))
            );
            mail::queue(
                core,
                conn,
                &Recipient::from(&author),
                &emails::NewComment {
                    who: &commenter,
                    title: &title,
                    link: &link,
                },
            )?;
        }
    }
    audit::record(
        conn,
        Some(actor.id),
        "comment.added",
        &format!("{} #{post_id}", page.ctx.room.slug),
        None,
    )?;
    Ok(waits)
}

/// A comment's words, trimmed: refused when empty or longer than 5,000 characters.
fn comment_body(body: &str) -> AppResult<&str> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 5000 {
        let mut e = FieldErrors::default();
        e.add("comment", "post.comment_length");
        return Err(AppError::Invalid(e));
    }
    Ok(body)
}

/// A comment opened to be changed or deleted, with what the actor may do to it.
pub struct CommentChange {
    /// The post it belongs to.
    pub page: PostPage,
    /// The comment.
    pub comment: crate::models::comment::CommentSource,
    /// The actor may change its words (its author, while they may comment).
    pub may_edit: bool,
    /// The actor may delete it (its author, or a moderator).
    pub may_delete: bool,
}

/// Loads one comment of a post for its change page: 404 unless the actor sees it (a waiting
/// comment only for its author and approvers) and may change or delete it.
pub fn comment_for_change(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: PostId,
    comment_id: CommentId,
) -> AppResult<CommentChange> {
    let page = show(conn, Some(actor), slug, post_id.0)?;
    let comment =
        crate::models::comment::find(conn, post_id.0, comment_id.0)?.ok_or(AppError::NotFound)?;
    let own = comment.author_id == actor.id;
    let access = &page.ctx.access;
    let sees = comment.status == CommentStatus::Published
        || own
        || authorize_room(Some(actor), access, RoomAction::ApproveComments).is_ok();
    let may_edit = authorize_room(Some(actor), access, RoomAction::EditComment { own }).is_ok();
    let may_delete = authorize_room(Some(actor), access, RoomAction::DeleteComment { own }).is_ok();
    if !sees || !(may_edit || may_delete) {
        return Err(AppError::NotFound);
    }
    Ok(CommentChange {
        page,
        comment,
        may_edit,
        may_delete,
    })
}

/// Changes the words of the actor's own comment. In a room whose comments wait for approval, a
/// changed comment waits again unless its author may approve comments (else a harmless comment,
/// once approved, could be turned into anything). Returns whether it now waits.
pub fn update_comment(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: PostId,
    comment_id: CommentId,
    body: &str,
) -> AppResult<bool> {
    let change = comment_for_change(conn, actor, slug, post_id, comment_id)?;
    let access = &change.page.ctx.access;
    let own = change.comment.author_id == actor.id;
    authorize_room(Some(actor), access, RoomAction::EditComment { own })?;
    let body = comment_body(body)?;
    let waits = change.page.ctx.room.comment_approval
        && authorize_room(Some(actor), access, RoomAction::ApproveComments).is_err();
    let status = if waits {
        CommentStatus::Pending
    } else {
        change.comment.status
    };
    if body == change.comment.body_md {
        return Ok(status == CommentStatus::Pending);
    }
    // Conditional on the words just read: of two changes at once, the second finds them changed
    // and is refused instead of silently replacing the first (PostgreSQL's READ COMMITTED would
    // not stop it).
    if !crate::models::comment::update(
        conn,
        post_id.0,
        comment_id.0,
        &change.comment.body_md,
        body,
        &markdown::render(body),
        status,
        now(),
    )? {
        return Err(AppError::Conflict("comment.changed_meanwhile"));
    }
    audit::record(
        conn,
        Some(actor.id),
        "comment.edited",
        &format!("{} #{post_id}", change.page.ctx.room.slug),
        None,
    )?;
    Ok(status == CommentStatus::Pending)
}

/// Deletes a comment: its author's own, or anyone's for a moderator (who approves comments or
/// edits others' content). Recorded in the audit log with whose it was.
pub fn delete_comment(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: PostId,
    comment_id: CommentId,
) -> AppResult<()> {
    let change = comment_for_change(conn, actor, slug, post_id, comment_id)?;
    let own = change.comment.author_id == actor.id;
    authorize_room(
        Some(actor),
        &change.page.ctx.access,
        RoomAction::DeleteComment { own },
    )?;
    if !crate::models::comment::delete(conn, post_id.0, comment_id.0)? {
        return Err(AppError::NotFound);
    }
    let detail = (!own).then(|| format!("author #{}", change.comment.author_id));
    audit::record(
        conn,
        Some(actor.id),
        "comment.deleted",
        &format!("{} #{post_id}", change.page.ctx.room.slug),
        detail.as_deref(),
    )?;
    Ok(())
}

/// Publishes a waiting comment (comment approvers).
pub fn approve_comment(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    post_id: PostId,
    comment_id: CommentId,
) -> AppResult<()> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::ApproveComments)?;
    room_post::find_post(conn, ctx.room.id, post_id.0)?;
    if !crate::models::comment::approve(conn, post_id.0, comment_id.0, actor.id, now())? {
        return Err(AppError::NotFound);
    }
    audit::record(
        conn,
        Some(actor.id),
        "comment.approved",
        &format!("{} #{post_id}", ctx.room.slug),
        None,
    )?;
    Ok(())
}
