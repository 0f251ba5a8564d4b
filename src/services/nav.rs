//! What the navigation shows a logged-in member on every page: the approvals link with its count, the count of
//! unread circular notices and the banner of a safety check waiting for their answer. Loaded by one
//! query (`models::nav`) per request; the approvals link is still `authorize_room`'s decision.

use super::authz::{RoomPermission, RoomRole, roles_that_may_publish};
use super::{Actor, rooms};
use crate::db::DbConn;
use crate::error::AppResult;
use crate::models::nav;

/// The navigation's facts about one member (all empty for an anonymous visitor).
#[derive(Debug, Clone, Default)]
pub struct NavFacts {
    /// Whether the approval inbox may hold something for them.
    pub may_approve: bool,
    /// How many revisions wait there for their approval now.
    pub waiting_approvals: i64,
    /// Circular notices they have not read yet.
    pub unread_notices: i64,
    /// An open safety check they have not answered (the oldest).
    pub pending_safety: Option<PendingSafety>,
    /// The SHA-256 of their profile picture, if they have one.
    pub picture: Option<String>,
}

/// A safety check waiting for the member's answer.
#[derive(Debug, Clone)]
pub struct PendingSafety {
    /// The check.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Whether it is a drill (訓練).
    pub drill: bool,
}

/// The navigation's facts for `actor`, from one query.
pub fn for_member(conn: &mut DbConn, actor: &Actor) -> AppResult<NavFacts> {
    let publish_roles: Vec<&str> = roles_that_may_publish()
        .into_iter()
        .map(RoomRole::as_str)
        .collect();
    let max_depth = i64::try_from(rooms::MAX_DEPTH).unwrap_or(i64::MAX);
    let rows = nav::rows(
        conn,
        actor.id,
        max_depth,
        RoomPermission::Publish.as_str(),
        &publish_roles,
    )?;
    // The query always answers at least one row; the counts repeat on every row.
    let Some(first) = rows.first() else {
        return Ok(NavFacts::default());
    };
    let pending_safety = match (&first.safety_id, &first.safety_title) {
        (Some(id), Some(title)) => Some(PendingSafety {
            id: *id,
            title: title.clone(),
            drill: first.safety_drill.unwrap_or(false),
        }),
        _ => None,
    };
    let approvals = rooms::approvals_waiting(actor, &rows)?;
    Ok(NavFacts {
        may_approve: approvals.is_some(),
        waiting_approvals: approvals.unwrap_or(0),
        unread_notices: first.unread_notices,
        pending_safety,
        picture: first.picture.clone(),
    })
}
