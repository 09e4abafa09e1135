#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Journal benchmarks (docs/performance.md, "Journal"), each against a
# private PostgreSQL 15 cluster and a broker with the plugin:
#   drain:  JB_DRAIN terminal events are spooled while PostgreSQL is down,
#           then it is started: rows per second the journal thread
#           sustains into PostgreSQL (from journaled_at of the rows, which
#           is each batch's transaction time).
#   live:   JB_LIVE finishing jobs published flat out (QoS 1, one publisher
#           per CPU) with PostgreSQL up: publish rate, the journal's lag
#           (stats lag_ms, pending_bytes; sampled every 0.5 s) and the time
#           until the last row is in.
#   p99:    mqtt_bench's progress stream at JB_RATE msg/s, with a stream of
#           JB_TERM_RATE finishing jobs/s beside it (the journal busy), with
#           PostgreSQL up and then stopped: publish-to-delivery p50/p99.
#           Equal within noise means the broker thread never waits for the
#           database.
# usage: bench/journal.sh [BUILD_DIR]  (default build-bench, else build)
# Environment: JB_DRAIN [100000]  JB_LIVE [50000]  JB_RATE [5000]
#   JB_COUNT [50000] (measured mqtt_bench messages)  JB_TERM_RATE [1000]
#   JB_ROUNDS [2] (p99 rounds, alternating up/stopped)
set -uo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$SRC/build-bench}
[ -d "$BUILD" ] || BUILD=$SRC/build
BUILD=$(cd "$BUILD" && pwd)
DRAIN=${JB_DRAIN:-100000}
LIVE=${JB_LIVE:-50000}
RATE=${JB_RATE:-5000}
COUNT=${JB_COUNT:-50000}
TERM_RATE=${JB_TERM_RATE:-1000}
ROUNDS=${JB_ROUNDS:-2}
JW_PLUGIN=$BUILD/plugin/jobwire.so
export JW_PLUGIN JW_SOURCE_DIR=$SRC
source "$SRC/tests/integration/lib.sh"
source "$SRC/tests/integration/lib_pg.sh"
PUB=$SRC/tests/integration/qos1pub.py

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
jw_pg_start || { echo "cannot start PostgreSQL" >&2; exit 1; }
# The benchmark cluster keeps fsync on (lib_pg.sh turns it off for tests).
jw_pg_stop
jw_pg_as sed -i 's/^#\?fsync.*/fsync = on/' "$JW_PG_DIR/data/postgresql.conf"
JW_PG_BIN=${JW_PG_BIN:-/usr/lib/postgresql/15/bin}
jw_pg_as "$JW_PG_BIN/pg_ctl" -D "$JW_PG_DIR/data" -l "$JW_PG_DIR/server.log" -w -t 30 \
	-o "-p $JW_PG_PORT -c listen_addresses=127.0.0.1 -k $JW_PG_DIR" start >/dev/null
echo "# PostgreSQL $(jw_psql -c 'SHOW server_version'), fsync $(jw_psql -c 'SHOW fsync'), synchronous_commit $(jw_psql -c 'SHOW synchronous_commit')"

data=$JW_TMP/data
mkdir -p "$data"
chown mosquitto: "$data" 2>/dev/null || chmod 777 "$data"
JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_pg_conninfo $JW_PG_CONNINFO
plugin_opt_stats_interval 0.5
plugin_opt_max_jobs 1000000
plugin_opt_log_rate 1"
jw_start_broker bench
jw_psql -c "SELECT 1" >/dev/null

stat_field() { # dotted path...
	timeout 5 mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t '$jobwire/stats' -C 1 -W 3 2>/dev/null |
		python3 -c 'import json,sys
d=json.load(sys.stdin)
print(" ".join(str(eval("d"+"".join("[%r]" % k for k in p.split(".")))) for p in sys.argv[1:]))' "$@"
}

wait_rows() { # n session timeout
	local deadline=$((SECONDS + $3))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='$2'")" -ge "$1" ] && return 0
		sleep 0.2
	done
	return 1
}

