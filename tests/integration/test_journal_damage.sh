#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Damage to the journal's files on disk costs at most the damaged record:
# with PostgreSQL down, 20 finished jobs are spooled; one byte in the
# middle of the spool segment is changed while the broker is stopped;
# after a restart 19 or 20 rows arrive (the damaged record alone may be
# missing), the broker log names the file, offset and bytes skipped, the
# stats count it, and a quarantine file keeps the bytes. Then the
# checkpoint is damaged the same way: no job is lost and none doubled.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
jw_pg_journal_setup
JW_PLUGIN_OPTS+="
plugin_opt_stats_interval 0.5"

rows() { jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='$1'" 2>/dev/null; }
wait_rows() { # session expected [timeout]
	local deadline=$((SECONDS + ${3:-20}))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(rows "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}
stats_field() { # journal field
	mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t '$jobwire/stats' -C 1 -W 5 |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["journal"].get(sys.argv[1]))' "$1"
}
wait_log() { local i; for i in $(seq 100); do grep -q "$1" "$JW_LOG" && return 0; sleep 0.1; done; return 1; }

# --- a damaged spool segment
jw_pg_stop
jw_start_broker a
for i in $(seq 1 20); do
	jw_pub -q 1 -t "jobs/dmg/job-$i/complete" -m "{\"result\":{\"n\":$i}}"
done
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
seg=$(ls -S "$data"/journal/*.spool | head -1)
size=$(stat -c %s "$seg")
jw_check "the 20 records are spooled ($size bytes in $(basename "$seg"))" test "$size" -gt 2000
jw_flip_byte "$seg" $((size / 2))

jw_pg_resume || jw_fail "PostgreSQL did not restart"
jw_start_broker b
wait_rows dmg 19 30
n=$(rows dmg)
jw_check "19 or 20 of 20 jobs have their row after one byte of the spool changed ($n)" test "$n" -ge 19 -a "$n" -le 20
jw_check "the log names the skipped record: file, offset, bytes" \
	wait_log "journal: skipped [0-9]* damaged bytes at offset [0-9]* of $seg (about 1 record lost)"
line=$(grep "journal: skipped" "$JW_LOG" | head -1)
offset=$(sed -n 's/.* at offset \([0-9]*\) of .*/\1/p' <<<"$line")
jw_check "the damaged bytes are kept in $seg.at-$offset.damaged" test -s "$seg.at-$offset.damaged"
jw_assert_eq "the stats count the damaged record" 1 "$(stats_field damaged_records)"
jw_assert_eq "the stats count the quarantine file" 1 "$(stats_field quarantine_files)"

# --- a damaged checkpoint
for i in $(seq 1 20); do
	jw_pub -q 1 -t "jobs/cp/job-$i/complete" -m '{}'
done
jw_check "20 more jobs written while PostgreSQL is up" wait_rows cp 20
jw_pg_stop
for i in $(seq 21 40); do
	jw_pub -q 1 -t "jobs/cp/job-$i/complete" -m '{}'
done
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
cp=$data/journal/checkpoint
jw_check "a checkpoint was written" test -s "$cp"
jw_flip_byte "$cp" $(($(stat -c %s "$cp") / 2))
jw_pg_resume || jw_fail "PostgreSQL did not restart"
jw_start_broker c
jw_check "all 40 jobs have their row after the checkpoint was damaged" wait_rows cp 40
jw_assert_eq "no job twice" 40 "$(jw_psql -c "SELECT count(DISTINCT job_id) FROM jobwire_finished_jobs WHERE session_id='cp'")"
jw_check "the log says the checkpoint is damaged and what was done" \
	wait_log "journal: the checkpoint $cp is damaged (.*); reading the spool from its oldest segment"
jw_check "the damaged checkpoint is kept" test -s "$cp.at-0.damaged"
jw_assert_eq "the stats count the damaged checkpoint" 1 "$(stats_field checkpoint_damaged)"
jw_done
