#!/usr/bin/env bash
# Proves that wills cannot bypass validation (an invalid will on a job
# topic is dropped with a notice, a valid one is delivered) and that no
# client, by PUBLISH or by will, can write a job's state topic or the
# broker's $jobwire topics.
. "$(dirname "$0")/lib.sh"

jw_start_broker wills
jw_sub "$JW_TMP/all.out" -V 5 -q 1 -t 'jobs/#' -t '$jobwire/#'

# A worker whose connection dies: mosquitto_sub is killed with SIGKILL so
# the broker sends its will.
will_client() { # id topic payload [mqtt version]
	mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -V "${4:-311}" -i "$1" -t "idle/$1" \
		--will-topic "$2" --will-payload "$3" --will-qos 1 >/dev/null 2>&1 &
	local pid=$!
	sleep 0.5
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
}

will_client w-bad jobs/s1/j1/failed '{"code":"lost"}'
will_client w-good jobs/s1/j2/failed '{"error":"worker lost","code":"worker_lost","retryable":true}' 5
will_client w-state jobs/s1/j3/state '{"session_id":"s1","job_id":"j3","status":"complete","seq":1,"updated_at":"2026-01-01T00:00:00Z"}'
will_client w-sys '$jobwire/rejections/w-good' '{"type":"rejected"}'
will_client w-junk jobs/s1/j4/progress 'not json'
sleep 1

count() { python3 "$(dirname "$0")/msgs.py" "$JW_TMP/all.out" --count "$1"; }
jw_assert_eq "invalid will (missing error) not delivered" 0 "$(count jobs/s1/j1/failed)"
jw_assert_eq "valid will delivered" 1 "$(count jobs/s1/j2/failed)"
jw_assert_eq "will on a state topic not delivered" 0 "$(count jobs/s1/j3/state)"
jw_assert_eq "will that is not JSON not delivered" 0 "$(count jobs/s1/j4/progress)"
notice=$(python3 "$(dirname "$0")/msgs.py" "$JW_TMP/all.out" | awk -F'\t' '$1=="$jobwire/rejections/w-bad"{print $2}')
jw_assert_eq "invalid will yields a notice naming the missing field" "/error" "$(jw_json_field field <<<"$notice")"
jw_assert_eq "the notice says it was a will" "true" "$(jw_json_field will <<<"$notice")"
jw_assert_eq "only the broker's own notices appear under \$jobwire/" 4 \
	"$(python3 "$(dirname "$0")/msgs.py" "$JW_TMP/all.out" | grep -c '^\$jobwire/rejections/w-')"
jw_check "will rejection logged" grep -q 'rejected will on "jobs/s1/j1/failed"' "$JW_LOG"

# Ordinary publishes to protected topics.
out=$(jw_pub -V 5 -q 1 -t jobs/s1/j9/state -m '{"session_id":"s1","job_id":"j9","status":"complete","seq":1,"updated_at":"2026-01-01T00:00:00Z"}' 2>&1 || true)
jw_check "PUBLISH to state refused with 0x87" grep -q 'Not authorized' <<<"$out"
out=$(jw_pub -V 5 -q 1 -t '$jobwire/rejections/someone' -m '{}' 2>&1 || true)
jw_check "PUBLISH to a rejection topic refused with 0x87" grep -q 'Not authorized' <<<"$out"
sleep 0.3
jw_assert_eq "nothing published on state" 0 "$(count jobs/s1/j9/state)"
jw_assert_eq "nothing published on someone's rejection topic" 0 "$(count '$jobwire/rejections/someone')"
jw_done
