/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves that the AsyncAPI document `jobwire asyncapi` writes has one
 * channel per event type of the schema directory with its schema as the
 * payload, the state, control, rejection and stats channels with the
 * broker's QoS and retain, servers and the JWT scheme; that every $ref
 * in it resolves inside the document (the schemas' own "#/$defs/..."
 * references are rewritten), and that the input schemas are left as
 * they were. The AsyncAPI parser itself checks the document in
 * tests/integration/test_asyncapi.sh. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "asyncapi.h"
#include "json.h"
#include "schemaset.h"
#include "util_check.h"

struct input {
	struct jw_schemaset *set;
	const char *types[64];
	struct json_object *schemas[64];
	size_t n;
	struct json_object *rejection;
	struct json_object *history;
};

static void load(struct input *in)
{
	char err[400], path[1024];
	struct jw_json_error je;

	memset(in, 0, sizeof(*in));
	ck_assert_msg(
	        jw_schemaset_load_dir(JW_SCHEMAS_DIR, &in->set, err, sizeof(err)) == 0, "%s", err);
	in->n = jw_schemaset_count(in->set);
	ck_assert_uint_le(in->n, 64);
	for(size_t i = 0; i < in->n; i++) {
		in->types[i] = jw_schemaset_type(in->set, i);
		snprintf(path, sizeof(path), "%s/%s.json", JW_SCHEMAS_DIR, in->types[i]);
		ck_assert_msg(jw_json_parse_file(path, 64, &in->schemas[i], &je) == 0, "%s", je.message);
	}
	snprintf(path, sizeof(path), "%s/notices/rejection.json", JW_SCHEMAS_DIR);
	ck_assert_int_eq(jw_json_parse_file(path, 64, &in->rejection, &je), 0);
	snprintf(path, sizeof(path), "%s/replies/history.json", JW_SCHEMAS_DIR);
	ck_assert_int_eq(jw_json_parse_file(path, 64, &in->history, &je), 0);
}

static void unload(struct input *in)
{
	for(size_t i = 0; i < in->n; i++) {
		json_object_put(in->schemas[i]);
	}
	json_object_put(in->rejection);
	json_object_put(in->history);
	jw_schemaset_free(in->set);
}

static struct json_object *build(struct input *in, const char *prefix)
{
	const struct jw_asyncapi_opts o = {
	        "9.9.9", prefix, "broker.example:1883", "broker.example:9001"};
	const struct jw_asyncapi_input ai = {in->types, in->schemas, in->n, in->rejection, in->history};
	struct json_object *doc = NULL;
	char err[300];

	ck_assert_msg(jw_asyncapi_build(&o, &ai, &doc, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(doc);
	return doc;
}

/* The value at a slash-separated path of member names (no escapes). */
static struct json_object *at(struct json_object *o, const char *path)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", path);
	for(char *p = buf, *slash; o && p; p = slash ? slash + 1 : NULL) {
		slash = strchr(p, '/');
		if(slash) {
			*slash = '\0';
		}
		if(*p && !json_object_object_get_ex(o, p, &o)) {
			return NULL;
		}
	}
	return o;
}

static const char *str_at(struct json_object *o, const char *path)
{
	struct json_object *v = at(o, path);
	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Resolves a "#/a/b~1c" JSON pointer in doc. */
static struct json_object *resolve(struct json_object *doc, const char *ref)
{
	struct json_object *o = doc;
	char tok[256];

	if(ref[0] != '#' || ref[1] != '/') {
		return NULL;
	}
	for(const char *p = ref + 2; o;) {
		size_t n = 0;
		for(; *p && *p != '/' && n + 1 < sizeof(tok); p++) {
			if(p[0] == '~' && (p[1] == '0' || p[1] == '1')) {
				tok[n++] = p[1] == '0' ? '~' : '/';
				p++;
			} else {
				tok[n++] = *p;
			}
		}
		tok[n] = '\0';
		if(!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, tok, &o)) {
			return NULL;
		}
		if(!*p) {
			return o;
		}
		p++;
	}
	return NULL;
}

/* Every "$ref" under v resolves in doc; returns how many there are. */
static int check_refs(struct json_object *doc, struct json_object *v)
{
	int n = 0;

	if(json_object_is_type(v, json_type_array)) {
		for(size_t i = 0; i < json_object_array_length(v); i++) {
			n += check_refs(doc, json_object_array_get_idx(v, i));
		}
	} else if(json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, child)
		{
			if(!strcmp(k, "$ref")) {
				const char *r = json_object_get_string(child);
				ck_assert_msg(resolve(doc, r) != NULL, "unresolved $ref %s", r);
				n++;
			} else {
				n += check_refs(doc, child);
			}
		}
	}
	return n;
}

