//! File and folder names: what a person may call something in a cabinet, and the key that makes
//! two names "the same" in a folder. Names are text in the database, never paths.

use unicode_normalization::UnicodeNormalization;

/// Longest file or folder name, in characters.
pub const MAX_NAME_CHARS: usize = 200;

/// A cleaned name: NFC text, and its key (lower case) for "same name" checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanName {
    /// As shown.
    pub name: String,
    /// NFC + lower case.
    pub key: String,
}

/// Checks a file or folder name typed by a person: NFC, trimmed, no path separators, no control
/// characters, not `.` or `..`, at most `MAX_NAME_CHARS`. Names are never used as paths; these rules
/// keep them sane in zip downloads and on the computers files are downloaded to.
pub fn clean_name(raw: &str) -> Result<CleanName, &'static str> {
    let name: String = raw.nfc().collect::<String>().trim().to_owned();
    if name.is_empty() || name == "." || name == ".." {
        return Err("files.name_empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err("files.name_too_long");
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '/' | '\\'))
    {
        return Err("files.name_bad_chars");
    }
    let key = name.to_lowercase();
    Ok(CleanName { name, key })
}

/// The name of an uploaded file as the client sent it: only the last path component is kept (some
/// clients send a whole path), then `clean_name` applies.
pub fn clean_upload_name(raw: &str) -> Result<CleanName, &'static str> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    clean_name(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_nfc_and_refuse_path_tricks() {
        // が as one code point and as か + combining mark are the same name.
        let composed = clean_name("が.txt").unwrap();
        let decomposed = clean_name("か\u{3099}.txt").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(clean_name("  議事録.PDF ").unwrap().key, "議事録.pdf");
        for bad in [
            "", ".", "..", "../x", "a/b", "a\\b", "a\0b", "a\nb", "\u{7f}",
        ] {
            assert!(clean_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(clean_name(&"あ".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(clean_name(&"あ".repeat(MAX_NAME_CHARS)).is_ok());
    }

    #[test]
    fn upload_names_keep_only_the_last_component() {
        assert_eq!(
            clean_upload_name("../../etc/passwd").unwrap().name,
            "passwd"
        );
        assert_eq!(
            clean_upload_name("C:\\Users\\a\\写真.jpg").unwrap().name,
            "写真.jpg"
        );
        assert_eq!(clean_upload_name("%2e%2e%2fx").unwrap().name, "%2e%2e%2fx");
        assert!(clean_upload_name("dir/..").is_err());
    }
}
