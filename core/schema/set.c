/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Loads a directory of "<type>.json" schema files into an immutable,
 * sorted set of compiled schemas. Loading is all or nothing, so a reload
 * with one broken file leaves the running set untouched.
 */
/* realpath (XSI). */
#define _XOPEN_SOURCE 700

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "json.h"
#include "schema.h"
#include "node.h"
#include "schemaset.h"
#include "util/htab.h"

/* Schema files are written by operators, not attackers, but a bound
 * keeps a typo from recursing without limit. */
#define SCHEMA_MAX_DEPTH 64

#define SUFFIX ".json"
#define SUFFIX_LEN (sizeof SUFFIX - 1)

struct entry {
	char type[JW_TYPE_MAX + 1];
	/* The type's length and words (jw_schema__name_words): up to 16
	 * bytes they are the whole name, so a lookup compares them without
	 * a memcmp call. */
	size_t len;
	uint64_t w0, w1;
	struct jw_schema *schema;
	struct jw_schemaset_type info; /* info.schema is schema */
};

struct jw_schemaset {
	struct entry *entries; /* sorted by type */
	size_t n;
	struct jw_htab table; /* the entries by type: every event looks one up */
};

/*
 * The table's hash of a type of len bytes with words w0, w1: the word hash
 * of the "properties" tables (a multiply, no pass over the bytes: every
 * event looks its type up), with its top half, where a multiplicative
 * hash is strongest, turned down to the bits the table's mask takes.
 */
static inline uint64_t type_hash(const char *type, size_t len, uint64_t w0, uint64_t w1)
{
	uint64_t h = jw_schema__name_hash(type, len, w0, w1, false);

	return h >> 32 | h << 32;
}

/* Builds set->table from set->entries. Returns 0 or -1 (no memory). */
static int build_table(struct jw_schemaset *set)
{
	if(jw_htab_init(&set->table, set->n, NULL) != 0)
		return -1;
	for(size_t i = 0; i < set->n; i++) {
		struct entry *e = &set->entries[i];

		e->len = strlen(e->type);
		jw_schema__name_words(e->type, e->len, &e->w0, &e->w1);
		jw_htab_insert(&set->table, type_hash(e->type, e->len, e->w0, e->w1), e);
	}
	return 0;
}

/* The names of the JW_TM_* members, in that order. */
static const char *const member_names[JW_TM_COUNT] = {
        [JW_TM_TYPE] = "type",
        [JW_TM_JOB_ID] = "job_id",
        [JW_TM_SESSION_ID] = "session_id",
        [JW_TM_CURRENT] = "current",
        [JW_TM_TOTAL] = "total",
};

/* Fills e->info from e's type and compiled schema. */
static void type_info(struct entry *e)
{
	struct jw_schemaset_type *t = &e->info;

	t->schema = e->schema;
	t->progress = strcmp(e->type, "progress") == 0;
	t->bind_mask = 0;
	t->by_scan = 1;
	for(int i = 0; i < JW_TM_COUNT; i++) {
		t->prop[i] = jw_schema_root_property(e->schema, member_names[i]);
		if(t->prop[i] < 0) {
			if(i <= JW_TM_SESSION_ID || t->progress)
				t->by_scan = 0;
		} else if(i <= JW_TM_SESSION_ID) {
			t->bind_mask |= (uint64_t)1 << t->prop[i];
		}
	}
}

/* [a-z0-9][a-z0-9_-]{0,63}: safe in topics, file names and SQL text. */
static int valid_type(const char *s, size_t len)
{
	if(len == 0 || len > JW_TYPE_MAX)
		return 0;
	for(size_t i = 0; i < len; i++) {
		char ch = s[i];
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		         (i > 0 && (ch == '_' || ch == '-'));
		if(!ok)
			return 0;
	}
	return 1;
}

static char *join_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + 1 + strlen(name) + 1;
	char *p = malloc(n);
	if(p != NULL)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int by_type(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	return strcmp(x->type, y->type);
}

/*
 * Lists the type names of dir's regular "*.json" files into *out (sorted,
 * schemas not yet loaded). Returns 0 or -1 with err filled.
 */
