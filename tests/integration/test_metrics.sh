#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire metrics` serves the broker's $jobwire/stats as
# Prometheus metrics that Debian's promtool accepts: jobwire_up 0 (not a
# dead endpoint) while the broker is unreachable, then the accepted and
# rejected counters, notices and job gauges once it is up, a page on /
# that links to /metrics, 404 elsewhere, and jobwire_up 0 again when the
# broker goes away; it refuses a bad --listen and an address in use; with
# JWT on, an admin token reads the stats and another is told it cannot.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

if ! command -v promtool >/dev/null; then
	echo "SKIP: promtool not installed (Debian's prometheus package)"
	exit 77
fi

# GET URL: prints "STATUS<TAB>CONTENT-TYPE" on the first line, then the body.
http_get() {
	python3 - "$1" <<'PY'
import sys, urllib.request, urllib.error
try:
    r = urllib.request.urlopen(sys.argv[1], timeout=5)
except urllib.error.HTTPError as e:
    r = e
except Exception as e:
    print("000\t" + str(e))
    sys.exit(0)
print("%d\t%s" % (r.status if hasattr(r, "status") else r.code, r.headers.get("Content-Type", "")))
sys.stdout.write(r.read().decode())
PY
}

# Waits until GET URL's body has a line matching the regex (default 20 s).
wait_metric() { # url regex [timeout]
	local deadline=$((SECONDS + ${3:-20}))
	while [ $SECONDS -lt $deadline ]; do
		http_get "$1" | grep -Eq "$2" && return 0
		sleep 0.2
	done
	return 1
}

# The exporter against a port where nothing listens.
dead=$(jw_free_port)
mport=$(jw_free_port)
"$JW_CLI" metrics -p "$dead" --listen "127.0.0.1:$mport" 2>"$JW_TMP/exporter0.err" &
JW_BG_PIDS+=($!)
jw_check "the exporter serves while the broker is unreachable" jw_wait_port "$mport" 10
out=$(http_get "http://127.0.0.1:$mport/metrics")
jw_assert_eq "/metrics answers 200 with the text format's content type" \
	$'200\ttext/plain; version=0.0.4; charset=utf-8' "$(head -1 <<<"$out")"
jw_check "jobwire_up is 0 while the broker is unreachable" grep -qx 'jobwire_up 0' <<<"$out"
jw_check "no counters while the broker is unreachable" bash -c '! grep -q "^jobwire_events" <<<"$1"' _ "$out"
jw_check "promtool accepts the output with the broker down" \
	bash -c 'tail -n +2 <<<"$1" | promtool check metrics' _ "$out"
jw_check "the exporter says why it is not connected" grep -q "jobwire metrics: cannot connect" "$JW_TMP/exporter0.err"
page=$(http_get "http://127.0.0.1:$mport/")
jw_assert_eq "/ answers an HTML page" $'200\ttext/html; charset=utf-8' "$(head -1 <<<"$page")"
jw_check "the page links to /metrics" grep -q 'href="/metrics"' <<<"$page"
jw_assert_eq "another path is 404" "404" "$(http_get "http://127.0.0.1:$mport/nope" | head -1 | cut -f1)"
jw_capture timeout 10 "$JW_CLI" metrics -p "$dead" --listen "127.0.0.1:$mport"
jw_assert_eq "a port in use is refused (exit 3)" 3 "$JW_RC"
jw_assert_contains "and the error names it" "cannot listen on 127.0.0.1:$mport" "$JW_ERR"
jw_capture timeout 10 "$JW_CLI" metrics --listen "127.0.0.1"
jw_assert_eq "--listen without a port is a usage error" 64 "$JW_RC"
jw_stop_all

