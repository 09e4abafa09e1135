/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the retry rules of docs/lifecycle.md ("Retry"): a control retry is accepted only for a
 * job that failed with retryable true and attempts left, the next started opens the next attempt
 * as a fresh job (stall timer, progress, end) with seq going on, the limit holds, states validate
 * against schemas/state.json, memory is given back, and records keep the attempt and the pending
 * request across a restart. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jdoc.h"
#include "jobs/internal.h"
#include "jobs/jobs.h"
#include "json.h"
#include "schema.h"
#include "util_check.h"

#define BASE_REAL INT64_C(1795315200000) /* 2026-11-22T02:40:00.000Z */
#define BASE_MONO INT64_C(5000000)

static struct jw_schema *state_schema;
static struct jw_apply_result R;
static struct jw_verdict V;

static struct jw_clock at(int64_t t)
{
	struct jw_clock c = {BASE_REAL + t, BASE_MONO + t};
	return c;
}

/* Applies an event of job (session s1) at t ms; the outcome, or -1. */
static int ev(
        struct jw_jobs *jobs, const char *job, const char *type, const char *payload, int64_t t)
{
	struct jw_jdoc d;
	struct jw_json_error err;
	struct jw_clock now = at(t);
	int rc;

	jw_jdoc_init(&d);
	ck_assert_msg(jw_jdoc_parse(&d, payload, strlen(payload), 32, &err) == 0,
	        "bad test payload %s: %s", payload, err.message);
	rc = jw_jobs_apply(jobs, "s1", job, type, d.root, payload, strlen(payload), &now, &R, &V);
	jw_jdoc_free(&d);
	return rc == 0 ? (int)R.outcome : -1;
}

static struct jw_job *find(struct jw_jobs *jobs, const char *job)
{
	return jw_jobs_find(jobs, "s1", job);
}

/* The job's state, parsed, after checking it against schemas/state.json. */
static struct json_object *state(const struct jw_job *j)
{
	size_t len = 0;
	char *s = jw_job_state_json(j, &len);
	struct json_object *o = NULL;
	struct jw_json_error err;
	struct jw_schema_error serr;

	ck_assert_ptr_nonnull(s);
	ck_assert_msg(jw_json_parse(s, len, 64, &o, &err) == 0, "state is not JSON: %s", s);
	ck_assert_msg(jw_schema_validate(state_schema, o, &serr) == 1, "state invalid: %s\n%s",
	        serr.message, s);
	free(s);
	return o;
}

static bool has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

static int64_t iget(struct json_object *o, const char *key)
{
	struct json_object *m = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &m) && json_object_is_type(m, json_type_int),
	        "no integer %s", key);
	return json_object_get_int64(m);
}

static const char *sget(struct json_object *o, const char *key)
{
	struct json_object *m = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &m) && json_object_is_type(m, json_type_string),
	        "no string %s", key);
	return json_object_get_string(m);
}

#define RETRY "{\"action\":\"retry\"}"
#define FAIL_RETRYABLE "{\"error\":\"disk full\",\"code\":\"ENOSPC\",\"retryable\":true}"

/* A job j1 that ran to 40 % and failed retryable at 10 s. */
static struct jw_jobs *failed_job(const struct jw_jobs_config *cfg)
{
	struct jw_jobs *jobs = jw_jobs_new(cfg);

	ck_assert_ptr_nonnull(jobs);
	ck_assert_int_eq(ev(jobs, "j1", "started", "{\"name\":\"n\",\"heartbeat_interval_s\":10}", 0),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "j1", "progress", "{\"progress\":40,\"step\":\"s\",\"message\":\"m\"}", 1000),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "failed", FAIL_RETRYABLE, 10000), JW_APPLY_ACCEPT);
	return jobs;
}

