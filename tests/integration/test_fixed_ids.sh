#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that workers with a fixed client id, one connection per publish
# (a station, a service, a shell loop of mosquitto_pub -i ID), get every
# event delivered exactly once and applied once: MQTT 5 QoS 1, MQTT 3.1.1,
# and the same ids switching between the two. mosquitto frees each
# connection and the next one with the same id often gets the same
# address; nothing of the old connection may be taken for the new one.
. "$(dirname "$0")/lib.sh"

JW_PLUGIN_OPTS="plugin_opt_stats_interval 0.5"
jw_start_broker fixed
jw_sub "$JW_TMP/all.out" -V 5 -q 1 -t 'jobs/#'

payload() { # event
	case $1 in
	started) echo '{"name":"fixed id"}' ;;
	progress) echo '{"progress":50,"message":"half"}' ;;
	complete) echo '{"result":{"ok":true}}' ;;
	esac
}

# worker ID SESSION JOBS VERSIONS: the jobs one after the other, started,
# progress and complete each, one mosquitto_pub (QoS 1) per event, the
# protocol version taken in turn from VERSIONS ("5", "311" or "5 311").
worker() {
	local id=$1 session=$2 jobs=$3 i=0 j e v
	local -a versions
	read -r -a versions <<<"$4"
	for j in $(seq 1 "$jobs"); do
		for e in started progress complete; do
			v=${versions[$((i % ${#versions[@]}))]}
			i=$((i + 1))
			if ! jw_pub -V "$v" -q 1 -i "$id" -t "jobs/$session/$id-j$j/$e" -m "$(payload $e)" \
					>>"$JW_TMP/pub.err" 2>&1; then
				echo "$id $j $e" >>"$JW_TMP/pub.failed"
			fi
		done
	done
}

expected=0
jobs_total=0
# run NAME WORKERS JOBS VERSIONS: WORKERS workers at once, then checks
# that each of their events arrived exactly once.
run() {
	local name=$1 n=$2 jobs=$3 versions=$4 w
	local -a pids=()
	for w in $(seq 1 "$n"); do
		worker "$name-$w" "$name" "$jobs" "$versions" &
		pids+=($!)
	done
	wait "${pids[@]}"
	expected=$((expected + n * jobs * 3))
	jobs_total=$((jobs_total + n * jobs))
	jw_wait_lines "$JW_TMP/all.out" "$expected" 30
	python3 - "$JW_TMP/all.out" "$name" "$n" "$jobs" <<'PY' >"$JW_TMP/$name.check"
import collections, sys
path, name, n, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
seen = collections.Counter()
for raw in open(path, "rb"):
    parts = raw.rstrip(b"\n").split(b"\t")
    if len(parts) >= 5:
        seen[parts[0].decode()] += 1
missing, twice = [], []
for w in range(1, n + 1):
    for j in range(1, jobs + 1):
        for e in ("started", "progress", "complete"):
            t = "jobs/%s/%s-%d-j%d/%s" % (name, name, w, j, e)
            if seen[t] == 0:
                missing.append(t)
            elif seen[t] > 1:
                twice.append(t)
print(len(missing), len(twice), " ".join((missing + twice)[:5]))
PY
	local missing twice examples
	read -r missing twice examples <"$JW_TMP/$name.check"
	jw_assert_eq "$name: every event delivered ($examples)" 0 "$missing"
	jw_assert_eq "$name: no event delivered twice" 0 "$twice"
}

# The shell loop first: one worker, ten jobs in a row. Each connection
# usually gets the address of the one before it.
run loop 1 10 5
# Fifty at once, MQTT 5; then MQTT 3.1.1; then ids alternating between the
# two versions from one connection to the next.
run v5 50 3 5
run v311 20 2 311
run mixed 20 2 "5 311"

jw_check "every publish acknowledged" test ! -s "$JW_TMP/pub.failed"
jw_check "no notice, no refusal logged" bash -c "! grep -q 'jobwire: rejected' '$JW_LOG'"

# A session resumed with a QoS 2 PUBLISH in flight (PUBREC received, the
# connection lost before PUBREL): the broker checks the stored message
# again when the client comes back, before the client releases it. It was
# checked and applied when it arrived; it is applied and delivered once.
resume() { # name version-flag
	local job=jobs/resume/$1
	jw_pub -q 1 -i "$1" -t "$job/started" -m '{"name":"resumed"}'
	python3 "$(dirname "$0")/willconn.py" "$JW_PORT" "$1" $2 --resume "pub2:$job/progress:{\"progress\":40}" drop >/dev/null
	python3 "$(dirname "$0")/willconn.py" "$JW_PORT" "$1" $2 --resume pubrel disconnect >"$JW_TMP/$1.out"
	jw_check "$1: the message is released" grep -q pubcomp "$JW_TMP/$1.out"
	jw_check "$1: delivered" jw_wait_lines "$JW_TMP/all.out" $((expected + 2))
	expected=$((expected + 2))
	jobs_total=$((jobs_total + 1))
	sleep 0.3
	jw_assert_eq "$1: delivered once" 1 "$(python3 "$(dirname "$0")/msgs.py" "$JW_TMP/all.out" --count "$job/progress")"
	local state
	state=$(mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t "$job/state" -C 1 -W 5)
	jw_assert_eq "$1: applied once (seq 2)" 2 "$(jw_json_field seq <<<"$state")"
	jw_pub -q 1 -i "$1" -t "$job/complete" -m '{}'
	expected=$((expected + 1))
}
resume resume5 --v5
resume resume311 ""

# Every job's retained state says complete.
mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t 'jobs/+/+/state' -C "$jobs_total" -W 10 >"$JW_TMP/states" 2>/dev/null
jw_assert_eq "every job has a retained state" "$jobs_total" "$(wc -l <"$JW_TMP/states")"
jw_assert_eq "every job is complete" "$jobs_total" "$(grep -c '"status":"complete"' "$JW_TMP/states")"

# The counters saw each event once, and no will.
sleep 1
stats=$(mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t '$jobwire/stats' -C 1 -W 5)
events=$(python3 -c 'import json,sys; print(json.dumps(json.loads(sys.argv[1])["events"], sort_keys=True))' "$stats")
field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], 0))' "$events" "$1"; }
jw_assert_eq "stats: accepted counts every event once" "$expected" "$(field accepted)"
jw_assert_eq "stats: nothing rejected" 0 "$(field rejected)"
jw_assert_eq "stats: no duplicates" 0 "$(field duplicates)"
jw_assert_eq "stats: no wills" 0 "$(field wills_checked)"
jw_assert_eq "stats: a ts added to every event" "$expected" "$(field ts_added)"
jw_done
