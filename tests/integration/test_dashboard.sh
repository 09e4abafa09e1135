#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the dashboard works in a real Chromium against a real broker with
# JWT on: the page is served by the broker's http_dir, shows a job moving
# 0 -> 100 -> complete with toasts, alerts for review, never another
# session's jobs, sends cancel to the worker, survives a broker restart
# without duplicates, and refuses bad tokens; a link naming another
# broker address (#ws=) sends nothing there unless config.json allows it;
# MQTT.js in Node meets the same limits. Keeps a screenshot in the build dir.
# labels: heavy
. "$(dirname "$0")/lib.sh"
src=$JW_SOURCE_DIR
mint=$src/examples/jwt-dev-token.py
artifacts=${JW_BUILD_DIR:-$src/build}/test-artifacts
mkdir -p "$artifacts"

if [ ! -x /usr/bin/chromium ]; then
	jw_fail "chromium is not installed (.ci/install-deps installs it)"
	jw_done
fi
bash "$src/examples/dashboard/stage.sh" "$JW_TMP/www"

keys=$JW_TMP/keys
mkdir -p "$keys"
head -c 48 /dev/urandom | base64 >"$keys/secret"
chmod 644 "$keys/secret"
jw_data_dir >/dev/null
tok() { python3 "$mint" --secret-file "$keys/secret" "$@"; }
head -c 48 /dev/urandom | base64 >"$keys/forger"

JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $keys/secret
plugin_opt_data_dir $JW_TMP/data
plugin_opt_state_max_rate 20"
jw_start_broker dash "allow_anonymous false" "http_dir $JW_TMP/www"
jw_wait_port "$JW_WS_PORT" 10

# Restarts the broker on the same ports (the job table comes back from
# plugin_opt_data_dir). The new pid goes to broker.pid.
echo "$JW_PID" >"$JW_TMP/broker.pid"
cat >"$JW_TMP/restart.sh" <<SH
old=\$(cat "$JW_TMP/broker.pid")
kill "\$old"
for _ in \$(seq 100); do kill -0 "\$old" 2>/dev/null || break; sleep 0.05; done
sleep 1
LD_PRELOAD=${JW_BROKER_PRELOAD:-} "$JW_MOSQUITTO" -c "$JW_TMP/dash.conf" >/dev/null 2>>"$JW_TMP/dash.log" &
echo \$! >"$JW_TMP/broker.pid"
for _ in \$(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$JW_WS_PORT) 2>/dev/null && exit 0; sleep 0.05; done
echo "broker did not come back" >&2
SH

export JW_PORT JW_WS_PORT
export VIEWER=$(tok --role viewer --sessions s1)
export VIEWER_S2=$(tok --role viewer --sessions s2)
export WORKER=$(tok --role worker --sessions s1)
export WORKER_S2=$(tok --role worker --sessions s2)
export ADMIN=$(tok --role admin)
export EXPIRED=$(tok --role viewer --sessions s1 --ttl -60)
export FORGED=$(python3 "$mint" --secret-file "$keys/forger" --role viewer --sessions s1)
export RESTART="bash $JW_TMP/restart.sh"
export SCREENSHOT=$artifacts/dashboard.png
export WWW=$JW_TMP/www
export NODE_PATH=$src/examples/dashboard/node_modules

if timeout 300 node "$src/tests/browser/dashboard.test.js" >"$JW_TMP/browser.out" 2>&1; then
	node_rc=0
else
	node_rc=$?
fi
cat "$JW_TMP/browser.out"
JW_PASSES=$((JW_PASSES + $(grep -c '^ok - ' "$JW_TMP/browser.out")))
JW_FAILS=$((JW_FAILS + $(grep -c '^FAIL - ' "$JW_TMP/browser.out")))
[ "$node_rc" -eq 0 ] || jw_fail "browser test exited with $node_rc"
jw_check "screenshot kept at $SCREENSHOT" test -s "$SCREENSHOT"
jw_check "no token in the broker log" bash -c "! grep -qF -e '${VIEWER##*.}' -e '${WORKER##*.}' '$JW_TMP/dash.log'"
# The restarted broker is not the one jw_start_broker recorded.
kill "$(cat "$JW_TMP/broker.pid")" 2>/dev/null
jw_done
