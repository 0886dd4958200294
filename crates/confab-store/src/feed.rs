//! Cutting a changes-feed page, the same for both backends. Several messages can share one
//! `version` (a thread reply and the root whose reply count it changed, a deleted reply and its
//! root), and the next page asks for `version > next_cursor`: a page that ended inside such a
//! group would lose the rest of it for good. So a page never ends inside a group.

use confab_core::Message;

use crate::ChangesPage;

/// What the rows read for one page (up to `limit + 1` of them, by `version`) make.
pub(crate) enum Cut {
    Page(ChangesPage),
    /// The first version group alone is larger than the page: the backend reads every message
    /// of this version and answers them as one page ([`whole_group`]).
    WholeGroup(i64),
}

/// Cuts the page from `rows` (ascending by `version`, at most `limit + 1`): when the row past
/// the page shares its version with the page's last, that whole group moves to the next page.
pub(crate) fn cut(mut rows: Vec<Message>, limit: u32, last_seq: i64, cursor: i64) -> Cut {
    let limit = limit as usize;
    let has_more = rows.len() > limit;
    if has_more {
        let boundary = rows[limit].version;
        rows.truncate(limit);
        if rows.last().is_some_and(|m| m.version == boundary) {
            rows.retain(|m| m.version < boundary);
            if rows.is_empty() {
                return Cut::WholeGroup(boundary);
            }
        }
    }
    let next_cursor = match (has_more, rows.last()) {
        (true, Some(last)) => last.version,
        _ => last_seq.max(cursor),
    };
    Cut::Page(ChangesPage {
        messages: rows,
        next_cursor,
        has_more,
    })
}

/// The page made of one whole version group, larger than the limit asked for.
pub(crate) fn whole_group(group: Vec<Message>, version: i64) -> ChangesPage {
    ChangesPage {
        messages: group,
        next_cursor: version,
        // Later versions may exist; if not, the next page is empty and says so.
        has_more: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confab_core::{ChannelId, Mentions, MessageId, Timestamp, UserId};

    fn at(version: i64) -> Message {
        Message {
            id: MessageId::generate(),
            channel_id: ChannelId::generate(),
            seq: version,
            version,
            author_id: UserId::generate(),
            body: Some(String::new()),
            ts: Timestamp::now(),
            edited_at: None,
            deleted: false,
            thread_root_id: None,
            reply_count: 0,
            last_reply_at: None,
            reply_users: Vec::new(),
            reactions: Vec::new(),
            mentions: Mentions::default(),
            files: Vec::new(),
        }
    }

    fn versions(cut: Cut) -> (Vec<i64>, i64, bool) {
        match cut {
            Cut::Page(p) => (
                p.messages.iter().map(|m| m.version).collect(),
                p.next_cursor,
                p.has_more,
            ),
            Cut::WholeGroup(v) => (Vec::new(), v, true),
        }
    }

    #[test]
    fn a_page_never_ends_inside_a_version_group() {
        let rows = || vec![at(3), at(4), at(4), at(5)];
        // Limit 2 would end between the two 4s: the group goes to the next page.
        assert_eq!(versions(cut(rows(), 2, 9, 0)), (vec![3], 3, true));
        // Limit 3 ends after the group.
        assert_eq!(versions(cut(rows(), 3, 9, 0)), (vec![3, 4, 4], 4, true));
        // Everything fits: the cursor is the channel's end.
        assert_eq!(versions(cut(rows(), 4, 9, 0)), (vec![3, 4, 4, 5], 9, false));
    }

    #[test]
    fn a_group_larger_than_the_page_is_read_whole() {
        assert!(matches!(
            cut(vec![at(4), at(4)], 1, 9, 0),
            Cut::WholeGroup(4)
        ));
        assert_eq!(whole_group(vec![at(4), at(4)], 4).next_cursor, 4);
    }
}
