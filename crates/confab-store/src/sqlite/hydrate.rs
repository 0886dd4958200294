//! Reading messages back in SQLite with their reactions and repliers, loaded in one place
//! (`hydrate`): by ID, with a thread's root, and the live message a change is about.

use std::collections::HashMap;

use confab_core::{Message, MessageId, Reaction, UserId, add_reaction, add_replier};
use sqlx::{Row, SqliteConnection};

use super::rows::{self, MESSAGE_COLUMNS};
use crate::error::DbContext;
use crate::rows::stored_id;
use crate::{StoreError, StoreResult};

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(",")
}

/// Loads messages matching `where_sql` (which binds only `binds`), with reactions and repliers.
pub(super) async fn load(
    conn: &mut SqliteConnection,
    where_sql: &str,
    binds: &[&str],
) -> StoreResult<Vec<Message>> {
    let sql = format!(
        "SELECT {} FROM messages m WHERE {where_sql}",
        *MESSAGE_COLUMNS
    );
    let mut query = sqlx::query(&sql);
    for b in binds {
        query = query.bind(*b);
    }
    let rows = query.fetch_all(&mut *conn).await.ctx("reading messages")?;
    let mut messages = rows
        .iter()
        .map(rows::message)
        .collect::<StoreResult<Vec<_>>>()?;
    hydrate(conn, &mut messages).await?;
    Ok(messages)
}

pub(super) async fn message_in(
    conn: &mut SqliteConnection,
    id: &str,
) -> StoreResult<Option<Message>> {
    Ok(load(conn, "m.id = ?", &[id]).await?.pop())
}

/// Runs `sql` with `{ids}` replaced by one placeholder per ID; no IDs, no query.
pub(super) async fn rows_for_ids(
    conn: &mut SqliteConnection,
    sql: &str,
    ids: &[&str],
    context: &'static str,
) -> StoreResult<Vec<sqlx::sqlite::SqliteRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = sql.replace("{ids}", &placeholders(ids.len()));
    let mut query = sqlx::query(&sql);
    for id in ids {
        query = query.bind(*id);
    }
    query.fetch_all(&mut *conn).await.ctx(context)
}

/// Fills in reactions (live messages) and repliers (thread roots) for a batch of messages.
pub(super) async fn hydrate(
    conn: &mut SqliteConnection,
    messages: &mut [Message],
) -> StoreResult<()> {
    let live: Vec<&str> = messages
        .iter()
        .filter(|m| !m.deleted)
        .map(|m| m.id.as_str())
        .collect();
    let mut reactions: HashMap<String, Vec<Reaction>> = HashMap::new();
    let sql = "SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN ({ids}) ORDER BY created_at, rowid";
    for row in rows_for_ids(conn, sql, &live, "reading reactions").await? {
        let message: String = row.try_get(0).ctx("reading reactions")?;
        let emoji: String = row.try_get(1).ctx("reading reactions")?;
        let user: UserId = stored_id(row.try_get(2).ctx("reading reactions")?)?;
        add_reaction(reactions.entry(message).or_default(), emoji, user);
    }
    let roots: Vec<&str> = messages
        .iter()
        .filter(|m| m.reply_count > 0)
        .map(|m| m.id.as_str())
        .collect();
    let mut repliers: HashMap<String, Vec<UserId>> = HashMap::new();
    let sql = "SELECT thread_root_id, author_id FROM messages WHERE thread_root_id IN ({ids}) AND deleted = 0 ORDER BY seq";
    for row in rows_for_ids(conn, sql, &roots, "reading repliers").await? {
        let root: String = row.try_get(0).ctx("reading repliers")?;
        let user: UserId = stored_id(row.try_get(1).ctx("reading repliers")?)?;
        add_replier(repliers.entry(root).or_default(), user);
    }
    for m in messages.iter_mut() {
        m.reactions = reactions.remove(m.id.as_str()).unwrap_or_default();
        m.reply_users = repliers.remove(m.id.as_str()).unwrap_or_default();
    }
    Ok(())
}

/// A message and, for a thread reply, its root, both as they are now.
pub(super) async fn with_root(
    conn: &mut SqliteConnection,
    id: &str,
) -> StoreResult<(Message, Option<Message>)> {
    let message = message_in(conn, id)
        .await?
        .ok_or(StoreError::NotFound(crate::Missing::Message))?;
    let root = match &message.thread_root_id {
        Some(root) => message_in(conn, root.as_str()).await?,
        None => None,
    };
    Ok((message, root))
}

/// A live (not deleted) message, for a change to it.
pub(super) async fn live_message(
    conn: &mut SqliteConnection,
    id: &MessageId,
) -> StoreResult<Message> {
    let message = message_in(conn, id.as_str())
        .await?
        .ok_or(StoreError::NotFound(crate::Missing::Message))?;
    if message.deleted {
        return Err(StoreError::MessageDeleted);
    }
    Ok(message)
}
