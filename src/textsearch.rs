//! How text is prepared for search, shared by indexing and querying so both always agree:
//! NFKC + lower case (full-width ＡＢＣ finds abc), words split at anything that is not a letter or
//! digit, and each word stored as its character bigrams followed by its last character
//! (会議資料 → 会議 議資 資料 料), with a break token between words.
//!
//! - A query word of two or more characters is a phrase of its bigrams. Because no bigram spans
//!   two words (the break token sits between them), the phrase matches exactly where the word is a
//!   substring of a document word.
//! - A one-character query word is a prefix: every character of a document word begins one of its
//!   tokens (a bigram, or the closing last character), so `c*` matches exactly where `c` occurs.
//!
//! So for a term that is a single word (`Term::index_is_exact`) an exact-token index (SQLite's FTS5
//! with the `ascii` tokenizer) gives exact results; other terms ("c++", "rust・会議") are narrowed
//! by the index and checked with `LIKE`.

use unicode_normalization::UnicodeNormalization;

/// The format of the stored `grams`; stored in the settings when every row has it, so an upgrade
/// can rebuild rows written by an older format (`services::search::reindex_if_outdated`).
pub const GRAMS_VERSION: &str = "2";

/// The token between two words: never a bigram (it is one character that is not a letter or digit),
/// so no phrase runs across it, and no query prefix starts with it.
pub const WORD_BREAK: char = '・';

/// NFKC and lower case.
pub fn normalize(s: &str) -> String {
    s.nfkc().collect::<String>().to_lowercase()
}

fn words(normalized: &str) -> impl Iterator<Item = Vec<char>> + '_ {
    normalized
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().collect())
}

fn word_bigrams(word: &[char]) -> impl Iterator<Item = String> + '_ {
    word.windows(2).map(|p| p.iter().collect())
}

/// The token text stored for a document (already normalised text in): per word its bigrams and
/// its last character, space-separated, `WORD_BREAK` between words.
pub fn bigrams(normalized: &str) -> String {
    let mut out = String::with_capacity(normalized.len() * 3);
    for (i, word) in words(normalized).enumerate() {
        if i > 0 {
            out.push(WORD_BREAK);
            out.push(' ');
        }
        for gram in word_bigrams(&word) {
            out.push_str(&gram);
            out.push(' ');
        }
        if let Some(last) = word.last() {
            out.push(*last);
            out.push(' ');
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// One search term (already normalised, no whitespace) as the queries use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The term itself: what a substring (`LIKE`) check looks for.
    pub text: String,
    /// The index phrases: one per word of two or more characters (space-separated bigrams).
    pub phrases: Vec<String>,
    /// The index prefixes: one per word of one character.
    pub prefixes: Vec<char>,
    /// Whether an index match in an exact-token index already means the text contains the term, so
    /// no substring check is needed: the term is one word and nothing else.
    pub index_is_exact: bool,
}

impl Term {
    /// Prepares a normalised term.
    pub fn new(text: &str) -> Self {
        let mut phrases = Vec::new();
        let mut prefixes = Vec::new();
        for w in words(text) {
            if let [c] = w.as_slice() {
                prefixes.push(*c);
            } else {
                phrases.push(word_bigrams(&w).collect::<Vec<_>>().join(" "));
            }
        }
        let index_is_exact = !text.is_empty() && text.chars().all(char::is_alphanumeric);
        Self {
            text: text.to_owned(),
            phrases,
            prefixes,
            index_is_exact,
        }
    }

    /// Whether the index can narrow this term (it holds a letter or digit).
    pub fn indexed(&self) -> bool {
        !self.phrases.is_empty() || !self.prefixes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_hold_bigrams_last_characters_and_word_breaks() {
        let doc = bigrams(&normalize("防災訓練の会議・ＲＵＳＴ 2026 a"));
        assert_eq!(
            doc,
            "防災 災訓 訓練 練の の会 会議 議 ・ ru us st t ・ 20 02 26 6 ・ a"
        );
        let t = Term::new("防災訓練");
        assert_eq!(t.phrases, vec!["防災 災訓 訓練"]);
        assert!(t.prefixes.is_empty() && t.index_is_exact);
        let t = Term::new("rust・会議");
        assert_eq!(t.phrases, vec!["ru us st", "会議"]);
        assert!(!t.index_is_exact, "two words");
        for p in Term::new("訓練の会議").phrases {
            assert!(doc.contains(&p), "{p} is found in {doc}");
        }
    }

    #[test]
    fn no_phrase_runs_across_two_words() {
        // "ab" then "bc": without a break, the phrase of "abc" (ab bc) would match.
        let doc = bigrams("ab bc");
        assert_eq!(doc, "ab b ・ bc c");
        assert!(!doc.contains(&Term::new("abc").phrases[0]));
        assert!(!bigrams("会 議").contains("会議"));
    }

    #[test]
    fn every_character_of_a_word_begins_a_token() {
        let doc = bigrams("東京駅");
        for c in "東京駅".chars() {
            assert!(
                doc.split(' ').any(|token| token.starts_with(c)),
                "{c} in {doc}"
            );
        }
        let t = Term::new("東");
        assert_eq!(t.prefixes, vec!['東']);
        assert!(t.phrases.is_empty() && t.index_is_exact);
    }

    #[test]
    fn punctuation_is_left_to_like() {
        let t = Term::new("c++");
        assert_eq!(t.prefixes, vec!['c']);
        assert!(!t.index_is_exact);
        assert!(!Term::new("++").indexed());
    }
}
