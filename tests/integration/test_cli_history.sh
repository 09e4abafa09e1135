#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire history` reads the PostgreSQL journal table as the
# plugin defines it (plugin/sql/001_finished_jobs.sql): newest first, with
# the session, job, status and --since filters, JSON lines with every
# column, and clear errors for an unreachable database or a database
# without the journal. Hostile filter values are data, never SQL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pg.sh"
. "$(dirname "$0")/lib_cli.sh"

if [ "$JW_MOSQUITTO" != mosquitto ]; then
	echo "SKIP: no broker involved; runs once, in the normal run"
	exit 77
fi
jw_pg_start || { jw_fail "PostgreSQL did not start"; jw_done; }
jw_psql -f "$JW_SOURCE_DIR/plugin/sql/001_finished_jobs.sql" >/dev/null
jw_psql <<'SQL'
INSERT INTO jobwire_finished_jobs (session_id, job_id, status, error, code, retryable, result, final_event,
    started_at, finished_at, duration_s, final_progress, client_id, broker_generated, node) VALUES
 ('lab', 'seg-1', 'complete', NULL, NULL, NULL, '{"cells":1532}', '{"type":"complete","result":{"cells":1532}}',
  now() - interval '40 minutes', now() - interval '30 minutes', 600, 100, 'worker-1', false, 'n1'),
 ('lab', 'seg-2', 'failed', 'CUDA out of memory while segmenting slice 97', 'out_of_memory', true, NULL,
  '{"type":"failed","error":"CUDA out of memory while segmenting slice 97"}',
  now() - interval '20 minutes', now() - interval '10 minutes', 600.5, 62, 'worker-2', false, 'n1'),
 ('lab', 'old-1', 'failed', 'No event from the worker for 90 s', 'heartbeat_timeout', true, NULL,
  '{"type":"failed","broker_generated":true}', NULL, now() - interval '3 days', NULL, 5, NULL, true, 'n1'),
 ('other', 'imp-1', 'complete', NULL, NULL, NULL, '{"rows":10}', '{"type":"complete"}',
  NULL, now() - interval '5 minutes', 12, 100, 'w', false, 'n2');
SQL
export JOBWIRE_PG="$JW_PG_CONNINFO"

jw_capture "$JW_CLI" history
jw_assert_eq "history: exit 0" 0 "$JW_RC"
order=$(echo "$JW_OUT" | awk 'NR > 1 { print $2 }' | tr '\n' ' ')
jw_assert_eq "history: newest first, all rows" "other/imp-1 lab/seg-2 lab/seg-1 lab/old-1 " "$order"
jw_assert_contains "history: failed row with duration, code and error" \
	"lab/seg-2                        failed      600.5s out_of_memory      CUDA out of memory while segmenting slice 97" "$JW_OUT"

jw_capture "$JW_CLI" history --session lab --status failed
jw_assert_eq "history --session --status" "lab/seg-2 lab/old-1 " "$(echo "$JW_OUT" | awk 'NR > 1 { print $2 }' | tr '\n' ' ')"
jw_capture "$JW_CLI" history --status failed --since 1h
jw_assert_eq "history --since 1h drops the 3-day-old failure" "lab/seg-2 " "$(echo "$JW_OUT" | awk 'NR > 1 { print $2 }' | tr '\n' ' ')"
jw_capture "$JW_CLI" history --since 15m
jw_assert_eq "history --since 15m" "other/imp-1 lab/seg-2 " "$(echo "$JW_OUT" | awk 'NR > 1 { print $2 }' | tr '\n' ' ')"
jw_capture "$JW_CLI" history --limit 1
jw_assert_eq "history --limit 1" 2 "$(echo "$JW_OUT" | wc -l)"
jw_capture "$JW_CLI" history --job seg-1 --json
jw_assert_eq "history --json: every column of the row" "lab seg-1 complete 1532 600 worker-1 False n1" \
	"$(echo "$JW_OUT" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["session_id"], d["job_id"], d["status"], d["result"]["cells"], d["duration_s"], d["client_id"], d["broker_generated"], d["node"])')"
jw_capture "$JW_CLI" history --session nobody
jw_assert_eq "history: no match is not an error" 0 "$JW_RC"
jw_assert_contains "history: no match says so" "no finished jobs match" "$JW_ERR"

# --db wins over JOBWIRE_PG; libpq's own PG* variables work without either.
jw_capture env -u JOBWIRE_PG PGHOST=127.0.0.1 PGPORT="$JW_PG_PORT" PGUSER=postgres PGDATABASE=jobwire "$JW_CLI" history --json
jw_assert_eq "history: PG* environment variables" 4 "$(echo "$JW_OUT" | wc -l)"
jw_capture "$JW_CLI" history --db "host=127.0.0.1 port=$JW_PG_PORT dbname=postgres user=postgres"
jw_assert_eq "history: no journal table -> exit 3" 3 "$JW_RC"
jw_assert_contains "history: no journal table explained" "table jobwire_finished_jobs does not exist" "$JW_ERR"
dead=$(jw_free_port)
jw_capture "$JW_CLI" history --db "host=127.0.0.1 port=$dead dbname=x user=postgres connect_timeout=2"
jw_assert_eq "history: unreachable database -> exit 3" 3 "$JW_RC"
jw_assert_contains "history: unreachable database explained" "cannot connect to the journal database" "$JW_ERR"

# Hostile filters: refused, or matched as plain data.
jw_capture "$JW_CLI" history --session "lab' OR '1'='1"
jw_assert_eq "hostile: quote in --session refused" 64 "$JW_RC"
jw_capture "$JW_CLI" history --status "failed' OR 1=1 --"
jw_assert_eq "hostile: --status injection refused" 64 "$JW_RC"
jw_capture "$JW_CLI" history --since "1h; DROP TABLE jobwire_finished_jobs"
jw_assert_eq "hostile: --since injection refused" 64 "$JW_RC"
jw_capture "$JW_CLI" history --limit -1
jw_assert_eq "hostile: negative --limit refused" 64 "$JW_RC"
jw_assert_eq "hostile: the table is intact" 4 "$(jw_psql -c 'SELECT count(*) FROM jobwire_finished_jobs')"

jw_done
