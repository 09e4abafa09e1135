#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# labels: heavy
# PostgreSQL stopped for 30 s in the middle of a stream of 5000 finishing
# jobs, then started again: the broker keeps accepting (spooling), logs the
# outage once, and afterwards every job has exactly one row.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
jw_pg_journal_setup
jw_start_broker a

# 5000 jobs over about 45 s: the outage falls in the middle.
python3 "$(dirname "$0")/qos1pub.py" "$JW_PORT" out 1 5000 "$JW_TMP/acked" "$JW_TMP/refused" 110 &
pub=$!
JW_BG_PIDS+=("$pub")
sleep 6
jw_pg_stop
before_acked=$(wc -l <"$JW_TMP/acked")
jw_check "the outage starts mid-stream ($before_acked of 5000 jobs acknowledged)" \
	test "$before_acked" -gt 0 -a "$before_acked" -lt 5000
sleep 30
down_acked=$(wc -l <"$JW_TMP/acked")
jw_pg_resume || jw_fail "PostgreSQL did not restart"
wait "$pub"
jw_assert_eq "every job acknowledged by the broker during the outage" 5000 "$(wc -l <"$JW_TMP/acked")"
jw_check "jobs kept being acknowledged while PostgreSQL was down" test "$down_acked" -gt 3000

deadline=$((SECONDS + 60))
while [ $SECONDS -lt $deadline ]; do
	n=$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs" 2>/dev/null)
	[ "$n" = 5000 ] && break
	sleep 0.5
done
jw_assert_eq "every job has its row after the outage" 5000 \
	"$(jw_psql -c "SELECT count(DISTINCT job_id) FROM jobwire_finished_jobs WHERE session_id='out'")"
jw_assert_eq "no job twice" 5000 "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs")"
jw_assert_eq "outage logged once" 1 "$(grep -c 'journal: PostgreSQL unavailable' "$JW_LOG")"
jw_check "recovery logged" bash -c "grep 'journal: writing to PostgreSQL' '$JW_LOG' | tail -1 | grep -vq '(0 bytes'"
jw_done
