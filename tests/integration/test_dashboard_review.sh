#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves reviews from the dashboard in a real Chromium against a real
# broker with JWT on (tests/browser/review.test.js): a viewer answers a
# review with a button, from the keyboard, with a comment; the worker gets
# it; the page shows the decision; an observer's page offers no answer. Keeps
# a screenshot of the review box in the build dir.
# labels: heavy
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_jwt.sh"
src=$JW_SOURCE_DIR
artifacts=${JW_BUILD_DIR:-$src/build}/test-artifacts
mkdir -p "$artifacts"

if [ ! -x /usr/bin/chromium ]; then
	jw_fail "chromium is not installed (.ci/install-deps installs it)"
	jw_done
fi
bash "$src/examples/dashboard/stage.sh" "$JW_TMP/www"
jw_jwt_secret
JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret"
jw_start_broker dash "allow_anonymous false" "http_dir $JW_TMP/www"
jw_wait_port "$JW_WS_PORT" 10

export JW_PORT JW_WS_PORT
export VIEWER=$(tok --role viewer --sessions s1 --sub alice)
export OBSERVER=$(tok --role observer --sessions s1 --sub wall)
export WORKER=$(tok --role worker --sessions s1)
export ADMIN=$(tok --role admin)
export SCREENSHOT=$artifacts/dashboard-review.png
export NODE_PATH=$src/examples/dashboard/node_modules

if timeout 300 node "$src/tests/browser/review.test.js" >"$JW_TMP/browser.out" 2>&1; then
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
