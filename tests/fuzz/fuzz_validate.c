/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The validator on the shipped contract: every schema of the repository's
 * schemas/ (loaded once, as the broker loads them) against a fuzzed
 * instance. The input is the instance's JSON text; it is validated against
 * every event type, since which schema an instance meets is the point.
 * Checked: each verdict is 0 or 1, the same with and without an error
 * buffer, from the arena and the json-c entry points, and an invalid
 * verdict names a JSON pointer and a keyword.
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

static struct jw_schemaset *set;
static struct jw_jdoc doc;

static void cleanup(void)
{
	jw_schemaset_free(set);
	jw_jdoc_free(&doc);
}

static void init(void)
{
	char err[512];

	if(jw_schemaset_load_dir(JW_SCHEMAS_DIR, &set, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_validate: %s\n", err);
		abort();
	}
	jw_jdoc_init(&doc);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o = NULL;
	struct jw_json_error jerr;

	if(!set)
		init();
	if(jw_jdoc_parse(&doc, (const char *)data, size, JW_DEFAULT_MAX_DEPTH, &jerr) != 0)
		return 0;
	if(jw_json_parse((const char *)data, size, JW_DEFAULT_MAX_DEPTH, &o, &jerr) != 0)
		FUZZ_CHECK(0, "jw_jdoc_parse accepted what jw_json_parse refuses: %s", jerr.message);
	for(size_t i = 0; i < jw_schemaset_count(set); i++) {
		const char *type = jw_schemaset_type(set, i);
		const struct jw_schema *s = jw_schemaset_find(set, type);
		struct jw_schema_error e1, e2;
		struct jw_schema_members m;
		int v1, v2, v3, v4;

		FUZZ_CHECK(s != NULL, "type %s listed but not found", type);
		memset(&e1, 0, sizeof(e1));
		memset(&e2, 0, sizeof(e2));
		v1 = jw_schema_validate_node(s, doc.root, &e1);
		v2 = jw_schema_validate_node(s, doc.root, NULL);
		v3 = jw_schema_validate_members(s, doc.root, &e2, &m);
		FUZZ_CHECK(v1 == 0 || v1 == 1, "%s: validate returned %d", type, v1);
		FUZZ_CHECK(v1 == v2 && v1 == v3, "%s: verdicts %d (error buffer) %d (none) %d (members)",
		        type, v1, v2, v3);
		if(v1 == 0) {
			FUZZ_CHECK(memchr(e1.pointer, '\0', sizeof(e1.pointer)) &&
			                   memchr(e1.message, '\0', sizeof(e1.message)) &&
			                   memchr(e1.keyword, '\0', sizeof(e1.keyword)),
			        "%s: error fields not NUL-terminated", type);
			FUZZ_CHECK(e1.pointer[0] == '\0' || e1.pointer[0] == '/',
			        "%s: pointer \"%s\" is not a JSON pointer", type, e1.pointer);
			FUZZ_CHECK(e1.keyword[0] != '\0' && e1.message[0] != '\0',
			        "%s: invalid without a keyword or message", type);
			FUZZ_CHECK(!strcmp(e1.message, e2.message), "%s: members error differs: %s / %s", type,
			        e1.message, e2.message);
		}
		memset(&e2, 0, sizeof(e2));
		v4 = jw_schema_validate(s, o, &e2);
		FUZZ_CHECK(v4 == v1, "%s: json-c verdict %d, arena %d", type, v4, v1);
		if(v1 == 0)
			FUZZ_CHECK(!strcmp(e1.message, e2.message), "%s: json-c error differs: %s / %s", type,
			        e1.message, e2.message);
	}
	json_object_put(o);
	return 0;
}
