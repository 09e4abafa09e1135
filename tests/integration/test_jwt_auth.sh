#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves JWT authentication and the session ACL with real mosquitto_pub /
# mosquitto_sub: bad tokens of every kind are refused at CONNECT and never
# logged; a viewer reads only its sessions and may only publish control;
# a worker publishes events for its sessions and receives their control
# (cancel reaches it and the state shows it); an expired token is
# disconnected; key files the broker cannot use stop it with a clear
# error; with JWT off, password_file works as in a bare broker.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")
mint=$JW_SOURCE_DIR/examples/jwt-dev-token.py

keys=$JW_TMP/keys
mkdir -p "$keys"
head -c 48 /dev/urandom | base64 >"$keys/secret"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$keys/ec.pem" 2>/dev/null
openssl pkey -in "$keys/ec.pem" -pubout -out "$keys/ec.pub" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$keys/rsa.pem" 2>/dev/null
openssl pkey -in "$keys/rsa.pem" -pubout -out "$keys/rsa.pub" 2>/dev/null
head -c 48 /dev/urandom | base64 >"$keys/other-secret"
# Readable by the broker's user only through its group, as in production.
chgrp mosquitto "$keys"/secret "$keys"/ec.pub "$keys"/rsa.pub 2>/dev/null
chmod 640 "$keys"/secret "$keys"/ec.pub "$keys"/rsa.pub
chmod 755 "$keys"

tok() { python3 "$mint" --secret-file "$keys/secret" "$@"; }
# Exit status 0 when a client with password $1 gets a CONNACK success;
# the broker's answer (and any client error) is left in conn.err.
connects() {
	timeout 30 mosquitto_sub -d -p "$JW_PORT" -V 5 -i probe-conn -u any -P "$1" -t "jobs/s1/x/state" -W 3 -C 1 >"$JW_TMP/conn.err" 2>&1
	grep -q 'received CONNACK (0)' "$JW_TMP/conn.err"
}
refused() { # description token
	if connects "$2"; then
		jw_fail "refused at CONNECT: $1"
	elif grep -qi 'not authori' "$JW_TMP/conn.err"; then
		jw_pass "refused at CONNECT: $1"
	else
		jw_fail "refused at CONNECT: $1 (unexpected: $(head -c 200 "$JW_TMP/conn.err"))"
	fi
}

JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $keys/secret
plugin_opt_auth_jwt_public_key_file $keys/ec.pub
plugin_opt_auth_jwt_leeway 0
plugin_opt_stats_interval 1
plugin_opt_log_rate 0"
# No anonymous client gets in: the jw_sub helper is given an admin token.
admin=$(tok --role admin --ttl 600)
jw_start_broker jwt "allow_anonymous false"
jw_check "start-up says JWT is on with both key types" grep -q 'JWT authentication on (HS256, ES256)' "$JW_LOG"

viewer=$(tok --role viewer --sessions s1,s3)
worker=$(tok --role worker --sessions s1)
jw_check "valid viewer token connects" connects "$viewer"
jw_check "valid worker token connects" connects "$worker"
jw_check "admin token connects" connects "$admin"
es=$(python3 "$mint" --key "$keys/ec.pem" --alg ES256 --role viewer --sessions s1)
jw_check "ES256 token verified with the public key" connects "$es"

# --- Bad tokens, each refused at CONNECT.
refused "no password" ""
timeout 5 mosquitto_sub -p "$JW_PORT" -t 'jobs/s1/#' -W 1 -C 1 >/dev/null 2>"$JW_TMP/anon.err"
jw_check "refused at CONNECT: no username and no password" grep -qi 'not authori' "$JW_TMP/anon.err"
refused "expired" "$(tok --role viewer --sessions s1 --ttl -5)"
refused "not yet valid (nbf in the future)" "$(tok --role viewer --sessions s1 --nbf 120)"
refused "issued in the future (iat)" "$(tok --role viewer --sessions s1 --iat 120)"
refused "signed with another secret" "$(python3 "$mint" --secret-file "$keys/other-secret" --role viewer --sessions s1)"
refused "alg none, no signature" "$(tok --role viewer --sessions s1 --header-alg none --no-signature)"
refused "alg none with a signature" "$(tok --role viewer --sessions s1 --header-alg none)"
refused "alg confusion: HS256 signed with the public key as secret" \
	"$(python3 "$mint" --secret-file "$keys/ec.pub" --role admin --sessions '*')"
