#!/usr/bin/env python3
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""Publishes terminal events with QoS 1 over MQTT 5 and records, for each,
the broker's PUBACK: job ids acknowledged with success go to ACKED (one per
line, flushed at once, so the file survives this process being cut off),
refused ones ("job reason-code") to REFUSED. Keeps at most WINDOW
publishes in flight. Stops quietly when the broker goes away.
Usage: qos1pub.py PORT SESSION FIRST COUNT ACKED REFUSED [RATE_PER_S] [WINDOW]
Job ids are job-FIRST .. job-(FIRST+COUNT-1)."""
import socket
import sys
import time

from mqttwire import field, varint


class Conn:
    def __init__(self, port, cid):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""
        var = field(b"MQTT") + bytes([5, 0x02]) + (60).to_bytes(2, "big") + varint(0)
        body = var + field(cid.encode())
        self.s.sendall(bytes([0x10]) + varint(len(body)) + body)
        t, payload = self.packet()
        if t != 0x20 or payload[1] != 0:
            raise SystemExit("connect refused")

    def packet(self):
        while True:
            if len(self.buf) >= 2:
                mult, n, i = 1, 0, 1
                while i < len(self.buf):
                    b = self.buf[i]
                    n += (b & 0x7F) * mult
                    mult *= 128
                    i += 1
                    if not b & 0x80:
                        break
                else:
                    i = None
                if i is not None and len(self.buf) >= i + n:
                    t = self.buf[0] & 0xF0
                    payload = self.buf[i:i + n]
                    self.buf = self.buf[i + n:]
                    return t, payload
            data = self.s.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buf += data

    def publish(self, topic, payload, pid):
        body = field(topic.encode()) + pid.to_bytes(2, "big") + varint(0) + payload
        self.s.sendall(bytes([0x32]) + varint(len(body)) + body)


def main():
    port, session, first, count, acked_path, refused_path = sys.argv[1:7]
    rate = float(sys.argv[7]) if len(sys.argv) > 7 else 0
    window = int(sys.argv[8]) if len(sys.argv) > 8 else 50
    first, count = int(first), int(count)
    acked = open(acked_path, "a", buffering=1)
    refused = open(refused_path, "a", buffering=1)
    c = Conn(int(port), "qos1pub-%s-%d" % (session, first))
    inflight = {}
    next_pid = 1
    start = time.monotonic()
    i = 0
    try:
        while i < count or inflight:
            while i < count and len(inflight) < window:
                if rate and i > rate * (time.monotonic() - start):
                    break
                job = "job-%d" % (first + i)
                pid = next_pid
                next_pid = next_pid % 65535 + 1
                inflight[pid] = job
                c.publish("jobs/%s/%s/complete" % (session, job),
                          b'{"result":{"n":%d}}' % (first + i), pid)
                i += 1
            if not inflight:
                time.sleep(0.001)
                continue
            c.s.settimeout(0.05 if i < count else 10)
            try:
                t, p = c.packet()
            except socket.timeout:
                continue
            if t == 0x40:
                pid = int.from_bytes(p[0:2], "big")
                rc = p[2] if len(p) > 2 else 0
                job = inflight.pop(pid, None)
                if job is None:
                    continue
                if rc < 0x80:
                    acked.write(job + "\n")
                else:
                    refused.write("%s %d\n" % (job, rc))
    except (ConnectionError, OSError):
        pass


if __name__ == "__main__":
    main()
