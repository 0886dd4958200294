-- Sessions as devices: an ID to name one by (list, revoke), when it was last used (idle
-- expiry), what client opened it and from where. Tickets belong to the session that made
-- them, so revoking a session voids its tickets.
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN client_name TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN created_from TEXT NOT NULL DEFAULT '';
-- Sessions from before this migration: a random UUID-shaped ID each, seen now (they were
-- never timed; counting from their creation would sign out everyone who signed in a month ago).
UPDATE sessions SET
    id = lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-7' ||
               substr(hex(randomblob(2)), 2) || '-8' || substr(hex(randomblob(2)), 2) || '-' ||
               hex(randomblob(6))),
    last_seen_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000000;
CREATE UNIQUE INDEX sessions_by_id ON sessions(id);
CREATE INDEX sessions_by_user ON sessions(user_id);
ALTER TABLE ws_tickets ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
-- One-time password resets an operator issues (`confab admin reset-password`), stored hashed.
CREATE TABLE password_resets (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    expires_at INTEGER NOT NULL
) STRICT;
-- Server administrators (the first account registered, and whoever `confab admin grant-admin`
-- names), and accounts deactivated server-wide (they cannot sign in; their messages stay).
ALTER TABLE users ADD COLUMN server_admin INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
-- Devices a user signed in from: a device that did may sign in again while the account's
-- sign-ins are slowed down by someone guessing its password elsewhere.
CREATE TABLE device_tokens (
    token_hash BLOB PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX device_tokens_by_user ON device_tokens(user_id);
CREATE INDEX sessions_by_user_seen ON sessions(user_id, last_seen_at);
