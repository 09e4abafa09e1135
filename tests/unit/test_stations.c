/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The station table (core/stations.h): the topic, presence and its
 * times, the refresh deadline, jobs, and the documents the broker
 * publishes; and the station status schema through the event checks.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "journal_rec.h"
#include "jdoc.h"
#include "schemaset.h"
#include "stations.h"
#include "topic.h"
#include "util_check.h"

/* Parses text into d and returns its root (the test's document). */
static const struct jw_jnode *parse(struct jw_jdoc *d, const char *text)
{
	struct jw_json_error err;

	ck_assert_int_eq(jw_jdoc_parse(d, text, strlen(text), 32, &err), 0);
	return d->root;
}

/* Applies status text to id at (real, mono); returns what the table says. */
static int status(struct jw_stations *s, const char *id, const char *text, bool broker,
        int64_t real, int64_t mono, struct jw_station **st)
{
	struct jw_jdoc d;
	struct jw_clock now = {real, mono};
	int rc;

	jw_jdoc_init(&d);
	rc = jw_stations_status(s, id, parse(&d, text), text, strlen(text), broker, &now, st);
	jw_jdoc_free(&d);
	return rc;
}

START_TEST(topic_kinds)
{
	char id[JW_ID_MAX + 1], why[200];

	ck_assert_int_eq(jw_station_topic_parse("stations/scope-1/status", id, why, sizeof(why)),
	        JW_STATION_TOPIC_STATUS);
	ck_assert_str_eq(id, "scope-1");
	ck_assert_int_eq(jw_station_topic_parse("stations/scope-1/state", id, why, sizeof(why)),
	        JW_STATION_TOPIC_STATE);
	/* The sessions' views are the broker's too. */
	ck_assert_int_eq(
	        jw_station_topic_parse("stations/scope-1/sessions/lab-a", id, why, sizeof(why)),
	        JW_STATION_TOPIC_STATE);
	ck_assert_int_eq(jw_station_topic_parse("stations/scope-1/sessions", id, why, sizeof(why)),
	        JW_STATION_TOPIC_STATE);
	ck_assert_int_eq(jw_station_topic_parse("stations/a b/status", id, why, sizeof(why)),
	        JW_STATION_TOPIC_INVALID);
	ck_assert_ptr_nonnull(strstr(why, "station id"));
	ck_assert_int_eq(jw_station_topic_parse("stations//status", id, why, sizeof(why)),
	        JW_STATION_TOPIC_INVALID);
	/* Deeper levels are another topic, not checked. */
	ck_assert_int_eq(jw_station_topic_parse("stations/a/b/status", id, why, sizeof(why)),
	        JW_STATION_TOPIC_NONE);
	ck_assert_int_eq(
	        jw_station_topic_parse("stations/a/log", id, why, sizeof(why)), JW_STATION_TOPIC_NONE);
	ck_assert_int_eq(
	        jw_station_topic_parse("stations", id, why, sizeof(why)), JW_STATION_TOPIC_NONE);
	ck_assert_int_eq(jw_station_topic_parse("stationsX/a/status", id, why, sizeof(why)),
	        JW_STATION_TOPIC_NONE);
	ck_assert_int_eq(
	        jw_station_topic_parse("jobs/a/b/status", id, why, sizeof(why)), JW_STATION_TOPIC_NONE);
}
END_TEST

START_TEST(presence_times)
{
	struct jw_stations *s = jw_stations_new(60000);
	struct jw_station *st;

	ck_assert_int_eq(status(s, "a", "{\"state\":\"online\",\"sessions\":[\"s1\",\"s2\"]}", false,
	                         1000, 10, &st),
	        1);
	ck_assert(st->online);
	ck_assert_int_eq(st->online_since_ms, 1000);
	ck_assert_int_eq(st->offline_since_ms, 0);
	ck_assert_uint_eq(st->nsessions, 2);
	ck_assert(jw_station_serves(st, "s2"));
	ck_assert(!jw_station_serves(st, "s3"));
	/* A refresh: no transition, online_since stays, last seen moves. */
	ck_assert_int_eq(status(s, "a", "{\"state\":\"online\"}", false, 2000, 20, &st), 0);
	ck_assert_int_eq(st->online_since_ms, 1000);
	ck_assert_int_eq(st->last_seen_ms, 2000);
	ck_assert_uint_eq(st->nsessions, 2);
	ck_assert_int_eq(jw_stations_next_due(s), 20 + 60000);
	/* Offline (a will): offline_since, no deadline. */
	ck_assert_int_eq(status(s, "a", "{\"state\":\"offline\"}", false, 3000, 30, &st), 1);
	ck_assert(!st->online);
	ck_assert_int_eq(st->offline_since_ms, 3000);
	ck_assert_int_eq(st->last_seen_ms, 2000); /* a will is not the station at work */
	ck_assert_int_eq(st->online_since_ms, 1000);
	ck_assert_int_eq(jw_stations_next_due(s), INT64_MAX);
	ck_assert_uint_eq(jw_stations_count(s), 1);
	ck_assert_ptr_eq(jw_stations_find(s, "a"), st);
	ck_assert_ptr_null(jw_stations_find(s, "b"));
	jw_stations_free(s);
}
END_TEST

