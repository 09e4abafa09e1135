/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The example payloads under schemas/examples are the event contract in
 * executable form: every valid one must be accepted as published on
 * jobs/demo-session/job-1/<type>, and every invalid one rejected for exactly
 * the reason, field and keyword recorded in schemas/examples/manifest.json.
 * Broker-written documents (state, notices/rejection) are validated against
 * their schema directly.
 */
#include <check.h>

#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "event.h"
#include "jdoc.h"
#include "json.h"
#include "reason.h"
#include "schema.h"
#include "schemaset.h"
#include "topic.h"

#define EXAMPLES_DIR JW_SCHEMAS_DIR "/examples"
#define MANIFEST_PATH EXAMPLES_DIR "/manifest.json"
#define TEST_PREFIX "jobs"
#define TEST_SESSION "demo-session"
#define TEST_JOB "job-1"
#define MAX_EXAMPLES 1024
#define REL_LEN 256   /* a path relative to EXAMPLES_DIR */
#define PATH_LEN 1024 /* a full path */

/* The event types the contract defines; more may exist, none may be missing. */
static const char *const contract_types[] = {
        "started",
        "progress",
        "complete",
        "failed",
        "validation-required",
        "heartbeat",
        "control",
        "state",
};

/* One example file: its type ("progress", "notices/rejection") and its path
 * relative to EXAMPLES_DIR ("progress/valid/percent.json"). */
struct example {
	char type[128];
	char rel[REL_LEN];
};

/* One manifest entry; absent field / keyword are stored as "". */
struct expectation {
	char type[128];
	char rel[REL_LEN];
	char reason[32];
	char field[256];
	char keyword[32];
};

/* What happened to one payload; reason "" means accepted. */
struct outcome {
	char reason[32];
	char field[256];
	char keyword[32];
	char message[400];
};

/* Filled once in main() and inherited by every forked test. */
static struct example valid_examples[MAX_EXAMPLES];
static size_t n_valid;
static struct example invalid_examples[MAX_EXAMPLES];
static size_t n_invalid;
static struct expectation manifest[MAX_EXAMPLES];
static size_t n_manifest;
static char manifest_error[512];

/* Loaded by the unchecked fixture, once per test case. */
static struct jw_schemaset *set;
static char set_error[512];

static void copy_str(char *dst, size_t dstlen, const char *src)
{
	snprintf(dst, dstlen, "%s", src ? src : "");
}

