//! The SQLite backend: one file under the data directory, WAL with `synchronous=FULL` so a
//! commit is on disk before anyone is told it happened. One writer connection serialises
//! writes (SQLite allows one writer at a time anyway); a small pool serves reads from WAL
//! snapshots without blocking it.
//!
//! Sends are group-committed (`messages::group_commit`) on a thread of their own: each
//! statement is a hand-off to sqlx's SQLite thread and back, and on the shared runtime every
//! "back" waited behind thousands of socket tasks. The writer keeps a 64 MiB page cache
//! (a batch touches an index leaf per channel), keeps statement journals in memory, and
//! checkpoints the WAL every 16k pages rather than SQLite's 1k, so a busy writer does not
//! checkpoint on nearly every commit (the checkpoint still runs inside the commit that crosses
//! the mark, whose acks wait for it), truncating the WAL file back to 64 MiB after.

mod messages;
mod rows;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use confab_core::{
    Change, Channel, ChannelEvent, ChannelId, ChannelKind, Mentions, Message, MessageId, Role,
    Timestamp, User, UserId, Workspace, WorkspaceId,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, SqliteConnection, Transaction};

crate::roster::roster_methods!(SqliteStore, writer, reader);
crate::sessions::session_methods!(SqliteStore, writer, reader);

use crate::error::{DbContext, is_unique_violation};
use crate::{
    ChangesPage, ChannelView, Committed, JoinedWorkspace, NewChannel, NewInvite, NewMessage,
    NewUser, NewWorkspace, SendOutcome, Store, StoreError, StoreResult,
};
use rows::{CHANNEL_COLUMNS, USER_COLUMNS, WORKSPACE_COLUMNS};

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Sends waiting for the group-commit task (see `messages::group_commit`).
    sends: tokio::sync::mpsc::Sender<crate::send_queue::PendingSend>,
}

type Tx<'a> = Transaction<'a, Sqlite>;

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
                    Ok(runtime) => runtime.block_on(messages::group_commit(commit_pool, pending)),
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

    /// Waits for in-flight statements and closes the database cleanly.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Takes the channel's next sequence number. Runs inside the transaction that stores the
/// change, so the number and the change commit together or not at all.
async fn next_seq(conn: &mut SqliteConnection, channel: &ChannelId) -> StoreResult<i64> {
    sqlx::query("UPDATE channels SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq")
        .bind(channel.as_str())
        .fetch_optional(&mut *conn)
        .await
        .ctx("taking the next sequence number")?
        .map(|row| row.try_get::<i64, _>(0))
        .transpose()
        .ctx("taking the next sequence number")?
        .ok_or(StoreError::NotFound("channel"))
}

/// What a change-log row names besides its channel and sequence number.
struct Logged<'a> {
    kind: &'a str,
    message: Option<&'a MessageId>,
    user: Option<&'a UserId>,
    /// A reaction's emoji.
    detail: Option<&'a str>,
}

impl<'a> Logged<'a> {
    fn message(kind: &'a str, message: &'a MessageId) -> Self {
        Self {
            kind,
            message: Some(message),
            user: None,
            detail: None,
        }
    }
    fn member(kind: &'a str, user: &'a UserId) -> Self {
        Self {
            kind,
            message: None,
            user: Some(user),
            detail: None,
        }
    }
    fn reaction(kind: &'a str, message: &'a MessageId, user: &'a UserId, emoji: &'a str) -> Self {
        Self {
            kind,
            message: Some(message),
            user: Some(user),
            detail: Some(emoji),
        }
    }
    fn channel(kind: &'a str) -> Self {
        Self {
            kind,
            message: None,
            user: None,
            detail: None,
        }
    }
}

async fn record_change(
    conn: &mut SqliteConnection,
    channel: &ChannelId,
    seq: i64,
    logged: Logged<'_>,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO channel_changes (channel_id, seq, kind, message_id, user_id, detail, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(channel.as_str())
    .bind(seq)
    .bind(logged.kind)
    .bind(logged.message.map(MessageId::as_str))
    .bind(logged.user.map(UserId::as_str))
    .bind(logged.detail)
    .bind(now.as_micros())
    .execute(&mut *conn)
    .await
    .ctx("recording a channel change")?;
    Ok(())
}