START_TEST(expiry)
{
	struct jw_stations *s = jw_stations_new(5000);
	struct jw_station *st, *b;
	struct jw_clock now = {0, 0};
	size_t len;
	char *text;

	status(s, "a", "{\"state\":\"online\"}", false, 100, 1000, &st);
	status(s, "b", "{\"state\":\"online\"}", false, 100, 3000, &b);
	now.mono_ms = 5999;
	ck_assert_ptr_null(jw_stations_pop_expired(s, &now));
	now.mono_ms = 6000;
	now.real_ms = 9000;
	ck_assert_ptr_eq(jw_stations_pop_expired(s, &now), st);
	ck_assert_ptr_null(jw_stations_pop_expired(s, &now));
	ck_assert_int_eq(jw_stations_next_due(s), 8000);
	text = jw_station_offline_json(st, 5000, &now, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "\"broker_generated\":true"));
	ck_assert_ptr_nonnull(strstr(text, "\"state\":\"offline\""));
	ck_assert_ptr_nonnull(strstr(text, "no status for 5 s"));
	ck_assert_int_eq(status(s, "a", text, true, 9000, 6000, &st), 1);
	ck_assert(st->broker_generated);
	ck_assert_int_eq(st->last_seen_ms, 100);
	free(text);
	/* Off: no deadline at all. */
	jw_stations_set_timeout(s, 0);
	ck_assert_int_eq(jw_stations_next_due(s), INT64_MAX);
	now.mono_ms = 100000;
	ck_assert_ptr_null(jw_stations_pop_expired(s, &now));
	jw_stations_free(s);
}
END_TEST

START_TEST(jobs_and_state)
{
	struct jw_stations *s = jw_stations_new(0);
	struct jw_station *st;
	size_t len;
	char *text;
	struct jw_jdoc d;

	status(s, "a", "{\"state\":\"online\",\"name\":\"A\"}", false, 1000, 1, &st);
	ck_assert_ptr_null(jw_stations_set_job(s, "zz", "s1", "j1"));
	ck_assert_ptr_eq(jw_stations_set_job(s, "a", "s1", "j1"), st);
	text = jw_station_state_json(st, &len);
	ck_assert_ptr_nonnull(text);
	jw_jdoc_init(&d);
	parse(&d, text);
	ck_assert_ptr_nonnull(jw_jnode_get(d.root, "online_since"));
	ck_assert_int_eq(jw_jnode_get(d.root, "offline_since")->type, JW_J_NULL);
	ck_assert_int_eq(jw_jnode_get(d.root, "job")->type, JW_J_OBJECT);
	ck_assert_int_eq(jw_jnode_get(d.root, "status")->type, JW_J_OBJECT);
	jw_jdoc_free(&d);
	free(text);
	ck_assert_ptr_null(jw_stations_end_job(s, "s1", "j2"));
	ck_assert_ptr_eq(jw_stations_end_job(s, "s1", "j1"), st);
	ck_assert_str_eq(st->job_id, "");
	jw_stations_free(s);
	jw_stations_free(NULL);
}
END_TEST

/* One session's view of a station shared by two: its own session only,
 * the job only when it is that session's, the status without sessions
 * (every other member as published, escapes kept). */
START_TEST(session_views)
{
	struct jw_stations *s = jw_stations_new(0);
	struct jw_station *st;
	size_t len;
	char *text;
	struct jw_jdoc d;
	const struct jw_jnode *sj;

	status(s, "a",
	        "{\"state\":\"online\",\"name\":\"Scope \\\"A\\\"\",\"sessions\":[\"lab-a\",\"lab-b\"],"
	        "\"system\":{\"gpu_percent\":97.5}}",
	        false, 1000, 1, &st);
	ck_assert_ptr_eq(jw_stations_set_job(s, "a", "lab-b", "secret"), st);
	text = jw_station_view_json(st, "lab-a", &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strstr(text, "lab-b"));
	ck_assert_ptr_null(strstr(text, "secret"));
	jw_jdoc_init(&d);
	parse(&d, text);
	ck_assert_int_eq(jw_jnode_get(d.root, "job")->type, JW_J_NULL);
	ck_assert_uint_eq(jw_jnode_get(d.root, "sessions")->n, 1);
	sj = jw_jnode_get(d.root, "status");
	ck_assert_ptr_null(jw_jnode_get(sj, "sessions"));
	ck_assert_str_eq(jw_jnode_get(sj, "name")->u.s, "Scope \"A\"");
	ck_assert(jw_jnode_get(jw_jnode_get(sj, "system"), "gpu_percent")->u.d == 97.5);
	jw_jdoc_free(&d);
	free(text);
	/* The session whose job it runs sees the job. */
	text = jw_station_view_json(st, "lab-b", &len);
	ck_assert_ptr_nonnull(strstr(text, "\"job\":{\"session_id\":\"lab-b\",\"job_id\":\"secret\"}"));
	ck_assert_ptr_null(strstr(text, "lab-a"));
	free(text);
	jw_stations_free(s);
}
END_TEST

