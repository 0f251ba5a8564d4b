//! Markdown → sanitised HTML, done once when content is saved (the HTML is stored beside the source).
//! Only this module's output may be marked `| safe` in templates.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, TagEnd, html};

/// Longest accepted Markdown source, in characters (posts, notices).
pub const MAX_BODY_CHARS: usize = 200_000;

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .add_tags(["figure", "figcaption"])
        .add_generic_attributes(["id"])
        .id_prefix(Some("u-"))
        // Images below the fold wait until they are scrolled to (a post with many photos on a phone).
        .set_tag_attribute_value("img", "loading", "lazy");
    b
});

/// Renders Markdown to sanitised HTML (no raw HTML survives unless ammonia allows it, no scripts,
/// no `javascript:` links, no event handlers).
pub fn render(source: &str) -> String {
    let mut options = Options::empty();
    options.insert(Options::ENABLE_TABLES);
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TASKLISTS);
    options.insert(Options::ENABLE_FOOTNOTES);
    let parser = Parser::new_ext(source, options);
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, parser);
    SANITIZER.clean(&unsafe_html).to_string()
}

/// Plain text of the Markdown (for search and excerpts): text and code, no markup. Blocks are
/// separated by a space; inline markup adds none, since Japanese has no spaces between words
/// (`**全員**参加` is 全員参加, not 全員 参加).
pub fn plain_text(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    for event in Parser::new(source) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Link
                | TagEnd::Image,
            ) => {}
            Event::SoftBreak | Event::HardBreak | Event::End(_) => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first `max_chars` characters of the plain text, cut at a character boundary with an ellipsis.
pub fn excerpt(source: &str, max_chars: usize) -> String {
    let text = plain_text(source);
    if text.chars().count() <= max_chars {
        return text;
    }
    let mut cut: String = text.chars().take(max_chars).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_markdown_is_inert() {
        let nasty = concat!(
            "<script>alert(1)</script>\n\n",
            "[x](javascript:alert(2))\n\n",
            "<img src=x onerror=alert(3)>\n\n",
            "<svg><script>alert(4)</script></svg>\n\n",
            "<a href=\"data:text/html,<script>alert(5)</script>\">d</a>\n\n",
            "<iframe src=\"https://evil.example\"></iframe>",
        );
        let html = render(nasty);
        for bad in [
            "<script",
            "javascript:",
            "onerror",
            "<svg",
            "data:text",
            "<iframe",
        ] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
    }

    #[test]
    fn ordinary_markdown_renders() {
        let html = render(
            "# 見出し\n\n**太字** and [link](https://example.com)\n\n| a | b |\n|---|---|\n| 1 | 2 |",
        );
        assert!(html.contains("<h1>見出し</h1>"), "{html}");
        assert!(html.contains("<strong>太字</strong>"));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
        assert!(html.contains("<table>"));
    }

    #[test]
    fn excerpt_cuts_at_char_boundary() {
        let e = excerpt("日本語のテキストです。とても長い文章。", 5);
        assert_eq!(e, "日本語のテ…");
        assert_eq!(plain_text("**a** `b`\n\n- c"), "a b c");
        assert_eq!(
            plain_text("今年も**全員参加**の[訓練](https://x.example)です。"),
            "今年も全員参加の訓練です。"
        );
    }
}
