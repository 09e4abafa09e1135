#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the station rights with JWT on: a token with role station and a
# station claim publishes its own status (and its will) and job events
# in its sessions, and nothing else; a viewer reads only the broker's
# view of the stations that serve one of its sessions
# (stations/{station}/sessions/{its session}), which names no other
# session and no other session's job, and never a station's whole status
# or state; a view goes when its station stops serving the session;
# admin sees all; a station token without a station claim is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_jwt.sh"
here=$(dirname "$0")

jw_jwt_secret
JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret
plugin_opt_log_rate 0"
jw_start_broker stations_jwt

admin=$(tok --role admin --sessions '*')
viewer_a=$(tok --role viewer --sessions lab-a)
viewer_b=$(tok --role viewer --sessions lab-b)
station1=$(tok --role station --station scope-1 --sessions lab-a)
JW_PROBE_AUTH="-u a -P $admin"

jw_sub "$JW_TMP/admin.out" -V 5 -q 1 -u a -P "$admin" -t 'stations/#' -t 'jobs/#'
jw_sub "$JW_TMP/va.out" -V 5 -q 1 -u v -P "$viewer_a" -t 'stations/+/status' -t 'stations/+/state' \
	-t 'stations/+/sessions/lab-a' -t 'stations/+/sessions/lab-b' -t 'stations/#'
jw_sub "$JW_TMP/vb.out" -V 5 -q 1 -u v -P "$viewer_b" -t 'stations/+/status' -t 'stations/+/state' \
	-t 'stations/+/sessions/lab-b'

