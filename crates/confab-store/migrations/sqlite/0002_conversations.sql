-- Conversations: threads, edits, deletes, reactions, mentions, read state.

-- When the latest reply in a thread was posted (roots only).
ALTER TABLE messages ADD COLUMN last_reply_at INTEGER;
-- Who the message mentions, resolved at send time: mentioned user IDs (including those
-- online when @here was used), space-separated, and whether @channel/@everyone was used.
ALTER TABLE messages ADD COLUMN mention_ids TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN mentions_channel INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_by_thread ON messages(thread_root_id) WHERE thread_root_id IS NOT NULL;

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages(id),
    emoji      TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) STRICT;

-- The emoji of a reaction change.
ALTER TABLE channel_changes ADD COLUMN detail TEXT;
