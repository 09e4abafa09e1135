#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire bridge` republishes a legacy progress WebSocket feed
# (the seed formats: progress_update, progress, variant_update, Processing*,
# ValidationRequired, job_*) as valid jobwire events the broker accepts,
# reports unmappable messages and broker refusals instead of guessing,
# waits for a feed that is not up yet and reconnects with backoff when the
# feed closes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

jw_start_broker cli_bridge
jw_sub "$JW_TMP/all.out" -V 5 -t 'jobs/#'
data=$JW_SOURCE_DIR/tests/integration/data

# The bridge starts first: the feed is down, so it retries.
ws_port=$(jw_free_port)
"$JW_CLI" bridge -p "$JW_PORT" --from "ws://127.0.0.1:$ws_port/ws/progress" --max-backoff 1s \
	>"$JW_TMP/bridge.out" 2>"$JW_TMP/bridge.err" &
br=$!
JW_BG_PIDS+=("$br")
sleep 1.5
LEGACY_WS_PORT=$ws_port python3 "$JW_SOURCE_DIR/tests/integration/legacy_ws_server.py" "$JW_TMP/ws.port" "$JW_TMP/ws.log" \
	"$data/legacy_batch1.jsonl" "$data/legacy_batch2.jsonl" &
JW_BG_PIDS+=("$!")

# 14 feed messages: 10 republished, 1 refused by the broker, 2 unmapped, 1 ignored.
deadline=$((SECONDS + 20))
while [ $SECONDS -lt $deadline ]; do
	grep -q 'refused an event' "$JW_TMP/bridge.err" && break
	sleep 0.2
done
sleep 0.5
kill -TERM "$br"
wait "$br"
jw_assert_eq "bridge: exit 0 on SIGTERM" 0 "$?"
err=$(cat "$JW_TMP/bridge.err")

jw_assert_contains "feed down at first: retried" "cannot connect to ws://127.0.0.1:$ws_port/ws/progress" "$err"
jw_assert_eq "feed closed after batch 1: reconnected (2 connections)" 2 "$(grep -c '^connection' "$JW_TMP/ws.log")"
jw_assert_contains "the path is requested as given" "path /ws/progress" "$(cat "$JW_TMP/ws.log")"
jw_assert_contains "summary line" "14 received, 11 published, 2 unmapped, 1 ignored, 0 invalid, 1 refused by the broker, 2 connections" "$err"
jw_assert_contains "unmapped: not a job" "unmapped message (\"study_created\" is not about a job)" "$err"
jw_assert_contains "unmapped: not JSON" "unmapped message (not JSON" "$err"
jw_assert_contains "broker refusal reported with its reason" "progress_backwards" "$err"

got=$(python3 "$JW_SOURCE_DIR/tests/integration/msgs.py" "$JW_TMP/all.out" | grep -v '/state	' | cut -f1 | tr '\n' ' ')
jw_assert_eq "republished events, in feed order" "jobs/legacy/curation_pipeline_scope_1/progress jobs/legacy/3f2a9c1e/progress jobs/legacy/3f2a9c1e/progress jobs/scope-3/img-42/started jobs/scope-3/img-42/progress jobs/scope-3/img-42/validation-required jobs/scope-3/img-42/complete jobs/legacy/17/started jobs/legacy/17/failed jobs/legacy/curation_pipeline_scope_1/complete " "$got"
jw_assert_eq "progress_update: figures kept" "40 4 10 3 1 Processing curation 4" \
	"$(jw_payloads "$JW_TMP/all.out" jobs/legacy/curation_pipeline_scope_1/progress | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(d["progress"], d["current"], d["total"], d["items_added"], d["items_failed"], d["message"])')"
jw_assert_eq "variant_update: an item added at the job's progress" "45 1 variant 123 chr7:140453136 Tier I" \
	"$(jw_payloads "$JW_TMP/all.out" jobs/legacy/3f2a9c1e/progress | tail -n 1 | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["progress"], d["items_added"], d["message"])')"
jw_assert_eq "ValidationRequired: confidence and threshold" "0.42 0.8 Low focus confidence" \
	"$(jw_payloads "$JW_TMP/all.out" jobs/scope-3/img-42/validation-required | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["confidence"], d["threshold"], d["reason"])')"

# The broker's job table followed: complete and failed outcomes.
jw_capture jw_cli wait -s scope-3 -j img-42 --timeout 3
jw_assert_eq "bridged Z-stack job is complete" 0 "$JW_RC"
jw_capture jw_cli wait -s legacy -j 17 --timeout 3
jw_assert_eq "bridged job 17 is failed" 1 "$JW_RC"
jw_assert_contains "bridged failure keeps the error" "feed unreachable" "$JW_OUT"

# Broker unreachable: exit 3 before touching the feed.
dead=$(jw_free_port)
jw_capture "$JW_CLI" bridge -p "$dead" --from "ws://127.0.0.1:$ws_port/x"
jw_assert_eq "bridge: unreachable broker -> exit 3" 3 "$JW_RC"

jw_done
