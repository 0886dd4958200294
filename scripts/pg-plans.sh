#!/usr/bin/env bash
# Plans of the hot PostgreSQL statements on a database of realistic size: 1,000,000 messages
# in 10 channels (a tenth of them thread replies), their change log, and reactions. Creates
# the scratch database `confab_plans` on the server at $CONFAB_TEST_DATABASE_URL (default:
# the local one), applies confab's migrations, loads it, and prints EXPLAIN (ANALYZE) of each
# statement, the hole-fill statement as it was before 2026-12-01 included, for BENCHMARKS.md.
# Usage: ./scripts/pg-plans.sh [messages]
set -euo pipefail
cd "$(dirname "$0")/.."
server="${CONFAB_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
db_url="${server%/*}/confab_plans"
n="${1:-1000000}"
psql -q "$server" -c "DROP DATABASE IF EXISTS confab_plans WITH (FORCE)" -c "CREATE DATABASE confab_plans"
for m in crates/confab-store/migrations/postgres/*.sql; do psql -q "$db_url" -f "$m" >/dev/null; done
psql -q "$db_url" <<SQL
INSERT INTO users VALUES ('u', 'u', 'U', NULL, 'h', 0);
INSERT INTO workspaces VALUES ('w', 'w', 'c0', 0);
INSERT INTO channels (id, workspace_id, kind, name, created_by, created_at, last_seq)
  SELECT 'c' || i, 'w', 'public', 'c' || i, 'u', 0, $n / 10 FROM generate_series(0, 9) i;
INSERT INTO channel_members SELECT 'c' || i, 'u', 0, 0 FROM generate_series(0, 9) i;
-- Message i is in channel i % 10 with seq i / 10 + 1; one in ten is a reply to the message
-- ten seqs before it in its channel.
INSERT INTO messages (id, channel_id, seq, version, author_id, client_msg_id, body, created_at,
                      thread_root_id)
  SELECT 'm' || i, 'c' || (i % 10), i / 10 + 1, i / 10 + 1, 'u', 'k' || i,
         'message number ' || i, i,
         CASE WHEN (i / 10) % 10 = 3 AND i >= 100 THEN 'm' || (i - 100) END
  FROM generate_series(0, $n - 1) i;
INSERT INTO channel_changes
  SELECT channel_id, seq, 'message.created', id, NULL, NULL, 0 FROM messages;
INSERT INTO reactions (message_id, emoji, user_id, created_at)
  SELECT 'm' || i, ':+1:', 'u', i FROM generate_series(0, $n - 1, 7) i;
ANALYZE;
SQL
explain() {
  echo "== $1"
  psql -q "$db_url" -c "SET jit = off" -c "EXPLAIN (ANALYZE, COSTS OFF, TIMING ON) $2" | grep -E "Scan|Execution Time|Planning Time"
}
ids="ARRAY['m500033', 'm700133', 'm999933']::text[]"
explain "hole-fill before (OR IN subquery)" \
  "SELECT m.id FROM messages m WHERE m.id = ANY ($ids) OR m.id IN (SELECT thread_root_id FROM messages WHERE id = ANY ($ids))"
explain "hole-fill now (one array)" \
  "SELECT m.id FROM messages m WHERE m.id = ANY ($ids::text[] || ARRAY(SELECT r.thread_root_id FROM messages r WHERE r.id = ANY ($ids) AND r.thread_root_id IS NOT NULL))"
explain "feed page" "SELECT m.id FROM messages m WHERE m.channel_id = 'c3' AND m.version > 50000 ORDER BY m.version LIMIT 51"
explain "history page" "SELECT m.id FROM messages m WHERE m.channel_id = 'c3' AND m.seq < 90000 AND m.thread_root_id IS NULL ORDER BY m.seq DESC LIMIT 51"
explain "change log" "SELECT seq FROM channel_changes WHERE channel_id = 'c3' AND seq > 99000 ORDER BY seq LIMIT 500"
explain "thread" "SELECT m.id FROM messages m WHERE m.id = 'm499933' OR (m.thread_root_id = 'm499933' AND NOT m.deleted) ORDER BY m.seq"
explain "reactions of a message" "SELECT emoji FROM reactions r WHERE r.message_id = 'm700000' ORDER BY r.created_at, r.ord"
explain "unread count (cursor at 0: the worst case)" \
  "SELECT COUNT(*) FROM messages m, channel_members cm WHERE cm.channel_id = 'c3' AND cm.user_id = 'u' AND m.channel_id = 'c3' AND m.seq > cm.last_read_seq AND m.author_id <> 'x' AND NOT m.deleted AND m.thread_root_id IS NULL"
psql -q "$server" -c "DROP DATABASE confab_plans WITH (FORCE)"
