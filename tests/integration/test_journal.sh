#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# The PostgreSQL journal against a real PostgreSQL 15 cluster: the row of a
# finished job holds what the events said (and who sent them), a
# retransmitted terminal event gives one row, a broker-generated
# heartbeat_timeout is marked as such, extra event types go to
# jobwire_events, a record PostgreSQL refuses lands in the dead-letter file
# without blocking the rest, the stats message shows the journal, and wills
# are journaled with their client, except those sent at shutdown.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
jw_pg_skip_under_preload

jw_pg_start || { echo "cannot start PostgreSQL"; exit 1; }
data=$(jw_data_dir)

JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_pg_conninfo $JW_PG_CONNINFO password=not-logged-secret
plugin_opt_node_name node-a
plugin_opt_journal_events started
plugin_opt_stats_interval 0.5"
jw_start_broker a

# --- row content
jw_pub -i worker-1 -u alice -q 1 -t jobs/s1/j1/started -m '{"name":"Import","total":100,"ts":"2026-01-02T03:04:05.000Z"}'
jw_pub -i worker-1 -u alice -q 1 -t jobs/s1/j1/progress -m '{"progress":42}'
jw_pub -i worker-1 -u alice -q 1 -t jobs/s1/j1/complete -m '{"result":{"rows":100},"ts":"2026-01-02T03:04:15.500Z"}'
jw_check "complete job has its row" jw_wait_sql 1 "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='s1' AND job_id='j1'"
row=$(jw_psql -F '|' -c "SELECT status, result::text, final_event->>'ts', started_at AT TIME ZONE 'UTC', finished_at AT TIME ZONE 'UTC', duration_s, final_progress, client_id, username, broker_generated, node, error IS NULL FROM jobwire_finished_jobs WHERE job_id='j1'")
jw_assert_eq "row content of a complete job" \
	'complete|{"rows": 100}|2026-01-02T03:04:15.500Z|2026-01-02 03:04:05|2026-01-02 03:04:15.5|10.5|100|worker-1|alice|f|node-a|t' "$row"

jw_pub -i worker-2 -q 1 -t jobs/s1/j2/started -m '{"name":"Export"}'
jw_pub -i worker-2 -q 1 -t jobs/s1/j2/progress -m '{"progress":30}'
jw_pub -i worker-2 -q 1 -t jobs/s1/j2/failed -m '{"error":"disk full","code":"enospc","retryable":true}'
jw_check "failed job has its row" jw_wait_sql 1 "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id='j2'"
row=$(jw_psql -F '|' -c "SELECT status, error, code, retryable, final_progress, client_id, coalesce(username,'-'), final_event ? 'ts', result IS NULL FROM jobwire_finished_jobs WHERE job_id='j2'")
jw_assert_eq "row content of a failed job (ts added by the broker kept)" 'failed|disk full|enospc|t|30|worker-2|-|t|t' "$row"

# --- idempotency: the same terminal event again (a QoS 1 retransmission)
jw_pub -i worker-1 -q 1 -t jobs/s1/j1/complete -m '{"result":{"rows":100},"ts":"2026-01-02T03:04:15.500Z"}'
jw_pub -i worker-1 -q 1 -t jobs/s1/j1/complete -m '{"result":{"rows":100},"ts":"2026-01-02T03:04:15.500Z"}'
sleep 1
jw_assert_eq "a retransmitted terminal event leaves one row" 1 \
	"$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id='j1'")"

# --- extra event types (plugin_opt_journal_events started)
jw_assert_eq "started events go to jobwire_events" 2 \
	"$(jw_psql -c "SELECT count(*) FROM jobwire_events WHERE type='started' AND node='node-a'")"
jw_assert_eq "progress events are not journaled" 0 \
	"$(jw_psql -c "SELECT count(*) FROM jobwire_events WHERE type='progress'")"

# --- broker-generated heartbeat_timeout
jw_pub -i worker-3 -q 1 -t jobs/s1/j3/started -m '{"name":"Stalls","heartbeat_interval_s":0.2}'
jw_check "stalled job journaled as broker-generated" jw_wait_sql \
	'failed|heartbeat_timeout|true|' \
	"SELECT status || '|' || code || '|' || broker_generated || '|' || coalesce(client_id,'') FROM jobwire_finished_jobs WHERE job_id='j3'"

