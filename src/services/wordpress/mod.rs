//! `yui import wordpress export.xml [--uploads DIR] [--room SLUG]` (issue #13 item 7): a WordPress
//! export (WXR) into the public space's blog or a room's posts.
//!
//! Two passes over the file, each a stream (`wxr`), so memory stays flat. The first pass writes
//! nothing: it checks the whole file (hostile XML is refused here: a `<!DOCTYPE>`, an unknown
//! entity, a text over 16 MiB) and gathers the authors and attachments. The second pass writes
//! everything in ONE transaction, so a file that fails halfway leaves nothing behind.
//!
//! What becomes what:
//! * posts and pages → room posts (WordPress has pages, Yui does not: a page is a post too), with
//!   their date, their address (`wp:post_name`, decoded; a taken one gets `-2`; the public space
//!   only, the only room with addresses) and state (`publish` and `future` published, `draft`,
//!   `private` and password-protected posts kept as drafts, `pending` waiting for approval);
//! * categories and tags → the post's tags (the public space only; elsewhere they are counted
//!   as skipped), `Uncategorized` left out;
//! * content → the same sanitiser as Markdown (`markdown::clean_html`), stored as a Markdown
//!   source that is one raw HTML block (`markdown::html_as_markdown`), so the post renders as its
//!   sanitised HTML today and after any later edit in Yui's editor;
//! * comments → comments, approved ones shown, `0` waiting for approval, spam, trash, pingbacks
//!   and trackbacks skipped;
//! * authors → disabled members to be invited later (login kept if free, display name kept; an
//!   author whose address is already a member's is that member); visitors who commented →
//!   disabled members too (their address kept only if free);
//! * attachments, with `--uploads` → files in the room's cabinet (folder `WordPress`), and links
//!   to `…/wp-content/uploads/PATH` (resized copies `-300x200` included) rewritten to them.
//!
//! Every imported item is remembered in `import_sources` by its WordPress id, so a second run
//! imports nothing twice (and picks up what is new in a newer export).

pub mod wxr;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDateTime;
use diesel::RunQueryDsl;

use self::wxr::{Entry, Item, WxrError};
use super::Core;
use crate::db::DbConn;
use crate::db::types::{CommentStatus, Feature, RevisionStatus};
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;
use crate::markdown;
use crate::models::room_post::{self, NewRevision};
use crate::models::user::{NewUser, SiteRole};
use crate::models::{audit, blog, comment, import_source, now, room, user};

/// What to import and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The WXR file.
    pub file: PathBuf,
    /// WordPress's `wp-content/uploads` folder, copied from the old server.
    pub uploads: Option<PathBuf>,
    /// The room to import into (default: the public space).
    pub room: Option<String>,
}

/// Counts of one kind of thing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// Brought in by this run.
    pub imported: usize,
    /// Brought in by an earlier run (left as they are).
    pub already: usize,
    /// Left out (the reasons are in `Summary::skipped`).
    pub skipped: usize,
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// Where the posts went (`/rooms/{slug}`).
    pub room: String,
    pub posts: Count,
    pub pages: Count,
    pub comments: Count,
    pub authors: Count,
    /// Visitors who commented (disabled members too).
    pub commenters: Count,
    pub attachments: Count,
    pub tags: Count,
    /// Why things were left out or changed: reason → how many.
    pub skipped: BTreeMap<String, usize>,
}

impl Summary {
    fn skip(&mut self, reason: impl Into<String>) {
        *self.skipped.entry(reason.into()).or_default() += 1;
    }

    /// The summary as lines for the terminal.
    pub fn lines(&self) -> Vec<String> {
        let line = |what: &str, c: &Count| {
            format!(
                "{what:<12} {} imported, {} already there, {} skipped",
                c.imported, c.already, c.skipped
            )
        };
        let mut out = vec![
            format!("imported into {}", self.room),
            line("posts", &self.posts),
            line("pages", &self.pages),
            line("comments", &self.comments),
            line("authors", &self.authors),
            line("commenters", &self.commenters),
            line("attachments", &self.attachments),
            line("tags", &self.tags),
        ];
        if !self.skipped.is_empty() {
            out.push("left out or changed:".into());
            for (reason, n) in &self.skipped {
                out.push(format!("  {n} × {reason}"));
            }
        }
        out
    }
}

