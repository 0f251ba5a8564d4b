//! The member's home (`/home`, where login lands): what waits for them — a safety check to answer,
//! circular notices not read yet, posts to approve, their own unfinished posts — and what is new in
//! their rooms, on one page. Every list is filtered by what the member may read now.

use std::collections::HashMap;

use chrono::Duration;

use super::Actor;
use super::rooms::{self, RoomListItem};
use super::site::SiteSettings;
use crate::db::DbConn;
use crate::db::types::{Feature, NoticeKind};
use crate::error::AppResult;
use crate::models::notice::{self as m, Notice};
use crate::models::room_post::{LivePost, Revision, RoomPost};
use crate::models::{now, room_post};

/// How far back "new in your rooms" counts.
pub const NEW_DAYS: i64 = 7;
/// How many items each list shows (each links to its full page).
const SHOWN: usize = 5;

/// A room the member belongs to, with what is new in it.
#[derive(Debug)]
pub struct HomeRoom {
    /// The room.
    pub item: RoomListItem,
    /// Posts published in the last `NEW_DAYS` days.
    pub new_posts: i64,
}

/// One of the member's own posts that is not finished, with its room.
#[derive(Debug)]
pub struct Unfinished {
    /// The post.
    pub post: RoomPost,
    /// Its newest revision (draft, waiting or sent back).
    pub revision: Revision,
    /// The room's address.
    pub room_slug: String,
    /// The room's name.
    pub room_name: String,
}

/// Everything the home page shows.
#[derive(Debug)]
pub struct Home {
    /// Open safety checks sent to the member that they have not answered, oldest first.
    pub safety: Vec<Notice>,
    /// Circular notices they have not read, newest first (at most `SHOWN`).
    pub unread: Vec<Notice>,
    /// How many circular notices they have not read in all.
    pub unread_total: usize,
    /// How many revisions wait for their approval.
    pub approvals: usize,
    /// Their drafts, waiting and sent-back posts, newest first.
    pub unfinished: Vec<Unfinished>,
    /// The newest posts across their rooms (at most `SHOWN`), with each room's slug and name.
    pub new_posts: Vec<(LivePost, String, String)>,
    /// The rooms they belong to, parents before sub-rooms.
    pub rooms: Vec<HomeRoom>,
    /// Today's and the next days' dates in every calendar they read.
    pub events: super::calendar::CalendarView,
}

/// How many days ahead the home lists calendar dates.
pub const EVENT_DAYS: i64 = 7;

/// The member's home.
pub fn home(conn: &mut DbConn, actor: &Actor, site: &SiteSettings) -> AppResult<Home> {
    let mut safety: Vec<Notice> = m::for_recipient(conn, NoticeKind::Safety, actor.id, 50)?
        .into_iter()
        .filter(|(n, r)| n.closed_at.is_none() && r.answered_at.is_none())
        .map(|(n, _)| n)
        .collect();
    safety.reverse();
    let unread_all: Vec<Notice> = m::for_recipient(conn, NoticeKind::Circular, actor.id, 100)?
        .into_iter()
        .filter(|(_, r)| r.read_at.is_none())
        .map(|(n, _)| n)
        .collect();
    let unread_total = unread_all.len();
    let approvals = super::room_posts::inbox(conn, actor)?.len();

    let visible = rooms::list_visible(conn, Some(actor))?;
    let readable: HashMap<i64, (String, String)> = visible
        .iter()
        .map(|i| (i.room.id, (i.room.slug.clone(), i.room.name.clone())))
        .collect();
    let unfinished = room_post::unfinished_by(conn, actor.id, 20)?
        .into_iter()
        .filter_map(|(post, revision)| {
            let (room_slug, room_name) = readable.get(&post.room_id)?.clone();
            Some(Unfinished {
                post,
                revision,
                room_slug,
                room_name,
            })
        })
        .collect();
    let mut new_posts = super::new_posts::whats_new(conn, actor)?;
    new_posts.truncate(SHOWN);

    let mine: Vec<RoomListItem> = visible.into_iter().filter(|i| i.role.is_some()).collect();
    let blog_rooms: Vec<i64> = mine
        .iter()
        .filter(|i| i.room.features.has(Feature::Blog))
        .map(|i| i.room.id)
        .collect();
    let at = now();
    let counts: HashMap<i64, i64> =
        room_post::published_counts(conn, &blog_rooms, at - Duration::days(NEW_DAYS), at)?
            .into_iter()
            .collect();
    let rooms = mine
        .into_iter()
        .map(|item| HomeRoom {
            new_posts: counts.get(&item.room.id).copied().unwrap_or(0),
            item,
        })
        .collect();
    let events = super::calendar::upcoming(conn, actor, site, EVENT_DAYS)?;
    Ok(Home {
        events,
        safety,
        unread: unread_all.into_iter().take(SHOWN).collect(),
        unread_total,
        approvals,
        unfinished,
        new_posts,
        rooms,
    })
}
