//! How text is prepared for search, shared by indexing and querying so both always agree:
//! NFKC + lower case (full-width ＡＢＣ finds abc), words split at anything that is not a letter or
//! digit, and each word as character bigrams (会議資料 → 会議 議資 資料). A word of two or more
//! characters is then a phrase of bigrams, which an index finds; a one-character word is not.

use unicode_normalization::UnicodeNormalization;

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

/// The bigram text stored for a document (already normalised text in, space-separated bigrams out).
pub fn bigrams(normalized: &str) -> String {
    let mut out = String::with_capacity(normalized.len() * 2);
    for word in words(normalized) {
        if word.len() == 1 {
            // A lone character stays a token, so a one-character document word is not lost.
            out.push(word[0]);
            out.push(' ');
            continue;
        }
        for gram in word_bigrams(&word) {
            out.push_str(&gram);
            out.push(' ');
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// The index phrases for a (normalised) query term: one per word of two or more characters.
pub fn phrases(term: &str) -> Vec<String> {
    words(term)
        .filter(|w| w.len() >= 2)
        .map(|w| word_bigrams(&w).collect::<Vec<_>>().join(" "))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bigrams_and_phrases_agree() {
        let doc = bigrams(&normalize("防災訓練の会議・ＲＵＳＴ 2026 a"));
        assert_eq!(doc, "防災 災訓 訓練 練の の会 会議 ru us st 20 02 26 a");
        assert_eq!(phrases("会議"), vec!["会議"]);
        assert_eq!(phrases("防災訓練"), vec!["防災 災訓 訓練"]);
        assert_eq!(phrases("rust・会議"), vec!["ru us st", "会議"]);
        assert!(phrases("東").is_empty(), "one character: no index phrase");
        for p in phrases("訓練の会議") {
            assert!(doc.contains(&p), "{p} is found in {doc}");
        }
    }
}
