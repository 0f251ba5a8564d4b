//! The member directory (名簿) and profile pages.

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::services::people;
use crate::web::AppState;
use crate::web::extract::CurrentUser;
use crate::web::render;
use crate::web::views::Layout;
use crate::web::views::people::{PeoplePage, ProfilePage};

/// The directory's search.
#[derive(Debug, serde::Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    q: String,
}

/// `GET /people`: the people one shares a room with, searched by name.
pub async fn directory(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<PeopleQuery>,
) -> Result<HttpResponse, AppError> {
    let (actor, q) = (user.actor(), query.into_inner().q);
    let typed = q.clone();
    let (people, more) = state
        .core
        .db
        .read(move |conn| people::directory(conn, &actor, &q))
        .await?;
    let page = PeoplePage::new(Layout::new(user.ctx(), "/people"), typed, &people, more);
    render::ok(&state, &page)
}

/// `GET /people/{id}`: a person's profile and the rooms one shares with them.
pub async fn profile(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (actor, id) = (user.actor(), id.into_inner());
    let found = state
        .core
        .db
        .read(move |conn| people::profile(conn, &actor, id))
        .await?;
    let layout = Layout::new(user.ctx(), &format!("/people/{id}"));
    render::ok(&state, &ProfilePage::new(layout, &user.ctx().site, &found))
}
