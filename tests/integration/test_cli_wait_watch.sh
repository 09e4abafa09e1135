#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire wait` exits 0 on complete, 1 on failed, 2 on timeout
# and 3 when the broker is unreachable, including for a job that ended
# before it was called; and that `jobwire watch` prints one line (or one
# JSON object) per state change when piped, and redraws in place on a
# terminal.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

jw_start_broker cli_wait

# wait, then the job completes.
"$JW_CLI" wait -p "$JW_PORT" -s w -j a --timeout 10 >"$JW_TMP/wa.out" 2>&1 &
wa=$!
sleep 0.5
jw_pub -t jobs/w/a/started -m '{"name":"A"}'
jw_pub -t jobs/w/a/progress -m '{"progress":60,"step":"segment","eta_s":75}'
jw_pub -q 1 -t jobs/w/a/complete -m '{"result":{"n":1}}'
wait "$wa"
jw_assert_eq "wait: complete -> exit 0" 0 "$?"
jw_assert_contains "wait: prints the final state" "w/a complete 100.0%" "$(cat "$JW_TMP/wa.out")"

# wait, then the job fails.
"$JW_CLI" wait -p "$JW_PORT" -s w -j b --timeout 10 >"$JW_TMP/wb.out" 2>&1 &
wb=$!
sleep 0.5
jw_pub -q 1 -t jobs/w/b/failed -m '{"error":"disk full","code":"io"}'
wait "$wb"
jw_assert_eq "wait: failed -> exit 1" 1 "$?"
jw_assert_contains "wait: prints the error" "disk full" "$(cat "$JW_TMP/wb.out")"

# A job that already ended answers at once (retained state).
t0=$(date +%s%N)
jw_capture jw_cli wait -s w -j a --timeout 10
t1=$(date +%s%N)
jw_assert_eq "wait: already complete -> exit 0" 0 "$JW_RC"
jw_check "wait: already complete answers in under 2 s" [ $(((t1 - t0) / 1000000)) -lt 2000 ]
jw_capture jw_cli wait -s w -j b --timeout 10 --json
jw_assert_eq "wait --json: failed -> exit 1" 1 "$JW_RC"
jw_assert_eq "wait --json: the state object" "failed disk full" \
	"$(echo "$JW_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["error"])')"

# Timeout: running job, and unknown job.
jw_pub -t jobs/w/c/progress -m '{"progress":5}'
t0=$(date +%s%N)
jw_capture jw_cli wait -s w -j c --timeout 1s
t1=$(date +%s%N)
jw_assert_eq "wait: still running -> exit 2" 2 "$JW_RC"
jw_assert_contains "wait: timeout says so" "did not end within 1s" "$JW_ERR"
ms=$(((t1 - t0) / 1000000))
jw_check "wait: the timeout is kept (${ms} ms)" [ "$ms" -ge 900 -a "$ms" -lt 4000 ]
jw_capture jw_cli wait -s w -j never --timeout 500ms
jw_assert_eq "wait: unknown job -> exit 2" 2 "$JW_RC"

# Unreachable broker, and a port that is not MQTT.
dead=$(jw_free_port)
jw_capture "$JW_CLI" wait -p "$dead" -s w -j a
jw_assert_eq "wait: unreachable -> exit 3" 3 "$JW_RC"
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
c, _ = s.accept(); time.sleep(5)' "$JW_TMP/silent.port" &
JW_BG_PIDS+=("$!")
for _ in $(seq 50); do [ -s "$JW_TMP/silent.port" ] && break; sleep 0.1; done
jw_capture "$JW_CLI" wait -p "$(cat "$JW_TMP/silent.port")" --connect-timeout 1s -s w -j a
jw_assert_eq "wait: silent server -> exit 3" 3 "$JW_RC"
jw_assert_contains "wait: silent server explained" "no answer within 1s" "$JW_ERR"

# watch, piped: one plain line per change; --json: the state objects.
"$JW_CLI" watch -p "$JW_PORT" -s v >"$JW_TMP/plain.out" 2>&1 &
wp=$!
"$JW_CLI" watch -p "$JW_PORT" -s v --json >"$JW_TMP/json.out" 2>&1 &
wj=$!
JW_BG_PIDS+=("$wp" "$wj")
sleep 0.6
jw_pub -t jobs/v/j1/started -m '{"name":"J1","steps":["load","segment"]}'
sleep 0.3
jw_pub -t jobs/v/j1/progress -m '{"progress":45,"step":"segment","message":"plane 45","eta_s":83}'
sleep 0.3
jw_pub -q 1 -t jobs/v/j1/complete -m '{}'
sleep 0.6
kill "$wp" "$wj"
wait "$wp" "$wj" 2>/dev/null
jw_assert_contains "watch: plain line with percent, ETA, step and message" "v/j1 running 45.0% eta=1m23s step=segment plane 45" "$(cat "$JW_TMP/plain.out")"
jw_assert_contains "watch: plain line for the end" "v/j1 complete 100.0%" "$(cat "$JW_TMP/plain.out")"
jw_assert_eq "watch --json: every line is a state object, the last one complete" "running complete" \
	"$(python3 -c '
import json, sys
st = [json.loads(l)["status"] for l in open(sys.argv[1]) if l.strip()]
print(st[0], st[-1])' "$JW_TMP/json.out")"

# An ETA from the worker of any size prints as a duration.
jw_pub -t jobs/e/long/progress -m '{"progress":5,"eta_s":360000}'
jw_pub -t jobs/e/huge/progress -m '{"progress":5,"eta_s":1e300}'
jw_capture jw_cli watch -s e --plain --timeout 1
jw_assert_contains "watch: a 100-hour ETA" "e/long running 5.0% eta=100h00m" "$JW_OUT"
jw_assert_contains "watch: an ETA of 1e300 s" "e/huge running 5.0% eta=>31y" "$JW_OUT"

# Hostile text in an event never reaches the terminal as control codes.
jw_pub -t jobs/h/j1/progress -m '{"progress":5,"message":"\u001b[2J\u001b]0;pwned\u0007 ok"}'
jw_capture jw_cli watch -s h --plain --timeout 1
jw_check "watch: escape sequences from events are neutralised" sh -c "! printf '%s' \"\$1\" | grep -q \"\$(printf '\\033')\"" _ "$JW_OUT"
jw_assert_contains "watch: the text itself is still shown" "[2J ]0;pwned  ok" "$JW_OUT"

# watch --exit-when-done stops by itself once every job has ended.
jw_capture jw_cli watch -s v --exit-when-done --timeout 5
jw_assert_eq "watch --exit-when-done: exit 0 on finished jobs" 0 "$JW_RC"

# watch on a terminal: the table is redrawn in place (cursor up, clear).
python3 - "$JW_CLI" "$JW_PORT" "$JW_TMP/tty.out" <<'PY' &
import os, pty, sys, time
cli, port, out = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execv(cli, [cli, "watch", "-p", port, "-s", "t", "--timeout", "3"])
buf = b""
end = time.time() + 6
while time.time() < end:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    buf += data
open(out, "wb").write(buf)
PY
tp=$!
sleep 0.8
jw_pub -t jobs/t/j1/progress -m '{"progress":10}'
sleep 0.4
jw_pub -t jobs/t/j1/progress -m '{"progress":80}'
wait "$tp"
tty=$(cat -v "$JW_TMP/tty.out")
jw_assert_contains "watch on a TTY: progress bar" "[################----]  80.0%" "$tty"
jw_assert_contains "watch on a TTY: moves the cursor up to redraw" "^[[1A" "$tty"

jw_done