# --- a record PostgreSQL refuses for good: dead letter, the rest go through
jw_psql -c "ALTER TABLE jobwire_finished_jobs ADD CONSTRAINT no_poison CHECK (job_id <> 'poison')"
for i in 1 2 3; do
	jw_pub -q 1 -t jobs/s2/ok-$i/complete -m '{}'
done
jw_pub -q 1 -t jobs/s2/poison/complete -m '{"result":{"bad":true}}'
for i in 4 5 6; do
	jw_pub -q 1 -t jobs/s2/ok-$i/complete -m '{}'
done
jw_check "the rest of the stream goes through" jw_wait_sql 6 "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='s2'"
dl=$data/journal-dead-letter.jsonl
for _ in $(seq 50); do [ -s "$dl" ] && break; sleep 0.1; done
jw_assert_eq "dead letter names the job, the SQLSTATE and the constraint" "poison 23514 True" \
	"$(python3 -c 'import json,sys
d=[json.loads(l) for l in open(sys.argv[1])]
print(d[0]["record"]["j"], d[0]["sqlstate"], "no_poison" in d[0]["reason"])' "$dl" 2>&1)"
wait_log() { local i; for i in $(seq 50); do grep -q "$1" "$JW_LOG" && return 0; sleep 0.1; done; return 1; }
jw_check "dead letter logged" wait_log 'refused 1 record(s) for good'

# --- stats and log hygiene
sleep 1
stats=$(mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t '$jobwire/stats' -C 1 -W 5)
jw_assert_eq "stats show the journal up, caught up" "up 0 1" \
	"$(printf '%s' "$stats" | python3 -c 'import json,sys
j=json.load(sys.stdin)["journal"]; print(j["state"], j["pending_bytes"], j["dead_letters"])')"
jw_check "the password is never logged" bash -c "! grep -q not-logged-secret '$JW_LOG'"
jw_check "journal start logged" grep -q 'journal: writing to PostgreSQL' "$JW_LOG"

# --- wills: journaled like the failure they are (an immediate one at once,
# a takeover one at the broker's next tick), with their client; a will
# sent while the broker stops is not journaled (the worker comes back).
willconn() { python3 "$(dirname "$0")/willconn.py" "$JW_PORT" "$@"; }
held() { # id job: a connection with a failed will on the job, held open
	python3 "$(dirname "$0")/willconn.py" "$JW_PORT" "$1" --will-topic "jobs/s4/$2/failed" \
		--will-payload '{"error":"worker lost","code":"worker_lost"}' --will-qos 1 hold >"$JW_TMP/$1.hold" 2>&1 &
	HELD_PID=$!
	JW_BG_PIDS+=("$HELD_PID")
	for _ in $(seq 100); do grep -qs connected "$JW_TMP/$1.hold" && return 0; sleep 0.05; done
	return 1
}
for j in w1 w2 w3 w4; do jw_pub -q 1 -t jobs/s4/$j/started -m '{"name":"with a will"}'; done
held will-1 w1
{ kill -9 "$HELD_PID"; wait "$HELD_PID"; } 2>/dev/null
held will-2 w2
willconn will-2 disconnect >/dev/null
jw_check "immediate will journaled with its client" jw_wait_sql 'failed|worker_lost|will-1|false' \
	"SELECT status || '|' || code || '|' || client_id || '|' || broker_generated FROM jobwire_finished_jobs WHERE job_id='w1'"
jw_check "takeover will journaled with its client" jw_wait_sql 'failed|worker_lost|will-2|false' \
	"SELECT status || '|' || code || '|' || client_id || '|' || broker_generated FROM jobwire_finished_jobs WHERE job_id='w2'"
# Two of them: the plugin learns that the first was a will from the second.
held will-3 w3
held will-4 w4
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
jw_assert_eq "wills sent at shutdown are not journaled" 0 \
	"$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id IN ('w3', 'w4')")"

# --- no conninfo: journal off, logged once, the rest works
JW_PLUGIN_OPTS="plugin_opt_data_dir $data/off"
mkdir -p "$data/off"; chmod 777 "$data/off"
jw_start_broker off
jw_pub -q 1 -t jobs/s3/j1/complete -m '{}'
jw_check "without conninfo the job table still works" bash -c \
	"mosquitto_sub -h 127.0.0.1 -p $JW_PORT -t jobs/s3/j1/state -C 1 -W 5 | grep -q '\"status\":\"complete\"'"
jw_assert_eq "journal off logged once" 1 "$(grep -c 'journal is off' "$JW_LOG")"
jw_assert_eq "nothing journaled without conninfo" 0 "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='s3'")"

jw_done
