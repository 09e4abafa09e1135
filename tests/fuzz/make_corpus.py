#!/usr/bin/env python3
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""Regenerates the committed seed corpus of the fuzz targets.

    python3 tests/fuzz/make_corpus.py [BUILD_DIR]

Text seeds come from the repository (schemas/examples payloads, the
schemas, the vendored JSON-Schema-Test-Suite) and a few written here;
tokens are signed with the fuzz target's fixed HS256 secret; the on-disk
seeds (job logs, spooled records, spool segments, checkpoints) are
written by jobwire's own writers through the make_seeds program, built in BUILD_DIR (default
build). The corpus folders are emptied first; regressions/ is not touched.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
EXAMPLES = os.path.join(ROOT, "schemas", "examples")
SUITE = os.path.join(ROOT, "tests", "conformance", "json-schema-test-suite", "tests", "draft2020-12")
TARGETS = ["json", "schema", "validate", "event", "topic", "jwt", "kvlog", "spool", "checkpoint"]

# fuzz_jwt.c's SECRET and NOW.
SECRET = b"jobwire-fuzz-hs256-secret-0123456789abcdef"
NOW = 1800000000


def put(target, name, data):
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def example_payloads():
    """(type, valid?, name, bytes) of every schemas/examples payload."""
    out = []
    for typ in sorted(os.listdir(EXAMPLES)):
        for kind in ("valid", "invalid"):
            d = os.path.join(EXAMPLES, typ, kind)
            if not os.path.isdir(d):
                continue
            for name in sorted(os.listdir(d)):
                with open(os.path.join(d, name), "rb") as f:
                    out.append((typ, kind == "valid", name[:-5] if name.endswith(".json") else name, f.read()))
    return out


def json_seeds(examples):
    for typ, valid, name, data in examples:
        put("json", "%s-%s-%s" % (typ, "ok" if valid else "bad", name), data)
    for name in sorted(os.listdir(os.path.join(ROOT, "schemas"))):
        if name.endswith(".json"):
            with open(os.path.join(ROOT, "schemas", name), "rb") as f:
                put("json", "schema-" + name[:-5], f.read())
    edge = {
        "numbers": b"[0,-0,1e308,-1e-308,9223372036854775807,-9223372036854775808,9223372036854775808,1.5E+3,0.1]",
        "escapes": b'"\\u0000\\ud83d\\ude00\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"',
        "utf8": '"caf\u00e9 \u2603 \U0001f600"'.encode(),
        "lone-surrogate": b'"\\ud800"',
        "deep": b"[" * 33 + b"]" * 33,
        "deep-ok": b"[" * 32 + b"]" * 32,
        "dup-key": b'{"a":1,"b":2,"a":3}',
        "ws": b' \t\r\n{ "a" : [ true , false , null ] } \n',
        "bom": b"\xef\xbb\xbf{}",
        "overlong": b'"\xc0\xaf"',
        "nul-outside": b"{}\x00",
    }
    for name, data in edge.items():
        put("json", "edge-" + name, data)


def schema_seeds():
    """The shipped schemas, and one group of each suite file with an
    instance after a NUL."""
    for name in sorted(os.listdir(os.path.join(ROOT, "schemas"))):
        if name.endswith(".json"):
            with open(os.path.join(ROOT, "schemas", name), "rb") as f:
                put("schema", "shipped-" + name[:-5], f.read())
    for name in sorted(os.listdir(SUITE)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(SUITE, name), "rb") as f:
            groups = json.load(f)
        for i, g in enumerate(groups[:2]):
            data = g["tests"][0]["data"] if g.get("tests") else None
            text = json.dumps(g["schema"], separators=(",", ":"), ensure_ascii=False).encode()
            text += b"\0" + json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
            put("schema", "suite-%s-%d" % (name[:-5], i), text)


def validate_seeds(examples):
    for typ, valid, name, data in examples:
        put("validate", "%s-%s-%s" % (typ, "ok" if valid else "bad", name), data)


def event_seeds(examples):
    for typ, valid, name, data in examples:
        topic = "jobs/demo-session/job-1/%s" % typ
        put("event", "%s-%s-%s" % (typ, "ok" if valid else "bad", name), topic.encode() + b"\0" + data)
    put("event", "state-protected", b'jobs/demo/job-1/state\0{"status":"running"}')
    put("event", "unknown-type", b'jobs/demo/job-1/resumed\0{}')
    put("event", "no-topic", b'{"progress":50,"current":5,"total":10}')
    put("event", "rule-current-over-total", b'jobs/demo/job-1/progress\0{"progress":50,"current":11,"total":10}')


