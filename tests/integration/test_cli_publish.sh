#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire publish` delivers a valid event, stops an invalid one
# locally (nothing reaches the broker), reports the broker's own reason when
# the local check is skipped, fails clearly on an unreachable broker, and
# refuses hostile arguments with a specific message; and that every command
# answers --help.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

jw_start_broker cli_publish
jw_sub "$JW_TMP/all.out" -V 5 -t 'jobs/#'

# Valid: accepted and delivered with typed fields.
jw_capture jw_cli publish progress -s demo -j job-1 progress=42 message="Processing variant 42/100" \
	current=42 total=100 step=annotation
jw_assert_eq "valid event: exit 0" 0 "$JW_RC"
jw_assert_eq "valid event: says accepted" "accepted: jobs/demo/job-1/progress" "$JW_OUT"
jw_wait_lines "$JW_TMP/all.out" 1
got=$(jw_payloads "$JW_TMP/all.out" jobs/demo/job-1/progress | python3 -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(d["progress"], d["current"], d["total"], d["message"], d["step"])')
jw_assert_eq "valid event: delivered with typed fields" "42 42 100 Processing variant 42/100 annotation" "$got"

# From --json and from stdin.
jw_capture jw_cli publish heartbeat -s demo -j job-1 --json '{"system":{"cpu_percent":12.5}}'
jw_assert_eq "--json payload accepted" 0 "$JW_RC"
jw_capture sh -c "echo '{\"progress\":50}' | '$JW_CLI' publish progress -p $JW_PORT -s demo -j job-1 -"
jw_assert_eq "stdin payload accepted" 0 "$JW_RC"

# Events (not the broker's state updates) seen by the subscriber.
events() { jw_lines "$JW_TMP/all.out" | grep -vc '/state'$'\t'; }
jw_wait_lines "$JW_TMP/all.out" 3
sleep 0.3

# Invalid: stopped locally, never published.
before=$(events)
jw_capture jw_cli publish progress -s demo -j job-1 progress=140
jw_assert_eq "local check: exit 1" 1 "$JW_RC"
jw_assert_contains "local check: names reason, field and keyword" \
	"rejected locally: schema_violation: /progress: maximum 100, got 140 (field /progress, keyword maximum)" "$JW_ERR"
jw_capture jw_cli publish failed -s demo -j job-1 code=BAD
jw_assert_contains "local check: missing required field" "(field /error, keyword required)" "$JW_ERR"
sleep 0.3
jw_assert_eq "local check: nothing reached the broker" "$before" "$(events)"

# The broker's verdict, with the local check skipped.
jw_capture jw_cli publish progress -s demo -j job-1 progress=140 --no-local-check
jw_assert_eq "broker rejection: exit 1" 1 "$JW_RC"
jw_assert_contains "broker rejection: the broker's reason, field and keyword" \
	"rejected by the broker: schema_violation: /progress: maximum 100, got 140 (field /progress, keyword maximum)" "$JW_ERR"
# A response topic the broker will not answer on (the job tree is the
# broker's): the notice comes on the rejection topic, with the verdict.
jw_capture jw_cli publish progress -s demo -j job-1 progress=140 --no-local-check --response-topic jobs/demo/job-1/control
jw_assert_contains "refused response topic: the verdict still arrives" \
	"rejected by the broker: schema_violation: /progress: maximum 100" "$JW_ERR"
# A rule only the broker knows: progress may not go backwards.
jw_capture jw_cli publish progress -s demo -j job-1 progress=10
jw_assert_eq "lifecycle rejection: exit 1" 1 "$JW_RC"
jw_assert_contains "lifecycle rejection: progress_backwards from the broker" \
	"rejected by the broker: progress_backwards" "$JW_ERR"
jw_capture jw_cli publish state -s demo -j job-1 --no-local-check status=running
jw_assert_contains "protected topic refused by the broker" "rejected by the broker: protected_topic" "$JW_ERR"
jw_capture jw_cli publish progres -s demo -j job-1 progress=1
jw_assert_contains "unknown type caught locally" "unknown_event_type" "$JW_ERR"

# Unreachable broker: exit 3 and a clear message.
dead=$(jw_free_port)
jw_capture "$JW_CLI" publish progress -p "$dead" -s demo -j job-1 progress=1
jw_assert_eq "unreachable broker: exit 3" 3 "$JW_RC"
jw_assert_contains "unreachable broker: says where and why" "cannot connect to 127.0.0.1:$dead: Connection refused" "$JW_ERR"
jw_capture env JOBWIRE_URL="mqtt://127.0.0.1:$dead" "$JW_CLI" wait -s demo -j job-1
jw_assert_eq "JOBWIRE_URL is used (exit 3 on its dead port)" 3 "$JW_RC"
jw_capture env JOBWIRE_PORT=$JW_PORT "$JW_CLI" publish heartbeat -s demo -j job-1
jw_assert_eq "JOBWIRE_PORT is used" 0 "$JW_RC"

# Hostile arguments: exit 64, a specific message, nothing published.
sleep 0.3
before=$(events)
check_usage() { # description expected-message args...
	local d=$1 m=$2
	shift 2
	jw_capture "$JW_CLI" "$@"
	if [ "$JW_RC" -eq 64 ] && [[ "$JW_ERR" == *"$m"* ]]; then
		jw_pass "hostile: $d"
	else
		jw_fail "hostile: $d: rc=$JW_RC err=[$JW_ERR]"
	fi
}
check_usage "unknown option" "unknown option --bogus" publish progress --bogus
check_usage "port out of range" "--port: 70000 is out of range" publish progress -s a -j b -p 70000 progress=1
check_usage "port not a number" "--port: \"12ab\" is not a whole number" publish progress -s a -j b -p 12ab
check_usage "missing job" "need TYPE, --session and --job" publish progress -s a progress=1
check_usage "session with a slash" "is not a job topic" publish progress -s a/b -j c progress=1 -p "$JW_PORT"
check_usage "session with +" "is not a job topic" publish progress -s + -j c progress=1 -p "$JW_PORT"
check_usage "bad field" "expected field=value" publish progress -s a -j b progress -p "$JW_PORT"
check_usage "field twice" "is given twice" publish progress -s a -j b progress=1 progress=2
check_usage "two payload sources" "give the payload one way" publish progress -s a -j b progress=1 --json '{}'
check_usage "bad url" "scheme must be mqtt:// or mqtts://" publish progress -s a -j b --url http://x progress=1
check_usage "bad prefix" "--prefix: must be one topic level" publish progress -s a -j b --prefix 'a/b' progress=1
check_usage "option without value" "option --session needs a value" publish progress --session
check_usage "unknown command" "unknown command \"frobnicate\"" frobnicate
check_usage "no command" "usage: jobwire COMMAND" 
check_usage "bad duration" "duration \"soon\" is not like" wait -s a -j b --timeout soon
check_usage "run without command" "need --session, --job and a command" run -s a -j b
check_usage "run bad heartbeat" "--heartbeat: must be 1s to 1d" run -s a -j b --heartbeat 0 -- true
check_usage "history bad status" "--status must be complete or failed" history --status running
check_usage "token bad role" "--role must be viewer, observer, worker, station, edge or admin" token --role root --sessions a
check_usage "bridge bad url" "--from: scheme must be ws or wss" bridge --from nonsense
check_usage "bridge bad session" "is not a session id" bridge --from ws://127.0.0.1:1/x -s 'a b'
check_usage "validate nothing" "no FILE given" validate
jw_capture jw_cli publish progress -s demo -j job-1 --json '[1]'
jw_assert_contains "--json array refused locally" "not_an_object" "$JW_ERR"
jw_capture jw_cli publish progress -s demo -j job-1 --json '{"progress":1,"progress":2}'
jw_assert_contains "--json duplicate key refused locally" "duplicate_key" "$JW_ERR"
jw_capture jw_cli publish progress -s demo -j job-1 "message=$(printf 'caf\xe9')" progress=60
jw_assert_contains "invalid UTF-8 field refused" "not valid UTF-8" "$JW_ERR"
sleep 0.3
jw_assert_eq "hostile: nothing published" "$before" "$(events)"

# --help on every command.
for c in publish run watch wait history validate token bridge; do
	jw_capture "$JW_CLI" "$c" --help
	if [ "$JW_RC" -eq 0 ] && [[ "$JW_OUT" == *"usage: jobwire $c"* ]]; then
		jw_pass "$c --help"
	else
		jw_fail "$c --help: rc=$JW_RC"
	fi
done

jw_done
