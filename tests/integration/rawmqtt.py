#!/usr/bin/env python3
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""Sends one MQTT 3.1.1 PUBLISH with an arbitrary (possibly illegal) topic
byte string, for protocol violations mosquitto_pub refuses to produce.
Prints "closed" when the broker dropped the connection, "open" otherwise.
Usage: rawmqtt.py PORT CLIENT_ID TOPIC_HEX PAYLOAD_FILE"""
import socket
import sys

from mqttwire import field, varint


def main():
    port, cid, topic_hex, payload_file = sys.argv[1:5]
    topic = bytes.fromhex(topic_hex)
    payload = open(payload_file, "rb").read()
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    var = field(b"MQTT") + bytes([4, 0x02]) + (30).to_bytes(2, "big")
    body = var + field(cid.encode())
    s.sendall(bytes([0x10]) + varint(len(body)) + body)
    connack = s.recv(4)
    if len(connack) != 4 or connack[0] != 0x20 or connack[3] != 0:
        print("connect refused")
        return
    body = field(topic) + payload
    s.sendall(bytes([0x30]) + varint(len(body)) + body)
    s.settimeout(2)
    try:
        data = s.recv(1)
        print("closed" if data == b"" else "open")
    except socket.timeout:
        print("open")
    except ConnectionResetError:
        print("closed")


if __name__ == "__main__":
    main()
