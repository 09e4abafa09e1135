/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Internal model shared by the schema compiler (compile.c), the validator
 * (validate.c) and their helpers (value.c, format.c).
 * Not installed and not part of the public API: only core/schema/ (the
 * schema set borrows the name hashing) and the schema unit tests include it.
 */
#ifndef JW_SCHEMA_INTERNAL_H
#define JW_SCHEMA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "jdoc.h"
#include "schema.h"
#include "util/hash.h"

struct json_object;
struct jw_jdoc;
struct jw_jnode;

/* Bits of the "type" keyword. "integer" is kept apart from "number"
 * because an integral double (1.0, 1e52) is an integer too. */
enum {
	JW_T_NULL = 1u << 0,
	JW_T_BOOLEAN = 1u << 1,
	JW_T_OBJECT = 1u << 2,
	JW_T_ARRAY = 1u << 3,
	JW_T_NUMBER = 1u << 4,
	JW_T_STRING = 1u << 5,
	JW_T_INTEGER = 1u << 6,
};

/* Which keywords a node carries; absent ones cost one bit test. */
enum {
	JW_HAS_TYPE = 1u << 0,
	JW_HAS_CONST = 1u << 1,
	JW_HAS_ENUM = 1u << 2,
	JW_HAS_MINIMUM = 1u << 3,
	JW_HAS_MAXIMUM = 1u << 4,
	JW_HAS_EX_MINIMUM = 1u << 5,
	JW_HAS_EX_MAXIMUM = 1u << 6,
	JW_HAS_MULTIPLE_OF = 1u << 7,
	JW_HAS_MIN_LENGTH = 1u << 8,
	JW_HAS_MAX_LENGTH = 1u << 9,
	JW_HAS_PATTERN = 1u << 10,
	JW_HAS_FORMAT = 1u << 11,
	JW_HAS_MIN_ITEMS = 1u << 12,
	JW_HAS_MAX_ITEMS = 1u << 13,
	JW_HAS_UNIQUE = 1u << 14,
	JW_HAS_MIN_CONTAINS = 1u << 15,
	JW_HAS_MAX_CONTAINS = 1u << 16,
	JW_HAS_MIN_PROPS = 1u << 17,
	JW_HAS_MAX_PROPS = 1u << 18,
};

/* Which groups of keywords a node carries, derived once compilation is
 * done (jw_schema__finish), so validation skips a whole absent group with
 * one test. */
enum {
	JW_G_VALUE = 1u << 0,  /* const, enum */
	JW_G_NUMBER = 1u << 1, /* minimum ... multipleOf */
	JW_G_STRING = 1u << 2, /* minLength, maxLength, pattern, format */
	JW_G_ARRAY = 1u << 3,  /* every array keyword */
	JW_G_OBJECT = 1u << 4, /* every object keyword */
	JW_G_APPLY = 1u << 5,  /* $ref, allOf, anyOf, oneOf, not, if */
	JW_G_UNEVAL = 1u << 6, /* unevaluatedProperties, unevaluatedItems */
	JW_G_SCOPE = 1u << 7,  /* enters a resource of the dynamic scope (dynamic.c) */
};

/* Largest "properties" whose presence is tracked as a 64-bit mask. */
#define JW_PROPS_MASK_MAX 64

/* A JSON number without precision loss: is_int when the value is integral
 * and fits int64 (then i is exact); otherwise d is the nearest double and,
 * when text is set, text[0..tlen) is the number as written, which is its
 * exact value (number.h); without text, d is exact. */
struct jw_num {
	bool is_int;
	bool was_double; /* written as 2.0 rather than 2: kept for messages */
	int64_t i;
	double d;
	const char *text; /* not owned: the instance's arena or the node's copy */
	size_t tlen;
};

enum jw_format {
	JW_FORMAT_NONE,
	JW_FORMAT_DATE_TIME,
	JW_FORMAT_UUID,
	JW_FORMAT_OTHER, /* checked by node->format_def (format.c) */
};

