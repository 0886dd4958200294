-- Search. Each live message has a row here with a number (`doc`, in the order messages were
-- stored, so newest-first is by number), the text confab-core's `search::index_text`
-- prepares (folded, CJK as two-character words, English stems beside the words) and its
-- `tsvector` (words weighted A, stems B, the 'simple' configuration: the text is folded and
-- stemmed already). GIN indexes find whole words, prefixes, stems and phrases (`tsv`) and
-- any substring of three characters or more (`words`, pg_trgm). Every write of a message's
-- text writes this row in its own transaction. pg_trgm is a trusted extension: the
-- database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE message_search (
    doc        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id TEXT COLLATE "C" NOT NULL UNIQUE,
    words      TEXT NOT NULL,
    stems      TEXT NOT NULL,
    tsv        tsvector GENERATED ALWAYS AS (
                   setweight(to_tsvector('simple', words), 'A')
                   || setweight(to_tsvector('simple', stems), 'B')) STORED
);
CREATE INDEX message_search_words ON message_search USING gin (tsv);
CREATE INDEX message_search_grams ON message_search USING gin (words gin_trgm_ops);

-- Messages stored before this migration are indexed when the store opens (the text is
-- prepared in Rust), in ID order (time order: IDs are UUIDv7) from `after_id`; the row goes
-- once all are.
CREATE TABLE search_backfill (after_id TEXT COLLATE "C" NOT NULL);
INSERT INTO search_backfill (after_id) VALUES ('');

-- Group commit indexes each send it stores: the function of migration 0002 with the text to
-- index beside each send.
DROP FUNCTION IF EXISTS confab_send_batch(TEXT[], TEXT[], TEXT[], TEXT[], TEXT[], BIGINT[], TEXT[], BIGINT[]);

