#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the station rights with JWT on: a token with role station and a
# station claim publishes its own status (and its will) and job events
# in its sessions, and nothing else; a viewer is delivered the stations
# that serve one of its sessions and no other; admin sees all; a station
# token without a station claim is refused.
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
jw_sub "$JW_TMP/va.out" -V 5 -q 1 -u v -P "$viewer_a" -t 'stations/+/status' -t 'stations/+/state'
jw_sub "$JW_TMP/vb.out" -V 5 -q 1 -u v -P "$viewer_b" -t 'stations/+/status' -t 'stations/+/state'

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
jw_check "viewer of lab-a sees it" wait_count "$JW_TMP/va.out" stations/scope-1/status 1
jw_check "viewer of lab-a sees its state" wait_count "$JW_TMP/va.out" stations/scope-1/state 1
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
jw_check "viewer of lab-b sees scope-9" wait_count "$JW_TMP/vb.out" stations/scope-9/status 1
# The will: a station's own will passes its claims.
mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -u s -P "$station1" -i scope-1-w -t stations/scope-1/status \
	--will-topic stations/scope-1/status --will-payload '{"state":"offline"}' --will-qos 1 --will-retain >/dev/null 2>&1 &
wpid=$!
sleep 0.5
{ kill -9 "$wpid"; wait "$wpid"; } 2>/dev/null
jw_check "the will reaches the viewer of lab-a" wait_count "$JW_TMP/va.out" stations/scope-1/status 2
sleep 0.5
jw_assert_eq "viewer of lab-a never saw scope-9" 0 "$(count "$JW_TMP/va.out" stations/scope-9/status)"
jw_assert_eq "viewer of lab-b never saw scope-1" 0 "$(count "$JW_TMP/vb.out" stations/scope-1/status)"
jw_assert_eq "viewer of lab-b never saw scope-1's state" 0 "$(count "$JW_TMP/vb.out" stations/scope-1/state)"
out=$(jw_pub -V 5 -q 1 -u v -P "$viewer_a" -t stations/scope-1/status -m '{"state":"online"}' 2>&1)
jw_check "a viewer cannot publish a status" test -n "$out"
bad=$(tok --role station --sessions lab-a)
out=$(jw_pub -u s -P "$bad" -t stations/scope-1/status -m '{"state":"online"}' 2>&1)
jw_check "a station token without a station claim is refused" test -n "$out"
jw_check "the log says why" grep -q 'claim station is missing' "$JW_LOG"

jw_done
