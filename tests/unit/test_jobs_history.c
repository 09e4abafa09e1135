/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the job history of docs/lifecycle.md ("History"): off unless asked for, events kept in
 * order with their seq, attempt, type and bytes, across attempts, bounded (the oldest go, counted
 * as dropped), counted in the table's memory and given back with the job, and safe when memory
 * runs out. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jdoc.h"
#include "jobs/internal.h"
#include "jobs/jobs.h"
#include "util_check.h"

#define BASE_REAL INT64_C(1795315200000) /* 2026-11-22T02:40:00.000Z */
#define BASE_MONO INT64_C(5000000)

static struct jw_apply_result R;
static struct jw_verdict V;

/* Applies an event of job (session s1) at t ms and, accepted, keeps it
 * in the history as the broker does; the outcome, or -1. */
static int ev(
        struct jw_jobs *jobs, const char *job, const char *type, const char *payload, int64_t t)
{
	struct jw_jdoc d;
	struct jw_json_error err;
	struct jw_clock now = {BASE_REAL + t, BASE_MONO + t};
	int rc;

	jw_jdoc_init(&d);
	ck_assert_msg(jw_jdoc_parse(&d, payload, strlen(payload), 32, &err) == 0,
	        "bad test payload %s: %s", payload, err.message);
	rc = jw_jobs_apply(jobs, "s1", job, type, d.root, payload, strlen(payload), &now, &R, &V);
	jw_jdoc_free(&d);
	if(rc == 0 && R.outcome == JW_APPLY_ACCEPT)
		ck_assert_int_eq(jw_jobs_history_add(jobs, R.job, type, payload, strlen(payload)), 0);
	return rc == 0 ? (int)R.outcome : -1;
}

/* Applies an event of j1 without keeping it: the broker's part before
 * the history's. */
static void apply_only(struct jw_jobs *jobs, const char *type, int64_t t)
{
	struct jw_jdoc d;
	struct jw_json_error err;
	struct jw_clock now = {BASE_REAL + t, BASE_MONO + t};

	jw_jdoc_init(&d);
	ck_assert_int_eq(jw_jdoc_parse(&d, "{}", 2, 32, &err), 0);
	ck_assert_int_eq(jw_jobs_apply(jobs, "s1", "j1", type, d.root, "{}", 2, &now, &R, &V), 0);
	ck_assert_int_eq(R.outcome, JW_APPLY_ACCEPT);
	jw_jdoc_free(&d);
}

static struct jw_jobs *table(size_t history)
{
	struct jw_jobs_config cfg = {0};
	struct jw_jobs *jobs;

	cfg.history_events = history;
	jobs = jw_jobs_new(&cfg);
	ck_assert_ptr_nonnull(jobs);
	return jobs;
}

static void expect(const struct jw_job *j, size_t i, uint64_t seq, unsigned attempt,
        const char *type, const char *bytes)
{
	struct jw_history_event e;

	ck_assert(jw_job_history_get(j, i, &e));
	ck_assert_uint_eq(e.seq, seq);
	ck_assert_uint_eq(e.attempt, attempt);
	ck_assert_str_eq(e.type, type);
	ck_assert_uint_eq(e.len, strlen(bytes));
	ck_assert_mem_eq(e.event, bytes, e.len);
	ck_assert_int_eq(((const char *)e.event)[e.len], '\0');
}

START_TEST(off_by_default)
{
	struct jw_jobs *jobs = table(0);
	struct jw_jobs_stats st;

	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert_uint_eq(jw_job_history_count(R.job), 0);
	ck_assert_uint_eq(jw_job_history_dropped(R.job), 0);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.history_events, 0);
	ck_assert_uint_eq(st.history_bytes, 0);
	ck_assert(!jw_job_history_get(R.job, 0, &(struct jw_history_event){0}));
	jw_jobs_free(jobs);
	/* Past the bound, a table is not made. */
	{
		struct jw_jobs_config cfg = {0};

		cfg.history_events = JW_HISTORY_MAX + 1;
		ck_assert_ptr_null(jw_jobs_new(&cfg));
	}
}
END_TEST

