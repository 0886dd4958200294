//! Where a found message matched its query, for the client to mark: spans of the original
//! body in UTF-16 code units (what a JavaScript string's indices count), found as the index
//! finds them (folded text, substrings, word starts, English stems).

use serde::Serialize;
use unicode_normalization::{UnicodeNormalization, char::compose};

use super::plan::TRIGRAM;
use super::query::{SearchQuery, Term};
use super::text::{fold, fold_char, is_cjk, stem};

/// Highlights one answer carries at most.
pub const MAX_HIGHLIGHTS: usize = 64;

/// `[start, end)` of the body, in UTF-16 code units.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Highlight {
    pub start: usize,
    pub end: usize,
}

/// The body folded, each folded character with the span of the original it came from.
struct Folded {
    chars: Vec<char>,
    spans: Vec<(usize, usize)>,
}

impl Folded {
    fn of(body: &str) -> Folded {
        let mut chars: Vec<char> = Vec::with_capacity(body.len());
        let mut spans: Vec<(usize, usize)> = Vec::with_capacity(body.len());
        let mut at = 0;
        let mut buf = String::new();
        let mut base = None;
        for c in body.chars() {
            let end = at + c.len_utf16();
            buf.clear();
            fold_char(c, &mut base, &mut buf);
            // Composed as `fold` composes, each character keeping the span it began in.
            for f in buf.nfc() {
                match chars.last().and_then(|&prev| compose(prev, f)) {
                    Some(both) => {
                        *chars.last_mut().expect("composed with it") = both;
                        spans.last_mut().expect("one per char").1 = end;
                    }
                    None => {
                        chars.push(f);
                        spans.push((at, end));
                    }
                }
            }
            at = end;
        }
        Folded { chars, spans }
    }

    fn is_word_char(&self, i: usize) -> bool {
        self.chars
            .get(i)
            .is_some_and(|c| c.is_alphanumeric() && !is_cjk(*c))
    }

    /// Where `needle` occurs (with `word_start`, only where a word begins), as folded ranges.
    fn find(&self, needle: &[char], word_start: bool, out: &mut Vec<(usize, usize)>) {
        if needle.is_empty() || needle.len() > self.chars.len() {
            return;
        }
        for i in 0..=self.chars.len() - needle.len() {
            if self.chars[i..i + needle.len()] == *needle
                && (!word_start || i == 0 || !self.is_word_char(i - 1))
            {
                out.push((i, i + needle.len()));
            }
        }
    }

    /// Every word of letters and digits whose English stem is `stemmed`.
    fn find_stem(&self, stemmed: &str, out: &mut Vec<(usize, usize)>) {
        let mut i = 0;
        while i < self.chars.len() {
            if !self.is_word_char(i) {
                i += 1;
                continue;
            }
            let start = i;
            while self.is_word_char(i) {
                i += 1;
            }
            let word: String = self.chars[start..i].iter().collect();
            if stem(&word) == stemmed {
                out.push((start, i));
            }
        }
    }
}

/// Where `body` matches the words and phrases of `query`, in order, overlapping ones merged.
pub fn highlights(body: &str, query: &SearchQuery) -> Vec<Highlight> {
    let folded = Folded::of(body);
    let mut found = Vec::new();
    for term in &query.terms {
        let (Term::Word(t) | Term::Phrase(t)) = term;
        let text = fold(t.trim());
        let needle: Vec<char> = text.chars().collect();
        let plain = needle.iter().all(|c| c.is_alphanumeric() && !is_cjk(*c));
        let short = needle.len() < TRIGRAM && !needle.iter().any(|c| is_cjk(*c));
        folded.find(&needle, short, &mut found);
        if plain && matches!(term, Term::Word(_)) {
            folded.find_stem(&stem(&text), &mut found);
        }
    }
    found.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (s, e) in found {
        match merged.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e)),
        }
    }
    merged
        .into_iter()
        .take(MAX_HIGHLIGHTS)
        .map(|(s, e)| Highlight {
            start: folded.spans[s].0,
            end: folded.spans[e - 1].1,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::parse;

    fn marked(body: &str, q: &str) -> Vec<String> {
        let units: Vec<u16> = body.encode_utf16().collect();
        highlights(body, &parse(q))
            .iter()
            .map(|h| String::from_utf16(&units[h.start..h.end]).expect("whole characters"))
            .collect()
    }

    #[test]
    fn matches_are_marked_in_the_original_text() {
        assert_eq!(marked("Le Café est là", "cafe"), ["Café"]);
        assert_eq!(
            marked("We are running the Deployment", "run deplo"),
            ["running", "Deplo"]
        );
        assert_eq!(marked("runs and ran and run", "running"), ["runs", "run"]);
        assert_eq!(marked("我家在上海东边", "上海"), ["上海"]);
        assert_eq!(marked("🎉 東京に行く", "東京"), ["東京"]);
        assert_eq!(
            marked("see v1.2.3 and foo_bar", "v1.2.3 foo_bar"),
            ["v1.2.3", "foo_bar"]
        );
        assert_eq!(marked("go going ago", "go"), ["go", "going"]);
        assert_eq!(
            marked("ship it now, ship it", "\"ship it\" -now"),
            ["ship it", "ship it"]
        );
    }

    #[test]
    fn offsets_count_utf16_code_units() {
        // 🎉 is two code units.
        assert_eq!(
            highlights("🎉 cafe", &parse("cafe")),
            [Highlight { start: 3, end: 7 }]
        );
    }
}