/* One asserted "format" value and its checker (format.c). */
struct jw_format_def {
	const char *name;
	bool (*check)(const char *s, size_t len);
};

struct jw_regex {
	pcre2_code *code;
	char *source; /* the pattern text, for messages */
};

struct jw_schema_node;

struct jw_schema_prop {
	char *name;
	struct jw_schema_node *node;
	size_t len; /* strlen(name), set by jw_schema__finish */
};

struct jw_schema_pprop {
	struct jw_regex re;
	struct jw_schema_node *node;
};

/* A name that validation compares against member keys: its length and
 * jw_schema__name_words, computed once when compiling. */
struct jw_schema_name {
	const char *s;
	size_t len;
	uint64_t w0, w1;
};

/* One slot of a "properties" hash table; name is NULL and len
 * UINT32_MAX (which no key of at most 16 bytes has) when empty. */
struct jw_schema_slot {
	uint64_t w0, w1; /* jw_schema__name_words of the name */
	uint32_t len;
	uint32_t idx;
	uint64_t bit;                      /* 1 << idx; 0 when idx >= 64 */
	const char *name;                  /* props[idx].name */
	const struct jw_schema_node *node; /* props[idx].node */
	/* node's leaf_* forms when node->leaf, else leaf_accept 0 (every
	 * value goes to validate()); copied by jw_schema__finish_late so the
	 * member scan reads one slot. */
	uint32_t leaf_accept;
	int64_t leaf_imin, leaf_imax;
	double leaf_dmin, leaf_dmax;
	size_t leaf_lmin, leaf_lmax;
	/* To 128 bytes on LP64, so that indexing the table is one shift. */
	unsigned char pad[128 - 104];
};

struct jw_schema_dep {
	char *name;      /* when this property is present ... */
	char **required; /* ... these must be present too */
	size_t n_required;
	/* Set by jw_schema__finish: the names as keys, and when every name
	 * is a declared property of a node with a presence mask, the bit of
	 * name and the bits of required (by_mask true). */
	struct jw_schema_name name_key;
	struct jw_schema_name *required_key;
	bool by_mask;
	uint64_t name_bit, required_mask;
};

/*
 * One compiled schema object (or boolean schema). Subschemas are pointers
 * into the owning jw_schema's node list; $ref is just another pointer, so
 * the graph may be cyclic and nodes are owned by the list, not the tree.
 */
struct jw_schema_node {
	bool is_bool;
	bool bool_value;
	uint32_t has;
	uint32_t groups; /* JW_G_*, set by jw_schema__finish */
	/* Only "type" and minimum, maximum, minLength, maxLength: checked
	 * inline by the object walk (set by jw_schema__finish), from these
	 * precomputed forms: leaf_accept has bit 1 << t for each JW_J_* type
	 * t that passes "type" outright; the bounds as int64 (when both are
	 * absent or integers, else an empty range) and as doubles (when both
	 * are exact as doubles, else an empty range), infinite when absent;
	 * the lengths, 0 and SIZE_MAX when absent. */
	bool leaf;
	uint32_t leaf_accept;
	int64_t leaf_imin, leaf_imax;
	double leaf_dmin, leaf_dmax;
	size_t leaf_lmin, leaf_lmax;
	/* Only "required" (no other keyword at all): checked by a short loop
	 * instead of the whole object walk. */
	bool required_only;
	/* Only applicators ($ref, allOf, ..., if): nothing before them. */
	bool apply_only;
	/* Only "not". */
	bool not_only;
	/* "if" answered from the presence mask of the node's own member scan
	 * (set by jw_schema__finish_late): the node's only applicator is
	 * if/then/else, "if" is a required-only node or "not" of one, and
	 * "then" and "else" are absent or required-only, every name a
	 * declared property. "if" holds when the bits of if_mask are all
	 * present (inverted when if_neg); the branch taken then needs all of
	 * then_mask or else_mask. A failure goes the long way, which
	 * explains it. */
	bool if_by_mask;
	bool if_neg;
	uint64_t if_mask, then_mask, else_mask;
	/* An object instance can be checked by one tight pass (set by
	 * jw_schema__finish_late): "type" allows objects, no const or enum,
	 * 1 to JW_PROPS_MASK_MAX word-hashed "properties", "required" and
	 * every "dependentRequired" by mask, additionalProperties absent or
	 * false, no other object keyword, and no applicator but an
	 * if_by_mask "if". dep_bit and dep_mask are the dependentRequired
	 * masks in declared order. */
	bool obj_fast;
	uint64_t *dep_bit, *dep_mask;
	/* With obj_fast: the slot of each property in declared order, then
	 * one that matches no key. Members tend to come in declared order,
	 * so the one-pass scan first tries the slot after the last match. */
	const struct jw_schema_slot **props_order;

