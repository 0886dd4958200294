-- confab's schema for SQLite. Times are microseconds since the Unix epoch; IDs are UUID text.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    email         TEXT,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
) STRICT;

-- Bearer tokens, stored as SHA-256 so a leaked database holds no usable token.
CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE ws_tickets (
    ticket_hash BLOB PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    expires_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE workspaces (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    general_channel_id TEXT NOT NULL,
    created_at         INTEGER NOT NULL
) STRICT;

CREATE TABLE workspace_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    user_id      TEXT NOT NULL REFERENCES users(id),
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'guest')),
    joined_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
) STRICT;
CREATE INDEX workspace_members_by_user ON workspace_members(user_id);

CREATE TABLE invites (
    code_hash    BLOB PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    max_uses     INTEGER NOT NULL,
    uses         INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE channels (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    kind         TEXT NOT NULL CHECK (kind IN ('public', 'private', 'dm')),
    name         TEXT,
    topic        TEXT NOT NULL DEFAULT '',
    -- A DM's sorted member IDs joined by ',': the same set always finds the same DM.
    dm_key       TEXT,
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    -- The channel's latest sequence number; every change takes last_seq + 1.
    last_seq     INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE UNIQUE INDEX channels_name ON channels(workspace_id, name) WHERE kind <> 'dm';
CREATE UNIQUE INDEX channels_dm ON channels(workspace_id, dm_key) WHERE kind = 'dm';

CREATE TABLE channel_members (
    channel_id    TEXT NOT NULL REFERENCES channels(id),
    user_id       TEXT NOT NULL REFERENCES users(id),
    joined_at     INTEGER NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (channel_id, user_id)
) STRICT;
CREATE INDEX channel_members_by_user ON channel_members(user_id);

CREATE TABLE messages (
    id             TEXT PRIMARY KEY,
    channel_id     TEXT NOT NULL REFERENCES channels(id),
    seq            INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    author_id      TEXT NOT NULL REFERENCES users(id),
    client_msg_id  TEXT NOT NULL,
    body           TEXT,
    created_at     INTEGER NOT NULL,
    edited_at      INTEGER,
    deleted        INTEGER NOT NULL DEFAULT 0,
    thread_root_id TEXT,
    reply_count    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (channel_id, seq),
    -- Idempotent sends: a retried client_msg_id finds the original.
    UNIQUE (author_id, client_msg_id)
) STRICT;
CREATE INDEX messages_by_version ON messages(channel_id, version);

-- The channel's change log: one row per sequence number, in the transaction that took it.
CREATE TABLE channel_changes (
    channel_id TEXT NOT NULL REFERENCES channels(id),
    seq        INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    message_id TEXT,
    user_id    TEXT,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, seq)
) STRICT, WITHOUT ROWID;
