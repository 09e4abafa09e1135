#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Lifecycle benchmarks: what the job table and the rate-limited state topic
# cost and save.
#   many jobs: mqtt_bench spreads one QoS 1 stream over 10000 job topics;
#              plain mosquitto and mosquitto with the plugin take it in
#              alternating rounds, each run on a freshly started broker.
#              Reports throughput, p99, the plugin's state messages against
#              the events it accepted ($jobwire/stats) and the broker's RSS.
#   fan-out:   fanout_bench publishes 1000 progress events/s for one job to
#              a broker with the plugin, with 1000 subscribers on the job's
#              state topic; controls: 1000 subscribers on the raw progress
#              topic at the same rate, and at LB_CTL_RATE (as many
#              deliveries as the state run). Reports deliveries per
#              subscriber per second, latencies and the broker's CPU.
#
# usage: bench/lifecycle.sh [BUILD_DIR]   (default build-bench; RelWithDebInfo)
# Environment (defaults in brackets):
#   LB_ROUNDS [3]  LB_JOBS [10000]  LB_COUNT [200000]  LB_WARMUP [20000]
#   LB_WINDOW [20]  LB_AHEAD [500]
#   LB_MANY [1]: run the many-jobs case
#   LB_FANOUT [1]: run the fan-out case   LB_SUBS [1000]  LB_FAN_RATE [1000]
#   LB_FAN_SECONDS [10]  LB_FAN_WARMUP [2]  LB_FAN_RUNS [2]
#   LB_CTL_RATE [10]: events/s of a second raw control (as many deliveries
#                     as the state run), 0 = skip it
#   LB_PIN [1]: brokers on CPU 0, clients on CPU 1 (taskset)
#   LB_KEEP [0]: keep the work directory

set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
BUILD=$(cd "${1:-$SRC/build-bench}" && pwd)
ROUNDS=${LB_ROUNDS:-3}
JOBS=${LB_JOBS:-10000}
COUNT=${LB_COUNT:-200000}
WARMUP=${LB_WARMUP:-20000}
WINDOW=${LB_WINDOW:-20}
AHEAD=${LB_AHEAD:-500}
MANY=${LB_MANY:-1}
FANOUT=${LB_FANOUT:-1}
SUBS=${LB_SUBS:-1000}
FAN_RATE=${LB_FAN_RATE:-1000}
FAN_SECONDS=${LB_FAN_SECONDS:-10}
FAN_WARMUP=${LB_FAN_WARMUP:-2}
FAN_RUNS=${LB_FAN_RUNS:-2}
CTL_RATE=${LB_CTL_RATE:-10}
PIN=${LB_PIN:-1}

MQTT_BENCH=$BUILD/bench/mqtt_bench
FANOUT_BENCH=$BUILD/bench/fanout_bench
PLUGIN=$BUILD/plugin/jobwire.so
bench_need "$MQTT_BENCH" "$FANOUT_BENCH" "$PLUGIN"
for tool in mosquitto mosquitto_sub python3 timeout; do
	command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
# Every subscriber is one descriptor in the broker and three in fanout_bench
# (libmosquitto keeps a socket pair per client to wake its loop).
ulimit -n $((3 * SUBS + 1024)) 2>/dev/null || ulimit -n "$(ulimit -Hn)"

bench_work_dir jobwire-lbench "$PLUGIN"
trap 'bench_cleanup "${LB_KEEP:-0}"' EXIT
bench_pin "$PIN"

TICK_US=$((1000000 / $(getconf CLK_TCK)))

# Busy CPU time of the whole machine so far (all CPUs, clock ticks).
machine_busy() {
	awk 'NR == 1 {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat
}

# other_pct BUSY0 BUSY1 BROKER_TICKS CLIENT_US WALL_NS: CPU used by anything
# but the broker and the client over a run, in % of one core (other tenants
# of the machine skew the figures).
other_pct() {
	awk -v b=$(($2 - $1)) -v k="$3" -v c="$4" -v w="$5" -v t="$TICK_US" \
		'BEGIN {printf "%.0f", 100 * ((b - k) * t - c) / (w / 1000)}'
}

