#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that with JWT on a client id in use belongs to the token that
# uses it: a CONNECT with that id whose token names another subject or
# other sessions is refused (and logged), and the connection using the id
# keeps it; the same subject and sessions take it over as MQTT says (a
# worker back after a network drop, a fixed-id station). An id whose
# persistent session is kept while its client is away (MQTT 3.1.1 clean
# session off, MQTT 5 clean start off) stays reserved the same way until
# plugin_opt_auth_jwt_session_hold runs out; an id whose session ended
# is free.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_jwt.sh"
here=$(dirname "$0")
jw_jwt_secret
client5() { python3 "$here/mqtt5client.py" "$JW_PORT" "$@"; }

JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret
plugin_opt_stats_interval 1"
jw_start_broker ids "allow_anonymous false"
admin=$(tok --role admin --sub ops --ttl 600)
alice_a=$(tok --role worker --sub alice --sessions A)
alice_a2=$(tok --role worker --sub alice --sessions A --ttl 900)
alice_ab=$(tok --role worker --sub alice --sessions A,B)
alice_ba=$(tok --role viewer --sub alice --sessions B,A,B)
alice_b=$(tok --role worker --sub alice --sessions B)
bob_a=$(tok --role worker --sub bob --sessions A)
bob_b=$(tok --role worker --sub bob --sessions B)
anon_a=$(tok --role worker --sessions A)
anon_a2=$(tok --role worker --sessions A --ttl 900)
jw_pub -q 1 -u a -P "$admin" -t jobs/A/j1/started -m '{"name":"station job"}'

# Starts a holder of ID (one MQTT 5 connection, no reconnects) subscribed
# to jobs/A/j1/control; its JSON lines go to $JW_TMP/ID.holder.
hold() { # id token
	client5 "$1" --password "$2" --sub jobs/A/j1/control --wait 30 >"$JW_TMP/$1.holder" &
	JW_BG_PIDS+=("$!")
	local deadline=$((SECONDS + 10))
	until grep -q suback "$JW_TMP/$1.holder" 2>/dev/null; do
		[ $SECONDS -lt $deadline ] || { echo "# holder $1 did not come up" >&2; return 1; }
		sleep 0.05
	done
}
# CONNACK reason code for ID with TOKEN (MQTT 5; 0 = accepted, 135 = refused).
connack() { client5 "$1" --password "$2" --wait 0.2 | python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l)
    if "connack" in d: print(d["connack"]); break
else: print("none")'; }
# Whether the holder of ID is still connected: it receives a control
# message published now.
still_holds() { # id
	local n
	n=$(grep -c '"message"' "$JW_TMP/$1.holder")
	jw_pub -q 1 -u a -P "$admin" -t jobs/A/j1/control -m '{"action":"cancel","reason":"probe"}'
	local deadline=$((SECONDS + 5))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(grep -c '"message"' "$JW_TMP/$1.holder")" -gt "$n" ] && return 0
		grep -q closed "$JW_TMP/$1.holder" && return 1
		sleep 0.05
	done
	return 1
}

# --- A connected client's id.
hold station-1 "$alice_a"
jw_assert_eq "another subject and other sessions: refused" 135 "$(connack station-1 "$bob_b")"
jw_assert_eq "same subject, other sessions: refused" 135 "$(connack station-1 "$alice_b")"
jw_assert_eq "other subject, same sessions: refused" 135 "$(connack station-1 "$bob_a")"
jw_assert_eq "same subject, more sessions: refused" 135 "$(connack station-1 "$alice_ab")"
jw_assert_eq "a token without a subject: refused" 135 "$(connack station-1 "$anon_a")"
jw_check "the connection using the id keeps it" still_holds station-1
jw_check "no takeover happened" bash -c "! grep -q 'Client station-1 already connected' '$JW_LOG'"
jw_check "the refusal is logged with the reason" \
	grep -q 'jobwire: refused client station-1 from 127.0.0.1: client id station-1 is in use by a connection whose token has another subject or other sessions' "$JW_LOG"
jw_check "no token in the log" bash -c "! grep -qF -e '${bob_b##*.}' -e '${alice_a##*.}' '$JW_LOG'"

jw_assert_eq "same subject and sessions (a new token) takes over" 0 "$(connack station-1 "$alice_a2")"
sleep 0.3
jw_check "the old connection was taken over (session taken over)" grep -q closed "$JW_TMP/station-1.holder"

hold station-2 "$alice_ab"
jw_assert_eq "sessions in another order, repeated, another role: same owner, takes over" 0 "$(connack station-2 "$alice_ba")"
hold station-3 "$anon_a"
jw_assert_eq "no subject vs a subject: refused" 135 "$(connack station-3 "$alice_a")"
jw_assert_eq "no subject on either token, same sessions: takes over" 0 "$(connack station-3 "$anon_a2")"

# A clean session's id is free once its client is gone.
jw_assert_eq "clean session client connects" 0 "$(connack free-1 "$alice_a")"
sleep 0.2
jw_assert_eq "its id is free for another token after it left" 0 "$(connack free-1 "$bob_b")"

# --- Persistent sessions keep their id while the client is away.
mosquitto_sub -p "$JW_PORT" -c -q 1 -i keep-311 -u w -P "$alice_a" -t jobs/A/j1/control -E
mosquitto_sub -p "$JW_PORT" -V 5 -c -x 600 -q 1 -i keep-5 -u w -P "$alice_a" -t jobs/A/j1/control -E
sleep 0.3
jw_assert_eq "MQTT 3.1.1 clean session off, client away: another token refused" 135 "$(connack keep-311 "$bob_b")"
jw_assert_eq "MQTT 5 session expiry, client away: another token refused" 135 "$(connack keep-5 "$bob_a")"
timeout 10 mosquitto_sub -p "$JW_PORT" -c -q 1 -i keep-311 -u w -P "$alice_a2" -t jobs/A/j1/control -E -d >"$JW_TMP/back.out" 2>&1
jw_check "its owner comes back to the kept session (CONNACK session present)" grep -q 'received CONNACK (0)' "$JW_TMP/back.out"
jw_check "the kept session was resumed" grep -q 'Sending CONNACK to keep-311 (1, 0)' "$JW_LOG"
sleep 1.2
stats=$(timeout 5 mosquitto_sub -p "$JW_PORT" -u a -P "$admin" -t '$jobwire/stats' -C 1 -W 4 2>/dev/null)
jw_check "stats count the refused ids and the kept session" python3 -c 'import json,sys
a = json.loads(sys.argv[1])["auth"]
sys.exit(0 if a["client_id_refused"] >= 8 and a["kept_sessions"] >= 1 else 1)' "$stats"
jw_check "broker still up" kill -0 "$JW_PID"
jw_stop_all

# --- The reservation of an away session ends after the hold time.
JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret
plugin_opt_auth_jwt_session_hold 1"
jw_start_broker hold "allow_anonymous false"
mosquitto_sub -p "$JW_PORT" -c -q 1 -i keep-h -u w -P "$alice_a" -t jobs/A/j1/control -E
jw_assert_eq "within the hold time: another token refused" 135 "$(connack keep-h "$bob_a")"
sleep 2.5
jw_assert_eq "after plugin_opt_auth_jwt_session_hold: the id is free" 0 "$(connack keep-h "$bob_a")"
jw_done
