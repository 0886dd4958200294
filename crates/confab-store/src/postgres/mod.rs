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

mod messages;
mod rows;
mod sends;
mod statements;

#[cfg(feature = "testsuite")]
pub use statements::hot_statements;

use std::time::Duration;

use async_trait::async_trait;
use confab_core::{
    Change, Channel, ChannelEvent, ChannelId, ChannelKind, Mentions, Message, MessageId, Role,
    Timestamp, User, UserId, Workspace, WorkspaceId,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres, Row, Transaction};

crate::roster::roster_methods!(PgStore, pool, pool);
crate::sessions::session_methods!(PgStore, pool, pool);

use crate::error::{DbContext, is_unique_violation};
use crate::{
    ChangesPage, ChannelView, Committed, JoinedWorkspace, NewChannel, NewInvite, NewMessage,
    NewUser, NewWorkspace, SendOutcome, Store, StoreError, StoreResult,
};
use rows::{CHANNEL_COLUMNS, USER_COLUMNS, WORKSPACE_COLUMNS};

/// How long a request waits for a connection. Short, so that while the database is down
/// requests fail fast as `Unavailable` (a retryable 503) instead of piling up.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

pub struct PgStore {
    pool: PgPool,
    send_turns: messages::SendTurns,
    /// Top-level sends waiting for the batching workers (see `sends`).
    sends: tokio::sync::mpsc::Sender<crate::send_queue::PendingSend>,
}

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
        let (sends, pending) = tokio::sync::mpsc::channel(crate::send_queue::SEND_QUEUE);
        sends::spawn_workers(&pool, pending);
        Ok(Self {
            pool,
            send_turns: messages::SendTurns::new(),
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

/// Takes the channel's next sequence number and, with it, the channel's row lock until the
/// transaction ends.
async fn next_seq(conn: &mut PgConnection, channel: &ChannelId) -> StoreResult<i64> {
    sqlx::query_scalar(
        "UPDATE channels SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
    )
    .bind(channel.as_str())
    .fetch_optional(&mut *conn)
    .await
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
    conn: &mut PgConnection,
    channel: &ChannelId,
    seq: i64,
    logged: Logged<'_>,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO channel_changes (channel_id, seq, kind, message_id, user_id, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
    conn: &mut PgConnection,
    channel: &ChannelId,
    user: &UserId,
    now: Timestamp,
) -> StoreResult<Option<ChannelEvent>> {
    // A concurrent join of the same user waits here for the other to commit, then adds nothing.
    let inserted = sqlx::query(
        "INSERT INTO channel_members (channel_id, user_id, joined_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(channel.as_str())
    .bind(user.as_str())
    .bind(now.as_micros())
    .execute(&mut *conn)
    .await
    .ctx("adding a channel member")?
    .rows_affected();
    if inserted == 0 {
        return Ok(None);
    }
    let seq = next_seq(conn, channel).await?;
    record_change(
        conn,
        channel,
        seq,
        Logged::member("member.joined", user),
        now,
    )
    .await?;
    Ok(Some(ChannelEvent {
        channel_id: channel.clone(),
        seq,
        change: Change::MemberJoined {
            user_id: user.clone(),
        },
    }))
}

async fn channel_in(conn: &mut PgConnection, id: &ChannelId) -> StoreResult<Channel> {
    let row = sqlx::query(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .ctx("reading a channel")?
    .ok_or(StoreError::NotFound("channel"))?;
    rows::channel(&row)
}

async fn workspace_in(conn: &mut PgConnection, id: &WorkspaceId) -> StoreResult<Workspace> {
    let row = sqlx::query(&format!(
        "SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .ctx("reading a workspace")?
    .ok_or(StoreError::NotFound("workspace"))?;
    rows::workspace(&row)
}

async fn insert_channel(conn: &mut PgConnection, c: &NewChannel) -> StoreResult<()> {
    let dm_key = (c.kind == ChannelKind::Dm).then(|| {
        let mut members = c.other_members.clone();
        members.push(c.created_by.clone());
        rows::dm_key(&members)
    });
    let result = sqlx::query(
        "INSERT INTO channels (id, workspace_id, kind, name, topic, dm_key, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(c.id.as_str())
    .bind(c.workspace_id.as_str())
    .bind(c.kind.as_str())
    .bind(c.name.as_deref())
    .bind(&c.topic)
    .bind(dm_key)
    .bind(c.created_by.as_str())
    .bind(c.created_at.as_micros())
    .execute(&mut *conn)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(StoreError::ChannelNameTaken),
        Err(e) => Err(StoreError::db("creating a channel", e)),
    }
}

/// Adds a workspace member and, unless a guest, puts them in `#general`.
async fn add_workspace_member_tx(
    conn: &mut PgConnection,
    ws: &WorkspaceId,
    user: &UserId,
    role: Role,
    now: Timestamp,
) -> StoreResult<Committed<JoinedWorkspace>> {
    let workspace = workspace_in(conn, ws).await?;
    let result = sqlx::query(
        "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(ws.as_str())
    .bind(user.as_str())
    .bind(role.as_str())
    .bind(now.as_micros())
    .execute(&mut *conn)
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
        events.extend(join_channel(conn, &workspace.general_channel_id, user, now).await?);
        general = Some(channel_in(conn, &workspace.general_channel_id).await?);
    }
    Ok(Committed {
        value: JoinedWorkspace { workspace, general },
        events,
    })
}

#[async_trait]
impl Store for PgStore {
    async fn create_user(&self, u: NewUser) -> StoreResult<User> {
        let result = sqlx::query(
            "INSERT INTO users (id, username, display_name, email, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(u.id.as_str())
        .bind(&u.username)
        .bind(&u.display_name)
        .bind(u.email.as_deref())
        .bind(&u.password_hash)
        .bind(u.created_at.as_micros())
        .execute(&self.pool)
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
        sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .ctx("reading a user")?
            .map(|row| rows::user(&row))
            .transpose()
    }

    async fn user_credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS}, password_hash FROM users WHERE username = $1 AND deactivated_at IS NULL"
        ))
        .bind(username)
        .fetch_optional(&self.pool)
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
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO workspaces (id, name, general_channel_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(ws.id.as_str())
        .bind(&ws.name)
        .bind(ws.general_channel_id.as_str())
        .bind(ws.created_at.as_micros())
        .execute(&mut *tx)
        .await
        .ctx("creating a workspace")?;
        sqlx::query(
            "INSERT INTO workspace_members (workspace_id, user_id, role, joined_at) VALUES ($1, $2, 'owner', $3)",
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
            "SELECT {WORKSPACE_COLUMNS} FROM workspaces w WHERE w.id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a workspace")?
        .map(|row| rows::workspace(&row))
        .transpose()
    }

    async fn workspace_role(&self, ws: &WorkspaceId, user: &UserId) -> StoreResult<Option<Role>> {
        let role: Option<String> = sqlx::query_scalar(
            "SELECT role FROM workspace_members WHERE workspace_id = $1 AND user_id = $2",
        )
        .bind(ws.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a workspace role")?;
        role.as_deref().map(rows::role).transpose()
    }

    async fn user_workspaces(&self, user: &UserId) -> StoreResult<Vec<(Workspace, Role)>> {
        let rows = sqlx::query(&format!(
            "SELECT {WORKSPACE_COLUMNS}, wm.role FROM workspaces w \
             JOIN workspace_members wm ON wm.workspace_id = w.id \
             WHERE wm.user_id = $1 ORDER BY w.name, w.id"
        ))
        .bind(user.as_str())
        .fetch_all(&self.pool)
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
        let mut tx = self.begin().await?;
        let committed = add_workspace_member_tx(&mut tx, ws, user, role, now).await?;
        tx.commit().await.ctx("committing a workspace member")?;
        Ok(committed)
    }

    async fn create_invite(&self, i: NewInvite) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO invites (code_hash, workspace_id, created_by, created_at, expires_at, max_uses) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&i.code_hash)
        .bind(i.workspace_id.as_str())
        .bind(i.created_by.as_str())
        .bind(i.created_at.as_micros())
        .bind(i.expires_at.as_micros())
        .bind(i.max_uses)
        .execute(&self.pool)
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
        let mut tx = self.begin().await?;
        // FOR UPDATE: concurrent acceptances of the same invite queue here, so the last use
        // is given out once.
        let (ws, expires_at, max_uses, uses): (String, i64, i64, i64) = sqlx::query_as(
            "SELECT workspace_id, expires_at, max_uses, uses FROM invites WHERE code_hash = $1 FOR UPDATE",
        )
        .bind(code_hash)
        .fetch_optional(&mut *tx)
        .await
        .ctx("reading an invite")?
        .ok_or(StoreError::NotFound("invite"))?;
        if expires_at < now.as_micros() || uses >= max_uses {
            return Err(StoreError::InviteExpired);
        }
        let ws = WorkspaceId::from_trusted(ws);
        let committed = add_workspace_member_tx(&mut tx, &ws, user, Role::Member, now).await?;
        sqlx::query("UPDATE invites SET uses = uses + 1 WHERE code_hash = $1")
            .bind(code_hash)
            .execute(&mut *tx)
            .await
            .ctx("using an invite")?;
        tx.commit().await.ctx("committing an invite")?;
        Ok(committed)
    }

    async fn create_channel(&self, c: NewChannel) -> StoreResult<Committed<Channel>> {
        let mut tx = self.begin().await?;
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
            "SELECT {CHANNEL_COLUMNS} FROM channels c \
             WHERE c.workspace_id = $1 AND c.kind = 'dm' AND c.dm_key = $2"
        ))
        .bind(ws.as_str())
        .bind(rows::dm_key(members))
        .fetch_optional(&self.pool)
        .await
        .ctx("finding a dm")?
        .map(|row| rows::channel(&row))
        .transpose()
    }

    async fn channel(&self, id: &ChannelId) -> StoreResult<Option<Channel>> {
        sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS} FROM channels c WHERE c.id = $1"
        ))
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a channel")?
        .map(|row| rows::channel(&row))
        .transpose()
    }

    async fn is_channel_member(&self, channel: &ChannelId, user: &UserId) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM channel_members WHERE channel_id = $1 AND user_id = $2)",
        )
        .bind(channel.as_str())
        .bind(user.as_str())
        .fetch_one(&self.pool)
        .await
        .ctx("checking channel membership")
    }

    async fn channel_access(
        &self,
        channel: &ChannelId,
        user: &UserId,
    ) -> StoreResult<Option<(Channel, Option<Role>, bool)>> {
        let row = sqlx::query(&format!(
            "SELECT {CHANNEL_COLUMNS}, wm.role AS member_role, cm.user_id IS NOT NULL AS is_member \
             FROM channels c \
             LEFT JOIN workspace_members wm ON wm.workspace_id = c.workspace_id AND wm.user_id = $1 \
             LEFT JOIN channel_members cm ON cm.channel_id = c.id AND cm.user_id = $1 \
             WHERE c.id = $2"
        ))
        .bind(user.as_str())
        .bind(channel.as_str())
        .fetch_optional(&self.pool)
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
        let rows = sqlx::query(&statements::CHANNEL_LIST)
            .bind(user.as_str())
            .bind(ws.as_str())
            .bind(include_public)
            .fetch_all(&self.pool)
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
        let ids: Vec<String> = sqlx::query_scalar(statements::USER_CHANNELS)
            .bind(user.as_str())
            .fetch_all(&self.pool)
            .await
            .ctx("listing a user's channels")?;
        Ok(ids.into_iter().map(ChannelId::from_trusted).collect())
    }

    async fn add_channel_member(
        &self,
        channel: &ChannelId,
        user: &UserId,
        now: Timestamp,
    ) -> StoreResult<Option<ChannelEvent>> {
        let mut tx = self.begin().await?;
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
        let mut tx = self.begin().await?;
        // Deleting the row waits for any send holding it (see `messages::SEND` and migration
        // 0002's `confab_send_batch`), so every message the member sent takes a number before
        // their `member.left`.
        let removed =
            sqlx::query("DELETE FROM channel_members WHERE channel_id = $1 AND user_id = $2")
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
        // Top-level sends are batched; a reply also changes and returns its thread root, which
        // the one-statement path does.
        match m.thread_root_id {
            None => self.send_batched(m).await,
            Some(_) => self.send_message_tx(m).await,
        }
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

    async fn mark_read(&self, channel: &ChannelId, user: &UserId, seq: i64) -> StoreResult<i64> {
        // Forward only, and never past the channel's end.
        sqlx::query_scalar(
            "UPDATE channel_members SET last_read_seq = GREATEST(last_read_seq, \
               LEAST($1, (SELECT last_seq FROM channels WHERE id = $2))) \
             WHERE channel_id = $2 AND user_id = $3 RETURNING last_read_seq",
        )
        .bind(seq)
        .bind(channel.as_str())
        .bind(user.as_str())
        .fetch_optional(&self.pool)
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
        let mut tx = self.begin().await?;
        // The rename and the sequence number in one statement, under one row lock.
        let result = sqlx::query_scalar(
            "UPDATE channels SET name = COALESCE($1, name), topic = COALESCE($2, topic), \
             last_seq = last_seq + 1 WHERE id = $3 RETURNING last_seq",
        )
        .bind(name)
        .bind(topic)
        .bind(channel.as_str())
        .fetch_optional(&mut *tx)
        .await;
        let seq: i64 = match result {
            Ok(Some(seq)) => seq,
            Ok(None) => return Err(StoreError::NotFound("channel")),
            Err(e) if is_unique_violation(&e) => return Err(StoreError::ChannelNameTaken),
            Err(e) => return Err(StoreError::db("updating a channel", e)),
        };
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
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT u.id, u.username FROM users u JOIN workspace_members wm ON wm.user_id = u.id \
             WHERE wm.workspace_id = $1 AND u.username = ANY ($2)",
        )
        .bind(ws.as_str())
        .bind(usernames)
        .fetch_all(&self.pool)
        .await
        .ctx("resolving mentions")?;
        let mut found: Vec<(usize, UserId)> = rows
            .into_iter()
            .filter_map(|(id, name)| {
                let pos = usernames.iter().position(|n| *n == name)?;
                Some((pos, UserId::from_trusted(id)))
            })
            .collect();
        // In the order the names were mentioned.
        found.sort_by_key(|(pos, _)| *pos);
        Ok(found.into_iter().map(|(_, id)| id).collect())
    }

    async fn channel_member_ids(&self, channel: &ChannelId) -> StoreResult<Vec<UserId>> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT user_id FROM channel_members WHERE channel_id = $1")
                .bind(channel.as_str())
                .fetch_all(&self.pool)
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
        let others: Vec<&str> = others.iter().map(UserId::as_str).collect();
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT theirs.user_id FROM workspace_members mine \
             JOIN workspace_members theirs ON theirs.workspace_id = mine.workspace_id \
             WHERE mine.user_id = $1 AND theirs.user_id = ANY ($2)",
        )
        .bind(user.as_str())
        .bind(&others)
        .fetch_all(&self.pool)
        .await
        .ctx("checking shared workspaces")?;
        Ok(ids.into_iter().map(UserId::from_trusted).collect())
    }
}
