/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves that each event check refuses with the right reason, field and message in the documented
 * order, and that broker edits to accepted payloads are byte-exact. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "event.h"
#include "jdoc.h"
#include "reason.h"
#include "schemaset.h"
#include "topic.h"
#include "util_check.h"

static char schema_dir[64];
static struct jw_schemaset *set;

static const struct {
	const char *name;
	const char *text;
} schema_files[] = {
        {"progress.json", "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
                          "\"type\":\"object\","
                          "\"properties\":{\"progress\":{\"type\":\"number\",\"minimum\":0,"
                          "\"maximum\":100}},"
                          "\"required\":[\"progress\"]}"},
        {"started.json", "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
                         "\"type\":\"object\"}"},
        /* A schema for state exists, yet clients still may not publish it. */
        {"state.json", "{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\","
                       "\"type\":\"object\"}"},
};

#define NSCHEMAS (sizeof(schema_files) / sizeof(schema_files[0]))

static void schemas_setup(void)
{
	char path[128], err[256];
	size_t i;

	(void)snprintf(schema_dir, sizeof(schema_dir), "/tmp/jw_event_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(schema_dir));
	for(i = 0; i < NSCHEMAS; i++) {
		FILE *fp;

		(void)snprintf(path, sizeof(path), "%s/%s", schema_dir, schema_files[i].name);
		fp = fopen(path, "wb");
		ck_assert_ptr_nonnull(fp);
		fputs(schema_files[i].text, fp);
		ck_assert_int_eq(fclose(fp), 0);
	}
	err[0] = '\0';
	ck_assert_msg(jw_schemaset_load_dir(schema_dir, &set, err, sizeof(err)) == 0, "load: %s", err);
}

static void schemas_teardown(void)
{
	char path[128];
	size_t i;

	jw_schemaset_free(set);
	set = NULL;
	for(i = 0; i < NSCHEMAS; i++) {
		(void)snprintf(path, sizeof(path), "%s/%s", schema_dir, schema_files[i].name);
		(void)unlink(path);
	}
	(void)rmdir(schema_dir);
}

static struct jw_topic topic(const char *session, const char *job, const char *event)
{
	struct jw_topic t;

	memset(&t, 0, sizeof(t));
	(void)snprintf(t.session, sizeof(t.session), "%s", session);
	(void)snprintf(t.job, sizeof(t.job), "%s", job);
	(void)snprintf(t.event, sizeof(t.event), "%s", event);
	return t;
}

/* Runs a check that must fail and returns the verdict. */
static struct jw_verdict refuse(const char *event, const char *payload, size_t len,
        const struct jw_event_limits *limits, enum jw_reason reason, const char *field)
{
	struct jw_topic t = topic("s1", "j1", event);
	struct jw_jdoc doc;
	struct jw_verdict v;

	/* A document that held an accepted event must be left without one. */
	jw_jdoc_init(&doc);
	ck_assert_int_eq(jw_jdoc_parse(&doc, "{}", 2, 4, NULL), 0);
	ck_assert_int_eq(jw_event_check_doc(set, &t, payload, len, limits, &doc, &v), -1);
	ck_assert_ptr_null(doc.root);
	jw_jdoc_free(&doc);
	ck_assert_msg(v.reason == reason, "%s: got %s (%s), want %s", payload, jw_reason_name(v.reason),
	        v.message, jw_reason_name(reason));
	if(field)
		ck_assert_str_eq(v.field, field);
	ck_assert_msg(v.message[0] != '\0', "empty message");
	return v;
}

#define REFUSE(ev, s, r, f) refuse(ev, s, sizeof(s) - 1, NULL, r, f)

START_TEST(reason_names)
{
	static const char *const want[] = {
	        "none",
	        "invalid_topic",
	        "protected_topic",
	        "unknown_event_type",
	        "empty_payload",
	        "payload_too_large",
	        "invalid_utf8",
	        "invalid_json",
	        "duplicate_key",
	        "too_deep",
	        "number_out_of_range",
	        "not_an_object",
	        "topic_mismatch",
	        "schema_violation",
	        "internal",
	        "rule_violation",
	        "job_finished",
	        "progress_backwards",
	        "unknown_job",
	        "too_many_jobs",
	        "journal_full",
	        "not_retryable",
	        "attempts_exhausted",
	        "no_pending_review",
	        "choice_not_offered",
	};
	int i;

	ck_assert_int_eq((int)(sizeof(want) / sizeof(want[0])), JW_REASON__COUNT);
	for(i = 0; i < JW_REASON__COUNT; i++)
		ck_assert_str_eq(jw_reason_name((enum jw_reason)i), want[i]);
	ck_assert_str_eq(jw_reason_name(JW_REASON__COUNT), "unknown");
	ck_assert_str_eq(jw_reason_name((enum jw_reason) - 1), "unknown");
	ck_assert_str_eq(jw_reason_name((enum jw_reason)1000), "unknown");
}
END_TEST

START_TEST(accepted)
{
	struct jw_topic t = topic("s1", "j1", "progress");
	static const char ok[] = "{\"type\":\"progress\",\"job_id\":\"j1\","
	                         "\"session_id\":\"s1\",\"progress\":40}";
	const struct jw_jnode *m;
	struct jw_jdoc doc;
	struct jw_verdict v;

	jw_jdoc_init(&doc);
	ck_assert_int_eq(jw_event_check_doc(set, &t, ok, sizeof(ok) - 1, NULL, &doc, &v), 0);
	ck_assert_int_eq(v.reason, JW_REASON_NONE);
	ck_assert_str_eq(v.field, "");
	ck_assert_str_eq(v.message, "");
	m = jw_jnode_get(doc.root, "progress");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->type, JW_J_INT);
	ck_assert_int_eq(m->u.i, 40);
	jw_jdoc_free(&doc);

	/* The caller may not want the object. */
	ck_assert_int_eq(jw_event_check(set, &t, "{\"progress\":1}", 14, NULL, &v), 0);
}
END_TEST

