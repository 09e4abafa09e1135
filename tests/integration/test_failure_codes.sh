#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that failure codes in errno, HTTP and namespaced styles (ENOSPC,
# EPIPE, HTTP_503, s3:NoSuchKey) are accepted from plain mosquitto_pub:
# each failed event is delivered, acknowledged, and leaves the job's
# retained state failed with the code exactly as sent; a code with a
# character outside A-Z a-z 0-9 _ . : - is still refused with a notice.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
msgs() { python3 "$here/msgs.py" "$@"; }
field() { python3 -c 'import json,sys
d=json.loads(sys.argv[1]) if sys.argv[1] else {}
v=d.get(sys.argv[2])
print("" if v is None else (json.dumps(v) if not isinstance(v, str) else v))' "$1" "$2"; }

JW_PLUGIN_OPTS="plugin_opt_log_rate 0"
jw_start_broker failure_codes
jw_sub "$JW_TMP/events.out" -V 5 -q 1 -t 'jobs/codes/+/failed'
jw_sub "$JW_TMP/rej.out" -V 5 -t '$jobwire/rejections/#'

codes="ENOSPC EPIPE HTTP_503 s3:NoSuchKey Db.Timeout:42"
n=0
for code in $codes; do
	n=$((n + 1))
	job="job-$n"
	jw_pub -q 1 -t "jobs/codes/$job/started" -m '{"name":"codes"}'
	# MQTT 5 at QoS 1: a refusal would be reported as "Not authorized".
	out=$(jw_pub -V 5 -q 1 -i "codes-$n" -t "jobs/codes/$job/failed" \
		-m "{\"error\":\"failed with $code\",\"code\":\"$code\",\"retryable\":true}" 2>&1)
	jw_assert_eq "failed with code $code: acknowledged (no refusal)" "" "$out"
done

jw_wait_lines "$JW_TMP/events.out" "$n" 10
jw_assert_eq "all $n failed events delivered" "$n" "$(msgs "$JW_TMP/events.out" --count)"

n=0
for code in $codes; do
	n=$((n + 1))
	state=$(timeout 5 mosquitto_sub -p "$JW_PORT" -t "jobs/codes/job-$n/state" -C 1 -W 3 2>/dev/null)
	jw_assert_eq "job-$n retained state: failed" failed "$(field "$state" status)"
	jw_assert_eq "job-$n retained state: code $code as sent" "$code" "$(field "$state" code)"
done

# Still refused: a space is not a code character. The job stays running.
jw_pub -q 1 -t jobs/codes/bad/started -m '{"name":"bad code"}'
out=$(jw_pub -V 5 -q 1 -i codes-bad -t jobs/codes/bad/failed -m '{"error":"x","code":"out of memory"}' 2>&1)
jw_check "code with a space: refused (0x87)" grep -q "Not authorized" <<<"$out"
jw_wait_lines "$JW_TMP/rej.out" 1 5
notice=$(msgs "$JW_TMP/rej.out" | awk -F'\t' '$1=="$jobwire/rejections/codes-bad"{print $2}')
jw_assert_eq "code with a space: notice names /code" /code "$(field "$notice" field)"
jw_assert_eq "code with a space: keyword pattern" pattern "$(field "$notice" keyword)"
state=$(timeout 5 mosquitto_sub -p "$JW_PORT" -t jobs/codes/bad/state -C 1 -W 3 2>/dev/null)
jw_assert_eq "code with a space: job still running" running "$(field "$state" status)"

jw_done