count() { python3 "$here/msgs.py" "$1" --count "$2"; }
wait_count() { # file topic n
	local deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(count "$1" "$2")" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
spub() { jw_pub -V 5 -q 1 -u s -P "$station1" "$@" 2>&1; }

spub -i scope-1 -r -t stations/scope-1/status -m '{"state":"online","sessions":["lab-a"]}' >/dev/null
jw_check "own status accepted" wait_count "$JW_TMP/admin.out" stations/scope-1/status 1
jw_check "viewer of lab-a sees lab-a's view of it" wait_count "$JW_TMP/va.out" stations/scope-1/sessions/lab-a 1
out=$(spub -i scope-1x -t stations/scope-2/status -m '{"state":"online"}')
jw_check "another station's status refused" test -n "$out"
out=$(spub -i scope-1y -t stations/scope-1/state -m '{"state":"online"}')
jw_check "the state topic refused" test -n "$out"
out=$(spub -i scope-1z -t jobs/lab-b/j1/started -m '{}')
jw_check "a job event outside its sessions refused" test -n "$out"
jw_assert_eq "job event in its session accepted" "" \
	"$(spub -i scope-1w -t jobs/lab-a/j1/started -m '{"station":"scope-1"}')"
jw_check "admin sees the job" wait_count "$JW_TMP/admin.out" jobs/lab-a/j1/started 1
# A station of lab-b only, published by admin.
jw_pub -V 5 -q 1 -u a -P "$admin" -r -t stations/scope-9/status -m '{"state":"online","sessions":["lab-b"]}'
jw_check "admin sees scope-9" wait_count "$JW_TMP/admin.out" stations/scope-9/status 1
jw_check "viewer of lab-b sees lab-b's view of scope-9" wait_count "$JW_TMP/vb.out" stations/scope-9/sessions/lab-b 1
# The will: a station's own will passes its claims.
mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -u s -P "$station1" -i scope-1-w -t stations/scope-1/status \
	--will-topic stations/scope-1/status --will-payload '{"state":"offline"}' --will-qos 1 --will-retain >/dev/null 2>&1 &
wpid=$!
sleep 0.5
{ kill -9 "$wpid"; wait "$wpid"; } 2>/dev/null
last_view() { # file topic: the last message on topic, as JSON (or "")
	python3 - "$here/msgs.py" "$1" "$2" <<'PY'
import json, subprocess, sys
msgs = json.loads(subprocess.check_output([sys.executable, sys.argv[1], sys.argv[2], "--json"]))
on = [m["payload"] for m in msgs if m["topic"] == sys.argv[3]]
print(on[-1] if on else "")
PY
}
view_offline() { last_view "$JW_TMP/va.out" stations/scope-1/sessions/lab-a | grep -q '"state":"offline"'; }
wait_view_offline() {
	local deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		view_offline && return 0
		sleep 0.1
	done
	return 1
}
jw_check "the will reaches the viewer of lab-a, through lab-a's view" wait_view_offline

# A station serving both sessions, running a job of lab-b: lab-a's view
# names only lab-a and no job; lab-b's names the job.
jw_pub -V 5 -q 1 -u a -P "$admin" -r -t stations/scope-2/status \
	-m '{"state":"online","name":"Shared","sessions":["lab-a","lab-b"],"system":{"gpu_percent":40}}'
jw_pub -V 5 -q 1 -u a -P "$admin" -t jobs/lab-b/secret-job/started -m '{"station":"scope-2"}'
jw_check "viewer of lab-b sees the shared station's job" bash -c \
	'for _ in $(seq 100); do python3 "$1" "$2" | grep -q "^stations/scope-2/sessions/lab-b.*secret-job" && exit 0; sleep 0.1; done; exit 1' \
	_ "$here/msgs.py" "$JW_TMP/vb.out"
sleep 0.5
view=$(last_view "$JW_TMP/va.out" stations/scope-2/sessions/lab-a)
jw_check "lab-a's view of the shared station: online, its name and load" \
	python3 -c 'import json,sys; v=json.loads(sys.argv[1]); assert v["state"]=="online" and v["status"]["name"]=="Shared" and v["status"]["system"]["gpu_percent"]==40' "$view"
jw_assert_eq "lab-a's view names only lab-a, no job, no sessions in the status" '["lab-a"] None False' \
	"$(python3 -c 'import json,sys; v=json.loads(sys.argv[1]); print(json.dumps(v["sessions"]), v["job"], "sessions" in v["status"])' "$view")"
jw_assert_eq "viewer of lab-a never read lab-b, its job or another session's view" 0 \
	"$(python3 "$here/msgs.py" "$JW_TMP/va.out" | grep -c 'lab-b\|secret-job')"
# It stops serving lab-a: lab-a's view is cleared.
jw_pub -V 5 -q 1 -u a -P "$admin" -r -t stations/scope-2/status -m '{"state":"online","sessions":["lab-b"]}'
sleep 0.5
jw_assert_eq "a station no longer serving lab-a leaves no view for lab-a" "" \
	"$(mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -u a -P "$admin" -t stations/scope-2/sessions/lab-a -W 1 2>/dev/null)"

jw_assert_eq "viewer of lab-a never saw scope-9" 0 "$(python3 "$here/msgs.py" "$JW_TMP/va.out" | grep -c scope-9)"
jw_assert_eq "viewer of lab-b never saw scope-1" 0 "$(python3 "$here/msgs.py" "$JW_TMP/vb.out" | grep -c scope-1)"
jw_assert_eq "a viewer never reads a whole status or state" 0 \
	"$(for f in "$JW_TMP/va.out" "$JW_TMP/vb.out"; do python3 "$here/msgs.py" "$f"; done | cut -f1 | grep -c '/status$\|/state$')"
out=$(jw_pub -V 5 -q 1 -u a -P "$admin" -r -t stations/scope-1/sessions/lab-a -m '{"state":"online"}' 2>&1)
jw_check "the views are the broker's: a client's publish is refused" test -n "$out"
out=$(jw_pub -V 5 -q 1 -u v -P "$viewer_a" -t stations/scope-1/status -m '{"state":"online"}' 2>&1)
jw_check "a viewer cannot publish a status" test -n "$out"
bad=$(tok --role station --sessions lab-a)
out=$(jw_pub -u s -P "$bad" -t stations/scope-1/status -m '{"state":"online"}' 2>&1)
jw_check "a station token without a station claim is refused" test -n "$out"
jw_check "the log says why" grep -q 'claim station is missing' "$JW_LOG"

jw_done