START_TEST(events_in_order)
{
	struct jw_jobs *jobs = table(200);
	struct jw_job *j;

	ck_assert_int_eq(ev(jobs, "j1", "started", "{\"name\":\"n\"}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":10}", 1000), JW_APPLY_ACCEPT);
	/* Refused events are not kept. */
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":5}", 1500), JW_APPLY_REJECT);
	ck_assert_int_eq(ev(jobs, "j1", "control", "{\"action\":\"cancel\"}", 1600), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "complete", "{\"result\":{}}", 2000), JW_APPLY_ACCEPT);
	/* Nor an exact repeat of the end. */
	ck_assert_int_eq(ev(jobs, "j1", "complete", "{\"result\":{}}", 2100), JW_APPLY_DUPLICATE);
	ck_assert_int_eq(ev(jobs, "j2", "started", "{}", 0), JW_APPLY_ACCEPT);
	j = jw_jobs_find(jobs, "s1", "j1");
	ck_assert_uint_eq(jw_job_history_count(j), 4);
	ck_assert_uint_eq(jw_job_history_dropped(j), 0);
	ck_assert(jw_job_history_complete(j));
	expect(j, 0, 1, 1, "started", "{\"name\":\"n\"}");
	expect(j, 1, 2, 1, "progress", "{\"progress\":10}");
	expect(j, 2, 3, 1, "control", "{\"action\":\"cancel\"}");
	expect(j, 3, 4, 1, "complete", "{\"result\":{}}");
	ck_assert(!jw_job_history_get(j, 4, &(struct jw_history_event){0}));
	ck_assert_uint_eq(jw_job_history_count(jw_jobs_find(jobs, "s1", "j2")), 1);
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(all_attempts)
{
	struct jw_jobs *jobs = table(200);
	struct jw_job *j;

	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 0), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "failed", "{\"error\":\"e\",\"retryable\":true}", 1000),
	        JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "control", "{\"action\":\"retry\"}", 2000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 3000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "complete", "{}", 4000), JW_APPLY_ACCEPT);
	j = jw_jobs_find(jobs, "s1", "j1");
	ck_assert_uint_eq(jw_job_attempt(j), 2);
	ck_assert_uint_eq(jw_job_history_count(j), 5);
	expect(j, 0, 1, 1, "started", "{}");
	expect(j, 1, 2, 1, "failed", "{\"error\":\"e\",\"retryable\":true}");
	expect(j, 2, 3, 1, "control", "{\"action\":\"retry\"}");
	expect(j, 3, 4, 2, "started", "{}");
	expect(j, 4, 5, 2, "complete", "{}");
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(bounded_ring)
{
	struct jw_jobs *jobs = table(3);
	struct jw_jobs_stats st, st2;
	struct jw_job *j;
	char p[64];

	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 0), JW_APPLY_ACCEPT);
	for(int i = 1; i <= 9; i++) {
		snprintf(p, sizeof(p), "{\"progress\":%d}", 20 + i);
		ck_assert_int_eq(ev(jobs, "j1", "progress", p, i * 100), JW_APPLY_ACCEPT);
	}
	jw_jobs_stats(jobs, &st);
	j = jw_jobs_find(jobs, "s1", "j1");
	ck_assert_uint_eq(jw_job_history_count(j), 3);
	ck_assert_uint_eq(jw_job_history_dropped(j), 7);
	ck_assert(!jw_job_history_complete(j));
	expect(j, 0, 8, 1, "progress", "{\"progress\":27}");
	expect(j, 2, 10, 1, "progress", "{\"progress\":29}");
	ck_assert_uint_eq(st.history_events, 3);
	ck_assert_uint_gt(st.history_bytes, 0);
	ck_assert_uint_le(st.history_bytes, st.memory_bytes);
	/* A full ring of like events reuses its entries: no growth. */
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":30}", 2000), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "progress", "{\"progress\":31}", 2100), JW_APPLY_ACCEPT);
	jw_jobs_stats(jobs, &st2);
	ck_assert_uint_eq(st2.history_bytes, st.history_bytes);
	st = st2;
	/* A much larger event replaces its slot's memory. */
	ck_assert_int_eq(ev(jobs, "j1", "progress",
	                         "{\"progress\":32,\"note\":\"a much longer note than before, "
	                         "long enough to need a new entry of its own\"}",
	                         2200),
	        JW_APPLY_ACCEPT);
	jw_jobs_stats(jobs, &st2);
	ck_assert_uint_gt(st2.history_bytes, st.history_bytes);
	ck_assert_uint_eq(st2.memory_bytes - st.memory_bytes, st2.history_bytes - st.history_bytes);
	expect(j, 0, 11, 1, "progress", "{\"progress\":30}");
	jw_jobs_free(jobs);
}
END_TEST

