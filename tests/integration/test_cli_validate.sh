#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire validate` gives the broker's verdict offline: every
# example in schemas/examples is judged as the manifest says (same reason,
# field and keyword), syntax errors are located by line and column, schema
# errors by JSON pointer, and the exit status tells valid from invalid from
# unusable input. Then the same payload is refused identically by the live
# broker, so the offline check cannot drift from it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

ex=$JW_SCHEMAS/examples
# Valid examples: all pass, type from the argument.
for dir in "$ex"/*/valid; do
	type=$(basename "$(dirname "$dir")")
	[ "$type" = state ] && continue
	jw_capture "$JW_CLI" validate "$type" "$dir"/*.json
	jw_assert_eq "valid $type examples pass" 0 "$JW_RC"
done

# Invalid examples: the manifest's reason, field and keyword.
python3 - "$ex/manifest.json" >"$JW_TMP/cases.tsv" <<'PY'
import json, sys
for e in json.load(open(sys.argv[1])):
    if e["type"] == "state" or "/" in e["type"]:
        continue
    print("\t".join([e["type"], e["file"], e["reason"], e.get("field", ""), e.get("keyword", "")]))
PY
bad=0
n=0
while IFS=$'\t' read -r type file reason field keyword; do
	n=$((n + 1))
	out=$("$JW_CLI" validate -j job-1 -s demo-session "$type" "$ex/$file")
	rc=$?
	want="$reason:"
	if [ "$rc" -ne 1 ] || [[ "$out" != *"$want"* ]] || { [ -n "$field" ] && [[ "$out" != *"field $field"* ]]; } ||
		{ [ -n "$keyword" ] && [[ "$out" != *"keyword $keyword"* ]]; }; then
		bad=$((bad + 1))
		echo "  $file: rc=$rc $out (want $reason $field $keyword)"
	fi
done <"$JW_TMP/cases.tsv"
jw_assert_eq "all $n invalid examples refused with the manifest's reason, field and keyword" 0 "$bad"

# Located syntax errors.
printf '{\n  "progress": 42,\n  "message": "x",\n}\n' >"$JW_TMP/trailing.json"
jw_capture "$JW_CLI" validate progress "$JW_TMP/trailing.json"
jw_assert_eq "syntax error: exit 1" 1 "$JW_RC"
jw_assert_contains "syntax error: line and column" "trailing.json:3:17: invalid_json: trailing comma" "$JW_OUT"
printf '{"progress": 10,\n "progress": 20}' >"$JW_TMP/dup.json"
jw_capture "$JW_CLI" validate progress "$JW_TMP/dup.json"
jw_assert_contains "duplicate key located" "dup.json:2:" "$JW_OUT"
printf '{"message": "caf\xe9", "progress": 1}' >"$JW_TMP/latin1.json"
jw_capture "$JW_CLI" validate progress "$JW_TMP/latin1.json"
jw_assert_contains "invalid UTF-8 located" "latin1.json:1:17: invalid_utf8" "$JW_OUT"

# Type from the payload, stdin, and the ids of the payload.
jw_capture sh -c "echo '{\"type\":\"progress\",\"progress\":5}' | '$JW_CLI' validate -"
jw_assert_eq "type from the payload, stdin" "<stdin>: ok (progress)" "$JW_OUT"
jw_capture sh -c "echo '{\"progress\":5}' | '$JW_CLI' validate -"
jw_assert_contains "no type: explained" "cannot tell the event type" "$JW_OUT"
jw_capture sh -c "echo '{\"job_id\":\"j2\",\"progress\":5}' | '$JW_CLI' validate -j j1 progress -"
jw_assert_contains "job id checked against --job" "topic_mismatch" "$JW_OUT"
jw_capture "$JW_CLI" validate progress "$JW_TMP/missing.json"
jw_assert_eq "unreadable file: exit 64" 64 "$JW_RC"
jw_assert_contains "unreadable file: says why" "No such file or directory" "$JW_ERR"
jw_capture "$JW_CLI" validate --schemas "$JW_TMP" progress "$JW_TMP/dup.json"
jw_assert_contains "bad schemas dir: explained" "cannot load the schemas" "$JW_ERR"
head -c 70000 /dev/zero | tr '\0' ' ' >"$JW_TMP/big.json"
jw_capture "$JW_CLI" validate progress "$JW_TMP/big.json"
jw_assert_contains "oversized payload: the broker's limit" "payload_too_large: payload is 70000 bytes, limit 65536" "$JW_OUT"

# Same verdict as the live broker.
jw_start_broker cli_validate
offline=$("$JW_CLI" validate progress "$JW_TMP/trailing.json" | sed 's/^[^ ]* //')
jw_capture "$JW_CLI" publish progress -p "$JW_PORT" -s s -j j --no-local-check - <"$JW_TMP/trailing.json"
jw_assert_eq "offline and broker verdicts agree" "rejected by the broker: $offline" "$JW_ERR"

jw_done
