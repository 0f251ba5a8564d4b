//! A streaming reader of WordPress's export format (WXR: RSS 2.0 with the `wp:`, `content:`,
//! `excerpt:` and `dc:` namespaces). Memory stays flat: one `<item>` (with its comments) at a
//! time. Hostile XML is refused, never expanded: any `<!DOCTYPE` (the only place entities can be
//! declared, so billion laughs and external entities alike), an unknown entity reference, a text
//! node or field over `MAX_TEXT_BYTES` (checked while it is read, before it is all in memory),
//! or nesting deeper than `MAX_DEPTH`. Nothing is ever fetched: the reader has no resolver.

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

/// The longest text node, CDATA section or field accepted (a post's HTML, say).
pub const MAX_TEXT_BYTES: u64 = 16 * 1024 * 1024;
/// The deepest element nesting accepted (a WXR file needs 5).
pub const MAX_DEPTH: usize = 32;

/// A `<wp:author>` of the channel.
#[derive(Debug, Clone, Default)]
pub struct Author {
    pub id: String,
    pub login: String,
    pub email: String,
    pub display_name: String,
}

/// A `<category>` of an item: a category (`domain="category"`) or a tag (`post_tag`).
#[derive(Debug, Clone, Default)]
pub struct Term {
    pub domain: String,
    pub name: String,
}

/// A `<wp:comment>` of an item.
#[derive(Debug, Clone, Default)]
pub struct Comment {
    pub id: String,
    pub author: String,
    pub author_email: String,
    pub date: String,
    pub date_gmt: String,
    pub content: String,
    /// `1`, `0`, `spam`, `trash`.
    pub approved: String,
    /// Empty or `comment` for a comment; `pingback`, `trackback` …
    pub kind: String,
    /// The WordPress user id of a logged-in commenter (`0`: a visitor).
    pub user_id: String,
}

/// An `<item>`: a post, a page, an attachment or anything else WordPress stores as a post.
#[derive(Debug, Clone, Default)]
pub struct Item {
    pub title: String,
    pub guid: String,
    pub creator: String,
    pub content: String,
    pub post_id: String,
    pub post_date: String,
    pub post_date_gmt: String,
    pub post_name: String,
    pub status: String,
    pub post_type: String,
    pub password: String,
    pub attachment_url: String,
    /// The `_wp_attached_file` meta: an attachment's path under `wp-content/uploads/`.
    pub attached_file: String,
    pub terms: Vec<Term>,
    pub comments: Vec<Comment>,
}

/// What the reader hands over, in file order.
#[derive(Debug, Clone)]
pub enum Entry {
    /// The channel's `wp:base_blog_url` (or `wp:base_site_url`, or `<link>`).
    BaseUrl(String),
    /// The channel's `wp:wxr_version` (present in every WordPress export).
    Version(String),
    Author(Author),
    Item(Box<Item>),
}

/// Why a file is refused.
#[derive(Debug, thiserror::Error)]
pub enum WxrError {
    #[error(
        "the file has a <!DOCTYPE> (entity declarations: a \"billion laughs\" or external entity \
         attack, or not a WordPress export); refused, nothing was imported"
    )]
    DocType,
    #[error(
        "the file uses an unknown entity &{0}; (only &amp; &lt; &gt; &quot; &apos; and character references are allowed); refused, nothing was imported"
    )]
    Entity(String),
    #[error("a text in the file is larger than {} bytes (near byte {}); refused, nothing was imported", .0, .1)]
    TooLarge(u64, u64),
    #[error("the file nests elements deeper than {MAX_DEPTH}; refused, nothing was imported")]
    TooDeep,
    #[error("the file is not well-formed XML near byte {0}: {1}")]
    Xml(u64, String),
    #[error("the file is not a WordPress export (WXR): {0}")]
    NotWxr(&'static str),
    #[error("reading the file: {0}")]
    Io(#[from] io::Error),
    /// The callback's own error.
    #[error("{0}")]
    Stop(String),
}

/// A `BufRead` that refuses to hand out more than `limit` bytes between two resets of `used`: the
/// reader resets it before each event, so one event (a text node, a CDATA section, a tag) can
/// never pull more than the limit into memory.
struct Guarded<R> {
    inner: R,
    used: Rc<Cell<u64>>,
    limit: u64,
}

impl<R: BufRead> Read for Guarded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let available = self.fill_buf()?;
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Guarded<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.used.get() > self.limit {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "text too large"));
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.used.set(self.used.get() + amt as u64);
        self.inner.consume(amt);
    }
}

/// Where the text being collected goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Channel,
    Author,
    Item,
    Meta,
    Comment,
    Other,
}

