//! What PostgreSQL spells its own way, for the `common` files: each item has its SQLite twin
//! of the same name in `sqlite/dialect.rs`, and a comment on why the two differ.

use confab_core::{UserId, WorkspaceId};
use sqlx::PgPool;

use crate::StoreResult;
use crate::error::DbContext;

/// An invite, about to be used. `FOR UPDATE`: concurrent acceptances of the same invite (from
/// any process) queue here, so the last use is given out once.
pub(super) const INVITE_FOR_USE: &str =
    "SELECT workspace_id, expires_at, max_uses, uses FROM invites WHERE code_hash = $1 FOR UPDATE";

/// Moves a read cursor forward only, and never past the channel's end: PostgreSQL's `MAX` and
/// `MIN` are aggregates only.
pub(super) const MARK_READ: &str = "UPDATE channel_members SET last_read_seq = GREATEST(last_read_seq, \
       LEAST($1, (SELECT last_seq FROM channels WHERE id = $2))) \
     WHERE channel_id = $2 AND user_id = $3 RETURNING last_read_seq";

/// A hot statement, with the plan test's others (`statements.rs`): `mention_ids` is an array.
pub(super) use super::statements::CHANNEL_LIST;

/// `(id, username)` of the workspace's members with these usernames: the list is one array
/// parameter.
pub(super) async fn members_named(
    pool: &PgPool,
    ws: &WorkspaceId,
    usernames: &[String],
) -> StoreResult<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT u.id, u.username FROM users u JOIN workspace_members wm ON wm.user_id = u.id \
         WHERE wm.workspace_id = $1 AND u.username = ANY ($2)",
    )
    .bind(ws.as_str())
    .bind(usernames)
    .fetch_all(pool)
    .await
    .ctx("resolving mentions")
}

/// Which of `others` share a workspace with `user` (as `members_named`, one array).
pub(super) async fn sharing_a_workspace(
    pool: &PgPool,
    user: &UserId,
    others: &[UserId],
) -> StoreResult<Vec<String>> {
    let others: Vec<&str> = others.iter().map(UserId::as_str).collect();
    sqlx::query_scalar(
        "SELECT DISTINCT theirs.user_id FROM workspace_members mine \
         JOIN workspace_members theirs ON theirs.workspace_id = mine.workspace_id \
         WHERE mine.user_id = $1 AND theirs.user_id = ANY ($2)",
    )
    .bind(user.as_str())
    .bind(others)
    .fetch_all(pool)
    .await
    .ctx("checking shared workspaces")
}

/// Makes two uploads of one user take turns over their quota: each locks the user's row
/// before summing their files, so the second sees the first's row.
pub(super) const LOCK_USER: &str = "SELECT 1 FROM users WHERE id = $1 FOR UPDATE";

/// A search's list parameter (`column` then this around the placeholder): one array.
pub(super) const IN_LIST: (&str, &str) = (" = ANY(", "::text[])");

/// Case-insensitive `LIKE`: PostgreSQL's `LIKE` is case-sensitive.
pub(super) const LIKE_ANY_CASE: &str = "ILIKE";

/// The `n`th (from 1) parameter of a generated multi-row statement: PostgreSQL numbers them.
pub(super) fn push_param(out: &mut String, n: usize) {
    out.push('$');
    out.push_str(&n.to_string());
}

/// A claim's read: rows another chat service has locked are passed over, not waited for, so
/// each claim goes to exactly one of them.
pub(super) const SKIP_LOCKED: &str = " FOR UPDATE SKIP LOCKED";

/// A read that the transaction then updates: locked, so a concurrent writer waits.
pub(super) const FOR_UPDATE: &str = " FOR UPDATE";

/// PostgreSQL's `MAX` is an aggregate only.
pub(super) const GREATEST: &str = "GREATEST";

/// A list parameter (`$2`) as a table of `value`s: one array, unnested.
pub(super) const LIST_TABLE: &str = "unnest($2::text[]) AS u(value)";

/// A list of texts, bound as `IN_LIST` and `LIST_TABLE` read it: one array.
pub(super) fn list_param(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// A list of row numbers: one `bigint` array.
pub(super) const ID_LIST: (&str, &str) = (" = ANY(", "::bigint[])");

pub(super) fn id_list_param(values: &[i64]) -> Vec<i64> {
    values.to_vec()
}

/// A read that must not change before the transaction commits: a read cursor moving meanwhile waits for this transaction, so it sees what was pushed.
pub(super) const FOR_SHARE: &str = " FOR SHARE";
