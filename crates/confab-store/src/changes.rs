//! Replaying a channel's change log as events, the same for both backends: each backend reads
//! the log rows, every message they name with its thread root (one read), and the channel as it
//! is now if the log names it; this turns them into events.

use std::collections::HashMap;

use confab_core::{Change, Channel, ChannelEvent, ChannelId, Message, UserId};

use crate::{StoreError, StoreResult};

/// A `channel_changes` row: `seq, kind, message_id, user_id, detail`.
pub(crate) type ChangeRow = (i64, String, Option<String>, Option<String>, Option<String>);

/// The log's message IDs, for the backend to read in one go.
pub(crate) fn message_ids(changes: &[ChangeRow]) -> Vec<&str> {
    changes.iter().filter_map(|c| c.2.as_deref()).collect()
}

/// Whether the log holds a `channel.updated`, for which the backend reads the channel.
pub(crate) fn names_the_channel(changes: &[ChangeRow]) -> bool {
    changes.iter().any(|c| c.1 == "channel.updated")
}

/// Message changes replay as the message is now: a client that catches up this way ends where
/// one that saw every live event does.
pub(crate) fn events(
    channel: &ChannelId,
    changes: Vec<ChangeRow>,
    messages: &HashMap<String, Message>,
    channel_now: Option<&Channel>,
) -> StoreResult<Vec<ChannelEvent>> {
    let mut events = Vec::with_capacity(changes.len());
    for (seq, kind, message_id, user, detail) in changes {
        let corrupt = |what: &str| StoreError::Internal {
            context: "reading a channel change",
            source: sqlx::Error::Decode(format!("{kind} change without {what}").into()),
        };
        let user = || -> StoreResult<UserId> {
            crate::rows::stored_id(user.clone().ok_or_else(|| corrupt("a user"))?)
        };
        let message = || -> StoreResult<Message> {
            let id = message_id.as_deref().ok_or_else(|| corrupt("a message"))?;
            messages
                .get(id)
                .cloned()
                .ok_or_else(|| corrupt("its message"))
        };
        let change = match kind.as_str() {
            "message.created" | "message.deleted" => {
                let id = message_id.as_deref().ok_or_else(|| corrupt("a message"))?;
                let message = messages
                    .get(id)
                    .cloned()
                    .ok_or(StoreError::NotFound(crate::Missing::Message))?;
                let root = message
                    .thread_root_id
                    .as_ref()
                    .and_then(|root| messages.get(root.as_str()))
                    .cloned();
                if kind == "message.created" {
                    Change::MessageCreated { message, root }
                } else {
                    Change::MessageDeleted { message, root }
                }
            }
            "message.edited" => Change::MessageEdited {
                message: message()?,
            },
            "message.updated" => Change::MessageUpdated {
                message: message()?,
            },
            "reaction.added" | "reaction.removed" => {
                let message = message()?;
                let emoji = detail.clone().ok_or_else(|| corrupt("an emoji"))?;
                Change::reaction(kind == "reaction.added", message, emoji, user()?)
            }
            "member.joined" => Change::MemberJoined { user_id: user()? },
            "member.left" => Change::MemberLeft { user_id: user()? },
            "channel.updated" => Change::ChannelUpdated {
                channel: channel_now.cloned().ok_or_else(|| corrupt("a channel"))?,
            },
            _ => return Err(corrupt("a known kind")),
        };
        events.push(ChannelEvent {
            channel_id: channel.clone(),
            seq,
            change,
        });
    }
    Ok(events)
}