START_TEST(refused_unless_failed_retryable)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct json_object *o;

	/* Unknown job. */
	ck_assert_int_eq(ev(jobs, "j9", "control", RETRY, 0), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_UNKNOWN_JOB);
	/* Running, waiting, complete. */
	ck_assert_int_eq(ev(jobs, "run", "started", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "run", "control", RETRY, 1), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_NOT_RETRYABLE);
	ck_assert_str_eq(V.message, "job run is running: only a failed job can be retried");
	ck_assert_uint_eq(jw_job_seq(find(jobs, "run")), 1);
	ck_assert_int_eq(
	        ev(jobs, "wait", "validation-required", "{\"reason\":\"r\",\"confidence\":0.4}", 0),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "wait", "control", RETRY, 1), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_NOT_RETRYABLE);
	ck_assert_int_eq(ev(jobs, "done", "complete", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "done", "control", RETRY, 1), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_NOT_RETRYABLE);
	ck_assert_str_eq(V.message, "job done is complete: only a failed job can be retried");
	/* Failed, but not retryable: false, or not said. */
	ck_assert_int_eq(
	        ev(jobs, "no", "failed", "{\"error\":\"e\",\"retryable\":false}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "no", "control", RETRY, 1), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_NOT_RETRYABLE);
	ck_assert_str_eq(V.message,
	        "job no failed with retryable false: the worker did not say it may be retried");
	ck_assert_int_eq(ev(jobs, "unsaid", "failed", "{\"error\":\"e\"}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "unsaid", "control", RETRY, 1), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_NOT_RETRYABLE);
	/* Refusals change nothing. */
	o = state(find(jobs, "no"));
	ck_assert_int_eq(iget(o, "seq"), 1);
	ck_assert_int_eq(iget(o, "attempt"), 1);
	ck_assert(!has(o, "retry_requested"));
	json_object_put(o);
	/* Cancel on a failed job is still refused, retryable or not. */
	jw_jobs_free(jobs);
	jobs = failed_job(NULL);
	ck_assert_int_eq(ev(jobs, "j1", "control", "{\"action\":\"cancel\"}", 11000), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_JOB_FINISHED);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(request_then_started_opens_attempt)
{
	struct jw_jobs *jobs = failed_job(NULL);
	struct jw_job *j = find(jobs, "j1");
	struct jw_jobs_stats st;
	struct json_object *o;
	struct jw_clock now;
	size_t mem_failed;

	jw_jobs_stats(jobs, &st);
	mem_failed = st.memory_bytes;
	ck_assert_uint_eq(st.by_status[JW_JOB_FAILED], 1);
	/* Only started opens the next attempt, and only after a request. */
	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 10500), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_JOB_FINISHED);
	ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, 11000), JW_APPLY_ACCEPT);
	ck_assert_uint_eq(R.seq, 4);
	ck_assert(!R.urgent);
	ck_assert(jw_job_retry_requested(j));
	o = state(j);
	ck_assert_str_eq(sget(o, "status"), "failed");
	ck_assert(json_object_get_boolean(json_object_object_get(o, "retry_requested")));
	ck_assert_str_eq(sget(o, "retry_requested_at"), "2026-11-22T02:40:11.000Z");
	ck_assert_int_eq(iget(o, "attempt"), 1);
	json_object_put(o);
	/* A repeat is delivered again and keeps the first time. */
	ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, 12000), JW_APPLY_ACCEPT);
	ck_assert_uint_eq(R.seq, 5);
	o = state(j);
	ck_assert_str_eq(sget(o, "retry_requested_at"), "2026-11-22T02:40:11.000Z");
	json_object_put(o);
	/* Still finished until started: other events are refused; the exact
	 * repeat of the failure is still a duplicate. */
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":1}", 12500), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_JOB_FINISHED);
	ck_assert_int_eq(ev(jobs, "j1", "failed", FAIL_RETRYABLE, 12600), JW_APPLY_DUPLICATE);
	/* No stall while failed. */
	now = at(100000);
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));

	ck_assert_int_eq(
	        ev(jobs, "j1", "started", "{\"heartbeat_interval_s\":5}", 13000), JW_APPLY_ACCEPT);
	ck_assert(!R.created);
	ck_assert_uint_eq(R.seq, 6);
	ck_assert_ptr_eq(R.job, j);
	ck_assert_uint_eq(jw_job_attempt(j), 2);
	ck_assert(!jw_job_retry_requested(j));
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.by_status[JW_JOB_FAILED], 0);
	ck_assert_uint_eq(st.by_status[JW_JOB_RUNNING], 1);
	/* The end, step and message are given back. */
	ck_assert_uint_lt(st.memory_bytes, mem_failed);
	o = state(j);
	ck_assert_str_eq(sget(o, "status"), "running");
	ck_assert_int_eq(iget(o, "attempt"), 2);
	ck_assert_int_eq(iget(o, "seq"), 6);
	ck_assert_str_eq(sget(o, "started_at"), "2026-11-22T02:40:13.000Z");
	ck_assert_str_eq(sget(o, "first_seen_at"), "2026-11-22T02:40:00.000Z");
	ck_assert_str_eq(sget(o, "name"), "n");
	ck_assert(!has(o, "progress"));
	ck_assert(!has(o, "step"));
	ck_assert(!has(o, "message"));
	ck_assert(!has(o, "error"));
	ck_assert(!has(o, "retryable"));
	ck_assert(!has(o, "finished_at"));
	ck_assert(!has(o, "retry_requested"));
	json_object_put(o);
	/* The new attempt's events are accepted as for a new job: progress
	 * below the last attempt's, then an end. */
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":5}", 14000), JW_APPLY_ACCEPT);
	/* The stall timer runs again, with the new attempt's interval. */
	now = at(14000 + 14999);
	ck_assert_ptr_null(jw_jobs_pop_stalled(jobs, &now));
	now = at(14000 + 15000);
	ck_assert_ptr_eq(jw_jobs_pop_stalled(jobs, &now), j);
	ck_assert_int_eq(ev(jobs, "j1", "complete", "{}", 30000), JW_APPLY_ACCEPT);
	o = state(j);
	ck_assert_str_eq(sget(o, "status"), "complete");
	ck_assert_int_eq(iget(o, "attempt"), 2);
	json_object_put(o);
	/* A complete job is not retried. */
	ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, 31000), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_NOT_RETRYABLE);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(attempt_limit)
{
	struct jw_jobs_config cfg = {0};
	struct jw_jobs *jobs;
	struct jw_job *j;
	int64_t t = 20000;

	/* The default: 5 attempts, so 4 retries. */
	jobs = failed_job(NULL);
	j = find(jobs, "j1");
	for(unsigned a = 2; a <= 5; a++, t += 1000) {
		ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, t), JW_APPLY_ACCEPT);
		ck_assert_int_eq(ev(jobs, "j1", "started", "{}", t + 100), JW_APPLY_ACCEPT);
		ck_assert_uint_eq(jw_job_attempt(j), a);
		ck_assert_int_eq(ev(jobs, "j1", "failed", FAIL_RETRYABLE, t + 200), JW_APPLY_ACCEPT);
	}
	ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, t), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_ATTEMPTS_EXHAUSTED);
	ck_assert_str_eq(
	        V.message, "job j1 has had 5 of 5 attempts (plugin_opt_max_attempts): no retry left");
	jw_jobs_free(jobs);

	/* 1: never retried. */
	cfg.max_attempts = 1;
	jobs = failed_job(&cfg);
	ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, 11000), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_ATTEMPTS_EXHAUSTED);
	jw_jobs_free(jobs);
	cfg.max_attempts = 1001;
	ck_assert_ptr_null(jw_jobs_new(&cfg));
}
END_TEST

