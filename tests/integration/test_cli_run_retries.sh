#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves `jobwire run --retries N`: a failure says retryable true while a
# retry would be honoured; the command runs again only when a retry is
# requested on the control topic (never on its own), each run announced by
# a started that opens the job's next attempt; at most N times (the last
# failure says retryable false); without a request the wrapper gives up
# after --retry-wait; without --retries nothing changes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

jw_start_broker cli_retries
jw_sub "$JW_TMP/all.out" -V 5 -t 'jobs/#'

field() { python3 -c 'import json,sys
d=json.loads(sys.argv[1]) if sys.argv[1] else {}
v=d.get(sys.argv[2])
print("" if v is None else json.dumps(v) if not isinstance(v, str) else v)' "$1" "$2"; }
state_now() { timeout 3 mosquitto_sub -p "$JW_PORT" -t "jobs/r/$1/state" -C 1 -W 2 2>/dev/null; }
wait_state() { # job member value
	local deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(field "$(state_now "$1")" "$2")" == "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
retry() { jw_pub -q 1 -t "jobs/r/$1/control" -m '{"action":"retry","requested_by":"alice"}'; }
# Waits up to 15 s for background process $1 to end; its status in RC.
wait_exit() {
	local i
	for i in $(seq 150); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	wait "$1"
	RC=$?
}

# 1. Fails once, then succeeds when retried.
count=$JW_TMP/count1
jw_cli run -s r -j once --retries 2 --retry-wait 30s -- sh -c "
	n=\$(cat $count 2>/dev/null || echo 0); n=\$((n + 1)); echo \$n > $count
	echo \"run \$n\"; [ \$n -ge 2 ] || { echo 'GPU lost' >&2; exit 5; }" \
	>"$JW_TMP/once.out" 2>"$JW_TMP/once.err" &
pid=$!
JW_BG_PIDS+=("$pid")
jw_check "first run failed" wait_state once status failed
jw_assert_eq "the failure is retryable (retries left)" true "$(field "$(state_now once)" retryable)"
sleep 1
jw_assert_eq "no re-run without a request" 1 "$(cat "$count")"
jw_check "the wrapper waits for a request" kill -0 "$pid"
retry once
wait_exit "$pid"
jw_assert_eq "retried: the second run succeeded, exit 0" 0 "$RC"
jw_assert_eq "the command ran twice" 2 "$(cat "$count")"
jw_assert_contains "the wrapper says who asked" "retry requested by alice" "$(cat "$JW_TMP/once.err")"
jw_check "state: complete, attempt 2" wait_state once attempt 2
jw_capture jw_cli wait -s r -j once --timeout 5
jw_assert_contains "wait names the attempt" "r/once #2 complete" "$JW_OUT"
jw_assert_eq "attempt 2 complete" complete "$(field "$(state_now once)" status)"
sleep 0.3
jw_assert_eq "started published for each attempt" 2 "$(jw_payloads "$JW_TMP/all.out" jobs/r/once/started | wc -l)"

# 2. Always failing, --retries 1: two runs at most.
count=$JW_TMP/count2
jw_cli run -s r -j always --retries 1 --retry-wait 30s -- sh -c "
	n=\$(cat $count 2>/dev/null || echo 0); echo \$((n + 1)) > $count; exit 7" \
	>/dev/null 2>"$JW_TMP/always.err" &
pid=$!
JW_BG_PIDS+=("$pid")
jw_check "always: first run failed" wait_state always status failed
retry always
wait_exit "$pid"
jw_assert_eq "always: the wrapper exits with the last run's status" 7 "$RC"
jw_assert_eq "always: ran twice (1 + --retries 1)" 2 "$(cat "$count")"
jw_check "always: attempt 2 failed" wait_state always attempt 2
jw_assert_eq "always: the last failure is not retryable" false "$(field "$(state_now always)" retryable)"
out=$(jw_pub -V 5 -q 1 -t jobs/r/always/control -m '{"action":"retry"}' 2>&1)
jw_check "always: a further retry is refused by the broker" grep -q 'Not authorized' <<<"$out"

# 3. No request: the wrapper gives up after --retry-wait.
count=$JW_TMP/count3
t0=$SECONDS
jw_capture jw_cli run -s r -j nobody --retries 3 --retry-wait 1s -- sh -c "echo x >> $count; exit 2"
jw_assert_eq "no request: exits with the command's status" 2 "$JW_RC"
jw_assert_eq "no request: ran once" 1 "$(wc -l <"$count")"
jw_assert_contains "no request: says so" "no retry requested within 1s" "$JW_ERR"
jw_check "no request: gave up promptly" [ $((SECONDS - t0)) -lt 10 ]

# 4. Without --retries a failure says nothing of retryable, as before.
jw_capture jw_cli run -s r -j plain -- sh -c 'exit 3'
jw_assert_eq "plain: exit 3" 3 "$JW_RC"
sleep 0.3
jw_assert_eq "plain: no retryable member" "" \
	"$(field "$(jw_payloads "$JW_TMP/all.out" jobs/r/plain/failed | tail -n 1)" retryable)"

# 5. Bad values are usage errors.
jw_capture jw_cli run -s r -j x --retries -1 -- true
jw_assert_eq "--retries -1: exit 64" 64 "$JW_RC"
jw_capture jw_cli run -s r -j x --retries 2 --retry-wait 0 -- true
jw_assert_eq "--retry-wait 0: exit 64" 64 "$JW_RC"

jw_done
