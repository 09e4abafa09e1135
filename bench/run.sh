#!/usr/bin/env bash
# Measures what the plugin costs: plain mosquitto and mosquitto with the
# plugin, each on a free loopback port, take the same mqtt_bench stream in
# alternating rounds (optionally also a do-nothing plugin, to separate the
# cost of being called from the cost of validating); then validate_bench
# times validation alone, natively and under callgrind (instructions per
# event).
#
# usage: bench/run.sh [BUILD_DIR]    (default build-bench; build it first)
# Environment (defaults in brackets):
#   BENCH_ROUNDS [5]  BENCH_COUNT [200000]  BENCH_WARMUP [20000]
#   BENCH_JOBS [100]  BENCH_WINDOW [20]  BENCH_AHEAD [500]
#   BENCH_PIN [1]: broker on CPU 0, client on CPU 1 (taskset), when there
#                  are at least 2 CPUs
#   BENCH_VALIDATE_N [300000]  BENCH_CG_N1 [2000]  BENCH_CG_N2 [12000]
#   BENCH_NULL [1]: also run a broker with bench/null_plugin.so, between
#                   the other two in every round
#   BENCH_CALLGRIND [1]  BENCH_KEEP [0]: keep the work directory
#   BENCH_CLIENT_ARGS: extra mqtt_bench options (e.g. --nodelay)
#   BENCH_BROKER_CONF: extra lines for both broker configurations

set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$(cd "${1:-$SRC/build-bench}" && pwd)
ROUNDS=${BENCH_ROUNDS:-5}
COUNT=${BENCH_COUNT:-200000}
WARMUP=${BENCH_WARMUP:-20000}
JOBS=${BENCH_JOBS:-100}
WINDOW=${BENCH_WINDOW:-20}
AHEAD=${BENCH_AHEAD:-500}
PIN=${BENCH_PIN:-1}
VALIDATE_N=${BENCH_VALIDATE_N:-300000}
CG_N1=${BENCH_CG_N1:-2000}
CG_N2=${BENCH_CG_N2:-12000}
CALLGRIND=${BENCH_CALLGRIND:-1}
NULL_RUNS=${BENCH_NULL:-1}

MQTT_BENCH=$BUILD/bench/mqtt_bench
VALIDATE_BENCH=$BUILD/bench/validate_bench
PLUGIN=$BUILD/plugin/jobwire.so
NULL_PLUGIN=$BUILD/bench/null_plugin.so
if [ "$NULL_RUNS" = 1 ] && [ ! -f "$NULL_PLUGIN" ]; then
	echo "no $NULL_PLUGIN (mosquitto_broker.h missing?): skipping the null-plugin runs" >&2
	NULL_RUNS=0
fi
for f in "$MQTT_BENCH" "$VALIDATE_BENCH" "$PLUGIN"; do
	if [ ! -x "$f" ] && [ ! -f "$f" ]; then
		echo "missing $f: cmake -S $SRC -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build $BUILD" >&2
		exit 1
	fi
done

