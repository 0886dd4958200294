//! Searching on SQLite: a whole search's words as one FTS5 expression on `search_text`
//! (migration 0007: every kind of match is a substring of one of its columns), which FTS5
//! answers newest first, so a page reads only as far as it needs; the caller's access and
//! the operators are conditions of the same statement.

use async_trait::async_trait;
use confab_core::search::{Match, TermMatch, WORD_GAP, gapped, split_words};
use sqlx::{Row, SqliteConnection};

use super::SqliteStore;
use super::hydrate::load;
use crate::error::DbContext;
use crate::{
    SEARCH_COUNT_CAP, SearchCursor, SearchHit, SearchOrder, SearchPage, SearchRequest, SearchStore,
    StoreResult,
};

/// Candidates the count reads at most: past this it estimates from the share of them that
/// passed, so a common word in one small channel is not read to its thousandth match.
const COUNT_WINDOW: i64 = 10_000;

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

    async fn fetch(
        &self,
        conn: &mut SqliteConnection,
        context: &'static str,
    ) -> StoreResult<Vec<sqlx::sqlite::SqliteRow>> {
        let mut query = sqlx::query(&self.text);
        for b in &self.binds {
            query = match b {
                Bind::Text(s) => query.bind(s.as_str()),
                Bind::Int(i) => query.bind(*i),
            };
        }
        query.fetch_all(&mut *conn).await.ctx(context)
    }
}

/// A string as an FTS5 string: quoted, its quotes doubled, so no query text is syntax.
fn fts_string(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// One way a term matches, as an FTS5 expression on `search_text`.
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
fn expressions<'a>(terms: impl IntoIterator<Item = &'a TermMatch>) -> Vec<String> {
    terms
        .into_iter()
        .filter(|t| !t.any_of.is_empty())
        .map(term_expression)
        .collect()
}

/// Excluded terms as FTS5 expressions: those the index can tell alone (one with punctuation
/// is checked against the body instead: its words alone would exclude too much).
fn exclusions(r: &SearchRequest) -> Vec<String> {
    expressions(r.excluded.iter().filter(|t| checked_text(t).is_none()))
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

/// Whether a condition reads the message itself (anything but its channel).
fn reads_messages(r: &SearchRequest) -> bool {
    !r.from_users.is_empty()
        || !r.from_ids.is_empty()
        || r.since.is_some()
        || r.until.is_some()
        || r.has != Default::default()
        || r.is_thread
        || r.terms
            .iter()
            .chain(&r.excluded)
            .any(|t| checked_text(t).is_some())
}

/// What a statement joins to the candidates.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Join {
    /// Nothing: the candidates' numbers alone.
    Nothing,
    /// Their documents (`d`: the message's ID and channel).
    Docs,
    /// Their documents and messages (`m`), for a condition that reads the message.
    Messages,
}

/// What a search's conditions read.
fn join_for(r: &SearchRequest) -> Join {
    if reads_messages(r) {
        Join::Messages
    } else {
        Join::Docs
    }
}

/// Where the candidates come from, through the first condition of the `WHERE` clause: with
/// words, FTS5 drives (`f.rowid` is the document number); with filters alone, the documents
/// newest first (`d.doc`), exclusions looked up. Returns the driving document number's
/// column.
fn source(sql: &mut Sql, r: &SearchRequest, join: Join) -> &'static str {
    let expr = search_expression(r);
    let doc = if expr.is_some() {
        sql.push(" FROM search_text f");
        if join != Join::Nothing {
            sql.push(" JOIN search_docs d ON d.doc = f.rowid");
        }
        "f.rowid"
    } else {
        sql.push(" FROM search_docs d");
        "d.doc"
    };
    if join == Join::Messages {
        sql.push(" JOIN messages m ON m.id = d.message_id");
    }
    match expr {
        Some(expr) => {
            sql.push(" WHERE search_text MATCH ").text(expr);
        }
        None => {
            let excluded = exclusions(r);
            if excluded.is_empty() {
                sql.push(" WHERE 1");
            } else {
                sql.push(
                    " WHERE d.doc NOT IN (SELECT rowid FROM search_text WHERE search_text MATCH ",
                )
                .text(excluded.join(" OR "))
                .push(")");
            }
        }
    }
    doc
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

