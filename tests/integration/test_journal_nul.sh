#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that whatever the broker acknowledges, the PostgreSQL journal can
# store: a terminal event with U+0000 (\u0000) in a string, which
# PostgreSQL's text and jsonb cannot hold (SQLSTATE 22P05), is refused at
# the broker with a rule_violation notice naming the field (MQTT 5 QoS 1:
# 0x87, nothing acknowledged, nothing delivered, nothing dead-lettered);
# the job stays running, and the worker's corrected failed event is
# journaled and shown by `jobwire history`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
. "$(dirname "$0")/lib_cli.sh"
. "$(dirname "$0")/lib_notices.sh"
jw_pg_skip_under_preload
field() { python3 -c 'import json,sys
d=json.loads(sys.argv[1]) if sys.argv[1] else {}
v=d.get(sys.argv[2])
print("" if v is None else (json.dumps(v) if not isinstance(v, str) else v))' "$1" "$2"; }

jw_pg_start || { jw_fail "PostgreSQL did not start"; jw_done; }
data=$(jw_data_dir)
JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_pg_conninfo $JW_PG_CONNINFO
plugin_opt_log_rate 0"
jw_start_broker journal_nul
jw_sub "$JW_TMP/events.out" -V 5 -q 1 -t 'jobs/nul/+/failed' -t 'jobs/nul/+/complete'
jw_sub "$JW_TMP/rej.out" -V 5 -t '$jobwire/rejections/#'


jw_pub -q 1 -t jobs/nul/j1/started -m '{"name":"Reads a binary file"}'
# The worker's stderr held a NUL byte, escaped by its JSON encoder.
out=$(jw_pub -V 5 -q 1 -i worker-nul -t jobs/nul/j1/failed \
	-m '{"error":"parse failed at \u0000","code":"EBADMSG","details":{"stderr":["ok","bad\u0000byte"]}}' 2>&1)
jw_check "failed with U+0000: refused at the broker (0x87, not acknowledged)" grep -q "Not authorized" <<<"$out"
for _ in $(seq 50); do [ -n "$(notice_of worker-nul)" ] && break; sleep 0.1; done
notice=$(notice_of worker-nul)
jw_assert_eq "notice: reason" rule_violation "$(field "$notice" reason)"
jw_assert_eq "notice: keyword" no_nul "$(field "$notice" keyword)"
jw_assert_eq "notice: the first string with U+0000" /error "$(field "$notice" field)"
jw_assert_contains "notice: says why" "U+0000" "$(field "$notice" message)"
# The same in a nested member: the pointer goes down to it.
out=$(jw_pub -V 5 -q 1 -i worker-nul2 -t jobs/nul/j1/failed \
	-m '{"error":"parse failed","details":{"stderr":["ok","bad\u0000byte"]}}' 2>&1)
jw_check "nested U+0000: refused" grep -q "Not authorized" <<<"$out"
for _ in $(seq 50); do [ -n "$(notice_of worker-nul2)" ] && break; sleep 0.1; done
jw_assert_eq "nested U+0000: notice field" /details/stderr/1 "$(field "$(notice_of worker-nul2)" field)"

state=$(timeout 5 mosquitto_sub -p "$JW_PORT" -t jobs/nul/j1/state -C 1 -W 3 2>/dev/null)
jw_assert_eq "the job is still running" running "$(field "$state" status)"

# The worker sends its failure without the NUL: delivered, journaled,
# shown by jobwire history.
out=$(jw_pub -V 5 -q 1 -i worker-ok -t jobs/nul/j1/failed \
	-m '{"error":"parse failed at byte 0x00","code":"EBADMSG","details":{"stderr":["ok","bad\\u0000byte"]}}' 2>&1)
jw_assert_eq "failed without U+0000 (a backslash-u text is fine): acknowledged" "" "$out"
jw_check "its row is in the journal" jw_wait_sql 1 "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='nul' AND job_id='j1'"
jw_assert_eq "row: error and code as sent" 'parse failed at byte 0x00|EBADMSG' \
	"$(jw_psql -F '|' -c "SELECT error, code FROM jobwire_finished_jobs WHERE job_id='j1'")"
jw_assert_eq "row: the details text kept" 'bad\u0000byte' \
	"$(jw_psql -c "SELECT final_event->'details'->'stderr'->>1 FROM jobwire_finished_jobs WHERE job_id='j1'")"
jw_capture "$JW_CLI" history --db "$JW_PG_CONNINFO" --session nul
jw_assert_eq "jobwire history: exit 0" 0 "$JW_RC"
jw_assert_contains "jobwire history shows the failure" "EBADMSG" "$JW_OUT"
jw_assert_eq "only the accepted failed event was delivered" 1 "$(msgs "$JW_TMP/events.out" --count jobs/nul/j1/failed)"

# Also for complete, and nothing went to the dead-letter file.
out=$(jw_pub -V 5 -q 1 -t jobs/nul/j2/complete -m '{"result":{"name":"a\u0000b"}}' 2>&1)
jw_check "complete with U+0000: refused" grep -q "Not authorized" <<<"$out"
jw_pub -q 1 -t jobs/nul/j3/complete -m '{"result":{"rows":1}}'
jw_check "a later clean terminal event is journaled" jw_wait_sql 1 "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id='j3'"
jw_assert_eq "no row for the refused complete" 0 "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id='j2'")"
jw_check "nothing dead-lettered" test ! -s "$data/journal-dead-letter.jsonl"

jw_done