START_TEST(memory_given_back)
{
	struct jw_jobs_config cfg = {0};
	struct jw_jobs *jobs;
	struct jw_jobs_stats base, st;

	cfg.history_events = 50;
	cfg.max_jobs = 1;
	jobs = jw_jobs_new(&cfg);
	ck_assert_ptr_nonnull(jobs);
	jw_jobs_stats(jobs, &base);
	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 0), JW_APPLY_ACCEPT);
	for(int i = 1; i <= 20; i++)
		ck_assert_int_eq(ev(jobs, "j1", "heartbeat", "{}", i * 10), JW_APPLY_ACCEPT);
	ck_assert_int_eq(ev(jobs, "j1", "complete", "{}", 500), JW_APPLY_ACCEPT);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.history_events, 22);
	/* j2 evicts the finished j1, history and all. */
	ck_assert_int_eq(ev(jobs, "j2", "started", "{}", 600), JW_APPLY_ACCEPT);
	ck_assert_ptr_null(jw_jobs_find(jobs, "s1", "j1"));
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.history_events, 1);
	ck_assert_uint_eq(st.evicted, 1);
	/* What one job with one kept event costs, from an empty table. */
	{
		struct jw_jobs *one = table(50);
		struct jw_jobs_stats s1;

		ck_assert_int_eq(ev(one, "j2", "started", "{}", 0), JW_APPLY_ACCEPT);
		jw_jobs_stats(one, &s1);
		ck_assert_uint_eq(s1.history_bytes, st.history_bytes);
		jw_jobs_free(one);
	}
	jw_jobs_free(jobs);
}
END_TEST

/* The bytes kept for the k-th event of the tests below: a length (at
 * most longest, 40 from seq short_from on) and a letter that depend on
 * k, NUL-terminated in buf. */
static uint64_t short_from = UINT64_MAX;

static size_t payload(char *buf, size_t size, uint64_t k, size_t longest)
{
	size_t n;

	if(k >= short_from)
		longest = 40;
	n = (size_t)((k * 2654435761u) % (longest + 1));

	ck_assert_uint_lt(n, size);
	memset(buf, 'a' + (int)(k % 26), n);
	buf[n] = '\0';
	return n;
}

/* The kept events of j, in order, each with its bytes, the last being
 * seq last; gapless: the newest ones, none missing between them. */
static void expect_newest(const struct jw_job *j, uint64_t last, size_t longest, bool gapless)
{
	size_t n = jw_job_history_count(j);
	uint64_t prev = 0;
	char p[1024];

	for(size_t i = 0; i < n; i++) {
		struct jw_history_event e;
		size_t len;

		ck_assert(jw_job_history_get(j, i, &e));
		ck_assert_uint_gt(e.seq, prev);
		if(gapless)
			ck_assert_uint_eq(e.seq, last - (n - 1 - i));
		len = payload(p, sizeof(p), e.seq, longest);
		ck_assert_str_eq(e.type, "heartbeat");
		ck_assert_uint_eq(e.len, len);
		ck_assert_mem_eq(e.event, p, len);
		ck_assert_int_eq(((const char *)e.event)[len], '\0');
		prev = e.seq;
	}
	ck_assert_uint_eq(prev, last);
}

