#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# MQTT-over-WebSocket subscribers (bench/ws_fanout.js's thin client) on the
# retained state of one job or of many, while a TCP worker sends progress
# events: deliveries/s, delivery latency p50/p99 (publish to receive, end
# to end), connect time, broker RSS per connection, broker CPU per delivery
# and the clients' CPU, for several broker setups (JWT off/on,
# allow_duplicate_messages, MQTT 3.1.1 / 5 subscribers) and bare mosquitto.
#
# usage: bench/ws_fanout.sh [BUILD_DIR]   (default build)
# Environment (defaults in brackets):
#   WSB_CLIENTS [5000]  WSB_PROCS [2]: Node processes sharing the clients
#   WSB_SECONDS [20]: publishing time   WSB_CONCURRENCY [100] connects in flight per process
#   WSB_STATE_MAX_RATE [20]: plugin_opt_state_max_rate of the jobwire brokers (1000: no
#     update is ever held, so the state's latency is the broker's path alone)
#   WSB_JOBS [1]: jobs; subscriber i follows job i % WSB_JOBS
#   WSB_SESSIONS [1]: sessions the jobs are spread over (job k in session
#     k % WSB_SESSIONS); with JWT on, each subscriber's viewer token names
#     its own job's session only
#   WSB_RATE [10]: progress events per second per job, spread evenly
#   WSB_PIN [1]: broker on CPU 0, clients and worker on CPU 1
#   WSB_MODES ["plain-v4 plain-v4-dup plain-v5 jwt-v4-dup jwt-v5"]
#     plain/jwt: jobwire with JWT off / on; bare: mosquitto without plugin
#     or JWT, the worker publishing retained state-like messages on the
#     same state topics itself (as many deliveries); v4/v5: subscriber
#     protocol; -dup: allow_duplicate_messages true; -raw: subscribe to the
#     raw progress events instead of state (to separate the state hold
#     from the fan-out); edge: the worker on a core broker (as jwt), the
#     subscribers spread over WSB_EDGES edge brokers (plugin_opt_mode edge,
#     JWT on), each bridged to the core as examples/scaling/edge1.conf
#     says; -stateonly: the edges bridge in jobs/+/+/state instead of
#     jobs/# (what a subscriber of state needs, not the raw events)
#   WSB_EDGES [2]: edge brokers in the edge modes (Node process p uses edge
#     (p - 1) % WSB_EDGES)
#   WSB_KEEP: set to keep the work directory
# 10,000 browsers on one broker (docs/performance.md):
#   WSB_CLIENTS=10000 WSB_PROCS=4 WSB_JOBS=1000 WSB_SESSIONS=100 WSB_RATE=2 \
#     WSB_MODES="bare-v5 jwt-v5 bare-v5 jwt-v5" bash bench/ws_fanout.sh build-bench
# Browsers on two edges against the same browsers on the core alone:
#   ... WSB_MODES="jwt-v5 edge-v5 jwt-v5 edge-v5" bash bench/ws_fanout.sh build-bench
set -euo pipefail
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build}" && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
CLIENTS=${WSB_CLIENTS:-5000}
PROCS=${WSB_PROCS:-2}
SECS=${WSB_SECONDS:-20}
CONC=${WSB_CONCURRENCY:-100}
JOBS=${WSB_JOBS:-1}
SESSIONS=${WSB_SESSIONS:-1}
RATE=${WSB_RATE:-10}
EDGES=${WSB_EDGES:-2}
MODES=${WSB_MODES:-plain-v4 plain-v4-dup plain-v5 jwt-v4-dup jwt-v5}
export NODE_PATH=$SRC/examples/dashboard/node_modules
[ -f "$NODE_PATH/mqtt/package.json" ] || (cd "$SRC/examples/dashboard" && npm ci --no-audit --no-fund --loglevel=error)
# Every subscriber is a socket in the broker and in a client process: the
# usual limit of 1024 descriptors is far too low (mosquitto refuses
# connections past it). The brokers inherit this limit.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((CLIENTS + 64)) ]; then
	echo "descriptor limit $(ulimit -n) is below $CLIENTS clients + 64: raise the hard limit (ulimit -Hn)" >&2
	exit 1
fi
bench_pin "${WSB_PIN:-1}"
if [[ " $MODES" == *" edge"* ]] && [ ! -f "$SRC/examples/scaling/edge1.conf" ]; then
	echo "the edge modes need examples/scaling/edge1.conf (plugin_opt_mode edge)" >&2
	exit 1