# start_broker NAME plain|plugin: a fresh broker (empty job table, empty
# retained store); sets PORT and BROKER_PID.
start_broker() {
	local name=$1 kind=$2
	if [ "$kind" = plugin ]; then
		bench_start_broker "$name" "plugin $WORK/jobwire.so" \
			"plugin_opt_schemas_dir $WORK/schemas" "plugin_opt_stats_interval 1"
		bench_check_plugin "$name"
	else
		bench_start_broker "$name"
	fi
	PORT=$BENCH_PORT
	BROKER_PID=$BENCH_PID
}

# stats KEY...: values from the retained $jobwire/stats (dotted paths).
stats() {
	# shellcheck disable=SC2016 # a literal $ in the topic
	timeout 10 mosquitto_sub -p "$PORT" -t '$jobwire/stats' -C 1 -W 5 |
		python3 -c 'import json, sys
d = json.load(sys.stdin)
out = []
for path in sys.argv[1:]:
    v = d
    for k in path.split("."):
        v = v[k]
    out.append("%s=%s" % (path, v))
print(" ".join(out))' "$@"
}

bench_machine
if [ ${#BROKER_PIN[@]} -gt 0 ]; then
	echo "# pinning: broker on CPU 0, clients on CPU 1"
fi

RESULTS=$WORK/results.txt
: >"$RESULTS"

# many_one TAG plain|plugin: one many-jobs run on a fresh broker.
many_one() {
	local tag=$1 kind=$2 line c0 c1 rss0 rss1 m0 m1 t0 t1 extra=
	start_broker "$tag-$kind" "$kind"
	rss0=$(bench_rss_kb "$BROKER_PID")
	c0=$(bench_cpu_ticks "$BROKER_PID")
	m0=$(machine_busy)
	t0=$(date +%s%N)
	if ! line=$(timeout 300 "${CLIENT_PIN[@]}" "$MQTT_BENCH" --port "$PORT" --label "$kind" \
			--count "$COUNT" --warmup "$WARMUP" --jobs "$JOBS" --window "$WINDOW" \
			--ahead "$AHEAD" --session "many-$tag"); then
		echo "$tag $kind failed: $line" >&2
		exit 1
	fi
	c1=$(bench_cpu_ticks "$BROKER_PID")
	m1=$(machine_busy)
	t1=$(date +%s%N)
	extra=" other_load_pct=$(other_pct "$m0" "$m1" $((c1 - c0)) "$(awk -v l="$line" -v n=$((COUNT + WARMUP)) \
		'BEGIN {if (match(l, /client_cpu_us=[0-9.]+/)) print n * substr(l, RSTART + 14, RLENGTH - 14); else print 0}')" $((t1 - t0)))"
	if [ "$kind" = plugin ]; then
		# Held states go out within 100 ms; stats are published every second.
		sleep 2.5
		extra="$extra $(stats events.accepted state.published state.coalesced jobs.total jobs.memory_bytes)"
	fi
	rss1=$(bench_rss_kb "$BROKER_PID")
	echo "run=$tag $line broker_cpu_us=$(awk -v d=$((c1 - c0)) -v t="$TICK_US" \
		-v n=$((COUNT + WARMUP)) 'BEGIN {printf "%.1f", d * t / n}') rss_start_kb=$rss0" \
		"rss_end_kb=$rss1$extra" | tee -a "$RESULTS"
	bench_stop_broker "$BROKER_PID"
}

field() { # LABEL KEY: KEY of every many-jobs run of LABEL
	awk -v l="label=$1" -v k="$2" '$2 == l {
		for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2)
	}' "$RESULTS"
}

if [ "$MANY" = 1 ]; then
echo
echo "many jobs: $COUNT measured + $WARMUP warm-up events round-robin over $JOBS jobs," \
	"MQTT 5 QoS 1, window $WINDOW, ahead $AHEAD; fresh broker per run; plain/plugin," \
	"order reversed every other round"
for ((r = 1; r <= ROUNDS; r++)); do
	if [ $((r % 2)) = 1 ]; then order="plain plugin"; else order="plugin plain"; fi
	for kind in $order; do
		many_one "r$r" "$kind"
	done
