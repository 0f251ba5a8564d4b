//! The public space's post addresses and tags: what its editor checks when a post is written or
//! edited (posts in other rooms have neither). Below both `room_posts` (which writes posts) and
//! `blog` (which shows them), so neither depends on the other for it.

use unicode_normalization::UnicodeNormalization;

use crate::db::DbConn;
use crate::error::{AppResult, FieldErrors};
use crate::models::blog;

/// Most tags on one post.
pub const MAX_TAGS: usize = 10;

/// A public space post's address and tags, checked (room posts elsewhere have neither).
#[derive(Debug, Clone)]
pub struct BlogFields {
    /// The address: as asked for, or made from the title (`-2`, `-3` ... until free).
    pub slug: String,
    /// The tags, `", "`-joined as a revision stores them.
    pub tags: String,
}

/// Checks the address and tags fields of the public space's editor; errors go into `errors`.
/// `post_id` is the post being edited (its own address is not taken).
pub fn check_fields(
    conn: &mut DbConn,
    room_id: i64,
    post_id: Option<i64>,
    title: &str,
    requested_slug: &str,
    tags: &str,
    errors: &mut FieldErrors,
) -> AppResult<BlogFields> {
    let requested = requested_slug.trim();
    let mut slug = if requested.is_empty() {
        slugify(title)
    } else {
        requested.nfkc().collect::<String>().to_lowercase()
    };
    if !requested.is_empty() && !valid_slug(&slug) {
        errors.add("slug", "error.slug_format");
    }
    if slug.is_empty() {
        slug = "post".into();
    }
    if requested.is_empty() {
        // An automatic address never clashes: add -2, -3 ... until free.
        let base = slug.clone();
        let mut n = 2;
        while blog::slug_taken(conn, room_id, &slug, post_id)? {
            slug = format!("{base}-{n}");
            n += 1;
        }
    } else if valid_slug(&slug) && blog::slug_taken(conn, room_id, &slug, post_id)? {
        errors.add("slug", "error.slug_taken");
    }
    let tags = parse_tags(tags);
    if tags.len() > MAX_TAGS
        || tags
            .iter()
            .any(|t| t.chars().count() > 40 || t.chars().any(char::is_control) || t.contains('/'))
    {
        errors.add("tags", "error.tags_format");
    }
    Ok(BlogFields {
        slug,
        tags: tags.join(", "),
    })
}

/// Turns a title into a URL slug, keeping Japanese (any letter or digit) and joining the rest with `-`.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    let mut dash = false;
    for c in title.nfkc().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(c);
        } else {
            dash = true;
        }
        if slug.chars().count() >= 80 {
            break;
        }
    }
    slug
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.chars().count() <= 100
        && slug.chars().all(|c| c.is_alphanumeric() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

/// Parses the comma-separated tag field (full-width commas too).
pub fn parse_tags(field: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for raw in field.split([',', '、', '，']) {
        let tag: String = raw.nfkc().collect::<String>().trim().to_owned();
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_japanese() {
        assert_eq!(
            slugify("こんにちは、世界！ Hello World"),
            "こんにちは-世界-hello-world"
        );
        assert_eq!(slugify("  ＡＢＣ　テスト "), "abc-テスト");
        assert_eq!(slugify("!!!"), "");
        assert!(valid_slug("会議-2026"));
        assert!(!valid_slug("../etc"));
        assert!(!valid_slug("a/b"));
    }

    #[test]
    fn tags_normalise() {
        assert_eq!(
            parse_tags("お知らせ、 rust , rust,，イベント"),
            vec!["お知らせ", "rust", "イベント"]
        );
    }
}
