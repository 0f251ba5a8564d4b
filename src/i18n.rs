//! Translations: `locales/en.toml` and `locales/ja.toml` (flat `key = "text"`), compiled into the binary.
//! A unit test keeps both files' keys identical, and looking up an unknown key is a template error, so a
//! missing translation fails the tests instead of showing a raw key.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// 日本語.
    #[default]
    Ja,
    /// English.
    En,
}

impl Lang {
    /// Every supported language.
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];

    /// The language code (`ja`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Self::Ja => "ja",
            Self::En => "en",
        }
    }

    /// Parses a language code, ignoring region (`en-US` → `en`).
    pub fn parse(s: &str) -> Option<Self> {
        let primary = s.split(['-', '_']).next().unwrap_or("").trim();
        if primary.eq_ignore_ascii_case("ja") {
            Some(Self::Ja)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The language a text is written in, as far as its letters tell: any kana or kanji makes
    /// it Japanese (Japanese prose always has them; an English text rarely does), Latin letters
    /// without them English, and a text with neither (numbers, emoji) is `None`. Migration
    /// `000020_post_language` applies the same rule in SQL to the posts written before it.
    pub fn of_text(text: &str) -> Option<Self> {
        let mut latin = false;
        for c in text.chars() {
            if matches!(c,
                '\u{3040}'..='\u{30ff}'       // hiragana, katakana
                | '\u{3400}'..='\u{4dbf}'     // CJK extension A
                | '\u{4e00}'..='\u{9fff}'     // CJK unified ideographs
                | '\u{ff66}'..='\u{ff9f}')
            // half-width katakana
            {
                return Some(Self::Ja);
            }
            latin |= c.is_ascii_alphabetic();
        }
        latin.then_some(Self::En)
    }

    /// An account's stored preference (`users.language`): the default when unset or unknown.
    pub fn of_account(language: Option<&str>) -> Self {
        language.and_then(Self::parse).unwrap_or_default()
    }

    /// Picks the best supported language from an `Accept-Language` header (by q-value).
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(f32, Self)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(lang) = Self::parse(tag)
                && q > 0.0
                && best.is_none_or(|(bq, _)| q > bq)
            {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l)
    }
}

type Table = HashMap<String, String>;

fn parse_table(text: &str) -> Table {
    // The files are part of the binary and covered by tests; an unparsable file is a build bug.
    let table: toml::Table = text.parse().unwrap_or_default();
    table
        .into_iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_owned())))
        .collect()
}

static EN: LazyLock<Table> = LazyLock::new(|| parse_table(include_str!("../locales/en.toml")));
static JA: LazyLock<Table> = LazyLock::new(|| parse_table(include_str!("../locales/ja.toml")));

fn table(lang: Lang) -> &'static Table {
    match lang {
        Lang::Ja => &JA,
        Lang::En => &EN,
    }
}

/// The translation of `key`, or `None` when the key is unknown.
pub fn lookup(lang: Lang, key: &str) -> Option<&'static str> {
    table(lang).get(key).map(String::as_str)
}

/// The translation of `key` with `{name}` placeholders filled from `args`; the key itself if unknown.
pub fn t(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    let Some(text) = lookup(lang, key) else {
        return key.to_owned();
    };
    fill(text, args)
}

/// Replaces `{name}` placeholders.
pub fn fill(text: &str, args: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_s_language_is_told_by_its_kana_and_kanji() {
        assert_eq!(Lang::of_text("防災訓練のお知らせ"), Some(Lang::Ja));
        assert_eq!(Lang::of_text("カレー"), Some(Lang::Ja));
        assert_eq!(Lang::of_text("ｶﾚｰ"), Some(Lang::Ja));
        assert_eq!(Lang::of_text("Drill at 10:00, 公民館"), Some(Lang::Ja));
        assert_eq!(Lang::of_text("Evacuation drill"), Some(Lang::En));
        assert_eq!(Lang::of_text("Café ✓"), Some(Lang::En));
        assert_eq!(Lang::of_text("2026-09-01 ✓"), None);
        assert_eq!(Lang::of_text(""), None);
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let mut en: Vec<_> = EN.keys().collect();
        let mut ja: Vec<_> = JA.keys().collect();
        en.sort();
        ja.sort();
        assert!(en.len() > 50, "en.toml looks empty or unparsable");
        let missing_ja: Vec<_> = en.iter().filter(|k| !JA.contains_key(**k)).collect();
        let missing_en: Vec<_> = ja.iter().filter(|k| !EN.contains_key(**k)).collect();
        assert!(missing_ja.is_empty(), "missing in ja.toml: {missing_ja:?}");
        assert!(missing_en.is_empty(), "missing in en.toml: {missing_en:?}");
    }

    #[test]
    fn accept_language_prefers_highest_q() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Some(Lang::En)
        );
        assert_eq!(
            Lang::from_accept_language("fr, ja;q=0.5, en;q=0.4"),
            Some(Lang::Ja)
        );
        assert_eq!(Lang::from_accept_language("fr, de"), None);
        assert_eq!(
            Lang::from_accept_language("en;q=0, ja;q=0.1"),
            Some(Lang::Ja)
        );
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill("{n} posts by {who}", &[("n", "3"), ("who", "A")]),
            "3 posts by A"
        );
    }
}