refused "RS256 token while the key is EC" "$(python3 "$mint" --key "$keys/rsa.pem" --alg RS256 --role viewer --sessions s1)"
refused "ES256 header on an HS256 signature" "$(tok --role viewer --sessions s1 --header-alg ES256)"
refused "HS512 header" "$(tok --role viewer --sessions s1 --header-alg HS512)"
now=$(date +%s)
refused "missing exp" "$(tok --claims '{"role":"viewer","sessions":["s1"]}')"
refused "exp is a string" "$(tok --claims "{\"role\":\"viewer\",\"sessions\":[\"s1\"],\"exp\":\"$((now + 600))\"}")"
refused "missing role" "$(tok --claims "{\"sessions\":[\"s1\"],\"exp\":$((now + 600))}")"
refused "unknown role" "$(tok --claims "{\"role\":\"root\",\"sessions\":[\"s1\"],\"exp\":$((now + 600))}")"
refused "role is a list" "$(tok --claims "{\"role\":[\"admin\"],\"sessions\":[\"s1\"],\"exp\":$((now + 600))}")"
refused "missing sessions for a viewer" "$(tok --claims "{\"role\":\"viewer\",\"exp\":$((now + 600))}")"
refused "sessions is a number" "$(tok --claims "{\"role\":\"viewer\",\"sessions\":7,\"exp\":$((now + 600))}")"
refused "sessions holds a number" "$(tok --claims "{\"role\":\"viewer\",\"sessions\":[1],\"exp\":$((now + 600))}")"
refused "session id +" "$(tok --role viewer --sessions '+')"
refused "session id #" "$(tok --role viewer --sessions 's1,#')"
refused "session id with a slash" "$(tok --role viewer --sessions 's1/x')"
refused "* inside the list" "$(tok --claims "{\"role\":\"viewer\",\"sessions\":[\"*\"],\"exp\":$((now + 600))}")"
refused "claims are a list" "$(tok --claims '[1,2]')"
refused "garbage" 'not.a.token'
refused "two parts" 'eyJhbGciOiJIUzI1NiJ9.e30'
refused "binary-ish garbage" "$(head -c 300 /dev/urandom | base64 -w0 | tr '+/' '-_' | sed 's/=//g;s/^\(.\{40\}\)\(.\{40\}\)/\1.\2./')"
huge=$(tok --claims "{\"role\":\"viewer\",\"sessions\":[\"s1\"],\"exp\":$((now + 600)),\"pad\":\"$(head -c 20000 /dev/zero | tr '\0' a)\"}")
refused "huge token (${#huge} bytes)" "$huge"
jw_check "broker still up after the hostile tokens" kill -0 "$JW_PID"
jw_check "refusals are logged with a reason" grep -q 'jobwire: refused client probe-conn from .*: alg' "$JW_LOG"
sleep 1.2
stats=$(timeout 5 mosquitto_sub -p "$JW_PORT" -u a -P "$admin" -t '$jobwire/stats' -C 1 -W 4 2>/dev/null)
echo "# stats: ${stats: -200}"
jw_check "stats count the refusals (auth.refused >= 25)" python3 -c 'import json,sys; a=json.loads(sys.argv[1])["auth"]; sys.exit(0 if a["refused"] >= 25 and a["accepted"] >= 4 else 1)' "$stats"
jw_check "no token ever appears in the log" bash -c "! grep -qF -e '${viewer:0:40}' -e '${worker##*.}' -e '${admin##*.}' '$JW_LOG'"

