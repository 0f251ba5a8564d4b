//! The Atom feed (RFC 4287), with absolute links from `base_url` only.

use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
use chrono::{DateTime, FixedOffset, NaiveDateTime};

use super::blog::post_url;
use crate::services::blog::PostPage;
use crate::services::site::SiteSettings;

fn rfc3339(t: NaiveDateTime) -> DateTime<FixedOffset> {
    t.and_utc().fixed_offset()
}

/// Builds the feed XML for the newest public posts.
pub fn atom(
    site: &SiteSettings,
    base_url: &str,
    page: &PostPage,
    updated: Option<NaiveDateTime>,
) -> String {
    let entries: Vec<Entry> = page
        .posts
        .iter()
        .map(|(p, tags)| {
            let url = format!("{base_url}{}", post_url(&p.post.slug));
            let mut entry = Entry::default();
            entry.set_id(format!("{base_url}/posts/id/{}", p.post.id));
            entry.set_title(Text::plain(p.post.title.clone()));
            entry.set_updated(rfc3339(p.post.updated_at));
            entry.set_published(p.post.published_at.map(rfc3339));
            entry.set_authors(vec![Person {
                name: p.author_name.clone(),
                ..Person::default()
            }]);
            let mut link = Link::default();
            link.set_href(url);
            link.set_rel("alternate");
            entry.set_links(vec![link]);
            entry.set_summary(Some(Text::plain(p.post.excerpt.clone())));
            let mut content = Content::default();
            content.set_content_type(Some("html".to_owned()));
            // Sanitised HTML; atom_syndication escapes it as text inside <content type="html">.
            content.set_value(p.body_html.clone());
            entry.set_content(Some(content));
            entry.set_categories(
                tags.iter()
                    .map(|t| atom_syndication::Category {
                        term: t.clone(),
                        ..Default::default()
                    })
                    .collect::<Vec<_>>(),
            );
            entry
        })
        .collect();
    let mut feed = Feed::default();
    feed.set_id(format!("{base_url}/"));
    feed.set_title(Text::plain(site.title.clone()));
    if !site.tagline.is_empty() {
        feed.set_subtitle(Some(Text::plain(site.tagline.clone())));
    }
    feed.set_updated(rfc3339(updated.unwrap_or_default()));
    let mut alternate = Link::default();
    alternate.set_href(format!("{base_url}/"));
    alternate.set_rel("alternate");
    let mut own = Link::default();
    own.set_href(format!("{base_url}/feed.atom"));
    own.set_rel("self");
    feed.set_links(vec![alternate, own]);
    feed.set_entries(entries);
    feed.to_string()
}

/// The Atom feed of a public room.
pub fn room_atom(
    site: &SiteSettings,
    base_url: &str,
    room: &crate::models::room::Room,
    posts: &[crate::models::room_post::LivePost],
) -> String {
    let room_url = format!("{base_url}/rooms/{}", room.slug);
    let entries: Vec<Entry> = posts
        .iter()
        .map(|p| {
            let url = format!("{room_url}/posts/{}", p.post.id);
            let mut entry = Entry::default();
            entry.set_id(url.clone());
            entry.set_title(Text::plain(p.revision.title.clone()));
            entry.set_updated(rfc3339(p.post.updated_at));
            entry.set_published(p.revision.publish_at.map(rfc3339));
            entry.set_authors(vec![Person {
                name: p.author_name.clone(),
                ..Person::default()
            }]);
            let mut link = Link::default();
            link.set_href(url);
            link.set_rel("alternate");
            entry.set_links(vec![link]);
            entry.set_summary(Some(Text::plain(p.revision.excerpt.clone())));
            let mut content = Content::default();
            content.set_content_type(Some("html".to_owned()));
            content.set_value(Some(p.revision.body_html.clone()));
            entry.set_content(Some(content));
            entry
        })
        .collect();
    let mut feed = Feed::default();
    feed.set_id(format!("{room_url}/"));
    feed.set_title(Text::plain(format!("{} — {}", room.name, site.title)));
    feed.set_updated(rfc3339(
        posts
            .iter()
            .map(|p| p.post.updated_at)
            .max()
            .unwrap_or(room.updated_at),
    ));
    let mut alternate = Link::default();
    alternate.set_href(room_url.clone());
    alternate.set_rel("alternate");
    let mut own = Link::default();
    own.set_href(format!("{room_url}/feed.atom"));
    own.set_rel("self");
    feed.set_links(vec![alternate, own]);
    feed.set_entries(entries);
    feed.to_string()
}
