/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves that `jobwire metrics` turns a $jobwire/stats message into the
 * Prometheus names, types and values docs/operations.md lists (counters
 * with _total, gauges, one label per breakdown, escaped label values),
 * that a broker that is down or silent shows as jobwire_up 0 with no
 * stale counters, and that the stats message's age comes from its ts. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "metrics_text.h"
#include "util_check.h"

static const char stats_text[] =
        "{\"type\":\"stats\",\"ts\":\"2026-11-22T03:40:00.000Z\",\"uptime_s\":3600,"
        "\"events\":{\"accepted\":120345,\"rejected\":17,\"duplicates\":2,\"ts_added\":120001,"
        "\"wills_checked\":4,"
        "\"notices\":17,"
        "\"accepted_by_type\":{\"progress\":118000,\"started\":1200},"
        "\"rejected_by_type\":{\"progress\":12},"
        "\"rejected_by_reason\":{\"schema_violation\":9,\"we\\\"ird\\\\\":1}},"
        "\"jobs\":{\"total\":1245,\"running\":98,\"waiting\":2,\"complete\":1100,\"failed\":45,"
        "\"stalled\":7,\"evicted\":0,\"max\":100000,\"memory_bytes\":412000},"
        "\"state\":{\"published\":15320,\"coalesced\":101200,\"failures\":0},"
        "\"persistence\":{\"enabled\":true,\"pending\":3,\"bytes_written\":9120000,\"log_bytes\":"
        "1820000,"
        "\"write_errors\":0,\"damaged_records\":0},"
        "\"journal\":{\"enabled\":true,\"state\":\"down\",\"spooled\":1145,\"committed\":1100,"
        "\"dead_letters\":5,"
        "\"pending_bytes\":4096,\"spool_bytes\":310000,\"spool_max\":268435456,\"lag_ms\":2500,"
        "\"refused\":0,\"lost\":0},"
        "\"schemas\":{\"types\":8,\"reloads\":1,\"reload_failures\":0}}";

static char *render(int connected, const char *stats, int64_t clients, double now)
{
	struct json_object *o = stats ? json_tokener_parse(stats) : NULL;
	struct jw_metrics_input in = {connected, o, clients, now};
	char *out = NULL;
	size_t len = 0;

	ck_assert(!stats || o);
	ck_assert_int_eq(jw_metrics_render(&in, &out, &len), 0);
	ck_assert_uint_eq(strlen(out), len);
	json_object_put(o);
	return out;
}

static void has_line(const char *text, const char *line)
{
	size_t n = strlen(line) + 3;
	char *want = malloc(n);

	ck_assert_ptr_nonnull(want);
	snprintf(want, n, "\n%s\n", line);
	if(!strstr(text, want) && strncmp(text, want + 1, n - 2)) {
		ck_abort_msg("missing line \"%s\" in:\n%s", line, text);
	}
	free(want);
}

