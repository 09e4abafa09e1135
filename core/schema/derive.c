/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * What validation derives from the compiled keywords, once every node and
 * $ref exists: the property hash tables, the member bits of "required" and
 * "dependentRequired", the inline bounds of leaf subschemas and the flags
 * that let the object walk take its fast path (validate.c). Nothing here
 * reads the schema document.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

/*
 * The property tables are not util/htab.h tables, on purpose: they are
 * built once per schema and never change, and a lookup for every member
 * of every event hashes one or two machine words of the name (the whole
 * name only when those collide), with lengths and indexes packed in the
 * slot; a general table would hash every byte and chase an item pointer.
 *
 * Longest probe (slots past the home slot) accepted from the word hash
 * before the table is rebuilt hashing every byte of the names.
 */
#define PROBE_MAX 3

/* Fills n->props_hash; returns the longest probe, or -1 (no memory). */
static long props_table(struct jw_schema_node *n, bool full)
{
	unsigned bits = 1;
	long longest = 0;

	/* Slots hold 32-bit lengths and indexes; a longer name could never
	 * match an instance key anyway (their length is a uint32_t). */
	for(size_t i = 0; i < n->n_props; i++)
		if(n->props[i].len >= UINT32_MAX)
			return -1;
	while(((size_t)1 << bits) < 2 * n->n_props) {
		if(++bits > 30)
			return -1;
	}
	struct jw_schema_slot *tab = calloc((size_t)1 << bits, sizeof *tab);
	if(tab == NULL)
		return -1;
	uint32_t shift = 64 - bits;
	uint64_t mask = UINT64_MAX >> shift;
	for(size_t i = 0; i < ((size_t)1 << bits); i++)
		tab[i].len = UINT32_MAX;
	for(size_t i = 0; i < n->n_props; i++) {
		const struct jw_schema_prop *p = &n->props[i];
		uint64_t w0, w1;
		jw_schema__name_words(p->name, p->len, &w0, &w1);
		uint64_t slot = jw_schema__name_hash(p->name, p->len, w0, w1, full) >> shift;
		long probe = 0;
		while(tab[slot].name != NULL) {
			slot = (slot + 1) & mask;
			probe++;
		}
		tab[slot].w0 = w0;
		tab[slot].w1 = w1;
		tab[slot].name = p->name;
		tab[slot].node = p->node;
		tab[slot].len = (uint32_t)p->len;
		tab[slot].idx = (uint32_t)i;
		tab[slot].bit = i < 64 ? (uint64_t)1 << i : 0;
		if(probe > longest)
			longest = probe;
	}
	free(n->props_hash);
	n->props_hash = tab;
	n->props_shift = shift;
	n->props_mask = mask;
	n->props_hash_full = full;
	return longest;
}

const struct jw_schema_slot *jw_schema__prop_slot_any(
        const struct jw_schema_node *n, const char *s, size_t len)
{
	uint64_t w0, w1;

	if(n->n_props == 0)
		return NULL;
	jw_schema__name_words(s, len, &w0, &w1);
	uint64_t i = jw_schema__name_hash(s, len, w0, w1, n->props_hash_full) >> n->props_shift;
	for(;;) {
		const struct jw_schema_slot *e = &n->props_hash[i];
		if(e->name == NULL)
			return NULL;
		if(e->len == len && e->w0 == w0 && e->w1 == w1 &&
		        (len <= 16 || memcmp(e->name, s, len) == 0))
			return e;
		i = (i + 1) & n->props_mask;
	}
}

/* The presence bit of the declared property name, or 0 when the name is
 * not declared or n tracks no presence mask. */
static uint64_t prop_bit(const struct jw_schema_node *n, const char *name, size_t len)
{
	if(n->n_props == 0 || n->n_props > JW_PROPS_MASK_MAX)
		return 0;
	long i = jw_schema__prop_find(n, name, len);
	return i < 0 ? 0 : (uint64_t)1 << i;
}

/* Magnitude up to which every int64 converts to a double exactly. */
#define EXACT_INT_MAX ((int64_t)1 << 53)

/* Whether b's d is its exact value. */
static bool exact_double(const struct jw_num *b)
{
	return !b->is_int || (b->i >= -EXACT_INT_MAX && b->i <= EXACT_INT_MAX);
}

