/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The validator's per-call state (validate.c), shared with the keywords
 * kept in files of their own (unevaluated.c). Not public.
 */
#ifndef JW_SCHEMA_VCTX_H
#define JW_SCHEMA_VCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node.h"

/* Most schema resources nested in one dynamic scope. */
#define JW_SCOPE_MAX 64

/* Instance path segments remembered for error pointers; deeper levels
 * still validate, they just cannot all be named (the pointer buffer is
 * 256 bytes anyway). */
#define PATH_SEGS 128

/* How much of a value an error message shows. */
#define VALUE_LIMIT 64

struct seg {
	const char *key; /* NULL for an array index */
	size_t index;
};

/* An error plus the instance depth it was found at, so anyOf/oneOf can
 * pick the alternative that got furthest. */
struct verr {
	size_t depth;
	struct jw_schema_error e;
};

struct vctx {
	const struct jw_schema *s;
	pcre2_match_data *md; /* per call: PCRE2 forbids sharing it */
	struct verr *err;
	bool want;     /* false while only a verdict is needed (not, if, ...) */
	bool in_names; /* validating a property name for propertyNames */
	/* The object whose members validate_object last looked up in a
	 * word-hashed table with a presence mask: that node and the mask,
	 * which answer "is this declared name a member?" for subschemas
	 * applied to the same object (if/then's "required"). */
	const struct jw_jnode *scan_obj;
	const struct jw_schema_node *scan_node;
	uint64_t scan_present;
	/* jw_schema_validate_members: where the root's scan of the instance
	 * (root) leaves its members, else NULL. */
	struct jw_schema_members *members;
	const struct jw_jnode *root;
	size_t depth;
	struct seg path[PATH_SEGS];
	/* The dynamic scope: the resources entered, outermost first (only
	 * schemas with $dynamicRef push; dynamic.c). */
	size_t n_scope;
	uint32_t scope[JW_SCOPE_MAX];
};

/*
 * Records a failure at the current instance location (plus extra, the
 * name of a missing property, when given) and returns 0. Message format:
 * "<pointer>: <detail>", the root pointer "" shown as "/" (errors.c).
 */
__attribute__((format(printf, 4, 5))) int jw_schema__fail(
        struct vctx *c, const char *extra, const char *keyword, const char *fmt, ...);
/* The common shape "<expectation>, got <value>". */
__attribute__((format(printf, 4, 5))) int jw_schema__fail_got(
        struct vctx *c, const char *keyword, const struct jw_jnode *x, const char *fmt, ...);
/* Appends s[0..n) to buf (size bytes, len used), cutting at the end. */
void jw_schema__ptr_put(char *buf, size_t size, size_t *len, const char *s, size_t n);
/* s as a JSON string cut to fit buf. */
const char *jw_schema__quoted(char *buf, size_t size, const char *s);

/* validate() of n on v: 1 valid, 0 invalid (error recorded when c->want),
 * -1 out of memory. */
int jw_schema__sub(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v);
/* Records "<pointer>: <detail>" for keyword at the current location;
 * returns 0. */
int jw_schema__fail_detail(struct vctx *c, const char *keyword, const char *detail);
void jw_schema__push_key(struct vctx *c, const char *key);
void jw_schema__push_index(struct vctx *c, size_t i);
void jw_schema__pop(struct vctx *c);
/* 1 match, 0 no match, -1 out of memory, -2 match limit. */
int jw_schema__regex_search(struct vctx *c, const struct jw_regex *re, const char *s, size_t len);
/* Evaluates n (a JW_G_SCOPE node) with its resource entered in the
 * dynamic scope (dynamic.c). */
int jw_schema__in_scope(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v);
/* The schema n's $dynamicRef names here: the outermost resource of the
 * dynamic scope with a "$dynamicAnchor" of that name when n's static
 * target has one, else the static target. */
const struct jw_schema_node *jw_schema__dynamic_target(
        const struct vctx *c, const struct jw_schema_node *n);
/* Adds to the recorded failure which schema the dynamic scope chose for
 * n's $dynamicRef: " ($dynamicRef "#name" in the dynamic scope:
 * <resource URI>)". */
void jw_schema__dynamic_note(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_schema_node *target);
/* unevaluatedProperties and unevaluatedItems of n on v, once every other
 * keyword of n passed (unevaluated.c). */
int jw_schema__unevaluated(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v);

#endif