START_TEST(protected_topic)
{
	struct jw_verdict v;

	v = REFUSE("state", "{}", JW_REASON_PROTECTED_TOPIC, "");
	ck_assert_str_eq(v.message, "state is published by the broker only");
	/* Before anything about the payload. */
	REFUSE("state", "", JW_REASON_PROTECTED_TOPIC, "");
}
END_TEST

START_TEST(unknown_event_type)
{
	struct jw_topic t = topic("s1", "j1", "progress");
	struct jw_verdict v;

	v = REFUSE("foo", "{}", JW_REASON_UNKNOWN_EVENT_TYPE, "");
	ck_assert_str_eq(v.message, "no schema for event type \"foo\"");
	/* Before the payload is looked at. */
	REFUSE("foo", "", JW_REASON_UNKNOWN_EVENT_TYPE, "");
	/* No schema set at all behaves the same. */
	ck_assert_int_eq(jw_event_check(NULL, &t, "{}", 2, NULL, &v), -1);
	ck_assert_int_eq(v.reason, JW_REASON_UNKNOWN_EVENT_TYPE);
}
END_TEST

START_TEST(empty_payload)
{
	struct jw_verdict v;

	v = REFUSE("progress", "", JW_REASON_EMPTY_PAYLOAD, "");
	ck_assert_str_eq(v.message, "payload is empty");
}
END_TEST

START_TEST(payload_too_large)
{
	struct jw_event_limits small = {100, 0};
	struct jw_verdict v;
	size_t n = 70000;
	char *big = malloc(n);

	ck_assert_ptr_nonnull(big);
	/* Not even JSON: the size is checked before parsing. */
	memset(big, 'x', n);
	v = refuse("progress", big, n, NULL, JW_REASON_PAYLOAD_TOO_LARGE, "");
	ck_assert_str_eq(v.message, "payload is 70000 bytes, limit 65536");
	v = refuse("progress", big, 101, &small, JW_REASON_PAYLOAD_TOO_LARGE, "");
	ck_assert_str_eq(v.message, "payload is 101 bytes, limit 100");
	/* Exactly at the limit is parsed (and then refused as not JSON). */
	refuse("progress", big, 100, &small, JW_REASON_INVALID_JSON, "");
	free(big);
}
END_TEST

