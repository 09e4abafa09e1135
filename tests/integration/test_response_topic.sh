#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Proves the response-topic policy: a refused event's notice goes to the
# publisher's MQTT 5 response topic only when that topic is not the
# broker's (job topics, $jobwire/ except the publisher's own replies,
# $SYS) and the publisher may read it; otherwise it goes to the
# publisher's rejection topic, saying why. So a worker of one session can
# no longer make the broker write into another session's control or state
# topics, $jobwire/ or $SYS. Every client may read its own
# $jobwire/replies/{client id}/#. With JWT off, topics the broker does not
# own are accepted when no ACL source follows jobwire, and only the
# publisher's own replies when acl_file decides who reads what.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_jwt.sh"
here=$(dirname "$0")
jw_jwt_secret
client5() { python3 "$here/mqtt5client.py" "$JW_PORT" "$@"; }
bad='{"progress":140}'

# The notice a watcher saw on $jobwire/rejections/ID, as JSON ("" if none).
notice_for() { # watcher-file client-id
	python3 - "$1" "$2" "$here" <<'PY'
import json, sys
sys.path.insert(0, sys.argv[3])
from msgs import read
for m in read(sys.argv[1]):
    if m["topic"] == "$jobwire/rejections/" + sys.argv[2]:
        d = json.loads(m["payload"])
        d["_corr"] = m["corr"]
        print(json.dumps(d))
        break
PY
}
# Rejection notices the watcher saw on exactly TOPIC.
seen_on() { # watcher-file topic
	python3 "$here/msgs.py" "$1" | awk -F'\t' -v t="$2" '$1 == t && /"type":"rejected"/' | wc -l
}
# Waits until the watcher has seen a notice on TOPIC.
wait_seen() { # watcher-file topic
	local deadline=$((SECONDS + 10))
	while [ $SECONDS -lt $deadline ]; do
		[ "$(seen_on "$1" "$2")" -ge 1 ] && return 0
		sleep 0.05
	done
	return 1
}

# Publishes an invalid event as CLIENT with RESPONSE as response topic
# (and correlation data c-CLIENT); expects PUBACK 0x87.
attack() { # client-id password response-topic [extra mqtt5client args]
	local id=$1 pw=$2 rt=$3
	shift 3
	client5 "$id" --password "$pw" --pub jobs/A/j1/progress --payload "$bad" \
		--response-topic "$rt" --correlation "c-$id" --wait 5 --until-puback "$@" >"$JW_TMP/$id.out"
}

# Expects: nothing on TOPIC, and on $jobwire/rejections/ID a notice
# (schema_violation) whose response_topic_refused has REASON and names
# TOPIC, with the publisher's correlation data c-ID.
refused_to() { # description watcher-file client-id topic reason
	local n got
	n=$(seen_on "$2" "$4")
	got=$(notice_for "$2" "$3")
	if [ "$n" != 0 ]; then
		jw_fail "$1: $n message(s) published on $4"
		return
	fi
	if python3 -c '
import json, sys
d = json.loads(sys.argv[1])
r = d.get("response_topic_refused") or {}
ok = (d["reason"] == "schema_violation" and r.get("reason") == sys.argv[2]
      and r.get("topic") == sys.argv[3] and r.get("message") and d["_corr"] == sys.argv[4])
sys.exit(0 if ok else 1)' "${got:-null}" "$5" "$4" "c-$3" 2>/dev/null; then
		jw_pass "$1"
	else
		jw_fail "$1: notice on the rejection topic was [${got:-none}]"
	fi
}

# ---------------------------------------------------------------- JWT on
JW_PLUGIN_OPTS="plugin_opt_auth_jwt_hs256_secret_file $JW_TMP/secret
plugin_opt_log_rate 0"
jw_start_broker jwt "allow_anonymous false"
admin=$(tok --role admin --ttl 600)
worker_a=$(tok --role worker --sessions A)
viewer_a=$(tok --role viewer --sessions A)
JW_PROBE_AUTH="-u a -P $admin"
jw_pub -q 1 -u a -P "$admin" -t jobs/B/J/started -m '{"name":"Session B job"}'
jw_sub "$JW_TMP/w.out" -V 5 -u a -P "$admin" -t '#' -t '$jobwire/#' -t '$SYS/jwtest/#'

i=0
done_cases=()
for case in \
	"jobs/B/J/control|broker_topic|another session's control" \
	"jobs/B/J/state|broker_topic|another session's state" \
	"jobs/A/j1/control|broker_topic|its own session's control" \
	'$jobwire/stats|broker_topic|$jobwire/stats' \
	'$jobwire/rejections/victim-1|broker_topic|another client'"'"'s rejection topic' \
	'$jobwire/replies/victim-1/r|broker_topic|another client'"'"'s replies' \
	'$jobwire/replies/atk|broker_topic|a replies prefix that is not its own id' \
	'$SYS/jwtest/x|broker_topic|$SYS' \
	'other/topic|not_readable|a topic its token may not read' \
	'x/+/y|invalid|a wildcard'; do
	IFS='|' read -r rt reason what <<<"$case"
	i=$((i + 1))
	attack "atk-$i" "$worker_a" "$rt"
	grep -q '"puback": 135' "$JW_TMP/atk-$i.out" || echo "# atk-$i: $(cat "$JW_TMP/atk-$i.out")"
	done_cases+=("$i|$rt|$reason|$what")
