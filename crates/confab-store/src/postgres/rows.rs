//! Turning PostgreSQL rows into domain values, and the column lists the queries select.

use confab_core::{Mentions, Message, Reaction, Timestamp, UserId, add_reaction, add_replier};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::StoreError;
use crate::error::DbContext;
use crate::rows::stored_id;

pub(super) use crate::rows::{CHANNEL_COLUMNS, USER_COLUMNS, WORKSPACE_COLUMNS};

pub(super) use crate::rows::{MENTIONS_CHANNEL, MENTIONS_HERE};

/// A message with its reactions and repliers, all from one statement, so a read never sees
/// the message and its reactions at different moments. Of `mention_ids` it reads only the
/// named users, before the `*` that starts who `@here` reached (which grows with the channel). Reactions come as two parallel arrays
/// in the order they were added; repliers in reply order (de-duplicated in [`message`]).
pub(super) fn select_messages(where_sql: &str) -> String {
    format!(
        "SELECT m.id, m.channel_id, m.seq, m.version, m.author_id, m.body, m.created_at, \
           m.edited_at, m.deleted, m.thread_root_id, m.reply_count, m.last_reply_at, \
           m.mention_ids[1:COALESCE(array_position(m.mention_ids, '*') - 1, \
                            cardinality(m.mention_ids))] AS mention_ids, \
           m.mentions_channel, \
           ARRAY(SELECT r.emoji FROM reactions r WHERE r.message_id = m.id \
                 ORDER BY r.created_at, r.ord) AS reaction_emoji, \
           ARRAY(SELECT r.user_id FROM reactions r WHERE r.message_id = m.id \
                 ORDER BY r.created_at, r.ord) AS reaction_users, \
           CASE WHEN m.reply_count > 0 THEN ARRAY(SELECT t.author_id FROM messages t \
                 WHERE t.thread_root_id = m.id AND NOT t.deleted ORDER BY t.seq) \
                ELSE '{{}}' END AS reply_authors, \
           ({files})::text AS files \
         FROM messages m WHERE {where_sql}",
        files = crate::rows::files_column("json_build_array", "json_agg")
    )
}

pub(super) use crate::rows::{channel, role, user, workspace};

/// A row selected by [`select_messages`].
pub(super) fn message(row: &PgRow) -> Result<Message, StoreError> {
    const CTX: &str = "reading a message";
    let deleted: bool = row.try_get("deleted").ctx(CTX)?;
    let body: Option<String> = row.try_get("body").ctx(CTX)?;
    let root: Option<String> = row.try_get("thread_root_id").ctx(CTX)?;
    let edited_at: Option<i64> = row.try_get("edited_at").ctx(CTX)?;
    let emoji: Vec<String> = row.try_get("reaction_emoji").ctx(CTX)?;
    let reacted: Vec<String> = row.try_get("reaction_users").ctx(CTX)?;
    let mut reactions: Vec<Reaction> = Vec::new();
    for (emoji, user) in emoji.into_iter().zip(reacted) {
        add_reaction(&mut reactions, emoji, stored_id(user)?);
    }
    let mut reply_users: Vec<UserId> = Vec::new();
    for author in row.try_get::<Vec<String>, _>("reply_authors").ctx(CTX)? {
        add_replier(&mut reply_users, stored_id(author)?);
    }
    let flags: i64 = row.try_get("mentions_channel").ctx(CTX)?;
    let files = crate::rows::files_json(row.try_get("files").ctx(CTX)?)?;
    Ok(Message {
        id: stored_id(row.try_get("id").ctx(CTX)?)?,
        channel_id: stored_id(row.try_get("channel_id").ctx(CTX)?)?,
        seq: row.try_get("seq").ctx(CTX)?,
        version: row.try_get("version").ctx(CTX)?,
        author_id: stored_id(row.try_get("author_id").ctx(CTX)?)?,
        body: if deleted { None } else { body },
        ts: Timestamp::from_micros(row.try_get("created_at").ctx(CTX)?),
        edited_at: edited_at.map(Timestamp::from_micros),
        deleted,
        thread_root_id: root.map(stored_id).transpose()?,
        reply_count: row.try_get("reply_count").ctx(CTX)?,
        last_reply_at: row
            .try_get::<Option<i64>, _>("last_reply_at")
            .ctx(CTX)?
            .map(Timestamp::from_micros),
        reply_users,
        reactions,
        files,
        mentions: Mentions {
            user_ids: crate::rows::named_mentions(
                row.try_get::<Vec<String>, _>("mention_ids").ctx(CTX)?,
            )?,
            channel: flags & MENTIONS_CHANNEL != 0,
            here: flags & MENTIONS_HERE != 0,
            here_ids: Vec::new(),
        },
    })
}

pub(super) fn messages(rows: &[PgRow]) -> Result<Vec<Message>, StoreError> {
    rows.iter().map(message).collect()
}

/// The `mention_ids` and `mentions_channel` columns for `m`.
/// The named users first, then, after a `*`, those `@here` reached ([`crate::rows`]).
pub(super) fn mention_columns(m: &Mentions) -> (Vec<&str>, i64) {
    let ids = crate::rows::mention_id_list(m);
    let flags =
        if m.channel { MENTIONS_CHANNEL } else { 0 } | if m.here { MENTIONS_HERE } else { 0 };
    (ids, flags)
}

/// A DM's key: its sorted, de-duplicated member IDs.
pub(super) fn dm_key(members: &[UserId]) -> String {
    let mut ids: Vec<&str> = members.iter().map(UserId::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.join(",")
}
