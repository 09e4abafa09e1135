/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire validate: offline check of event payloads with the same code and
 * schemas as the broker, with errors located by line and column (syntax)
 * or JSON pointer (schema).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cli.h"
#include "event.h"
#include "json.h"
#include "reason.h"
#include "schema.h"
#include "schemaset.h"
#include "topic.h"

static const char help[] =
        "usage: jobwire validate [TYPE] FILE... | -\n"
        "       jobwire validate --schema SCHEMA INSTANCE... | -\n"
        "\n"
        "Checks each FILE (or stdin, -) as an event of TYPE, exactly as the broker\n"
        "would, and prints one line per file: \"FILE: ok (TYPE)\" or\n"
        "\"FILE:LINE:COL: reason: message\" for a syntax error and\n"
        "\"FILE: reason: message (field /x, keyword k)\" for a schema error.\n"
        "Without TYPE the payload's \"type\" member names it.\n"
        "With --schema each INSTANCE is any JSON document checked against the\n"
        "schema file SCHEMA alone (no event rules): \"FILE: ok\" or\n"
        "\"FILE: schema_violation: message (field /x, keyword k)\".\n"
        "\n"
        "      --schema F    check against the schema file F instead of an event type\n"
        "  -s, --session S   session the payload is checked against [its session_id, else s]\n"
        "  -j, --job J       job [its job_id, else j]\n"
        "      --schemas DIR [JOBWIRE_SCHEMAS, else the installed schemas]\n"
        "  -q, --quiet       print only problems\n"
        "\n"
        "Exit status: 0 all valid, 1 some invalid, 64 bad arguments or unreadable file.\n";

enum { O_SESSION = 1, O_JOB, O_SCHEMAS, O_SCHEMA, O_QUIET, O_HELP };

static const struct jw_opt opts[] = {
        {"session", 's', 1, O_SESSION},
        {"job", 'j', 1, O_JOB},
        {"schemas", 0, 1, O_SCHEMAS},
        {"schema", 0, 1, O_SCHEMA},
        {"quiet", 'q', 0, O_QUIET},
        {"help", 0, 0, O_HELP},
        {NULL, 0, 0, 0},
};