# --- What each role may do.
wpub() { jw_pub -V 5 -q 1 -i worker-1 -u w -P "$worker" "$@"; }
vpub() { jw_pub -V 5 -q 1 -i viewer-1 -u v -P "$viewer" "$@"; }
jw_check "worker publishes started for its session" wpub -t jobs/s1/j1/started -m '{"name":"Import","total":10}'
out=$(wpub -t jobs/s2/j1/started -m '{"name":"Import"}' 2>&1 || true)
jw_check "worker cannot publish for another session" grep -q 'Not authorized' <<<"$out"
out=$(vpub -t jobs/s1/j1/progress -m '{"progress":50}' 2>&1 || true)
jw_check "viewer cannot publish events" grep -q 'Not authorized' <<<"$out"
out=$(wpub -t jobs/s1/j1/control -m '{"action":"cancel"}' 2>&1 || true)
jw_check "worker cannot publish control" grep -q 'Not authorized' <<<"$out"
out=$(vpub -t other/topic -m x 2>&1 || true)
jw_check "viewer cannot publish outside the job tree" grep -q 'Not authorized' <<<"$out"

# Viewer reads its session (retained state), never another one.
jw_pub -q 1 -u admin -P "$admin" -t jobs/s2/secret/started -m '{"name":"Other session"}'
timeout 5 mosquitto_sub -p "$JW_PORT" -V 5 -u v -P "$viewer" -t 'jobs/s1/+/state' -C 1 -W 3 >"$JW_TMP/v1.out" 2>&1
jw_check "viewer reads its own session's retained state" grep -q '"job_id":"j1"' "$JW_TMP/v1.out"
timeout 5 mosquitto_sub -p "$JW_PORT" -V 5 -u v -P "$viewer" -t 'jobs/s2/#' -C 1 -W 2 >"$JW_TMP/v2.out" 2>&1
jw_check "viewer subscription to another session is refused" grep -qi 'denied\|not authori' "$JW_TMP/v2.out"
timeout 5 mosquitto_sub -p "$JW_PORT" -V 5 -u v -P "$viewer" -t 'jobs/#' -t 'jobs/+/+/state' -t '#' -C 1 -W 2 >"$JW_TMP/v3.out" 2>&1
jw_check "viewer wildcard over sessions never shows another session" bash -c "! grep -q 'Other session\|secret' '$JW_TMP/v3.out'"
timeout 5 mosquitto_sub -p "$JW_PORT" -V 5 -u v -P "$viewer" -t '$jobwire/stats' -t '$jobwire/rejections/#' -C 1 -W 2 >"$JW_TMP/v4.out" 2>&1
jw_check "viewer cannot read stats or others' rejections" bash -c "! grep -q '{' '$JW_TMP/v4.out'"
star=$(tok --role viewer --sessions '*')
timeout 5 mosquitto_sub -p "$JW_PORT" -V 5 -u v -P "$star" -t 'jobs/+/secret/state' -C 1 -W 3 >"$JW_TMP/v5.out" 2>&1
jw_check "viewer with sessions \"*\" reads every session" grep -q 'Other session' "$JW_TMP/v5.out"

# Worker: subscribes to its control, cannot read state.
timeout 5 mosquitto_sub -p "$JW_PORT" -V 5 -u w -P "$worker" -t 'jobs/s1/j1/state' -C 1 -W 2 >"$JW_TMP/w1.out" 2>&1
jw_check "worker cannot read state" bash -c "! grep -q '{' '$JW_TMP/w1.out'"
mosquitto_sub -p "$JW_PORT" -V 5 -q 1 -i worker-ctl -u w -P "$worker" -t 'jobs/s1/+/control' -C 1 -W 10 >"$JW_TMP/ctl.out" 2>&1 &
ctl_pid=$!
JW_BG_PIDS+=("$ctl_pid")
sleep 0.5
jw_check "viewer publishes cancel" vpub -t jobs/s1/j1/control -m '{"action":"cancel","requested_by":"alice"}'
wait "$ctl_pid" 2>/dev/null
jw_check "cancel reaches the worker subscribed to control" grep -q '"action":"cancel"' "$JW_TMP/ctl.out"
sleep 0.3
state=$(timeout 5 mosquitto_sub -p "$JW_PORT" -u v -P "$viewer" -t jobs/s1/j1/state -C 1 -W 3 2>/dev/null)
jw_check "state shows the cancel request" grep -q '"cancel_requested":true' <<<"$state"

