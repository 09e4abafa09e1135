#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the history request (docs/topics.md, "History"): a PUBLISH to
# $jobwire/history/{session}/{job} with a response topic and correlation
# data is answered there with the job's accepted events in order (seq,
# attempt, type, the event as delivered with its "ts"), all attempts, the
# newest plugin_opt_history_events of them; errors are clear (unknown job,
# malformed request, no or refused response topic, with JWT a session the
# token may not read); the request reaches no subscriber, cannot be
# retained, and hostile payloads change nothing; the stats show the
# histories' memory.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_jwt.sh"
. "$(dirname "$0")/lib_cli.sh"
here=$(dirname "$0")
client5() { python3 "$here/mqtt5client.py" "$JW_PORT" "$@"; }

# Asks for TOPIC's history as client ID (subscribed to its own replies),
# answer to RESPONSE (or none: "-"); the client's output in $JW_TMP/ID.out.
ask() { # id request-topic response-topic [extra mqtt5client args]
	local id=$1 topic=$2 rt=$3
	shift 3
	local args=(--sub "\$jobwire/replies/$id/#" --pub "$topic" --correlation "c-$id" --wait 5 --until-messages 1)
	[ "$rt" != - ] && args+=(--response-topic "$rt")
	client5 "$id" "${args[@]}" "$@" >"$JW_TMP/$id.out"
}
# Checks the reply client ID got: a Python expression over r (the reply),
# t (its topic), c (its correlation data), puback (the request's).
reply_is() { # description id expression
	if python3 - "$JW_TMP/$2.out" "$3" <<'PY'; then
import json, sys
r = t = c = puback = None
for line in open(sys.argv[1]):
    d = json.loads(line)
    if "puback" in d:
        puback = d["puback"]
    m = d.get("message")
    if m and r is None:
        t, c, r = m["topic"], m["correlation"], json.loads(m["payload"])
ok = r is not None and eval(sys.argv[2])
if not ok:
    print("# got:", t, c, json.dumps(r), "puback", puback)
sys.exit(0 if ok else 1)
PY
		jw_pass "$1"
	else
		jw_fail "$1"
	fi
}

JW_PLUGIN_OPTS="plugin_opt_history_events 5
plugin_opt_stats_interval 1
plugin_opt_log_rate 0"
jw_start_broker open
jw_sub "$JW_TMP/w.out" -V 5 -t '$jobwire/history/#' -t 'jobs/#'

jw_pub -q 1 -t jobs/S/j1/started -m '{"name":"Scan","steps":["a","b"]}'
jw_pub -q 1 -t jobs/S/j1/progress -m '{"progress":10,"step":"a"}'
jw_pub -q 1 -t jobs/S/j1/progress -m '{"progress":20,"step":"b","ts":"2026-01-01T00:00:00Z"}'
jw_pub -q 1 -t jobs/S/j1/progress -m '{"progress":5}' # refused: backwards
jw_pub -q 1 -t jobs/S/j1/complete -m '{"result":{"n":1}}'
jw_pub -q 1 -t jobs/S/j1/complete -m '{"result":{"n":1}}' # duplicate
ask a1 '$jobwire/history/S/j1' '$jobwire/replies/a1/h'
reply_is "events in order, with seq, attempt and type" a1 \
	'[(e["seq"], e["attempt"], e["type"]) for e in r["events"]] == [(1,1,"started"),(2,1,"progress"),(3,1,"progress"),(4,1,"complete")]'
reply_is "answer on the response topic, with the correlation data, request acknowledged" a1 \
	't == "$jobwire/replies/a1/h" and c == "c-a1" and puback == 0'
reply_is "events as delivered: the broker's ts added, the worker's kept" a1 \
	'all("ts" in e["event"] for e in r["events"]) and r["events"][2]["event"]["ts"] == "2026-01-01T00:00:00Z" and r["events"][0]["event"]["name"] == "Scan"'
