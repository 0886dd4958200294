//! SQLite's search index (migration 0007): written in the transaction of every change to a
//! message's text through the `search_input` view, and filled for older messages when the
//! store opens. `search_query.rs` reads it.

use confab_core::search::{IndexedText, index_text};
use confab_core::{ChannelId, MessageId};
use sqlx::{Row, SqliteConnection, SqlitePool};

use crate::StoreResult;
use crate::error::DbContext;

/// Indexes a message just stored (in its transaction).
pub(super) async fn index(
    conn: &mut SqliteConnection,
    id: &MessageId,
    channel: &ChannelId,
    text: &IndexedText,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO search_input (message_id, channel_id, tokens, stems) VALUES (?, ?, ?, ?)",
    )
    .bind(id.as_str())
    .bind(channel.as_str())
    .bind(&text.tokens)
    .bind(&text.stems)
    .execute(&mut *conn)
    .await
    .ctx("indexing a message")?;
    Ok(())
}

/// Re-indexes an edited message: its new words replace its old ones.
pub(super) async fn reindex(
    conn: &mut SqliteConnection,
    id: &MessageId,
    body: &str,
) -> StoreResult<()> {
    let text = index_text(body);
    sqlx::query("UPDATE search_input SET tokens = ?, stems = ? WHERE message_id = ?")
        .bind(&text.tokens)
        .bind(&text.stems)
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .ctx("re-indexing a message")?;
    Ok(())
}

/// Takes a deleted message out of the index.
pub(super) async fn unindex(conn: &mut SqliteConnection, id: &MessageId) -> StoreResult<()> {
    sqlx::query("DELETE FROM search_input WHERE message_id = ?")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .ctx("unindexing a message")?;
    Ok(())
}

/// Messages indexed per transaction while filling the index.
const BACKFILL_BATCH: i64 = 2000;

/// Indexes the messages stored before the index existed (migration 0007 leaves a
/// `search_backfill` row), in rowid order, each batch committed with its place.
pub(super) async fn backfill(writer: &SqlitePool) -> StoreResult<()> {
    let mut indexed = 0u64;
    loop {
        let mut tx = writer.begin().await.ctx("starting a transaction")?;
        let Some(after): Option<i64> =
            sqlx::query_scalar("SELECT after_rowid FROM search_backfill")
                .fetch_optional(&mut *tx)
                .await
                .ctx("reading the search backfill")?
        else {
            return Ok(());
        };
        let rows = sqlx::query(
            "SELECT rowid, id, channel_id, body FROM messages WHERE rowid > ? AND deleted = 0 \
             ORDER BY rowid LIMIT ?",
        )
        .bind(after)
        .bind(BACKFILL_BATCH)
        .fetch_all(&mut *tx)
        .await
        .ctx("reading messages to index")?;
        let Some(last) = rows.last() else {
            sqlx::query("DELETE FROM search_backfill")
                .execute(&mut *tx)
                .await
                .ctx("finishing the search backfill")?;
            tx.commit().await.ctx("finishing the search backfill")?;
            if indexed > 0 {
                tracing::info!(messages = indexed, "search index built");
            }
            return Ok(());
        };
        let last: i64 = last.try_get(0).ctx("reading messages to index")?;
        let mut docs = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: String = row.try_get(1).ctx("reading messages to index")?;
            let channel: String = row.try_get(2).ctx("reading messages to index")?;
            let body: Option<String> = row.try_get(3).ctx("reading messages to index")?;
            let text = index_text(body.as_deref().unwrap_or(""));
            docs.push([id, channel, text.tokens, text.stems]);
        }
        sqlx::query(
            "INSERT INTO search_input (message_id, channel_id, tokens, stems) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?1) \
             ORDER BY key",
        )
        .bind(super::group_commit::json(&docs)?)
        .execute(&mut *tx)
        .await
        .ctx("indexing messages")?;
        sqlx::query("UPDATE search_backfill SET after_rowid = ?")
            .bind(last)
            .execute(&mut *tx)
            .await
            .ctx("recording the search backfill")?;
        tx.commit().await.ctx("committing the search backfill")?;
        indexed += rows.len() as u64;
        if indexed % 100_000 < BACKFILL_BATCH as u64 {
            tracing::info!(messages = indexed, "building the search index");
        }
    }
}
