//! Room posts' pages: a post, the editor, the approval inbox and 新着.

use serde::Serialize;

use super::blog::post_url;
use super::rooms::{RoomItem, room_item};
use super::{Errors, Layout, Page, path_segment};
use crate::i18n::Lang;
use crate::services::Actor;
use crate::services::files::{CabinetImage, PostImages};
use crate::services::room_posts::{LivePost, PendingRow, Revision, RoomPost};
use crate::services::room_posts::{PostWithComments, RoomPostForm, waits_for_approval};
use crate::services::rooms::RoomCtx;
use crate::services::site::SiteSettings;

/// A revision as a page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionView {
    pub id: i64,
    pub title: String,
    /// Sanitised at save time by `markdown::render`.
    pub body_html: String,
    pub status: String,
    pub note: String,
    pub date: String,
    pub publish_until: Option<String>,
    /// The language of the title and body.
    pub lang: &'static str,
}

/// Builds a revision view.
pub fn revision_view(site: &SiteSettings, r: &Revision) -> RevisionView {
    RevisionView {
        id: r.id,
        title: r.title.clone(),
        body_html: r.body_html.clone(),
        status: r.status.to_string(),
        note: r.note.clone(),
        date: site.local_datetime(r.publish_at.unwrap_or(r.created_at)),
        publish_until: r.publish_until.map(|t| site.local_datetime(t)),
        lang: r.lang.code(),
    }
}

/// A post in a room's list.
#[derive(Debug, Clone, Serialize)]
pub struct RoomPostItem {
    pub url: String,
    pub title: String,
    pub excerpt: String,
    pub author_name: String,
    pub date: String,
    pub status: String,
    /// The room, on lists that span rooms (新着).
    pub room_name: Option<String>,
    /// The language of the title and excerpt.
    pub lang: &'static str,
}

/// Builds a list item for a visible post.
pub fn live_item(site: &SiteSettings, slug: &str, p: &LivePost) -> RoomPostItem {
    RoomPostItem {
        url: format!("/rooms/{slug}/posts/{}", p.post.id),
        title: p.revision.title.clone(),
        excerpt: p.revision.excerpt.clone(),
        author_name: p.author_name.clone(),
        date: site.local_date(p.revision.publish_at.unwrap_or(p.revision.created_at)),
        status: p.revision.status.to_string(),
        room_name: None,
        lang: p.revision.lang.code(),
    }
}

/// Builds a list item for one of the actor's own posts.
pub fn own_item(site: &SiteSettings, slug: &str, post_id: i64, r: &Revision) -> RoomPostItem {
    RoomPostItem {
        url: format!("/rooms/{slug}/posts/{post_id}"),
        title: r.title.clone(),
        excerpt: r.excerpt.clone(),
        author_name: String::new(),
        date: site.local_datetime(r.created_at),
        status: r.status.to_string(),
        room_name: None,
        lang: r.lang.code(),
    }
}

/// A waiting revision in the inbox.
#[derive(Debug, Clone, Serialize)]
pub struct InboxItem {
    pub revision: i64,
    pub post_id: i64,
    pub title: String,
    pub excerpt: String,
    pub url: String,
    pub room_slug: String,
    pub room_name: String,
    pub editor_name: String,
    pub date: String,
}

/// Builds an inbox row.
pub fn inbox_item(site: &SiteSettings, r: &PendingRow) -> InboxItem {
    InboxItem {
        revision: r.revision_id,
        post_id: r.post_id,
        title: r.title.clone(),
        excerpt: r.excerpt.clone(),
        url: format!("/rooms/{}/posts/{}", r.room_slug, r.post_id),
        room_slug: r.room_slug.clone(),
        room_name: r.room_name.clone(),
        editor_name: r.editor_name.clone(),
        date: site.local_datetime(r.created_at),
    }
}

/// A comment on the post page.
#[derive(Debug, Clone, Serialize)]
pub struct CommentItem {
    pub id: i64,
    pub author_name: String,
    /// Sanitised at save time by `markdown::render`.
    pub body_html: String,
    pub date: String,
    pub pending: bool,
    /// Its author changed its words after writing it.
    pub edited: bool,
    /// The visitor may change it (its author) or delete it (its author, a moderator): the post
    /// page links to the comment's own page.
    pub changeable: bool,
}

/// Builds a comment view.
pub fn comment_view(
    site: &SiteSettings,
    c: &crate::services::room_posts::CommentView,
) -> CommentItem {
    CommentItem {
        id: c.row.id,
        author_name: c.row.author_name.clone(),
        body_html: c.row.body_html.clone(),
        date: site.local_datetime(c.row.created_at),
        pending: c.pending,
        edited: c.row.edited_at.is_some(),
        changeable: c.changeable,
    }
}

/// `rooms/comment.html`: one comment's page, to change its words or delete it (the delete button
/// there is the confirmation the post page's link leads to).
#[derive(Debug, Clone, Serialize)]
pub struct CommentPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room.
    pub room: RoomItem,
    /// The post.
    pub post_id: i64,
    /// The post's title.
    pub post_title: String,
    /// The comment.
    pub comment_id: i64,
    /// The words in the form (what was typed, when shown again).
    pub body: String,
    /// Its author is the visitor.
    pub own: bool,
    /// Change its words.
    pub may_edit: bool,
    /// Delete it.
    pub may_delete: bool,
    /// Field errors when shown again.
    pub errors: Errors,
}

