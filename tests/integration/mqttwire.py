# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""MQTT wire-format pieces shared by the raw-socket test clients
(rawmqtt.py, qos1pub.py): they speak the protocol by hand so that tests can
send what ordinary clients refuse to, or watch every acknowledgement."""


def varint(n):
    """MQTT variable byte integer (remaining length, property lengths)."""
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(b):
    """A length-prefixed string or binary field."""
    return len(b).to_bytes(2, "big") + b