def topic_seeds():
    seeds = {
        "ok": "jobs/demo/job-1/progress",
        "ok-long-ids": "jobs/%s/%s/%s" % ("s" * 128, "j" * 128, "e" * 64),
        "long-session": "jobs/%s/j/progress" % ("s" * 129),
        "long-event": "jobs/s/j/%s" % ("e" * 65),
        "too-few": "jobs/demo/progress",
        "too-many": "jobs/demo/job-1/progress/extra",
        "prefix-only": "jobs",
        "prefix-slash": "jobs/",
        "empty-levels": "jobs///",
        "wildcards": "jobs/+/#/progress",
        "event-upper": "jobs/demo/job-1/Progress",
        "event-first": "jobs/demo/job-1/_progress",
        "utf8": "jobs/d\u00e9mo/job-1/progress",
        "other": "jobsX/demo/job-1/progress",
        "sys": "$jobwire/rejections/worker-1",
        "client-id": "worker/1+#%\x7f\x01",
    }
    for name, t in seeds.items():
        put("topic", name, t)
    put("topic", "prefix-two-levels", b"lab/jobs\0lab/jobs/demo/job-1/progress")
    put("topic", "prefix-empty", b"\0/demo/job-1/progress")


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=")


def hs256(header, claims, secret=SECRET):
    h = b64url(json.dumps(header, separators=(",", ":")).encode())
    c = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64url(hmac.new(secret, h + b"." + c, hashlib.sha256).digest())
    return h + b"." + c + b"." + sig


def jwt_seeds():
    hdr = {"alg": "HS256", "typ": "JWT"}
    exp = NOW + 3600
    raw = {
        "viewer": {"role": "viewer", "sessions": ["demo", "lab.2"], "exp": exp},
        "worker": {"role": "worker", "sessions": ["demo"], "exp": exp, "iat": NOW - 10, "nbf": NOW - 10},
        "admin-star": {"role": "admin", "sessions": "*", "exp": exp},
        "admin-no-sessions": {"role": "admin", "exp": exp},
        "expired": {"role": "worker", "sessions": ["demo"], "exp": NOW - 100},
        "in-leeway": {"role": "worker", "sessions": ["demo"], "exp": NOW - 10},
        "not-yet": {"role": "worker", "sessions": ["demo"], "exp": exp, "nbf": NOW + 600},
        "bad-session": {"role": "worker", "sessions": ["a/b", "+"], "exp": exp},
        "iss-aud": {"role": "viewer", "sessions": ["demo"], "exp": exp, "iss": "https://issuer.example",
                    "aud": ["other", "jobwire"]},
        "exp-float": {"role": "viewer", "sessions": ["demo"], "exp": exp + 0.5},
    }
    for name, claims in raw.items():
        ks = 2 if name == "iss-aud" else 0
        put("jwt", "raw-hs256-" + name, bytes([ks]) + hs256(hdr, claims))
    put("jwt", "raw-wrong-secret", b"\x03" + hs256(hdr, raw["viewer"], secret=b"x" * 40))
    none = b64url(b'{"alg":"none"}') + b"." + b64url(json.dumps(raw["admin-star"]).encode()) + b"."
    put("jwt", "raw-alg-none", b"\x03" + none)
    put("jwt", "raw-rs256-junk-signature", b"\x01" + b64url(b'{"alg":"RS256","typ":"JWT"}') + b"." +
        b64url(json.dumps(raw["worker"]).encode()) + b"." + b64url(b"\x01" * 256))
    put("jwt", "raw-garbage", b"\x00not.a.jwt")
    # Signed by the target: header and claims (mode bits 2-3).
    for name, claims in raw.items():
        text = json.dumps(claims, separators=(",", ":")).encode()
        put("jwt", "sign-hs256-" + name, bytes([0x08 | (2 if name == "iss-aud" else 3)]) + text)
        put("jwt", "sign-rs256-" + name, bytes([0x0C | (2 if name == "iss-aud" else 1)]) + text)
    put("jwt", "sign-header-kid", b"\x0b" + b'{"alg":"HS256","typ":"JWT","kid":"k1"}\n' +
        json.dumps(raw["worker"]).encode())
    put("jwt", "sign-confusion", b"\x1b" + b'{"alg":"HS256"}\n' + json.dumps(raw["admin-star"]).encode())


