#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that the three examples work as their README one-liners say: the
# mosquitto_pub shell worker and the paho-mqtt Python worker run a job to
# completion with only valid events (the Python one also honours a cancel),
# and the microscopy-station simulator acquires a Z-stack with per-plane
# steps, validation requests and heartbeats, keeps a retained online /
# offline status with a will, and survives a broker restart by buffering
# its events and sending them once the broker is back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

station=$JW_BUILD_DIR/examples/microscope/jobwire-station
ex=$JW_SOURCE_DIR/examples
# Debian's python3-paho-mqtt belongs to the system python.
py=/usr/bin/python3
jw_start_broker cli_examples
jw_sub "$JW_TMP/rej.out" -V 5 -t '$jobwire/rejections/#'
jw_sub "$JW_TMP/all.out" -V 5 -t 'jobs/#'

# Shell worker.
jw_capture env JW_PORT="$JW_PORT" JW_STEP_DELAY=0.05 bash "$ex/shell-worker.sh" ex sh1
jw_assert_eq "shell worker: exit 0" 0 "$JW_RC"
jw_capture jw_cli wait -s ex -j sh1 --timeout 5
jw_assert_eq "shell worker: job complete" 0 "$JW_RC"
jw_assert_eq "shell worker: 5 progress events" 5 "$(jw_payloads "$JW_TMP/all.out" jobs/ex/sh1/progress | wc -l)"

# Python worker.
jw_capture "$py" "$ex/python_worker.py" --port "$JW_PORT" --items 8 --delay 0.02 ex py1
jw_assert_eq "python worker: exit 0" 0 "$JW_RC"
jw_capture jw_cli wait -s ex -j py1 --timeout 5
jw_assert_eq "python worker: job complete" 0 "$JW_RC"
jw_assert_eq "python worker: 8 progress events" 8 "$(jw_payloads "$JW_TMP/all.out" jobs/ex/py1/progress | wc -l)"
"$py" "$ex/python_worker.py" --port "$JW_PORT" --items 200 --delay 0.05 ex py2 >"$JW_TMP/py2.out" 2>&1 &
pw=$!
JW_BG_PIDS+=("$pw")
for _ in $(seq 50); do
	[ -n "$(jw_payloads "$JW_TMP/all.out" jobs/ex/py2/progress)" ] && break
	sleep 0.1
done
jw_cli publish control -s ex -j py2 action=cancel reason="operator said so" >/dev/null
wait "$pw"
jw_assert_eq "python worker: cancel -> exit 1" 1 "$?"
jw_capture jw_cli wait -s ex -j py2 --timeout 5 --json
jw_assert_eq "python worker: cancelled job is failed with code cancelled" "failed cancelled" \
	"$(echo "$JW_OUT" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["status"], d["code"])')"

# Station: a Z-stack with a broker restart in the middle.
conf=$JW_TMP/cli_examples.conf
"$station" --port "$JW_PORT" --station scope-t --job zs1 --planes 14 --plane-ms 200 --seed 3 \
	--focus-threshold 0.4 --heartbeat 1 >"$JW_TMP/station.out" 2>&1 &
st=$!
JW_BG_PIDS+=("$st")
for _ in $(seq 50); do
	[ "$(jw_payloads "$JW_TMP/all.out" jobs/scope-t/zs1/progress | wc -l)" -ge 6 ] && break
	sleep 0.1
done
kill -9 "$JW_PID"
wait "$JW_PID" 2>/dev/null
sleep 1.5
jw_spawn_mosquitto "$conf" "$JW_TMP/cli_examples_2.log"
JW_PID=$JW_LAST_PID
JW_BROKER_PIDS+=("$JW_PID")
jw_wait_port "$JW_PORT" 10 || jw_fail "broker did not restart"
jw_sub "$JW_TMP/after.out" -V 5 -t 'jobs/#'
wait "$st"
jw_assert_eq "station: exit 0" 0 "$?"
out=$(cat "$JW_TMP/station.out")
jw_assert_contains "station: noticed the outage" "connection lost: buffering events" "$out"
jw_assert_contains "station: buffered while offline" "offline: buffered jobs/scope-t/zs1/progress" "$out"
jw_assert_contains "station: sent the buffer once back" "online again: sending" "$out"
jw_assert_contains "station: nothing dropped" "0 dropped" "$out"
jw_assert_contains "station: low focus asked for validation" "validation requested" "$out"
jw_capture jw_cli wait -s scope-t -j zs1 --timeout 5 --json
jw_assert_eq "station: the restarted broker has the job complete" 0 "$JW_RC"
jw_assert_eq "station: started names its station" scope-t \
	"$(jw_payloads "$JW_TMP/all.out" jobs/scope-t/zs1/started | head -n 1 | jw_json_field station)"
