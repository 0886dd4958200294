-- Search. Each live message has a document number (`search_docs.doc`, in the order messages
-- were stored, so newest-first is by number) and two contentless FTS5 indexes of the text
-- confab-core's `search::index_text` prepares (folded, CJK as two-character words, English
-- stems beside the words): `search_words` finds whole words, prefixes, stems and phrases;
-- `search_grams` (trigram) finds any substring of three characters or more. Messages get a
-- number of their own rather than their rowid, which VACUUM may renumber (the table's key is
-- TEXT).
CREATE TABLE search_docs (
    doc        INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE
) STRICT;

-- Folding is done already: the tokenizers neither fold case nor strip marks again (which
-- would turn が into か).
CREATE VIRTUAL TABLE search_words USING fts5(
    words, stems, content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE search_grams USING fts5(
    words, content = '', contentless_delete = 1,
    tokenize = 'trigram case_sensitive 1'
);

-- The one statement each write of a message's text makes: inserting, updating or deleting a
-- row of this view indexes, re-indexes or unindexes the message in both tables (the
-- triggers below), inside the write's own transaction.
CREATE VIEW search_input (message_id, words, stems) AS
    SELECT message_id, NULL, NULL FROM search_docs;

CREATE TRIGGER search_input_insert INSTEAD OF INSERT ON search_input
BEGIN
    INSERT INTO search_docs (message_id) VALUES (NEW.message_id);
    INSERT INTO search_words (rowid, words, stems) VALUES (last_insert_rowid(), NEW.words, NEW.stems);
    INSERT INTO search_grams (rowid, words) VALUES (last_insert_rowid(), NEW.words);
END;

-- An edit keeps the message's number: it stays where it was in newest-first order.
CREATE TRIGGER search_input_update INSTEAD OF UPDATE ON search_input
BEGIN
    DELETE FROM search_words WHERE rowid = (SELECT doc FROM search_docs WHERE message_id = OLD.message_id);
    DELETE FROM search_grams WHERE rowid = (SELECT doc FROM search_docs WHERE message_id = OLD.message_id);
    INSERT INTO search_words (rowid, words, stems)
        VALUES ((SELECT doc FROM search_docs WHERE message_id = OLD.message_id), NEW.words, NEW.stems);
    INSERT INTO search_grams (rowid, words)
        VALUES ((SELECT doc FROM search_docs WHERE message_id = OLD.message_id), NEW.words);
END;

CREATE TRIGGER search_input_delete INSTEAD OF DELETE ON search_input
BEGIN
    DELETE FROM search_words WHERE rowid = (SELECT doc FROM search_docs WHERE message_id = OLD.message_id);
    DELETE FROM search_grams WHERE rowid = (SELECT doc FROM search_docs WHERE message_id = OLD.message_id);
    DELETE FROM search_docs WHERE message_id = OLD.message_id;
END;

-- Messages stored before this migration are indexed when the store opens (the text is
-- prepared in Rust), in rowid order from `after_rowid`; the row goes once all are.
CREATE TABLE search_backfill (after_rowid INTEGER NOT NULL) STRICT;
INSERT INTO search_backfill (after_rowid) VALUES (0);
