#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves plugin_opt_mode on its own (docs/configuration.md): a bad value,
# or a job log or journal on an edge, stops the broker with a clear line;
# an edge with JWT off loads no schemas, keeps its local clients from
# publishing job events, state, station or $jobwire topics, delivers no
# local control or history request to anyone, and leaves other topics to
# the broker's own rules. test_scaling_edges.sh covers edges with JWT and
# a bridge.
source "$(dirname "$0")/lib.sh"

# Starts a broker with the plugin options OPTS (newline-separated) that
# must refuse to start; prints its log.
refused_start() { # name opts
	local conf=$JW_TMP/$1.conf port
	port=$(jw_free_port)
	printf '%s\n' "per_listener_settings false" "allow_anonymous true" "log_dest stderr" \
		"listener $port 127.0.0.1" "plugin $JW_PLUGIN" "$2" >"$conf"
	chmod 644 "$conf"
	# mosquitto leaks on its own failed-start path: no valgrind here.
	JW_BROKER_VALGRIND= jw_spawn_mosquitto "$conf" "$JW_TMP/$1.log"
	wait "$JW_LAST_PID" 2>/dev/null
	cat "$JW_TMP/$1.log"
}

jw_check "plugin_opt_mode bogus stops the broker" bash -c "grep -q 'plugin_opt_mode must be core or edge, got \"bogus\"' <<<'$(refused_start bogus 'plugin_opt_mode bogus')'"
jw_check "an edge with plugin_opt_data_dir stops the broker" bash -c "grep -q 'plugin_opt_mode edge keeps no job log and no journal: remove plugin_opt_data_dir' <<<'$(refused_start data "plugin_opt_mode edge
plugin_opt_data_dir $JW_TMP")'"
jw_check "an edge with plugin_opt_pg_conninfo stops the broker" bash -c "grep -q 'remove plugin_opt_pg_conninfo' <<<'$(refused_start pg "plugin_opt_mode edge
plugin_opt_pg_conninfo host=127.0.0.1")'"

# No schemas_dir needed; jw_start_broker names one, which an edge ignores.
JW_TEST_SCHEMAS=$JW_TMP/no-such-dir JW_PLUGIN_OPTS="plugin_opt_mode edge" jw_start_broker edge
jw_check "edge: started without schemas, says so" grep -q 'jobwire: edge mode: no JWT' "$JW_LOG"
jw_check "edge: no event types loaded" bash -c "! grep -q 'event types' '$JW_LOG'"

jw_sub "$JW_TMP/all.out" -t 'jobs/#' -t 'stations/#' -t '$jobwire/#' -t 'other/#'
jw_pub -q 1 -t jobs/S/j1/progress -m '{"progress":10}'
jw_pub -q 1 -t jobs/S/j1/state -m '{"status":"complete"}'
jw_pub -q 1 -r -t stations/s1/status -m '{"state":"online"}'
jw_pub -q 1 -t '$jobwire/stats' -m '{}'
jw_pub -q 1 -t '$jobwire/rejections/x' -m '{}'
jw_pub -q 1 -t jobs/S/j1/control -m '{"action":"cancel"}'
jw_pub -q 1 -t jobs/S/j1/control/extra -m '{"action":"cancel"}'
jw_pub -q 1 -t other/topic -m untouched
jw_check "edge: other topics are the broker's (delivered)" jw_wait_lines "$JW_TMP/all.out" 1
sleep 0.5
jw_assert_eq "edge: only the topic outside jobwire's was delivered" "other/topic" "$(jw_lines "$JW_TMP/all.out" | cut -f1 | sort -u | tr '\n' ' ' | sed 's/ $//')"
jw_check "edge: the event was denied" grep -q "Denied PUBLISH from .*'jobs/S/j1/progress'" "$JW_LOG"
jw_check "edge: the state was denied" grep -q "Denied PUBLISH from .*'jobs/S/j1/state'" "$JW_LOG"
jw_check "edge: the station status was denied" grep -q "Denied PUBLISH from .*'stations/s1/status'" "$JW_LOG"
jw_check "edge: \$jobwire/stats was denied" grep -q "Denied PUBLISH from .*'\$jobwire/stats'" "$JW_LOG"
jw_check "edge: a control was accepted (for a bridge), not delivered" bash -c "! grep -q \"Denied PUBLISH from .*'jobs/S/j1/control'\" '$JW_LOG'"
jw_check "edge: a topic below control was denied" grep -q "Denied PUBLISH from .*'jobs/S/j1/control/extra'" "$JW_LOG"
jw_check "edge: a retained control is denied" bash -c "mosquitto_pub -h 127.0.0.1 -p $JW_PORT -q 1 -r -t jobs/S/j2/control -m '{\"action\":\"cancel\"}'; sleep 0.3; grep -q \"Denied PUBLISH from .*'jobs/S/j2/control'\" '$JW_LOG'"
jw_assert_eq "edge: nothing retained on job topics" "" "$(mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t 'jobs/#' -t 'stations/#' -W 1 2>/dev/null)"
jw_done
