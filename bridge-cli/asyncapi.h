/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The AsyncAPI 3.0 document of a jobwire broker, built from its schema
 * set: one channel per event type, the state and control channels, the
 * rejection, history request and answer, and stats topics, MQTT bindings, the TCP and WebSocket
 * servers and the JWT security scheme. Pure (json-c only), so the unit
 * tests drive it without files; `jobwire asyncapi` does the I/O.
 */
#ifndef JW_CLI_ASYNCAPI_H
#define JW_CLI_ASYNCAPI_H

#include <stddef.h>

struct json_object;

struct jw_asyncapi_opts {
	const char *version; /* jobwire's version, info.version */
	const char *prefix;  /* topic prefix (plugin_opt_topic_prefix) */
	const char *tcp;     /* host:port of the MQTT listener */
	const char *ws;      /* host:port of the WebSocket listener */
};

/* The schema files: types[i] (sorted, as jw_schemaset_type gives them)
 * with its parsed file schemas[i]; rejection is notices/rejection.json
 * and history replies/history.json (NULL: a generic object). Borrowed: nothing is changed or kept.
 */
struct jw_asyncapi_input {
	const char *const *types;
	struct json_object *const *schemas;
	size_t ntypes;
	struct json_object *rejection;
	struct json_object *history; /* replies/history.json, or NULL */
};

/*
 * Builds the document. Each schema is copied into components/schemas
 * without its $id and $schema, and its local references ("#/$defs/x")
 * are rewritten to point into that copy, so every $ref resolves within
 * the document. Returns 0 with *out (caller owns, json_object_put), or
 * -1 with err (out of memory, a schema that is not an object).
 */
int jw_asyncapi_build(const struct jw_asyncapi_opts *o, const struct jw_asyncapi_input *in,
        struct json_object **out, char *err, size_t errlen);

#endif
