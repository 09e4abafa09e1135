# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# A private PostgreSQL 15 cluster for integration tests: initdb in the
# test's work dir, run as the postgres user (initdb and postgres refuse
# root), listening on a free loopback port and a unix socket in the same
# dir. Source after lib.sh. Stopped by jw_pg_stop, and by the EXIT trap.

JW_PG_BIN=${JW_PG_BIN:-/usr/lib/postgresql/15/bin}
JW_PG_DIR=
JW_PG_PORT=
JW_PG_CONNINFO=

# Runs a command as the postgres user when we are root.
jw_pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# A broker hosting the ASan build through LD_PRELOAD (JW_BROKER_PRELOAD)
# deadlocks in libpq's first message-catalogue lookup: glibc's gettext lock
# (_nl_state_lock) is found with a corrupt reader count before the plugin
# is even loaded, so libpq's bindtextdomain waits forever. The journal's
# threads are covered by ASan in tests/unit/test_journal.c instead (an
# instrumented binary, with PostgreSQL via tests/with_pg.sh). Exits 77,
# which CTest reports as skipped.
jw_pg_skip_under_preload() {
	if [ -n "${JW_BROKER_PRELOAD:-}" ]; then
		echo "skipped: libpq in a broker with the sanitizer runtime preloaded deadlocks (lib_pg.sh)"
		exit 77
	fi
}

# Creates and starts the cluster; sets JW_PG_DIR, JW_PG_PORT and
# JW_PG_CONNINFO (host=127.0.0.1 port=N dbname=jobwire user=postgres).
jw_pg_start() {
	JW_PG_DIR=$JW_TMP/pg
	JW_PG_PORT=$(jw_free_port)
	mkdir -p "$JW_PG_DIR"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$JW_PG_DIR"
	jw_pg_as "$JW_PG_BIN/initdb" -D "$JW_PG_DIR/data" -U postgres -A trust -E UTF8 --no-sync >"$JW_PG_DIR/initdb.log" 2>&1 ||
		{ cat "$JW_PG_DIR/initdb.log"; return 1; }
	jw_pg_resume || return 1
	jw_pg_as "$JW_PG_BIN/createdb" -h 127.0.0.1 -p "$JW_PG_PORT" -U postgres jobwire || return 1
	JW_PG_CONNINFO="host=127.0.0.1 port=$JW_PG_PORT dbname=jobwire user=postgres connect_timeout=2"
	trap 'jw_pg_stop; jw_cleanup' EXIT
}

# Starts the existing cluster again (after jw_pg_stop or jw_pg_kill).
jw_pg_resume() {
	jw_pg_as "$JW_PG_BIN/pg_ctl" -D "$JW_PG_DIR/data" -l "$JW_PG_DIR/server.log" -w -t 30 \
		-o "-p $JW_PG_PORT -c listen_addresses=127.0.0.1 -k $JW_PG_DIR -c fsync=off" start >/dev/null ||
		{ tail -n 20 "$JW_PG_DIR/server.log"; return 1; }
}

# Stops the cluster (fast mode: sessions are cut, like a real outage).
jw_pg_stop() {
	[ -n "$JW_PG_DIR" ] && [ -f "$JW_PG_DIR/data/postmaster.pid" ] || return 0
	jw_pg_as "$JW_PG_BIN/pg_ctl" -D "$JW_PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1
}

# psql against the test database; extra args passed on (e.g. -c 'SQL').
jw_psql() {
	psql -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$JW_PG_PORT" -U postgres -d jobwire "$@"
}

# Waits until SQL returns EXPECTED (default 10 s); prints the last answer
# to stderr when it never did.
jw_wait_sql() { # expected sql [timeout]
	local deadline=$((SECONDS + ${3:-10})) got
	while [ $SECONDS -lt $deadline ]; do
		got=$(jw_psql -c "$2" 2>/dev/null)
		[ "$got" == "$1" ] && return 0
		sleep 0.1
	done
	echo "last: [$got]" >&2
	return 1
}

# The start of a journal test: skips it under a preloaded sanitizer
# runtime, starts the cluster (exit 1 when it cannot), makes the data
# directory $data and sets JW_PLUGIN_OPTS to journal there and into the
# cluster; a test adds its own lines to JW_PLUGIN_OPTS.
jw_pg_journal_setup() {
	jw_pg_skip_under_preload
	jw_pg_start || { echo "cannot start PostgreSQL"; exit 1; }
	data=$(jw_data_dir)
	JW_PLUGIN_OPTS="plugin_opt_data_dir $data
plugin_opt_pg_conninfo $JW_PG_CONNINFO"
}
