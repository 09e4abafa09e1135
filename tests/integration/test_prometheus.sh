#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that a real Prometheus (Debian's, on loopback, with a temporary
# storage folder) scrapes `jobwire metrics` with the scrape configuration
# docs/operations.md gives, that its query API returns the rejection
# counter after a rejected event, and that the alert rules of
# docs/operations.md pass `promtool check rules` and load and evaluate in
# that server without errors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
	echo "SKIP: prometheus or promtool not installed (Debian's prometheus package)"
	exit 77
fi

# The fenced YAML block after the line "<!-- prometheus: NAME -->".
doc_block() { # name
	python3 - "$JW_SOURCE_DIR/docs/operations.md" "$1" <<'PY'
import sys
lines = open(sys.argv[1]).read().split("\n")
mark = "<!-- prometheus: %s -->" % sys.argv[2]
i = lines.index(mark) + 1
assert lines[i] == "```yaml", lines[i]
j = lines.index("```", i + 1)
print("\n".join(lines[i + 1:j]))
PY
}

rules=$JW_TMP/jobwire-rules.yml
doc_block alert-rules >"$rules"
jw_check "docs/operations.md has alert rules" grep -q 'alert: JobwireRejectionsSpiking' "$rules"
if out=$(promtool check rules "$rules" 2>&1); then
	jw_pass "promtool check rules accepts them ($(grep -o 'SUCCESS: [0-9]* rules found' <<<"$out"))"
else
	jw_fail "promtool check rules: $out"
fi

JW_PLUGIN_OPTS="plugin_opt_stats_interval 1"
jw_start_broker prom
mport=$(jw_free_port)
"$JW_CLI" metrics -p "$JW_PORT" --listen "127.0.0.1:$mport" 2>"$JW_TMP/exporter.err" &
JW_BG_PIDS+=($!)
jw_wait_port "$mport" 10

# prometheus.yml: a fast global interval, the rules, and the documented
# scrape block with the test's port.
pport=$(jw_free_port)
conf=$JW_TMP/prometheus.yml
{
	printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n'
	printf 'rule_files:\n  - %s\n' "$rules"
	doc_block scrape-config | sed -e "s/127\.0\.0\.1:9883/127.0.0.1:$mport/" -e 's/scrape_interval: 15s/scrape_interval: 1s/'
} >"$conf"
jw_check "promtool check config accepts the documented scrape block" promtool check config "$conf"
mkdir -p "$JW_TMP/tsdb"
prometheus --config.file="$conf" --storage.tsdb.path="$JW_TMP/tsdb" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn >"$JW_TMP/prometheus.log" 2>&1 &
JW_BG_PIDS+=($!)
jw_check "Prometheus listens" jw_wait_port "$pport" 30

# query EXPR: the result vector of the instant query, as JSON.
query() {
	python3 - "http://127.0.0.1:$pport/api/v1/query" "$1" <<'PY'
import json, sys, urllib.parse, urllib.request
try:
    url = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
    d = json.load(urllib.request.urlopen(url, timeout=5))
    print(json.dumps(d["data"]["result"]))
except Exception as e:
    print("[]")
PY
}
# Waits until EXPR's first sample has VALUE (default 30 s).
wait_value() { # expr value
	local deadline=$((SECONDS + 30)) r
	while [ $SECONDS -lt $deadline ]; do
		r=$(query "$1")
		python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r and r[0]["value"][1] == sys.argv[2] else 1)' \
			"$r" "$2" && return 0
		sleep 0.5
	done
	echo "# last answer for $1: $r"
	return 1
}

jw_check "Prometheus scrapes the exporter: up{job=\"jobwire\"} is 1" wait_value 'up{job="jobwire"}' 1
jw_check "and jobwire_up is 1" wait_value 'jobwire_up' 1
jw_pub -t jobs/s1/j1/progress -m '{"progress":5}'
jw_pub -i prom-worker -t jobs/s1/j1/progress -m '{"progress":"half"}'
jw_check "the query API returns the rejection counter after a rejected event" \
	wait_value 'jobwire_events_rejected_total{reason="schema_violation"}' 1
jw_check "and the accepted counter" wait_value 'jobwire_events_accepted_total{type="progress"}' 1

# Every rule loaded and evaluated without error.
rules_json=$(python3 - "http://127.0.0.1:$pport/api/v1/rules" <<'PY'
import json, sys, time, urllib.request
for _ in range(20):
    d = json.load(urllib.request.urlopen(sys.argv[1], timeout=5))
    rules = [r for g in d["data"]["groups"] for r in g["rules"]]
    if rules and all(r.get("lastEvaluation", "").startswith("2") and not r["lastEvaluation"].startswith("0001") for r in rules):
        break
    time.sleep(0.5)
print(json.dumps([[r["name"], r["health"], r.get("lastError", "")] for r in rules]))
PY
)
jw_check "Prometheus loaded the documented rules" \
	python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if len(r) >= 5 else 1)' "$rules_json"
jw_check "every rule evaluates without error: $rules_json" \
	python3 -c 'import json,sys; sys.exit(0 if all(h == "ok" for _, h, _ in json.loads(sys.argv[1])) else 1)' "$rules_json"
jw_done
