# SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause
# Sourced by examples/run.sh: the PostgreSQL the journal writes to.
# With JW_PG_CONNINFO set, that database is used as is. Otherwise a private
# PostgreSQL 15 cluster is created once under $run/pg (initdb as the
# postgres user, which refuses root), listening on a unix socket in that
# directory and on 127.0.0.1 only, port JW_PG_PORT or 5432 if free, else a
# free one. Sets jw_pg_conninfo and jw_pg_psql (a command line to query it).
# The cluster is stopped when run.sh exits.
jw_pg_setup() { # run_dir
	local run=$1 bin=/usr/lib/postgresql/15/bin as=() port
	if [ -n "${JW_PG_CONNINFO:-}" ]; then
		jw_pg_conninfo=$JW_PG_CONNINFO
		jw_pg_psql="psql '<your JW_PG_CONNINFO>'"
		return 0
	fi
	[ "$(id -u)" -ne 0 ] || as=(runuser -u postgres --)
	mkdir -p "$run/pg"
	[ "$(id -u)" -ne 0 ] || chown postgres: "$run/pg"
	if [ ! -f "$run/pg/data/PG_VERSION" ]; then
		"${as[@]}" "$bin/initdb" -D "$run/pg/data" -U postgres -A trust -E UTF8 >"$run/pg/initdb.log" 2>&1 ||
			{ cat "$run/pg/initdb.log" >&2; return 1; }
	fi
	port=${JW_PG_PORT:-5432}
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	fi
	"${as[@]}" "$bin/pg_ctl" -D "$run/pg/data" -l "$run/pg/server.log" -w -t 30 \
		-o "-p $port -c listen_addresses=127.0.0.1 -k $run/pg" start >/dev/null ||
		{ tail -n 20 "$run/pg/server.log" >&2; return 1; }
	trap "${as[*]} $bin/pg_ctl -D '$run/pg/data' -m fast stop >/dev/null 2>&1" EXIT
	"${as[@]}" psql -X -q -h "$run/pg" -p "$port" -U postgres -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname='jobwire'" | grep -q 1 ||
		"${as[@]}" createdb -h "$run/pg" -p "$port" -U postgres jobwire
	jw_pg_conninfo="host=$run/pg port=$port dbname=jobwire user=postgres"
	jw_pg_psql="psql -h $run/pg -p $port -U postgres jobwire"
}
