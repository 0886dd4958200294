//! Searching on SQLite: a whole search's words as one FTS5 expression on `search_text`
//! (migration 0007: every kind of match is a substring of one of its columns), which FTS5
//! answers newest first, so a page reads only as far as it needs; the caller's access and
//! the operators are conditions of the same statement.

use async_trait::async_trait;
use confab_core::search::{Match, TermMatch, WORD_GAP, gapped, split_words};
use sqlx::{Row, SqliteConnection};

use super::SqliteStore;
use super::dialect::search_list;
use super::hydrate::load;
use super::search_sql::{Bind, Sql, access, operators};
use crate::error::DbContext;
use crate::{
    SEARCH_COUNT_CAP, SearchCursor, SearchOrder, SearchPage, SearchRequest, SearchStore,
    StoreResult,
};

/// Candidates the count reads at most: past this it estimates from the share of them that
/// passed, so a common word in one small channel is not read to its thousandth match.
const COUNT_WINDOW: i64 = 10_000;

/// Runs a search statement, its lists bound as JSON (`dialect::IN_LIST`).
async fn fetch(
    sql: &Sql,
    conn: &mut SqliteConnection,
    context: &'static str,
) -> StoreResult<Vec<sqlx::sqlite::SqliteRow>> {
    let mut query = sqlx::query(&sql.text);
    for b in &sql.binds {
        query = match b {
            Bind::Text(s) => query.bind(s.as_str()),
            Bind::Int(i) => query.bind(*i),
            Bind::List(values) => query.bind(search_list(values)),
        };
    }
    query.fetch_all(&mut *conn).await.ctx(context)
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

/// Whether an operator reads the message itself (`m`).
fn operators_read_messages(r: &SearchRequest) -> bool {
    !r.from_users.is_empty()
        || !r.from_ids.is_empty()
        || r.since.is_some()
        || r.until.is_some()
        || r.has != Default::default()
        || r.is_thread
}

/// Whether a condition reads the message itself (anything but its channel).
fn reads_messages(r: &SearchRequest) -> bool {
    operators_read_messages(r)
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

/// The driving document number's column: with words, FTS5 drives (`f.rowid`); with filters
/// alone, the documents (`d.doc`).
fn doc_column(r: &SearchRequest) -> &'static str {
    if search_expression(r).is_some() {
        "f.rowid"
    } else {
        "d.doc"
    }
}

/// Where the candidates come from, through the first condition of the `WHERE` clause: FTS5's
/// matches, or the documents newest first with exclusions looked up.
fn source(sql: &mut Sql, r: &SearchRequest, join: Join) {
    let expr = search_expression(r);
    if expr.is_some() {
        sql.push(" FROM search_text f");
        if join != Join::Nothing {
            sql.push(" JOIN search_docs d ON d.doc = f.rowid");
        }
    } else {
        sql.push(" FROM search_docs d");
    }
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
/// access (on the document's channel), then the operators and what the index cannot tell.
fn conditions(sql: &mut Sql, r: &SearchRequest) {
    access(sql, r, "d.channel_id");
    if reads_messages(r) {
        sql.push(" AND NOT m.deleted");
    }
    operators(sql, r);
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
}

/// One page of matches: (document number, score, message ID), best first.
fn page_query(r: &SearchRequest) -> Sql {
    let mut sql = Sql::default();
    if r.order == SearchOrder::Recent {
        // Straight from the index in its order, stopping after the page: no sort. The
        // bound is on the driving table's number, so FTS5 sees it.
        sql.push("SELECT d.doc AS doc, 0 AS score, d.message_id AS id");
        let doc = doc_column(r);
        source(&mut sql, r, join_for(r));
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
    let doc = doc_column(r);
    let mut sql = Sql::default();
    sql.push(&format!(
        "SELECT COUNT(*) FROM (SELECT 1 FROM (SELECT {doc} AS doc"
    ));
    source(&mut sql, r, Join::Nothing);
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
    let doc = doc_column(r);
    let mut sql = Sql::default();
    sql.push(&format!(
        "SELECT COUNT(*), COALESCE(MIN(doc), 0) FROM (SELECT {doc} AS doc"
    ));
    source(&mut sql, r, Join::Nothing);
    sql.push(&format!(" ORDER BY {doc} DESC LIMIT "))
        .int(COUNT_WINDOW)
        .push(")");
    sql
}

/// The first row's integers of a counting statement.
async fn numbers(sql: Sql, conn: &mut SqliteConnection) -> StoreResult<(i64, i64)> {
    let rows = fetch(&sql, conn, "counting matches").await?;
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

/// Where `dbstat` puts a table's pages: the search index's tables, the messages, the rest.
fn storage_bucket(table: &str) -> &'static str {
    match table {
        "search_docs" => "search_docs (with its index)",
        t if t.starts_with("search_text_") => "search_text (FTS5 trigram, shadow tables)",
        "messages" => "messages (with its indexes)",
        _ => "everything else",
    }
}

#[async_trait]
impl SearchStore for SqliteStore {
    async fn storage(&self) -> StoreResult<Vec<(String, i64)>> {
        let mut conn = self.reader.acquire().await.ctx("starting a read")?;
        // Each page with the table it belongs to (an index's pages to its table).
        let pages: Vec<(String, i64)> = sqlx::query_as(
            "SELECT COALESCE(m.tbl_name, d.name), SUM(d.pgsize) FROM dbstat d \
             LEFT JOIN sqlite_schema m ON m.name = d.name GROUP BY d.name",
        )
        .fetch_all(&mut *conn)
        .await
        .ctx("reading page sizes")?;
        let (count, size): (i64, i64) = sqlx::query_as(
            "SELECT page_count, page_size FROM pragma_page_count(), pragma_page_size()",
        )
        .fetch_one(&mut *conn)
        .await
        .ctx("reading the page count")?;
        let mut sizes: Vec<(String, i64)> = [
            "search_docs (with its index)",
            "search_text (FTS5 trigram, shadow tables)",
            "messages (with its indexes)",
            "everything else",
        ]
        .iter()
        .map(|b| ((*b).to_owned(), 0))
        .collect();
        for (table, bytes) in pages {
            let bucket = storage_bucket(&table);
            if let Some(row) = sizes.iter_mut().find(|(b, _)| b == bucket) {
                row.1 += bytes;
            }
        }
        let index = sizes[0].1 + sizes[1].1;
        sizes.insert(2, ("search index in all".to_owned(), index));
        sizes.push(("database pages in use".to_owned(), count * size));
        Ok(sizes)
    }

    async fn analyze(&self) -> StoreResult<()> {
        sqlx::query("PRAGMA optimize")
            .execute(&self.writer)
            .await
            .ctx("optimizing")?;
        Ok(())
    }

    async fn search(&self, r: &SearchRequest) -> StoreResult<SearchPage> {
        if r.finds_nothing() {
            return Ok(SearchPage::default());
        }
        // One snapshot for the page, its count and its messages.
        let mut tx = self.reader.begin().await.ctx("starting a read")?;
        let rows = fetch(&page_query(r), &mut tx, "searching").await?;
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
        let messages = if ids.is_empty() {
            Vec::new()
        } else {
            let placeholders = vec!["?"; ids.len()].join(",");
            load(&mut tx, &format!("m.id IN ({placeholders})"), &ids).await?
        };
        tx.commit().await.ctx("ending a read")?;
        let hits = crate::search::in_page_order(found, messages);
        Ok(SearchPage {
            hits,
            has_more,
            total_estimate: total,
        })
    }
}