fi

WORK=$(mktemp -d /tmp/jobwire-wsbench.XXXXXX)
chmod 755 "$WORK"
trap 'bench_cleanup "${WSB_KEEP:+1}"' EXIT
head -c 48 /dev/urandom | base64 >"$WORK/secret"
chmod 644 "$WORK/secret"
mint() { python3 "$SRC/examples/jwt-dev-token.py" --secret-file "$WORK/secret" "$@"; }

# rss_sum PID...: their VmRSS together, kB.
rss_sum() { local t=0 b; for b in "$@"; do t=$((t + $(bench_rss_kb "$b"))); done; echo "$t"; }

# edge_conf N TCP WS CORE_TCP IN: examples/scaling/edge1.conf with this
# run's ports, plugin, HS256 secret and an edge token, logging errors
# only; IN replaces the bridge's jobs/# in pattern.
edge_conf() {
	local n=$1 etcp=$2 ews=$3 core=$4 in=$5 token
	token=$(mint --role edge --sessions '*' --ttl 86400)
	awk -v n="$n" -v tcp="$etcp" -v ws="$ews" -v core="$core" -v so="$BUILD/plugin/jobwire.so" \
		-v secret="$WORK/secret" -v token="$token" -v in_="$in" '
		/^listener / { print "listener " (++l == 1 ? tcp : ws) " 127.0.0.1"; next }
		/^plugin / { print "plugin " so; next }
		/^plugin_opt_auth_jwt_/ { print "plugin_opt_auth_jwt_hs256_secret_file " secret; next }
		/^address / { print "address 127.0.0.1:" core; next }
		/^remote_clientid / { print "remote_clientid jobwire-edge" n; next }
		/^remote_username / { print "remote_username edge" n; next }
		/^remote_password / { print "remote_password " token; next }
		/^topic jobs\/# in / { $2 = in_; print; next }
		/^log_type / && $2 != "error" { next }
		/^#?http_dir / { next }
		{ print }' "$SRC/examples/scaling/edge1.conf"
}

bench_machine
echo "# $CLIENTS subscribers in $PROCS processes, $JOBS jobs in $SESSIONS sessions, $RATE events/s per job," \
	"$SECS s; descriptor limit $(ulimit -n); pinned: ${WSB_PIN:-1}; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-18s %7s %6s %7s %9s %9s %8s %8s %8s %8s %9s %6s %8s %6s\n' mode clients failed open_s \
	conn_p50 conn_p99 deliv/s lat_p50 lat_p99 lat_max rss/conn cpu% us/deliv cli%