static void line_col(const char *buf, size_t off, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for(size_t i = 0; i < off && buf[i]; i++) {
		if(buf[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if(((unsigned char)buf[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

static const char *member_str(struct json_object *o, const char *k)
{
	struct json_object *v;
	if(o && json_object_is_type(o, json_type_object) && json_object_object_get_ex(o, k, &v) &&
	        json_object_is_type(v, json_type_string)) {
		return json_object_get_string(v);
	}
	return NULL;
}

/* The topic the payload is checked against: TYPE or its "type" member,
 * and the given ids, else its own when valid, else s and j. 0, or 1 after
 * printing why there is no such topic. */
static int event_topic(struct json_object *o, const char *name, const char *type,
        const char *session, const char *job, struct jw_topic *tp, const char **t)
{
	char topic[512];
	*t = type ? type : member_str(o, "type");
	if(!*t) {
		printf("%s: cannot tell the event type: give TYPE or a \"type\" member\n", name);
		return 1;
	}
	const char *s = session ? session : member_str(o, "session_id");
	const char *j = job ? job : member_str(o, "job_id");
	if(!s || !jw_topic_id_valid(s)) {
		s = "s";
	}
	if(!j || !jw_topic_id_valid(j)) {
		j = "j";
	}
	if(jw_topic_format(topic, sizeof(topic), "jobs", s, j, *t) < 0 ||
	        jw_topic_parse("jobs", topic, tp) != JW_TOPIC_JOB) {
		printf("%s: \"%.64s\" is not an event type name\n", name, *t);
		return 1;
	}
	return 0;
}

/* Checks buf[0..len) as the broker would and prints the result line.
 * Returns 0 valid, 1 invalid. */
static int check_payload(const struct jw_schemaset *set, const char *name, const char *buf,
        size_t len, const char *type, const char *session, const char *job, int quiet)
{
	struct json_object *o = NULL;
	struct jw_json_error je;
	struct jw_topic tp;
	const char *t;
	int rc = 1;
	/* The broker checks the size before the syntax: so do we. */
	if(len > JW_DEFAULT_MAX_PAYLOAD) {
		printf("%s: payload_too_large: payload is %zu bytes, limit %u\n", name, len,
		        JW_DEFAULT_MAX_PAYLOAD);
		return 1;
	}
	if(len > 0 && jw_json_parse(buf, len, JW_DEFAULT_MAX_DEPTH, &o, &je)) {
		size_t l, c;
		line_col(buf, je.offset, &l, &c);
		printf("%s:%zu:%zu: %s: %s\n", name, l, c, jw_reason_name(je.reason), je.message);
		return 1;
	}
	if(event_topic(o, name, type, session, job, &tp, &t)) {
		goto out;
	}
	struct jw_verdict v;
	struct jw_event_limits lim = {JW_DEFAULT_MAX_PAYLOAD, JW_DEFAULT_MAX_DEPTH};
	if(jw_event_check(set, &tp, buf, len, &lim, &v)) {
		printf("%s: %s: %s", name, jw_reason_name(v.reason), v.message);
		jw_cli_print_where(stdout, &v);
		putchar('\n');
		goto out;
	}
	if(!quiet) {
		printf("%s: ok (%s)\n", name, t);
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

/* Returns 0 valid, 1 invalid, -1 unreadable. */
static int check_file(const struct jw_schemaset *set, const char *path, const char *type,
        const char *session, const char *job, int quiet)
{
	char err[400];
	char *buf = NULL;
	size_t len = 0;
	if(jw_read_all(path, 16u << 20, &buf, &len, err, sizeof(err))) {
		fprintf(stderr, "jobwire validate: %s\n", err);
		return -1;
	}
	int rc = check_payload(
	        set, strcmp(path, "-") ? path : "<stdin>", buf, len, type, session, job, quiet);
	free(buf);
	return rc;
}

/* Reads and parses path, printing a located syntax error. Returns 0 with
 * *o (NULL for an empty document), 1 invalid, -1 unreadable. */
static int read_json(const char *path, const char *name, struct json_object **o)
{
	char err[400];
	char *buf = NULL;
	size_t len = 0;
	struct jw_json_error je;

	*o = NULL;
	if(jw_read_all(path, 16u << 20, &buf, &len, err, sizeof(err))) {
		fprintf(stderr, "jobwire validate: %s\n", err);
		return -1;
	}
	int rc = 0;
	if(jw_json_parse(buf, len, JW_DEFAULT_MAX_DEPTH, o, &je)) {
		size_t l, c;
		line_col(buf, je.offset, &l, &c);
		printf("%s:%zu:%zu: %s: %s\n", name, l, c, jw_reason_name(je.reason), je.message);
		rc = 1;
	}
	free(buf);
	return rc;
}

/* --schema: one instance against one compiled schema. Returns 0 valid,
 * 1 invalid, -1 unreadable. */
static int check_instance(const struct jw_schema *schema, const char *path, int quiet)
{
	const char *name = strcmp(path, "-") ? path : "<stdin>";
	struct json_object *o = NULL;
	int rc = read_json(path, name, &o);
	if(rc != 0) {
		return rc;
	}
	struct jw_schema_error e;
	int r = jw_schema_validate(schema, o, &e);
	json_object_put(o);
	if(r < 0) {
		fprintf(stderr, "jobwire validate: %s: out of memory\n", name);
		return -1;
	}
	if(r == 0) {
		printf("%s: %s: %s (field %s, keyword %s)\n", name,
		        jw_reason_name(JW_REASON_SCHEMA_VIOLATION), e.message,
		        e.pointer[0] ? e.pointer : "/", e.keyword);
		return 1;
	}
	if(!quiet) {
		printf("%s: ok\n", name);
	}
	return 0;
}

static int validate_against(
        const char *cmd, const char *schema_file, char **files, int nfiles, int quiet)
{
	char err[600];
	struct jw_schema *schema = NULL;

	if(nfiles == 0) {
		jw_errorf(cmd, "no INSTANCE given (use - for stdin; see --help)");
		return JW_EXIT_USAGE;
	}
	if(jw_schema_load_file(schema_file, &schema, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	int bad = 0, unreadable = 0;
	for(int i = 0; i < nfiles; i++) {
		int r = check_instance(schema, files[i], quiet);
		if(r > 0) {
			bad++;
		} else if(r < 0) {
			unreadable++;
		}
	}
	jw_schema_free(schema);
	return unreadable ? JW_EXIT_USAGE : bad ? JW_EXIT_FAILED : JW_EXIT_OK;
}

struct validate_opts {
	const char *session, *job, *schemas, *schema_file;
	int quiet;
	char **files; /* the positional arguments: [TYPE] FILE... */
	int nfiles;
};

/* Returns -1 to go on, else the exit status (after --help or a bad
 * option). */
static int parse_options(int argc, char **argv, struct validate_opts *o)
{
	const char *cmd = "validate";
	struct jw_args a;
	int id;
	jw_args_init(&a, argc, argv);
	while((id = jw_cli_next(cmd, &a, opts, NULL, JW_CLI_POSITIONAL)) != JW_ARGS_END) {
		switch(id) {
			case JW_ARGS_ERROR:
				return JW_EXIT_USAGE;
			case JW_ARGS_DASHDASH:
				break;
			case JW_ARGS_POSITIONAL:
				o->files[o->nfiles++] = (char *)a.value;
				break;
			case O_SESSION:
				o->session = a.value;
				break;
			case O_JOB:
				o->job = a.value;
				break;
			case O_SCHEMAS:
				o->schemas = a.value;
				break;
			case O_SCHEMA:
				o->schema_file = a.value;
				break;
			case O_QUIET:
				o->quiet = 1;
				break;
			case O_HELP:
				fputs(help, stdout);
				return 0;
			default:
				break;
		}
	}
	return jw_cli_check_ids(cmd, o->session, o->job) ? JW_EXIT_USAGE : -1;
}

/* Checks every file. Returns the exit status. */
static int check_files(const struct jw_schemaset *set, const struct validate_opts *o)
{
	const char *type = NULL;
	int first = 0;
	struct stat st;
	/* The first argument is a TYPE when it names a schema and is not a file. */
	if(o->nfiles >= 1 && jw_schemaset_find(set, o->files[0]) && stat(o->files[0], &st) != 0) {
		type = o->files[0];
		first = 1;
	}
	if(first >= o->nfiles) {
		jw_errorf("validate", "no FILE given (use - for stdin; see --help)");
		return JW_EXIT_USAGE;
	}
	int bad = 0, unreadable = 0;
	for(int i = first; i < o->nfiles; i++) {
		int r = check_file(set, o->files[i], type, o->session, o->job, o->quiet);
		if(r > 0) {
			bad++;
		} else if(r < 0) {
			unreadable++;
		}
	}
	return unreadable ? JW_EXIT_USAGE : bad ? JW_EXIT_FAILED : JW_EXIT_OK;
}

int jw_cmd_validate(int argc, char **argv)
{
	struct validate_opts o = {
	        NULL, NULL, NULL, NULL, 0, calloc((size_t)argc + 1, sizeof(char *)), 0};
	struct jw_schemaset *set = NULL;
	char err[600];
	int rc;
	if(!o.files) {
		return JW_EXIT_SOFTWARE;
	}
	rc = parse_options(argc, argv, &o);
	if(rc < 0 && o.schema_file) {
		if(o.session || o.job || o.schemas) {
			jw_errorf("validate",
			        "--schema checks documents, not events: no --session, --job or --schemas");
			rc = JW_EXIT_USAGE;
		} else {
			rc = validate_against("validate", o.schema_file, o.files, o.nfiles, o.quiet);
		}
	}
	if(rc < 0) {
		if(jw_cli_load_schemas(o.schemas, &set, err, sizeof(err))) {
			jw_errorf("validate", "%s", err);
			rc = JW_EXIT_USAGE;
		} else {
			rc = check_files(set, &o);
		}
	}
	jw_schemaset_free(set);
	free(o.files);
	return rc;
}
