//! The SQLite backend: one file under the data directory, WAL with `synchronous=FULL` so a
//! commit is on disk before anyone is told it happened. One writer connection serialises
//! writes (SQLite allows one writer at a time anyway); a small pool serves reads from WAL
//! snapshots without blocking it.

mod rows;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use confab_core::{
    Change, Channel, ChannelEvent, ChannelId, ChannelKind, Message, MessageId, Role, Timestamp,
    User, UserId, Workspace, WorkspaceId,
};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Row, Sqlite, Transaction};

use crate::error::{DbContext, is_unique_violation};
use crate::{
    ChangesPage, ChannelView, Committed, JoinedWorkspace, NewChannel, NewInvite, NewMessage,
    NewUser, NewWorkspace, SendOutcome, Store, StoreError, StoreResult,
};
use rows::{CHANNEL_COLUMNS, MESSAGE_COLUMNS, USER_COLUMNS, WORKSPACE_COLUMNS};

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
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
            .connect_with(options.clone())
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
        Ok(Self { writer, reader })
    }

    /// Waits for in-flight statements and closes the database cleanly.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

/// Takes the channel's next sequence number. Runs inside the transaction that stores the
/// change, so the number and the change commit together or not at all.
async fn next_seq(tx: &mut Tx<'_>, channel: &ChannelId) -> StoreResult<i64> {
    sqlx::query("UPDATE channels SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq")
        .bind(channel.as_str())
        .fetch_optional(&mut **tx)
        .await
        .ctx("taking the next sequence number")?
        .map(|row| row.get::<i64, _>(0))
        .ok_or(StoreError::NotFound("channel"))
}

