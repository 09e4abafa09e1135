#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Measures what the plugin costs: plain mosquitto and mosquitto with the
# plugin (and a do-nothing plugin, to separate the cost of being called from
# the cost of validating), each on a free loopback port, take the same
# mqtt_bench stream in alternating rounds, flat out and then at a fixed
# rate for latency; validate_bench then times validation alone, natively
# and under callgrind (instructions per event).
#
# usage: bench/run.sh [BUILD_DIR]    (default build-bench, else build;
#                                     build it first, RelWithDebInfo)
# Environment (defaults in brackets):
#   BENCH_ROUNDS [9]  BENCH_COUNT [100000]  BENCH_WARMUP [10000]
#   BENCH_QOS [1 0]: the QoS levels of the throughput rounds, in this order
#                  (both ways: publisher and subscription; the fixed-rate
#                  runs are QoS 1)
#   BENCH_JOBS [100]  BENCH_WINDOW [20]  BENCH_AHEAD [500]
#   BENCH_RATE [10000]: msgs/s of the fixed-rate latency runs, 0 = skip them
#   BENCH_RATE_COUNT [50000]: measured messages per fixed-rate run
#   BENCH_PIN [1]: brokers on CPU 0, client on CPU 1 (taskset), when there
#                  are at least 2 CPUs
#   BENCH_NULL [1]: also run a broker with bench/null_plugin.so
#   BENCH_VALIDATE_N [300000]  BENCH_CG_N1 [2000]  BENCH_CG_N2 [12000]
#   BENCH_CALLGRIND [1]  BENCH_KEEP [0]: keep the work directory
#   BENCH_CLIENT_ARGS: extra mqtt_bench options (e.g. --nodelay)
#   BENCH_BROKER_CONF: extra lines for every broker configuration
#   BENCH_PERSIST [0]: 1 = the plugin broker also writes its job table
#                  (plugin_opt_data_dir, as the example configuration does);
#                  0 = no data_dir, the job table lives in memory only

set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
BUILD=${1:-$SRC/build-bench}
if [ $# -eq 0 ] && [ ! -d "$BUILD" ] && [ -d "$SRC/build" ]; then
	BUILD=$SRC/build
fi
if [ ! -d "$BUILD" ]; then
	echo "no build directory $BUILD: cmake -S $SRC -B $SRC/build-bench" \
		"-DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $SRC/build-bench -j2" >&2
	exit 1
fi
BUILD=$(cd "$BUILD" && pwd)
ROUNDS=${BENCH_ROUNDS:-9}
COUNT=${BENCH_COUNT:-100000}
WARMUP=${BENCH_WARMUP:-10000}
JOBS=${BENCH_JOBS:-100}
WINDOW=${BENCH_WINDOW:-20}
AHEAD=${BENCH_AHEAD:-500}
RATE=${BENCH_RATE:-10000}
RATE_COUNT=${BENCH_RATE_COUNT:-50000}
PIN=${BENCH_PIN:-1}
NULL_RUNS=${BENCH_NULL:-1}
VALIDATE_N=${BENCH_VALIDATE_N:-300000}
CG_N1=${BENCH_CG_N1:-2000}
CG_N2=${BENCH_CG_N2:-12000}
CALLGRIND=${BENCH_CALLGRIND:-1}
QOS_LIST=${BENCH_QOS:-1 0}

MQTT_BENCH=$BUILD/bench/mqtt_bench
VALIDATE_BENCH=$BUILD/bench/validate_bench
PLUGIN=$BUILD/plugin/jobwire.so
NULL_PLUGIN=$BUILD/bench/null_plugin.so
bench_need "$MQTT_BENCH" "$VALIDATE_BENCH" "$PLUGIN"
if [ "$NULL_RUNS" = 1 ] && [ ! -f "$NULL_PLUGIN" ]; then
	echo "no $NULL_PLUGIN (mosquitto_broker.h missing?): no null-plugin runs" >&2
	NULL_RUNS=0
fi

if [ "$NULL_RUNS" = 1 ]; then
	bench_work_dir jobwire-bench "$PLUGIN" "$NULL_PLUGIN"
else
	bench_work_dir jobwire-bench "$PLUGIN"
fi
trap 'bench_cleanup "${BENCH_KEEP:-0}"' EXIT

# Percentage of CPU time the whole machine spent idle over the next 2 s.
idle_percent() {
	local a b
	a=$(head -1 /proc/stat)
	sleep 2
	b=$(head -1 /proc/stat)
	printf '%s\n%s\n' "$a" "$b" | awk '{
		t = 0; for (i = 2; i <= NF; i++) t += $i
		tot[NR] = t; idle[NR] = $5 + $6
	} END {printf "%.0f", 100 * (idle[2] - idle[1]) / (tot[2] - tot[1])}'
}

