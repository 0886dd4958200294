//! The hot statements' texts, each written once and built once: the backend runs them, and
//! the plan test (`tests/postgres.rs`, through [`hot_statements`]) has PostgreSQL explain each
//! one, so a statement that can only scan a whole table fails a test instead of a fleet.

use std::sync::LazyLock;

use super::rows::{CHANNEL_COLUMNS, MENTIONS_CHANNEL, select_messages};

/// A message by ID.
pub(super) static MESSAGE: LazyLock<String> = LazyLock::new(|| select_messages("m.id = $1"));

/// A message and its thread root.
pub(super) static MESSAGE_WITH_ROOT: LazyLock<String> = LazyLock::new(|| {
    select_messages("m.id = $1 OR m.id = (SELECT thread_root_id FROM messages WHERE id = $1)")
});

/// The messages with the IDs `$1` and their thread roots (hole-filling, retried sends). The
/// roots are gathered into the array first: written as `m.id = ANY ($1) OR m.id IN (SELECT
/// …)`, the planner could only scan the table (376 ms at 35k rows).
pub(super) static MESSAGES_WITH_ROOTS: LazyLock<String> = LazyLock::new(|| {
    select_messages(
        "m.id = ANY ($1::text[] || ARRAY(SELECT r.thread_root_id FROM messages r \
         WHERE r.id = ANY ($1) AND r.thread_root_id IS NOT NULL))",
    )
});

/// A thread's root and live replies, in order.
pub(super) static THREAD: LazyLock<String> = LazyLock::new(|| {
    select_messages("m.id = $1 OR (m.thread_root_id = $1 AND NOT m.deleted) ORDER BY m.seq")
});

/// One changes-feed page (one more row than asked, to know whether more follow).
pub(super) static FEED_PAGE: LazyLock<String> = LazyLock::new(|| {
    select_messages("m.channel_id = $1 AND m.version > $2 ORDER BY m.version LIMIT $3")
});

/// Every message of one version group.
pub(super) static FEED_GROUP: LazyLock<String> =
    LazyLock::new(|| select_messages("m.channel_id = $1 AND m.version = $2"));

/// One history page: the channel's timeline (thread replies live in their thread).
pub(super) static HISTORY_PAGE: LazyLock<String> = LazyLock::new(|| {
    select_messages(
        "m.channel_id = $1 AND m.seq < $2 AND m.thread_root_id IS NULL \
         ORDER BY m.seq DESC LIMIT $3",
    )
});

/// The page after a message, oldest first: the newer half of a page around it.
pub(super) static HISTORY_AFTER: LazyLock<String> = LazyLock::new(|| {
    select_messages(
        "m.channel_id = $1 AND m.seq > $2 AND m.thread_root_id IS NULL \
         ORDER BY m.seq LIMIT $3",
    )
});

#[cfg(feature = "testsuite")]
use crate::sql::CHANGE_LOG;

/// The channels of a workspace one user sees, with their unread and mention counts: unread
/// are others' live top-level messages after the read cursor; mentions those of them that
/// name the user (by name, or by `@here` while online, or `@channel`).
pub(super) static CHANNEL_LIST: LazyLock<String> = LazyLock::new(|| {
    let unread = "m.channel_id = c.id AND m.seq > cm.last_read_seq AND m.author_id <> $1 \
                  AND NOT m.deleted AND m.thread_root_id IS NULL";
    format!(
        "SELECT {CHANNEL_COLUMNS}, cm.user_id IS NOT NULL AS is_member, \
                COALESCE(cm.last_read_seq, 0) AS last_read_seq, \
                CASE WHEN cm.user_id IS NULL THEN 0 ELSE \
                  (SELECT COUNT(*) FROM messages m WHERE {unread}) END AS unread_count, \
                CASE WHEN cm.user_id IS NULL THEN 0 ELSE \
                  (SELECT COUNT(*) FROM messages m WHERE {unread} \
                     AND ($1 = ANY (m.mention_ids) OR (m.mentions_channel & {MENTIONS_CHANNEL}) <> 0)) \
                END AS mention_count \
         FROM channels c \
         LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = $1 \
         WHERE c.workspace_id = $2 AND (cm.user_id IS NOT NULL OR ($3 AND c.kind = 'public')) \
         ORDER BY c.kind = 'dm', c.name, c.id"
    )
});

/// Every channel a user is in (what a gateway subscribes a socket to).
#[cfg(feature = "testsuite")]
use super::channels::USER_CHANNELS;

/// The hot statements by name, each with SQL literals to stand for its parameters (`$1`,
/// `$2`, … in order), for the plan test.
#[cfg(feature = "testsuite")]
pub fn hot_statements() -> Vec<(&'static str, String, Vec<&'static str>)> {
    let id = "'0190a000-0000-7000-8000-000000000001'";
    let ids = "ARRAY['0190a000-0000-7000-8000-000000000001']::text[]";
    vec![
        ("message", MESSAGE.clone(), vec![id]),
        ("message with root", MESSAGE_WITH_ROOT.clone(), vec![id]),
        (
            "messages with roots",
            MESSAGES_WITH_ROOTS.clone(),
            vec![ids],
        ),
        ("thread", THREAD.clone(), vec![id]),
        ("feed page", FEED_PAGE.clone(), vec![id, "10", "51"]),
        ("feed group", FEED_GROUP.clone(), vec![id, "10"]),
        ("history page", HISTORY_PAGE.clone(), vec![id, "1000", "51"]),
        (
            "history after",
            HISTORY_AFTER.clone(),
            vec![id, "1000", "51"],
        ),
        ("change log", CHANGE_LOG.to_owned(), vec![id, "10", "500"]),
        ("channel list", CHANNEL_LIST.clone(), vec![id, id, "true"]),
        ("user channels", USER_CHANNELS.to_owned(), vec![id]),
    ]
}