CREATE FUNCTION confab_send_batch(
    p_ids TEXT[],
    p_channel_ids TEXT[],
    p_author_ids TEXT[],
    p_client_msg_ids TEXT[],
    p_bodies TEXT[],
    p_created_at BIGINT[],
    -- each message's mention_ids as an array literal: arrays of arrays must be rectangular
    p_mention_ids TEXT[],
    p_mentions_channel BIGINT[],
    -- each message's text as the search index stores it (confab-core's search::index_text)
    p_words TEXT[],
    p_stems TEXT[]
) RETURNS TABLE (pos BIGINT, seq BIGINT, same_as BIGINT, original_id TEXT)
LANGUAGE plpgsql VOLATILE
-- Plans made once per connection: a custom plan for each call's arrays would cost more than
-- a small batch's whole work (planning these statements takes ~0.7 ms), and the plans below
-- do not depend on the arrays' sizes.
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    -- Table rows are reached by key, one lookup per send (a LATERAL or scalar subquery on a
    -- unique index) rather than by a join the planner may turn into a scan (the one join, of
    -- the channels to advance, is driven by the batch's few rows): this function's plans are
    -- cached per connection, and one made while a table was small must not go on scanning it
    -- whole once it has grown (seen: a hash join over all of messages, per batch).

    -- The authors' membership rows, locked FOR SHARE in key order: a removal committed earlier
    -- hides its row, one that comes later waits for this commit, so no message lands after its
    -- author's member.left. Member rows before channel rows, as a removal takes them; sorted,
    -- so batches and removals never wait for each other in a cycle.
    PERFORM 1
       FROM (SELECT DISTINCT k.channel_id COLLATE "C" AS channel_id,
                             k.user_id COLLATE "C" AS user_id
               FROM unnest(p_channel_ids, p_author_ids) AS k(channel_id, user_id)
              ORDER BY 1, 2) k
      CROSS JOIN LATERAL (SELECT 1 FROM channel_members cm
                           WHERE cm.channel_id = k.channel_id AND cm.user_id = k.user_id
                             FOR SHARE) l;

    -- The batch's channels, locked in id order as an UPDATE of last_seq would lock them:
    -- batches of several processes sharing channels queue here, and never deadlock. Every
    -- change of a channel's membership takes this lock too, so from here on membership cannot
    -- change under the batch.
    PERFORM 1
       FROM (SELECT DISTINCT k.id COLLATE "C" AS id FROM unnest(p_channel_ids) AS k(id)
              ORDER BY 1) k
      CROSS JOIN LATERAL (SELECT 1 FROM channels c WHERE c.id = k.id FOR NO KEY UPDATE) l;

    -- Everything decided before anything is written, in arrival order, as the SQLite backend
    -- decides: a retry returns the send it retries (one earlier in this batch, or a stored
    -- message: looked up after the locks, so an original committed meanwhile by another
    -- process is found), then a non-member is refused; the rest take their channel's next
    -- numbers in arrival order. The first member's send of a (author, client_msg_id) not yet
    -- stored creates it; a later send with that key retries it.
    RETURN QUERY
    WITH input AS (
        -- Keys compared as the tables' columns are, bytewise, also when sorting the batch.
        SELECT s.id COLLATE "C" AS id, s.channel_id COLLATE "C" AS channel_id,
               s.author_id COLLATE "C" AS author_id,
               s.client_msg_id COLLATE "C" AS client_msg_id, s.body, s.created_at,
               s.mention_ids, s.mentions_channel, s.words, s.stems, s.pos
          FROM unnest(p_ids, p_channel_ids, p_author_ids, p_client_msg_ids, p_bodies,
                      p_created_at, p_mention_ids, p_mentions_channel, p_words, p_stems)
               WITH ORDINALITY
               AS s(id, channel_id, author_id, client_msg_id, body, created_at, mention_ids,
                    mentions_channel, words, stems, pos)
    ), checked AS MATERIALIZED ( -- each lookup once per send, however often it is used
        SELECT s.*,
               (SELECT m.id FROM messages m
                 WHERE m.author_id = s.author_id AND m.client_msg_id = s.client_msg_id)
                   AS stored_id,
               -- scalar, not EXISTS, which the planner may run as a scan of the whole table
               (SELECT true FROM channel_members cm
                 WHERE cm.channel_id = s.channel_id AND cm.user_id = s.author_id)
                   IS NOT NULL AS member
          FROM input s
    ), decided AS (
        SELECT c.*, min(c.pos) FILTER (WHERE c.member AND c.stored_id IS NULL)
                        OVER (PARTITION BY c.author_id, c.client_msg_id) AS creator
          FROM checked c
    ), new AS (
        SELECT d.*,
               (SELECT ch.last_seq FROM channels ch WHERE ch.id = d.channel_id)
               + row_number() OVER (PARTITION BY d.channel_id ORDER BY d.pos) AS seq
          FROM decided d
         WHERE d.pos = d.creator
    ), inserted AS (
        INSERT INTO messages (id, channel_id, seq, version, author_id, client_msg_id, body,
                              created_at, mention_ids, mentions_channel)
        SELECT n.id, n.channel_id, n.seq, n.seq, n.author_id, n.client_msg_id, n.body,
               n.created_at, n.mention_ids::TEXT[], n.mentions_channel
          FROM new n
         -- Two batches inserting keys the other also inserts wait for them in one order.
         ORDER BY n.author_id, n.client_msg_id
    ), indexed AS (
        -- Numbered in arrival order: newest-first search is by number.
        INSERT INTO message_search (message_id, words, stems)
        SELECT n.id, n.words, n.stems FROM new n ORDER BY n.pos
    ), logged AS (
        INSERT INTO channel_changes (channel_id, seq, kind, message_id, created_at)
        SELECT n.channel_id, n.seq, 'message.created', n.id, n.created_at FROM new n
    ), advanced AS (
        UPDATE channels ch SET last_seq = t.last_seq
          FROM (SELECT n.channel_id, max(n.seq) AS last_seq FROM new n GROUP BY n.channel_id) t
         WHERE ch.id = t.channel_id
    )
    SELECT d.pos, n.seq,
           CASE WHEN d.pos > d.creator THEN d.creator END,
           d.stored_id
      FROM decided d LEFT JOIN new n ON n.pos = d.pos
     ORDER BY d.pos;
END
$$;
