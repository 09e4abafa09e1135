/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves that job topics are classified as job, invalid or other exactly per the topic contract,
 * with a specific reason for every invalid one. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topic.h"
#include "util_check.h"

struct topic_case {
	const char *topic;
	enum jw_topic_kind kind;
	const char *why; /* JOB: "session|job|event"; INVALID: exact why */
};

static const struct topic_case cases[] = {
        /* Ours and well-formed. */
        {"jobs/s/j/progress", JW_TOPIC_JOB, "s|j|progress"},
        {"jobs/global/job-42/started", JW_TOPIC_JOB, "global|job-42|started"},
        {"jobs/A.b_C-9/x.y/validation-required", JW_TOPIC_JOB, "A.b_C-9|x.y|validation-required"},
        {"jobs/s/j/state", JW_TOPIC_JOB, "s|j|state"},
        {"jobs/s/j/0", JW_TOPIC_JOB, "s|j|0"},
        {"jobs/s/j/a_b", JW_TOPIC_JOB, "s|j|a_b"},
        {"jobs/.../-/x", JW_TOPIC_JOB, "...|-|x"},
        /* Not ours. */
        {"other/s/j/progress", JW_TOPIC_OTHER, ""},
        {"jobsX/s/j/progress", JW_TOPIC_OTHER, ""},
        {"job/s/j/progress", JW_TOPIC_OTHER, ""},
        {"Jobs/s/j/progress", JW_TOPIC_OTHER, ""},
        {"/jobs/s/j/progress", JW_TOPIC_OTHER, ""},
        {"$SYS/broker/uptime", JW_TOPIC_OTHER, ""},
        {"", JW_TOPIC_OTHER, ""},
        {"jobsjobs", JW_TOPIC_OTHER, ""},
        /* Ours but malformed: level count. */
        {"jobs", JW_TOPIC_INVALID, "expected jobs/{session}/{job}/{event}, got 1 level"},
        {"jobs/", JW_TOPIC_INVALID, "expected jobs/{session}/{job}/{event}, got 2 levels"},
        {"jobs/s/j", JW_TOPIC_INVALID, "expected jobs/{session}/{job}/{event}, got 3 levels"},
        {"jobs/s/j/e/x", JW_TOPIC_INVALID, "expected jobs/{session}/{job}/{event}, got 5 levels"},
        {"jobs/s/j/e/", JW_TOPIC_INVALID, "expected jobs/{session}/{job}/{event}, got 5 levels"},
        {"jobs/s/j/#", JW_TOPIC_INVALID, "event type must start with a-z or 0-9, got '#'"},
        {"jobs/#", JW_TOPIC_INVALID, "expected jobs/{session}/{job}/{event}, got 2 levels"},
        /* Empty levels. */
        {"jobs//j/e", JW_TOPIC_INVALID, "empty session id"},
        {"jobs/s//e", JW_TOPIC_INVALID, "empty job id"},
        {"jobs/s/j/", JW_TOPIC_INVALID, "empty event type"},
        {"jobs///", JW_TOPIC_INVALID, "empty session id"},
        /* Forbidden characters in ids, named. */
        {"jobs/+/j/e", JW_TOPIC_INVALID, "session id contains '+' (allowed: A-Z a-z 0-9 . _ -)"},
        {"jobs/s/+/e", JW_TOPIC_INVALID, "job id contains '+' (allowed: A-Z a-z 0-9 . _ -)"},
        {"jobs/s#/j/e", JW_TOPIC_INVALID, "session id contains '#' (allowed: A-Z a-z 0-9 . _ -)"},
        {"jobs/$s/j/e", JW_TOPIC_INVALID, "session id contains '$' (allowed: A-Z a-z 0-9 . _ -)"},
        {"jobs/a b/j/e", JW_TOPIC_INVALID,
                "session id contains a space (allowed: A-Z a-z 0-9 . _ -)"},
        {"jobs/s/j\t1/e", JW_TOPIC_INVALID, "job id contains \\x09 (allowed: A-Z a-z 0-9 . _ -)"},
        {"jobs/caf\xc3\xa9/j/e", JW_TOPIC_INVALID,
                "session id contains \\xC3 (allowed: A-Z a-z 0-9 . _ -)"},
        {"jobs/s/j:1/e", JW_TOPIC_INVALID, "job id contains ':' (allowed: A-Z a-z 0-9 . _ -)"},
        {"jobs/s/j\x7f/e", JW_TOPIC_INVALID, "job id contains \\x7F (allowed: A-Z a-z 0-9 . _ -)"},
        {"jobs/s/j*/e", JW_TOPIC_INVALID, "job id contains '*' (allowed: A-Z a-z 0-9 . _ -)"},
        /* Event type grammar. */
        {"jobs/s/j/Progress", JW_TOPIC_INVALID, "event type must start with a-z or 0-9, got 'P'"},
        {"jobs/s/j/-x", JW_TOPIC_INVALID, "event type must start with a-z or 0-9, got '-'"},
        {"jobs/s/j/_x", JW_TOPIC_INVALID, "event type must start with a-z or 0-9, got '_'"},
        {"jobs/s/j/pro.gress", JW_TOPIC_INVALID, "event type contains '.' (allowed: a-z 0-9 _ -)"},
        {"jobs/s/j/proGress", JW_TOPIC_INVALID, "event type contains 'G' (allowed: a-z 0-9 _ -)"},
        {"jobs/s/j/a+", JW_TOPIC_INVALID, "event type contains '+' (allowed: a-z 0-9 _ -)"},
        {"jobs/s/j/a b", JW_TOPIC_INVALID, "event type contains a space (allowed: a-z 0-9 _ -)"},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

START_TEST(classify)
{
	const struct topic_case *c = &cases[_i];
	struct jw_topic t;
	enum jw_topic_kind kind;
	char want[512];

	memset(&t, 0x55, sizeof(t));
	kind = jw_topic_parse("jobs", c->topic, &t);
	ck_assert_msg(kind == c->kind, "%s: kind %d, want %d", c->topic, (int)kind, (int)c->kind);
	if(kind == JW_TOPIC_JOB) {
		(void)snprintf(want, sizeof(want), "%s|%s|%s", t.session, t.job, t.event);
		ck_assert_str_eq(want, c->why);
		ck_assert_str_eq(t.why, "");
	} else if(kind == JW_TOPIC_INVALID) {
		ck_assert_str_eq(t.why, c->why);
	}
}
END_TEST

static char *topic_with(const char *before, size_t n, char fill, const char *after)
{
	size_t bl = strlen(before), al = strlen(after);
	char *s = malloc(bl + n + al + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, before, bl);
	memset(s + bl, fill, n);
	memcpy(s + bl + n, after, al + 1);
	return s;
}

START_TEST(id_lengths)
{
	struct jw_topic t;
	char *s;

	s = topic_with("jobs/", 128, 's', "/j/e");
	ck_assert_int_eq(jw_topic_parse("jobs", s, &t), JW_TOPIC_JOB);
	ck_assert_uint_eq(strlen(t.session), 128);
	free(s);

	s = topic_with("jobs/", 129, 's', "/j/e");
	ck_assert_int_eq(jw_topic_parse("jobs", s, &t), JW_TOPIC_INVALID);
	ck_assert_str_eq(t.why, "session id is 129 characters, limit 128");
	free(s);

	s = topic_with("jobs/s/", 128, 'j', "/e");
	ck_assert_int_eq(jw_topic_parse("jobs", s, &t), JW_TOPIC_JOB);
	ck_assert_uint_eq(strlen(t.job), 128);
	free(s);

	s = topic_with("jobs/s/", 129, 'j', "/e");
	ck_assert_int_eq(jw_topic_parse("jobs", s, &t), JW_TOPIC_INVALID);
	ck_assert_str_eq(t.why, "job id is 129 characters, limit 128");
	free(s);

	s = topic_with("jobs/s/j/", 64, 'e', "");
	ck_assert_int_eq(jw_topic_parse("jobs", s, &t), JW_TOPIC_JOB);
	ck_assert_uint_eq(strlen(t.event), 64);
	free(s);

	s = topic_with("jobs/s/j/", 65, 'e', "");
	ck_assert_int_eq(jw_topic_parse("jobs", s, &t), JW_TOPIC_INVALID);
	ck_assert_str_eq(t.why, "event type is 65 characters, limit 64");
	free(s);
}
END_TEST

/* A maximum-length MQTT topic is measured, never copied into a fixed buffer. */
START_TEST(long_topics)
{
	struct jw_topic t;
	char *s;
	size_t i;

	s = topic_with("jobs/", 65000, 'x', "/j/e");
	ck_assert_int_eq(jw_topic_parse("jobs", s, &t), JW_TOPIC_INVALID);
	ck_assert_str_eq(t.why, "session id is 65000 characters, limit 128");
	free(s);

	s = topic_with("jobs/s/j/", 65000, 'e', "");
	ck_assert_int_eq(jw_topic_parse("jobs", s, &t), JW_TOPIC_INVALID);
	ck_assert_str_eq(t.why, "event type is 65000 characters, limit 64");
	free(s);

	s = topic_with("jobs", 65000, '/', "");
	ck_assert_int_eq(jw_topic_parse("jobs", s, &t), JW_TOPIC_INVALID);
	ck_assert_str_eq(t.why, "expected jobs/{session}/{job}/{event}, got 65001 levels");
	free(s);

	/* Every byte value that is not allowed in an id is refused. */
	for(i = 1; i < 256; i++) {
		char topic[32], id[8];
		int allowed = (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z') || (i >= '0' && i <= '9') ||
		              i == '.' || i == '_' || i == '-';

		if(i == '/')
			continue;
		(void)snprintf(topic, sizeof(topic), "jobs/s%cs/j/e", (int)i);
		ck_assert_int_eq(
		        jw_topic_parse("jobs", topic, &t), allowed ? JW_TOPIC_JOB : JW_TOPIC_INVALID);
		(void)snprintf(id, sizeof(id), "s%cs", (int)i);
		ck_assert_int_eq(jw_topic_id_valid(id), allowed);
	}
}
END_TEST

START_TEST(other_prefix)
{
	struct jw_topic t;

	ck_assert_int_eq(jw_topic_parse("lab", "lab/s/j/progress", &t), JW_TOPIC_JOB);
	ck_assert_str_eq(t.event, "progress");
	ck_assert_int_eq(jw_topic_parse("lab", "jobs/s/j/progress", &t), JW_TOPIC_OTHER);
	ck_assert_int_eq(jw_topic_parse("lab", "lab/s/j", &t), JW_TOPIC_INVALID);
	ck_assert_str_eq(t.why, "expected lab/{session}/{job}/{event}, got 3 levels");
	/* A multi-level prefix is matched as a whole. */
	ck_assert_int_eq(jw_topic_parse("acme/jobs", "acme/jobs/s/j/e", &t), JW_TOPIC_JOB);
	ck_assert_str_eq(t.session, "s");
	ck_assert_int_eq(jw_topic_parse("acme/jobs", "acme/jobsx/s/j/e", &t), JW_TOPIC_OTHER);
	ck_assert_int_eq(jw_topic_parse("acme/jobs", "acme/jobs/s/j", &t), JW_TOPIC_INVALID);
}
END_TEST

START_TEST(id_valid)
{
	char id[JW_ID_MAX + 2];

	ck_assert_int_eq(jw_topic_id_valid("global"), 1);
	ck_assert_int_eq(jw_topic_id_valid("a.B_c-9"), 1);
	ck_assert_int_eq(jw_topic_id_valid(""), 0);
	ck_assert_int_eq(jw_topic_id_valid(NULL), 0);
	ck_assert_int_eq(jw_topic_id_valid("a/b"), 0);
	ck_assert_int_eq(jw_topic_id_valid("a+"), 0);
	ck_assert_int_eq(jw_topic_id_valid("a b"), 0);
	memset(id, 'x', JW_ID_MAX);
	id[JW_ID_MAX] = '\0';
	ck_assert_int_eq(jw_topic_id_valid(id), 1);
	id[JW_ID_MAX] = 'x';
	id[JW_ID_MAX + 1] = '\0';
	ck_assert_int_eq(jw_topic_id_valid(id), 0);
}
END_TEST

START_TEST(format)
{
	char buf[32];
	struct jw_topic t;

	ck_assert_int_eq(jw_topic_format(buf, sizeof(buf), "jobs", "s1", "j1", "state"), 16);
	ck_assert_str_eq(buf, "jobs/s1/j1/state");
	/* Round trip. */
	ck_assert_int_eq(jw_topic_parse("jobs", buf, &t), JW_TOPIC_JOB);
	ck_assert_str_eq(t.job, "j1");
	/* Exactly full (16 characters and the NUL) fits; one byte less does not. */
	ck_assert_int_eq(jw_topic_format(buf, 17, "jobs", "s1", "j1", "state"), 16);
	ck_assert_int_eq(jw_topic_format(buf, 16, "jobs", "s1", "j1", "state"), -1);
	ck_assert_int_eq(jw_topic_format(NULL, 0, "jobs", "s", "j", "e"), -1);
}
END_TEST

/* A client's rejection topic: one level whatever its id holds. */
START_TEST(rejection)
{
	char buf[64];

	ck_assert_int_eq(jw_topic_rejection(buf, sizeof(buf), "worker-1"), 28);
	ck_assert_str_eq(buf, "$jobwire/rejections/worker-1");
	ck_assert_int_gt(jw_topic_rejection(buf, sizeof(buf), "a/b+c#d%e\x01\x7f"), 0);
	ck_assert_str_eq(buf, "$jobwire/rejections/a%2Fb%2Bc%23d%25e%01%7F");
	ck_assert_int_eq(jw_topic_rejection(buf, sizeof(buf), NULL), 20);
	ck_assert_str_eq(buf, "$jobwire/rejections/");
	/* UTF-8 and '$' pass through unchanged. */
	ck_assert_int_gt(jw_topic_rejection(buf, sizeof(buf), "m\xc3\xbcller$1"), 0);
	ck_assert_str_eq(buf, "$jobwire/rejections/m\xc3\xbcller$1");
	/* Too small, also when only an escape does not fit. */
	ck_assert_int_eq(jw_topic_rejection(buf, 20, "x"), -1);
	ck_assert_int_eq(jw_topic_rejection(buf, 23, "/"), -1);
	ck_assert_int_eq(jw_topic_rejection(buf, 24, "/"), 23);
	/* The replies level escapes the same way. */
	ck_assert_int_eq(jw_topic_client_level(buf, sizeof(buf), JW_REPLIES_PREFIX, "lab/scope#2"), 32);
	ck_assert_str_eq(buf, "$jobwire/replies/lab%2Fscope%232");
	ck_assert_int_eq(jw_topic_client_level(buf, 17, JW_REPLIES_PREFIX, ""), -1);
}
END_TEST

/* The contract's byte rules, written out independently of topic.c. */
static int spec_id_byte(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

static int spec_event_byte(int c, int first)
{
	if((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
		return 1;
	return !first && (c == '_' || c == '-');
}

/*
 * Every byte value in every position of every level: a topic is a job
 * topic exactly when the byte is allowed there, and otherwise the reason
 * names the level (the one-pass scan and the full checks must agree).
 */
START_TEST(every_byte)
{
	for(int c = 1; c < 256; c++) {
		for(int pos = 0; pos < 3; pos++) {
			char id[4] = {'a', 'b', 'c', '\0'}, ev[4] = {'p', 'q', 'r', '\0'};
			char buf[64];
			struct jw_topic t;
			enum jw_topic_kind k;
			int want;

			/* Session level. */
			id[pos] = (char)c;
			(void)snprintf(buf, sizeof(buf), "jobs/%s/j/progress", id);
			k = jw_topic_parse("jobs", buf, &t);
			want = spec_id_byte(c);
			if(c == '/')
				ck_assert_int_eq(k, JW_TOPIC_INVALID);
			else if(want) {
				ck_assert_int_eq(k, JW_TOPIC_JOB);
				ck_assert_str_eq(t.session, id);
			} else {
				ck_assert_int_eq(k, JW_TOPIC_INVALID);
				ck_assert_ptr_nonnull(strstr(t.why, "session id contains"));
			}
			/* Job level. */
			(void)snprintf(buf, sizeof(buf), "jobs/s/%s/progress", id);
			k = jw_topic_parse("jobs", buf, &t);
			if(c == '/')
				ck_assert_int_eq(k, JW_TOPIC_INVALID);
			else if(want) {
				ck_assert_int_eq(k, JW_TOPIC_JOB);
				ck_assert_str_eq(t.job, id);
			} else {
				ck_assert_int_eq(k, JW_TOPIC_INVALID);
				ck_assert_ptr_nonnull(strstr(t.why, "job id contains"));
			}
			/* Event level. */
			ev[pos] = (char)c;
			(void)snprintf(buf, sizeof(buf), "jobs/s/j/%s", ev);
			k = jw_topic_parse("jobs", buf, &t);
			if(c == '/')
				ck_assert_int_eq(k, JW_TOPIC_INVALID);
			else if(spec_event_byte(c, pos == 0)) {
				ck_assert_int_eq(k, JW_TOPIC_JOB);
				ck_assert_str_eq(t.event, ev);
				ck_assert_str_eq(t.why, "");
			} else {
				ck_assert_int_eq(k, JW_TOPIC_INVALID);
				ck_assert_ptr_nonnull(strstr(t.why, "event type"));
				ck_assert_str_eq(t.event, "");
			}
		}
	}
}
END_TEST

/* The response-topic rule: the reason for each kind of refusal, a
 * client's own replies allowed outright, the rest left to the ACL. */
START_TEST(response_topics)
{
	static const struct {
		const char *topic;
		const char *id;
		bool utf8_ok, publishable;
		enum jw_response_refusal want;
		bool ask;
		const char *why;
	} rt[] = {
	        {"", "w1", true, true, JW_RESPONSE_INVALID, false, "empty"},
	        {"answers/w1", "w1", false, true, JW_RESPONSE_INVALID, false, "UTF-8"},
	        {"answers/+", "w1", true, false, JW_RESPONSE_INVALID, false, "wildcard"},
	        {"answers/#", "w1", true, false, JW_RESPONSE_INVALID, false, "wildcard"},
	        {"answers/w1", "w1", true, false, JW_RESPONSE_INVALID, false, "valid topic"},
	        {"jobs", "w1", true, true, JW_RESPONSE_BROKER_TOPIC, false, "jobs/"},
	        {"jobs/s1/j1/control", "w1", true, true, JW_RESPONSE_BROKER_TOPIC, false, "jobs/"},
	        {"$SYS/broker/uptime", "w1", true, true, JW_RESPONSE_BROKER_TOPIC, false, "$ topics"},
	        {"$jobwire/replies/w2/x", "w1", true, true, JW_RESPONSE_BROKER_TOPIC, false,
	                "$ topics"},
	        {"$jobwire/replies/w10", "w1", true, true, JW_RESPONSE_BROKER_TOPIC, false, "$ topics"},
	        {"$jobwire/replies/w1", "w1", true, true, JW_RESPONSE_OK, false, NULL},
	        {"$jobwire/replies/w1/a/b", "w1", true, true, JW_RESPONSE_OK, false, NULL},
	        {"$jobwire/replies/a%2Fb/r", "a/b", true, true, JW_RESPONSE_OK, false, NULL},
	        {"$jobwire/replies//r", "", true, true, JW_RESPONSE_BROKER_TOPIC, false, "$ topics"},
	        {"jobsX/a", "w1", true, true, JW_RESPONSE_OK, true, NULL},
	        {"answers/w1", "w1", true, true, JW_RESPONSE_OK, true, NULL},
	};

	for(size_t i = 0; i < sizeof(rt) / sizeof(rt[0]); i++) {
		char why[256] = "";
		bool ask = !rt[i].ask;
		enum jw_response_refusal r = jw_topic_response_check("jobs", rt[i].topic, rt[i].id,
		        rt[i].utf8_ok, rt[i].publishable, &ask, why, sizeof(why));

		ck_assert_msg(r == rt[i].want, "%s: %d", rt[i].topic, (int)r);
		ck_assert_msg(ask == rt[i].ask, "%s: ask %d", rt[i].topic, (int)ask);
		if(rt[i].why) {
			ck_assert_msg(strstr(why, rt[i].why), "%s: %s", rt[i].topic, why);
		}
	}
}
END_TEST

static Suite *topic_suite(void)
{
	Suite *s = suite_create("topic");
	TCase *tc;

	tc = tcase_create("classify");
	tcase_add_loop_test(tc, classify, 0, (int)NCASES);
	suite_add_tcase(s, tc);
	tc = tcase_create("every_byte");
	tcase_add_test(tc, every_byte);
	suite_add_tcase(s, tc);
	tc = tcase_create("id_lengths");
	tcase_add_test(tc, id_lengths);
	suite_add_tcase(s, tc);
	tc = tcase_create("long_topics");
	tcase_add_test(tc, long_topics);
	suite_add_tcase(s, tc);
	tc = tcase_create("other_prefix");
	tcase_add_test(tc, other_prefix);
	suite_add_tcase(s, tc);
	tc = tcase_create("id_valid");
	tcase_add_test(tc, id_valid);
	suite_add_tcase(s, tc);
	tc = tcase_create("format");
	tcase_add_test(tc, format);
	suite_add_tcase(s, tc);
	tc = tcase_create("rejection");
	tcase_add_test(tc, rejection);
	suite_add_tcase(s, tc);
	tc = tcase_create("response_topics");
	tcase_add_test(tc, response_topics);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return jw_test_run(topic_suite());
}
