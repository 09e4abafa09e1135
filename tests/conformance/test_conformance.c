/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Proves core/schema/ against the official JSON-Schema-Test-Suite (draft
 * 2020-12): every test of every file for a keyword jobwire supports must
 * pass, except the entries of an explicit skip list, each of which needs
 * a feature jobwire refuses (remote refs, nested $id, $anchor,
 * $dynamicRef, the meta-schema) or a limit of its regex engine.
 *
 * Usage: test_conformance [<suite>/tests/draft2020-12]
 * Without an argument it reads the copy the build names (JW_SUITE_DIR: the
 * suite kept in tests/conformance/json-schema-test-suite unless the
 * JW_SCHEMA_TEST_SUITE CMake variable points elsewhere).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "schema.h"

/* The suite nests deeper than any event; this is generous. */
#define SUITE_MAX_DEPTH 256

static const char *const suite_files[] = {
        "type.json",
        "properties.json",
        "required.json",
        "additionalProperties.json",
        "patternProperties.json",
        "enum.json",
        "const.json",
        "minimum.json",
        "maximum.json",
        "exclusiveMinimum.json",
        "exclusiveMaximum.json",
        "multipleOf.json",
        "minLength.json",
        "maxLength.json",
        "pattern.json",
        "items.json",
        "prefixItems.json",
        "minItems.json",
        "maxItems.json",
        "uniqueItems.json",
        "minProperties.json",
        "maxProperties.json",
        "propertyNames.json",
        "dependentRequired.json",
        "dependentSchemas.json",
        "contains.json",
        "minContains.json",
        "maxContains.json",
        "allOf.json",
        "anyOf.json",
        "oneOf.json",
        "not.json",
        "if-then-else.json",
        "ref.json",
        "defs.json",
        "boolean_schema.json",
        "infinite-loop-detection.json",
        "unevaluatedProperties.json",
        "unevaluatedItems.json",
        "anchor.json",
        "dynamicRef.json",
        "refRemote.json",
        "optional/format/date.json",
        "optional/format/date-time.json",
        "optional/format/duration.json",
        "optional/format/ecmascript-regex.json",
        "optional/format/email.json",
        "optional/format/hostname.json",
        "optional/format/idn-email.json",
        "optional/format/idn-hostname.json",
        "optional/format/ipv4.json",
        "optional/format/ipv6.json",
        "optional/format/iri.json",
        "optional/format/iri-reference.json",
        "optional/format/json-pointer.json",
        "optional/format/regex.json",
        "optional/format/relative-json-pointer.json",
        "optional/format/time.json",
        "optional/format/uri.json",
        "optional/format/uri-reference.json",
        "optional/format/uri-template.json",
        "optional/format/uuid.json",
        /* Numbers compared by their exact values (number.h). */
        "optional/bignum.json",
        "optional/float-overflow.json",
        /* Unknown keywords, accepted as annotations for these files only. */
        "optional/unknownKeyword.json",
        "optional/refOfUnknownKeyword.json",
        "content.json",
        "default.json",
        "vocabulary.json",
        /* format as an annotation (JW_SCHEMA_FORMAT_ANNOTATION). */
        "format.json",
        "optional/format/unknown.json",
        "optional/anchor.json",
        "optional/cross-draft.json",
        "optional/dependencies-compatibility.json",
        "optional/dynamicRef.json",
        "optional/ecmascript-regex.json",
        "optional/format-assertion.json",
        "optional/id.json",
        "optional/no-schema.json",
        "optional/non-bmp-regex.json",
};

/* Files whose schemas are compiled with JW_SCHEMA_UNKNOWN_AS_ANNOTATION
 * (jobwire refuses unknown keywords by default). */
static const char *const annotation_files[] = {
        "optional/unknownKeyword.json",
        "optional/refOfUnknownKeyword.json",
};

static unsigned compile_flags(const char *file)
{
	if(strcmp(file, "format.json") == 0 || strcmp(file, "optional/format/unknown.json") == 0)
		return JW_SCHEMA_FORMAT_ANNOTATION;
	for(size_t i = 0; i < sizeof annotation_files / sizeof annotation_files[0]; i++)
		if(strcmp(annotation_files[i], file) == 0)
			return JW_SCHEMA_UNKNOWN_AS_ANNOTATION;
	return 0;
}

/* One skipped file (group == NULL), group (test == NULL) or test, and
 * why. */
struct skip {
	const char *file;
	const char *group;
	const char *test;
	const char *why;
	unsigned hits;
};

