#!/usr/bin/env python3
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""One MQTT connection made by hand, for the will and session cases that
mosquitto_pub/sub cannot be steered through: a will with a will-delay
interval, a second connection taking over a client id, a QoS 2 PUBLISH left
without its PUBREL across a reconnect.

Usage: willconn.py PORT CLIENT_ID [options] ACTION...
  --v5                      MQTT 5 (default 3.1.1)
  --resume                  clean start off; MQTT 5: session expiry 300 s
  --will-topic T --will-payload P [--will-qos N] [--will-retain]
  --will-delay S            MQTT 5 will-delay-interval
  --user U --password P     credentials (JWT: any user, the token)
Actions, in order:
  pub2:TOPIC:PAYLOAD        PUBLISH at QoS 2, wait for PUBREC (no PUBREL)
  pubrel                    send PUBREL for the last pub2, wait for PUBCOMP
  hold                      print "connected", block until the broker closes
                            the connection (or the process is killed)
  drop                      close the socket without DISCONNECT
  disconnect                send DISCONNECT and close
Prints "connected" once CONNACK arrives, "pubrec", "pubcomp" and "closed"
as they happen; exits 2 when the connection is refused."""
import socket
import sys

from mqttwire import field, varint


def connect_packet(cid, v5, resume, will, user, password):
    flags = 0 if resume else 0x02
    if user is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    if will:
        flags |= 0x04 | (will["qos"] << 3) | (0x20 if will["retain"] else 0)
    var = field(b"MQTT") + bytes([5 if v5 else 4, flags]) + (60).to_bytes(2, "big")
    if v5:
        props = b""
        if resume:
            props += bytes([0x11]) + (300).to_bytes(4, "big")
        var += varint(len(props)) + props
    body = var + field(cid.encode())
    if will:
        if v5:
            wprops = b""
            if will["delay"] is not None:
                wprops += bytes([0x18]) + int(will["delay"]).to_bytes(4, "big")
            body += varint(len(wprops)) + wprops
        body += field(will["topic"].encode()) + field(will["payload"].encode())
    if user is not None:
        body += field(user.encode())
    if password is not None:
        body += field(password.encode())
    return bytes([0x10]) + varint(len(body)) + body


def read_packet(s):
    def byte():
        b = s.recv(1)
        if not b:
            raise ConnectionError("closed")
        return b[0]
    t = byte()
    n, mult = 0, 1
    while True:
        b = byte()
        n += (b & 0x7F) * mult
        mult *= 128
        if not b & 0x80:
            break
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return t & 0xF0, data


def wait_for(s, kind):
    while True:
        t, data = read_packet(s)
        if t == kind:
            return data


def main():
    args = sys.argv[1:]
    port, cid = int(args[0]), args[1]
    args = args[2:]
    v5 = resume = False
    will = None
    user = password = None
    actions = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--v5":
            v5 = True
        elif a == "--resume":
            resume = True
        elif a == "--user":
            i += 1
            user = args[i]
        elif a == "--password":
            i += 1
            password = args[i]
        elif a.startswith("--will-"):
            will = will or {"topic": "", "payload": "", "qos": 0, "retain": False, "delay": None}
            key = a[len("--will-"):]
            if key == "retain":
                will["retain"] = True
            else:
                i += 1
                will[key] = int(args[i]) if key in ("qos", "delay") else args[i]
        else:
            actions.append(a)
        i += 1
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(connect_packet(cid, v5, resume, will, user, password))
    t, data = read_packet(s)
    if t != 0x20 or data[1] != 0:
        print("refused", flush=True)
        sys.exit(2)
    print("connected", flush=True)
    pid = 1
    try:
        for a in actions:
            if a.startswith("pub2:"):
                _, topic, payload = a.split(":", 2)
                body = field(topic.encode()) + pid.to_bytes(2, "big")
                if v5:
                    body += varint(0)
                body += payload.encode()
                s.sendall(bytes([0x34]) + varint(len(body)) + body)
                wait_for(s, 0x50)
                print("pubrec", flush=True)
            elif a == "pubrel":
                body = pid.to_bytes(2, "big")
                s.sendall(bytes([0x62]) + varint(len(body)) + body)
                wait_for(s, 0x70)
                print("pubcomp", flush=True)
            elif a == "hold":
                s.settimeout(None)
                while True:
                    read_packet(s)
            elif a == "drop":
                s.close()
                return
            elif a == "disconnect":
                s.sendall(bytes([0xE0, 0]))
                s.close()
                return
    except (ConnectionError, OSError):
        print("closed", flush=True)


if __name__ == "__main__":
    main()
