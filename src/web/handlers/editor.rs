//! Writing the public blog: post list, editor with preview (works without JavaScript), delete.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

use crate::error::{AppError, FieldErrors};
use crate::services::authz::{Action, authorize};
use crate::services::blog::{self, PostForm};
use crate::web::AppState;
use crate::web::extract::{CurrentUser, PageQuery};
use crate::web::render::{base_context, insert_errors, invalid_or, ok, page, redirect_with_flash};
use crate::web::views::Pager;
use crate::web::views::blog::{PostFormView, post_item};

/// `GET /admin/posts`.
pub async fn list_posts(
    state: web::Data<AppState>,
    user: CurrentUser,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, AppError> {
    let n = q.number()?;
    let actor = user.actor();
    let (rows, total) = state
        .core
        .db
        .read(move |conn| blog::all_posts(conn, &actor, n))
        .await?;
    let mut c = base_context(user.ctx(), "/admin/posts");
    let items: Vec<_> = rows
        .iter()
        .map(|p| post_item(&user.ctx().site, p, &[], false))
        .collect();
    c.insert("posts", &items);
    c.insert("pager", &Pager::new("/admin/posts", n, n * 50 < total));
    ok(&state, "editor/posts.html", &c)
}

fn editor_page(
    state: &AppState,
    user: &CurrentUser,
    id: Option<i64>,
    form: &PostFormView,
    preview: Option<&str>,
    errors: Option<&FieldErrors>,
    status: StatusCode,
) -> Result<HttpResponse, AppError> {
    let path = id.map_or_else(
        || "/admin/posts/new".to_owned(),
        |i| format!("/admin/posts/{i}/edit"),
    );
    let mut c = base_context(user.ctx(), &path);
    c.insert("post_id", &id);
    c.insert("form", form);
    c.insert("preview", &preview);
    if let Some(e) = errors {
        insert_errors(&mut c, e);
    }
    page(state, "editor/edit.html", &c, status)
}

/// `GET /admin/posts/new`.
pub async fn new_post(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    authorize(Some(&user.actor()), Action::WriteBlog)?;
    let form = PostFormView {
        status: "draft".into(),
        ..PostFormView::default()
    };
    editor_page(&state, &user, None, &form, None, None, StatusCode::OK)
}

/// `GET /admin/posts/{id}/edit`.
pub async fn edit_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = user.actor();
    let (p, tags) = state
        .core
        .db
        .read(move |conn| blog::post_for_edit(conn, &actor, id))
        .await?;
    let form = PostFormView::from_post(&user.ctx().site, &p, &tags);
    editor_page(&state, &user, Some(id), &form, None, None, StatusCode::OK)
}

/// The editor form plus which button was pressed.
#[derive(Debug, serde::Deserialize)]
pub struct EditorForm {
    #[serde(flatten)]
    post: PostForm,
    #[serde(default)]
    action: String,
}

async fn save(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: Option<i64>,
    form: EditorForm,
) -> Result<HttpResponse, AppError> {
    let view = PostFormView::from_form(&form.post);
    if form.action == "preview" {
        let html = blog::preview(&user.actor(), &form.post.body)?;
        return editor_page(&state, &user, id, &view, Some(&html), None, StatusCode::OK);
    }
    let actor = user.actor();
    let site = user.ctx().site.clone();
    let post = form.post;
    match state
        .core
        .db
        .write(move |conn| blog::save_post(conn, &actor, id, &post, &site))
        .await
    {
        Ok((id, _)) => Ok(redirect_with_flash(
            &state,
            &format!("/admin/posts/{id}/edit"),
            "flash.post_saved",
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            editor_page(
                &state,
                &user,
                id,
                &view,
                None,
                Some(&errors),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
    }
}

/// `POST /admin/posts`: create (or preview).
pub async fn create_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    form: web::Form<EditorForm>,
) -> Result<HttpResponse, AppError> {
    save(state, user, None, form.into_inner()).await
}

/// `POST /admin/posts/{id}`: save (or preview).
pub async fn update_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
    form: web::Form<EditorForm>,
) -> Result<HttpResponse, AppError> {
    save(state, user, Some(id.into_inner()), form.into_inner()).await
}

/// `POST /admin/posts/{id}/delete`.
pub async fn delete_post(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let actor = user.actor();
    state
        .core
        .db
        .write(move |conn| blog::delete_post(conn, &actor, id))
        .await?;
    Ok(redirect_with_flash(
        &state,
        "/admin/posts",
        "flash.post_deleted",
    ))
}