START_TEST(parse_errors)
{
	struct jw_event_limits shallow = {0, 2};
	struct jw_verdict v;
	static const char deep[] = "{\"progress\":1,\"x\":{\"y\":[]}}";

	v = REFUSE("progress", "{\"progress\":1", JW_REASON_INVALID_JSON, "");
	ck_assert_str_eq(v.message, "unexpected end of input at byte 13, "
	                            "expected ',' or '}'");
	REFUSE("progress", "{\"progress\":\xff}", JW_REASON_INVALID_UTF8, "");
	v = REFUSE("progress", "{\"progress\":1,\"progress\":2}", JW_REASON_DUPLICATE_KEY, "");
	ck_assert_str_eq(v.message, "duplicate key \"progress\" at byte 14");
	REFUSE("progress", "{\"progress\":1e999}", JW_REASON_NUMBER_OUT_OF_RANGE, "");
	REFUSE("progress", "{\"progress\":NaN}", JW_REASON_INVALID_JSON, "");
	REFUSE("progress", "\xEF\xBB\xBF{\"progress\":1}", JW_REASON_INVALID_JSON, "");
	refuse("progress", deep, sizeof(deep) - 1, &shallow, JW_REASON_TOO_DEEP, "");
	/* The default depth (32) allows it. */
	{
		struct jw_topic t = topic("s1", "j1", "progress");

		ck_assert_int_eq(jw_event_check(set, &t, deep, sizeof(deep) - 1, NULL, &v), 0);
	}
}
END_TEST

START_TEST(not_an_object)
{
	static const char *const kinds[][2] = {
	        {"[]", "array"},
	        {"\"x\"", "string"},
	        {"1", "number"},
	        {"1.5", "number"},
	        {"true", "boolean"},
	        {"null", "null"},
	};
	size_t i;

	for(i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct jw_verdict v;
		char want[80];

		v = refuse("progress", kinds[i][0], strlen(kinds[i][0]), NULL, JW_REASON_NOT_AN_OBJECT, "");
		(void)snprintf(want, sizeof(want), "payload must be a JSON object, got %s", kinds[i][1]);
		ck_assert_str_eq(v.message, want);
	}
}
END_TEST

START_TEST(topic_mismatch)
{
	struct jw_verdict v;
	static const char nul[] = "{\"job_id\":\"a\\u0000b\\n\\u00e9\\\"\","
	                          "\"progress\":1}";
	char big[300];
	int n;

	v = REFUSE(
	        "progress", "{\"type\":\"started\",\"progress\":1}", JW_REASON_TOPIC_MISMATCH, "/type");
	ck_assert_str_eq(v.message, "/type: \"started\" does not match the "
	                            "topic's event \"progress\"");
	v = REFUSE(
	        "progress", "{\"job_id\":\"xyz\",\"progress\":1}", JW_REASON_TOPIC_MISMATCH, "/job_id");
	ck_assert_str_eq(v.message, "/job_id: \"xyz\" does not match the "
	                            "topic's job \"j1\"");
	v = REFUSE("progress", "{\"session_id\":\"s2\",\"progress\":1}", JW_REASON_TOPIC_MISMATCH,
	        "/session_id");
	ck_assert_str_eq(v.message, "/session_id: \"s2\" does not match the "
	                            "topic's session \"s1\"");
	v = REFUSE("progress", "{\"job_id\":7,\"progress\":1}", JW_REASON_TOPIC_MISMATCH, "/job_id");
	ck_assert_str_eq(v.message, "/job_id: must be the string \"j1\" (the "
	                            "topic's job), got number");
	REFUSE("progress", "{\"type\":null,\"progress\":1}", JW_REASON_TOPIC_MISMATCH, "/type");

	/* A prefix of the topic value is not a match. */
	REFUSE("progress", "{\"job_id\":\"j\",\"progress\":1}", JW_REASON_TOPIC_MISMATCH, "/job_id");
	/* Nor is the value with an embedded NUL after it. */
	REFUSE("progress", "{\"job_id\":\"j1\\u0000\",\"progress\":1}", JW_REASON_TOPIC_MISMATCH,
	        "/job_id");

	/* Hostile values are escaped: NUL, control, non-ASCII, quote. */
	v = REFUSE("progress", nul, JW_REASON_TOPIC_MISMATCH, "/job_id");
	ck_assert_str_eq(v.message, "/job_id: \"a\\u0000b\\u000a\\u00e9\\\"\" "
	                            "does not match the topic's job \"j1\"");

	/* Long values are cut short and marked. */
	n = snprintf(big, sizeof(big), "{\"job_id\":\"%0250d\",\"progress\":1}", 0);
	v = refuse("progress", big, (size_t)n, NULL, JW_REASON_TOPIC_MISMATCH, "/job_id");
	ck_assert_ptr_nonnull(strstr(v.message, "0000\"... does not match"));

	/* The type is bound first, then the job, then the session. */
	REFUSE("progress", "{\"session_id\":\"x\",\"job_id\":\"x\",\"type\":\"x\"}",
	        JW_REASON_TOPIC_MISMATCH, "/type");
	REFUSE("progress", "{\"session_id\":\"x\",\"job_id\":\"x\"}", JW_REASON_TOPIC_MISMATCH,
	        "/job_id");
	/* Binding comes before the schema. */
	REFUSE("progress", "{\"session_id\":\"x\",\"progress\":500}", JW_REASON_TOPIC_MISMATCH,
	        "/session_id");
}
END_TEST

