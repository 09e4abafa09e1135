#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire run` turns a command into a job a user can follow:
# started, progress from the documented output formats, heartbeats,
# complete on exit 0, failed with exit status and stderr tail otherwise,
# the command's own output passed through, a cancel on the control topic
# (SIGTERM, then SIGKILL after the grace period), and a will that fails the
# job at once when the wrapper itself is killed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

jw_start_broker cli_run
jw_sub "$JW_TMP/all.out" -V 5 -t 'jobs/#'

field() { # file topic python-expression-on-d (last message on topic)
	jw_payloads "$1" "$2" | tail -n 1 | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print($3)"
}

# 1. Success with progress lines of every documented kind.
jw_capture jw_cli run -s r -j ok --name "Import plate 7" -- sh -c '
	echo "PROGRESS 1/4 loading"; sleep 0.6
	echo "STEP segment"; echo "Downloading... 50%"; sleep 0.6
	printf "60%%|###   | 6/10\r70%%|####  | 7/10\n"; sleep 0.6
	echo "PROGRESS 3/4 three"; echo done-out; echo to-stderr >&2'
jw_assert_eq "success: exit 0" 0 "$JW_RC"
jw_assert_contains "success: the command's stdout passes through" "done-out" "$JW_OUT"
jw_assert_contains "success: progress lines pass through too" "PROGRESS 1/4 loading" "$JW_OUT"
jw_assert_eq "success: stderr passes through" "to-stderr" "$JW_ERR"
sleep 0.3
jw_assert_eq "started: name and heartbeat interval" "Import plate 7 10" \
	"$(field "$JW_TMP/all.out" jobs/r/ok/started 'd["name"], d["heartbeat_interval_s"]')"
