#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Reviews in the PostgreSQL journal (a real PostgreSQL 15 cluster): every
# answered review is one row of jobwire_reviews with the question (reason,
# confidence, threshold, item), the answer (choice, comment, who) and both
# times; a refused review leaves no row; `jobwire history --reviews` lists
# them, as a table and as JSON lines.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
source "$(dirname "$0")/lib_cli.sh"
jw_pg_journal_setup
JW_PLUGIN_OPTS="$JW_PLUGIN_OPTS
plugin_opt_node_name node-r"
jw_start_broker a

ask='{"reason":"Segmentation confidence below threshold","confidence":0.41,"threshold":0.8,"item":{"slice":97},"actions":["approve","reject"],"ts":"2026-01-02T03:04:05.000Z"}'
jw_pub -V 5 -q 1 -i worker-1 -t jobs/lab/seg-1/started -m '{"name":"Z-stack"}'
jw_pub -V 5 -q 1 -i worker-1 -t jobs/lab/seg-1/validation-required -m "$ask"
jw_pub -V 5 -q 1 -i dash-1 -t jobs/lab/seg-1/control -m '{"action":"review","choice":"rerun"}' 2>/dev/null
jw_pub -V 5 -q 1 -i dash-1 -u alice -t jobs/lab/seg-1/control -m '{"action":"review","choice":"reject","comment":"out of focus"}'
jw_check "the review has its row" jw_wait_sql 1 "SELECT count(*) FROM jobwire_reviews WHERE session_id='lab' AND job_id='seg-1'"
row=$(jw_psql -F '|' -c "SELECT reason, confidence, threshold, item::text, choice, comment, answered_by, asked_at AT TIME ZONE 'UTC', answered_at > asked_at, client_id, username, node, control->>'action' FROM jobwire_reviews WHERE job_id='seg-1'")
jw_assert_eq "row content of a review" \
	'Segmentation confidence below threshold|0.41|0.8|{"slice": 97}|reject|out of focus|dash-1|2026-01-02 03:04:05|t|dash-1|alice|node-r|review' "$row"

# A second question on the same job, answered without comment; the other
# job's question offers nothing, so any choice goes.
jw_pub -V 5 -q 1 -i worker-1 -t jobs/lab/seg-1/progress -m '{"progress":40}'
jw_pub -V 5 -q 1 -i worker-1 -t jobs/lab/seg-1/validation-required -m '{"reason":"Second look","confidence":0.3}'
jw_pub -V 5 -q 1 -i dash-2 -t jobs/lab/seg-1/control -m '{"action":"review","choice":"keep going"}'
jw_pub -V 5 -q 1 -i worker-2 -t jobs/other/imp-1/validation-required -m '{"reason":"Check mapping","confidence":0.9}'
jw_pub -V 5 -q 1 -i dash-3 -t jobs/other/imp-1/control -m '{"action":"review","choice":"approve"}'
jw_check "three rows in all" jw_wait_sql 3 "SELECT count(*) FROM jobwire_reviews"
jw_assert_eq "no threshold or comment: NULL" "t|t|dash-2" \
	"$(jw_psql -F '|' -c "SELECT threshold IS NULL, comment IS NULL, answered_by FROM jobwire_reviews WHERE reason='Second look'")"
jw_assert_eq "the refused review left no row" 0 "$(jw_psql -c "SELECT count(*) FROM jobwire_reviews WHERE choice='rerun'")"
jw_assert_eq "first attempts: attempt 1" 3 "$(jw_psql -c "SELECT count(*) FROM jobwire_reviews WHERE attempt = 1")"

# A retried job's second attempt asks again: its row says attempt 2.
jw_pub -V 5 -q 1 -i worker-3 -t jobs/lab/seg-2/started -m '{}'
jw_pub -V 5 -q 1 -i worker-3 -t jobs/lab/seg-2/failed -m '{"error":"GPU lost","retryable":true}'
jw_pub -V 5 -q 1 -i dash-4 -t jobs/lab/seg-2/control -m '{"action":"retry"}'
jw_pub -V 5 -q 1 -i worker-3 -t jobs/lab/seg-2/started -m '{}'
jw_pub -V 5 -q 1 -i worker-3 -t jobs/lab/seg-2/validation-required -m '{"reason":"Retry check","confidence":0.5}'
jw_pub -V 5 -q 1 -i dash-4 -t jobs/lab/seg-2/control -m '{"action":"review","choice":"fine"}'
jw_check "the second attempt's review has its row" jw_wait_sql 1 "SELECT count(*) FROM jobwire_reviews WHERE job_id='seg-2'"
jw_assert_eq "its row says attempt 2" 2 "$(jw_psql -c "SELECT attempt FROM jobwire_reviews WHERE job_id='seg-2'")"

export JOBWIRE_PG="$JW_PG_CONNINFO"
jw_capture "$JW_CLI" history --reviews
jw_assert_eq "history --reviews: exit 0" 0 "$JW_RC"
jw_assert_eq "history --reviews: newest first, a later attempt as #N" "lab/seg-2 #2 other/imp-1 lab/seg-1 lab/seg-1 " \
	"$(echo "$JW_OUT" | awk 'NR > 1 { print ($3 ~ /^#/) ? $2 " " $3 : $2 }' | tr '\n' ' ')"
jw_assert_contains "history --reviews: choice, who, confidence, threshold, reason and comment" \
	"reject       dash-1            0.41  0.80" "$JW_OUT"
jw_assert_contains "history --reviews: reason and comment" \
	"Segmentation confidence below threshold: out of focus" "$JW_OUT"
jw_capture "$JW_CLI" history --reviews --session lab --job seg-1 --json --limit 1
jw_assert_eq "history --reviews --json: the newest row of the job" "seg-1 keep going 0.3 node-r" \
	"$(echo "$JW_OUT" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["job_id"], d["choice"], d["confidence"], d["node"])')"
jw_capture "$JW_CLI" history --reviews --session nobody
jw_assert_eq "history --reviews: no match is not an error" 0 "$JW_RC"
jw_assert_contains "history --reviews: no match says so" "no reviews match" "$JW_ERR"
jw_capture "$JW_CLI" history --reviews --db "host=127.0.0.1 port=$JW_PG_PORT dbname=postgres user=postgres"
jw_assert_eq "history --reviews: no table -> exit 3" 3 "$JW_RC"
jw_assert_contains "history --reviews: no table explained" "table jobwire_reviews does not exist" "$JW_ERR"
jw_done