static struct skip skips[] = {
        /* The meta-schema is a remote document; refs are local only. */
        {"ref.json", "remote ref, containing refs itself", NULL,
                "needs remote refs (the 2020-12 meta-schema)", 0},
        {"defs.json", "validate definition against metaschema", NULL,
                "needs the meta-schema (a remote ref)", 0},
        {"vocabulary.json", "schema that uses custom metaschema with with no validation vocabulary",
                NULL,
                "a custom meta-schema as $schema: jobwire implements the 2020-12 dialect only", 0},
        {"vocabulary.json", "ignore unrecognized optional vocabulary", NULL,
                "a custom meta-schema as $schema: jobwire implements the 2020-12 dialect only", 0},
        {"optional/cross-draft.json", "refs to historic drafts are processed as historic drafts",
                NULL,
                "a $ref to a draft 2019-09 schema: jobwire implements the 2020-12 dialect only", 0},
        {"optional/dependencies-compatibility.json", NULL, NULL,
                "\"dependencies\" is draft 7's keyword: refused, as a typo would be (2020-12 has "
                "dependentRequired and dependentSchemas)",
                0},
        {"optional/format-assertion.json", NULL, NULL,
                "a custom meta-schema as $schema: jobwire implements the 2020-12 dialect only", 0},
        {"optional/format/ecmascript-regex.json",
                "ECMA 262 lookbehind is valid, including variable width",
                "a variable-width lookbehind (ES2018)",
                "PCRE2 before 10.43 (Debian 12 has 10.42) allows only fixed-length lookbehind", 0},
};

#define N_SKIPS (sizeof skips / sizeof skips[0])

static struct skip *find_skip(const char *file, const char *group, const char *test)
{
	for(size_t i = 0; i < N_SKIPS; i++) {
		struct skip *s = &skips[i];
		/* group NULL: every group of the file. */
		if(strcmp(s->file, file) != 0 || (s->group != NULL && strcmp(s->group, group) != 0))
			continue;
		if(s->group == NULL)
			return s;
		if(s->test == NULL || (test != NULL && strcmp(s->test, test) == 0))
			return s;
	}
	return NULL;
}