START_TEST(out_of_memory)
{
	struct jw_jobs *jobs = table(64);
	struct jw_jobs_stats st;
	struct jw_job *j;
	char p[1024];
	int failed = 0;

	apply_only(jobs, "started", 0);
	j = R.job;
	apply_only(jobs, "heartbeat", 50);
	ck_assert_int_eq(
	        jw_jobs_history_add(jobs, j, "heartbeat", p, payload(p, sizeof(p), 2, 300)), 0);
	/* Every allocation of an add fails in turn, as the ring fills, grows
	 * (its offsets and its bytes) and turns over: the event is dropped,
	 * nothing leaks, the counts agree, what is kept is intact. */
	for(long n = 0; n < 200; n++) {
		size_t before = jw_job_history_count(j), len;
		uint64_t dropped = jw_job_history_dropped(j);
		int rc;

		apply_only(jobs, "heartbeat", 100 + n);
		ck_assert_ptr_eq(R.job, j);
		len = payload(p, sizeof(p), j->seq, 300);
		jw_jobs__fail_alloc(jobs, n % 3);
		rc = jw_jobs_history_add(jobs, j, "heartbeat", p, len);
		jw_jobs__fail_alloc(jobs, -1);
		if(rc == 0) {
			ck_assert_uint_eq(jw_job_history_count(j), before < 64 ? before + 1 : before);
			ck_assert_uint_eq(jw_job_history_dropped(j), before < 64 ? dropped : dropped + 1);
			expect_newest(j, j->seq, 300, false);
		} else {
			failed++;
			ck_assert_uint_le(jw_job_history_count(j), before);
			ck_assert_uint_eq(
			        jw_job_history_dropped(j) - dropped, before - jw_job_history_count(j) + 1);
			ck_assert(!jw_job_history_complete(j));
		}
		/* All but the started (not kept here) are kept or dropped. */
		ck_assert_uint_eq(jw_job_history_count(j) + jw_job_history_dropped(j), j->seq - 1);
	}
	ck_assert_int_gt(failed, 0);
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_eq(st.history_events, jw_job_history_count(j));
	jw_jobs_free(jobs);
	/* The first event of a job, with no memory for its ring at all. */
	jobs = table(4);
	apply_only(jobs, "heartbeat", 10);
	jw_jobs__fail_alloc(jobs, 0);
	ck_assert_int_eq(jw_jobs_history_add(jobs, R.job, "heartbeat", "{}", 2), -1);
	ck_assert_uint_eq(jw_job_history_count(R.job), 0);
	ck_assert(!jw_job_history_complete(R.job));
	jw_jobs_free(jobs);
}
END_TEST

/* Filling a ring allocates only when it grows (by doubling), not per
 * event; a full ring allocates nothing. */
START_TEST(few_allocations)
{
	struct jw_jobs *jobs = table(200);
	struct jw_jobs_stats st;
	size_t last = 0, changes = 0;
	char p[400];

	memset(p, 'x', 300);
	p[300] = '\0';
	apply_only(jobs, "started", 0);
	for(int i = 1; i <= 400; i++) {
		apply_only(jobs, "heartbeat", i);
		ck_assert_int_eq(jw_jobs_history_add(jobs, R.job, "heartbeat", p, 300), 0);
		jw_jobs_stats(jobs, &st);
		if(st.history_bytes != last)
			changes++;
		last = st.history_bytes;
		if(i == 200)
			ck_assert_uint_le(changes, 16);
		if(i > 200)
			ck_assert_uint_le(changes, 16);
	}
	ck_assert_uint_eq(jw_job_history_count(R.job), 200);
	/* About the events' bytes, not twice them. */
	ck_assert_uint_lt(st.history_bytes, 200 * (300 + 64) * 5 / 4);
	jw_jobs_free(jobs);
}
END_TEST

/* Events of every length through rings of several bounds, with and
 * without the table's bound: always the newest, in order, intact;
 * a ring whose events got much smaller gives memory back. */
START_TEST(wraps_in_order)
{
	static const size_t bounds[] = {1, 2, 3, 5, 17, 64};

	for(size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
		for(int with_max = 0; with_max < 2; with_max++) {
			struct jw_jobs_config cfg = {0};
			struct jw_jobs *jobs;
			struct jw_jobs_stats st;
			size_t peak = 0;
			char p[1024];

			cfg.history_events = bounds[b];
			cfg.history_max_bytes = with_max ? 6000 : 0;
			jobs = jw_jobs_new(&cfg);
			ck_assert_ptr_nonnull(jobs);
			apply_only(jobs, "started", 0);
			/* Long events, then short ones (seq 1 is the started). */
			short_from = 302;
			for(int i = 1; i <= 600; i++) {
				size_t longest = 900, len;

				apply_only(jobs, "heartbeat", i);
				len = payload(p, sizeof(p), R.job->seq, longest);
				ck_assert_int_eq(jw_jobs_history_add(jobs, R.job, "heartbeat", p, len), 0);
				ck_assert_uint_ge(jw_job_history_count(R.job), 1);
				ck_assert_uint_le(jw_job_history_count(R.job), bounds[b]);
				if(!with_max)
					ck_assert_uint_eq(jw_job_history_count(R.job),
					        (R.job->seq - 1 < bounds[b] ? R.job->seq - 1 : bounds[b]));
				expect_newest(R.job, R.job->seq, longest, true);
				jw_jobs_stats(jobs, &st);
				if(with_max)
					ck_assert_uint_le(st.history_bytes, cfg.history_max_bytes);
				ck_assert_uint_eq(st.history_events, jw_job_history_count(R.job));
				if(i == 300)
					peak = st.history_bytes;
			}
			if(bounds[b] >= 17 && !with_max)
				ck_assert_uint_lt(st.history_bytes, peak / 2);
			short_from = UINT64_MAX;
			jw_jobs_free(jobs);
		}
	}
}
END_TEST

