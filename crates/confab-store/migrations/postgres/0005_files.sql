-- Uploaded files. A row is made when an upload is asked for (`pending`), becomes `uploading`
-- while its one PUT runs, `complete` once every declared byte arrived, `deleted` with its
-- message, and `swept` while the sweep removes its blob (the row goes after the blob does).
-- The bytes live in the blob store under the file's ID, never under its name.
CREATE TABLE files (
    id            TEXT COLLATE "C" PRIMARY KEY,
    workspace_id  TEXT COLLATE "C" NOT NULL REFERENCES workspaces(id),
    uploader_id   TEXT COLLATE "C" NOT NULL REFERENCES users(id),
    filename      TEXT NOT NULL,
    size          BIGINT NOT NULL,
    -- What the client said it is: kept, never served (the bytes are sniffed).
    declared_type TEXT NOT NULL,
    content_type  TEXT,
    state         TEXT NOT NULL DEFAULT 'pending',
    width         BIGINT,
    height        BIGINT,
    thumb_width   BIGINT,
    thumb_height  BIGINT,
    -- The message the file was attached to (at most one), its channel and sequence number,
    -- and its place among the message's files.
    message_id    TEXT COLLATE "C" REFERENCES messages(id),
    channel_id    TEXT COLLATE "C" REFERENCES channels(id),
    message_seq   BIGINT,
    position      BIGINT,
    -- Until when a direct upload's presigned URL (S3) can still write its upload object; the
    -- sweep removes that object once it has passed, whatever a late PUT left there.
    upload_open_until BIGINT,
    created_at    BIGINT NOT NULL,
    deleted_at    BIGINT
);
CREATE INDEX files_by_message ON files(message_id, position) WHERE message_id IS NOT NULL;
CREATE INDEX files_by_channel ON files(channel_id, message_seq, position) WHERE state = 'complete';
CREATE INDEX files_by_uploader ON files(uploader_id, state);
-- The sweep's two questions: uploads never attached, and files whose message was deleted.
CREATE INDEX files_unattached ON files(created_at) WHERE message_id IS NULL;
CREATE INDEX files_deleted ON files(deleted_at) WHERE deleted_at IS NOT NULL;
-- Claims a sweep left unfinished (each of the sweep's three questions has its index).
CREATE INDEX files_swept ON files(id) WHERE state = 'swept';
CREATE INDEX files_upload_open ON files(upload_open_until) WHERE upload_open_until IS NOT NULL;
-- How many files a message carries, set when it is stored: reads look for a message's files
-- only when it has some, so a message without files costs them nothing.
ALTER TABLE messages ADD COLUMN file_count INTEGER NOT NULL DEFAULT 0;