/// Reads a whole WXR file, calling `on` for each entry. Stops at the first error (the callback's
/// included).
pub fn read<R: BufRead>(
    input: R,
    on: &mut dyn FnMut(Entry) -> Result<(), WxrError>,
) -> Result<(), WxrError> {
    read_with_limit(input, MAX_TEXT_BYTES, on)
}

/// `read` with another text limit (tests).
pub fn read_with_limit<R: BufRead>(
    input: R,
    limit: u64,
    on: &mut dyn FnMut(Entry) -> Result<(), WxrError>,
) -> Result<(), WxrError> {
    let used = Rc::new(Cell::new(0));
    let mut reader = quick_xml::Reader::from_reader(Guarded {
        inner: input,
        used: used.clone(),
        // A tag around the text and a read-ahead chunk come on top of the text itself.
        limit: limit + 64 * 1024,
    });
    reader.config_mut().check_end_names = true;
    let mut st = State::default();
    let mut buf = Vec::new();
    let mut seen_rss = false;
    loop {
        buf.clear();
        used.set(0);
        let event = match reader.read_event_into(&mut buf) {
            Ok(e) => e,
            Err(e) => {
                let at = reader.buffer_position();
                if used.get() > limit {
                    return Err(WxrError::TooLarge(limit, at));
                }
                return Err(WxrError::Xml(at, e.to_string()));
            }
        };
        let at = reader.buffer_position();
        match event {
            Event::DocType(_) => return Err(WxrError::DocType),
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if st.path.is_empty() {
                    if name != "rss" {
                        return Err(WxrError::NotWxr("the root element is not <rss>"));
                    }
                    seen_rss = true;
                }
                if st.path.len() >= MAX_DEPTH {
                    return Err(WxrError::TooDeep);
                }
                st.start(&name, &e, at)?;
                st.path.push(name);
                st.text.clear();
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                if st.path.is_empty() {
                    return Err(WxrError::NotWxr("the root element is not <rss>"));
                }
                st.start(&name, &e, at)?;
                st.path.push(name);
                st.text.clear();
                st.end(on)?;
            }
            Event::End(_) => st.end(on)?,
            Event::Text(t) => {
                let s = t
                    .xml10_content()
                    .map_err(|e| WxrError::Xml(at, e.to_string()))?;
                st.push(&s, limit, at)?;
            }
            Event::CData(t) => {
                let s = t
                    .xml10_content()
                    .map_err(|e| WxrError::Xml(at, e.to_string()))?;
                st.push(&s, limit, at)?;
            }
            Event::GeneralRef(r) => {
                if let Some(c) = r
                    .resolve_char_ref()
                    .map_err(|e| WxrError::Xml(at, e.to_string()))?
                {
                    st.push(c.encode_utf8(&mut [0; 4]), limit, at)?;
                } else {
                    let name = r.decode().map_err(|e| WxrError::Xml(at, e.to_string()))?;
                    let c = match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => return Err(WxrError::Entity(other.chars().take(40).collect())),
                    };
                    st.push(c, limit, at)?;
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
    if !seen_rss {
        return Err(WxrError::NotWxr("no <rss> element"));
    }
    if !st.path.is_empty() {
        return Err(WxrError::Xml(
            reader.buffer_position(),
            "the file ends early".into(),
        ));
    }
    if !st.seen_channel {
        return Err(WxrError::NotWxr("no <channel>"));
    }
    Ok(())
}

#[derive(Default)]
struct State {
    path: Vec<String>,
    text: String,
    seen_channel: bool,
    author: Author,
    item: Item,
    term: Term,
    meta_key: String,
    meta_value: String,
    comment: Comment,
    base_site_url: String,
    base_blog_url: String,
    link: String,
}

impl State {
    /// What the element about to be opened (`name`) belongs to, by where it is.
    fn scope(&self) -> Scope {
        let p: Vec<&str> = self.path.iter().map(String::as_str).collect();
        match p.as_slice() {
            ["rss", "channel"] => Scope::Channel,
            ["rss", "channel", "wp:author"] => Scope::Author,
            ["rss", "channel", "item"] => Scope::Item,
            ["rss", "channel", "item", "wp:postmeta"] => Scope::Meta,
            ["rss", "channel", "item", "wp:comment"] => Scope::Comment,
            _ => Scope::Other,
        }
    }

    fn start(&mut self, name: &str, e: &BytesStart<'_>, at: u64) -> Result<(), WxrError> {
        let p: Vec<&str> = self.path.iter().map(String::as_str).collect();
        match (p.as_slice(), name) {
            (["rss"], "channel") => self.seen_channel = true,
            (["rss", "channel"], "item") => self.item = Item::default(),
            (["rss", "channel"], "wp:author") => self.author = Author::default(),
            (["rss", "channel", "item"], "category") => {
                self.term = Term::default();
                for a in e.attributes() {
                    let a = a.map_err(|e| WxrError::Xml(at, e.to_string()))?;
                    if a.key.as_ref() == b"domain" {
                        self.term.domain = a
                            .normalized_value(XmlVersion::default())
                            .map_err(|e| match e {
                                quick_xml::Error::Escape(x) => WxrError::Entity(x.to_string()),
                                e => WxrError::Xml(at, e.to_string()),
                            })?
                            .into_owned();
                    }
                }
            }
            (["rss", "channel", "item"], "wp:postmeta") => {
                self.meta_key.clear();
                self.meta_value.clear();
            }
            (["rss", "channel", "item"], "wp:comment") => self.comment = Comment::default(),
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, s: &str, limit: u64, at: u64) -> Result<(), WxrError> {
        if (self.text.len() + s.len()) as u64 > limit {
            return Err(WxrError::TooLarge(limit, at));
        }
        self.text.push_str(s);
        Ok(())
    }

    fn end(&mut self, on: &mut dyn FnMut(Entry) -> Result<(), WxrError>) -> Result<(), WxrError> {
        let Some(name) = self.path.pop() else {
            return Ok(());
        };
        let text = std::mem::take(&mut self.text);
        let value = || text.trim().to_owned();
        match (self.scope(), name.as_str()) {
            (Scope::Channel, "wp:base_site_url") => self.base_site_url = value(),
            (Scope::Channel, "wp:base_blog_url") => self.base_blog_url = value(),
            (Scope::Channel, "link") => self.link = value(),
            (Scope::Channel, "wp:wxr_version") => on(Entry::Version(value()))?,
            (Scope::Channel, "wp:author") => {
                on(Entry::Author(std::mem::take(&mut self.author)))?;
            }
            (Scope::Channel, "item") => {
                self.announce_base(on)?;
                on(Entry::Item(Box::new(std::mem::take(&mut self.item))))?;
            }
            (Scope::Author, "wp:author_id") => self.author.id = value(),
            (Scope::Author, "wp:author_login") => self.author.login = value(),
            (Scope::Author, "wp:author_email") => self.author.email = value(),
            (Scope::Author, "wp:author_display_name") => self.author.display_name = value(),
            (Scope::Item, field) => self.item_field(field, text),
            (Scope::Meta, "wp:meta_key") => self.meta_key = value(),
            (Scope::Meta, "wp:meta_value") => self.meta_value = value(),
            (Scope::Comment, field) => self.comment_field(field, text),
            _ => {}
        }
        if name == "channel" {
            self.announce_base(on)?;
        }
        Ok(())
    }

    /// Hands over the site's address once (before the first item, or at the channel's end).
    fn announce_base(
        &mut self,
        on: &mut dyn FnMut(Entry) -> Result<(), WxrError>,
    ) -> Result<(), WxrError> {
        let base = [&self.base_blog_url, &self.base_site_url, &self.link]
            .into_iter()
            .find(|s| !s.is_empty())
            .cloned();
        if let Some(base) = base {
            self.base_blog_url.clear();
            self.base_site_url.clear();
            self.link.clear();
            on(Entry::BaseUrl(base))?;
        }
        Ok(())
    }

    fn item_field(&mut self, field: &str, text: String) {
        let it = &mut self.item;
        let trimmed = || text.trim().to_owned();
        match field {
            "title" => it.title = trimmed(),
            "guid" => it.guid = trimmed(),
            "dc:creator" => it.creator = trimmed(),
            "content:encoded" => it.content = text,
            "wp:post_id" => it.post_id = trimmed(),
            "wp:post_date" => it.post_date = trimmed(),
            "wp:post_date_gmt" => it.post_date_gmt = trimmed(),
            "wp:post_name" => it.post_name = trimmed(),
            "wp:status" => it.status = trimmed(),
            "wp:post_type" => it.post_type = trimmed(),
            "wp:post_password" => it.password = trimmed(),
            "wp:attachment_url" => it.attachment_url = trimmed(),
            "category" => {
                let mut term = std::mem::take(&mut self.term);
                term.name = trimmed();
                it.terms.push(term);
            }
            "wp:postmeta" if self.meta_key == "_wp_attached_file" => {
                it.attached_file = std::mem::take(&mut self.meta_value);
            }
            "wp:comment" => it.comments.push(std::mem::take(&mut self.comment)),
            _ => {}
        }
    }

    fn comment_field(&mut self, field: &str, text: String) {
        let c = &mut self.comment;
        let trimmed = || text.trim().to_owned();
        match field {
            "wp:comment_id" => c.id = trimmed(),
            "wp:comment_author" => c.author = trimmed(),
            "wp:comment_author_email" => c.author_email = trimmed(),
            "wp:comment_date" => c.date = trimmed(),
            "wp:comment_date_gmt" => c.date_gmt = trimmed(),
            "wp:comment_content" => c.content = text,
            "wp:comment_approved" => c.approved = trimmed(),
            "wp:comment_type" => c.kind = trimmed(),
            "wp:comment_user_id" => c.user_id = trimmed(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wxr(body: &str) -> String {
        format!(
            "<?xml version=\"1.0\"?><rss><channel><wp:wxr_version>1.2</wp:wxr_version>{body}</channel></rss>"
        )
    }

    fn items(text: &str, limit: u64) -> Result<Vec<Item>, WxrError> {
        let mut out = Vec::new();
        read_with_limit(text.as_bytes(), limit, &mut |e| {
            if let Entry::Item(i) = e {
                out.push(*i);
            }
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn items_comments_and_terms_are_read() {
        let text = wxr(concat!(
            "<item><title>A &amp; B &#x3042;</title><wp:post_id>7</wp:post_id>",
            "<content:encoded><![CDATA[<p>x &nbsp; y</p>]]></content:encoded>",
            "<category domain=\"post_tag\" nicename=\"t\"><![CDATA[タグ]]></category>",
            "<wp:postmeta><wp:meta_key>_wp_attached_file</wp:meta_key><wp:meta_value>2024/01/a.png</wp:meta_value></wp:postmeta>",
            "<wp:comment><wp:comment_id>3</wp:comment_id><wp:comment_approved>0</wp:comment_approved></wp:comment>",
            "</item>"
        ));
        let got = items(&text, MAX_TEXT_BYTES).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].title, "A & B あ");
        assert_eq!(got[0].content, "<p>x &nbsp; y</p>");
        assert_eq!(got[0].terms[0].domain, "post_tag");
        assert_eq!(got[0].terms[0].name, "タグ");
        assert_eq!(got[0].attached_file, "2024/01/a.png");
        assert_eq!(got[0].comments[0].approved, "0");
    }

    #[test]
    fn hostile_xml_is_refused() {
        let laughs = "<?xml version=\"1.0\"?><!DOCTYPE rss [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]><rss><channel><title>&b;</title></channel></rss>";
        assert!(matches!(
            items(laughs, MAX_TEXT_BYTES),
            Err(WxrError::DocType)
        ));
        let external = "<!DOCTYPE rss SYSTEM \"http://127.0.0.1:9/x.dtd\"><rss/>";
        assert!(matches!(
            items(external, MAX_TEXT_BYTES),
            Err(WxrError::DocType)
        ));
        // An entity never declared (no DOCTYPE) is not guessed either.
        let undeclared = wxr("<item><title>&passwd;</title></item>");
        assert!(
            matches!(items(&undeclared, MAX_TEXT_BYTES), Err(WxrError::Entity(e)) if e == "passwd")
        );
        let attr = wxr("<item><category domain=\"&x;\">c</category></item>");
        assert!(items(&attr, MAX_TEXT_BYTES).is_err());
        // A text node larger than the limit is refused while it is read (the limit here is
        // 1 KiB; 1 MiB of text must not be taken in whole).
        let big = wxr(&format!(
            "<item><content:encoded>{}</content:encoded></item>",
            "x".repeat(1024 * 1024)
        ));
        assert!(matches!(items(&big, 1024), Err(WxrError::TooLarge(..))));
        // Pieces (text, references, CDATA) of one field add up to the same limit.
        let pieces = wxr(&format!(
            "<item><title>{}</title></item>",
            "<![CDATA[xxxxxxxxxx]]>&amp;".repeat(200)
        ));
        assert!(matches!(items(&pieces, 1024), Err(WxrError::TooLarge(..))));
        let deep = wxr(&format!("{}{}", "<a>".repeat(40), "</a>".repeat(40)));
        assert!(matches!(
            items(&deep, MAX_TEXT_BYTES),
            Err(WxrError::TooDeep)
        ));
        assert!(matches!(
            items("<html><body/></html>", MAX_TEXT_BYTES),
            Err(WxrError::NotWxr(_))
        ));
        assert!(matches!(
            items("<rss><channel><item>", MAX_TEXT_BYTES),
            Err(WxrError::Xml(..))
        ));
    }
}