START_TEST(schema_violation)
{
	struct jw_verdict v;

	v = REFUSE("progress", "{\"progress\":140}", JW_REASON_SCHEMA_VIOLATION, "/progress");
	ck_assert_str_eq(v.keyword, "maximum");
	v = REFUSE("progress", "{\"progress\":\"x\"}", JW_REASON_SCHEMA_VIOLATION, "/progress");
	ck_assert_str_eq(v.keyword, "type");
	/* Where a missing member points is the validator's choice. */
	v = REFUSE("progress", "{}", JW_REASON_SCHEMA_VIOLATION, NULL);
	ck_assert_str_eq(v.keyword, "required");
	ck_assert_ptr_nonnull(strstr(v.message, "progress"));
}
END_TEST

/* Contract rules beyond the schema: current may not exceed total. */
START_TEST(current_above_total)
{
	struct jw_schemaset *shipped = NULL;
	struct jw_verdict v;
	struct jw_topic t = topic("s1", "j1", "progress");
	char err[256] = "";
	static const char ok[] = "{\"current\": 10, \"total\": 10}";
	static const char bad[] = "{\"current\": 10.5, \"total\": 10}";

	ck_assert_msg(jw_schemaset_load_dir(JW_SCHEMAS_DIR, &shipped, err, sizeof(err)) == 0,
	        "load: %s", err);
	ck_assert_int_eq(jw_event_check(shipped, &t, ok, sizeof(ok) - 1, NULL, &v), 0);
	ck_assert_int_eq(jw_event_check(shipped, &t, bad, sizeof(bad) - 1, NULL, &v), -1);
	ck_assert_int_eq(v.reason, JW_REASON_RULE_VIOLATION);
	ck_assert_str_eq(v.field, "/current");
	ck_assert_str_eq(v.keyword, "current_le_total");
	ck_assert_str_eq(v.message, "/current: must not exceed total 10, got 10.5");
	jw_schemaset_free(shipped);
}
END_TEST

/*
 * current <= total on the exact values, whatever their size or spelling:
 * integers past 2^53 (which doubles cannot tell apart), past int64,
 * fractions next to integers, exponents. Each pair is checked both ways
 * round (current above total is refused, below or equal accepted).
 */
