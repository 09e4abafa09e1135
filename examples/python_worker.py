#!/usr/bin/env python3
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
"""A jobwire worker in Python with Debian's python3-paho-mqtt (1.6).

Processes N items as job SESSION/JOB: started, progress with ETA and item
counts, heartbeats from a timer, complete; honours a cancel on the job's
control topic by publishing failed with code "cancelled". Each event is
sent at QoS 1 and waited for, so the broker has it before the next one.

  /usr/bin/python3 examples/python_worker.py --port 1883 demo job-2
"""
import argparse
import json
import os
import socket
import sys
import threading
import time
from datetime import datetime, timezone

try:
    import paho.mqtt.client as mqtt
except ImportError:
    sys.exit("paho-mqtt is missing: apt-get install python3-paho-mqtt, and run this with "
             "Debian's /usr/bin/python3 (a pyenv or venv python does not see it)")


def now():
    # RFC 3339 with an offset: the schemas refuse naive isoformat() output.
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("session", nargs="?", default="demo")
    ap.add_argument("job", nargs="?", default="python-%d" % int(time.time()))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=1883)
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--delay", type=float, default=0.1, help="seconds per item")
    args = ap.parse_args()

    base = "jobs/%s/%s" % (args.session, args.job)
    cancel = threading.Event()
    cancel_reason = {}

    def on_message(client, userdata, msg):
        try:
            req = json.loads(msg.payload)
        except ValueError:
            return
        if req.get("action") == "cancel":
            cancel_reason.update(req)
            cancel.set()

    client = mqtt.Client(client_id="python-worker-%s" % args.job, protocol=mqtt.MQTTv311)
    client.on_message = on_message
    token = os.environ.get("JOBWIRE_TOKEN")
    if token:  # the broker's JWT mode: the token is the password
        client.username_pw_set("jobwire", token)
    try:
        client.connect(args.host, args.port, keepalive=30)
    except OSError as e:
        print("cannot connect to %s:%d: %s" % (args.host, args.port, e), file=sys.stderr)
        return 3
    client.loop_start()
    client.subscribe(base + "/control", qos=1)

    def publish(event, payload):
        payload.setdefault("ts", now())
        info = client.publish("%s/%s" % (base, event), json.dumps(payload), qos=1)
        info.wait_for_publish()

    publish("started", {"name": "Python batch of %d items" % args.items, "total": args.items,
                        "heartbeat_interval_s": 5, "worker": "%s/python" % socket.gethostname()})

    stop_hb = threading.Event()

    def heartbeats():
        while not stop_hb.wait(5):
            publish("heartbeat", {"system": {"queue_length": 0}})
    threading.Thread(target=heartbeats, daemon=True).start()

    t0 = time.time()
    failed_items = 0
    for i in range(1, args.items + 1):
        if cancel.is_set():
            publish("failed", {"error": "cancelled: %s" % cancel_reason.get("reason", "by request"),
                               "code": "cancelled", "retryable": False,
                               "details": {"items_done": i - 1}})
            print("job %s cancelled after %d items" % (base, i - 1))
            stop_hb.set()
            client.loop_stop()
            client.disconnect()
            return 1
        time.sleep(args.delay)  # the real work would go here
        elapsed = time.time() - t0
        publish("progress", {"current": i, "total": args.items,
                             "message": "item %d/%d" % (i, args.items),
                             "eta_s": round(elapsed / i * (args.items - i), 2),
                             "items_added": i - failed_items, "items_failed": failed_items})
    publish("complete", {"result": {"items": args.items}, "duration_s": round(time.time() - t0, 3)})
    stop_hb.set()
    print("job %s complete" % base)
    client.loop_stop()
    client.disconnect()
    return 0


if __name__ == "__main__":
    sys.exit(main())
