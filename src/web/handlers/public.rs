//! The public blog: front page, post, tag, author, search, feed, language switch.

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::services::blog::{self, FrontPage};
use crate::services::{account, search};
use crate::web::AppState;
use crate::web::extract::{Admin, Ctx, PageQuery};
use crate::web::render::{self, redirect, safe_next};
use crate::web::views::blog::{
    BlogPostPage, FirstRunPage, PostListPage, SearchResultsPage, post_url,
};
use crate::web::views::{Layout, feed, path_segment};

/// `GET /`: the newest posts, or the first-run page while the site has no administrator.
pub async fn index(
    state: web::Data<AppState>,
    ctx: Ctx,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let n = q.number()?;
    let setup_known_done = state.core.site_cache.setup_done();
    let front = state
        .core
        .db
        .read(move |conn| blog::front_page(conn, setup_known_done, n))
        .await?;
    let layout = Layout::new(&ctx, "/");
    match front {
        FrontPage::Posts(page) => {
            state.core.site_cache.mark_setup_done();
            render::ok(
                &state,
                &PostListPage::new(layout, &ctx.site, None, "/", &page),
            )
        }
        FrontPage::FirstRun => render::ok(
            &state,
            &FirstRunPage {
                layout,
                invalid_token: false,
            },
        ),
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
    let actor = ctx.actor();
    let post = state
        .core
        .db
        .read(move |conn| blog::public_post(conn, actor.as_ref(), &slug))
        .await?;
    let path = post_url(post.post.summary.slug.as_deref().unwrap_or_default());
    let page = BlogPostPage::new(Layout::new(&ctx, &path), &ctx.site, &post);
    render::ok(&state, &page)
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
    let t = tag.clone();
    let posts = state
        .core
        .db
        .read(move |conn| blog::tag_page(conn, &t, n))
        .await?;
    let base = format!("/tags/{}", path_segment(&tag));
    let heading = i18n::t(ctx.lang, "blog.tag_heading", &[("tag", &tag)]);
    let layout = Layout::new(&ctx, &base);
    let page = PostListPage::new(layout, &ctx.site, Some(heading), &base, &posts);
    render::ok(&state, &page)
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
    if !account::valid_login(&login) {
        return Err(AppError::NotFound);
    }
    let l = login.clone();
    let (name, posts) = state
        .core
        .db
        .read(move |conn| blog::author_page(conn, &l, n))
        .await?;
    let base = format!("/authors/{}", path_segment(&login));
    let heading = i18n::t(ctx.lang, "blog.author_heading", &[("name", &name)]);
    let layout = Layout::new(&ctx, &base);
    let page = PostListPage::new(layout, &ctx.site, Some(heading), &base, &posts);
    render::ok(&state, &page)
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
    let (actor, qq) = (ctx.actor(), query.clone());
    let found = state
        .core
        .db
        .read(move |conn| search::search(conn, actor.as_ref(), &qq, n))
        .await?;
    let layout = Layout::new(&ctx, "/search");
    render::ok(
        &state,
        &SearchResultsPage::new(layout, &ctx.site, query, &found),
    )
}

/// `GET /feed.atom`.
pub async fn feed_atom(state: web::Data<AppState>, ctx: Ctx) -> Result<HttpResponse, AppError> {
    let (page, updated) = state.core.db.read(blog::feed_posts).await?;
    let xml = feed::atom(&ctx.site, &state.core.config.base_url(), &page, updated);
    Ok(HttpResponse::Ok()
        .content_type("application/atom+xml; charset=utf-8")
        .body(xml))
}

/// `GET /admin/posts` (site admins, like every `/admin` page): the blog's editor was here before
/// the blog became the public space's; old bookmarks land on that room, where its posts and their
/// states now are.
pub async fn blog_moved(
    state: web::Data<AppState>,
    _admin: Admin,
) -> Result<HttpResponse, AppError> {
    let slug = state.core.db.read(blog::space_slug).await?;
    Ok(redirect(&format!("/rooms/{slug}")))
}

/// `GET /admin/posts/new` (the 記事を書く link): the public space's editor.
pub async fn blog_write(
    state: web::Data<AppState>,
    _admin: Admin,
) -> Result<HttpResponse, AppError> {
    let slug = state.core.db.read(blog::space_slug).await?;
    Ok(redirect(&format!("/rooms/{slug}/posts/new")))
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
    let lang = Lang::parse(&code).ok_or(AppError::NotFound)?;
    let mut res = redirect(&safe_next(q.next.as_deref()));
    res.add_cookie(&crate::web::lang::remember(
        lang,
        state.core.config.is_https(),
    ))
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(res)
}
