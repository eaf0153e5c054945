#!/usr/bin/env bash
# The list's membership test and the friends list as they are (OR across two sets) and as a UNION ALL of
# index look-ups, on a scale-3 data set in a throwaway PostgreSQL: same rows (checksum), EXPLAIN ANALYZE
# execution times of 5 runs each, JIT on and off (docs/performance.md, second round, section 2).
# Application code is not changed: the statements are written out here for the bench user (id 1).
# Usage: bench/try_membership_union.sh [scale]   (default 3; about 5 minutes, most of it loading)
set -uo pipefail
cd "$(dirname "$0")/.."
scale="${1:-3}"
echo "=== start $(date -u +%FT%TZ) uptime: $(uptime)"
eval "$(scripts/pg-throwaway.sh)"
trap 'scripts/pg-throwaway.sh stop "$PG_TMPDIR"' EXIT
DJANGO_SETTINGS_MODULE=bench.settings .venv/bin/python bench/explain_search.py --load "$scale" --statements-only --plans-over 1000 | grep -v "^ "
port=${DATABASE_URL##*:}; port=${port%%/*}
pgbin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
PSQL="$pgbin/psql -h 127.0.0.1 -p $port -U oneonone oneonone -At"
export PGPASSWORD=oneonone
ORIG_MEMBER="(c.creator_id = 1 OR EXISTS (SELECT 1 FROM invitations_invitation i WHERE i.calendar_id = c.id AND i.invitee_id = 1 AND i.status = 'accepted'))"
UNION_MEMBER="c.id IN (SELECT id FROM calendars_calendar WHERE creator_id = 1 UNION ALL SELECT calendar_id FROM invitations_invitation WHERE invitee_id = 1 AND status = 'accepted')"
page() { echo "SELECT m.id, m.version, c.id IS NOT NULL, c.id, (SELECT u.username FROM accounts_user u WHERE u.id = c.creator_id), c.title, c.description, c.timezone, c.finalized_date, c.finalized_start_time, c.finalized_end_time, c.respond_by, c.creator_id, c.version FROM (SELECT c.id, c.version, ROW_NUMBER() OVER (ORDER BY c.created_at DESC, c.id DESC) AS n FROM calendars_calendar c WHERE $1) m LEFT JOIN calendars_calendar c ON c.id = m.id AND m.n > 0 AND m.n <= 10 ORDER BY m.n"; }
FRIENDS_ORIG='SELECT id, username FROM accounts_user WHERE (id IN (SELECT "userB_id" FROM contacts_contact WHERE status = 1 AND "userA_id" = 1) OR id IN (SELECT "userA_id" FROM contacts_contact WHERE status = 1 AND "userB_id" = 1)) ORDER BY 2, 1'
FRIENDS_UNION='SELECT id, username FROM accounts_user WHERE id IN (SELECT "userB_id" FROM contacts_contact WHERE status = 1 AND "userA_id" = 1 UNION ALL SELECT "userA_id" FROM contacts_contact WHERE status = 1 AND "userB_id" = 1) ORDER BY 2, 1'
run() { # label, settings, sql
  echo "--- $1"
  echo "rows: $($PSQL -c "$3" | md5sum | cut -c1-12) ($($PSQL -c "$3" | wc -l) rows)"
  times=""
  for i in 1 2 3 4 5; do
    t=$($PSQL -c "$2" -c "EXPLAIN (ANALYZE) $3" | grep "Execution Time" | awk '{print $3}')
    times="$times $t"
  done
  echo "execution ms:$times"
  $PSQL -c "$2" -c "EXPLAIN (ANALYZE) $3" | grep -E "Seq Scan|Index|JIT|Total|Execution|Hash|Nested" | head -12
}
run "list page, membership OR EXISTS (today), jit on" "SET jit = on" "$(page "$ORIG_MEMBER")"
run "list page, membership OR EXISTS (today), jit off" "SET jit = off" "$(page "$ORIG_MEMBER")"
run "list page, membership as UNION ALL of two index look-ups, jit on" "SET jit = on" "$(page "$UNION_MEMBER")"
run "member versions (the 304's tag), today, jit on" "SET jit = on" "SELECT c.id, c.version FROM calendars_calendar c WHERE $ORIG_MEMBER ORDER BY c.created_at DESC, c.id DESC"
run "member versions, UNION ALL, jit on" "SET jit = on" "SELECT c.id, c.version FROM calendars_calendar c WHERE $UNION_MEMBER ORDER BY c.created_at DESC, c.id DESC"
run "friends, today" "SET jit = on" "$FRIENDS_ORIG"
run "friends, UNION ALL" "SET jit = on" "$FRIENDS_UNION"
echo "=== end $(date -u +%FT%TZ) uptime: $(uptime)"
