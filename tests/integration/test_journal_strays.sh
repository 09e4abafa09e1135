#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# File names in the journal's spool directory are untrusted input: with
# stray entries named like spool segments (a huge number, a negative one,
# a non-numeric name, an overlong one, a directory, a symlink to
# /dev/zero, a FIFO) and other files, the broker starts promptly without
# spinning, logs each stray once, leaves them alone, and journals
# normally.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
jw_pg_skip_under_preload

jw_pg_start || { echo "cannot start PostgreSQL"; exit 1; }
data=$(jw_data_dir)
j=$data/journal
mkdir -p "$j"
for name in 9999999999999999.spool -000000000000001.spool abcdefghijklmnop.spool \
	00000000000000001.spool 99999999999999999999999999999999.spool notes.txt; do
	printf 'JWK1 not a segment' >"$j/$name"
done
mkdir "$j/0000000000000005.spool"
ln -s /dev/zero "$j/0000000000000006.spool"
mkfifo "$j/0000000000000007.spool"
chown -R -h mosquitto: "$data" 2>/dev/null || chmod -R 777 "$data"

JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_pg_conninfo $JW_PG_CONNINFO
plugin_opt_stats_interval 0.5"
t0=$(date +%s.%N)
JW_START_TIMEOUT=${JW_START_TIMEOUT:-10} jw_start_broker a
took=$(python3 -c "print(round($(date +%s.%N) - $t0, 2))")
# (Valgrind alone takes seconds to start a broker.)
prompt=5
[ -z "${JW_BROKER_VALGRIND:-}" ] || prompt=20
jw_check "the broker starts promptly (${took}s)" python3 -c "import sys; sys.exit(0 if $took < $prompt else 1)"
# Not spinning: over 2 s the broker uses a small share of one CPU.
# Under valgrind the first seconds go to translating code, and everything
# costs more: measure after that, against half a CPU (a spin takes all of
# one either way).
ticks() { awk '{print $14 + $15}' "/proc/$JW_PID/stat"; }
limit=50
if [ -n "${JW_BROKER_VALGRIND:-}" ]; then sleep 3; limit=100; fi
before=$(ticks)
sleep 2
used=$(($(ticks) - before))
jw_check "the broker is idle after start ($used ticks of CPU in 2 s)" test "$used" -lt "$limit"

wait_log() { local i; for i in $(seq 50); do grep -qF -- "$1" "$JW_LOG" && return 0; sleep 0.1; done; return 1; }
jw_check "huge segment number logged" wait_log "journal: ignoring $j/9999999999999999.spool: segment number out of range"
jw_check "negative name logged" wait_log "journal: ignoring $j/-000000000000001.spool: not a journal file"
jw_check "non-numeric name logged" wait_log "journal: ignoring $j/abcdefghijklmnop.spool: not a journal file"
jw_check "overlong name logged" wait_log "journal: ignoring $j/00000000000000001.spool: not a journal file"
jw_check "overlong huge name logged" wait_log "journal: ignoring $j/99999999999999999999999999999999.spool: not a journal file"
jw_check "other file logged" wait_log "journal: ignoring $j/notes.txt: not a journal file"
jw_check "directory named like a segment logged" wait_log "journal: ignoring $j/0000000000000005.spool: named like a spool segment but not a regular file"
jw_check "symlink named like a segment logged" wait_log "journal: ignoring $j/0000000000000006.spool: named like a spool segment but not a regular file"
jw_check "FIFO named like a segment logged" wait_log "journal: ignoring $j/0000000000000007.spool: named like a spool segment but not a regular file"
jw_assert_eq "each stray logged once" 9 "$(grep -c 'journal: ignoring' "$JW_LOG")"

jw_pub -q 1 -t jobs/s/j1/complete -m '{"result":{"ok":true}}'
for _ in $(seq 100); do
	[ "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='s'")" = 1 ] && break
	sleep 0.1
done
jw_assert_eq "journals normally" 1 "$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='s'")"
stats=$(mosquitto_sub -h 127.0.0.1 -p "$JW_PORT" -t '$jobwire/stats' -C 1 -W 5)
jw_assert_eq "stats count the strays" 9 "$(printf '%s' "$stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["journal"]["stray_files"])')"
jw_check "strays left alone" test -f "$j/9999999999999999.spool" -a -d "$j/0000000000000005.spool" -a -L "$j/0000000000000006.spool" -a -p "$j/0000000000000007.spool"
jw_check "new segments numbered past every segment-like name" test -f "$j/0000000000000008.spool"
jw_done
