# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# shellcheck shell=bash
# What the broker benchmarks share: a work directory the broker can read,
# mosquitto started on a free loopback port with a generated configuration,
# waiting for it, stopping it, and reading its CPU time and RSS.
# Sourced by bench/run.sh, lifecycle.sh, broker_callgrind.sh and
# ws_fanout.sh after they set SRC (the source tree) and BUILD.
# (tests/integration/lib.sh does the same for the tests, with full logging
# and a WebSocket listener that would skew the figures here.)

BENCH_PIDS=()
BROKER_PIN=()
# shellcheck disable=SC2034 # for the scripts that source this file
CLIENT_PIN=()
# The log_type lines of bench_conf (broker_callgrind.sh keeps only errors
# and warnings).
BENCH_LOG_TYPES="error warning notice information"

# bench_work_dir NAME FILE...: sets WORK to a new directory /tmp/NAME.XXXXXX
# holding the FILEs and schemas/. The broker drops from root to user
# mosquitto before loading a plugin: everything it reads must be readable by
# all.
bench_work_dir() {
	local name=$1
	shift
	WORK=$(mktemp -d "/tmp/$name.XXXXXX")
	chmod 755 "$WORK"
	cp "$@" "$WORK/"
	mkdir "$WORK/schemas"
	cp "$SRC"/schemas/*.json "$WORK/schemas/"
	chmod -R a+rX "$WORK"
}

# bench_cleanup KEEP: stops every broker still running, then removes WORK
# unless KEEP is 1.
bench_cleanup() {
	local pid
	for pid in "${BENCH_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in "${BENCH_PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	BENCH_PIDS=()
	if [ "$1" = 1 ]; then
		echo "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}

# bench_need FILE...: exits with how to build them when one is missing.
bench_need() {
	local f
	for f in "$@"; do
		if [ ! -f "$f" ]; then
			echo "missing $f: cmake -S $SRC -B $BUILD -DCMAKE_BUILD_TYPE=RelWithDebInfo" \
				"&& cmake --build $BUILD" >&2
			exit 1
		fi
	done
}

# bench_pin ON: with ON=1 and two CPUs or more, BROKER_PIN and CLIENT_PIN
# put brokers on CPU 0 and clients on CPU 1 (taskset); otherwise both are
# empty.
bench_pin() {
	BROKER_PIN=()
	CLIENT_PIN=()
	if [ "$1" = 1 ] && [ "$(nproc)" -ge 2 ]; then
		BROKER_PIN=(taskset -c 0)
		# shellcheck disable=SC2034 # for the scripts that source this file
		CLIENT_PIN=(taskset -c 1)
	fi
}

bench_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# bench_wait_port PORT [SECONDS]: 0 once something accepts on PORT.
bench_wait_port() {
	local deadline=$((SECONDS + ${2:-10}))
	until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
		[ $SECONDS -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# bench_conf FILE PORT [LINE...]: a configuration for one listener on
# 127.0.0.1:PORT, anonymous, no persistence, then the LINEs. No debug
# lines: logging every message would dominate the figures.
bench_conf() {
	local conf=$1 port=$2 t line
	shift 2
	{
		echo "per_listener_settings false"
		echo "allow_anonymous true"
		echo "persistence false"
		echo "log_dest stderr"
		for t in $BENCH_LOG_TYPES; do
			echo "log_type $t"
		done
		echo "listener $port 127.0.0.1"
		for line in "$@"; do
			printf '%s\n' "$line"
		done
	} >"$conf"
	chmod 644 "$conf"
}

# bench_run_broker NAME CONF PORT [COMMAND...]: starts COMMAND (default
# mosquitto, after BROKER_PIN) with -c CONF, stderr to $WORK/NAME.log, and
# waits up to BENCH_START_TIMEOUT [10] seconds for PORT; stops it and exits
# with the log when it does not come up. Sets BENCH_PID and records it for
# bench_cleanup, so call it in a subshell only when that subshell also
# stops the broker (bench_stop_broker).
bench_run_broker() {
	local name=$1 conf=$2 port=$3
	shift 3
	if [ $# -eq 0 ]; then
		set -- "${BROKER_PIN[@]}" mosquitto
	fi
	"$@" -c "$conf" >/dev/null 2>"$WORK/$name.log" &
	BENCH_PID=$!
	BENCH_PIDS+=("$BENCH_PID")
	if ! bench_wait_port "$port" "${BENCH_START_TIMEOUT:-10}"; then
		bench_stop_broker "$BENCH_PID"
		echo "broker $name did not start:" >&2
		cat "$WORK/$name.log" >&2
		exit 1
	fi
}

# bench_start_broker NAME [LINE...]: bench_conf for a free port into
# $WORK/NAME.conf, then bench_run_broker; sets BENCH_PORT and BENCH_PID.
bench_start_broker() {
	local name=$1
	shift
	BENCH_PORT=$(bench_free_port)
	bench_conf "$WORK/$name.conf" "$BENCH_PORT" "$@"
	bench_run_broker "$name" "$WORK/$name.conf" "$BENCH_PORT"
}

# bench_check_plugin NAME: exits with the log unless broker NAME loaded
# jobwire.
bench_check_plugin() {
	if ! grep -q "jobwire: validating" "$WORK/$1.log"; then
		echo "the plugin did not load:" >&2
		cat "$WORK/$1.log" >&2
		exit 1
	fi
}

# bench_stop_broker PID: stops it and waits for it to exit.
bench_stop_broker() {
	local pid=$1 i
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	for i in "${!BENCH_PIDS[@]}"; do
		if [ "${BENCH_PIDS[$i]}" = "$pid" ]; then
			unset "BENCH_PIDS[$i]"
		fi
	done
	BENCH_PIDS=("${BENCH_PIDS[@]}")
}

# CPU time (user + system, clock ticks) a process has used so far.
bench_cpu_ticks() {
	awk '{print $14 + $15}' "/proc/$1/stat"
}

bench_rss_kb() {
	awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# The "# machine:" line the benchmarks start with.
bench_machine() {
	echo "# machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')," \
		"$(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo) RAM," \
		"$(mosquitto -h 2>/dev/null | head -1)"
}

# The median of the numbers on stdin, one a line.
bench_median() {
	sort -g | awk '{v[NR] = $1}
		END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