/// Every condition of a search but the index's and the cursor, as one boolean expression:
/// access, then the operators.
fn conditions(sql: &mut Sql, r: &SearchRequest) {
    let me = r.user_id.as_str();
    // Channels of the workspace the caller may read now: those they are in, and public ones
    // unless they are a guest; nothing if they are not in the workspace.
    sql.push("d.channel_id IN (SELECT c.id FROM channels c JOIN workspace_members wm ON wm.workspace_id = c.workspace_id AND wm.user_id = ")
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
    if reads_messages(r) {
        sql.push(" AND m.deleted = 0");
    }
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

/// One page of matches: (document number, score, message ID), best first.
fn page_query(r: &SearchRequest) -> Sql {
    let mut sql = Sql::default();
    if r.order == SearchOrder::Recent {
        // Straight from the index in its order, stopping after the page: no sort. The
        // bound is on the driving table's number, so FTS5 sees it.
        sql.push("SELECT d.doc AS doc, 0 AS score, d.message_id AS id");
        let doc = source(&mut sql, r, join_for(r));
        sql.push(" AND ");
        conditions(&mut sql, r);
        if let Some(after) = r.after {
            sql.push(&format!(" AND {doc} < ")).int(after.doc);
        }
        sql.push(&format!(" ORDER BY {doc} DESC LIMIT "));
    } else {
        // Every match is scored before the best come first.
        sql.push("SELECT doc, score, id FROM (SELECT d.doc AS doc, ");
        score(&mut sql, r);
        sql.push(" AS score, d.message_id AS id");
        source(&mut sql, r, join_for(r));
        sql.push(" AND ");
        conditions(&mut sql, r);
        sql.push(") t");
        if let Some(after) = r.after {
            sql.push(" WHERE (t.score, t.doc) < (")
                .int(after.score)
                .push(", ")
                .int(after.doc)
                .push(")");
        }
        sql.push(" ORDER BY t.score DESC, t.doc DESC LIMIT ");
    }
    sql.int(i64::from(r.limit) + 1);
    sql
}

/// How many of the newest [`COUNT_WINDOW`] candidates the caller may read and the operators
/// let through, up to [`SEARCH_COUNT_CAP`]: the window is read newest first and only as far
/// as the count needs.
fn count_query(r: &SearchRequest) -> Sql {
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*) FROM (SELECT 1 FROM (SELECT ");
    let mut inner = Sql::default();
    let doc = source(&mut inner, r, Join::Nothing);
    sql.push(doc).push(" AS doc");
    sql.text.push_str(&inner.text);
    sql.binds.extend(inner.binds);
    sql.push(&format!(" ORDER BY {doc} DESC LIMIT "))
        .int(COUNT_WINDOW)
        .push(") w JOIN search_docs d ON d.doc = w.doc");
    if reads_messages(r) {
        sql.push(" JOIN messages m ON m.id = d.message_id");
    }
    sql.push(" WHERE ");
    conditions(&mut sql, r);
    sql.push(" LIMIT ").int(SEARCH_COUNT_CAP).push(")");
    sql
}

/// How many candidates the window holds (all of them when fewer than [`COUNT_WINDOW`]),
/// and the oldest one's number.
fn window_query(r: &SearchRequest) -> Sql {
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*), COALESCE(MIN(doc), 0) FROM (SELECT ");
    let mut inner = Sql::default();
    let doc = source(&mut inner, r, Join::Nothing);
    sql.push(doc).push(" AS doc");
    sql.text.push_str(&inner.text);
    sql.binds.extend(inner.binds);
    sql.push(&format!(" ORDER BY {doc} DESC LIMIT "))
        .int(COUNT_WINDOW)
        .push(")");
    sql
}

/// The first row's integers of a counting statement.
async fn numbers(sql: Sql, conn: &mut SqliteConnection) -> StoreResult<(i64, i64)> {
    let rows = sql.fetch(conn, "counting matches").await?;
    let Some(row) = rows.first() else {
        return Ok((0, 0));
    };
    let first: i64 = row.try_get(0).ctx("counting matches")?;
    let second: i64 = if row.len() > 1 {
        row.try_get(1).ctx("counting matches")?
    } else {
        0
    };
    Ok((first, second))
}

/// How many matches the caller may read, counted up to [`SEARCH_COUNT_CAP`] in the newest
/// [`COUNT_WINDOW`] candidates, and past a full window estimated from them: the share of
/// documents the window spans, over all of them (messages are spread over time, roughly).
/// Counting every candidate instead cost up to 300 ms for a common word at 1M messages.
async fn total(r: &SearchRequest, conn: &mut SqliteConnection) -> StoreResult<i64> {
    let (passed, _) = numbers(count_query(r), conn).await?;
    if passed >= SEARCH_COUNT_CAP {
        return Ok(SEARCH_COUNT_CAP);
    }
    let (in_window, oldest) = numbers(window_query(r), conn).await?;
    if in_window < COUNT_WINDOW {
        return Ok(passed);
    }
    let mut newest = Sql::default();
    newest.push("SELECT COALESCE(MAX(doc), 0) FROM search_docs");
    let (newest, _) = numbers(newest, conn).await?;
    let spanned = (newest - oldest + 1).max(1);
    Ok((passed.saturating_mul(newest) / spanned).clamp(passed, SEARCH_COUNT_CAP))
}

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search(&self, r: &SearchRequest) -> StoreResult<SearchPage> {
        if r.finds_nothing() {
            return Ok(SearchPage::default());
        }
        // One snapshot for the page, its count and its messages.
        let mut tx = self.reader.begin().await.ctx("starting a read")?;
        let rows = page_query(r).fetch(&mut tx, "searching").await?;
        let total = total(r, &mut tx).await?;
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