START_TEST(current_total_exact)
{
	static const struct {
		const char *lo, *hi; /* lo < hi, or equal when eq */
		int eq;
	} pairs[] = {
	        {"9007199254740992", "9007199254740993", 0},
	        {"9007199254740992.0", "9007199254740993", 0},
	        {"9007199254740992", "9007199254740992.5", 0},
	        {"9007199254740993", "9007199254740993.0", 1},
	        {"9007199254740993", "9.007199254740993e15", 1},
	        {"9223372036854775806", "9223372036854775807", 0},
	        {"9223372036854775807", "9223372036854775808", 0},
	        {"18446744073709551616", "18446744073709551617", 0},
	        {"123456789012345678901234567890", "123456789012345678901234567891", 0},
	        {"1e30", "1000000000000000000000000000001", 0},
	        {"1e30", "1000000000000000000000000000000", 1},
	        {"0.1", "0.10000000000000000001", 0},
	        {"0.30000000000000004", "0.3000000000000000444089209850062616169452667236328125", 0},
	        {"1", "1.0000000000000000001", 0},
	        {"0", "0.0", 1},
	        {"100", "1e2", 1},
	};
	struct jw_schemaset *shipped = NULL;
	struct jw_verdict v;
	struct jw_topic t = topic("s1", "j1", "progress");
	char err[256] = "", buf[256];

	ck_assert_msg(jw_schemaset_load_dir(JW_SCHEMAS_DIR, &shipped, err, sizeof(err)) == 0,
	        "load: %s", err);
	for(size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		int n = snprintf(
		        buf, sizeof(buf), "{\"current\": %s, \"total\": %s}", pairs[i].lo, pairs[i].hi);

		ck_assert_msg(jw_event_check(shipped, &t, buf, (size_t)n, NULL, &v) == 0, "%s refused: %s",
		        buf, v.message);
		n = snprintf(
		        buf, sizeof(buf), "{\"current\": %s, \"total\": %s}", pairs[i].hi, pairs[i].lo);
		if(pairs[i].eq) {
			ck_assert_msg(jw_event_check(shipped, &t, buf, (size_t)n, NULL, &v) == 0,
			        "%s refused: %s", buf, v.message);
			continue;
		}
		ck_assert_msg(
		        jw_event_check(shipped, &t, buf, (size_t)n, NULL, &v) == -1, "%s accepted", buf);
		ck_assert_int_eq(v.reason, JW_REASON_RULE_VIOLATION);
		ck_assert_str_eq(v.keyword, "current_le_total");
	}
	/* The numbers are shown as written. */
	{
		static const char bad[] = "{\"current\": 9007199254740993, \"total\": 9007199254740992}";

		ck_assert_int_eq(jw_event_check(shipped, &t, bad, sizeof(bad) - 1, NULL, &v), -1);
		ck_assert_str_eq(v.message,
		        "/current: must not exceed total 9007199254740992, got 9007199254740993");
	}
	jw_schemaset_free(shipped);
}
END_TEST

/*
 * U+0000 in any string of any event is refused (rule no_nul), with the
 * JSON pointer of the first such string; the journal could not store it.
 * A backslash followed by "u0000" as text is no NUL and passes.
 */
START_TEST(nul_in_strings)
{
	static const struct {
		const char *type, *payload, *field;
	} bad[] = {
	        {"failed", "{\"error\":\"boom\\u0000\"}", "/error"},
	        {"failed", "{\"error\":\"x\",\"code\":\"c\",\"details\":{\"a/b~c\":[1,\"\\u0000\"]}}",
	                "/details/a~1b~0c/1"},
	        {"failed", "{\"error\":\"x\",\"details\":{\"\xc3\xa9\":{\"k\":\"\xc3\xa9\\u0000\"}}}",
	                "/details/\xc3\xa9/k"},
	        {"complete", "{\"result\":{\"rows\":[\"a\",\"b\\u0000c\"]}}", "/result/rows/1"},
	        {"progress", "{\"progress\":5,\"message\":\"\\u0000\"}", "/message"},
	        {"started", "{\"name\":\"n\\u0000\"}", "/name"},
	};
	static const char *const good[] = {
	        "{\"error\":\"a backslash then u0000: \\\\u0000\"}",
	        "{\"error\":\"\\u0001 and \\u00e9 are fine\"}",
	};
	struct jw_schemaset *shipped = NULL;
	struct jw_verdict v;
	char err[256] = "";

	ck_assert_msg(jw_schemaset_load_dir(JW_SCHEMAS_DIR, &shipped, err, sizeof(err)) == 0,
	        "load: %s", err);
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jw_topic t = topic("s1", "j1", bad[i].type);

		ck_assert_msg(
		        jw_event_check(shipped, &t, bad[i].payload, strlen(bad[i].payload), NULL, &v) == -1,
		        "%s accepted", bad[i].payload);
		ck_assert_msg(v.reason == JW_REASON_RULE_VIOLATION, "%s: %s", bad[i].payload, v.message);
		ck_assert_str_eq(v.keyword, "no_nul");
		ck_assert_str_eq(v.field, bad[i].field);
		ck_assert_ptr_nonnull(strstr(v.message, "U+0000"));
	}
	{
		struct jw_topic t = topic("s1", "j1", "failed");

		ck_assert_int_eq(
		        jw_event_check(shipped, &t, bad[0].payload, strlen(bad[0].payload), NULL, &v), -1);
		ck_assert_str_eq(v.message, "/error: U+0000 (\\u0000) is not allowed in strings (the "
		                            "journal cannot store it), got \"boom\\u0000\"");
		for(size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
			ck_assert_msg(jw_event_check(shipped, &t, good[i], strlen(good[i]), NULL, &v) == 0,
			        "%s refused: %s", good[i], v.message);
		/* The schema's verdict comes first. */
		static const char both[] = "{\"error\":\"\\u0000\",\"x\":1}";

		ck_assert_int_eq(jw_event_check(shipped, &t, both, sizeof(both) - 1, NULL, &v), -1);
		ck_assert_int_eq(v.reason, JW_REASON_SCHEMA_VIOLATION);
	}
	/* A key with U+0000 stays invalid JSON. */
	{
		struct jw_topic t = topic("s1", "j1", "failed");
		static const char k[] = "{\"error\":\"x\",\"details\":{\"a\\u0000\":1}}";

		ck_assert_int_eq(jw_event_check(shipped, &t, k, sizeof(k) - 1, NULL, &v), -1);
		ck_assert_int_eq(v.reason, JW_REASON_INVALID_JSON);
	}
	jw_schemaset_free(shipped);
}
END_TEST