# The broker drops from root to user mosquitto before loading the plugin:
# everything it reads lives in a world-readable directory.
WORK=$(mktemp -d /tmp/jobwire-bench.XXXXXX)
chmod 755 "$WORK"
cp "$PLUGIN" "$WORK/jobwire.so"
[ "$NULL_RUNS" = 1 ] && cp "$NULL_PLUGIN" "$WORK/null_plugin.so"
mkdir "$WORK/schemas"
cp "$SRC"/schemas/*.json "$WORK/schemas/"
chmod -R a+rX "$WORK"

PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

wait_port() { # port
	local deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

BROKER_PIN=()
CLIENT_PIN=()
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	BROKER_PIN=(taskset -c 0)
	CLIENT_PIN=(taskset -c 1)
fi

# start_broker NAME [extra config lines...]: starts a broker (not in a
# subshell, so its pid reaches the cleanup) and sets BROKER_PORT.
start_broker() {
	local name=$1 port conf
	shift
	port=$(free_port)
	conf=$WORK/$name.conf
	{
		echo "per_listener_settings false"
		echo "allow_anonymous true"
		echo "persistence false"
		# No per-message debug lines: logging would dominate the figures.
		echo "log_dest stderr"
		echo "log_type error"
		echo "log_type warning"
		echo "log_type notice"
		echo "log_type information"
		echo "listener $port 127.0.0.1"
		[ -n "${BENCH_BROKER_CONF:-}" ] && printf '%s\n' "$BENCH_BROKER_CONF"
		local line
		for line in "$@"; do
			echo "$line"
		done
	} >"$conf"
	chmod 644 "$conf"
	"${BROKER_PIN[@]}" mosquitto -c "$conf" >/dev/null 2>"$WORK/$name.log" &
	PIDS+=($!)
	if ! wait_port "$port"; then
		echo "broker $name did not start:" >&2
		cat "$WORK/$name.log" >&2
		exit 1
	fi
	BROKER_PORT=$port
	BROKER_PID=${PIDS[-1]}
}

# CPU time (user + system, clock ticks) a process has used so far.
cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}
TICK_US=$((1000000 / $(getconf CLK_TCK)))

start_broker plain
PLAIN_PORT=$BROKER_PORT
PLAIN_PID=$BROKER_PID
start_broker plugin "plugin $WORK/jobwire.so" "plugin_opt_schemas_dir $WORK/schemas"
PLUGIN_PORT=$BROKER_PORT
PLUGIN_PID=$BROKER_PID
LABELS=(plain plugin)
if [ "$NULL_RUNS" = 1 ]; then
	start_broker null "plugin $WORK/null_plugin.so"
	NULL_PORT=$BROKER_PORT
	NULL_PID=$BROKER_PID
	LABELS=(plain null plugin)
fi
if ! grep -q "jobwire: validating" "$WORK/plugin.log"; then
	echo "the plugin did not load:" >&2
	cat "$WORK/plugin.log" >&2
	exit 1
fi

echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM, $(mosquitto -h 2>/dev/null | head -1)"
read -r LOAD1 _ </proc/loadavg
echo "# load average at start: $LOAD1 (anything else running skews the figures)"
if awk -v l="$LOAD1" 'BEGIN {exit !(l > 0.3)}'; then
	echo "# WARNING: the machine is not idle" >&2
fi
echo "# stream: $COUNT measured + $WARMUP warm-up messages per run, ~300-byte progress events over $JOBS jobs, MQTT 5 QoS 1, window $WINDOW, ahead $AHEAD"
if [ ${#BROKER_PIN[@]} -gt 0 ]; then
	echo "# pinning: brokers on CPU 0, mqtt_bench on CPU 1"
else
	echo "# pinning: none"
fi
[ -n "${BENCH_CLIENT_ARGS:-}" ] && echo "# mqtt_bench options: $BENCH_CLIENT_ARGS"
[ -n "${BENCH_BROKER_CONF:-}" ] && echo "# broker configuration added: $(printf '%s' "$BENCH_BROKER_CONF" | tr '\n' ';')"
echo "# round order alternates: ${LABELS[*]} | $(printf '%s\n' "${LABELS[@]}" | tac | tr '\n' ' ')| ..."

RESULTS=$WORK/results.txt
: >"$RESULTS"
# run_one ROUND LABEL PORT PID: one mqtt_bench run; appends the broker's
# CPU time per message (warm-up included) to its line.
run_one() {
	local line c0 c1
	c0=$(cpu_ticks "$4")
	if ! line=$("${CLIENT_PIN[@]}" "$MQTT_BENCH" --port "$3" --label "$2" --count "$COUNT" \
			--warmup "$WARMUP" --jobs "$JOBS" --window "$WINDOW" --ahead "$AHEAD" \
			--session "bench-r$1" ${BENCH_CLIENT_ARGS:-}); then
		echo "round $1 $2 failed: $line" >&2
		exit 1
	fi
	c1=$(cpu_ticks "$4")
	line="$line broker_cpu_us=$(awk -v d=$((c1 - c0)) -v t="$TICK_US" -v n=$((COUNT + WARMUP)) \
		'BEGIN {printf "%.1f", d * t / n}')"
	echo "round=$1 $line" | tee -a "$RESULTS"
}

# run_label ROUND LABEL
run_label() {
	case $2 in
		plain) run_one "$1" plain "$PLAIN_PORT" "$PLAIN_PID" ;;
		null) run_one "$1" null "$NULL_PORT" "$NULL_PID" ;;
		plugin) run_one "$1" plugin "$PLUGIN_PORT" "$PLUGIN_PID" ;;
	esac
}

for ((r = 1; r <= ROUNDS; r++)); do
	if [ $((r % 2)) = 1 ]; then
		for ((i = 0; i < ${#LABELS[@]}; i++)); do
			run_label "$r" "${LABELS[i]}"
		done
	else
		for ((i = ${#LABELS[@]} - 1; i >= 0; i--)); do
			run_label "$r" "${LABELS[i]}"
		done
	fi
done

# field LABEL KEY: the KEY values of LABEL's runs, one a line.
field() {
	grep " label=$1 " "$RESULTS" | tr ' ' '\n' | sed -n "s/^$2=//p"
}
median() {
	sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

PLAIN_TPUT=$(field plain msgs_per_s | median)
PLAIN_CPU=$(field plain broker_cpu_us | median)
echo
echo "summary (median of $ROUNDS runs each)"
printf '  %-7s %9s %8s %8s %8s %15s %15s\n' broker msgs/s p50_ms p99_ms max_ms \
	broker_cpu_us/msg client_cpu_us/msg
for b in "${LABELS[@]}"; do
	printf '  %-7s %9s %8s %8s %8s %15s %15s\n' "$b" "$(field $b msgs_per_s | median)" \
		"$(field $b p50_ms | median)" "$(field $b p99_ms | median)" "$(field $b max_ms | median)" \
		"$(field $b broker_cpu_us | median)" "$(field $b client_cpu_us | median)"
done
for b in "${LABELS[@]:1}"; do
	awk -v a="$(field $b msgs_per_s | median)" -v b="$PLAIN_TPUT" -v l="$b" 'BEGIN {
		r = 100 * a / b
		printf "  %s/plain throughput: %.1f%%", l, r
		if (l == "plugin")
			printf " (target >= 95%%: %s)", (r >= 95 ? "met" : "MISSED")
		printf "\n"
	}'
	# Per-round ratios show how much of the spread is drift between rounds.
	printf '  per-round %s/plain:' "$b"
	for ((r = 1; r <= ROUNDS; r++)); do
		awk -v r="$r" -v l="$b" '$1 == "round=" r {
			split($2, k, "="); split($5, t, "=")
			v[k[2]] = t[2]
		} END {printf " %.1f%%", 100 * v[l] / v["plain"]}' "$RESULTS"
	done
	echo
	awk -v a="$(field $b broker_cpu_us | median)" -v b="$PLAIN_CPU" -v l="$b" 'BEGIN {
		printf "  broker CPU per message, %s - plain: %+.1f us (%+.1f%%)\n", l, a - b, 100 * (a - b) / b
	}'
done

echo
echo "validation alone (validate_bench, one thread${CLIENT_PIN:+, CPU 1})"
"${CLIENT_PIN[@]}" "$VALIDATE_BENCH" -n "$VALIDATE_N" --schemas "$WORK/schemas"
"${CLIENT_PIN[@]}" "$VALIDATE_BENCH" -n "$VALIDATE_N" --schemas "$WORK/schemas" --splice

if [ "$CALLGRIND" = 1 ]; then
	if ! command -v valgrind >/dev/null; then
		echo "valgrind not installed: no instruction counts" >&2
		exit 0
	fi
	# Ir(N) = startup + N * per_event: the difference of two runs cancels
	# the schema loading.
	ir() { # n [--splice]
		local out=$WORK/callgrind.$1${2:-}
		valgrind --tool=callgrind --callgrind-out-file="$out" "$VALIDATE_BENCH" -n "$1" \
			--schemas "$WORK/schemas" ${2:+"$2"} >/dev/null 2>"$out.log"
		sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out"
	}
	echo
	echo "instructions per event (callgrind, N1=$CG_N1, N2=$CG_N2)"
	for mode in "" --splice; do
		ir1=$(ir "$CG_N1" $mode)
		ir2=$(ir "$CG_N2" $mode)
		awk -v a="$ir1" -v b="$ir2" -v n1="$CG_N1" -v n2="$CG_N2" -v m="${mode:+check+ts}" 'BEGIN {
			printf "  %-9s Ir(N1)=%d Ir(N2)=%d instructions/event=%.0f\n", m ? m : "check", a, b, (b - a) / (n2 - n1)
		}'
	done
	if command -v callgrind_annotate >/dev/null; then
		# Per-function cost per event: the difference between the N2 and
		# N1 runs, so start-up (schema loading) drops out.
		costs() { # callgrind-file inclusive(yes|no): "Ir<TAB>function" lines
			callgrind_annotate --auto=no --threshold=100 --inclusive="$2" "$1" 2>/dev/null | awk '
				/file:function/ {on = 1; next}
				on && /^ *[0-9,]+ \(/ {
					ir = $1; gsub(/,/, "", ir)
					name = $0; sub(/^[^)]*\) +/, "", name); sub(/ \[[^]]*\]$/, "", name)
					n = split(name, part, "/"); print ir "\t" part[n]
				}'
		}
		per_event() { # inclusive(yes|no)
			awk -F'\t' -v d=$((CG_N2 - CG_N1)) 'NR == FNR {a[$2] = $1; next}
				{v = ($1 - a[$2]) / d; if (v >= 100) printf "  %8.0f  %s\n", v, $2}' \
				<(costs "$WORK/callgrind.$CG_N1--splice" "$1") \
				<(costs "$WORK/callgrind.$CG_N2--splice" "$1") | sort -nr | uniq
		}
		echo
		echo "check+ts, instructions per event by step (inclusive)"
		per_event yes | grep -E ':(check_one|jw_event_check|jw_json_parse|jw_schema_validate|json_object_put|jw_event_format_ts|jw_event_splice_member|jw_topic_parse|check_binding|check_rules)$' || true
		echo
		echo "check+ts, instructions per event by function (own cost, top 20)"
		per_event no | head -20
	fi
fi
