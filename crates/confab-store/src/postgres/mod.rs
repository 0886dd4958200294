//! The PostgreSQL backend: one connection pool, any number of confab processes against the
//! same database. A channel's sequence number is taken by `UPDATE channels SET last_seq =
//! last_seq + 1 … RETURNING` inside the transaction that stores the change: the row lock it
//! takes is held to commit, so writers of one channel queue behind each other in whichever
//! process they run, and a rollback undoes the increment, so numbers stay gap-free (a batch of
//! top-level sends locks its channels in id order first and then advances each `last_seq` by
//! the sends it stores: `sends.rs`, migration 0002). Commits wait for the WAL flush (the
//! server's `synchronous_commit`), so an acknowledged write is durable.
//!
//! Under READ COMMITTED every statement sees what was committed when it started, so a write
//! that must see the channel as its previous writer left it (is the message still live, is the
//! author still a member) checks that in a statement after the one that took the lock.

mod dialect;
mod messages;
mod replies;
mod rows;
mod search;
mod sends;
mod statements;

#[cfg(feature = "testsuite")]
pub use statements::hot_statements;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Transaction};

// One text for both backends: each `common` file compiles here and once more in the other
// backend's module, against this module's `Backend`, `Conn`, `Tx`, pools, `rows` and
// `dialect` (what the two engines spell differently).
#[allow(clippy::duplicate_mod)]
#[path = "../common/accounts.rs"]
mod accounts;
#[allow(clippy::duplicate_mod)]
#[path = "../common/channels.rs"]
mod channels;
#[allow(clippy::duplicate_mod)]
#[path = "../common/drafts.rs"]
mod drafts;
#[allow(clippy::duplicate_mod)]
#[path = "../common/files.rs"]
mod files;
#[allow(clippy::duplicate_mod)]
#[path = "../common/log.rs"]
mod log;
#[allow(clippy::duplicate_mod)]
#[path = "../common/notify.rs"]
mod notify;
#[allow(clippy::duplicate_mod)]
#[path = "../common/reads.rs"]
mod reads;
#[allow(clippy::duplicate_mod)]
#[path = "../common/search_sql.rs"]
mod search_sql;
#[allow(clippy::duplicate_mod)]
#[path = "../common/sessions.rs"]
mod sessions;
#[allow(clippy::duplicate_mod)]
#[path = "../common/workspaces.rs"]
mod workspaces;

/// A message and its thread root, as the `common` files name it.
use messages::with_root as message_with_root;

/// This module's store, as the `common` files name it.
type Backend = PgStore;

impl PgStore {
    /// Where writes go.
    fn write_pool(&self) -> &PgPool {
        &self.pool
    }

    /// Where reads that may lag a write by a commit go.
    fn read_pool(&self) -> &PgPool {
        &self.pool
    }
}

use crate::error::DbContext;
use crate::{StoreError, StoreResult};

/// How long a request waits for a connection. Short, so that while the database is down
/// requests fail fast as `Unavailable` (a retryable 503) instead of piling up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

pub struct PgStore {
    pool: PgPool,
    send_turns: replies::SendTurns,
    /// Top-level sends waiting for the batching workers (see `sends`).
    sends: tokio::sync::mpsc::Sender<crate::send_queue::PendingSend>,
}

/// A connection, as the `common` files name it.
type Conn = PgConnection;
type Tx = Transaction<'static, Postgres>;

impl PgStore {
    /// Connects and brings the schema up to date. Safe when several processes start at once:
    /// sqlx takes a session advisory lock on the database around the migrations, so one
    /// migrates and the others then find nothing left to do.
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        // The pool pings an idle connection before lending it (sqlx's default) and drops one
        // that fails, so after an outage connections are replaced rather than reused dead.
        // No JIT: confab's statements are short index lookups, and compiling them costs more
        // than running them (323 of 376 ms of one hole-fill on a 35k-row table).
        let options = url
            .parse::<PgConnectOptions>()
            .ctx("parsing the database URL")?
            .options([("jit", "off")]);
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(true)
            .connect_with(options)
            .await
            .ctx("connecting to postgres")?;
        if let Err(e) = sqlx::migrate!("./migrations/postgres").run(&pool).await {
            // A failed migration returns its connection with the advisory lock still held;
            // closing the pool ends that session and with it the lock.
            pool.close().await;
            return Err(match e {
                sqlx::migrate::MigrateError::Execute(e) => {
                    StoreError::db("running postgres migrations", e)
                }
                e => StoreError::Internal {
                    context: "running postgres migrations",
                    source: e.into(),
                },
            });
        }
        if let Err(e) = search::backfill(&pool).await {
            pool.close().await;
            return Err(e);
        }
        let (sends, pending) = tokio::sync::mpsc::channel(crate::send_queue::SEND_QUEUE);
        sends::spawn_workers(&pool, pending);
        Ok(Self {
            pool,
            send_turns: replies::SendTurns::new(),
            sends,
        })
    }

    /// A setting as the store's own connections have it (for tests).
    #[cfg(feature = "testsuite")]
    pub async fn session_setting(&self, name: &str) -> StoreResult<String> {
        sqlx::query_scalar("SELECT current_setting($1)")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .ctx("reading a setting")
    }

    /// Waits for in-flight statements and closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin(&self) -> StoreResult<Tx> {
        begin_to_completion(&self.pool, "BEGIN", "starting a transaction").await
    }

    /// A read-only transaction on one snapshot, for reads of several statements that must
    /// agree with each other.
    async fn begin_snapshot(&self) -> StoreResult<Tx> {
        begin_to_completion(
            &self.pool,
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            "starting a read",
        )
        .await
    }
}

/// Starts a transaction on a task of its own, so that a caller dropped meanwhile (a client
/// gone, a gateway killed mid-call) cannot cut the `BEGIN` round trip short. sqlx counts a
/// transaction only once `BEGIN` is answered (sqlx #4393, fixed upstream after 0.9.0): cut
/// before that, the connection went back to the pool inside a transaction nothing would end,
/// and the next borrower's autocommit writes (a batch of sends) were acknowledged inside it
/// and never committed. Run to completion, the `Transaction` exists before anyone can drop
/// it, and dropping it rolls back.
async fn begin_to_completion(
    pool: &PgPool,
    statement: &'static str,
    context: &'static str,
) -> StoreResult<Tx> {
    let pool = pool.clone();
    tokio::spawn(async move { pool.begin_with(statement).await })
        .await
        // Only a stopping runtime cancels it (or a panic ends it): either way, not the
        // caller's fault, and retrying may work.
        .map_err(|_| StoreError::Unavailable {
            context,
            source: sqlx::Error::WorkerCrashed,
        })?
        .ctx(context)
}
