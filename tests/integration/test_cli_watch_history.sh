#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire watch --session S --job J` prints the job's history
# first (every attempt, with seq) and then its live events, each event
# once, as lines or JSON objects; that a job not yet known is followed from
# its first event; and that --exit-when-done stops after the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

jw_start_broker cli_watch_history

jw_pub -q 1 -t jobs/s/j1/started -m '{"name":"Scan"}'
jw_pub -q 1 -t jobs/s/j1/failed -m '{"error":"disk full","retryable":true}'
jw_pub -q 1 -t jobs/s/j1/control -m '{"action":"retry"}'
jw_pub -q 1 -t jobs/s/j1/started -m '{"name":"Scan"}'
jw_pub -q 1 -t jobs/s/j1/progress -m '{"progress":40,"step":"a"}'

jw_cli watch -s s -j j1 --json --exit-when-done --timeout 20 >"$JW_TMP/json.out" 2>"$JW_TMP/json.err" &
wj=$!
jw_cli watch -s s -j j1 --exit-when-done --timeout 20 >"$JW_TMP/plain.out" 2>"$JW_TMP/plain.err" &
wp=$!
# Live events while and after the history is asked for.
for p in 50 60 70; do
	jw_pub -q 1 -t jobs/s/j1/progress -m "{\"progress\":$p}"
	sleep 0.3
done
jw_pub -q 1 -t jobs/s/j1/complete -m '{"result":{}}'
wait "$wj"
jw_assert_eq "watch --job --json: exits 0 after complete" 0 "$?"
wait "$wp"
jw_assert_eq "watch --job: exits 0 after complete" 0 "$?"

if python3 - "$JW_TMP/json.out" <<'PY'; then
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
got = [(r["seq"], r["attempt"], r["type"]) for r in rows]
want = [(1,1,"started"),(2,1,"failed"),(3,1,"control"),(4,2,"started"),(5,2,"progress"),
        (6,2,"progress"),(7,2,"progress"),(8,2,"progress"),(9,2,"complete")]
ok = got == want and all(r["session"] == "s" and r["job"] == "j1" and "ts" in r["event"] for r in rows)
if not ok:
    print("# got", got)
sys.exit(0 if ok else 1)
PY
	jw_pass "watch --job --json: history then live events, every seq once, attempts counted"
else
	jw_fail "watch --job --json: $(cat "$JW_TMP/json.out" "$JW_TMP/json.err")"
fi
jw_assert_eq "watch --job: one line per event" 9 "$(wc -l <"$JW_TMP/plain.out")"
jw_assert_contains "watch --job: a first attempt's line" 's/j1 seq=1 started {"ts":' "$(cat "$JW_TMP/plain.out")"
jw_assert_contains "watch --job: a second attempt's line" 's/j1 #2 seq=9 complete' "$(cat "$JW_TMP/plain.out")"

# A job nobody has heard of yet: followed from its first event.
jw_cli watch -s s -j new --json --exit-when-done --timeout 20 >"$JW_TMP/new.out" 2>"$JW_TMP/new.err" &
wn=$!
sleep 1
jw_pub -q 1 -t jobs/s/new/started -m '{}'
jw_pub -q 1 -t jobs/s/new/failed -m '{"error":"e"}'
wait "$wn"
jw_assert_eq "watch --job on an unknown job: exits after its end" 0 "$?"
jw_assert_eq "watch --job on an unknown job: its events from seq 1" "1 started,2 failed" \
	"$(python3 -c 'import json,sys; print(",".join("%d %s" % (r["seq"], r["type"]) for r in map(json.loads, open(sys.argv[1]))))' "$JW_TMP/new.out")"
jw_assert_eq "watch --job on an unknown job: nothing on stderr" "" "$(cat "$JW_TMP/new.err")"
jw_done
