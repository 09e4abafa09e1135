#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the scaling example (examples/scaling/, docs/operations.md
# "Scaling"): one core broker with the journal and two edge brokers in
# edge mode, bridged by the example files themselves: browsers on both
# edges see state with JWT enforced at the edge, a cancel sent on an edge
# reaches the worker on the core, edge clients cannot inject events or
# state and nothing the core refused reaches an edge, history requests
# are answered through the bridge, the journal has every finished job
# once, and an edge restarted gets back every retained state.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_jwt.sh"
source "$(dirname "$0")/lib_pg.sh"
here=$(dirname "$0")
# Under a preloaded sanitizer runtime libpq cannot run in the broker
# (lib_pg.sh): the core runs without its journal then, and the journal's
# check is left out; the edges are what that run is for.
pg=1
[ -n "${JW_BROKER_PRELOAD:-}" ] && pg=
examples=$JW_SOURCE_DIR/examples/scaling
# Every wait scales with the start timeout (long under valgrind).
T=$((${JW_START_TIMEOUT:-10} * 3))

if [ -n "$pg" ]; then
	jw_pg_start || { echo "cannot start PostgreSQL"; exit 1; }
fi
jw_jwt_secret
data=$(jw_data_dir data-core)

edge1_tok=$(tok --role edge --sessions '*' --sub edge1 --ttl 86400)
edge2_tok=$(tok --role edge --sessions '*' --sub edge2 --ttl 86400)
worker=$(tok --role worker --sessions A,B --sub w)
viewer_a=$(tok --role viewer --sessions A --sub va)
viewer_b=$(tok --role viewer --sessions B --sub vb)
admin=$(tok --role admin --sub root)

core_tcp=$(jw_free_port) core_ws=$(jw_free_port)
e1_tcp=$(jw_free_port) e1_ws=$(jw_free_port)
e2_tcp=$(jw_free_port) e2_ws=$(jw_free_port)

# The example file NAME with this test's ports, paths, key and tokens.
conf_from() { # name
	local nopg=()
	[ -n "$pg" ] || nopg=(-e '/^plugin_opt_pg_conninfo/d')
	sed -e "s#/usr/lib/jobwire/jobwire.so#$JW_PLUGIN#" \
		-e "s#/usr/share/jobwire/schemas#$JW_SCHEMAS#" \
		-e "s#plugin_opt_auth_jwt_public_key_file /etc/jobwire/jwt.pub#plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret#" \
		-e "s#host=/var/run/postgresql dbname=jobwire#$JW_PG_CONNINFO#" \
		"${nopg[@]}" \
		-e "s#^plugin_opt_data_dir /var/lib/jobwire#plugin_opt_data_dir $data#" \
		-e "s#^persistence true#persistence false#" -e "/^persistence_location/d" \
		-e "s#^listener 1883 #listener $core_tcp #" -e "s#^listener 9001 #listener $core_ws #" \
		-e "s#^listener 1884 #listener $e1_tcp #" -e "s#^listener 9011 #listener $e1_ws #" \
		-e "s#^listener 1885 #listener $e2_tcp #" -e "s#^listener 9012 #listener $e2_ws #" \
		-e "s#^address 127.0.0.1:1883#address 127.0.0.1:$core_tcp#" \
		-e "s#EDGE1_TOKEN#$edge1_tok#" -e "s#EDGE2_TOKEN#$edge2_tok#" \
		-e "1i log_type all" -e "1i log_timestamp_format %H:%M:%S" \
		"$examples/$1.conf" >"$JW_TMP/$1.conf"
	chmod 644 "$JW_TMP/$1.conf"
}

start() { # name tcp-port: sets PID_<name>
	jw_spawn_mosquitto "$JW_TMP/$1.conf" "$JW_TMP/$1.log"
	JW_BROKER_PIDS+=("$JW_LAST_PID")
	printf -v "PID_$1" '%s' "$JW_LAST_PID"
	if ! jw_wait_port "$2" "${JW_START_TIMEOUT:-10}" || ! jw_wait_running "$JW_TMP/$1.log" "${JW_START_TIMEOUT:-10}"; then
		echo "broker $1 did not start; log:" >&2
		cat "$JW_TMP/$1.log" >&2
		exit 1
	fi
}

