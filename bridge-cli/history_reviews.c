/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire history --reviews: answered reviews from the PostgreSQL journal
 * (jobwire_reviews, plugin/sql/reviews.sql), newest first. Read-only, one
 * parameterised query; the filters are cmd_history.c's.
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "cli.h"

static const char query[] =
        "SELECT to_char(answered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " session_id, job_id, choice, coalesce(answered_by, '-'),"
        " round(confidence::numeric, 2)::text,"
        " coalesce(round(threshold::numeric, 2)::text, '-'),"
        " round(extract(epoch FROM answered_at - asked_at)::numeric, 1)::text,"
        " reason, coalesce(comment, ''),"
        " row_to_json(r)::text, attempt::text"
        " FROM jobwire_reviews r"
        " WHERE ($1::text IS NULL OR session_id = $1)"
        "   AND ($2::text IS NULL OR job_id = $2)"
        "   AND ($3::float8 IS NULL OR answered_at >= now() - make_interval(secs => $3::float8))"
        " ORDER BY answered_at DESC, session_id, job_id"
        " LIMIT CASE WHEN $4::bigint = 0 THEN NULL ELSE $4::bigint END";

/* Copies s into buf (n bytes) with control characters made spaces. */
static const char *clean(char *buf, size_t n, const char *s)
{
	snprintf(buf, n, "%s", s);
	for(char *p = buf; *p; p++) {
		if((unsigned char)*p < 0x20) {
			*p = ' ';
		}
	}
	return buf;
}

static void print_rows(const PGresult *res, int json)
{
	int rows = PQntuples(res);

	if(!json && rows > 0) {
		printf("%-20s %-32s %-12s %-16s %5s %5s %8s  %s\n", "ANSWERED (UTC)", "SESSION/JOB",
		        "CHOICE", "BY", "CONF", "THR", "WAITED", "REASON: COMMENT");
	}
	for(int i = 0; i < rows; i++) {
		char id[300], choice[64], by[64], reason[61], comment[81];

		if(json) {
			printf("%s\n", PQgetvalue(res, i, 10));
			continue;
		}
		/* A retried job's later attempts: "s/j #2", as for finished jobs. */
		if(strcmp(PQgetvalue(res, i, 11), "1") != 0) {
			snprintf(id, sizeof(id), "%s/%s #%s", PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
			        PQgetvalue(res, i, 11));
		} else {
			snprintf(id, sizeof(id), "%s/%s", PQgetvalue(res, i, 1), PQgetvalue(res, i, 2));
		}
		clean(choice, sizeof(choice), PQgetvalue(res, i, 3));
		clean(by, sizeof(by), PQgetvalue(res, i, 4));
		clean(reason, sizeof(reason), PQgetvalue(res, i, 8));
		clean(comment, sizeof(comment), PQgetvalue(res, i, 9));
		printf("%-20s %-32s %-12s %-16s %5s %5s %7ss  %s%s%s\n", PQgetvalue(res, i, 0), id, choice,
		        by, PQgetvalue(res, i, 5), PQgetvalue(res, i, 6), PQgetvalue(res, i, 7), reason,
		        comment[0] ? ": " : "", comment);
	}
	if(!json && rows == 0) {
		fprintf(stderr, "no reviews match\n");
	}
}

int jw_history_reviews(PGconn *pg, const char *session, const char *job, const char *since,
        const char *limit, int json)
{
	const char *params[4] = {session, job, since, limit};
	PGresult *res = PQexecParams(pg, query, 4, NULL, params, NULL, NULL, 0);
	int rc = JW_EXIT_OK;

	if(PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if(state && !strcmp(state, "42P01")) {
			jw_errorf("history",
			        "no reviews in database \"%s\": table jobwire_reviews does not exist (the "
			        "broker creates it when its journal connects)",
			        PQdb(pg));
		} else {
			jw_errorf("history", "query failed: %s", PQresultErrorMessage(res));
		}
		rc = JW_EXIT_CONNECT;
	} else {
		print_rows(res, json);
	}
	PQclear(res);
	return rc;
}