def kvlog_scripts():
    # Script mode (odd first byte): op byte % 8 (0-2 put, 3 delete,
    # 4 reopen, 5 crash at an offset, 6 flip a byte, 7 crash mid-append).
    put("kvlog", "script-puts", bytes([1, 0, 1, 5, 65, 66, 67, 68, 69, 1, 2, 3, 70, 71, 72, 2, 1, 0]))
    put("kvlog", "script-delete-reopen", bytes([1, 0, 1, 4, 65, 66, 67, 68, 3, 1, 4, 0, 2, 2, 66, 67]))
    put("kvlog", "script-crash", bytes([1, 0, 1, 8] + [97] * 8 + [1, 2, 8] + [98] * 8 + [5, 0, 30, 0, 3, 4, 120]))
    put("kvlog", "script-flip", bytes([1, 0, 1, 8] + [97] * 8 + [1, 2, 8] + [98] * 8 + [6, 0, 40, 7, 0, 4, 2]))
    put("kvlog", "script-long-keys", bytes([1, 0, 248, 3, 120, 121, 122, 1, 255, 1, 65, 3, 250]))
    put("kvlog", "script-big-value", bytes([1, 0, 1, 252] + list(range(64)) + [4, 3, 1]))
    put("kvlog", "empty", b"\x00")


def spool_roundtrips():
    # Mode 1: flags, six 8-byte numbers, NUL-separated text.
    def rec(flags, nums, texts):
        return bytes([1, flags]) + b"".join(struct.pack("<Q", n & (2 ** 64 - 1)) for n in nums) + \
            b"\0".join(t.encode() for t in texts)

    dbl = lambda d: struct.unpack("<Q", struct.pack("<d", d))[0]
    put("spool", "roundtrip-failed", rec(2 | 4 | 8 | 32, [1767322800000, 1767323045678, dbl(245.678), dbl(42.5), 7, 1767323045680],
                                          ["demo", "job-1", "failed", '{"ts":"2026-01-02T03:04:05.678Z","error":"x"}',
                                           '"disk full"', '"enospc"', "", "worker-1", "lab", "broker-a"]))
    put("spool", "roundtrip-complete", rec(2 | 16, [1767322800000, 1767323045678, 0, 0, 3, 1767323045680],
                                            ["demo", "job-1", "complete", '{"result":{"rows":1}}', "", "", '{"rows":1}',
                                             "w\u00e9", "", "node"]))
    put("spool", "roundtrip-event", rec(1 | 128, [0, 0, 0, 0, 12, 1767323045680],
                                         ["demo", "job-2", "progress", '{"progress":5}', "", "", "", "", "u", "n"]))
    put("spool", "record-bad-kind", b'\x00{"k":"x","s":"a","j":"b","t":"c","ev":{},"node":"n"}')
    put("spool", "record-times", b'\x00{"k":"f","s":"a","j":"b","t":"failed","ev":{},"node":"n","st":-1,"fin":0,"dur":1e308}')
    # Mode 3: names in the spool directory.
    names = {
        "segment": "0000000000000007.spool",
        "segment-max": "0999999999999999.spool",
        "out-of-range": "9999999999999999.spool",
        "short": "000000000000007.spool",
        "sign": "-000000000000001.spool",
        "checkpoint": "checkpoint",
        "checkpoint-tmp": "checkpoint.tmp",
        "quarantine": "0000000000000007.spool.at-12.damaged",
        "dot": "..",
    }
    for name, text in names.items():
        put("spool", "name-" + name, b"\x03" + text.encode())


def checkpoint_seeds():
    put("checkpoint", "none-with-segments", b"\0\x30\x31\x12")
    put("checkpoint", "start", b"1 0\n\0\x30\x21")
    put("checkpoint", "mid-segment", b"1 149\n\0\x30\x21")
    put("checkpoint", "caught-up", b"2 0\n\0\x30\x11")
    put("checkpoint", "alone", b"3 0\n")
    put("checkpoint", "garbage", b"x y\n\0\x20")


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    for t in TARGETS:
        d = os.path.join(CORPUS, t)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    examples = example_payloads()
    json_seeds(examples)
    schema_seeds()
    validate_seeds(examples)
    event_seeds(examples)
    topic_seeds()
    jwt_seeds()
    kvlog_scripts()
    spool_roundtrips()
    checkpoint_seeds()
    subprocess.run(["cmake", "-S", ROOT, "-B", build], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", build, "--target", "make_seeds"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([os.path.join(build, "tests", "fuzz", "make_seeds"), CORPUS], check=True)
    for t in TARGETS:
        n = len(os.listdir(os.path.join(CORPUS, t)))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in os.listdir(os.path.join(CORPUS, t)))
        print("%-10s %4d seeds, %6d bytes" % (t, n, size))


if __name__ == "__main__":
    main()
