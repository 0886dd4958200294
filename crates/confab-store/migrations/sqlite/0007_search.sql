-- Search. Each live message has a document number (`search_docs.doc`, in the order messages
-- were stored, so newest-first is by number) and a row in one contentless FTS5 trigram index,
-- `search_text`, of what confab-core's `search::index_text` prepares: `tokens`, the folded
-- text's words in order (CJK as two-character words), each between two spaces, where any
-- part of a word (`"ploym"`), a whole word (`"  run  "`), a word's start (`"  ru"`, three
-- characters even for one letter) and words in order (a phrase, a CJK substring) are all
-- substrings; and `stems`, the English stems, the same way. One table, so a whole search is
-- one FTS5 expression, which FTS5 answers newest first and stops after a page. (Text with
-- punctuation, `v1.2.3`, is found by its words in order, then checked against the body.)
-- Messages get a number of their own rather than their rowid, which VACUUM may renumber
-- (the table's key is TEXT).
-- With the message's channel, so access is checked without reading the message.
CREATE TABLE search_docs (
    doc        INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    channel_id TEXT NOT NULL
) STRICT;

-- Folding is done already: the tokenizer neither folds case again nor strips marks.
CREATE VIRTUAL TABLE search_text USING fts5(
    tokens, stems, content = '', contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1'
);

-- The one statement each write of a message's text makes: inserting, updating or deleting a
-- row of this view indexes, re-indexes or unindexes the message (the triggers below),
-- inside the write's own transaction.
CREATE VIEW search_input (message_id, channel_id, tokens, stems) AS
    SELECT message_id, channel_id, NULL, NULL FROM search_docs;

CREATE TRIGGER search_input_insert INSTEAD OF INSERT ON search_input
BEGIN
    INSERT INTO search_docs (message_id, channel_id) VALUES (NEW.message_id, NEW.channel_id);
    INSERT INTO search_text (rowid, tokens, stems)
        VALUES (last_insert_rowid(), NEW.tokens, NEW.stems);
END;

-- An edit keeps the message's number: it stays where it was in newest-first order.
CREATE TRIGGER search_input_update INSTEAD OF UPDATE ON search_input
BEGIN
    DELETE FROM search_text WHERE rowid = (SELECT doc FROM search_docs WHERE message_id = OLD.message_id);
    INSERT INTO search_text (rowid, tokens, stems)
        VALUES ((SELECT doc FROM search_docs WHERE message_id = OLD.message_id),
                NEW.tokens, NEW.stems);
END;

CREATE TRIGGER search_input_delete INSTEAD OF DELETE ON search_input
BEGIN
    DELETE FROM search_text WHERE rowid = (SELECT doc FROM search_docs WHERE message_id = OLD.message_id);
    DELETE FROM search_docs WHERE message_id = OLD.message_id;
END;

-- Messages stored before this migration are indexed when the store opens (the text is
-- prepared in Rust), in rowid order from `after_rowid`; the row goes once all are.
CREATE TABLE search_backfill (after_rowid INTEGER NOT NULL) STRICT;
INSERT INTO search_backfill (after_rowid) VALUES (0);
