/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Validation of instances (arena trees; json-c values are converted)
 * against a compiled schema (schema.c). It runs on the broker thread for
 * every event, so the success path does no formatting and almost no
 * allocation (one PCRE2 match data block per call when a regex is used,
 * one slot array for an object schema with more than 64 properties), and
 * it reads the compiled schema only, so many threads may validate against
 * one schema at once.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jdoc.h"
#include "number.h"
#include "node.h"

#include "vctx.h"

/* Arrays up to this length are checked for duplicates pairwise; longer
 * ones are hashed and sorted first. */
#define UNIQUE_PAIRWISE_MAX 16

static int validate_slow(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v);
static int validate_fast_object(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *o);

/* An object against an obj_fast node takes the one-pass path. */
static inline int validate(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	if(n->obj_fast && v->type == JW_J_OBJECT)
		return validate_fast_object(c, n, v);
	return validate_slow(c, n, v);
}

static void push_key(struct vctx *c, const char *key)
{
	if(c->depth < PATH_SEGS)
		c->path[c->depth].key = key;
	c->depth++;
}

static void push_index(struct vctx *c, size_t i)
{
	if(c->depth < PATH_SEGS) {
		c->path[c->depth].key = NULL;
		c->path[c->depth].index = i;
	}
	c->depth++;
}

static void pop(struct vctx *c)
{
	c->depth--;
}