/* The shipped schemas give the same verdicts as the test ones. */
START_TEST(shipped_schemas)
{
	struct jw_schemaset *shipped = NULL;
	struct jw_topic t = topic("s1", "j1", "progress");
	struct jw_verdict v;
	char err[256] = "";
	static const char ok[] = "{\"type\":\"progress\",\"progress\":50,\"message\":\"x\"}";
	static const char over[] = "{\"progress\":140}";

	ck_assert_msg(jw_schemaset_load_dir(JW_SCHEMAS_DIR, &shipped, err, sizeof(err)) == 0,
	        "load: %s", err);
	ck_assert_int_eq(jw_event_check(shipped, &t, ok, sizeof(ok) - 1, NULL, &v), 0);
	ck_assert_int_eq(jw_event_check(shipped, &t, over, sizeof(over) - 1, NULL, &v), -1);
	ck_assert_int_eq(v.reason, JW_REASON_SCHEMA_VIOLATION);
	ck_assert_str_eq(v.field, "/progress");
	ck_assert_str_eq(v.keyword, "maximum");
	t = topic("s1", "j1", "state");
	ck_assert_int_eq(jw_event_check(shipped, &t, "{}", 2, NULL, &v), -1);
	ck_assert_int_eq(v.reason, JW_REASON_PROTECTED_TOPIC);
	jw_schemaset_free(shipped);
}
END_TEST

/* Deterministic pseudo-random numbers (xorshift64). */
static uint64_t rnd_state = 0x9E3779B97F4A7C15u;

static size_t rnd_below(size_t n)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (size_t)(rnd_state % n);
}

/* Checks payload on t both ways: the members taken from the validator's
 * scan (by_scan, as the type is loaded) and found by the separate walk
 * (by_scan cleared). Everything in the verdicts must agree. */
static void expect_same_verdict(
        const struct jw_schemaset *s, const struct jw_topic *t, const char *payload)
{
	struct jw_schemaset_type *ty = (struct jw_schemaset_type *)jw_schemaset_lookup(s, t->event);
	struct jw_verdict a, b;
	struct jw_jdoc d;
	int ra, rb, by_scan;

	ck_assert_ptr_nonnull(ty);
	by_scan = ty->by_scan;
	jw_jdoc_init(&d);
	ra = jw_event_check_doc(s, t, payload, strlen(payload), NULL, &d, &a);
	ty->by_scan = 0;
	rb = jw_event_check_doc(s, t, payload, strlen(payload), NULL, &d, &b);
	ty->by_scan = by_scan;
	jw_jdoc_free(&d);
	ck_assert_msg(ra == rb, "%s: %d and %d", payload, ra, rb);
	ck_assert_int_eq(a.reason, b.reason);
	ck_assert_str_eq(a.field, b.field);
	ck_assert_str_eq(a.keyword, b.keyword);
	ck_assert_str_eq(a.message, b.message);
}

