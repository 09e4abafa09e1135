#!/usr/bin/env python3
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""A one-connection MQTT 5 client spoken by hand, for tests that need what
mosquitto_pub and mosquitto_sub cannot do on one connection: subscribe,
then publish with any response topic (wildcards included), and report
every acknowledgement and message as JSON lines on stdout:

  {"connack": 0}                      reason code of CONNACK
  {"suback": [0]}                     reason codes of SUBACK
  {"puback": 135}                     reason code of PUBACK (QoS 1)
  {"message": {"topic": ..., "payload": ..., "correlation": ...}}
  {"closed": true}                    the broker closed the connection

Usage: mqtt5client.py PORT CLIENT_ID [--password TOKEN] [--sub FILTER]...
         [--pub TOPIC --payload TEXT [--response-topic T]
          [--correlation C]] [--wait SECONDS] [--until-messages N] [--until-puback]
"""
import argparse
import json
import socket
import sys
import time

from mqttwire import field, varint


def read_varint(buf, i):
    mult, value = 1, 0
    while True:
        b = buf[i]
        i += 1
        value += (b & 0x7F) * mult
        if not b & 0x80:
            return value, i
        mult *= 128


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def send(self, first, body):
        self.s.sendall(bytes([first]) + varint(len(body)) + body)

    def packet(self, deadline):
        """The next (type byte, body), or None at the deadline or close."""
        while True:
            if len(self.buf) >= 2:
                try:
                    n, i = read_varint(self.buf, 1)
                except IndexError:
                    n, i = None, None
                if n is not None and len(self.buf) >= i + n:
                    first, body = self.buf[0], self.buf[i:i + n]
                    self.buf = self.buf[i + n:]
                    return first, body
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                return None
            except ConnectionResetError:
                data = b""
            if not data:
                raise EOFError
            self.buf += data


def props(pairs):
    body = b"".join(pairs)
    return varint(len(body)) + body


def parse_props(body, i):
    n, i = read_varint(body, i)
    end = i + n
    out = {}
    while i < end:
        pid = body[i]
        i += 1
        if pid in (0x08, 0x09, 0x1F, 0x03, 0x12, 0x1A, 0x1C, 0x15, 0x16):
            ln = int.from_bytes(body[i:i + 2], "big")
            out[pid] = body[i + 2:i + 2 + ln]
            i += 2 + ln
        elif pid == 0x26:
            for _ in range(2):
                ln = int.from_bytes(body[i:i + 2], "big")
                i += 2 + ln
        elif pid in (0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A):
            i += 1
        elif pid in (0x13, 0x21, 0x22, 0x23):
            i += 2
        elif pid in (0x02, 0x11, 0x18, 0x27):
            i += 4
        elif pid == 0x0B:
            _, i = read_varint(body, i)
        else:
            raise ValueError("unknown property 0x%02x" % pid)
    return out, end


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("client_id")
    ap.add_argument("--password")
    ap.add_argument("--sub", action="append", default=[])
    ap.add_argument("--pub")
    ap.add_argument("--payload", default="")
    ap.add_argument("--response-topic")
    ap.add_argument("--correlation")
    ap.add_argument("--wait", type=float, default=2.0)
    ap.add_argument("--until-messages", type=int, default=0)
    ap.add_argument("--until-puback", action="store_true")
    a = ap.parse_args()

    c = Conn(a.port)
    flags = 0x02
    payload = field(a.client_id.encode())
    if a.password:
        flags |= 0x80 | 0x40
        payload += field(b"test") + field(a.password.encode())
    c.send(0x10, field(b"MQTT") + bytes([5, flags]) + (30).to_bytes(2, "big") + props([]) + payload)
    deadline = time.monotonic() + 5
    try:
        p = c.packet(deadline)
    except EOFError:
        emit({"closed": True})
        return
    if not p or p[0] != 0x20:
        emit({"error": "no CONNACK"})
        return
    emit({"connack": p[1][1]})
    if p[1][1] != 0:
        return

    mid = 1
    if a.sub:
        body = mid.to_bytes(2, "big") + props([])
        for f in a.sub:
            body += field(f.encode()) + bytes([1])
        c.send(0x82, body)
        mid += 1
        try:
            while True:
                p = c.packet(time.monotonic() + 5)
                if p is None:
                    emit({"error": "no SUBACK"})
                    return
                if p[0] == 0x90:
                    _, i = parse_props(p[1], 2)
                    emit({"suback": list(p[1][i:])})
                    break
        except EOFError:
            emit({"closed": True})
            return

    if a.pub:
        pp = []
        if a.response_topic is not None:
            pp.append(b"\x08" + field(a.response_topic.encode()))
        if a.correlation is not None:
            pp.append(b"\x09" + field(a.correlation.encode()))
        c.send(0x32, field(a.pub.encode()) + mid.to_bytes(2, "big") + props(pp) + a.payload.encode())

    messages = 0
    deadline = time.monotonic() + a.wait
    try:
        while True:
            p = c.packet(deadline)
            if p is None:
                break
            first, body = p
            kind = first >> 4
            if kind == 4:
                emit({"puback": body[2] if len(body) > 2 else 0})
                if a.until_puback:
                    break
            elif kind == 3:
                qos = (first >> 1) & 3
                tlen = int.from_bytes(body[0:2], "big")
                topic = body[2:2 + tlen]
                i = 2 + tlen
                if qos:
                    pid = body[i:i + 2]
                    i += 2
                    c.send(0x40, pid)
                pr, i = parse_props(body, i)
                emit({"message": {
                    "topic": topic.decode("utf-8", "replace"),
                    "payload": body[i:].decode("utf-8", "replace"),
                    "correlation": pr.get(0x09, b"").decode("utf-8", "replace") if 0x09 in pr else None,
                }})
                messages += 1
                if a.until_messages and messages >= a.until_messages:
                    break
            elif kind == 14:
                emit({"closed": True})
                return
    except EOFError:
        emit({"closed": True})
        return
    c.send(0xE0, b"\x00")


if __name__ == "__main__":
    try:
        main()
    except (OSError, ValueError) as e:
        emit({"error": str(e)})
        sys.exit(1)
