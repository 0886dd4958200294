//! The search query language Slack users know, parsed by one pure function: words (all must
//! match), `"exact phrases"`, `-excluded` words or phrases, `in:#channel`, `in:@user` (the DM
//! with them), `from:@user` (`from:me`), `before:`/`after:`/`on:` a `YYYY-MM-DD` day,
//! `during:` a `YYYY-MM` month or a `YYYY` year, `has:file`, `has:link`, `has:reaction` and
//! `is:thread`. Bad syntax never fails: what is not a well-formed operator is a plain word.

use time::{Date, Month};

/// Words, phrases, names and flags one query holds at most; what comes after is ignored.
pub const MAX_QUERY_PARTS: usize = 32;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Term {
    /// A word as typed (the store decides how it matches: case, accents, stems, prefixes).
    Word(String),
    /// Words that must appear together, in this order.
    Phrase(String),
}

/// What `has:` asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Has {
    pub file: bool,
    pub link: bool,
    pub reaction: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// All must match.
    pub terms: Vec<Term>,
    /// None may match.
    pub excluded: Vec<Term>,
    /// Channel names (without `#`): the message is in one of them.
    pub in_channels: Vec<String>,
    /// Usernames (without `@`): the message is in the DM with one of them.
    pub in_dms_with: Vec<String>,
    /// Usernames (without `@`): one of them sent it.
    pub from_users: Vec<String>,
    /// `from:me`: the caller sent it.
    pub from_me: bool,
    /// Sent on or after this day (UTC)…
    pub since: Option<Date>,
    /// …and before this one.
    pub until: Option<Date>,
    pub has: Has,
    /// A thread's root with replies, or a reply.
    pub is_thread: bool,
}

impl SearchQuery {
    /// Nothing to look for: no word, phrase or filter at all.
    pub fn is_empty(&self) -> bool {
        *self == SearchQuery::default()
    }

    fn narrow_since(&mut self, day: Date) {
        self.since = Some(self.since.map_or(day, |d| d.max(day)));
    }

    fn narrow_until(&mut self, day: Date) {
        self.until = Some(self.until.map_or(day, |d| d.min(day)));
    }
}

/// A `YYYY-MM-DD` day.
pub fn day(s: &str) -> Option<Date> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// The days `during:` covers: a `YYYY-MM` month or a `YYYY` year, as `[first, after last)`.
fn period(s: &str) -> Option<(Date, Date)> {
    let (y, m) = match s.split_once('-') {
        Some((y, m)) if m.len() == 2 => (y, Some(m)),
        Some(_) => return None,
        None => (s, None),
    };
    if y.len() != 4 {
        return None;
    }
    let year: i32 = y.parse().ok()?;
    match m {
        None => Some((
            Date::from_calendar_date(year, Month::January, 1).ok()?,
            Date::from_calendar_date(year + 1, Month::January, 1).ok()?,
        )),
        Some(m) => {
            let month = Month::try_from(m.parse::<u8>().ok()?).ok()?;
            let first = Date::from_calendar_date(year, month, 1).ok()?;
            let next = if month == Month::December {
                Date::from_calendar_date(year + 1, Month::January, 1).ok()?
            } else {
                Date::from_calendar_date(year, month.next(), 1).ok()?
            };
            Some((first, next))
        }
    }
}

/// A username or channel name after its sigil: nothing a name cannot hold.
fn name(s: &str) -> Option<String> {
    let ok = !s.is_empty()
        && s.len() <= 80
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then(|| s.to_lowercase())
}

