/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire history: finished jobs from the PostgreSQL journal
 * (jobwire_finished_jobs, plugin/sql/001_finished_jobs.sql and
 * 002_attempts.sql: one row per attempt). Read-only,
 * one parameterised query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "cli.h"
#include "topic.h"

static const char help[] =
        "usage: jobwire history [--session S] [--job J] [--status complete|failed]\n"
        "                       [--since 1h] [--limit N] [--json] [--db CONNINFO]\n"
        "       jobwire history --reviews [--session S] [--job J] [--since 1h] ...\n"
        "       jobwire history --stations [--station ID] [--since 7d] [--json]\n"
        "\n"
        "Lists finished jobs from the journal, newest first: finish time, session/job,\n"
        "status, duration, code and error. Each attempt of a retried job is a row of its\n"
        "own; attempts after the first show as session/job #N. --json prints one JSON\n"
        "object per row with every column of jobwire_finished_jobs (attempt included).\n"
        "--reviews lists answered reviews instead (jobwire_reviews): answer time,\n"
        "session/job, choice, who answered, confidence, threshold, how long the job\n"
        "waited, reason and comment.\n"
        "\n"
        "      --stations    the stations' online/offline transitions instead\n"
        "                    (jobwire_station_transitions), newest first\n"
        "      --station ID  with --stations: one station\n"
        "  -s, --session S   one session\n"
        "  -j, --job J       one job\n"
        "      --status ST   complete or failed\n"
        "      --since T     finished within T, e.g. 30m, 1h, 7d\n"
        "      --limit N     at most N rows [50; 0 = all]\n"
        "      --reviews     answered reviews, not finished jobs\n"
        "      --json        JSON lines\n"
        "      --db CONNINFO libpq conninfo or URI [JOBWIRE_PG, else the PG* variables]\n"
        "\n"
        "Exit status: 0 (also when no row matches), 3 cannot connect or no journal\n"
        "table, 64 bad arguments.\n";

enum {
	O_SESSION = 1,
	O_JOB,
	O_STATUS,
	O_SINCE,
	O_LIMIT,
	O_JSON,
	O_DB,
	O_HELP,
	O_STATIONS,
	O_STATION,
	O_REVIEWS
};

static const struct jw_opt opts[] = {
        {"session", 's', 1, O_SESSION},
        {"job", 'j', 1, O_JOB},
        {"status", 0, 1, O_STATUS},
        {"since", 0, 1, O_SINCE},
        {"limit", 0, 1, O_LIMIT},
        {"json", 0, 0, O_JSON},
        {"db", 0, 1, O_DB},
        {"help", 0, 0, O_HELP},
        {"reviews", 0, 0, O_REVIEWS},
        {"stations", 0, 0, O_STATIONS},
        {"station", 0, 1, O_STATION},
        {NULL, 0, 0, 0},
};

static const char query[] =
        "SELECT to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " session_id, job_id, status, coalesce(round(duration_s::numeric, 1)::text, '-'),"
        " coalesce(code, ''), coalesce(error, ''),"
        " row_to_json(f)::text,"
        /* Retries (002_attempts.sql); a journal not yet migrated has no
         * attempt column and only first attempts. */
        " coalesce(to_jsonb(f)->>'attempt', '1')"
        " FROM jobwire_finished_jobs f"
        " WHERE ($1::text IS NULL OR session_id = $1)"
        "   AND ($2::text IS NULL OR job_id = $2)"
        "   AND ($3::text IS NULL OR status = $3)"
        "   AND ($4::float8 IS NULL OR finished_at >= now() - make_interval(secs => $4::float8))"
        " ORDER BY finished_at DESC, session_id, job_id, coalesce(to_jsonb(f)->>'attempt', "
        "'1')::int DESC"
        " LIMIT CASE WHEN $5::bigint = 0 THEN NULL ELSE $5::bigint END";

/* The query's parameters as text, and how to print the rows. */
struct history_opts {
	const char *session, *job, *status, *db;
	char since[64]; /* seconds, "" for all */
	char limit[32];
	int json;
	int reviews;         /* --reviews: jobwire_reviews (history_reviews.c) */
	int stations;        /* --stations */
	const char *station; /* --station ID */
};

/* Returns -1 to go on, else the exit status (after --help or a bad
 * option). */
