#!/usr/bin/env bash
# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# A PostgreSQL that stops answering (every server process frozen with
# SIGSTOP, as a hung host or a full disk would): the broker keeps
# acknowledging finishing jobs, a clean shutdown still ends within the
# journal's 3 s deadline (the stalled connection is dropped, nothing waits
# on it), and the next start delivers every acknowledged job once the
# server answers again.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_pg.sh"
jw_pg_journal_setup
jw_start_broker a
pub() { python3 "$(dirname "$0")/qos1pub.py" "$JW_PORT" st "$1" "$2" "$JW_TMP/acked" "$JW_TMP/refused"; }
: >"$JW_TMP/acked"
pub 1 200
sleep 1
pm=$(head -1 "$JW_PG_DIR/data/postmaster.pid")
frozen="$(pgrep -P "$pm" | tr '\n' ' ')$pm"
# shellcheck disable=SC2086 # a list of pids
kill -STOP $frozen
thaw() { kill -CONT $frozen 2>/dev/null; }
trap 'thaw; jw_pg_stop; jw_cleanup' EXIT
pub 201 200
jw_assert_eq "jobs acknowledged while PostgreSQL is frozen" 400 "$(wc -l <"$JW_TMP/acked")"
sleep 1
t0=$(date +%s%N)
kill "$JW_PID"
wait "$JW_PID" 2>/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
limit=6000
[ -z "${JW_BROKER_VALGRIND:-}" ] || limit=20000 # valgrind's own exit work
jw_check "clean shutdown ends within the deadline with PostgreSQL frozen (${ms} ms)" test "$ms" -lt "$limit"
thaw
jw_start_broker b
n=0
for _ in $(seq 100); do
	n=$(jw_psql -c "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id='st'" 2>/dev/null)
	[ "$n" = 400 ] && break
	sleep 0.2
done
jw_assert_eq "every acknowledged job has its row after the restart" 400 "$n"
# The spool is replayed before the broker finishes starting (slow under
# valgrind): let it finish, so the stop below is a clean one.
for _ in $(seq 300); do grep -q 'mosquitto version .* running' "$JW_LOG" && break; sleep 0.1; done
jw_done