impl Page for CommentPage {
    const TEMPLATE: &'static str = "rooms/comment.html";
}

impl CommentPage {
    /// The page of `c`, its form holding `body`.
    pub fn new(
        layout: Layout,
        c: &crate::services::room_posts::CommentChange,
        own: bool,
        body: String,
        errors: Errors,
    ) -> Self {
        let page = &c.page;
        Self {
            layout,
            room: room_item(&page.ctx.room, page.ctx.access.role),
            post_id: page.post.id,
            post_title: page
                .live
                .as_ref()
                .or(page.newer.as_ref())
                .map(|r| r.title.clone())
                .unwrap_or_default(),
            comment_id: c.comment.id,
            body,
            own,
            may_edit: c.may_edit,
            may_delete: c.may_delete,
            errors,
        }
    }
}

/// `rooms/post.html`: a room's post, a newer revision for its author and approvers, the
/// approval buttons and the comments. The `can_*` and `may_*` flags copy the service's answers.
#[derive(Debug, Clone, Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a template context: each flag is one button the page may offer"
)]
pub struct RoomPostPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room.
    pub room: RoomItem,
    /// The post.
    pub post_id: i64,
    /// Its author's display name.
    pub author_name: String,
    /// What readers see (or would see), if anything.
    pub live: Option<RevisionView>,
    /// A newer revision (draft, waiting, sent back).
    pub newer: Option<RevisionView>,
    /// The live revision is outside its publishing window.
    pub hidden_from_readers: bool,
    /// Its page on the public blog (public space posts that readers see).
    pub public_url: Option<String>,
    /// Approve or send back.
    pub can_publish: bool,
    /// Edit.
    pub can_edit: bool,
    /// Delete.
    pub can_delete: bool,
    /// The comments the visitor may see.
    pub comments: Vec<CommentItem>,
    /// Write a comment.
    pub may_comment: bool,
    /// Approve waiting comments.
    pub may_approve_comments: bool,
}

impl Page for RoomPostPage {
    const TEMPLATE: &'static str = "rooms/post.html";
}

impl RoomPostPage {
    /// The page of `p`.
    pub fn new(layout: Layout, site: &SiteSettings, p: &PostWithComments) -> Self {
        let page = &p.page;
        let room = &page.ctx.room;
        let public_url = page
            .post
            .slug
            .as_deref()
            .filter(|_| room.is_public_space() && page.live.is_some() && !page.hidden_from_readers)
            .map(post_url);
        Self {
            layout,
            room: room_item(room, page.ctx.access.role),
            post_id: page.post.id,
            author_name: page.author_name.clone(),
            live: page.live.as_ref().map(|r| revision_view(site, r)),
            newer: page.newer.as_ref().map(|r| revision_view(site, r)),
            hidden_from_readers: page.hidden_from_readers,
            public_url,
            can_publish: page.can_publish,
            can_edit: page.can_edit,
            can_delete: page.can_delete,
            comments: p.comments.iter().map(|c| comment_view(site, c)).collect(),
            may_comment: p.may_comment,
            may_approve_comments: p.may_approve_comments,
        }
    }
}

/// `rooms/post_edit.html`: the editor of a new or an existing post.
#[derive(Debug, Clone, Serialize)]
pub struct EditorPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room.
    pub room: RoomItem,
    /// The post being edited (`None`: a new one).
    pub post_id: Option<i64>,
    /// The submit button asks for approval (the service's answer for this author and room).
    pub need_approval: bool,
    /// An approver's note on a sent-back revision.
    pub note: Option<String>,
    /// The rendered body, when the editor shows a preview.
    pub preview: Option<String>,
    /// The public space's editor also has the address and tags.
    pub public_space: bool,
    /// The form's values.
    pub form: EditorForm,
    /// Field errors.
    pub errors: Errors,
    /// The room cabinet's images the picker offers (newest first).
    pub images: Vec<ImageChoice>,
    /// Where the editor's script starts an image upload into the cabinet's top folder (`None`:
    /// the room has no cabinet or the author may not upload there).
    pub image_upload: Option<String>,
    /// The cabinet's upload and file addresses, which the script completes with ids.
    pub uploads_base: String,
    /// The start of a file's address.
    pub file_base: String,
}

/// An image the editor's picker offers.
#[derive(Debug, Clone, Serialize)]
pub struct ImageChoice {
    /// The file.
    pub id: i64,
    /// Its folders and name (`写真 / 運動会.jpg`).
    pub label: String,
}

