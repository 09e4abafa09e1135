/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the job table enforces every lifecycle rule of docs/lifecycle.md, keeps its ETA,
 * state-publishing and stall timers right, renders states that validate against the real
 * schemas/state.json in every status, restores jobs exactly from records and refuses corrupt
 * ones, leaves the table unchanged when any allocation fails, and stays small at 100000 jobs. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <json-c/json.h>

#include "jdoc.h"
#include "jobs/jobs.h"
#include "jobs/internal.h"
#include "json.h"
#include "schema.h"
#include "util_check.h"

#define BASE_REAL INT64_C(1795315200000) /* 2026-11-22T02:40:00.000Z */
#define BASE_MONO INT64_C(5000000)

static struct jw_schema *state_schema, *failed_schema;

/* Both clocks t ms after the test's epoch. */
static struct jw_clock at(int64_t t)
{
	struct jw_clock c = {BASE_REAL + t, BASE_MONO + t};
	return c;
}

/* The last apply's result and verdict. */
static struct jw_apply_result R;
static struct jw_verdict V;

static int apply_at(struct jw_jobs *jobs, const char *session, const char *job, const char *type,
        const char *payload, struct jw_clock now)
{
	struct jw_jdoc d;
	struct jw_json_error err;
	int rc;

	jw_jdoc_init(&d);
	ck_assert_msg(jw_jdoc_parse(&d, payload, strlen(payload), 32, &err) == 0,
	        "bad test payload %s: %s", payload, err.message);
	rc = jw_jobs_apply(jobs, session, job, type, d.root, payload, strlen(payload), &now, &R, &V);
	jw_jdoc_free(&d);
	return rc;
}

/* Applies an event of job (session s1) at t ms; the outcome, or -1. */
static int ev(
        struct jw_jobs *jobs, const char *job, const char *type, const char *payload, int64_t t)
{
	int rc = apply_at(jobs, "s1", job, type, payload, at(t));

	return rc == 0 ? (int)R.outcome : -1;
}

static struct jw_job *find(struct jw_jobs *jobs, const char *job)
{
	return jw_jobs_find(jobs, "s1", job);
}

static char *state_text(const struct jw_job *j)
{
	size_t len = 0;
	char *s = jw_job_state_json(j, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), len);
	return s;
}

/* The job's state, parsed, after checking it against schemas/state.json. */
static struct json_object *state(const struct jw_job *j)
{
	char *s = state_text(j);
	struct json_object *o = NULL;
	struct jw_json_error err;
	struct jw_schema_error serr;

	ck_assert_msg(jw_json_parse(s, strlen(s), 64, &o, &err) == 0, "state is not JSON: %s: %s",
	        err.message, s);
	ck_assert_msg(jw_schema_validate(state_schema, o, &serr) == 1, "state invalid: %s\n%s",
	        serr.message, s);
	/* Absent optionals are omitted, never null (open objects may hold one). */
	json_object_object_foreach(o, key, val)
	{
		ck_assert_msg(val != NULL, "state member %s is null: %s", key, s);
	}
	free(s);
	return o;
}

static bool has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

static const char *sget(struct json_object *o, const char *key)
{
	struct json_object *m = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &m) && json_object_is_type(m, json_type_string),
	        "no string %s", key);
	return json_object_get_string(m);
}

static double nget(struct json_object *o, const char *key)
{
	struct json_object *m = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &m) &&
	                      (json_object_is_type(m, json_type_int) ||
	                              json_object_is_type(m, json_type_double)),
	        "no number %s", key);
	return json_object_get_double(m);
}

static bool bget(struct json_object *o, const char *key)
{
	struct json_object *m = NULL;

	ck_assert_msg(
	        json_object_object_get_ex(o, key, &m) && json_object_is_type(m, json_type_boolean),
	        "no boolean %s", key);
	return json_object_get_boolean(m);
}

static struct json_object *oget(struct json_object *o, const char *key)
{
	struct json_object *m = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &m) && m, "no member %s", key);
	return m;
}

/* ---- configuration ---- */

START_TEST(config)
{
	struct jw_jobs_config bad[] = {
	        {.heartbeat_interval_s = -1},
	        {.heartbeat_interval_s = 90000},
	        {.heartbeat_interval_s = NAN},
	        {.state_max_rate = -1},
	        {.state_max_rate = 5000},
	        {.max_jobs = 200000000},
	};
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct jw_jobs_stats st;

	ck_assert_ptr_nonnull(jobs);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.jobs, 0);
	ck_assert_uint_gt(st.memory_bytes, 0);
	jw_jobs_free(jobs);
	jw_jobs_free(NULL);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_ptr_null(jw_jobs_new(&bad[i]));
	ck_assert_str_eq(jw_job_status_name(JW_JOB_RUNNING), "running");
	ck_assert_str_eq(jw_job_status_name(JW_JOB_WAITING), "waiting");
	ck_assert_str_eq(jw_job_status_name(JW_JOB_COMPLETE), "complete");
	ck_assert_str_eq(jw_job_status_name(JW_JOB_FAILED), "failed");
	ck_assert(jw_jobs_type_is_urgent("complete"));
	ck_assert(jw_jobs_type_is_urgent("failed"));
	ck_assert(jw_jobs_type_is_urgent("validation-required"));
	ck_assert(!jw_jobs_type_is_urgent("progress"));
	ck_assert(!jw_jobs_type_is_urgent("started"));
	ck_assert(!jw_jobs_type_is_urgent("heartbeat"));
	ck_assert(!jw_jobs_type_is_urgent("control"));
	ck_assert(!jw_jobs_type_is_urgent(NULL));
}
END_TEST

/* ---- lifecycle rules ---- */

