#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves that `jobwire asyncapi` writes an AsyncAPI 3.0 document the
# AsyncAPI parser (@asyncapi/parser from npm, pinned in tests/asyncapi/)
# accepts without errors or warnings, with a channel and resolved payload
# for every event type, the broker's QoS and retain, both servers and the
# JWT scheme; that an event type added to a schema directory appears when
# the document is written again; and that a broken schema directory is
# refused without touching the output file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

if [ "$JW_MOSQUITTO" != mosquitto ]; then
	echo "SKIP: no broker involved; runs once, in the normal run"
	exit 77
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	echo "SKIP: node and npm are needed for the AsyncAPI parser"
	exit 77
fi
tools=$JW_SOURCE_DIR/tests/asyncapi
# npm ci from the lock when node_modules is missing or older than the lock.
if [ ! -d "$tools/node_modules/@asyncapi/parser" ] ||
	! cmp -s "$tools/package-lock.json" "$tools/node_modules/.package-lock.json.installed"; then
	if ! (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
		jw_fail "npm ci in tests/asyncapi"
		jw_done
	fi
	cp "$tools/package-lock.json" "$tools/node_modules/.package-lock.json.installed"
fi
validate() { # doc types...
	NODE_PATH=$tools/node_modules node "$tools/validate.js" "$@"
}
types() { # schema dir: the event types, as the broker names them
	find "$1" -maxdepth 1 -name '*.json' -printf '%f\n' | sed 's/\.json$//' | sort
}

doc=$JW_TMP/asyncapi.json
jw_capture "$JW_CLI" asyncapi --schemas "$JW_SCHEMAS" -o "$doc"
jw_assert_eq "jobwire asyncapi writes the document" 0 "$JW_RC"
# shellcheck disable=SC2046 # one argument per type
if out=$(validate "$doc" $(types "$JW_SCHEMAS") 2>&1); then
	jw_pass "the AsyncAPI parser accepts it: $(tail -1 <<<"$out")"
else
	jw_fail "the AsyncAPI parser: $out"
fi
jw_capture "$JW_CLI" asyncapi --schemas "$JW_SCHEMAS"
jw_assert_eq "without -o it writes the same to stdout" "$(cat "$doc")" "$JW_OUT"

# An operator adds an event type (docs/schemas.md's example) and writes
# the document again from the broker's directory.
custom=$JW_TMP/schemas
cp -r "$JW_SCHEMAS" "$custom"
python3 - "$custom" <<'PY'
import json, sys
base = json.load(open(sys.argv[1] + "/progress.json"))
log = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://jobwire.dev/schemas/log.json",
    "title": "log",
    "description": "One line of the worker's log, for a live console.",
    "type": "object",
    "properties": {
        "type": {"const": "log"},
        "job_id": {"$ref": "#/$defs/id"},
        "session_id": {"$ref": "#/$defs/id"},
        "ts": {"$ref": "#/$defs/timestamp"},
        "level": {"enum": ["debug", "info", "warning", "error"]},
        "line": {"type": "string", "maxLength": 4000},
    },
    "required": ["line"],
    "additionalProperties": False,
    "$defs": {k: base["$defs"][k] for k in ("id", "timestamp")},
}
json.dump(log, open(sys.argv[1] + "/log.json", "w"), indent=2)
PY
jw_capture "$JW_CLI" asyncapi --schemas "$custom" -o "$doc"
jw_assert_eq "it writes the document for the extended directory" 0 "$JW_RC"
# shellcheck disable=SC2046
if out=$(validate "$doc" $(types "$custom") 2>&1); then
	jw_pass "the added type has its channel and payload, and the parser accepts the document"
else
	jw_fail "with an added type: $out"
fi
jw_check "the log channel's address" grep -Eq '"address": ?"jobs/\{session\}/\{job\}/log"' "$doc"

# A schema that does not compile: refused like the broker refuses it, and
# the existing document is left as it was.
before=$(md5sum <"$doc")
printf '{"type": "object", "properties": {"x": {"type": "strnig"}}}' >"$custom/broken.json"
jw_capture "$JW_CLI" asyncapi --schemas "$custom" -o "$doc"
jw_assert_eq "a schema that does not compile: exit 64" 64 "$JW_RC"
jw_assert_contains "and the error names the file" "broken.json" "$JW_ERR"
jw_assert_eq "the existing document is untouched" "$before" "$(md5sum <"$doc")"
jw_capture "$JW_CLI" asyncapi --tcp nohost
jw_assert_eq "--tcp without a port: exit 64" 64 "$JW_RC"
jw_done
