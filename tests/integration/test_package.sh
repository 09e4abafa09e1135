#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# labels: heavy
# Proves that the Debian package works on this machine as an operator
# would use it: `cpack -G DEB` from the build tree, `dpkg -i`, then
# Debian's own `mosquitto -c /etc/mosquitto/mosquitto.conf` (untouched)
# loads the plugin from the package's snippet, keeps 1883 for local
# clients, delivers a valid event over TCP and over WebSocket, refuses an
# invalid one with a notice, and serves the dashboard; that `dpkg
# --remove` leaves a broker that starts without the plugin, that `dpkg
# --purge` removes the data folder, and that the machine is left as it
# was found (the files under /etc/mosquitto, /var/lib and /usr/lib, the
# broker's database and log). Needs root and ports 1883 and 9001 free.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_cli.sh"

skip() {
	echo "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "dpkg -i needs root"
[ "$JW_MOSQUITTO" = mosquitto ] || skip "the package is for Debian's mosquitto; not in the compatibility runs"
[ -z "${JW_BROKER_PRELOAD:-}${JW_BROKER_VALGRIND:-}" ] || skip "the package is built from the normal build, not in the sanitizer or valgrind runs"
for tool in cpack dpkg-shlibdeps; do
	command -v "$tool" >/dev/null || skip "$tool not found (cmake, dpkg-dev)"
done
dpkg-query -W -f='${Status}' mosquitto 2>/dev/null | grep -q 'install ok installed' ||
	skip "Debian's mosquitto package is not installed"
if dpkg-query -W -f='${Status}' jobwire 2>/dev/null | grep -Eq 'installed|config-files|unpacked'; then
	skip "a jobwire package is already on this machine: not touching it"
fi
for f in /etc/mosquitto/conf.d/jobwire.conf /etc/mosquitto/conf.d/jobwire.conf.removed /var/lib/jobwire; do
	[ ! -e "$f" ] || skip "$f exists already: not touching it"
done
port_free() { # port: nobody listens on it, on any address
	python3 -c 'import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("0.0.0.0", int(sys.argv[1])))
except OSError:
    sys.exit(1)' "$1"
}
for port in 1883 9001; do
	port_free "$port" || skip "port $port is in use by another program (see ss -ltnp): Debian's configuration needs it"
done

# The machine as found: the file lists compared at the end, and what the
# broker's own run writes (its database, its log, its pid folder).
snapshot() {
	find /etc/mosquitto /var/lib /usr/lib /lib/systemd/system /usr/bin/jobwire /usr/share/jobwire \
		/usr/share/doc/jobwire 2>/dev/null | grep -v '^/var/lib/dpkg/' | sort
}
snapshot >"$JW_TMP/before.txt"
conf_sum=$(md5sum </etc/mosquitto/mosquitto.conf)
db=/var/lib/mosquitto/mosquitto.db
log=/var/log/mosquitto/mosquitto.log
[ -e "$db" ] && cp -a "$db" "$JW_TMP/db.saved"
log_size=-1
[ -e "$log" ] && log_size=$(stat -c %s "$log")
made_logdir=
[ -d /var/log/mosquitto ] || made_logdir=1
made_rundir=
[ -d /run/mosquitto ] || made_rundir=1

installed=
broker=
stop_broker() {
	if [ -n "$broker" ]; then
		kill "$broker" 2>/dev/null
		wait "$broker" 2>/dev/null
		broker=
	fi
}
restore() {
	stop_broker
	if [ -n "$installed" ]; then
		dpkg --purge jobwire >/dev/null 2>&1
		installed=
	fi
	if [ -e "$JW_TMP/db.saved" ]; then
		cp -a "$JW_TMP/db.saved" "$db"
	else
		rm -f "$db"
	fi
	if [ "$log_size" -ge 0 ]; then
		truncate -s "$log_size" "$log"
	else
		rm -f "$log"
	fi
	[ -z "$made_logdir" ] || rm -rf /var/log/mosquitto
	[ -z "$made_rundir" ] || rm -rf /run/mosquitto
}
trap 'restore; jw_cleanup' EXIT

# Debian's mosquitto, as its systemd unit starts it (which first makes
# the log and pid folders the broker user's).
start_debian_broker() {
	mkdir -p -m 740 /var/log/mosquitto /run/mosquitto
	chown mosquitto /var/log/mosquitto /run/mosquitto
	mosquitto -c /etc/mosquitto/mosquitto.conf >/dev/null 2>&1 &
	broker=$!
}
log_since() { # the broker log written by this test
	tail -c +"$((log_size < 0 ? 1 : log_size + 1))" "$log" 2>/dev/null
}

# ---- build and install
start=$SECONDS
if ! (cd "$JW_BUILD_DIR" && cpack -G DEB -B "$JW_TMP/pkg") >"$JW_TMP/cpack.log" 2>&1; then
	jw_fail "cpack -G DEB in the build folder"
	tail -n 30 "$JW_TMP/cpack.log"
	jw_done
fi
deb=$(ls "$JW_TMP"/pkg/jobwire_*.deb)
jw_pass "cpack -G DEB built $(basename "$deb") in $((SECONDS - start)) s"
depends=$(dpkg-deb -f "$deb" Depends)
jw_assert_contains "it depends on mosquitto (>= 2.0.11)" "mosquitto (>= 2.0.11)" "$depends"
jw_assert_contains "and on the libraries dpkg-shlibdeps found" "libjson-c5" "$depends"
jw_assert_eq "the snippet is a conffile" "/etc/mosquitto/conf.d/jobwire.conf" \
	"$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)"

if ! dpkg -i "$deb" >"$JW_TMP/dpkg-i.log" 2>&1; then
	jw_fail "dpkg -i: $(cat "$JW_TMP/dpkg-i.log")"
	installed=1
	jw_done
fi
installed=1
jw_pass "dpkg -i installs it"
jw_assert_contains "postinst says the broker needs a restart" "restart mosquitto" "$(cat "$JW_TMP/dpkg-i.log")"
jw_check "no broker was started by the installation (1883 still free)" port_free 1883
jw_check "the plugin is installed" test -f /usr/lib/jobwire/jobwire.so
jw_assert_eq "/var/lib/jobwire belongs to mosquitto" "mosquitto mosquitto" "$(stat -c '%U %G' /var/lib/jobwire)"
jw_check "the systemd drop-in raises the file limit" \
	grep -qx 'LimitNOFILE=65536' /lib/systemd/system/mosquitto.service.d/jobwire.conf
jw_check "and lets the broker write the data folder" \
	grep -qx 'ReadWritePaths=-/var/lib/jobwire' /lib/systemd/system/mosquitto.service.d/jobwire.conf
jw_assert_eq "Debian's mosquitto.conf is untouched" "$conf_sum" "$(md5sum </etc/mosquitto/mosquitto.conf)"

# The installed command finds the installed schemas, not the source tree
# it was built from (hidden here in a private mount namespace).
if unshare -m true 2>/dev/null; then
	out=$(env -u JOBWIRE_SCHEMAS unshare -m bash -c 'mount -t tmpfs none "$1" && echo "{\"progress\":5}" | /usr/bin/jobwire validate progress -' _ "$JW_SOURCE_DIR/schemas" 2>&1)
	jw_assert_eq "the installed jobwire finds /usr/share/jobwire/schemas" "<stdin>: ok (progress)" "$out"
fi

# ---- Debian's broker with Debian's configuration
start_debian_broker
JW_PORT=1883
jw_check "mosquitto -c /etc/mosquitto/mosquitto.conf listens on 1883" jw_wait_port 1883 15
jw_check "and on 9001 (WebSocket)" jw_wait_port 9001 15
jw_check "the plugin is loaded" bash -c 'sleep 0.2; grep -q "jobwire: validating" <<<"$1"' _ "$(log_since)"

jw_sub "$JW_TMP/tcp.out" -V 5 -t 'jobs/#' -t '$jobwire/rejections/#'
jw_pub -i pkg-tcp -t jobs/pkg/j1/started -m '{"name":"package test"}'
jw_pub -i pkg-tcp -t jobs/pkg/j1/progress -m '{"progress":140}'
jw_pub -i pkg-tcp -t jobs/pkg/j1/progress -m '{"progress":40}'

# WebSocket: Debian's python3-paho-mqtt subscribes, receives an event
# published over TCP, publishes one itself, and publishes an invalid one
# whose notice it reads on its own rejection topic.
/usr/bin/python3 - >"$JW_TMP/ws.out" 2>&1 <<'PY' &
import json, sys, time
import paho.mqtt.client as mqtt

got = []
c = mqtt.Client(client_id="pkg-ws", transport="websockets")
c.on_message = lambda cl, u, m: got.append((m.topic, m.payload.decode()))
c.connect("127.0.0.1", 9001)
c.loop_start()
c.subscribe([("jobs/pkg/#", 1), ("$jobwire/rejections/pkg-ws", 1)])
time.sleep(0.5)
c.publish("jobs/pkg/j2/progress", json.dumps({"progress": 10}), qos=1).wait_for_publish()
c.publish("jobs/pkg/j2/progress", json.dumps({"progress": "ten"}), qos=1).wait_for_publish()
deadline = time.time() + 10
while time.time() < deadline:
    topics = [t for t, _ in got]
    if "jobs/pkg/j2/progress" in topics and "$jobwire/rejections/pkg-ws" in topics \
            and "jobs/pkg/j3/progress" in topics:
        break
    time.sleep(0.1)
c.loop_stop()
for t, p in got:
    print(t + "\t" + p)
PY
ws=$!
sleep 1.5
jw_pub -i pkg-tcp -t jobs/pkg/j3/progress -m '{"progress":30}'
wait "$ws"
jw_wait_lines "$JW_TMP/tcp.out" 5 10
tcp=$(python3 "$JW_SOURCE_DIR/tests/integration/msgs.py" "$JW_TMP/tcp.out")
jw_check "TCP: a valid event is delivered" grep -q $'^jobs/pkg/j1/progress\t.*"progress":40' <<<"$tcp"
jw_check "TCP: the invalid event is refused with a notice" \
	grep -q $'^\\$jobwire/rejections/pkg-tcp\t.*"reason":"schema_violation"' <<<"$tcp"
if grep -q $'^jobs/pkg/j1/progress\t.*"progress":140' <<<"$tcp"; then
	jw_fail "TCP: the invalid event was delivered"
else
	jw_pass "TCP: the invalid event is not delivered"
fi
jw_check "TCP: the event published over WebSocket arrives" grep -Eq $'^jobs/pkg/j2/progress\t.*"progress": ?10' <<<"$tcp"
wsout=$(cat "$JW_TMP/ws.out")
jw_check "WebSocket: an event published over TCP is delivered" grep -q $'^jobs/pkg/j3/progress\t.*"progress":30' <<<"$wsout"
jw_check "WebSocket: the invalid event is refused with a notice" \
	grep -q $'^\\$jobwire/rejections/pkg-ws\t.*"reason":"schema_violation"' <<<"$wsout"
if grep -q '"progress": *"ten"' <<<"$tcp$wsout"; then
	jw_fail "WebSocket: the invalid event was delivered"
else
	jw_pass "WebSocket: the invalid event is not delivered"
fi
state=$(timeout 5 mosquitto_sub -p 1883 -t jobs/pkg/j1/state -C 1 -W 3 2>/dev/null)
jw_assert_contains "the job's retained state" '"status":"running"' "$state"
page=$(python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9001/", timeout=5).read().decode())' 2>&1)
jw_assert_contains "the WebSocket port serves the dashboard" "mqtt.min.js" "$page"
jw_check "and MQTT.js" python3 -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:9001/mqtt.min.js", timeout=5).read(100)'
deadline=$((SECONDS + 10))
until [ -s /var/lib/jobwire/jobs.log ] || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
jw_check "the job table is written to /var/lib/jobwire" test -s /var/lib/jobwire/jobs.log
stop_broker

# ---- remove: the broker starts without the plugin
if dpkg --remove jobwire >"$JW_TMP/dpkg-r.log" 2>&1; then
	jw_pass "dpkg --remove"
else
	jw_fail "dpkg --remove: $(cat "$JW_TMP/dpkg-r.log")"
fi
jw_check "the plugin is gone" test ! -e /usr/lib/jobwire/jobwire.so
jw_check "the snippet is moved aside" test -f /etc/mosquitto/conf.d/jobwire.conf.removed -a ! -e /etc/mosquitto/conf.d/jobwire.conf
jw_check "the data folder stays until purge" test -s /var/lib/jobwire/jobs.log
before_restart=$(stat -c %s "$log")
start_debian_broker
jw_check "mosquitto still starts with Debian's configuration" jw_wait_port 1883 15
jw_check "without the plugin" bash -c '! tail -c +"$1" "$2" | grep -q jobwire' _ "$((before_restart + 1))" "$log"
stop_broker

# ---- purge: nothing left
if dpkg --purge jobwire >"$JW_TMP/dpkg-p.log" 2>&1; then
	jw_pass "dpkg --purge"
	installed=
else
	jw_fail "dpkg --purge: $(cat "$JW_TMP/dpkg-p.log")"
fi
jw_check "the data folder is gone" test ! -e /var/lib/jobwire
jw_check "the snippet is gone" test ! -e /etc/mosquitto/conf.d/jobwire.conf -a ! -e /etc/mosquitto/conf.d/jobwire.conf.removed
jw_check "dpkg knows no jobwire" bash -c '! dpkg-query -W jobwire >/dev/null 2>&1 || [ -z "$(dpkg-query -W -f="\${Status}" jobwire 2>/dev/null | grep -v not-installed)" ]'
jw_check "mosquitto is still installed" bash -c "dpkg-query -W -f='\${Status}' mosquitto | grep -q 'install ok installed'"
restore
snapshot >"$JW_TMP/after.txt"
if diff "$JW_TMP/before.txt" "$JW_TMP/after.txt" >"$JW_TMP/diff.txt"; then
	jw_pass "the machine is as it was found ($(wc -l <"$JW_TMP/before.txt") paths compared)"
else
	jw_fail "the machine changed: $(head -20 "$JW_TMP/diff.txt")"
fi
jw_done
