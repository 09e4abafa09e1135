#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# The spool cap: with PostgreSQL down, terminal events are spooled until
# plugin_opt_spool_max; then they are refused (PUBACK 0x87 and a
# journal_full notice) instead of being acknowledged and lost. Everything
# acknowledged reaches PostgreSQL once it is back, and the refused jobs can
# be finished then. A clean shutdown in between leaves the spool for the
# next start.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
jw_pg_skip_under_preload

jw_pg_start || { echo "cannot start PostgreSQL"; exit 1; }
jw_pg_stop
data=$(jw_data_dir)
JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_pg_conninfo $JW_PG_CONNINFO
plugin_opt_spool_max 64k"
jw_start_broker a

jw_sub "$JW_TMP/rej" -t '$jobwire/rejections/#'
python3 "$(dirname "$0")/qos1pub.py" "$JW_PORT" cap 1 1000 "$JW_TMP/acked" "$JW_TMP/refused" 0 1
acked=$(wc -l <"$JW_TMP/acked")
refused=$(wc -l <"$JW_TMP/refused")
jw_check "some jobs acknowledged before the cap ($acked)" test "$acked" -gt 50
jw_check "the rest refused at the cap ($refused)" test "$refused" -gt 0
jw_assert_eq "every job either acknowledged or refused" 1000 $((acked + refused))
jw_assert_eq "refusals carry reason code 0x87" "135" "$(awk '{print $2}' "$JW_TMP/refused" | sort -u)"
jw_wait_lines "$JW_TMP/rej" 1
jw_check "a journal_full notice" bash -c "jw_lines() { grep -v '^jwprobe/' \"\$1\"; }; jw_lines '$JW_TMP/rej' | head -1 | cut -f5 | xxd -r -p | grep -q '\"reason\":\"journal_full\"'"
first_refused=$(head -1 "$JW_TMP/refused" | cut -d' ' -f1)
jw_check "a refused job did not finish in the job table" bash -c \
	"! mosquitto_sub -h 127.0.0.1 -p $JW_PORT -t jobs/cap/$first_refused/state -C 1 -W 2 2>/dev/null | grep -q complete"

# A clean shutdown while PostgreSQL is down: within the deadline, the rest
# left spooled, and the next start replays it.
t0=$SECONDS
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
jw_check "clean shutdown within its deadline with PostgreSQL down ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -le 8
jw_check "records left spooled at shutdown" bash -c "ls '$data'/journal/*.spool >/dev/null && test \$(cat '$data'/journal/*.spool | wc -c) -gt 10000"
jw_start_broker b
jw_pg_resume || jw_fail "PostgreSQL did not restart"
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
	[ "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs" 2>/dev/null)" = "$acked" ] && break
	sleep 0.3
done
jw_assert_eq "every acknowledged job reached PostgreSQL" "$acked" "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs")"
jw_assert_eq "no refused job has a row" 0 \
	"$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id IN ('$(cut -d' ' -f1 "$JW_TMP/refused" | paste -sd, | sed "s/,/','/g")')")"
jw_pub -q 1 -t "jobs/cap/$first_refused/complete" -m '{}'
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ]; do
	[ "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id='$first_refused'")" = 1 ] && break
	sleep 0.2
done
jw_assert_eq "a refused job is accepted once the spool drains" 1 \
	"$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id='$first_refused'")"
jw_done