progress=$(jw_payloads "$JW_TMP/all.out" jobs/r/ok/progress | python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    print(d.get("progress", ""), d.get("current", ""), d.get("total", ""), d.get("step", ""), "|", d.get("message", ""))')
jw_assert_contains "progress: PROGRESS n/m gives current and total" " 1 4  | loading" "$progress"
jw_assert_contains "progress: free-standing 50% with the step from STEP" "50   segment | Downloading... 50%" "$progress"
jw_assert_contains "progress: tqdm-style \\r updates" "70   segment |" "$progress"
jw_assert_contains "progress: last count" " 3 4 segment | three" "$progress"
jw_assert_eq "complete: exit status in result" "0" "$(field "$JW_TMP/all.out" jobs/r/ok/complete 'd["result"]["exit_status"]')"
jw_capture jw_cli wait -s r -j ok --timeout 5
jw_assert_eq "success: the broker's state is complete" 0 "$JW_RC"

# 2. Failure: exit status and stderr tail.
jw_capture jw_cli run -s r -j bad -- sh -c 'echo "step 1 ok"; echo "reading input" >&2; echo "disk full" >&2; exit 3'
jw_assert_eq "failure: the wrapper exits with the command's status" 3 "$JW_RC"
sleep 0.3
jw_assert_eq "failed: error names the status and the last stderr line" "True" \
	"$(field "$JW_TMP/all.out" jobs/r/bad/failed '"exited with status 3: disk full" in d["error"]')"
jw_assert_eq "failed: code and details" "exit_status 3 reading input|disk full" \
	"$(field "$JW_TMP/all.out" jobs/r/bad/failed 'd["code"], d["details"]["exit_status"], d["details"]["stderr_tail"].replace("\n","|")')"
jw_capture jw_cli wait -s r -j bad --timeout 5
jw_assert_eq "failure: wait exits 1" 1 "$JW_RC"

# 2b. A NUL byte on stderr: the tail keeps what follows it (as a space),
# and the failed event is delivered (no U+0000 is ever sent).
jw_capture jw_cli run -s r -j nul -- sh -c 'printf "bad\000byte\nlast line\n" >&2; exit 4'
jw_assert_eq "NUL on stderr: exit 4" 4 "$JW_RC"
sleep 0.3
jw_assert_eq "NUL on stderr: delivered, tail kept past the NUL" "exit_status bad byte|last line" \
	"$(field "$JW_TMP/all.out" jobs/r/nul/failed 'd["code"], d["details"]["stderr_tail"].replace("\n","|")')"

# 3. Not found: 127 and a failed job.
jw_capture jw_cli run -s r -j nf -- /nonexistent/tool --flag
jw_assert_eq "missing command: exit 127" 127 "$JW_RC"
jw_assert_contains "missing command: says why" "cannot run \"/nonexistent/tool\"" "$JW_ERR"

# 4. Heartbeats while the command is silent.
jw_capture jw_cli run -s r -j hb --heartbeat 1 -- sleep 2.6
sleep 0.3
n=$(jw_payloads "$JW_TMP/all.out" jobs/r/hb/heartbeat | wc -l)
jw_check "heartbeats: 2 or more in 2.6 s at 1 s ($n)" [ "$n" -ge 2 ]

# 5. Cancel: SIGTERM, the command's trap runs, failed with code cancelled.
jw_cli run -s r -j cx -- sh -c 'trap "echo got-term; exit 143" TERM; echo "PROGRESS 10%"; while :; do sleep 0.1; done' \
	>"$JW_TMP/cx.out" 2>"$JW_TMP/cx.err" &
cx=$!
JW_BG_PIDS+=("$cx")
for _ in $(seq 50); do
	[ -n "$(jw_payloads "$JW_TMP/all.out" jobs/r/cx/progress)" ] && break
	sleep 0.1
done
t0=$(date +%s.%N)
jw_capture jw_cli publish control -s r -j cx action=cancel reason="wrong input" requested_by=alice
wait "$cx"
rc=$?
t1=$(date +%s.%N)
jw_assert_eq "cancel: the wrapper exits with the command's status" 143 "$rc"
jw_assert_contains "cancel: the command got SIGTERM and its output passed through" "got-term" "$(cat "$JW_TMP/cx.out")"
jw_assert_contains "cancel: the wrapper says so" "cancel requested: wrong input" "$(cat "$JW_TMP/cx.err")"
sleep 0.3
jw_assert_eq "cancel: failed with code cancelled, reason and requester" "cancelled: wrong input cancelled False alice" \
	"$(field "$JW_TMP/all.out" jobs/r/cx/failed 'd["error"], d["code"], d["retryable"], d["details"]["requested_by"]')"
echo "  cancel to exit: $(python3 -c "print(round($t1-$t0,2))") s"

# 6. Cancel of a command that ignores SIGTERM: SIGKILL after --grace.
jw_cli run -s r -j stubborn --grace 1s -- sh -c 'trap "" TERM; echo "PROGRESS 5%"; while :; do sleep 0.1; done' \
	>"$JW_TMP/st.out" 2>"$JW_TMP/st.err" &
st=$!
JW_BG_PIDS+=("$st")
for _ in $(seq 50); do
	[ -n "$(jw_payloads "$JW_TMP/all.out" jobs/r/stubborn/progress)" ] && break
	sleep 0.1
done
t0=$(date +%s.%N)
jw_cli publish control -s r -j stubborn action=cancel >/dev/null
wait "$st"
rc=$?
t1=$(date +%s.%N)
jw_assert_eq "grace: killed by SIGKILL (exit 137)" 137 "$rc"
secs=$(python3 -c "print(round($t1-$t0,2))")
jw_check "grace: SIGKILL came after the 1 s grace, not long after (${secs}s)" python3 -c "import sys; sys.exit(not (1.0 <= $secs < 4))"
jw_assert_contains "grace: the wrapper says it escalated" "SIGKILL" "$(cat "$JW_TMP/st.err")"
sleep 0.3
jw_assert_eq "grace: failed, cancelled, signal 9" "cancelled 9" \
	"$(field "$JW_TMP/all.out" jobs/r/stubborn/failed 'd["code"], d["details"]["signal"]')"

# 7. The wrapper is killed: the will fails the job at once; the command dies too.
"$JW_CLI" run -p "$JW_PORT" -s r -j lost -- sh -c 'echo $$ > "'"$JW_TMP"'/lost.pid"; echo "PROGRESS 20%"; exec sleep 30' \
	>/dev/null 2>&1 &
lost=$!
for _ in $(seq 50); do
	[ -s "$JW_TMP/lost.pid" ] && [ -n "$(jw_payloads "$JW_TMP/all.out" jobs/r/lost/progress)" ] && break
	sleep 0.1
done
kill -9 "$lost"
wait "$lost" 2>/dev/null
jw_capture jw_cli wait -s r -j lost --timeout 5
jw_assert_eq "killed wrapper: the job is failed within 5 s" 1 "$JW_RC"
jw_assert_eq "killed wrapper: the will's code" "worker_lost" \
	"$(field "$JW_TMP/all.out" jobs/r/lost/failed 'd["code"]')"
sleep 0.5
child=$(cat "$JW_TMP/lost.pid")
# Gone, or a zombie waiting for init to reap it.
state=$(ps -o stat= -p "$child" 2>/dev/null | tr -d ' ')
case "$state" in
	"" | Z*) jw_pass "killed wrapper: the command was stopped too" ;;
	*) jw_fail "killed wrapper: the command still runs (state $state)" ;;
esac

# 8. Clean ends send no will: the successful job stays complete.
jw_assert_eq "no will after a clean end" "" "$(jw_payloads "$JW_TMP/all.out" jobs/r/ok/failed)"

# 9. Broker unreachable: the command is not run.
dead=$(jw_free_port)
jw_capture "$JW_CLI" run -p "$dead" -s r -j never -- touch "$JW_TMP/ran"
jw_assert_eq "unreachable broker: exit 3" 3 "$JW_RC"
jw_check "unreachable broker: the command did not run" [ ! -e "$JW_TMP/ran" ]

jw_done