static int parse_options(int argc, char **argv, struct history_opts *o)
{
	const char *cmd = "history";
	char err[300];
	struct jw_args a;
	int id;
	double d;
	long n;
	jw_args_init(&a, argc, argv);
	while((id = jw_cli_next(cmd, &a, opts, NULL, 0)) != JW_ARGS_END) {
		switch(id) {
			case JW_ARGS_ERROR:
				return JW_EXIT_USAGE;
			case O_SESSION:
				o->session = a.value;
				break;
			case O_JOB:
				o->job = a.value;
				break;
			case O_STATUS:
				o->status = a.value;
				break;
			case O_SINCE:
				if(jw_parse_duration(a.value, &d, err, sizeof(err))) {
					jw_errorf(cmd, "--since: %s", err);
					return JW_EXIT_USAGE;
				}
				snprintf(o->since, sizeof(o->since), "%.3f", d);
				break;
			case O_LIMIT:
				if(jw_parse_long(a.value, 0, 1000000000L, &n, "--limit", err, sizeof(err))) {
					jw_errorf(cmd, "%s", err);
					return JW_EXIT_USAGE;
				}
				snprintf(o->limit, sizeof(o->limit), "%ld", n);
				break;
			case O_JSON:
				o->json = 1;
				break;
			case O_DB:
				o->db = a.value;
				break;
			case O_HELP:
				fputs(help, stdout);
				return 0;
			case O_REVIEWS:
				o->reviews = 1;
				break;
			case O_STATIONS:
				o->stations = 1;
				break;
			case O_STATION:
				o->station = a.value;
				break;
			default:
				break;
		}
	}
	if(o->status && strcmp(o->status, "complete") && strcmp(o->status, "failed")) {
		jw_errorf(cmd, "--status must be complete or failed (got \"%.40s\")", o->status);
		return JW_EXIT_USAGE;
	}
	if(jw_cli_check_ids(cmd, o->session, o->job)) {
		return JW_EXIT_USAGE;
	}
	if(o->station && (!o->stations || !jw_topic_id_valid(o->station))) {
		jw_errorf(cmd, "--station ID goes with --stations and is a station id");
		return JW_EXIT_USAGE;
	}
	if(o->stations && (o->session || o->job || o->status)) {
		jw_errorf(cmd, "--stations lists stations: --session, --job and --status do not apply");
		return JW_EXIT_USAGE;
	}
	return -1;
}

/* Why the query failed: a missing table means no journal here. */
static void query_error(PGconn *pg, const PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if(state && !strcmp(state, "42P01")) {
		jw_errorf("history",
		        "no journal in database \"%s\": table jobwire_finished_jobs does not exist "
		        "(is plugin_opt_journal_conninfo pointing here?)",
		        PQdb(pg));
	} else {
		jw_errorf("history", "query failed: %s", PQresultErrorMessage(res));
	}
}

/* Prints the rows: JSON lines, or a table with the error cut to 80 bytes
 * and without control characters. */
static void print_rows(const PGresult *res, int json)
{
	int rows = PQntuples(res);
	if(!json && rows > 0) {
		printf("%-20s %-32s %-8s %9s %-18s %s\n", "FINISHED (UTC)", "SESSION/JOB", "STATUS",
		        "DURATION", "CODE", "ERROR");
	}
	for(int i = 0; i < rows; i++) {
		if(json) {
			printf("%s\n", PQgetvalue(res, i, 7));
			continue;
		}
		char idbuf[300], errbuf[81];
		/* A retried job's later attempts: "s/j #2". */
		if(strcmp(PQgetvalue(res, i, 8), "1") != 0) {
			snprintf(idbuf, sizeof(idbuf), "%s/%s #%s", PQgetvalue(res, i, 1),
			        PQgetvalue(res, i, 2), PQgetvalue(res, i, 8));
		} else {
			snprintf(idbuf, sizeof(idbuf), "%s/%s", PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
		}
		snprintf(errbuf, sizeof(errbuf), "%s", PQgetvalue(res, i, 6));
		for(char *p = errbuf; *p; p++) {
			if((unsigned char)*p < 0x20) {
				*p = ' ';
			}
		}
		printf("%-20s %-32s %-8s %8ss %-18s %s\n", PQgetvalue(res, i, 0), idbuf,
		        PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), errbuf);
	}
	if(!json && rows == 0) {
		fprintf(stderr, "no finished jobs match\n");
	}
}

int jw_cmd_history(int argc, char **argv)
{
	struct history_opts o = {NULL, NULL, NULL, getenv("JOBWIRE_PG"), "", "50", 0, 0, 0, NULL};
	int rc = parse_options(argc, argv, &o);
	if(rc >= 0) {
		return rc;
	}
	PGconn *pg = PQconnectdb(o.db ? o.db : "");
	if(PQstatus(pg) != CONNECTION_OK) {
		char *m = PQerrorMessage(pg);
		size_t l = strlen(m);
		while(l > 0 && m[l - 1] == '\n') {
			m[--l] = '\0';
		}
		jw_errorf("history", "cannot connect to the journal database: %s", m);
		PQfinish(pg);
		return JW_EXIT_CONNECT;
	}
	if(o.reviews) {
		rc = jw_history_reviews(pg, o.session, o.job, o.since[0] ? o.since : NULL, o.limit, o.json);
		PQfinish(pg);
		return rc;
	}
	if(o.stations) {
		rc = jw_history_stations(pg, o.station, o.since[0] ? o.since : NULL, o.limit, o.json);
		PQfinish(pg);
		return rc;
	}
	const char *params[5] = {o.session, o.job, o.status, o.since[0] ? o.since : NULL, o.limit};
	PGresult *res = PQexecParams(pg, query, 5, NULL, params, NULL, NULL, 0);
	rc = JW_EXIT_OK;
	if(PQresultStatus(res) != PGRES_TUPLES_OK) {
		query_error(pg, res);
		rc = JW_EXIT_CONNECT;
	} else {
		print_rows(res, o.json);
	}
	PQclear(res);
	PQfinish(pg);
	return rc;
}
