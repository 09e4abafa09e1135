/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the review rule of docs/lifecycle.md ("Reviews"): a control with action review is
 * accepted only while the job waits on an unanswered validation-required event and only with a
 * choice it offered (any non-empty one when it offered none); the decision shows in the state
 * (valid against schemas/state.json) with who and when, the job stays waiting until progress,
 * and every refusal names its reason. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jdoc.h"
#include "jobs/jobs.h"
#include "json.h"
#include "schema.h"
#include "util_check.h"

#define BASE_REAL INT64_C(1795315200000) /* 2026-11-22T02:40:00.000Z */
#define BASE_MONO INT64_C(5000000)

static struct jw_schema *state_schema;
static struct jw_apply_result R;
static struct jw_verdict V;

static int ev(struct jw_jobs *jobs, const char *type, const char *payload, int64_t t)
{
	struct jw_clock now = {BASE_REAL + t, BASE_MONO + t};
	struct jw_jdoc d;
	struct jw_json_error err;
	int rc;

	jw_jdoc_init(&d);
	ck_assert_msg(
	        jw_jdoc_parse(&d, payload, strlen(payload), 32, &err) == 0, "bad payload %s", payload);
	rc = jw_jobs_apply(jobs, "s1", "j1", type, d.root, payload, strlen(payload), &now, &R, &V);
	jw_jdoc_free(&d);
	ck_assert_int_eq(rc, 0);
	return (int)R.outcome;
}

/* The job's state, checked against schemas/state.json. */
static struct json_object *state(struct jw_jobs *jobs)
{
	struct jw_job *j = jw_jobs_find(jobs, "s1", "j1");
	struct json_object *o = NULL;
	struct jw_json_error err;
	struct jw_schema_error serr;
	size_t len = 0;
	char *s;

	ck_assert_ptr_nonnull(j);
	s = jw_job_state_json(j, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(jw_json_parse(s, len, 64, &o, &err), 0);
	ck_assert_msg(jw_schema_validate(state_schema, o, &serr) == 1, "state invalid: %s\n%s",
	        serr.message, s);
	free(s);
	return o;
}

static const char *str_at(struct json_object *o, const char *a, const char *b)
{
	struct json_object *m = NULL, *n = NULL;

	if(!json_object_object_get_ex(o, a, &m))
		return NULL;
	if(!b)
		return json_object_get_string(m);
	if(!json_object_object_get_ex(m, b, &n))
		return NULL;
	return json_object_get_string(n);
}

static const char *ASK = "{\"reason\":\"low confidence\",\"confidence\":0.41,\"threshold\":0.8,"
                         "\"item\":{\"z\":12},\"actions\":[\"approve\",\"reject\"]}";

START_TEST(review_accepted_while_waiting)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct jw_review_info ri;
	struct json_object *o;

	ck_assert_int_eq(ev(jobs, "started", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "validation-required", ASK, 1000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "control",
	                "{\"action\":\"review\",\"choice\":\"reject\",\"comment\":\"blurred\"}", 2500),
	        JW_APPLY_ACCEPT);
	ck_assert(R.review);
	ck_assert(R.urgent);
	ck_assert(jw_job_review_info(R.job, &ri));
	ck_assert_str_eq(ri.choice, "\"reject\"");
	ck_assert_str_eq(ri.comment, "\"blurred\"");
	ck_assert_str_eq(ri.reason, "\"low confidence\"");
	ck_assert_double_eq_tol(ri.confidence, 0.41, 1e-12);
	ck_assert(ri.has_threshold);
	ck_assert_int_eq(ri.asked_ms, BASE_REAL + 1000);
	ck_assert_int_eq(ri.answered_ms, BASE_REAL + 2500);
	ck_assert_ptr_null(ri.by);
	ck_assert_int_eq(jw_job_review_set_by(jobs, R.job, "alice \"A\""), 0);

