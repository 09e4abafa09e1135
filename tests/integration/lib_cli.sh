# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Helpers for the tests of the jobwire command (bridge-cli). Source after
# lib.sh. JW_CLI is the freshly built binary; it loads the repo's schemas.
JW_BUILD_DIR=${JW_BUILD_DIR:-$JW_SOURCE_DIR/build}
JW_CLI=${JW_CLI:-$JW_BUILD_DIR/bridge-cli/jobwire}
export JOBWIRE_SCHEMAS=$JW_SCHEMAS
# No defaults from the environment of whoever runs the tests.
unset JOBWIRE_URL JOBWIRE_HOST JOBWIRE_PORT JOBWIRE_USERNAME JOBWIRE_PASSWORD \
	JOBWIRE_TOKEN JOBWIRE_CAFILE JOBWIRE_PREFIX JOBWIRE_SESSION JOBWIRE_JOB JOBWIRE_PG \
	JOBWIRE_JWT_SECRET_FILE

if [ ! -x "$JW_CLI" ]; then
	echo "jobwire binary not found at $JW_CLI (build first)" >&2
	exit 1
fi

# jobwire against the test broker: jw_cli COMMAND args...
jw_cli() {
	local c=$1
	shift
	"$JW_CLI" "$c" -p "$JW_PORT" "$@"
}

# Runs a command, stores its exit status in JW_RC, stdout in JW_OUT and
# stderr in JW_ERR (files $JW_TMP/last.out / last.err).
jw_capture() {
	"$@" >"$JW_TMP/last.out" 2>"$JW_TMP/last.err"
	JW_RC=$?
	JW_OUT=$(cat "$JW_TMP/last.out")
	JW_ERR=$(cat "$JW_TMP/last.err")
}

# Asserts that TEXT contains NEEDLE.
jw_assert_contains() { # description needle text
	case "$3" in
		*"$2"*) jw_pass "$1" ;;
		*) jw_fail "$1: [$2] not in [$3]" ;;
	esac
}

# Payloads of the messages on TOPIC in a jw_sub file, one per line.
jw_payloads() { # file topic
	python3 "$JW_SOURCE_DIR/tests/integration/msgs.py" "$1" | awk -F'\t' -v t="$2" '$1 == t { sub(/^[^\t]*\t/, ""); print }'
}
