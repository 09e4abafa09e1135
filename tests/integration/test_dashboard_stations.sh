#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the dashboard's Stations panel in a real Chromium against a real
# broker with JWT on (tests/browser/stations.test.js): a station that comes
# online at high GPU load gets a card and a warning toast, a station of
# another session is not shown, and one that dies without a goodbye turns
# offline (its will). Keeps a screenshot in the build dir.
# labels: heavy
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_jwt.sh"
. "$(dirname "$0")/lib_browser.sh"
jw_browser_setup

JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret"
jw_start_broker dash_stations "allow_anonymous false" "http_dir $JW_TMP/www"
jw_wait_port "$JW_WS_PORT" 10

export VIEWER=$(tok --role viewer --sessions s1)
export STATION=$(tok --role station --station scope-3 --sessions s1)
export OTHER_STATION=$(tok --role station --station scope-x --sessions s2)
jw_browser_run stations
jw_done
