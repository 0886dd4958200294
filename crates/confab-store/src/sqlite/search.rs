//! Search on SQLite: the FTS5 tables of migration 0007, written in the transaction of every
//! change to a message's text through the `search_input` view, filled for older messages
//! when the store opens, and queried with the caller's access inside the query.

use async_trait::async_trait;
use confab_core::MessageId;
use confab_core::search::{
    IndexedText, Match, TermMatch, WORD_GAP, gapped, index_text, split_words,
};
use sqlx::{Row, SqliteConnection, SqlitePool};

use super::SqliteStore;
use super::hydrate::load;
use crate::error::DbContext;
use crate::{
    SEARCH_COUNT_CAP, SearchCursor, SearchHit, SearchOrder, SearchPage, SearchRequest, SearchStore,
    StoreResult,
};

/// Indexes a message just stored (in its transaction).
pub(super) async fn index(
    conn: &mut SqliteConnection,
    id: &MessageId,
    text: &IndexedText,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO search_input (message_id, tokens, stems) VALUES (?, ?, ?)")
        .bind(id.as_str())
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
            "SELECT rowid, id, body FROM messages WHERE rowid > ? AND deleted = 0 \
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
            let body: Option<String> = row.try_get(2).ctx("reading messages to index")?;
            let text = index_text(body.as_deref().unwrap_or(""));
            docs.push([id, text.tokens, text.stems]);
        }
        sqlx::query(
            "INSERT INTO search_input (message_id, tokens, stems) \
             SELECT value ->> 0, value ->> 1, value ->> 2 FROM json_each(?1) ORDER BY key",
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

/// A value bound to a search query.
enum Bind {
    Text(String),
    Int(i64),
}

/// A search's SQL text and its values, built together so placeholders and binds agree.
#[derive(Default)]
struct Sql {
    text: String,
    binds: Vec<Bind>,
}

impl Sql {
    fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    fn text(&mut self, value: impl Into<String>) -> &mut Self {
        self.text.push('?');
        self.binds.push(Bind::Text(value.into()));
        self
    }

    fn int(&mut self, value: i64) -> &mut Self {
        self.text.push('?');
        self.binds.push(Bind::Int(value));
        self
    }

    fn json(&mut self, values: &[impl AsRef<str>]) -> &mut Self {
        let values: Vec<&str> = values.iter().map(AsRef::as_ref).collect();
        let json = serde_json::to_string(&values).unwrap_or_else(|_| "[]".into());
        self.push("(SELECT value FROM json_each(")
            .text(json)
            .push("))")
    }
}

/// A string as an FTS5 string: quoted, its quotes doubled, so no query text is syntax.
fn fts_string(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// One way a term matches, as an FTS5 expression on `search_text` (see migration 0007: every
/// kind of match is a substring of one of its columns).
fn expression(m: &Match) -> String {
    match m {
        // Inside the words: a part of one, or (with punctuation) the parts of several in
        // order, the first and last possibly only in part; `checked_text` checks the rest.
        Match::Contains(text) => {
            let parts: Vec<&str> = split_words(text).collect();
            format!("tokens : {}", fts_string(&parts.join(WORD_GAP)))
        }
        Match::Words { text, prefix } => {
            format!(
                "tokens : {}",
                fts_string(&gapped(split_words(text), *prefix))
            )
        }
        Match::Stem(stem) => format!(
            "{{tokens stems}} : {}",
            fts_string(&gapped([stem.as_str()], false))
        ),
    }
}

/// What the index cannot tell of a term: the punctuation of a `Contains` (`v1.2.3`, whose
/// words the index finds in order), to check against the body itself.
fn checked_text(term: &TermMatch) -> Option<&str> {
    term.any_of.iter().find_map(|m| match m {
        Match::Contains(text) if !text.chars().all(char::is_alphanumeric) => Some(text.as_str()),
        _ => None,
    })
}

/// A `LIKE` pattern (escaped by `\`) for text containing `s`.
fn containing(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// A term as one FTS5 expression: any of its ways.
fn term_expression(term: &TermMatch) -> String {
    let parts: Vec<String> = term
        .any_of
        .iter()
        .map(|m| format!("({})", expression(m)))
        .collect();
    format!("({})", parts.join(" OR "))
}

/// Terms as FTS5 expressions (a term with no way to match has none).
fn expressions(terms: &[TermMatch]) -> Vec<String> {
    terms
        .iter()
        .filter(|t| !t.any_of.is_empty())
        .map(term_expression)
        .collect()
}

/// Excluded terms as FTS5 expressions: those the index can tell alone (one with punctuation
/// is checked against the body instead: its words alone would exclude too much).
fn exclusions(r: &SearchRequest) -> Vec<String> {
    let plain: Vec<TermMatch> = r
        .excluded
        .iter()
        .filter(|t| checked_text(t).is_none())
        .cloned()
        .collect();
    expressions(&plain)
}

/// The whole search's words as one FTS5 expression: every term, and none excluded. `None`
/// when it has no term to look for (then it is filters, and perhaps exclusions, alone).
fn search_expression(r: &SearchRequest) -> Option<String> {
    let terms = expressions(&r.terms);
    if terms.is_empty() {
        return None;
    }
    let excluded = exclusions(r);
    Some(if excluded.is_empty() {
        terms.join(" AND ")
    } else {
        format!("({}) NOT ({})", terms.join(" AND "), excluded.join(" OR "))
    })
}

/// The score of relevance order: how many terms the message has as the exact word.
fn score(sql: &mut Sql, r: &SearchRequest) {
    let exact: Vec<&String> = r.terms.iter().filter_map(|t| t.exact.as_ref()).collect();
    if r.order == SearchOrder::Recent || exact.is_empty() {
        sql.push("0");
        return;
    }
    for (i, word) in exact.iter().enumerate() {
        if i > 0 {
            sql.push(" + ");
        }
        sql.push("(d.doc IN (SELECT rowid FROM search_text WHERE search_text MATCH ")
            .text(format!(
                "tokens : {}",
                fts_string(&gapped([word.as_str()], false))
            ))
            .push("))");
    }
}

/// Every condition of a search but the cursor: access, words, filters.
fn conditions(sql: &mut Sql, r: &SearchRequest) {
    let me = r.user_id.as_str();
    // Channels of the workspace the caller may read now: those they are in, and public ones
    // unless they are a guest; nothing if they are not in the workspace.
    sql.push(" m.deleted = 0 AND m.channel_id IN (SELECT c.id FROM channels c JOIN workspace_members wm ON wm.workspace_id = c.workspace_id AND wm.user_id = ")
        .text(me)
        .push(" WHERE c.workspace_id = ")
        .text(r.workspace_id.as_str())
        .push(" AND ((c.kind = 'public' AND wm.role <> 'guest') OR EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = c.id AND cm.user_id = ")
        .text(me)
        .push("))");
    if !r.channel_ids.is_empty() {
        let ids: Vec<&str> = r.channel_ids.iter().map(|c| c.as_str()).collect();
        sql.push(" AND c.id IN ").json(&ids);
    }
    if !r.in_channels.is_empty() || !r.in_dms_with.is_empty() {
        sql.push(" AND (0");
        if !r.in_channels.is_empty() {
            sql.push(" OR (c.kind <> 'dm' AND c.name IN ")
                .json(&r.in_channels)
                .push(")");
        }
        if !r.in_dms_with.is_empty() {
            sql.push(" OR (c.kind = 'dm' AND EXISTS (SELECT 1 FROM channel_members dm JOIN users u ON u.id = dm.user_id WHERE dm.channel_id = c.id AND u.username IN ")
                .json(&r.in_dms_with)
                .push("))");
        }
        sql.push(")");
    }
    sql.push(")");
    if !r.from_users.is_empty() || !r.from_ids.is_empty() {
        let ids: Vec<&str> = r.from_ids.iter().map(|u| u.as_str()).collect();
        sql.push(" AND (m.author_id IN ")
            .json(&ids)
            .push(" OR m.author_id IN (SELECT id FROM users WHERE username IN ")
            .json(&r.from_users)
            .push("))");
    }
    // What the index found by words, checked for its punctuation (LIKE: ASCII case aside,
    // as typed).
    for text in r.terms.iter().filter_map(checked_text) {
        sql.push(" AND m.body LIKE ")
            .text(containing(text))
            .push(" ESCAPE '\\'");
    }
    for text in r.excluded.iter().filter_map(checked_text) {
        sql.push(" AND m.body NOT LIKE ")
            .text(containing(text))
            .push(" ESCAPE '\\'");
    }
    if let Some(since) = r.since {
        sql.push(" AND m.created_at >= ").int(since.as_micros());
    }
    if let Some(until) = r.until {
        sql.push(" AND m.created_at < ").int(until.as_micros());
    }
    if r.has.file {
        sql.push(" AND m.file_count > 0");
    }
    if r.has.link {
        sql.push(" AND (m.body LIKE '%http://%' OR m.body LIKE '%https://%')");
    }
    if r.has.reaction {
        sql.push(" AND EXISTS (SELECT 1 FROM reactions r WHERE r.message_id = m.id)");
    }
    if r.is_thread {
        sql.push(" AND (m.thread_root_id IS NOT NULL OR m.reply_count > 0)");
    }
}

/// Every match of a search, with its number, score and message. With words to look for, FTS5
/// drives: it yields its matches newest first, so a page reads only as far as it needs. With
/// filters alone, the documents are read newest first, exclusions looked up.
fn matches(sql: &mut Sql, r: &SearchRequest) {
    match search_expression(r) {
        Some(expr) => {
            sql.push("SELECT f.rowid AS doc, ");
            score(sql, r);
            sql.push(
                " AS score, m.id AS id FROM search_text f JOIN search_docs d ON d.doc = f.rowid \
                 JOIN messages m ON m.id = d.message_id WHERE search_text MATCH ",
            )
            .text(expr)
            .push(" AND");
        }
        None => {
            sql.push(
                "SELECT d.doc AS doc, 0 AS score, m.id AS id FROM search_docs d \
                 JOIN messages m ON m.id = d.message_id WHERE",
            );
            let excluded = exclusions(r);
            if !excluded.is_empty() {
                sql.push(" d.doc NOT IN (SELECT rowid FROM search_text WHERE search_text MATCH ")
                    .text(excluded.join(" OR "))
                    .push(") AND");
            }
        }
    }
    conditions(sql, r);
}

async fn fetch(
    conn: &mut SqliteConnection,
    sql: &Sql,
    context: &'static str,
) -> StoreResult<Vec<sqlx::sqlite::SqliteRow>> {
    let mut query = sqlx::query(&sql.text);
    for b in &sql.binds {
        query = match b {
            Bind::Text(s) => query.bind(s.as_str()),
            Bind::Int(i) => query.bind(*i),
        };
    }
    query.fetch_all(&mut *conn).await.ctx(context)
}

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search(&self, r: &SearchRequest) -> StoreResult<SearchPage> {
        if r.finds_nothing() {
            return Ok(SearchPage::default());
        }
        let mut page = Sql::default();
        if r.order == SearchOrder::Recent {
            // Straight from the index in its order, stopping after the page: no sort.
            matches(&mut page, r);
            // The document number as the driving table has it, so FTS5 sees the bound.
            let doc = if search_expression(r).is_some() {
                "f.rowid"
            } else {
                "d.doc"
            };
            if let Some(after) = r.after {
                page.push(&format!(" AND {doc} < ")).int(after.doc);
            }
            page.push(&format!(" ORDER BY {doc} DESC LIMIT "));
        } else {
            // Every match is scored before the best come first.
            page.push("SELECT doc, score, id FROM (");
            matches(&mut page, r);
            page.push(") t");
            if let Some(after) = r.after {
                page.push(" WHERE (t.score, t.doc) < (")
                    .int(after.score)
                    .push(", ")
                    .int(after.doc)
                    .push(")");
            }
            page.push(" ORDER BY t.score DESC, t.doc DESC LIMIT ");
        }
        page.int(i64::from(r.limit) + 1);

        let mut count = Sql::default();
        count.push("SELECT COUNT(*) FROM (");
        matches(&mut count, r);
        count.push(" LIMIT ").int(SEARCH_COUNT_CAP).push(")");

        // One snapshot for the page, its count and its messages.
        let mut tx = self.reader.begin().await.ctx("starting a read")?;
        let rows = fetch(&mut tx, &page, "searching").await?;
        let total: i64 = fetch(&mut tx, &count, "counting matches")
            .await?
            .first()
            .map(|row| row.try_get(0))
            .transpose()
            .ctx("counting matches")?
            .unwrap_or(0);
        let has_more = rows.len() > r.limit as usize;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows.iter().take(r.limit as usize) {
            let cursor = SearchCursor {
                doc: row.try_get(0).ctx("searching")?,
                score: row.try_get(1).ctx("searching")?,
            };
            let id: String = row.try_get(2).ctx("searching")?;
            found.push((id, cursor));
        }
        let ids: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
        let mut messages = if ids.is_empty() {
            Vec::new()
        } else {
            let placeholders = vec!["?"; ids.len()].join(",");
            load(&mut tx, &format!("m.id IN ({placeholders})"), &ids).await?
        };
        tx.commit().await.ctx("ending a read")?;
        let hits = found
            .into_iter()
            .filter_map(|(id, cursor)| {
                let at = messages.iter().position(|m| m.id.as_str() == id)?;
                Some(SearchHit {
                    message: messages.swap_remove(at),
                    cursor,
                })
            })
            .collect();
        Ok(SearchPage {
            hits,
            has_more,
            total_estimate: total,
        })
    }
}