/// Where an attachment's file is.
#[derive(Debug, Clone)]
struct Attachment {
    post_id: String,
    /// The path under `wp-content/uploads/` (`2024/05/photo.jpg`).
    rel: String,
    creator: String,
}

/// What the first pass learnt (`check`): the file is a WordPress export that is safe to read.
#[derive(Debug, Default)]
pub struct Scan {
    base: String,
    version: bool,
    authors: Vec<wxr::Author>,
    attachments: Vec<Attachment>,
    /// How many `<item>`s the file holds.
    pub items: u64,
}

/// Reads the whole file once without writing anything: refuses it if it is hostile or not a
/// WordPress export, and gathers what the second pass needs first.
/// `checked` is told the number of items read so far.
pub fn check(path: &Path, checked: &mut dyn FnMut(u64)) -> anyhow::Result<Scan> {
    let mut s = Scan::default();
    let file = open(path)?;
    wxr::read(file, &mut |entry| {
        match entry {
            Entry::BaseUrl(b) => {
                if s.base.is_empty() {
                    s.base = b;
                }
            }
            Entry::Version(_) => s.version = true,
            Entry::Author(a) => s.authors.push(a),
            Entry::Item(item) => {
                s.items += 1;
                checked(s.items);
                if item.post_type == "attachment" {
                    let rel = if item.attached_file.is_empty() {
                        uploads_path(&item.attachment_url).unwrap_or_default()
                    } else {
                        item.attached_file.clone()
                    };
                    s.attachments.push(Attachment {
                        post_id: item.post_id.clone(),
                        rel,
                        creator: item.creator.clone(),
                    });
                }
            }
        }
        Ok(())
    })
    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    if !s.version {
        anyhow::bail!(
            "{}: {}",
            path.display(),
            WxrError::NotWxr("no <wp:wxr_version> in the channel")
        );
    }
    Ok(s)
}

fn open(path: &Path) -> anyhow::Result<BufReader<File>> {
    let file =
        File::open(path).map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?;
    Ok(BufReader::with_capacity(64 * 1024, file))
}

/// The part of a URL after `/wp-content/uploads/`, percent-decoded, without query or fragment.
fn uploads_path(url: &str) -> Option<String> {
    const MARK: &str = "/wp-content/uploads/";
    let i = url.find(MARK)?;
    let rest = &url[i + MARK.len()..];
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    let decoded = percent_encoding::percent_decode_str(rest)
        .decode_utf8()
        .ok()?
        .into_owned();
    (!decoded.is_empty()).then_some(decoded)
}

/// A resized copy's name (`photo-300x200.jpg`) → the original's (`photo.jpg`).
fn original_of(rel: &str) -> Option<String> {
    let (stem, ext) = rel.rsplit_once('.')?;
    let (base, size) = stem.rsplit_once('-')?;
    let (w, h) = size.split_once('x')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(w) && digits(h)).then(|| format!("{base}.{ext}"))
}

