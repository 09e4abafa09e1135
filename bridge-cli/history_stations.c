/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire history --stations: the stations' online/offline transitions
 * from the PostgreSQL journal (jobwire_station_transitions,
 * plugin/sql/003_stations.sql), newest first. Read-only, one
 * parameterised query.
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "cli.h"

static const char query[] =
        "SELECT to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
        " station, state,"
        " CASE WHEN broker_generated THEN 'broker' ELSE coalesce(client_id, '-') END,"
        " coalesce(status->>'reason', ''),"
        " row_to_json(t)::text"
        " FROM jobwire_station_transitions t"
        " WHERE ($1::text IS NULL OR station = $1)"
        "   AND ($2::float8 IS NULL OR at >= now() - make_interval(secs => $2::float8))"
        " ORDER BY at DESC, station, id DESC"
        " LIMIT CASE WHEN $3::bigint = 0 THEN NULL ELSE $3::bigint END";

int jw_history_stations(
        PGconn *pg, const char *station, const char *since, const char *limit, int json)
{
	const char *params[3] = {station, since, limit};
	PGresult *res = PQexecParams(pg, query, 3, NULL, params, NULL, NULL, 0);
	int rows, rc = JW_EXIT_OK;

	if(PQresultStatus(res) != PGRES_TUPLES_OK) {
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		if(state && !strcmp(state, "42P01")) {
			jw_errorf("history",
			        "no station journal in database \"%s\": table jobwire_station_transitions "
			        "does not exist (a broker with the journal on creates it)",
			        PQdb(pg));
		} else {
			jw_errorf("history", "query failed: %s", PQresultErrorMessage(res));
		}
		PQclear(res);
		return JW_EXIT_CONNECT;
	}
	rows = PQntuples(res);
	if(!json && rows > 0) {
		printf("%-24s %-24s %-8s %-20s %s\n", "AT (UTC)", "STATION", "STATE", "BY", "REASON");
	}
	for(int i = 0; i < rows; i++) {
		char by[21], reason[81];

		if(json) {
			printf("%s\n", PQgetvalue(res, i, 5));
			continue;
		}
		snprintf(by, sizeof(by), "%s", PQgetvalue(res, i, 3));
		snprintf(reason, sizeof(reason), "%s", PQgetvalue(res, i, 4));
		/* Client ids and reasons are the clients' text: no control
		 * characters reach the terminal. */
		for(char *p = by; *p; p++) {
			if((unsigned char)*p < 0x20) {
				*p = ' ';
			}
		}
		for(char *p = reason; *p; p++) {
			if((unsigned char)*p < 0x20) {
				*p = ' ';
			}
		}
		printf("%-24s %-24s %-8s %-20s %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		        PQgetvalue(res, i, 2), by, reason);
	}
	if(!json && rows == 0) {
		fprintf(stderr, "no station transitions match\n");
	}
	PQclear(res);
	return rc;
}
