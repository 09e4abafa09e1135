#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that the journal keeps each station's online/offline transitions
# in jobwire_station_transitions on a real PostgreSQL: going online, a
# refresh (no row), the will (offline), and the broker's own offline
# status (broker_generated) when the status is not refreshed in time; and
# that jobwire history --stations prints them.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
source "$(dirname "$0")/lib_cli.sh"

jw_pg_journal_setup
JW_PLUGIN_OPTS="$JW_PLUGIN_OPTS
plugin_opt_node_name node-s
plugin_opt_station_timeout 1.5"
jw_start_broker journal_stations

rows() { jw_psql -c "SELECT count(*) FROM jobwire_station_transitions WHERE station='$1'"; }
jw_pub -q 1 -r -i scope-1 -t stations/scope-1/status -m '{"state":"online","name":"Scope 1"}'
jw_pub -q 1 -r -i scope-1 -t stations/scope-1/status -m '{"state":"online","name":"Scope 1"}'
jw_check "going online is one row (a refresh is none)" jw_wait_sql 1 \
	"SELECT count(*) FROM jobwire_station_transitions WHERE station='scope-1'"
jw_assert_eq "the online row" "online|f|scope-1|node-s|Scope 1" \
	"$(jw_psql -c "SELECT state, broker_generated, client_id, node, status->>'name' FROM jobwire_station_transitions WHERE station='scope-1'")"

# The will.
mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -i scope-2 -t idle/scope-2 \
	--will-topic stations/scope-2/status --will-payload '{"state":"offline","reason":"connection lost"}' \
	--will-qos 1 --will-retain >/dev/null 2>&1 &
pid=$!
sleep 0.3
jw_pub -q 1 -r -i scope-2-pub -t stations/scope-2/status -m '{"state":"online"}'
sleep 0.3
{ kill -9 "$pid"; wait "$pid"; } 2>/dev/null
jw_check "the will is the offline row" jw_wait_sql "online,offline" \
	"SELECT string_agg(state, ',' ORDER BY at) FROM jobwire_station_transitions WHERE station='scope-2'"
jw_assert_eq "the will's row: its client, not broker_generated, its reason" "scope-2|f|connection lost" \
	"$(jw_psql -c "SELECT client_id, broker_generated, status->>'reason' FROM jobwire_station_transitions WHERE station='scope-2' AND state='offline'")"

# No refresh within 1.5 s: the broker's offline row for scope-1.
jw_check "broker-generated offline row" jw_wait_sql "offline|t|" \
	"SELECT state, broker_generated, coalesce(client_id, '') FROM jobwire_station_transitions WHERE station='scope-1' ORDER BY at DESC LIMIT 1" 8

jw_capture "$JW_CLI" history --stations --db "$JW_PG_CONNINFO"
jw_assert_eq "history --stations: exit 0" 0 "$JW_RC"
jw_assert_contains "history --stations: the header" "STATION" "$JW_OUT"
jw_assert_contains "history --stations: the broker's offline" "scope-1                  offline  broker" "$JW_OUT"
jw_assert_contains "history --stations: the will's reason" "connection lost" "$JW_OUT"
jw_capture "$JW_CLI" history --stations --station scope-2 --json --db "$JW_PG_CONNINFO"
jw_assert_eq "history --stations --station scope-2 --json: two rows" 2 "$(printf '%s\n' "$JW_OUT" | wc -l)"
jw_assert_eq "the newest first" offline "$(printf '%s\n' "$JW_OUT" | head -n 1 | jw_json_field state)"
jw_capture "$JW_CLI" history --stations --session s1 --db "$JW_PG_CONNINFO"
jw_assert_eq "history --stations --session: usage" 64 "$JW_RC"
jw_done
