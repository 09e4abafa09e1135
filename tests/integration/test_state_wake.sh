#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves a held state update goes out at its due time on an idle broker,
# not a loop timeout or two later (plugin/wake.c): with at most 10 states
# a second per job, an event 20 ms after the one before is held for the
# rest of the 100 ms; a 2.0 broker with nothing to read sleeps up to
# 100 ms in epoll_wait, so without the wake the held state would arrive
# up to 200 ms after the first (140-150 ms measured without the wake: a
# timeout for the TICK that publishes it, and the wait for the pass that
# sends it). The coalescing rule still holds:
# never sooner than 100 ms after the first.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

JW_PLUGIN_OPTS="plugin_opt_state_max_rate 10"
jw_start_broker wake

# The timing means nothing when valgrind runs the broker 20 to 50 times
# slower; the held update's content is still checked there.
timing=1
[ -n "${JW_BROKER_VALGRIND:-}" ] && timing=0

# One job per round; the subscriber prints the arrival time of each state.
rounds=5
gaps=()
for r in $(seq 1 $rounds); do
	out=$JW_TMP/state.$r.out
	mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -V 5 -q 1 -F '%U %p' -t "jobs/s1/w$r/state" >"$out" 2>"$out.err" &
	JW_BG_PIDS+=("$!")
	# The job's first state (started) goes out at once, before the
	# subscriber may be there: the retained copy reaches it either way.
	jw_pub -q 1 -t "jobs/s1/w$r/started" -m '{"name":"wake"}'
	deadline=$((SECONDS + 10))
	until grep -q '"status":"running"' "$out" 2>/dev/null || [ $SECONDS -ge $deadline ]; do
		sleep 0.05
	done
	# Past the rule's interval, so the next event's state goes out at once;
	# the one 20 ms after it is held.
	sleep 0.3
	python3 - "$JW_PORT" "w$r" <<'PY'
import socket, struct, sys, time
port, job = int(sys.argv[1]), sys.argv[2]
def pkt(t, body): 
    n, rl = len(body), b""
    while True:
        b = n % 128; n //= 128
        rl += bytes([b | (128 if n else 0)])
        if not n: break
    return bytes([t]) + rl + body
def s(x): x = x.encode(); return struct.pack(">H", len(x)) + x
c = socket.create_connection(("127.0.0.1", port))
c.sendall(pkt(0x10, s("MQTT") + bytes([4, 2]) + struct.pack(">H", 30) + s("wake-" + job)))
c.recv(4)
topic = "jobs/s1/%s/progress" % job
# QoS 0 from one connection: the two events 20 ms apart, not a process
# start apart.
c.sendall(pkt(0x30, s(topic) + b'{"progress": 10}'))
time.sleep(0.02)
c.sendall(pkt(0x30, s(topic) + b'{"progress": 20}'))
time.sleep(0.5)
c.sendall(b"\xe0\x00")
c.close()
PY
	deadline=$((SECONDS + 10))
	until grep -q '"progress":20' "$out" 2>/dev/null || [ $SECONDS -ge $deadline ]; do
		sleep 0.05
	done
	gap=$(python3 - "$out" <<'PY'
import json, sys
t = {}
for line in open(sys.argv[1]):
    ts, _, payload = line.partition(" ")
    try:
        p = json.loads(payload).get("progress")
    except ValueError:
        continue
    if p in (10, 20) and p not in t:
        t[p] = float(ts)
print("%.0f" % ((t[20] - t[10]) * 1000) if 10 in t and 20 in t else "missing")
PY
)
	gaps+=("$gap")
done
echo "held state after the one before it (ms): ${gaps[*]}"

for r in $(seq 1 $rounds); do
	jw_check "round $r: the event at once, then the held one" test "${gaps[$((r - 1))]}" != missing
done
if [ "$timing" -eq 1 ]; then
	for r in $(seq 1 $rounds); do
		g=${gaps[$((r - 1))]}
		[ "$g" = missing ] && continue
		jw_check "round $r: held for the rule's 100 ms (${g} ms)" test "$g" -ge 90
		jw_check "round $r: out at its due time, not a loop timeout later (${g} ms)" test "$g" -le 125
	done
fi
jw_done
