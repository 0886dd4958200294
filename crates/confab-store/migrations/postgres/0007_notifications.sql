-- Notifications for people who are away (issue 17): the same tables as SQLite's migration
-- 0008 (which explains them), in PostgreSQL's types. Sends are batched by
-- `confab_send_batch`, so the send trigger is per statement, over its transition table: one
-- INSERT … SELECT per batch rather than a function call per message.

CREATE TABLE notify_prefs (
    user_id                TEXT COLLATE "C" PRIMARY KEY REFERENCES users(id),
    level                  TEXT NOT NULL DEFAULT 'default',
    push                   BOOLEAN NOT NULL DEFAULT true,
    email                  BOOLEAN NOT NULL DEFAULT true,
    email_interval_minutes BIGINT NOT NULL DEFAULT 15,
    time_zone              TEXT NOT NULL DEFAULT 'UTC',
    dnd_start              BIGINT,
    dnd_end                BIGINT,
    snooze_until           BIGINT
);
CREATE INDEX notify_prefs_all ON notify_prefs(user_id) WHERE level = 'all';

CREATE TABLE channel_notify_prefs (
    channel_id              TEXT COLLATE "C" NOT NULL REFERENCES channels(id),
    user_id                 TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    level                   TEXT NOT NULL DEFAULT 'default',
    muted                   BOOLEAN NOT NULL DEFAULT false,
    ignore_channel_mentions BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (user_id, channel_id)
);

CREATE TABLE workspace_notify_defaults (
    workspace_id TEXT COLLATE "C" PRIMARY KEY REFERENCES workspaces(id),
    level        TEXT NOT NULL
);

ALTER TABLE channels ADD COLUMN notify_all BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE thread_follows (
    root_id   TEXT COLLATE "C" NOT NULL REFERENCES messages(id),
    user_id   TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    following BOOLEAN NOT NULL,
    PRIMARY KEY (root_id, user_id)
);

CREATE TABLE push_subscriptions (
    id         TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    session_id TEXT COLLATE "C" NOT NULL,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_by_user ON push_subscriptions(user_id);

CREATE TABLE notify_jobs (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id      TEXT COLLATE "C" NOT NULL,
    kind            TEXT NOT NULL,
    mention_ids     TEXT NOT NULL DEFAULT '',
    flags           BIGINT NOT NULL DEFAULT 0,
    old_mention_ids TEXT NOT NULL DEFAULT '',
    old_flags       BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL,
    claim           BIGINT NOT NULL DEFAULT 0,
    claimed_until   BIGINT NOT NULL DEFAULT 0
);

-- Deletes and reads find a message's jobs by it.
CREATE INDEX notify_jobs_by_message ON notify_jobs(message_id);

CREATE TABLE notify_items (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL,
    sink       TEXT NOT NULL,
    channel_id TEXT COLLATE "C" NOT NULL,
    message_id TEXT COLLATE "C",
    seq        BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    due_at     BIGINT NOT NULL
);
CREATE INDEX notify_items_due ON notify_items(user_id, sink, due_at);
CREATE INDEX notify_items_by_channel ON notify_items(user_id, channel_id);
CREATE INDEX notify_items_by_message ON notify_items(message_id);

CREATE TABLE notify_queue (
    user_id       TEXT COLLATE "C" NOT NULL,
    sink          TEXT NOT NULL,
    due_at        BIGINT,
    claim         BIGINT NOT NULL DEFAULT 0,
    claimed_until BIGINT NOT NULL DEFAULT 0,
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_sent_at  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, sink)
);
CREATE INDEX notify_queue_due ON notify_queue(due_at) WHERE due_at IS NOT NULL;

CREATE TABLE notify_pushed (
    user_id    TEXT COLLATE "C" NOT NULL,
    channel_id TEXT COLLATE "C" NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (user_id, channel_id)
);

CREATE FUNCTION confab_notify_on_send() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notify_jobs (message_id, kind, mention_ids, flags, created_at)
    SELECT n.id, 'created', array_to_string(n.mention_ids, ' '), n.mentions_channel, n.created_at
    FROM sent n JOIN channels c ON c.id = n.channel_id
    WHERE n.thread_root_id IS NOT NULL OR cardinality(n.mention_ids) > 0 OR n.mentions_channel <> 0
       OR c.kind = 'dm' OR c.notify_all
       OR EXISTS (SELECT 1 FROM workspace_notify_defaults d
                  WHERE d.workspace_id = c.workspace_id AND d.level = 'all');
    RETURN NULL;
END $$;
CREATE TRIGGER notify_on_send AFTER INSERT ON messages
    REFERENCING NEW TABLE AS sent FOR EACH STATEMENT EXECUTE FUNCTION confab_notify_on_send();

-- Edits and deletes are one row at a time: a row trigger (a transition table cannot be
-- combined with a column list).
CREATE FUNCTION confab_notify_on_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.deleted AND NOT OLD.deleted THEN
        DELETE FROM notify_items WHERE message_id = NEW.id;
        DELETE FROM notify_jobs WHERE message_id = NEW.id;
    ELSIF NOT NEW.deleted AND (NEW.mention_ids IS DISTINCT FROM OLD.mention_ids
                               OR NEW.mentions_channel <> OLD.mentions_channel) THEN
        INSERT INTO notify_jobs (message_id, kind, mention_ids, flags, old_mention_ids, old_flags,
                                 created_at)
        VALUES (NEW.id, 'edited', array_to_string(NEW.mention_ids, ' '), NEW.mentions_channel,
                array_to_string(OLD.mention_ids, ' '), OLD.mentions_channel,
                COALESCE(NEW.edited_at, NEW.created_at));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER notify_on_change AFTER UPDATE OF mention_ids, mentions_channel, deleted ON messages
    FOR EACH ROW EXECUTE FUNCTION confab_notify_on_change();