# Waits until FILE has a line matching the extended regex PATTERN.
wait_log() { # file pattern [timeout]
	local deadline=$((SECONDS + ${3:-$T}))
	while [ $SECONDS -lt $deadline ]; do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Waits until FILE has at least N lines matching the extended regex PATTERN.
wait_count() { # file pattern n [timeout]
	local deadline=$((SECONDS + ${4:-$T}))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(grep -Ec "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# Prints the first message on FILTER at PORT with TOKEN (empty: none)
# as "topic payload", within SECONDS.
first() { # port token filter [seconds]
	local auth=()
	[ -n "$2" ] && auth=(-u u -P "$2")
	mosquitto_sub -h 127.0.0.1 -p "$1" "${auth[@]}" -t "$3" -C 1 -W "${4:-$T}" -F '%t %p' 2>/dev/null
}

core_pub() { mosquitto_pub -h 127.0.0.1 -p "$core_tcp" -u w -P "$worker" -q 1 "$@"; }
status_of() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read().split(" ",1)[1])["status"])'; }

for n in core edge1 edge2; do conf_from $n; done
start core "$core_tcp"
# A job before the edges exist: its retained state reaches them when their
# bridges subscribe.
core_pub -t jobs/A/j1/started -m '{"name":"first"}'
core_pub -t jobs/B/j2/started -m '{"name":"other"}'
start edge1 "$e1_tcp"
start edge2 "$e2_tcp"
jw_check "core: edge1's bridge authenticated as edge" wait_log "$JW_TMP/core.log" 'client jobwire-edge1 authenticated as edge'
jw_check "core: edge2's bridge authenticated as edge" wait_log "$JW_TMP/core.log" 'client jobwire-edge2 authenticated as edge'

# --- state on both edges, tokens enforced at the edge ----------------------
jw_assert_eq "edge1: a viewer of A sees A's state" running "$(first "$e1_tcp" "$viewer_a" jobs/A/j1/state | status_of)"
jw_assert_eq "edge2: a viewer of A sees A's state" running "$(first "$e2_tcp" "$viewer_a" jobs/A/j1/state | status_of)"
jw_assert_eq "edge2: a viewer of B sees B's state" running "$(first "$e2_tcp" "$viewer_b" jobs/B/j2/state | status_of)"
jw_assert_eq "edge1: a viewer of A does not see B's state" "" "$(first "$e1_tcp" "$viewer_a" jobs/B/j2/state 2)"
jw_assert_eq "edge1: a viewer of A cannot subscribe to every session" "" "$(first "$e1_tcp" "$viewer_a" 'jobs/+/+/state' 2)"
jw_check "edge1: no token, no connection" bash -c "! mosquitto_sub -h 127.0.0.1 -p $e1_tcp -t jobs/A/j1/state -C 1 -W 3 2>/dev/null"
jw_check "edge1: refusal logged by the plugin" wait_log "$JW_TMP/edge1.log" 'jobwire: refused client' 5
jw_check "edge1: a forged token, no connection" bash -c "! mosquitto_sub -h 127.0.0.1 -p $e1_tcp -u u -P '${viewer_a}x' -t jobs/A/j1/state -C 1 -W 3 2>/dev/null"

# Live subscribers on the edges for the rest: everything of A on each,
# an admin (every session) on edge2.
mosquitto_sub -h 127.0.0.1 -p "$e1_tcp" -u u -P "$viewer_a" -i va-e1 -t 'jobs/A/#' -F '%t %p' >"$JW_TMP/e1.out" 2>&1 &
JW_BG_PIDS+=($!)
mosquitto_sub -h 127.0.0.1 -p "$e2_tcp" -u u -P "$admin" -i root-e2 -t 'jobs/#' -t 'stations/#' -F '%t %p' >"$JW_TMP/e2.out" 2>&1 &
JW_BG_PIDS+=($!)
# The worker listens for control on the core.
mosquitto_sub -h 127.0.0.1 -p "$core_tcp" -u u -P "$worker" -i w-ctl -q 1 -t 'jobs/A/+/control' -F '%t %p' >"$JW_TMP/ctl.out" 2>&1 &
JW_BG_PIDS+=($!)
wait_log "$JW_TMP/core.log" 'Sending SUBACK to w-ctl'
wait_log "$JW_TMP/edge1.log" 'Sending SUBACK to va-e1'
wait_log "$JW_TMP/edge2.log" 'Sending SUBACK to root-e2'
# Retained states arrive first: both subscribers are live when they have them.
jw_check "edge1 subscriber live" wait_log "$JW_TMP/e1.out" '^jobs/A/j1/state '
jw_check "edge2 subscriber live" wait_log "$JW_TMP/e2.out" '^jobs/B/j2/state '

# --- what the core refuses never reaches an edge ----------------------------
core_pub -t jobs/A/j1/progress -m '{"progress":150,"message":"invalid-on-core"}'
core_pub -t jobs/A/j1/progress -m '{"progress":40,"message":"valid-on-core"}'
jw_check "edge1: the valid progress arrives" wait_log "$JW_TMP/e1.out" 'valid-on-core'
jw_check "edge2: the valid progress arrives" wait_log "$JW_TMP/e2.out" 'valid-on-core'
jw_check "edge1: its state follows (40)" wait_log "$JW_TMP/e1.out" '^jobs/A/j1/state .*"progress":40'

# --- local clients of an edge cannot inject --------------------------------
for who in "$viewer_a" "$admin"; do
	mosquitto_pub -h 127.0.0.1 -p "$e1_tcp" -u u -P "$who" -q 1 -t jobs/A/j1/progress -m '{"progress":90,"mark":"injected-event"}'
	mosquitto_pub -h 127.0.0.1 -p "$e1_tcp" -u u -P "$who" -q 1 -t jobs/A/j1/state -m '{"status":"complete","mark":"injected-state"}'
	mosquitto_pub -h 127.0.0.1 -p "$e1_tcp" -u u -P "$who" -q 1 -r -t stations/s1/status -m '{"status":"idle","mark":"injected-station"}'
	mosquitto_pub -h 127.0.0.1 -p "$e1_tcp" -u u -P "$who" -q 1 -t '$jobwire/stats' -m '{"mark":"injected-sys"}'
done
jw_check "edge1: the injections were denied" wait_log "$JW_TMP/edge1.log" "Denied PUBLISH from .*'stations/s1/status'"

# --- on the core, an edge's token publishes control and history requests only
mosquitto_pub -h 127.0.0.1 -p "$core_tcp" -u u -P "$edge1_tok" -i edge-tok-probe -q 1 -t jobs/A/j1/progress -m '{"progress":95,"message":"injected-by-edge-token"}'
jw_check "core: an edge token may not publish events" wait_log "$JW_TMP/core.log" "Denied PUBLISH from edge-tok-probe .*'jobs/A/j1/progress'"
jw_assert_eq "core: an edge token does not read the stats" "" "$(first "$core_tcp" "$edge1_tok" '$jobwire/stats' 2)"

# --- a cancel from an edge reaches the worker -------------------------------
mosquitto_pub -h 127.0.0.1 -p "$e1_tcp" -u u -P "$viewer_a" -q 1 -t jobs/A/j1/control -m '{"action":"cancel","reason":"cancel-from-edge1"}'
jw_check "core: the worker gets the cancel sent on edge1" wait_log "$JW_TMP/ctl.out" '^jobs/A/j1/control .*cancel-from-edge1'
# A retained control would stay on the edge before the core saw it.
mosquitto_pub -h 127.0.0.1 -p "$e2_tcp" -u u -P "$viewer_a" -q 1 -r -t jobs/A/j1/control -m '{"action":"cancel","reason":"retained-control"}'
# An invalid control goes out and the core refuses it: nobody gets it.
mosquitto_pub -h 127.0.0.1 -p "$e2_tcp" -u u -P "$viewer_a" -q 1 -t jobs/A/j1/control -m '{"action":"explode","reason":"invalid-control"}'
mosquitto_pub -h 127.0.0.1 -p "$e2_tcp" -u u -P "$viewer_a" -q 1 -t jobs/A/j1/control -m '{"action":"cancel","reason":"cancel-from-edge2"}'
jw_check "core: the worker gets the cancel sent on edge2" wait_log "$JW_TMP/ctl.out" 'cancel-from-edge2'
jw_check "core: the invalid control was refused there" wait_log "$JW_TMP/core.log" 'jobwire: rejected .*jobs/A/j1/control'

# --- history requests through the bridge ------------------------------------
python3 "$here/mqtt5client.py" "$e1_tcp" va-hist --password "$viewer_a" \
	--sub '$jobwire/replies/va-hist/#' --pub '$jobwire/history/A/j1' \
	--response-topic '$jobwire/replies/va-hist/history' --correlation c-1 \
	--wait "$T" --until-messages 1 >"$JW_TMP/hist.out"
jw_check "edge1: a history request is answered through the bridge, with its correlation data" python3 - "$JW_TMP/hist.out" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line).get("message")
    if m:
        r = json.loads(m["payload"])
        ok = (m["topic"] == "$jobwire/replies/va-hist/history" and m["correlation"] == "c-1"
              and r.get("type") == "history" and r.get("session") == "A"
              and [e["type"] for e in r["events"]][:2] == ["started", "progress"])
        sys.exit(0 if ok else 1)