START_TEST(first_event_creates)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct json_object *o;
	struct jw_jobs_stats st;
	char key[300], small[4], longid[129];
	struct jw_job *j;

	/* A bare progress is enough: started is optional. */
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":10}", 0), JW_APPLY_ACCEPT);
	ck_assert(R.created);
	ck_assert(!R.urgent);
	ck_assert_uint_eq(R.seq, 1);
	j = R.job;
	ck_assert_ptr_eq(find(jobs, "j1"), j);
	ck_assert_ptr_null(jw_jobs_find(jobs, "s2", "j1"));
	ck_assert_ptr_null(find(jobs, "j"));
	ck_assert_int_eq(jw_job_status(j), JW_JOB_RUNNING);
	ck_assert(!jw_job_finished(j));
	ck_assert_str_eq(jw_job_session(j), "s1");
	ck_assert_str_eq(jw_job_id(j), "j1");
	ck_assert_int_eq(jw_job_key(j, key, sizeof(key)), 5);
	ck_assert_str_eq(key, "s1/j1");
	ck_assert_int_eq(jw_job_key(j, small, sizeof(small)), -1);
	o = state(j);
	ck_assert_str_eq(sget(o, "type"), "state");
	ck_assert_str_eq(sget(o, "status"), "running");
	ck_assert_double_eq(nget(o, "progress"), 10);
	ck_assert_double_eq(nget(o, "heartbeat_interval_s"), 30);
	ck_assert_str_eq(sget(o, "first_seen_at"), "2026-11-22T02:40:00.000Z");
	ck_assert_str_eq(sget(o, "last_heartbeat_at"), "2026-11-22T02:40:00.000Z");
	ck_assert(!has(o, "started_at"));
	ck_assert(!has(o, "finished_at"));
	json_object_put(o);

	/* A heartbeat or a custom type creates a job too. */
	ck_assert_int_eq(ev(jobs, "j2", "heartbeat", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert(R.created);
	o = state(R.job);
	ck_assert(!has(o, "progress"));
	json_object_put(o);
	ck_assert_int_eq(ev(jobs, "j3", "annotation-batch", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert(R.created);

	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":20}", 1500), JW_APPLY_ACCEPT);
	ck_assert(!R.created);
	ck_assert_uint_eq(R.seq, 2);
	ck_assert_uint_eq(jw_job_seq(j), 2);
	o = state(j);
	ck_assert_str_eq(sget(o, "updated_at"), "2026-11-22T02:40:01.500Z");
	ck_assert_str_eq(sget(o, "first_seen_at"), "2026-11-22T02:40:00.000Z");
	json_object_put(o);

	/* The longest ids, and the same job id in another session. */
	memset(longid, 'x', 128);
	longid[128] = '\0';
	ck_assert_int_eq(apply_at(jobs, longid, longid, "progress", "{\"progress\":1}", at(0)), 0);
	ck_assert_int_eq(R.outcome, JW_APPLY_ACCEPT);
	ck_assert_int_eq(jw_job_key(R.job, key, sizeof(key)), 257);
	ck_assert_ptr_eq(jw_jobs_find(jobs, longid, longid), R.job);
	ck_assert_int_eq(apply_at(jobs, "s2", "j1", "progress", "{\"progress\":1}", at(0)), 0);
	ck_assert(R.created);
	ck_assert_ptr_ne(R.job, j);

	/* Ids the topic layer would never pass are refused, not stored. */
	ck_assert_int_eq(apply_at(jobs, "s 1", "j1", "progress", "{\"progress\":1}", at(0)), 0);
	ck_assert_int_eq(R.outcome, JW_APPLY_REJECT);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.jobs, 5);
	ck_assert_uint_eq(st.by_status[JW_JOB_RUNNING], 5);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(started_fields)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct json_object *o;
	struct jw_job *j;

	ck_assert_int_eq(ev(jobs, "j1", "started",
	                         "{\"ts\":\"2026-11-22T03:40:00.5+01:00\",\"name\":\"Annotate\","
	                         "\"worker\":\"w1\",\"total\":100,\"steps\":[\"a\",\"b\"],"
	                         "\"heartbeat_interval_s\":10,\"metadata\":{\"k\":1}}",
	                         0),
	        JW_APPLY_ACCEPT);
	j = R.job;
	ck_assert_double_eq(jw_job_heartbeat_interval(j), 10);
	o = state(j);
	ck_assert_str_eq(sget(o, "name"), "Annotate");
	ck_assert_str_eq(sget(o, "worker"), "w1");
	ck_assert_double_eq(nget(o, "total"), 100);
	ck_assert_uint_eq(json_object_array_length(oget(o, "steps")), 2);
	ck_assert_double_eq(nget(o, "heartbeat_interval_s"), 10);
	ck_assert_str_eq(sget(o, "started_at"), "2026-11-22T02:40:00.500Z");
	json_object_put(o);

	/* started again on a running job updates what it carries, keeps the rest
	 * and the first start time. */
	ck_assert_int_eq(ev(jobs, "j1", "started",
	                         "{\"name\":\"Renamed\",\"heartbeat_interval_s\":20,\"total\":200,"
	                         "\"steps\":[\"c\"]}",
	                         1000),
	        JW_APPLY_ACCEPT);
	ck_assert(!R.created);
	o = state(j);
	ck_assert_str_eq(sget(o, "name"), "Renamed");
	ck_assert_str_eq(sget(o, "worker"), "w1");
	ck_assert_double_eq(nget(o, "total"), 200);
	ck_assert_uint_eq(json_object_array_length(oget(o, "steps")), 1);
	ck_assert_double_eq(nget(o, "heartbeat_interval_s"), 20);
	ck_assert_str_eq(sget(o, "started_at"), "2026-11-22T02:40:00.500Z");
	json_object_put(o);

	/* Without ts: the receipt time. */
	ck_assert_int_eq(ev(jobs, "j2", "started", "{}", 2000), JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert_str_eq(sget(o, "started_at"), "2026-11-22T02:40:02.000Z");
	ck_assert_double_eq(nget(o, "heartbeat_interval_s"), 30);
	json_object_put(o);
	/* A job created by progress learns its start from a later started. */
	ck_assert_int_eq(ev(jobs, "j3", "progress", "{\"progress\":5}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "j3", "started", "{\"ts\":\"2026-11-22T02:39:00Z\"}", 100), JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert_str_eq(sget(o, "started_at"), "2026-11-22T02:39:00.000Z");
	ck_assert_double_eq(nget(o, "progress"), 5);
	json_object_put(o);
	/* A ts before 1970 cannot be shown as a 4-digit-year state time: receipt. */
	ck_assert_int_eq(
	        ev(jobs, "j4", "started", "{\"ts\":\"1969-12-31T23:59:59Z\"}", 3000), JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert_str_eq(sget(o, "started_at"), "2026-11-22T02:40:03.000Z");
	json_object_put(o);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(timestamps)
{
	static const struct {
		const char *ts;
		int ok;
		int64_t ms;
	} cases[] = {
	        {"1970-01-01T00:00:00Z", 1, 0},
	        {"2026-11-22T02:40:00.123Z", 1, INT64_C(1795315200123)},
	        {"2026-11-22t02:40:00.1234567z", 1, INT64_C(1795315200123)},
	        {"2026-11-22T03:40:00.5+01:00", 1, INT64_C(1795315200500)},
	        {"2026-11-21T22:10:00-04:30", 1, INT64_C(1795315200000)},
	        {"2016-12-31T23:59:60Z", 1, INT64_C(1483228799999)},
	        {"2024-02-29T00:00:00Z", 1, INT64_C(1709164800000)},
	        {"9999-12-31T23:59:59.999Z", 1, JW_TS_MAX_MS},
	        {"2023-02-29T00:00:00Z", 0, 0},
	        {"1969-12-31T23:59:59Z", 0, 0},
	        {"1970-01-01T00:30:00+01:00", 0, 0},
	        {"2026-11-22T02:40:00", 0, 0},
	        {"2026-11-22T02:40:00.Z", 0, 0},
	        {"2026-11-22 02:40:00Z", 0, 0},
	        {"2026-11-22T02:40:00+0100", 0, 0},
	        {"2026-11-22T02:40:00Zx", 0, 0},
	};
	char buf[40];

	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ms = -1;
		bool ok = jw_jobs__parse_ts(cases[i].ts, strlen(cases[i].ts), &ms);

		ck_assert_msg(ok == (cases[i].ok != 0), "%s", cases[i].ts);
		if(ok)
			ck_assert_msg(ms == cases[i].ms, "%s: %" PRId64, cases[i].ts, ms);
	}
	ck_assert_int_eq(jw_jobs__format_ts(buf, sizeof(buf), INT64_C(1795315200123)), 24);
	ck_assert_str_eq(buf, "2026-11-22T02:40:00.123Z");
	ck_assert_int_eq(jw_jobs__format_ts(buf, sizeof(buf), -1), -1);
	jw_jobs__fmt_num(buf, sizeof(buf), 45);
	ck_assert_str_eq(buf, "45");
	jw_jobs__fmt_num(buf, sizeof(buf), 0.1);
	ck_assert_str_eq(buf, "0.1");
	jw_jobs__fmt_num(buf, sizeof(buf), -0.0);
	ck_assert_str_eq(buf, "0");
	jw_jobs__fmt_num(buf, sizeof(buf), 1e20);
	ck_assert_str_eq(buf, "1e+20");
	jw_jobs__fmt_num(buf, sizeof(buf), 100.0 / 3);
	ck_assert(strtod(buf, NULL) == 100.0 / 3);
}
END_TEST

/* The printf-only formatter the fast path must agree with. */
static void fmt_num_reference(char *buf, size_t buflen, double v)
{
	int n = 0;

	if(!isfinite(v) || v == 0) {
		n = snprintf(buf, buflen, "0");
	} else if(fabs(v) < 1e15 && v == floor(v)) {
		n = snprintf(buf, buflen, "%.0f", v);
	} else {
		for(int prec = 15; prec <= 17; prec++) {
			n = snprintf(buf, buflen, "%.*g", prec, v);
			if(n < 0 || (size_t)n >= buflen || strtod(buf, NULL) == v)
				break;
		}
	}
	if(n < 0 || (size_t)n >= buflen)
		buf[0] = '\0';
}

static void fmt_num_same(double v)
{
	char want[64], got[64];

	fmt_num_reference(want, sizeof(want), v);
	jw_jobs__fmt_num(got, sizeof(got), v);
	ck_assert_msg(!strcmp(got, want), "%.17g: got %s, want %s", v, got, want);
	/* The records' variant may be longer, but restores every bit. */
	jw_jobs__fmt_num_exact(got, sizeof(got), v);
	ck_assert_msg(
	        strtod(got, NULL) == v || (v == 0 && !strcmp(got, "0")), "%.17g: exact %s", v, got);
}

/* Numbers print the same text as with printf's shortest round trip, for
 * short decimals, integers, tiny and huge values and random bit patterns. */
START_TEST(numbers_match_printf)
{
	static const double fixed[] = {
	        42.5,
	        0.1,
	        0.2,
	        0.3,
	        1.1,
	        2.675,
	        1e-4,
	        1.5e-4,
	        9.9999e-5,
	        0.000123,
	        123456.789,
	        999999999999999.0,
	        999999999999999.5,
	        1e15,
	        1e15 + 2,
	        99999999999999.9,
	        0.1 + 0.2,
	        1.0 / 3,
	        2.0 / 3,
	        1e-300,
	        5e-324,
	        1.7976931348623157e308,
	        4503599627370495.5,
	        -42.5,
	        -0.001,
	        -123456789012.345,
	        0.5,
	        0.25,
	        0.125,
	        100.0 / 3,
	        12.34,
	        99.99,
	        1e-5,
	};
	uint64_t x = 0x9E3779B97F4A7C15ULL;

	static const int64_t ints[] = {0, 1, -1, 9, 10, -10, 1795315200123, INT64_MAX, INT64_MIN};

	for(size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		fmt_num_same(fixed[i]);
	/* Integers in records and states are written without printf. */
	for(size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		struct jw_buf b = {0};
		char want[64];
		char *got;
		size_t len = 0;

		snprintf(want, sizeof(want), "%" PRId64 ",%" PRIu64, ints[i], (uint64_t)ints[i]);
		jw_jobs__buf_i64(&b, ints[i]);
		jw_buf_add(&b, ",", 1);
		jw_jobs__buf_u64(&b, (uint64_t)ints[i]);
		got = jw_buf_take(&b, &len);
		ck_assert_str_eq(got, want);
		ck_assert_uint_eq(len, strlen(want));
		free(got);
	}
	for(int i = 0; i < 100000; i++) {
		double v;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		switch(i % 4) {
			case 0: /* short decimals, as progress and rates carry them */
				v = (double)(int64_t)(x % 20000001) / (double)(1 + (int)(x >> 40) % 1000);
				break;
			case 1: /* up to six decimals */
				v = (double)(int64_t)(x % 2000000001) / 1e6 - 1000;
				break;
			case 2: /* arbitrary finite doubles */
				memcpy(&v, &x, sizeof(v));
				if(!isfinite(v))
					v = 1;
				break;
			default: /* products, as the estimator computes them */
				v = (double)(x % 100000) * 0.1 * (double)((x >> 32) % 1000) / 7.0;
				break;
		}
		fmt_num_same(v);
	}
}
END_TEST

START_TEST(progress_rules)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct json_object *o;
	struct jw_job *j;

	ck_assert_int_eq(ev(jobs, "j1", "progress",
	                         "{\"progress\":55,\"message\":\"m1\",\"step\":\"s1\","
	                         "\"items_added\":3,\"items_failed\":1}",
	                         0),
	        JW_APPLY_ACCEPT);
	j = R.job;
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":40}", 100), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_PROGRESS_BACKWARDS);
	ck_assert_str_eq(V.field, "/progress");
	ck_assert_str_eq(V.message, "/progress: 40 is below the job's progress 55");
	ck_assert_uint_eq(jw_job_seq(j), 1);
	/* Equal is fine; absent members keep their last value. */
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":55}", 200), JW_APPLY_ACCEPT);
	o = state(j);
	ck_assert_str_eq(sget(o, "message"), "m1");
	ck_assert_str_eq(sget(o, "step"), "s1");
	ck_assert_double_eq(nget(o, "items_added"), 3);
	ck_assert_double_eq(nget(o, "items_failed"), 1);
	json_object_put(o);
	/* current/total is 100 * current / total. */
	ck_assert_int_eq(
	        ev(jobs, "j1", "progress", "{\"current\":50,\"total\":100}", 300), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_PROGRESS_BACKWARDS);
	ck_assert_str_eq(V.field, "/current");
	ck_assert_str_eq(V.message, "/current: 50 of 100 (50%) is below the job's progress 55");
	ck_assert_int_eq(
	        ev(jobs, "j1", "progress", "{\"current\":60,\"total\":100,\"message\":\"m2\"}", 400),
	        JW_APPLY_ACCEPT);
	o = state(j);
	ck_assert_double_eq(nget(o, "progress"), 60);
	ck_assert_double_eq(nget(o, "current"), 60);
	ck_assert_double_eq(nget(o, "total"), 100);
	ck_assert_str_eq(sget(o, "message"), "m2");
	json_object_put(o);
	/* total 0: no overall figure, progress unchanged. */
	ck_assert_int_eq(
	        ev(jobs, "j1", "progress", "{\"current\":0,\"total\":0}", 500), JW_APPLY_ACCEPT);
	o = state(j);
	ck_assert_double_eq(nget(o, "progress"), 60);
	ck_assert_double_eq(nget(o, "current"), 0);
	ck_assert_double_eq(nget(o, "total"), 0);
	json_object_put(o);
	/* With both forms, progress is the overall figure. */
	ck_assert_int_eq(
	        ev(jobs, "j1", "progress", "{\"progress\":60.5,\"current\":1,\"total\":100}", 600),
	        JW_APPLY_ACCEPT);
	o = state(j);
	ck_assert_double_eq(nget(o, "progress"), 60.5);
	ck_assert_double_eq(nget(o, "current"), 1);
	json_object_put(o);
	ck_assert_uint_eq(jw_job_seq(j), 5);

	/* 100 * 1 / 3 and the same figure sent as a rounded decimal differ in the
	 * last bits: not backwards, and the job keeps the larger. */
	ck_assert_int_eq(ev(jobs, "j2", "progress", "{\"current\":1,\"total\":3}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "j2", "progress", "{\"progress\":33.33333333333333}", 100), JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert(nget(o, "progress") == 100.0 / 3);
	json_object_put(o);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(complete_is_terminal)
{
	static const char done[] = "{\"result\":{\"n\":3,\"path\":\"s3://x/y\",\"r\":0.1},"
	                           "\"message\":\"done\"}";
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct jw_jobs_stats st;
	struct json_object *o;
	struct jw_job *j;
	char *before, *after;

	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 0), JW_APPLY_ACCEPT);
	j = R.job;
	ck_assert_int_eq(
	        ev(jobs, "j1", "progress", "{\"progress\":50,\"eta_s\":10}", 1000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "complete", done, 10000), JW_APPLY_ACCEPT);
	ck_assert(R.urgent);
	ck_assert_uint_eq(R.seq, 3);
	ck_assert(jw_job_finished(j));
	ck_assert_int_eq(jw_job_status(j), JW_JOB_COMPLETE);
	o = state(j);
	ck_assert_str_eq(sget(o, "status"), "complete");
	ck_assert_double_eq(nget(o, "progress"), 100);
	ck_assert_str_eq(sget(o, "finished_at"), "2026-11-22T02:40:10.000Z");
	ck_assert_double_eq(nget(o, "duration_s"), 10);
	ck_assert_double_eq(nget(oget(o, "result"), "n"), 3);
	ck_assert_str_eq(sget(oget(o, "result"), "path"), "s3://x/y");
	ck_assert_str_eq(sget(o, "message"), "done");
	ck_assert(!has(o, "eta_s"));
	json_object_put(o);

	/* The exact bytes again: a retransmission, acknowledged, nothing changes. */
	before = state_text(j);
	ck_assert_int_eq(ev(jobs, "j1", "complete", done, 11000), JW_APPLY_DUPLICATE);
	ck_assert_ptr_eq(R.job, j);
	ck_assert_uint_eq(R.seq, 3);
	after = state_text(j);
	ck_assert_str_eq(before, after);
	free(after);
	/* Anything else is refused, the same content respaced included. */
	ck_assert_int_eq(ev(jobs, "j1", "complete", "{\"message\":\"done\"}", 12000), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_JOB_FINISHED);
	ck_assert_str_eq(V.field, "");
	ck_assert_str_eq(V.message, "job j1 is already complete");
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":100}", 12000), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_JOB_FINISHED);
	ck_assert_int_eq(ev(jobs, "j1", "heartbeat", "{}", 12000), JW_APPLY_REJECT);
	ck_assert_int_eq(ev(jobs, "j1", "failed", "{\"error\":\"x\"}", 12000), JW_APPLY_REJECT);
	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 12000), JW_APPLY_REJECT);
	after = state_text(j);
	ck_assert_str_eq(before, after);
	free(after);
	free(before);

	/* The same bytes on another event topic are not a retransmission. */
	ck_assert_int_eq(ev(jobs, "j2", "complete", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert(R.created);
	ck_assert_int_eq(ev(jobs, "j2", "heartbeat", "{}", 0), JW_APPLY_REJECT);
	ck_assert_int_eq(ev(jobs, "j2", "complete", "{}", 0), JW_APPLY_DUPLICATE);

	/* duration_s from the event, else finished - started (first seen when
	 * there was no started). */
	ck_assert_int_eq(ev(jobs, "j3", "complete", "{\"duration_s\":312.4}", 0), JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert_double_eq(nget(o, "duration_s"), 312.4);
	json_object_put(o);
	ck_assert_int_eq(ev(jobs, "j4", "heartbeat", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j4", "complete", "{\"ts\":\"2026-11-22T02:40:05.250Z\"}", 6000),
	        JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert_double_eq(nget(o, "duration_s"), 5.25);
	ck_assert_str_eq(sget(o, "finished_at"), "2026-11-22T02:40:05.250Z");
	json_object_put(o);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.by_status[JW_JOB_COMPLETE], 4);
	ck_assert_uint_eq(st.by_status[JW_JOB_RUNNING], 0);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(failed_is_terminal)
{
	static const char fail[] = "{\"error\":\"CUDA out of memory\",\"code\":\"out_of_memory\","
	                           "\"retryable\":true,\"details\":{\"slice\":97,\"gpu\":[0,1]}}";
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct json_object *o;
	struct jw_jobs_stats st;
	struct jw_job *j;

	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":42}", 0), JW_APPLY_ACCEPT);
	j = R.job;
	ck_assert_int_eq(ev(jobs, "j1", "failed", fail, 2000), JW_APPLY_ACCEPT);
	ck_assert(R.urgent);
	o = state(j);
	ck_assert_str_eq(sget(o, "status"), "failed");
	ck_assert_str_eq(sget(o, "error"), "CUDA out of memory");
	ck_assert_str_eq(sget(o, "code"), "out_of_memory");
	ck_assert(bget(o, "retryable"));
	ck_assert_double_eq(nget(oget(o, "details"), "slice"), 97);
	ck_assert_str_eq(sget(o, "finished_at"), "2026-11-22T02:40:02.000Z");
	ck_assert_double_eq(nget(o, "progress"), 42);
	ck_assert(!has(o, "broker_generated"));
	ck_assert(!has(o, "duration_s"));
	json_object_put(o);
	ck_assert_int_eq(ev(jobs, "j1", "failed", fail, 3000), JW_APPLY_DUPLICATE);
	ck_assert_int_eq(ev(jobs, "j1", "complete", "{}", 3000), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_JOB_FINISHED);
	ck_assert_str_eq(V.message, "job j1 is already failed");
	/* A worker's own heartbeat_timeout is not a broker stall. */
	ck_assert_int_eq(ev(jobs, "j2", "failed",
	                         "{\"error\":\"gave up\",\"code\":\"heartbeat_timeout\","
	                         "\"broker_generated\":false}",
	                         0),
	        JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert(!bget(o, "broker_generated"));
	json_object_put(o);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.stalled, 0);
	ck_assert_uint_eq(st.by_status[JW_JOB_FAILED], 2);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(waiting_for_review)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct json_object *o, *val;
	struct jw_jobs_stats st;
	struct jw_job *j;

	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":10}", 0), JW_APPLY_ACCEPT);
	j = R.job;
	ck_assert_int_eq(ev(jobs, "j1", "validation-required",
	                         "{\"reason\":\"uncertain\",\"confidence\":0.61,\"threshold\":0.8,"
	                         "\"item\":{\"variant_id\":123},\"actions\":[\"approve\",\"reject\"]}",
	                         1000),
	        JW_APPLY_ACCEPT);
	ck_assert(R.urgent);
	ck_assert_int_eq(jw_job_status(j), JW_JOB_WAITING);
	o = state(j);
	ck_assert_str_eq(sget(o, "status"), "waiting");
	val = oget(o, "validation");
	ck_assert_str_eq(sget(val, "reason"), "uncertain");
	ck_assert_double_eq(nget(val, "confidence"), 0.61);
	ck_assert_double_eq(nget(val, "threshold"), 0.8);
	ck_assert_double_eq(nget(oget(val, "item"), "variant_id"), 123);
	ck_assert_uint_eq(json_object_array_length(oget(val, "actions")), 2);
	json_object_put(o);
	/* Heartbeats and started keep it waiting. */
	ck_assert_int_eq(ev(jobs, "j1", "heartbeat", "{}", 2000), JW_APPLY_ACCEPT);
	ck_assert(!R.urgent);
	ck_assert_int_eq(jw_job_status(j), JW_JOB_WAITING);
	ck_assert_int_eq(ev(jobs, "j1", "started", "{\"name\":\"n\"}", 2000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(jw_job_status(j), JW_JOB_WAITING);
	/* A second request replaces the first. */
	ck_assert_int_eq(ev(jobs, "j1", "validation-required",
	                         "{\"reason\":\"again\",\"confidence\":0.1}", 3000),
	        JW_APPLY_ACCEPT);
	ck_assert(R.urgent);
	o = state(j);
	val = oget(o, "validation");
	ck_assert_str_eq(sget(val, "reason"), "again");
	ck_assert(!has(val, "threshold"));
	ck_assert(!has(val, "item"));
	json_object_put(o);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.by_status[JW_JOB_WAITING], 1);
	/* Progress resumes it. */
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":20}", 4000), JW_APPLY_ACCEPT);
	ck_assert(!R.urgent);
	o = state(j);
	ck_assert_str_eq(sget(o, "status"), "running");
	ck_assert(!has(o, "validation"));
	json_object_put(o);
	/* So does an end; a job may begin by asking for review. */
	ck_assert_int_eq(
	        ev(jobs, "j2", "validation-required", "{\"reason\":\"r\",\"confidence\":0}", 0),
	        JW_APPLY_ACCEPT);
	ck_assert(R.created);
	ck_assert_int_eq(jw_job_status(R.job), JW_JOB_WAITING);
	json_object_put(state(R.job));
	ck_assert_int_eq(ev(jobs, "j2", "complete", "{}", 100), JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert_str_eq(sget(o, "status"), "complete");
	ck_assert(!has(o, "validation"));
	json_object_put(o);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.by_status[JW_JOB_WAITING], 0);
	ck_assert_uint_eq(st.by_status[JW_JOB_RUNNING], 1);
	ck_assert_uint_eq(st.by_status[JW_JOB_COMPLETE], 1);
	jw_jobs_free(jobs);
}
END_TEST

