#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that every invalid example event is stopped, that an MQTT 5 QoS 1
# publisher sees PUBACK 0x87 and gets the notice (with its correlation
# data) on its response topic, that other publishers get it on their
# per-client rejection topic which '#' never matches, and that each notice
# names the rule and the field the manifest expects.
. "$(dirname "$0")/lib.sh"

JW_PLUGIN_OPTS="plugin_opt_log_rate 0"
jw_start_broker rejection
jw_sub "$JW_TMP/all.out" -V 5 -t '#'
jw_sub "$JW_TMP/replies.out" -V 5 -t 'replies/#'
jw_sub "$JW_TMP/rej.out" -V 5 -t '$jobwire/rejections/#'

cases=$JW_TMP/cases.tsv
python3 - "$JW_SCHEMAS/examples/manifest.json" >"$cases" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    # state and notices are broker-published: checked by the unit tests.
    if e["type"] == "state" or "/" in e["type"]:
        continue
    print("\t".join([e["type"], e["file"], e["reason"], e.get("field", ""), e.get("keyword", "")]))
PY
total=$(wc -l <"$cases")
jw_check "manifest lists invalid examples ($total)" [ "$total" -ge 16 ]

i=0
pub_errors=0
while IFS=$'\t' read -r type file reason field keyword; do
	i=$((i + 1))
	topic="jobs/demo-session/job-1/$type"
	# MQTT 5, QoS 1, with a response topic and correlation data.
	if ! out=$(jw_pub -V 5 -q 1 -i "rej5-$i" -t "$topic" -f "$JW_SCHEMAS/examples/$file" \
		-D publish response-topic "replies/$i" -D publish correlation-data "corr-$i" 2>&1); then
		:
	fi
	case "$out" in
		*"Not authorized"*) ;;
		*) pub_errors=$((pub_errors + 1)); echo "  no 0x87 for $file: $out" ;;
	esac
	# MQTT 3.1.1, QoS 0: no error can reach it; the notice goes to its topic.
	jw_pub -V 311 -q 0 -i "rej3-$i" -t "$topic" -f "$JW_SCHEMAS/examples/$file"
done <"$cases"
jw_assert_eq "every MQTT 5 QoS 1 publisher saw reason 0x87 (Not authorized)" 0 "$pub_errors"

jw_wait_lines "$JW_TMP/replies.out" "$total" 10
jw_wait_lines "$JW_TMP/rej.out" "$total" 10
sleep 0.3

verify=$(python3 - "$cases" "$JW_TMP" "$(dirname "$0")" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[3])
from msgs import read
tmp = sys.argv[2]
cases = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
problems = []
everything = read(tmp + "/all.out")
leaked = [m for m in everything if m["topic"].startswith("jobs/")]
if leaked:
    problems.append("%d invalid events were delivered, e.g. %s" % (len(leaked), leaked[0]["payload"][:80]))
if any(m["topic"].startswith("$") for m in everything):
    problems.append("a '#' subscriber saw a $ topic")
replies = {m["topic"]: m for m in read(tmp + "/replies.out")}
rejs = {m["topic"]: m for m in read(tmp + "/rej.out")}
for i, (typ, f, reason, field, keyword) in enumerate(cases, 1):
    for where, m, corr in (("response topic", replies.get("replies/%d" % i), "corr-%d" % i),
                           ("rejection topic", rejs.get("$jobwire/rejections/rej3-%d" % i), "")):
        if not m:
            problems.append("%s: no notice on the %s" % (f, where))
            continue
        n = json.loads(m["payload"])
        want = {"type": "rejected", "reason": reason, "topic": "jobs/demo-session/job-1/" + typ,
                "event": typ, "session_id": "demo-session", "job_id": "job-1"}
        if field:
            want["field"] = field
        if keyword:
            want["keyword"] = keyword
        for k, v in want.items():
            if n.get(k) != v:
                problems.append("%s via %s: %s is %r, expected %r" % (f, where, k, n.get(k), v))
        if not n.get("message") or not n.get("ts") or not n.get("client_id"):
            problems.append("%s via %s: message/ts/client_id missing: %s" % (f, where, m["payload"]))
        if m["corr"] != corr:
            problems.append("%s via %s: correlation data %r, expected %r" % (f, where, m["corr"], corr))
for p in problems[:20]:
    print("  " + p)
print(len(problems))
PY
)
jw_assert_eq "no invalid event delivered; each notice exact (reason, field, keyword, correlation)" 0 "$(tail -n1 <<<"$verify")"
[ "$(tail -n1 <<<"$verify")" = 0 ] || head -n -1 <<<"$verify"

lines=$(grep -c 'jobwire: rejected PUBLISH' "$JW_LOG")
jw_assert_eq "one log line per rejection" $((total * 2)) "$lines"
jw_done
