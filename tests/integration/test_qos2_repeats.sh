#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that a QoS 2 repeat of a job's terminal event (a worker that
# publishes its complete or failed again on a new connection, not knowing
# whether the first arrived) is acknowledged but not delivered again, as
# at QoS 1: with QoS 2 the broker delivers at PUBREL, after the message
# callback has returned, so the repeat must still be known then. Messages
# that only look alike (the same bytes on another job) are delivered.
. "$(dirname "$0")/lib.sh"

jw_start_broker q2
jw_sub "$JW_TMP/v5q2.out" -V 5 -q 2 -t 'jobs/+/+/complete' -t 'jobs/+/+/failed'
jw_sub "$JW_TMP/v311q1.out" -V 311 -q 1 -t 'jobs/+/+/complete' -t 'jobs/+/+/failed'
jw_sub "$JW_TMP/q0.out" -q 0 -t 'jobs/+/+/complete' -t 'jobs/+/+/failed'

done_msg='{"result":{"rows":7}}'
fail_msg='{"error":"disk full","code":"ENOSPC"}'
ok=0
pub() { jw_pub "$@" && ok=$((ok + 1)); }
pub -V 5 -q 2 -t jobs/s/a/started -m '{}'
pub -V 5 -q 2 -t jobs/s/a/complete -m "$done_msg"
pub -V 311 -q 2 -t jobs/s/a/complete -m "$done_msg"
pub -V 5 -q 2 -t jobs/s/a/complete -m "$done_msg"
pub -V 5 -q 2 -t jobs/s/b/started -m '{}'
pub -V 311 -q 2 -t jobs/s/b/failed -m "$fail_msg"
pub -V 5 -q 2 -t jobs/s/b/failed -m "$fail_msg"
pub -V 5 -q 1 -t jobs/s/b/failed -m "$fail_msg"
# The same bytes on jobs that have not ended: delivered.
pub -V 5 -q 2 -t jobs/s/c/started -m '{}'
pub -V 5 -q 2 -t jobs/s/c/complete -m "$done_msg"
pub -V 311 -q 2 -t jobs/s/d/started -m '{}'
pub -V 311 -q 2 -t jobs/s/d/failed -m "$fail_msg"
jw_assert_eq "every publish acknowledged without an error" 12 "$ok"
jw_check "no repeat refused (no 0x87 to the publishers)" \
	bash -c "! grep -q 'Sending PUB\(REC\|ACK\) .*rc135' '$JW_LOG'"

for out in v5q2 v311q1 q0; do
	jw_wait_lines "$JW_TMP/$out.out" 4 5 || true
	sleep 0.5 # a late repeat would arrive by now
	lines=$(jw_lines "$JW_TMP/$out.out" | cut -f1 | sort | tr '\n' ' ')
	jw_assert_eq "$out: each job's terminal event delivered once" \
		"jobs/s/a/complete jobs/s/b/failed jobs/s/c/complete jobs/s/d/failed " "$lines"
done
jw_done
