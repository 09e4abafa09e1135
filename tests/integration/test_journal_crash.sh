#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# labels: heavy
# The broker killed with SIGKILL in the middle of a stream of finishing
# jobs and started again on the same data directory: every job whose
# terminal event was acknowledged (QoS 1 PUBACK) has its row.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
jw_pg_journal_setup
jw_start_broker a
: >"$JW_TMP/acked"

python3 "$(dirname "$0")/qos1pub.py" "$JW_PORT" crash 1 5000 "$JW_TMP/acked" "$JW_TMP/refused" 0 200 &
pub=$!
JW_BG_PIDS+=("$pub")
# Kill once a good part of the stream is acknowledged.
for _ in $(seq 200); do
	[ "$(wc -l <"$JW_TMP/acked")" -ge 1500 ] && break
	sleep 0.02
done
kill -9 "$JW_PID"
wait "$JW_PID" 2>/dev/null
wait "$pub"
acked=$(wc -l <"$JW_TMP/acked")
jw_check "the kill came mid-stream ($acked of 5000 acknowledged)" test "$acked" -lt 5000 -a "$acked" -gt 0

jw_start_broker b
deadline=$((SECONDS + 30))
missing=
while [ $SECONDS -lt $deadline ]; do
	jw_psql -c "SELECT job_id FROM jobwire_finished_jobs WHERE session_id='crash'" | sort >"$JW_TMP/rows"
	missing=$(sort "$JW_TMP/acked" | comm -23 - "$JW_TMP/rows" | wc -l)
	[ "$missing" = 0 ] && break
	sleep 0.5
done
jw_assert_eq "every acknowledged job has its row after kill -9 and restart" 0 "$missing"
for _ in $(seq 50); do grep -q 'spool left by the previous run is in PostgreSQL' "$JW_LOG" && break; sleep 0.1; done
jw_check "the restart logged the replay" grep -q 'spool left by the previous run is in PostgreSQL' "$JW_LOG"
jw_done
