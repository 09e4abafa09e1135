#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves jobwire station and jobwire watch --stations: the command
# publishes a status the broker accepts (state online, CPU and memory from
# /proc, the options given), stops with an offline status of its own, and
# its will marks the station offline when it dies; watch --stations prints
# one line per station state, or the state itself with --json.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"
here=$(dirname "$0")

jw_start_broker cli_station
jw_sub "$JW_TMP/all.out" -V 5 -q 1 -t 'stations/#'
count() { python3 "$here/msgs.py" "$JW_TMP/all.out" --count "$1"; }
last() { python3 "$here/msgs.py" "$JW_TMP/all.out" | awk -F'\t' -v t="$1" '$1==t{p=$2} END{print p}'; }
wait_count() { # topic n
	local deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
jf() { [ -n "$2" ] && jw_json_field "$1" <<<"$2"; }

"$JW_CLI" watch -p "$JW_PORT" --stations >"$JW_TMP/watch.out" 2>&1 &
JW_BG_PIDS+=($!)
"$JW_CLI" watch -p "$JW_PORT" --stations --json >"$JW_TMP/watch.json" 2>&1 &
JW_BG_PIDS+=($!)
"$JW_CLI" watch -p "$JW_PORT" --stations -s lab-b --json >"$JW_TMP/watch_b.json" 2>&1 &
JW_BG_PIDS+=($!)
sleep 0.5

jw_capture jw_cli station --id scope-7 --every 0.2s --count 2 --name "Scope 7" --sessions lab-a,lab-b --queue 3
jw_assert_eq "station --count 2: exit 0" 0 "$JW_RC"
jw_check "two statuses and the goodbye" wait_count stations/scope-7/status 3
first=$(python3 "$here/msgs.py" "$JW_TMP/all.out" | awk -F'\t' '$1=="stations/scope-7/status"{print $2; exit}')
jw_assert_eq "status: online" online "$(jf state "$first")"
jw_assert_eq "status: name" "Scope 7" "$(jf name "$first")"
jw_assert_eq "status: sessions" '["lab-a", "lab-b"]' "$(jf sessions "$first")"
sys=$(jf system "$first")
jw_check "status: cpu_percent" test -n "$(jf cpu_percent "$sys")"
jw_check "status: memory_percent" test -n "$(jf memory_percent "$sys")"
jw_assert_eq "status: queue_length" 3 "$(jf queue_length "$sys")"
jw_assert_eq "the goodbye says offline" offline "$(jf state "$(last stations/scope-7/status)")"

# Killed: its will says offline.
"$JW_CLI" station -p "$JW_PORT" --id scope-8 --every 0.2s >/dev/null 2>&1 &
pid=$!
jw_check "scope-8 online" wait_count stations/scope-8/status 1
kill -9 "$pid"
wait "$pid" 2>/dev/null
jw_check "its will" wait_count stations/scope-8/status 2
jw_assert_eq "the will: offline, connection lost" "offline connection lost" \
	"$(jf state "$(last stations/scope-8/status)") $(jf reason "$(last stations/scope-8/status)")"

sleep 0.5
jw_assert_contains "watch --stations: a line for scope-7" "scope-7 offline since=" "$(cat "$JW_TMP/watch.out")"
jw_assert_contains "watch --stations: the online line" "scope-7 online" "$(cat "$JW_TMP/watch.out")"
jw_assert_contains "watch --stations: queue and name" 'queue=3 temp=- job=- name="Scope 7"' "$(cat "$JW_TMP/watch.out")"
jw_assert_eq "watch --stations --json: states" scope-8 "$(tail -1 "$JW_TMP/watch.json" | jw_json_field station)"
jw_assert_eq "watch --stations -s lab-b: lab-b's view of scope-7 (sessions, station)" '["lab-b"] scope-7' \
	"$(tail -1 "$JW_TMP/watch_b.json" | jw_json_field sessions) $(tail -1 "$JW_TMP/watch_b.json" | jw_json_field station)"

jw_capture jw_cli station --every 1s
jw_assert_eq "no --id: usage" 64 "$JW_RC"
jw_capture jw_cli station --id 'a b'
jw_assert_eq "bad --id: usage" 64 "$JW_RC"
jw_capture jw_cli station --id ok --sessions 'a,,b'
jw_assert_eq "bad --sessions: usage" 64 "$JW_RC"

jw_done
