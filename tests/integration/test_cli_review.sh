#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that a command wrapped by `jobwire run` can ask for a review and
# wait for the answer: `jobwire review` inside it finds its job and broker
# in the environment, publishes validation-required (the job waits, the
# actions offered), prints the choice of the review control a person
# publishes with plain mosquitto_pub, and exits 0, so the script goes on
# with it; without an answer it gives up after --timeout with exit 2 and a
# clear message; a cancel meanwhile ends it with exit 1; the plain
# mosquitto_sub / mosquitto_pub pattern of docs/topics.md works as written;
# bad arguments are refused with 64; with JWT on, `run --token` hands the
# worker token to its command and the state names the answering viewer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

jw_start_broker cli_review
jw_sub "$JW_TMP/all.out" -V 5 -t 'jobs/#'
state() { timeout 3 mosquitto_sub -p "$JW_PORT" -t "jobs/r/$1/state" -C 1 -W 2 2>/dev/null |
	python3 -c "import json,sys; d=json.loads(sys.stdin.read() or '{}'); print($2)"; }
# Waits up to 10 s until job $1's state has status waiting.
wait_waiting() {
	local deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(state "$1" 'd.get("status")')" == waiting ] && return 0
		sleep 0.1
	done
	return 1
}

export JW_CLI
# 1. A wrapped script asks, a person answers, the script uses the choice.
jw_cli run -s r -j seg -- sh -c '
	echo "PROGRESS 1/2 segmenting"
	choice=$("$JW_CLI" review --reason "Segmentation confidence below threshold" \
		--confidence 0.41 --threshold 0.8 --actions approve,reject --item "{\"slice\":97}") || exit 9
	echo "CHOICE=$choice"
	[ "$choice" = approve ] && echo "PROGRESS 2/2 kept"' >"$JW_TMP/run.out" 2>"$JW_TMP/run.err" &
run_pid=$!
JW_BG_PIDS+=("$run_pid")
jw_check "the job waits for the review" wait_waiting seg
jw_assert_eq "the question in the state: reason, confidence, threshold, actions, item" \
	"Segmentation confidence below threshold 0.41 0.8 ['approve', 'reject'] 97" \
	"$(state seg 'd["validation"]["reason"], d["validation"]["confidence"], d["validation"]["threshold"], d["validation"]["actions"], d["validation"]["item"]["slice"]')"
jw_pub -V 5 -q 1 -i dash -t jobs/r/seg/control -m '{"action":"review","choice":"approve","comment":"fine"}'
wait "$run_pid"
jw_assert_eq "answered: the wrapped command went on and ended well" 0 "$?"
jw_assert_contains "answered: jobwire review printed the choice" "CHOICE=approve" "$(cat "$JW_TMP/run.out")"
jw_assert_contains "answered: said it was waiting" "waiting for a review of r/seg" "$(cat "$JW_TMP/run.err")"
jw_assert_eq "answered: the job is complete, the decision kept" "complete approve" \
	"$(state seg 'd["status"], d["review"]["choice"]')"

# 2. No answer: --timeout gives up with exit 2.
jw_capture jw_cli run -s r -j slow -- sh -c '"$JW_CLI" review --reason "look" --confidence 0.2 --timeout 1s; echo "rc=$?"'
jw_assert_contains "timeout: exit 2 from jobwire review" "rc=2" "$JW_OUT"
jw_assert_contains "timeout: a clear message" "no answer for r/slow within 1s" "$JW_ERR"

# 3. Outside `jobwire run`, with options; --json prints the whole answer;
# a cancel while waiting ends it with 1.
jw_pub -q 1 -t jobs/r/manual/started -m '{}'
jw_cli review -s r -j manual --reason "check" --confidence 0.5 --json >"$JW_TMP/man.out" 2>"$JW_TMP/man.err" &
rv_pid=$!
JW_BG_PIDS+=("$rv_pid")
jw_check "manual: the job waits" wait_waiting manual
jw_pub -V 5 -q 1 -t jobs/r/manual/control -m '{"action":"review","choice":"anything goes","comment":"no list offered"}'
wait "$rv_pid"
jw_assert_eq "manual: exit 0" 0 "$?"
jw_assert_eq "manual --json: the answer's choice and comment" "anything goes|no list offered" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["choice"] + "|" + d["comment"])' "$JW_TMP/man.out")"

jw_pub -q 1 -t jobs/r/cancelled/started -m '{}'
jw_cli review -s r -j cancelled --reason "check" --confidence 0.5 >"$JW_TMP/c.out" 2>"$JW_TMP/c.err" &
rv_pid=$!
JW_BG_PIDS+=("$rv_pid")
jw_check "cancel: the job waits" wait_waiting cancelled
jw_pub -q 1 -t jobs/r/cancelled/control -m '{"action":"cancel"}'
wait "$rv_pid"
jw_assert_eq "cancel: exit 1" 1 "$?"
jw_assert_contains "cancel: says so" "cancelled while waiting" "$(cat "$JW_TMP/c.err")"