	unsigned types;
	unsigned char type_order[7]; /* declared order, for messages */
	unsigned char n_types;
	bool type_is_array;

	struct json_object *const_value; /* private copy; NULL is JSON null */
	struct json_object *enum_values; /* private copy of the array */
	struct jw_jdoc *const_doc;       /* the same two as arena trees, */
	struct jw_jdoc *enum_doc;        /* which is what validation reads */

	struct jw_num minimum, maximum, ex_minimum, ex_maximum, multiple_of;
	/* The texts those numbers point to (owned; NULL when written as
	 * integers that fit int64), in that order. */
	char *num_text[5];

	size_t min_length, max_length;
	struct jw_regex pattern;
	enum jw_format format;
	const struct jw_format_def *format_def; /* JW_FORMAT_OTHER */

	size_t min_items, max_items, min_contains, max_contains;
	struct jw_schema_node **prefix_items;
	size_t n_prefix_items;
	struct jw_schema_node *items;
	struct jw_schema_node *contains;

	size_t min_props, max_props;
	struct jw_schema_prop *props; /* declared order */
	size_t n_props;
	/* "properties" by name, when n_props > 0: open addressing over
	 * props_mask + 1 = 1 << (64 - props_shift) slots, at least twice
	 * n_props. The hash reads the name's words (or, when that clusters,
	 * every byte: props_hash_full). */
	struct jw_schema_slot *props_hash;
	uint32_t props_shift;
	uint64_t props_mask;
	bool props_hash_full;
	struct jw_schema_pprop *pattern_props;
	size_t n_pattern_props;
	struct jw_schema_node *additional;
	struct jw_schema_node *property_names;
	char **required;
	size_t n_required;
	struct jw_schema_name *required_key; /* set by jw_schema__finish */
	/* When every required name is a declared property and n_props is at
	 * most JW_PROPS_MASK_MAX: their presence bits, in declared order of
	 * "required" (required_bit) and together (required_mask). */
	bool required_by_mask;
	uint64_t *required_bit;
	uint64_t required_mask;
	struct jw_schema_dep *dep_required;
	size_t n_dep_required;
	struct jw_schema_prop *dep_schemas;
	size_t n_dep_schemas;

	struct jw_schema_node *ref;
	struct jw_schema_node **all_of, **any_of, **one_of;
	size_t n_all_of, n_any_of, n_one_of;
	struct jw_schema_node *not_schema;
	struct jw_schema_node *if_schema, *then_schema, *else_schema;
	/* Applied, after every other keyword passed, to the members and
	 * items no keyword of this node or of a subschema applied to the
	 * same instance evaluated (unevaluated.c). */
	struct jw_schema_node *unevaluated_props, *unevaluated_items;
	/* $dynamicRef: the statically resolved target, the anchor name, and
	 * whether the target has "$dynamicAnchor" of that name (only then
	 * does the dynamic scope decide). */
	struct jw_schema_node *dyn_ref;
	char *dyn_name;
	bool dyn_bookend;
	/* The schema resource this node belongs to (jw_schema.resources),
	 * and whether evaluating it enters that resource in the dynamic
	 * scope (only in schemas that use $dynamicRef). */
	uint32_t resource;
	bool scoped;
	bool res_root; /* a document root or a schema object with "$id" */

