#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that with JWT on a worker with a persistent session gets, when it
# comes back, the control messages published while it was away: MQTT 3.1.1
# with clean session off and MQTT 5 with clean start off and a session
# expiry interval, also when its old token expired while it was away and
# it returns with a new one. What was queued is judged by the new token:
# messages it may not read are dropped at reconnect, the others delivered.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_jwt.sh"
jw_jwt_secret

JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret
plugin_opt_auth_jwt_leeway 0"
jw_start_broker persist "allow_anonymous false"
admin=$(tok --role admin --sub ops --ttl 600)
viewer=$(tok --role viewer --sub dash --sessions s1)
worker=$(tok --role worker --sub lab-7 --sessions s1)
worker2=$(tok --role worker --sub lab-7 --sessions s1 --ttl 900)
for j in j1 j2 j3 j4; do
	jw_pub -q 1 -u a -P "$admin" -t "jobs/s1/$j/started" -m "{\"name\":\"$j\"}"
done

# away ID TOKEN TOPIC [mosquitto_sub options]: subscribes at QoS 1 with a
# persistent session, then disconnects (the session stays).
away() {
	local id=$1 token=$2 topic=$3
	shift 3
	timeout 10 mosquitto_sub -p "$JW_PORT" -c -q 1 -i "$id" -u w -P "$token" -t "$topic" -E "$@"
}
cancel() { # job
	jw_pub -q 1 -u v -P "$viewer" -t "jobs/s1/$1/control" -m "{\"action\":\"cancel\",\"reason\":\"while away $1\"}"
}
# back ID TOKEN TOPIC [mosquitto_sub options]: reconnects to the kept
# session (subscribing to TOPIC, which it may read, again) and prints what
# arrives within 3 s.
back() {
	local id=$1 token=$2 topic=$3
	shift 3
	timeout 10 mosquitto_sub -p "$JW_PORT" -c -q 1 -i "$id" -u w -P "$token" -t "$topic" -v -W 3 "$@" 2>/dev/null
}

# --- MQTT 3.1.1, clean session off.
away w311 "$worker" 'jobs/s1/j1/control'
cancel j1
out=$(back w311 "$worker" jobs/s1/j1/control)
jw_check "MQTT 3.1.1: the cancel sent while away arrives on return" grep -q 'jobs/s1/j1/control .*while away j1' <<<"$out"

# --- MQTT 5, clean start off, session expiry interval.
away w5 "$worker" 'jobs/s1/j2/control' -V 5 -x 600
cancel j2
out=$(back w5 "$worker2" jobs/s1/j2/control -V 5 -x 600)
jw_check "MQTT 5: the cancel sent while away arrives on return (new token)" grep -q 'jobs/s1/j2/control .*while away j2' <<<"$out"

# --- The old token expires while the worker is away.
short=$(tok --role worker --sub lab-7 --sessions s1 --ttl 3)
away wexp "$short" 'jobs/s1/j3/control'
sleep 4
cancel j3
out=$(back wexp "$worker" jobs/s1/j3/control)
jw_check "token expired while away: the cancel arrives with the new token" grep -q 'jobs/s1/j3/control .*while away j3' <<<"$out"

# --- The token expires while the worker is connected: the broker
# disconnects it, and the session it asked for is kept all the same.
kicked=$(tok --role worker --sub lab-7 --sessions s1 --ttl 2)
timeout 20 mosquitto_sub -p "$JW_PORT" -c -q 1 -i wkick -u w -P "$kicked" -t jobs/s1/j5/control >/dev/null 2>&1 &
kick_pid=$!
JW_BG_PIDS+=("$kick_pid")
deadline=$((SECONDS + 10))
until grep -q 'disconnecting client wkick: its token expired' "$JW_LOG"; do
	[ $SECONDS -lt $deadline ] || break
	sleep 0.1
done
kill "$kick_pid" 2>/dev/null
wait "$kick_pid" 2>/dev/null
jw_check "expired token disconnected by the broker" grep -q 'disconnecting client wkick: its token expired' "$JW_LOG"
jw_pub -q 1 -u a -P "$admin" -t jobs/s1/j5/started -m '{"name":"j5"}'
cancel j5
out=$(back wkick "$worker" jobs/s1/j5/control)
jw_check "disconnected for expiry: the cancel arrives with the new token" grep -q 'jobs/s1/j5/control .*while away j5' <<<"$out"

# --- Queued messages are judged by the new token: a viewer session
# (viewers read every event of their sessions) comes back as a worker
# (workers read control only).
vsess=$(tok --role viewer --sub lab-7 --sessions s1)
away wview "$vsess" 'jobs/s1/j4/#'
away wrole "$vsess" 'jobs/s1/j4/#'
jw_pub -q 1 -u w -P "$worker" -t jobs/s1/j4/progress -m '{"progress":10,"message":"queued progress"}'
cancel j4
out=$(back wview "$vsess" 'jobs/s1/j4/#')
jw_check "back as a viewer: the queued progress arrives" grep -q 'jobs/s1/j4/progress .*queued progress' <<<"$out"
out=$(back wrole "$worker" jobs/s1/j4/control)
jw_check "back as a worker: the control it may read arrives" grep -q 'jobs/s1/j4/control .*while away j4' <<<"$out"
jw_check "back as a worker: the queued progress it may not read is dropped" bash -c "! grep -q 'queued progress' <<<'$out'"
jw_check "broker still up" kill -0 "$JW_PID"
jw_done