# 4. The plain mosquitto_sub / mosquitto_pub pattern of docs/topics.md
# ("Asking for a review from a worker"), as written there.
jw_pub -q 1 -t jobs/lab/seg-7/started -m '{}'
(
	cd "$JW_TMP" || exit 1
	mosquitto_sub -p "$JW_PORT" -V 5 -q 1 -t jobs/lab/seg-7/control -C 1 \
		-F '%p' >answer.json &
	sleep 0.5
	mosquitto_pub -p "$JW_PORT" -V 5 -q 1 -t jobs/lab/seg-7/validation-required \
		-m '{"reason":"Segmentation confidence below threshold","confidence":0.41,"threshold":0.8,"actions":["approve","reject"]}'
	wait
	python3 -c 'import json; print(json.load(open("answer.json"))["choice"])' >choice.txt
) &
plain_pid=$!
JW_BG_PIDS+=("$plain_pid")
state_lab() { timeout 3 mosquitto_sub -p "$JW_PORT" -t jobs/lab/seg-7/state -C 1 -W 2 2>/dev/null | python3 -c "import json,sys; print(json.loads(sys.stdin.read() or '{}').get('status'))"; }
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ] && [ "$(state_lab)" != waiting ]; do sleep 0.1; done
jw_assert_eq "plain worker: the job waits" waiting "$(state_lab)"
jw_pub -V 5 -q 1 -t jobs/lab/seg-7/control -m '{"action":"review","choice":"approve","comment":"fine"}'
wait "$plain_pid"
jw_assert_eq "plain worker: mosquitto_sub got the answer" approve "$(cat "$JW_TMP/choice.txt")"

# 5. Bad arguments and a refused question.
jw_capture "$JW_CLI" review --reason x --confidence 0.5
jw_assert_eq "no job: exit 64" 64 "$JW_RC"
jw_assert_contains "no job: explained" "JOBWIRE_SESSION and JOBWIRE_JOB" "$JW_ERR"
jw_capture jw_cli review -s r -j x --reason x --confidence 1.5
jw_assert_eq "confidence out of range: exit 64" 64 "$JW_RC"
jw_capture jw_cli review -s r -j x --confidence 0.5
jw_assert_eq "no reason: exit 64" 64 "$JW_RC"
jw_capture jw_cli review -s r -j seg --reason x --confidence 0.5 --timeout 2s
jw_assert_eq "a finished job: refused, exit 1" 1 "$JW_RC"
jw_assert_contains "a finished job: the notice says why" "job_finished" "$JW_ERR"
jw_stop_all

# 6. JWT on: `run --token` hands its worker token to the command, whose
# review reaches a viewer's answer; the state names the viewer's subject.
. "$(dirname "$0")/lib_jwt.sh"
jw_jwt_secret
admin=$(tok --role admin --ttl 600)
worker=$(tok --role worker --sessions r)
viewer=$(tok --role viewer --sessions r --sub alice)
JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret"
jw_start_broker cli_review_jwt "allow_anonymous false"
jw_cli run -s r -j jwt --token "$worker" -- sh -c \
	'"$JW_CLI" review --reason "check" --confidence 0.3 --actions approve,reject --timeout 20s' \
	>"$JW_TMP/jwt.out" 2>"$JW_TMP/jwt.err" &
jwt_pid=$!
JW_BG_PIDS+=("$jwt_pid")
state_jwt() { timeout 3 mosquitto_sub -p "$JW_PORT" -u a -P "$admin" -t jobs/r/jwt/state -C 1 -W 2 2>/dev/null |
	python3 -c "import json,sys; d=json.loads(sys.stdin.read() or '{}'); print($1)"; }
deadline=$((SECONDS + 10))
while [ $SECONDS -lt $deadline ] && [ "$(state_jwt 'd.get("status")')" != waiting ]; do sleep 0.1; done
jw_assert_eq "JWT: the wrapped command's question reached the broker with the worker token" waiting \
	"$(state_jwt 'd.get("status")')"
jw_pub -V 5 -q 1 -u v -P "$viewer" -t jobs/r/jwt/control -m '{"action":"review","choice":"reject"}'
wait "$jwt_pid"
jw_assert_eq "JWT: the run ended well" 0 "$?"
jw_assert_eq "JWT: the command printed the viewer's choice" reject "$(cat "$JW_TMP/jwt.out")"
jw_assert_eq "JWT: the state names the viewer's subject" "complete alice" \
	"$(state_jwt 'd["status"], d["review"]["by"]')"
jw_done
