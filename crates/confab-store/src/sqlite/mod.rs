//! The SQLite backend: one file under the data directory, WAL with `synchronous=FULL` so a
//! commit is on disk before anyone is told it happened. One writer connection serialises
//! writes (SQLite allows one writer at a time anyway); a small pool serves reads from WAL
//! snapshots without blocking it.
//!
//! Sends are group-committed (`group_commit.rs`) on a thread of their own: each
//! statement is a hand-off to sqlx's SQLite thread and back, and on the shared runtime every
//! "back" waited behind thousands of socket tasks. The writer keeps a 64 MiB page cache
//! (a batch touches an index leaf per channel), keeps statement journals in memory, and
//! checkpoints the WAL every 16k pages rather than SQLite's 1k, so a busy writer does not
//! checkpoint on nearly every commit (the checkpoint still runs inside the commit that crosses
//! the mark, whose acks wait for it), truncating the WAL file back to 64 MiB after.

mod dialect;
mod group_commit;
mod hydrate;
mod messages;
mod rows;
mod search;
mod search_query;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection, Transaction};

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
use hydrate::with_root as message_with_root;

/// This module's store, as the `common` files name it.
type Backend = SqliteStore;

impl SqliteStore {
    /// Where writes go.
    fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// Where reads that may lag a write by a commit go.
    fn read_pool(&self) -> &SqlitePool {
        &self.reader
    }
}

use crate::error::DbContext;
use crate::{StoreError, StoreResult};

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Sends waiting for the group-commit task (see `group_commit.rs`).
    sends: tokio::sync::mpsc::Sender<crate::send_queue::PendingSend>,
}

/// A connection, as the `common` files name it.
type Conn = SqliteConnection;
/// A write transaction on the writer connection.
type Tx = Transaction<'static, Sqlite>;

impl SqliteStore {
    /// Opens (creating if needed) `confab.db` in `dir` and runs migrations.
    pub async fn open_dir(dir: &Path) -> StoreResult<Self> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Unavailable {
            context: "creating the data directory",
            source: sqlx::Error::Io(e),
        })?;
        Self::open(&dir.join("confab.db")).await
    }

    pub async fn open(path: &Path) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str("sqlite://")
            .ctx("building sqlite options")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: each commit is fsync'd, so an acknowledged message survives power loss.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .test_before_acquire(false)
            .connect_with(
                options
                    .clone()
                    .pragma("cache_size", "-65536")
                    .pragma("temp_store", "memory")
                    .pragma("wal_autocheckpoint", "16384")
                    // ... and gives the disk back once a checkpoint has emptied the WAL.
                    .pragma("journal_size_limit", "67108864"),
            )
            .await
            .ctx("opening the sqlite database")?;
        sqlx::migrate!("./migrations/sqlite")
            .run(&writer)
            .await
            .map_err(|e| StoreError::Internal {
                context: "running sqlite migrations",
                source: e.into(),
            })?;
        search::backfill(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await
            .ctx("opening sqlite readers")?;
        let (sends, pending) = tokio::sync::mpsc::channel(crate::send_queue::SEND_QUEUE);
        let commit_pool = writer.clone();
        // The runtime is made on the thread: dropping one inside this async fn would panic.
        std::thread::Builder::new()
            .name("confab-sqlite-commit".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => {
                        runtime.block_on(group_commit::group_commit(commit_pool, pending))
                    }
                    // Dropping `pending` makes every send fail as `Unavailable`, not hang.
                    Err(error) => tracing::error!(%error, "cannot run the group-commit thread"),
                }
            })
            .map_err(|e| StoreError::Unavailable {
                context: "starting the group-commit thread",
                source: sqlx::Error::Io(e),
            })?;
        Ok(Self {
            writer,
            reader,
            sends,
        })
    }

    /// A write transaction (on the one writer connection).
    async fn begin(&self) -> StoreResult<Tx> {
        self.writer.begin().await.ctx("starting a transaction")
    }

    /// Waits for in-flight statements and closes the database cleanly.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}