/// The Markdown that shows `image` of the room `slug` in a post: its name without the extension as
/// the alternative text, the file's own address (the name percent-encoded, so spaces and Japanese
/// stay one link).
pub fn image_markdown(slug: &str, image: &CabinetImage) -> String {
    let stem = image
        .name
        .rsplit_once('.')
        .map_or(image.name.as_str(), |(stem, _)| stem);
    let mut alt = String::with_capacity(stem.len());
    for c in stem.chars() {
        if matches!(c, '\\' | '[' | ']' | '*' | '_' | '`' | '<' | '>') {
            alt.push('\\');
        }
        alt.push(c);
    }
    format!(
        "![{alt}](/rooms/{slug}/files/file/{}/{})",
        image.id,
        path_segment(&image.name)
    )
}

/// The body with the image's Markdown added at its end, on a paragraph of its own.
pub fn body_with_image(body: &str, markdown: &str) -> String {
    let trimmed = body.trim_end();
    if trimmed.is_empty() {
        format!("{markdown}\n")
    } else {
        format!("{trimmed}\n\n{markdown}\n")
    }
}

impl Page for EditorPage {
    const TEMPLATE: &'static str = "rooms/post_edit.html";
}

/// The editor's values.
#[derive(Debug, Clone, Serialize)]
pub struct EditorForm {
    pub title: String,
    pub body: String,
    pub publish_at: String,
    pub publish_until: String,
    pub slug: String,
    pub tags: String,
    /// `ja`, `en`, or empty: told by the text.
    pub lang: String,
}

impl From<&RoomPostForm> for EditorForm {
    fn from(f: &RoomPostForm) -> Self {
        Self {
            title: f.title.clone(),
            body: f.body.clone(),
            publish_at: f.publish_at.clone(),
            publish_until: f.publish_until.clone(),
            slug: f.slug.clone(),
            tags: f.tags.clone(),
            lang: f.lang.clone(),
        }
    }
}

impl EditorForm {
    /// The editor filled from a post's newest revision, times in the site's zone.
    pub fn from_revision(site: &SiteSettings, post: &RoomPost, rev: &Revision) -> Self {
        let local =
            |t: Option<chrono::NaiveDateTime>| t.map(|t| site.local_input(t)).unwrap_or_default();
        Self {
            title: rev.title.clone(),
            body: rev.body_md.clone(),
            publish_at: local(rev.publish_at),
            publish_until: local(rev.publish_until),
            slug: post.slug.clone().unwrap_or_default(),
            tags: rev.tags.clone(),
            // Chosen only when the text alone would have said otherwise: an edit that changes
            // the language then changes the post's with it.
            lang: if Lang::of_text(&format!("{} {}", rev.title, rev.body_md)) == Some(rev.lang) {
                String::new()
            } else {
                rev.lang.code().to_owned()
            },
        }
    }
}

/// What the editor page shows besides its form.
#[derive(Debug, Clone, Default)]
pub struct EditorExtras {
    /// An approver's note on a sent-back revision.
    pub note: Option<String>,
    /// The rendered body of a preview.
    pub preview: Option<String>,
    /// Field errors.
    pub errors: Errors,
    /// The cabinet's images and whether the author may upload one.
    pub images: PostImages,
}

impl EditorPage {
    /// The editor of `post_id` (or a new post) in `ctx`'s room, for `actor`.
    pub fn new(
        layout: Layout,
        actor: &Actor,
        ctx: &RoomCtx,
        post_id: Option<i64>,
        form: EditorForm,
        extras: EditorExtras,
    ) -> Self {
        Self {
            layout,
            room: room_item(&ctx.room, None),
            post_id,
            // Whether the submit button publishes or asks for approval depends on who presses it.
            need_approval: waits_for_approval(actor, ctx),
            note: extras.note,
            preview: extras.preview,
            public_space: ctx.room.is_public_space(),
            form,
            errors: extras.errors,
            images: extras
                .images
                .images
                .iter()
                .map(|image| ImageChoice {
                    id: image.id,
                    label: image
                        .folders
                        .iter()
                        .chain(std::iter::once(&image.name))
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(" / "),
                })
                .collect(),
            image_upload: extras
                .images
                .may_upload
                .then(|| format!("/rooms/{}/files/folder/0/uploads", ctx.room.slug)),
            uploads_base: format!("/rooms/{}/files/uploads/", ctx.room.slug),
            file_base: format!("/rooms/{}/files/file/", ctx.room.slug),
        }
    }

    /// The editor's own path (new post, or a post's edit page).
    pub fn path(slug: &str, post_id: Option<i64>) -> String {
        match post_id {
            Some(id) => format!("/rooms/{slug}/posts/{id}/edit"),
            None => format!("/rooms/{slug}/posts/new"),
        }
    }
}

/// `inbox.html`: everything the member may approve, across rooms.
#[derive(Debug, Clone, Serialize)]
pub struct InboxPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The waiting revisions.
    pub items: Vec<InboxItem>,
    /// The waiting calendar events.
    pub events: Vec<super::calendar::InboxEvent>,
}

impl Page for InboxPage {
    const TEMPLATE: &'static str = "inbox.html";
}

/// `new.html`: 新着, the newest posts across the member's rooms.
#[derive(Debug, Clone, Serialize)]
pub struct WhatsNewPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The posts, newest first, each with its room.
    pub items: Vec<RoomPostItem>,
}

impl Page for WhatsNewPage {
    const TEMPLATE: &'static str = "new.html";
}