/// Rewrites every link to a known upload (`…/wp-content/uploads/PATH`, any host, resized copies
/// too) to the file's new address.
fn rewrite_uploads(html: &str, urls: &HashMap<String, String>) -> String {
    const MARK: &str = "/wp-content/uploads/";
    if urls.is_empty() || !html.contains(MARK) {
        return html.to_owned();
    }
    let is_edge =
        |c: char| matches!(c, '"' | '\'' | '(' | ')' | '=' | '<' | '>') || c.is_whitespace();
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(MARK) {
        let start = rest[..i].rfind(is_edge).map_or(0, |p| p + 1);
        let after = &rest[i + MARK.len()..];
        let end = after.find(is_edge).unwrap_or(after.len());
        let url = &rest[start..i + MARK.len() + end];
        let target = uploads_path(url).and_then(|rel| {
            urls.get(&rel)
                .or_else(|| original_of(&rel).and_then(|r| urls.get(&r)))
        });
        out.push_str(&rest[..start]);
        out.push_str(target.map_or(url, String::as_str));
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// HTML tags that start a block (WordPress's `wpautop` leaves these alone).
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "iframe",
    "li",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "video",
    "audio",
    "script",
    "style",
];

fn starts_block(chunk: &str) -> bool {
    if chunk.starts_with("<!--") {
        return true;
    }
    let Some(tag) = chunk.strip_prefix('<') else {
        return false;
    };
    let tag = tag.strip_prefix('/').unwrap_or(tag);
    let name: String = tag
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase();
    BLOCK_TAGS.contains(&name.as_str())
}

/// WordPress's `wpautop`, simplified: classic-editor text keeps its paragraphs as blank lines and
/// its line breaks as newlines; blocks (and `<pre>`, whole) are left as they are.
fn autop(content: &str) -> String {
    let text = content.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut pre: Option<String> = None;
    for chunk in text.split("\n\n") {
        if let Some(open) = pre.as_mut() {
            open.push_str("\n\n");
            open.push_str(chunk);
            if chunk.contains("</pre>") {
                out.push_str(open);
                out.push('\n');
                pre = None;
            }
            continue;
        }
        let trimmed = chunk.trim();
        if trimmed.is_empty() {
            continue;
        }
        let opens_pre = trimmed.contains("<pre") && !trimmed.contains("</pre>");
        if opens_pre {
            pre = Some(chunk.trim_start().to_owned());
        } else if starts_block(trimmed) {
            out.push_str(trimmed);
            out.push('\n');
        } else {
            out.push_str("<p>");
            out.push_str(&trimmed.replace('\n', "<br>\n"));
            out.push_str("</p>\n");
        }
    }
    if let Some(open) = pre {
        out.push_str(&open);
    }
    out
}

/// A WordPress HTML body as Yui stores it: (Markdown source, rendered HTML, plain text).
fn convert_html(content: &str, urls: &HashMap<String, String>) -> (String, String, String) {
    let clean = markdown::clean_html(&rewrite_uploads(&autop(content), urls));
    let source = markdown::html_as_markdown(&clean);
    let html = markdown::render(&source);
    let text = markdown::html_text(&clean);
    (source, html, text)
}

/// `2024-05-01 09:30:00` (UTC, or the site's local time for `post_date`); WordPress writes
/// `0000-00-00 00:00:00` for drafts that never had a date.
fn parse_date(raw: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%d %H:%M:%S").ok()
}

fn item_date(item: &Item) -> NaiveDateTime {
    parse_date(&item.post_date_gmt)
        .or_else(|| parse_date(&item.post_date))
        .unwrap_or_else(now)
}

/// A title Yui accepts (1–200 characters, no control characters).
fn clean_title(raw: &str, fallback: &str) -> String {
    let t: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .chars()
        .take(200)
        .collect();
    if t.is_empty() {
        fallback.chars().take(200).collect()
    } else {
        t
    }
}

/// A display name Yui accepts.
fn clean_name(raw: &str, fallback: &str) -> String {
    let n: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(80)
        .collect();
    if n.is_empty() { fallback.to_owned() } else { n }
}

/// A free login like `wanted` (lower-cased, other characters dropped), else `fallback-N`.
fn free_login(conn: &mut DbConn, wanted: &str, fallback: &str) -> AppResult<String> {
    let mut base: String = wanted
        .to_lowercase()
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(26)
        .collect();
    if !super::account::valid_login(&base) {
        fallback.clone_into(&mut base);
    }
    if user::find_by_login_opt(conn, &base)?.is_none() {
        return Ok(base);
    }
    for n in 2..100_000 {
        let candidate = format!("{base}-{n}");
        if user::find_by_login_opt(conn, &candidate)?.is_none() {
            return Ok(candidate);
        }
    }
    Err(AppError::Conflict("error.login_taken"))
}

/// One run's writing state.
struct Writer<'a> {
    core: &'a Core,
    source: String,
    room: room::Room,
    public: bool,
    at: NaiveDateTime,
    /// The site's language: a post whose letters do not tell is written in it.
    language: Lang,
    password_hash: String,
    /// WordPress login → member id.
    authors: HashMap<String, i64>,
    /// WordPress user id → login.
    author_ids: HashMap<String, String>,
    /// Upload path → new address.
    urls: HashMap<String, String>,
    summary: Summary,
}

