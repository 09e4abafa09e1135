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
. "$(dirname "$0")/lib_browser.sh"
jw_browser_setup
JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret"
jw_start_broker dash "allow_anonymous false" "http_dir $JW_TMP/www"
jw_wait_port "$JW_WS_PORT" 10

export VIEWER=$(tok --role viewer --sessions s1 --sub alice)
export OBSERVER=$(tok --role observer --sessions s1 --sub wall)
export WORKER=$(tok --role worker --sessions s1)
export ADMIN=$(tok --role admin)
jw_browser_run review 300
jw_done
