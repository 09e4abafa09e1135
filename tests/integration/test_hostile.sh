#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that a hostile corpus of payloads and topics (not JSON, truncated,
# invalid UTF-8, over-size, deep nesting, NaN/Infinity/huge numbers,
# duplicate keys, wrong types, topic/payload mismatch, + # $ / NUL in ids,
# empty payload, protected topics) is refused with the specific reason
# and field, never delivered, never crashes the broker and never
# disconnects anyone but a client that breaks the MQTT protocol itself.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$0")

JW_PLUGIN_OPTS="plugin_opt_log_rate 0"
jw_start_broker hostile
# A bystander subscribed to everything, connected for the whole run.
jw_sub "$JW_TMP/bystander.out" -V 5 -q 1 -t '#' -t '$jobwire/#'
bystander=$JW_SUB_PID

corpus=$JW_TMP/corpus
python3 "$here/hostile_corpus.py" "$corpus"
total=$(wc -l <"$corpus/index.tsv")
jw_check "corpus has at least 60 cases ($total)" [ "$total" -ge 60 ]

n=0
expect=$JW_TMP/expect.tsv
: >"$expect"
raw_bad=0
while IFS=$'\t' read -r name mode topic_hex file reason field; do
	n=$((n + 1))
	topic=$(python3 -c 'import sys; sys.stdout.write(bytes.fromhex(sys.argv[1]).decode("utf-8","surrogateescape"))' "$topic_hex" 2>/dev/null)
	case "$mode" in
	raw)
		r=$(python3 "$here/rawmqtt.py" "$JW_PORT" "hostile-$n" "$topic_hex" "$file")
		[ "$r" = closed ] || { raw_bad=$((raw_bad + 1)); echo "  $name: connection $r"; }
		;;
	pub | accept)
		if [ $((n % 2)) -eq 0 ]; then
			jw_pub -V 5 -q 1 -i "hostile-$n" -t "$topic" -f "$file" >/dev/null 2>&1
		else
			jw_pub -V 311 -q 1 -i "hostile-$n" -t "$topic" -f "$file" >/dev/null 2>&1
		fi
		printf '%s\t%s\t%s\t%s\t%s\n' "$n" "$name" "$mode" "$reason" "$field" >>"$expect"
		;;
	esac
done <"$corpus/index.tsv"
jw_assert_eq "the broker dropped each protocol-violating connection" 0 "$raw_bad"

# The bystander still receives: send one valid event last and wait for it.
jw_pub -q 1 -t jobs/hostile/final/progress -m '{"progress": 100}'
jw_check "bystander still connected and served after the corpus" \
	jw_wait_lines "$JW_TMP/bystander.out" 1 10
sleep 0.5
jw_check "bystander process never disconnected" kill -0 "$bystander"
jw_check "broker still running" kill -0 "$JW_PID"

verify=$(python3 - "$expect" "$JW_TMP/bystander.out" "$here" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[3])
from msgs import read
msgs = read(sys.argv[2])
notices = {}
for m in msgs:
    if m["topic"].startswith("$jobwire/rejections/hostile-"):
        notices[m["topic"].rsplit("-", 1)[1]] = json.loads(m["payload"])
# The broker's own state messages are not deliveries of hostile events.
delivered = [m for m in msgs if m["topic"].startswith("jobs/") and not m["topic"].endswith("/state")]
problems = []
accepted = 0
for line in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    n, name, mode, reason, field = line.rstrip("\n").split("\t")
    if mode == "accept":
        accepted += 1
        if n in notices:
            problems.append("%s: rejected (%s) but should pass" % (name, notices[n]["reason"]))
        continue
    got = notices.get(n)
    if not got:
        problems.append("%s: no rejection notice" % name)
    elif got.get("reason") != reason or (field and got.get("field") != field):
        problems.append("%s: got %s %s (%s), expected %s %s" % (
            name, got.get("reason"), got.get("field"), got.get("message"), reason, field))
want_delivered = accepted + 1  # plus the final valid event
if len(delivered) != want_delivered:
    problems.append("%d job events delivered, expected %d: %s" % (
        len(delivered), want_delivered, [m["topic"] for m in delivered]))
for p in problems:
    print("  " + p)
print(len(problems))
PY
)
jw_assert_eq "every hostile case refused with its reason and field; nothing else delivered" 0 "$(tail -n1 <<<"$verify")"
[ "$(tail -n1 <<<"$verify")" = 0 ] || head -n -1 <<<"$verify"
jw_check "no crash or error in the broker log" bash -c "! grep -Eq 'Segmentation|Assertion|Aborted|Error: ' '$JW_LOG'"
jw_done
