#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# The journal keeps one row per attempt (plugin/sql/002_attempts.sql),
# against a real PostgreSQL 15 cluster: a database made with the schema of
# version 1 (plugin/sql/001_finished_jobs.sql, exactly what jobwire wrote
# before retries existed) and holding rows is migrated in place when the
# broker connects, every row kept as attempt 1; a job failed, retried and
# run again gives a row per attempt; a second broker start finds the work
# done and changes nothing; `jobwire history` shows the attempts.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
source "$(dirname "$0")/lib_cli.sh"
jw_pg_skip_under_preload

jw_pg_start || { echo "cannot start PostgreSQL"; exit 1; }
data=$(jw_data_dir)

# --- A journal as version 1 left it, with rows.
jw_psql -f "$JW_SOURCE_DIR/plugin/sql/001_finished_jobs.sql" >/dev/null
jw_psql <<'SQL'
INSERT INTO jobwire_finished_jobs (session_id, job_id, status, error, code, retryable, result, final_event,
    started_at, finished_at, duration_s, final_progress, client_id, broker_generated, node) VALUES
 ('lab', 'old-ok', 'complete', NULL, NULL, NULL, '{"cells":1532}', '{"type":"complete","result":{"cells":1532}}',
  '2026-01-02T03:00:00Z', '2026-01-02T03:10:00Z', 600, 100, 'worker-1', false, 'n1'),
 ('lab', 'old-bad', 'failed', 'disk full', 'ENOSPC', true, NULL, '{"type":"failed","error":"disk full"}',
  NULL, '2026-01-02T04:00:00Z', NULL, 40, 'worker-2', false, 'n1');
INSERT INTO jobwire_events (session_id, job_id, type, event, event_ts, seq, client_id, node)
VALUES ('lab', 'old-ok', 'started', '{"type":"started"}', '2026-01-02T03:00:00Z', 1, 'worker-1', 'n1');
SQL
before=$(jw_psql -F '|' -c "SELECT session_id, job_id, status, coalesce(error,''), coalesce(code,''), coalesce(retryable::text,''), coalesce(result::text,''), final_event::text, coalesce(started_at::text,''), finished_at, coalesce(duration_s::text,''), final_progress, client_id, broker_generated, node, journaled_at FROM jobwire_finished_jobs ORDER BY job_id")
jw_assert_eq "version 1 schema: no attempt column" 0 \
	"$(jw_psql -c "SELECT count(*) FROM information_schema.columns WHERE table_name='jobwire_finished_jobs' AND column_name='attempt'")"

JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_pg_conninfo $JW_PG_CONNINFO
plugin_opt_node_name node-a
plugin_opt_log_rate 0"
jw_start_broker a

# --- Migrated in place, nothing lost.
jw_check "schema version 2 recorded" jw_wait_sql 1 "SELECT count(*) FROM jobwire_schema_version WHERE version = 2"
jw_assert_eq "the primary key is (session_id, job_id, attempt)" "session_id,job_id,attempt" \
	"$(jw_psql -c "SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum)) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = 'jobwire_finished_jobs'::regclass AND i.indisprimary")"
after=$(jw_psql -F '|' -c "SELECT session_id, job_id, status, coalesce(error,''), coalesce(code,''), coalesce(retryable::text,''), coalesce(result::text,''), final_event::text, coalesce(started_at::text,''), finished_at, coalesce(duration_s::text,''), final_progress, client_id, broker_generated, node, journaled_at FROM jobwire_finished_jobs ORDER BY job_id")
jw_assert_eq "every old row kept, every column unchanged" "$before" "$after"
jw_assert_eq "old rows are attempt 1" "1 1" "$(jw_psql -c "SELECT string_agg(attempt::text, ' ') FROM jobwire_finished_jobs")"
jw_assert_eq "old events kept" 1 "$(jw_psql -c "SELECT count(*) FROM jobwire_events")"

# --- A job failed, retried twice: a row per attempt.
retry_round() { # attempt-to-open
	jw_pub -q 1 -t jobs/lab/stack/control -m '{"action":"retry","requested_by":"alice"}'
	jw_pub -i worker-9 -q 1 -t jobs/lab/stack/started -m '{"name":"Stack"}'
}
jw_pub -i worker-9 -q 1 -t jobs/lab/stack/started -m '{"name":"Stack"}'
jw_pub -i worker-9 -q 1 -t jobs/lab/stack/progress -m '{"progress":70}'
jw_pub -i worker-9 -q 1 -t jobs/lab/stack/failed -m '{"error":"GPU lost","code":"gpu","retryable":true}'
jw_check "attempt 1 journaled" jw_wait_sql 1 "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id='stack'"
retry_round
jw_pub -i worker-9 -q 1 -t jobs/lab/stack/progress -m '{"progress":20}'
jw_pub -i worker-9 -q 1 -t jobs/lab/stack/failed -m '{"error":"GPU lost again","code":"gpu","retryable":true}'
jw_check "attempt 2 journaled" jw_wait_sql 2 "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id='stack'"
retry_round
jw_pub -i worker-9 -q 1 -t jobs/lab/stack/complete -m '{"result":{"planes":80}}'
jw_check "attempt 3 journaled" jw_wait_sql 3 "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id='stack'"
jw_assert_eq "one row per attempt, each with its own end" \
	"1|failed|GPU lost|70
2|failed|GPU lost again|20
3|complete||100" \
	"$(jw_psql -F '|' -c "SELECT attempt, status, coalesce(error,''), final_progress FROM jobwire_finished_jobs WHERE job_id='stack' ORDER BY attempt")"
# A retransmitted end of attempt 3 adds nothing.
jw_pub -i worker-9 -q 1 -t jobs/lab/stack/complete -m '{"result":{"planes":80}}'
sleep 0.5
jw_assert_eq "a repeat of the last end leaves three rows" 3 \
	"$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE job_id='stack'")"

# --- A second start: the migration finds its work done.
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
jw_start_broker b
jw_check "second broker connected to the journal" jw_wait_sql 1 "SELECT count(*) FROM jobwire_schema_version WHERE version = 3"
sleep 0.5
jw_assert_eq "after a second start: all rows still there" 5 "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs")"
jw_check "the broker logged no journal error" bash -c "! grep -qi 'journal.*error' '$JW_LOG'"

# --- jobwire history shows the attempts.
export JOBWIRE_PG="$JW_PG_CONNINFO"
jw_capture "$JW_CLI" history --job stack
jw_assert_eq "history: exit 0" 0 "$JW_RC"
jw_assert_eq "history: a row per attempt, the newest first" "lab/stack #3|lab/stack #2|lab/stack" \
	"$(echo "$JW_OUT" | awk 'NR > 1 { id = $2; if ($3 ~ /^#/) id = id " " $3; print id }' | paste -sd '|')"
jw_capture "$JW_CLI" history --job stack --json
jw_assert_eq "history --json carries attempt" "3 2 1" \
	"$(echo "$JW_OUT" | python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["attempt"]) for l in sys.stdin))')"

jw_done
