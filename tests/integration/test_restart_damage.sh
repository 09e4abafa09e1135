#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# One byte of jobs.log changed while the broker is stopped costs at most
# the job whose record it hit: after a restart the other jobs are all
# restored and republished, the broker log names the file, offset and
# bytes skipped, the stats count them, and a quarantine file keeps the
# bytes. A torn tail (the last record cut short, as a power cut leaves it)
# is cut and reported the same way, and the broker keeps writing the log.
. "$(dirname "$0")/lib.sh"

data=$(jw_data_dir)
JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_stats_interval 0.5"
restored() { sed -n 's/.*jobwire: restored \([0-9]*\) jobs from.*/\1/p' "$JW_LOG" | tail -1; }
persistence_field() {
	mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t '$jobwire/stats' -C 1 -W 5 |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["persistence"].get(sys.argv[1]))' "$1"
}
states() { # count of retained job states of session r
	mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t 'jobs/r/+/state' -W 2 2>/dev/null | grep -c '"status"'
}

jw_start_broker first
for i in $(seq 1 20); do
	jw_pub -q 1 -t "jobs/r/job-$i/started" -m "{\"name\":\"Job $i\"}"
done
sleep 0.3
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
log=$data/jobs.log
size=$(stat -c %s "$log")
jw_check "jobs.log holds the 20 jobs ($size bytes)" test "$size" -gt 2000
jw_flip_byte "$log" $((size / 2))

jw_start_broker second
n=$(restored)
jw_check "19 or 20 of 20 jobs restored after one byte of jobs.log changed ($n)" test "${n:-0}" -ge 19 -a "${n:-0}" -le 20
jw_check "the log names the skipped record: file, offset, bytes" \
	grep -q "jobwire: skipped [0-9]* damaged bytes at offset [0-9]* of $log (about 1 record lost)" "$JW_LOG"
offset=$(sed -n 's/.*jobwire: skipped .* at offset \([0-9]*\) of .*/\1/p' "$JW_LOG" | head -1)
jw_check "the damaged bytes are kept in jobs.log.at-$offset.damaged" test -s "$log.at-$offset.damaged"
jw_assert_eq "the stats count the damaged record" 1 "$(persistence_field damaged_records)"
jw_assert_eq "the stats count the quarantine file" 1 "$(persistence_field quarantine_files)"
jw_assert_eq "the restored jobs' states are republished" "$n" "$(states)"

# The broker keeps writing behind the last good record.
jw_pub -q 1 -t jobs/r/later/started -m '{"name":"After the damage"}'
sleep 0.3
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null

# A torn tail on top: the last record cut short.
truncate -s -7 "$log"
jw_start_broker third
jw_assert_eq "every job but the damaged one and the torn last record restored" "$((n))" "$(restored)"
jw_check "the torn tail is reported and cut" \
	grep -q "jobwire: cut [0-9]* bytes at offset [0-9]* of $log that are not a complete record" "$JW_LOG"
jw_check "the damage in the middle is still reported, kept once" \
	grep -q "jobwire: skipped .* of $log (about 1 record lost); reading resumed at offset [0-9]*; already kept in $log.at-$offset.damaged" "$JW_LOG"
jw_done