/* 1 match, 0 no match, -1 out of memory, -2 PCRE2 gave up (match limit). */
static int regex_search(struct vctx *c, const struct jw_regex *re, const char *s, size_t len)
{
	if(c->md == NULL) {
		/* One pair is enough: only "did it match" matters. */
		c->md = pcre2_match_data_create(1, NULL);
		if(c->md == NULL)
			return -1;
	}
	int rc = pcre2_match(re->code, (PCRE2_SPTR)s, len, 0, 0, c->md, c->s->match_ctx);
	if(rc >= 0)
		return 1;
	if(rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if(rc == PCRE2_ERROR_NOMEMORY)
		return -1;
	return -2;
}

static bool type_matches(unsigned types, const struct jw_jnode *x)
{
	if(x->type > JW_J_OBJECT)
		return types & JW_T_NULL; /* what jw_schema__value_node makes of it */
	if(types & jw_schema__type_bits(x->type))
		return true;
	/* By the exact value, as jw_schema__num_is_integer: 2.0 is an
	 * integer, 1.0000000000000000001 (whose double is 1) is not. */
	return x->type == JW_J_DOUBLE && (types & JW_T_INTEGER) && jw_jnode_is_integer(x);
}

static int fail_type(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	static const char *const names[] = {
	        "null",
	        "boolean",
	        "object",
	        "array",
	        "number",
	        "string",
	        "integer",
	};
	char expect[96];
	size_t len = 0;

	if(!c->want)
		return 0;
	expect[0] = '\0';
	if(n->type_is_array)
		jw_schema__ptr_put(expect, sizeof expect, &len, "[", 1);
	for(size_t i = 0; i < n->n_types; i++) {
		const char *name = names[n->type_order[i]];
		if(i > 0)
			jw_schema__ptr_put(expect, sizeof expect, &len, ",", 1);
		jw_schema__ptr_put(expect, sizeof expect, &len, "\"", 1);
		jw_schema__ptr_put(expect, sizeof expect, &len, name, strlen(name));
		jw_schema__ptr_put(expect, sizeof expect, &len, "\"", 1);
	}
	if(n->type_is_array)
		jw_schema__ptr_put(expect, sizeof expect, &len, "]", 1);
	return jw_schema__fail_got(c, "type", v, "type %s", expect);
}

/* Keeps a keyword group's code out of validate(), whose frame every
 * subschema call pays for. */
#define OUT_OF_LINE __attribute__((noinline))

/* Magnitude up to which every int64 converts to a double exactly. */
#define EXACT_INT_MAX ((int64_t)1 << 53)

static void num_of(struct jw_num *out, const struct jw_jnode *x)
{
	jw_schema__num_of_node(out, x);
}

/*
 * jw_schema__num_cmp(number of x, b) without building the jw_num: two
 * integers compare as integers, and two different doubles in their order
 * (rounding to a double never reverses one), unordered (NaN) giving 2 as
 * there. Equal doubles may be different numbers (x written as
 * 100.00000000000000001, b as 100): those, and integers beyond 2^53, go
 * the exact way.
 */
__attribute__((always_inline)) static inline int cmp_bound(
        const struct jw_jnode *x, const struct jw_num *b)
{
	double xd;

	if(x->type == JW_J_INT) {
		int64_t i = x->u.i;
		if(b->is_int)
			return i < b->i ? -1 : i > b->i;
		if(i < -EXACT_INT_MAX || i > EXACT_INT_MAX)
			goto slow;
		xd = (double)i;
	} else {
		if(b->is_int && (b->i < -EXACT_INT_MAX || b->i > EXACT_INT_MAX))
			goto slow;
		xd = x->u.d;
	}
	if(xd < b->d)
		return -1;
	if(xd > b->d)
		return 1;
	if(xd != b->d)
		return 2;
slow:;
	struct jw_num xn;
	num_of(&xn, x);
	return jw_schema__num_cmp(&xn, b);
}

/*
 * Whether x certainly satisfies the subschema of slot e when that is a
 * leaf node (n->leaf; e holds a copy of its leaf_* forms, and no leaf
 * type for any other node): the same tests as validate() for the
 * keywords a leaf may carry, without setting up a call. false means "not
 * certain" (a failure, an integral double against "integer", a non-ASCII
 * string whose length needs counting, no leaf, ...): the caller then runs
 * validate(), which decides and explains.
 */
__attribute__((always_inline)) static inline bool slot_leaf_ok(
        const struct jw_schema_slot *e, const struct jw_jnode *x)
{
	unsigned t = x->type;

	/* The frequent types first, each with its accept bit as a constant. */
	if(t == JW_J_INT)
		return (e->leaf_accept & (1u << JW_J_INT)) && x->u.i >= e->leaf_imin &&
		       x->u.i <= e->leaf_imax;
	if(t == JW_J_STRING) {
		/* Code points: exactly n when plain, otherwise at most n and at
		 * least ceil(n / 4) (validate_string counts when these do not
		 * settle it). */
		if(!(e->leaf_accept & (1u << JW_J_STRING)) || x->n > e->leaf_lmax)
			return false;
		size_t least = x->plain ? x->n : x->n / 4 + (x->n % 4 != 0);
		return least >= e->leaf_lmin;
	}
	if(t == JW_J_DOUBLE)
		/* Strictly inside the bounds as doubles is inside them exactly;
		 * a double equal to a bound may be a number just past it
		 * (100.00000000000000001 against a maximum of 100), and NaN
		 * fails both: those go the long way. */
		return (e->leaf_accept & (1u << JW_J_DOUBLE)) && x->u.d > e->leaf_dmin &&
		       x->u.d < e->leaf_dmax;
	return t <= JW_J_OBJECT && (e->leaf_accept & (1u << t));
}

OUT_OF_LINE
static int validate_number(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	char b[40];
	int r;

	if(n->has & JW_HAS_MINIMUM) {
		r = cmp_bound(v, &n->minimum);
		if(r == -1 || r == 2) {
			if(c->want)
				jw_schema__render_num(b, sizeof b, &n->minimum);
			return jw_schema__fail_got(c, "minimum", v, "minimum %s", b);
		}
	}
	if(n->has & JW_HAS_MAXIMUM) {
		r = cmp_bound(v, &n->maximum);
		if(r == 1 || r == 2) {
			if(c->want)
				jw_schema__render_num(b, sizeof b, &n->maximum);
			return jw_schema__fail_got(c, "maximum", v, "maximum %s", b);
		}
	}
	if((n->has & JW_HAS_EX_MINIMUM) && cmp_bound(v, &n->ex_minimum) != 1) {
		if(c->want)
			jw_schema__render_num(b, sizeof b, &n->ex_minimum);
		return jw_schema__fail_got(c, "exclusiveMinimum", v, "exclusiveMinimum %s", b);
	}
	if((n->has & JW_HAS_EX_MAXIMUM) && cmp_bound(v, &n->ex_maximum) != -1) {
		if(c->want)
			jw_schema__render_num(b, sizeof b, &n->ex_maximum);
		return jw_schema__fail_got(c, "exclusiveMaximum", v, "exclusiveMaximum %s", b);
	}
	if(n->has & JW_HAS_MULTIPLE_OF) {
		struct jw_num xn;
		num_of(&xn, v);
		if(!jw_schema__num_multiple_of(&xn, &n->multiple_of)) {
			if(c->want)
				jw_schema__render_num(b, sizeof b, &n->multiple_of);
			return jw_schema__fail_got(c, "multipleOf", v, "multipleOf %s", b);
		}
	}
	return 1;
}

OUT_OF_LINE
static int validate_string(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *x)
{
	char re[VALUE_LIMIT + 8], got[VALUE_LIMIT + 8];
	const char *str = x->u.s;
	size_t len = x->n;

	/*
	 * JSON Schema counts code points, not bytes or UTF-16 units. A UTF-8
	 * string of len bytes has between ceil(len / 4) and len code points,
	 * so the byte length alone often settles both bounds; a plain (ASCII)
	 * string has exactly len.
	 */
	if((n->has & (JW_HAS_MIN_LENGTH | JW_HAS_MAX_LENGTH)) &&
	        ((n->has & JW_HAS_MAX_LENGTH && len > n->max_length) ||
	                (n->has & JW_HAS_MIN_LENGTH && n->min_length > len / 4 + (len % 4 != 0)))) {
		size_t cp = x->plain ? len : jw_schema__utf8_length(str, len);
		bool too_short = (n->has & JW_HAS_MIN_LENGTH) && cp < n->min_length;
		bool too_long = (n->has & JW_HAS_MAX_LENGTH) && cp > n->max_length;
		if(too_short || too_long) {
			struct jw_value v;
			if(!c->want)
				return 0;
			jw_schema__value_node(&v, x);
			jw_schema__render_value(got, sizeof got, VALUE_LIMIT, &v);
			return jw_schema__fail(c, NULL, too_short ? "minLength" : "maxLength",
			        "%s %zu, got %s (length %zu)", too_short ? "minLength" : "maxLength",
			        too_short ? n->min_length : n->max_length, got, cp);
		}
	}
	if(n->has & JW_HAS_PATTERN) {
		int r = regex_search(c, &n->pattern, str, len);
		if(r == -1)
			return -1;
		if(r != 1) {
			if(c->want)
				jw_schema__quoted(re, sizeof re, n->pattern.source);
			if(r == -2)
				return jw_schema__fail_got(
				        c, "pattern", x, "pattern %s (match limit exceeded)", re);
			return jw_schema__fail_got(c, "pattern", x, "pattern %s", re);
		}
	}
	if(n->has & JW_HAS_FORMAT) {
		if(n->format == JW_FORMAT_DATE_TIME && !jw_schema__format_date_time(str, len))
			return jw_schema__fail_got(c, "format", x, "format \"date-time\"");
		if(n->format == JW_FORMAT_UUID && !jw_schema__format_uuid(str, len))
			return jw_schema__fail_got(c, "format", x, "format \"uuid\"");
		if(n->format == JW_FORMAT_OTHER && !n->format_def->check(str, len))
			return jw_schema__fail_got(c, "format", x, "format \"%s\"", n->format_def->name);
	}
	return 1;
}

struct hashed {
	uint64_t h;
	size_t i;
};

static int by_hash(const void *a, const void *b)
{
	const struct hashed *x = a, *y = b;
	if(x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

static bool items_equal(const struct jw_jnode *arr, size_t i, size_t j)
{
	struct jw_value a, b;
	jw_schema__value_node(&a, &arr->u.kids[i]);
	jw_schema__value_node(&b, &arr->u.kids[j]);
	return jw_schema__value_equal(&a, &b);
}

/* Finds the duplicate pair (i, j), i < j, with the smallest j. Returns 1
 * when all items are distinct, 0 with *di, *dj set, -1 on no memory. */
static int find_duplicate(const struct jw_jnode *arr, size_t len, size_t *di, size_t *dj)
{
	size_t best_i = 0, best_j = SIZE_MAX;

	if(len <= UNIQUE_PAIRWISE_MAX) {
		for(size_t j = 1; j < len; j++) {
			for(size_t i = 0; i < j; i++) {
				if(items_equal(arr, i, j)) {
					*di = i;
					*dj = j;
					return 0;
				}
			}
		}
		return 1;
	}

	struct hashed *h = malloc(len * sizeof *h);
	if(h == NULL)
		return -1;
	for(size_t i = 0; i < len; i++) {
		struct jw_value x;
		jw_schema__value_node(&x, &arr->u.kids[i]);
		h[i].h = jw_schema__value_hash(&x);
		h[i].i = i;
	}
	qsort(h, len, sizeof *h, by_hash);
	for(size_t a = 0; a < len;) {
		size_t b = a + 1;
		while(b < len && h[b].h == h[a].h)
			b++;
		/* Within a run indices ascend, so stop once past the best j. */
		for(size_t y = a + 1; y < b && h[y].i < best_j; y++) {
			for(size_t x = a; x < y; x++) {
				if(items_equal(arr, h[x].i, h[y].i)) {
					best_i = h[x].i;
					best_j = h[y].i;
					break;
				}
			}
		}
		a = b;
	}
	free(h);
	if(best_j == SIZE_MAX)
		return 1;
	*di = best_i;
	*dj = best_j;
	return 0;
}

OUT_OF_LINE
static int validate_array(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	const struct jw_jnode *arr = v;
	size_t len = arr->n;
	int r;

	if((n->has & JW_HAS_MIN_ITEMS) && len < n->min_items)
		return jw_schema__fail(
		        c, NULL, "minItems", "minItems %zu, got %zu items", n->min_items, len);
	if((n->has & JW_HAS_MAX_ITEMS) && len > n->max_items)
		return jw_schema__fail(
		        c, NULL, "maxItems", "maxItems %zu, got %zu items", n->max_items, len);
	if((n->has & JW_HAS_UNIQUE) && len > 1) {
		size_t i, j;
		r = find_duplicate(arr, len, &i, &j);
		if(r <= 0) {
			if(r < 0 || !c->want)
				return r;
			push_index(c, j);
			jw_schema__fail_got(
			        c, "uniqueItems", &arr->u.kids[j], "uniqueItems true (same as item %zu)", i);
			pop(c);
			return 0;
		}
	}
	for(size_t i = 0; i < len && i < n->n_prefix_items; i++) {
		push_index(c, i);
		r = validate(c, n->prefix_items[i], &arr->u.kids[i]);
		pop(c);
		if(r != 1)
			return r;
	}
	if(n->items != NULL) {
		for(size_t i = n->n_prefix_items; i < len; i++) {
			push_index(c, i);
			if(n->items->is_bool && !n->items->bool_value)
				r = jw_schema__fail(c, NULL, "items",
				        "items false: at most %zu items allowed, got %zu", n->n_prefix_items, len);
			else
				r = validate(c, n->items, &arr->u.kids[i]);
			pop(c);
			if(r != 1)
				return r;
		}
	}
	if(n->contains != NULL) {
		size_t min = (n->has & JW_HAS_MIN_CONTAINS) ? n->min_contains : 1;
		size_t max = (n->has & JW_HAS_MAX_CONTAINS) ? n->max_contains : SIZE_MAX;
		size_t count = 0;
		bool want = c->want;

		c->want = false;
		for(size_t i = 0; i < len; i++) {
			push_index(c, i);
			r = validate(c, n->contains, &arr->u.kids[i]);
			pop(c);
			if(r < 0) {
				c->want = want;
				return -1;
			}
			count += (size_t)r;
			if(count >= min && max == SIZE_MAX)
				break;
		}
		c->want = want;
		if(count < min) {
			if(n->has & JW_HAS_MIN_CONTAINS)
				return jw_schema__fail(c, NULL, "minContains",
				        "minContains %zu, got %zu matching items", min, count);
			return jw_schema__fail_got(c, "contains", v, "contains: no item matched");
		}
		if(count > max)
			return jw_schema__fail(
			        c, NULL, "maxContains", "maxContains %zu, got %zu matching items", max, count);
	}
	return 1;
}

/* Whether object o has a member named name (len bytes). */
static bool has_member(const struct jw_jnode *o, const struct jw_schema_name *k)
{
	uint64_t k0, k1;

	for(uint32_t i = 0; i < o->n; i++) {
		const struct jw_jnode *m = &o->u.kids[i];
		if(m->keylen != k->len)
			continue;
		jw_schema__name_words(m->key, k->len, &k0, &k1);
		if(k0 == k->w0 && k1 == k->w1 && (k->len <= 16 || memcmp(m->key, k->s, k->len) == 0))
			return true;
	}
	return false;
}

/* patternProperties and additionalProperties: one pass over the instance's
 * members, a table lookup for "declared in properties" and one regex
 * search per pattern. */
static int validate_extra_members(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *o)
{
	char name[VALUE_LIMIT + 8], re[VALUE_LIMIT + 8];

	for(uint32_t m = 0; m < o->n; m++) {
		const struct jw_jnode *val = &o->u.kids[m];
		const char *key = val->key;
		bool matched = false;
		int r;

		if(n->additional != NULL && n->n_props > 0)
			matched = jw_schema__prop_find(n, key, val->keylen) >= 0;
		for(size_t i = 0; i < n->n_pattern_props; i++) {
			const struct jw_schema_pprop *pp = &n->pattern_props[i];
			r = regex_search(c, &pp->re, key, val->keylen);
			if(r == -1)
				return -1;
			if(r == -2) {
				push_key(c, key);
				if(c->want)
					jw_schema__quoted(re, sizeof re, pp->re.source);
				r = jw_schema__fail(c, NULL, "patternProperties",
				        "patternProperties %s: match limit exceeded on the property name", re);
				pop(c);
				return r;
			}
			if(r == 0)
				continue;
			matched = true;
			push_key(c, key);
			r = validate(c, pp->node, val);
			pop(c);
			if(r != 1)
				return r;
		}
		if(matched || n->additional == NULL)
			continue;
		push_key(c, key);
		if(n->additional->is_bool && !n->additional->bool_value) {
			if(c->want)
				jw_schema__quoted(name, sizeof name, key);
			r = jw_schema__fail(c, NULL, "additionalProperties",
			        "additionalProperties: property %s is not allowed", name);
		} else {
			r = validate(c, n->additional, val);
		}
		pop(c);
		if(r != 1)
			return r;
	}
	return 1;
}

static int fail_required(struct vctx *c, const char *missing)
{
	char name[VALUE_LIMIT + 8];

	if(c->want)
		jw_schema__quoted(name, sizeof name, missing);
	/* Point at where the property should be, so a rejection notice can
	 * name the field. */
	return jw_schema__fail(c, missing, "required", "required property %s missing", name);
}

/* "properties" of a node with more than JW_PROPS_MASK_MAX of them: each
 * member is looked up once, its value parked in a slot per declared
 * property, and the slots are validated in declared order. */
static int validate_many_props(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *o, size_t *declared)
{
	const struct jw_jnode **slot = calloc(n->n_props, sizeof *slot);
	int r = 1;

	if(slot == NULL)
		return -1;
	for(uint32_t m = 0; m < o->n; m++) {
		long idx = jw_schema__prop_find(n, o->u.kids[m].key, o->u.kids[m].keylen);
		if(idx < 0)
			continue;
		++*declared;
		if(slot[idx] == NULL)
			slot[idx] = &o->u.kids[m];
	}
	for(size_t i = 0; i < n->n_props && r == 1; i++) {
		if(slot[i] == NULL)
			continue;
		push_key(c, n->props[i].name);
		r = validate(c, n->props[i].node, slot[i]);
		pop(c);
	}
	free(slot);
	return r;
}

/* A node with "required" and nothing else (n->required_only). */
OUT_OF_LINE
static int validate_required(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *o)
{
	const struct jw_schema_node *sn = c->scan_obj == o ? c->scan_node : NULL;

	for(size_t i = 0; i < n->n_required; i++) {
		const struct jw_schema_name *k = &n->required_key[i];
		if(sn != NULL && k->len <= 16) {
			/* A name the last scan of o declared: its bit says. */
			const struct jw_schema_slot *e = jw_schema__slot_words(
			        sn->props_hash, sn->props_shift, sn->props_mask, k->w0, k->w1, k->len);
			if(e != NULL) {
				if(!(c->scan_present & (uint64_t)1 << e->idx))
					return fail_required(c, n->required[i]);
				continue;
			}
		}
		if(!has_member(o, k))
			return fail_required(c, n->required[i]);
	}
	return 1;
}

static int check_prop_count(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *o)
{
	size_t count = o->n;

	if((n->has & JW_HAS_MIN_PROPS) && count < n->min_props)
		return jw_schema__fail(c, NULL, "minProperties", "minProperties %zu, got %zu properties",
		        n->min_props, count);
	if((n->has & JW_HAS_MAX_PROPS) && count > n->max_props)
		return jw_schema__fail(c, NULL, "maxProperties", "maxProperties %zu, got %zu properties",
		        n->max_props, count);
	return 1;
}

/* "required": by the member mask when every name is a declared property
 * (present), else by looking each name up. */
static inline int check_required(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *o, uint64_t present)
{
	if(n->required_by_mask) {
		if((present & n->required_mask) != n->required_mask) {
			for(size_t i = 0; i < n->n_required; i++)
				if(!(present & n->required_bit[i]))
					return fail_required(c, n->required[i]);
		}
	} else {
		for(size_t i = 0; i < n->n_required; i++)
			if(!has_member(o, &n->required_key[i]))
				return fail_required(c, n->required[i]);
	}
	return 1;
}

/* The object keywords that look at member names rather than declared
 * properties: propertyNames, dependentRequired, dependentSchemas. present
 * is validate_object's member mask (n's declared properties). */
static int validate_names_and_deps(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *o, uint64_t present)
{
	char name[VALUE_LIMIT + 8], other[VALUE_LIMIT + 8];
	int r;

	if(n->property_names != NULL) {
		for(uint32_t m = 0; m < o->n; m++) {
			const char *key = o->u.kids[m].key;
			struct jw_jnode kn;
			bool in_names = c->in_names;

			/* The name as a string value of its own. */
			memset(&kn, 0, sizeof kn);
			kn.type = JW_J_STRING;
			kn.u.s = key;
			kn.n = o->u.kids[m].keylen;
			push_key(c, key);
			c->in_names = true;
			r = validate(c, n->property_names, &kn);
			c->in_names = in_names;
			pop(c);
			if(r != 1)
				return r;
		}
	}
	for(size_t i = 0; i < n->n_dep_required; i++) {
		const struct jw_schema_dep *d = &n->dep_required[i];
		if(d->by_mask) {
			if(!(present & d->name_bit) || (present & d->required_mask) == d->required_mask)
				continue;
		} else if(!has_member(o, &d->name_key)) {
			continue;
		}
		for(size_t j = 0; j < d->n_required; j++) {
			if(has_member(o, &d->required_key[j]))
				continue;
			if(c->want) {
				jw_schema__quoted(name, sizeof name, d->required[j]);
				jw_schema__quoted(other, sizeof other, d->name);
			}
			return jw_schema__fail(c, d->required[j], "dependentRequired",
			        "dependentRequired property %s missing (required when %s is present)", name,
			        other);
		}
	}
	for(size_t i = 0; i < n->n_dep_schemas; i++) {
		struct jw_schema_name k = {n->dep_schemas[i].name, n->dep_schemas[i].len, 0, 0};
		jw_schema__name_words(k.s, k.len, &k.w0, &k.w1);
		if(!has_member(o, &k))
			continue;
		r = validate(c, n->dep_schemas[i].node, o);
		if(r != 1)
			return r;
	}
	return 1;
}

OUT_OF_LINE
static int validate_object(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *o)
{
	const struct jw_jnode *own[JW_PROPS_MASK_MAX], **slot = own;
	uint64_t present = 0, pending = 0;
	size_t declared = 0;
	int r;

	if(n->has & (JW_HAS_MIN_PROPS | JW_HAS_MAX_PROPS)) {
		r = check_prop_count(c, n, o);
		if(r != 1)
			return r;
	}
	/*
	 * One pass over the members finds each one's declared property (a
	 * hash lookup) and records which are present as a bit mask, which
	 * then also answers "required" and "dependentRequired" for names
	 * that are declared properties. A member whose subschema is a leaf
	 * that it certainly satisfies (leaf_ok) is settled there; the others
	 * are left pending for validate(). Neither step reports anything, so
	 * doing them before "required" leaves the reported error unchanged.
	 */
	if(n->n_props > 0 && n->n_props <= JW_PROPS_MASK_MAX) {
		const struct jw_schema_slot *tab = n->props_hash;
		uint32_t shift = n->props_shift;
		uint64_t mask = n->props_mask;
		bool any = n->props_hash_full;
		/* An empty object has no member array (u.kids is NULL), and
		 * NULL + 0 is undefined: only a non-empty one is offset. */
		const struct jw_jnode *kid = o->u.kids, *end = o->n ? kid + o->n : kid;

		/* The root's scan of the instance also serves the caller. */
		if(c->members != NULL && o == c->root && n == c->s->root)
			slot = c->members->member;
		for(; kid < end; kid++) {
			const struct jw_schema_slot *e;
			if(kid->keylen > 16 || any)
				e = jw_schema__prop_slot_any(n, kid->key, kid->keylen);
			else
				e = jw_schema__slot_short(tab, shift, mask, kid->key, kid->keylen);
			if(e == NULL)
				continue;
			declared++;
			uint64_t bit = (uint64_t)1 << e->idx;
			if(present & bit)
				continue;
			present |= bit;
			slot[e->idx] = kid;
			if(slot_leaf_ok(e, kid))
				continue;
			pending |= bit;
		}
		if(slot != own) {
			c->members->scanned = 1;
			c->members->present = present;
		}
	}
	if(n->n_required > 0) {
		r = check_required(c, n, o, present);
		if(r != 1)
			return r;
	}
	if(n->n_props > JW_PROPS_MASK_MAX) {
		r = validate_many_props(c, n, o, &declared);
		if(r != 1)
			return r;
	} else {
		/* Declared order, lowest bit first: the first error reported is
		 * that of the first declared property that fails (the settled
		 * ones cannot fail). */
		for(uint64_t left = pending; left != 0; left &= left - 1) {
			unsigned idx = (unsigned)__builtin_ctzll(left);
			push_key(c, n->props[idx].name);
			r = validate(c, n->props[idx].node, slot[idx]);
			pop(c);
			if(r != 1)
				return r;
		}
	}
	/* When every member was a declared property there is nothing left for
	 * additionalProperties: the usual case for a valid event, and it
	 * skips the per-member pass entirely. */
	if(n->n_pattern_props > 0 || (n->additional != NULL && declared < o->n)) {
		r = validate_extra_members(c, n, o);
		if(r != 1)
			return r;
	}
	if(n->property_names != NULL || n->n_dep_required > 0 || n->n_dep_schemas > 0) {
		r = validate_names_and_deps(c, n, o, present);
		if(r != 1)
			return r;
	}
	if(n->n_props > 0 && n->n_props <= JW_PROPS_MASK_MAX && !n->props_hash_full) {
		c->scan_obj = o;
		c->scan_node = n;
		c->scan_present = present;
	}
	return 1;
}

/* Orders two alternatives' errors: deeper wins, then one that is not a
 * plain "type" mismatch (that alternative at least had the right shape). */
static int compare_errors(const struct verr *a, const struct verr *b)
{
	if(a->depth != b->depth)
		return a->depth > b->depth ? 1 : -1;
	bool ta = strcmp(a->e.keyword, "type") == 0;
	bool tb = strcmp(b->e.keyword, "type") == 0;
	if(ta != tb)
		return ta ? -1 : 1;
	return 0;
}

/*
 * Explains why none of alts matched. Re-runs them collecting errors: when
 * one alternative got strictly furthest (compare_errors) its error is the
 * most specific explanation; otherwise "<keyword>: no alternative matched".
 */
static int explain_alternatives(struct vctx *c, struct jw_schema_node *const *alts, size_t n,
        const char *keyword, const struct jw_jnode *v)
{
	struct verr *saved = c->err;
	struct verr best, cur;
	bool have = false, unique = false;

	for(size_t i = 0; i < n; i++) {
		c->err = &cur;
		int r = validate(c, alts[i], v);
		c->err = saved;
		if(r != 0)
			return r;
		int cmp = have ? compare_errors(&cur, &best) : 1;
		if(cmp > 0) {
			best = cur;
			have = true;
			unique = true;
		} else if(cmp == 0) {
			unique = false;
		}
	}
	if(unique) {
		*saved = best;
		return 0;
	}
	return jw_schema__fail_got(c, keyword, v, "%s: no alternative matched", keyword);
}

static int validate_any_of(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	bool want = c->want;

	/* First pass without messages: the common case is a match, and then
	 * the failed alternatives' errors would be wasted work. */
	c->want = false;
	for(size_t i = 0; i < n->n_any_of; i++) {
		int r = validate(c, n->any_of[i], v);
		if(r != 0) {
			c->want = want;
			return r;
		}
	}
	c->want = want;
	if(!want)
		return 0;
	return explain_alternatives(c, n->any_of, n->n_any_of, "anyOf", v);
}

static int validate_one_of(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	bool want = c->want;
	size_t first = 0, matched = 0;

	c->want = false;
	for(size_t i = 0; i < n->n_one_of; i++) {
		int r = validate(c, n->one_of[i], v);
		if(r < 0) {
			c->want = want;
			return r;
		}
		if(r == 0)
			continue;
		if(matched++ == 0) {
			first = i;
			continue;
		}
		c->want = want;
		return jw_schema__fail_got(
		        c, "oneOf", v, "oneOf: alternatives %zu and %zu both matched", first, i);
	}
	c->want = want;
	if(matched == 1)
		return 1;
	if(!want)
		return 0;
	return explain_alternatives(c, n->one_of, n->n_one_of, "oneOf", v);
}

/* const and enum: JSON equality on the general value form. */
OUT_OF_LINE
static int validate_value(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *x)
{
	char expect[VALUE_LIMIT * 2 + 8];
	struct jw_value v;

	jw_schema__value_node(&v, x);
	if(n->has & JW_HAS_CONST) {
		struct jw_value cv;
		jw_schema__value_node(&cv, n->const_doc->root);
		if(!jw_schema__value_equal(&cv, &v)) {
			if(c->want)
				jw_schema__render_value(expect, sizeof expect, VALUE_LIMIT, &cv);
			return jw_schema__fail_got(c, "const", x, "const %s", expect);
		}
	}
	if(n->has & JW_HAS_ENUM) {
		const struct jw_jnode *values = n->enum_doc->root;
		size_t count = values->n;
		bool found = false;
		for(size_t i = 0; i < count && !found; i++) {
			struct jw_value ev;
			jw_schema__value_node(&ev, &values->u.kids[i]);
			found = jw_schema__value_equal(&ev, &v);
		}
		if(!found) {
			if(c->want) {
				struct jw_value all;
				jw_schema__value_node(&all, values);
				jw_schema__render_value(expect, sizeof expect, VALUE_LIMIT * 2, &all);
			}
			return jw_schema__fail_got(c, "enum", x, "enum %s", expect);
		}
	}
	return 1;
}

/* validate() for a subschema of the same instance; a node that asserts
 * only "required" (as in if/then's usual {"required": [...]}) or only
 * applicators ({"not": ...}) skips validate()'s frame, and only "not",
 * when just a verdict is wanted, validate_apply()'s too. */
static int validate_apply(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v);

static inline int validate_same(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	if(n->required_only && v->type == JW_J_OBJECT)
		return validate_required(c, n, v);
	if(n->not_only && !c->want) {
		int r = validate_same(c, n->not_schema, v);
		return r < 0 ? r : !r;
	}
	if(n->apply_only)
		return validate_apply(c, n, v);
	return validate(c, n, v);
}

/* $ref, allOf, anyOf, oneOf, not and if/then/else, in that order. */
OUT_OF_LINE
static int validate_apply(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	int r;

	if(n->ref != NULL && (r = validate(c, n->ref, v)) != 1)
		return r;
	if(n->dyn_ref != NULL) {
		const struct jw_schema_node *t = jw_schema__dynamic_target(c, n);
		if((r = validate(c, t, v)) != 1) {
			if(r == 0 && c->want && n->dyn_bookend)
				jw_schema__dynamic_note(c, n, t);
			return r;
		}
	}
	for(size_t i = 0; i < n->n_all_of; i++) {
		r = validate_same(c, n->all_of[i], v);
		if(r != 1)
			return r;
	}
	if(n->n_any_of > 0 && (r = validate_any_of(c, n, v)) != 1)
		return r;
	if(n->n_one_of > 0 && (r = validate_one_of(c, n, v)) != 1)
		return r;
	if(n->not_schema != NULL) {
		bool want = c->want;
		c->want = false;
		r = validate_same(c, n->not_schema, v);
		c->want = want;
		if(r < 0)
			return r;
		if(r == 1)
			return want ? jw_schema__fail_got(c, "not", v, "not: value matches the excluded schema")
			            : 0;
	}
	if(n->if_schema != NULL) {
		bool want = c->want;
		c->want = false;
		r = validate_same(c, n->if_schema, v);
		c->want = want;
		if(r < 0)
			return r;
		const struct jw_schema_node *branch = r ? n->then_schema : n->else_schema;
		if(branch != NULL && (r = validate_same(c, branch, v)) != 1)
			return r;
	}
	return 1;
}

/*
 * The keywords in a fixed order: type, const/enum, the ones for the
 * instance's type, then the applicators. n->groups lets a node skip every
 * group it does not use with one test each, so a leaf such as
 * {"type": "integer", "minimum": 0} costs a type test and a comparison.
 */
static int validate_slow(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	uint32_t g = n->groups;
	int r;

	if((g & JW_G_SCOPE) && (c->n_scope == 0 || c->scope[c->n_scope - 1] != n->resource))
		return jw_schema__in_scope(c, n, v);
	if(n->is_bool) {
		if(n->bool_value)
			return 1;
		return jw_schema__fail_got(c, "false", v, "false schema: no value is allowed here");
	}
	if((n->has & JW_HAS_TYPE) && !type_matches(n->types, v))
		return fail_type(c, n, v);
	if((g & JW_G_VALUE) && (r = validate_value(c, n, v)) != 1)
		return r;

	switch(v->type) {
		case JW_J_INT:
		case JW_J_DOUBLE:
			if((g & JW_G_NUMBER) && (r = validate_number(c, n, v)) != 1)
				return r;
			break;
		case JW_J_STRING:
			if((g & JW_G_STRING) && (r = validate_string(c, n, v)) != 1)
				return r;
			break;
		case JW_J_ARRAY:
			if((g & JW_G_ARRAY) && (r = validate_array(c, n, v)) != 1)
				return r;
			break;
		case JW_J_OBJECT:
			if(g & JW_G_OBJECT) {
				r = n->required_only ? validate_required(c, n, v) : validate_object(c, n, v);
				if(r != 1)
					return r;
			}
			/* if/then/else from the mask validate_object just left (see
			 * if_by_mask); only a pass is decided here. */
			if(n->if_by_mask && c->scan_obj == v && c->scan_node == n) {
				uint64_t p = c->scan_present;
				bool cond = ((p & n->if_mask) == n->if_mask) != n->if_neg;
				uint64_t need = cond ? n->then_mask : n->else_mask;
				if((p & need) == need)
					return 1;
			}
			break;
		default:
			break;
	}
	if((g & JW_G_APPLY) && ((r = validate_apply(c, n, v)) != 1 || !(g & JW_G_UNEVAL)))
		return r;
	/* Last: they need to know what every other keyword evaluated. */
	if(g & JW_G_UNEVAL)
		return jw_schema__unevaluated(c, n, v);
	return 1;
}

/* The slot of a name of at most 16 bytes (its words w0, w1) in n's word
 * hash, or NULL: out of line, so that the scan loop, which mostly hits
 * its guess, keeps its registers. */
__attribute__((noinline)) static const struct jw_schema_slot *slot_lookup(
        const struct jw_schema_node *n, uint64_t w0, uint64_t w1, size_t len)
{
	return jw_schema__slot_hit(n->props_hash, n->props_shift, n->props_mask, w0, w1, len);
}

/*
 * validate() of an object against an obj_fast node: the member scan of
 * validate_object with the slots' leaf copies, then "required",
 * additionalProperties, dependentRequired and "if" from the presence
 * mask. The members' own subschemas are validated in declared order as
 * there, so their failures are reported as they are; any other failure
 * sends the object through validate_slow, which finds and explains the
 * same first error (nothing before it failed, and validating has no
 * effect but its result).
 */
OUT_OF_LINE
static int validate_fast_object(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *o)
{
	const struct jw_jnode *own[JW_PROPS_MASK_MAX], **slot = own;
	uint64_t present = 0, pending = 0;
	/* Not kid + o->n for an empty object: its u.kids is NULL. */
	const struct jw_jnode *kid = o->u.kids, *end = o->n ? kid + o->n : kid;
	bool undeclared = false;
	int r;

	if(c->members != NULL && o == c->root && n == c->s->root)
		slot = c->members->member;
	const struct jw_schema_slot *const *order = n->props_order;
	const struct jw_schema_slot *guess = order[0];

	for(; kid < end; kid++) {
		const struct jw_schema_slot *e;
		size_t len = kid->keylen;
		if(len > 16) {
			e = jw_schema__prop_slot_any(n, kid->key, len);
		} else {
			uint64_t w0, w1;
			jw_schema__name_words(kid->key, len, &w0, &w1);
			e = guess;
			if(e->len != len || e->w0 != w0 || e->w1 != w1)
				e = slot_lookup(n, w0, w1, len);
		}
		if(e == NULL) {
			undeclared = true;
			continue;
		}
		guess = order[e->idx + 1];
		if(present & e->bit)
			continue;
		present |= e->bit;
		slot[e->idx] = kid;
		if(!slot_leaf_ok(e, kid))
			pending |= e->bit;
	}
	if(slot != own) {
		c->members->scanned = 1;
		c->members->present = present;
	}
	if((present & n->required_mask) != n->required_mask)
		return validate_slow(c, n, o);
	for(uint64_t left = pending; left != 0; left &= left - 1) {
		unsigned idx = (unsigned)__builtin_ctzll(left);
		push_key(c, n->props[idx].name);
		r = validate(c, n->props[idx].node, slot[idx]);
		pop(c);
		if(r != 1)
			return r;
	}
	if(n->additional != NULL && undeclared)
		return validate_slow(c, n, o);
	for(size_t i = 0; i < n->n_dep_required; i++) {
		if((present & n->dep_bit[i]) && (present & n->dep_mask[i]) != n->dep_mask[i])
			return validate_slow(c, n, o);
	}
	c->scan_obj = o;
	c->scan_node = n;
	c->scan_present = present;
	if(n->if_by_mask) {
		bool cond = ((present & n->if_mask) == n->if_mask) != n->if_neg;
		uint64_t need = cond ? n->then_mask : n->else_mask;
		if((present & need) != need)
			return validate_slow(c, n, o);
	}
	return 1;
}

int jw_schema_validate(
        const struct jw_schema *s, const struct json_object *instance, struct jw_schema_error *err)
{
	struct jw_jdoc d;
	int r;

	/* The validator reads arena trees; a json-c instance is converted. */
	jw_jdoc_init(&d);
	if(jw_jdoc_from_json(&d, instance) < 0) {
		jw_jdoc_free(&d);
		if(err != NULL) {
			err->pointer[0] = '\0';
			err->keyword[0] = '\0';
			snprintf(err->message, sizeof err->message, "out of memory while validating");
		}
		return -1;
	}
	r = jw_schema_validate_node(s, d.root, err);
	jw_jdoc_free(&d);
	return r;
}

static int validate_top(const struct jw_schema *s, const struct jw_jnode *instance,
        struct jw_schema_error *err, struct jw_schema_members *m)
{
	struct vctx c;
	struct verr top;
	int r;

	/* The path array is written before it is read; skip clearing it. */
	c.s = s;
	c.members = m;
	c.root = instance;
	c.md = NULL;
	c.err = &top;
	c.want = err != NULL;
	c.in_names = false;
	c.depth = 0;
	c.n_scope = 0;
	c.scan_obj = NULL;
	top.depth = 0;
	top.e.pointer[0] = top.e.keyword[0] = top.e.message[0] = '\0';

	r = validate(&c, s->root, instance);
	if(c.md != NULL)
		pcre2_match_data_free(c.md);

	if(err != NULL) {
		if(r == 0) {
			*err = top.e;
		} else {
			err->pointer[0] = '\0';
			err->keyword[0] = '\0';
			err->message[0] = '\0';
			if(r < 0)
				snprintf(err->message, sizeof err->message, "out of memory while validating");
		}
	}
	return r;
}

int jw_schema_validate_node(
        const struct jw_schema *s, const struct jw_jnode *instance, struct jw_schema_error *err)
{
	return validate_top(s, instance, err, NULL);
}

int jw_schema_validate_members(const struct jw_schema *s, const struct jw_jnode *instance,
        struct jw_schema_error *err, struct jw_schema_members *m)
{
	m->scanned = 0;
	m->present = 0;
	return validate_top(s, instance, err, m);
}

/* ---- for unevaluated.c ---- */

int jw_schema__sub(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	return validate(c, n, v);
}

int jw_schema__fail_detail(struct vctx *c, const char *keyword, const char *detail)
{
	return jw_schema__fail(c, NULL, keyword, "%s", detail);
}

void jw_schema__push_key(struct vctx *c, const char *key)
{
	push_key(c, key);
}

void jw_schema__push_index(struct vctx *c, size_t i)
{
	push_index(c, i);
}

void jw_schema__pop(struct vctx *c)
{
	pop(c);
}

int jw_schema__regex_search(struct vctx *c, const struct jw_regex *re, const char *s, size_t len)
{
	return regex_search(c, re, s, len);
}
