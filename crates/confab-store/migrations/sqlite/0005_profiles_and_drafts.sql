-- What a user says they are up to ("In a meeting"), optionally until a time ('' is none).
ALTER TABLE users ADD COLUMN status_text TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN status_expires_at INTEGER;
-- Unsent composer text, per user, channel and thread ('' for the channel's own composer), so
-- it follows its author to their other devices and survives a reload.
CREATE TABLE drafts (
    user_id        TEXT NOT NULL REFERENCES users(id),
    channel_id     TEXT NOT NULL REFERENCES channels(id),
    thread_root_id TEXT NOT NULL DEFAULT '',
    body           TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id, thread_root_id)
) STRICT;
CREATE INDEX drafts_by_user_updated ON drafts(user_id, updated_at);
-- Sending clears its author's draft of that composer, in the send's own transaction, at the
-- cost of one probe of a small index (sends do not otherwise touch drafts).
CREATE TRIGGER message_clears_draft AFTER INSERT ON messages
BEGIN
    DELETE FROM drafts
     WHERE user_id = NEW.author_id AND channel_id = NEW.channel_id
       AND thread_root_id = COALESCE(NEW.thread_root_id, '');
END;
