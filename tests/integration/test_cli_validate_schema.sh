#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves `jobwire validate --schema FILE INSTANCE...`: any JSON document
# checked against one schema file (not an event type), with the schema's
# message, field and keyword for each failure, located syntax errors, a
# schema that does not compile refused with the compiler's message, and
# the exit status telling valid from invalid from unusable input.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

if [ "$JW_MOSQUITTO" != mosquitto ]; then
	echo "SKIP: no broker involved; runs once, in the normal run"
	exit 77
fi

d=$JW_TMP/schema
mkdir -p "$d"
cat >"$d/person.json" <<'JSON'
{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "x-owner": "ops",
  "type": "object",
  "properties": {
    "email": {"type": "string", "format": "email"},
    "born": {"type": "string", "format": "date"},
    "age": {"type": "integer", "minimum": 0}
  },
  "required": ["email"]
}
JSON
echo '{"email": "ada@example.com", "born": "1815-12-10", "age": 36}' >"$d/ada.json"
echo '{"email": "ada@@example.com"}' >"$d/bad_email.json"
echo '{"email": "a@example.com", "born": "1815-02-29"}' >"$d/bad_date.json"
echo '{"age": 3}' >"$d/missing.json"
printf '{"email": "a@example.com",\n}' >"$d/syntax.json"

jw_capture "$JW_CLI" validate --schema "$d/person.json" "$d/ada.json"
jw_assert_eq "valid instance: exit 0" 0 "$JW_RC"
jw_assert_eq "valid instance: ok line" "$d/ada.json: ok" "$JW_OUT"

jw_capture "$JW_CLI" validate --schema "$d/person.json" "$d/ada.json" "$d/bad_email.json" \
	"$d/bad_date.json" "$d/missing.json" "$d/syntax.json"
jw_assert_eq "some invalid: exit 1" 1 "$JW_RC"
jw_assert_contains "format email named" \
	"bad_email.json: schema_violation: /email: format \"email\", got \"ada@@example.com\" (field /email, keyword format)" "$JW_OUT"
jw_assert_contains "format date named" "bad_date.json: schema_violation: /born: format \"date\"" "$JW_OUT"
jw_assert_contains "required: the missing member named" "missing.json: schema_violation: /email: required property \"email\" missing (field /email, keyword required)" "$JW_OUT"
jw_assert_contains "syntax error located" "syntax.json:1:26: invalid_json: trailing comma" "$JW_OUT"

jw_capture sh -c "echo '[1]' | '$JW_CLI' validate -q --schema '$d/person.json' -"
jw_assert_contains "stdin" "<stdin>: schema_violation: /: type \"object\"" "$JW_OUT"
jw_capture "$JW_CLI" validate -q --schema "$d/person.json" "$d/ada.json"
jw_assert_eq "quiet: nothing printed for a valid instance" "" "$JW_OUT"

# A schema that does not compile is a usage error with the compiler's words.
echo '{"type": "object", "propertise": {}}' >"$d/typo.json"
jw_capture "$JW_CLI" validate --schema "$d/typo.json" "$d/ada.json"
jw_assert_eq "typo in the schema: exit 64" 64 "$JW_RC"
jw_assert_contains "typo named" "typo.json: unsupported keyword \"propertise\" at /" "$JW_ERR"
jw_capture "$JW_CLI" validate --schema "$d/person.json"
jw_assert_eq "no instance: exit 64" 64 "$JW_RC"
jw_capture "$JW_CLI" validate --schema "$d/person.json" "$d/nowhere.json"
jw_assert_eq "unreadable instance: exit 64" 64 "$JW_RC"
jw_capture "$JW_CLI" validate --schema "$d/person.json" -j j1 "$d/ada.json"
jw_assert_eq "event options refused with --schema" 64 "$JW_RC"

jw_done
