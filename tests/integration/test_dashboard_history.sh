#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the dashboard shows a job's timeline from the broker's history in
# a real Chromium against a real broker with JWT on
# (tests/browser/history.test.js): a page opened after the job, a reloaded
# page (same client id), a job seen live, and a dropped connection with
# nothing missed. Keeps a screenshot in the build dir.
# labels: heavy
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_jwt.sh"
. "$(dirname "$0")/lib_browser.sh"
jw_browser_setup

JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret
plugin_opt_state_max_rate 20"
jw_start_broker dash_history "allow_anonymous false" "http_dir $JW_TMP/www"
jw_wait_port "$JW_WS_PORT" 10

export VIEWER=$(tok --role viewer --sessions s1)
export WORKER=$(tok --role worker --sessions s1)
export ADMIN=$(tok --role admin)
jw_browser_run history
jw_done
