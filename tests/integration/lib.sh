# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Shared helpers for integration tests: a real mosquitto on free loopback
# ports with a generated configuration loading the freshly built plugin,
# real mosquitto_pub / mosquitto_sub, and small assertion helpers.
# Sourced by tests/integration/test_*.sh; needs JW_PLUGIN and JW_SOURCE_DIR
# (set by CTest) or falls back to ./build.

set -u
JW_SOURCE_DIR=${JW_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
JW_PLUGIN=${JW_PLUGIN:-$JW_SOURCE_DIR/build/plugin/jobwire.so}
JW_SCHEMAS=${JW_SCHEMAS:-$JW_SOURCE_DIR/schemas}
# The broker to run: Debian's unless the compatibility runs name another
# build (with JW_PLUGIN built against its headers; docs/compatibility.md).
JW_MOSQUITTO=${JW_MOSQUITTO:-mosquitto}
JW_FAILS=0
JW_PASSES=0
JW_BROKER_PIDS=()
JW_BG_PIDS=()

# A private work dir the broker user can read (mosquitto drops from root
# to the mosquitto user before loading the plugin).
JW_TMP=$(mktemp -d /tmp/jobwire-test.XXXXXX)
chmod 755 "$JW_TMP"

# Stops every broker and background client this test started.
jw_stop_all() {
	local pid
	for pid in "${JW_BG_PIDS[@]}" "${JW_BROKER_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${JW_BG_PIDS[@]}" "${JW_BROKER_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	JW_BG_PIDS=()
	JW_BROKER_PIDS=()
}

jw_cleanup() {
	jw_stop_all
	if [ "$JW_FAILS" -ne 0 ] && [ -n "${JW_KEEP_LOGS:-}" ]; then
		echo "logs kept in $JW_TMP"
	else
		rm -rf "$JW_TMP"
	fi
}
trap jw_cleanup EXIT

# Prints a TCP port nobody listens on now.
jw_free_port() {
	python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

jw_wait_port() { # port [timeout_s]
	local port=$1 deadline=$((SECONDS + ${2:-10}))
	while [ $SECONDS -lt $deadline ]; do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# The version of the broker the tests run ("2.0.11"), from its banner.
jw_broker_version() {
	"$JW_MOSQUITTO" -h 2>/dev/null | sed -n '1s/^mosquitto version \([0-9][0-9.]*\).*/\1/p'
}

# True when the broker is version V or later (dotted numbers).
jw_broker_at_least() { # version
	local v
	v=$(jw_broker_version)
	[ -n "$v" ] && [ "$(printf '%s\n%s\n' "$1" "$v" | sort -V | head -n 1)" = "$1" ]
}

# Starts mosquitto -c CONF in the background with stderr to LOG and sets
# JW_LAST_PID to the broker's own pid. Sanitizer builds of the plugin need
# their runtimes preloaded into the (uninstrumented) broker. stdout goes to
# /dev/null so no broker outliving a test holds CTest's output pipe.
jw_spawn_mosquitto() { # conf log
	if [ -n "${JW_BROKER_VALGRIND:-}" ]; then
		valgrind -q --vgdb=no --suppressions="$JW_SOURCE_DIR/tests/valgrind.supp" --log-file="$2.valgrind" --leak-check=full --errors-for-leak-kinds=definite \
			--error-exitcode=99 "$JW_MOSQUITTO" -c "$1" >/dev/null 2>"$2" &
	elif [ -n "${JW_BROKER_PRELOAD:-}" ]; then
		LD_PRELOAD=$JW_BROKER_PRELOAD "$JW_MOSQUITTO" -c "$1" >/dev/null 2>"$2" &
	else
		"$JW_MOSQUITTO" -c "$1" >/dev/null 2>"$2" &
	fi
	JW_LAST_PID=$!
}

# jw_start_broker NAME [extra config lines...]: writes $JW_TMP/NAME.conf,
# starts mosquitto, and sets JW_PORT (TCP), JW_WS_PORT, JW_LOG, JW_PID.
# JW_PLUGIN_OPTS (newline-separated plugin_opt lines) is appended to the
# plugin section.
jw_start_broker() {
	local name=$1
	shift
	JW_PORT=$(jw_free_port)
	JW_WS_PORT=$(jw_free_port)
	JW_LOG=$JW_TMP/$name.log
	local conf=$JW_TMP/$name.conf
	{
		echo "per_listener_settings false"
		echo "allow_anonymous true"
		echo "log_dest stderr"
		echo "log_type all"
		echo "log_timestamp_format %H:%M:%S"
		echo "persistence false"
		echo "listener $JW_PORT 127.0.0.1"
		echo "listener $JW_WS_PORT 127.0.0.1"
		echo "protocol websockets"
		echo "socket_domain ipv4"
		echo "plugin $JW_PLUGIN"
		echo "plugin_opt_schemas_dir ${JW_TEST_SCHEMAS:-$JW_SCHEMAS}"
		[ -n "${JW_PLUGIN_OPTS:-}" ] && printf '%s\n' "$JW_PLUGIN_OPTS"
		local line
		for line in "$@"; do
			echo "$line"
		done
	} >"$conf"
	chmod 644 "$conf"
	jw_spawn_mosquitto "$conf" "$JW_LOG"
	JW_PID=$JW_LAST_PID
	JW_BROKER_PIDS+=("$JW_PID")
	if ! jw_wait_port "$JW_PORT" "${JW_START_TIMEOUT:-10}" || ! jw_wait_running "$JW_LOG" "${JW_START_TIMEOUT:-10}"; then
		echo "broker $name did not start; log:" >&2
		cat "$JW_LOG" >&2
		exit 1
	fi
}

# Waits until the broker logging to LOG says it is running. Its listeners
# accept connections a moment before it installs its signal handlers, and
# a SIGTERM in between kills it without its shutdown (no plugin cleanup):
# slow under valgrind, where that moment is long.
jw_wait_running() { # log [timeout_s]
	local deadline=$((SECONDS + ${2:-10}))
	while [ $SECONDS -lt $deadline ]; do
		grep -q 'mosquitto version [^ ]* running' "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# Starts mosquitto_sub in the background, writing one line per message,
# "topic<TAB>qos<TAB>retain<TAB>correlation-data<TAB>payload-in-hex", to FILE
# (read it with msgs.py), and returns once the subscription is live (a probe message on a
# private topic has come back). Probe lines start with "jwprobe/"; use
# jw_lines to read the file without them. Sets JW_SUB_PID. With JWT on,
# set JW_PROBE_AUTH to the probe publisher's credentials ("-u a -P TOKEN"
# for an admin token) and pass the subscriber's own.
# jw_sub FILE [mosquitto_sub args...]
JW_PROBE_SEQ=0
jw_sub() {
	local out=$1
	shift
	JW_PROBE_SEQ=$((JW_PROBE_SEQ + 1))
	local probe="jwprobe/$$-$JW_PROBE_SEQ"
	mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -F '%t\t%q\t%r\t%D\t%x' -t "$probe" "$@" >"$out" 2>"$out.err" &
	JW_SUB_PID=$!
	JW_BG_PIDS+=("$JW_SUB_PID")
	local deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		# shellcheck disable=SC2086 # credentials without spaces
		mosquitto_pub -h 127.0.0.1 -p "$JW_PORT" ${JW_PROBE_AUTH:-} -t "$probe" -m ready
		sleep 0.1
		grep -q "^$probe" "$out" && return 0
	done
	echo "subscriber did not come up: $(cat "$out.err")" >&2
	return 1
}

# The lines of a jw_sub output file without probe lines.
jw_lines() {
	grep -v '^jwprobe/' "$1"
}

jw_pub() { # mosquitto_pub args...
	mosquitto_pub -h 127.0.0.1 -p "$JW_PORT" "$@"
}

# Waits until FILE has at least N non-probe lines (default timeout 5 s).
jw_wait_lines() { # file n [timeout]
	local deadline=$((SECONDS + ${3:-5}))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(jw_lines "$1" | wc -l)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

jw_pass() {
	JW_PASSES=$((JW_PASSES + 1))
	echo "ok - $*"
}

jw_fail() {
	JW_FAILS=$((JW_FAILS + 1))
	echo "FAIL - $*"
}

jw_check() { # description command...
	local desc=$1
	shift
	if "$@"; then jw_pass "$desc"; else jw_fail "$desc"; fi
}

jw_assert_eq() { # description expected actual
	if [ "$2" == "$3" ]; then
		jw_pass "$1"
	else
		jw_fail "$1: expected [$2], got [$3]"
	fi
}

# Ends the test: prints the summary line and sets the exit status. A
# sanitizer report in any broker log fails the test.
jw_done() {
	local log
	jw_stop_all
	for log in "$JW_TMP"/*.log.valgrind; do
		[ -f "$log" ] || continue
		if [ -s "$log" ]; then
			jw_fail "valgrind report for the broker in $(basename "$log")"
			head -60 "$log"
		fi
	done
	for log in "$JW_TMP"/*.log; do
		[ -f "$log" ] || continue
		if grep -Eq 'runtime error:|AddressSanitizer|LeakSanitizer' "$log"; then
			jw_fail "sanitizer report in $(basename "$log")"
			grep -E -A30 'runtime error:|AddressSanitizer' "$log" | head -60
		fi
	done
	echo "$JW_PASSES passed, $JW_FAILS failed"
	[ "$JW_FAILS" -eq 0 ]
	exit $?
}

# Reads a JSON field from stdin with python (jw_json_field KEY).
jw_json_field() {
	python3 -c 'import json,sys
d=json.loads(sys.stdin.read())
v=d.get(sys.argv[1])
print("" if v is None else (json.dumps(v) if not isinstance(v,str) else v))' "$1"
}

# A data directory the broker (running as mosquitto) can write, for
# plugin_opt_data_dir: $JW_TMP/NAME (default data). Prints its path.
jw_data_dir() { # [name]
	local d=$JW_TMP/${1:-data}
	mkdir -p "$d"
	chown mosquitto: "$d" 2>/dev/null || chmod 777 "$d"
	echo "$d"
}

# Changes one byte of FILE at OFFSET (xor 0x5a), as damage on disk would.
jw_flip_byte() { # file offset
	python3 - "$1" "$2" <<'PY'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0x5A]))
PY
}