	o = state(jobs);
	ck_assert_str_eq(str_at(o, "status", NULL), "waiting");
	ck_assert_str_eq(str_at(o, "review", "choice"), "reject");
	ck_assert_str_eq(str_at(o, "review", "comment"), "blurred");
	ck_assert_str_eq(str_at(o, "review", "by"), "alice \"A\"");
	ck_assert_str_eq(str_at(o, "review", "at"), "2026-11-22T02:40:02.500Z");
	ck_assert_ptr_nonnull(str_at(o, "validation", "reason"));
	json_object_put(o);

	/* Answered once: a second answer is refused. */
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"approve\"}", 3000),
	        JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_NO_PENDING_REVIEW);
	ck_assert_msg(strstr(V.message, "already answered") != NULL, "%s", V.message);

	/* Progress: running again, the decision still shown, no review pending. */
	ck_assert_int_eq(ev(jobs, "progress", "{\"progress\":50}", 4000), JW_APPLY_ACCEPT);
	o = state(jobs);
	ck_assert_str_eq(str_at(o, "status", NULL), "running");
	ck_assert_str_eq(str_at(o, "review", "choice"), "reject");
	ck_assert_ptr_null(str_at(o, "validation", NULL));
	json_object_put(o);
	ck_assert(!jw_job_review_info(jw_jobs_find(jobs, "s1", "j1"), &ri));
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"approve\"}", 5000),
	        JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_NO_PENDING_REVIEW);
	ck_assert_msg(strstr(V.message, "running") != NULL, "%s", V.message);

	/* A new question drops the old answer until it is answered. */
	ck_assert_int_eq(ev(jobs, "validation-required", ASK, 6000), JW_APPLY_ACCEPT);
	o = state(jobs);
	ck_assert_ptr_null(str_at(o, "review", NULL));
	json_object_put(o);
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"approve\"}", 7000),
	        JW_APPLY_ACCEPT);
	o = state(jobs);
	ck_assert_str_eq(str_at(o, "review", "choice"), "approve");
	ck_assert_ptr_null(str_at(o, "review", "comment"));
	ck_assert_ptr_null(str_at(o, "review", "by"));
	json_object_put(o);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(review_refusals)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);

	/* Unknown job. */
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"approve\"}", 0),
	        JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_UNKNOWN_JOB);
	/* Running, never asked. */
	ck_assert_int_eq(ev(jobs, "started", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"approve\"}", 10),
	        JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_NO_PENDING_REVIEW);
	ck_assert_str_eq(V.field, "/action");
	/* Waiting: a choice not offered, then none at all. */
	ck_assert_int_eq(ev(jobs, "validation-required", ASK, 20), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"rerun\"}", 30),
	        JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_CHOICE_NOT_OFFERED);
	ck_assert_str_eq(V.field, "/choice");
	ck_assert_msg(
	        strstr(V.message, "rerun is not offered (approve, reject)") != NULL, "%s", V.message);
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"approv\"}", 30),
	        JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_CHOICE_NOT_OFFERED);
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\"}", 30), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_CHOICE_NOT_OFFERED);
	/* Nothing changed: still waiting, unanswered. */
	ck_assert_int_eq(jw_job_status(jw_jobs_find(jobs, "s1", "j1")), JW_JOB_WAITING);
	/* A cancel is still taken while waiting. */
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"cancel\"}", 40), JW_APPLY_ACCEPT);
	ck_assert(!R.review);
	/* Finished. */
	ck_assert_int_eq(ev(jobs, "failed", "{\"error\":\"x\"}", 50), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"approve\"}", 60),
	        JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_JOB_FINISHED);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(review_any_choice_when_none_offered)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);

	ck_assert_int_eq(ev(jobs, "validation-required", "{\"reason\":\"r\",\"confidence\":0.5}", 0),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"\"}", 10), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_CHOICE_NOT_OFFERED);
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"whatever\"}", 20),
	        JW_APPLY_ACCEPT);
	ck_assert(R.review);
	/* An empty list offers nothing either. */
	ck_assert_int_eq(ev(jobs, "validation-required",
	                         "{\"reason\":\"r\",\"confidence\":0.5,\"actions\":[]}", 30),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"ok\"}", 40), JW_APPLY_ACCEPT);
	/* The end keeps the answer in the state. */
	ck_assert_int_eq(ev(jobs, "complete", "{}", 50), JW_APPLY_ACCEPT);
	{
		struct json_object *o = state(jobs);
		ck_assert_str_eq(str_at(o, "review", "choice"), "ok");
		json_object_put(o);
	}
	jw_jobs_free(jobs);
}
END_TEST

