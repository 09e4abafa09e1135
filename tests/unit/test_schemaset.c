/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves that a schema directory loads all or nothing: good files become sorted, findable types,
 * and a bad name, a broken file, a bad schema or an empty directory fails the load, naming why. */
#include <check.h>
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "schema.h"
#include "schemaset.h"
#include "util_check.h"

static char tmpdir[64];

static void make_dir(void)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/jw-schemaset-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void write_file(const char *name, const char *content)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(content, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

/* Removes tmpdir and what the tests put in it (files, one level of
 * subdirectories). */
static void remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if(d == NULL)
		return;
	while((de = readdir(d)) != NULL) {
		char path[512];
		struct stat st;
		if(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		if(lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			remove_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static void teardown(void)
{
	remove_tree(tmpdir);
}

/* Loads tmpdir expecting failure; returns the error. */
static const char *load_fails(char *err, size_t errlen)
{
	struct jw_schemaset *set = (struct jw_schemaset *)1;
	ck_assert_int_eq(jw_schemaset_load_dir(tmpdir, &set, err, errlen), -1);
	ck_assert_ptr_null(set);
	ck_assert_msg(err[0] != '\0', "no error text");
	return err;
}

START_TEST(loads_directory)
{
	struct jw_schemaset *set = NULL;
	char err[512];

	make_dir();
	write_file("progress.json",
	        "{\"type\":\"object\",\"properties\":{\"progress\":{\"maximum\":100}}}");
	write_file("started.json", "{\"type\":\"object\"}");
	write_file("validation-required.json", "true");
	write_file("README.md", "not a schema");
	write_file("notes.json.bak", "{");
	char sub[128];
	snprintf(sub, sizeof sub, "%s/examples", tmpdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	write_file("examples/broken.json", "{");
	snprintf(sub, sizeof sub, "%s/dir.json", tmpdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);

	ck_assert_msg(jw_schemaset_load_dir(tmpdir, &set, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(jw_schemaset_count(set), 3);
	ck_assert_str_eq(jw_schemaset_type(set, 0), "progress");
	ck_assert_str_eq(jw_schemaset_type(set, 1), "started");
	ck_assert_str_eq(jw_schemaset_type(set, 2), "validation-required");
	ck_assert_ptr_null(jw_schemaset_type(set, 3));

	const struct jw_schema *s = jw_schemaset_find(set, "progress");
	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(jw_schemaset_find(set, "started"));
	ck_assert_ptr_nonnull(jw_schemaset_find(set, "validation-required"));
	ck_assert_ptr_null(jw_schemaset_find(set, "complete"));
	ck_assert_ptr_null(jw_schemaset_find(set, "examples"));
	ck_assert_ptr_null(jw_schemaset_find(set, ""));

	struct jw_schema_error verr;
	ck_assert_int_eq(jw_schema_validate(s, NULL, &verr), 0);
	ck_assert_str_eq(verr.message, "/: type \"object\", got null");
	jw_schemaset_free(set);
}
END_TEST

START_TEST(refuses_bad_names)
{
	static const char *const bad[] = {
	        "Progress.json",
	        "_x.json",
	        "-x.json",
	        "a.b.json",
	        "a b.json",
	        ".json",
	        ".hidden.json",
	        /* 65 characters, one too many */
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json",
	};
	char err[512], want[256];

	for(size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		make_dir();
		write_file("ok.json", "{}");
		write_file(bad[i], "{}");
		load_fails(err, sizeof err);
		snprintf(want, sizeof want, "%s/%s: invalid event type name \"", tmpdir, bad[i]);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: %s", bad[i], err);
		teardown();
	}

	/* The longest valid name: 64 characters. */
	char longest[80];
	memset(longest, 'a', 64);
	memcpy(longest + 1, "_-", 2);
	memcpy(longest + 64, ".json", 6);
	make_dir();
	write_file(longest, "{}");
	struct jw_schemaset *set = NULL;
	ck_assert_msg(jw_schemaset_load_dir(tmpdir, &set, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(jw_schemaset_count(set), 1);
	jw_schemaset_free(set);
}
END_TEST

START_TEST(refuses_broken_file)
{
	char err[512], want[256];

	make_dir();
	write_file("good.json", "{}");
	write_file("failed.json", "{\"type\": \"object\",}");
	load_fails(err, sizeof err);
	snprintf(want, sizeof want, "%s/failed.json: ", tmpdir);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);

	teardown();
	make_dir();
	/* Duplicate keys are refused by the strict parser. */
	write_file("dup.json", "{\"type\":\"object\",\"type\":\"string\"}");
	load_fails(err, sizeof err);
	snprintf(want, sizeof want, "%s/dup.json: ", tmpdir);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
}
END_TEST

START_TEST(refs_between_files)
{
	char err[512], path[256];
	struct jw_schemaset *set = NULL;

	make_dir();
	write_file("common.json",
	        "{\"$defs\":{\"pct\":{\"type\":\"number\",\"minimum\":0,\"maximum\":100}}}");
	write_file("load.json", "{\"properties\":{\"cpu\":{\"$ref\":\"common.json#/$defs/pct\"}},"
	                        "\"unevaluatedProperties\":false}");
	ck_assert_int_eq(jw_schemaset_load_dir(tmpdir, &set, err, sizeof err), 0);
	const struct jw_schema *s = jw_schemaset_find(set, "load");
	ck_assert_ptr_nonnull(s);
	struct json_object *ok = json_tokener_parse("{\"cpu\":50}");
	struct json_object *bad = json_tokener_parse("{\"cpu\":150}");
	struct jw_schema_error e;
	ck_assert_int_eq(jw_schema_validate(s, ok, &e), 1);
	ck_assert_int_eq(jw_schema_validate(s, bad, &e), 0);
	ck_assert_str_eq(e.message, "/cpu: maximum 100, got 150");
	json_object_put(ok);
	json_object_put(bad);
	jw_schemaset_free(set);

	/* The file names come from the schema: nothing outside the folder,
	 * no paths, no other schemes. */
	static const char *const refs[] = {"../x.json", "/etc/passwd", "sub/x.json",
	        "http://example.com/x.json", "x.txt", ".hidden.json", "a%2Fb.json"};
	for(size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
		char doc[128];
		snprintf(doc, sizeof doc, "{\"$ref\":\"%s\"}", refs[i]);
		write_file("evil.json", doc);
		snprintf(path, sizeof path, "%s/evil.json", tmpdir);
		struct jw_schema *x = NULL;
		ck_assert_int_eq(jw_schema_load_file(path, &x, err, sizeof err), -1);
		ck_assert_msg(
		        strstr(err, "only files of the schema folder") != NULL, "%s: %s", refs[i], err);
	}
	write_file("evil.json", "{\"$ref\":\"gone.json\"}");
	struct jw_schema *x = NULL;
	ck_assert_int_eq(jw_schema_load_file(path, &x, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "gone.json: No such file or directory") != NULL, "%s", err);
}
END_TEST

START_TEST(refuses_bad_schema)
{
	char err[512], want[384];

	make_dir();
	write_file("a.json", "{}");
	write_file("b.json", "{\"properties\":{\"x\":{\"dependencies\":{}}}}");
	write_file("c.json", "{}");
	load_fails(err, sizeof err);
	snprintf(want, sizeof want, "%s/b.json: unsupported keyword \"dependencies\" at /properties/x",
	        tmpdir);
	ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(refuses_empty_dir)
{
	char err[512], want[256];

	make_dir();
	write_file("README.md", "nothing here");
	load_fails(err, sizeof err);
	snprintf(want, sizeof want, "%s: no schema files (*.json)", tmpdir);
	ck_assert_str_eq(err, want);

	teardown();
	snprintf(want, sizeof want, "%s/missing", "/tmp/jw-schemaset-none");
	struct jw_schemaset *set = (struct jw_schemaset *)1;
	ck_assert_int_eq(jw_schemaset_load_dir(want, &set, err, sizeof err), -1);
	ck_assert_ptr_null(set);
	ck_assert_msg(strstr(err, "No such file or directory") != NULL, "%s", err);
}
END_TEST

START_TEST(failure_keeps_nothing)
{
	char err[512];

	/* Many good files before and after the bad one: all of them must be
	 * released (leak checkers run this suite), none handed out. */
	make_dir();
	for(int i = 0; i < 20; i++) {
		char name[32];
		snprintf(name, sizeof name, "t%02d.json", i);
		write_file(name, "{\"properties\":{\"a\":{\"pattern\":\"^x\"}},\"enum\":[{\"a\":\"x\"}]}");
	}
	write_file("t10.json", "{\"$ref\":\"#/nowhere\"}");
	load_fails(err, sizeof err);
	ck_assert_msg(
	        strstr(err, "/t10.json: $ref \"#/nowhere\" does not resolve at /") != NULL, "%s", err);

	/* A NULL error buffer is allowed. */
	struct jw_schemaset *set = (struct jw_schemaset *)1;
	ck_assert_int_eq(jw_schemaset_load_dir(tmpdir, &set, NULL, 0), -1);
	ck_assert_ptr_null(set);

	jw_schemaset_free(NULL);
	ck_assert_uint_eq(jw_schemaset_count(NULL), 0);
	ck_assert_ptr_null(jw_schemaset_find(NULL, "x"));
}
END_TEST

/* The type of each file is its schema's "const": the schema found for a
 * type tells which file it came from. */
static bool finds_type(const struct jw_schemaset *set, const char *type)
{
	const struct jw_schema *s = jw_schemaset_find(set, type);
	struct json_object *inst;

	if(s == NULL)
		return false;
	inst = json_object_new_string(type);
	ck_assert_ptr_nonnull(inst);
	int r = jw_schema_validate(s, inst, NULL);
	json_object_put(inst);
	ck_assert_msg(r == 1, "type %s found another file's schema", type);
	return true;
}

START_TEST(finds_many_types)
{
	/* Every length class of the lookup's name words, and long names that
	 * share their first and last eight bytes. */
	char names[48][JW_TYPE_MAX + 1];
	size_t n = 0;
	static const char *const fixed[] = {
	        "a",
	        "b",
	        "ab",
	        "abc",
	        "abcd",
	        "state",
	        "started",
	        "progress",
	        "progres",
	        "progresss",
	        "validation-required",
	        "validation-requires",
	        "sixteen-bytes-16",
	        "seventeen-bytes17",
	        "x123456789012345678901234567890123456789012345678901234567890123",
	};
	struct jw_schemaset *set = NULL;
	char err[512], file[128], schema[128];

	for(size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		snprintf(names[n++], sizeof names[0], "%s", fixed[i]);
	for(size_t i = 0; i < 30; i++)
		snprintf(names[n++], sizeof names[0], "long-type-%02zu-same-tail", i * 3);
	make_dir();
	for(size_t i = 0; i < n; i++) {
		snprintf(file, sizeof file, "%.64s.json", names[i]);
		snprintf(schema, sizeof schema, "{\"const\":\"%.64s\"}", names[i]);
		write_file(file, schema);
	}
	ck_assert_msg(jw_schemaset_load_dir(tmpdir, &set, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(jw_schemaset_count(set), n);
	for(size_t i = 0; i < n; i++) {
		char key[JW_TYPE_MAX + 2];
		size_t len = strlen(names[i]);

		ck_assert_msg(finds_type(set, names[i]), "%s not found", names[i]);
		/* Near misses: each byte changed, one shorter, one longer; a
		 * miss must be a miss unless it spells another type. */
		for(size_t j = 0; j <= len + 1; j++) {
			snprintf(key, sizeof key, "%.64s", names[i]);
			if(j < len)
				key[j] = (char)(key[j] == 'z' ? 'y' : key[j] + 1);
			else if(j == len)
				key[len - 1] = '\0';
			else
				snprintf(key, sizeof key, "%.64sq", names[i]);
			bool declared = false;
			for(size_t k = 0; k < n; k++)
				declared |= strcmp(names[k], key) == 0;
			ck_assert_msg(finds_type(set, key) == declared, "%s", key);
		}
		snprintf(key, sizeof key, "long-type-%02zu-same-tail", i);
		ck_assert(finds_type(set, key) == (i % 3 == 0 && i < 90));
	}
	ck_assert_ptr_null(jw_schemaset_find(set, ""));
	jw_schemaset_free(set);
}
END_TEST

static Suite *schemaset_suite(void)
{
	Suite *s = suite_create("schemaset");
	struct {
		const char *name;
		const TTest *test;
	} cases[] = {
	        {"loads_directory", loads_directory},
	        {"refuses_bad_names", refuses_bad_names},
	        {"refuses_broken_file", refuses_broken_file},
	        {"refuses_bad_schema", refuses_bad_schema},
	        {"refs_between_files", refs_between_files},
	        {"refuses_empty_dir", refuses_empty_dir},
	        {"failure_keeps_nothing", failure_keeps_nothing},
	        {"finds_many_types", finds_many_types},
	};

	for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_add_checked_fixture(tc, NULL, teardown);
		tcase_add_test(tc, cases[i].test);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	return jw_test_run(schemaset_suite());
}
