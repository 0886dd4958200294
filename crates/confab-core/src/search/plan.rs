//! What each query term must match in an index built by [`super::text`]: the stores turn a
//! [`TermMatch`] into their own lookups (FTS5 on SQLite, `tsvector` and `pg_trgm` on
//! PostgreSQL), so both find the same messages.
//!
//! A word of three characters or more is found inside any word (`deplo`, `ploy` find
//! `deployment`) through a trigram index, and by its English stem (`running` finds `run`).
//! A shorter one begins a word. Text with punctuation (`foo_bar`, `v1.2.3`, `#123`) is found
//! as typed. CJK text is a run of two-character words, so any substring of it is found.
//! Quoted phrases are whole words in order.

use super::query::Term;
use super::text::{fold, is_cjk, latin_words, stem, words_of};

/// Characters a trigram index needs to find a substring.
pub const TRIGRAM: usize = 3;

/// One way a term can match a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    /// The folded text contains this (at least [`TRIGRAM`] characters, no CJK).
    Contains(String),
    /// Whole words of the `words` column in this order, as the engine splits this text (CJK
    /// already written as two-character words); with `prefix`, the last one only begins a
    /// word, and the text is words of letters and digits separated by single spaces (so an
    /// engine may build the lookup from them itself).
    Words { text: String, prefix: bool },
    /// A whole word of the `words` or `stems` column: the term's English stem.
    Stem(String),
}

/// What a query term must match (any one of `any_of`), and the exact word that ranks a
/// message first when sorting by relevance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TermMatch {
    pub any_of: Vec<Match>,
    pub exact: Option<String>,
}

/// A run of letters and digits only: a plain word.
fn is_plain_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() && !is_cjk(c))
}

/// The CJK-bearing text `folded` as words in order: each CJK run as its two-character words;
/// a run at the end without its last character alone (which the index writes only so that
/// one character is a prefix), or, if it is one character, as a prefix.
fn cjk_words(folded: &str) -> (String, bool) {
    let written = words_of(folded);
    let mut words: Vec<&str> = written.split_whitespace().collect();
    let trailing_run = folded.chars().last().is_some_and(is_cjk);
    let mut prefix = false;
    if trailing_run {
        let run_len = folded.chars().rev().take_while(|&c| is_cjk(c)).count();
        if run_len == 1 {
            prefix = true;
        } else {
            words.pop();
        }
    }
    (words.join(" "), prefix)
}

/// What `term` must match, or `None` if it holds nothing an index can find (punctuation
/// shorter than a trigram, say).
pub fn plan(term: &Term) -> Option<TermMatch> {
    let (text, phrase) = match term {
        Term::Word(w) => (fold(w), false),
        Term::Phrase(p) => (fold(p), true),
    };
    let text = text.trim().to_owned();
    if text.chars().any(is_cjk) {
        let (words, prefix) = cjk_words(&text);
        return (!words.is_empty()).then(|| TermMatch {
            any_of: vec![Match::Words {
                text: words,
                prefix,
            }],
            exact: None,
        });
    }
    let chars = text.chars().count();
    if !phrase && is_plain_word(&text) {
        let found = if chars >= TRIGRAM {
            Match::Contains(text.clone())
        } else {
            Match::Words {
                text: text.clone(),
                prefix: true,
            }
        };
        let stemmed = stem(&text);
        let mut any_of = vec![found];
        if stemmed != text || chars < TRIGRAM {
            any_of.push(Match::Stem(stemmed));
        }
        return Some(TermMatch {
            any_of,
            exact: Some(text),
        });
    }
    if !phrase && chars >= TRIGRAM && text.chars().any(char::is_alphanumeric) {
        // Punctuation is part of what was asked for: `v1.2.3`, `foo_bar`, `#123`. (Without a
        // letter or digit it is no word at all, and pg_trgm would find no trigram to look
        // up: ignored below.)
        return Some(TermMatch {
            any_of: vec![Match::Contains(text)],
            exact: None,
        });
    }
    let words: Vec<&str> = latin_words(&text).collect();
    if words.is_empty() {
        return None;
    }
    let any_of = if phrase {
        // As typed: each engine splits it as it split the message.
        vec![Match::Words {
            text,
            prefix: false,
        }]
    } else {
        // A short token with punctuation (`#1`): its words, the last one begun.
        vec![Match::Words {
            text: words.join(" "),
            prefix: true,
        }]
    };
    Some(TermMatch {
        any_of,
        exact: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str) -> Option<TermMatch> {
        plan(&Term::Word(w.into()))
    }

    #[test]
    fn words_match_inside_words_and_by_stem() {
        assert_eq!(
            word("Running").expect("a plan").any_of,
            [Match::Contains("running".into()), Match::Stem("run".into())]
        );
        assert_eq!(
            word("deplo").expect("a plan").any_of,
            [Match::Contains("deplo".into())]
        );
        assert_eq!(
            word("go").expect("a plan").any_of,
            [
                Match::Words {
                    text: "go".into(),
                    prefix: true
                },
                Match::Stem("go".into())
            ]
        );
        assert_eq!(word("Café").expect("a plan").exact.as_deref(), Some("cafe"));
    }

    #[test]
    fn punctuation_is_part_of_the_text() {
        for w in ["foo_bar", "v1.2.3", "192.168.0.1", "#123"] {
            assert_eq!(
                word(w).expect("a plan").any_of,
                [Match::Contains(w.into())],
                "{w}"
            );
        }
        assert_eq!(
            word("#1").expect("a plan").any_of,
            [Match::Words {
                text: "1".into(),
                prefix: true
            }]
        );
        assert_eq!(word("!!"), None);
        assert_eq!(word("..."), None);
    }

    #[test]
    fn cjk_substrings_are_two_character_words_in_order() {
        let words = |w: &str| word(w).expect("a plan").any_of;
        assert_eq!(
            words("上海"),
            [Match::Words {
                text: "上海".into(),
                prefix: false
            }]
        );
        assert_eq!(
            words("上海东"),
            [Match::Words {
                text: "上海 海东".into(),
                prefix: false
            }]
        );
        assert_eq!(
            words("上"),
            [Match::Words {
                text: "上".into(),
                prefix: true
            }]
        );
        assert_eq!(
            words("東京2024"),
            [Match::Words {
                text: "東京 京 2024".into(),
                prefix: false
            }]
        );
    }

    #[test]
    fn phrases_are_whole_words_in_order() {
        assert_eq!(
            plan(&Term::Phrase("Deploy the API".into()))
                .expect("a plan")
                .any_of,
            [Match::Words {
                text: "deploy the api".into(),
                prefix: false
            }]
        );
    }
}