/* The state without the members any accepted event changes. */
static char *state_sans_activity(const struct jw_job *j)
{
	struct json_object *o = state(j);
	char *s;

	json_object_object_del(o, "seq");
	json_object_object_del(o, "updated_at");
	json_object_object_del(o, "last_heartbeat_at");
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

START_TEST(activity_only_events)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct json_object *o;
	struct jw_job *j;
	char *a, *b;

	ck_assert_int_eq(
	        ev(jobs, "j1", "progress", "{\"progress\":30,\"message\":\"m\",\"eta_s\":12}", 0),
	        JW_APPLY_ACCEPT);
	j = R.job;
	a = state_sans_activity(j);
	ck_assert_int_eq(
	        ev(jobs, "j1", "heartbeat", "{\"system\":{\"cpu_percent\":5}}", 2000), JW_APPLY_ACCEPT);
	ck_assert(!R.urgent);
	ck_assert_uint_eq(R.seq, 2);
	ck_assert_int_eq(ev(jobs, "j1", "custom-note", "{\"anything\":[1,2]}", 3000), JW_APPLY_ACCEPT);
	ck_assert_uint_eq(R.seq, 3);
	b = state_sans_activity(j);
	ck_assert_str_eq(a, b);
	o = state(j);
	ck_assert_str_eq(sget(o, "updated_at"), "2026-11-22T02:40:03.000Z");
	ck_assert_str_eq(sget(o, "last_heartbeat_at"), "2026-11-22T02:40:03.000Z");
	json_object_put(o);
	free(a);
	free(b);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(control_rules)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct jw_jobs_stats st;
	struct json_object *o;
	struct jw_job *j;
	struct jw_clock now;

	/* Control never creates a job. */
	ck_assert_int_eq(ev(jobs, "j9", "control", "{\"action\":\"cancel\"}", 0), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_UNKNOWN_JOB);
	ck_assert_str_eq(V.field, "");
	ck_assert_str_eq(V.message, "no such job: j9");
	ck_assert_ptr_null(find(jobs, "j9"));
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.jobs, 0);

	ck_assert_int_eq(
	        ev(jobs, "j1", "started", "{\"heartbeat_interval_s\":10}", 0), JW_APPLY_ACCEPT);
	j = R.job;
	ck_assert_int_eq(ev(jobs, "j1", "control", "{\"action\":\"cancel\",\"reason\":\"oops\"}", 5000),
	        JW_APPLY_ACCEPT);
	ck_assert(!R.urgent);
	ck_assert(!R.created);
	ck_assert_uint_eq(R.seq, 2);
	ck_assert(jw_job_cancel_requested(j));
	o = state(j);
	ck_assert(bget(o, "cancel_requested"));
	ck_assert_str_eq(sget(o, "cancel_requested_at"), "2026-11-22T02:40:05.000Z");
	ck_assert_str_eq(sget(o, "updated_at"), "2026-11-22T02:40:05.000Z");
	/* Not worker activity. */
	ck_assert_str_eq(sget(o, "last_heartbeat_at"), "2026-11-22T02:40:00.000Z");
	json_object_put(o);
	now = at(29999);
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));
	now = at(30000);
	ck_assert_ptr_eq(jw_jobs_pop_stalled(jobs, &now), j);
	/* A repeat is delivered again and keeps the first request's time. */
	ck_assert_int_eq(ev(jobs, "j1", "control", "{\"action\":\"cancel\"}", 6000), JW_APPLY_ACCEPT);
	ck_assert_uint_eq(R.seq, 3);
	o = state(j);
	ck_assert_str_eq(sget(o, "cancel_requested_at"), "2026-11-22T02:40:05.000Z");
	json_object_put(o);
	/* The worker honours it; the request stays on record. */
	ck_assert_int_eq(ev(jobs, "j1", "failed",
	                         "{\"error\":\"cancelled by alice\",\"code\":\"cancelled\","
	                         "\"retryable\":false}",
	                         7000),
	        JW_APPLY_ACCEPT);
	o = state(j);
	ck_assert(bget(o, "cancel_requested"));
	ck_assert(!bget(o, "retryable"));
	json_object_put(o);
	ck_assert_int_eq(ev(jobs, "j1", "control", "{\"action\":\"cancel\"}", 8000), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_JOB_FINISHED);
	ck_assert_str_eq(V.message, "job j1 is already failed");
	jw_jobs_free(jobs);
}
END_TEST

static char evicted_keys[8][300];
static int nevicted;

static void on_evict(const struct jw_job *j, void *arg)
{
	ck_assert_ptr_eq(arg, &nevicted);
	ck_assert(jw_job_finished(j));
	if(nevicted < 8)
		ck_assert_int_gt(jw_job_key(j, evicted_keys[nevicted++], sizeof(evicted_keys[0])), 0);
}

START_TEST(full_table)
{
	struct jw_jobs_config cfg = {.max_jobs = 3, .on_evict = on_evict, .on_evict_arg = &nevicted};
	struct jw_jobs *jobs = jw_jobs_new(&cfg);
	struct jw_jobs_stats st;

	nevicted = 0;
	ck_assert_int_eq(ev(jobs, "a", "progress", "{\"progress\":1}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "b", "progress", "{\"progress\":1}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "c", "progress", "{\"progress\":1}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "d", "progress", "{\"progress\":1}", 0), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_TOO_MANY_JOBS);
	ck_assert_str_eq(V.message, "job table full: 3 unfinished jobs");
	ck_assert_ptr_null(find(jobs, "d"));
	/* b finishes first, then a (whose event says it finished earlier:
	 * the order is the broker's, by receipt). */
	ck_assert_int_eq(ev(jobs, "b", "complete", "{}", 10), JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "a", "failed", "{\"error\":\"e\",\"ts\":\"2020-01-01T00:00:00Z\"}", 20),
	        JW_APPLY_ACCEPT);
	/* Existing jobs still take events. */
	ck_assert_int_eq(ev(jobs, "c", "progress", "{\"progress\":2}", 30), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "d", "progress", "{\"progress\":1}", 40), JW_APPLY_ACCEPT);
	ck_assert(R.created);
	ck_assert_ptr_null(find(jobs, "b"));
	ck_assert_ptr_nonnull(find(jobs, "a"));
	ck_assert_int_eq(nevicted, 1);
	ck_assert_str_eq(evicted_keys[0], "s1/b");
	ck_assert_int_eq(ev(jobs, "e", "heartbeat", "{}", 50), JW_APPLY_ACCEPT);
	ck_assert_ptr_null(find(jobs, "a"));
	ck_assert_str_eq(evicted_keys[1], "s1/a");
	ck_assert_int_eq(ev(jobs, "f", "progress", "{\"progress\":1}", 60), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_TOO_MANY_JOBS);
	/* A job that arrives finished still needs a free place. */
	ck_assert_int_eq(ev(jobs, "g", "complete", "{}", 70), JW_APPLY_REJECT);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.jobs, 3);
	ck_assert_uint_eq(st.evicted, 2);
	ck_assert_uint_eq(st.by_status[JW_JOB_RUNNING], 3);
	jw_jobs_free(jobs);
}
END_TEST

/* ---- ETA ---- */