# Own rejection notices only (delivery on one connection is shown by the
# MQTT.js client in test_dashboard.sh).
timeout 5 mosquitto_sub -p "$JW_PORT" -V 5 -i worker-1 -u w -P "$worker" -t '$jobwire/rejections/worker-1' -W 1 >"$JW_TMP/rej.out" 2>&1
jw_check "worker may subscribe to its own rejection topic" bash -c "! grep -qi denied '$JW_TMP/rej.out'"
timeout 5 mosquitto_sub -p "$JW_PORT" -V 5 -i worker-1 -u w -P "$worker" -t '$jobwire/rejections/worker-2' -W 1 >"$JW_TMP/rej2.out" 2>&1
jw_check "worker may not subscribe to another client's rejection topic" grep -qi denied "$JW_TMP/rej2.out"

# Wills are judged by the same token: one for the worker's own session is
# delivered, one for another session is not.
mosquitto_sub -p "$JW_PORT" -u a -P "$admin" -v -t 'jobs/+/+/failed' >"$JW_TMP/wills.out" 2>&1 &
wills_pid=$!
JW_BG_PIDS+=("$wills_pid")
sleep 0.5
for target in s1 s2; do
	mosquitto_sub -p "$JW_PORT" -i "will-$target" -u w -P "$worker" -t "jobs/s1/w-$target/control" \
		--will-topic "jobs/$target/w-$target/failed" --will-payload '{"error":"worker died"}' --will-qos 1 >/dev/null 2>&1 &
	wpid=$!
	sleep 0.5
	kill -9 "$wpid"
	wait "$wpid" 2>/dev/null
done
sleep 1
jw_check "worker's will for its own session delivered" grep -q 'jobs/s1/w-s1/failed' "$JW_TMP/wills.out"
jw_check "worker's will for another session not delivered" bash -c "! grep -q 'jobs/s2/w-s2/failed' '$JW_TMP/wills.out'"

# A second connection with a worker's client id takes its session over:
# the first connection's will, judged by the first's token, is checked
# like any will (valid: delivered and applied; invalid: delivered to
# nobody, with a notice).
mosquitto_sub -p "$JW_PORT" -u a -P "$admin" -v -t 'jobs/s1/+/failed' -t 'jobs/s1/+/state' \
	-t '$jobwire/rejections/#' >"$JW_TMP/takeover.out" 2>&1 &
JW_BG_PIDS+=($!)
sleep 0.5
takeover() { # id job payload
	python3 "$here/willconn.py" "$JW_PORT" "$1" --v5 --user w --password "$worker" \
		--will-topic "jobs/s1/$2/failed" --will-payload "$3" --will-qos 1 hold >"$JW_TMP/$1.hold" 2>&1 &
	local pid=$!
	for _ in $(seq 100); do grep -qs connected "$JW_TMP/$1.hold" && break; sleep 0.05; done
	python3 "$here/willconn.py" "$JW_PORT" "$1" --v5 --user w --password "$worker" disconnect >/dev/null
	wait "$pid" 2>/dev/null
}
takeover tk-good tk1 '{"error":"taken over"}'
takeover tk-bad tk2 '{"code":"taken over"}'
sleep 1
jw_check "valid takeover will delivered" grep -q '^jobs/s1/tk1/failed ' "$JW_TMP/takeover.out"
jw_check "valid takeover will applied" grep -q '^jobs/s1/tk1/state .*"status":"failed"' "$JW_TMP/takeover.out"
jw_check "invalid takeover will not delivered" bash -c "! grep -q '^jobs/s1/tk2/failed' '$JW_TMP/takeover.out'"
jw_check "invalid takeover will: notice" grep -q '^\$jobwire/rejections/tk-bad .*"will":true' "$JW_TMP/takeover.out"

# --- Expiry ends the connection.
short=$(tok --role viewer --sessions s1 --ttl 5)
start=$SECONDS
timeout 20 mosquitto_sub -p "$JW_PORT" -i short-lived -u v -P "$short" -t 'jobs/s1/+/state' >"$JW_TMP/short.out" 2>&1
jw_check "short-lived token was connected (got the retained state)" grep -q '"job_id":"j1"' "$JW_TMP/short.out"
jw_check "expired token disconnected by the broker ($((SECONDS - start)) s for a 5 s token)" test $((SECONDS - start)) -lt 12
jw_check "expiry disconnect logged" grep -q 'disconnecting client short-lived: its token expired' "$JW_LOG"