impl Writer<'_> {
    fn seen(&self, conn: &mut DbConn, guid: &str) -> AppResult<Option<i64>> {
        Ok(import_source::find(conn, &self.source, guid)?)
    }

    fn remember(&self, conn: &mut DbConn, guid: &str, id: i64) -> AppResult<()> {
        Ok(import_source::remember(
            conn,
            &self.source,
            guid,
            id,
            self.at,
        )?)
    }

    /// A new disabled member (to be invited later).
    fn new_member(
        &self,
        conn: &mut DbConn,
        login: &str,
        fallback_login: &str,
        email: &str,
        name: &str,
    ) -> AppResult<i64> {
        let login = free_login(conn, login, fallback_login)?;
        let email = if super::account::valid_email(email) && !user::email_taken(conn, email, None)?
        {
            email.to_owned()
        } else {
            format!("{login}@wordpress-import.invalid")
        };
        let name = clean_name(name, &login);
        let u = user::insert(
            conn,
            &NewUser {
                login: &login,
                email: &email,
                display_name: &name,
                password_hash: &self.password_hash,
                site_role: SiteRole::Member.as_str(),
                language: None,
                disabled: true,
                created_at: self.at,
                updated_at: self.at,
            },
        )?;
        Ok(u.id)
    }

    fn author(&mut self, conn: &mut DbConn, a: &wxr::Author) -> AppResult<()> {
        if a.login.is_empty() {
            self.summary.authors.skipped += 1;
            self.summary.skip("author without a login");
            return Ok(());
        }
        if !a.id.is_empty() {
            self.author_ids.insert(a.id.clone(), a.login.clone());
        }
        let guid = format!("author:{}", a.login);
        if let Some(id) = self.seen(conn, &guid)? {
            self.authors.insert(a.login.clone(), id);
            self.summary.authors.already += 1;
            return Ok(());
        }
        let existing = if super::account::valid_email(&a.email) {
            user::find_by_email(conn, &a.email)?
        } else {
            None
        };
        let id = if let Some(u) = existing {
            self.summary
                .skip("author matched to the member with the same address");
            u.id
        } else {
            let name = if a.display_name.is_empty() {
                &a.login
            } else {
                &a.display_name
            };
            self.new_member(conn, &a.login, "wp-author", &a.email, name)?
        };
        self.remember(conn, &guid, id)?;
        self.authors.insert(a.login.clone(), id);
        self.summary.authors.imported += 1;
        Ok(())
    }

    /// The member who wrote an item: its `dc:creator` (an author not in the list is made too).
    fn author_of(&mut self, conn: &mut DbConn, login: &str) -> AppResult<i64> {
        if let Some(id) = self.authors.get(login) {
            return Ok(*id);
        }
        let a = wxr::Author {
            id: String::new(),
            login: if login.is_empty() {
                "wordpress".into()
            } else {
                login.to_owned()
            },
            email: String::new(),
            display_name: String::new(),
        };
        self.author(conn, &a)?;
        let id = self.authors.get(&a.login).copied();
        self.authors
            .insert(login.to_owned(), id.unwrap_or_default());
        id.ok_or_else(|| AppError::Internal(anyhow::anyhow!("no author for {login}")))
    }

    fn attachment(&mut self, conn: &mut DbConn, a: &Attachment, uploads: &Path) -> AppResult<()> {
        let guid = format!("attachment:{}", a.post_id);
        if let Some(id) = self.seen(conn, &guid)? {
            if let Ok(f) = crate::models::file::find_file(conn, self.room.id, id) {
                self.urls
                    .insert(a.rel.clone(), file_url(&self.room.slug, id, &f.name));
            }
            self.summary.attachments.already += 1;
            return Ok(());
        }
        let skip = |s: &mut Summary, why: &str| {
            s.attachments.skipped += 1;
            s.skip(format!("attachment {}: {why}", a.rel));
        };
        let Some(path) = safe_join(uploads, &a.rel) else {
            skip(
                &mut self.summary,
                "not a plain path under the uploads folder",
            );
            return Ok(());
        };
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() => {}
            Ok(_) => {
                skip(&mut self.summary, "not a regular file");
                return Ok(());
            }
            Err(_) => {
                skip(&mut self.summary, "not found in the uploads folder");
                return Ok(());
            }
        }
        let raw_name = a.rel.rsplit('/').next().unwrap_or(&a.rel);
        let Ok(name) = crate::files::names::clean_upload_name(raw_name) else {
            skip(&mut self.summary, "a file name Yui does not accept");
            return Ok(());
        };
        let storage = &self.core.storage;
        let limit = self.core.config.storage.max_file_bytes;
        let staged = match storage.stage_file(&path, limit) {
            Ok(s) => s,
            Err(crate::storage::StoreError::TooLarge) => {
                skip(&mut self.summary, "larger than the largest file allowed");
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let uploader = self.author_of(conn, &a.creator)?;
        let result = super::files::import_file(
            storage,
            conn,
            self.room.id,
            "WordPress",
            uploader,
            &staged,
            &name,
        );
        storage.discard(&staged);
        let id = match result {
            Ok(id) => id,
            Err(AppError::OverQuota) => {
                skip(&mut self.summary, "the room's quota is full");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let stored = crate::models::file::find_file(conn, self.room.id, id)?;
        self.urls
            .insert(a.rel.clone(), file_url(&self.room.slug, id, &stored.name));
        self.remember(conn, &guid, id)?;
        self.summary.attachments.imported += 1;
        Ok(())
    }

    fn item(&mut self, conn: &mut DbConn, item: &Item) -> AppResult<()> {
        let kind = item.post_type.as_str();
        let count: fn(&mut Summary) -> &mut Count = match kind {
            "post" => posts_count,
            "page" => pages_count,
            "attachment" => return Ok(()),
            other => {
                self.summary.skip(format!("item of type {other:?}"));
                return Ok(());
            }
        };
        let guid = format!("post:{}", item.post_id);
        if item.post_id.is_empty() {
            count(&mut self.summary).skipped += 1;
            self.summary.skip(format!("{kind} without a wp:post_id"));
            return Ok(());
        }
        let post_id = if let Some(id) = self.seen(conn, &guid)? {
            count(&mut self.summary).already += 1;
            id
        } else {
            let status = match item.status.as_str() {
                "publish" | "future" if !item.password.is_empty() => {
                    self.summary
                        .skip(format!("{kind} protected by a password: kept as a draft"));
                    RevisionStatus::Draft
                }
                "publish" | "future" => RevisionStatus::Published,
                "draft" => RevisionStatus::Draft,
                "private" => {
                    self.summary
                        .skip(format!("private {kind}: kept as a draft"));
                    RevisionStatus::Draft
                }
                "pending" => RevisionStatus::Pending,
                other => {
                    count(&mut self.summary).skipped += 1;
                    self.summary.skip(format!("{kind} with status {other:?}"));
                    return Ok(());
                }
            };
            let id = self.write_post(conn, item, status)?;
            self.remember(conn, &guid, id)?;
            count(&mut self.summary).imported += 1;
            id
        };
        for c in &item.comments {
            self.comment(conn, post_id, c)?;
        }
        Ok(())
    }

    fn write_post(
        &mut self,
        conn: &mut DbConn,
        item: &Item,
        status: RevisionStatus,
    ) -> AppResult<i64> {
        let date = item_date(item);
        let author = self.author_of(conn, &item.creator)?;
        let (source, html, text) = convert_html(&item.content, &self.urls);
        let slug_source = percent_encoding::percent_decode_str(&item.post_name)
            .decode_utf8_lossy()
            .into_owned();
        let title = clean_title(&item.title, &slug_source);
        let title = if title.is_empty() {
            "無題".to_owned()
        } else {
            title
        };
        let tags = self.tags(item);
        let search_text =
            crate::textsearch::normalize(&format!("{title} {text} {}", tags.join(", ")));
        let lang = Lang::of_text(&format!("{title} {text}")).unwrap_or(self.language);
        let id = room_post::insert_post(conn, self.room.id, author, date)?;
        if self.public {
            let slug = self.free_slug(conn, &slug_source, &title)?;
            blog::set_slug(conn, id, &slug)?;
        }
        let tags = tags.join(", ");
        let published = status == RevisionStatus::Published;
        let revision = room_post::insert_revision(
            conn,
            &NewRevision {
                post_id: id,
                editor_id: author,
                title: &title,
                body_md: &source,
                body_html: &html,
                excerpt: &markdown::cut(&text, 160),
                search_text: &search_text,
                grams: &crate::textsearch::bigrams(&search_text),
                status: status.as_str(),
                publish_at: published.then_some(date),
                publish_until: None,
                created_at: date,
                tags: &tags,
                lang: lang.code(),
            },
        )?;
        if published {
            let post = room_post::find_post(conn, self.room.id, id)?;
            room_post::make_live(conn, &post, revision, author, date)?;
            // Old news: nobody is mailed about it (the jobs loop announces only unclaimed posts).
            room_post::claim_notice(conn, id, self.at)?;
        }
        Ok(id)
    }

    /// The address: WordPress's (decoded, if Yui accepts it), else made from the title; a taken
    /// one gets `-2`, `-3` …
    fn free_slug(&self, conn: &mut DbConn, wanted: &str, title: &str) -> AppResult<String> {
        let mut base = super::post_address::slugify(wanted);
        if base.is_empty() {
            base = super::post_address::slugify(title);
        }
        if base.is_empty() {
            base = "post".into();
        }
        let mut slug = base.clone();
        let mut n = 2;
        while blog::slug_taken(conn, self.room.id, &slug, None)? {
            slug = format!("{base}-{n}");
            n += 1;
        }
        Ok(slug)
    }

    /// Categories and tags as the post's tags (the public space only).
    fn tags(&mut self, item: &Item) -> Vec<String> {
        let names: Vec<&str> = item
            .terms
            .iter()
            .filter(|t| matches!(t.domain.as_str(), "category" | "post_tag"))
            .map(|t| t.name.as_str())
            .filter(|n| !matches!(*n, "Uncategorized" | "未分類"))
            .collect();
        let mut tags = Vec::new();
        for name in names {
            for tag in super::post_address::parse_tags(name) {
                if tags.contains(&tag) {
                    continue;
                }
                if !self.public {
                    self.summary.tags.skipped += 1;
                    self.summary
                        .skip("tag or category: only the public space's posts have tags");
                } else if tag.chars().count() > 40
                    || tag.chars().any(char::is_control)
                    || tag.contains('/')
                {
                    self.summary.tags.skipped += 1;
                    self.summary
                        .skip("tag longer than 40 characters or with a '/'");
                } else if tags.len() >= super::post_address::MAX_TAGS {
                    self.summary.tags.skipped += 1;
                    self.summary.skip(format!(
                        "tag beyond the {} a post may have",
                        super::post_address::MAX_TAGS
                    ));
                } else {
                    self.summary.tags.imported += 1;
                    tags.push(tag);
                }
            }
        }
        tags
    }

    fn comment(&mut self, conn: &mut DbConn, post_id: i64, c: &wxr::Comment) -> AppResult<()> {
        let guid = format!("comment:{}", c.id);
        if c.id.is_empty() {
            self.summary.comments.skipped += 1;
            self.summary.skip("comment without a wp:comment_id");
            return Ok(());
        }
        if self.seen(conn, &guid)?.is_some() {
            self.summary.comments.already += 1;
            return Ok(());
        }
        if matches!(c.kind.as_str(), "pingback" | "trackback") {
            self.summary.comments.skipped += 1;
            self.summary.skip(format!("comment: {}", c.kind));
            return Ok(());
        }
        let status = match c.approved.as_str() {
            "1" | "approve" => CommentStatus::Published,
            "0" | "hold" => CommentStatus::Pending,
            other => {
                self.summary.comments.skipped += 1;
                self.summary.skip(format!("comment marked {other:?}"));
                return Ok(());
            }
        };
        let author = match self.author_ids.get(&c.user_id).cloned() {
            Some(login) if c.user_id != "0" => self.author_of(conn, &login)?,
            _ => self.commenter(conn, c)?,
        };
        let (source, html, _) = convert_html(&c.content, &HashMap::new());
        let at = parse_date(&c.date_gmt)
            .or_else(|| parse_date(&c.date))
            .unwrap_or(self.at);
        comment::insert(conn, post_id, author, &source, &html, status, at)?;
        let id = crate::models::last_insert_id(conn)?;
        self.remember(conn, &guid, id)?;
        self.summary.comments.imported += 1;
        Ok(())
    }

    /// A visitor who commented: one disabled member per address (or name, without one).
    fn commenter(&mut self, conn: &mut DbConn, c: &wxr::Comment) -> AppResult<i64> {
        let key = if c.author_email.is_empty() {
            format!("commenter-name:{}", c.author)
        } else {
            format!("commenter:{}", c.author_email.to_lowercase())
        };
        if let Some(id) = self.seen(conn, &key)? {
            return Ok(id);
        }
        let name = clean_name(&c.author, "WordPress");
        let id = self.new_member(conn, &name, "wp-commenter", &c.author_email, &name)?;
        self.remember(conn, &key, id)?;
        self.summary.commenters.imported += 1;
        Ok(id)
    }
}

fn posts_count(s: &mut Summary) -> &mut Count {
    &mut s.posts
}

fn pages_count(s: &mut Summary) -> &mut Count {
    &mut s.pages
}

/// A cabinet file's address (what posts link to).
fn file_url(room: &str, id: i64, name: &str) -> String {
    const PATH: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'.')
        .remove(b'-')
        .remove(b'_')
        .remove(b'~');
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, PATH).to_string();
    format!("/rooms/{}/files/file/{id}/{}", enc(room), enc(name))
}

