#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire bridge` takes a feed message of up to 16 MiB (its
# stated limit) and drops only a larger one, saying so, then carries on
# with the next connection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

jw_start_broker cli_bridge_size
jw_sub "$JW_TMP/all.out" -V 5 -t 'jobs/#'
data=$JW_SOURCE_DIR/tests/integration/data

# Batch 1: a message of exactly 16 MiB (the limit: read whole, then found
# not to be about a job) and one a byte longer (dropped, which closes the
# connection). Batch 2, on the next connection: a progress_update of the
# usual feed.
python3 - "$JW_TMP/big.jsonl" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for size in (16 << 20, (16 << 20) + 1):
        f.write('{"type":"noise","pad":"%s"}\n' % ("x" * (size - 25)))
PY
sed -n 2p "$data/legacy_batch1.jsonl" >"$JW_TMP/small.jsonl"
LEGACY_WS_DELAY=0.2 python3 "$JW_SOURCE_DIR/tests/integration/legacy_ws_server.py" "$JW_TMP/ws.port" "$JW_TMP/ws.log" \
	"$JW_TMP/big.jsonl" "$JW_TMP/small.jsonl" &
JW_BG_PIDS+=("$!")
deadline=$((SECONDS + 10))
while [ ! -s "$JW_TMP/ws.port" ] && [ $SECONDS -lt $deadline ]; do
	sleep 0.1
done

"$JW_CLI" bridge -p "$JW_PORT" --from "ws://127.0.0.1:$(cat "$JW_TMP/ws.port")/ws/progress" \
	--max-backoff 1s >"$JW_TMP/bridge.out" 2>"$JW_TMP/bridge.err" &
br=$!
JW_BG_PIDS+=("$br")
deadline=$((SECONDS + 30))
while [ $SECONDS -lt $deadline ]; do
	[ "$(grep -c '^connection' "$JW_TMP/ws.log" 2>/dev/null)" = 2 ] && [ -s "$JW_TMP/all.out" ] && break
	sleep 0.2
done
sleep 1
kill -TERM "$br"
wait "$br"
jw_assert_eq "bridge: exit 0 on SIGTERM" 0 "$?"
err=$(cat "$JW_TMP/bridge.err")

jw_assert_eq "one message dropped for its size" 1 "$(grep -c 'message larger than 16 MiB dropped' "$JW_TMP/bridge.err")"
jw_assert_contains "the 16 MiB message was read whole and judged" 'unmapped message ("noise" message names no job' "$err"
jw_assert_eq "reconnected after the drop" 2 "$(grep -c '^connection' "$JW_TMP/ws.log")"
jw_assert_contains "summary line" "2 received, 1 published, 2 unmapped" "$err"
jw_assert_contains "the next connection's event was published" "jobs/legacy/curation_pipeline_scope_1/progress" "$(python3 "$JW_SOURCE_DIR/tests/integration/msgs.py" "$JW_TMP/all.out")"
jw_done
