/*
 * Internal model shared by the schema compiler (schema.c), the validator
 * (schema_validate.c) and their helpers (schema_value.c, schema_format.c).
 * Not installed and not part of the public API: only core/schema*.c include it.
 */
#ifndef JW_SCHEMA_INTERNAL_H
#define JW_SCHEMA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "schema.h"

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

/* A JSON number without precision loss: is_int when the value is integral
 * and fits int64 (then i is exact), otherwise only d is meaningful. */
struct jw_num {
	bool is_int;
	bool was_double; /* written as 2.0 rather than 2: kept for messages */
	int64_t i;
	double d;
};

enum jw_format {
	JW_FORMAT_NONE,
	JW_FORMAT_DATE_TIME,
	JW_FORMAT_UUID,
};

struct jw_regex {
	pcre2_code *code;
	char *source; /* the pattern text, for messages */
};

struct jw_schema_node;

struct jw_schema_prop {
	char *name;
	struct jw_schema_node *node;
};

struct jw_schema_pprop {
	struct jw_regex re;
	struct jw_schema_node *node;
};

struct jw_schema_dep {
	char *name;      /* when this property is present ... */
	char **required; /* ... these must be present too */
	size_t n_required;
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

	unsigned types;
	unsigned char type_order[7]; /* declared order, for messages */
	unsigned char n_types;
	bool type_is_array;

	struct json_object *const_value; /* private copy; NULL is JSON null */
	struct json_object *enum_values; /* private copy of the array */
	struct jw_jdoc *const_doc;       /* the same two as arena trees, */
	struct jw_jdoc *enum_doc;        /* which is what validation reads */

	struct jw_num minimum, maximum, ex_minimum, ex_maximum, multiple_of;

	size_t min_length, max_length;
	struct jw_regex pattern;
	enum jw_format format;

	size_t min_items, max_items, min_contains, max_contains;
	struct jw_schema_node **prefix_items;
	size_t n_prefix_items;
	struct jw_schema_node *items;
	struct jw_schema_node *contains;

	size_t min_props, max_props;
	struct jw_schema_prop *props; /* declared order */
	size_t n_props;
	struct jw_schema_prop **props_sorted; /* by name, for bsearch */
	struct jw_schema_pprop *pattern_props;
	size_t n_pattern_props;
	struct jw_schema_node *additional;
	struct jw_schema_node *property_names;
	char **required;
	size_t n_required;
	struct jw_schema_dep *dep_required;
	size_t n_dep_required;
	struct jw_schema_prop *dep_schemas;
	size_t n_dep_schemas;

	struct jw_schema_node *ref;
	struct jw_schema_node **all_of, **any_of, **one_of;
	size_t n_all_of, n_any_of, n_one_of;
	struct jw_schema_node *not_schema;
	struct jw_schema_node *if_schema, *then_schema, *else_schema;

	/* Compile-time only: where the node came from (for $ref resolution and
	 * messages) and a DFS colour for the $ref cycle check. src is never
	 * dereferenced after compilation. */
	const struct json_object *src;
	char *loc;
	int mark;
};

struct jw_schema {
	struct jw_schema_node *root;
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
	const struct jw_jnode *node;   /* arrays and objects */
	const char *str;               /* strings: bytes, not NUL-terminated */
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

void jw_schema__num_from_int(struct jw_num *n, int64_t i);
void jw_schema__num_from_double(struct jw_num *n, double d);
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
int jw_schema__value_copy(const struct json_object *src,
                          struct json_object **out);
size_t jw_schema__utf8_length(const char *s, size_t len);

/*
 * Renders into buf (size bytes, always NUL-terminated) as compact JSON,
 * cut at about limit bytes with "..." appended. Never allocates and never
 * touches json-c's cached serialisation, so it is safe on shared objects.
 */
void jw_schema__render_value(char *buf, size_t size, size_t limit,
                             const struct jw_value *v);
void jw_schema__render_json(char *buf, size_t size, size_t limit,
                            const struct json_object *o);
void jw_schema__render_string(char *buf, size_t size, size_t limit,
                              const char *s, size_t len);
void jw_schema__render_num(char *buf, size_t size, const struct jw_num *n);
/* Drops a trailing partial UTF-8 sequence left by truncation. */
void jw_schema__utf8_trim(char *buf);

/* RFC 3339 section 5.6 date-time, and RFC 4122 textual UUIDs. */
bool jw_schema__format_date_time(const char *s, size_t len);
bool jw_schema__format_uuid(const char *s, size_t len);

#endif