# publish N jobs of SESSION flat out with one publisher per CPU.
publish() { # session n rate_per_publisher
	local s=$1 n=$2 r=${3:-0} k per pids=()
	per=$(( (n + 1) / 2 ))
	for k in 0 1; do
		python3 "$PUB" "$JW_PORT" "$s" $((1 + k * per)) "$per" "$JW_TMP/$s.acked" "$JW_TMP/$s.ref" "$r" 500 &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# ---- drain
jw_pg_stop
t0=$(date +%s.%N)
publish drain "$DRAIN"
t1=$(date +%s.%N)
echo "drain: spooled $(wc -l <"$JW_TMP/drain.acked") finishing jobs in $(python3 -c "print('%.1f' % ($t1-$t0))") s with PostgreSQL down ($(python3 -c "print('%.0f' % ($(wc -l <"$JW_TMP/drain.acked")/($t1-$t0)))") acknowledged/s); spool $(du -sh "$data/journal" | cut -f1)"
jw_pg_resume
wait_rows "$DRAIN" drain 300 || echo "drain: not all rows arrived"
jw_psql -F ' ' -c "SELECT 'drain: ' || count(*) || ' rows in ' || round(extract(epoch FROM max(journaled_at) - min(journaled_at))::numeric, 2) || ' s = ' || round(count(*) / greatest(extract(epoch FROM max(journaled_at) - min(journaled_at)), 0.001)) || ' rows/s into PostgreSQL' FROM jobwire_finished_jobs WHERE session_id='drain'"

# ---- live
sleep 1
(
	maxlag=0; maxpend=0
	while [ ! -f "$JW_TMP/live.done" ]; do
		read -r lag pend < <(stat_field journal.lag_ms journal.pending_bytes) || true
		[ -n "${lag:-}" ] && [ "$lag" -gt "$maxlag" ] && maxlag=$lag
		[ -n "${pend:-}" ] && [ "$pend" -gt "$maxpend" ] && maxpend=$pend
		sleep 0.5
	done
	echo "$maxlag $maxpend" >"$JW_TMP/live.lag"
) &
sampler=$!
t0=$(date +%s.%N)
publish live "$LIVE"
t1=$(date +%s.%N)
wait_rows "$LIVE" live 120
t2=$(date +%s.%N)
touch "$JW_TMP/live.done"
wait "$sampler"
read -r maxlag maxpend <"$JW_TMP/live.lag"
echo "live: $(wc -l <"$JW_TMP/live.acked") finishing jobs published in $(python3 -c "print('%.1f' % ($t1-$t0))") s ($(python3 -c "print('%.0f' % ($LIVE/($t1-$t0)))")/s); last row in PostgreSQL $(python3 -c "print('%.2f' % ($t2-$t1))") s after the last PUBACK; max journal lag ${maxlag} ms, max pending ${maxpend} bytes"

# ---- p99 with PostgreSQL up and stopped
for round in $(seq "$ROUNDS"); do
	for pg in up stopped; do
		if [ "$pg" = stopped ]; then jw_pg_stop; else jw_pg_as "$JW_PG_BIN/pg_ctl" -D "$JW_PG_DIR/data" status >/dev/null 2>&1 || jw_pg_resume; fi
		python3 "$PUB" "$JW_PORT" "p$round$pg" 1 $((TERM_RATE * (COUNT / RATE + 10))) "$JW_TMP/p.acked" "$JW_TMP/p.ref" "$TERM_RATE" 100 &
		side=$!
		"$BUILD/bench/mqtt_bench" --port "$JW_PORT" --count "$COUNT" --warmup 5000 --rate "$RATE" \
			--session "lat$round$pg" --label "p99-pg-$pg" --jobs 100
		kill "$side" 2>/dev/null; wait "$side" 2>/dev/null
	done
done
jw_pg_resume 2>/dev/null
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
jw_done