# The exporter against a broker with the plugin.
JW_PLUGIN_OPTS="plugin_opt_stats_interval 1"
jw_start_broker metrics
mport=$(jw_free_port)
"$JW_CLI" metrics -p "$JW_PORT" --listen "127.0.0.1:$mport" 2>"$JW_TMP/exporter.err" &
exporter=$!
JW_BG_PIDS+=("$exporter")
jw_wait_port "$mport" 10
url="http://127.0.0.1:$mport/metrics"
jw_check "jobwire_up becomes 1" wait_metric "$url" '^jobwire_up 1$'
jw_pub -t jobs/s1/j1/started -m '{"name":"m"}'
jw_pub -t jobs/s1/j1/progress -m '{"progress":10}'
jw_pub -i metrics-worker -t jobs/s1/j1/progress -m '{"progress":140}'
jw_check "the rejection is counted by reason" \
	wait_metric "$url" '^jobwire_events_rejected_total\{reason="schema_violation"\} 1$'
out=$(http_get "$url")
jw_check "accepted events by type" grep -qx 'jobwire_events_accepted_total{type="progress"} 1' <<<"$out"
jw_check "the notice is counted" grep -qx 'jobwire_notices_sent_total 1' <<<"$out"
jw_check "rejections by type" grep -qx 'jobwire_events_rejected_by_type_total{type="progress"} 1' <<<"$out"
jw_check "jobs by status" grep -qx 'jobwire_jobs{status="running"} 1' <<<"$out"
jw_check "the stats message's age" grep -Eq '^jobwire_stats_age_seconds [0-9.e+-]+$' <<<"$out"
jw_check "counters have the counter type" grep -qx '# TYPE jobwire_events_rejected_total counter' <<<"$out"
jw_check "promtool accepts the output" bash -c 'tail -n +2 <<<"$1" | promtool check metrics' _ "$out"

# The broker goes away: jobwire_up 0, no stale counters, still serving.
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
jw_check "jobwire_up returns to 0 when the broker stops" wait_metric "$url" '^jobwire_up 0$' 15
jw_check "no stale counters once it is down" bash -c '! grep -q "^jobwire_events" <<<"$1"' _ "$(http_get "$url")"
kill -TERM "$exporter"
deadline=$((SECONDS + 10))
while kill -0 "$exporter" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
jw_check "SIGTERM stops the exporter" bash -c '! kill -0 "$1" 2>/dev/null' _ "$exporter"
wait "$exporter"
jw_assert_eq "and it exits 0" 0 "$?"
jw_stop_all

# JWT on: only an admin token may read $jobwire/stats; the exporter says
# so and keeps answering jobwire_up 0 with another one.
secret=$JW_TMP/secret
head -c 48 /dev/urandom | base64 >"$secret"
chgrp mosquitto "$secret" 2>/dev/null
chmod 640 "$secret"
admin=$("$JW_CLI" token --role admin --sessions '*' --ttl 1h --secret-file "$secret")
viewer=$("$JW_CLI" token --role viewer --sessions s1 --ttl 1h --secret-file "$secret")
JW_PLUGIN_OPTS="plugin_opt_stats_interval 1
plugin_opt_auth_jwt_hs256_secret_file $secret"
jw_start_broker metrics-jwt
vport=$(jw_free_port)
"$JW_CLI" metrics -p "$JW_PORT" --token "$viewer" --listen "127.0.0.1:$vport" 2>"$JW_TMP/viewer.err" &
JW_BG_PIDS+=($!)
aport=$(jw_free_port)
"$JW_CLI" metrics -p "$JW_PORT" --token "$admin" --listen "127.0.0.1:$aport" 2>"$JW_TMP/admin.err" &
JW_BG_PIDS+=($!)
jw_wait_port "$vport" 10
jw_wait_port "$aport" 10
jw_check "with an admin token: jobwire_up 1" wait_metric "http://127.0.0.1:$aport/metrics" '^jobwire_up 1$'
jw_check "and the token counters" wait_metric "http://127.0.0.1:$aport/metrics" '^jobwire_auth_connections [0-9]'
jw_check "with a viewer token: jobwire_up 0" grep -qx 'jobwire_up 0' <<<"$(http_get "http://127.0.0.1:$vport/metrics")"
deadline=$((SECONDS + 10))
until grep -q 'only admin tokens may read \$jobwire/stats' "$JW_TMP/viewer.err" || [ $SECONDS -ge $deadline ]; do
	sleep 0.1
done
jw_check "and the exporter says an admin token is needed" grep -q 'only admin tokens may read \$jobwire/stats' "$JW_TMP/viewer.err"
jw_done
