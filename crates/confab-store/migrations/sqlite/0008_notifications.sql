-- Notifications for people who are away (issue 17).
--
-- A send, an edit that changes who is mentioned, and a delete write the outbox in their own
-- transaction, by trigger, so every write path is covered and nothing is lost if the process
-- dies after the commit: a message that may notify anyone leaves a `notify_jobs` row; a
-- worker later turns it into `notify_items` (one per recipient and sink) and `notify_queue`
-- heads (one per user and sink, claimed by one worker at a time), and delivers them as one
-- digest per user and sink.

-- Preferences: the user's own (absent: defaults), per channel (absent: defaults), and each
-- workspace's default level (absent: 'mentions').
CREATE TABLE notify_prefs (
    user_id                TEXT PRIMARY KEY REFERENCES users(id),
    level                  TEXT NOT NULL DEFAULT 'default',
    push                   INTEGER NOT NULL DEFAULT 1,
    email                  INTEGER NOT NULL DEFAULT 1,
    email_interval_minutes INTEGER NOT NULL DEFAULT 15,
    time_zone              TEXT NOT NULL DEFAULT 'UTC',
    -- Minutes after midnight in time_zone; both NULL: no schedule.
    dnd_start              INTEGER,
    dnd_end                INTEGER,
    snooze_until           INTEGER
) STRICT;
CREATE INDEX notify_prefs_all ON notify_prefs(user_id) WHERE level = 'all';

CREATE TABLE channel_notify_prefs (
    channel_id              TEXT NOT NULL REFERENCES channels(id),
    user_id                 TEXT NOT NULL REFERENCES users(id),
    level                   TEXT NOT NULL DEFAULT 'default',
    muted                   INTEGER NOT NULL DEFAULT 0,
    ignore_channel_mentions INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, channel_id)
) STRICT;

CREATE TABLE workspace_notify_defaults (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces(id),
    level        TEXT NOT NULL
) STRICT;

-- Whether some member may want every message here (a channel level 'all', or a member whose
-- own level is 'all'): only then does a plain message leave a job. It may say yes wrongly
-- (the worker checks), never no wrongly: it is set when such a preference is saved or such a
-- member joins.
ALTER TABLE channels ADD COLUMN notify_all INTEGER NOT NULL DEFAULT 0;

-- Threads followed or unfollowed by choice; without a row, one follows a thread one started
-- or replied in.
CREATE TABLE thread_follows (
    root_id   TEXT NOT NULL REFERENCES messages(id),
    user_id   TEXT NOT NULL REFERENCES users(id),
    following INTEGER NOT NULL,
    PRIMARY KEY (root_id, user_id)
) STRICT;

-- Browsers' Web Push subscriptions, one per endpoint, each tied to the session (device)
-- that registered it.
CREATE TABLE push_subscriptions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    session_id TEXT NOT NULL,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX push_subscriptions_by_user ON push_subscriptions(user_id);

-- A message that may notify someone, to be expanded into items. kind 'created' or
-- 'edited'; an edit keeps who was mentioned before it, so only those it adds are told.
CREATE TABLE notify_jobs (
    id              INTEGER PRIMARY KEY,
    message_id      TEXT NOT NULL,
    kind            TEXT NOT NULL,
    -- Who the message names now (and before an edit): the messages row's mention_ids and
    -- mentions_channel, copied because the row never gives back who @here reached.
    mention_ids     TEXT NOT NULL DEFAULT '',
    flags           INTEGER NOT NULL DEFAULT 0,
    old_mention_ids TEXT NOT NULL DEFAULT '',
    old_flags       INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    claim           INTEGER NOT NULL DEFAULT 0,
    claimed_until   INTEGER NOT NULL DEFAULT 0
) STRICT;

-- One notification for one user through one sink ('push', 'email', 'webhook'), due at
-- due_at. reason 'clear' (push only, no message) withdraws what was pushed for the channel.
-- Deletes and reads find a message's jobs by it.
CREATE INDEX notify_jobs_by_message ON notify_jobs(message_id);

CREATE TABLE notify_items (
    id         INTEGER PRIMARY KEY,
    user_id    TEXT NOT NULL,
    sink       TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    message_id TEXT,
    seq        INTEGER NOT NULL,
    reason     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    due_at     INTEGER NOT NULL
) STRICT;
CREATE INDEX notify_items_due ON notify_items(user_id, sink, due_at);
CREATE INDEX notify_items_by_channel ON notify_items(user_id, channel_id);
CREATE INDEX notify_items_by_message ON notify_items(message_id);

-- One head per user and sink: when its next item is due, who holds it (claim, until), how
-- many attempts in a row failed, and when a digest last went (email batching).
CREATE TABLE notify_queue (
    user_id       TEXT NOT NULL,
    sink          TEXT NOT NULL,
    due_at        INTEGER,
    claim         INTEGER NOT NULL DEFAULT 0,
    claimed_until INTEGER NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_sent_at  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, sink)
) STRICT;
CREATE INDEX notify_queue_due ON notify_queue(due_at) WHERE due_at IS NOT NULL;

-- What was pushed to a user for a channel and not yet withdrawn (the highest seq).
CREATE TABLE notify_pushed (
    user_id    TEXT NOT NULL,
    channel_id TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (user_id, channel_id)
) STRICT;

CREATE TRIGGER notify_on_send AFTER INSERT ON messages
WHEN NEW.thread_root_id IS NOT NULL OR NEW.mention_ids <> '' OR NEW.mentions_channel <> 0
  OR EXISTS (SELECT 1 FROM channels c WHERE c.id = NEW.channel_id
               AND (c.kind = 'dm' OR c.notify_all = 1
                    OR EXISTS (SELECT 1 FROM workspace_notify_defaults d
                               WHERE d.workspace_id = c.workspace_id AND d.level = 'all')))
BEGIN
    INSERT INTO notify_jobs (message_id, kind, mention_ids, flags, created_at)
    VALUES (NEW.id, 'created', NEW.mention_ids, NEW.mentions_channel, NEW.created_at);
END;

CREATE TRIGGER notify_on_edit AFTER UPDATE OF mention_ids, mentions_channel ON messages
WHEN NEW.deleted = 0 AND (NEW.mention_ids <> OLD.mention_ids OR NEW.mentions_channel <> OLD.mentions_channel)
BEGIN
    INSERT INTO notify_jobs (message_id, kind, mention_ids, flags, old_mention_ids, old_flags, created_at)
    VALUES (NEW.id, 'edited', NEW.mention_ids, NEW.mentions_channel, OLD.mention_ids,
            OLD.mentions_channel, COALESCE(NEW.edited_at, NEW.created_at));
END;

-- A deleted message tells nobody any more: its pending items and jobs go with it.
CREATE TRIGGER notify_on_delete AFTER UPDATE OF deleted ON messages
WHEN NEW.deleted = 1 AND OLD.deleted = 0
BEGIN
    DELETE FROM notify_items WHERE message_id = NEW.id;
    DELETE FROM notify_jobs WHERE message_id = NEW.id;
END;