START_TEST(stall_failure_is_retryable)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct jw_job *j;
	struct jw_clock now;
	struct jw_jdoc d;
	struct jw_json_error err;
	size_t len;
	char *text;

	ck_assert_int_eq(ev(jobs, "j1", "started", "{\"heartbeat_interval_s\":1}", 0), JW_APPLY_ACCEPT);
	j = R.job;
	now = at(3000);
	ck_assert_ptr_eq(jw_jobs_pop_stalled(jobs, &now), j);
	text = jw_job_stall_event(j, &now, &len);
	ck_assert_ptr_nonnull(text);
	jw_jdoc_init(&d);
	ck_assert_int_eq(jw_jdoc_parse(&d, text, len, 32, &err), 0);
	ck_assert_int_eq(jw_jobs_apply(jobs, "s1", "j1", "failed", d.root, text, len, &now, &R, &V), 0);
	jw_jdoc_free(&d);
	free(text);
	ck_assert_int_eq(R.outcome, JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, 4000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 5000), JW_APPLY_ACCEPT);
	ck_assert_uint_eq(jw_job_attempt(j), 2);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(record_keeps_attempt_and_request)
{
	struct jw_jobs *jobs = failed_job(NULL), *b = jw_jobs_new(NULL);
	struct jw_clock now = at(20000);
	struct jw_job *j = find(jobs, "j1"), *k;
	char err[200];
	char *r1, *r2;
	size_t len;

	/* A first attempt's record has no attempt member. */
	r1 = jw_job_record(j, &now, &len);
	ck_assert_ptr_null(strstr(r1, "attempt"));
	free(r1);
	ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, 11000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 12000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "failed", FAIL_RETRYABLE, 13000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, 14000), JW_APPLY_ACCEPT);
	r1 = jw_job_record(j, &now, &len);
	ck_assert_ptr_nonnull(strstr(r1, "\"attempt\":2"));
	ck_assert_ptr_nonnull(strstr(r1, "\"retry_ms\":"));
	ck_assert_int_eq(jw_jobs_restore(b, r1, len, &now, err, sizeof(err)), 0);
	k = find(b, "j1");
	ck_assert_uint_eq(jw_job_attempt(k), 2);
	ck_assert(jw_job_retry_requested(k));
	r2 = jw_job_record(k, &now, &len);
	ck_assert_str_eq(r1, r2);
	free(r2);
	/* The restored job opens attempt 3. */
	ck_assert_int_eq(ev(b, "j1", "started", "{}", 21000), JW_APPLY_ACCEPT);
	ck_assert_uint_eq(jw_job_attempt(k), 3);
	free(r1);
	/* A request is only on a failed job. */
	{
		static const char bad[] = "{\"v\":1,\"session_id\":\"s1\",\"job_id\":\"x\","
		                          "\"status\":\"running\",\"seq\":1,\"heartbeat_interval_s\":30,"
		                          "\"first_seen_ms\":1,\"updated_ms\":1,\"heartbeat_ms\":1,"
		                          "\"deadline_ms\":1,\"retry_ms\":1}";
		ck_assert_int_eq(jw_jobs_restore(b, bad, sizeof(bad) - 1, &now, err, sizeof(err)), -1);
	}
	jw_jobs_free(b);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(summary_carries_attempt)
{
	struct jw_jobs *jobs = failed_job(NULL);
	struct jw_job_summary sum;

	ck_assert(jw_job_summary(find(jobs, "j1"), &sum));
	ck_assert_uint_eq(sum.attempt, 1);
	ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, 11000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 12000), JW_APPLY_ACCEPT);
	ck_assert(!jw_job_summary(find(jobs, "j1"), &sum));
	ck_assert_int_eq(ev(jobs, "j1", "complete", "{}", 13000), JW_APPLY_ACCEPT);
	ck_assert(jw_job_summary(find(jobs, "j1"), &sum));
	ck_assert_uint_eq(sum.attempt, 2);
	jw_jobs_free(jobs);
}
END_TEST

