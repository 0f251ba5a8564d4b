//! The member's home page, where login lands.

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::services::home;
use crate::web::AppState;
use crate::web::extract::CurrentUser;
use crate::web::render;
use crate::web::views::Layout;
use crate::web::views::home::HomePage;

/// `GET /home`: what waits for the member and what is new in their rooms.
pub async fn show_home(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let (actor, site) = (user.actor(), user.ctx().site.clone());
    let found = state
        .core
        .db
        .read(move |conn| home::home(conn, &actor, &site))
        .await?;
    let page = HomePage::new(Layout::new(user.ctx(), "/home"), &user.ctx().site, &found);
    render::ok(&state, &page)
}
