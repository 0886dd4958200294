//! Finding `@mentions` in a Markdown body. Text inside code (inline `` `code` `` spans and
//! fenced blocks) mentions nobody. Linear in the body's length, whatever it holds.

use std::collections::HashSet;

/// What a body mentions, before names are resolved to users.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedMentions {
    /// Lowercased usernames, each once, in order of first mention.
    pub usernames: Vec<String>,
    pub here: bool,
    /// `@channel` or `@everyone`.
    pub channel: bool,
}

impl ParsedMentions {
    /// Mentions nobody.
    pub fn is_empty(&self) -> bool {
        self.usernames.is_empty() && !self.here && !self.channel
    }
}

/// The mentions in `body`: at most `max_names` distinct `@name`s (later ones stay text);
/// `@here`, `@channel` and `@everyone` anywhere.
pub fn parse_mentions(body: &str, max_names: usize) -> ParsedMentions {
    let mut found = ParsedMentions::default();
    let mut seen = HashSet::new();
    let mut in_fence = false;
    for line in body.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            continue;
        }
        scan_line(line, &mut found, &mut seen, max_names);
    }
    found
}

fn scan_line(line: &str, found: &mut ParsedMentions, seen: &mut HashSet<String>, max_names: usize) {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    // Inside an inline code span opened by a run of `ticks` backticks.
    let mut code_ticks = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            if code_ticks == 0 {
                code_ticks = run;
            } else if run == code_ticks {
                code_ticks = 0;
            }
            i += run;
            continue;
        }
        // A mention starts at '@' not preceded by a word character (so emails don't count).
        let boundary =
            i == 0 || !(chars[i - 1].is_alphanumeric() || matches!(chars[i - 1], '.' | '_' | '-'));
        if code_ticks == 0 && c == '@' && boundary {
            let name: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .collect();
            // A trailing '.' or '-' is punctuation, as in "thanks @ada."
            let name = name.trim_end_matches(['.', '-']).to_ascii_lowercase();
            i += 1 + name.len();
            match name.as_str() {
                "" => {}
                "here" => found.here = true,
                "channel" | "everyone" => found.channel = true,
                _ if found.usernames.len() < max_names && seen.insert(name.clone()) => {
                    found.usernames.push(name)
                }
                _ => {}
            }
            continue;
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(body: &str) -> Vec<String> {
        parse_mentions(body, 100).usernames
    }

    #[test]
    fn names_beyond_the_cap_stay_text() {
        let body: String = (0..8000).map(|i| format!("@user{i} ")).collect();
        let found = parse_mentions(&format!("{body} @here @ada @user1"), 100);
        assert_eq!(found.usernames.len(), 100);
        assert_eq!(found.usernames[99], "user99");
        assert!(found.here, "broadcasts count beyond the cap");
        assert_eq!(names("@ada @bob @ada"), vec!["ada", "bob"]);
        assert_eq!(
            parse_mentions("@ada @bob @cy", 2).usernames,
            vec!["ada", "bob"]
        );
    }

    #[test]
    fn finds_usernames_once_in_order() {
        assert_eq!(names("@ada and @Bob, then @ada again"), vec!["ada", "bob"]);
        assert_eq!(names("thanks @ada."), vec!["ada"]);
        assert_eq!(names("(@bob.smith)"), vec!["bob.smith"]);
        assert!(names("mail ada@example.com").is_empty());
        assert!(names("just @ alone").is_empty());
    }

    #[test]
    fn broadcasts() {
        let m = parse_mentions("@here look, @everyone", 100);
        assert!(m.here && m.channel && m.usernames.is_empty());
        assert!(parse_mentions("@channel", 100).channel);
    }

    #[test]
    fn code_mentions_nobody() {
        assert!(names("`@ada` and ``@bob ` x``").is_empty());
        assert_eq!(names("`code` @ada `more`"), vec!["ada"]);
        assert_eq!(names("```\n@ada\n@channel\n```\n@bob"), vec!["bob"]);
        assert!(!parse_mentions("```\n@channel\n```", 100).channel);
    }
}