static int list_types(const char *dir, struct entry **out, size_t *count, char *err, size_t errlen)
{
	struct entry *list = NULL;
	size_t n = 0, cap = 0;
	char *path = NULL;
	DIR *d;
	int rc = -1;

	d = opendir(dir);
	if(d == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for(;;) {
		struct dirent *de;
		struct stat st;

		errno = 0;
		de = readdir(d);
		if(de == NULL) {
			if(errno != 0) {
				snprintf(err, errlen, "%s: %s", dir, strerror(errno));
				goto out;
			}
			break;
		}
		size_t len = strlen(de->d_name);
		if(len < SUFFIX_LEN || strcmp(de->d_name + len - SUFFIX_LEN, SUFFIX) != 0)
			continue;
		free(path);
		path = join_path(dir, de->d_name);
		if(path == NULL) {
			snprintf(err, errlen, "%s: out of memory", dir);
			goto out;
		}
		/* stat, not lstat: deployments often link schema files in
		 * (Kubernetes config maps do). Directories are not loaded. */
		if(stat(path, &st) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		if(!S_ISREG(st.st_mode))
			continue;
		size_t tlen = len - SUFFIX_LEN;
		if(!valid_type(de->d_name, tlen)) {
			snprintf(err, errlen,
			        "%s: invalid event type name \"%.*s\" (must match "
			        "[a-z0-9][a-z0-9_-]{0,63})",
			        path, (int)(tlen > 80 ? 80 : tlen), de->d_name);
			goto out;
		}
		if(n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct entry *p = realloc(list, ncap * sizeof *p);
			if(p == NULL) {
				snprintf(err, errlen, "%s: out of memory", dir);
				goto out;
			}
			list = p;
			cap = ncap;
		}
		memcpy(list[n].type, de->d_name, tlen);
		list[n].type[tlen] = '\0';
		list[n].schema = NULL;
		n++;
	}
	if(n == 0) {
		snprintf(err, errlen, "%s: no schema files (*.json)", dir);
		goto out;
	}
	qsort(list, n, sizeof *list, by_type);
	*out = list;
	*count = n;
	list = NULL;
	rc = 0;
out:
	free(path);
	free(list);
	closedir(d);
	return rc;
}

/* A file name a $ref may open in the schema folder: letters, digits,
 * "_", "-" and ".", not starting with ".", ending in ".json". */
static bool sibling_name(const char *s)
{
	size_t len = strlen(s);

	if(len <= SUFFIX_LEN || len > 255 || s[0] == '.' || strcmp(s + len - SUFFIX_LEN, SUFFIX) != 0)
		return false;
	for(size_t i = 0; i < len; i++) {
		char ch = s[i];
		if(!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		           ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

/*
 * jw_schema_options.load for a schema file: a $ref may name another file
 * of the same folder (file://<folder>/<name>.json), nothing else. The
 * name comes from the schema, so it is checked before it is opened: one
 * plain file name, no path, no escapes.
 */
static int load_sibling(
        void *ctx, const char *uri, struct json_object **doc, char *err, size_t errlen)
{
	const char *dir = ctx;
	size_t dlen = strlen(dir);
	struct jw_json_error jerr;
	struct stat st;

	if(strncmp(uri, "file://", 7) != 0 || strncmp(uri + 7, dir, dlen) != 0 ||
	        uri[7 + dlen] != '/' || !sibling_name(uri + 8 + dlen)) {
		snprintf(err, errlen, "only files of the schema folder (%s/<name>.json) can be referenced",
		        dir);
		return -1;
	}
	char *path = join_path(dir, uri + 8 + dlen);
	if(path == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = -1;
	if(stat(path, &st) < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if(!S_ISREG(st.st_mode))
		snprintf(err, errlen, "%s: not a regular file", path);
	else if(jw_json_parse_file(path, SCHEMA_MAX_DEPTH, doc, &jerr) < 0)
		snprintf(err, errlen, "%s: %s", path, jerr.message);
	else
		rc = 0;
	free(path);
	return rc;
}

int jw_schema_load_file(const char *path, struct jw_schema **out, char *err, size_t errlen)
{
	struct jw_json_error jerr;
	struct json_object *doc = NULL;
	char dir[PATH_MAX];

	*out = NULL;
	if(jw_json_parse_file(path, SCHEMA_MAX_DEPTH, &doc, &jerr) < 0) {
		snprintf(err, errlen, "%s: %s", path, jerr.message);
		return -1;
	}
	/* The document's URI is file://<its folder, resolved>/<its name>, so
	 * that "$ref": "common.json" names the file beside it. */
	const char *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;
	char *folder =
	        slash != NULL ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	char *base = NULL;
	if(folder != NULL && realpath(folder, dir) != NULL) {
		size_t n = strlen(dir) + strlen(name) + 16;
		base = malloc(n);
		if(base != NULL)
			snprintf(base, n, "file://%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name);
	}
	free(folder);
	struct jw_schema_options opts = {0};
	if(base != NULL) {
		opts.base_uri = base;
		opts.load = load_sibling;
		opts.load_ctx = strcmp(dir, "/") == 0 ? "" : dir;
	}
	/* The compiler's messages already start with the path. */
	int rc = jw_schema_compile_opts(doc, path, &opts, out, err, errlen);
	free(base);
	json_object_put(doc);
	return rc;
}

int jw_schemaset_load_dir(const char *dir, struct jw_schemaset **out, char *err, size_t errlen)
{
	struct jw_schemaset *set = NULL;
	char *path = NULL;
	int rc = -1;
	char dummy[1];

	*out = NULL;
	if(err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';

	set = calloc(1, sizeof *set);
	if(set == NULL) {
		snprintf(err, errlen, "%s: out of memory", dir);
		goto out;
	}
	if(list_types(dir, &set->entries, &set->n, err, errlen) < 0)
		goto out;

	for(size_t i = 0; i < set->n; i++) {
		char name[JW_TYPE_MAX + SUFFIX_LEN + 1];

		snprintf(name, sizeof name, "%s%s", set->entries[i].type, SUFFIX);
		free(path);
		path = join_path(dir, name);
		if(path == NULL) {
			snprintf(err, errlen, "%s: out of memory", dir);
			goto out;
		}
		if(jw_schema_load_file(path, &set->entries[i].schema, err, errlen) < 0)
			goto out;
		type_info(&set->entries[i]);
	}
	if(build_table(set) < 0) {
		snprintf(err, errlen, "%s: out of memory", dir);
		goto out;
	}
	*out = set;
	set = NULL;
	rc = 0;
out:
	free(path);
	jw_schemaset_free(set);
	return rc;
}

const struct jw_schemaset_type *jw_schemaset_lookup(
        const struct jw_schemaset *set, const char *type)
{
	uint64_t w0, w1, h;
	size_t len, pos;

	if(set == NULL || type == NULL)
		return NULL;
	len = strlen(type);
	if(len == 0 || len > JW_TYPE_MAX)
		return NULL;
	jw_schema__name_words(type, len, &w0, &w1);
	h = type_hash(type, len, w0, w1);
	for(const struct entry *e = jw_htab_first(&set->table, h, &pos); e;
	        e = jw_htab_next(&set->table, h, &pos)) {
		if(e->len == len && e->w0 == w0 && e->w1 == w1 &&
		        (len <= 16 || memcmp(e->type, type, len) == 0))
			return &e->info;
	}
	return NULL;
}

const struct jw_schema *jw_schemaset_find(const struct jw_schemaset *set, const char *type)
{
	const struct jw_schemaset_type *t = jw_schemaset_lookup(set, type);

	return t != NULL ? t->schema : NULL;
}

size_t jw_schemaset_count(const struct jw_schemaset *set)
{
	return set != NULL ? set->n : 0;
}

const char *jw_schemaset_type(const struct jw_schemaset *set, size_t i)
{
	if(set == NULL || i >= set->n)
		return NULL;
	return set->entries[i].type;
}

void jw_schemaset_free(struct jw_schemaset *set)
{
	if(set == NULL)
		return;
	for(size_t i = 0; i < set->n; i++)
		jw_schema_free(set->entries[i].schema);
	free(set->entries);
	jw_htab_cleanup(&set->table);
	free(set);
}
