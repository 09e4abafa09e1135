#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that the plugin needs no mosquitto_* symbol the broker does not
# export (nm -D of both), so it loads there: a broker built from the
# upstream 2.0 release exports only its src/linker.syms, without the
# property readers Debian's binary happens to export. In the compatibility
# runs it also checks the plugin of the normal build (built against
# Debian's headers, JW_PLUGIN_DEFAULT) against that broker, then loads it
# there and sees it refuse an invalid event and pass a valid one.
. "$(dirname "$0")/lib.sh"

broker=$(command -v "$JW_MOSQUITTO")
jw_check "the broker binary exists ($broker)" [ -x "$broker" ]
exported=$JW_TMP/exported.txt
nm -D --defined-only "$broker" | awk '{print $NF}' | grep '^mosquitto_' | sort -u >"$exported"
jw_check "the broker exports mosquitto_* functions ($(wc -l <"$exported"))" [ -s "$exported" ]

check_plugin() { # what plugin
	local what=$1 plugin=$2 needed missing
	needed=$JW_TMP/needed-$what.txt
	nm -D --undefined-only "$plugin" | awk '{print $NF}' | grep '^mosquitto_' | sort -u >"$needed"
	missing=$(comm -23 "$needed" "$exported" | tr '\n' ' ')
	jw_check "$what plugin uses mosquitto_* functions ($(wc -l <"$needed"))" [ -s "$needed" ]
	jw_assert_eq "$what plugin needs nothing $(basename "$broker") does not export" "" "${missing% }"
}

check_plugin "the" "$JW_PLUGIN"
plugins=("$JW_PLUGIN")
if [ -n "${JW_PLUGIN_DEFAULT:-}" ] && [ "$JW_PLUGIN_DEFAULT" != "$JW_PLUGIN" ]; then
	check_plugin "the normal build's" "$JW_PLUGIN_DEFAULT"
	plugins+=("$JW_PLUGIN_DEFAULT")
fi

# Each plugin loads into this broker and validates.
n=0
for plugin in "${plugins[@]}"; do
	n=$((n + 1))
	JW_PLUGIN=$plugin jw_start_broker "load$n"
	jw_check "$(basename "$(dirname "$(dirname "$plugin")")") plugin loaded: its start-up line" \
		grep -q 'jobwire: validating' "$JW_LOG"
	jw_sub "$JW_TMP/sub$n.out" -t 'jobs/#' -t '$jobwire/rejections/#'
	jw_pub -i "sym-$n" -t jobs/s1/j1/progress -m '{"progress":140}'
	jw_pub -i "sym-$n" -t jobs/s1/j1/progress -m '{"progress":40}'
	deadline=$((SECONDS + 10))
	while :; do
		out=$(python3 "$JW_SOURCE_DIR/tests/integration/msgs.py" "$JW_TMP/sub$n.out")
		if grep -q $'^\\$jobwire/rejections/sym-'"$n"$'\t' <<<"$out" &&
			grep -q $'^jobs/s1/j1/progress\t' <<<"$out"; then
			break
		fi
		[ $SECONDS -lt $deadline ] || break
		sleep 0.1
	done
	jw_check "an invalid event gets a notice" grep -q $'^\\$jobwire/rejections/sym-'"$n"$'\t.*schema_violation' <<<"$out"
	jw_check "a valid event is delivered" grep -q $'^jobs/s1/j1/progress\t.*"progress":40' <<<"$out"
	if grep -q $'^jobs/s1/j1/progress\t.*"progress":140' <<<"$out"; then
		jw_fail "the invalid event was delivered"
	else
		jw_pass "the invalid event is not delivered"
	fi
	jw_stop_all
done
jw_done