/* Sends progress p at t ms and returns the state's eta_s, or -1 when absent. */
static double eta_after(struct jw_jobs *jobs, const char *job, double p, int64_t t, bool *estimated)
{
	char payload[64];
	struct json_object *o;
	double eta = -1;

	ck_assert_int_lt(
	        snprintf(payload, sizeof(payload), "{\"progress\":%.17g}", p), (int)sizeof(payload));
	ck_assert_int_eq(ev(jobs, job, "progress", payload, t), JW_APPLY_ACCEPT);
	o = state(R.job);
	if(has(o, "eta_s")) {
		eta = nget(o, "eta_s");
		if(estimated)
			*estimated = bget(o, "eta_estimated");
	} else {
		ck_assert(!has(o, "eta_estimated"));
	}
	json_object_put(o);
	return eta;
}

START_TEST(eta_reported)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct json_object *o;
	bool est = true;

	ck_assert_int_eq(
	        ev(jobs, "j1", "progress", "{\"progress\":10,\"eta_s\":83.5}", 0), JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert_double_eq(nget(o, "eta_s"), 83.5);
	ck_assert(!bget(o, "eta_estimated"));
	json_object_put(o);
	/* Without eta_s the broker estimates from the rate (10 %/s here). */
	ck_assert_double_eq(eta_after(jobs, "j1", 20, 1000, &est), 8);
	ck_assert(est);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(eta_needs_a_rate)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);

	/* One sample: no rate yet. */
	ck_assert_double_eq(eta_after(jobs, "j1", 10, 0, NULL), -1);
	/* No progress made: rate 0, no estimate. */
	ck_assert_double_eq(eta_after(jobs, "j1", 10, 1000, NULL), -1);
	ck_assert_double_eq(eta_after(jobs, "j1", 10, 2000, NULL), -1);
	/* Now some: an estimate (the rate is a time-weighted mean so far). */
	ck_assert_double_gt(eta_after(jobs, "j1", 12, 3000, NULL), 0);
	/* An event without an overall figure is no sample: the estimate is the
	 * same as for a job that never sent it. */
	ck_assert_int_eq(ev(jobs, "j3", "progress", "{\"progress\":0}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j4", "progress", "{\"progress\":0}", 0), JW_APPLY_ACCEPT);
	ck_assert_double_eq(eta_after(jobs, "j3", 10, 10000, NULL), 90);
	ck_assert_double_eq(eta_after(jobs, "j4", 10, 10000, NULL), 90);
	ck_assert_int_eq(
	        ev(jobs, "j3", "progress", "{\"current\":0,\"total\":0}", 20000), JW_APPLY_ACCEPT);
	ck_assert_double_eq(
	        eta_after(jobs, "j3", 20, 30000, NULL), eta_after(jobs, "j4", 20, 30000, NULL));
	/* A job with no progress figure never gets one. */
	ck_assert_int_eq(ev(jobs, "j2", "progress", "{\"current\":0,\"total\":0}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "j2", "progress", "{\"current\":0,\"total\":0}", 5000), JW_APPLY_ACCEPT);
	ck_assert(!(R.job->flags & JW_JF_ETA));
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(eta_steady_rate_converges)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	unsigned seed = 7;
	double p = 0, t = 0, eta = -1;
	bool est = false;

	/* 1 %/s sampled every second: exact from the second sample on. */
	for(int i = 0; i <= 50; i++) {
		eta = eta_after(jobs, "j1", i, (int64_t)i * 1000, &est);
		if(i >= 1) {
			ck_assert_double_eq(eta, 100 - i);
			ck_assert(est);
		}
	}
	/* 0.5 %/s at irregular intervals of 0.2 to 5 s: the rate is right
	 * whatever the spacing, so the estimate is the true remaining time. */
	while(p < 80) {
		seed = seed * 1103515245u + 12345u;
		t += 200 + (double)((seed >> 8) % 4801);
		p = 0.5 * t / 1000;
		eta = eta_after(jobs, "j2", p, (int64_t)t, NULL);
	}
	ck_assert_double_eq_tol(eta, (100 - p) / 0.5, 0.051);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(eta_slow_step_is_damped)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	double before, after, prev, p;

	for(int i = 0; i <= 50; i++)
		before = eta_after(jobs, "j1", i, (int64_t)i * 1000, NULL);
	ck_assert_double_eq(before, 50);
	/* One step takes 10 s for 1 %: the instantaneous rate is a tenth, which
	 * alone would say 490 s. The estimate moves by a bounded amount. */
	after = eta_after(jobs, "j1", 51, 60000, NULL);
	ck_assert_double_gt(after, before);
	ck_assert_double_lt(after, 1.5 * before);
	ck_assert_double_eq_tol(after, 69.5, 0.05); /* the figure in docs/lifecycle.md */
	/* Back at 1 %/s it comes down every step, towards the true value. */
	prev = after;
	p = 51;
	for(int i = 1; i <= 60; i++) {
		double e;

		p += 1;
		e = eta_after(jobs, "j1", p, 60000 + (int64_t)i * 1000, NULL);
		if(p >= 100)
			break;
		ck_assert_double_lt(e, prev);
		ck_assert_double_ge(e, 100 - p);
		prev = e;
	}
	ck_assert_double_le(prev, 1.2 * (100 - (p - 1)) + 1);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(eta_burst_accumulates)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	double e;

	for(int i = 0; i <= 20; i++)
		e = eta_after(jobs, "j1", i, (int64_t)i * 1000, NULL);
	ck_assert_double_eq(e, 80);
	/* 10 ms later, 5 % more: measured alone that is 500 %/s. It is not
	 * measured alone: the rate is unchanged... */
	ck_assert_double_eq(eta_after(jobs, "j1", 25, 20010, NULL), 75);
	ck_assert_double_eq(eta_after(jobs, "j1", 25.5, 20040, NULL), 74.5);
	/* ...and counts in the next interval (6 % over 1 s from the last
	 * measured sample): a modest rise in the rate, not a collapse of eta. */
	e = eta_after(jobs, "j1", 26, 21000, NULL);
	ck_assert_double_lt(e, 74);
	ck_assert_double_gt(e, 74 / 6.0);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(eta_pause_for_review)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	double e;

	for(int i = 0; i <= 20; i++)
		e = eta_after(jobs, "j1", i, (int64_t)i * 1000, NULL);
	ck_assert_double_eq(e, 80);
	ck_assert_int_eq(
	        ev(jobs, "j1", "validation-required", "{\"reason\":\"r\",\"confidence\":0.5}", 20500),
	        JW_APPLY_ACCEPT);
	/* Ten minutes with a person: the worker was paused, not slow. */
	ck_assert_double_eq(eta_after(jobs, "j1", 21, 620000, NULL), 79);
	ck_assert_double_eq(eta_after(jobs, "j1", 22, 621000, NULL), 78);
	jw_jobs_free(jobs);
}
END_TEST

/* ---- state JSON ---- */

START_TEST(state_valid_in_every_status)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct json_object *o;
	char *s;

	/* Fewest members: each status reached with bare events. */
	ck_assert_int_eq(ev(jobs, "r0", "heartbeat", "{}", 0), JW_APPLY_ACCEPT);
	o = state(R.job);
	/* type, ids, status, seq, heartbeat interval, three times, attempt. */
	ck_assert_int_eq(json_object_object_length(o), 10);
	json_object_put(o);
	ck_assert_int_eq(
	        ev(jobs, "w0", "validation-required", "{\"reason\":\"r\",\"confidence\":1}", 0),
	        JW_APPLY_ACCEPT);
	json_object_put(state(R.job));
	ck_assert_int_eq(ev(jobs, "c0", "complete", "{}", 0), JW_APPLY_ACCEPT);
	json_object_put(state(R.job));
	ck_assert_int_eq(ev(jobs, "f0", "failed", "{\"error\":\"e\"}", 0), JW_APPLY_ACCEPT);
	json_object_put(state(R.job));

	/* Most members, with strings that need escaping. */
	ck_assert_int_eq(ev(jobs, "r1", "started",
	                         "{\"name\":\"A \\\"quoted\\\" / \\u0000 \\u00e9 name\","
	                         "\"worker\":\"w\\\\1\",\"steps\":[\"a\",\"b/c\"],\"total\":7,"
	                         "\"heartbeat_interval_s\":0.25}",
	                         0),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "r1", "progress",
	                         "{\"progress\":12.5,\"current\":1,\"total\":8,\"step\":\"b/c\","
	                         "\"message\":\"line\\nbreak\",\"items_added\":1e3,\"items_failed\":0}",
	                         100),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "r1", "progress", "{\"progress\":25}", 1100), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "r1", "control", "{\"action\":\"cancel\"}", 1200), JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert_str_eq(sget(o, "name"), "A \"quoted\" / ");
	ck_assert_int_eq(json_object_get_string_len(oget(o, "name")), 22);
	ck_assert_str_eq(sget(o, "worker"), "w\\1");
	ck_assert_str_eq(sget(o, "message"), "line\nbreak");
	ck_assert_double_eq(nget(o, "items_added"), 1000);
	ck_assert(bget(o, "eta_estimated"));
	ck_assert_double_eq(nget(o, "eta_s"), 6);
	ck_assert(has(o, "cancel_requested_at"));
	json_object_put(o);
	s = state_text(R.job);
	/* Integers print as integers, fractions compactly. */
	ck_assert_ptr_nonnull(strstr(s, "\"seq\":4,"));
	ck_assert_ptr_nonnull(strstr(s, "\"items_added\":1000,"));
	ck_assert_ptr_nonnull(strstr(s, "\"heartbeat_interval_s\":0.25,"));
	ck_assert_ptr_nonnull(strstr(s, "\"progress\":25,"));
	ck_assert_ptr_null(strstr(s, ".0,"));
	ck_assert_ptr_nonnull(strstr(s, "\"steps\":[\"a\",\"b/c\"]"));
	free(s);
	ck_assert_int_eq(ev(jobs, "w1", "started", "{\"name\":\"w\"}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "w1", "validation-required",
	                         "{\"reason\":\"r\",\"confidence\":0.5,\"threshold\":0.75,"
	                         "\"item\":{\"deep\":{\"er\":[1,{\"x\":null}]}},\"actions\":[\"ok\"]}",
	                         0),
	        JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert_ptr_nonnull(oget(oget(oget(o, "validation"), "item"), "deep"));
	json_object_put(o);
	ck_assert_int_eq(
	        ev(jobs, "c1", "started", "{\"name\":\"c\",\"worker\":\"w\"}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "c1", "progress", "{\"current\":3,\"total\":4,\"eta_s\":1}", 0),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "c1", "complete",
	                         "{\"result\":{\"big\":12345678901234567890,\"f\":1.50},"
	                         "\"message\":\"m\",\"duration_s\":0}",
	                         0),
	        JW_APPLY_ACCEPT);
	s = state_text(R.job);
	/* Open objects keep the numbers' spelling as published. */
	ck_assert_ptr_nonnull(strstr(s, "\"result\":{\"big\":12345678901234567890,\"f\":1.50}"));
	free(s);
	json_object_put(state(R.job));
	ck_assert_int_eq(ev(jobs, "f1", "progress", "{\"progress\":5}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "f1", "failed",
	                         "{\"error\":\"e\",\"code\":\"x.y\",\"retryable\":false,"
	                         "\"details\":{},\"broker_generated\":false}",
	                         0),
	        JW_APPLY_ACCEPT);
	o = state(R.job);
	ck_assert_int_eq(json_object_object_length(oget(o, "details")), 0);
	json_object_put(o);
	jw_jobs_free(jobs);
}
END_TEST

/* ---- state publishing policy ---- */

