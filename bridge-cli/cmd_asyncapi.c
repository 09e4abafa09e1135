/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * jobwire asyncapi: writes the AsyncAPI 3.0 document of a broker's
 * contract from its schema directory (asyncapi.c builds it). The build
 * runs it over schemas/ and installs the result beside the schemas; an
 * operator who adds an event type runs it again over the broker's
 * plugin_opt_schemas_dir (docs/schemas.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "asyncapi.h"
#include "cli.h"
#include "json.h"
#include "schemaset.h"

static const char help[] =
        "usage: jobwire asyncapi [--schemas DIR] [-o FILE] [--prefix P]\n"
        "                        [--tcp HOST:PORT] [--ws HOST:PORT]\n"
        "\n"
        "Writes the AsyncAPI 3.0 document (JSON) of the broker's topics: one channel\n"
        "per event type of the schema directory with its payload schema, the state\n"
        "and control channels, the rejection, history and stats topics, MQTT bindings (QoS,\n"
        "retain), the TCP and WebSocket servers and the JWT security scheme.\n"
        "\n"
        "      --schemas DIR   the broker's plugin_opt_schemas_dir [JOBWIRE_SCHEMAS,\n"
        "                      else the installed schemas]\n"
        "  -o, --output FILE   write FILE (replaced whole) instead of stdout\n"
        "      --prefix P      topic prefix, plugin_opt_topic_prefix [JOBWIRE_PREFIX, else jobs]\n"
        "      --tcp HOST:PORT the MQTT listener for the servers section [localhost:1883]\n"
        "      --ws HOST:PORT  the WebSocket listener [localhost:9001]\n"
        "\n"
        "Exit status: 0 written, 64 bad arguments or schemas that do not load,\n"
        "70 the file could not be written.\n";

enum { O_SCHEMAS = 1, O_OUTPUT, O_PREFIX, O_TCP, O_WS, O_HELP };

static const struct jw_opt opts[] = {
        {"schemas", 0, 1, O_SCHEMAS},
        {"output", 'o', 1, O_OUTPUT},
        {"prefix", 0, 1, O_PREFIX},
        {"tcp", 0, 1, O_TCP},
        {"ws", 0, 1, O_WS},
        {"help", 0, 0, O_HELP},
        {NULL, 0, 0, 0},
};

/* host:port with a port in 1..65535 and a host without spaces or '/'. */
static int host_port_valid(const char *s)
{
	const char *colon = strrchr(s, ':');
	long port;
	char err[100];

	if(!colon || colon == s || strpbrk(s, " \t/")) {
		return 0;
	}
	return jw_parse_long(colon + 1, 1, 65535, &port, "port", err, sizeof(err)) == 0;
}

/* Writes text to path through a temporary file renamed over it, so a
 * reader never sees half a document. 0 or -1 with err. */
static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
	char tmp[4200];
	FILE *f;
	size_t len = strlen(text);

	if(snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "%.400s: path too long", path);
		return -1;
	}
	if(!(f = fopen(tmp, "w"))) {
		snprintf(err, errlen, "%.400s: %s", tmp, strerror(errno));
		return -1;
	}
	if(fwrite(text, 1, len, f) != len || fputc('\n', f) == EOF || fclose(f) != 0) {
		snprintf(err, errlen, "%.400s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if(rename(tmp, path) != 0) {
		snprintf(err, errlen, "%.400s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int parse_file(const char *path, struct json_object **out, char *err, size_t errlen)
{
	struct jw_json_error je;

	if(jw_json_parse_file(path, 64, out, &je)) {
		snprintf(err, errlen, "%.400s: %s", path, je.message);
		return -1;
	}
	return 0;
}

struct asyncapi_opts {
	const char *schemas, *output, *tcp, *ws;
	char prefix[65];
};

/* Returns -1 to go on, else the exit status (after --help or a bad
 * option). */
static int parse_options(int argc, char **argv, struct asyncapi_opts *o)
{
	const char *cmd = "asyncapi";
	struct jw_args a;
	int id;
	jw_args_init(&a, argc, argv);
	while((id = jw_cli_next(cmd, &a, opts, NULL, 0)) != JW_ARGS_END) {
		switch(id) {
			case JW_ARGS_ERROR:
				return JW_EXIT_USAGE;
			case O_SCHEMAS:
				o->schemas = a.value;
				break;
			case O_OUTPUT:
				o->output = a.value;
				break;
			case O_PREFIX:
				if(!*a.value || strlen(a.value) >= sizeof(o->prefix) || strpbrk(a.value, "/+#")) {
					jw_errorf(cmd,
					        "--prefix must be one topic level of 1-64 characters without / + #");
					return JW_EXIT_USAGE;
				}
				snprintf(o->prefix, sizeof(o->prefix), "%s", a.value);
				break;
			case O_TCP:
				o->tcp = a.value;
				break;
			case O_WS:
				o->ws = a.value;
				break;
			case O_HELP:
				fputs(help, stdout);
				return 0;
			default:
				break;
		}
	}
	if(!host_port_valid(o->tcp) || !host_port_valid(o->ws)) {
		jw_errorf(cmd,
		        "--tcp and --ws take HOST:PORT with a port of 1-65535 (got \"%.60s\", \"%.60s\")",
		        o->tcp, o->ws);
		return JW_EXIT_USAGE;
	}
	return -1;
}

/* The schema files the document is made of. */
struct sources {
	struct jw_schemaset *set;
	const char **types;           /* n, owned by set */
	struct json_object **schemas; /* n */
	size_t n;
	struct json_object *rejection; /* notices/rejection.json, or NULL */
	struct json_object *history;   /* replies/history.json, or NULL */
};

static void sources_cleanup(struct sources *src)
{
	json_object_put(src->rejection);
	json_object_put(src->history);
	for(size_t i = 0; src->schemas && i < src->n; i++) {
		json_object_put(src->schemas[i]);
	}
	free(src->schemas);
	free(src->types);
	jw_schemaset_free(src->set);
}

/* Loads the schema set of dir and reads each schema file as JSON. 0 or
 * an exit status after printing why; src needs sources_cleanup either
 * way. */
static int read_sources(const char *dir, struct sources *src)
{
	const char *cmd = "asyncapi";
	char err[600], path[4200];
	if(jw_cli_load_schemas(dir, &src->set, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	size_t n = jw_schemaset_count(src->set);
	src->n = n;
	src->types = calloc(n ? n : 1, sizeof(*src->types));
	src->schemas = calloc(n ? n : 1, sizeof(*src->schemas));
	if(!src->types || !src->schemas) {
		jw_errorf(cmd, "out of memory");
		return JW_EXIT_SOFTWARE;
	}
	for(size_t i = 0; i < n; i++) {
		src->types[i] = jw_schemaset_type(src->set, i);
		snprintf(path, sizeof(path), "%s/%s.json", dir, src->types[i]);
		if(parse_file(path, &src->schemas[i], err, sizeof(err))) {
			jw_errorf(cmd, "%s", err);
			return JW_EXIT_USAGE;
		}
	}
	snprintf(path, sizeof(path), "%s/notices/rejection.json", dir);
	if(access(path, F_OK) == 0 && parse_file(path, &src->rejection, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "%s/replies/history.json", dir);
	if(access(path, F_OK) == 0 && parse_file(path, &src->history, err, sizeof(err))) {
		jw_errorf(cmd, "%s", err);
		return JW_EXIT_USAGE;
	}
	return 0;
}

/* Writes doc, pretty-printed, to output or stdout. Returns the exit
 * status. */
static int emit(struct json_object *doc, const char *output)
{
	char err[600];
	const char *text = json_object_to_json_string_ext(
	        doc, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	if(!text) {
		jw_errorf("asyncapi", "out of memory");
		return JW_EXIT_SOFTWARE;
	}
	if(output) {
		if(write_file(output, text, err, sizeof(err))) {
			jw_errorf("asyncapi", "cannot write %s", err);
			return JW_EXIT_SOFTWARE;
		}
	} else if(printf("%s\n", text) < 0 || fflush(stdout) != 0) {
		return JW_EXIT_SOFTWARE;
	}
	return JW_EXIT_OK;
}

int jw_cmd_asyncapi(int argc, char **argv)
{
	struct asyncapi_opts o = {NULL, NULL, "localhost:1883", "localhost:9001", "jobs"};
	const char *e = getenv("JOBWIRE_PREFIX");
	struct sources src = {0};
	struct json_object *doc = NULL;
	char err[600];
	int rc;

	if(e && *e) {
		snprintf(o.prefix, sizeof(o.prefix), "%s", e);
	}
	if((rc = parse_options(argc, argv, &o)) >= 0) {
		return rc;
	}
	if((rc = read_sources(jw_cli_schemas_dir(o.schemas), &src)) == 0) {
		const struct jw_asyncapi_opts ao = {JW_CLI_VERSION, o.prefix, o.tcp, o.ws};
		const struct jw_asyncapi_input in = {
		        src.types, src.schemas, src.n, src.rejection, src.history};
		if(jw_asyncapi_build(&ao, &in, &doc, err, sizeof(err))) {
			jw_errorf("asyncapi", "%s", err);
			rc = JW_EXIT_SOFTWARE;
		} else {
			rc = emit(doc, o.output);
		}
	}
	json_object_put(doc);
	sources_cleanup(&src);
	return rc;
}