print("# no answer:", open(sys.argv[1]).read())
sys.exit(1)
PY
python3 "$here/mqtt5client.py" "$e1_tcp" va-hist2 --password "$viewer_a" \
	--sub '$jobwire/replies/va-hist2/#' --pub '$jobwire/history/B/j2' \
	--response-topic '$jobwire/replies/va-hist2/history' --correlation c-2 \
	--wait 3 --until-messages 1 >"$JW_TMP/hist2.out"
jw_check "edge1: a viewer of A cannot ask for B's history (0x87, no answer)" \
	bash -c "grep -q '\"puback\": 135' '$JW_TMP/hist2.out' && ! grep -q message '$JW_TMP/hist2.out'"
python3 "$here/mqtt5client.py" "$e1_tcp" va-hist3 --password "$viewer_a" \
	--sub '$jobwire/replies/va-hist3/#' --pub '$jobwire/history/A/j1' \
	--response-topic '$jobwire/replies/va-hist/history' --correlation c-3 \
	--wait 3 --until-messages 1 >"$JW_TMP/hist3.out"
jw_check "edge1: a response topic of another client is refused at the edge" \
	bash -c "grep -q '\"puback\": 135' '$JW_TMP/hist3.out'"

# --- the journal: every finished job once -----------------------------------
core_pub -t jobs/A/j1/failed -m '{"error":"cancelled by the user","code":"cancelled"}'
core_pub -t jobs/B/j2/complete -m '{"result":{"n":1}}'
for i in $(seq 1 20); do
	core_pub -t "jobs/A/k$i/progress" -m '{"progress":50}'
	core_pub -t "jobs/A/k$i/complete" -m '{}'