START_TEST(state_rate_limit)
{
	struct jw_jobs_config cfg = {.state_max_rate = 10};
	struct jw_jobs *jobs = jw_jobs_new(&cfg);
	struct jw_job *a, *b;
	struct jw_clock now;

	ck_assert_int_eq(ev(jobs, "a", "progress", "{\"progress\":1}", 0), JW_APPLY_ACCEPT);
	a = R.job;
	ck_assert_int_eq(ev(jobs, "b", "progress", "{\"progress\":1}", 0), JW_APPLY_ACCEPT);
	b = R.job;
	/* Never published: now. */
	now = at(0);
	ck_assert(jw_jobs_state_changed(jobs, a, false, &now));
	jw_jobs_state_published(jobs, a, &now);
	now = at(20);
	ck_assert(jw_jobs_state_changed(jobs, b, false, &now));
	jw_jobs_state_published(jobs, b, &now);
	/* Within the interval (100 ms): held, due at the end of it. */
	now = at(30);
	ck_assert(!jw_jobs_state_changed(jobs, a, false, &now));
	ck_assert(jw_jobs_state_held(a));
	now = at(60);
	ck_assert(!jw_jobs_state_changed(jobs, a, false, &now));
	now = at(70);
	ck_assert(!jw_jobs_state_changed(jobs, b, false, &now));
	now = at(99);
	ck_assert_ptr_null(jw_jobs_pop_state_due(jobs, &now));
	/* Due in order; the second change did not postpone the first. */
	now = at(125);
	ck_assert_ptr_eq(jw_jobs_pop_state_due(jobs, &now), a);
	ck_assert(!jw_jobs_state_held(a));
	ck_assert_ptr_eq(jw_jobs_pop_state_due(jobs, &now), b);
	ck_assert_ptr_null(jw_jobs_pop_state_due(jobs, &now));
	jw_jobs_state_published(jobs, a, &now);
	jw_jobs_state_published(jobs, b, &now);
	/* Urgent goes out at once; publishing it cancels the held update. */
	now = at(150);
	ck_assert(!jw_jobs_state_changed(jobs, a, false, &now));
	now = at(170);
	ck_assert(jw_jobs_state_changed(jobs, a, true, &now));
	jw_jobs_state_published(jobs, a, &now);
	ck_assert(!jw_jobs_state_held(a));
	now = at(100000);
	ck_assert_ptr_null(jw_jobs_pop_state_due(jobs, &now));
	/* After a full interval: now again. */
	now = at(270);
	ck_assert(jw_jobs_state_changed(jobs, a, false, &now));
	jw_jobs_free(jobs);

	/* 3 per second: intervals of 334 ms, so never 4 in one second. */
	cfg.state_max_rate = 3;
	jobs = jw_jobs_new(&cfg);
	ck_assert_int_eq(ev(jobs, "a", "progress", "{\"progress\":1}", 0), JW_APPLY_ACCEPT);
	a = R.job;
	now = at(0);
	jw_jobs_state_published(jobs, a, &now);
	now = at(1);
	ck_assert(!jw_jobs_state_changed(jobs, a, false, &now));
	now = at(333);
	ck_assert_ptr_null(jw_jobs_pop_state_due(jobs, &now));
	now = at(334);
	ck_assert_ptr_eq(jw_jobs_pop_state_due(jobs, &now), a);
	jw_jobs_free(jobs);
}
END_TEST

/* ---- stall detection ---- */

/* text as json-c, for looking at its members. */
static struct json_object *parse_or_fail(const char *text)
{
	struct json_object *o = NULL;
	struct jw_json_error err;

	ck_assert_ptr_nonnull(text);
	ck_assert_msg(
	        jw_json_parse(text, strlen(text), 32, &o, &err) == 0, "%s: %s", text, err.message);
	return o;
}

START_TEST(stall_detection)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct jw_job *j1, *j2, *j3;
	struct jw_clock now;
	struct jw_jobs_stats st;
	struct json_object *fev, *o, *d;
	struct jw_schema_error serr;
	char *text;
	size_t tlen;

	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":1}", 0), JW_APPLY_ACCEPT);
	j1 = R.job;
	ck_assert_int_eq(
	        ev(jobs, "j2", "started", "{\"heartbeat_interval_s\":10}", 0), JW_APPLY_ACCEPT);
	j2 = R.job;
	ck_assert_int_eq(
	        ev(jobs, "j3", "validation-required", "{\"reason\":\"r\",\"confidence\":0.5}", 0),
	        JW_APPLY_ACCEPT);
	j3 = R.job;
	now = at(29999);
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));
	now = at(30000);
	ck_assert_ptr_eq(jw_jobs_pop_stalled(jobs, &now), j2);
	/* Reported once per silence. */
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));
	/* Activity pushes the deadline to now + 3 x interval. */
	ck_assert_int_eq(ev(jobs, "j1", "heartbeat", "{}", 20000), JW_APPLY_ACCEPT);
	/* New activity re-arms a popped job. */
	ck_assert_int_eq(ev(jobs, "j2", "heartbeat", "{}", 40000), JW_APPLY_ACCEPT);
	now = at(69999);
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));
	now = at(70000);
	ck_assert_ptr_eq(jw_jobs_pop_stalled(jobs, &now), j2);
	/* A waiting job is watched too. */
	now = at(90000);
	ck_assert_ptr_eq(jw_jobs_pop_stalled(jobs, &now), j3);
	now = at(109999);
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));
	now = at(110000);
	ck_assert_ptr_eq(jw_jobs_pop_stalled(jobs, &now), j1);
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));

	/* The broker's failed event, valid against schemas/failed.json. */
	now = at(110000);
	text = jw_job_stall_event(j1, &now, &tlen);
	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(tlen, strlen(text));
	fev = parse_or_fail(text);
	ck_assert_str_eq(sget(fev, "ts"), "2026-11-22T02:41:50.000Z");
	ck_assert_msg(jw_schema_validate(failed_schema, fev, &serr) == 1, "%s", serr.message);
	ck_assert_str_eq(sget(fev, "error"), "no event for 90 s (3 x heartbeat interval 30 s)");
	ck_assert_str_eq(sget(fev, "code"), "heartbeat_timeout");
	ck_assert(bget(fev, "retryable"));
	ck_assert(bget(fev, "broker_generated"));
	d = oget(fev, "details");
	ck_assert_str_eq(sget(d, "last_event_at"), "2026-11-22T02:40:20.000Z");
	ck_assert(json_object_is_type(oget(d, "heartbeat_interval_s"), json_type_int));
	ck_assert_double_eq(nget(d, "heartbeat_interval_s"), 30);
	/* Written as json-c wrote it when the event was built with json-c. */
	ck_assert_str_eq(text, json_object_to_json_string_ext(
	                               fev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	ck_assert_int_eq(apply_at(jobs, "s1", "j1", "failed", text, now), 0);
	free(text);
	ck_assert_int_eq(R.outcome, JW_APPLY_ACCEPT);
	ck_assert(R.urgent);
	json_object_put(fev);
	o = state(j1);
	ck_assert_str_eq(sget(o, "status"), "failed");
	ck_assert_str_eq(sget(o, "code"), "heartbeat_timeout");
	ck_assert(bget(o, "broker_generated"));
	json_object_put(o);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.stalled, 1);
	/* Finished jobs have no deadline. */
	ck_assert_int_eq(ev(jobs, "j2", "complete", "{}", 110000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j3", "failed", "{\"error\":\"x\"}", 110000), JW_APPLY_ACCEPT);
	now = at(100000000);
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));

	/* A fractional interval and a broker that was late: the silence measured. */
	ck_assert_int_eq(
	        ev(jobs, "j4", "started", "{\"heartbeat_interval_s\":0.5}", 0), JW_APPLY_ACCEPT);
	now = at(1499);
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));
	now = at(2750);
	ck_assert_ptr_eq(jw_jobs_pop_stalled(jobs, &now), R.job);
	text = jw_job_stall_event(R.job, &now, &tlen);
	fev = parse_or_fail(text);
	free(text);
	ck_assert_str_eq(sget(fev, "error"), "no event for 2.7 s (3 x heartbeat interval 0.5 s)");
	ck_assert_double_eq(nget(oget(fev, "details"), "heartbeat_interval_s"), 0.5);
	ck_assert_msg(jw_schema_validate(failed_schema, fev, &serr) == 1, "%s", serr.message);
	json_object_put(fev);
	jw_jobs_free(jobs);
}
END_TEST

/* Deadlines of many jobs, moved around at random, come out in order and
 * exactly once: the heap's index bookkeeping holds. */
START_TEST(stall_heap_order)
{
	enum { N = 3000 };
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	static int64_t deadline[N];
	unsigned seed = 99;
	char id[16], payload[64];
	struct jw_clock now;
	struct jw_job *j;
	int64_t last = INT64_MIN;
	int popped = 0;

	for(int step = 0; step < 4 * N; step++) {
		int i;
		unsigned hb;

		seed = seed * 1103515245u + 12345u;
		i = (int)((seed >> 8) % N);
		hb = 1 + (seed >> 20) % 60;
		ck_assert_int_lt(snprintf(id, sizeof(id), "j%d", i), (int)sizeof(id));
		ck_assert_int_lt(snprintf(payload, sizeof(payload), "{\"heartbeat_interval_s\":%u}", hb),
		        (int)sizeof(payload));
		ck_assert_int_eq(ev(jobs, id, "started", payload, step), JW_APPLY_ACCEPT);
		deadline[i] = BASE_MONO + step + 3000 * (int64_t)hb;
	}
	now = at(INT64_C(1) << 40);
	while((j = jw_jobs_pop_stalled(jobs, &now)) != NULL) {
		int i = (int)strtol(jw_job_id(j) + 1, NULL, 10);

		ck_assert_int_eq(j->deadline_mono, deadline[i]);
		ck_assert_int_ge(j->deadline_mono, last);
		last = j->deadline_mono;
		deadline[i] = -1;
		popped++;
	}
	{
		struct jw_jobs_stats st;

		jw_jobs_stats(jobs, &st);
		ck_assert_int_eq(popped, (int)st.jobs);
	}
	jw_jobs_free(jobs);
}
END_TEST

/* ---- records ---- */

/* Records every job of src at now and restores them into a new table at later. */
struct copy_ctx {
	struct jw_jobs *dst;
	struct jw_clock now, later;
};

static void copy_job(struct jw_job *j, void *arg)
{
	struct copy_ctx *c = arg;
	size_t len = 0;
	char *rec = jw_job_record(j, &c->now, &len);
	char err[200];

	ck_assert_ptr_nonnull(rec);
	ck_assert_uint_eq(strlen(rec), len);
	ck_assert_msg(jw_jobs_restore(c->dst, rec, len, &c->later, err, sizeof(err)) == 0, "%s: %s",
	        err, rec);
	free(rec);
}

/* Sets up one job in each status with most fields, at times up to 5 s. */
static void populate(struct jw_jobs *jobs)
{
	ck_assert_int_eq(ev(jobs, "run", "started",
	                         "{\"name\":\"Run\",\"worker\":\"w\",\"steps\":[\"a\",\"b\"],"
	                         "\"total\":10,\"heartbeat_interval_s\":20}",
	                         0),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "run", "progress", "{\"current\":1,\"total\":3,\"step\":\"a\"}", 1000),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "run", "progress",
	                "{\"current\":2,\"total\":3,\"message\":\"m\",\"items_added\":7}", 2300),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "run", "control", "{\"action\":\"cancel\"}", 2500), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "wait", "progress", "{\"progress\":10}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "wait", "progress", "{\"progress\":20}", 1000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "wait", "validation-required",
	                         "{\"reason\":\"r\",\"confidence\":0.25,\"threshold\":0.5,"
	                         "\"item\":{\"i\":[1,2]},\"actions\":[\"y\",\"n\"]}",
	                         3000),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "done", "started", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "done", "complete",
	                         "{\"result\":{\"n\":1},\"message\":\"ok\",\"duration_s\":1.5}", 4000),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "bad", "failed",
	                         "{\"error\":\"e\",\"code\":\"c\",\"retryable\":true,"
	                         "\"details\":{\"x\":\"y\"},\"broker_generated\":false}",
	                         4500),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "bare", "heartbeat", "{}", 5000), JW_APPLY_ACCEPT);
}

static void states_equal(struct jw_jobs *a, struct jw_jobs *b, const char *job)
{
	char *sa = state_text(find(a, job)), *sb;

	ck_assert_ptr_nonnull(find(b, job));
	sb = state_text(find(b, job));
	ck_assert_str_eq(sa, sb);
	free(sa);
	free(sb);
}

