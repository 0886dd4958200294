//! Turning SQLite rows into domain values.

use confab_core::{Mentions, Message, Timestamp, UserId};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::StoreError;
use crate::error::DbContext;
use crate::rows::stored_id;

pub(super) use crate::rows::{CHANNEL_COLUMNS, USER_COLUMNS, WORKSPACE_COLUMNS};
use crate::rows::{MENTIONS_CHANNEL, MENTIONS_HERE};
/// Of `mention_ids` only the named users are read, before the ` *` that starts who `@here`
/// reached (which grows with the channel).
/// A message's files come as one JSON column (`crate::rows::files_column`).
pub(super) static MESSAGE_COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "m.id, m.channel_id, m.seq, m.version, m.author_id, m.body, \
     m.created_at, m.edited_at, m.deleted, m.thread_root_id, m.reply_count, m.last_reply_at, \
     CASE WHEN instr(' ' || m.mention_ids, ' *') > 0 \
          THEN substr(m.mention_ids, 1, instr(' ' || m.mention_ids, ' *') - 1) \
          ELSE m.mention_ids END AS mention_ids, \
     m.mentions_channel, {} AS files",
        crate::rows::files_column("json_array", "json_group_array")
    )
});

pub(super) use crate::rows::{channel, role, user, workspace};

pub(super) fn message(row: &SqliteRow) -> Result<Message, StoreError> {
    let deleted: bool = row.try_get("deleted").ctx("reading a message")?;
    let body: Option<String> = row.try_get("body").ctx("reading a message")?;
    let root: Option<String> = row.try_get("thread_root_id").ctx("reading a message")?;
    let edited_at: Option<i64> = row.try_get("edited_at").ctx("reading a message")?;
    Ok(Message {
        id: stored_id(row.try_get("id").ctx("reading a message")?)?,
        channel_id: stored_id(row.try_get("channel_id").ctx("reading a message")?)?,
        seq: row.try_get("seq").ctx("reading a message")?,
        version: row.try_get("version").ctx("reading a message")?,
        author_id: stored_id(row.try_get("author_id").ctx("reading a message")?)?,
        body: if deleted { None } else { body },
        ts: Timestamp::from_micros(row.try_get("created_at").ctx("reading a message")?),
        edited_at: edited_at.map(Timestamp::from_micros),
        deleted,
        thread_root_id: root.map(stored_id).transpose()?,
        reply_count: row.try_get("reply_count").ctx("reading a message")?,
        last_reply_at: row
            .try_get::<Option<i64>, _>("last_reply_at")
            .ctx("reading a message")?
            .map(Timestamp::from_micros),
        reply_users: Vec::new(),
        reactions: Vec::new(),
        files: crate::rows::files_json(row.try_get("files").ctx("reading a message")?)?,
        mentions: {
            let ids: String = row.try_get("mention_ids").ctx("reading a message")?;
            let flags: i64 = row.try_get("mentions_channel").ctx("reading a message")?;
            Mentions {
                user_ids: crate::rows::named_mentions(ids.split_whitespace())?,
                channel: flags & MENTIONS_CHANNEL != 0,
                here: flags & MENTIONS_HERE != 0,
                here_ids: Vec::new(),
            }
        },
    })
}

/// A DM's key: its sorted, de-duplicated member IDs.
pub(super) fn dm_key(members: &[UserId]) -> String {
    let mut ids: Vec<&str> = members.iter().map(UserId::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.join(",")
}