done
# A QoS 1 repeat of a terminal event writes nothing twice.
core_pub -t jobs/A/k1/complete -m '{}'
if [ -n "$pg" ]; then
	jw_check "journal: 22 rows, one per job" jw_wait_sql "22 22" \
		"SELECT count(*) || ' ' || count(DISTINCT (session_id, job_id)) FROM jobwire_finished_jobs" "$T"
fi
jw_check "edge2: the last job's state arrives" wait_log "$JW_TMP/e2.out" '^jobs/A/k20/state .*"complete"'

# --- an edge restart loses nothing a browser needs --------------------------
kill "$PID_edge1"
wait "$PID_edge1" 2>/dev/null
core_pub -t jobs/A/j3/started -m '{"name":"while edge1 was away"}'
core_pub -t jobs/A/j3/progress -m '{"progress":70}'
# The core publishes state at most 10 times a second: wait for this one.
for i in $(seq $((T * 10))); do
	first "$core_tcp" "$admin" jobs/A/j3/state 1 | grep -q '"progress":70' && break
done
start edge1 "$e1_tcp"
jw_check "edge1 restarted: its bridge is back" wait_count "$JW_TMP/core.log" 'client jobwire-edge1 authenticated as edge' 2
mosquitto_sub -h 127.0.0.1 -p "$e1_tcp" -u u -P "$viewer_a" -t 'jobs/A/+/state' -W "$T" -C 22 -F '%t %p' >"$JW_TMP/after.out" 2>/dev/null
jw_assert_eq "edge1 restarted: every retained state of A is back (21 jobs + j3)" 22 "$(cut -d' ' -f1 "$JW_TMP/after.out" | sort -u | wc -l)"
jw_check "edge1 restarted: the job that started while it was down shows its progress" \
	grep -q '^jobs/A/j3/state .*"progress":70' "$JW_TMP/after.out"
jw_check "edge1 restarted: the finished job shows failed" grep -q '^jobs/A/j1/state .*"failed"' "$JW_TMP/after.out"

# --- nothing refused or injected ever reached an edge subscriber ------------
for f in e1 e2; do
	jw_check "$f: no refused, injected or unaccepted message delivered" \
		bash -c "! grep -Eq 'invalid-on-core|injected-|retained-control|invalid-control|cancel-from-edge' '$JW_TMP/$f.out'"
done
jw_check "core: no injected message got through the bridge" bash -c "! grep -q 'injected-' '$JW_TMP/ctl.out'"
jw_check "core: the invalid and the retained control never reached the worker" \
	bash -c "! grep -Eq 'invalid-control|retained-control' '$JW_TMP/ctl.out'"
jw_assert_eq "edge2: no retained control kept" "" "$(first "$e2_tcp" "$admin" jobs/A/j1/control 2)"
jw_done