START_TEST(schema_and_rules)
{
	struct jw_schemaset *set = NULL;
	struct jw_topic t;
	struct jw_verdict v;
	struct jw_jdoc d;
	char err[512], msg[200];
	const char *ok = "{\"state\":\"online\",\"system\":{\"gpu_percent\":91,"
	                 "\"gpu_memory_percent\":50,\"temperature_c\":40,\"queue_length\":3}}";
	const char *bad = "{\"state\":\"online\",\"system\":{\"queue_length\":-1}}";

	ck_assert_int_eq(jw_schemaset_load_dir(JW_SCHEMAS_DIR, &set, err, sizeof(err)), 0);
	memset(&t, 0, sizeof(t));
	strcpy(t.session, "scope-1");
	strcpy(t.event, "station");
	ck_assert_int_eq(jw_event_check(set, &t, ok, strlen(ok), NULL, &v), 0);
	ck_assert_int_eq(jw_event_check(set, &t, bad, strlen(bad), NULL, &v), -1);
	ck_assert_str_eq(v.field, "/system/queue_length");
	ck_assert_int_eq(jw_event_check(set, &t, "{}", 2, NULL, &v), -1);
	ck_assert_str_eq(v.keyword, "required");
	/* Never a job's event. */
	strcpy(t.job, "j1");
	ck_assert_int_eq(jw_event_check(set, &t, ok, strlen(ok), NULL, &v), -1);
	ck_assert_int_eq(v.reason, JW_REASON_UNKNOWN_EVENT_TYPE);
	jw_schemaset_free(set);

	jw_jdoc_init(&d);
	ck_assert_int_eq(jw_station_status_rules(parse(&d, ok), msg, sizeof(msg)), 0);
	ck_assert_int_eq(
	        jw_station_status_rules(parse(&d, "{\"broker_generated\":true}"), msg, sizeof(msg)),
	        -1);
	jw_jdoc_free(&d);
}
END_TEST

START_TEST(journal_record)
{
	struct jw_journal_rec r;
	struct jw_journal_row row;
	const char *status = "{\"state\":\"offline\",\"reason\":\"gone\"}";
	char err[200], *text;
	size_t len;

	memset(&r, 0, sizeof(r));
	r.kind = JW_JOURNAL_STATION;
	r.session = "scope-1";
	r.job = "offline";
	r.type = "station";
	r.event = status;
	r.event_len = strlen(status);
	r.retryable = -1;
	r.node = "n1";
	r.broker_generated = true;
	r.spooled_ms = 1000;
	text = jw_journal_rec_encode(&r, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(jw_journal_rec_decode(text, len, &row, err, sizeof(err)), 0);
	ck_assert_int_eq(row.kind, JW_JOURNAL_STATION);
	ck_assert_int_eq(row.ncols, JW_JOURNAL_STATION_COLS);
	ck_assert_str_eq(row.v[0], "scope-1");
	ck_assert_str_eq(row.v[1], "offline");
	ck_assert_str_eq(row.v[3], "1970-01-01T00:00:01.000Z");
	ck_assert_str_eq(row.v[4], "true");
	ck_assert_ptr_null(row.v[5]);
	ck_assert_str_eq(row.v[6], "n1");
	jw_journal_row_cleanup(&row);
	free(text);
	/* A state that is neither is damage. */
	r.job = "asleep";
	text = jw_journal_rec_encode(&r, &len);
	ck_assert_int_eq(jw_journal_rec_decode(text, len, &row, err, sizeof(err)), -1);
	jw_journal_row_cleanup(&row);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stations");

	jw_test_case(s, "topic", topic_kinds, NULL);
	jw_test_case(s, "presence", presence_times, NULL);
	jw_test_case(s, "expiry", expiry, NULL);
	jw_test_case(s, "jobs and state", jobs_and_state, session_views, NULL);
	jw_test_case(s, "schema and rules", schema_and_rules, NULL);
	jw_test_case(s, "journal record", journal_record, NULL);
	return jw_test_run(s);
}