START_TEST(up_with_stats)
{
	/* 2026-11-22T03:40:00Z, the stats message's ts. */
	char *t = render(1, stats_text, 12, 1795318800.0 + 7.5);

	has_line(t, "# TYPE jobwire_up gauge");
	has_line(t, "jobwire_up 1");
	has_line(t, "jobwire_stats_age_seconds 7.5");
	has_line(t, "# TYPE jobwire_events_accepted_total counter");
	has_line(t, "jobwire_events_accepted_total{type=\"progress\"} 118000");
	has_line(t, "jobwire_events_accepted_total{type=\"started\"} 1200");
	has_line(t, "jobwire_events_rejected_total{reason=\"schema_violation\"} 9");
	has_line(t, "jobwire_events_rejected_total{reason=\"we\\\"ird\\\\\"} 1");
	has_line(t, "jobwire_events_rejected_by_type_total{type=\"progress\"} 12");
	has_line(t, "# TYPE jobwire_jobs gauge");
	has_line(t, "jobwire_jobs{status=\"running\"} 98");
	has_line(t, "jobwire_jobs{status=\"failed\"} 45");
	has_line(t, "jobwire_jobs_stalled_total 7");
	has_line(t, "jobwire_notices_sent_total 17");
	has_line(t, "jobwire_state_publishes_total 15320");
	has_line(t, "jobwire_journal_rows_written_total 1100");
	has_line(t, "jobwire_journal_rows_dead_lettered_total 5");
	has_line(t, "jobwire_journal_backlog_rows 40");
	has_line(t, "jobwire_journal_backlog_bytes 4096");
	has_line(t, "jobwire_journal_lag_seconds 2.5");
	has_line(t, "jobwire_journal_up 0");
	has_line(t, "jobwire_clients_connected 12");
	has_line(t, "jobwire_uptime_seconds 3600");
	has_line(t, "# TYPE jobwire_persist_pending_records gauge");
	/* JWT off: no auth object, no auth metrics. */
	ck_assert_ptr_null(strstr(t, "jobwire_auth_"));
	/* Every counter family ends in _total; every sample line belongs to a
	 * family declared before it. */
	for(char *line = t; *line;) {
		char *end = strchr(line, '\n');
		ck_assert_ptr_nonnull(end);
		if(!strncmp(line, "# TYPE ", 7) && strstr(line, " counter") == end - 8) {
			ck_assert_msg(!strncmp(end - 14, "_total counter", 14), "counter without _total: %.*s",
			        (int)(end - line), line);
		}
		line = end + 1;
	}
	free(t);
}
END_TEST

START_TEST(down_shows_up_zero_only)
{
	char *t = render(0, stats_text, 12, 0);

	has_line(t, "jobwire_up 0");
	ck_assert_ptr_null(strstr(t, "jobwire_events_"));
	ck_assert_ptr_null(strstr(t, "jobwire_clients_connected"));
	free(t);
	/* Connected but no stats message (plugin not loaded, or its stats off). */
	t = render(1, NULL, 3, 0);
	has_line(t, "jobwire_up 0");
	ck_assert_ptr_null(strstr(t, "jobwire_jobs"));
	free(t);
}
END_TEST

START_TEST(journal_off_and_auth)
{
	char *t = render(1,
	        "{\"type\":\"stats\",\"ts\":\"2026-11-22T03:40:00Z\",\"journal\":{\"enabled\":false,"
	        "\"refused\":0,\"lost\":0},\"auth\":{\"accepted\":5,\"refused\":1,\"connected\":4,"
	        "\"expired_disconnects\":0,\"client_id_refused\":1,\"kept_sessions\":2}}",
	        -1, 0);

	has_line(t, "jobwire_up 1");
	ck_assert_ptr_null(strstr(t, "jobwire_journal_up"));
	ck_assert_ptr_null(strstr(t, "jobwire_journal_backlog_rows"));
	ck_assert_ptr_null(strstr(t, "jobwire_clients_connected"));
	has_line(t, "jobwire_auth_accepted_total 5");
	has_line(t, "jobwire_auth_connections 4");
	has_line(t, "jobwire_auth_kept_sessions 2");
	/* A clock behind the broker's is age 0, not negative. */
	has_line(t, "jobwire_stats_age_seconds 0");
	free(t);
}
END_TEST

START_TEST(stats_age)
{
	/* A ts with an offset is the same instant; a ts that is not RFC 3339
	 * leaves the age out rather than inventing one. */
	char *t = render(1, "{\"type\":\"stats\",\"ts\":\"2026-11-22T05:40:00.500+02:00\"}", -1,
	        1795318800.0 + 10);
	has_line(t, "jobwire_stats_age_seconds 9.5");
	free(t);
	t = render(1, "{\"type\":\"stats\",\"ts\":\"2026-11-22 03:40:00\"}", -1, 1795318800.0);
	has_line(t, "jobwire_up 1");
	ck_assert_ptr_null(strstr(t, "\njobwire_stats_age_seconds "));
	free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_metrics");
	jw_test_case(s, "render", up_with_stats, down_shows_up_zero_only, journal_off_and_auth,
	        stats_age, NULL);
	return jw_test_run(s);
}
