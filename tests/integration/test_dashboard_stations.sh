#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the dashboard's Stations panel in a real Chromium against a real
# broker with JWT on (tests/browser/stations.test.js): a station that comes
# online at high GPU load gets a card and a warning toast, a station of
# another session is not shown, and one that dies without a goodbye turns
# offline (its will). Keeps a screenshot in the build dir.
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
tok() { python3 "$mint" --secret-file "$keys/secret" "$@"; }

JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $keys/secret"
jw_start_broker dash_stations "allow_anonymous false" "http_dir $JW_TMP/www"
jw_wait_port "$JW_WS_PORT" 10

export JW_PORT JW_WS_PORT
export VIEWER=$(tok --role viewer --sessions s1)
export STATION=$(tok --role station --station scope-3 --sessions s1)
export OTHER_STATION=$(tok --role station --station scope-x --sessions s2)
export SCREENSHOT=$artifacts/dashboard-stations.png
export NODE_PATH=$src/examples/dashboard/node_modules

if timeout 180 node "$src/tests/browser/stations.test.js" >"$JW_TMP/browser.out" 2>&1; then
	node_rc=0
else
	node_rc=$?
fi
cat "$JW_TMP/browser.out"
JW_PASSES=$((JW_PASSES + $(grep -c '^ok - ' "$JW_TMP/browser.out")))
JW_FAILS=$((JW_FAILS + $(grep -c '^FAIL - ' "$JW_TMP/browser.out")))
[ "$node_rc" -eq 0 ] || jw_fail "browser test exited with $node_rc"
jw_check "screenshot kept at $SCREENSHOT" test -s "$SCREENSHOT"
jw_done