reply_is "envelope: session, job, status, attempt, seq, not truncated" a1 \
	'(r["type"], r["session"], r["job"], r["status"], r["attempt"], r["seq"], r["truncated"]) == ("history","S","j1","complete",1,4,False)'

# Attempts: failed, retry, started again.
jw_pub -q 1 -t jobs/S/r1/started -m '{}'
jw_pub -q 1 -t jobs/S/r1/failed -m '{"error":"disk full","retryable":true}'
jw_pub -q 1 -t jobs/S/r1/control -m '{"action":"retry"}'
jw_pub -q 1 -t jobs/S/r1/started -m '{}'
ask a2 '$jobwire/history/S/r1' '$jobwire/replies/a2/h'
reply_is "all attempts, the retry request included" a2 \
	'[(e["seq"], e["attempt"], e["type"]) for e in r["events"]] == [(1,1,"started"),(2,1,"failed"),(3,1,"control"),(4,2,"started")] and r["attempt"] == 2'

# The bound: 5 kept, the oldest go, truncated says so.
jw_pub -q 1 -t jobs/S/b1/started -m '{}'
for i in 1 2 3 4 5 6 7 8; do jw_pub -q 1 -t jobs/S/b1/progress -m "{\"progress\":$i}"; done
ask a3 '$jobwire/history/S/b1' '$jobwire/replies/a3/h'
reply_is "ring bound: the newest 5 (seq 5..9), truncated" a3 \
	'[e["seq"] for e in r["events"]] == [5,6,7,8,9] and r["truncated"] is True and r["events"][-1]["event"]["progress"] == 8'

# Errors.
ask a4 '$jobwire/history/S/nope' '$jobwire/replies/a4/h'
reply_is "unknown job: error unknown_job, with session and job" a4 \
	'r["error"] == "unknown_job" and r["session"] == "S" and r["job"] == "nope" and r["message"] and c == "c-a4" and "events" not in r'
for bad in 'S' 'S/j1/extra' 'S/' '/j1' 'S/j%201' 'S/j*1' "S/$(printf 'x%.0s' $(seq 129))"; do
	n=$((${n:-0} + 1))
	ask "m$n" "\$jobwire/history/$bad" "\$jobwire/replies/m$n/h"
	reply_is "malformed request topic \$jobwire/history/$bad: invalid_request" "m$n" \
		'r["error"] == "invalid_request" and "session" not in r and t.endswith("/h")'
done
ask a5 '$jobwire/history/S/j1' -
reply_is "no response topic: error no_response_topic on the client's own replies/history" a5 \
	'r["error"] == "no_response_topic" and t == "$jobwire/replies/a5/history" and c == "c-a5"'
ask a6 '$jobwire/history/S/j1' 'jobs/S/j1/control'
reply_is "response topic in the job tree: refused (broker_topic), said on own replies" a6 \
	'r["error"] == "response_topic_refused" and r["reason"] == "broker_topic" and t == "$jobwire/replies/a6/history"'
ask a7 '$jobwire/history/S/j1' '$jobwire/stats'
reply_is "response topic \$jobwire/stats: refused (broker_topic)" a7 \
	'r["error"] == "response_topic_refused" and r["reason"] == "broker_topic"'
ask a8 '$jobwire/history/S/j1' '$jobwire/replies/someone-else/h'
reply_is "another client's replies: refused (broker_topic)" a8 \
	'r["error"] == "response_topic_refused" and r["reason"] == "broker_topic"'

# Hostile payloads: ignored, the answer is the same.
ask h1 '$jobwire/history/S/j1' '$jobwire/replies/h1/h' --payload "$(head -c 3000 /dev/urandom | base64 -w0)"
reply_is "random payload: ignored" h1 'len(r["events"]) == 4'
ask h2 '$jobwire/history/S/j1' '$jobwire/replies/h2/h' --payload '{"after_seq":"'"$(printf '%0.s[' $(seq 500))"'"}'
reply_is "JSON-ish payload: ignored" h2 'len(r["events"]) == 4'