/* All the histories within history_max_bytes: the history added to least
 * recently goes first (whole), then the newest one's oldest events; the
 * bytes never pass the bound after an addition, and what went is counted. */
START_TEST(table_wide_bound)
{
	struct jw_jobs_config cfg = {0};
	struct jw_jobs *jobs;
	struct jw_jobs_stats st;
	struct jw_job *j1, *j2, *j3;
	char p[64], name[16];

	cfg.history_events = 100;
	cfg.history_max_bytes = 4096;
	jobs = jw_jobs_new(&cfg);
	ck_assert_ptr_nonnull(jobs);
	for(int k = 1; k <= 3; k++) {
		snprintf(name, sizeof(name), "j%d", k);
		ck_assert_int_eq(ev(jobs, name, "started", "{}", k), JW_APPLY_ACCEPT);
	}
	j1 = jw_jobs_find(jobs, "s1", "j1");
	j2 = jw_jobs_find(jobs, "s1", "j2");
	j3 = jw_jobs_find(jobs, "s1", "j3");
	/* j1 and j3 go on; j2 (a quiet job) is the least recently added to. */
	for(int i = 1; i <= 30; i++) {
		snprintf(p, sizeof(p), "{\"progress\":%d}", i);
		ck_assert_int_eq(ev(jobs, "j1", "progress", p, 100 + i), JW_APPLY_ACCEPT);
		ck_assert_int_eq(ev(jobs, "j3", "progress", p, 100 + i), JW_APPLY_ACCEPT);
		jw_jobs_stats(jobs, &st);
		ck_assert_uint_le(st.history_bytes, cfg.history_max_bytes);
	}
	ck_assert_uint_eq(jw_job_history_count(j2), 0);
	ck_assert(!jw_job_history_complete(j2));
	ck_assert_uint_gt(jw_job_history_count(j1), 0);
	ck_assert_uint_gt(jw_job_history_count(j3), 0);
	/* The newest event of each is there. */
	{
		struct jw_history_event e;

		ck_assert(jw_job_history_get(j3, jw_job_history_count(j3) - 1, &e));
		ck_assert_uint_eq(e.seq, 31);
	}
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_gt(st.history_shed, 0);
	ck_assert_uint_eq(st.history_events, jw_job_history_count(j1) + jw_job_history_count(j3));
	/* Freeing a job in the middle of the list keeps the list whole. */
	jw_jobs_free(jobs);
	/* One job alone over the bound keeps its newest events. */
	cfg.history_max_bytes = 1024;
	jobs = jw_jobs_new(&cfg);
	ck_assert_int_eq(ev(jobs, "j1", "started", "{}", 0), JW_APPLY_ACCEPT);
	for(int i = 1; i <= 60; i++) {
		snprintf(p, sizeof(p), "{\"progress\":%d}", i);
		ck_assert_int_eq(ev(jobs, "j1", "progress", p, i), JW_APPLY_ACCEPT);
	}
	j1 = jw_jobs_find(jobs, "s1", "j1");
	jw_jobs_stats(jobs, &st);
	ck_assert_uint_le(st.history_bytes, 1024);
	ck_assert_uint_gt(jw_job_history_count(j1), 0);
	expect(j1, jw_job_history_count(j1) - 1, 61, 1, "progress", "{\"progress\":60}");
	jw_jobs_free(jobs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jobs_history");

	jw_test_case(s, "rules", off_by_default, events_in_order, all_attempts, NULL);
	jw_test_case(s, "bound", bounded_ring, table_wide_bound, wraps_in_order, NULL);
	jw_test_case(s, "memory", memory_given_back, out_of_memory, few_allocations, NULL);
	return jw_test_run(s);
}
