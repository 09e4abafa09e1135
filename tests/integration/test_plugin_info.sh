#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that a plugin built against the 2.1 headers tells the broker its
# name and version (mosquitto_plugin_set_info): 2.1 lists it in the
# $CONTROL/broker/v1 listPlugins answer. Brokers before 2.1 have no such
# call (the test is skipped there). The compatibility run builds the
# plugin against each broker's own headers.
. "$(dirname "$0")/lib.sh"

if ! jw_broker_at_least 2.1; then
	echo "SKIP: mosquitto $(jw_broker_version) has no plugin info (2.1 and later)"
	exit 77
fi
jw_start_broker info "enable_control_api true"
jw_sub "$JW_TMP/resp.out" -t '$CONTROL/broker/v1/response'
jw_pub -t '$CONTROL/broker/v1' -m '{"commands":[{"command":"listPlugins"}]}'
jw_wait_lines "$JW_TMP/resp.out" 1 10
resp=$(python3 "$JW_SOURCE_DIR/tests/integration/msgs.py" "$JW_TMP/resp.out" | cut -f2-)
version=$(sed -n 's/^project(jobwire VERSION \([0-9.]*\).*/\1/p' "$JW_SOURCE_DIR/CMakeLists.txt")
if python3 -c '
import json, sys
d = json.loads(sys.argv[1])
plugins = d["responses"][0]["data"]["plugins"]
sys.exit(0 if any(p.get("name") == "jobwire" and p.get("version") == sys.argv[2] for p in plugins) else 1)' \
	"$resp" "$version" 2>/dev/null; then
	jw_pass "listPlugins names jobwire $version"
else
	jw_fail "listPlugins names jobwire $version: got [$resp]"
fi
jw_check "the broker's log names the plugin and its version" grep -q "Plugin jobwire version $version loaded" "$JW_LOG"
jw_done
