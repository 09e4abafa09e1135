/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * $dynamicRef and the dynamic scope (JSON Schema 2020-12 core, 8.2.3.2).
 * Evaluation keeps the stack of schema resources it has entered, from the
 * outermost; a $dynamicRef whose static target carries the
 * "$dynamicAnchor" it names resolves instead to the outermost resource of
 * that stack with a "$dynamicAnchor" of the same name. Only schemas that
 * use $dynamicRef mark nodes JW_G_SCOPE, so no other schema pushes
 * anything.
 */
#include <stdio.h>
#include <string.h>

#include "vctx.h"

int jw_schema__in_scope(struct vctx *c, const struct jw_schema_node *n, const struct jw_jnode *v)
{
	char detail[120];

	if(c->n_scope == JW_SCOPE_MAX) {
		snprintf(detail, sizeof detail,
		        "$dynamicRef: the dynamic scope is deeper than %d schema resources", JW_SCOPE_MAX);
		return jw_schema__fail_detail(c, "$dynamicRef", detail);
	}
	c->scope[c->n_scope++] = n->resource;
	int r = jw_schema__sub(c, n, v);
	c->n_scope--;
	return r;
}

const struct jw_schema_node *jw_schema__dynamic_target(
        const struct vctx *c, const struct jw_schema_node *n)
{
	if(!n->dyn_bookend)
		return n->dyn_ref;
	for(size_t i = 0; i < c->n_scope; i++) {
		const struct jw_schema_resource *res = &c->s->resources[c->scope[i]];
		for(size_t k = 0; k < res->n_anchors; k++)
			if(strcmp(res->anchors[k].name, n->dyn_name) == 0)
				return res->anchors[k].node;
	}
	return n->dyn_ref;
}

void jw_schema__dynamic_note(
        struct vctx *c, const struct jw_schema_node *n, const struct jw_schema_node *target)
{
	char *msg = c->err->e.message;
	size_t len = strlen(msg);

	snprintf(msg + len, sizeof c->err->e.message - len,
	        " ($dynamicRef \"#%s\" in the dynamic scope: %s)", n->dyn_name,
	        c->s->resources[target->resource].uri);
	jw_schema__utf8_trim(msg);
}
