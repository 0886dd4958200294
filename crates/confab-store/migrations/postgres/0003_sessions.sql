-- Sessions as devices: an ID to name one by (list, revoke), when it was last used (idle
-- expiry), what client opened it and from where. Tickets belong to the session that made
-- them, so revoking a session voids its tickets.
ALTER TABLE sessions ADD COLUMN id TEXT COLLATE "C";
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN client_name TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN created_from TEXT NOT NULL DEFAULT '';
-- Sessions from before: seen now (they were never timed). gen_random_uuid(): PostgreSQL 13+.
UPDATE sessions SET id = gen_random_uuid()::text,
    last_seen_at = (extract(epoch FROM clock_timestamp()) * 1000000)::bigint;
ALTER TABLE sessions ALTER COLUMN id SET NOT NULL;
CREATE UNIQUE INDEX sessions_by_id ON sessions(id);
CREATE INDEX sessions_by_user ON sessions(user_id);
ALTER TABLE ws_tickets ADD COLUMN session_id TEXT COLLATE "C" NOT NULL DEFAULT '';
-- One-time password resets an operator issues (`confab admin reset-password`), stored hashed.
CREATE TABLE password_resets (
    token_hash BYTEA PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    expires_at BIGINT NOT NULL
);
-- Server administrators (the first account registered, and whoever `confab admin grant-admin`
-- names), and accounts deactivated server-wide (they cannot sign in; their messages stay).
ALTER TABLE users ADD COLUMN server_admin BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
-- Devices a user signed in from: a device that did may sign in again while the account's
-- sign-ins are slowed down by someone guessing its password elsewhere.
CREATE TABLE device_tokens (
    token_hash BYTEA PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    expires_at BIGINT NOT NULL
);
CREATE INDEX device_tokens_by_user ON device_tokens(user_id);
CREATE INDEX sessions_by_user_seen ON sessions(user_id, last_seen_at);