static int is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int has_json_suffix(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static int cmp_example(const void *a, const void *b)
{
	return strcmp(((const struct example *)a)->rel, ((const struct example *)b)->rel);
}

/*
 * Collects the *.json files of every directory named "valid" or "invalid"
 * below EXAMPLES_DIR/rel. The type of a file is the path between
 * EXAMPLES_DIR and that directory. Returns 0, or -1 when there are more
 * files than MAX_EXAMPLES or a directory cannot be read.
 */
static int collect(const char *rel)
{
	char dirpath[PATH_LEN];
	const char *base = strrchr(rel, '/');
	int kind = 0; /* 1 valid, 2 invalid, 0 neither */
	DIR *d;
	struct dirent *de;
	int rc = 0;

	base = base ? base + 1 : rel;
	if(strcmp(base, "valid") == 0)
		kind = 1;
	else if(strcmp(base, "invalid") == 0)
		kind = 2;

	snprintf(dirpath, sizeof dirpath, "%s%s%s", EXAMPLES_DIR, *rel ? "/" : "", rel);
	d = opendir(dirpath);
	if(!d)
		return -1;
	while(rc == 0 && (de = readdir(d)) != NULL) {
		char child[REL_LEN];
		char full[PATH_LEN];

		if(de->d_name[0] == '.')
			continue;
		if(snprintf(child, sizeof child, "%s%s%s", rel, *rel ? "/" : "", de->d_name) >=
		                (int)sizeof child ||
		        snprintf(full, sizeof full, "%s/%s", EXAMPLES_DIR, child) >= (int)sizeof full) {
			rc = -1;
			break;
		}
		if(is_dir(full)) {
			rc = collect(child);
		} else if(kind && has_json_suffix(de->d_name)) {
			struct example *e;
			size_t typelen = (size_t)(base - rel);

			if(kind == 1) {
				if(n_valid == MAX_EXAMPLES) {
					rc = -1;
					break;
				}
				e = &valid_examples[n_valid++];
			} else {
				if(n_invalid == MAX_EXAMPLES) {
					rc = -1;
					break;
				}
				e = &invalid_examples[n_invalid++];
			}
			/* rel is "<type>/valid": the type is what precedes "/valid". */
			typelen = typelen > 0 ? typelen - 1 : 0;
			if(typelen >= sizeof e->type)
				typelen = sizeof e->type - 1;
			memcpy(e->type, rel, typelen);
			e->type[typelen] = '\0';
			copy_str(e->rel, sizeof e->rel, child);
		}
	}
	closedir(d);
	return rc;
}

static const char *member_str(const struct json_object *o, const char *key)
{
	struct json_object *v;

	if(!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Reads the manifest into manifest[]; on failure fills manifest_error. */
static void load_manifest(void)
{
	struct json_object *doc = NULL;
	struct jw_json_error jerr;
	size_t i, n;

	if(jw_json_parse_file(MANIFEST_PATH, 8, &doc, &jerr) != 0) {
		snprintf(manifest_error, sizeof manifest_error, "%s: %s", MANIFEST_PATH, jerr.message);
		return;
	}
	if(!json_object_is_type(doc, json_type_array)) {
		snprintf(manifest_error, sizeof manifest_error, "%s: not an array", MANIFEST_PATH);
		goto out;
	}
	n = json_object_array_length(doc);
	for(i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(doc, i);
		struct expectation *x;
		const char *type, *file, *reason;

		if(!json_object_is_type(e, json_type_object)) {
			snprintf(manifest_error, sizeof manifest_error, "manifest entry %zu is not an object",
			        i);
			goto out;
		}
		json_object_object_foreach(e, key, val)
		{
			(void)val;
			if(strcmp(key, "type") && strcmp(key, "file") && strcmp(key, "reason") &&
			        strcmp(key, "field") && strcmp(key, "keyword")) {
				snprintf(manifest_error, sizeof manifest_error,
				        "manifest entry %zu: unknown member \"%s\"", i, key);
				goto out;
			}
		}
		type = member_str(e, "type");
		file = member_str(e, "file");
		reason = member_str(e, "reason");
		if(!type || !file || !reason) {
			snprintf(manifest_error, sizeof manifest_error,
			        "manifest entry %zu lacks type, file or reason", i);
			goto out;
		}
		if(n_manifest == MAX_EXAMPLES) {
			snprintf(manifest_error, sizeof manifest_error, "more than %d manifest entries",
			        MAX_EXAMPLES);
			goto out;
		}
		x = &manifest[n_manifest++];
		copy_str(x->type, sizeof x->type, type);
		copy_str(x->rel, sizeof x->rel, file);
		copy_str(x->reason, sizeof x->reason, reason);
		copy_str(x->field, sizeof x->field, member_str(e, "field"));
		copy_str(x->keyword, sizeof x->keyword, member_str(e, "keyword"));
	}
out:
	json_object_put(doc);
}

static const struct expectation *find_expectation(const char *rel)
{
	size_t i;

	for(i = 0; i < n_manifest; i++)
		if(strcmp(manifest[i].rel, rel) == 0)
			return &manifest[i];
	return NULL;
}

/* Reads a whole file; the caller frees *buf. Returns 0 or -1. */
static int read_file(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *b = NULL;
	size_t cap = 0, n = 0;

	*buf = NULL;
	*len = 0;
	if(!f)
		return -1;
	for(;;) {
		size_t got;

		if(n == cap) {
			char *nb;

			cap = cap ? cap * 2 : 4096;
			nb = realloc(b, cap);
			if(!nb) {
				free(b);
				fclose(f);
				return -1;
			}
			b = nb;
		}
		got = fread(b + n, 1, cap - n, f);
		n += got;
		if(got == 0)
			break;
	}
	if(ferror(f)) {
		free(b);
		fclose(f);
		return -1;
	}
	fclose(f);
	*buf = b;
	*len = n;
	return 0;
}

/* True for types checked by jw_event_check, false for broker documents. */
static int is_event_type(const char *type)
{
	return strcmp(type, "state") != 0 && strchr(type, '/') == NULL;
}

static void load_set(void)
{
	set_error[0] = '\0';
	if(jw_schemaset_load_dir(JW_SCHEMAS_DIR, &set, set_error, sizeof set_error) != 0)
		set = NULL;
}

static void free_set(void)
{
	jw_schemaset_free(set);
	set = NULL;
}

/* Runs payload through jw_event_check as published on the test topic. */
static void check_event(const char *type, const char *payload, size_t len, struct outcome *o)
{
	struct jw_event_limits limits = {JW_DEFAULT_MAX_PAYLOAD, JW_DEFAULT_MAX_DEPTH};
	char topic[256];
	struct jw_topic t;
	struct jw_verdict v;
	struct jw_jdoc doc;

	memset(o, 0, sizeof *o);
	memset(&v, 0, sizeof v);
	memset(&t, 0, sizeof t);
	snprintf(topic, sizeof topic, "%s/%s/%s/%s", TEST_PREFIX, TEST_SESSION, TEST_JOB, type);
	ck_assert_msg(jw_topic_parse(TEST_PREFIX, topic, &t) == JW_TOPIC_JOB, "%s: not a job topic: %s",
	        topic, t.why);
	jw_jdoc_init(&doc);
	if(jw_event_check_doc(set, &t, payload, len, &limits, &doc, &v) == 0) {
		ck_assert_msg(doc.root != NULL, "%s: accepted without an object", topic);
		jw_jdoc_free(&doc);
		return;
	}
	ck_assert_msg(doc.root == NULL, "%s: rejected but an object was returned", topic);
	jw_jdoc_free(&doc);
	ck_assert_msg(v.reason != JW_REASON_NONE, "%s: rejected with reason none", topic);
	copy_str(o->reason, sizeof o->reason, jw_reason_name(v.reason));
	copy_str(o->field, sizeof o->field, v.field);
	copy_str(o->keyword, sizeof o->keyword, v.keyword);
	copy_str(o->message, sizeof o->message, v.message);
}

/* Validates payload against JW_SCHEMAS_DIR/<type>.json directly. */
static void check_document(const char *type, const char *payload, size_t len, struct outcome *o)
{
	char path[PATH_LEN];
	char err[512];
	struct json_object *doc = NULL, *inst = NULL;
	struct jw_json_error jerr;
	struct jw_schema *s = NULL;
	struct jw_schema_error serr;
	int rc;

	memset(o, 0, sizeof *o);
	snprintf(path, sizeof path, "%s/%s.json", JW_SCHEMAS_DIR, type);
	ck_assert_msg(jw_json_parse_file(path, JW_DEFAULT_MAX_DEPTH, &doc, &jerr) == 0, "%s: %s", path,
	        jerr.message);
	err[0] = '\0';
	rc = jw_schema_compile(doc, path, &s, err, sizeof err);
	json_object_put(doc);
	ck_assert_msg(rc == 0, "%s does not compile: %s", path, err);

	if(jw_json_parse(payload, len, JW_DEFAULT_MAX_DEPTH, &inst, &jerr) != 0) {
		copy_str(o->reason, sizeof o->reason, jw_reason_name(jerr.reason));
		copy_str(o->message, sizeof o->message, jerr.message);
		jw_schema_free(s);
		return;
	}
	memset(&serr, 0, sizeof serr);
	rc = jw_schema_validate(s, inst, &serr);
	json_object_put(inst);
	jw_schema_free(s);
	ck_assert_msg(rc >= 0, "%s: validator out of memory", path);
	if(rc == 1)
		return;
	copy_str(o->reason, sizeof o->reason, jw_reason_name(JW_REASON_SCHEMA_VIOLATION));
	copy_str(o->field, sizeof o->field, serr.pointer);
	copy_str(o->keyword, sizeof o->keyword, serr.keyword);
	copy_str(o->message, sizeof o->message, serr.message);
}

static void run_example(const char *type, const char *rel, struct outcome *o)
{
	char path[PATH_LEN];
	char *buf;
	size_t len;

	snprintf(path, sizeof path, "%s/%s", EXAMPLES_DIR, rel);
	ck_assert_msg(read_file(path, &buf, &len) == 0, "%s: %s", path, strerror(errno));
	if(is_event_type(type))
		check_event(type, buf, len, o);
	else
		check_document(type, buf, len, o);
	free(buf);
}

/* ---- the schema directory ---- */

START_TEST(test_schemas_load)
{
	size_t i;

	ck_assert_msg(set != NULL, "jw_schemaset_load_dir(%s): %s", JW_SCHEMAS_DIR, set_error);
	for(i = 0; i < sizeof contract_types / sizeof contract_types[0]; i++)
		ck_assert_msg(jw_schemaset_find(set, contract_types[i]) != NULL,
		        "no schema for event type %s", contract_types[i]);
	/* Subdirectories are not event types. */
	ck_assert_ptr_null(jw_schemaset_find(set, "rejection"));
	ck_assert_ptr_null(jw_schemaset_find(set, "notices"));
	ck_assert_ptr_null(jw_schemaset_find(set, "examples"));
}
END_TEST

/* Every schema file declares its dialect and documents itself. */
START_TEST(test_schemas_annotated)
{
	static const char *const docs[] = {
	        "started",
	        "progress",
	        "complete",
	        "failed",
	        "validation-required",
	        "heartbeat",
	        "control",
	        "state",
	        "notices/rejection",
	};
	size_t i;

	for(i = 0; i < sizeof docs / sizeof docs[0]; i++) {
		char path[PATH_LEN];
		struct json_object *doc = NULL;
		struct jw_json_error jerr;
		const char *dialect, *title, *desc;

		snprintf(path, sizeof path, "%s/%s.json", JW_SCHEMAS_DIR, docs[i]);
		ck_assert_msg(jw_json_parse_file(path, JW_DEFAULT_MAX_DEPTH, &doc, &jerr) == 0, "%s: %s",
		        path, jerr.message);
		dialect = member_str(doc, "$schema");
		title = member_str(doc, "title");
		desc = member_str(doc, "description");
		ck_assert_msg(
		        dialect && strcmp(dialect, "https://json-schema.org/draft/2020-12/schema") == 0,
		        "%s: $schema is not draft 2020-12", path);
		ck_assert_msg(title && *title, "%s: no title", path);
		ck_assert_msg(desc && *desc, "%s: no description", path);
		json_object_put(doc);
	}
}
END_TEST

/* Every reason the broker can send is in the notice schema's enum, and
 * the enum names nothing else: a notice is always valid against it. */
START_TEST(test_rejection_reasons_match_enum)
{
	char path[PATH_LEN];
	struct json_object *doc = NULL, *props, *reason, *en;
	struct jw_json_error jerr;
	int r;
	size_t i, n;

	snprintf(path, sizeof path, "%s/notices/rejection.json", JW_SCHEMAS_DIR);
	ck_assert_msg(jw_json_parse_file(path, JW_DEFAULT_MAX_DEPTH, &doc, &jerr) == 0, "%s: %s", path,
	        jerr.message);
	ck_assert(json_object_object_get_ex(doc, "properties", &props));
	ck_assert(json_object_object_get_ex(props, "reason", &reason));
	ck_assert(json_object_object_get_ex(reason, "enum", &en));
	n = json_object_array_length(en);
	for(r = JW_REASON_NONE + 1; r < JW_REASON__COUNT; r++) {
		const char *name = jw_reason_name((enum jw_reason)r);
		bool found = false;

		for(i = 0; i < n && !found; i++)
			found = strcmp(json_object_get_string(json_object_array_get_idx(en, i)), name) == 0;
		ck_assert_msg(found, "reason %s is missing from %s", name, path);
	}
	ck_assert_msg(n == (size_t)(JW_REASON__COUNT - 1), "%s lists %zu reasons, the broker has %d",
	        path, n, JW_REASON__COUNT - 1);
	json_object_put(doc);
}
END_TEST

/* ---- the manifest ---- */

START_TEST(test_manifest_loads)
{
	ck_assert_msg(manifest_error[0] == '\0', "%s", manifest_error);
	ck_assert_msg(n_manifest > 0, "manifest is empty");
}
END_TEST

START_TEST(test_manifest_entries_well_formed)
{
	size_t i, j;

	ck_assert_msg(manifest_error[0] == '\0', "%s", manifest_error);
	for(i = 0; i < n_manifest; i++) {
		const struct expectation *x = &manifest[i];
		char prefix[160];
		char path[PATH_LEN];
		int known_reason = 0;
		int r;

		snprintf(prefix, sizeof prefix, "%s/invalid/", x->type);
		ck_assert_msg(strncmp(x->rel, prefix, strlen(prefix)) == 0, "manifest: %s is not under %s",
		        x->rel, prefix);
		snprintf(path, sizeof path, "%s/%s", EXAMPLES_DIR, x->rel);
		ck_assert_msg(access(path, R_OK) == 0, "manifest names %s, which does not exist", x->rel);
		for(r = JW_REASON_NONE + 1; r < JW_REASON__COUNT; r++)
			if(strcmp(x->reason, jw_reason_name((enum jw_reason)r)) == 0)
				known_reason = 1;
		ck_assert_msg(known_reason, "manifest: %s: unknown reason \"%s\"", x->rel, x->reason);
		/* Schema and rule violations name the keyword (or rule). */
		ck_assert_msg((strcmp(x->reason, "schema_violation") != 0 &&
		                      strcmp(x->reason, "rule_violation") != 0) ||
		                      x->keyword[0] != '\0',
		        "manifest: %s: %s without keyword", x->rel, x->reason);
		ck_assert_msg(strcmp(x->reason, "schema_violation") == 0 ||
		                      strcmp(x->reason, "rule_violation") == 0 || x->keyword[0] == '\0',
		        "manifest: %s: keyword given for %s", x->rel, x->reason);
		for(j = i + 1; j < n_manifest; j++)
			ck_assert_msg(strcmp(x->rel, manifest[j].rel) != 0, "manifest lists %s twice", x->rel);
	}
}
END_TEST

START_TEST(test_every_invalid_example_in_manifest)
{
	size_t i;

	ck_assert_msg(manifest_error[0] == '\0', "%s", manifest_error);
	ck_assert_msg(n_invalid > 0, "no invalid examples found");
	for(i = 0; i < n_invalid; i++)
		ck_assert_msg(find_expectation(invalid_examples[i].rel) != NULL,
		        "%s is not in manifest.json", invalid_examples[i].rel);
}
END_TEST

/* Every contract type shows at least two accepted and one refused payload. */
START_TEST(test_every_type_has_examples)
{
	size_t i, j;

	for(i = 0; i < sizeof contract_types / sizeof contract_types[0]; i++) {
		size_t nv = 0, ni = 0;

		for(j = 0; j < n_valid; j++)
			nv += strcmp(valid_examples[j].type, contract_types[i]) == 0;
		for(j = 0; j < n_invalid; j++)
			ni += strcmp(invalid_examples[j].type, contract_types[i]) == 0;
		ck_assert_msg(nv >= 2, "%s: %zu valid examples", contract_types[i], nv);
		ck_assert_msg(ni >= 1, "%s: no invalid example", contract_types[i]);
	}
}
END_TEST

/* ---- the examples ---- */

START_TEST(test_valid_example)
{
	const struct example *e = &valid_examples[_i];
	struct outcome o;

	ck_assert_msg(set != NULL, "schemas do not load: %s", set_error);
	run_example(e->type, e->rel, &o);
	ck_assert_msg(o.reason[0] == '\0', "%s rejected: %s (%s %s): %s", e->rel, o.reason, o.field,
	        o.keyword, o.message);
}
END_TEST

/*
 * The broker inserts ts (and may insert seq) into an accepted event that
 * lacks it; the result must still satisfy the same schema.
 */
START_TEST(test_valid_example_with_broker_fields)
{
	static const char ts[] = "\"2026-11-22T02:40:00.123Z\"";
	const struct example *e = &valid_examples[_i];
	char path[PATH_LEN];
	char *buf, *with_ts = NULL, *with_seq = NULL;
	size_t len, len_ts, len_seq;
	struct json_object *obj = NULL, *v;
	struct jw_json_error jerr;
	struct outcome o;

	if(!is_event_type(e->type))
		return;
	ck_assert_msg(set != NULL, "schemas do not load: %s", set_error);
	snprintf(path, sizeof path, "%s/%s", EXAMPLES_DIR, e->rel);
	ck_assert_msg(read_file(path, &buf, &len) == 0, "%s: %s", path, strerror(errno));
	ck_assert_msg(jw_json_parse(buf, len, JW_DEFAULT_MAX_DEPTH, &obj, &jerr) == 0, "%s: %s", e->rel,
	        jerr.message);
	if(json_object_object_get_ex(obj, "ts", &v) || json_object_object_get_ex(obj, "seq", &v)) {
		json_object_put(obj);
		free(buf);
		return;
	}
	json_object_put(obj);

	with_ts = jw_event_splice_member(buf, len, "ts", ts, malloc, &len_ts);
	ck_assert_msg(with_ts != NULL, "%s: splicing ts failed", e->rel);
	check_event(e->type, with_ts, len_ts, &o);
	ck_assert_msg(o.reason[0] == '\0', "%s with ts rejected: %s (%s %s): %s", e->rel, o.reason,
	        o.field, o.keyword, o.message);

	with_seq = jw_event_splice_member(with_ts, len_ts, "seq", "17", malloc, &len_seq);
	ck_assert_msg(with_seq != NULL, "%s: splicing seq failed", e->rel);
	check_event(e->type, with_seq, len_seq, &o);
	ck_assert_msg(o.reason[0] == '\0', "%s with ts and seq rejected: %s (%s %s): %s", e->rel,
	        o.reason, o.field, o.keyword, o.message);

	free(with_seq);
	free(with_ts);
	free(buf);
}
END_TEST

START_TEST(test_invalid_example)
{
	const struct expectation *x = &manifest[_i];
	struct outcome o;

	ck_assert_msg(set != NULL, "schemas do not load: %s", set_error);
	run_example(x->type, x->rel, &o);
	ck_assert_msg(o.reason[0] != '\0', "%s accepted, expected %s", x->rel, x->reason);
	ck_assert_msg(strcmp(o.reason, x->reason) == 0, "%s: reason %s, expected %s (%s)", x->rel,
	        o.reason, x->reason, o.message);
	ck_assert_msg(strcmp(o.field, x->field) == 0, "%s: field \"%s\", expected \"%s\" (%s)", x->rel,
	        o.field, x->field, o.message);
	ck_assert_msg(strcmp(o.keyword, x->keyword) == 0, "%s: keyword \"%s\", expected \"%s\" (%s)",
	        x->rel, o.keyword, x->keyword, o.message);
	ck_assert_msg(o.message[0] != '\0', "%s: rejected without a message", x->rel);
}
END_TEST

static Suite *schema_examples_suite(void)
{
	Suite *s = suite_create("schema_examples");
	TCase *tc;

	tc = tcase_create("schemas");
	tcase_add_unchecked_fixture(tc, load_set, free_set);
	tcase_add_test(tc, test_schemas_load);
	tcase_add_test(tc, test_schemas_annotated);
	tcase_add_test(tc, test_rejection_reasons_match_enum);
	suite_add_tcase(s, tc);

	tc = tcase_create("manifest");
	tcase_add_test(tc, test_manifest_loads);
	tcase_add_test(tc, test_manifest_entries_well_formed);
	tcase_add_test(tc, test_every_invalid_example_in_manifest);
	tcase_add_test(tc, test_every_type_has_examples);
	suite_add_tcase(s, tc);

	tc = tcase_create("valid");
	tcase_add_unchecked_fixture(tc, load_set, free_set);
	tcase_add_loop_test(tc, test_valid_example, 0, (int)n_valid);
	tcase_add_loop_test(tc, test_valid_example_with_broker_fields, 0, (int)n_valid);
	suite_add_tcase(s, tc);

	tc = tcase_create("invalid");
	tcase_add_unchecked_fixture(tc, load_set, free_set);
	tcase_add_loop_test(tc, test_invalid_example, 0, (int)n_manifest);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr;
	int failed;

	if(collect("") != 0) {
		fprintf(stderr, "cannot list %s\n", EXAMPLES_DIR);
		return EXIT_FAILURE;
	}
	qsort(valid_examples, n_valid, sizeof valid_examples[0], cmp_example);
	qsort(invalid_examples, n_invalid, sizeof invalid_examples[0], cmp_example);
	load_manifest();

	sr = srunner_create(schema_examples_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
