//! Markdown → sanitised HTML, done once when content is saved (the HTML is stored beside the source).
//! Only this module's output may be marked `| safe` in templates.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

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

/// Sanitises HTML written elsewhere (a WordPress post) by the same rules as rendered Markdown.
pub fn clean_html(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// Markdown source whose `render` is this HTML (sanitised again, so nothing unsafe survives even
/// if the source is later edited): the HTML as one raw HTML block. CommonMark ends an HTML block
/// at a blank line and reads what follows as Markdown, so the block opens with `<div>` and every
/// line break that would leave a blank line is written `&#10;` (the same character to HTML,
/// `<pre>` included).
pub fn html_as_markdown(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 16);
    out.push_str("<div>");
    let mut lines = html.split('\n');
    if let Some(first) = lines.next() {
        out.push_str(first);
    }
    for line in lines {
        if line.trim().is_empty() {
            out.push_str("&#10;");
        } else {
            out.push('\n');
        }
        out.push_str(line);
    }
    out.push_str("</div>");
    out
}

/// Plain text of sanitised HTML (for search and excerpts of imported posts): tags dropped (a
/// block or line break becomes a space, inline markup none, as in `plain_text`), entities decoded.
pub fn html_text(html: &str) -> String {
    const BREAKS: &[&str] = &[
        "p",
        "br",
        "div",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "td",
        "th",
        "table",
        "blockquote",
        "pre",
        "figure",
        "figcaption",
        "hr",
        "dd",
        "dt",
        "img",
    ];
    let mut raw = String::with_capacity(html.len());
    let mut tag = String::new();
    let mut in_tag = false;
    let mut in_quote = false;
    for c in html.chars() {
        match (in_tag, c) {
            (false, '<') => {
                in_tag = true;
                tag.clear();
            }
            (false, c) => raw.push(c),
            (true, '"') => in_quote = !in_quote,
            (true, '>') if !in_quote => {
                in_tag = false;
                let name: String = tag
                    .trim_start_matches('/')
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect::<String>()
                    .to_ascii_lowercase();
                if BREAKS.contains(&name.as_str()) {
                    raw.push(' ');
                }
            }
            (true, c) => {
                if !in_quote && tag.len() < 16 {
                    tag.push(c);
                }
            }
        }
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw.as_str();
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| decode_entity(&rest[1..e]));
        if let (Some(e), Some(c)) = (end, decoded) {
            out.push(c);
            rest = &rest[e + 1..];
        } else {
            out.push('&');
            rest = &rest[1..];
        }
    }
    out.push_str(rest);
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn decode_entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let num = name.strip_prefix('#')?;
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// The first `max_chars` characters of a text, cut at a character boundary with an ellipsis.
pub fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max_chars).collect();
    cut.push('…');
    cut
}

/// Plain text of the Markdown (for search and excerpts): text and code, no markup. Blocks are
/// separated by a space; inline markup adds none, since Japanese has no spaces between words
/// (`**全員**参加` is 全員参加, not 全員 参加).
pub fn plain_text(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    // An HTML block's text counts too (an imported post is one), read as the sanitiser leaves
    // it, so a script's source never becomes an excerpt.
    let mut html_block: Option<String> = None;
    for event in Parser::new(source) {
        match event {
            Event::Start(Tag::HtmlBlock) => html_block = Some(String::new()),
            Event::Html(t) => {
                if let Some(b) = html_block.as_mut() {
                    b.push_str(&t);
                }
            }
            Event::End(TagEnd::HtmlBlock) => {
                if let Some(b) = html_block.take() {
                    out.push_str(&html_text(&clean_html(&b)));
                }
                out.push(' ');
            }
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
    cut(&plain_text(source), max_chars)
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
    fn imported_html_renders_as_itself_and_stays_safe() {
        let dirty = "<p>一段落</p>\n\n<pre>a\n\n  \nb *c*</pre>\n\n<p>*not em* <script>alert(1)</script><a href=\"javascript:x()\">l</a></p>";
        let clean = clean_html(dirty);
        assert!(
            !clean.contains("<script") && !clean.contains("javascript:"),
            "{clean}"
        );
        let md = html_as_markdown(&clean);
        assert!(!md.split('\n').any(|l| l.trim().is_empty()), "{md}");
        let html = render(&md);
        assert_eq!(html, format!("<div>{clean}</div>"));
        assert!(html.contains("a\n\n  \nb *c*"), "{html}");
        // Its plain text (excerpts, search) is the same whether read from the HTML or, after an
        // edit in the editor, from the Markdown source; a script's source is never part of it.
        assert_eq!(plain_text(&md), html_text(&clean));
        assert_eq!(
            plain_text("<div>\n<script>alert(1)</script>\n</div>\n\nok"),
            "ok"
        );
        assert_eq!(
            html_text("<p>A &amp; B<br>C&#x3042;</p><p title=\"x>y\">D<strong>E</strong></p>"),
            "A & B C\u{3042} DE"
        );
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
