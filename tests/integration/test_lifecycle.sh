#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the broker keeps each job's lifecycle: a late subscriber gets the
# retained state at once; 1000 progress events a second become at most
# ~10 state messages a second ending on the last event; a silent worker is
# failed with heartbeat_timeout; a retransmitted terminal event is
# acknowledged and not delivered twice; later events are refused; control
# cancels reach the worker and show in the state; the table is bounded.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
msgs() { python3 "$here/msgs.py" "$@"; }
field() { python3 -c 'import json,sys
d=json.loads(sys.argv[1]) if sys.argv[1] else {}
for k in sys.argv[2].split("."): d = d.get(k, {}) if isinstance(d, dict) else {}
print(json.dumps(d) if not isinstance(d, str) else d)' "$1" "$2"; }
last_payload() { msgs "$1" | awk -F'\t' -v t="$2" '$1==t{p=$2} END{print p}'; }

JW_PLUGIN_OPTS="plugin_opt_stats_interval 1
plugin_opt_log_rate 0"
jw_start_broker lifecycle
jw_sub "$JW_TMP/raw.out" -V 5 -q 1 -t 'jobs/+/+/+' -t '$jobwire/rejections/#'

# --- A subscriber arriving mid-job gets the state at once.
jw_pub -q 1 -t jobs/s1/late/started -m '{"name":"Late join","total":10}'
jw_pub -q 1 -t jobs/s1/late/progress -m '{"current":4,"total":10,"step":"align"}'
sleep 0.3
state=$(timeout 3 mosquitto_sub -p "$JW_PORT" -t jobs/s1/late/state -C 1 -W 2 2>/dev/null)
jw_assert_eq "late subscriber: state arrives at once, running" running "$(field "$state" status)"
jw_assert_eq "late subscriber: progress 40 from current/total" 40 "$(field "$state" progress)"
jw_assert_eq "late subscriber: name from started" "Late join" "$(field "$state" name)"

# --- 1000 progress events a second for one job.
jw_sub "$JW_TMP/state.out" -V 5 -q 1 -t jobs/s1/fast/state
python3 -c '
import time, sys
for i in range(1, 2001):
    print("{\"progress\": %.2f, \"message\": \"tick %d\"}" % (i * 0.05, i))
' >"$JW_TMP/fast.txt"
t0=$(date +%s.%N)
python3 - "$JW_TMP/fast.txt" <<'PY' | mosquitto_pub -p "$JW_PORT" -q 1 -t jobs/s1/fast/progress -l
import sys, time
lines = open(sys.argv[1]).read().splitlines()
start = time.monotonic()
for i, line in enumerate(lines):
    # 1000 events a second: line i is due at start + i ms.
    delay = start + i / 1000.0 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
PY
t1=$(date +%s.%N)
sleep 0.5
raw_fast=$(msgs "$JW_TMP/raw.out" --count jobs/s1/fast/progress)
states=$(msgs "$JW_TMP/state.out" --count jobs/s1/fast/state)
secs=$(python3 -c "print(max(1.0, $t1 - $t0))")
jw_assert_eq "all 2000 raw progress events delivered" 2000 "$raw_fast"
jw_check "state messages rate-limited to ~10/s ($states in ${secs}s)" \
	python3 -c "import sys; sys.exit(0 if 5 <= $states <= 10 * $secs + 3 else 1)"
last=$(last_payload "$JW_TMP/state.out" jobs/s1/fast/state)
jw_assert_eq "last state equals the last event (progress)" 100 "$(field "$last" progress)"
jw_assert_eq "last state equals the last event (message)" "tick 2000" "$(field "$last" message)"

# --- Terminal events: retransmission acknowledged once, later events refused.
jw_pub -V 5 -q 1 -t jobs/s1/done/started -m '{"name":"Finisher"}'
payload='{"result":{"rows":3},"message":"all good"}'
out1=$(jw_pub -V 5 -q 1 -t jobs/s1/done/complete -m "$payload" 2>&1); rc1=$?
out2=$(jw_pub -V 5 -q 1 -t jobs/s1/done/complete -m "$payload" 2>&1); rc2=$?
jw_assert_eq "first complete acknowledged" "0:" "$rc1:$out1"
jw_assert_eq "exact repeat acknowledged (no 0x87)" "0:" "$rc2:$out2"
out3=$(jw_pub -V 5 -q 1 -i late-progress -t jobs/s1/done/progress -m '{"progress":99}' 2>&1)
jw_check "progress after complete refused with 0x87" grep -q 'Not authorized' <<<"$out3"
out4=$(jw_pub -V 5 -q 1 -i other-complete -t jobs/s1/done/complete -m '{"message":"again"}' 2>&1)
jw_check "a different complete after complete refused" grep -q 'Not authorized' <<<"$out4"
sleep 0.5
jw_assert_eq "complete delivered exactly once" 1 "$(msgs "$JW_TMP/raw.out" --count jobs/s1/done/complete)"
jw_assert_eq "refusal reason job_finished" job_finished \
	"$(field "$(last_payload "$JW_TMP/raw.out" '$jobwire/rejections/late-progress')" reason)"
state=$(timeout 3 mosquitto_sub -p "$JW_PORT" -V 5 -t jobs/s1/done/state -C 1 -W 2 -F '%E %p' 2>/dev/null)
jw_check "finished state carries a message expiry ($state)" grep -Eq '^[0-9]+ \{' <<<"$state"
jw_assert_eq "finished state: complete, progress 100" "complete 100" \
	"$(field "${state#* }" status) $(field "${state#* }" progress)"

# --- Progress never goes backwards.
jw_pub -q 1 -t jobs/s1/mono/progress -m '{"progress":55}'
jw_pub -q 1 -i backwards -t jobs/s1/mono/progress -m '{"progress":40}'
sleep 0.3
jw_assert_eq "backwards progress refused" progress_backwards \
	"$(field "$(last_payload "$JW_TMP/raw.out" '$jobwire/rejections/backwards')" reason)"

# --- Control: cancel reaches the worker and shows in the state.
jw_sub "$JW_TMP/worker.out" -q 1 -t jobs/s1/cancel-me/control
jw_pub -q 1 -t jobs/s1/cancel-me/started -m '{"name":"Cancellable"}'
jw_pub -q 1 -i viewer-1 -t jobs/s1/cancel-me/control -m '{"action":"cancel","reason":"wrong input"}'
jw_pub -q 1 -i viewer-2 -t jobs/s1/nosuchjob/control -m '{"action":"cancel"}'
jw_pub -q 1 -i viewer-3 -t jobs/s1/done/control -m '{"action":"cancel"}'
sleep 0.5
jw_assert_eq "cancel delivered to the worker" 1 "$(msgs "$JW_TMP/worker.out" --count jobs/s1/cancel-me/control)"
state=$(timeout 3 mosquitto_sub -p "$JW_PORT" -t jobs/s1/cancel-me/state -C 1 -W 2 2>/dev/null)
jw_assert_eq "state shows cancel requested" true "$(field "$state" cancel_requested)"
jw_assert_eq "cancel for an unknown job refused" unknown_job \
	"$(field "$(last_payload "$JW_TMP/raw.out" '$jobwire/rejections/viewer-2')" reason)"
jw_assert_eq "cancel for a finished job refused" job_finished \
	"$(field "$(last_payload "$JW_TMP/raw.out" '$jobwire/rejections/viewer-3')" reason)"

# --- A worker killed with kill -9 is failed by the broker.
( jw_pub -q 1 -t jobs/s1/dies/started -m '{"name":"Doomed","heartbeat_interval_s":1}'
  while true; do jw_pub -q 1 -t jobs/s1/dies/heartbeat -m '{}'; sleep 0.3; done ) &
worker=$!
sleep 1.5
kill -9 "$worker"
wait "$worker" 2>/dev/null
killed=$(date +%s.%N)
for _ in $(seq 60); do
	[ "$(msgs "$JW_TMP/raw.out" --count jobs/s1/dies/failed)" -ge 1 ] && break
	sleep 0.1
done
after=$(python3 -c "print(round($(date +%s.%N) - $killed, 1))")
failed=$(last_payload "$JW_TMP/raw.out" jobs/s1/dies/failed)
jw_assert_eq "silent worker failed with heartbeat_timeout" heartbeat_timeout "$(field "$failed" code)"
jw_assert_eq "failure marked broker-generated" true "$(field "$failed" broker_generated)"
jw_check "failed within the 3 s timeout, not before (${after}s after the kill)" \
	python3 -c "import sys; sys.exit(0 if 2.0 <= $after <= 4.5 else 1)"
state=$(timeout 3 mosquitto_sub -p "$JW_PORT" -t jobs/s1/dies/state -C 1 -W 2 2>/dev/null)
jw_assert_eq "state failed with code heartbeat_timeout" "failed heartbeat_timeout" \
	"$(field "$state" status) $(field "$state" code)"

# --- Stats.
sleep 1.2
stats=$(timeout 3 mosquitto_sub -p "$JW_PORT" -t '$jobwire/stats' -C 1 -W 2 2>/dev/null)
jw_check "stats counts accepted progress events" \
	python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d['events']['accepted_by_type']['progress'] >= 2000 else 1)" "$stats"
jw_check "stats counts rejections by reason" \
	python3 -c "import json,sys; d=json.loads(sys.argv[1]); r=d['events']['rejected_by_reason']; sys.exit(0 if r.get('job_finished',0) >= 3 and r.get('unknown_job',0) == 1 and r.get('progress_backwards',0) == 1 else 1)" "$stats"
jw_check "stats counts the notices sent, one per rejection" \
	python3 -c "import json,sys; d=json.loads(sys.argv[1])['events']; sys.exit(0 if d['notices'] == d['rejected'] >= 5 else 1)" "$stats"
jw_check "stats shows jobs by status, stalled, coalesced states, memory" \
	python3 -c "import json,sys; d=json.loads(sys.argv[1]); j=d['jobs']; sys.exit(0 if j['stalled'] >= 1 and j['failed'] >= 1 and j['memory_bytes'] > 0 and d['state']['coalesced'] > 0 and d['events']['duplicates'] == 1 else 1)" "$stats"
# Held updates fall due between packets: the broker's loop is woken for
# them (plugin/wake.c), and the log names the signal it uses.
jw_check "held state updates woke the broker's loop" \
	python3 -c "import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d['state']['loop_wakes'] >= 1 else 1)" "$stats"
jw_check "the log names the wake-up signal" grep -q "held state updates wake the broker's loop at their due time (signal [0-9]*, SIGRTMIN+[0-9]*)" "$JW_LOG"
# --- Bounds: at most 3 jobs; finished ones make room, unfinished do not.
JW_PLUGIN_OPTS="plugin_opt_max_jobs 3"
jw_start_broker bounded
jw_sub "$JW_TMP/bounded.out" -V 5 -q 1 -t 'jobs/+/+/+' -t '$jobwire/rejections/#'
for j in a b c; do jw_pub -q 1 -t "jobs/fill/$j/progress" -m '{"progress":1}'; done
out=$(jw_pub -V 5 -q 1 -i overflow -t jobs/fill/d/progress -m '{"progress":1}' 2>&1)
jw_check "table full of unfinished jobs refuses a new one" grep -q 'Not authorized' <<<"$out"
sleep 0.3
jw_assert_eq "refusal reason too_many_jobs" too_many_jobs \
	"$(field "$(last_payload "$JW_TMP/bounded.out" '$jobwire/rejections/overflow')" reason)"
jw_pub -q 1 -t jobs/fill/a/complete -m '{}'
out=$(jw_pub -V 5 -q 1 -t jobs/fill/d/progress -m '{"progress":1}' 2>&1)
jw_assert_eq "after one job finished, a new job is accepted (oldest finished evicted)" "" "$out"
jw_done