/* Every allocation the opening started makes may fail: the job stays
 * failed with its request, as before. */
START_TEST(out_of_memory_keeps_failed_job)
{
	for(long n = 0; n < 8; n++) {
		struct jw_jobs *jobs = failed_job(NULL);
		struct jw_job *j = find(jobs, "j1");
		int rc;

		ck_assert_int_eq(ev(jobs, "j1", "control", RETRY, 11000), JW_APPLY_ACCEPT);
		jw_jobs__fail_alloc(jobs, n);
		rc = ev(jobs, "j1", "started", "{\"name\":\"again\",\"worker\":\"w\",\"steps\":[\"a\"]}",
		        12000);
		jw_jobs__fail_alloc(jobs, -1);
		if(rc == JW_APPLY_ACCEPT) {
			ck_assert_uint_eq(jw_job_attempt(j), 2);
		} else {
			ck_assert_int_eq(rc, -1);
			ck_assert_int_eq(jw_job_status(j), JW_JOB_FAILED);
			ck_assert(jw_job_retry_requested(j));
			ck_assert_uint_eq(jw_job_attempt(j), 1);
		}
		jw_jobs_free(jobs);
	}
}
END_TEST

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
	Suite *s = suite_create("jobs_retry");
	SRunner *sr;
	int failed;

	state_schema = load_schema("state.json");
	if(!state_schema)
		return EXIT_FAILURE;
	jw_test_case(s, "rules", refused_unless_failed_retryable, request_then_started_opens_attempt,
	        attempt_limit, stall_failure_is_retryable, NULL);
	jw_test_case(s, "records", record_keeps_attempt_and_request, summary_carries_attempt, NULL);
	jw_test_case(s, "memory", out_of_memory_keeps_failed_job, NULL);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	jw_schema_free(state_schema);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