	/* Compile-time only: where the node came from (for $ref resolution and
	 * messages) and a DFS colour for the $ref cycle check. src is never
	 * dereferenced after compilation. */
	const struct json_object *src;
	char *loc;
	int mark;
};

/* One schema resource (a document or an "$id" schema object): its
 * "$dynamicAnchor" names, for $dynamicRef. */
struct jw_schema_dyn_anchor {
	char *name;
	struct jw_schema_node *node;
};

struct jw_schema_resource {
	char *uri; /* its absolute URI, for messages */
	struct jw_schema_dyn_anchor *anchors;
	size_t n_anchors;
};

struct jw_schema {
	struct jw_schema_node *root;
	struct jw_schema_resource *resources;
	size_t n_resources, cap_resources;
	bool dynamic;                  /* some node has $dynamicRef */
	struct jw_schema_node **nodes; /* owns every node */
	size_t n_nodes, cap_nodes;
	/* Read-only after compilation, so every validating thread may share
	 * it (pcre2api, MULTITHREADING); match data is per call instead. */
	pcre2_match_context *match_ctx;
};

/* A view of one instance value. Strings need not be backed by a node,
 * which lets propertyNames validate keys without allocating. */
enum jw_vtype {
	JW_V_NULL,
	JW_V_BOOL,
	JW_V_NUMBER,
	JW_V_STRING,
	JW_V_ARRAY,
	JW_V_OBJECT,
};

struct jw_value {
	enum jw_vtype type;
	const struct jw_jnode *node; /* arrays and objects */
	const char *str;             /* strings: bytes, not NUL-terminated */
	size_t len;
	struct jw_num num;
	bool b;
};

/* Output buffer that stops (and remembers it stopped) when full. */
struct jw_sink {
	char *buf;
	size_t cap;
	size_t len;
	bool full;
};

/*
 * Derives what validation reads besides the keywords themselves (groups,
 * name lengths, the "properties" hash, presence masks). Called once per
 * node after $ref resolution. Returns 0 or -1 (no memory).
 */
int jw_schema__finish(struct jw_schema_node *n);
/* The forms that read what jw_schema__finish derives for n's subschemas
 * (if_by_mask, obj_fast, the slots' leaf copies); run after
 * jw_schema__finish of every node. Returns 0 or -1 (no memory). */
int jw_schema__finish_late(struct jw_schema_node *n);
/*
 * A property name as two words that, with its length, identify it when it
 * is at most 16 bytes long: for 8 to 16 bytes its first and last eight
 * bytes, for 4 to 7 its first and last four (overlapping loads that stay
 * within the len bytes; memcpy, so unaligned is fine), below 4 the bytes
 * at 0, len / 2 and len - 1, which are all of them.
 */