static const char *member_string(const struct json_object *o, const char *key)
{
	struct json_object *v;
	if(!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return "";
	return json_object_get_string(v);
}

struct counts {
	unsigned passed, failed, skipped;
};

/* Runs one test; returns true when the verdict matches the suite's. */
static bool run_test(
        const struct jw_schema *schema, const struct json_object *test, char *why, size_t whylen)
{
	struct json_object *data = NULL, *valid;
	struct jw_schema_error err;

	json_object_object_get_ex(test, "data", &data);
	if(!json_object_object_get_ex(test, "valid", &valid) ||
	        !json_object_is_type(valid, json_type_boolean)) {
		snprintf(why, whylen, "test has no boolean \"valid\"");
		return false;
	}
	bool expected = json_object_get_boolean(valid) != 0;
	int r = jw_schema_validate(schema, data, &err);
	/* The verdict-only path skips all message work; it must agree. */
	int quiet = jw_schema_validate(schema, data, NULL);
	if(r < 0 || quiet < 0) {
		snprintf(why, whylen, "validation failed: %s", err.message);
		return false;
	}
	if(r != quiet) {
		snprintf(why, whylen, "verdict %d with messages, %d without", r, quiet);
		return false;
	}
	if((r == 1) != expected) {
		if(r == 0)
			snprintf(why, whylen, "rejected, expected valid: %s", err.message);
		else
			snprintf(why, whylen, "accepted, expected invalid");
		return false;
	}
	if(r == 0 && (err.message[0] == '\0' || err.keyword[0] == '\0')) {
		snprintf(why, whylen, "rejected without keyword or message");
		return false;
	}
	return true;
}

/* The suite's remotes/ folder, served as http://localhost:1234/ (no
 * server: the URI is mapped onto the folder). */
static const char *remotes_dir;

#define REMOTE_PREFIX "http://localhost:1234/"

static int load_remote(
        void *ctx, const char *uri, struct json_object **doc, char *err, size_t errlen)
{
	const char *dir = ctx;
	char path[4096];
	struct jw_json_error jerr;

	if(dir == NULL || strncmp(uri, REMOTE_PREFIX, strlen(REMOTE_PREFIX)) != 0 ||
	        strstr(uri, "..") != NULL) {
		snprintf(err, errlen, "no such remote: %s", uri);
		return -1;
	}
	snprintf(path, sizeof path, "%s/%s", dir, uri + strlen(REMOTE_PREFIX));
	if(jw_json_parse_file(path, SUITE_MAX_DEPTH, doc, &jerr) < 0) {
		snprintf(err, errlen, "%s: %s", path, jerr.message);
		return -1;
	}
	return 0;
}

static void run_group(const char *file, const struct json_object *group, struct counts *fc)
{
	const char *gdesc = member_string(group, "description");
	struct json_object *schema_doc = NULL, *tests = NULL;
	struct jw_schema *schema = NULL;
	char cerr[512], why[512];
	struct skip *gskip = NULL;

	json_object_object_get_ex(group, "schema", &schema_doc);
	if(!json_object_object_get_ex(group, "tests", &tests) ||
	        !json_object_is_type(tests, json_type_array)) {
		printf("FAIL %s: %s: group has no tests array\n", file, gdesc);
		fc->failed++;
		return;
	}
	size_t n = json_object_array_length(tests);

	gskip = find_skip(file, gdesc, NULL);
	if(gskip != NULL && gskip->test == NULL) {
		gskip->hits++;
		fc->skipped += (unsigned)n;
		return;
	}
	cerr[0] = '\0';
	struct jw_schema_options opts = {
	        .flags = compile_flags(file), .load = load_remote, .load_ctx = (void *)remotes_dir};
	if(jw_schema_compile_opts(schema_doc, file, &opts, &schema, cerr, sizeof cerr) < 0)
		schema = NULL;

	for(size_t i = 0; i < n; i++) {
		const struct json_object *test = json_object_array_get_idx(tests, i);
		const char *tdesc = member_string(test, "description");
		struct skip *s = find_skip(file, gdesc, tdesc);

		if(s != NULL) {
			s->hits++;
			fc->skipped++;
			continue;
		}
		if(schema == NULL) {
			printf("FAIL %s: %s: %s: schema does not compile: %s\n", file, gdesc, tdesc, cerr);
			fc->failed++;
			continue;
		}
		if(run_test(schema, test, why, sizeof why)) {
			fc->passed++;
		} else {
			printf("FAIL %s: %s: %s: %s\n", file, gdesc, tdesc, why);
			fc->failed++;
		}
	}
	jw_schema_free(schema);
}

static int run_file(const char *dir, const char *file, struct counts *total)
{
	struct counts fc = {0, 0, 0};
	struct json_object *doc = NULL;
	struct jw_json_error jerr;
	char path[4096];
	int n;

	n = snprintf(path, sizeof path, "%s/%s", dir, file);
	if(n < 0 || (size_t)n >= sizeof path) {
		printf("FAIL %s: path too long\n", file);
		total->failed++;
		return -1;
	}
	if(jw_json_parse_file(path, SUITE_MAX_DEPTH, &doc, &jerr) < 0) {
		printf("FAIL %s: %s\n", path, jerr.message);
		total->failed++;
		return -1;
	}
	if(!json_object_is_type(doc, json_type_array)) {
		printf("FAIL %s: not an array of test groups\n", path);
		json_object_put(doc);
		total->failed++;
		return -1;
	}
	for(size_t i = 0; i < json_object_array_length(doc); i++)
		run_group(file, json_object_array_get_idx(doc, i), &fc);
	json_object_put(doc);

	printf("%-34s %4u passed, %u failed, %u skipped\n", file, fc.passed, fc.failed, fc.skipped);
	total->passed += fc.passed;
	total->failed += fc.failed;
	total->skipped += fc.skipped;
	return 0;
}

int main(int argc, char **argv)
{
	struct counts total = {0, 0, 0};
	const char *dir = JW_SUITE_DIR;

	if(argc > 2) {
		fprintf(stderr, "usage: %s [<JSON-Schema-Test-Suite>/tests/draft2020-12]\n", argv[0]);
		return 2;
	}
	if(argc == 2)
		dir = argv[1];
	/* <suite>/tests/draft2020-12 -> <suite>/remotes */
	static char remotes[4096];
	snprintf(remotes, sizeof remotes, "%s/../../remotes", dir);
	remotes_dir = remotes;
	for(size_t i = 0; i < sizeof suite_files / sizeof suite_files[0]; i++)
		run_file(dir, suite_files[i], &total);

	/* An entry that skipped nothing hides nothing, but it means the suite
	 * or the validator changed and the list should be pruned. */
	for(size_t i = 0; i < N_SKIPS; i++) {
		if(skips[i].hits == 0)
			printf("stale skip entry: %s: %s%s%s (%s)\n", skips[i].file,
			        skips[i].group ? skips[i].group : "(every group)", skips[i].test ? ": " : "",
			        skips[i].test ? skips[i].test : "", skips[i].why);
	}
	printf("conformance: %u passed, %u failed, %u skipped\n", total.passed, total.failed,
	        total.skipped);
	return total.failed > 0 ? 1 : 0;
}
