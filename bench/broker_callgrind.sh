#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Instructions the whole broker executes per message, under callgrind:
# plain mosquitto and mosquitto with jobwire take the same mqtt_bench
# stream (~300-byte progress events, MQTT 5, QoS 1, 100 jobs) for N1 and
# then N2 messages; (Ir(N2) - Ir(N1)) / (N2 - N1) cancels start-up and
# schema loading. Instruction counts do not depend on other load on the
# machine, unlike msgs/s; they do not include the kernel's share (socket
# I/O, futexes), which is the same with and without the plugin.
#
# The state topic is published on a timer (at most plugin_opt_state_max_rate
# per job), so how many states go out per message depends on how fast the
# slowed-down broker runs. To make the figure deterministic, each plugin
# configuration runs twice:
#   nostate: plugin_opt_state_max_rate 0.1 (a job's first state only,
#            which cancels out): validation, ts, job table;
#   state:   plugin_opt_state_max_rate 1000 (every event publishes its
#            job's state, as with many slow jobs).
# state - nostate is the cost of one state publish. With the default rate
# of 10 per job and 100 jobs, bench/run.sh's stream publishes one state per
# (msgs/s / 1000) events, e.g. one in 27 at 27000 msgs/s.
#
# usage: bench/broker_callgrind.sh [BUILD_DIR] (default build-bench)
# Environment: BCG_N1 [2000]  BCG_N2 [12000]
#   BCG_CONFIGS [plain plugin persist]: persist = plugin with
#               plugin_opt_data_dir (the job table written to jobs.log);
#               history = plugin with plugin_opt_history_events 0 and 10
#               (plugin.nostate has the default, 200)
#   BCG_KEEP [0]: keep the work directory and the callgrind files
# Run as root: the broker runs as user mosquitto (runuser), so that the
# callgrind file is written by the same user the broker runs as.

set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
BUILD=$(cd "${1:-$SRC/build-bench}" && pwd)
N1=${BCG_N1:-2000}
N2=${BCG_N2:-12000}
CONFIGS=${BCG_CONFIGS:-plain plugin persist}
MQTT_BENCH=$BUILD/bench/mqtt_bench
PLUGIN=$BUILD/plugin/jobwire.so

bench_need "$MQTT_BENCH" "$PLUGIN"
if ! command -v valgrind >/dev/null; then
	echo "valgrind is not installed" >&2
	exit 1
fi

bench_work_dir jobwire-bcg "$PLUGIN"
# The broker's user writes the callgrind files here.
chmod 1777 "$WORK"
trap 'bench_cleanup "${BCG_KEEP:-0}"' EXIT
# Errors and warnings only, as when the figures in docs/performance.md
# were taken.
BENCH_LOG_TYPES="error warning"
# A broker under valgrind takes seconds to start.
BENCH_START_TIMEOUT=30

# ir NAME N CONFIG_LINES...: total instructions of a broker that carried N
# messages.
ir() {
	local name=$1 n=$2 port out
	shift 2
	port=$(bench_free_port)
	out=$WORK/callgrind.$name.$n
	bench_conf "$WORK/$name.$n.conf" "$port" "$@"
	# The log goes to $out.log.
	bench_run_broker "callgrind.$name.$n" "$WORK/$name.$n.conf" "$port" \
		runuser -u mosquitto -- valgrind --tool=callgrind --callgrind-out-file="$out" mosquitto
	"$MQTT_BENCH" --port "$port" --count "$n" --warmup 0 --timeout 60 --label "$name" >"$out.bench"
	bench_stop_broker "$BENCH_PID"
	sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out"
}

# per_message NAME CONFIG_LINES...
per_message() {
	local name=$1 a b
	shift
	a=$(ir "$name" "$N1" "$@")
	b=$(ir "$name" "$N2" "$@")
	awk -v a="$a" -v b="$b" -v n1="$N1" -v n2="$N2" -v l="$name" 'BEGIN {
		printf "%-16s instructions/message=%.0f\n", l, (b - a) / (n2 - n1)
	}'
}

PLUGIN_CONF=("plugin $WORK/jobwire.so" "plugin_opt_schemas_dir $WORK/schemas"
	"plugin_opt_stats_interval 0")
echo "# broker instructions per message (callgrind, N1=$N1, N2=$N2)"
for c in $CONFIGS; do
	case $c in
	plain)
		per_message plain
		;;
	plugin)
		per_message plugin.nostate "${PLUGIN_CONF[@]}" "plugin_opt_state_max_rate 0.1"
		per_message plugin.state "${PLUGIN_CONF[@]}" "plugin_opt_state_max_rate 1000"
		;;
	history)
		# The jobs' histories (plugin_opt_history_events): off, and a
		# ring of 10 that is full after the first 10 events of each of
		# the 100 jobs, so the measured messages reuse its entries (the
		# default 200 allocates one entry per event for the first 200).
		per_message history0.nostate "${PLUGIN_CONF[@]}" "plugin_opt_state_max_rate 0.1" \
			"plugin_opt_history_events 0"
		per_message history10.nostate "${PLUGIN_CONF[@]}" "plugin_opt_state_max_rate 0.1" \
			"plugin_opt_history_events 10"
		;;
	persist)
		for s in nostate state; do
			rm -rf "$WORK/data"
			mkdir "$WORK/data"
			chown mosquitto "$WORK/data"
			rate=0.1
			[ $s = state ] && rate=1000
			# A fresh data directory for both runs of a pair.
			a=$(ir persist.$s "$N1" "${PLUGIN_CONF[@]}" "plugin_opt_state_max_rate $rate" \
				"plugin_opt_data_dir $WORK/data")
			rm -rf "$WORK/data"
			mkdir "$WORK/data"
			chown mosquitto "$WORK/data"
			b=$(ir persist.$s "$N2" "${PLUGIN_CONF[@]}" "plugin_opt_state_max_rate $rate" \
				"plugin_opt_data_dir $WORK/data")
			awk -v a="$a" -v b="$b" -v n1="$N1" -v n2="$N2" -v l="persist.$s" 'BEGIN {
				printf "%-16s instructions/message=%.0f\n", l, (b - a) / (n2 - n1)
			}'
		done
		;;
	*)
		echo "unknown configuration $c" >&2
		exit 1
		;;
	esac
done
