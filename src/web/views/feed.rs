//! The Atom feed (RFC 4287), with absolute links from `base_url` only.

use atom_syndication::{Content, Entry, Feed, Link, Person, Text};
use chrono::{DateTime, FixedOffset, NaiveDateTime};

use super::blog::post_url;
use crate::i18n::Lang;
use crate::services::blog::PostPage;
use crate::services::site::SiteSettings;

fn rfc3339(t: NaiveDateTime) -> DateTime<FixedOffset> {
    t.and_utc().fixed_offset()
}

/// What one Atom entry says.
struct EntryParts<'a> {
    id: String,
    url: String,
    title: &'a str,
    updated: NaiveDateTime,
    published: Option<NaiveDateTime>,
    author: &'a str,
    summary: &'a str,
    /// Sanitised HTML; `atom_syndication` escapes it as text inside `<content type="html">`.
    body_html: Option<String>,
    categories: &'a [String],
    /// The language of the title, summary and body (`xml:lang` on each).
    lang: Lang,
}

fn entry(p: EntryParts<'_>) -> Entry {
    let mut entry = Entry::default();
    entry.set_id(p.id);
    let lang = Some(p.lang.code().to_owned());
    entry.set_title(Text {
        lang: lang.clone(),
        ..Text::plain(p.title.to_owned())
    });
    entry.set_updated(rfc3339(p.updated));
    entry.set_published(p.published.map(rfc3339));
    entry.set_authors(vec![Person {
        name: p.author.to_owned(),
        ..Person::default()
    }]);
    let mut link = Link::default();
    link.set_href(p.url);
    link.set_rel("alternate");
    entry.set_links(vec![link]);
    entry.set_summary(Some(Text {
        lang: lang.clone(),
        ..Text::plain(p.summary.to_owned())
    }));
    let mut content = Content {
        lang,
        ..Content::default()
    };
    content.set_content_type(Some("html".to_owned()));
    content.set_value(p.body_html);
    entry.set_content(Some(content));
    entry.set_categories(
        p.categories
            .iter()
            .map(|t| atom_syndication::Category {
                term: t.clone(),
                ..Default::default()
            })
            .collect::<Vec<_>>(),
    );
    entry
}

/// The feed around the entries, with its own and its alternate link.
fn feed(
    id: String,
    title: String,
    subtitle: &str,
    updated: NaiveDateTime,
    alternate: String,
    own: String,
    entries: Vec<Entry>,
) -> String {
    let mut feed = Feed::default();
    feed.set_id(id);
    feed.set_title(Text::plain(title));
    if !subtitle.is_empty() {
        feed.set_subtitle(Some(Text::plain(subtitle.to_owned())));
    }
    feed.set_updated(rfc3339(updated));
    let mut alt = Link::default();
    alt.set_href(alternate);
    alt.set_rel("alternate");
    let mut me = Link::default();
    me.set_href(own);
    me.set_rel("self");
    feed.set_links(vec![alt, me]);
    feed.set_entries(entries);
    feed.to_string()
}

/// Builds the feed XML for the newest public posts.
pub fn atom(
    site: &SiteSettings,
    base_url: &str,
    page: &PostPage,
    updated: Option<NaiveDateTime>,
) -> String {
    let entries = page
        .posts
        .iter()
        .map(|p| {
            let s = &p.summary;
            entry(EntryParts {
                id: format!("{base_url}/posts/id/{}", s.id),
                url: format!(
                    "{base_url}{}",
                    post_url(s.slug.as_deref().unwrap_or_default())
                ),
                title: &s.title,
                updated: s.updated(),
                published: s.published_at,
                author: &s.author_name,
                summary: &s.excerpt,
                body_html: p.body_html.clone(),
                categories: &p.tags,
                lang: s.lang,
            })
        })
        .collect();
    feed(
        format!("{base_url}/"),
        site.title.clone(),
        &site.tagline,
        updated.unwrap_or_default(),
        format!("{base_url}/"),
        format!("{base_url}/feed.atom"),
        entries,
    )
}

/// The Atom feed of a public room.
pub fn room_atom(
    site: &SiteSettings,
    base_url: &str,
    room: &crate::services::rooms::Room,
    posts: &[crate::services::room_posts::LivePost],
) -> String {
    let room_url = format!("{base_url}/rooms/{}", room.slug);
    let entries = posts
        .iter()
        .map(|p| {
            let url = format!("{room_url}/posts/{}", p.post.id);
            entry(EntryParts {
                id: url.clone(),
                url,
                title: &p.revision.title,
                updated: p.live_since(),
                published: p.revision.publish_at,
                author: &p.author_name,
                summary: &p.revision.excerpt,
                body_html: Some(p.revision.body_html.clone()),
                categories: &[],
                lang: p.revision.lang,
            })
        })
        .collect();
    let updated = posts
        .iter()
        .map(crate::services::room_posts::LivePost::live_since)
        .max()
        .unwrap_or(room.updated_at);
    feed(
        format!("{room_url}/"),
        format!("{} — {}", room.name, site.title),
        "",
        updated,
        room_url.clone(),
        format!("{room_url}/feed.atom"),
        entries,
    )
}
