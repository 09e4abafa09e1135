#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves reviews with real mosquitto_pub / mosquitto_sub: a control
# {"action":"review"} is accepted only while the job waits on a
# validation-required event not yet answered and only with a choice it
# offered (any non-empty choice when it offered none); every other case is
# refused with a notice naming the reason; an accepted answer reaches the
# worker on the control topic and the state shows choice, comment, who
# (the client id, or the token's subject with JWT on) and when; the job
# stays waiting until progress. With JWT on, a viewer may review in its
# sessions and an observer reads the state but publishes nothing. A
# restart keeps the answer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_notices.sh"
. "$(dirname "$0")/lib_jwt.sh"

field() { python3 -c 'import json,sys
d=json.loads(sys.argv[1]) if sys.argv[1] else {}
for k in sys.argv[2].split("."): d = d.get(k) if isinstance(d, dict) else None
print("" if d is None else d if isinstance(d, str) else json.dumps(d))' "$1" "$2"; }
# shellcheck disable=SC2086 # credentials without spaces
state_of() { timeout 3 mosquitto_sub -p "$JW_PORT" ${JW_STATE_AUTH:-} -t "jobs/s1/$1/state" -C 1 -W 2 2>/dev/null; }
# Waits up to 3 s until the retained state of job $1 has $2 == $3.
wait_state() {
	local deadline=$((SECONDS + 3))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(field "$(state_of "$1")" "$2")" == "$3" ] && return 0
		sleep 0.05
	done
	return 1
}
reason_of() { field "$(notice_of "$1")" reason; }
ASK='{"reason":"Segmentation confidence below threshold","confidence":0.41,"threshold":0.8,"item":{"z":12},"actions":["approve","reject"]}'

jw_start_with_notices review 'jobs/s1/+/control'

# --- Refused: no such job, a running job, a choice not offered, no choice.
pub dash-1 jobs/s1/nojob/control '{"action":"review","choice":"approve"}' >/dev/null
wait_notice dash-1
jw_assert_eq "review of an unknown job: unknown_job" unknown_job "$(reason_of dash-1)"

pub worker-1 jobs/s1/j1/started '{"name":"Z-stack"}' >/dev/null
pub dash-2 jobs/s1/j1/control '{"action":"review","choice":"approve"}' >/dev/null
wait_notice dash-2
jw_assert_eq "review of a running job: no_pending_review" no_pending_review "$(reason_of dash-2)"
jw_assert_eq "its message says why" "job j1 is running: no review is pending" "$(field "$(notice_of dash-2)" message)"

pub worker-1 jobs/s1/j1/validation-required "$ASK" >/dev/null
jw_check "validation-required: the job waits" wait_state j1 status waiting
pub dash-3 jobs/s1/j1/control '{"action":"review","choice":"rerun"}' >/dev/null
wait_notice dash-3
jw_assert_eq "a choice not offered: choice_not_offered" choice_not_offered "$(reason_of dash-3)"
jw_assert_eq "its message lists the offered actions" "/choice: rerun is not offered (approve, reject)" \
	"$(field "$(notice_of dash-3)" message)"
pub dash-4 jobs/s1/j1/control '{"action":"review"}' >/dev/null
wait_notice dash-4
jw_assert_eq "a review without choice: schema_violation" schema_violation "$(reason_of dash-4)"
pub dash-5 jobs/s1/j1/control '{"action":"cancel","choice":"approve"}' >/dev/null
wait_notice dash-5
jw_assert_eq "a choice on a cancel: schema_violation" schema_violation "$(reason_of dash-5)"
long=$(python3 -c 'print("x" * 2001)')
pub dash-6 jobs/s1/j1/control "{\"action\":\"review\",\"choice\":\"approve\",\"comment\":\"$long\"}" >/dev/null
wait_notice dash-6
jw_assert_eq "a comment over 2000 characters: schema_violation" schema_violation "$(reason_of dash-6)"
jw_assert_eq "none of them reached the worker" 0 "$(msgs "$JW_TMP/events.out" --count jobs/s1/j1/control)"

# --- Accepted: delivered, recorded, the job still waiting.
pub dash-alice jobs/s1/j1/control '{"action":"review","choice":"reject","comment":"out of focus"}'
jw_check "the answer reaches the worker's control topic" jw_wait_lines "$JW_TMP/events.out" 1
delivered=$(msgs "$JW_TMP/events.out" | awk -F'\t' '$1=="jobs/s1/j1/control"{print $2}' | tail -1)
jw_assert_eq "delivered with its choice" reject "$(field "$delivered" choice)"
jw_assert_eq "delivered with its comment" "out of focus" "$(field "$delivered" comment)"
jw_check "the state shows the decision" wait_state j1 review.choice reject
state=$(state_of j1)
jw_assert_eq "state: still waiting" waiting "$(field "$state" status)"
jw_assert_eq "state: comment" "out of focus" "$(field "$state" review.comment)"
jw_assert_eq "state: by the client id (JWT off)" dash-alice "$(field "$state" review.by)"
jw_check "state: when" test -n "$(field "$state" review.at)"
jw_assert_eq "state: the question is still shown" 0.41 "$(field "$state" validation.confidence)"

pub dash-7 jobs/s1/j1/control '{"action":"review","choice":"approve"}' >/dev/null
wait_notice dash-7
jw_assert_eq "a second answer: no_pending_review" no_pending_review "$(reason_of dash-7)"

pub worker-1 jobs/s1/j1/progress '{"progress":50}' >/dev/null
jw_check "progress: running again" wait_state j1 status running
jw_assert_eq "the decision stays in the state" reject "$(field "$(state_of j1)" review.choice)"
pub dash-8 jobs/s1/j1/control '{"action":"review","choice":"approve"}' >/dev/null
wait_notice dash-8
jw_assert_eq "after progress: no_pending_review" no_pending_review "$(reason_of dash-8)"

# --- No actions offered: any non-empty choice.
pub worker-2 jobs/s1/j2/validation-required '{"reason":"look","confidence":0.5}' >/dev/null
jw_check "j2 waits" wait_state j2 status waiting
jw_assert_eq "any choice when none offered" "" "$(pub dash-9 jobs/s1/j2/control '{"action":"review","choice":"looks good"}')"
jw_check "j2's state shows it" wait_state j2 review.choice "looks good"

# --- A finished job.
pub worker-2 jobs/s1/j2/complete '{}' >/dev/null
pub dash-10 jobs/s1/j2/control '{"action":"review","choice":"x"}' >/dev/null
wait_notice dash-10
jw_assert_eq "review of a finished job: job_finished" job_finished "$(reason_of dash-10)"
jw_stop_all

# --- JWT: the viewer's subject names who answered; an observer only reads.
jw_jwt_secret
admin=$(tok --role admin --ttl 600)
viewer=$(tok --role viewer --sessions s1 --sub alice)
observer=$(tok --role observer --sessions s1 --sub wall)
worker=$(tok --role worker --sessions s1)
other=$(tok --role viewer --sessions s2 --sub mallory)
JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret
plugin_opt_log_rate 0"
jw_start_broker jwt "allow_anonymous false"
JW_PROBE_AUTH="-u a -P $admin"
JW_STATE_AUTH="-u a -P $admin"
jw_sub "$JW_TMP/ctl.out" -V 5 -q 1 -u a -P "$admin" -t 'jobs/s1/+/control'
jw_pub -V 5 -q 1 -u w -P "$worker" -t jobs/s1/j3/validation-required -m "$ASK"
jw_check "JWT: the job waits" wait_state j3 status waiting

out=$(jw_pub -V 5 -q 1 -i wall-1 -u o -P "$observer" -t jobs/s1/j3/control -m '{"action":"review","choice":"approve"}' 2>&1)
jw_check "observer: its review is refused (not authorised)" grep -qi 'not authori' <<<"$out"
out=$(jw_pub -V 5 -q 1 -i wall-1 -u o -P "$observer" -t jobs/s1/j3/control -m '{"action":"cancel"}' 2>&1)
jw_check "observer: its cancel is refused" grep -qi 'not authori' <<<"$out"
out=$(jw_pub -V 5 -q 1 -i wall-1 -u o -P "$observer" -t jobs/s1/j3/progress -m '{"progress":1}' 2>&1)
jw_check "observer: it publishes no events" grep -qi 'not authori' <<<"$out"
st=$(timeout 3 mosquitto_sub -p "$JW_PORT" -V 5 -i wall-2 -u o -P "$observer" -t jobs/s1/j3/state -C 1 -W 2 2>/dev/null)
jw_assert_eq "observer: reads the state" waiting "$(field "$st" status)"
st=$(timeout 3 mosquitto_sub -p "$JW_PORT" -V 5 -i wall-3 -u o -P "$observer" -t jobs/s2/j3/state -C 1 -W 1 2>/dev/null)
jw_assert_eq "observer: reads nothing of another session" "" "$st"
out=$(jw_pub -V 5 -q 1 -i mal-1 -u m -P "$other" -t jobs/s1/j3/control -m '{"action":"review","choice":"approve"}' 2>&1)
jw_check "a viewer of another session cannot review" grep -qi 'not authori' <<<"$out"
jw_assert_eq "nothing reached the worker yet" 0 "$(msgs "$JW_TMP/ctl.out" --count jobs/s1/j3/control)"

out=$(jw_pub -V 5 -q 1 -i alice-dash -u v -P "$viewer" -t jobs/s1/j3/control -m '{"action":"review","choice":"approve","comment":"ok"}' 2>&1)
jw_assert_eq "viewer: its review is acknowledged" "" "$out"
jw_check "viewer: the answer reaches the worker" jw_wait_lines "$JW_TMP/ctl.out" 1
jw_check "viewer: the state names the token's subject" wait_state j3 review.by alice
jw_stop_all

# --- A restart keeps the answer: the state comes back with it, and the
# question stays answered (a second answer is still refused).
unset JW_STATE_AUTH JW_PROBE_AUTH
data=$(jw_data_dir)
JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_log_rate 0"
jw_start_broker persist1
jw_pub -V 5 -q 1 -t jobs/s1/j4/validation-required -m "$ASK"
jw_check "j4 waits" wait_state j4 status waiting
jw_pub -V 5 -q 1 -i dash-r -t jobs/s1/j4/control -m '{"action":"review","choice":"approve","comment":"ok"}'
jw_check "j4 answered" wait_state j4 review.choice approve
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
jw_start_broker persist2
jw_sub "$JW_TMP/rej2.out" -V 5 -t '$jobwire/rejections/#'
jw_check "after a restart: the answer is in the state" wait_state j4 review.by dash-r
jw_assert_eq "after a restart: still waiting, comment kept" "waiting ok" \
	"$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["status"], d["review"]["comment"])' "$(state_of j4)")"
jw_pub -V 5 -q 1 -i dash-r2 -t jobs/s1/j4/control -m '{"action":"review","choice":"reject"}' 2>/dev/null
deadline=$((SECONDS + 5))
while [ $SECONDS -lt $deadline ] && ! grep -q . <(msgs "$JW_TMP/rej2.out"); do sleep 0.05; done
jw_assert_eq "after a restart: a second answer is refused" no_pending_review \
	"$(field "$(msgs "$JW_TMP/rej2.out" | awk -F'\t' '{p=$2} END{print p}')" reason)"
jw_done