TICK_US=$((1000000 / $(getconf CLK_TCK)))
bench_pin "$PIN"

# start_broker LABEL [extra config lines...]: starts a broker (not in a
# subshell, so its pid reaches the cleanup) with BENCH_BROKER_CONF's lines
# before the extra ones; records PORT_<label> and PID_<label>.
start_broker() {
	local name=$1
	shift
	if [ -n "${BENCH_BROKER_CONF:-}" ]; then
		set -- "$BENCH_BROKER_CONF" "$@"
	fi
	bench_start_broker "$name" "$@"
	printf -v "PORT_$name" '%s' "$BENCH_PORT"
	printf -v "PID_$name" '%s' "$BENCH_PID"
}

LABELS=(plain)
start_broker plain
if [ "$NULL_RUNS" = 1 ]; then
	start_broker null "plugin $WORK/null_plugin.so"
	LABELS+=(null)
fi
PLUGIN_EXTRA=()
if [ "${BENCH_PERSIST:-0}" = 1 ]; then
	mkdir "$WORK/data"
	chown mosquitto "$WORK/data" 2>/dev/null || chmod 777 "$WORK/data"
	PLUGIN_EXTRA+=("plugin_opt_data_dir $WORK/data")
fi
start_broker plugin "plugin $WORK/jobwire.so" "plugin_opt_schemas_dir $WORK/schemas" \
	"${PLUGIN_EXTRA[@]}"
LABELS+=(plugin)
bench_check_plugin plugin

IDLE=$(idle_percent)
bench_machine
echo "# idle before start: $IDLE% over 2 s"
if [ "$IDLE" -lt 95 ]; then
	echo "# WARNING: something else is using the CPUs; the figures will be skewed" >&2
fi
echo "# stream: $COUNT measured + $WARMUP warm-up messages per run, ~300-byte progress" \
	"events over $JOBS jobs, MQTT 5 QoS $QOS_LIST (throughput), window $WINDOW, ahead $AHEAD"
if [ ${#BROKER_PIN[@]} -gt 0 ]; then
	echo "# pinning: brokers on CPU 0, mqtt_bench on CPU 1"
else
	echo "# pinning: none"
fi
if [ -n "${BENCH_CLIENT_ARGS:-}" ]; then
	echo "# mqtt_bench options added: $BENCH_CLIENT_ARGS"
fi
if [ -n "${BENCH_BROKER_CONF:-}" ]; then
	echo "# broker configuration added: $(printf '%s' "$BENCH_BROKER_CONF" | tr '\n' ';')"
fi

RESULTS=$WORK/results.txt
: >"$RESULTS"

# run_one TAG LABEL COUNT WARMUP [mqtt_bench options...]: one run against
# broker LABEL; appends the broker's CPU time per message (warm-up
# included) to the result line.
run_one() {
	local tag=$1 label=$2 count=$3 warmup=$4 line c0 c1 port pid
	shift 4
	port=PORT_$label
	pid=PID_$label
	c0=$(bench_cpu_ticks "${!pid}")
	# BENCH_CLIENT_ARGS is split into words on purpose.
	# shellcheck disable=SC2086
	if ! line=$("${CLIENT_PIN[@]}" "$MQTT_BENCH" --port "${!port}" --label "$label" \
			--count "$count" --warmup "$warmup" --jobs "$JOBS" --window "$WINDOW" \
			--ahead "$AHEAD" --session "bench-$tag" "$@" ${BENCH_CLIENT_ARGS:-}); then
		echo "$tag $label failed: $line" >&2
		exit 1
	fi
	c1=$(bench_cpu_ticks "${!pid}")
	line="$line broker_cpu_us=$(awk -v d=$((c1 - c0)) -v t="$TICK_US" \
		-v n=$((count + warmup)) 'BEGIN {printf "%.1f", d * t / n}')"
	echo "run=$tag $line" | tee -a "$RESULTS"
}

# in_order ROUND: the labels, reversed in even rounds so that no broker
# always runs first or last.
in_order() {
	if [ $(($1 % 2)) = 1 ]; then
		printf '%s\n' "${LABELS[@]}"
	else
		printf '%s\n' "${LABELS[@]}" | tac
	fi
}

# value RUN LABEL KEY: KEY of one result line.
value() {
	awk -v r="run=$1" -v l="label=$2" -v k="$3" '$1 == r && $2 == l {
		for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2)
	}' "$RESULTS"
}