/* Random events, friendly and hostile, for every shipped type: binding
 * members that match, mismatch or have the wrong type, current above
 * total, schema failures together with binding failures, undeclared and
 * near-miss names, then one corrupted byte. */
START_TEST(members_by_scan)
{
	static const char *const keys[] = {
	        "type",
	        "job_id",
	        "session_id",
	        "current",
	        "total",
	        "progress",
	        "message",
	        "step",
	        "eta_s",
	        "items_added",
	        "ts",
	        "seq",
	        "error",
	        "reason",
	        "typ",
	        "types",
	        "job_iD",
	        "session_idd",
	        "Current",
	        "a_name_longer_than_sixteen",
	};
	static const char *const values[] = {
	        "\"progress\"",
	        "\"started\"",
	        "\"j1\"",
	        "\"s1\"",
	        "\"j2\"",
	        "1",
	        "10",
	        "10.5",
	        "0",
	        "-1",
	        "150",
	        "2.5",
	        "\"x\"",
	        "\"\"",
	        "null",
	        "true",
	        "[]",
	        "{}",
	        "\"\\u00e9\"",
	        "\"2026-11-22T02:40:00.123Z\"",
	        "1e400",
	        "9223372036854775807",
	};
	static const char *const types[] = {
	        "progress",
	        "started",
	        "complete",
	        "failed",
	        "heartbeat",
	        "control",
	        "validation-required",
	};
	struct jw_schemaset *shipped = NULL;
	char err[256] = "", buf[1024];

	ck_assert_msg(jw_schemaset_load_dir(JW_SCHEMAS_DIR, &shipped, err, sizeof(err)) == 0,
	        "load: %s", err);
	ck_assert(jw_schemaset_lookup(shipped, "progress")->by_scan);
	ck_assert(jw_schemaset_lookup(shipped, "progress")->progress);
	for(size_t ti = 0; ti < sizeof(types) / sizeof(types[0]); ti++) {
		struct jw_topic t = topic("s1", "j1", types[ti]);

		if(!jw_schemaset_lookup(shipped, types[ti]))
			continue;
		for(size_t round = 0; round < 1500; round++) {
			size_t len = 0, count = rnd_below(8);
			uint32_t used = 0;

			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "{");
			for(size_t i = 0; i < count; i++) {
				size_t k = rnd_below(3) ? rnd_below(6) : rnd_below(sizeof(keys) / sizeof(keys[0]));
				size_t v = rnd_below(sizeof(values) / sizeof(values[0]));

				if(used & (1u << k))
					continue;
				used |= 1u << k;
				len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s\"%s\":%s",
				        len > 1 ? "," : "", keys[k], values[v]);
			}
			(void)snprintf(buf + len, sizeof(buf) - len, "}");
			len++;
			expect_same_verdict(shipped, &t, buf);
			if(len > 2) {
				size_t at = 1 + rnd_below(len - 2);

				buf[at] = (char)(0x20 + rnd_below(95));
				expect_same_verdict(shipped, &t, buf);
			}
		}
	}
	jw_schemaset_free(shipped);
}
END_TEST

/* The test set's progress type (current and total undeclared) takes the
 * separate walk; the verdicts are those of the shipped behaviour. */
START_TEST(members_without_scan)
{
	struct jw_topic t = topic("s1", "j1", "progress");
	struct jw_verdict v;

	ck_assert(!jw_schemaset_lookup(set, "progress")->by_scan);
	static const char bound[] = "{\"progress\":1,\"type\":\"x\"}";
	static const char rule[] = "{\"progress\":1,\"current\":2,\"total\":1}";

	ck_assert_int_eq(jw_event_check(set, &t, bound, sizeof(bound) - 1, NULL, &v), -1);
	ck_assert_int_eq(v.reason, JW_REASON_TOPIC_MISMATCH);
	ck_assert_str_eq(v.field, "/type");
	ck_assert_int_eq(jw_event_check(set, &t, rule, sizeof(rule) - 1, NULL, &v), -1);
	ck_assert_int_eq(v.reason, JW_REASON_RULE_VIOLATION);
	expect_same_verdict(set, &t, "{\"progress\":1,\"current\":2,\"total\":1}");
	expect_same_verdict(set, &t, "{\"progress\":1,\"job_id\":\"j2\"}");
}
END_TEST

