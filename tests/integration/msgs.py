#!/usr/bin/env python3
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""Reads a jw_sub output file (topic, qos, retain, correlation data, hex
payload per line) and prints the messages, probe messages left out. A last
line the subscriber has not finished writing is left out too.

  msgs.py FILE                 one line per message: topic<TAB>payload
  msgs.py FILE --json          a JSON list of {topic,qos,retain,corr,payload}
  msgs.py FILE --count [TOPIC] number of messages (on TOPIC if given)
"""
import json
import sys


def read(path):
    out = []
    with open(path, "rb") as f:
        for raw in f:
            # A last line without its newline is still being written (the
            # subscriber writes a long line in more than one piece): it is
            # read next time, whole.
            if not raw.endswith(b"\n"):
                break
            parts = raw[:-1].split(b"\t")
            if len(parts) < 5 or parts[0].startswith(b"jwprobe/"):
                continue
            out.append({
                "topic": parts[0].decode("utf-8", "replace"),
                "qos": int(parts[1] or 0),
                "retain": parts[2] == b"1",
                "corr": parts[3].decode("utf-8", "replace"),
                "payload": bytes.fromhex(parts[4].decode()).decode("utf-8", "surrogateescape"),
            })
    return out


def main():
    msgs = read(sys.argv[1])
    args = sys.argv[2:]
    if args[:1] == ["--json"]:
        print(json.dumps(msgs, ensure_ascii=False))
    elif args[:1] == ["--count"]:
        topic = args[1] if len(args) > 1 else None
        print(sum(1 for m in msgs if topic is None or m["topic"] == topic))
    else:
        for m in msgs:
            print(m["topic"] + "\t" + m["payload"])


if __name__ == "__main__":
    main()