for mode in $MODES; do
	tcp=$(bench_free_port); ws=$(bench_free_port)
	dup=false; [[ $mode == *-dup* ]] && dup=true
	ver=4; [[ $mode == *-v5* ]] && ver=5
	suffix=state; [[ $mode == *-raw* ]] && suffix=progress
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
		if [[ $mode != bare* ]]; then
			echo "plugin $BUILD/plugin/jobwire.so"
			echo "plugin_opt_schemas_dir $SRC/schemas"
			echo "plugin_opt_state_max_rate ${WSB_STATE_MAX_RATE:-20}"
		fi
		if [[ $mode == jwt* || $mode == edge* ]]; then
			echo "allow_anonymous false"
			echo "plugin_opt_auth_jwt_hs256_secret_file $WORK/secret"
		else
			echo "allow_anonymous true"
		fi
	} >"$WORK/$mode.conf"
	chmod 644 "$WORK/$mode.conf"
	bench_run_broker "$mode" "$WORK/$mode.conf" "$ws"
	broker=$BENCH_PID
	brokers=("$broker")
	wsports=("$ws")
	if [[ $mode == edge* ]]; then
		wsports=()
		for e in $(seq "$EDGES"); do
			etcp=$(bench_free_port); ews=$(bench_free_port)
			in='jobs/#'; [[ $mode == *-stateonly* ]] && in='jobs/+/+/state'
			edge_conf "$e" "$etcp" "$ews" "$tcp" "$in" >"$WORK/$mode.edge$e.conf"
			chmod 644 "$WORK/$mode.edge$e.conf"
			bench_run_broker "$mode.edge$e" "$WORK/$mode.edge$e.conf" "$ews"
			brokers+=("$BENCH_PID")
			wsports+=("$ews")
		done
		sleep 2 # the bridges connect and subscribe
	fi
	sleep 0.5
	# RSS per connection: of the brokers the subscribers use (the edges in edge modes)
	served=("${brokers[@]}"); [[ $mode == edge* ]] && served=("${brokers[@]:1}")
	rss0=$(rss_sum "${served[@]}")
	: >"$WORK/tokens"
	worker=""
	if [[ $mode == jwt* || $mode == edge* ]]; then
		if [ "$SESSIONS" = 1 ]; then
			mint --role viewer --sessions bench >"$WORK/tokens"
		else
			for s in $(seq 0 $((SESSIONS - 1))); do mint --role viewer --sessions "bench$s" --sub "viewer-$s"; done >"$WORK/tokens"
		fi
		worker=$(mint --role worker --sessions '*')
	fi
	pids=()
	per=$((CLIENTS / PROCS))
	for p in $(seq "$PROCS"); do
		"${CLIENT_PIN[@]}" node "$SRC/bench/ws_fanout.js" --ws-port "${wsports[$(((p - 1) % ${#wsports[@]}))]}" --tcp-port "$tcp" --clients "$per" --seconds "$SECS" \
			--mqtt "$ver" --suffix "$suffix" --jobs "$JOBS" --sessions "$SESSIONS" --first $(((p - 1) * per)) \
			--concurrency "$CONC" ${worker:+--token-file "$WORK/tokens"} --ready-file "$WORK/ready.$p" >"$WORK/out.$p" 2>"$WORK/err.$p" &
		pids+=($!)
	done
	for _ in $(seq 1200); do
		ready=$(find "$WORK" -name "ready.*" | wc -l)
		[ "$ready" -eq "$PROCS" ] && break
		sleep 0.1
	done
	sleep 1
	rss1=$(rss_sum "${served[@]}")
	bare=(); [[ $mode == bare* ]] && bare=(--bare)
	"${CLIENT_PIN[@]}" node "$SRC/bench/ws_fanout.js" --publish "${bare[@]}" --tcp-port "$tcp" --seconds "$SECS" \
		--jobs "$JOBS" --sessions "$SESSIONS" --rate "$RATE" --worker-token "$worker" \
		--broker-pid "$(IFS=,; echo "${brokers[*]}")" --client-pids "$(IFS=,; echo "${pids[*]}")" >"$WORK/pub.out"
	sleep 1
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" || true; done
	for b in "${brokers[@]}"; do bench_stop_broker "$b"; done
	rm -f "$WORK"/ready.*
	python3 - "$mode" "$rss0" "$rss1" "$(getconf CLK_TCK)" "$WORK/pub.out" "$WORK"/out.* <<'PY'
import json, sys
mode, rss0, rss1, hz, pubf = sys.argv[1:6]
pub = json.loads(open(pubf).read().strip().splitlines()[-1])
outs = [json.loads(open(f).read().strip().splitlines()[-1]) for f in sys.argv[6:]]
clients = sum(o["clients"] for o in outs)
failed = sum(o["failed"] for o in outs)
deliveries = sum(o["deliveries"] for o in outs)
def worst(k): return max((o[k] for o in outs if o[k] is not None), default=None)
def mid(k): # median of the per-process medians, weighted equally
    v = sorted(o[k] for o in outs if o[k] is not None); return v[len(v)//2] if v else None
rss = (int(rss1) - int(rss0)) / max(1, clients)
secs, hz = pub["seconds"], int(hz)
cpu = 100.0 * pub["broker_ticks"] / hz / secs
us = 1e6 * pub["broker_ticks"] / hz / max(1, deliveries)
cli = 100.0 * pub["client_ticks"] / hz / secs
print("%-18s %7d %6d %7.1f %9s %9s %8.0f %8s %8s %8s %7.1fkB %5.0f%% %8.1f %5.0f%%" % (mode, clients, failed,
      max(o["open_s"] for o in outs), mid("connect_p50_ms"), worst("connect_p99_ms"), deliveries / secs,
      mid("lat_p50_ms"), worst("lat_p99_ms"), worst("lat_max_ms"), rss, cpu, us, cli))
if len(pub["broker_ticks_each"]) > 1:
    print("#   CPU of each broker (core, edges): " + ", ".join("%.0f%%" % (100.0 * t / hz / secs) for t in pub["broker_ticks_each"]))
print("#   worker: %d events in %.1f s (%.0f/s), its CPU %.0f%% of a core" % (pub["sent"], secs, pub["sent"] / secs,
      100.0 * pub["publisher_cpu_s"] / secs))
PY
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