st_state=$(mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t stations/scope-t/state -C 1 -W 2 2>/dev/null)
jw_assert_eq "station: its status was accepted, and its goodbye says offline" offline \
	"$(jw_json_field state <<<"$st_state")"
jw_check "station: its status has its name" grep -q '"name":"Microscope scope-t"' <<<"$st_state"
jw_assert_eq "station: buffered events arrived after the restart, in order, up to complete" "complete" \
	"$(python3 "$JW_SOURCE_DIR/tests/integration/msgs.py" "$JW_TMP/after.out" | grep -v '/state	' | tail -n 1 | cut -f1 | sed 's|.*/||')"
before=$(jw_payloads "$JW_TMP/all.out" jobs/scope-t/zs1/progress | python3 -c '
import json, sys
print(sorted({json.loads(l)["step"] for l in sys.stdin}))')
jw_assert_eq "station: per-plane steps" "['acquire', 'autofocus', 'move_stage', 'save']" "$before"
n_vr=$(grep -c 'validation requested' "$JW_TMP/station.out")
seen_vr=$( (jw_payloads "$JW_TMP/all.out" jobs/scope-t/zs1/validation-required; jw_payloads "$JW_TMP/after.out" jobs/scope-t/zs1/validation-required) | python3 -c '
import json, sys
print(len({json.loads(l)["item"]["plane"] for l in sys.stdin}))')
jw_assert_eq "station: every validation request reached a subscriber" "$n_vr" "$seen_vr"
hb=$( (jw_payloads "$JW_TMP/all.out" jobs/scope-t/zs1/heartbeat; jw_payloads "$JW_TMP/after.out" jobs/scope-t/zs1/heartbeat) | head -n 1 |
	python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print("load_1m" in d["system"] and "memory_percent" in d["system"])')
jw_assert_eq "station: heartbeats carry the system load" "True" "$hb"
status=$(mosquitto_sub -p "$JW_PORT" -t stations/scope-t/status -C 1 -W 3)
jw_assert_contains "station: retained status offline after a clean end" '"state":"offline"' "$status"
# The only refusals allowed: the station's QoS 1 retransmissions after the
# broker's kill -9. Events the broker had delivered, and recorded in its
# job table, whose PUBACK died with it come again after the restart; the
# older progress among them is refused as progress_backwards. Nothing else
# may be refused, and none of them may come from another example.
refusals=$(python3 "$JW_SOURCE_DIR/tests/integration/msgs.py" "$JW_TMP/rej.out" | grep -v '^jwprobe/' | python3 -c '
import json, sys
for line in sys.stdin:
    topic, payload = line.rstrip("\n").split("\t", 1)
    n = json.loads(payload)
    print(n["client_id"], n["reason"], n["topic"])
' | sort | uniq -c | awk '{print $2, $3, $4}')
jw_assert_eq "no rejection notices for any example, except retransmitted progress after the kill -9" "" \
	"$(printf '%s\n' "$refusals" | grep -v '^station-scope-t progress_backwards jobs/scope-t/zs1/progress$' | grep -v '^$')"

# A killed station: the will turns its retained status offline.
"$station" --port "$JW_PORT" --station scope-k --job zs2 --planes 100 --plane-ms 200 >/dev/null 2>&1 &
sk=$!
for _ in $(seq 50); do
	s=$(mosquitto_sub -p "$JW_PORT" -t stations/scope-k/status -C 1 -W 1 2>/dev/null)
	[[ "$s" == *online* ]] && break
	sleep 0.1
done
jw_assert_contains "station: retained status online while running" '"state":"online"' "$s"
kill -9 "$sk"
wait "$sk" 2>/dev/null
sleep 0.5
status=$(mosquitto_sub -p "$JW_PORT" -t stations/scope-k/status -C 1 -W 3)
if jw_broker_at_least 2.1 && [ -z "$status" ]; then
	# The 2.1 development snapshot loses a retained will and the retained
	# message it replaces, with or without jobwire (docs/compatibility.md).
	echo "note: mosquitto $(jw_broker_version) kept no retained status after the will (a known 2.1 development-line difference)"
else
	jw_assert_contains "station: the will sets the status offline" '"state":"offline"' "$status"
fi

jw_done
