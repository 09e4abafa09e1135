#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# A jobwire worker in plain shell: nothing but mosquitto_pub. Reports a
# five-step import as job SESSION/JOB: started, progress per step, a
# heartbeat, then complete. Broker: JW_HOST (127.0.0.1) and JW_PORT (1883);
# with the broker's JWT mode on, the token in JOBWIRE_TOKEN is sent as the
# password (examples/run.sh prints one).
#
#   bash examples/shell-worker.sh demo job-1
set -euo pipefail
session=${1:-demo}
job=${2:-shell-$$}
host=${JW_HOST:-127.0.0.1}
port=${JW_PORT:-1883}
delay=${JW_STEP_DELAY:-0.5}
topic="jobs/$session/$job"
auth=()
[ -z "${JOBWIRE_TOKEN:-}" ] || auth=(-u jobwire -P "$JOBWIRE_TOKEN")

# QoS 1: the broker acknowledges each event; -i gives a stable client id
# whose rejection notices arrive on $jobwire/rejections/<id>.
pub() { # event json
	mosquitto_pub -h "$host" -p "$port" "${auth[@]}" -q 1 -i "shell-worker-$$" -t "$topic/$1" -m "$2"
}

steps=(download validate parse index publish)
pub started "{\"name\":\"Shell import\",\"total\":${#steps[@]},\"steps\":[\"download\",\"validate\",\"parse\",\"index\",\"publish\"],\"heartbeat_interval_s\":10,\"worker\":\"$(hostname)/shell\"}"
i=0
for step in "${steps[@]}"; do
	i=$((i + 1))
	sleep "$delay"   # the real work would go here
	pub progress "{\"current\":$i,\"total\":${#steps[@]},\"step\":\"$step\",\"message\":\"$step done\"}"
	[ "$i" -eq 2 ] && pub heartbeat '{"system":{"queue_length":0}}'
done
pub complete "{\"result\":{\"steps\":${#steps[@]}},\"message\":\"Import finished\"}"
echo "job $session/$job complete"
