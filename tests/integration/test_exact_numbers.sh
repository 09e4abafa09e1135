#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that the broker compares numbers as written: progress with
# current and total past 2^53 is refused when current is the larger
# (9007199254740993 > 9007199254740992, the same double; likewise past
# uint64) with a notice showing both as sent, and delivered otherwise,
# the retained state showing both numbers digit for digit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_notices.sh"

jw_start_with_notices exact_numbers 'jobs/exact/+/+'

# --- current <= total on integers past 2^53.
jw_pub -q 1 -t jobs/exact/big/started -m '{"name":"big"}'
out=$(pub big-bad jobs/exact/big/progress '{"current":9007199254740993,"total":9007199254740992}')
jw_check "current 2^53+1 over total 2^53: refused (0x87)" grep -q "Not authorized" <<<"$out"
wait_notice big-bad
n=$(notice_of big-bad)
jw_assert_eq "refusal reason" rule_violation "$(raw_member "$n" reason)"
jw_assert_eq "refusal keyword" current_le_total "$(raw_member "$n" keyword)"
jw_assert_eq "refusal field" /current "$(raw_member "$n" field)"
jw_assert_eq "refusal message shows the numbers as sent" \
	"/current: must not exceed total 9007199254740992, got 9007199254740993" "$(raw_member "$n" message)"
out=$(pub big-bad2 jobs/exact/big/progress '{"current":18446744073709551617,"total":18446744073709551616}')
jw_check "current past uint64 over total: refused" grep -q "Not authorized" <<<"$out"
out=$(pub big-ok jobs/exact/big/progress '{"current":9007199254740992,"total":9007199254740993}')
jw_assert_eq "current 2^53 under total 2^53+1: acknowledged" "" "$out"
jw_wait_lines "$JW_TMP/events.out" 2 5
jw_assert_eq "only the valid progress is delivered" 1 "$(msgs "$JW_TMP/events.out" --count jobs/exact/big/progress)"
state=$(timeout 5 mosquitto_sub -p "$JW_PORT" -t jobs/exact/big/state -C 1 -W 3 2>/dev/null)
jw_assert_eq "state: current digit for digit" 9007199254740992 "$(raw_member "$state" current)"
jw_assert_eq "state: total digit for digit" 9007199254740993 "$(raw_member "$state" total)"

jw_done