# Never retained, never delivered (to a subscriber of \$jobwire/history/#,
# as a client without JWT may be).
jw_pub -V 5 -q 1 -r -t '$jobwire/history/S/j1' -m x -D publish response-topic '$jobwire/replies/r/h' 2>/dev/null
sleep 0.3
jw_check "the request is never delivered to subscribers of \$jobwire/history/#" \
	bash -c '! python3 "$1" "$2" | grep -q "^\$jobwire/history"' _ "$here/msgs.py" "$JW_TMP/w.out"
mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t '$jobwire/history/#' -W 1 >"$JW_TMP/retained.out" 2>/dev/null
jw_assert_eq "a retained request is refused: nothing retained" "" "$(cat "$JW_TMP/retained.out")"
jw_pub -t '$jobwire/other' -m x
# The broker logs it when it has handled it (later under valgrind).
jw_check "other \$jobwire/ topics stay refused" bash -c \
	'for _ in $(seq 100); do grep -q "rejected PUBLISH on \"\\\$jobwire/other\".*protected_topic" "$1" && exit 0; sleep 0.1; done; exit 1' \
	_ "$JW_LOG"

# Every kind of answer is valid against schemas/replies/history.json.
for id in a1 a2 a3 a4 m1 a5 a6; do
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    m = json.loads(line).get("message")
    if m:
        print(m["payload"])
        break' "$JW_TMP/$id.out" >"$JW_TMP/$id.reply.json"
