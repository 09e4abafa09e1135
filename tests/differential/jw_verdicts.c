/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Reads the differential corpus (JSON lines {"id", "schema", "data"},
 * tests/differential/corpus.js) on stdin and prints "id<TAB>verdict" per
 * line: valid, invalid, or unsupported when jobwire does not compile the
 * schema. Compiled as the conformance test compiles: remotes served from
 * the suite's remotes/ folder as http://localhost:1234/, unknown keywords
 * and format as annotations for the files that need them.
 *
 * Usage: jw_verdicts REMOTES_DIR < corpus.jsonl
 */
#include <stdio.h>
#include <sys/types.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "schema.h"

#define MAX_DEPTH 256
#define REMOTE_PREFIX "http://localhost:1234/"

static int load_remote(
        void *ctx, const char *uri, struct json_object **doc, char *err, size_t errlen)
{
	const char *dir = ctx;
	char path[4096];
	struct jw_json_error jerr;

	if(strncmp(uri, REMOTE_PREFIX, strlen(REMOTE_PREFIX)) != 0 || strstr(uri, "..") != NULL) {
		snprintf(err, errlen, "no such remote: %s", uri);
		return -1;
	}
	snprintf(path, sizeof path, "%s/%s", dir, uri + strlen(REMOTE_PREFIX));
	if(jw_json_parse_file(path, MAX_DEPTH, doc, &jerr) < 0) {
		snprintf(err, errlen, "%s: %s", path, jerr.message);
		return -1;
	}
	return 0;
}

static unsigned flags_for(const char *id)
{
	if(strncmp(id, "format.json#", 12) == 0 ||
	        strncmp(id, "optional/format/unknown.json#", 29) == 0)
		return JW_SCHEMA_FORMAT_ANNOTATION;
	if(strncmp(id, "optional/unknownKeyword.json#", 29) == 0 ||
	        strncmp(id, "optional/refOfUnknownKeyword.json#", 34) == 0)
		return JW_SCHEMA_UNKNOWN_AS_ANNOTATION;
	return 0;
}

int main(int argc, char **argv)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if(argc != 2) {
		fprintf(stderr, "usage: %s REMOTES_DIR < corpus.jsonl\n", argv[0]);
		return 2;
	}
	while((n = getline(&line, &cap, stdin)) > 0) {
		struct json_object *c = NULL, *id, *schema, *data;
		struct jw_json_error jerr;
		struct jw_schema *s = NULL;
		char err[512];

		if(jw_json_parse(line, (size_t)n, MAX_DEPTH, &c, &jerr) < 0 ||
		        !json_object_object_get_ex(c, "id", &id) ||
		        !json_object_object_get_ex(c, "schema", &schema)) {
			fprintf(stderr, "bad corpus line: %s", line);
			return 2;
		}
		json_object_object_get_ex(c, "data", &data);
		const char *name = json_object_get_string(id);
		struct jw_schema_options o = {
		        .flags = flags_for(name), .load = load_remote, .load_ctx = argv[1]};
		const char *verdict = "unsupported";
		if(jw_schema_compile_opts(schema, "corpus", &o, &s, err, sizeof err) == 0) {
			int r = jw_schema_validate(s, data, NULL);
			verdict = r == 1 ? "valid" : r == 0 ? "invalid" : "error";
			jw_schema_free(s);
		}
		printf("%s\t%s\n", name, verdict);
		json_object_put(c);
	}
	free(line);
	return 0;
}
