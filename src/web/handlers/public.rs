//! The public blog: front page, post, tag, author, search, feed, language switch.

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::models::blog::PublicFilter;
use crate::services::{blog, setup};
use crate::web::AppState;
use crate::web::extract::{Admin, Ctx, PageQuery};
use crate::web::render::{base_context, ok, redirect, safe_next};
use crate::web::views::blog::{PostItem, hit_view, post_item};
use crate::web::views::{Pager, feed, path_segment};

fn items(ctx: &Ctx, page: &blog::PostPage) -> Vec<PostItem> {
    page.posts.iter().map(|p| post_item(&ctx.site, p)).collect()
}

fn list_page(
    state: &AppState,
    ctx: &Ctx,
    path: &str,
    heading: Option<&str>,
    base: &str,
    page: &blog::PostPage,
) -> Result<HttpResponse, AppError> {
    let mut c = base_context(ctx, path);
    c.insert("heading", &heading);
    c.insert("posts", &items(ctx, page));
    c.insert("pager", &Pager::new(base, page.page, page.has_next));
    ok(state, "blog/index.html", &c)
}

/// `GET /`: the newest posts, or the first-run page while the site has no administrator.
pub async fn index(
    state: web::Data<AppState>,
    ctx: Ctx,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let n = q.number()?;
    let setup_known_done = state.core.site_cache.setup_done();
    let page = state
        .core
        .db
        .read(move |conn| {
            if !setup_known_done && setup::needed(conn)? {
                return Ok(None);
            }
            Ok(Some(blog::public_page(conn, &PublicFilter::All, n)?))
        })
        .await?;
    if let Some(page) = page {
        state.core.site_cache.mark_setup_done();
        list_page(&state, &ctx, "/", None, "/", &page)
    } else {
        ok(&state, "setup/first_run.html", &base_context(&ctx, "/"))
    }
}

/// `GET /posts/{slug}`.
pub async fn show_post(
    state: web::Data<AppState>,
    ctx: Ctx,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = slug.into_inner();
    if slug.chars().count() > 200 {
        return Err(AppError::NotFound);
    }
    let actor = ctx
        .session
        .as_ref()
        .map(|s| crate::services::Actor::from(&s.user));
    let page = state
        .core
        .db
        .read(move |conn| blog::public_post(conn, actor.as_ref(), &slug))
        .await?;
    let item = post_item(&ctx.site, &page.post);
    let mut c = base_context(&ctx, &item.url);
    c.insert("post", &item);
    c.insert("manage_url", &page.manage_url);
    c.insert("comment_url", &page.comment_url);
    c.insert(
        "comments",
        &page
            .comments
            .iter()
            .map(|cm| crate::web::views::room_posts::comment_view(&ctx.site, cm))
            .collect::<Vec<_>>(),
    );
    ok(&state, "blog/post.html", &c)
}

/// `GET /tags/{tag}`.
pub async fn tag(
    state: web::Data<AppState>,
    ctx: Ctx,
    tag: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let n = q.number()?;
    let tag = tag.into_inner();
    if tag.chars().count() > 40 {
        return Err(AppError::NotFound);
    }
    let name = tag.clone();
    let page = state
        .core
        .db
        .read(move |conn| blog::public_page(conn, &PublicFilter::Tag(name), n))
        .await?;
    if page.posts.is_empty() && page.page == 1 {
        return Err(AppError::NotFound);
    }
    let base = format!("/tags/{}", path_segment(&tag));
    let heading = crate::i18n::t(ctx.lang, "blog.tag_heading", &[("tag", &tag)]);
    list_page(&state, &ctx, &base, Some(&heading), &base, &page)
}

/// `GET /authors/{login}`.
pub async fn author(
    state: web::Data<AppState>,
    ctx: Ctx,
    login: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let n = q.number()?;
    let login = login.into_inner();
    if !crate::services::account::valid_login(&login) {
        return Err(AppError::NotFound);
    }
    let l = login.clone();
    let (name, page) = state
        .core
        .db
        .read(move |conn| blog::author_page(conn, &l, n))
        .await?;
    let base = format!("/authors/{}", path_segment(&login));
    let heading = crate::i18n::t(ctx.lang, "blog.author_heading", &[("name", &name)]);
    list_page(&state, &ctx, &base, Some(&heading), &base, &page)
}

/// `?q=...&page=N` of the search page.
#[derive(Debug, serde::Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    page: Option<i64>,
}

/// `GET /search?q=`.
pub async fn search(
    state: web::Data<AppState>,
    ctx: Ctx,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, AppError> {
    let n = PageQuery { page: q.page }.number()?;
    let query: String = q.q.chars().take(200).collect();
    let qq = query.clone();
    let actor = ctx
        .session
        .as_ref()
        .map(|s| crate::services::Actor::from(&s.user));
    let page = state
        .core
        .db
        .read(move |conn| crate::services::search::search(conn, actor.as_ref(), &qq, n))
        .await?;
    let mut c = base_context(&ctx, "/search");
    c.insert("q", &query);
    let capped = page.total >= crate::services::search::COUNT_CAP;
    let total = if capped {
        format!("{}+", crate::services::search::COUNT_CAP)
    } else {
        page.total.to_string()
    };
    c.insert("total", &total);
    c.insert("capped", &capped);
    c.insert("shown", &crate::services::search::COUNT_CAP);
    let hits: Vec<_> = page.hits.iter().map(|h| hit_view(&ctx.site, h)).collect();
    c.insert("hits", &hits);
    let base = format!(
        "/search?q={}",
        url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>()
    );
    c.insert("pager", &Pager::new(&base, page.page, page.has_next));
    ok(&state, "blog/search.html", &c)
}

/// `GET /feed.atom`.
pub async fn feed_atom(state: web::Data<AppState>, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let (page, updated) = state.core.db.read(blog::feed_posts).await?;
    let xml = feed::atom(&ctx.site, &state.core.config.base_url(), &page, updated);
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .body(xml))
}

async fn public_space_slug(state: &AppState) -> Result<String, AppError> {
    state.core.db.read(blog::space_slug).await
}

/// `GET /admin/posts` (site admins, like every `/admin` page): the blog's editor was here before the blog became the public space's; old
/// bookmarks land on that room, where its posts and their states now are.
pub async fn blog_moved(
    state: web::Data<AppState>,
    _admin: Admin,
) -> Result<HttpResponse, AppError> {
    Ok(redirect(&format!(
        "/rooms/{}",
        public_space_slug(&state).await?
    )))
}

/// `GET /admin/posts/new` (the 記事を書く link): the public space's editor.
pub async fn blog_write(
    state: web::Data<AppState>,
    _admin: Admin,
) -> Result<HttpResponse, AppError> {
    Ok(redirect(&format!(
        "/rooms/{}/posts/new",
        public_space_slug(&state).await?
    )))
}

/// `?next=` of links that return to where the visitor was.
#[derive(Debug, serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// `GET /lang/{code}?next=`: remembers the visitor's language choice in a cookie.
pub async fn set_language(
    state: web::Data<AppState>,
    code: web::Path<String>,
    q: web::Query<NextQuery>,
) -> Result<HttpResponse, AppError> {
    let lang = crate::i18n::Lang::parse(&code).ok_or(AppError::NotFound)?;
    let mut res = redirect(&safe_next(q.next.as_deref()));
    let cookie = crate::web::context::make_cookie(
        "yui_lang",
        lang.code().to_owned(),
        state.core.config.is_https(),
        Some(actix_web::cookie::time::Duration::days(365)),
    );
    res.add_cookie(&cookie)
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}
