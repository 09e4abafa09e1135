/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The schema compiler's state, shared by the files of the compiler:
 * compile.c (keywords and the entry point), names.c ($id, $anchor,
 * $dynamicAnchor and schema resources) and ref.c ($ref and $dynamicRef
 * resolution, documents fetched by the loader, the cycle check).
 * Compile time only; not public.
 */
#ifndef JW_SCHEMA_CCTX_H
#define JW_SCHEMA_CCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "node.h"
#include "util/buf.h"

/* The only $schema value accepted: the dialect this compiler implements. */
#define DRAFT_2020_12 "https://json-schema.org/draft/2020-12/schema"

/* A $ref seen during the tree walk, resolved once the whole tree exists. */
struct pending_ref {
	struct jw_schema_node *node;
	char *ref;
	char *loc;
	const char *base; /* the base URI it is resolved against (c->uris) */
	bool dynamic;     /* $dynamicRef */
};

/* A schema resource (a document root or a schema object with "$id") or an
 * anchor ("$anchor", "$dynamicAnchor"): its absolute URI ("base#name" for
 * an anchor) and the schema object it names. */
struct named {
	const char *uri; /* in c->uris */
	const struct json_object *src;
	const char *base; /* the base URI inside it */
	bool anchor;
};

/* Most documents one compile loads through jw_schema_options.load. */
#define MAX_LOADED_DOCS 64

struct cctx {
	struct jw_schema *s;
	const char *source;
	char *err;
	size_t errlen;
	bool failed;
	struct jw_buf loc; /* JSON pointer of the schema being compiled */
	struct pending_ref *refs;
	size_t n_refs, cap_refs;
	const struct jw_schema_options *opts;
	const char *base;                   /* base URI in effect where compilation is (c->uris) */
	uint32_t cur_res;                   /* the resource being compiled (s->resources) */
	const char *ref_kw;                 /* "$ref" or "$dynamicRef", for messages */
	const struct json_object *doc_root; /* root of the document being compiled */
	struct named *names;
	size_t n_names, cap_names;
	char **uris; /* every URI string above, owned */
	size_t n_uris, cap_uris;
	struct json_object *loaded[MAX_LOADED_DOCS]; /* owned */
	size_t n_loaded;
};

struct keyword {
	const char *name;
	int (*compile)(
	        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v);
};

/* Records "<source>: <what> at <location>" (the first error only) and
 * returns -1. */
__attribute__((format(printf, 2, 3))) int jw_schema__cerr(struct cctx *c, const char *fmt, ...);
/* cerr for out of memory; returns -1. */
int jw_schema__oom(struct cctx *c);
/* Sets the schema location messages name; 0 or -1 (no memory). */
int jw_schema__loc_set(struct cctx *c, const char *loc);
/* s as a JSON string cut to fit buf, for messages. */
const char *jw_schema__quote(char *buf, size_t size, const char *s);
bool jw_schema__is_type(const struct json_object *v, enum json_type t);
/* Compiles one schema object or boolean into a node (compile.c). */
struct jw_schema_node *jw_schema__compile_schema(struct cctx *c, const struct json_object *obj);

/* names.c */
const char *jw_schema__keep_uri(struct cctx *c, char *uri);
const struct named *jw_schema__find_name(const struct cctx *c, const char *uri);
int jw_schema__add_name(struct cctx *c, const char *uri, const struct json_object *src,
        const char *base, bool anchor);
int jw_schema__new_resource(struct cctx *c);
int jw_schema__scope_enter(struct cctx *c, const struct json_object *obj, struct jw_schema_node *n);

/* ref.c */
int jw_schema__resolve_refs(struct cctx *c);
void jw_schema__mark_scoped(struct jw_schema *s);
int jw_schema__check_cycles(struct cctx *c, struct jw_schema_node *n);

#endif
