#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the plugin keeps mosquitto's own acl_file working: with an
# acl_file the plugin only adds its refusals and defers the rest, so
# topics the file denies stay denied; without one it allows what it does
# not refuse, like a broker without plugins.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

acl=$JW_TMP/acl
cat >"$acl" <<'ACL'
# Anonymous clients: one session only, plus their rejection notices.
topic readwrite jobs/allowed/#
topic read $jobwire/rejections/#
# Every job's state, to see which jobs exist.
topic read jobs/+/+/state
topic readwrite jwprobe/#
ACL
chmod 644 "$acl"
jw_start_broker with-acl "acl_file $acl"
jw_check "auto mode found the acl_file and defers" grep -q 'deferred to acl_file / other plugins.*sets acl_file' "$JW_LOG"
jw_sub "$JW_TMP/acl.out" -q 1 -t 'jobs/#' -t '$jobwire/rejections/#'
jw_pub -q 1 -t jobs/allowed/j1/progress -m '{"progress": 10}'
jw_pub -q 1 -t jobs/denied/j1/progress -m '{"progress": 10}'
jw_pub -q 1 -i bad-pub -t jobs/allowed/j1/progress -m '{"progress": 900}'
sleep 0.5
jw_assert_eq "valid event on a permitted topic delivered" 1 "$(python3 "$here/msgs.py" "$JW_TMP/acl.out" --count jobs/allowed/j1/progress)"
jw_assert_eq "valid event on a topic the acl_file denies not delivered" 0 "$(python3 "$here/msgs.py" "$JW_TMP/acl.out" --count jobs/denied/j1/progress)"
jw_assert_eq "invalid event on a permitted topic refused with a notice" 1 "$(python3 "$here/msgs.py" "$JW_TMP/acl.out" --count '$jobwire/rejections/bad-pub')"
# A PUBLISH the acl_file refuses reaches no MESSAGE callback, like a
# will: it must not change the job table either (no job, no state).
jw_assert_eq "refused by the acl_file: no job created" 0 "$(python3 "$here/msgs.py" "$JW_TMP/acl.out" --count jobs/denied/j1/state)"
jw_check "refused by the acl_file: no retained state" \
	test -z "$(mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t jobs/denied/j1/state -C 1 -W 1 2>/dev/null)"
# A will on a permitted topic is still checked and applied.
mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -i acl-will -t jwprobe/idle \
	--will-topic jobs/allowed/j2/failed --will-payload '{"error":"worker lost"}' --will-qos 1 >/dev/null 2>&1 &
will_pid=$!
sleep 0.5
{ kill -9 "$will_pid"; wait "$will_pid"; } 2>/dev/null
sleep 0.5
jw_assert_eq "will on a permitted topic delivered" 1 "$(python3 "$here/msgs.py" "$JW_TMP/acl.out" --count jobs/allowed/j2/failed)"
jw_check "will on a permitted topic applied" grep -q '"job_id":"j2","status":"failed"' <(python3 "$here/msgs.py" "$JW_TMP/acl.out")

jw_start_broker no-acl
jw_check "auto mode without acl_file allows" grep -q 'are allowed .*has no acl_file and no other plugin' "$JW_LOG"
jw_sub "$JW_TMP/open.out" -q 1 -t 'jobs/#'
jw_pub -q 1 -t jobs/any/j1/progress -m '{"progress": 10}'
jw_check "delivered without an acl_file" jw_wait_lines "$JW_TMP/open.out" 1

# Forcing defer with no other ACL source denies everything (as mosquitto
# does when every ACL callback defers) and says so at start.
JW_PLUGIN_OPTS="plugin_opt_acl_fallback defer" jw_start_broker forced-defer
jw_check "forced defer logged" grep -q 'plugin_opt_acl_fallback defer' "$JW_LOG"
out=$(jw_pub -V 5 -q 1 -t jobs/any/j1/progress -m '{"progress": 10}' 2>&1 || true)
jw_check "forced defer without acl_file denies" grep -q 'Not authorized' <<<"$out"

# An unknown option stops the broker from starting, naming the option.
log=$JW_TMP/typo.log
port=$(jw_free_port)
printf 'log_dest stderr\nlistener %s 127.0.0.1\nallow_anonymous true\nplugin %s\nplugin_opt_schemas_dir %s\nplugin_opt_shemas_dir x\n' \
	"$port" "$JW_PLUGIN" "$JW_SCHEMAS" >"$JW_TMP/typo.conf"
# mosquitto leaks on its own failed-start path: no valgrind for this one.
JW_BROKER_VALGRIND= jw_spawn_mosquitto "$JW_TMP/typo.conf" "$log"
typo_pid=$JW_LAST_PID
for _ in $(seq 100); do kill -0 "$typo_pid" 2>/dev/null || break; sleep 0.1; done
jw_check "broker with a misspelt option exits" bash -c "! kill -0 $typo_pid 2>/dev/null"
kill "$typo_pid" 2>/dev/null; wait "$typo_pid" 2>/dev/null
jw_check "misspelt option refused at start" grep -q 'unknown option plugin_opt_shemas_dir' "$log"
jw_done
