/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * unevaluatedProperties and unevaluatedItems (JSON Schema 2020-12,
 * "unevaluated" vocabulary). They apply to the members (items) of an
 * instance that no other keyword evaluated: not this node's properties,
 * patternProperties, additionalProperties (prefixItems, items, contains),
 * nor those of any subschema applied to the same instance that holds:
 * $ref, every allOf branch, the anyOf and oneOf branches that hold, "if"
 * and the branch it selects, the dependentSchemas of present members, and
 * a nested unevaluated* keyword (which evaluates everything left).
 *
 * Only schemas that use these keywords pay: validate.c calls in here
 * after the node's other keywords passed, and collecting re-checks the
 * conditional branches (anyOf, oneOf, if, contains) for their verdicts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vctx.h"

/* The verdict alone of n on v. */
static int holds(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	bool want = c->want;

	c->want = false;
	int r = jw_schema__sub(c, n, v);
	c->want = want;
	return r;
}

typedef int (*collect_fn)(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v,
        bool *ev, bool self);

/*
 * The applicators both collections follow: $ref, allOf, the anyOf and
 * oneOf branches that hold, if/then/else, dependentSchemas. n holds on v.
 * Returns 0, or -1 (no memory).
 */
static int collect_applied(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v,
        bool *ev, collect_fn fn)
{
	int r;

	if(n->ref != NULL && fn(c, n->ref, v, ev, false) < 0)
		return -1;
	if(n->dyn_ref != NULL && fn(c, jw_schema__dynamic_target(c, n), v, ev, false) < 0)
		return -1;
	for(size_t i = 0; i < n->n_all_of; i++)
		if(fn(c, n->all_of[i], v, ev, false) < 0)
			return -1;
	for(size_t i = 0; i < n->n_any_of; i++) {
		if((r = holds(c, n->any_of[i], v)) < 0)
			return -1;
		if(r == 1 && fn(c, n->any_of[i], v, ev, false) < 0)
			return -1;
	}
	for(size_t i = 0; i < n->n_one_of; i++) {
		if((r = holds(c, n->one_of[i], v)) < 0)
			return -1;
		if(r == 1 && fn(c, n->one_of[i], v, ev, false) < 0)
			return -1;
	}
	if(n->if_schema != NULL) {
		if((r = holds(c, n->if_schema, v)) < 0)
			return -1;
		if(r == 1 && fn(c, n->if_schema, v, ev, false) < 0)
			return -1;
		const struct jw_schema_node *branch = r == 1 ? n->then_schema : n->else_schema;
		if(branch != NULL && fn(c, branch, v, ev, false) < 0)
			return -1;
	}
	if(v->type == JW_J_OBJECT) {
		for(size_t i = 0; i < n->n_dep_schemas; i++) {
			const struct jw_schema_prop *d = &n->dep_schemas[i];
			for(uint32_t m = 0; m < v->n; m++) {
				const struct jw_jnode *k = &v->u.kids[m];
				if(k->keylen == d->len && memcmp(k->key, d->name, d->len) == 0) {
					if(fn(c, d->node, v, ev, false) < 0)
						return -1;
					break;
				}
			}
		}
	}
	return 0;
}

/* Marks in ev the members of object o that n (holding on o) evaluates;
 * self: n's own unevaluatedProperties is the one being applied. */
static int collect_props(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *o,
        bool *ev, bool self)
{
	if(n->is_bool)
		return 0;
	if(n->additional != NULL || (!self && n->unevaluated_props != NULL)) {
		for(uint32_t m = 0; m < o->n; m++)
			ev[m] = true;
		return 0;
	}
	for(uint32_t m = 0; m < o->n && (n->n_props > 0 || n->n_pattern_props > 0); m++) {
		const struct jw_jnode *k = &o->u.kids[m];
		if(ev[m])
			continue;
		if(n->n_props > 0 && jw_schema__prop_find(n, k->key, k->keylen) >= 0) {
			ev[m] = true;
			continue;
		}
		for(size_t i = 0; i < n->n_pattern_props && !ev[m]; i++) {
			int r = jw_schema__regex_search(c, &n->pattern_props[i].re, k->key, k->keylen);
			if(r == -1)
				return -1;
			ev[m] = r == 1;
		}
	}
	return collect_applied(c, n, o, ev, collect_props);
}

/* The same for the items of array a: prefixItems, items, contains. */
static int collect_items(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *a,
        bool *ev, bool self)
{
	if(n->is_bool)
		return 0;
	if(n->items != NULL || (!self && n->unevaluated_items != NULL)) {
		for(uint32_t i = 0; i < a->n; i++)
			ev[i] = true;
		return 0;
	}
	for(size_t i = 0; i < a->n && i < n->n_prefix_items; i++)
		ev[i] = true;
	if(n->contains != NULL) {
		for(uint32_t i = 0; i < a->n; i++) {
			if(ev[i])
				continue;
			int r = holds(c, n->contains, &a->u.kids[i]);
			if(r < 0)
				return -1;
			ev[i] = r == 1;
		}
	}
	return collect_applied(c, n, a, ev, collect_items);
}

static int apply(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v,
        const struct jw_schema_node *u, bool props)
{
	char detail[200], name[VALUE_LIMIT + 8];
	const char *kw = props ? "unevaluatedProperties" : "unevaluatedItems";
	bool small[64];
	bool *ev = v->n <= 64 ? small : calloc(v->n, sizeof *ev);
	int r = 1;

	if(ev == NULL)
		return -1;
	memset(ev, 0, (v->n <= 64 ? 64 : v->n) * sizeof *ev);
	if((props ? collect_props(c, n, v, ev, true) : collect_items(c, n, v, ev, true)) < 0) {
		r = -1;
		goto out;
	}
	for(uint32_t m = 0; m < v->n && r == 1; m++) {
		if(ev[m])
			continue;
		if(props)
			jw_schema__push_key(c, v->u.kids[m].key);
		else
			jw_schema__push_index(c, m);
		if(u->is_bool && !u->bool_value) {
			if(c->want && props) {
				jw_schema__render_string(
				        name, sizeof name, VALUE_LIMIT, v->u.kids[m].key, v->u.kids[m].keylen);
				snprintf(detail, sizeof detail,
				        "unevaluatedProperties: property %s is not allowed (no applied "
				        "subschema evaluated it)",
				        name);
			} else if(c->want) {
				snprintf(detail, sizeof detail,
				        "unevaluatedItems: item %u is not allowed (no applied subschema "
				        "evaluated it)",
				        m);
			}
			r = jw_schema__fail_detail(c, kw, detail);
		} else {
			r = jw_schema__sub(c, u, &v->u.kids[m]);
		}
		jw_schema__pop(c);
	}
out:
	if(ev != small)
		free(ev);
	return r;
}

int jw_schema__unevaluated(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	if(v->type == JW_J_OBJECT && n->unevaluated_props != NULL && v->n > 0)
		return apply(c, n, v, n->unevaluated_props, true);
	if(v->type == JW_J_ARRAY && n->unevaluated_items != NULL && v->n > 0)
		return apply(c, n, v, n->unevaluated_items, false);
	return 1;
}
