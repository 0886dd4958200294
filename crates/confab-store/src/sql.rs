//! Statements of the per-dialect message paths that both engines run as they are: one text
//! each (`$n` placeholders, which sqlx's SQLite driver accepts too), run by `sqlite/` and
//! `postgres/` alike. Statements of the other areas live with their one implementation in
//! `common/`.

/// A deleted message's reactions go with its body.
pub(crate) const DELETE_REACTIONS: &str = "DELETE FROM reactions WHERE message_id = $1";

/// One user's reaction, added; nothing when it is there already.
pub(crate) const ADD_REACTION: &str = "INSERT INTO reactions (message_id, emoji, user_id, created_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

/// One user's reaction, removed.
pub(crate) const REMOVE_REACTION: &str =
    "DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3";

/// A channel's latest sequence number.
pub(crate) const LAST_SEQ: &str = "SELECT last_seq FROM channels WHERE id = $1";

/// The channel's log after a sequence number (a hot statement on PostgreSQL, whose plan test
/// explains it).
pub(crate) const CHANGE_LOG: &str = "SELECT seq, kind, message_id, user_id, detail \
     FROM channel_changes WHERE channel_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

/// A deleted message's files leave every read path with it (`$1` the message, `$2` when);
/// their blobs go after a grace period (the sweep).
pub(crate) const DELETE_MESSAGE_FILES: &str = "UPDATE files SET state = 'deleted', deleted_at = $2 \
     WHERE message_id = $1 AND state = 'complete'";