/* Counts calls so the test sees the given allocator is the one used. */
static int alloc_calls;

static void *counting_alloc(size_t n)
{
	alloc_calls++;
	return malloc(n);
}

static void splice_eq(const char *in, const char *want)
{
	size_t outlen = 0;
	char *out;
	int before = alloc_calls;

	out = jw_event_splice_member(
	        in, strlen(in), "ts", "\"2026-11-22T02:40:00.123Z\"", counting_alloc, &outlen);
	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(alloc_calls, before + 1);
	ck_assert_uint_eq(outlen, strlen(want));
	ck_assert(memcmp(out, want, outlen) == 0);
	ck_assert_int_eq(out[outlen], '\0');
	free(out);
}

START_TEST(splice)
{
	splice_eq("{}", "{\"ts\":\"2026-11-22T02:40:00.123Z\"}");
	splice_eq("{ }", "{\"ts\":\"2026-11-22T02:40:00.123Z\" }");
	splice_eq("{\r\n\t}", "{\"ts\":\"2026-11-22T02:40:00.123Z\"\r\n\t}");
	splice_eq("{\"a\":1}", "{\"ts\":\"2026-11-22T02:40:00.123Z\",\"a\":1}");
	splice_eq("  \n{ \"a\" : [1, {}] }\n",
	        "  \n{\"ts\":\"2026-11-22T02:40:00.123Z\", \"a\" : [1, {}] }\n");
	splice_eq("{\n  \"progress\": 50\n}",
	        "{\"ts\":\"2026-11-22T02:40:00.123Z\",\n  \"progress\": 50\n}");
}
END_TEST

START_TEST(splice_bytes)
{
	/* Bytes after the brace, NULs in strings included, are untouched. */
	static const char in[] = "{\"m\":\"a\\u0000\xc3\xa9\",\"n\":1.50}";
	static const char want[] = "{\"seq\":17,\"m\":\"a\\u0000\xc3\xa9\","
	                           "\"n\":1.50}";
	size_t outlen = 0;
	char *out;

	out = jw_event_splice_member(in, sizeof(in) - 1, "seq", "17", malloc, &outlen);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(outlen, sizeof(want) - 1);
	ck_assert(memcmp(out, want, outlen) == 0);
	free(out);

	/* Not an object: refused rather than guessed at. */
	ck_assert_ptr_null(jw_event_splice_member("[1]", 3, "ts", "1", malloc, &outlen));
}
END_TEST

/* One TCase per behaviour; those that check events get a schema dir. */
#define ADD(s, test, with_schemas)                                                                 \
	do {                                                                                           \
		TCase *tc_ = tcase_create(#test);                                                          \
		if(with_schemas)                                                                           \
			tcase_add_checked_fixture(tc_, schemas_setup, schemas_teardown);                       \
		tcase_add_test(tc_, test);                                                                 \
		suite_add_tcase(s, tc_);                                                                   \
	} while(0)

static Suite *event_suite(void)
{
	Suite *s = suite_create("event");

	ADD(s, reason_names, 0);
	ADD(s, accepted, 1);
	ADD(s, protected_topic, 1);
	ADD(s, unknown_event_type, 1);
	ADD(s, empty_payload, 1);
	ADD(s, payload_too_large, 1);
	ADD(s, parse_errors, 1);
	ADD(s, not_an_object, 1);
	ADD(s, topic_mismatch, 1);
	ADD(s, schema_violation, 1);
	ADD(s, shipped_schemas, 0);
	ADD(s, current_above_total, 0);
	ADD(s, current_total_exact, 0);
	ADD(s, nul_in_strings, 0);
	ADD(s, members_by_scan, 0);
	ADD(s, members_without_scan, 1);
	ADD(s, splice, 0);
	ADD(s, splice_bytes, 0);
	return s;
}

int main(void)
{
	return jw_test_run(event_suite());
}
