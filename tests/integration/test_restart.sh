#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the job table survives a broker restart, clean and by kill -9:
# finished jobs stay finished (a repeat of their terminal event is still
# recognised, later events still refused), running jobs keep their
# progress and their stall deadline, and the broker republishes every
# job's retained state even though its own retained store was lost.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
msgs() { python3 "$here/msgs.py" "$@"; }
field() { python3 -c 'import json,sys
d=json.loads(sys.argv[1]) if sys.argv[1] else {}
print(json.dumps(d.get(sys.argv[2])) if not isinstance(d.get(sys.argv[2]), str) else d.get(sys.argv[2]))' "$1" "$2"; }
state_of() { msgs "$1" | awk -F'\t' -v t="jobs/r/$2/state" '$1==t{p=$2} END{print p}'; }

data=$(jw_data_dir)
JW_PLUGIN_OPTS="plugin_opt_data_dir $data"
# The runner's heartbeat interval: its stall deadline (3 x) must outlast two
# broker starts, which take seconds under valgrind.
hb=2
slack=2.5
if [ -n "${JW_BROKER_VALGRIND:-}" ]; then hb=8; slack=6; fi

jw_start_broker first
port=$JW_PORT
jw_pub -q 1 -t jobs/r/done/started -m '{"name":"Finished before restart"}'
jw_pub -q 1 -t jobs/r/done/complete -m '{"result":{"n":1}}'
jw_pub -q 1 -t jobs/r/runner/started -m "{\"name\":\"Runner\",\"heartbeat_interval_s\":$hb}"
jw_pub -q 1 -t jobs/r/runner/progress -m '{"progress":50,"message":"half way"}'
last_event=$(date +%s.%N)
jw_pub -q 1 -t jobs/r/review/progress -m '{"progress":30}'
jw_pub -q 1 -t jobs/r/review/validation-required -m '{"reason":"low focus","confidence":0.42}'
sleep 0.3
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
jw_check "job log written" test -s "$data/jobs.log"

# Same data dir, fresh retained store (persistence false).
jw_start_broker second
jw_check "restart logged with counts" grep -q 'restored 3 jobs' "$JW_LOG"
jw_sub "$JW_TMP/after.out" -V 5 -q 1 -t 'jobs/r/+/+' -t '$jobwire/rejections/#'
sleep 0.3
jw_assert_eq "finished job republished as complete" complete "$(field "$(state_of "$JW_TMP/after.out" done)" status)"
runner=$(state_of "$JW_TMP/after.out" runner)
jw_assert_eq "running job keeps its progress" "running 50 half way" \
	"$(field "$runner" status) $(field "$runner" progress) $(field "$runner" message)"
jw_assert_eq "waiting job keeps waiting" waiting "$(field "$(state_of "$JW_TMP/after.out" review)" status)"
out=$(jw_pub -V 5 -q 1 -t jobs/r/done/complete -m '{"result":{"n":1}}' 2>&1)
jw_assert_eq "repeat of the terminal event still acknowledged after restart" "" "$out"
out=$(jw_pub -V 5 -q 1 -i after-restart -t jobs/r/done/progress -m '{"progress":1}' 2>&1)
jw_check "events for the finished job still refused" grep -q 'Not authorized' <<<"$out"

# The runner's stall deadline (3 x its interval after its last event) survived.
for _ in $(seq $((30 * hb + 50))); do
	[ "$(msgs "$JW_TMP/after.out" --count jobs/r/runner/failed)" -ge 1 ] && break
	sleep 0.1
done
waited=$(python3 -c "print(round($(date +%s.%N) - $last_event, 1))")
jw_assert_eq "runner failed with heartbeat_timeout after restart" heartbeat_timeout \
	"$(field "$(msgs "$JW_TMP/after.out" | awk -F'\t' '$1=="jobs/r/runner/failed"{print $2}')" code)"
jw_check "deadline kept across the restart: failed ${waited}s after its last event ($((3 * hb)) s)" \
	python3 -c "import sys; sys.exit(0 if 3 * $hb - 0.5 <= $waited <= 3 * $hb + $slack else 1)"

# kill -9: whatever was accepted a moment before is still known.
jw_pub -q 1 -t jobs/r/crash/progress -m '{"progress":70,"message":"before the crash"}'
sleep 0.5
kill -9 "$JW_PID"
wait "$JW_PID" 2>/dev/null
jw_start_broker third
jw_sub "$JW_TMP/crash.out" -V 5 -q 1 -t 'jobs/r/+/state'
sleep 0.3
crash=$(state_of "$JW_TMP/crash.out" crash)
jw_assert_eq "state accepted before kill -9 survives" "running 70" "$(field "$crash" status) $(field "$crash" progress)"
jw_assert_eq "runner stays failed after kill -9" failed "$(field "$(state_of "$JW_TMP/crash.out" runner)" status)"
jw_assert_eq "finished job stays finished after kill -9" complete "$(field "$(state_of "$JW_TMP/crash.out" done)" status)"
jw_done
