//! Search on PostgreSQL: the `message_search` table of migration 0006 (`tsvector` and
//! `pg_trgm` GIN indexes), written in the transaction of every change to a message's text,
//! filled for older messages when the store connects, and queried with the caller's access
//! inside the query.

use async_trait::async_trait;
use confab_core::MessageId;
use confab_core::search::{Match, TermMatch, index_text};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Row};

use super::PgStore;
use super::rows;
use super::search_sql::{Bind, Sql, access, operators};
use crate::error::DbContext;
use crate::{
    SEARCH_COUNT_CAP, SearchCursor, SearchOrder, SearchPage, SearchRequest, SearchStore,
    StoreResult,
};

/// Re-indexes an edited message: its new words replace its old ones.
pub(super) async fn reindex(
    conn: &mut PgConnection,
    id: &MessageId,
    body: &str,
) -> StoreResult<()> {
    let text = index_text(body);
    sqlx::query("UPDATE message_search SET words = $1, stems = $2 WHERE message_id = $3")
        .bind(&text.words)
        .bind(&text.stems)
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .ctx("re-indexing a message")?;
    Ok(())
}

/// Takes a deleted message out of the index.
pub(super) async fn unindex(conn: &mut PgConnection, id: &MessageId) -> StoreResult<()> {
    sqlx::query("DELETE FROM message_search WHERE message_id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .ctx("unindexing a message")?;
    Ok(())
}

/// Messages indexed per transaction while filling the index.
const BACKFILL_BATCH: i64 = 2000;

/// Indexes the messages stored before the index existed (migration 0006 leaves a
/// `search_backfill` row), in ID order, each batch committed with its place. Processes
/// starting together take turns on the row's lock and share the work.
pub(super) async fn backfill(pool: &PgPool) -> StoreResult<()> {
    let mut indexed = 0u64;
    loop {
        let mut tx = pool.begin().await.ctx("starting a transaction")?;
        let Some(after): Option<String> =
            sqlx::query_scalar("SELECT after_id FROM search_backfill FOR UPDATE")
                .fetch_optional(&mut *tx)
                .await
                .ctx("reading the search backfill")?
        else {
            return Ok(());
        };
        let rows: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT id, body FROM messages WHERE id > $1 AND NOT deleted ORDER BY id LIMIT $2",
        )
        .bind(&after)
        .bind(BACKFILL_BATCH)
        .fetch_all(&mut *tx)
        .await
        .ctx("reading messages to index")?;
        let Some((last, _)) = rows.last() else {
            sqlx::query("DELETE FROM search_backfill")
                .execute(&mut *tx)
                .await
                .ctx("finishing the search backfill")?;
            tx.commit().await.ctx("finishing the search backfill")?;
            if indexed > 0 {
                // Statistics now rather than at autovacuum's next look: without them the
                // planner cannot tell a rare word from a common one.
                sqlx::query("ANALYZE message_search")
                    .execute(pool)
                    .await
                    .ctx("analyzing the search index")?;
                tracing::info!(messages = indexed, "search index built");
            }
            return Ok(());
        };
        let last = last.clone();
        let (mut ids, mut words, mut stems) = (Vec::new(), Vec::new(), Vec::new());
        for (id, body) in rows {
            let text = index_text(body.as_deref().unwrap_or(""));
            ids.push(id);
            words.push(text.words);
            stems.push(text.stems);
        }
        let count = ids.len() as u64;
        // A message a running process sent meanwhile is indexed already.
        sqlx::query(
            "INSERT INTO message_search (message_id, words, stems) \
             SELECT t.i, t.w, t.s FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(i, w, s, n) \
             ORDER BY t.n ON CONFLICT (message_id) DO NOTHING",
        )
        .bind(&ids)
        .bind(&words)
        .bind(&stems)
        .execute(&mut *tx)
        .await
        .ctx("indexing messages")?;
        sqlx::query("UPDATE search_backfill SET after_id = $1")
            .bind(&last)
            .execute(&mut *tx)
            .await
            .ctx("recording the search backfill")?;
        tx.commit().await.ctx("committing the search backfill")?;
        indexed += count;
        if indexed % 100_000 < BACKFILL_BATCH as u64 {
            tracing::info!(messages = indexed, "building the search index");
        }
    }
}

