-- confab's schema for PostgreSQL: the same tables as the SQLite schema (migrations/sqlite), in
-- one step. Times are microseconds since the Unix epoch and IDs are UUID text, exactly as the
-- SQLite backend stores them, so both backends return identical values. IDs and names are
-- COLLATE "C": comparisons are bytewise (cheaper in indexes) and ORDER BY name sorts as
-- SQLite does, whatever locale the database was created with.

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    username      TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    email         TEXT,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);

-- Bearer tokens, stored as SHA-256 so a leaked database holds no usable token.
CREATE TABLE sessions (
    token_hash BYTEA PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE ws_tickets (
    ticket_hash BYTEA PRIMARY KEY,
    user_id     TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    expires_at  BIGINT NOT NULL
);
-- Every new ticket sweeps expired ones.
CREATE INDEX ws_tickets_by_expiry ON ws_tickets(expires_at);

CREATE TABLE workspaces (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    name               TEXT COLLATE "C" NOT NULL,
    general_channel_id TEXT COLLATE "C" NOT NULL,
    created_at         BIGINT NOT NULL
);

CREATE TABLE workspace_members (
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    joined_at    BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX workspace_members_by_user ON workspace_members(user_id);

CREATE TABLE invites (
    code_hash    BYTEA PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
    created_by   TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    max_uses     BIGINT NOT NULL,
    uses         BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE channels (
    id           TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
    kind         TEXT NOT NULL CHECK (kind IN ('public', 'private', 'dm')),
    name         TEXT COLLATE "C",
    topic        TEXT NOT NULL DEFAULT '',
    -- A DM's sorted member IDs joined by ',': the same set always finds the same DM.
    dm_key       TEXT COLLATE "C",
    created_by   TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    -- The channel's latest sequence number; every change takes last_seq + 1 with an UPDATE of
    -- this row, whose lock, held to commit, is what orders a channel's writers across processes.
    last_seq     BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX channels_name ON channels(workspace_id, name) WHERE kind <> 'dm';
CREATE UNIQUE INDEX channels_dm ON channels(workspace_id, dm_key) WHERE kind = 'dm';

CREATE TABLE channel_members (
    channel_id    TEXT COLLATE "C" NOT NULL REFERENCES channels(id),
    user_id       TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    joined_at     BIGINT NOT NULL,
    last_read_seq BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, user_id)
);
CREATE INDEX channel_members_by_user ON channel_members(user_id);

CREATE TABLE messages (
    id               TEXT COLLATE "C" PRIMARY KEY,
    channel_id       TEXT COLLATE "C" NOT NULL REFERENCES channels(id),
    seq              BIGINT NOT NULL,
    version          BIGINT NOT NULL,
    author_id        TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    client_msg_id    TEXT COLLATE "C" NOT NULL,
    body             TEXT,
    created_at       BIGINT NOT NULL,
    edited_at        BIGINT,
    deleted          BOOLEAN NOT NULL DEFAULT false,
    thread_root_id   TEXT COLLATE "C",
    reply_count      BIGINT NOT NULL DEFAULT 0,
    -- When the latest live reply in the thread was posted (roots only).
    last_reply_at    BIGINT,
    -- Who the message mentions, resolved at send time (including those online when @here was
    -- used), and bit flags: 1 = @channel/@everyone, 2 = @here.
    mention_ids      TEXT[] COLLATE "C" NOT NULL DEFAULT '{}',
    mentions_channel BIGINT NOT NULL DEFAULT 0,
    UNIQUE (channel_id, seq),
    -- Idempotent sends: a retried client_msg_id finds the original.
    UNIQUE (author_id, client_msg_id)
);
CREATE INDEX messages_by_version ON messages(channel_id, version);
CREATE INDEX messages_by_thread ON messages(thread_root_id) WHERE thread_root_id IS NOT NULL;

CREATE TABLE reactions (
    message_id TEXT COLLATE "C" NOT NULL REFERENCES messages(id),
    emoji      TEXT NOT NULL,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    -- Insertion order, to break created_at ties as SQLite's rowid does.
    ord        BIGINT GENERATED ALWAYS AS IDENTITY,
    PRIMARY KEY (message_id, emoji, user_id)
);

-- The channel's change log: one row per sequence number, in the transaction that took it.
CREATE TABLE channel_changes (
    channel_id TEXT COLLATE "C" NOT NULL REFERENCES channels(id),
    seq        BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    message_id TEXT COLLATE "C",
    user_id    TEXT COLLATE "C",
    -- A reaction's emoji.
    detail     TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (channel_id, seq)
);