static inline void jw_schema__name_words(const char *s, size_t len, uint64_t *w0, uint64_t *w1)
{
	if(len >= 8) {
		memcpy(w0, s, 8);
		memcpy(w1, s + len - 8, 8);
	} else if(len >= 4) {
		uint32_t a, b;
		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		*w0 = a;
		*w1 = b;
	} else if(len > 0) {
		*w0 = (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[len / 2] << 8 |
		      (uint64_t)(unsigned char)s[len - 1] << 16;
		*w1 = 0;
	} else {
		*w0 = 0;
		*w1 = 0;
	}
}

/*
 * The hash of a property name as the "properties" table uses it (the top
 * bits pick the slot). Normally made of the name's words, which covers
 * every byte of a name up to 16 bytes; full reads every byte, for the
 * tables whose longer names the words cluster.
 */
static inline uint64_t jw_schema__name_hash(
        const char *s, size_t len, uint64_t w0, uint64_t w1, bool full)
{
	uint64_t h = (uint64_t)len;

	if(full)
		return jw_hash(s, len, 0);
	/* Rotated, so that equal words do not cancel. */
	h ^= w0 ^ (w1 << 31 | w1 >> 33);
	return h * 0x9E3779B97F4A7C15u;
}

/* jw_schema__prop_slot for any name and table (schema.c). */
const struct jw_schema_slot *jw_schema__prop_slot_any(
        const struct jw_schema_node *n, const char *s, size_t len);

/*
 * The slot of the name with words w0, w1 and len (at most 16) bytes in a
 * word-hashed table (tab, shift and mask as in the node, passed apart so
 * that a loop keeps them in registers), or NULL. Up to 16 bytes the
 * words are the whole name.
 */
__attribute__((always_inline)) static inline const struct jw_schema_slot *jw_schema__slot_words(
        const struct jw_schema_slot *tab, uint32_t shift, uint64_t mask, uint64_t w0, uint64_t w1,
        size_t len)
{
	uint64_t i = jw_schema__name_hash(NULL, len, w0, w1, false) >> shift;

	for(;;) {
		const struct jw_schema_slot *e = &tab[i];
		if(e->name == NULL)
			return NULL;
		if(e->len == len && e->w0 == w0 && e->w1 == w1)
			return e;
		i = (i + 1) & mask;
	}
}

/* jw_schema__slot_words testing for a match before for an empty slot
 * (which the UINT32_MAX length of an empty one allows). */
__attribute__((always_inline)) static inline const struct jw_schema_slot *jw_schema__slot_hit(
        const struct jw_schema_slot *tab, uint32_t shift, uint64_t mask, uint64_t w0, uint64_t w1,
        size_t len)
{
	uint64_t i = jw_schema__name_hash(NULL, len, w0, w1, false) >> shift;
	for(;;) {
		const struct jw_schema_slot *e = &tab[i];
		if(e->len == len && e->w0 == w0 && e->w1 == w1)
			return e;
		if(e->name == NULL)
			return NULL;
		i = (i + 1) & mask;
	}
}

/* The same from the name itself. */
__attribute__((always_inline)) static inline const struct jw_schema_slot *jw_schema__slot_short(
        const struct jw_schema_slot *tab, uint32_t shift, uint64_t mask, const char *s, size_t len)
{
	uint64_t w0, w1;

	jw_schema__name_words(s, len, &w0, &w1);
	return jw_schema__slot_words(tab, shift, mask, w0, w1, len);
}

/* The slot of the property of n named s (len bytes), or NULL. */
static inline const struct jw_schema_slot *jw_schema__prop_slot(
        const struct jw_schema_node *n, const char *s, size_t len)
{
	if(n->n_props == 0)
		return NULL;
	if(len > 16 || n->props_hash_full)
		return jw_schema__prop_slot_any(n, s, len);
	return jw_schema__slot_short(n->props_hash, n->props_shift, n->props_mask, s, len);
}

/* The index into n->props of the property named s (len bytes), or -1. */
static inline long jw_schema__prop_find(const struct jw_schema_node *n, const char *s, size_t len)
{
	const struct jw_schema_slot *e = jw_schema__prop_slot(n, s, len);
	return e != NULL ? (long)e->idx : -1;
}

void jw_schema__num_from_int(struct jw_num *n, int64_t i);
/* d exactly (a double made by code, not read from text). */
void jw_schema__num_from_double(struct jw_num *n, double d);
/* A number read from JSON text: d its nearest double, text[0..tlen) as
 * written (kept by pointer: it must outlive n). */
void jw_schema__num_from_text(struct jw_num *n, double d, const char *text, size_t tlen);
/* The number of node x (JW_J_INT or JW_J_DOUBLE). */
void jw_schema__num_of_node(struct jw_num *n, const struct jw_jnode *x);
/* -1, 0 or 1 as a < b, a == b, a > b; 2 when unordered (NaN). */
int jw_schema__num_cmp(const struct jw_num *a, const struct jw_num *b);
bool jw_schema__num_is_integer(const struct jw_num *n);
bool jw_schema__num_multiple_of(const struct jw_num *x, const struct jw_num *m);

/* Scalars only (arrays and objects get no node): for the compiler. */
void jw_schema__value_init(struct jw_value *v, const struct json_object *o);
void jw_schema__value_node(struct jw_value *v, const struct jw_jnode *n);
/* JSON equality: 1 == 1.0, key order irrelevant, false != 0. */
bool jw_schema__value_equal(const struct jw_value *a, const struct jw_value *b);
uint64_t jw_schema__value_hash(const struct jw_value *v);
/* A private deep copy made of plain json-c values. Returns 0 or -1 (no
 * memory); *out is NULL for JSON null. */
int jw_schema__value_copy(const struct json_object *src, struct json_object **out);
size_t jw_schema__utf8_length(const char *s, size_t len);

/*
 * Renders into buf (size bytes, always NUL-terminated) as compact JSON,
 * cut at about limit bytes with "..." appended. Never allocates and never
 * touches json-c's cached serialisation, so it is safe on shared objects.
 */
void jw_schema__render_value(char *buf, size_t size, size_t limit, const struct jw_value *v);
void jw_schema__render_json(char *buf, size_t size, size_t limit, const struct json_object *o);
void jw_schema__render_string(char *buf, size_t size, size_t limit, const char *s, size_t len);
void jw_schema__render_num(char *buf, size_t size, const struct jw_num *n);
/* Drops a trailing partial UTF-8 sequence left by truncation. */
void jw_schema__utf8_trim(char *buf);

/* RFC 3339 section 5.6 date-time, and RFC 4122 textual UUIDs. */
bool jw_schema__format_date_time(const char *s, size_t len);
bool jw_schema__format_uuid(const char *s, size_t len);
/* format_net.c and format_uri.c (docs/validator.md, "Formats"). */
bool jw_schema__format_email(const char *s, size_t len);
bool jw_schema__format_idn_email(const char *s, size_t len);
bool jw_schema__format_hostname(const char *s, size_t len);
bool jw_schema__format_idn_hostname(const char *s, size_t len);
bool jw_schema__format_ipv4(const char *s, size_t len);
bool jw_schema__format_ipv6(const char *s, size_t len);
bool jw_schema__format_uri(const char *s, size_t len);
bool jw_schema__format_uri_reference(const char *s, size_t len);
bool jw_schema__format_iri(const char *s, size_t len);
bool jw_schema__format_iri_reference(const char *s, size_t len);
bool jw_schema__format_uri_template(const char *s, size_t len);
/* ref resolved against base (RFC 3986 section 5.2), allocated; NULL when
 * out of memory (uri.c). */
char *jw_schema__uri_resolve(const char *base, const char *ref);
/* The checker of the format called name, or NULL when there is none. */
const struct jw_format_def *jw_schema__format_find(const char *name);
/* The names of every asserted format, comma separated, for messages. */
const char *jw_schema__format_names(void);

/*
 * Compiles an ECMA-262 pattern with the options of docs/validator.md
 * ("Regular expressions"). Returns the code, or NULL with *errcode set
 * (PCRE2_ERROR_NOMEMORY when out of memory) and *erroff the offset.
 */
pcre2_code *jw_schema__regex_code(const char *src, size_t len, int *errcode, PCRE2_SIZE *erroff);

/*
 * The "type" bits every value of arena node type t (enum jw_jtype)
 * satisfies; a double that happens to be integral is an "integer" too,
 * which the validator adds itself. Shared by the compiler's leaf forms and
 * the validator so the two cannot disagree.
 */
static inline unsigned jw_schema__type_bits(unsigned t)
{
	static const unsigned bits[] = {
	        [JW_J_NULL] = JW_T_NULL,
	        [JW_J_BOOL] = JW_T_BOOLEAN,
	        [JW_J_INT] = JW_T_NUMBER | JW_T_INTEGER,
	        [JW_J_DOUBLE] = JW_T_NUMBER,
	        [JW_J_STRING] = JW_T_STRING,
	        [JW_J_ARRAY] = JW_T_ARRAY,
	        [JW_J_OBJECT] = JW_T_OBJECT,
	};

	return t < sizeof bits / sizeof bits[0] ? bits[t] : 0;
}

#endif