# field PREFIX LABEL KEY: KEY of every run whose tag starts with PREFIX.
field() {
	awk -v r="run=$1" -v l="label=$2" -v k="$3" 'index($1, r) == 1 && $2 == l {
		for (i = 3; i <= NF; i++) if (index($i, k "=") == 1) print substr($i, length(k) + 2)
	}' "$RESULTS"
}

# ratios QOS LABEL: label/plain throughput of each round at QOS, in
# percent, one per line. The two runs of a round are adjacent in time, so a
# ratio within a round is not moved by the host's speed drifting between
# rounds.
ratios() {
	local r
	for ((r = 1; r <= ROUNDS; r++)); do
		awk -v a="$(value "q$1r$r" "$2" msgs_per_s)" -v p="$(value "q$1r$r" plain msgs_per_s)" \
			'BEGIN {printf "%.2f\n", 100 * a / p}'
	done
}

# quartiles: "Q1 median Q3" of the numbers on stdin (linear interpolation).
quartiles() {
	sort -g | awk '{v[NR] = $1}
		function q(f,   h, i) {h = (NR - 1) * f + 1; i = int(h); return v[i] + (h - i) * (v[i + 1] - v[i])}
		END {v[NR + 1] = v[NR]; printf "%.1f %.1f %.1f\n", q(0.25), q(0.5), q(0.75)}'
}

# throughput QOS: ROUNDS rounds of every broker flat out at QOS, then the
# summary and the verdict.
throughput() {
	local q=$1 r label b q1 med q3 plain_tput plain_cpu
	echo
	echo "throughput at QoS $q: as fast as the window allows; order ${LABELS[*]}, reversed every other round"
	for ((r = 1; r <= ROUNDS; r++)); do
		for label in $(in_order "$r"); do
			run_one "q${q}r$r" "$label" "$COUNT" "$WARMUP" --qos "$q"
		done
	done
	plain_tput=$(field "q${q}r" plain msgs_per_s | bench_median)
	plain_cpu=$(field "q${q}r" plain broker_cpu_us | bench_median)
	echo
	echo "throughput summary at QoS $q (median of $ROUNDS runs each)"
	printf '  %-7s %9s %8s %8s %8s %18s %18s\n' broker msgs/s p50_ms p99_ms max_ms \
		broker_cpu_us/msg client_cpu_us/msg
	for b in "${LABELS[@]}"; do
		printf '  %-7s %9s %8s %8s %8s %18s %18s\n' "$b" \
			"$(field "q${q}r" "$b" msgs_per_s | bench_median)" \
			"$(field "q${q}r" "$b" p50_ms | bench_median)" "$(field "q${q}r" "$b" p99_ms | bench_median)" \
			"$(field "q${q}r" "$b" max_ms | bench_median)" \
			"$(field "q${q}r" "$b" broker_cpu_us | bench_median)" \
			"$(field "q${q}r" "$b" client_cpu_us | bench_median)"
	done
	for b in "${LABELS[@]:1}"; do
		awk -v a="$(field "q${q}r" "$b" msgs_per_s | bench_median)" -v p="$plain_tput" -v l="$b" 'BEGIN {
			printf "  %s/plain throughput, medians of all runs: %.1f%%\n", l, 100 * a / p
		}'
		printf '  per round:'
		ratios "$q" "$b" | awk '{printf " %.1f%%", $1} END {print ""}'
		# The verdict: the median of the per-round ratios, with the middle
		# half of them, so a reader sees how far the host's noise reaches.
		read -r q1 med q3 < <(ratios "$q" "$b" | quartiles)
		awk -v q1="$q1" -v m="$med" -v q3="$q3" -v l="$b" -v qos="$q" 'BEGIN {
			printf "  QoS %s: %s/plain throughput, median of the per-round ratios: %.1f%% (middle half %.1f-%.1f%%)", qos, l, m, q1, q3
			if (l == "plugin")
				printf " (target >= 95%%: %s)", (m >= 95 ? "met" : "MISSED")
			printf "\n"
		}'
		awk -v a="$(field "q${q}r" "$b" broker_cpu_us | bench_median)" -v p="$plain_cpu" -v l="$b" 'BEGIN {
			printf "  broker CPU per message, %s - plain: %+.1f us (%+.1f%%)\n", l, a - p,
				100 * (a - p) / p
		}'
	done
}