/// Splits on whitespace outside double quotes; a quoted run (with any `-` before it) is one
/// token, quotes kept so the parser can tell a phrase. An unclosed quote closes at the end.
fn tokens(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => {
                current.push(c);
                quoted = !quoted;
                if !quoted {
                    out.push(std::mem::take(&mut current));
                }
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A token as a word or phrase, or nothing if it holds no text.
fn term(token: &str) -> Option<Term> {
    if let Some(inner) = token.strip_prefix('"') {
        let inner = inner.strip_suffix('"').unwrap_or(inner).trim();
        return match inner.split_whitespace().count() {
            0 => None,
            1 => Some(Term::Word(inner.to_owned())),
            _ => Some(Term::Phrase(
                inner.split_whitespace().collect::<Vec<_>>().join(" "),
            )),
        };
    }
    let word = token.trim_matches('"');
    (!word.is_empty()).then(|| Term::Word(word.to_owned()))
}

/// Applies `op:value` to `q`; `false` if it is not a well-formed operator (then it is a word).
fn operator(q: &mut SearchQuery, op: &str, value: &str) -> bool {
    match op.to_ascii_lowercase().as_str() {
        "in" => {
            if let Some(user) = value.strip_prefix('@').and_then(name) {
                q.in_dms_with.push(user);
            } else if let Some(channel) = name(value.strip_prefix('#').unwrap_or(value)) {
                q.in_channels.push(channel);
            } else {
                return false;
            }
        }
        "from" => match value.strip_prefix('@').unwrap_or(value) {
            "me" => q.from_me = true,
            user => match name(user) {
                Some(user) => q.from_users.push(user),
                None => return false,
            },
        },
        "before" => match day(value) {
            Some(d) => q.narrow_until(d),
            None => return false,
        },
        "after" => match day(value).and_then(Date::next_day) {
            Some(d) => q.narrow_since(d),
            None => return false,
        },
        "on" => match day(value).and_then(|d| Some((d, d.next_day()?))) {
            Some((d, next)) => {
                q.narrow_since(d);
                q.narrow_until(next);
            }
            None => return false,
        },
        "during" => match period(value) {
            Some((first, next)) => {
                q.narrow_since(first);
                q.narrow_until(next);
            }
            None => return false,
        },
        "has" => match value.to_ascii_lowercase().as_str() {
            "file" | "files" => q.has.file = true,
            "link" | "links" => q.has.link = true,
            "reaction" | "reactions" => q.has.reaction = true,
            _ => return false,
        },
        "is" => match value.to_ascii_lowercase().as_str() {
            "thread" => q.is_thread = true,
            _ => return false,
        },
        _ => return false,
    }
    true
}

/// Parses a search box's text. Never fails: anything that is not a well-formed operator is
/// searched for as the words it is.
pub fn parse(text: &str) -> SearchQuery {
    let mut q = SearchQuery::default();
    for token in tokens(text).into_iter().take(MAX_QUERY_PARTS) {
        if let Some(rest) = token.strip_prefix('-').filter(|r| !r.is_empty()) {
            if let Some(t) = term(rest) {
                q.excluded.push(t);
            }
            continue;
        }
        if !token.starts_with('"')
            && let Some((op, value)) = token.split_once(':')
            && operator(&mut q, op, value)
        {
            continue;
        }
        if let Some(t) = term(&token) {
            q.terms.push(t);
        }
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u8, d: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap_or(Month::January), d)
            .unwrap_or(Date::MIN)
    }

    fn words(ws: &[&str]) -> Vec<Term> {
        ws.iter().map(|w| Term::Word((*w).to_owned())).collect()
    }

    /// Each form with what it must give; everything not named stays empty.
    #[test]
    fn the_query_language() {
        let cases: Vec<(&str, SearchQuery)> = vec![
            (
                "deploy failed",
                SearchQuery {
                    terms: words(&["deploy", "failed"]),
                    ..Default::default()
                },
            ),
            (
                "\"deploy failed\" now",
                SearchQuery {
                    terms: vec![
                        Term::Phrase("deploy failed".into()),
                        Term::Word("now".into()),
                    ],
                    ..Default::default()
                },
            ),
            (
                "deploy -staging -\"dry run\"",
                SearchQuery {
                    terms: words(&["deploy"]),
                    excluded: vec![Term::Word("staging".into()), Term::Phrase("dry run".into())],
                    ..Default::default()
                },
            ),
            (
                "in:#ops in:general",
                SearchQuery {
                    in_channels: vec!["ops".into(), "general".into()],
                    ..Default::default()
                },
            ),
            (
                "in:@Ada",
                SearchQuery {
                    in_dms_with: vec!["ada".into()],
                    ..Default::default()
                },
            ),
            (
                "from:@bob from:carol",
                SearchQuery {
                    from_users: vec!["bob".into(), "carol".into()],
                    ..Default::default()
                },
            ),
            (
                "from:me",
                SearchQuery {
                    from_me: true,
                    ..Default::default()
                },
            ),
            (
                "before:2026-03-01",
                SearchQuery {
                    until: Some(date(2026, 3, 1)),
                    ..Default::default()
                },
            ),
            (
                "after:2026-02-28",
                SearchQuery {
                    since: Some(date(2026, 3, 1)),
                    ..Default::default()
                },
            ),
            (
                "on:2026-12-31",
                SearchQuery {
                    since: Some(date(2026, 12, 31)),
                    until: Some(date(2027, 1, 1)),
                    ..Default::default()
                },
            ),
            (
                "during:2026-02",
                SearchQuery {
                    since: Some(date(2026, 2, 1)),
                    until: Some(date(2026, 3, 1)),
                    ..Default::default()
                },
            ),
            (
                "during:2025",
                SearchQuery {
                    since: Some(date(2025, 1, 1)),
                    until: Some(date(2026, 1, 1)),
                    ..Default::default()
                },
            ),
            (
                "after:2026-01-01 during:2026-01 before:2026-01-20",
                SearchQuery {
                    since: Some(date(2026, 1, 2)),
                    until: Some(date(2026, 1, 20)),
                    ..Default::default()
                },
            ),
            (
                "has:file has:link has:reaction is:thread",
                SearchQuery {
                    has: Has {
                        file: true,
                        link: true,
                        reaction: true,
                    },
                    is_thread: true,
                    ..Default::default()
                },
            ),
            (
                "FROM:@ada Has:File",
                SearchQuery {
                    from_users: vec!["ada".into()],
                    has: Has {
                        file: true,
                        ..Default::default()
                    },
                    ..Default::default()
                },
            ),
            // Bad syntax is plain words.
            (
                "before:yesterday on:2026-02-30 during:26-01",
                SearchQuery {
                    terms: words(&["before:yesterday", "on:2026-02-30", "during:26-01"]),
                    ..Default::default()
                },
            ),
            (
                "in: from:@ has:cake is:open https://x.io/a",
                SearchQuery {
                    terms: words(&["in:", "from:@", "has:cake", "is:open", "https://x.io/a"]),
                    ..Default::default()
                },
            ),
            (
                "\"unclosed phrase",
                SearchQuery {
                    terms: vec![Term::Phrase("unclosed phrase".into())],
                    ..Default::default()
                },
            ),
            (
                "- \"\" -\"\" \"one\"",
                SearchQuery {
                    terms: words(&["-", "one"]),
                    ..Default::default()
                },
            ),
            (
                "上海 東京 foo_bar v1.2.3 192.168.0.1 #123",
                SearchQuery {
                    terms: words(&["上海", "東京", "foo_bar", "v1.2.3", "192.168.0.1", "#123"]),
                    ..Default::default()
                },
            ),
            ("", SearchQuery::default()),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn a_query_holds_a_bounded_number_of_parts() {
        let long = "w ".repeat(1000);
        assert_eq!(parse(&long).terms.len(), MAX_QUERY_PARTS);
        assert!(parse("").is_empty());
        assert!(!parse("is:thread").is_empty());
    }
}
