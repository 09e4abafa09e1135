/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the job table's per-event shortcuts give exactly what the general paths give: step
 * and message rewritten in the job's own buffer as texts grow, shrink and start or stop
 * needing escapes, with the parser's plain flag set, clear or absent (json-c events, restored
 * records), the memory count exact across reuse, the lazy stall heap still popping by the
 * real deadline, the inline rounding and id checks equal to what they replace. */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jdoc.h"
#include "jobs/jobs.h"
#include "jobs/internal.h"
#include "util/id.h"
#include "json.h"
#include "util_check.h"

/* Under valgrind (CI runs every unit test there too) the long random and
 * mutation loops run a tenth of their rounds (SPREAD: a tenth of the
 * positions): memcheck looks for memory
 * errors, which the native and ASan runs of every round also catch. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define ROUNDS(n) (RUNNING_ON_VALGRIND ? (n) / 10 : (n))
#define SPREAD(n) (RUNNING_ON_VALGRIND ? (n)*10 : (n))
#endif
#endif
#ifndef ROUNDS
#define ROUNDS(n) (n)
#define SPREAD(n) (n)
#endif

#define BASE_REAL INT64_C(1795315200000) /* 2026-11-22T02:40:00.000Z */
#define BASE_MONO INT64_C(5000000)

static struct jw_clock at(int64_t t)
{
	struct jw_clock c = {BASE_REAL + t, BASE_MONO + t};
	return c;
}

static unsigned next(unsigned *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return *seed >> 8;
}

/* Whether json-c writes s[0..n) between quotes unchanged: the flag's
 * meaning, computed independently of core/jobs/. */
