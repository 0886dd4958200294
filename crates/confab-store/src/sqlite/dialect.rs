//! What SQLite spells its own way, for the `common` files: each item has its PostgreSQL twin
//! of the same name in `postgres/dialect.rs`, and a comment on why the two differ.

use std::sync::LazyLock;

use confab_core::{UserId, WorkspaceId};
use sqlx::SqlitePool;

use super::rows::CHANNEL_COLUMNS;
use crate::StoreResult;
use crate::error::DbContext;

/// An invite, about to be used. No `FOR UPDATE` in SQLite: its one writer connection runs one
/// transaction at a time, so two acceptances cannot interleave.
pub(super) const INVITE_FOR_USE: &str =
    "SELECT workspace_id, expires_at, max_uses, uses FROM invites WHERE code_hash = $1";

/// Moves a read cursor forward only, and never past the channel's end: two-argument `MAX` and
/// `MIN` are SQLite's `GREATEST` and `LEAST`.
pub(super) const MARK_READ: &str = "UPDATE channel_members SET last_read_seq = MAX(last_read_seq, \
       MIN($1, (SELECT last_seq FROM channels WHERE id = $2))) \
     WHERE channel_id = $2 AND user_id = $3 RETURNING last_read_seq";

/// The channels of a workspace one user sees, with their unread and mention counts: unread
/// are others' live top-level messages after the read cursor; mentions those of them that
/// name the user (by name, or by `@here` while online, or `@channel`). SQLite keeps
/// `mention_ids` as space-separated text and booleans as integers.
pub(super) static CHANNEL_LIST: LazyLock<String> = LazyLock::new(|| {
    let unread = "m.channel_id = c.id AND m.seq > cm.last_read_seq AND m.author_id <> $1 \
                  AND m.deleted = 0 AND m.thread_root_id IS NULL";
    format!(
        "SELECT {CHANNEL_COLUMNS}, cm.user_id IS NOT NULL AS is_member, \
                COALESCE(cm.last_read_seq, 0) AS last_read_seq, \
                CASE WHEN cm.user_id IS NULL THEN 0 ELSE \
                  (SELECT COUNT(*) FROM messages m WHERE {unread}) END AS unread_count, \
                CASE WHEN cm.user_id IS NULL THEN 0 ELSE \
                  (SELECT COUNT(*) FROM messages m WHERE {unread} \
                     AND ((' ' || m.mention_ids || ' ') LIKE ('% ' || $1 || ' %') \
                          OR (m.mentions_channel & 1) = 1)) END AS mention_count \
         FROM channels c \
         LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = $1 \
         WHERE c.workspace_id = $2 AND (cm.user_id IS NOT NULL OR ($3 AND c.kind = 'public')) \
         ORDER BY c.kind = 'dm', c.name, c.id"
    )
});

/// `(id, username)` of the workspace's members with these usernames. SQLite has no array
/// parameter: the list travels as one JSON array, opened by `json_each`.
pub(super) async fn members_named(
    pool: &SqlitePool,
    ws: &WorkspaceId,
    usernames: &[String],
) -> StoreResult<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT u.id, u.username FROM users u JOIN workspace_members wm ON wm.user_id = u.id \
         WHERE wm.workspace_id = $1 AND u.username IN (SELECT value FROM json_each($2))",
    )
    .bind(ws.as_str())
    .bind(json_list(usernames.iter().map(String::as_str)))
    .fetch_all(pool)
    .await
    .ctx("resolving mentions")
}

/// Which of `others` share a workspace with `user` (as `members_named`, a JSON array).
pub(super) async fn sharing_a_workspace(
    pool: &SqlitePool,
    user: &UserId,
    others: &[UserId],
) -> StoreResult<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT theirs.user_id FROM workspace_members mine \
         JOIN workspace_members theirs ON theirs.workspace_id = mine.workspace_id \
         WHERE mine.user_id = $1 AND theirs.user_id IN (SELECT value FROM json_each($2))",
    )
    .bind(user.as_str())
    .bind(json_list(others.iter().map(UserId::as_str)))
    .fetch_all(pool)
    .await
    .ctx("checking shared workspaces")
}

fn json_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    serde_json::Value::from(items.collect::<Vec<_>>()).to_string()
}

/// Makes two uploads of one user take turns over their quota. SQLite needs nothing: its one
/// writer connection runs one transaction at a time. (A harmless read stands in.)
pub(super) const LOCK_USER: &str = "SELECT 1 FROM users WHERE id = $1";

/// A search's list parameter (`column` then this around the placeholder): SQLite has no array
/// parameter, so the list travels as one JSON array, opened by `json_each`.
pub(super) const IN_LIST: (&str, &str) = (" IN (SELECT value FROM json_each(", "))");

/// Case-insensitive `LIKE`: SQLite's `LIKE` is (for ASCII), and has no `ILIKE`.
pub(super) const LIKE_ANY_CASE: &str = "LIKE";

/// A search's list, bound as `IN_LIST` reads it.
pub(super) fn search_list(values: &[String]) -> String {
    json_list(values.iter().map(String::as_str))
}

/// The `n`th (from 1) parameter of a generated multi-row statement: an anonymous `?`, since
/// SQLite finds a numbered one's name by scanning every parameter, and sqlx asks for each
/// (quadratic: a 500-row insert spent most of its time there).
pub(super) fn push_param(out: &mut String, _n: usize) {
    out.push('?');
}

/// A claim's read: SQLite's one writer connection runs one transaction at a time, so two
/// claims cannot interleave and nothing needs to be skipped.
pub(super) const SKIP_LOCKED: &str = "";

/// A read that a transaction then updates: nothing to lock (one writer, as above).
pub(super) const FOR_UPDATE: &str = "";

/// Two-argument `MAX` is SQLite's `GREATEST`.
pub(super) const GREATEST: &str = "MAX";

/// A list parameter (`$2`) as a table of `value`s: a JSON array opened by `json_each`.
pub(super) const LIST_TABLE: &str = "json_each($2) u";

/// A list of texts, bound as `IN_LIST` and `LIST_TABLE` read it.
pub(super) fn list_param(values: &[&str]) -> String {
    json_list(values.iter().copied())
}

/// A list of row numbers, as `IN_LIST` reads one: JSON numbers.
pub(super) const ID_LIST: (&str, &str) = IN_LIST;

pub(super) fn id_list_param(values: &[i64]) -> String {
    serde_json::Value::from(values.to_vec()).to_string()
}

/// A read that must not change before the transaction commits: nothing to lock (one writer).
pub(super) const FOR_SHARE: &str = "";