START_TEST(channels_and_payloads)
{
	struct input in;
	load(&in);
	struct json_object *doc = build(&in, "jobs");

	ck_assert_str_eq(str_at(doc, "asyncapi"), "3.0.0");
	ck_assert_str_eq(str_at(doc, "info/version"), "9.9.9");
	for(size_t i = 0; i < in.n; i++) {
		char path[256], want[256];
		snprintf(path, sizeof(path), "channels/%s/address", in.types[i]);
		/* A station's status has a topic of its own. */
		if(!strcmp(in.types[i], "station")) {
			snprintf(want, sizeof(want), "stations/{station}/status");
		} else {
			snprintf(want, sizeof(want), "jobs/{session}/{job}/%s", in.types[i]);
		}
		ck_assert_msg(str_at(doc, path) && !strcmp(str_at(doc, path), want), "channel of %s",
		        in.types[i]);
		snprintf(path, sizeof(path), "components/messages/%s/payload/$ref", in.types[i]);
		snprintf(want, sizeof(want), "#/components/schemas/%s", in.types[i]);
		ck_assert_str_eq(str_at(doc, path), want);
		/* The copy has no $id / $schema; the input keeps them. */
		snprintf(path, sizeof(path), "components/schemas/%s/$id", in.types[i]);
		ck_assert_ptr_null(at(doc, path));
		ck_assert_ptr_nonnull(at(in.schemas[i], "$id"));
	}
	ck_assert_str_eq(str_at(doc, "channels/progress/parameters/session/description"),
	        "The session the job belongs to (1-128 characters of A-Z a-z 0-9 . _ -).");
	/* A schema's own reference now points into its copy, and the input
	 * still has the original. */
	ck_assert_str_eq(str_at(doc, "components/schemas/progress/properties/job_id/$ref"),
	        "#/components/schemas/progress/$defs/id");
	for(size_t i = 0; i < in.n; i++) {
		if(!strcmp(in.types[i], "progress")) {
			ck_assert_str_eq(str_at(in.schemas[i], "properties/job_id/$ref"), "#/$defs/id");
		}
	}
	ck_assert_int_gt(check_refs(doc, doc), 50);

	ck_assert_str_eq(
	        str_at(doc, "channels/jobwire.rejections/address"), "$jobwire/rejections/{clientId}");
	ck_assert_str_eq(str_at(doc, "channels/jobwire.stats/address"), "$jobwire/stats");
	ck_assert_ptr_nonnull(at(doc, "components/schemas/jobwire.rejection/properties/reason"));
	ck_assert_str_eq(
	        str_at(doc, "channels/jobwire.history/address"), "$jobwire/history/{session}/{job}");
	ck_assert_str_eq(str_at(doc, "channels/jobwire.history_replies/address"),
	        "$jobwire/replies/{clientId}/history");
	ck_assert_ptr_nonnull(at(doc, "components/schemas/jobwire.history/properties/events"));
	ck_assert_str_eq(str_at(doc, "servers/mqtt/host"), "broker.example:1883");
	ck_assert_str_eq(str_at(doc, "servers/mqtt/protocol"), "mqtt");
	ck_assert_str_eq(str_at(doc, "servers/websocket/host"), "broker.example:9001");
	ck_assert_str_eq(str_at(doc, "servers/websocket/protocol"), "ws");
	ck_assert_str_eq(str_at(doc, "components/securitySchemes/jwt/type"), "userPassword");
	json_object_put(doc);
	unload(&in);
}
END_TEST

START_TEST(bindings)
{
	struct input in;
	load(&in);
	struct json_object *doc = build(&in, "jobs");
	struct {
		const char *op, *action;
		int qos, retain;
	} want[] = {
	        {"send_progress", "send", 1, 0},
	        {"receive_progress", "receive", 1, 0},
	        {"send_complete", "send", 1, 0},
	        {"receive_state", "receive", 1, 1},
	        {"send_control", "send", 1, 0},
	        {"receive_control", "receive", 1, 0},
	        {"receive_rejections", "receive", 1, 0},
	        {"send_history_request", "send", 1, 0},
	        {"receive_history", "receive", 1, 0},
	        {"receive_stats", "receive", 0, 1},
	};
	char path[256];

	for(size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(path, sizeof(path), "operations/%s/action", want[i].op);
		ck_assert_msg(
		        str_at(doc, path) && !strcmp(str_at(doc, path), want[i].action), "%s", want[i].op);
		snprintf(path, sizeof(path), "operations/%s/bindings/mqtt/qos", want[i].op);
		ck_assert_int_eq(json_object_get_int(at(doc, path)), want[i].qos);
		snprintf(path, sizeof(path), "operations/%s/bindings/mqtt/retain", want[i].op);
		ck_assert_int_eq(json_object_get_boolean(at(doc, path)), want[i].retain);
	}
	/* state is broker-published only: nobody may send it. */
	ck_assert_ptr_null(at(doc, "operations/send_state"));
	json_object_put(doc);
	unload(&in);
}
END_TEST

START_TEST(prefix_and_bad_schema)
{
	struct input in;
	load(&in);
	struct json_object *doc = build(&in, "lab");
	ck_assert_str_eq(str_at(doc, "channels/started/address"), "lab/{session}/{job}/started");
	json_object_put(doc);

	/* A schema file that is not an object is an error, not a document. */
	struct json_object *keep = in.schemas[1];
	in.schemas[1] = json_object_new_array();
	const struct jw_asyncapi_opts o = {"1", "jobs", "h:1", "h:2"};
	const struct jw_asyncapi_input ai = {in.types, in.schemas, in.n, in.rejection, NULL};
	char err[300] = "";
	doc = (struct json_object *)1;
	ck_assert_int_eq(jw_asyncapi_build(&o, &ai, &doc, err, sizeof(err)), -1);
	ck_assert_ptr_null(doc);
	ck_assert_ptr_nonnull(strstr(err, "not a JSON object"));
	json_object_put(in.schemas[1]);
	in.schemas[1] = keep;
	unload(&in);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_asyncapi");
	jw_test_case(s, "document", channels_and_payloads, bindings, prefix_and_bad_schema, NULL);
	return jw_test_run(s);
}