for q in $QOS_LIST; do
	throughput "$q"
done

if [ "$RATE" != 0 ]; then
	echo
	echo "latency at a fixed $RATE msgs/s (two runs each, order ${LABELS[*]}, then reversed)"
	for r in 1 2; do
		for label in $(in_order "$r"); do
			run_one "fixed$r" "$label" "$RATE_COUNT" $((RATE_COUNT / 10)) --rate "$RATE"
		done
	done
	echo
	echo "fixed-rate summary (median of 2 runs each)"
	printf '  %-7s %9s %8s %8s %8s %18s\n' broker msgs/s p50_ms p99_ms max_ms broker_cpu_us/msg
	for b in "${LABELS[@]}"; do
		printf '  %-7s %9s %8s %8s %8s %18s\n' "$b" "$(field fixed "$b" msgs_per_s | bench_median)" \
			"$(field fixed "$b" p50_ms | bench_median)" "$(field fixed "$b" p99_ms | bench_median)" \
			"$(field fixed "$b" max_ms | bench_median)" "$(field fixed "$b" broker_cpu_us | bench_median)"
	done
fi

echo
echo "validation alone (validate_bench, one thread${CLIENT_PIN:+, CPU 1})"
"${CLIENT_PIN[@]}" "$VALIDATE_BENCH" -n "$VALIDATE_N" --schemas "$WORK/schemas"
"${CLIENT_PIN[@]}" "$VALIDATE_BENCH" -n "$VALIDATE_N" --schemas "$WORK/schemas" --splice

if [ "$CALLGRIND" != 1 ]; then
	exit 0
fi
if ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed: no instruction counts" >&2
	exit 0
fi
# ir N [--splice]: total instructions of a validate_bench run of N events.
# Ir(N) = start-up + N * per-event, so the difference of two runs cancels
# the schema loading.
ir() {
	local out=$WORK/callgrind.$1${2:-}
	valgrind --tool=callgrind --callgrind-out-file="$out" "$VALIDATE_BENCH" -n "$1" \
		--schemas "$WORK/schemas" ${2:+"$2"} >/dev/null 2>"$out.log"
	sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out"
}
echo
echo "instructions per event (callgrind, N1=$CG_N1, N2=$CG_N2: (Ir(N2) - Ir(N1)) / (N2 - N1))"
for mode in "" --splice; do
	ir1=$(ir "$CG_N1" $mode)
	ir2=$(ir "$CG_N2" $mode)
	awk -v a="$ir1" -v b="$ir2" -v n1="$CG_N1" -v n2="$CG_N2" -v m="${mode:+check+ts}" 'BEGIN {
		printf "  %-9s Ir(N1)=%d Ir(N2)=%d instructions/event=%.0f\n", (m ? m : "check"), a, b,
			(b - a) / (n2 - n1)
	}'
done

if ! command -v callgrind_annotate >/dev/null; then
	exit 0
fi
# costs FILE INCLUSIVE(yes|no): "Ir<TAB>file:function" lines.
costs() {
	callgrind_annotate --auto=no --threshold=100 --inclusive="$2" "$1" 2>/dev/null | awk '
		/file:function/ {on = 1; next}
		on && /^ *[0-9,]+ \(/ {
			ir = $1; gsub(/,/, "", ir)
			name = $0; sub(/^[^)]*\) +/, "", name); sub(/ \[[^]]*\]$/, "", name)
			n = split(name, part, "/"); print ir "\t" part[n]
		}'
}
# per_event INCLUSIVE: each function's cost per event, from the difference
# between the N2 and N1 runs of check+ts.
per_event() {
	awk -F'\t' -v d=$((CG_N2 - CG_N1)) 'NR == FNR {a[$2] = $1; next}
		{v = ($1 - a[$2]) / d; if (v >= 100) printf "  %8.0f  %s\n", v, $2}' \
		<(costs "$WORK/callgrind.$CG_N1--splice" "$1") \
		<(costs "$WORK/callgrind.$CG_N2--splice" "$1") | sort -nr | uniq
}
echo
echo "check+ts, instructions per event by step (inclusive)"
per_event yes | grep -E ':(check_one|jw_event_check|jw_event_check_doc|jw_json_parse|jw_jdoc_parse|jw_schema_validate|jw_schema_validate_node|json_object_put|jw_rfc3339_format_cached|jw_event_splice_member|jw_topic_parse|check_binding|check_rules)$' ||
	true
echo
echo "check+ts, instructions per event by function (own cost, top 20)"
per_event no | head -20
