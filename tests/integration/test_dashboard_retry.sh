#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves a viewer retries a failed job from the dashboard in a real
# Chromium against a real broker with JWT on (tests/browser/retry.test.js):
# the Retry button appears only on a retryable failure, works from the
# keyboard, reaches the worker, and the card follows the next attempt; a
# retry past plugin_opt_max_attempts is refused with a toast.
# Keeps a screenshot in the build dir.
# labels: heavy
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_jwt.sh"
. "$(dirname "$0")/lib_browser.sh"
jw_browser_setup

JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret
plugin_opt_state_max_rate 20
plugin_opt_max_attempts 2"
jw_start_broker dash_retry "allow_anonymous false" "http_dir $JW_TMP/www"
jw_wait_port "$JW_WS_PORT" 10

export VIEWER=$(tok --role viewer --sessions s1)
export WORKER=$(tok --role worker --sessions s1)
jw_browser_run retry
jw_done
