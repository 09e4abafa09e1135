# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# What the dashboard tests in a real Chromium share (test_dashboard_*.sh).
# Source after lib.sh and lib_jwt.sh.

# Chromium present (else the test fails, saying how to get it), the
# dashboard staged in $JW_TMP/www for the broker's http_dir, a fresh JWT
# secret ($JW_TMP/secret, for tok) and $artifacts for screenshots.
jw_browser_setup() {
	artifacts=${JW_BUILD_DIR:-$JW_SOURCE_DIR/build}/test-artifacts
	mkdir -p "$artifacts"
	if [ ! -x /usr/bin/chromium ]; then
		jw_fail "chromium is not installed (.ci/install-deps installs it)"
		jw_done
	fi
	bash "$JW_SOURCE_DIR/examples/dashboard/stage.sh" "$JW_TMP/www"
	jw_jwt_secret
}

# Runs tests/browser/NAME.test.js against the running broker (at most
# SECONDS, default 180) with the tokens the caller exported; its "ok - "
# and "FAIL - " lines count as this test's, and its screenshot
# ($artifacts/dashboard-NAME.png) must be there.
jw_browser_run() { # name [seconds]
	local rc=0
	export JW_PORT JW_WS_PORT
	export SCREENSHOT=$artifacts/dashboard-$1.png
	export NODE_PATH=$JW_SOURCE_DIR/examples/dashboard/node_modules
	timeout "${2:-180}" node "$JW_SOURCE_DIR/tests/browser/$1.test.js" >"$JW_TMP/browser.out" 2>&1 || rc=$?
	cat "$JW_TMP/browser.out"
	JW_PASSES=$((JW_PASSES + $(grep -c '^ok - ' "$JW_TMP/browser.out")))
	JW_FAILS=$((JW_FAILS + $(grep -c '^FAIL - ' "$JW_TMP/browser.out")))
	[ "$rc" -eq 0 ] || jw_fail "browser test exited with $rc"
	jw_check "screenshot kept at $SCREENSHOT" test -s "$SCREENSHOT"
}
