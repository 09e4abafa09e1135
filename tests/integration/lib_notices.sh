# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Helpers for the tests that publish events and read the rejection notices
# a subscriber wrote to $JW_TMP/rej.out. Source after lib.sh.

# Reads a jw_sub output file (msgs.py: FILE prints topic TAB payload per
# message).
msgs() { python3 "$(dirname "${BASH_SOURCE[0]}")/msgs.py" "$@"; }

# Prints the raw JSON text of member KEY of the object in $1 (numbers as
# written, without going through a float).
raw_member() { python3 -c 'import json,sys
d=json.loads(sys.argv[1], parse_int=str, parse_float=str) if sys.argv[1] else {}
v=d.get(sys.argv[2])
print("" if v is None else v)' "$1" "$2"; }

# Publishes PAYLOAD on TOPIC as MQTT 5 QoS 1 client ID; prints the
# client's complaint ("" when acknowledged).
pub() { jw_pub -V 5 -q 1 -i "$1" -t "$2" -m "$3" 2>&1; }

# The newest rejection notice sent to client ID ("" when none).
notice_of() { msgs "$JW_TMP/rej.out" | awk -F'\t' -v t="\$jobwire/rejections/$1" '$1==t{p=$2} END{print p}'; }

# Waits up to 5 s for a notice to client ID; fails when none came.
wait_notice() {
	local deadline=$((SECONDS + 5))
	while [ $SECONDS -lt $deadline ]; do
		[ -n "$(notice_of "$1")" ] && return 0
		sleep 0.05
	done
	return 1
}

# Starts broker NAME (rate limit on the broker log off) with subscribers
# writing the events on TOPIC to $JW_TMP/events.out (MQTT 5, QoS 1) and
# the rejection notices to $JW_TMP/rej.out.
jw_start_with_notices() { # name topic
	JW_PLUGIN_OPTS="plugin_opt_log_rate 0"
	jw_start_broker "$1"
	jw_sub "$JW_TMP/events.out" -V 5 -q 1 -t "$2"
	jw_sub "$JW_TMP/rej.out" -V 5 -t '$jobwire/rejections/#'
}
