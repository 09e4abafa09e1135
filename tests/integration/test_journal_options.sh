#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Hostile journal configuration: each bad value stops the broker at start
# with a line naming the option (and never printing the conninfo); a
# conninfo libpq cannot use leaves the broker running with the journal
# down, which is logged once and shown in the stats.
source "$(dirname "$0")/lib.sh"

data=$(jw_data_dir)

# refused "expected log text" option-lines...
refused() {
	local want=$1 log port conf pid
	shift
	JW_REFUSED=$((${JW_REFUSED:-0} + 1))
	log=$JW_TMP/bad$JW_REFUSED.log
	conf=$JW_TMP/bad$JW_REFUSED.conf
	port=$(jw_free_port)
	{
		printf 'log_dest stderr\nlistener %s 127.0.0.1\nallow_anonymous true\n' "$port"
		printf 'plugin %s\nplugin_opt_schemas_dir %s\n' "$JW_PLUGIN" "$JW_SCHEMAS"
		printf '%s\n' "$@"
	} >"$conf"
	chmod 644 "$conf"
	# mosquitto leaks on its own failed-start path: no valgrind here.
	JW_BROKER_VALGRIND= jw_spawn_mosquitto "$conf" "$log"
	pid=$JW_LAST_PID
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"; wait "$pid" 2>/dev/null
		jw_fail "broker started with: $*"
		return
	fi
	wait "$pid" 2>/dev/null
	jw_check "refused at start: $* -> $want" grep -qF "$want" "$log"
	jw_check "no password in the log for: $*" bash -c "! grep -q sekret '$log'"
}

refused "plugin_opt_pg_conninfo needs plugin_opt_data_dir" \
	"plugin_opt_pg_conninfo host=127.0.0.1 password=sekret"
refused "plugin_opt_spool_max must be between" \
	"plugin_opt_data_dir $data" "plugin_opt_spool_max 1k"
refused "plugin_opt_spool_max must be a whole number" \
	"plugin_opt_data_dir $data" "plugin_opt_spool_max 12q"
refused "plugin_opt_spool_max must be a whole number" \
	"plugin_opt_data_dir $data" "plugin_opt_spool_max -5"
refused "plugin_opt_journal_events must be a comma-separated list" \
	"plugin_opt_journal_events started,,progress"
refused "plugin_opt_journal_events must be a comma-separated list" \
	"plugin_opt_journal_events Started"
refused "plugin_opt_journal_events must be a comma-separated list" \
	"plugin_opt_journal_events started;drop table"
refused "plugin_opt_node_name must be 1 to 255 bytes" \
	"plugin_opt_node_name $(printf 'n%.0s' $(seq 300))"

# libpq's parser writes its complaint through gettext: not under the
# sanitizer preload (see lib_pg.sh).
if [ -z "${JW_BROKER_PRELOAD:-}" ]; then
	refused "plugin_opt_pg_conninfo is not a valid libpq connection string" \
		"plugin_opt_data_dir $data" "plugin_opt_pg_conninfo host=127.0.0.1 password='sekret"
fi

# A conninfo libpq cannot connect with: the broker runs, the journal is
# down, the rest works. Not with the sanitizer preload (see lib_pg.sh).
if [ -n "${JW_BROKER_PRELOAD:-}" ]; then
	jw_done
fi
JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_pg_conninfo host=127.0.0.1 port=1 connect_timeout=1 password=sekret
plugin_opt_stats_interval 0.5"
jw_start_broker garbage
jw_pub -q 1 -t jobs/g/j1/complete -m '{}'
for _ in $(seq 50); do grep -q 'journal: PostgreSQL unavailable' "$JW_LOG" && break; sleep 0.1; done
jw_check "unusable conninfo logged as the journal being down" grep -q 'journal: PostgreSQL unavailable' "$JW_LOG"
jw_check "the conninfo's password is never logged" bash -c "! grep -q sekret '$JW_LOG'"
jw_check "the job table works meanwhile" bash -c \
	"mosquitto_sub -h 127.0.0.1 -p $JW_PORT -t jobs/g/j1/state -C 1 -W 5 | grep -q '\"status\":\"complete\"'"
sleep 1
jw_assert_eq "stats show the journal down with the record pending" "down 1" \
	"$(mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t '$jobwire/stats' -C 1 -W 5 | python3 -c 'import json,sys
j=json.load(sys.stdin)["journal"]; print(j["state"], j["spooled"])')"
jw_done