/// `uploads/rel` if `rel` is a plain relative path (no `..`, no root) that stays inside `uploads`
/// once links are followed.
fn safe_join(uploads: &Path, rel: &str) -> Option<PathBuf> {
    let rel_path = Path::new(rel);
    if rel.is_empty()
        || !rel_path
            .components()
            .all(|c| matches!(c, Component::Normal(_)))
    {
        return None;
    }
    let root = uploads.canonicalize().ok()?;
    let joined = root.join(rel_path);
    let resolved = joined.canonicalize().ok()?;
    resolved.starts_with(&root).then_some(resolved)
}

/// The room posts go into: `--room`, else the public space; it must be live and have posts.
fn target_room(core: &Core, opts: &Options) -> anyhow::Result<room::Room> {
    let room = core
        .db
        .run_sync(false, |conn| {
            Ok(match &opts.room {
                Some(slug) => room::find_by_slug_opt(conn, slug)?,
                None => Some(room::public_space(conn)?),
            })
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no room {:?} (give a room's address, as in /rooms/ADDRESS)",
                opts.room.as_deref().unwrap_or("")
            )
        })?;
    if room.archived {
        anyhow::bail!("the room {} is archived", room.slug);
    }
    if !room.features.has(Feature::Blog) {
        anyhow::bail!("the room {} has its posts turned off", room.slug);
    }
    Ok(room)
}

