#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that every valid example event of every type reaches subscribers
# through the broker with the plugin, over MQTT 3.1.1 and 5 at QoS 0 and 1,
# byte-for-byte except for a "ts" member added when the publisher left it
# out, and that topics outside the job tree pass untouched.
. "$(dirname "$0")/lib.sh"

jw_start_broker delivery
# Raw event topics only: the broker's retained state messages are another test's.
topics=()
for f in "$JW_SCHEMAS"/*.json; do
	t=$(basename "$f" .json)
	[ "$t" = state ] || topics+=(-t "jobs/+/+/$t")
done
jw_sub "$JW_TMP/v5.out" -V 5 -q 1 "${topics[@]}" -t 'other/#' -t 'jobsX/#'
jw_sub "$JW_TMP/v311.out" -V 311 -q 1 "${topics[@]}"

manifest=$JW_TMP/published.txt
: >"$manifest"
n=0
for dir in "$JW_SCHEMAS"/examples/*/valid; do
	type=$(basename "$(dirname "$dir")")
	[ "$type" = state ] && continue # broker-published only
	[ -f "$JW_SCHEMAS/$type.json" ] || continue
	for example in "$dir"/*.json; do
		# Each example is its own job (a complete ends its job), so its
		# session id is renamed in topic and payload alike.
		session="ds-$n"
		file=$JW_TMP/example-$n.json
		sed "s/\"demo-session\"/\"$session\"/" "$example" >"$file"
		topic="jobs/$session/job-1/$type"
		if [ "$type" = control ]; then
			# control needs a job to act on; a retry, a failed retryable one.
			first=started body='{}'
			if grep -q '"retry"' "$file"; then
				first=failed body='{"error":"x","retryable":true}'
			fi
			jw_pub -q 1 -t "jobs/$session/job-1/$first" -m "$body"
			printf '%s\t%s\n' "jobs/$session/job-1/$first" "-" >>"$manifest"
			n=$((n + 1))
			if grep -q '"review"' "$file"; then
				# A review needs a question to answer.
				jw_pub -q 1 -t "jobs/$session/job-1/validation-required" \
					-m '{"reason":"r","confidence":0.5,"actions":["approve","reject"]}'
				printf '%s\t%s\n' "jobs/$session/job-1/validation-required" "-" >>"$manifest"
				n=$((n + 1))
			fi
		fi
		if [ $((n % 2)) -eq 0 ]; then
			jw_pub -V 311 -q 0 -t "$topic" -f "$file"
		else
			jw_pub -V 5 -q 1 -t "$topic" -f "$file"
		fi
		printf '%s\t%s\n' "$topic" "$file" >>"$manifest"
		n=$((n + 1))
	done
done
jw_check "published valid examples of every type ($n)" [ "$n" -ge 8 ]

# Outside the job tree nothing is parsed: not JSON, not UTF-8, no ts.
printf 'not json \xff\x00 at all' | jw_pub -t other/raw -s
printf '{"no":"ts added"}' | jw_pub -t jobsX/a/b/progress -s
printf '%s\t%s\n' other/raw - jobsX/a/b/progress - >>"$manifest"

jw_check "v5 subscriber got all $((n + 2)) messages" jw_wait_lines "$JW_TMP/v5.out" $((n + 2)) 10
jw_check "v3.1.1 subscriber got all $n job events" jw_wait_lines "$JW_TMP/v311.out" "$n" 10

verify() { # sub-output all|jobs
	python3 - "$manifest" "$1" "$(dirname "$0")" "$2" <<'PY'
import json, re, sys
sys.path.insert(0, sys.argv[3])
from msgs import read
published = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
got = read(sys.argv[2])
problems = []
want = published if sys.argv[4] == "all" else [p for p in published if p[0].startswith("jobs/")]
if len(got) != len(want):
    problems.append("expected %d messages, got %d" % (len(want), len(got)))
TS = re.compile(r'^"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"$')
for (topic, path), m in zip(want, got):
    if m["topic"] != topic:
        problems.append("order: expected %s, got %s" % (topic, m["topic"]))
        continue
    if path == "-":
        continue
    sent = open(path, "rb").read().decode("utf-8")
    doc = json.loads(sent)
    if "ts" in doc:
        if m["payload"] != sent:
            problems.append("%s: payload changed although ts was present" % path)
        continue
    i = sent.index("{") + 1
    rest = sent[i:].lstrip()
    comma = "" if rest.startswith("}") else ","
    head = m["payload"][:i]
    mt = re.match(r'"ts":("[^"]*")' + re.escape(comma), m["payload"][i:])
    if head != sent[:i] or not mt or not TS.match(mt.group(1)):
        problems.append("%s: ts not inserted as first member: %r" % (path, m["payload"][:80]))
        continue
    if m["payload"][i + mt.end():] != sent[i:]:
        problems.append("%s: bytes after the inserted ts differ" % path)
for p in problems:
    print("  " + p)
sys.exit(1 if problems else 0)
PY
}
jw_check "v5 subscriber: payloads exact, ts added only when missing" verify "$JW_TMP/v5.out" all
jw_check "v3.1.1 subscriber: payloads exact, ts added only when missing" verify "$JW_TMP/v311.out" jobs

raw=$(python3 "$(dirname "$0")/msgs.py" "$JW_TMP/v5.out" --json | python3 -c '
import json,sys
m=[x for x in json.load(sys.stdin) if x["topic"]=="other/raw"]
print(m[0]["payload"].encode("utf-8","surrogateescape").hex() if m else "")')
jw_assert_eq "non-job topic delivered byte-for-byte" "$(printf 'not json \xff\x00 at all' | od -An -tx1 | tr -d ' \n')" "$raw"

jw_check "broker log names the loaded types" grep -q 'jobwire: validating' "$JW_LOG"
jw_done