/* The leaf_* forms of a leaf node's keywords (see struct jw_schema_node). */
static void leaf_finish(struct jw_schema_node *n)
{
	bool has_min = n->has & JW_HAS_MINIMUM, has_max = n->has & JW_HAS_MAXIMUM;

	n->leaf_accept = 0;
	for(unsigned t = JW_J_NULL; t <= JW_J_OBJECT; t++)
		if(!(n->has & JW_HAS_TYPE) || (n->types & jw_schema__type_bits(t)))
			n->leaf_accept |= 1u << t;
	/* A bound the fast form cannot hold exactly leaves it an empty range
	 * (min above max), which sends every value the long way. */
	if((!has_min || n->minimum.is_int) && (!has_max || n->maximum.is_int)) {
		n->leaf_imin = has_min ? n->minimum.i : INT64_MIN;
		n->leaf_imax = has_max ? n->maximum.i : INT64_MAX;
	} else {
		n->leaf_imin = INT64_MAX;
		n->leaf_imax = INT64_MIN;
	}
	if((!has_min || exact_double(&n->minimum)) && (!has_max || exact_double(&n->maximum))) {
		n->leaf_dmin = has_min ? n->minimum.d : -HUGE_VAL;
		n->leaf_dmax = has_max ? n->maximum.d : HUGE_VAL;
	} else {
		n->leaf_dmin = HUGE_VAL;
		n->leaf_dmax = -HUGE_VAL;
	}
	n->leaf_lmin = (n->has & JW_HAS_MIN_LENGTH) ? n->min_length : 0;
	n->leaf_lmax = (n->has & JW_HAS_MAX_LENGTH) ? n->max_length : SIZE_MAX;
}

/* k for the NUL-terminated name s (which k points into). */
static void name_key(struct jw_schema_name *k, const char *s)
{
	k->s = s;
	k->len = strlen(s);
	jw_schema__name_words(s, k->len, &k->w0, &k->w1);
}