START_TEST(record_round_trip)
{
	static const char *const ids[] = {"run", "wait", "done", "bad", "bare"};
	struct jw_jobs *a = jw_jobs_new(NULL), *b = jw_jobs_new(NULL);
	/* Recorded at 5 s; restored after a restart whose monotonic clock
	 * starts elsewhere, at the same wall time. */
	struct copy_ctx c = {b, at(5000), {BASE_REAL + 5000, 777}};
	struct jw_jobs_stats sa, sb;
	struct jw_clock now;
	char *r1, *r2;
	size_t len;

	populate(a);
	jw_jobs_foreach(a, copy_job, &c);
	jw_jobs_stats(a, &sa);
	jw_jobs_stats(b, &sb);
	ck_assert_uint_eq(sb.jobs, 5);
	ck_assert_mem_eq(sb.by_status, sa.by_status, sizeof(sa.by_status));
	for(size_t i = 0; i < 5; i++) {
		states_equal(a, b, ids[i]);
		json_object_put(state(find(b, ids[i])));
		/* The record of the restored job is the record it came from. */
		r1 = jw_job_record(find(a, ids[i]), &c.now, &len);
		r2 = jw_job_record(find(b, ids[i]), &c.later, &len);
		ck_assert_str_eq(r1, r2);
		free(r1);
		free(r2);
	}
	ck_assert_uint_eq(jw_job_seq(find(b, "run")), 4);

	/* Terminal duplicates, refusals and backwards progress behave alike. */
	ck_assert_int_eq(
	        apply_at(b, "s1", "done", "complete",
	                "{\"result\":{\"n\":1},\"message\":\"ok\",\"duration_s\":1.5}", c.later),
	        0);
	ck_assert_int_eq(R.outcome, JW_APPLY_DUPLICATE);
	ck_assert_int_eq(apply_at(b, "s1", "done", "complete", "{}", c.later), 0);
	ck_assert_int_eq(V.reason, JW_REASON_JOB_FINISHED);
	ck_assert_int_eq(apply_at(b, "s1", "bad", "failed",
	                         "{\"error\":\"e\",\"code\":\"c\",\"retryable\":true,"
	                         "\"details\":{\"x\":\"y\"},\"broker_generated\":false}",
	                         c.later),
	        0);
	ck_assert_int_eq(R.outcome, JW_APPLY_DUPLICATE);
	ck_assert_int_eq(apply_at(b, "s1", "run", "progress", "{\"progress\":50}", c.later), 0);
	ck_assert_int_eq(V.reason, JW_REASON_PROGRESS_BACKWARDS);
	ck_assert_str_eq(V.message, "/progress: 50 is below the job's progress 66.66666666666667");
	ck_assert_int_eq(apply_at(b, "s1", "bare", "control", "{\"action\":\"cancel\"}", c.later), 0);
	ck_assert_int_eq(R.outcome, JW_APPLY_ACCEPT);

	/* Stall deadlines fire at the same moment after the restart: run's last
	 * worker event was at 2.3 s with a 20 s interval (62.3 s), wait's at 3 s
	 * (93 s), bare's at 5 s (95 s). */
	now = c.later;
	now.mono_ms = 777 + 62300 - 5000 - 1;
	ck_assert_ptr_null(jw_jobs_pop_stalled(b, &now));
	now.mono_ms++;
	ck_assert_ptr_eq(jw_jobs_pop_stalled(b, &now), find(b, "run"));
	now.mono_ms = 777 + 95000 - 5000;
	ck_assert_ptr_eq(jw_jobs_pop_stalled(b, &now), find(b, "wait"));
	ck_assert_ptr_eq(jw_jobs_pop_stalled(b, &now), find(b, "bare"));
	ck_assert_ptr_null(jw_jobs_pop_stalled(b, &now));

	/* The ETA estimator survives: the same next event gives the same state. */
	{
		struct jw_clock ta = at(6000), tb = {BASE_REAL + 6000, 777 + 1000};

		ck_assert_int_eq(
		        apply_at(a, "s1", "run", "progress", "{\"current\":3,\"total\":3}", ta), 0);
		ck_assert_int_eq(
		        apply_at(b, "s1", "run", "progress", "{\"current\":3,\"total\":3}", tb), 0);
		ck_assert_int_eq(R.outcome, JW_APPLY_ACCEPT);
		ck_assert_uint_eq(R.seq, 5);
		states_equal(a, b, "run");
		ck_assert_int_eq(apply_at(a, "s1", "wait", "progress", "{\"progress\":30}", ta), 0);
		ck_assert_int_eq(apply_at(b, "s1", "wait", "progress", "{\"progress\":30}", tb), 0);
		states_equal(a, b, "wait");
	}
	jw_jobs_free(a);
	jw_jobs_free(b);
}
END_TEST

/* Expects the job's state text to hold member (as "key":value, then a
 * comma or the closing brace). */
static void state_has(const struct jw_job *j, const char *member)
{
	char *s = state_text(j);
	const char *at = strstr(s, member);

	ck_assert_msg(at && (at[strlen(member)] == ',' || at[strlen(member)] == '}'),
	        "state lacks %s: %s", member, s);
	free(s);
}

/*
 * current, total, items_added and items_failed are shown as the worker
 * sent them: integers past 2^53 (which a double cannot hold) keep every
 * digit, written as integers or as integral decimals, in the state and
 * across a restart; fractions stay fractions.
 */
START_TEST(counts_exact)
{
	struct jw_jobs *a = jw_jobs_new(NULL), *b = jw_jobs_new(NULL);
	struct copy_ctx c = {b, at(5000), {BASE_REAL + 5000, 777}};

	ck_assert_int_eq(ev(a, "big", "started", "{\"total\":9007199254740993}", 0), JW_APPLY_ACCEPT);
	state_has(find(a, "big"), "\"total\":9007199254740993");
	ck_assert_int_eq(
	        ev(a, "big", "progress",
	                "{\"current\":9007199254740993.0,\"total\":9223372036854775807,"
	                "\"items_added\":9007199254740995,\"items_failed\":9007199254740997e0}",
	                100),
	        JW_APPLY_ACCEPT);
	state_has(find(a, "big"), "\"current\":9007199254740993");
	state_has(find(a, "big"), "\"total\":9223372036854775807");
	state_has(find(a, "big"), "\"items_added\":9007199254740995");
	state_has(find(a, "big"), "\"items_failed\":9007199254740997");
	json_object_put(state(find(a, "big")));
	jw_jobs_foreach(a, copy_job, &c);
	states_equal(a, b, "big");
	state_has(find(b, "big"), "\"current\":9007199254740993");
	state_has(find(b, "big"), "\"total\":9223372036854775807");
	/* Fractions, and integers that no longer fit int64, are doubles. */
	ck_assert_int_eq(
	        ev(a, "frac", "progress",
	                "{\"current\":1.5,\"total\":3,\"items_added\":18446744073709551617}", 0),
	        JW_APPLY_ACCEPT);
	state_has(find(a, "frac"), "\"current\":1.5");
	state_has(find(a, "frac"), "\"total\":3");
	state_has(find(a, "frac"), "\"progress\":50");
	state_has(find(a, "frac"), "\"items_added\":1.8446744073709552e+19");
	/* An exact value replaced by a fraction, and back. */
	ck_assert_int_eq(ev(a, "big", "progress",
	                         "{\"current\":9007199254740993.5,\"total\":9223372036854775807}", 200),
	        JW_APPLY_ACCEPT);
	state_has(find(a, "big"), "\"current\":9007199254740994");
	ck_assert_int_eq(ev(a, "big", "progress",
	                         "{\"current\":9007199254740995,\"total\":9223372036854775807}", 300),
	        JW_APPLY_ACCEPT);
	state_has(find(a, "big"), "\"current\":9007199254740995");
	jw_jobs_free(a);
	jw_jobs_free(b);
}
END_TEST