/// A lexeme as `tsquery` text: quoted, so no query text is syntax.
fn lexeme(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// A `LIKE` pattern for text containing `s`.
fn containing(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// The condition that `term` matches.
fn term_matches(sql: &mut Sql, term: &TermMatch) {
    sql.push("(false");
    for m in &term.any_of {
        sql.push(" OR ");
        match m {
            Match::Contains(s) => {
                sql.push("s.words LIKE ").text(containing(s));
            }
            Match::Words {
                text,
                prefix: false,
            } => {
                sql.push("s.tsv @@ phraseto_tsquery('simple', ")
                    .text(text.as_str())
                    .push(")");
            }
            Match::Words { text, prefix: true } => {
                // Words of letters and digits (see `Match::Words`): the lookup is built here,
                // the last one a prefix.
                let words: Vec<String> = text.split_whitespace().map(lexeme).collect();
                let query = format!("{}:*", words.join(" <-> "));
                sql.push("s.tsv @@ ").text(query).push("::tsquery");
            }
            Match::Stem(stem) => {
                sql.push("s.tsv @@ ").text(lexeme(stem)).push("::tsquery");
            }
        }
    }
    sql.push(")");
}

/// The score of relevance order: how many terms the message has as the exact word.
fn score(sql: &mut Sql, r: &SearchRequest) {
    let exact: Vec<&String> = r.terms.iter().filter_map(|t| t.exact.as_ref()).collect();
    if r.order == SearchOrder::Recent || exact.is_empty() {
        sql.push("0::bigint");
        return;
    }
    sql.push("(0");
    for word in exact {
        sql.push(" + (s.tsv @@ ")
            .text(format!("{}:A", lexeme(word)))
            .push("::tsquery)::int");
    }
    sql.push(")::bigint");
}

/// Every condition of a search but the cursor: access, words, operators.
fn conditions(sql: &mut Sql, r: &SearchRequest) {
    sql.push(" NOT m.deleted AND ");
    access(sql, r, "m.channel_id");
    for term in &r.terms {
        sql.push(" AND ");
        term_matches(sql, term);
    }
    for term in &r.excluded {
        sql.push(" AND NOT ");
        term_matches(sql, term);
    }
    operators(sql, r);
}

fn matches(sql: &mut Sql, r: &SearchRequest) {
    sql.push("SELECT s.doc AS doc, ");
    score(sql, r);
    sql.push(
        " AS score, m.id AS id FROM message_search s JOIN messages m ON m.id = s.message_id WHERE",
    );
    conditions(sql, r);
}

/// Runs a search statement, its lists bound as arrays (`dialect::IN_LIST`).
async fn fetch(
    conn: &mut PgConnection,
    sql: &Sql,
    context: &'static str,
) -> StoreResult<Vec<PgRow>> {
    let mut query = sqlx::query(&sql.text);
    for b in &sql.binds {
        query = match b {
            Bind::Text(s) => query.bind(s.as_str()),
            Bind::Int(i) => query.bind(*i),
            Bind::List(v) => query.bind(v),
        };
    }
    query.fetch_all(&mut *conn).await.ctx(context)
}

#[async_trait]
impl SearchStore for PgStore {
    async fn storage(&self) -> StoreResult<Vec<(String, i64)>> {
        let mut sizes = Vec::new();
        for (label, function, relation) in [
            (
                "message_search in all (heap, TOAST, indexes)",
                "pg_total_relation_size",
                "message_search",
            ),
            ("message_search heap", "pg_relation_size", "message_search"),
            (
                "message_search_words (GIN tsvector)",
                "pg_relation_size",
                "message_search_words",
            ),
            (
                "message_search_grams (GIN trigram)",
                "pg_relation_size",
                "message_search_grams",
            ),
            (
                "message_search_pkey",
                "pg_relation_size",
                "message_search_pkey",
            ),
            (
                "message_search_message_id_key",
                "pg_relation_size",
                "message_search_message_id_key",
            ),
            (
                "messages in all (heap, TOAST, indexes)",
                "pg_total_relation_size",
                "messages",
            ),
        ] {
            let bytes: Option<i64> =
                sqlx::query_scalar(&format!("SELECT {function}(to_regclass($1))"))
                    .bind(relation)
                    .fetch_one(&self.pool)
                    .await
                    .ctx("reading relation sizes")?;
            sizes.push((label.to_owned(), bytes.unwrap_or(0)));
        }
        let db: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&self.pool)
            .await
            .ctx("reading the database's size")?;
        sizes.push(("database in all".to_owned(), db));
        Ok(sizes)
    }

    async fn analyze(&self) -> StoreResult<()> {
        sqlx::query("ANALYZE")
            .execute(&self.pool)
            .await
            .ctx("analyzing")?;
        Ok(())
    }

    async fn search(&self, r: &SearchRequest) -> StoreResult<SearchPage> {
        if r.finds_nothing() {
            return Ok(SearchPage::default());
        }
        let mut page = Sql::default();
        if r.order == SearchOrder::Recent {
            // Newest first by number, which the planner may read from the key's index,
            // stopping after the page, when the words are common.
            matches(&mut page, r);
            if let Some(after) = r.after {
                page.push(" AND s.doc < ").int(after.doc);
            }
            page.push(" ORDER BY s.doc DESC LIMIT ");
        } else {
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
        count.push(" LIMIT ").int(SEARCH_COUNT_CAP).push(") t");

        // One snapshot for the page, its count and its messages.
        let mut tx = self.begin_snapshot().await?;
        // Planned for these words: a statement's generic plan (which PostgreSQL switches to
        // after five runs of a prepared one) cannot know how rare they are, and walked the
        // whole index newest first for a word in ten messages.
        sqlx::query("SET LOCAL plan_cache_mode = force_custom_plan")
            .execute(&mut *tx)
            .await
            .ctx("planning a search")?;
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
        let messages = if ids.is_empty() {
            Vec::new()
        } else {
            sqlx::query(&rows::select_messages("m.id = ANY($1)"))
                .bind(&ids)
                .fetch_all(&mut *tx)
                .await
                .ctx("reading messages")?
                .iter()
                .map(rows::message)
                .collect::<StoreResult<Vec<_>>>()?
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