done
echo
echo "many-jobs summary (median of $ROUNDS runs each)"
printf '  %-7s %9s %8s %8s %14s %12s\n' broker msgs/s p50_ms p99_ms broker_cpu_us rss_end_kb
for b in plain plugin; do
	printf '  %-7s %9s %8s %8s %14s %12s\n' "$b" "$(field "$b" msgs_per_s | bench_median)" \
		"$(field "$b" p50_ms | bench_median)" "$(field "$b" p99_ms | bench_median)" \
		"$(field "$b" broker_cpu_us | bench_median)" "$(field "$b" rss_end_kb | bench_median)"
done
awk -v a="$(field plugin msgs_per_s | bench_median)" -v p="$(field plain msgs_per_s | bench_median)" 'BEGIN {
	x = 100 * a / p
	printf "  plugin/plain throughput: %.1f%% (target >= 95%%: %s)\n", x, (x >= 95 ? "met" : "MISSED")
}'
paste <(field plugin msgs_per_s) <(field plain msgs_per_s) |
	awk '{printf "%s %.1f%%", (NR == 1 ? "  per round:" : ""), 100 * $1 / $2} END {print ""}'
paste <(field plugin events.accepted) <(field plugin state.published) \
	<(field plugin state.coalesced) <(field plugin rss_end_kb) <(field plain rss_end_kb) \
	<(field plugin jobs.memory_bytes) | awk -v jobs="$JOBS" '{
		printf "  accepted %d, state published %d (%.3f per event), coalesced %d;" \
			" RSS plugin-plain %d kB = %.0f bytes/job (table memory_bytes %.0f/job)\n",
			$1, $2, $2 / $1, $3, $4 - $5, 1024 * ($4 - $5) / jobs, $6 / jobs
	}'
fi

if [ "$FANOUT" != 1 ]; then
	exit 0
fi

# fan_one TAG state|progress RATE
fan_one() {
	local tag=$1 topic=$2 rate=$3 line rss c0 c1 m0 m1 t0 t1 client_us
	start_broker "$tag-$topic" plugin
	c0=$(bench_cpu_ticks "$BROKER_PID")
	m0=$(machine_busy)
	t0=$(date +%s%N)
	if ! line=$(timeout $((FAN_WARMUP + FAN_SECONDS + 120)) "${CLIENT_PIN[@]}" "$FANOUT_BENCH" \
			--port "$PORT" --label "$tag" --topic "$topic" --subs "$SUBS" \
			--rate "$rate" --warmup "$FAN_WARMUP" --seconds "$FAN_SECONDS" \
			--session "fan-$tag" --broker-pid "$BROKER_PID"); then
		echo "fan-out $tag $topic failed: $line" >&2
		line="label=$tag topic=$topic rate=$rate failed"
	fi
	c1=$(bench_cpu_ticks "$BROKER_PID")
	m1=$(machine_busy)
	t1=$(date +%s%N)
	client_us=$(awk -v l="$line" 'BEGIN {if (match(l, /client_cpu_s=[0-9.]+/))
		print 1e6 * substr(l, RSTART + 13, RLENGTH - 13); else print 0}')
	rss=$(bench_rss_kb "$BROKER_PID")
	sleep 2.5
	echo "fan=$tag $line rss_end_kb=$rss" \
		"broker_run_cpu_pct=$(awk -v d=$((c1 - c0)) -v t="$TICK_US" -v w=$((t1 - t0)) \
			'BEGIN {printf "%.1f", 100 * d * t / (w / 1000)}')" \
		"other_load_pct=$(other_pct "$m0" "$m1" $((c1 - c0)) "$client_us" $((t1 - t0)))" \
		"$(stats state.published state.coalesced events.accepted)" |
		tee -a "$RESULTS"
	bench_stop_broker "$BROKER_PID"
}

echo
echo "fan-out: 1 job, $FAN_RATE progress events/s, $SUBS subscribers (MQTT 5, QoS 1);" \
	"$FAN_WARMUP s warm-up, $FAN_SECONDS s measured; state, then raw progress at the same" \
	"rate and at $CTL_RATE/s (controls)"
for ((r = 1; r <= FAN_RUNS; r++)); do
	fan_one "f$r" state "$FAN_RATE"
	fan_one "f$r" progress "$FAN_RATE"
	if [ "$CTL_RATE" != 0 ]; then
		fan_one "f$r" progress "$CTL_RATE"
	fi
done