/* A record of the job restores to the same job: the same record and state,
 * the answer (and whether it is pending) included. */
static void assert_record_roundtrip(struct jw_jobs *jobs)
{
	struct jw_clock now = {BASE_REAL + 90000, BASE_MONO + 90000};
	struct jw_job *j = jw_jobs_find(jobs, "s1", "j1");
	struct jw_jobs *other = jw_jobs_new(NULL);
	char err[200], *rec, *rec2, *st, *st2;
	size_t len = 0, len2 = 0;

	rec = jw_job_record(j, &now, &len);
	ck_assert_ptr_nonnull(rec);
	ck_assert_msg(
	        jw_jobs_restore(other, rec, len, &now, err, sizeof(err)) == 0, "%s: %s", err, rec);
	rec2 = jw_job_record(jw_jobs_find(other, "s1", "j1"), &now, &len2);
	ck_assert_str_eq(rec2, rec);
	st = jw_job_state_json(j, NULL);
	st2 = jw_job_state_json(jw_jobs_find(other, "s1", "j1"), NULL);
	ck_assert_str_eq(st2, st);
	free(rec);
	free(rec2);
	free(st);
	free(st2);
	jw_jobs_free(other);
}

START_TEST(review_survives_restart)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct jw_clock now = {BASE_REAL, BASE_MONO};
	char err[200];
	static const char bad[] =
	        "{\"v\":1,\"session_id\":\"s1\",\"job_id\":\"j9\",\"status\":\"running\",\"seq\":2,"
	        "\"heartbeat_interval_s\":30,\"first_seen_ms\":1,\"updated_ms\":1,\"heartbeat_ms\":1,"
	        "\"deadline_ms\":1,\"review\":{\"choice\":\"\\\"x\\\"\",\"at_ms\":1,\"pending\":true}}";

	ck_assert_int_eq(ev(jobs, "validation-required", ASK, 1000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"approve\"}", 2000),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(jw_job_review_set_by(jobs, R.job, "alice"), 0);
	assert_record_roundtrip(jobs);
	{
		/* Still pending after the restart: a second answer is refused. */
		struct jw_jobs *other = jw_jobs_new(NULL);
		size_t len = 0;
		char *rec = jw_job_record(jw_jobs_find(jobs, "s1", "j1"), &now, &len);
		struct jw_review_info ri;

		ck_assert_int_eq(jw_jobs_restore(other, rec, len, &now, err, sizeof(err)), 0);
		ck_assert(jw_job_review_info(jw_jobs_find(other, "s1", "j1"), &ri));
		ck_assert_int_eq(ri.asked_ms, BASE_REAL + 1000);
		ck_assert_str_eq(ri.by, "\"alice\"");
		free(rec);
		jw_jobs_free(other);
	}
	ck_assert_int_eq(ev(jobs, "progress", "{\"progress\":10}", 3000), JW_APPLY_ACCEPT);
	assert_record_roundtrip(jobs);
	/* A pending answer on a job that is not waiting is damage. */
	ck_assert_int_ne(jw_jobs_restore(jobs, bad, strlen(bad), &now, err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "pending only on a waiting job") != NULL, "%s", err);
	jw_jobs_free(jobs);
}
END_TEST

