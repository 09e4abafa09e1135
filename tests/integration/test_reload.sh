#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that SIGHUP reloads the schema directory (a new event type becomes
# valid), and that a broken schema file on reload keeps the old set in
# force and says why in the log.
. "$(dirname "$0")/lib.sh"

schemas=$JW_TMP/schemas
mkdir -p "$schemas"
cp "$JW_SCHEMAS"/*.json "$schemas"/
chmod -R a+rX "$schemas"
JW_TEST_SCHEMAS=$schemas jw_start_broker reload
jw_sub "$JW_TMP/all.out" -q 1 -t 'jobs/#' -t '$jobwire/rejections/#'

jw_pub -q 1 -i r1 -t jobs/s/j/annotation -m '{"label":"cell"}'
sleep 0.3
notice=$(python3 "$(dirname "$0")/msgs.py" "$JW_TMP/all.out" | awk -F'\t' '$1=="$jobwire/rejections/r1"{print $2}')
jw_assert_eq "unknown type rejected before reload" unknown_event_type "$(jw_json_field reason <<<"$notice")"

cat >"$schemas/annotation.json" <<'JSON'
{"$schema": "https://json-schema.org/draft/2020-12/schema",
 "type": "object", "required": ["label"],
 "properties": {"label": {"type": "string", "minLength": 1}, "ts": {"type": "string"}},
 "additionalProperties": false}
JSON
chmod a+r "$schemas/annotation.json"
kill -HUP "$JW_PID"
jw_check "reload logged" bash -c "for i in \$(seq 50); do grep -q 'jobwire: reloaded 10 event types' '$JW_LOG' && exit 0; sleep 0.1; done; exit 1"
jw_pub -q 1 -i r2 -t jobs/s/j/annotation -m '{"label":"cell"}'
jw_pub -q 1 -i r3 -t jobs/s/j/annotation -m '{"label":""}'
sleep 0.3
jw_assert_eq "new type accepted after reload" 1 "$(python3 "$(dirname "$0")/msgs.py" "$JW_TMP/all.out" --count jobs/s/j/annotation)"
notice=$(python3 "$(dirname "$0")/msgs.py" "$JW_TMP/all.out" | awk -F'\t' '$1=="$jobwire/rejections/r3"{print $2}')
jw_assert_eq "new schema enforced" /label "$(jw_json_field field <<<"$notice")"

# A broken file: the whole new set is refused, the old one stays.
echo '{"type": "object", "dependencies": {}}' >"$schemas/broken.json"
chmod a+r "$schemas/broken.json"
kill -HUP "$JW_PID"
jw_check "broken reload logged with file and keyword" bash -c "for i in \$(seq 50); do grep -q 'broken.json.*dependencies' '$JW_LOG' && exit 0; sleep 0.1; done; exit 1"
jw_check "log says the old set is kept" grep -q 'reload failed; keeping the 10 schemas' "$JW_LOG"
jw_pub -q 1 -i r4 -t jobs/s/j/annotation -m '{"label":"still works"}'
jw_pub -q 1 -i r5 -t jobs/s/j/broken -m '{}'
sleep 0.3
jw_assert_eq "old set still in force after a failed reload" 2 "$(python3 "$(dirname "$0")/msgs.py" "$JW_TMP/all.out" --count jobs/s/j/annotation)"
notice=$(python3 "$(dirname "$0")/msgs.py" "$JW_TMP/all.out" | awk -F'\t' '$1=="$jobwire/rejections/r5"{print $2}')
jw_assert_eq "type from the broken file not loaded" unknown_event_type "$(jw_json_field reason <<<"$notice")"
jw_check "broker still running" kill -0 "$JW_PID"
jw_done