# --- RS256 with an RSA key; HS256 refused when no secret is configured.
JW_PLUGIN_OPTS="plugin_opt_auth_jwt_public_key_file $keys/rsa.pub
plugin_opt_auth_jwt_issuer https://id.example
plugin_opt_auth_jwt_audience jobwire"
jw_start_broker rsa
jw_check "RS256 token with iss and aud connects" connects "$(python3 "$mint" --key "$keys/rsa.pem" --alg RS256 --role viewer --sessions s1 --iss https://id.example --aud jobwire)"
refused "wrong issuer" "$(python3 "$mint" --key "$keys/rsa.pem" --alg RS256 --role viewer --sessions s1 --iss https://evil.example --aud jobwire)"
refused "missing audience" "$(python3 "$mint" --key "$keys/rsa.pem" --alg RS256 --role viewer --sessions s1 --iss https://id.example)"
refused "alg confusion: HS256 signed with the RSA public key" \
	"$(python3 "$mint" --secret-file "$keys/rsa.pub" --role admin --sessions '*' --iss https://id.example --aud jobwire)"

# --- Key files the broker cannot use stop it, saying why.
bad_start() { # description expected-log-text option-lines
	local log=$JW_TMP/bad.log port
	port=$(jw_free_port)
	printf 'log_dest stderr\nlistener %s 127.0.0.1\nplugin %s\nplugin_opt_schemas_dir %s\n%s\n' \
		"$port" "$JW_PLUGIN" "$JW_SCHEMAS" "$3" >"$JW_TMP/bad.conf"
	JW_BROKER_VALGRIND= jw_spawn_mosquitto "$JW_TMP/bad.conf" "$log"
	local pid=$JW_LAST_PID
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$pid" 2>/dev/null; then
		jw_fail "$1: broker kept running"
		kill "$pid"
	elif grep -q "$2" "$log"; then
		jw_pass "$1"
	else
		jw_fail "$1: log lacks [$2]: $(tail -3 "$log")"
	fi
	wait "$pid" 2>/dev/null
}
cp "$keys/secret" "$keys/root-only"
chmod 600 "$keys/root-only"
bad_start "secret unreadable by the mosquitto user" "cannot read $keys/root-only: Permission denied" \
	"plugin_opt_auth_jwt_hs256_secret_file $keys/root-only"
printf 'short\n' >"$keys/short"; chmod 644 "$keys/short"
bad_start "secret too short" "at least 32 bytes" "plugin_opt_auth_jwt_hs256_secret_file $keys/short"
chmod 644 "$keys/ec.pem"
bad_start "private key given as the public key" "is not a PEM public key" "plugin_opt_auth_jwt_public_key_file $keys/ec.pem"
bad_start "issuer without a key" "need plugin_opt_auth_jwt_hs256_secret_file" "plugin_opt_auth_jwt_issuer x"
bad_start "session hold without a key" "need plugin_opt_auth_jwt_hs256_secret_file" "plugin_opt_auth_jwt_session_hold 60"
bad_start "leeway out of range" "plugin_opt_auth_jwt_leeway must be between" \
	"plugin_opt_auth_jwt_hs256_secret_file $keys/secret
plugin_opt_auth_jwt_leeway 99999"

# --- JWT off: mosquitto's password_file decides, as without the plugin.
mosquitto_passwd -c -b "$JW_TMP/passwd" alice wonderland 2>/dev/null
chmod 644 "$JW_TMP/passwd"
JW_PLUGIN_OPTS="" jw_start_broker nojwt "allow_anonymous false" "password_file $JW_TMP/passwd"
jw_check "JWT off: no auth callback (log says nothing of JWT)" bash -c "! grep -q 'JWT authentication on' '$JW_LOG'"
jw_check "JWT off: password_file user publishes" jw_pub -q 1 -u alice -P wonderland -t jobs/s1/j9/started -m '{"name":"x"}'
out=$(jw_pub -q 1 -u alice -P wrong -t jobs/s1/j9/started -m '{"name":"x"}' 2>&1 || true)
jw_check "JWT off: wrong password refused by password_file" grep -qi 'not authori' <<<"$out"
jw_done
