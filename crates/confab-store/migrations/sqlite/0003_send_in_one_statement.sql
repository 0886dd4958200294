-- A send is one INSERT: the message takes its channel's next sequence number in the INSERT
-- itself, and this trigger, in the same statement, advances the channel's last_seq and logs the
-- change. One statement instead of three matters because every statement is a round trip to
-- the database thread, and sends are committed in batches. Other changes (edits, deletes,
-- reactions, membership) still take their number with an explicit UPDATE … RETURNING.
CREATE TRIGGER message_created AFTER INSERT ON messages
BEGIN
    UPDATE channels SET last_seq = NEW.seq WHERE id = NEW.channel_id;
    INSERT INTO channel_changes (channel_id, seq, kind, message_id, created_at)
    VALUES (NEW.channel_id, NEW.seq, 'message.created', NEW.id, NEW.created_at);
END;
