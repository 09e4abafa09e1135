/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * $ref and $dynamicRef resolution, once every schema object of the
 * document is compiled: URI resolution against the base where the
 * reference is written, documents fetched through the caller's loader
 * (jw_schema_options.load), JSON pointer and anchor fragments, and the
 * check that no cycle of same-location applicators can loop forever.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cctx.h"

static int hex_value(char ch)
{
	if(ch >= '0' && ch <= '9')
		return ch - '0';
	if(ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if(ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Decodes the %XX escapes (RFC 3986 section 2.1) of a URI fragment. %00
 * is refused: json-c keys cannot hold a NUL, so it could never resolve. */
static int percent_decode(struct cctx *c, const char *ref, const char *in, char **out)
{
	char buf[160];
	size_t len = strlen(in), o = 0;
	char *d = malloc(len + 1);

	if(d == NULL)
		return jw_schema__oom(c);
	for(size_t i = 0; i < len; i++) {
		if(in[i] != '%') {
			d[o++] = in[i];
			continue;
		}
		int hi = i + 2 < len ? hex_value(in[i + 1]) : -1;
		int lo = i + 2 < len ? hex_value(in[i + 2]) : -1;
		if(hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(d);
			return jw_schema__cerr(c, "%s %s has a malformed %%-escape", c->ref_kw,
			        jw_schema__quote(buf, sizeof buf, ref));
		}
		d[o++] = (char)(hi * 16 + lo);
		i += 2;
	}
	d[o] = '\0';
	*out = d;
	return 0;
}

/* One RFC 6901 step: a member name, or an array index written as digits
 * without leading zeros (section 4). */
static bool pointer_step(const struct json_object **cur, const char *tok)
{
	if(jw_schema__is_type(*cur, json_type_object)) {
		struct json_object *next;
		if(!json_object_object_get_ex(*cur, tok, &next))
			return false;
		*cur = next;
		return true;
	}
	if(!jw_schema__is_type(*cur, json_type_array))
		return false;
	if(tok[0] < '0' || tok[0] > '9' || (tok[0] == '0' && tok[1] != '\0'))
		return false;
	char *end;
	unsigned long long idx = strtoull(tok, &end, 10);
	if(*end != '\0' || idx >= json_object_array_length(*cur))
		return false;
	*cur = json_object_array_get_idx(*cur, (size_t)idx);
	return true;
}

/* Walks the RFC 6901 pointer p (already percent-decoded) from cur. */
static int pointer_walk(
        struct cctx *c, const char *ref, const char *p, const struct json_object **cur)
{
	char buf[160];
	char *tok = malloc(strlen(p) + 1);
	int rc = -1;

	if(tok == NULL)
		return jw_schema__oom(c);
	for(const char *s = p; *s == '/';) {
		size_t t = 0;
		for(s++; *s != '\0' && *s != '/'; s++) {
			if(*s != '~') {
				tok[t++] = *s;
			} else if(s[1] == '0' || s[1] == '1') {
				tok[t++] = s[1] == '0' ? '~' : '/';
				s++;
			} else {
				jw_schema__cerr(c, "%s %s has a malformed ~-escape", c->ref_kw,
				        jw_schema__quote(buf, sizeof buf, ref));
				goto out;
			}
		}
		tok[t] = '\0';
		if(!pointer_step(cur, tok)) {
			jw_schema__cerr(
			        c, "%s %s does not resolve", c->ref_kw, jw_schema__quote(buf, sizeof buf, ref));
			goto out;
		}
	}
	rc = 0;
out:
	free(tok);
	return rc;
}

/*
 * The schema document at uri (absolute, no fragment) that no $id compiled
 * so far names: fetched by the caller's loader, compiled as a resource of
 * its own (its errors name it), and registered under uri.
 */
static const struct named *load_document(struct cctx *c, const char *ref, const char *uri)
{
	char buf[160], lerr[256];
	struct json_object *doc = NULL;

	if(c->opts->load == NULL) {
		jw_schema__cerr(c, "%s %s does not resolve (no schema has the URI %s)", c->ref_kw,
		        jw_schema__quote(buf, sizeof buf, ref), uri);
		return NULL;
	}
	if(c->n_loaded == MAX_LOADED_DOCS) {
		jw_schema__cerr(c, "%s %s: more than %d schema documents referenced", c->ref_kw,
		        jw_schema__quote(buf, sizeof buf, ref), MAX_LOADED_DOCS);
		return NULL;
	}
	lerr[0] = '\0';
	if(c->opts->load(c->opts->load_ctx, uri, &doc, lerr, sizeof lerr) < 0) {
		jw_schema__cerr(c, "%s %s does not resolve: %s", c->ref_kw,
		        jw_schema__quote(buf, sizeof buf, ref), lerr);
		return NULL;
	}
	c->loaded[c->n_loaded++] = doc;
	const char *kept = jw_schema__keep_uri(c, strdup(uri));
	if(kept == NULL || jw_schema__add_name(c, kept, doc, kept, false) < 0)
		return NULL;
	const char *source = c->source, *base = c->base;
	const struct json_object *root = c->doc_root;
	uint32_t res = c->cur_res;
	c->source = kept;
	c->base = kept;
	c->doc_root = doc;
	if(jw_schema__loc_set(c, "") < 0 || jw_schema__new_resource(c) < 0)
		return NULL;
	struct jw_schema_node *n = jw_schema__compile_schema(c, doc);
	if(n == NULL)
		return NULL;
	n->res_root = true;
	c->source = source;
	c->base = base;
	c->doc_root = root;
	c->cur_res = res;
	return jw_schema__find_name(c, kept);
}

/*
 * Finds the target of a $ref: the reference resolved against its base URI
 * (RFC 3986 section 5.2), the part before "#" naming a resource (an $id,
 * a document root, or a document the loader fetches), the fragment empty,
 * an RFC 6901 pointer from that resource (percent-decoded first), or an
 * anchor name. *in is the resource, *ptr (allocated) the fragment.
 */
static int ref_target(struct cctx *c, const struct pending_ref *r, const struct json_object **out,
        const struct named **in, char **ptr)
{
	char buf[160];
	char *abs = jw_schema__uri_resolve(r->base, r->ref), *p = NULL;
	int rc = -1;

	*ptr = NULL;
	if(abs == NULL)
		return jw_schema__oom(c);
	char *hash = strchr(abs, '#');
	const char *frag = "";
	if(hash != NULL) {
		*hash = '\0';
		frag = hash + 1;
	}
	const struct named *res = jw_schema__find_name(c, abs);
	if(res == NULL && (res = load_document(c, r->ref, abs)) == NULL)
		goto out;
	if(percent_decode(c, r->ref, frag, &p) < 0)
		goto out;
	const struct json_object *cur = res->src;
	if(p[0] == '/') {
		if(pointer_walk(c, r->ref, p, &cur) < 0)
			goto out;
	} else if(p[0] != '\0') {
		*hash = '#';
		const struct named *a = jw_schema__find_name(c, abs);
		if(a == NULL || !a->anchor) {
			jw_schema__cerr(c, "%s %s does not resolve (no anchor named %s)", c->ref_kw,
			        jw_schema__quote(buf, sizeof buf, r->ref), p);
			goto out;
		}
		cur = a->src;
		res = a;
	}
	if(!jw_schema__is_type(cur, json_type_object) && !jw_schema__is_type(cur, json_type_boolean)) {
		jw_schema__cerr(c, "%s %s does not point to a schema", c->ref_kw,
		        jw_schema__quote(buf, sizeof buf, r->ref));
		goto out;
	}
	*out = cur;
	*in = res;
	*ptr = p;
	p = NULL;
	rc = 0;
out:
	free(abs);
	free(p);
	return rc;
}

/* A $dynamicRef to t: frag (decoded) is its fragment; a plain name whose
 * target has "$dynamicAnchor" of that name lets the dynamic scope decide. */
static int dynamic_ref(
        struct cctx *c, struct jw_schema_node *n, struct jw_schema_node *t, const char *frag)
{
	struct json_object *a;

	n->dyn_ref = t;
	c->s->dynamic = true;
	if(frag[0] == '\0' || frag[0] == '/' || t->is_bool ||
	        !json_object_object_get_ex(
	                (struct json_object *)(uintptr_t)t->src, "$dynamicAnchor", &a) ||
	        !jw_schema__is_type(a, json_type_string) ||
	        strcmp(json_object_get_string(a), frag) != 0)
		return 0;
	n->dyn_name = strdup(frag);
	if(n->dyn_name == NULL)
		return jw_schema__oom(c);
	n->dyn_bookend = true;
	return 0;
}

/* With $dynamicRef in the schema: the nodes where evaluation may enter a
 * resource (its root, any $ref or $dynamicRef target, any
 * "$dynamicAnchor") push it on the dynamic scope. */
void jw_schema__mark_scoped(struct jw_schema *s)
{
	if(!s->dynamic)
		return;
	for(size_t i = 0; i < s->n_nodes; i++) {
		struct jw_schema_node *n = s->nodes[i];
		if(n->res_root)
			n->scoped = true;
		if(n->ref != NULL)
			n->ref->scoped = true;
		if(n->dyn_ref != NULL)
			n->dyn_ref->scoped = true;
	}
	for(size_t r = 0; r < s->n_resources; r++)
		for(size_t k = 0; k < s->resources[r].n_anchors; k++)
			s->resources[r].anchors[k].node->scoped = true;
}

int jw_schema__resolve_refs(struct cctx *c)
{
	/* Compiling a target that is not yet a node may add refs, so walk by
	 * index: the array can move. */
	for(size_t i = 0; i < c->n_refs; i++) {
		const struct json_object *target = NULL;
		const struct named *in = NULL;
		struct jw_schema_node *t = NULL;
		char *ptr;

		if(jw_schema__loc_set(c, c->refs[i].loc) < 0)
			return -1;
		c->ref_kw = c->refs[i].dynamic ? "$dynamicRef" : "$ref";
		if(ref_target(c, &c->refs[i], &target, &in, &ptr) < 0)
			return -1;
		/* A linear scan per ref: compile time only, and event
		 * schemas have tens of nodes, not thousands. */
		for(size_t j = 0; j < c->s->n_nodes && t == NULL; j++) {
			if(c->s->nodes[j]->src == target)
				t = c->s->nodes[j];
		}
		if(t == NULL) {
			/* A ref into something that is not a schema position
			 * (e.g. "#/$defs/a/enum/0"): compile it there, once. */
			const char *base = c->base;
			c->base = in->base;
			if(jw_schema__loc_set(c, ptr) < 0) {
				free(ptr);
				return -1;
			}
			t = jw_schema__compile_schema(c, target);
			c->base = base;
		}
		if(t == NULL) {
			free(ptr);
			return -1;
		}
		if(c->refs[i].dynamic) {
			if(dynamic_ref(c, c->refs[i].node, t, ptr) < 0) {
				free(ptr);
				return -1;
			}
		} else {
			c->refs[i].node->ref = t;
		}
		free(ptr);
	}
	return 0;
}

/*
 * Applicators that evaluate the same instance location ($ref, allOf, anyOf,
 * oneOf, not, if/then/else, dependentSchemas) must not form a cycle, or
 * validation would never terminate ({"$ref": "#"} at the root). Cycles that
 * pass through properties or items are fine: each lap descends into the
 * instance, which is finite.
 */

static int check_edge(struct cctx *c, struct jw_schema_node *from, struct jw_schema_node *to)
{
	if(to == NULL)
		return 0;
	if(to->mark == 1) {
		if(jw_schema__loc_set(c, from->loc) < 0)
			return -1;
		return jw_schema__cerr(c, "infinite $ref recursion: this schema reaches itself again "
		                          "without descending into the instance");
	}
	return jw_schema__check_cycles(c, to);
}

int jw_schema__check_cycles(struct cctx *c, struct jw_schema_node *n)
{
	if(n->mark == 2)
		return 0;
	n->mark = 1;
	if(check_edge(c, n, n->ref) < 0 || check_edge(c, n, n->dyn_ref) < 0 ||
	        check_edge(c, n, n->not_schema) < 0 || check_edge(c, n, n->if_schema) < 0 ||
	        check_edge(c, n, n->then_schema) < 0 || check_edge(c, n, n->else_schema) < 0)
		return -1;
	for(size_t i = 0; i < n->n_all_of; i++)
		if(check_edge(c, n, n->all_of[i]) < 0)
			return -1;
	for(size_t i = 0; i < n->n_any_of; i++)
		if(check_edge(c, n, n->any_of[i]) < 0)
			return -1;
	for(size_t i = 0; i < n->n_one_of; i++)
		if(check_edge(c, n, n->one_of[i]) < 0)
			return -1;
	for(size_t i = 0; i < n->n_dep_schemas; i++)
		if(check_edge(c, n, n->dep_schemas[i].node) < 0)
			return -1;
	/* A $dynamicRef may land on any "$dynamicAnchor" of its name. */
	for(size_t r = 0; n->dyn_bookend && r < c->s->n_resources; r++) {
		const struct jw_schema_resource *res = &c->s->resources[r];
		for(size_t k = 0; k < res->n_anchors; k++)
			if(strcmp(res->anchors[k].name, n->dyn_name) == 0 &&
			        check_edge(c, n, res->anchors[k].node) < 0)
				return -1;
	}
	n->mark = 2;
	return 0;
}
