#!/usr/bin/env python3
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""Writes the hostile corpus: payloads and topics that must be refused with
a specific reason (or, for raw protocol violations, refused by the broker
itself without harming anyone else). Usage: hostile_corpus.py OUTDIR
Writes OUTDIR/<n>.bin payload files and OUTDIR/index.tsv with columns
name, mode (pub | raw | accept), topic, file, reason, field."""
import os
import sys

T = "jobs/hostile/j1/"
CASES = []


def case(name, payload, reason, field="", topic=T + "progress", mode="pub"):
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    CASES.append((name, mode, topic, payload, reason, field))


# Not JSON at all, or broken JSON.
case("empty payload", b"", "empty_payload")
case("plain text", "not json", "invalid_json")
case("lone brace", "{", "invalid_json")
case("truncated object", '{"progress": 5', "invalid_json")
case("truncated string", '{"message": "abc', "invalid_json")
case("trailing comma", '{"progress": 5,}', "invalid_json")
case("single quotes", "{'progress': 5}", "invalid_json")
case("unquoted key", "{progress: 5}", "invalid_json")
case("comment", '{"progress": 5 /* c */}', "invalid_json")
case("NaN", '{"progress": NaN}', "invalid_json")
case("Infinity", '{"progress": Infinity}', "invalid_json")
case("-Infinity", '{"progress": -Infinity}', "invalid_json")
case("hex number", '{"progress": 0x10}', "invalid_json")
case("leading zero", '{"progress": 05}', "invalid_json")
case("leading plus", '{"progress": +5}', "invalid_json")
case("trailing garbage", '{"progress": 5} x', "invalid_json")
case("two documents", '{"progress": 5}{"progress": 6}', "invalid_json")
case("byte order mark", b'\xef\xbb\xbf{"progress": 5}', "invalid_json")
case("NUL outside strings", b'{"progress": 5}\x00', "invalid_json")
case("raw control char in string", b'{"progress": 5, "message": "a\x01b"}', "invalid_json")
case("lone surrogate escape", '{"progress": 5, "message": "\\ud800"}', "invalid_json")
case("bad escape", '{"progress": 5, "message": "\\x41"}', "invalid_json")
# Numbers out of range.
case("1e999", '{"progress": 1e999}', "number_out_of_range")
case("-1e999", '{"progress": -1e999}', "number_out_of_range")
case("huge integer", '{"progress": 123456789012345678901234567890}', "schema_violation", "/progress")
# Not an object.
case("array", '[{"progress": 5}]', "not_an_object")
case("string", '"progress"', "not_an_object")
case("number", "42", "not_an_object")
case("null", "null", "not_an_object")
case("true", "true", "not_an_object")
# Invalid UTF-8.
case("invalid byte ff", b'{"progress": 5, "message": "\xff"}', "invalid_utf8")
case("overlong slash", b'{"progress": 5, "message": "\xc0\xaf"}', "invalid_utf8")
case("UTF-8 encoded surrogate", b'{"progress": 5, "message": "\xed\xa0\x80"}', "invalid_utf8")
case("truncated sequence", b'{"progress": 5, "message": "\xe2\x82"}', "invalid_utf8")
case("above U+10FFFF", b'{"progress": 5, "message": "\xf4\x90\x80\x80"}', "invalid_utf8")
case("stray continuation", b'{"progress": 5, "message": "\x80"}', "invalid_utf8")
case("invalid UTF-8 in key", b'{"progress": 5, "\xfe": 1}', "invalid_utf8")
# Duplicate keys and depth.
case("duplicate key", '{"progress": 5, "progress": 6}', "duplicate_key")
case("escaped duplicate key", '{"progress": 5, "\\u0070rogress": 6}', "duplicate_key")
case("nested duplicate key", '{"metadata": {"a": 1, "a": 2}}', "duplicate_key", topic=T + "started")
case("33 levels of nesting", '{"metadata": ' + '{"a": ' * 32 + "1" + "}" * 32 + "}", "too_deep",
     topic=T + "started")
case("60000 open brackets", "[" * 60000, "too_deep")
case("12000 nested objects", '{"a":' * 12000, "too_deep")
# Size.
pad = 65536 - len('{"metadata": {"blob": ""}}')
case("payload at the 64 KiB limit", '{"metadata": {"blob": "' + "x" * pad + '"}}', "", topic=T + "started",
     mode="accept")
case("payload one byte over 64 KiB", '{"metadata": {"blob": "' + "x" * (pad + 1) + '"}}',
     "payload_too_large", topic=T + "started")
case("1 MiB payload", "[" + "1," * 524287 + "1]", "payload_too_large")
# Wrong types and values.
case("progress as string", '{"progress": "50"}', "schema_violation", "/progress")
case("progress as boolean", '{"progress": true}', "schema_violation", "/progress")
case("progress below 0", '{"progress": -1}', "schema_violation", "/progress")
case("progress above 100", '{"progress": 140}', "schema_violation", "/progress")
case("message as number", '{"progress": 50, "message": 123}', "schema_violation", "/message")
case("unknown property", '{"progress": 50, "extra": 1}', "schema_violation", "/extra")
case("failed without error", "{}", "schema_violation", "/error", topic=T + "failed")
case("confidence 1.5", '{"reason": "low focus", "confidence": 1.5}', "schema_violation", "/confidence",
     topic=T + "validation-required")
case("cpu 150 percent", '{"system": {"cpu_percent": 150}}', "schema_violation", "/system/cpu_percent",
     topic=T + "heartbeat")
case("unknown control action", '{"action": "explode"}', "schema_violation", "/action", topic=T + "control")
case("ts not a date", '{"progress": 1, "ts": "yesterday"}', "schema_violation", "/ts")
case("ts 30 February", '{"progress": 1, "ts": "2026-02-30T00:00:00Z"}', "schema_violation", "/ts")
# Topic and payload disagree.
case("type of another event", '{"type": "complete", "progress": 5}', "topic_mismatch", "/type")
case("type not a string", '{"type": 5, "progress": 5}', "topic_mismatch", "/type")
case("job_id mismatch", '{"job_id": "other", "progress": 5}', "topic_mismatch", "/job_id")
case("session_id mismatch", '{"session_id": "other", "progress": 5}', "topic_mismatch", "/session_id")
case("current above total", '{"current": 11, "total": 10}', "rule_violation", "/current")
case("job_id with NUL", '{"job_id": "j1\\u0000", "progress": 5}', "topic_mismatch", "/job_id")
# Topics.
ok = '{"progress": 5}'
case("unknown event type", ok, "unknown_event_type", topic=T + "nosuchtype")
case("three levels", ok, "invalid_topic", topic="jobs/hostile/j1")
case("five levels", ok, "invalid_topic", topic=T + "progress/extra")
case("empty session", ok, "invalid_topic", topic="jobs//j1/progress")
case("empty event", ok, "invalid_topic", topic=T)
case("dollar in session", ok, "invalid_topic", topic="jobs/ho$tile/j1/progress")
case("space in job", ok, "invalid_topic", topic="jobs/hostile/j 1/progress")
case("non-ASCII job", ok, "invalid_topic", topic="jobs/hostile/j\u00e9/progress")
case("129-character session", ok, "invalid_topic", topic="jobs/" + "s" * 129 + "/j1/progress")
case("upper-case event", ok, "invalid_topic", topic=T + "Progress")
case("state is broker-only", '{"session_id": "hostile", "job_id": "j1", "status": "complete", "seq": 1, '
     '"updated_at": "2026-01-01T00:00:00Z"}', "protected_topic", topic=T + "state")
case("rejection topic is broker-only", ok, "protected_topic", topic="$jobwire/rejections/victim")
# Protocol violations mosquitto_pub cannot send: the broker drops the
# offending connection itself; nobody else may notice.
case("plus in topic", ok, "", topic="jobs/ho+tile/j1/progress", mode="raw")
case("hash in topic", ok, "", topic="jobs/hostile/#/progress", mode="raw")
case("NUL in topic", ok, "", topic="jobs/hostile/j\x001/progress", mode="raw")
case("invalid UTF-8 in topic", ok, "", topic="jobs/hostile/j\udcff/progress", mode="raw")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "index.tsv"), "w", encoding="utf-8", errors="surrogateescape") as idx:
        for n, (name, mode, topic, payload, reason, field) in enumerate(CASES, 1):
            path = os.path.join(out, "%d.bin" % n)
            with open(path, "wb") as f:
                f.write(payload)
            topic_hex = topic.encode("utf-8", "surrogateescape").hex()
            idx.write("\t".join([name, mode, topic_hex, path, reason, field]) + "\n")


if __name__ == "__main__":
    main()