static int is_plain(const char *s, size_t n)
{
	for(size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if(c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

/* Sets every string's plain flag: mode 1 as the parser should, 0 all clear. */
static void set_plain(struct jw_jnode *n, int mode)
{
	if(n->type == JW_J_STRING)
		n->plain = (uint8_t)(mode ? is_plain(n->u.s, n->n) : 0);
	if(n->type == JW_J_OBJECT || n->type == JW_J_ARRAY) {
		for(uint32_t i = 0; i < n->n; i++)
			set_plain(&n->u.kids[i], mode);
	}
}

/* Applies payload (type, job j) through the arena tree with plain flags set by mode. */
static int apply_node(struct jw_jobs *jobs, const char *job, const char *type, const char *payload,
        int mode, struct jw_clock now, struct jw_apply_result *res, struct jw_verdict *v)
{
	struct jw_jdoc d;
	struct jw_json_error err;
	int rc;

	jw_jdoc_init(&d);
	ck_assert_msg(jw_jdoc_parse(&d, payload, strlen(payload), 32, &err) == 0, "%s: %s", payload,
	        err.message);
	set_plain((struct jw_jnode *)d.root, mode);
	rc = jw_jobs_apply(jobs, "s1", job, type, d.root, payload, strlen(payload), &now, res, v);
	jw_jdoc_free(&d);
	return rc;
}

static int apply_json(struct jw_jobs *jobs, const char *job, const char *type, const char *payload,
        struct jw_clock now, struct jw_apply_result *res, struct jw_verdict *v)
{
	struct json_object *o = NULL;
	struct jw_json_error err;
	struct jw_jdoc d;
	int rc;

	/* The tree built from json-c's (jw_jdoc_from_json, what the schema
	 * code uses) must fold in exactly as the parser's. */
	ck_assert_int_eq(jw_json_parse(payload, strlen(payload), 32, &o, &err), 0);
	jw_jdoc_init(&d);
	ck_assert_int_eq(jw_jdoc_from_json(&d, o), 0);
	json_object_put(o);
	rc = jw_jobs_apply(jobs, "s1", job, type, d.root, payload, strlen(payload), &now, res, v);
	jw_jdoc_free(&d);
	return rc;
}

static char *state_of(struct jw_jobs *jobs, const char *job)
{
	struct jw_job *j = jw_jobs_find(jobs, "s1", job);
	size_t len;
	char *s;

	ck_assert_ptr_nonnull(j);
	s = jw_job_state_json(j, &len);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(strlen(s), len);
	return s;
}

/*
 * A random string of up to max bytes, mostly plain (the lengths cluster so
 * that a text often fits its predecessor's buffer, and sometimes grows far
 * past it or shrinks to nothing), sometimes with one or more bytes that
 * need escapes: quote, backslash, control characters, DEL, U+0000, UTF-8.
 */
static size_t random_text(unsigned *seed, char *buf, size_t max)
{
	static const char *const special[] = {
	        "\"", "\\", "\n", "\x01", "\x1f", "\x7f", "/", "\xc3\xa9", "\xe2\x82\xac", "\0", "\t"};
	size_t len, i = 0;
	unsigned r = next(seed) % 100;
	int escapes = (next(seed) % 4 == 0) ? 1 + (int)(next(seed) % 3) : 0;

	if(r < 10)
		len = 0;
	else if(r < 20)
		len = next(seed) % 8;
	else if(r < 85)
		len = 180 + next(seed) % 40;
	else
		len = next(seed) % max;
	if(len > max - 4)
		len = max - 4;
	while(i < len) {
		if(escapes > 0 && next(seed) % (len - i + 1) < 3) {
			const char *sp = special[next(seed) % (sizeof(special) / sizeof(special[0]))];
			size_t n = sp[0] ? strlen(sp) : 1;

			if(i + n > len)
				break;
			memcpy(buf + i, sp, n);
			i += n;
			escapes--;
			continue;
		}
		buf[i++] = (char)(' ' + 1 + next(seed) % 90);
		if(buf[i - 1] == '"' || buf[i - 1] == '\\')
			buf[i - 1] = 'x';
	}
	return i;
}

/* The text json-c writes for a string: what a stored text must be. */
static char *json_c_text(const char *s, size_t n)
{
	struct json_object *o = json_object_new_string_len(s, (int)n);
	char *t = strdup(json_object_to_json_string_ext(
	        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	json_object_put(o);
	ck_assert_ptr_nonnull(t);
	return t;
}

/*
 * Random progress and complete events for ten jobs go into four tables:
 * through the tree with plain flags set (A) or clear (B), through json-c
 * (C), and into D, which is replaced now and then by restoring A's records
 * (texts read back without capacity). Every outcome and state must match,
 * and the stored step and message must be what json-c writes.
 */
START_TEST(texts_match_every_path)
{
	struct jw_jobs *a = jw_jobs_new(NULL), *b = jw_jobs_new(NULL), *c = jw_jobs_new(NULL),
	               *d = jw_jobs_new(NULL);
	unsigned seed = (unsigned)_i * 7919u + 17u;
	double progress[10] = {0};
	int finished[10] = {0};
	char step[210], message[700];

	for(int e = 0; e < ROUNDS(3000); e++) {
		int k = (int)(next(&seed) % 10);
		size_t slen = 0, mlen = 0;
		bool has_step = next(&seed) % 3 != 0, has_msg = next(&seed) % 4 != 0;
		bool complete = next(&seed) % 200 == 0;
		struct json_object *o = json_object_new_object();
		struct jw_apply_result ra, rb, rc, rd;
		struct jw_verdict va, vb, vc, vd;
		struct jw_clock now = at(e * 7);
		const char *type = complete ? "complete" : "progress";
		char job[8], *payload;

		snprintf(job, sizeof(job), "j%d", k);
		if(finished[k]) {
			/* Start the id over in every table: forget the finished job. */
			snprintf(job, sizeof(job), "j%d", k + 10 * finished[k]);
		}
		if(!complete) {
			progress[k] += next(&seed) % 3;
			json_object_object_add(o, "progress", json_object_new_int((int)progress[k]));
		}
		if(has_step) {
			slen = random_text(&seed, step, next(&seed) % 2 ? 40 : 204);
			/* progress.json: 1 to 200 characters (records refuse ""). */
			if(slen == 0)
				step[slen++] = 's';
			json_object_object_add(o, "step", json_object_new_string_len(step, (int)slen));
		} else if(next(&seed) % 10 == 0) {
			/* Not a string: ignored, the old text stays. */
			json_object_object_add(o, "step", json_object_new_int(5));
		}
		if(has_msg) {
			mlen = random_text(&seed, message, sizeof(message));
			json_object_object_add(o, "message", json_object_new_string_len(message, (int)mlen));
		}
		payload = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		ck_assert_int_eq(apply_node(a, job, type, payload, 1, now, &ra, &va), 0);
		ck_assert_int_eq(apply_node(b, job, type, payload, 0, now, &rb, &vb), 0);
		ck_assert_int_eq(apply_json(c, job, type, payload, now, &rc, &vc), 0);
		ck_assert_int_eq(
		        apply_node(d, job, type, payload, (int)(next(&seed) % 2), now, &rd, &vd), 0);
		ck_assert_int_eq(ra.outcome, rb.outcome);
		ck_assert_int_eq(ra.outcome, rc.outcome);
		ck_assert_int_eq(ra.outcome, rd.outcome);
		ck_assert_int_eq(ra.outcome, JW_APPLY_ACCEPT);
		{
			char *sa = state_of(a, job), *sb = state_of(b, job), *sc = state_of(c, job),
			     *sd = state_of(d, job);
			struct jw_job *j = jw_jobs_find(a, "s1", job);

			ck_assert_str_eq(sa, sb);
			ck_assert_str_eq(sa, sc);
			ck_assert_str_eq(sa, sd);
			if(has_step && !complete) {
				char *want = json_c_text(step, slen);

				ck_assert_str_eq(j->step, want);
				free(want);
			}
			if(has_msg) {
				char *want = json_c_text(message, mlen);

				ck_assert_str_eq(j->message, want);
				free(want);
			}
			free(sa);
			free(sb);
			free(sc);
			free(sd);
		}
		/* The same history, the same allocations, flag or no flag. */
		{
			struct jw_jobs_stats sa, sb;

			jw_jobs_stats(a, &sa);
			jw_jobs_stats(b, &sb);
			ck_assert_uint_eq(sa.memory_bytes, sb.memory_bytes);
		}
		if(complete)
			finished[k]++;
		if(e % 97 == 0) {
			/* D takes A's records: restored texts have no spare room. */
			struct jw_job *j = jw_jobs_find(a, "s1", job);
			size_t len;
			char *rec = jw_job_record(j, &now, &len), err[200];

			ck_assert_ptr_nonnull(rec);
			ck_assert_msg(
			        jw_jobs_restore(d, rec, len, &now, err, sizeof(err)) == 0, "%s: %s", err, rec);
			free(rec);
		}
		free(payload);
		json_object_put(o);
	}
	jw_jobs_free(a);
	jw_jobs_free(b);
	jw_jobs_free(c);
	jw_jobs_free(d);
}
END_TEST

/* Growing, shrinking, escaping and plain texts on one job, one after the
 * other, in the orders that exercise each branch of the reuse. */
START_TEST(texts_grow_shrink_escape)
{
	/* As they appear in the payload: JSON escapes stay escapes. */
	static const char *const steps[] = {
	        "a",
	        "abcdefghij",
	        "abc",
	        "",
	        "x",
	        /* Longer than the buffer: a new one; then back within it. */
	        "0123456789012345678901234567890123456789012345678901234567890123456789",
	        "short",
	        /* Needs escapes after plain ones, then plain again in its buffer. */
	        "quote \\\" and back \\\\ slash",
	        "tab\\there",
	        "plain again",
	        "caf\xc3\xa9",
	        "\x7f",
	        "new\\nline \\/ solidus",
	        "nul \\u0000 inside",
	        "done",
	};
	struct jw_jobs *a = jw_jobs_new(NULL), *c = jw_jobs_new(NULL);

	for(int mode = 0; mode < 2; mode++) {
		for(size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			struct json_object *o = json_object_new_object(), *s = NULL;
			struct jw_apply_result ra, rc;
			struct jw_verdict va, vc;
			char *payload, *sa, *sc, *want;
			const char *job = mode ? "m1" : "m0";
			struct jw_json_error err;

			json_object_object_add(o, "progress", json_object_new_int((int)i));
			payload = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			/* "step" and "message" written by hand so "\\u0000" stays an escape. */
			payload[strlen(payload) - 1] = '\0';
			{
				size_t need = strlen(payload) + 2 * strlen(steps[i]) + 64;
				char *p = malloc(need);

				ck_assert_ptr_nonnull(p);
				snprintf(p, need, "%s,\"step\":\"%s\",\"message\":\"%s\"}", payload, steps[i],
				        steps[i]);
				free(payload);
				payload = p;
			}
			ck_assert_int_eq(
			        apply_node(a, job, "progress", payload, mode, at((int64_t)i), &ra, &va), 0);
			ck_assert_int_eq(ra.outcome, JW_APPLY_ACCEPT);
			ck_assert_int_eq(apply_json(c, job, "progress", payload, at((int64_t)i), &rc, &vc), 0);
			sa = state_of(a, job);
			sc = state_of(c, job);
			ck_assert_str_eq(sa, sc);
			/* The stored text is json-c's writing of the parsed string. */
			ck_assert_int_eq(jw_json_parse(payload, strlen(payload), 8, &s, &err), 0);
			want = strdup(json_object_to_json_string_ext(json_object_object_get(s, "step"),
			        JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			ck_assert_str_eq(jw_jobs_find(a, "s1", job)->step, want);
			ck_assert_str_eq(jw_jobs_find(a, "s1", job)->message, want);
			free(want);
			json_object_put(s);
			free(sa);
			free(sc);
			free(payload);
			json_object_put(o);
		}
	}
	jw_jobs_free(a);
	jw_jobs_free(c);
}
END_TEST

/*
 * Every byte a job's texts took comes back when it goes: with max_jobs 1,
 * a job evicted after many text changes leaves the table with exactly the
 * memory it had before the job arrived.
 */
START_TEST(text_memory_exact)
{
	struct jw_jobs_config cfg = {.max_jobs = 1};
	struct jw_jobs *t = jw_jobs_new(&cfg);
	struct jw_apply_result r;
	struct jw_verdict v;
	struct jw_jobs_stats st;
	unsigned seed = 4242;
	size_t base = 0;
	char text[700];

	for(int round = 0; round < 40; round++) {
		char job[16];
		int64_t t0 = round * 1000;

		snprintf(job, sizeof(job), "job-%02d", round);
		/* Evicts the previous (finished) job. */
		ck_assert_int_eq(apply_node(t, job, "heartbeat", "{}", 1, at(t0), &r, &v), 0);
		ck_assert_int_eq(r.outcome, JW_APPLY_ACCEPT);
		jw_jobs_stats(t, &st);
		ck_assert_uint_eq(st.jobs, 1);
		if(round > 1)
			ck_assert_uint_eq(st.memory_bytes, base);
		base = st.memory_bytes;
		for(int e = 0; e < 60; e++) {
			struct json_object *o = json_object_new_object();
			size_t n = random_text(&seed, text, 204);
			size_t m = random_text(&seed, text + 350, 340);

			if(n == 0)
				text[n++] = 's';
			json_object_object_add(o, "progress", json_object_new_int(e));
			json_object_object_add(o, "step", json_object_new_string_len(text, (int)n));
			json_object_object_add(o, "message", json_object_new_string_len(text + 350, (int)m));
			ck_assert_int_eq(apply_node(t, job, "progress",
			                         json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			                         (int)(next(&seed) % 2), at(t0 + e + 1), &r, &v),
			        0);
			ck_assert_int_eq(r.outcome, JW_APPLY_ACCEPT);
			json_object_put(o);
			if(e % 10 == 9) {
				/* The job read back from its record: texts of unknown
				 * room, reused or replaced by the next events. */
				struct jw_clock now = at(t0 + e + 1);
				size_t len;
				char *rec = jw_job_record(r.job, &now, &len), err[200];

				ck_assert_ptr_nonnull(rec);
				ck_assert_int_eq(jw_jobs_restore(t, rec, len, &now, err, sizeof(err)), 0);
				free(rec);
			}
		}
		ck_assert_int_eq(
		        apply_node(t, job, "complete", "{\"message\":\"bye\"}", 1, at(t0 + 100), &r, &v),
		        0);
		ck_assert_int_eq(r.outcome, JW_APPLY_ACCEPT);
	}
	jw_jobs_free(t);
}
END_TEST

/* Out of memory while a text needs a new buffer: nothing changes, and the
 * next event still reuses or replaces the buffer correctly. */
START_TEST(text_grow_out_of_memory)
{
	struct jw_jobs *t = jw_jobs_new(NULL);
	struct jw_apply_result r;
	struct jw_verdict v;
	struct jw_jobs_stats s0, s1;
	char *before, *after;

	ck_assert_int_eq(
	        apply_node(t, "j", "progress", "{\"progress\":1,\"message\":\"ab\"}", 1, at(0), &r, &v),
	        0);
	before = state_of(t, "j");
	jw_jobs_stats(t, &s0);
	jw_jobs__fail_alloc(t, 0);
	ck_assert_int_eq(apply_node(t, "j", "progress",
	                         "{\"progress\":2,\"step\":\"s\",\"message\":\"a much longer message "
	                         "that cannot fit the old buffer\"}",
	                         1, at(1), &r, &v),
	        -1);
	jw_jobs__fail_alloc(t, 1);
	/* The step fits nothing yet (no buffer): the first allocation; the
	 * message the second, which fails after the step's succeeded. */
	ck_assert_int_eq(apply_node(t, "j", "progress",
	                         "{\"progress\":2,\"step\":\"s\",\"message\":\"a much longer message "
	                         "that cannot fit the old buffer\"}",
	                         1, at(1), &r, &v),
	        -1);
	jw_jobs__fail_alloc(t, -1);
	after = state_of(t, "j");
	jw_jobs_stats(t, &s1);
	ck_assert_str_eq(before, after);
	ck_assert_uint_eq(s0.memory_bytes, s1.memory_bytes);
	free(before);
	free(after);
	/* In place needs no allocation at all, so it cannot fail. */
	jw_jobs__fail_alloc(t, 0);
	ck_assert_int_eq(
	        apply_node(t, "j", "progress", "{\"progress\":3,\"message\":\"cd\"}", 1, at(2), &r, &v),
	        0);
	jw_jobs__fail_alloc(t, -1);
	ck_assert_str_eq(jw_jobs_find(t, "s1", "j")->message, "\"cd\"");
	jw_jobs_free(t);
}
END_TEST

/* Members with the length of a known one but another name, or of the wrong
 * type, change nothing. */
START_TEST(progress_members_by_name)
{
	struct jw_jobs *t = jw_jobs_new(NULL);
	struct jw_apply_result r;
	struct jw_verdict v;
	char *s;

	ck_assert_int_eq(
	        apply_node(t, "j", "progress",
	                "{\"progress\":5,\"stap\":\"x\",\"steps\":\"y\",\"Total\":9,\"totaL\":9,"
	                "\"eta_S\":3,\"messagE\":\"m\",\"current\":\"7\",\"items_addeD\":4,"
	                "\"items_failex\":2,\"progresS\":99,\"step\":1,\"message\":null}",
	                1, at(0), &r, &v),
	        0);
	s = state_of(t, "j");
	ck_assert_ptr_null(strstr(s, "\"step\""));
	ck_assert_ptr_null(strstr(s, "\"message\""));
	ck_assert_ptr_null(strstr(s, "\"total\""));
	ck_assert_ptr_null(strstr(s, "\"current\""));
	ck_assert_ptr_null(strstr(s, "\"items_added\""));
	ck_assert_ptr_null(strstr(s, "\"items_failed\""));
	ck_assert_ptr_nonnull(strstr(s, "\"progress\":5,"));
	ck_assert_ptr_null(strstr(s, "\"eta_s\""));
	free(s);
	ck_assert_int_eq(apply_node(t, "j", "progress",
	                         "{\"items_failed\":2,\"items_added\":4,\"eta_s\":3,\"total\":10,"
	                         "\"current\":6,\"message\":\"m\",\"step\":\"s\"}",
	                         1, at(1), &r, &v),
	        0);
	s = state_of(t, "j");
	ck_assert_ptr_nonnull(strstr(s, "\"progress\":60,\"current\":6,\"total\":10,\"step\":\"s\","
	                                "\"message\":\"m\",\"eta_s\":3,\"eta_estimated\":false,"
	                                "\"items_added\":4,\"items_failed\":2"));
	free(s);
	/* Backwards through current/total, found by the same walk. */
	ck_assert_int_eq(
	        apply_node(t, "j", "progress", "{\"total\":10,\"current\":5}", 1, at(2), &r, &v), 0);
	ck_assert_int_eq(r.outcome, JW_APPLY_REJECT);
	ck_assert_str_eq(v.message, "/current: 5 of 10 (50%) is below the job's progress 60");
	jw_jobs_free(t);
}
END_TEST

/* A deadline moved later by events is found at its real time: not early
 * at the stale key, not late; one moved earlier (shorter interval) too;
 * and a popped job is re-armed by its next event. */
START_TEST(lazy_stall_heap)
{
	struct jw_jobs *t = jw_jobs_new(NULL);
	struct jw_apply_result r;
	struct jw_verdict v;
	struct jw_clock now;
	struct jw_job *j;

	/* a: 3 s timeout from 0, pushed to 2000 + 3000 by a progress. */
	ck_assert_int_eq(
	        apply_node(t, "a", "started", "{\"heartbeat_interval_s\":1}", 1, at(0), &r, &v), 0);
	ck_assert_int_eq(apply_node(t, "a", "progress", "{\"progress\":1}", 1, at(2000), &r, &v), 0);
	/* b: 30 s default from 100, then cut to 1.5 s from 200 (earlier). */
	ck_assert_int_eq(apply_node(t, "b", "progress", "{\"progress\":1}", 1, at(100), &r, &v), 0);
	ck_assert_int_eq(
	        apply_node(t, "b", "started", "{\"heartbeat_interval_s\":0.5}", 1, at(200), &r, &v), 0);
	now = at(1699);
	ck_assert_ptr_null(jw_jobs_pop_stalled(t, &now));
	now = at(1700);
	j = jw_jobs_pop_stalled(t, &now);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(jw_job_id(j), "b");
	ck_assert_ptr_null(jw_jobs_pop_stalled(t, &now));
	now = at(4999);
	ck_assert_ptr_null(jw_jobs_pop_stalled(t, &now));
	now = at(5000);
	j = jw_jobs_pop_stalled(t, &now);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(jw_job_id(j), "a");
	ck_assert_int_eq(j->deadline_mono, BASE_MONO + 5000);
	ck_assert_ptr_null(jw_jobs_pop_stalled(t, &now));
	/* Popped, then active again: back in the heap at its new deadline. */
	ck_assert_int_eq(apply_node(t, "a", "progress", "{\"progress\":2}", 1, at(6000), &r, &v), 0);
	ck_assert_uint_ne(jw_jobs_find(t, "s1", "a")->heap_pos[JW_HEAP_STALL], 0);
	now = at(8999);
	ck_assert_ptr_null(jw_jobs_pop_stalled(t, &now));
	now = at(9000);
	j = jw_jobs_pop_stalled(t, &now);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(jw_job_id(j), "a");
	jw_jobs_free(t);
}
END_TEST

/*
 * jw_jobs_next_due against the pops it lets a caller skip: 40 jobs with
 * random heartbeat intervals, rate-limited states held and published,
 * stalls popped; at each of 4000 random steps, before the reported time
 * both pops return NULL, and at it at least one of them finds work (a
 * due state, a stalled job, or a stale stall key re-filed).
 */
START_TEST(next_due_matches_pops)
{
	struct jw_jobs_config cfg = {0};
	struct jw_jobs *t;
	struct jw_apply_result r;
	struct jw_verdict v;
	struct jw_clock now;
	struct jw_job *j;
	unsigned seed = (unsigned)_i * 7919u + 3u;
	int64_t clock = 0;
	char job[16], ev[96];

	cfg.state_max_rate = 2;
	t = jw_jobs_new(&cfg);
	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(jw_jobs_next_due(t), INT64_MAX);
	for(int step = 0; step < ROUNDS(4000); step++) {
		int64_t due = jw_jobs_next_due(t);
		unsigned op = next(&seed) % 10;

		clock += next(&seed) % 700;
		now = at(clock);
		if(now.mono_ms < due) {
			ck_assert_ptr_null(jw_jobs_pop_state_due(t, &now));
			ck_assert_ptr_null(jw_jobs_pop_stalled(t, &now));
			ck_assert_int_eq(jw_jobs_next_due(t), due);
		}
		/* Exactly at the reported time, something is there to do. */
		if(due != INT64_MAX) {
			struct jw_clock d = {now.real_ms, due};
			struct jw_job *a, *b = NULL;

			a = jw_jobs_pop_state_due(t, &d);
			if(!a) {
				struct jw_job *top = jw_heap_top(&t->heaps[JW_HEAP_STALL], NULL);
				int64_t key = top ? top->stall_key : INT64_MAX;

				ck_assert_int_eq(key, due);
				b = jw_jobs_pop_stalled(t, &d);
				/* NULL only when the stale key was re-filed later. */
				if(!b)
					ck_assert_int_gt(jw_jobs_next_due(t), due);
			}
			if(a)
				jw_jobs_state_published(t, a, &d);
			if(b) {
				ck_assert_int_eq(apply_node(t, jw_job_id(b), "failed", "{\"error\":\"stalled\"}", 1,
				                         d, &r, &v),
				        0);
			}
		}
		snprintf(job, sizeof(job), "j%u", next(&seed) % 40);
		if(op < 6) {
			snprintf(ev, sizeof(ev), "{\"progress\":%u}", next(&seed) % 2 ? 50u : 60u);
			ck_assert_int_eq(apply_node(t, job, "progress", ev, 1, now, &r, &v), 0);
		} else if(op < 8) {
			snprintf(ev, sizeof(ev), "{\"heartbeat_interval_s\":%u.%u}", next(&seed) % 3,
			        1 + next(&seed) % 9);
			ck_assert_int_eq(apply_node(t, job, "started", ev, 1, now, &r, &v), 0);
		} else {
			ck_assert_int_eq(apply_node(t, job, "heartbeat", "{}", 1, now, &r, &v), 0);
		}
		if(r.outcome == JW_APPLY_ACCEPT && jw_jobs_state_changed(t, r.job, r.urgent, &now))
			jw_jobs_state_published(t, r.job, &now);
		/* Now and then the caller catches up with everything due. */
		if(op == 9) {
			while((j = jw_jobs_pop_state_due(t, &now)) != NULL)
				jw_jobs_state_published(t, j, &now);
			while(jw_jobs_pop_stalled(t, &now) != NULL)
				;
			ck_assert_int_gt(jw_jobs_next_due(t), now.mono_ms);
		}
	}
	jw_jobs_free(t);
}
END_TEST

/* The unrolled id walk against jw_id_valid: every length up to 140,
 * every byte value at every fifth position, the NUL at every place. */
START_TEST(id_walk_every_byte)
{
	struct jw_jobs *t = NULL;
	struct jw_apply_result r;
	struct jw_verdict v;
	char id[160];
	int n = 0;

	for(int len = 0; len <= 140; len++) {
		/* A table per length: far below max_jobs. */
		jw_jobs_free(t);
		t = jw_jobs_new(NULL);
		for(int pos = -1; pos < len; pos += (pos < 0 ? 1 : (int)SPREAD(5))) {
			for(int c = 1; c < 256; c += (pos < 0 ? 255 : 1)) {
				bool valid;
				struct jw_jdoc d;
				struct jw_json_error err;

				for(int i = 0; i < len; i++)
					id[i] = (char)('A' + (i * 5 + len) % 26);
				if(pos >= 0)
					id[pos] = (char)c;
				id[len] = '\0';
				valid = len > 0 && strlen(id) == (size_t)len && jw_id_valid(id, (size_t)len);
				jw_jdoc_init(&d);
				ck_assert_int_eq(jw_jdoc_parse(&d, "{}", 2, 8, &err), 0);
				ck_assert_int_eq(jw_jobs_apply(t, "s", id, "heartbeat", d.root, "{}", 2,
				                         &(struct jw_clock){BASE_REAL, BASE_MONO + n}, &r, &v),
				        0);
				jw_jdoc_free(&d);
				if(valid) {
					ck_assert_int_eq(r.outcome, JW_APPLY_ACCEPT);
					ck_assert_uint_eq(jw_job_id_len(r.job), (size_t)len);
					ck_assert_uint_eq(jw_job_session_len(r.job), 1);
					ck_assert_str_eq(jw_job_id(r.job), id);
				} else {
					ck_assert_int_eq(r.outcome, JW_APPLY_REJECT);
					ck_assert_int_eq(v.reason, JW_REASON_INVALID_TOPIC);
					ck_assert_str_eq(v.message, "invalid session or job id");
				}
				n++;
				/* The same id as the session. */
				jw_jdoc_init(&d);
				ck_assert_int_eq(jw_jdoc_parse(&d, "{}", 2, 8, &err), 0);
				ck_assert_int_eq(jw_jobs_apply(t, id, "j", "heartbeat", d.root, "{}", 2,
				                         &(struct jw_clock){BASE_REAL, BASE_MONO + n}, &r, &v),
				        0);
				jw_jdoc_free(&d);
				ck_assert_int_eq(r.outcome, (valid ? JW_APPLY_ACCEPT : JW_APPLY_REJECT));
				if(valid)
					ck_assert_uint_eq(jw_job_session_len(r.job), (size_t)len);
			}
		}
	}
	jw_jobs_free(t);
}
END_TEST

/* Types that only start like "progress" are custom events: the job's
 * progress does not move; "progress" itself does. */
START_TEST(progress_type_exact)
{
	static const char *const near[] = {"p", "pr", "progres", "progressx", "progress-", "Progress",
	        "progresS", "rogress", "pprogress"};
	struct jw_jobs *t = jw_jobs_new(NULL);
	struct jw_apply_result r;
	struct jw_verdict v;
	struct jw_job *j;

	ck_assert_int_eq(apply_node(t, "a", "progress", "{\"progress\":10}", 1, at(0), &r, &v), 0);
	j = r.job;
	for(size_t i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
		ck_assert_int_eq(
		        apply_node(t, "a", near[i], "{\"progress\":90}", 1, at(1 + (int64_t)i), &r, &v), 0);
		ck_assert_int_eq(r.outcome, JW_APPLY_ACCEPT);
		ck_assert(j->progress == 10);
	}
	ck_assert_int_eq(apply_node(t, "a", "progress", "{\"progress\":90}", 1, at(100), &r, &v), 0);
	ck_assert(j->progress == 90);
	jw_jobs_free(t);
}
END_TEST

/* jw_jobs_state_note against jw_jobs_state_held + jw_jobs_state_changed on
 * a twin table: same decisions, same flags and due times at every step. */
START_TEST(state_note_matches)
{
	struct jw_jobs_config cfg = {0};
	struct jw_jobs *a, *b;
	struct jw_apply_result ra, rb;
	struct jw_verdict v;
	unsigned seed = 77;
	int64_t clock = 0;
	char job[16];
	int seen[3] = {0, 0, 0};

	cfg.state_max_rate = 5;
	a = jw_jobs_new(&cfg);
	b = jw_jobs_new(&cfg);
	for(int step = 0; step < ROUNDS(5000); step++) {
		struct jw_clock now;
		bool urgent = next(&seed) % 20 == 0, held, pub;
		enum jw_state_note note, want;
		struct jw_job *ja, *jb;

		clock += next(&seed) % 90;
		now = at(clock);
		snprintf(job, sizeof(job), "j%u", next(&seed) % 8);
		ck_assert_int_eq(apply_node(a, job, "progress", "{\"progress\":1}", 1, now, &ra, &v), 0);
		ck_assert_int_eq(apply_node(b, job, "progress", "{\"progress\":1}", 1, now, &rb, &v), 0);
		held = jw_jobs_state_held(ra.job);
		pub = jw_jobs_state_changed(a, ra.job, urgent, &now);
		want = pub ? JW_STATE_PUBLISH : held ? JW_STATE_COALESCED : JW_STATE_HOLD;
		note = jw_jobs_state_note(b, rb.job, urgent, &now);
		ck_assert_int_eq(note, want);
		seen[note]++;
		if(pub) {
			jw_jobs_state_published(a, ra.job, &now);
			jw_jobs_state_published(b, rb.job, &now);
		}
		ck_assert_uint_eq(ra.job->flags, rb.job->flags);
		ck_assert_int_eq(ra.job->due_mono, rb.job->due_mono);
		if(step % 7 == 0) {
			while((ja = jw_jobs_pop_state_due(a, &now)) != NULL) {
				jb = jw_jobs_pop_state_due(b, &now);
				ck_assert_ptr_nonnull(jb);
				ck_assert_str_eq(jw_job_id(ja), jw_job_id(jb));
				jw_jobs_state_published(a, ja, &now);
				jw_jobs_state_published(b, jb, &now);
			}
			ck_assert_ptr_null(jw_jobs_pop_state_due(b, &now));
		}
	}
	/* Every answer came up. */
	ck_assert_int_gt(seen[JW_STATE_PUBLISH], 0);
	ck_assert_int_gt(seen[JW_STATE_HOLD], 0);
	ck_assert_int_gt(seen[JW_STATE_COALESCED], 0);
	jw_jobs_free(a);
	jw_jobs_free(b);
}
END_TEST

/* The inline rounding of the stall timeout is llround's. */
START_TEST(timeout_rounds_as_llround)
{
	struct jw_job *j = calloc(1, sizeof(*j) + 8);
	unsigned seed = 5;
	static const double edge[] = {1e-300, 0.0005, 0.000166666, 1.0 / 6000.0, 0.5 / 3000.0,
	        1.5 / 3000.0, 2.5 / 3000.0, 0.49999999999999994 / 3000.0, 86400, 86399.9999999,
	        1.0 / 3.0, 2.0 / 3.0, 0.1, 0.3, 0.7, 1e9, 1e12, 1e20, 0};

	ck_assert_ptr_nonnull(j);
	for(size_t i = 0; i < sizeof(edge) / sizeof(edge[0]); i++) {
		j->heartbeat_interval_s = edge[i];
		ck_assert_int_eq(jw_jobs__timeout_ms(j), llround(3.0 * edge[i] * 1000.0));
	}
	for(int i = 0; i < ROUNDS(200000); i++) {
		double hb;

		if(i % 2)
			hb = (double)(next(&seed) % 86400000) / 1000.0;
		else
			hb = (double)next(&seed) / (double)(1u << 24) * 86400.0;
		/* Halves of a millisecond after the multiplication. */
		if(i % 5 == 0)
			hb = ((double)(next(&seed) % 1000000) + 0.5) / 3000.0;
		j->heartbeat_interval_s = hb;
		ck_assert_int_eq(jw_jobs__timeout_ms(j), llround(3.0 * hb * 1000.0));
	}
	free(j);
}
END_TEST

/* Ids of every length, differing in one byte anywhere or only in where the
 * session ends and the job begins, are all distinct keys. */
START_TEST(ids_every_length)
{
	struct jw_jobs *t = jw_jobs_new(NULL);
	struct jw_apply_result r;
	struct jw_verdict v;
	char id[140], other[140];

	for(int len = 1; len <= 128; len++) {
		for(int i = 0; i < len; i++)
			id[i] = (char)('a' + (i * 7 + len) % 26);
		id[len] = '\0';
		ck_assert_int_eq(apply_node(t, id, "heartbeat", "{}", 1, at(len), &r, &v), 0);
		ck_assert_int_eq(r.outcome, JW_APPLY_ACCEPT);
		ck_assert(r.created);
	}
	for(int len = 1; len <= 128; len++) {
		for(int i = 0; i < len; i++)
			id[i] = (char)('a' + (i * 7 + len) % 26);
		id[len] = '\0';
		ck_assert_ptr_nonnull(jw_jobs_find(t, "s1", id));
		for(int i = 0; i < len; i++) {
			memcpy(other, id, (size_t)len + 1);
			other[i] = '-';
			ck_assert_ptr_null(jw_jobs_find(t, "s1", other));
		}
		/* One shorter, one longer. */
		memcpy(other, id, (size_t)len + 1);
		other[len - 1] = '\0';
		if(len > 1)
			ck_assert_ptr_null(jw_jobs_find(t, "s1", other));
		memcpy(other, id, (size_t)len);
		other[len] = 'z';
		other[len + 1] = '\0';
		if(len < 128)
			ck_assert_ptr_null(jw_jobs_find(t, "s1", other));
	}
	/* The same bytes split differently. */
	ck_assert_int_eq(apply_node(t, "bc", "heartbeat", "{}", 1, at(500), &r, &v), 0);
	ck_assert(r.created);
	ck_assert_ptr_null(jw_jobs_find(t, "s1b", "c"));
	ck_assert_ptr_nonnull(jw_jobs_find(t, "s1", "bc"));
	/* Invalid ids: too long, empty, a byte outside the set. */
	memset(id, 'a', 129);
	id[129] = '\0';
	ck_assert_int_eq(apply_node(t, id, "heartbeat", "{}", 1, at(600), &r, &v), 0);
	ck_assert_int_eq(v.reason, JW_REASON_INVALID_TOPIC);
	ck_assert_int_eq(apply_node(t, "", "heartbeat", "{}", 1, at(600), &r, &v), 0);
	ck_assert_int_eq(v.reason, JW_REASON_INVALID_TOPIC);
	for(int c = 1; c < 256; c++) {
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		          c == '.' || c == '_' || c == '-';

		snprintf(id, sizeof(id), "x%cy", c);
		ck_assert_int_eq(apply_node(t, id, "heartbeat", "{}", 1, at(700), &r, &v), 0);
		ck_assert_int_eq(v.reason == JW_REASON_INVALID_TOPIC, !ok);
		ck_assert_int_eq(jw_id_valid(id, 3), ok);
	}
	jw_jobs_free(t);
}
END_TEST

/* ---- the state, written without the shortcuts ---- */

/* The state as jw_job_state_json wrote it before it was written straight
 * into a sized buffer: the reference every shortcut must match. */
static void add_ts(struct jw_buf *b, const char *key, int64_t ms)
{
	jw_jobs__buf_key(b, key);
	jw_jobs__buf_ts(b, ms);
}

static void add_id(struct jw_buf *b, const char *key, const char *id)
{
	jw_jobs__buf_key(b, key);
	jw_buf_add(b, "\"", 1);
	jw_buf_add_str(b, id);
	jw_buf_add(b, "\"", 1);
}

static char *reference_state(const struct jw_job *j, size_t *len)
{
	struct jw_buf b = {0};
	const struct jw_job_end *e = j->end;
	const struct jw_job_review *r = j->review;
	unsigned f = j->flags;

	jw_buf_add_str(&b, "{\"type\":\"state\"");
	add_id(&b, "session_id", jw_job_session(j));
	add_id(&b, "job_id", jw_job_id(j));
	add_id(&b, "status", jw_job_status_name((enum jw_job_status)j->status));
	jw_jobs__buf_key(&b, "seq");
	jw_jobs__buf_u64(&b, j->seq);
	jw_jobs__add_progress(&b, j);
	add_ts(&b, "first_seen_at", j->first_seen_ms);
	if(f & JW_JF_STARTED)
		add_ts(&b, "started_at", j->started_ms);
	add_ts(&b, "updated_at", j->updated_ms);
	add_ts(&b, "last_heartbeat_at", j->heartbeat_ms);
	if(e) {
		add_ts(&b, "finished_at", e->finished_ms);
		if(e->flags & JW_EF_DURATION)
			jw_jobs__add_num(&b, "duration_s", e->duration_s);
		jw_jobs__add_text(&b, "result", e->result);
		jw_jobs__add_text(&b, "error", e->error);
		jw_jobs__add_text(&b, "code", e->code);
		if(e->flags & JW_EF_HAS_RETRYABLE)
			jw_jobs__add_bool(&b, "retryable", (e->flags & JW_EF_RETRYABLE) != 0);
		jw_jobs__add_text(&b, "details", e->details);
		if(e->flags & JW_EF_HAS_BROKER_GEN)
			jw_jobs__add_bool(&b, "broker_generated", (e->flags & JW_EF_BROKER_GEN) != 0);
	}
	if(r) {
		jw_jobs__buf_key(&b, "validation");
		jw_buf_add(&b, "{", 1);
		jw_jobs__add_text(&b, "reason", r->reason);
		jw_jobs__add_num(&b, "confidence", r->confidence);
		if(r->has_threshold)
			jw_jobs__add_num(&b, "threshold", r->threshold);
		jw_jobs__add_text(&b, "item", r->item);
		jw_jobs__add_text(&b, "actions", r->actions);
		jw_buf_add(&b, "}", 1);
	}
	if(f & JW_JF_CANCEL) {
		jw_jobs__add_bool(&b, "cancel_requested", true);
		add_ts(&b, "cancel_requested_at", j->cancel_ms);
	}
	jw_jobs__buf_key(&b, "attempt");
	jw_jobs__buf_u64(&b, (uint64_t)j->retries + 1);
	if(e && (e->flags & JW_EF_RETRY)) {
		jw_jobs__add_bool(&b, "retry_requested", true);
		add_ts(&b, "retry_requested_at", e->retry_ms);
	}
	jw_buf_add(&b, "}", 1);
	return jw_buf_take(&b, len);
}

/* Checks both renderers against the reference for j. */
static void check_state(struct jw_jobs *jobs, const struct jw_job *j)
{
	size_t rlen = 0, len = 0, tlen = 0;
	char *want = reference_state(j, &rlen);
	char *got = jw_job_state_json(j, &len);
	const char *table = jw_jobs_state_render(jobs, j, &tlen);

	if(!want) {
		ck_assert_ptr_null(got);
		ck_assert_ptr_null(table);
		return;
	}
	ck_assert_ptr_nonnull(got);
	ck_assert_ptr_nonnull(table);
	ck_assert_str_eq(got, want);
	ck_assert_str_eq(table, want);
	ck_assert_uint_eq(len, rlen);
	ck_assert_uint_eq(tlen, rlen);
	free(want);
	free(got);
}

static void check_all_cb(struct jw_job *j, void *arg)
{
	check_state(arg, j);
}

/*
 * Random events of every type, with random texts and numbers, for a few
 * jobs over several seconds and days: after each, every job's state from
 * both renderers equals the reference, through the table's timestamp
 * cache included.
 */
START_TEST(state_matches_reference)
{
	static const char *const types[] = {"started", "progress", "progress", "progress",
	        "validation-required", "complete", "failed", "control", "heartbeat", "custom"};
	static const double nums[] = {0, 1, -1, 0.1, 12.5, 33.3, 1e15, 1e-5, 123456789.125, 1e300, -0.0,
	        2.5e-310, 99.99999999999999, 4503599627370497.0, 1.0 / 3.0};
	struct jw_jobs *t = jw_jobs_new(NULL);
	unsigned seed = 77 + (unsigned)_i;
	char text[400], text2[100];
	int64_t ms = 0;
	unsigned retried = 0; /* events accepted in a second or later attempt */

	for(int e = 0; e < ROUNDS(4000); e++) {
		const char *type = types[next(&seed) % (sizeof(types) / sizeof(types[0]))];
		struct json_object *o = json_object_new_object();
		struct jw_apply_result r;
		struct jw_verdict v;
		char job[16];
		size_t n;

		snprintf(job, sizeof(job), "j%u", next(&seed) % 6 + 6 * (unsigned)(e / 500));
		/* Mostly milliseconds apart, sometimes seconds, now and then days. */
		ms += next(&seed) % 10 == 0   ? (int64_t)(next(&seed) % 5000)
		      : next(&seed) % 50 == 0 ? INT64_C(86400000) * (next(&seed) % 400)
		                              : (int64_t)(next(&seed) % 3);
		n = random_text(&seed, text, 204);
		if(n == 0)
			text[n++] = 'x';
		if(strcmp(type, "started") == 0) {
			json_object_object_add(o, "name", json_object_new_string_len(text, (int)n));
			json_object_object_add(o, "worker", json_object_new_string("w\"1"));
			if(next(&seed) % 2) {
				struct json_object *a = json_object_new_array();

				json_object_array_add(a, json_object_new_string("a"));
				json_object_array_add(a, json_object_new_string_len(text, (int)n));
				json_object_object_add(o, "steps", a);
			}
			json_object_object_add(
			        o, "heartbeat_interval_s", json_object_new_double(0.5 + next(&seed) % 100));
			if(next(&seed) % 2)
				json_object_object_add(
				        o, "total", json_object_new_double(nums[next(&seed) % 15] * 0 + 1000));
		} else if(strcmp(type, "progress") == 0) {
			double pn = nums[next(&seed) % 15];

			if(next(&seed) % 3)
				json_object_object_add(
				        o, "progress", json_object_new_double(fabs(pn) <= 100 ? fabs(pn) : 50));
			if(next(&seed) % 2) {
				json_object_object_add(o, "current", json_object_new_int64(next(&seed) % 1000));
				json_object_object_add(o, "total", json_object_new_int64(1000));
			}
			if(next(&seed) % 2)
				json_object_object_add(o, "step", json_object_new_string_len(text, (int)n));
			if(next(&seed) % 2) {
				size_t m = random_text(&seed, text2, sizeof(text2));

				json_object_object_add(o, "message", json_object_new_string_len(text2, (int)m));
			}
			if(next(&seed) % 3 == 0)
				json_object_object_add(o, "eta_s", json_object_new_double(fabs(pn)));
			if(next(&seed) % 3 == 0)
				json_object_object_add(o, "items_added", json_object_new_double(fabs(pn)));
			if(next(&seed) % 5 == 0)
				json_object_object_add(o, "items_failed", json_object_new_int(3));
		} else if(strcmp(type, "validation-required") == 0) {
			json_object_object_add(o, "reason", json_object_new_string_len(text, (int)n));
			json_object_object_add(o, "confidence", json_object_new_double(0.25));
			if(next(&seed) % 2)
				json_object_object_add(o, "threshold", json_object_new_double(0.5));
			if(next(&seed) % 2)
				json_object_object_add(o, "item", json_object_new_object());
		} else if(strcmp(type, "complete") == 0) {
			if(next(&seed) % 2)
				json_object_object_add(o, "duration_s",
				        json_object_new_double(nums[next(&seed) % 15] * 0 + 12.25));
			if(next(&seed) % 2)
				json_object_object_add(o, "result", json_object_new_object());
			if(next(&seed) % 2)
				json_object_object_add(o, "message", json_object_new_string_len(text, (int)n));
		} else if(strcmp(type, "failed") == 0) {
			json_object_object_add(o, "error", json_object_new_string_len(text, (int)n));
			if(next(&seed) % 2)
				json_object_object_add(o, "code", json_object_new_string("e1"));
			if(next(&seed) % 2)
				json_object_object_add(o, "retryable", json_object_new_boolean(next(&seed) % 2));
			if(next(&seed) % 2)
				json_object_object_add(
				        o, "broker_generated", json_object_new_boolean(next(&seed) % 2));
		} else if(strcmp(type, "control") == 0) {
			/* A retry on a failed retryable job lets a later started
			 * open the next attempt. */
			json_object_object_add(
			        o, "action", json_object_new_string(next(&seed) % 2 ? "cancel" : "retry"));
		}
		(void)apply_node(t, job, type, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		        (int)(next(&seed) % 2), at(ms), &r, &v);
		json_object_put(o);
		jw_jobs_foreach(t, check_all_cb, t);
		if(r.outcome == JW_APPLY_ACCEPT && jw_job_attempt(r.job) > 1)
			retried++;
	}
	/* Full length only: a short run under valgrind may see none. */
	if(ROUNDS(4000) == 4000)
		ck_assert_uint_gt(retried, 0);
	{
		struct jw_jobs_stats st;

		jw_jobs_stats(t, &st);
		ck_assert_uint_gt(st.by_status[JW_JOB_COMPLETE], 0);
		/* Retries reopen failed jobs: a short run (valgrind) may end with
		 * every failed one retried. */
		if(ROUNDS(4000) == 4000)
			ck_assert_uint_gt(st.by_status[JW_JOB_FAILED], 0);
		ck_assert_uint_gt(st.jobs, (size_t)(ROUNDS(200) / 10));
	}
	/* A timestamp past 9999: no state from any renderer. */
	{
		struct jw_job *j = jw_jobs_find(t, "s1", "j0");

		if(!j)
			j = jw_jobs_find(t, "s1", "j1");
		ck_assert_ptr_nonnull(j);
		/* Every kind of number and sequence through the renderers' own
		 * digit writers. */
		for(int i = 0; i < ROUNDS(20000); i++) {
			uint64_t x = (uint64_t)next(&seed) << 40 ^ (uint64_t)next(&seed) << 20 ^ next(&seed);
			double d;

			switch(i % 5) {
				case 0:
					memcpy(&d, &x, sizeof(d));
					if(!isfinite(d))
						d = -0.0;
					break;
				case 1:
					d = (double)(x % 1000000000000000ULL) * ((x & 1) ? -1 : 1);
					break;
				case 2:
					d = (double)(x % 100000) / 10.0;
					break;
				case 3:
					d = (double)(x >> (x % 64));
					break;
				default:
					d = (double)(x % 2001) / 20.0 - 50.0;
					break;
			}
			/* Every fifth an exact int64 count, of any sign. */
			if(i % 5 == 0) {
				j->items_added.i = (int64_t)x;
				j->exact |= JW_JX_ADDED;
			} else {
				j->items_added.d = d;
				j->exact &= (uint8_t)~JW_JX_ADDED;
			}
			j->flags |= JW_JF_ADDED;
			j->seq = i % 3 ? x >> (x % 64) : (i % 2 ? UINT64_MAX : 0);
			check_state(t, j);
		}
		if(j) {
			int64_t keep = j->heartbeat_ms;

			j->heartbeat_ms = JW_TS_MAX_MS + 1;
			check_state(t, j);
			j->heartbeat_ms = keep;
			check_state(t, j);
		}
	}
	jw_jobs_free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jobs_fast");
	TCase *tc = tcase_create("texts_match_every_path");

	tcase_add_loop_test(tc, texts_match_every_path, 0, 4);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	tc = tcase_create("state_matches_reference");
	tcase_add_loop_test(tc, state_matches_reference, 0, 3);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	JW_TEST_ALONE(s, texts_grow_shrink_escape);
	JW_TEST_ALONE(s, text_memory_exact);
	JW_TEST_ALONE(s, text_grow_out_of_memory);
	JW_TEST_ALONE(s, progress_members_by_name);
	JW_TEST_ALONE(s, lazy_stall_heap);
	JW_TEST_ALONE(s, timeout_rounds_as_llround);
	JW_TEST_ALONE(s, ids_every_length);
	tc = tcase_create("next_due_matches_pops");
	tcase_add_loop_test(tc, next_due_matches_pops, 0, 3);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(s, tc);
	JW_TEST_ALONE(s, id_walk_every_byte);
	JW_TEST_ALONE(s, progress_type_exact);
	JW_TEST_ALONE(s, state_note_matches);
	return jw_test_run(s);
}