int jw_schema__finish(struct jw_schema_node *n)
{
	uint32_t g = 0;

	if(n->is_bool)
		return 0;
	if(n->has & (JW_HAS_CONST | JW_HAS_ENUM))
		g |= JW_G_VALUE;
	if(n->has & (JW_HAS_MINIMUM | JW_HAS_MAXIMUM | JW_HAS_EX_MINIMUM | JW_HAS_EX_MAXIMUM |
	                    JW_HAS_MULTIPLE_OF))
		g |= JW_G_NUMBER;
	if(n->has & (JW_HAS_MIN_LENGTH | JW_HAS_MAX_LENGTH | JW_HAS_PATTERN | JW_HAS_FORMAT))
		g |= JW_G_STRING;
	if((n->has & (JW_HAS_MIN_ITEMS | JW_HAS_MAX_ITEMS | JW_HAS_UNIQUE | JW_HAS_MIN_CONTAINS |
	                     JW_HAS_MAX_CONTAINS)) ||
	        n->n_prefix_items > 0 || n->items != NULL || n->contains != NULL)
		g |= JW_G_ARRAY;
	if((n->has & (JW_HAS_MIN_PROPS | JW_HAS_MAX_PROPS)) || n->n_required > 0 || n->n_props > 0 ||
	        n->n_pattern_props > 0 || n->additional != NULL || n->property_names != NULL ||
	        n->n_dep_required > 0 || n->n_dep_schemas > 0)
		g |= JW_G_OBJECT;
	if(n->ref != NULL || n->dyn_ref != NULL || n->n_all_of > 0 || n->n_any_of > 0 ||
	        n->n_one_of > 0 || n->not_schema != NULL || n->if_schema != NULL)
		g |= JW_G_APPLY;
	if(n->unevaluated_props != NULL || n->unevaluated_items != NULL)
		g |= JW_G_UNEVAL;
	if(n->scoped)
		g |= JW_G_SCOPE;
	n->groups = g;
	n->leaf = (g & ~(uint32_t)(JW_G_NUMBER | JW_G_STRING)) == 0 &&
	          (n->has & ~(uint32_t)(JW_HAS_TYPE | JW_HAS_MINIMUM | JW_HAS_MAXIMUM |
	                                JW_HAS_MIN_LENGTH | JW_HAS_MAX_LENGTH)) == 0;
	if(n->leaf)
		leaf_finish(n);
	n->required_only = g == JW_G_OBJECT && n->has == 0 && n->n_required > 0 && n->n_props == 0 &&
	                   n->n_pattern_props == 0 && n->additional == NULL &&
	                   n->property_names == NULL && n->n_dep_required == 0 && n->n_dep_schemas == 0;
	n->apply_only = g == JW_G_APPLY && n->has == 0;
	n->not_only = n->apply_only && n->not_schema != NULL && n->ref == NULL && n->n_all_of == 0 &&
	              n->n_any_of == 0 && n->n_one_of == 0 && n->if_schema == NULL;

	for(size_t i = 0; i < n->n_props; i++)
		n->props[i].len = strlen(n->props[i].name);
	for(size_t i = 0; i < n->n_dep_schemas; i++)
		n->dep_schemas[i].len = strlen(n->dep_schemas[i].name);
	if(n->n_props > 0) {
		long longest = props_table(n, false);
		if(longest > PROBE_MAX)
			longest = props_table(n, true);
		if(longest < 0)
			return -1;
	}

	if(n->n_required > 0) {
		n->required_key = calloc(n->n_required, sizeof *n->required_key);
		n->required_bit = calloc(n->n_required, sizeof *n->required_bit);
		if(n->required_key == NULL || n->required_bit == NULL)
			return -1;
		n->required_by_mask = true;
		n->required_mask = 0;
		for(size_t i = 0; i < n->n_required; i++) {
			name_key(&n->required_key[i], n->required[i]);
			n->required_bit[i] = prop_bit(n, n->required[i], n->required_key[i].len);
			if(n->required_bit[i] == 0)
				n->required_by_mask = false;
			n->required_mask |= n->required_bit[i];
		}
	}

	for(size_t i = 0; i < n->n_dep_required; i++) {
		struct jw_schema_dep *d = &n->dep_required[i];
		name_key(&d->name_key, d->name);
		d->name_bit = prop_bit(n, d->name, d->name_key.len);
		d->by_mask = d->name_bit != 0;
		d->required_mask = 0;
		d->required_key = calloc(d->n_required + 1, sizeof *d->required_key);
		if(d->required_key == NULL)
			return -1;
		for(size_t j = 0; j < d->n_required; j++) {
			name_key(&d->required_key[j], d->required[j]);
			uint64_t bit = prop_bit(n, d->required[j], d->required_key[j].len);
			if(bit == 0)
				d->by_mask = false;
			d->required_mask |= bit;
		}
	}
	return 0;
}

/* The presence bits in n of the names of r, a required-only node, or
 * false when r is not one or a name is not a declared property of n. */
static bool required_bits(
        const struct jw_schema_node *n, const struct jw_schema_node *r, uint64_t *mask)
{
	if(r->is_bool || !r->required_only)
		return false;
	*mask = 0;
	for(size_t i = 0; i < r->n_required; i++) {
		uint64_t bit = prop_bit(n, r->required[i], r->required_key[i].len);
		if(bit == 0)
			return false;
		*mask |= bit;
	}
	return true;
}

/* The if_by_mask forms of n. */
static void finish_if(struct jw_schema_node *n)
{
	const struct jw_schema_node *cond;
	uint64_t if_mask = 0, then_mask = 0, else_mask = 0;
	bool neg = false;

	n->if_by_mask = false;
	/* The node's scan must leave its mask behind (validate_object does
	 * so for a word-hashed table of at most JW_PROPS_MASK_MAX), and
	 * nothing may run between the object keywords and "if". */
	if(n->is_bool || n->required_only || n->if_schema == NULL || n->n_props == 0 ||
	        n->n_props > JW_PROPS_MASK_MAX || n->props_hash_full || n->ref != NULL ||
	        n->n_all_of > 0 || n->n_any_of > 0 || n->n_one_of > 0 || n->not_schema != NULL ||
	        n->dyn_ref != NULL || (n->groups & (JW_G_UNEVAL | JW_G_SCOPE)))
		return;
	cond = n->if_schema;
	if(!cond->is_bool && cond->not_only) {
		cond = cond->not_schema;
		neg = true;
	}
	if(!required_bits(n, cond, &if_mask))
		return;
	if(n->then_schema != NULL && !required_bits(n, n->then_schema, &then_mask))
		return;
	if(n->else_schema != NULL && !required_bits(n, n->else_schema, &else_mask))
		return;
	n->if_neg = neg;
	n->if_mask = if_mask;
	n->then_mask = then_mask;
	n->else_mask = else_mask;
	n->if_by_mask = true;
}

