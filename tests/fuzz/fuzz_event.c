/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The full event check, as the broker runs it on every PUBLISH: the topic
 * parsed against the prefix "jobs", then jw_event_check_doc with the
 * shipped schemas and default limits, into one jw_jdoc reused from input
 * to input like the broker's. Input: the topic, a NUL byte, the payload
 * (MQTT topics cannot hold U+0000); without a NUL the whole input is the
 * payload of a progress event.
 *
 * Checked against a plain reference written from docs/topics.md (checks
 * in the order protected type, known type, size, strict JSON, object,
 * binding type/job_id/session_id, schema, progress rule): the same reason
 * and field, and for a schema violation the validator's own message; the
 * json-c entry point agrees; an accepted event without ts takes the
 * broker's ts as its first member and still passes the check.
 */
#include "fuzz.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "jdoc.h"
#include "json.h"
#include "schema.h"
#include "schemaset.h"
#include "topic.h"

#define TS "\"2026-01-02T03:04:05.678Z\""

static struct jw_schemaset *set;
static struct jw_jdoc doc, ref;

static void cleanup(void)
{
	jw_schemaset_free(set);
	jw_jdoc_free(&doc);
	jw_jdoc_free(&ref);
}

static void init(void)
{
	char err[512];

	if(jw_schemaset_load_dir(JW_SCHEMAS_DIR, &set, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_event: %s\n", err);
		abort();
	}
	jw_jdoc_init(&doc);
	jw_jdoc_init(&ref);
	atexit(cleanup);
}

static const struct jw_jnode *first(const struct jw_jnode *o, const char *name)
{
	return jw_jnode_get(o, name);
}

/* 1 when the member is absent or the string want. */
static int bound(const struct jw_jnode *o, const char *name, const char *want)
{
	const struct jw_jnode *m = first(o, name);

	return !m || (m->type == JW_J_STRING && m->n == strlen(want) && !memcmp(m->u.s, want, m->n));
}

/* The verdict the documented checks give: reason, field; *serr for a
 * schema violation. */
static enum jw_reason reference(const struct jw_topic *t, const uint8_t *p, size_t len,
        const char **field, struct jw_schema_error *serr)
{
	const struct jw_schemaset_type *ty;
	struct jw_json_error jerr;
	const struct jw_jnode *root, *cur, *tot;

	*field = "";
	if(!strcmp(t->event, "state"))
		return JW_REASON_PROTECTED_TOPIC;
	/* A station's status has its own topic, never a job's. */
	if(!strcmp(t->event, "station"))
		return JW_REASON_UNKNOWN_EVENT_TYPE;
	ty = jw_schemaset_lookup(set, t->event);
	if(!ty)
		return JW_REASON_UNKNOWN_EVENT_TYPE;
	if(len == 0)
		return JW_REASON_EMPTY_PAYLOAD;
	if(len > JW_DEFAULT_MAX_PAYLOAD)
		return JW_REASON_PAYLOAD_TOO_LARGE;
	if(jw_jdoc_parse(&ref, (const char *)p, len, JW_DEFAULT_MAX_DEPTH, &jerr) != 0)
		return jerr.reason;
	root = ref.root;
	if(root->type != JW_J_OBJECT)
		return JW_REASON_NOT_AN_OBJECT;
	if(!bound(root, "type", t->event)) {
		*field = "/type";
		return JW_REASON_TOPIC_MISMATCH;
	}
	if(!bound(root, "job_id", t->job)) {
		*field = "/job_id";
		return JW_REASON_TOPIC_MISMATCH;
	}
	if(!bound(root, "session_id", t->session)) {
		*field = "/session_id";
		return JW_REASON_TOPIC_MISMATCH;
	}
	if(jw_schema_validate_node(ty->schema, root, serr) != 1) {
		*field = serr->pointer;
		return JW_REASON_SCHEMA_VIOLATION;
	}
	cur = first(root, "current");
	tot = first(root, "total");
	if(ty->progress && cur && tot && jw_jnode_double(cur) > jw_jnode_double(tot)) {
		*field = "/current";
		return JW_REASON_RULE_VIOLATION;
	}
	return JW_REASON_NONE;
}

static void check_verdict(const struct jw_verdict *v)
{
	FUZZ_CHECK(memchr(v->field, '\0', sizeof(v->field)) &&
	                   memchr(v->keyword, '\0', sizeof(v->keyword)) &&
	                   memchr(v->message, '\0', sizeof(v->message)),
	        "verdict fields not NUL-terminated");
	FUZZ_CHECK(v->message[0] != '\0', "rejected (%s) without a message", jw_reason_name(v->reason));
	FUZZ_CHECK(v->field[0] == '\0' || v->field[0] == '/', "field \"%s\" is not a JSON pointer",
	        v->field);
	FUZZ_CHECK((v->reason == JW_REASON_SCHEMA_VIOLATION || v->reason == JW_REASON_RULE_VIOLATION) ==
	                   (v->keyword[0] != '\0'),
	        "keyword \"%s\" with reason %s", v->keyword, jw_reason_name(v->reason));
}

/* The broker's ts edit of an accepted event (plugin/effects.c). */
static void check_splice(const struct jw_topic *t, const uint8_t *p, size_t len)
{
	struct jw_event_limits limits = {0, 0};
	struct jw_verdict v;
	struct jw_json_error jerr;
	struct json_object *before = NULL, *after = NULL;
	size_t outlen = 0;
	char *out;

	out = jw_event_splice_member(p, len, "ts", TS, malloc, &outlen);
	FUZZ_CHECK(out != NULL, "splice failed");
	FUZZ_CHECK(outlen == len + strlen(TS) + 5 || outlen == len + strlen(TS) + 6,
	        "spliced %zu bytes into %zu, got %zu", strlen(TS), len, outlen);
	FUZZ_CHECK(out[outlen] == '\0', "spliced payload not NUL-terminated");
	FUZZ_CHECK(jw_json_parse(out, outlen, JW_DEFAULT_MAX_DEPTH, &after, &jerr) == 0,
	        "spliced payload is not JSON: %s", jerr.message);
	FUZZ_CHECK(jw_json_parse((const char *)p, len, JW_DEFAULT_MAX_DEPTH, &before, &jerr) == 0,
	        "accepted payload is not JSON: %s", jerr.message);
	{
		struct lh_entry *e = lh_table_head(json_object_get_object(after));
		struct json_object *ts = NULL;

		FUZZ_CHECK(e && !strcmp(lh_entry_k(e), "ts"), "ts is not the first member");
		FUZZ_CHECK(json_object_object_get_ex(after, "ts", &ts) &&
		                   !strcmp(json_object_get_string(ts), "2026-01-02T03:04:05.678Z"),
		        "ts has another value");
		json_object_object_del(after, "ts");
		FUZZ_CHECK(json_object_equal(before, after), "the splice changed other members");
	}
	json_object_put(before);
	json_object_put(after);
	/* What the broker delivers still meets the contract it checked. */
	if(outlen <= JW_DEFAULT_MAX_PAYLOAD) {
		int rc = jw_event_check_doc(set, t, out, outlen, &limits, &doc, &v);

		FUZZ_CHECK(rc == 0, "the event with the broker's ts is refused: %s (%s)",
		        jw_reason_name(v.reason), v.message);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	struct jw_event_limits limits = {0, 0}; /* the defaults, as the broker's */
	struct jw_topic t;
	struct jw_verdict v, v2;
	struct jw_schema_error serr;
	const uint8_t *payload = data;
	size_t len = size;
	const char *field;
	enum jw_topic_kind kind;
	enum jw_reason want;
	char *topic;
	int rc, rc2;

	if(!set)
		init();
	if(nul) {
		topic = jw_fuzz_strndup(data, (size_t)(nul - data));
		payload = nul + 1;
		len = size - (size_t)(nul - data) - 1;
	} else {
		topic = jw_fuzz_strndup((const uint8_t *)"jobs/fz/j1/progress", 19);
	}
	memset(&t, 0, sizeof(t));
	kind = jw_topic_parse("jobs", topic, &t);
	free(topic);
	if(kind != JW_TOPIC_JOB)
		return 0;

	memset(&v, 0x5a, sizeof(v));
	rc = jw_event_check_doc(set, &t, payload, len, &limits, &doc, &v);
	FUZZ_CHECK(rc == 0 || rc == -1, "check returned %d", rc);
	FUZZ_CHECK((rc == 0) == (v.reason == JW_REASON_NONE), "rc %d with reason %s", rc,
	        jw_reason_name(v.reason));
	memset(&serr, 0, sizeof(serr));
	want = reference(&t, payload, len, &field, &serr);
	FUZZ_CHECK(v.reason == want, "reason %s, the documented checks give %s (%s)",
	        jw_reason_name(v.reason), jw_reason_name(want), v.message);
	if(rc == 0) {
		FUZZ_CHECK(doc.root && doc.root->type == JW_J_OBJECT, "accepted without an object");
	} else {
		check_verdict(&v);
		FUZZ_CHECK(doc.root == NULL, "a rejection left a root");
		FUZZ_CHECK(
		        !strcmp(v.field, field), "field %s, the documented checks give %s", v.field, field);
		if(want == JW_REASON_SCHEMA_VIOLATION)
			FUZZ_CHECK(!strcmp(v.message, serr.message) && !strcmp(v.keyword, serr.keyword),
			        "schema violation reported as %s (%s), the validator says %s (%s)", v.message,
			        v.keyword, serr.message, serr.keyword);
	}

	/* The entry point with a document of its own: same verdict, same words. */
	memset(&v2, 0x5a, sizeof(v2));
	rc2 = jw_event_check(set, &t, payload, len, &limits, &v2);
	FUZZ_CHECK(rc2 == rc && v2.reason == v.reason && !strcmp(v2.field, v.field) &&
	                   !strcmp(v2.keyword, v.keyword) && !strcmp(v2.message, v.message),
	        "jw_event_check says %s (%s), jw_event_check_doc %s (%s)", jw_reason_name(v2.reason),
	        v2.message, jw_reason_name(v.reason), v.message);

	if(rc == 0 && !jw_jnode_get(doc.root, "ts"))
		check_splice(&t, payload, len);
	return 0;
}