/// Runs the import of a file `check` passed; `progress` is told the number of items in the file, then each item done.
pub fn import(
    core: &Core,
    opts: &Options,
    scan: &Scan,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<Summary> {
    if let Some(dir) = &opts.uploads
        && !dir.is_dir()
    {
        anyhow::bail!("--uploads {}: not a folder", dir.display());
    }
    progress(Progress::Start(scan.items));
    let room = target_room(core, opts)?;
    let base = scan.base.trim_end_matches('/');
    let mut w = Writer {
        core,
        source: format!("wordpress:{}", if base.is_empty() { "?" } else { base }),
        public: room.is_public_space(),
        summary: Summary {
            room: format!("/rooms/{}", room.slug),
            ..Summary::default()
        },
        room,
        at: now(),
        language: core
            .db
            .run_sync(false, super::site::load)
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .language,
        password_hash: super::account::unusable_password_hash()?,
        authors: HashMap::new(),
        author_ids: HashMap::new(),
        urls: HashMap::new(),
    };
    let file = opts.file.clone();
    let uploads = opts.uploads.clone();
    core.db
        .run_sync(true, |conn| {
            if let DbConn::Pg(_) = conn {
                // Two runs at once: the second waits for the first, then finds everything there.
                diesel::sql_query("LOCK TABLE import_sources IN EXCLUSIVE MODE").execute(conn)?;
            }
            for a in &scan.authors {
                w.author(conn, a)?;
            }
            if let Some(dir) = &uploads {
                if w.room.features.has(Feature::Files) {
                    for a in &scan.attachments {
                        w.attachment(conn, a, dir)?;
                    }
                } else {
                    w.summary.attachments.skipped += scan.attachments.len();
                    w.summary
                        .skip("attachments: the room's cabinet is turned off");
                }
            } else if !scan.attachments.is_empty() {
                w.summary.attachments.skipped += scan.attachments.len();
                *w.summary
                    .skipped
                    .entry("attachments: no --uploads folder given".into())
                    .or_default() += scan.attachments.len();
            }
            let input = open(&file).map_err(AppError::Internal)?;
            let mut failure: Option<AppError> = None;
            let read = wxr::read(input, &mut |entry| {
                if let Entry::Item(item) = entry {
                    if let Err(e) = w.item(conn, &item) {
                        let message = e.to_string();
                        failure = Some(e);
                        return Err(WxrError::Stop(message));
                    }
                    progress(Progress::Item);
                }
                Ok(())
            });
            if let Some(e) = failure {
                return Err(e);
            }
            read.map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            audit::record(
                conn,
                None,
                "wordpress.imported",
                &format!(
                    "{} {}: {} posts, {} pages, {} comments",
                    w.source,
                    w.summary.room,
                    w.summary.posts.imported,
                    w.summary.pages.imported,
                    w.summary.comments.imported
                ),
                None,
            )?;
            Ok(())
        })
        .map_err(|e| anyhow::anyhow!("nothing was imported: {e}"))?;
    Ok(w.summary)
}

/// What `import` reports while it runs.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// The file holds this many items.
    Start(u64),
    /// One more item done.
    Item,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_links_are_rewritten_resized_copies_too() {
        let urls = HashMap::from([(
            "2024/05/写真.jpg".to_owned(),
            "/rooms/public/files/file/7/x.jpg".to_owned(),
        )]);
        let html = concat!(
            r#"<img src="https://old.example/wp-content/uploads/2024/05/%E5%86%99%E7%9C%9F-300x200.jpg" "#,
            r#"srcset="http://old.example/wp-content/uploads/2024/05/写真.jpg 1024w, /wp-content/uploads/2024/05/other.jpg 2x">"#
        );
        let out = rewrite_uploads(html, &urls);
        assert_eq!(
            out,
            concat!(
                r#"<img src="/rooms/public/files/file/7/x.jpg" "#,
                r#"srcset="/rooms/public/files/file/7/x.jpg 1024w, /wp-content/uploads/2024/05/other.jpg 2x">"#
            )
        );
    }

    #[test]
    fn autop_makes_paragraphs_and_keeps_blocks_and_pre() {
        let out = autop("一行目\n二行目\n\n<h2>見出し</h2>\n\n<pre>a\n\nb</pre>\n\n最後");
        assert_eq!(
            out,
            "<p>一行目<br>\n二行目</p>\n<h2>見出し</h2>\n<pre>a\n\nb</pre>\n<p>最後</p>\n"
        );
    }

    #[test]
    fn uploads_paths_stay_inside() {
        let dir = std::env::temp_dir();
        assert!(safe_join(&dir, "../etc/passwd").is_none());
        assert!(safe_join(&dir, "/etc/passwd").is_none());
        assert!(safe_join(&dir, "").is_none());
        // A link inside the uploads folder that leads out of it is not followed.
        let uploads = tempfile_dir();
        std::fs::create_dir_all(uploads.join("2024")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", uploads.join("2024/x.jpg")).unwrap();
        assert!(safe_join(&uploads, "2024/x.jpg").is_none());
        std::fs::write(uploads.join("2024/y.jpg"), b"y").unwrap();
        assert!(safe_join(&uploads, "2024/y.jpg").is_some());
        std::fs::remove_dir_all(&uploads).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("yui-wp-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
