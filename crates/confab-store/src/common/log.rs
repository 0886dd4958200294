//! The channel log, from one text for both backends (this file compiles once in each backend
//! module; `super` is that backend): taking a channel's next sequence number, and recording a
//! change under it. Every change of a channel other than a message write (membership, the
//! channel itself) goes through here; message writes take their numbers in each backend's
//! `messages.rs` (ARCHITECTURE.md, "Sequence numbers").

use confab_core::{Change, Channel, ChannelEvent, ChannelId, MessageId, Timestamp, UserId};

use super::{Conn, rows};
use crate::error::DbContext;
use crate::{StoreError, StoreResult};

/// Takes the channel's next sequence number. Runs inside the transaction that stores the
/// change, so the number and the change commit together or not at all; on PostgreSQL the row
/// lock it takes is held to commit, so writers of one channel queue behind each other.
pub(super) async fn next_seq(conn: &mut Conn, channel: &ChannelId) -> StoreResult<i64> {
    sqlx::query_scalar(
        "UPDATE channels SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
    )
    .bind(channel.as_str())
    .fetch_optional(&mut *conn)
    .await
    .ctx("taking the next sequence number")?
    .ok_or(StoreError::NotFound(crate::Missing::Channel))
}

/// What a change-log row names besides its channel and sequence number.
pub(super) struct Logged<'a> {
    kind: &'a str,
    message: Option<&'a MessageId>,
    user: Option<&'a UserId>,
    /// A reaction's emoji.
    detail: Option<&'a str>,
}

impl<'a> Logged<'a> {
    pub(super) fn message(kind: &'a str, message: &'a MessageId) -> Self {
        Self {
            kind,
            message: Some(message),
            user: None,
            detail: None,
        }
    }

    pub(super) fn member(kind: &'a str, user: &'a UserId) -> Self {
        Self {
            kind,
            message: None,
            user: Some(user),
            detail: None,
        }
    }

    pub(super) fn reaction(
        kind: &'a str,
        message: &'a MessageId,
        user: &'a UserId,
        emoji: &'a str,
    ) -> Self {
        Self {
            kind,
            message: Some(message),
            user: Some(user),
            detail: Some(emoji),
        }
    }

    pub(super) fn channel(kind: &'a str) -> Self {
        Self {
            kind,
            message: None,
            user: None,
            detail: None,
        }
    }
}

/// Records a change of the channel under `seq` (taken in the same transaction).
pub(super) async fn record_change(
    conn: &mut Conn,
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
pub(super) async fn join_channel(
    conn: &mut Conn,
    channel: &ChannelId,
    user: &UserId,
    now: Timestamp,
) -> StoreResult<Option<ChannelEvent>> {
    // On PostgreSQL a concurrent join of the same user waits here for the other to commit,
    // then adds nothing.
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
    // A member who wants every message makes the channel's plain messages leave jobs for the
    // notification worker (migration notify_all).
    sqlx::query(
        "UPDATE channels SET notify_all = TRUE WHERE id = $1 AND EXISTS \
         (SELECT 1 FROM notify_prefs WHERE user_id = $2 AND level = 'all')",
    )
    .bind(channel.as_str())
    .bind(user.as_str())
    .execute(&mut *conn)
    .await
    .ctx("noting who wants every message")?;
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

/// A channel as the transaction sees it.
pub(super) async fn channel_in(conn: &mut Conn, id: &ChannelId) -> StoreResult<Channel> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM channels c WHERE c.id = $1",
        rows::CHANNEL_COLUMNS
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .ctx("reading a channel")?
    .ok_or(StoreError::NotFound(crate::Missing::Channel))?;
    rows::channel(&row)
}