START_TEST(record_after_downtime)
{
	struct jw_jobs *a = jw_jobs_new(NULL), *b = jw_jobs_new(NULL);
	struct jw_clock rec_at = at(10000), later = {BASE_REAL + 70000, 50};
	struct jw_clock now;
	char *rec, err[200];
	size_t len;

	/* Last heard at 0, 30 s interval: due at 90 s wall time. Recorded at
	 * 10 s, restored at 70 s: 20 s are left. */
	ck_assert_int_eq(ev(a, "j1", "progress", "{\"progress\":5}", 0), JW_APPLY_ACCEPT);
	rec = jw_job_record(R.job, &rec_at, &len);
	ck_assert_int_eq(jw_jobs_restore(b, rec, len, &later, err, sizeof(err)), 0);
	now = later;
	now.mono_ms += 19999;
	ck_assert_ptr_null(jw_jobs_pop_stalled(b, &now));
	now.mono_ms++;
	ck_assert_ptr_nonnull(jw_jobs_pop_stalled(b, &now));
	/* Restored past its deadline: fires on the next pop. */
	later.real_ms = BASE_REAL + 200000;
	ck_assert_int_eq(jw_jobs_restore(b, rec, len, &later, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(jw_jobs_pop_stalled(b, &later));
	free(rec);
	jw_jobs_free(a);
	jw_jobs_free(b);
}
END_TEST

START_TEST(restore_replaces_and_respects_max_jobs)
{
	struct jw_jobs_config cfg = {.max_jobs = 2};
	struct jw_jobs *a = jw_jobs_new(NULL), *b = jw_jobs_new(&cfg);
	struct jw_clock now = at(1000);
	char *old, *newer, *r3, *r4, err[200];
	size_t lold, lnew, l3, l4;
	struct jw_jobs_stats st;
	char *s;

	ck_assert_int_eq(ev(a, "j1", "progress", "{\"progress\":5}", 0), JW_APPLY_ACCEPT);
	old = jw_job_record(R.job, &now, &lold);
	ck_assert_int_eq(ev(a, "j1", "progress", "{\"progress\":9}", 500), JW_APPLY_ACCEPT);
	newer = jw_job_record(R.job, &now, &lnew);
	ck_assert_int_eq(ev(a, "j2", "heartbeat", "{}", 0), JW_APPLY_ACCEPT);
	r3 = jw_job_record(R.job, &now, &l3);
	ck_assert_int_eq(ev(a, "j3", "complete", "{}", 0), JW_APPLY_ACCEPT);
	r4 = jw_job_record(R.job, &now, &l4);

	/* The record restored last wins. */
	ck_assert_int_eq(jw_jobs_restore(b, newer, lnew, &now, err, sizeof(err)), 0);
	ck_assert_int_eq(jw_jobs_restore(b, old, lold, &now, err, sizeof(err)), 0);
	s = state_text(find(b, "j1"));
	ck_assert_ptr_nonnull(strstr(s, "\"progress\":5,"));
	free(s);
	jw_jobs_stats(b, &st);
	ck_assert_uint_eq(st.jobs, 1);
	/* Full of unfinished jobs: refused. */
	ck_assert_int_eq(jw_jobs_restore(b, r3, l3, &now, err, sizeof(err)), 0);
	ck_assert_int_eq(jw_jobs_restore(b, r4, l4, &now, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "record: job table full: 2 unfinished jobs");
	/* Replacing an existing job needs no room. */
	ck_assert_int_eq(jw_jobs_restore(b, newer, lnew, &now, err, sizeof(err)), 0);
	jw_jobs_free(b);
	/* A finished job is evicted to make room. */
	b = jw_jobs_new(&cfg);
	ck_assert_int_eq(jw_jobs_restore(b, r4, l4, &now, err, sizeof(err)), 0);
	ck_assert_int_eq(jw_jobs_restore(b, r3, l3, &now, err, sizeof(err)), 0);
	ck_assert_int_eq(jw_jobs_restore(b, old, lold, &now, err, sizeof(err)), 0);
	ck_assert_ptr_null(find(b, "j3"));
	jw_jobs_stats(b, &st);
	ck_assert_uint_eq(st.jobs, 2);
	ck_assert_uint_eq(st.evicted, 1);
	free(old);
	free(newer);
	free(r3);
	free(r4);
	jw_jobs_free(a);
	jw_jobs_free(b);
}
END_TEST

/* rec with member key ("a" or "a/b") set to the JSON text value, or
 * removed when value is NULL; a new string. */
static char *set_member(const char *rec, const char *key, const char *value)
{
	struct json_object *doc = NULL, *obj, *v = NULL;
	struct jw_json_error err;
	char outer[64];
	const char *slash = strchr(key, '/');
	char *out;

	ck_assert_int_eq(jw_json_parse(rec, strlen(rec), 64, &doc, &err), 0);
	obj = doc;
	if(slash) {
		ck_assert_int_lt(snprintf(outer, sizeof(outer), "%.*s", (int)(slash - key), key),
		        (int)sizeof(outer));
		obj = oget(doc, outer);
		key = slash + 1;
	}
	if(!value) {
		json_object_object_del(obj, key);
	} else {
		/* json-c's own parser: the value may be a null. */
		v = json_tokener_parse(value);
		ck_assert_msg(v != NULL || strcmp(value, "null") == 0, "bad value %s", value);
		json_object_object_add(obj, key, v);
	}
	out = strdup(json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN));
	json_object_put(doc);
	return out;
}

START_TEST(restore_refuses_corrupt_records)
{
	/* Each case sets member key (a/b: inside a) of a good record to value
	 * (JSON text; NULL removes it). */
	static const struct {
		const char *job, *key, *value, *err;
	} cases[] = {
	        {"run", "v", "2", "record: v: version 2 not supported"},
	        {"run", "v", NULL, "record: v: missing"},
	        {"run", "session_id", "\"s 1\"", "record: session_id: missing or invalid"},
	        {"run", "job_id", "7", "record: job_id: missing or invalid"},
	        {"run", "job_id", NULL, "record: job_id: missing or invalid"},
	        {"run", "status", "\"done\"", "record: status: missing or invalid"},
	        {"run", "seq", "0", "record: seq: out of range"},
	        {"run", "seq", "4.5", "record: seq: not an integer"},
	        {"run", "seq", NULL, "record: seq: missing"},
	        {"run", "name", "\"\"", "record: name: empty"},
	        {"run", "name", "null", "record: name: null"},
	        {"run", "steps", "[\"a\",2]", "record: steps: item 1 is not a non-empty string"},
	        {"run", "steps", "{}", "record: steps: not an array"},
	        {"run", "heartbeat_interval_s", "0",
	                "record: heartbeat_interval_s: missing or out of range"},
	        {"run", "heartbeat_interval_s", "86401", "record: heartbeat_interval_s: out of range"},
	        {"run", "progress", "1e3", "record: progress: out of range"},
	        {"run", "progress", "\"50\"", "record: progress: not a number"},
	        {"run", "eta_estimated", "1", "record: eta_estimated: not a boolean"},
	        {"run", "eta_estimated", NULL, "record: eta_s and eta_estimated go together"},
	        {"run", "first_seen_ms", "-1", "record: first_seen_ms: out of range"},
	        {"run", "updated_ms", NULL, "record: updated_ms: missing"},
	        {"run", "zzz", "1", "record: unknown member \"zzz\""},
	        {"run", "error", "\"e\"", "record: error: on an unfinished job"},
	        {"run", "deadline_ms", NULL, "record: deadline_ms: missing"},
	        {"run", "est_rate", "-1", "record: est_rate: out of range"},
	        {"run", "est_weight", NULL, "record: est_rate and est_weight are required"},
	        {"run", "est_progress", NULL, "record: est_progress: missing"},
	        {"wait", "validation/reason", NULL,
	                "record: validation: reason and confidence are required"},
	        {"wait", "validation/confidence", "2", "record: confidence: out of range"},
	        {"wait", "validation/extra", "1", "record: validation: unknown member \"extra\""},
	        {"wait", "validation", "[]", "record: validation: not an object"},
	        {"wait", "status", "\"running\"", "record: validation: only on a waiting job"},
	        {"done", "fingerprint", "\"x\"", "record: fingerprint: missing or invalid"},
	        {"done", "fingerprint", "\"0123456789ABCDEF\"",
	                "record: fingerprint: missing or invalid"},
	        {"done", "fingerprint_len", NULL, "record: fingerprint_len: missing"},
	        {"done", "finished_ms", "\"a\"", "record: finished_ms: not an integer"},
	        {"done", "finished_ms", "253402300800000", "record: finished_ms: out of range"},
	        {"done", "result", "[1]", "record: result: not an object"},
	        {"done", "status", "\"running\"", "record: finished_ms: on an unfinished job"},
	        {"bad", "error", NULL, "record: error: missing on a failed job"},
	        {"bad", "retryable", "\"yes\"", "record: retryable: not a boolean"},
	        {"bad", "status", "\"waiting\"", "record: validation: missing on a waiting job"},
	};
	struct jw_jobs *a = jw_jobs_new(NULL), *b = jw_jobs_new(NULL);
	struct jw_clock now = at(5000);
	struct jw_jobs_stats before, after;
	char err[200];

	populate(a);
	ck_assert_int_eq(ev(b, "other", "progress", "{\"progress\":1}", 0), JW_APPLY_ACCEPT);
	jw_jobs_stats(b, &before);
	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *rec = jw_job_record(find(a, cases[i].job), &now, &len);
		char *bad = set_member(rec, cases[i].key, cases[i].value);

		err[0] = '\0';
		ck_assert_msg(jw_jobs_restore(b, bad, strlen(bad), &now, err, sizeof(err)) == -1,
		        "accepted: %s", bad);
		ck_assert_msg(strncmp(err, cases[i].err, strlen(cases[i].err)) == 0, "%s: got \"%s\"",
		        cases[i].err, err);
		jw_jobs_stats(b, &after);
		ck_assert_uint_eq(after.jobs, before.jobs);
		ck_assert_uint_eq(after.memory_bytes, before.memory_bytes);
		free(bad);
		free(rec);
	}
	/* Not JSON at all, or not an object. */
	ck_assert_int_eq(jw_jobs_restore(b, "[1]", 3, &now, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "record: not a JSON object");
	ck_assert_int_eq(jw_jobs_restore(b, "{\"v\":1,\"v\":1}", 13, &now, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "duplicate key"));
	ck_assert_int_eq(jw_jobs_restore(b, "", 0, &now, err, sizeof(err)), -1);
	ck_assert_int_eq(jw_jobs_restore(b, "null", 4, &now, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "record: not a JSON object");
	ck_assert_int_eq(jw_jobs_restore(b, "[]", 2, &now, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "record: not a JSON object");
	ck_assert_int_eq(jw_jobs_restore(b, "{}", 2, &now, NULL, 0), -1);
	/* Every truncation and every single-byte damage of every record: refused
	 * or, when the damage still reads as a valid record, a valid state. */
	for(int k = 0; k < 5; k++) {
		static const char *const ids[] = {"run", "wait", "done", "bad", "bare"};
		size_t len;
		char *rec = jw_job_record(find(a, ids[k]), &now, &len);

		for(size_t cut = 0; cut < len; cut++) {
			ck_assert_int_eq(jw_jobs_restore(b, rec, cut, &now, err, sizeof(err)), -1);
			ck_assert_int_eq(strncmp(err, "record: ", 8), 0);
		}
		for(size_t pos = 0; pos < len; pos++) {
			char *dam = strdup(rec);
			struct jw_job *j;

			dam[pos] = (char)(dam[pos] == '1' ? '7' : '1');
			if(jw_jobs_restore(b, dam, len, &now, err, sizeof(err)) == 0) {
				j = find(b, ids[k]);
				if(j)
					json_object_put(state(j));
			}
			free(dam);
		}
		free(rec);
	}
	jw_jobs_free(a);
	jw_jobs_free(b);
}
END_TEST

/* ---- out of memory ---- */

struct snap_ctx {
	char *text;
	size_t len, cap;
};

static void snap_job(struct jw_job *j, void *arg)
{
	struct snap_ctx *c = arg;
	char *s = state_text(j), key[300];
	size_t need;

	ck_assert_int_gt(jw_job_key(j, key, sizeof(key)), 0);
	need = strlen(key) + strlen(s) + 3 + (j->review ? 1 : 0);
	if(c->len + need + 64 > c->cap) {
		c->cap = (c->len + need + 64) * 2;
		c->text = realloc(c->text, c->cap);
		ck_assert_ptr_nonnull(c->text);
	}
	c->len += (size_t)snprintf(c->text + c->len, c->cap - c->len, "%s=%s;%u,%u,%u\n", key, s,
	        j->heap_pos[0] != 0, j->heap_pos[1] != 0, j->heap_pos[2] != 0);
	free(s);
}

/* Every job's state and timers, and the table's counters. */
static char *snapshot(struct jw_jobs *jobs)
{
	struct snap_ctx c = {NULL, 0, 0};
	struct jw_jobs_stats st;
	char tail[200];
	size_t content;

	jw_jobs_foreach(jobs, snap_job, &c);
	jw_jobs_stats(jobs, &st);
	/* A failed reserve may keep capacity it grew (still counted, freed
	 * with the table); everything else must be as it was. */
	content = st.memory_bytes - (jobs->table.mask + 1) * sizeof(*jobs->table.slots);
	for(int h = 0; h < JW_HEAP__COUNT; h++)
		content -= jobs->heaps[h].cap * sizeof(*jobs->heaps[h].v);
	ck_assert_int_lt(snprintf(tail, sizeof(tail), "%zu %zu %zu %zu %zu %" PRIu64 " %" PRIu64 " %zu",
	                         st.jobs, st.by_status[0], st.by_status[1], st.by_status[2],
	                         st.by_status[3], st.stalled, st.evicted, content),
	        (int)sizeof(tail));
	if(!c.text) {
		c.cap = 256;
		c.text = calloc(1, c.cap);
	}
	if(c.len + strlen(tail) + 1 > c.cap) {
		c.cap = c.len + strlen(tail) + 1;
		c.text = realloc(c.text, c.cap);
	}
	ck_assert_ptr_nonnull(c.text);
	memcpy(c.text + c.len, tail, strlen(tail) + 1);
	return c.text;
}

/* One step of an out-of-memory scenario: the event, or a record when
 * type is NULL (payload then names the job of populate()'s table). */
struct oom_step {
	const char *job, *type, *payload;
};

static int run_step(struct jw_jobs *jobs, struct jw_jobs *src, const struct oom_step *s)
{
	if(s->type)
		return apply_at(jobs, "s1", s->job, s->type, s->payload, at(9000));
	{
		struct jw_clock now = at(5000);
		size_t len;
		char *rec = jw_job_record(find(src, s->job), &now, &len), err[200];
		int rc;

		ck_assert_ptr_nonnull(rec);
		rc = jw_jobs_restore(jobs, rec, len, &now, err, sizeof(err));
		if(rc != 0)
			ck_assert_str_eq(err, "record: out of memory");
		free(rec);
		return rc;
	}
}

START_TEST(out_of_memory_changes_nothing)
{
	static const struct oom_step steps[] = {
	        {"new", "started",
	                "{\"name\":\"n\",\"worker\":\"w\",\"steps\":[\"a\"],\"heartbeat_interval_s\":"
	                "5}"},
	        {"run", "progress", "{\"progress\":90,\"step\":\"b\",\"message\":\"m\"}"},
	        {"run", "started", "{\"name\":\"n2\",\"worker\":\"w2\",\"steps\":[\"x\",\"y\"]}"},
	        {"run", "complete", "{\"result\":{\"a\":[1]},\"message\":\"bye\"}"},
	        {"run", "failed", "{\"error\":\"e\",\"code\":\"c\",\"details\":{\"d\":1}}"},
	        {"run", "validation-required",
	                "{\"reason\":\"r\",\"confidence\":0.5,\"item\":{},\"actions\":[\"a\"]}"},
	        {"wait", "progress", "{\"progress\":50,\"message\":\"back\"}"},
	        {"new", "complete", "{\"result\":{}}"},
	        {"run", NULL, NULL},
	        {"wait", NULL, NULL},
	        {"done", NULL, NULL},
	        {"bad", NULL, NULL},
	};
	struct jw_jobs *src = jw_jobs_new(NULL);
	int failures = 0;

	populate(src);
	for(size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		for(long n = 0;; n++) {
			/* Restores go into an empty table, events into a copy of src. */
			struct jw_jobs *jobs = jw_jobs_new(NULL);
			char *before, *after;
			int rc;

			if(steps[k].type) {
				struct copy_ctx c = {jobs, at(5000), at(5000)};
				jw_jobs_foreach(src, copy_job, &c);
			}
			before = snapshot(jobs);
			jw_jobs__fail_alloc(jobs, n);
			rc = run_step(jobs, src, &steps[k]);
			if(rc != 0) {
				after = snapshot(jobs);
				ck_assert_msg(strcmp(before, after) == 0, "step %zu, allocation %ld:\n%s\n%s", k, n,
				        before, after);
				if(steps[k].type) {
					ck_assert_int_eq(V.reason, JW_REASON_INTERNAL);
					ck_assert_int_eq(R.outcome, JW_APPLY_REJECT);
				}
				free(after);
				failures++;
			}
			free(before);
			if(rc == 0) {
				/* Succeeded: the injected failure was never reached. */
				ck_assert_int_ge(jobs->fail_after, 0);
				jw_jobs_free(jobs);
				break;
			}
			/* The table still works after the failure. */
			jw_jobs__fail_alloc(jobs, -1);
			ck_assert_int_eq(run_step(jobs, src, &steps[k]), 0);
			jw_jobs_free(jobs);
		}
	}
	ck_assert_int_gt(failures, 20);
	jw_jobs_free(src);
}
END_TEST

START_TEST(out_of_memory_while_growing)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	char id[16];
	int fails = 0;

	/* Through several doublings of the slot array (64 -> 128 -> 256) and of
	 * the heaps (16 -> ... -> 256): failing the first allocation of each new
	 * job leaves the table as it was, and the retry succeeds. */
	for(int i = 0; i < 200; i++) {
		char *before, *after;

		ck_assert_int_lt(snprintf(id, sizeof(id), "j%d", i), (int)sizeof(id));
		for(long n = 0;; n++) {
			int rc;

			before = snapshot(jobs);
			jw_jobs__fail_alloc(jobs, n);
			rc = ev(jobs, id, "heartbeat", "{}", i);
			jw_jobs__fail_alloc(jobs, -1);
			if(rc == JW_APPLY_ACCEPT) {
				free(before);
				break;
			}
			ck_assert_int_eq(rc, -1);
			after = snapshot(jobs);
			ck_assert_str_eq(before, after);
			free(before);
			free(after);
			fails++;
		}
	}
	ck_assert_int_gt(fails, 200);
	for(int i = 0; i < 200; i++) {
		ck_assert_int_lt(snprintf(id, sizeof(id), "j%d", i), (int)sizeof(id));
		ck_assert_ptr_nonnull(find(jobs, id));
	}
	jw_jobs_free(jobs);
}
END_TEST

/* ---- scale ---- */

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * 100000 typical jobs (a started with name, worker, total and interval,
 * then a progress with step and message): the table's own count of heap
 * bytes per job, printed for docs/lifecycle.md, and the timers still
 * cost time per due job only.
 */
START_TEST(hundred_thousand_jobs)
{
	enum { N = 100000 };
	static const char started[] = "{\"name\":\"Annotate sample_00042.vcf\",\"worker\":"
	                              "\"worker-7\",\"total\":100,\"heartbeat_interval_s\":30}";
	static const char progress[] = "{\"progress\":45,\"current\":45,\"total\":100,\"step\":"
	                               "\"annotation\",\"message\":\"Processing variant 45/100\"}";
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct jw_jdoc ds, dp;
	struct jw_json_error err;
	struct jw_jobs_stats st0, st;
	struct timespec t0;
	struct jw_clock now;
	struct jw_job *j;
	char id[32];
	int64_t last = INT64_MIN;
	size_t per_job;
	int popped = 0, bad = 0;
	double secs;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	struct mallinfo2 m0 = mallinfo2(), m1;
#endif

	jw_jdoc_init(&ds);
	jw_jdoc_init(&dp);
	ck_assert_int_eq(jw_jdoc_parse(&ds, started, strlen(started), 32, &err), 0);
	ck_assert_int_eq(jw_jdoc_parse(&dp, progress, strlen(progress), 32, &err), 0);
	jw_jobs_stats(jobs, &st0);
	/* No assertion inside the timed loops: Check's bookkeeping would
	 * dominate the figures. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for(int i = 0; i < N; i++) {
		(void)snprintf(id, sizeof(id), "job-%06d", i);
		now = at(i / 10);
		bad += jw_jobs_apply(jobs, "demo-session", id, "started", ds.root, started, strlen(started),
		               &now, &R, &V) != 0 ||
		       R.outcome != JW_APPLY_ACCEPT;
		now = at(20000 + (N - i) / 10);
		bad += jw_jobs_apply(jobs, "demo-session", id, "progress", dp.root, progress,
		               strlen(progress), &now, &R, &V) != 0 ||
		       R.outcome != JW_APPLY_ACCEPT;
	}
	secs = seconds_since(&t0);
	ck_assert_int_eq(bad, 0);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.jobs, N);
	per_job = (st.memory_bytes - st0.memory_bytes) / N;
	printf("jobs: %d typical jobs: memory_bytes %zu (%zu per job), %.0f ns per event while "
	       "creating them\n",
	        N, st.memory_bytes, per_job, secs * 1e9 / (2.0 * N));
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
	/* Valgrind and ASan replace malloc: glibc then sees nothing. */
	m1 = mallinfo2();
	if(m1.uordblks > m0.uordblks)
		printf("jobs: glibc heap in use grew by %zu bytes (%zu per job, malloc overhead "
		       "included)\n",
		        m1.uordblks - m0.uordblks, (m1.uordblks - m0.uordblks) / N);
#endif
	ck_assert_uint_lt(per_job, 512);
	/* Steady state: one more progress for every job, nothing allocated but
	 * the texts that change. */
	{
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for(int i = 0; i < N; i++) {
			(void)snprintf(id, sizeof(id), "job-%06d", i);
			now = at(20000 + (N - i) / 10);
			bad += jw_jobs_apply(jobs, "demo-session", id, "progress", dp.root, progress,
			               strlen(progress), &now, &R, &V) != 0 ||
			       R.outcome != JW_APPLY_ACCEPT;
		}
		printf("jobs: %.0f ns per progress event on an existing job\n",
		        seconds_since(&t0) * 1e9 / N);
		ck_assert_int_eq(bad, 0);
	}
	/* The table is full of unfinished jobs. */
	ck_assert_int_eq(ev(jobs, "one-more", "heartbeat", "{}", 30000), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_TOO_MANY_JOBS);
	ck_assert_str_eq(V.message, "job table full: 100000 unfinished jobs");
	for(int i = 0; i < N; i += 997) {
		ck_assert_int_lt(snprintf(id, sizeof(id), "job-%06d", i), (int)sizeof(id));
		ck_assert_ptr_nonnull(jw_jobs_find(jobs, "demo-session", id));
	}
	/* Before the first deadline nothing pops; then all, in order. */
	now = at(20000 + 90000 - 1);
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));
	now = at(10000000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while((j = jw_jobs_pop_stalled(jobs, &now)) != NULL) {
		ck_assert_int_ge(j->deadline_mono, last);
		last = j->deadline_mono;
		popped++;
	}
	secs = seconds_since(&t0);
	printf("jobs: popped %d stalled jobs in %.1f ms\n", popped, secs * 1e3);
	ck_assert_int_eq(popped, N);
	jw_jdoc_free(&ds);
	jw_jdoc_free(&dp);
	jw_jobs_free(jobs);
}
END_TEST

/* Stored texts are byte-for-byte what json-c's serialiser writes, whether
 * or not they take the plain-string shortcut. */
START_TEST(text_of_matches_json_c)
{
	static const char *const in[] = {"", "segmenting", "a/b", "quote \" here", "back\\slash",
	        "tab\there", "nl\n", "\x01", "\x7f", "caf\xc3\xa9", "\xe2\x82\xac 5", "~ } {"};
	struct jw_jobs *jobs = jw_jobs_new(NULL);

	ck_assert_ptr_nonnull(jobs);
	for(size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct json_object *o = json_object_new_string(in[i]);
		char *got = jw_jobs__text_of(jobs, o);

		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, json_object_to_json_string_ext(
		                              o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		jw_jobs__text_free(jobs, got);
		json_object_put(o);
	}
	/* Long strings are scanned eight bytes at a time: a byte that needs
	 * json-c at every offset of a block. */
	for(size_t at = 0; at < 20; at++) {
		static const char special[] = {'"', '\\', '\x01', '\x1f', '\x7f', '\x80', '/', ' '};

		for(size_t k = 0; k < sizeof(special); k++) {
			char buf[24];
			struct json_object *o;
			char *got;

			memset(buf, 'a', 20);
			buf[at] = special[k];
			buf[20] = '\0';
			o = json_object_new_string(buf);
			got = jw_jobs__text_of(jobs, o);
			ck_assert_ptr_nonnull(got);
			ck_assert_str_eq(got, json_object_to_json_string_ext(o,
			                              JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			jw_jobs__text_free(jobs, got);
			json_object_put(o);
		}
	}
	jw_jobs_free(jobs);
}
END_TEST

/* ---- effects ---- */

/* One event through jw_jobs_step at t ms; the effects it returns. */
static unsigned step(struct jw_jobs *jobs, const char *job, const char *type, const char *payload,
        int64_t t, bool broker_made, struct jw_effects *fx)
{
	struct jw_clock now = at(t);
	struct jw_json_error err;
	struct jw_jdoc d;

	jw_jdoc_init(&d);
	ck_assert_int_eq(jw_jdoc_parse(&d, payload, strlen(payload), 32, &err), 0);
	ck_assert_int_eq(jw_jobs_step(jobs, "s1", job, type, d.root, payload, strlen(payload),
	                         broker_made, &now, fx, &V),
	        0);
	jw_jdoc_free(&d);
	return fx->set;
}

START_TEST(step_effects)
{
	struct jw_jobs_config cfg = {.state_max_rate = 10};
	struct jw_jobs *jobs = jw_jobs_new(&cfg);
	const unsigned accepted = JW_FX_DELIVER | JW_FX_PERSIST | JW_FX_JOURNAL | JW_FX_COUNT_ACCEPT;
	const char *done = "{\"result\":{\"n\":1}}";
	struct jw_effects fx;
	struct json_object *held;
	char *text;

	/* The first state goes out at once; the next within the interval
	 * is held, and a third joins it. */
	ck_assert_uint_eq(step(jobs, "a", "progress", "{\"progress\":1}", 0, false, &fx),
	        accepted | JW_FX_STATE_NOW);
	ck_assert_int_eq(fx.outcome, JW_APPLY_ACCEPT);
	ck_assert_ptr_eq(fx.job, find(jobs, "a"));
	jw_jobs_state_published(jobs, fx.job, &(struct jw_clock){BASE_REAL, BASE_MONO});
	ck_assert_uint_eq(step(jobs, "a", "progress", "{\"progress\":2}", 10, false, &fx),
	        accepted | JW_FX_STATE_LATER);
	ck_assert_uint_eq(step(jobs, "a", "progress", "{\"progress\":3}", 20, false, &fx),
	        accepted | JW_FX_STATE_LATER | JW_FX_COALESCED);
	/* An urgent event publishes the held state first: rendered before
	 * the event, so it shows progress 3 and status running. */
	ck_assert_uint_eq(step(jobs, "a", "complete", done, 30, false, &fx),
	        accepted | JW_FX_HELD_STATE | JW_FX_STATE_NOW);
	ck_assert_ptr_eq(fx.held_job, fx.job);
	ck_assert_ptr_nonnull(fx.held_state);
	text = strndup(fx.held_state, fx.held_len);
	held = json_tokener_parse(text);
	ck_assert_str_eq(sget(held, "status"), "running");
	ck_assert_double_eq(nget(held, "progress"), 3);
	json_object_put(held);
	free(text);
	ck_assert(!jw_jobs_state_held(fx.job));
	/* The exact repeat: acknowledged, journaled again, delivered to
	 * nobody; anything else after the end is refused. */
	ck_assert_uint_eq(step(jobs, "a", "complete", done, 40, false, &fx),
	        JW_FX_COUNT_DUPLICATE | JW_FX_JOURNAL | JW_FX_SUPPRESS);
	ck_assert_int_eq(fx.outcome, JW_APPLY_DUPLICATE);
	ck_assert_uint_eq(
	        step(jobs, "a", "progress", "{\"progress\":4}", 50, false, &fx), JW_FX_REFUSE);
	ck_assert_int_eq(fx.outcome, JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_JOB_FINISHED);
	/* The broker's own events are logged, not counted. */
	ck_assert_uint_eq(
	        step(jobs, "b", "failed", "{\"error\":\"silent\",\"code\":\"heartbeat_timeout\"}", 60,
	                true, &fx),
	        JW_FX_LOG | JW_FX_DELIVER | JW_FX_PERSIST | JW_FX_JOURNAL | JW_FX_STATE_NOW);
	jw_jobs_free(jobs);
}
END_TEST

/* ---- suite ---- */

static Suite *jobs_suite(void)
{
	Suite *s = suite_create("jobs");

	JW_TEST_ALONE(s, config);
	JW_TEST_ALONE(s, text_of_matches_json_c);
	JW_TEST_ALONE(s, first_event_creates);
	JW_TEST_ALONE(s, started_fields);
	JW_TEST_ALONE(s, timestamps);
	JW_TEST_ALONE(s, numbers_match_printf);
	JW_TEST_ALONE(s, progress_rules);
	JW_TEST_ALONE(s, complete_is_terminal);
	JW_TEST_ALONE(s, failed_is_terminal);
	JW_TEST_ALONE(s, waiting_for_review);
	JW_TEST_ALONE(s, activity_only_events);
	JW_TEST_ALONE(s, control_rules);
	JW_TEST_ALONE(s, full_table);
	JW_TEST_ALONE(s, eta_reported);
	JW_TEST_ALONE(s, eta_needs_a_rate);
	JW_TEST_ALONE(s, eta_steady_rate_converges);
	JW_TEST_ALONE(s, eta_slow_step_is_damped);
	JW_TEST_ALONE(s, eta_burst_accumulates);
	JW_TEST_ALONE(s, eta_pause_for_review);
	JW_TEST_ALONE(s, state_valid_in_every_status);
	JW_TEST_ALONE(s, state_rate_limit);
	JW_TEST_ALONE(s, step_effects);
	JW_TEST_ALONE(s, stall_detection);
	JW_TEST_ALONE(s, stall_heap_order);
	JW_TEST_ALONE(s, record_round_trip);
	JW_TEST_ALONE(s, counts_exact);
	JW_TEST_ALONE(s, record_after_downtime);
	JW_TEST_ALONE(s, restore_replaces_and_respects_max_jobs);
	JW_TEST_ALONE(s, restore_refuses_corrupt_records);
	JW_TEST_ALONE(s, out_of_memory_changes_nothing);
	JW_TEST_ALONE(s, out_of_memory_while_growing);
	JW_TEST_ALONE(s, hundred_thousand_jobs);
	return s;
}

static struct jw_schema *load_schema(const char *name)
{
	char path[512], err[512];
	struct json_object *doc = NULL;
	struct jw_json_error jerr;
	struct jw_schema *s = NULL;

	if(snprintf(path, sizeof(path), "%s/%s", JW_SCHEMAS_DIR, name) >= (int)sizeof(path) ||
	        jw_json_parse_file(path, 64, &doc, &jerr) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		return NULL;
	}
	if(jw_schema_compile(doc, path, &s, err, sizeof(err)) != 0)
		fprintf(stderr, "%s\n", err);
	json_object_put(doc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	/* The real contract files: a state that passes here passes in the field. */
	state_schema = load_schema("state.json");
	failed_schema = load_schema("failed.json");
	if(!state_schema || !failed_schema)
		return EXIT_FAILURE;
	sr = srunner_create(jobs_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	jw_schema_free(state_schema);
	jw_schema_free(failed_schema);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