done
# A viewer's invalid cancel (viewers may publish control) names its own
# session's control topic as response topic.
client5 vw-1 --password "$viewer_a" --pub jobs/A/j1/control --payload '{"action":"explode"}' \
	--response-topic jobs/A/j1/control --correlation c-vw-1 --wait 5 --until-puback >/dev/null
client5 adm-1 --password "$admin" --pub jobs/A/j1/progress --payload "$bad" \
	--response-topic replies/adm-1 --correlation c-adm-1 --wait 5 --until-puback >/dev/null
# A worker reads its own replies, on the connection it publishes with.
client5 w-own --password "$worker_a" --sub '$jobwire/replies/w-own/#' --pub jobs/A/j1/progress \
	--payload "$bad" --response-topic '$jobwire/replies/w-own/req-1' --correlation c-own \
	--wait 5 --until-messages 1 >"$JW_TMP/own.out"
client5 w-other --password "$worker_a" --sub '$jobwire/replies/w-own/#' --wait 0.1 >"$JW_TMP/other.out"
wait_seen "$JW_TMP/w.out" replies/adm-1

for c in "${done_cases[@]}"; do
	IFS='|' read -r n rt reason what <<<"$c"
	if [ "$reason" = invalid ] && jw_broker_at_least 2.0.20; then
		# Since 2.0.20 the broker refuses an invalid response topic itself
		# (a protocol error: it closes the connection) before any plugin
		# sees the PUBLISH; jobwire's check covers the brokers before it.
		jw_check "JWT worker: response topic $rt ($what): the broker closes the connection, no PUBACK" \
			bash -c '! grep -q "\"puback\"" "$1"' _ "$JW_TMP/atk-$n.out"
		jw_assert_eq "JWT worker: response topic $rt ($what): nothing published there" 0 "$(seen_on "$JW_TMP/w.out" "$rt")"
		continue
	fi
	refused_to "JWT worker: response topic $rt ($what) refused: $reason" "$JW_TMP/w.out" "atk-$n" "$rt" "$reason"
done
refused_to "JWT viewer: response topic in its own session's job tree refused" "$JW_TMP/w.out" vw-1 jobs/A/j1/control broker_topic
jw_check "JWT admin: response topic it may read gets the notice" test "$(seen_on "$JW_TMP/w.out" replies/adm-1)" = 1
jw_check "JWT worker: may subscribe to its own \$jobwire/replies/{id}/#" grep -q '"suback": \[1\]' "$JW_TMP/own.out"
if python3 -c '
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    m = d.get("message")
    if m and m["topic"] == "$jobwire/replies/w-own/req-1" and m["correlation"] == "c-own" \
            and json.loads(m["payload"])["reason"] == "schema_violation":
        sys.exit(0)
sys.exit(1)' "$JW_TMP/own.out"; then
	jw_pass "JWT worker: notice arrives on its own replies topic with its correlation data"
else
	jw_fail "JWT worker: notice on its own replies topic: $(cat "$JW_TMP/own.out")"
fi
jw_check "JWT worker: may not subscribe to another client's replies" grep -q '"suback": \[135\]' "$JW_TMP/other.out"
jw_check "broker still up" kill -0 "$JW_PID"
jw_stop_all

# ------------------------------------------- JWT off, no other ACL source
unset JW_PROBE_AUTH
JW_PLUGIN_OPTS="plugin_opt_log_rate 0"
jw_start_broker open
jw_pub -q 1 -t jobs/B/J/started -m '{"name":"Session B job"}'
jw_sub "$JW_TMP/o.out" -V 5 -t '#' -t '$jobwire/#'
attack o-1 "" jobs/B/J/control
attack o-2 "" '$jobwire/stats'
attack o-3 "" replies/o-3
attack o-4 "" '$jobwire/replies/o-4/x'
attack o-5 "" replies/o-5
wait_seen "$JW_TMP/o.out" replies/o-5
refused_to "JWT off: response topic in the job tree refused" "$JW_TMP/o.out" o-1 jobs/B/J/control broker_topic
refused_to "JWT off: \$jobwire/stats refused" "$JW_TMP/o.out" o-2 '$jobwire/stats' broker_topic
jw_check "JWT off, no ACL source: any other topic gets the notice" test "$(seen_on "$JW_TMP/o.out" replies/o-3)" = 1
jw_check "JWT off: own \$jobwire/replies/{id}/... gets the notice" test "$(seen_on "$JW_TMP/o.out" '$jobwire/replies/o-4/x')" = 1
jw_stop_all

# ---------------------------------------------- JWT off, acl_file decides
printf 'topic readwrite #\ntopic read $jobwire/#\npattern read $jobwire/replies/%%c/#\n' >"$JW_TMP/acl"
chmod 644 "$JW_TMP/acl"
jw_start_broker acl "acl_file $JW_TMP/acl"
jw_sub "$JW_TMP/a.out" -V 5 -t '#' -t '$jobwire/#'
attack a-1 "" replies/a-1
attack a-2 "" '$jobwire/replies/a-2/x'
wait_seen "$JW_TMP/a.out" '$jobwire/replies/a-2/x'
refused_to "JWT off, acl_file: a topic jobwire cannot know is readable is refused" "$JW_TMP/a.out" a-1 replies/a-1 not_readable
jw_check "JWT off, acl_file: own \$jobwire/replies/{id}/... gets the notice" test "$(seen_on "$JW_TMP/a.out" '$jobwire/replies/a-2/x')" = 1
jw_done
