#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# How soon a job's retained `state` follows its events at light load: SL_JOBS
# jobs, each sent SL_RATE progress events/s by its own fanout_bench (one
# publisher, one subscriber on the job's state, MQTT 5, QoS 1), all at once
# against one jobwire broker. Two streams per plugin:
#   paced:    events evenly spaced (200 ms at 5/s): the coalescing rule never
#             holds an update, so latency is the broker's own;
#   jittered: each event moved later by up to SL_JITTER % of the interval
#             (some follow the one before within 100 ms and are held).
# For each it prints p50/p99/max of the latency from an event's publish to
# the first state showing it (vis_*) and, with the rule's interval known,
# of the lateness past the earliest time the rule allowed that state
# (late_*: what the broker adds beyond the rule), pooled over the jobs.
#
# usage: bench/state_latency.sh [BUILD_DIR] [PLUGIN.so...]
#   (default BUILD_DIR build-bench, else build; PLUGINs default to
#   BUILD_DIR/plugin/jobwire.so: name several, e.g. two commits' builds, to
#   compare them in one run, alternating)
# Environment (defaults in brackets):
#   SL_JOBS [10]  SL_RATE [5]  SL_SECONDS [20]  SL_WARMUP [2]  SL_JITTER [90]
#   SL_ROUNDS [2]: rounds of every plugin and stream
#   SL_MAX_RATE [10]: plugin_opt_state_max_rate (the rule's interval is
#                     1000 / SL_MAX_RATE ms)
#   SL_KEEP [0]: keep the work directory

set -euo pipefail

SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
source "$SRC/bench/lib.sh"
BUILD=${1:-$SRC/build-bench}
if [ $# -eq 0 ] && [ ! -d "$BUILD" ] && [ -d "$SRC/build" ]; then
	BUILD=$SRC/build
fi
BUILD=$(cd "$BUILD" && pwd)
shift || true
PLUGINS=("$@")
if [ ${#PLUGINS[@]} -eq 0 ]; then
	PLUGINS=("$BUILD/plugin/jobwire.so")
fi
JOBS=${SL_JOBS:-10}
RATE=${SL_RATE:-5}
SECS=${SL_SECONDS:-20}
WARM=${SL_WARMUP:-2}
JITTER=${SL_JITTER:-90}
ROUNDS=${SL_ROUNDS:-2}
MAX_RATE=${SL_MAX_RATE:-10}
HOLD_MS=$(((1000 + MAX_RATE - 1) / MAX_RATE))
FANOUT_BENCH=$BUILD/bench/fanout_bench
bench_need "$FANOUT_BENCH" "${PLUGINS[@]}"

bench_work_dir jobwire-slat "${PLUGINS[0]}"
trap 'bench_cleanup "${SL_KEEP:-0}"' EXIT
for i in "${!PLUGINS[@]}"; do
	cp "${PLUGINS[$i]}" "$WORK/p$i.so"
	chmod 644 "$WORK/p$i.so"
done

bench_machine
echo "# $JOBS jobs x $RATE events/s, state_max_rate $MAX_RATE (interval $HOLD_MS ms)," \
	"$SECS s measured; jittered stream: up to $JITTER% of the interval"

# pooled KIND FILE...: p50, p99 and max in ms of the KIND (vis or late)
# samples of the dump FILEs, as key=value.
pooled() {
	local kind=$1
	shift
	awk -v k="$kind" '$1 == k {print $2}' "$@" | sort -g | awk -v k="$kind" '
		{v[NR] = $1}
		END {
			if (!NR) {print k "_samples=0"; exit}
			i50 = int(0.50 * NR); if (i50 < 1) i50 = 1
			i99 = int(0.99 * NR + 0.999999); if (i99 > NR) i99 = NR
			printf "%s_samples=%d %s_p50_ms=%.2f %s_p99_ms=%.2f %s_max_ms=%.2f\n",
				k, NR, k, v[i50] / 1e6, k, v[i99] / 1e6, k, v[NR] / 1e6
		}'
}

# one PLUGIN_INDEX paced|jittered ROUND
one() {
	local i=$1 kind=$2 round=$3 jit=0 k pids=() files=() dumps=() rc=0
	[ "$kind" = jittered ] && jit=$JITTER
	bench_start_broker "sl$i-$kind-$round" "plugin $WORK/p$i.so" \
		"plugin_opt_schemas_dir $WORK/schemas" "plugin_opt_state_max_rate $MAX_RATE"
	bench_check_plugin "sl$i-$kind-$round"
	for ((k = 0; k < JOBS; k++)); do
		files+=("$WORK/out.$i.$kind.$round.$k")
		dumps+=("$WORK/dump.$i.$kind.$round.$k")
		timeout $((SECS + WARM + 60)) "$FANOUT_BENCH" --port "$BENCH_PORT" --subs 1 \
			--topic state --rate "$RATE" --seconds "$SECS" --warmup "$WARM" \
			--session "sl-$round" --job "job-$k" --jitter "$jit" --hold-ms "$HOLD_MS" \
			--dump "${dumps[-1]}" --label "j$k" >"${files[-1]}" 2>&1 &
		pids+=($!)
	done
	for k in "${pids[@]}"; do
		wait "$k" || rc=1
	done
	bench_stop_broker "$BENCH_PID"
	if [ $rc != 0 ]; then
		echo "a client failed:" >&2
		cat "${files[@]}" >&2
		exit 1
	fi
	echo "plugin=${PLUGINS[$i]} stream=$kind round=$round" \
		"events=$(sed -n 's/.* events=\([0-9]*\).*/\1/p' "${files[@]}" | awk '{s += $1} END {print s}')" \
		"$(pooled vis "${dumps[@]}") $(pooled late "${dumps[@]}")"
}

for ((r = 1; r <= ROUNDS; r++)); do
	for kind in paced jittered; do
		for i in "${!PLUGINS[@]}"; do
			one "$i" "$kind" "$r"
		done
	done
done
