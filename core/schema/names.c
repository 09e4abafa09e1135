/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Names of schemas for references: "$id" (a schema resource with its own
 * base URI), "$anchor" and "$dynamicAnchor" (a place in a resource), as
 * compilation meets them. ref.c looks them up.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cctx.h"

/* Takes ownership of uri (NULL: out of memory) into c->uris. */
const char *jw_schema__keep_uri(struct cctx *c, char *uri)
{
	if(uri == NULL) {
		jw_schema__oom(c);
		return NULL;
	}
	if(c->n_uris == c->cap_uris) {
		size_t cap = c->cap_uris ? c->cap_uris * 2 : 16;
		char **p = realloc(c->uris, cap * sizeof *p);
		if(p == NULL) {
			free(uri);
			jw_schema__oom(c);
			return NULL;
		}
		c->uris = p;
		c->cap_uris = cap;
	}
	c->uris[c->n_uris++] = uri;
	return uri;
}

const struct named *jw_schema__find_name(const struct cctx *c, const char *uri)
{
	for(size_t i = 0; i < c->n_names; i++)
		if(strcmp(c->names[i].uri, uri) == 0)
			return &c->names[i];
	return NULL;
}

/* Registers uri (kept) as naming src; the same name for another schema
 * is an error, as the target of a $ref to it would be ambiguous. */
int jw_schema__add_name(struct cctx *c, const char *uri, const struct json_object *src,
        const char *base, bool anchor)
{
	char buf[160];
	const struct named *old = jw_schema__find_name(c, uri);

	if(old != NULL) {
		if(old->src == src)
			return 0;
		return jw_schema__cerr(c, "%s %s names two different schemas",
		        anchor ? "anchor" : "\"$id\"", jw_schema__quote(buf, sizeof buf, uri));
	}
	if(c->n_names == c->cap_names) {
		size_t cap = c->cap_names ? c->cap_names * 2 : 8;
		struct named *p = realloc(c->names, cap * sizeof *p);
		if(p == NULL)
			return jw_schema__oom(c);
		c->names = p;
		c->cap_names = cap;
	}
	c->names[c->n_names++] = (struct named){uri, src, base, anchor};
	return 0;
}

/* "$anchor" names: ^[A-Za-z_][-A-Za-z0-9._]*$ (2020-12 core, 8.2.2). */
static bool anchor_name(const char *s)
{
	if(!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for(s++; *s != '\0'; s++)
		if(!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		           *s == '-' || *s == '.' || *s == '_'))
			return false;
	return true;
}

/* Starts a new schema resource; makes it the current one. */
int jw_schema__new_resource(struct cctx *c)
{
	struct jw_schema *s = c->s;

	if(s->n_resources == s->cap_resources) {
		size_t cap = s->cap_resources ? s->cap_resources * 2 : 4;
		struct jw_schema_resource *p = realloc(s->resources, cap * sizeof *p);
		if(p == NULL)
			return jw_schema__oom(c);
		s->resources = p;
		s->cap_resources = cap;
	}
	memset(&s->resources[s->n_resources], 0, sizeof s->resources[0]);
	s->resources[s->n_resources].uri = strdup(c->base);
	if(s->resources[s->n_resources].uri == NULL)
		return jw_schema__oom(c);
	c->cur_res = (uint32_t)s->n_resources++;
	return 0;
}

/* base#name for an anchor, kept. */
static const char *anchor_uri(struct cctx *c, const char *name)
{
	size_t len = strlen(c->base) + strlen(name) + 2;
	char *uri = malloc(len);

	if(uri != NULL)
		snprintf(uri, len, "%s#%s", c->base, name);
	return jw_schema__keep_uri(c, uri);
}

/* "$dynamicAnchor": an anchor, and a name of the current resource for
 * $dynamicRef. */
static int dynamic_anchor(struct cctx *c, struct jw_schema_node *n, struct json_object *v)
{
	if(!jw_schema__is_type(v, json_type_string) || !anchor_name(json_object_get_string(v)))
		return jw_schema__cerr(
		        c, "\"$dynamicAnchor\" must be a name matching ^[A-Za-z_][-A-Za-z0-9._]*$");
	const char *name = json_object_get_string(v);
	const char *uri = anchor_uri(c, name);
	if(uri == NULL || jw_schema__add_name(c, uri, n->src, c->base, true) < 0)
		return -1;
	struct jw_schema_resource *res = &c->s->resources[c->cur_res];
	struct jw_schema_dyn_anchor *p =
	        realloc(res->anchors, (res->n_anchors + 1) * sizeof *res->anchors);
	if(p == NULL)
		return jw_schema__oom(c);
	res->anchors = p;
	p[res->n_anchors].name = strdup(name);
	p[res->n_anchors].node = n;
	if(p[res->n_anchors].name == NULL)
		return jw_schema__oom(c);
	res->n_anchors++;
	return 0;
}

/*
 * Before obj's keywords: "$id" sets the base URI for everything in obj
 * (resolved against the enclosing one, RFC 3986 section 5.2) and names
 * obj by it; "$anchor" names obj by base#anchor. The caller restores
 * c->base after obj.
 */
int jw_schema__scope_enter(struct cctx *c, const struct json_object *obj, struct jw_schema_node *n)
{
	char buf[160];
	struct json_object *v;

	if(json_object_object_get_ex(obj, "$id", &v)) {
		if(!jw_schema__is_type(v, json_type_string))
			return jw_schema__cerr(c, "\"$id\" must be a string");
		const char *id = json_object_get_string(v);
		char *abs = jw_schema__uri_resolve(c->base, id);
		if(abs == NULL)
			return jw_schema__oom(c);
		char *hash = strchr(abs, '#');
		if(hash != NULL && hash[1] != '\0') {
			free(abs);
			return jw_schema__cerr(c, "\"$id\" %s has a fragment (name a place with \"$anchor\")",
			        jw_schema__quote(buf, sizeof buf, id));
		}
		if(hash != NULL)
			*hash = '\0';
		const char *uri = jw_schema__keep_uri(c, abs);
		if(uri == NULL || jw_schema__add_name(c, uri, obj, uri, false) < 0)
			return -1;
		c->base = uri;
		if(jw_schema__new_resource(c) < 0)
			return -1;
		n->res_root = true;
	}
	if(json_object_object_get_ex(obj, "$anchor", &v)) {
		if(!jw_schema__is_type(v, json_type_string) || !anchor_name(json_object_get_string(v)))
			return jw_schema__cerr(
			        c, "\"$anchor\" must be a name matching ^[A-Za-z_][-A-Za-z0-9._]*$");
		const char *kept = anchor_uri(c, json_object_get_string(v));
		if(kept == NULL || jw_schema__add_name(c, kept, obj, c->base, true) < 0)
			return -1;
	}
	if(json_object_object_get_ex(obj, "$dynamicAnchor", &v) && dynamic_anchor(c, n, v) < 0)
		return -1;
	return 0;
}
