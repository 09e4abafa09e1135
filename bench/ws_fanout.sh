#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# 5000 MQTT-over-WebSocket subscribers (MQTT.js in Node, the dashboard's
# library) on one job's retained state while a TCP worker sends progress
# 10 times a second: delivery latency p50/p99, connect time, broker RSS per
# connection and broker CPU, for several broker setups (JWT off/on,
# allow_duplicate_messages, MQTT 3.1.1 / 5 subscribers).
#
# usage: bench/ws_fanout.sh [BUILD_DIR]   (default build)
# Environment (defaults in brackets):
#   WSB_CLIENTS [5000]  WSB_PROCS [2]: Node processes sharing the clients
#   WSB_SECONDS [20]: publishing time   WSB_CONCURRENCY [100] connects in flight per process
#   WSB_MODES ["plain-v4 plain-v4-dup plain-v5 jwt-v4-dup jwt-v5"]
#     plain/jwt: JWT off / on; v4/v5: subscriber protocol; -dup: allow_duplicate_messages true;
#     -raw: subscribe to the raw progress events instead of state (to separate
#     the state hold from the fan-out)
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
CLIENTS=${WSB_CLIENTS:-5000}
PROCS=${WSB_PROCS:-2}
SECS=${WSB_SECONDS:-20}
CONC=${WSB_CONCURRENCY:-100}
MODES=${WSB_MODES:-plain-v4 plain-v4-dup plain-v5 jwt-v4-dup jwt-v5}
export NODE_PATH=$SRC/examples/dashboard/node_modules
[ -f "$NODE_PATH/mqtt/package.json" ] || (cd "$SRC/examples/dashboard" && npm ci --no-audit --no-fund --loglevel=error)
ulimit -n "$(ulimit -Hn)"  # 5000 sockets per process need more than the usual 1024

WORK=$(mktemp -d /tmp/jobwire-wsbench.XXXXXX)
chmod 755 "$WORK"
trap 'bench_cleanup "${WSB_KEEP:+1}"' EXIT
head -c 48 /dev/urandom | base64 >"$WORK/secret"
chmod 644 "$WORK/secret"
mint() { python3 "$SRC/examples/jwt-dev-token.py" --secret-file "$WORK/secret" "$@"; }

printf '%-12s %7s %6s %8s %9s %9s %8s %8s %8s %9s %7s\n' mode clients failed open_s conn_p50 conn_p99 lat_p50 lat_p99 lat_max rss/conn cpu%
for mode in $MODES; do
	tcp=$(bench_free_port); ws=$(bench_free_port)
	dup=false; [[ $mode == *-dup* ]] && dup=true
	ver=4; [[ $mode == *-v5* ]] && ver=5
	topic=jobs/bench/j1/state; [[ $mode == *-raw* ]] && topic=jobs/bench/j1/progress
	{
		echo "per_listener_settings false"
		echo "log_dest stderr"
		echo "log_type error"
		echo "persistence false"
		echo "max_connections -1"
		echo "allow_duplicate_messages $dup"
		echo "listener $tcp 127.0.0.1"
		echo "listener $ws 127.0.0.1"
		echo "protocol websockets"
		echo "socket_domain ipv4"
		echo "plugin $BUILD/plugin/jobwire.so"
		echo "plugin_opt_schemas_dir $SRC/schemas"
		echo "plugin_opt_state_max_rate 20"
		if [[ $mode == jwt* ]]; then
			echo "allow_anonymous false"
			echo "plugin_opt_auth_jwt_hs256_secret_file $WORK/secret"
		else
			echo "allow_anonymous true"
		fi
	} >"$WORK/$mode.conf"
	chmod 644 "$WORK/$mode.conf"
	bench_run_broker "$mode" "$WORK/$mode.conf" "$ws"
	broker=$BENCH_PID
	sleep 0.5
	rss0=$(bench_rss_kb "$broker")
	viewer=""; worker=""
	if [[ $mode == jwt* ]]; then viewer=$(mint --role viewer --sessions bench); worker=$(mint --role worker --sessions bench); fi
	pids=()
	per=$((CLIENTS / PROCS))
	for p in $(seq "$PROCS"); do
		node "$SRC/bench/ws_fanout.js" --ws-port "$ws" --tcp-port "$tcp" --clients "$per" --seconds "$SECS" \
			--mqtt "$ver" --topic "$topic" --concurrency "$CONC" --token "$viewer" --ready-file "$WORK/ready.$p" >"$WORK/out.$p" 2>"$WORK/err.$p" &
		pids+=($!)
	done
	for _ in $(seq 1200); do
		ready=$(find "$WORK" -name "ready.*" | wc -l)
		[ "$ready" -eq "$PROCS" ] && break
		sleep 0.1
	done
	sleep 1
	rss1=$(bench_rss_kb "$broker")
	c0=$(bench_cpu_ticks "$broker")
	node "$SRC/bench/ws_fanout.js" --publish --tcp-port "$tcp" --seconds "$SECS" --worker-token "$worker" >"$WORK/pub.out"
	c1=$(bench_cpu_ticks "$broker")
	sleep 1
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" || true; done
	bench_stop_broker "$broker"
	rm -f "$WORK"/ready.*
	python3 - "$mode" "$rss0" "$rss1" "$c0" "$c1" "$SECS" "$(getconf CLK_TCK)" "$WORK"/out.* <<'PY'
import json, sys
mode, rss0, rss1, c0, c1, secs, hz = sys.argv[1:8]
outs = [json.loads(open(f).read().strip().splitlines()[-1]) for f in sys.argv[8:]]
clients = sum(o["clients"] for o in outs)
failed = sum(o["failed"] for o in outs)
def worst(k): return max((o[k] for o in outs if o[k] is not None), default=None)
def mid(k): # median of the per-process medians, weighted equally
    v = sorted(o[k] for o in outs if o[k] is not None); return v[len(v)//2] if v else None
rss = (int(rss1) - int(rss0)) / max(1, clients)
cpu = 100.0 * (int(c1) - int(c0)) / int(hz) / float(secs)
print("%-12s %7d %6d %8.1f %9s %9s %8s %8s %8s %7.1fkB %6.0f%%" % (mode, clients, failed, max(o["open_s"] for o in outs),
      mid("connect_p50_ms"), worst("connect_p99_ms"), mid("lat_p50_ms"), worst("lat_p99_ms"), worst("lat_max_ms"), rss, cpu))
PY
done