/* Whether n qualifies for obj_fast (see struct jw_schema_node). */
static bool obj_fast(const struct jw_schema_node *n)
{
	if(n->is_bool || n->required_only || n->n_props == 0 || n->n_props > JW_PROPS_MASK_MAX ||
	        n->props_hash_full)
		return false;
	if((n->has & JW_HAS_TYPE) && !(n->types & JW_T_OBJECT))
		return false;
	if(n->has & (JW_HAS_CONST | JW_HAS_ENUM | JW_HAS_MIN_PROPS | JW_HAS_MAX_PROPS))
		return false;
	if(n->n_pattern_props > 0 || n->property_names != NULL || n->n_dep_schemas > 0)
		return false;
	if(n->additional != NULL && !(n->additional->is_bool && !n->additional->bool_value))
		return false;
	if(n->n_required > 0 && !n->required_by_mask)
		return false;
	for(size_t i = 0; i < n->n_dep_required; i++)
		if(!n->dep_required[i].by_mask)
			return false;
	if((n->groups & JW_G_APPLY) && !n->if_by_mask)
		return false;
	if(n->groups & (JW_G_UNEVAL | JW_G_SCOPE))
		return false;
	return true;
}

int jw_schema__finish_late(struct jw_schema_node *n)
{
	if(n->is_bool)
		return 0;
	finish_if(n);
	if(n->props_hash != NULL) {
		size_t slots = (size_t)n->props_mask + 1;
		for(size_t i = 0; i < slots; i++) {
			struct jw_schema_slot *e = &n->props_hash[i];
			if(e->name == NULL || e->node->is_bool || !e->node->leaf)
				continue;
			e->leaf_accept = e->node->leaf_accept;
			e->leaf_imin = e->node->leaf_imin;
			e->leaf_imax = e->node->leaf_imax;
			e->leaf_dmin = e->node->leaf_dmin;
			e->leaf_dmax = e->node->leaf_dmax;
			e->leaf_lmin = e->node->leaf_lmin;
			e->leaf_lmax = e->node->leaf_lmax;
		}
	}
	n->obj_fast = obj_fast(n);
	if(n->obj_fast) {
		/* The last entry: a slot no key of at most 16 bytes matches. */
		static const struct jw_schema_slot none = {.len = UINT32_MAX};
		size_t slots = (size_t)n->props_mask + 1;
		n->props_order = calloc(n->n_props + 1, sizeof *n->props_order);
		if(n->props_order == NULL)
			return -1;
		for(size_t i = 0; i < slots; i++)
			if(n->props_hash[i].name != NULL)
				n->props_order[n->props_hash[i].idx] = &n->props_hash[i];
		n->props_order[n->n_props] = &none;
	}
	if(n->obj_fast && n->n_dep_required > 0) {
		n->dep_bit = calloc(n->n_dep_required, sizeof *n->dep_bit);
		n->dep_mask = calloc(n->n_dep_required, sizeof *n->dep_mask);
		if(n->dep_bit == NULL || n->dep_mask == NULL)
			return -1;
		for(size_t i = 0; i < n->n_dep_required; i++) {
			n->dep_bit[i] = n->dep_required[i].name_bit;
			n->dep_mask[i] = n->dep_required[i].required_mask;
		}
	}
	return 0;
}

int jw_schema_root_property(const struct jw_schema *s, const char *name)
{
	const struct jw_schema_node *n = s != NULL ? s->root : NULL;

	if(n == NULL || n->is_bool || n->n_props == 0 || n->n_props > JW_PROPS_MASK_MAX)
		return -1;
	return (int)jw_schema__prop_find(n, name, strlen(name));
}