done
jw_capture "$JW_CLI" validate --schema "$JW_SCHEMAS/replies/history.json" "$JW_TMP"/*.reply.json
jw_assert_eq "answers (events, unknown job, invalid request, refused response topic) match the schema" 0 "$JW_RC"

# Stats: the histories' memory, part of the table's. The stats go out
# on the broker's own schedule: read them until they count the requests
# above (at most 10 s).
stats_ok() {
	mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t '$jobwire/stats' -C 1 -W 5 >"$JW_TMP/stats.json"
	python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))["jobs"]
ok = j["history_events"] == 4 + 4 + 5 and 0 < j["history_bytes"] < j["memory_bytes"] and j["history_requests"] >= 15 and j["history_answers"] >= 15 and j["history_shed"] == 0
sys.exit(0 if ok else 1)' "$JW_TMP/stats.json" 2>/dev/null
}
ok=0
for _ in $(seq 20); do
	if stats_ok; then
		ok=1
		break
	fi
	sleep 0.5
done
if [ "$ok" = 1 ]; then
	jw_pass "stats: history_events, history_bytes (within memory_bytes), requests and answers"
else
	jw_fail "stats: $(cat "$JW_TMP/stats.json")"
fi
jw_check "broker still up" kill -0 "$JW_PID"
jw_stop_all

# ---------------------------------------------------------------- JWT on
jw_jwt_secret
JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret
plugin_opt_log_rate 0"
jw_start_broker jwt "allow_anonymous false"
admin=$(tok --role admin --ttl 600)
viewer_a=$(tok --role viewer --sessions A)
worker_a=$(tok --role worker --sessions A)
observer_a=$(tok --role observer --sessions A)
jw_pub -q 1 -u a -P "$admin" -t jobs/A/j1/started -m '{"name":"A job"}'
jw_pub -q 1 -u a -P "$admin" -t jobs/B/j1/started -m '{"name":"B job"}'
ask v1 '$jobwire/history/A/j1' '$jobwire/replies/v1/h' --password "$viewer_a"
reply_is "JWT viewer of session A: its session's history" v1 \
	'puback in (0, 16) and [e["type"] for e in r["events"]] == ["started"]'
ask v2 '$jobwire/history/B/j1' '$jobwire/replies/v2/h' --password "$viewer_a"
reply_is "JWT viewer of session A asks about B: not_allowed, nothing of B" v2 \
	'r["error"] == "not_allowed" and "events" not in r and "B job" not in json.dumps(r)'
ask v3 '$jobwire/history/B/none' '$jobwire/replies/v3/h' --password "$viewer_a"
reply_is "JWT: not_allowed comes before unknown_job (no probing other sessions)" v3 \
	'r["error"] == "not_allowed"'
ask o1 '$jobwire/history/A/j1' '$jobwire/replies/o1/h' --password "$observer_a"
reply_is "JWT observer (publishes nothing else): may ask for its session's history" o1 \
	'[e["type"] for e in r["events"]] == ["started"]'
ask o2 '$jobwire/history/B/j1' '$jobwire/replies/o2/h' --password "$observer_a"
reply_is "JWT observer of session A asks about B: not_allowed" o2 'r["error"] == "not_allowed"'
ask w1 '$jobwire/history/A/j1' '$jobwire/replies/w1/h' --password "$worker_a"
reply_is "JWT worker (reads only control): not_allowed" w1 'r["error"] == "not_allowed"'
ask v4 '$jobwire/history/A/j1' 'other/topic' --password "$viewer_a"
reply_is "JWT: a response topic the token may not read: refused (not_readable)" v4 \
	'r["error"] == "response_topic_refused" and r["reason"] == "not_readable" and t == "$jobwire/replies/v4/history"'
ask ad1 '$jobwire/history/B/j1' 'replies/ad1' --password "$admin" --sub replies/ad1
reply_is "JWT admin: any session, any topic it may read" ad1 \
	'r["events"][0]["event"]["name"] == "B job" and t == "replies/ad1"'
jw_check "broker still up" kill -0 "$JW_PID"
jw_stop_all

# ------------------------------------------------------ across a restart
# Histories are not persisted: a restored job answers with no events,
# its seq, and truncated; events after the restart are kept again.
JW_PLUGIN_OPTS="plugin_opt_data_dir $(jw_data_dir)"
jw_start_broker restart1
jw_pub -q 1 -t jobs/S/p1/started -m '{}'
jw_pub -q 1 -t jobs/S/p1/progress -m '{"progress":10}'
ask p0 '$jobwire/history/S/p1' '$jobwire/replies/p0/h'
reply_is "before a restart: both events" p0 'len(r["events"]) == 2 and r["truncated"] is False'
jw_stop_all
jw_start_broker restart2
jw_pub -q 1 -t jobs/S/p1/progress -m '{"progress":20}'
ask p1 '$jobwire/history/S/p1' '$jobwire/replies/p1/h'
reply_is "after a restart: the restored job's seq goes on, the history starts again, truncated" p1 \
	'[(e["seq"], e["type"]) for e in r["events"]] == [(3, "progress")] and r["seq"] == 3 and r["truncated"] is True'
# An answer carries at most 1 MiB of events: the newest that fit.
big=$(python3 -c 'print("x" * 60000)')
jw_pub -q 1 -t jobs/S/big/started -m '{}'
for i in $(seq 1 20); do
	jw_pub -q 1 -t jobs/S/big/validation-required -m "{\"reason\":\"r$i\",\"confidence\":0.5,\"item\":{\"blob\":\"$big\"}}"
done
ask p2 '$jobwire/history/S/big' '$jobwire/replies/p2/h' --wait 10
reply_is "an answer over 1 MiB: the newest events that fit, truncated" p2 \
	'r["truncated"] is True and 10 <= len(r["events"]) < 21 and r["events"][-1]["seq"] == 21 and r["events"][-1]["event"]["reason"] == "r20"'
jw_stop_all

# ----------------------------------------------------------- history off
unset JW_PLUGIN_OPTS
JW_PLUGIN_OPTS="plugin_opt_history_events 0"
jw_start_broker off
jw_pub -q 1 -t jobs/S/j1/started -m '{}'
ask o1 '$jobwire/history/S/j1' '$jobwire/replies/o1/h'
reply_is "plugin_opt_history_events 0: error history_off" o1 'r["error"] == "history_off"'
jw_done