async fn record_change(
    tx: &mut Tx<'_>,
    channel: &ChannelId,
    seq: i64,
    kind: &str,
    message: Option<&MessageId>,
    user: Option<&UserId>,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO channel_changes (channel_id, seq, kind, message_id, user_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(channel.as_str())
    .bind(seq)
    .bind(kind)
    .bind(message.map(MessageId::as_str))
    .bind(user.map(UserId::as_str))
    .bind(now.as_micros())
    .execute(&mut **tx)
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
    record_change(tx, channel, seq, "member.joined", None, Some(user), now).await?;
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

async fn find_message_by_client_id(
    tx: &mut Tx<'_>,
    author: &UserId,
    client_msg_id: &str,
) -> StoreResult<Option<Message>> {
    sqlx::query(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.author_id = ? AND m.client_msg_id = ?"
    ))
    .bind(author.as_str())
    .bind(client_msg_id)
    .fetch_optional(&mut **tx)
    .await
    .ctx("looking up a client_msg_id")?
    .map(|row| rows::message(&row))
    .transpose()
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
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = ?"
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

    async fn create_session(
        &self,
        token_hash: &[u8],
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at) VALUES (?, ?, ?)")
            .bind(token_hash)
            .bind(user.as_str())
            .bind(now.as_micros())
            .execute(&self.writer)
            .await
            .ctx("creating a session")?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &[u8]) -> StoreResult<Option<UserId>> {
        let row = sqlx::query("SELECT user_id FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.reader)
            .await
            .ctx("reading a session")?;
        Ok(row.map(|r| UserId::from_trusted(r.get(0))))
    }

    async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.writer)
            .await
            .ctx("deleting a session")?;
        Ok(())
    }

    async fn create_ticket(
        &self,
        ticket_hash: &[u8],
        user: &UserId,
        expires_at: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.ctx("starting a transaction")?;
        // Expired tickets are swept as new ones are made, so the table stays small.
        sqlx::query("DELETE FROM ws_tickets WHERE expires_at < ?")
            .bind(Timestamp::now().as_micros())
            .execute(&mut *tx)
            .await
            .ctx("sweeping expired tickets")?;
        sqlx::query("INSERT INTO ws_tickets (ticket_hash, user_id, expires_at) VALUES (?, ?, ?)")
            .bind(ticket_hash)
            .bind(user.as_str())
            .bind(expires_at.as_micros())
            .execute(&mut *tx)
            .await
            .ctx("creating a ticket")?;
        tx.commit().await.ctx("committing a ticket")
    }

    async fn redeem_ticket(
        &self,
        ticket_hash: &[u8],
        now: Timestamp,
    ) -> StoreResult<Option<UserId>> {
        let row = sqlx::query(
            "DELETE FROM ws_tickets WHERE ticket_hash = ? RETURNING user_id, expires_at",
        )
        .bind(ticket_hash)
        .fetch_optional(&self.writer)
        .await
        .ctx("redeeming a ticket")?;
        Ok(row.and_then(|r| {
            let expires_at: i64 = r.get(1);
            (expires_at >= now.as_micros()).then(|| UserId::from_trusted(r.get(0)))
        }))
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
        row.map(|r| rows::role(r.get::<&str, _>(0))).transpose()
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
        let ws = WorkspaceId::from_trusted(row.get(0));
        let (expires_at, max_uses, uses): (i64, i64, i64) = (row.get(1), row.get(2), row.get(3));
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

    async fn list_channels(
        &self,
        ws: &WorkspaceId,
        user: &UserId,
        include_public: bool,
    ) -> StoreResult<Vec<ChannelView>> {
        let rows = sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS}, cm.user_id IS NOT NULL AS is_member, \
                    COALESCE(cm.last_read_seq, 0) AS last_read_seq \
             FROM channels c \
             LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = ? \
             WHERE c.workspace_id = ? AND (cm.user_id IS NOT NULL OR (? AND c.kind = 'public')) \
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
        Ok(rows
            .iter()
            .map(|r| ChannelId::from_trusted(r.get(0)))
            .collect())
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
        record_change(&mut tx, channel, seq, "member.left", None, Some(user), now).await?;
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
        let mut tx = self.writer.begin().await.ctx("starting a transaction")?;
        if let Some(original) =
            find_message_by_client_id(&mut tx, &m.author_id, &m.client_msg_id).await?
        {
            return Ok(SendOutcome {
                message: original,
                created: false,
            });
        }
        let member =
            sqlx::query("SELECT 1 FROM channel_members WHERE channel_id = ? AND user_id = ?")
                .bind(m.channel_id.as_str())
                .bind(m.author_id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .ctx("checking channel membership")?;
        if member.is_none() {
            return Err(StoreError::NotMember);
        }
        let thread_root_id = match &m.thread_root_id {
            None => None,
            Some(root) => {
                let row =
                    sqlx::query("SELECT channel_id, thread_root_id FROM messages WHERE id = ?")
                        .bind(root.as_str())
                        .fetch_optional(&mut *tx)
                        .await
                        .ctx("reading a thread root")?
                        .ok_or(StoreError::InvalidThreadRoot)?;
                if row.get::<&str, _>(0) != m.channel_id.as_str() {
                    return Err(StoreError::InvalidThreadRoot);
                }
                // A reply to a reply belongs to the same thread as its parent.
                let parent_root: Option<String> = row.get(1);
                Some(
                    parent_root
                        .map(MessageId::from_trusted)
                        .unwrap_or_else(|| root.clone()),
                )
            }
        };
        let seq = next_seq(&mut tx, &m.channel_id).await?;
        sqlx::query(
            "INSERT INTO messages (id, channel_id, seq, version, author_id, client_msg_id, body, created_at, thread_root_id) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(m.id.as_str())
        .bind(m.channel_id.as_str())
        .bind(seq)
        .bind(seq)
        .bind(m.author_id.as_str())
        .bind(&m.client_msg_id)
        .bind(&m.body)
        .bind(m.ts.as_micros())
        .bind(thread_root_id.as_ref().map(MessageId::as_str))
        .execute(&mut *tx)
        .await
        .ctx("storing a message")?;
        record_change(
            &mut tx,
            &m.channel_id,
            seq,
            "message.created",
            Some(&m.id),
            None,
            m.ts,
        )
        .await?;
        tx.commit().await.ctx("committing a message")?;
        Ok(SendOutcome {
            message: Message {
                id: m.id,
                channel_id: m.channel_id,
                seq,
                version: seq,
                author_id: m.author_id,
                body: Some(m.body),
                ts: m.ts,
                edited_at: None,
                deleted: false,
                thread_root_id,
                reply_count: 0,
                reactions: Vec::new(),
            },
            created: true,
        })
    }

    async fn messages_since(
        &self,
        channel: &ChannelId,
        cursor: i64,
        limit: u32,
    ) -> StoreResult<ChangesPage> {
        // One read transaction: the page and the channel's last_seq come from one snapshot, so
        // next_cursor never skips a change committed in between.
        let mut tx = self.reader.begin().await.ctx("starting a read")?;
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.channel_id = ? AND m.version > ? \
             ORDER BY m.version LIMIT ?"
        ))
        .bind(channel.as_str())
        .bind(cursor)
        .bind(i64::from(limit) + 1)
        .fetch_all(&mut *tx)
        .await
        .ctx("reading the changes feed")?;
        let last_seq: i64 = sqlx::query("SELECT last_seq FROM channels WHERE id = ?")
            .bind(channel.as_str())
            .fetch_optional(&mut *tx)
            .await
            .ctx("reading a channel's last_seq")?
            .map(|r| r.get(0))
            .ok_or(StoreError::NotFound("channel"))?;
        tx.commit().await.ctx("ending a read")?;
        let has_more = rows.len() > limit as usize;
        let messages = rows
            .iter()
            .take(limit as usize)
            .map(rows::message)
            .collect::<StoreResult<Vec<_>>>()?;
        let next_cursor = match (has_more, messages.last()) {
            (true, Some(last)) => last.version,
            _ => last_seq.max(cursor),
        };
        Ok(ChangesPage {
            messages,
            next_cursor,
            has_more,
        })
    }

    async fn messages_before(
        &self,
        channel: &ChannelId,
        before: i64,
        limit: u32,
    ) -> StoreResult<(Vec<Message>, bool)> {
        let rows = sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.channel_id = ? AND m.seq < ? \
             ORDER BY m.seq DESC LIMIT ?"
        ))
        .bind(channel.as_str())
        .bind(before)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.reader)
        .await
        .ctx("reading history")?;
        let has_more = rows.len() > limit as usize;
        let messages = rows
            .iter()
            .take(limit as usize)
            .map(rows::message)
            .collect::<StoreResult<_>>()?;
        Ok((messages, has_more))
    }

    async fn changes_after(
        &self,
        channel: &ChannelId,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChannelEvent>> {
        let rows = sqlx::query(&format!(
            "SELECT ch.seq AS change_seq, ch.kind, ch.user_id AS change_user, {MESSAGE_COLUMNS} \
             FROM channel_changes ch LEFT JOIN messages m ON m.id = ch.message_id \
             WHERE ch.channel_id = ? AND ch.seq > ? ORDER BY ch.seq LIMIT ?"
        ))
        .bind(channel.as_str())
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .ctx("reading channel changes")?;
        rows.iter()
            .map(|row| {
                let seq: i64 = row.try_get("change_seq").ctx("reading a change")?;
                let kind: &str = row.try_get("kind").ctx("reading a change")?;
                let user: Option<String> = row.try_get("change_user").ctx("reading a change")?;
                let user = || {
                    user.clone()
                        .map(UserId::from_trusted)
                        .ok_or(StoreError::Internal {
                            context: "reading a membership change",
                            source: sqlx::Error::Decode("membership change without a user".into()),
                        })
                };
                let change = match kind {
                    "message.created" => Change::MessageCreated(rows::message(row)?),
                    "member.joined" => Change::MemberJoined { user_id: user()? },
                    "member.left" => Change::MemberLeft { user_id: user()? },
                    other => {
                        return Err(StoreError::Internal {
                            context: "reading a change",
                            source: sqlx::Error::Decode(
                                format!("unknown change kind {other:?}").into(),
                            ),
                        });
                    }
                };
                Ok(ChannelEvent {
                    channel_id: channel.clone(),
                    seq,
                    change,
                })
            })
            .collect()
    }

    async fn message(&self, id: &MessageId) -> StoreResult<Option<Message>> {
        sqlx::query(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await
        .ctx("reading a message")?
        .map(|row| rows::message(&row))
        .transpose()
    }
}
