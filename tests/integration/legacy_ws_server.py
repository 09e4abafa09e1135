#!/usr/bin/env python3
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""A small legacy progress WebSocket server for the bridge test, standard
library only: the n-th connection gets the messages of the n-th batch file
(one message per line), then the server closes it, except after the last
batch, where it keeps the connection open until the client leaves.

  legacy_ws_server.py PORTFILE LOGFILE BATCH1 [BATCH2 ...]

Listens on $LEGACY_WS_PORT (default: any free port) and pauses
$LEGACY_WS_DELAY seconds (default 0.02) between messages. Writes the port it listens on to PORTFILE and one line per connection
("connection N path P") to LOGFILE.
"""
import base64
import os
import hashlib
import socket
import struct
import sys
import threading
import time

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def frame(opcode, data):
    n = len(data)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return head + data


def serve(conn, index, batches, log):
    req = b""
    while b"\r\n\r\n" not in req:
        chunk = conn.recv(4096)
        if not chunk:
            return
        req += chunk
    lines = req.decode("latin-1").split("\r\n")
    path = lines[0].split(" ")[1]
    key = ""
    for line in lines[1:]:
        if line.lower().startswith("sec-websocket-key:"):
            key = line.split(":", 1)[1].strip()
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n" % accept).encode())
    with open(log, "a") as f:
        f.write("connection %d path %s\n" % (index + 1, path))
    if index < len(batches):
        with open(batches[index], "rb") as f:
            for raw in f:
                raw = raw.rstrip(b"\n")
                if raw:
                    conn.sendall(frame(1, raw))
                    time.sleep(float(os.environ.get("LEGACY_WS_DELAY", "0.02")))
    if index < len(batches) - 1:
        conn.sendall(frame(8, struct.pack("!H", 1001)))
        time.sleep(0.2)
        conn.close()
        return
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass
    conn.close()


def main():
    portfile, log, batches = sys.argv[1], sys.argv[2], sys.argv[3:]
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(os.environ.get("LEGACY_WS_PORT", "0"))))
    s.listen(8)
    with open(portfile + ".tmp", "w") as f:
        f.write(str(s.getsockname()[1]))
    os.rename(portfile + ".tmp", portfile)
    index = 0
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, index, batches, log), daemon=True).start()
        index += 1


if __name__ == "__main__":
    main()
