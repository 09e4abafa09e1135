#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves retries through a real broker (docs/lifecycle.md, "Retry"): a
# control {"action":"retry"} is refused for an unknown, running, complete,
# failed-not-retryable job and past plugin_opt_max_attempts, each with its
# own reason; accepted for a job that failed with retryable true, it
# reaches the worker on the control topic and shows in the state; the
# worker's next started opens attempt 2, whose events are accepted as for
# a new job; the attempt survives a restart; a stalled (heartbeat_timeout)
# job can be retried.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_notices.sh"

field() { python3 -c 'import json,sys
d=json.loads(sys.argv[1]) if sys.argv[1] else {}
for k in sys.argv[2].split("."): d = d.get(k, {}) if isinstance(d, dict) else {}
print(json.dumps(d) if not isinstance(d, str) else d)' "$1" "$2"; }
# The job's retained state now.
state_now() { timeout 3 mosquitto_sub -p "$JW_PORT" -t "jobs/s1/$1/state" -C 1 -W 2 2>/dev/null; }
# Waits up to 5 s for the state of job $1 to have member $2 equal to $3.
wait_state() {
	local deadline=$((SECONDS + 5))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(field "$(state_now "$1")" "$2")" == "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
# Publishes a retry for job $1 as client $2; prints the complaint.
retry() { pub "$2" "jobs/s1/$1/control" '{"action":"retry"}'; }
# The reason of the newest notice to client $1, once one came.
reason_of() { wait_notice "$1" && field "$(notice_of "$1")" reason; }

data=$(jw_data_dir)
JW_PLUGIN_OPTS="plugin_opt_log_rate 0
plugin_opt_data_dir $data
plugin_opt_max_attempts 3"
jw_start_broker retry
jw_sub "$JW_TMP/events.out" -V 5 -q 1 -t 'jobs/s1/+/control' -t 'jobs/s1/+/started'
jw_sub "$JW_TMP/rej.out" -V 5 -t '$jobwire/rejections/#'

# --- Refusals.
jw_check "retry of an unknown job refused (0x87)" grep -q 'Not authorized' <<<"$(retry nojob c-unknown)"
jw_assert_eq "unknown job: unknown_job" unknown_job "$(reason_of c-unknown)"

jw_pub -q 1 -t jobs/s1/run/started -m '{"name":"Runner"}'
jw_check "retry of a running job refused" grep -q 'Not authorized' <<<"$(retry run c-running)"
jw_assert_eq "running job: not_retryable" not_retryable "$(reason_of c-running)"
jw_assert_eq "running job: the notice says why" "job run is running: only a failed job can be retried" \
	"$(field "$(notice_of c-running)" message)"

jw_pub -q 1 -t jobs/s1/ok/complete -m '{}'
retry ok c-complete >/dev/null
jw_assert_eq "complete job: not_retryable" not_retryable "$(reason_of c-complete)"

jw_pub -q 1 -t jobs/s1/hard/failed -m '{"error":"bad input","retryable":false}'
retry hard c-hard >/dev/null
jw_assert_eq "failed with retryable false: not_retryable" not_retryable "$(reason_of c-hard)"

jw_pub -q 1 -t jobs/s1/unsaid/failed -m '{"error":"bad input"}'
retry unsaid c-unsaid >/dev/null
jw_assert_eq "failed without retryable: not_retryable" not_retryable "$(reason_of c-unsaid)"

# --- Accepted: delivered to the worker, shown in the state.
jw_pub -q 1 -t jobs/s1/j1/started -m '{"name":"Stack","heartbeat_interval_s":30}'
jw_pub -q 1 -t jobs/s1/j1/progress -m '{"progress":60,"message":"plane 60"}'
jw_pub -q 1 -t jobs/s1/j1/failed -m '{"error":"disk full","code":"ENOSPC","retryable":true}'
jw_check "state: failed, attempt 1" wait_state j1 attempt 1
out=$(retry j1 c-ok)
jw_assert_eq "retry of a retryable failure acknowledged" "" "$out"
jw_check "state shows retry_requested" wait_state j1 retry_requested true
st=$(state_now j1)
jw_assert_eq "state still failed until the worker starts again" failed "$(field "$st" status)"
jw_check "state has retry_requested_at" test -n "$(field "$st" retry_requested_at)"
jw_wait_lines "$JW_TMP/events.out" 3
jw_assert_eq "the retry reached the worker on the control topic" 1 \
	"$(msgs "$JW_TMP/events.out" --count jobs/s1/j1/control)"
jw_assert_eq "delivered as sent (with ts)" retry \
	"$(field "$(msgs "$JW_TMP/events.out" | awk -F'\t' '$1=="jobs/s1/j1/control"{print $2}')" action)"
jw_check "other events still refused before started" grep -q 'Not authorized' \
	<<<"$(pub c-early jobs/s1/j1/progress '{"progress":1}')"
jw_assert_eq "before started: job_finished" job_finished "$(reason_of c-early)"

# --- The next started opens attempt 2; its events are accepted as new.
out=$(pub w1 jobs/s1/j1/started '{"name":"Stack","heartbeat_interval_s":30}')
jw_assert_eq "started after the retry acknowledged" "" "$out"
jw_check "state: running, attempt 2" wait_state j1 attempt 2
st=$(state_now j1)
jw_assert_eq "attempt 2 is running" running "$(field "$st" status)"
jw_assert_eq "attempt 2 has no error" "{}" "$(field "$st" error)"
jw_assert_eq "attempt 2 has no request pending" "{}" "$(field "$st" retry_requested)"
out=$(pub w1 jobs/s1/j1/progress '{"progress":10}')
jw_assert_eq "progress below the last attempt's accepted" "" "$out"

# --- The attempt survives a restart.
jw_pub -q 1 -t jobs/s1/j1/failed -m '{"error":"disk full again","retryable":true}'
retry j1 c-ok2 >/dev/null
jw_check "second request shown" wait_state j1 retry_requested true
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
jw_start_broker retry2
jw_sub "$JW_TMP/rej.out" -V 5 -t '$jobwire/rejections/#'
st=$(state_now j1)
jw_assert_eq "after restart: attempt 2, retry pending" "2 true" \
	"$(field "$st" attempt) $(field "$st" retry_requested)"
pub w1 jobs/s1/j1/started '{}' >/dev/null
jw_check "after restart: started opens attempt 3" wait_state j1 attempt 3

# --- The limit: 3 attempts.
jw_pub -q 1 -t jobs/s1/j1/failed -m '{"error":"still failing","retryable":true}'
jw_check "attempt 3 failed" wait_state j1 status failed
jw_check "retry past plugin_opt_max_attempts refused" grep -q 'Not authorized' <<<"$(retry j1 c-limit)"
jw_assert_eq "limit: attempts_exhausted" attempts_exhausted "$(reason_of c-limit)"
jw_check "limit: the notice names the option" bash -c "grep -q plugin_opt_max_attempts <<<'$(field "$(notice_of c-limit)" message)'"

# --- A stalled job (broker-made failure, retryable) can be retried.
jw_pub -q 1 -t jobs/s1/stall/started -m '{"heartbeat_interval_s":0.3}'
jw_check "silent job failed with heartbeat_timeout" wait_state stall code heartbeat_timeout
jw_assert_eq "retry of a stalled job acknowledged" "" "$(retry stall c-stall)"
pub w2 jobs/s1/stall/started '{"heartbeat_interval_s":30}' >/dev/null
jw_check "stalled job runs again as attempt 2" wait_state stall attempt 2

jw_done