/* Whether s is valid UTF-8 (no sequence cut short). */
static bool utf8_ok(const char *s)
{
	for(const unsigned char *p = (const unsigned char *)s; *p;) {
		int k = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : 3;

		p++;
		for(int i = 0; i < k; i++, p++) {
			if((*p & 0xC0) != 0x80)
				return false;
		}
	}
	return true;
}

START_TEST(review_messages_stay_valid_utf8)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	char ask[8192], ctl[1024], word[400];
	size_t n = 0;

	/* 20 long actions of two-byte characters, and a long unknown choice. */
	for(int i = 0; i < 150; i++)
		memcpy(word + 2 * i, "\xc3\xa9", 2);
	word[300] = '\0';
	n += (size_t)snprintf(
	        ask + n, sizeof(ask) - n, "{\"reason\":\"r\",\"confidence\":0.1,\"actions\":[");
	for(int i = 0; i < 20; i++)
		n += (size_t)snprintf(ask + n, sizeof(ask) - n, "%s\"%d%s\"", i ? "," : "", i, word);
	snprintf(ask + n, sizeof(ask) - n, "]}");
	snprintf(ctl, sizeof(ctl), "{\"action\":\"review\",\"choice\":\"x%s\"}", word);
	ck_assert_int_eq(ev(jobs, "validation-required", ask, 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "control", ctl, 10), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_CHOICE_NOT_OFFERED);
	ck_assert_msg(utf8_ok(V.message), "message cut inside a character: %s", V.message);
	ck_assert_msg(strstr(V.message, "...)") != NULL, "%s", V.message);
	/* Answered with a long choice: the refusal of a second answer too. */
	snprintf(ctl, sizeof(ctl), "{\"action\":\"review\",\"choice\":\"0%s\"}", word);
	ck_assert_int_eq(ev(jobs, "control", ctl, 20), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "control", ctl, 30), JW_APPLY_REJECT);
	ck_assert_int_eq(V.reason, JW_REASON_NO_PENDING_REVIEW);
	ck_assert_msg(utf8_ok(V.message), "message cut inside a character: %s", V.message);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(review_answer_stays_with_its_attempt)
{
	struct jw_jobs *jobs = jw_jobs_new(NULL);
	struct json_object *o;

	ck_assert_int_eq(ev(jobs, "validation-required", ASK, 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"review\",\"choice\":\"reject\"}", 10),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(
	        ev(jobs, "failed", "{\"error\":\"rejected\",\"retryable\":true}", 20), JW_APPLY_ACCEPT);
	o = state(jobs);
	ck_assert_str_eq(str_at(o, "review", "choice"), "reject");
	json_object_put(o);
	ck_assert_int_eq(ev(jobs, "control", "{\"action\":\"retry\"}", 30), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "started", "{}", 40), JW_APPLY_ACCEPT);
	o = state(jobs);
	ck_assert_ptr_null(str_at(o, "review", NULL));
	json_object_put(o);
	jw_jobs_free(jobs);
}
END_TEST

static struct jw_schema *load_schema(const char *name)
{
	char path[512], err[512];
	struct json_object *doc = NULL;
	struct jw_json_error jerr;
	struct jw_schema *s = NULL;

	snprintf(path, sizeof(path), "%s/%s", JW_SCHEMAS_DIR, name);
	if(jw_json_parse_file(path, 64, &doc, &jerr) != 0)
		return NULL;
	if(jw_schema_compile(doc, path, &s, err, sizeof(err)) != 0)
		fprintf(stderr, "%s\n", err);
	json_object_put(doc);
	return s;
}

int main(void)
{
	Suite *s = suite_create("review");
	int rc;

	state_schema = load_schema("state.json");
	if(!state_schema)
		return EXIT_FAILURE;
	jw_test_case(s, "rules", review_accepted_while_waiting, review_refusals,
	        review_any_choice_when_none_offered, review_survives_restart,
	        review_messages_stay_valid_utf8, review_answer_stays_with_its_attempt, NULL);
	rc = jw_test_run(s);
	jw_schema_free(state_schema);
	return rc;
}
