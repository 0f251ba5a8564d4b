//! The member's home page (`/home`).

use serde::Serialize;

use super::room_posts::{RoomPostItem, live_item, own_item};
use super::rooms::{RoomItem, room_item};
use super::{Layout, Page};
use crate::services::home::Home;
use crate::services::site::SiteSettings;

/// A notice waiting for the member (a safety check to answer, a circular to read).
#[derive(Debug, Clone, Serialize)]
pub struct WaitingItem {
    pub url: String,
    pub title: String,
    pub drill: bool,
    pub date: String,
}

/// A room the member belongs to, with how many posts are new in it.
#[derive(Debug, Clone, Serialize)]
pub struct HomeRoomItem {
    #[serde(flatten)]
    pub room: RoomItem,
    pub new_posts: i64,
}

/// `home.html`.
#[derive(Debug, Clone, Serialize)]
pub struct HomePage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// Open safety checks to answer.
    pub safety: Vec<WaitingItem>,
    /// Circular notices not read yet (the newest few).
    pub unread: Vec<WaitingItem>,
    /// How many circular notices are unread in all.
    pub unread_total: usize,
    /// How many posts wait for the member's approval.
    pub approvals: usize,
    /// The member's drafts, waiting and sent-back posts.
    pub unfinished: Vec<RoomPostItem>,
    /// The newest posts in their rooms.
    pub new_posts: Vec<RoomPostItem>,
    /// Their rooms.
    pub rooms: Vec<HomeRoomItem>,
    /// How many days "new" looks back.
    pub new_days: i64,
    /// Today's and the coming days' calendar dates.
    pub events: Vec<HomeEvent>,
    /// How many days ahead `events` looks.
    pub event_days: i64,
}

/// A calendar date on the home page.
#[derive(Debug, Clone, Serialize)]
pub struct HomeEvent {
    pub when: String,
    pub title: String,
    pub url: String,
    pub place: String,
    pub room_name: String,
    /// Waiting for approval or sent back (only its author and the approvers see it).
    pub waiting: bool,
}

impl Page for HomePage {
    const TEMPLATE: &'static str = "home.html";
}

impl HomePage {
    /// The page for what `services::home` found.
    pub fn new(layout: Layout, site: &SiteSettings, home: &Home) -> Self {
        let waiting = |url: String, n: &crate::services::notices::Notice| WaitingItem {
            url,
            title: n.title.clone(),
            drill: n.drill,
            date: site.local_datetime(n.created_at),
        };
        Self {
            layout,
            safety: home
                .safety
                .iter()
                .map(|n| waiting(format!("/safety/{}/answer", n.id), n))
                .collect(),
            unread: home
                .unread
                .iter()
                .map(|n| waiting(format!("/notices/{}", n.id), n))
                .collect(),
            unread_total: home.unread_total,
            approvals: home.approvals,
            unfinished: home
                .unfinished
                .iter()
                .map(|u| RoomPostItem {
                    room_name: Some(u.room_name.clone()),
                    ..own_item(site, &u.room_slug, u.post.id, &u.revision)
                })
                .collect(),
            new_posts: home
                .new_posts
                .iter()
                .map(|(p, slug, name)| RoomPostItem {
                    room_name: Some(name.clone()),
                    ..live_item(site, slug, p)
                })
                .collect(),
            rooms: home
                .rooms
                .iter()
                .map(|r| HomeRoomItem {
                    room: room_item(&r.item.room, r.item.role),
                    new_posts: r.new_posts,
                })
                .collect(),
            new_days: crate::services::home::NEW_DAYS,
            events: home
                .events
                .items
                .iter()
                .filter_map(|s| {
                    let ctx = home.events.rooms.get(s.room)?;
                    Some(HomeEvent {
                        when: super::calendar::when(&s.event, &s.at, home.events.zone),
                        title: s.event.title.clone(),
                        url: super::calendar::event_url(&ctx.room.slug, &s.event),
                        place: s.event.place.clone(),
                        room_name: ctx.room.name.clone(),
                        waiting: !s.event.is_published(),
                    })
                })
                .collect(),
            event_days: crate::services::home::EVENT_DAYS,
        }
    }
}
