#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Two brokers bridged by a connection block, both with the plugin, both
# journaling to the same database: each sees every job finish, yet every
# job has exactly one row.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
jw_pg_skip_under_preload

jw_pg_start || { echo "cannot start PostgreSQL"; exit 1; }
jw_data_dir data-a >/dev/null
jw_data_dir data-b >/dev/null
JW_PLUGIN_OPTS="plugin_opt_data_dir $JW_TMP/data-a
plugin_opt_pg_conninfo $JW_PG_CONNINFO
plugin_opt_node_name node-a
plugin_opt_stats_interval 1"
jw_start_broker a
port_a=$JW_PORT
JW_PLUGIN_OPTS="plugin_opt_data_dir $JW_TMP/data-b
plugin_opt_pg_conninfo $JW_PG_CONNINFO
plugin_opt_node_name node-b
plugin_opt_stats_interval 1"
jw_start_broker b \
	"connection to-a" \
	"address 127.0.0.1:$port_a" \
	"topic jobs/+/+/started both 1" \
	"topic jobs/+/+/complete both 1" \
	"topic jobs/+/+/failed both 1" \
	"cleansession true"
port_b=$JW_PORT
# Wait for the bridge: a message published on b must reach a.
ok=
for i in $(seq 50); do
	mosquitto_pub -h 127.0.0.1 -p "$port_b" -q 1 -t "jobs/probe/p$i/complete" -m '{}'
	if mosquitto_sub -h 127.0.0.1 -p "$port_a" -t "jobs/probe/p$i/state" -C 1 -W 1 >/dev/null 2>&1; then
		ok=1
		break
	fi
done
jw_check "bridge up" test -n "$ok"

python3 "$(dirname "$0")/qos1pub.py" "$port_a" br 1 300 "$JW_TMP/acked-a" "$JW_TMP/ref-a"
python3 "$(dirname "$0")/qos1pub.py" "$port_b" br 301 300 "$JW_TMP/acked-b" "$JW_TMP/ref-b"
deadline=$((SECONDS + 20))
while [ $SECONDS -lt $deadline ]; do
	[ "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='br'")" = 600 ] && break
	sleep 0.3
done
jw_assert_eq "one row per job across two bridged brokers" "600 600" \
	"$(jw_psql -c "SELECT count(*) || ' ' || count(DISTINCT job_id) FROM jobwire_finished_jobs WHERE session_id='br'")"
# Both brokers journaled the jobs they saw: the spool files of each hold
# records (PostgreSQL kept one row per job).
for n in a b; do
	jw_check "broker $n spooled records" bash -c "cat '$JW_TMP/data-$n'/journal/*.spool | grep -ac '\"k\":\"f\"' | grep -qv '^0$'"
done
jw_done
