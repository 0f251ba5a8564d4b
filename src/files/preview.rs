//! Reading the start of a text file for its preview page: which stored types are previewed, how
//! their bytes are decoded (UTF-8, a UTF-16 byte-order mark, else `Shift_JIS`, which is what
//! Japanese Excel writes CSV in), and a CSV file as rows. Only the first `PREVIEW_BYTES` are ever
//! read, so a preview costs the same for any file size. Nothing here makes HTML: the page shows
//! text and table cells escaped, and Markdown goes through the posts' sanitiser.

use std::io::Read;
use std::path::Path;

/// How much of a file a preview reads at most.
pub const PREVIEW_BYTES: usize = 256 * 1024;
/// How many rows of a CSV file a preview shows at most.
pub const PREVIEW_ROWS: usize = 500;

/// How a stored type is previewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreviewKind {
    /// Plain text, shown as it is.
    Text,
    /// Comma- or tab-separated values, shown as a table.
    Table {
        /// The field separator.
        delimiter: u8,
    },
    /// Markdown, shown rendered through the posts' sanitiser.
    Markdown,
}

/// The preview of a stored type, if it has one.
pub fn preview_kind(content_type: &str) -> Option<PreviewKind> {
    match content_type {
        "text/csv" => Some(PreviewKind::Table { delimiter: b',' }),
        "text/tab-separated-values" => Some(PreviewKind::Table { delimiter: b'\t' }),
        "text/markdown" | "text/x-markdown" => Some(PreviewKind::Markdown),
        "text/plain" | "application/json" | "text/x-log" => Some(PreviewKind::Text),
        _ => None,
    }
}

/// The start of a file as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextStart {
    /// The decoded text (whole characters only).
    pub text: String,
    /// The file goes on beyond what was read.
    pub truncated: bool,
    /// The encoding it was read in (`UTF-8`, `UTF-16LE`, `Shift_JIS`, …).
    pub encoding: &'static str,
}

/// Reads and decodes the first `PREVIEW_BYTES` of the file at `path`.
pub fn read_text_start(path: &Path) -> std::io::Result<TextStart> {
    let mut bytes = Vec::with_capacity(PREVIEW_BYTES + 1);
    std::fs::File::open(path)?
        .take(PREVIEW_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    let truncated = bytes.len() > PREVIEW_BYTES;
    bytes.truncate(PREVIEW_BYTES);
    Ok(decode(&bytes, truncated))
}

/// Decodes the start of a file. A multi-byte character cut by the end of what was read is dropped
/// rather than shown as a replacement character.
pub fn decode(bytes: &[u8], truncated: bool) -> TextStart {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom..]);
        return TextStart {
            text: trim_cut(text.into_owned(), truncated),
            truncated,
            encoding: encoding.name(),
        };
    }
    let utf8 = match std::str::from_utf8(bytes) {
        Ok(s) => Some(s),
        // Valid but for a character cut at the end of what was read.
        Err(e) if truncated && e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).ok()
        }
        Err(_) => None,
    };
    if let Some(text) = utf8 {
        return TextStart {
            text: text.to_owned(),
            truncated,
            encoding: "UTF-8",
        };
    }
    let (text, _, _) = encoding_rs::SHIFT_JIS.decode(bytes);
    TextStart {
        text: trim_cut(text.into_owned(), truncated),
        truncated,
        encoding: encoding_rs::SHIFT_JIS.name(),
    }
}

/// Drops a replacement character that only stands for a character cut at the end.
fn trim_cut(mut text: String, truncated: bool) -> String {
    if truncated && text.ends_with('\u{FFFD}') {
        text.pop();
    }
    text
}

/// A CSV preview: its rows (the first is usually the header) and whether some were left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rows {
    /// The rows, at most `PREVIEW_ROWS`; each as many cells as it has.
    pub rows: Vec<Vec<String>>,
    /// More rows follow (in the file, or beyond what was read).
    pub more: bool,
}

/// Splits text into rows of cells; rows may differ in length, a broken quote ends the preview
/// there rather than failing it.
pub fn rows(text: &str, delimiter: u8, truncated: bool) -> Rows {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut more = truncated;
    for record in reader.records() {
        let Ok(record) = record else { break };
        if rows.len() == PREVIEW_ROWS {
            more = true;
            break;
        }
        rows.push(record.iter().map(str::to_owned).collect());
    }
    // The last row of a file read only in part may itself be cut: leave it out.
    if truncated && rows.len() < PREVIEW_ROWS {
        rows.pop();
    }
    Rows { rows, more }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_types_are_previewed_and_html_never() {
        assert_eq!(preview_kind("text/plain"), Some(PreviewKind::Text));
        assert_eq!(
            preview_kind("text/csv"),
            Some(PreviewKind::Table { delimiter: b',' })
        );
        assert_eq!(preview_kind("text/markdown"), Some(PreviewKind::Markdown));
        for t in [
            "text/html",
            "image/svg+xml",
            "application/xhtml+xml",
            "application/pdf",
        ] {
            assert_eq!(preview_kind(t), None, "{t}");
        }
    }

    #[test]
    fn shift_jis_utf8_and_utf16_are_read() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("氏名,学年\n山田,3年\n");
        let t = decode(&sjis, false);
        assert_eq!(
            (t.text.as_str(), t.encoding),
            ("氏名,学年\n山田,3年\n", "Shift_JIS")
        );
        let t = decode("こんにちは".as_bytes(), false);
        assert_eq!((t.text.as_str(), t.encoding), ("こんにちは", "UTF-8"));
        let mut utf16 = vec![0xFF, 0xFE];
        utf16.extend("日本".encode_utf16().flat_map(u16::to_le_bytes));
        let t = decode(&utf16, false);
        assert_eq!((t.text.as_str(), t.encoding), ("日本", "UTF-16LE"));
    }

    #[test]
    fn a_character_cut_by_the_read_limit_is_dropped() {
        let bytes = "あい".as_bytes();
        let t = decode(&bytes[..4], true);
        assert_eq!((t.text.as_str(), t.encoding), ("あ", "UTF-8"));
    }

    #[test]
    fn csv_rows_keep_quotes_and_stop_at_the_limit() {
        let r = rows("a,\"b,c\"\n1,2\n", b',', false);
        assert_eq!(r.rows, vec![vec!["a", "b,c"], vec!["1", "2"]]);
        assert!(!r.more);
        let many = "1\n".repeat(PREVIEW_ROWS + 3);
        let r = rows(&many, b',', false);
        assert_eq!((r.rows.len(), r.more), (PREVIEW_ROWS, true));
        let r = rows("a,b\n1,2\n3,", b',', true);
        assert_eq!(
            r.rows,
            vec![vec!["a", "b"], vec!["1", "2"]],
            "a cut last row is left out"
        );
    }
}