/// Adds a channel member as a change of the channel; `None` if they already are one.
async fn join_channel(
    tx: &mut Tx<'_>,
    channel: &ChannelId,
    user: &UserId,
    now: Timestamp,
) -> StoreResult<Option<ChannelEvent>> {
    let inserted = sqlx::query(
        "INSERT INTO channel_members (channel_id, user_id, joined_at) VALUES (?, ?, ?) \
         ON CONFLICT DO NOTHING",
    )
    .bind(channel.as_str())
    .bind(user.as_str())
    .bind(now.as_micros())
    .execute(&mut **tx)
    .await
    .ctx("adding a channel member")?
    .rows_affected();
    if inserted == 0 {
        return Ok(None);
    }
    let seq = next_seq(tx, channel).await?;
    record_change(tx, channel, seq, Logged::member("member.joined", user), now).await?;
    Ok(Some(ChannelEvent {
        channel_id: channel.clone(),
        seq,
        change: Change::MemberJoined {
            user_id: user.clone(),
        },
    }))
}

async fn channel_in(tx: &mut Tx<'_>, id: &ChannelId) -> StoreResult<Channel> {
    let row = sqlx::query(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.id = ?"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await
    .ctx("reading a channel")?
    .ok_or(StoreError::NotFound("channel"))?;
    rows::channel(&row)
}

async fn workspace_in(tx: &mut Tx<'_>, id: &WorkspaceId) -> StoreResult<Workspace> {
    let row = sqlx::query(&format!(
        "SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = ?"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await
    .ctx("reading a workspace")?
    .ok_or(StoreError::NotFound("workspace"))?;
    rows::workspace(&row)
}

async fn insert_channel(tx: &mut Tx<'_>, c: &NewChannel) -> StoreResult<()> {
    let dm_key = (c.kind == ChannelKind::Dm).then(|| {
        let mut members = c.other_members.clone();
        members.push(c.created_by.clone());
        rows::dm_key(&members)
    });
    let result = sqlx::query(
        "INSERT INTO channels (id, workspace_id, kind, name, topic, dm_key, created_by, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(c.id.as_str())
    .bind(c.workspace_id.as_str())
    .bind(c.kind.as_str())
    .bind(c.name.as_deref())
    .bind(&c.topic)
    .bind(dm_key)
    .bind(c.created_by.as_str())
    .bind(c.created_at.as_micros())
    .execute(&mut **tx)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::ChannelNameTaken),
        Err(e) => Err(StoreError::db("creating a channel", e)),
    }
}

/// Adds a workspace member and, unless a guest, puts them in `#general`.
async fn add_workspace_member_tx(
    tx: &mut Tx<'_>,
    ws: &WorkspaceId,
    user: &UserId,
    role: Role,
    now: Timestamp,
) -> StoreResult<Committed<JoinedWorkspace>> {
    let workspace = workspace_in(tx, ws).await?;
    let result = sqlx::query(
        "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES (?, ?, ?, ?)",
    )
    .bind(ws.as_str())
    .bind(user.as_str())
    .bind(role.as_str())
    .bind(now.as_micros())
    .execute(&mut **tx)
    .await;
    match result {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => return Err(StoreError::AlreadyMember),
        Err(e) if matches!(&e, sqlx::Error::Database(d) if d.is_foreign_key_violation()) => {
            return Err(StoreError::NotFound("user"));
        }
        Err(e) => return Err(StoreError::db("adding a workspace member", e)),
    }
    let mut events = Vec::new();
    let mut general = None;
    if role != Role::Guest {
        events.extend(join_channel(tx, &workspace.general_channel_id, user, now).await?);
        general = Some(channel_in(tx, &workspace.general_channel_id).await?);
    }
    Ok(Committed {
        value: JoinedWorkspace { workspace, general },
        events,
    })
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, u: NewUser) -> StoreResult<User> {
        let result = sqlx::query(
            "INSERT INTO users (id, username, display_name, email, password_hash, created_at) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(u.id.as_str())
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(u.email.as_deref())
        .bind(&u.password_hash)
        .bind(u.created_at.as_micros())
        .execute(&self.writer)
        .await;
        match result {
            Ok(_) => Ok(User {
                id: u.id,
                username: u.username,
                display_name: u.display_name,
                email: u.email,
                created_at: u.created_at,
            }),
            Err(e) if is_unique_violation(&e) => Err(StoreError::UsernameTaken),
            Err(e) => Err(StoreError::db("creating a user", e)),
        }
    }

    async fn user(&self, id: &UserId) -> StoreResult<Option<User>> {
        sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?"))
            .bind(id.as_str())
            .fetch_optional(&self.reader)
            .await
            .ctx("reading a user")?
            .map(|row| rows::user(&row))
            .transpose()
    }

    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ? AND deactivated_at IS NULL"
        ))
        .bind(username)
        .fetch_optional(&self.reader)
        .await
        .ctx("reading credentials")?;
        match row {
            None => Ok(None),
            Some(row) => {
                let hash: String = row.try_get("password_hash").ctx("reading credentials")?;
                Ok(Some((rows::user(&row)?, hash)))
            }
        }
    }

    async fn create_workspace(&self, ws: NewWorkspace) -> StoreResult<Committed<Workspace>> {
        let mut tx = self.writer.begin().await.ctx("starting a transaction")?;
        sqlx::query(
            "INSERT INTO workspaces (id, name, general_channel_id, created_at) VALUES (?, ?, ?, ?)",
        )
        .bind(ws.id.as_str())
        .bind(&ws.name)
        .bind(ws.general_channel_id.as_str())
        .bind(ws.created_at.as_micros())
        .execute(&mut *tx)
        .await
        .ctx("creating a workspace")?;
        sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES (?, ?, 'owner', ?)",
        )
        .bind(ws.id.as_str())
        .bind(ws.owner.as_str())
        .bind(ws.created_at.as_micros())
        .execute(&mut *tx)
        .await
        .ctx("adding the workspace owner")?;
        let general = NewChannel {
            id: ws.general_channel_id.clone(),
            workspace_id: ws.id.clone(),
            kind: ChannelKind::Public,
            name: Some("general".to_owned()),
            topic: String::new(),
            created_by: ws.owner.clone(),
            created_at: ws.created_at,
            other_members: Vec::new(),
        };
        insert_channel(&mut tx, &general).await?;
        let events: Vec<ChannelEvent> =
            join_channel(&mut tx, &general.id, &ws.owner, ws.created_at)
                .await?
                .into_iter()
                .collect();
        tx.commit().await.ctx("committing a workspace")?;
        Ok(Committed {
            value: Workspace {
                id: ws.id,
                name: ws.name,
                created_at: ws.created_at,
                general_channel_id: ws.general_channel_id,
            },
            events,
        })
    }

    async fn workspace(&self, id: &WorkspaceId) -> StoreResult<Option<Workspace>> {
        sqlx::query(&format!(
            "SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = ?"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await
        .ctx("reading a workspace")?
        .map(|row| rows::workspace(&row))
        .transpose()
    }

    async fn workspace_role(&self, ws: &WorkspaceId, user: &UserId) -> StoreResult<Option<Role>> {
        let row = sqlx::query(
            "SELECT role FROM workspace_members WHERE workspace_id = ? AND user_id = ?",
        )
        .bind(ws.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.reader)
        .await
        .ctx("reading a workspace role")?;
        row.map(|r| rows::role(r.try_get::<&str, _>(0).ctx("reading a workspace role")?))
            .transpose()
    }

    async fn user_workspaces(&self, user: &UserId) -> StoreResult<Vec<(Workspace, Role)>> {
        let rows = sqlx::query(&format!(
            "SELECT {WORKSPACE_COLUMNS}, wm.role FROM workspaces w \
             JOIN workspace_members wm ON wm.workspace_id = w.id \
             WHERE wm.user_id = ? ORDER BY w.name, w.id"
        ))
        .bind(user.as_str())
        .fetch_all(&self.reader)
        .await
        .ctx("listing workspaces")?;
        rows.iter()
            .map(|row| {
                Ok((
                    rows::workspace(row)?,
                    rows::role(row.try_get("role").ctx("reading a role")?)?,
                ))
            })
            .collect()
    }

    async fn add_workspace_member(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        role: Role,
        now: Timestamp,
    ) -> StoreResult<Committed<JoinedWorkspace>> {
        let mut tx = self.writer.begin().await.ctx("starting a transaction")?;
        let committed = add_workspace_member_tx(&mut tx, ws, user, role, now).await?;
        tx.commit().await.ctx("committing a workspace member")?;
        Ok(committed)
    }

    async fn create_invite(&self, i: NewInvite) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO invites (code_hash, workspace_id, created_by, created_at, expires_at, max_uses) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&i.code_hash)
        .bind(i.workspace_id.as_str())
        .bind(i.created_by.as_str())
        .bind(i.created_at.as_micros())
        .bind(i.expires_at.as_micros())
        .bind(i.max_uses)
        .execute(&self.writer)
        .await
        .ctx("creating an invite")?;
        Ok(())
    }

    async fn accept_invite(
        &self,
        code_hash: &[u8],
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Committed<JoinedWorkspace>> {
        let mut tx = self.writer.begin().await.ctx("starting a transaction")?;
        let row = sqlx::query(
            "SELECT workspace_id, expires_at, max_uses, uses FROM invites WHERE code_hash = ?",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await
        .ctx("reading an invite")?
        .ok_or(StoreError::NotFound("invite"))?;
        let ws = WorkspaceId::from_trusted(row.try_get(0).ctx("reading an invite")?);
        let (expires_at, max_uses, uses): (i64, i64, i64) = (
            row.try_get(1).ctx("reading an invite")?,
            row.try_get(2).ctx("reading an invite")?,
            row.try_get(3).ctx("reading an invite")?,
        );
        if expires_at < now.as_micros() || uses >= max_uses {
            return Err(StoreError::InviteExpired);
        }
        let committed = add_workspace_member_tx(&mut tx, &ws, user, Role::Member, now).await?;
        sqlx::query("UPDATE invites SET uses = uses + 1 WHERE code_hash = ?")
            .bind(code_hash)
            .execute(&mut *tx)
            .await
            .ctx("using an invite")?;
        tx.commit().await.ctx("committing an invite")?;
        Ok(committed)
    }

    async fn create_channel(&self, c: NewChannel) -> StoreResult<Committed<Channel>> {
        let mut tx = self.writer.begin().await.ctx("starting a transaction")?;
        insert_channel(&mut tx, &c).await?;
        let mut events = Vec::new();
        events.extend(join_channel(&mut tx, &c.id, &c.created_by, c.created_at).await?);
        for member in &c.other_members {
            events.extend(join_channel(&mut tx, &c.id, member, c.created_at).await?);
        }
        let channel = channel_in(&mut tx, &c.id).await?;
        tx.commit().await.ctx("committing a channel")?;
        Ok(Committed {
            value: channel,
            events,
        })
    }

    async fn find_dm(&self, ws: &WorkspaceId, members: &[UserId]) -> StoreResult<Option<Channel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.workspace_id = ? AND c.kind = 'dm' AND c.dm_key = ?"
        ))
        .bind(ws.as_str())
        .bind(rows::dm_key(members))
        .fetch_optional(&self.reader)
        .await
        .ctx("finding a dm")?
        .map(|row| rows::channel(&row))
        .transpose()
    }

    async fn channel(&self, id: &ChannelId) -> StoreResult<Option<Channel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.id = ?"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await
        .ctx("reading a channel")?
        .map(|row| rows::channel(&row))
        .transpose()
    }

    async fn is_channel_member(&self, channel: &ChannelId, user: &UserId) -> StoreResult<bool> {
        let row = sqlx::query("SELECT 1 FROM channel_members WHERE channel_id = ? AND user_id = ?")
            .bind(channel.as_str())
            .bind(user.as_str())
            .fetch_optional(&self.reader)
            .await
            .ctx("checking channel membership")?;
        Ok(row.is_some())
    }

    async fn channel_access(
        &self,
        channel: &ChannelId,
        user: &UserId,
    ) -> StoreResult<Option<(Channel, Option<Role>, bool)>> {
        let row = sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS}, wm.role AS member_role, cm.user_id IS NOT NULL AS is_member \
             FROM channels c \
             LEFT JOIN workspace_members wm ON wm.workspace_id = c.workspace_id AND wm.user_id = ?1 \
             LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = ?1 \
             WHERE c.id = ?2"
        ))
        .bind(user.as_str())
        .bind(channel.as_str())
        .fetch_optional(&self.reader)
        .await
        .ctx("reading channel access")?;
        let Some(row) = row else { return Ok(None) };
        let role: Option<String> = row.try_get("member_role").ctx("reading channel access")?;
        Ok(Some((
            rows::channel(&row)?,
            role.as_deref().map(rows::role).transpose()?,
            row.try_get("is_member").ctx("reading channel access")?,
        )))
    }

    async fn list_channels(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        include_public: bool,
    ) -> StoreResult<Vec<ChannelView>> {
        // Unread: others' live top-level messages after the read cursor. Mentions: those of
        // them that mention the user (by name, or @here while online, or @channel).
        let unread_filter = "m.channel_id = c.id AND m.seq > cm.last_read_seq AND m.author_id <> ?1 \
                             AND m.deleted = 0 AND m.thread_root_id IS NULL";
        let rows = sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS}, cm.user_id IS NOT NULL AS is_member, \
                    COALESCE(cm.last_read_seq, 0) AS last_read_seq, \
                    CASE WHEN cm.user_id IS NULL THEN 0 ELSE \
                      (SELECT COUNT(*) FROM messages m WHERE {unread_filter}) END AS unread_count, \
                    CASE WHEN cm.user_id IS NULL THEN 0 ELSE \
                      (SELECT COUNT(*) FROM messages m WHERE {unread_filter} \
                         AND ((' ' || m.mention_ids || ' ') LIKE ('% ' || ?1 || ' %') \
                              OR (m.mentions_channel & 1) = 1)) END AS mention_count \
             FROM channels c \
             LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = ?1 \
             WHERE c.workspace_id = ?2 AND (cm.user_id IS NOT NULL OR (?3 AND c.kind = 'public')) \
             ORDER BY c.kind = 'dm', c.name, c.id"
        ))
        .bind(user.as_str())
        .bind(ws.as_str())
        .bind(include_public)
        .fetch_all(&self.reader)
        .await
        .ctx("listing channels")?;
        rows.iter()
            .map(|row| {
                Ok(ChannelView {
                    channel: rows::channel(row)?,
                    is_member: row.try_get("is_member").ctx("listing channels")?,
                    last_read_seq: row.try_get("last_read_seq").ctx("listing channels")?,
                    unread_count: row.try_get("unread_count").ctx("listing channels")?,
                    mention_count: row.try_get("mention_count").ctx("listing channels")?,
                })
            })
            .collect()
    }

    async fn user_channel_ids(&self, user: &UserId) -> StoreResult<Vec<ChannelId>> {
        let rows = sqlx::query("SELECT channel_id FROM channel_members WHERE user_id = ?")
            .bind(user.as_str())
            .fetch_all(&self.reader)
            .await
            .ctx("listing a user's channels")?;
        rows.iter()
            .map(|r| r.try_get(0).map(ChannelId::from_trusted))
            .collect::<Result<_, _>>()
            .ctx("listing a user's channels")
    }

    async fn add_channel_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>> {
        let mut tx = self.writer.begin().await.ctx("starting a transaction")?;
        let event = join_channel(&mut tx, channel, user, now).await?;
        tx.commit().await.ctx("committing a channel member")?;
        Ok(event)
    }

    async fn remove_channel_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>> {
        let mut tx = self.writer.begin().await.ctx("starting a transaction")?;
        let removed =
            sqlx::query("DELETE FROM channel_members WHERE channel_id = ? AND user_id = ?")
                .bind(channel.as_str())
                .bind(user.as_str())
                .execute(&mut *tx)
                .await
                .ctx("removing a channel member")?
                .rows_affected();
        if removed == 0 {
            return Ok(None);
        }
        let seq = next_seq(&mut tx, channel).await?;
        record_change(
            &mut tx,
            channel,
            seq,
            Logged::member("member.left", user),
            now,
        )
        .await?;
        tx.commit().await.ctx("committing a member removal")?;
        Ok(Some(ChannelEvent {
            channel_id: channel.clone(),
            seq,
            change: Change::MemberLeft {
                user_id: user.clone(),
            },
        }))
    }

    async fn send_message(&self, m: NewMessage) -> StoreResult<SendOutcome> {
        self.send_message_tx(m).await
    }

    async fn edit_message(
        &self,
        id: &MessageId,
        body: &str,
        mentions: &Mentions,
        now: Timestamp,
    ) -> StoreResult<ChannelEvent> {
        self.edit_message_tx(id, body, mentions, now).await
    }

    async fn delete_message(
        &self,
        id: &MessageId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>> {
        self.delete_message_tx(id, now).await
    }

    async fn set_reaction(
        &self,
        id: &MessageId,
        emoji: &str,
        user: &UserId,
        present: bool,
        max_distinct: usize,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>> {
        self.set_reaction_tx(id, emoji, user, present, max_distinct, now)
            .await
    }

    async fn thread(&self, root: &MessageId) -> StoreResult<Option<(Message, Vec<Message>)>> {
        self.thread_read(root).await
    }

    async fn messages_since(
        &self,
        channel: &ChannelId,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<ChangesPage> {
        self.messages_since_read(channel, cursor, limit).await
    }

    async fn messages_before(
        &self,
        channel: &ChannelId,
        before: i64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)> {
        self.messages_before_read(channel, before, limit).await
    }

    async fn changes_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChannelEvent>> {
        self.changes_after_read(channel, after, limit).await
    }

    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>> {
        self.message_read(id).await
    }

    async fn mark_read(&self, channel: &ChannelId, user: &UserId, seq: i64) -> StoreResult<i64> {
        // Forward only, and never past the channel's end.
        sqlx::query_scalar(
            "UPDATE channel_members SET last_read_seq = MAX(last_read_seq, \
               MIN(?, (SELECT last_seq FROM channels WHERE id = ?))) \
             WHERE channel_id = ? AND user_id = ? RETURNING last_read_seq",
        )
        .bind(seq)
        .bind(channel.as_str())
        .bind(channel.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.writer)
        .await
        .ctx("moving a read cursor")?
        .ok_or(StoreError::NotMember)
    }

    async fn update_channel(
        &self,
        channel: &ChannelId,
        name: Option<&str>,
        topic: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<ChannelEvent> {
        let mut tx = self.writer.begin().await.ctx("starting a transaction")?;
        let result = sqlx::query(
            "UPDATE channels SET name = COALESCE(?, name), topic = COALESCE(?, topic) WHERE id = ?",
        )
        .bind(name)
        .bind(topic)
        .bind(channel.as_str())
        .execute(&mut *tx)
        .await;
        match result {
            Ok(r) if r.rows_affected() == 0 => return Err(StoreError::NotFound("channel")),
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Err(StoreError::ChannelNameTaken),
            Err(e) => return Err(StoreError::db("updating a channel", e)),
        }
        let seq = next_seq(&mut tx, channel).await?;
        record_change(
            &mut tx,
            channel,
            seq,
            Logged::channel("channel.updated"),
            now,
        )
        .await?;
        let updated = channel_in(&mut tx, channel).await?;
        tx.commit().await.ctx("committing a channel update")?;
        Ok(ChannelEvent {
            channel_id: channel.clone(),
            seq,
            change: Change::ChannelUpdated { channel: updated },
        })
    }

    async fn workspace_users_by_name(
        &self,
        ws: &WorkspaceId,
        usernames: &[String],
    ) -> StoreResult<Vec<UserId>> {
        if usernames.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT u.id, u.username FROM users u JOIN workspace_members wm ON wm.user_id = u.id \
             WHERE wm.workspace_id = ? AND u.username IN ({})",
            vec!["?"; usernames.len()].join(",")
        );
        let mut query = sqlx::query(&sql).bind(ws.as_str());
        for name in usernames {
            query = query.bind(name);
        }
        let mut found: Vec<(usize, UserId)> = Vec::new();
        for row in query
            .fetch_all(&self.reader)
            .await
            .ctx("resolving mentions")?
        {
            let name: &str = row.try_get(1).ctx("resolving mentions")?;
            if let Some(pos) = usernames.iter().position(|n| n == name) {
                let id: String = row.try_get(0).ctx("resolving mentions")?;
                found.push((pos, UserId::from_trusted(id)));
            }
        }
        // In the order the names were mentioned.
        found.sort_by_key(|(pos, _)| *pos);
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    async fn channel_member_ids(&self, channel: &ChannelId) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM channel_members WHERE channel_id = ?")
                .bind(channel.as_str())
                .fetch_all(&self.reader)
                .await
                .ctx("listing channel members")?;
        Ok(ids.into_iter().map(UserId::from_trusted).collect())
    }

    async fn users_sharing_workspace(
        &self,
        user: &UserId,
        others: &[UserId],
    ) -> StoreResult<Vec<UserId>> {
        if others.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT DISTINCT theirs.user_id FROM workspace_members mine \
             JOIN workspace_members theirs ON theirs.workspace_id = mine.workspace_id \
             WHERE mine.user_id = ? AND theirs.user_id IN ({})",
            vec!["?"; others.len()].join(",")
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(user.as_str());
        for other in others {
            query = query.bind(other.as_str());
        }
        let ids = query
            .fetch_all(&self.reader)
            .await
            .ctx("checking shared workspaces")?;
        Ok(ids.into_iter().map(UserId::from_trusted).collect())
    }
}
