//! How a message's text is written into a search index, the same for SQLite and PostgreSQL:
//! folded (lower case, accents and compatibility forms removed), Chinese, Japanese and Korean
//! runs written as overlapping two-character words (so any substring of two or more
//! characters is a run of whole words, with no dictionary), and every English word's stem
//! beside it when it differs from the word.

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// What an index stores for one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IndexedText {
    /// The folded text, CJK runs as two-character words: the words and substrings index.
    pub words: String,
    /// Its words in order (letters and digits, and CJK two-character words), each between
    /// two spaces (see [`WORD_GAP`]), so that a substring index finds a whole word, a word's
    /// start or words in order as substrings (`"  run  "`, `"  ru"`, `"  ship  it  "`).
    pub tokens: String,
    /// The English stems that differ from their word, each between two spaces as `tokens`.
    pub stems: String,
}

/// What separates the words of [`IndexedText::tokens`]: two spaces, so that even a
/// one-character word's start (`"  a"`) is as long as a trigram.
pub const WORD_GAP: &str = "  ";

/// Words between gaps, as [`IndexedText::tokens`] writes them: `"  a  b  "`; with `open_end`,
/// without the last gap (`"  a  b"`: the last word only begins there).
pub fn gapped<'a>(words: impl IntoIterator<Item = &'a str>, open_end: bool) -> String {
    let mut out = String::from(WORD_GAP);
    for w in words {
        out.push_str(w);
        out.push_str(WORD_GAP);
    }
    if open_end {
        out.truncate(out.len() - WORD_GAP.len());
    }
    out
}

/// The words of text as [`words_of`] writes it: runs of letters and digits (a CJK
/// two-character word is one).
pub fn split_words(written: &str) -> impl Iterator<Item = &str> {
    written
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

/// A character written in Chinese, Japanese or Korean script, where words are not separated
/// by spaces. Punctuation (`、。「」`) is not: it separates, as spaces do.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x309F     // Hiragana
        | 0x30A0..=0x30FF   // Katakana (with the prolonged sound mark ー)
        | 0x31F0..=0x31FF   // Katakana phonetic extensions
        | 0x3400..=0x4DBF   // CJK extension A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0x1100..=0x11FF   // Hangul jamo
        | 0x3130..=0x318F   // Hangul compatibility jamo
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0x20000..=0x3FFFF // CJK extensions B and later
    )
}

/// Kana whose voicing marks change the word (か/が), so folding keeps them.
fn is_kana(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x31F0..=0x31FF | 0xFF65..=0xFF9F)
}

/// Folds one character as [`fold`] does, appending to `out`; `base` is the last character
/// kept that is not a mark, carried from one call to the next (a voicing mark may come as a
/// character of its own, as in half-width `ｶﾞ`).
pub(crate) fn fold_char(c: char, base: &mut Option<char>, out: &mut String) {
    for d in c.to_lowercase().flat_map(|l| l.nfkd()) {
        if !is_combining_mark(d) {
            *base = Some(d);
        } else if !base.is_some_and(is_kana) {
            continue;
        }
        out.push(d);
    }
}

/// Text as the index compares it: lower case, accents removed (`café` is `cafe`), full-width
/// and compatibility forms as their plain letters (`ｆｏｏ` is `foo`, `ﬁ` is `fi`).
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut base = None;
    for c in text.chars() {
        fold_char(c, &mut base, &mut out);
    }
    // Recompose what decomposing split and folding kept (Hangul syllables, が): the index
    // and the query both see composed text.
    out.nfc().collect()
}

/// Appends a CJK run's overlapping two-character words to `out`, and its last character
/// alone, so that every character begins a word (a one-character query is a prefix).
fn push_cjk_run(run: &[char], out: &mut String) {
    out.push(' ');
    for pair in run.windows(2) {
        out.extend(pair);
        out.push(' ');
    }
    if let Some(&last) = run.last() {
        out.push(last);
    }
    out.push(' ');
}

/// Folded text with its CJK runs as two-character words (see [`push_cjk_run`]).
pub(crate) fn words_of(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len() * 2);
    let mut run: Vec<char> = Vec::new();
    for c in folded.chars() {
        if is_cjk(c) {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            push_cjk_run(&run, &mut out);
            run.clear();
        }
        out.push(c);
    }
    if !run.is_empty() {
        push_cjk_run(&run, &mut out);
    }
    out
}

thread_local! {
    static ENGLISH: Stemmer = Stemmer::create(Algorithm::English);
}

/// An English word's stem (`running` → `run`, `deployments` → `deploy`).
pub fn stem(word: &str) -> String {
    ENGLISH.with(|s| s.stem(word).into_owned())
}

/// The words an English stemmer reads: runs of letters and digits outside CJK runs.
pub(crate) fn latin_words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric() || is_cjk(c))
        .filter(|w| !w.is_empty())
}

/// What the index stores for a message body.
pub fn index_text(body: &str) -> IndexedText {
    let folded = fold(body);
    let mut stems = Vec::new();
    for word in latin_words(&folded) {
        if word.chars().any(char::is_alphabetic) {
            let s = stem(word);
            if s != word {
                stems.push(s);
            }
        }
    }
    let words = words_of(&folded);
    IndexedText {
        tokens: gapped(split_words(&words), false),
        stems: gapped(stems.iter().map(String::as_str), false),
        words,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_case_accents_and_compatibility_forms() {
        assert_eq!(fold("Café CRÈME naïve"), "cafe creme naive");
        assert_eq!(fold("ｆｏｏ ﬁle Ångström"), "foo file angstrom");
        // Voicing marks make other words in Japanese: kept.
        assert_eq!(fold("ガス と カス"), "ガス と カス");
        assert_eq!(fold("ｶﾞｽ"), "ガス");
        assert_eq!(fold("한국어"), "한국어");
        assert_eq!(fold("Straße"), "straße");
    }

    #[test]
    fn cjk_runs_become_two_character_words() {
        assert_eq!(
            index_text("我家在上海东边")
                .words
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["我家", "家在", "在上", "上海", "海东", "东边", "边"]
        );
        assert_eq!(
            index_text("東京2024, ok")
                .words
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["東京", "京", "2024,", "ok"]
        );
    }

    #[test]
    fn stems_differing_from_their_word_are_kept_beside_it() {
        let t = index_text("Running the deployments, v1.2.3 run");
        assert_eq!(t.words, "running the deployments, v1.2.3 run");
        assert_eq!(t.stems, "  run  deploy  ");
        assert_eq!(t.tokens, "  running  the  deployments  v1  2  3  run  ");
        assert_eq!(index_text("上海!").tokens, "  上海  海  ");
        assert_eq!(index_text("").tokens, "  ");
    }
}
