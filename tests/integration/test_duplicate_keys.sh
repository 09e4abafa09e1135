#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that a member name repeated in one object is refused whatever its
# first byte (ASCII, 2-, 3-, 4-byte UTF-8, or an escape of the same name):
# the failed event is not delivered, the publisher gets 0x87 and a
# duplicate_key notice, the job stays running; different names with the
# same first byte pass.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_notices.sh"

jw_start_with_notices duplicate_keys 'jobs/exact/+/+'

# --- Repeated member names, by the first byte's class.
jw_pub -q 1 -t jobs/exact/dup/started -m '{"name":"dup"}'
i=0
for pair in 'a|a' 'é|é' '\u00e9|é' '€x|€x' '😀|\ud83d\ude00' 'ÿ|\u00ff'; do
	i=$((i + 1))
	k1=${pair%%|*}
	k2=${pair#*|}
	out=$(pub "dup-$i" jobs/exact/dup/failed "{\"error\":\"x\",\"details\":{\"$k1\":1,\"$k2\":2}}")
	jw_check "details with \"$k1\" and \"$k2\": refused (0x87)" grep -q "Not authorized" <<<"$out"
	wait_notice "dup-$i"
	jw_assert_eq "details with \"$k1\" and \"$k2\": duplicate_key" duplicate_key "$(raw_member "$(notice_of "dup-$i")" reason)"
done
state=$(timeout 5 mosquitto_sub -p "$JW_PORT" -t jobs/exact/dup/state -C 1 -W 3 2>/dev/null)
jw_assert_eq "no refused failed event reached the job" running "$(raw_member "$state" status)"
out=$(pub dup-ok jobs/exact/dup/failed '{"error":"x","details":{"é":1,"è":2,"e":3}}')
jw_assert_eq "different names with the same first byte: acknowledged" "" "$out"
jw_wait_lines "$JW_TMP/events.out" 1 5
jw_assert_eq "only the valid failed event is delivered" 1 "$(msgs "$JW_TMP/events.out" --count jobs/exact/dup/failed)"

jw_done
