/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The schema loader: compiles a schema from JSON text (what
 * jw_schemaset_load_dir does with each schemas/<type>.json, from the
 * strict parse on) and, when it compiles, validates instances against it:
 * the input's own instance, the schema document itself and a fixed set of
 * small values. Input: schema text, then optionally a NUL byte and the
 * instance text (a NUL cannot occur in JSON text, so the split is
 * unambiguous). Checked: a refusal always says why; every verdict is 0 or
 * 1, agrees with and without an error buffer and between the arena and
 * json-c entry points, and comes with a well-formed error.
 */
#include "fuzz.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "jdoc.h"
#include "json.h"
#include "schema.h"

/* core/schema/set.c parses schema files with this limit. */
#define SCHEMA_DEPTH 64
#define INSTANCE_DEPTH 32

static const char *const fixed[] = {
        "null",
        "true",
        "false",
        "0",
        "-1",
        "1.5",
        "1e308",
        "9223372036854775807",
        "\"\"",
        "\"a\"",
        "\"2026-01-02T03:04:05Z\"",
        "\"\\u00e9t\\u00e9\"",
        "[]",
        "[1,\"a\",null]",
        "[1,1]",
        "{}",
        "{\"a\":1,\"b\":[{}]}",
        "{\"type\":\"progress\",\"progress\":50}",
};

static struct jw_jdoc doc;
static int ready;

static void cleanup(void)
{
	jw_jdoc_free(&doc);
}

static void check_error(const struct jw_schema_error *e)
{
	FUZZ_CHECK(memchr(e->pointer, '\0', sizeof(e->pointer)) &&
	                   memchr(e->keyword, '\0', sizeof(e->keyword)) &&
	                   memchr(e->message, '\0', sizeof(e->message)),
	        "error fields not NUL-terminated");
	FUZZ_CHECK(e->pointer[0] == '\0' || e->pointer[0] == '/',
	        "pointer \"%s\" is not a JSON pointer", e->pointer);
	FUZZ_CHECK(e->message[0] != '\0', "invalid without a message");
}

static void validate(const struct jw_schema *s, const char *text, size_t len)
{
	struct json_object *o = NULL;
	struct jw_json_error jerr;
	struct jw_schema_error e1, e2;
	struct jw_schema_members m;
	int v1, v2, v3, v4;

	if(jw_jdoc_parse(&doc, text, len, INSTANCE_DEPTH, &jerr) != 0)
		return;
	memset(&e1, 0, sizeof(e1));
	memset(&e2, 0, sizeof(e2));
	v1 = jw_schema_validate_node(s, doc.root, &e1);
	v2 = jw_schema_validate_node(s, doc.root, NULL);
	v3 = jw_schema_validate_members(s, doc.root, &e2, &m);
	FUZZ_CHECK(v1 == 0 || v1 == 1, "validate returned %d", v1);
	FUZZ_CHECK(v1 == v2, "verdict with an error buffer %d, without %d", v1, v2);
	FUZZ_CHECK(v1 == v3, "validate_members says %d, validate_node %d", v3, v1);
	if(v1 == 0) {
		check_error(&e1);
		FUZZ_CHECK(!strcmp(e1.pointer, e2.pointer) && !strcmp(e1.keyword, e2.keyword) &&
		                   !strcmp(e1.message, e2.message),
		        "validate_members reports another error: %s / %s", e1.message, e2.message);
	}
	if(m.scanned) {
		for(int i = 0; i < JW_SCHEMA_MEMBERS_MAX; i++) {
			const struct jw_jnode *k;

			if(!(m.present >> i & 1))
				continue;
			k = m.member[i];
			FUZZ_CHECK(doc.root->type == JW_J_OBJECT && k >= doc.root->u.kids &&
			                   k < doc.root->u.kids + doc.root->n,
			        "member %d is not a member of the instance", i);
			FUZZ_CHECK(jw_schema_root_property(s, k->key) == i,
			        "member %d named \"%s\" is property %d", i, k->key,
			        jw_schema_root_property(s, k->key));
		}
	}
	/* The json-c entry point converts and validates the same tree. */
	if(jw_json_parse(text, len, INSTANCE_DEPTH, &o, &jerr) == 0) {
		memset(&e2, 0, sizeof(e2));
		v4 = jw_schema_validate(s, o, &e2);
		FUZZ_CHECK(v4 == v1, "json-c instance verdict %d, arena %d", v4, v1);
		if(v1 == 0)
			FUZZ_CHECK(!strcmp(e1.message, e2.message), "json-c instance error differs: %s / %s",
			        e1.message, e2.message);
		json_object_put(o);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t slen = nul ? (size_t)(nul - data) : size;
	struct json_object *sdoc = NULL;
	struct jw_json_error jerr;
	struct jw_schema *s = (struct jw_schema *)1;
	char err[512];
	int rc;

	if(!ready) {
		jw_jdoc_init(&doc);
		atexit(cleanup);
		ready = 1;
	}
	if(jw_json_parse((const char *)data, slen, SCHEMA_DEPTH, &sdoc, &jerr) != 0)
		return 0;
	memset(err, 0x5a, sizeof(err));
	rc = jw_schema_compile(sdoc, "fuzz.json", &s, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "compile returned %d", rc);
	if(rc != 0) {
		FUZZ_CHECK(s == NULL, "a failed compile left a schema");
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL, "error not NUL-terminated");
		FUZZ_CHECK(strncmp(err, "fuzz.json", 9) == 0, "error does not name the file: %s", err);
		json_object_put(sdoc);
		return 0;
	}
	FUZZ_CHECK(s != NULL, "compiled to NULL");
	/* The compiled schema keeps nothing of the document. */
	{
		const char *text = json_object_to_json_string_ext(sdoc, JSON_C_TO_STRING_PLAIN);
		char *copy = strdup(text);

		json_object_put(sdoc);
		if(copy) {
			validate(s, copy, strlen(copy));
			free(copy);
		}
	}
	if(nul)
		validate(s, (const char *)nul + 1, size - slen - 1);
	for(size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		validate(s, fixed[i], strlen(fixed[i]));
	jw_schema_free(s);
	return 0;
}
