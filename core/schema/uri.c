/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * URI reference resolution (RFC 3986 section 5.2) for $id, $ref and
 * $anchor: compile time only. Strings are treated as already valid
 * URI references; nothing is percent-decoded here.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "node.h"

struct parts {
	const char *scheme, *auth, *path, *query, *frag;
	size_t scheme_len, auth_len, path_len, query_len, frag_len;
	bool has_scheme, has_auth, has_query, has_frag;
};

/* RFC 3986 appendix B, without the regex. */
static void split(const char *s, struct parts *p)
{
	memset(p, 0, sizeof *p);
	const char *c = s;
	while(*c != '\0' && *c != ':' && *c != '/' && *c != '?' && *c != '#')
		c++;
	if(*c == ':' && c > s) {
		p->has_scheme = true;
		p->scheme = s;
		p->scheme_len = (size_t)(c - s);
		s = c + 1;
	}
	if(s[0] == '/' && s[1] == '/') {
		p->has_auth = true;
		p->auth = s + 2;
		p->auth_len = strcspn(p->auth, "/?#");
		s = p->auth + p->auth_len;
	}
	p->path = s;
	p->path_len = strcspn(s, "?#");
	s += p->path_len;
	if(*s == '?') {
		p->has_query = true;
		p->query = s + 1;
		p->query_len = strcspn(p->query, "#");
		s = p->query + p->query_len;
	}
	if(*s == '#') {
		p->has_frag = true;
		p->frag = s + 1;
		p->frag_len = strlen(p->frag);
	}
}

/* RFC 3986 section 5.2.4 over in[0..len), into out (at least len + 1). */
static size_t remove_dots(const char *in, size_t len, char *out)
{
	size_t o = 0, i = 0;

	while(i < len) {
		const char *r = in + i;
		size_t left = len - i;
		if(left >= 3 && strncmp(r, "../", 3) == 0) {
			i += 3;
		} else if(left >= 2 && strncmp(r, "./", 2) == 0) {
			i += 2;
		} else if((left >= 3 && strncmp(r, "/./", 3) == 0)) {
			i += 2;
		} else if(left == 2 && strncmp(r, "/.", 2) == 0) {
			out[o++] = '/';
			i += 2;
		} else if((left >= 4 && strncmp(r, "/../", 4) == 0) ||
		          (left == 3 && strncmp(r, "/..", 3) == 0)) {
			while(o > 0 && out[o - 1] != '/')
				o--;
			if(o > 0)
				o--;
			if(left == 3) {
				out[o++] = '/';
				i += 3;
			} else {
				i += 3;
			}
		} else if((left == 1 && r[0] == '.') || (left == 2 && strncmp(r, "..", 2) == 0)) {
			i = len;
		} else {
			size_t k = r[0] == '/' ? 1 : 0;
			while(k < left && r[k] != '/')
				k++;
			memcpy(out + o, r, k);
			o += k;
			i += k;
		}
	}
	out[o] = '\0';
	return o;
}

static void put(char *out, size_t *o, const char *s, size_t n)
{
	memcpy(out + *o, s, n);
	*o += n;
}

char *jw_schema__uri_resolve(const char *base, const char *ref)
{
	struct parts b, r;
	size_t cap = strlen(base) + strlen(ref) + 8, o = 0;
	char *out = malloc(cap), *tmp = malloc(cap), *merged = malloc(cap);

	if(out == NULL || tmp == NULL || merged == NULL) {
		free(out);
		free(tmp);
		free(merged);
		return NULL;
	}
	split(base, &b);
	split(ref, &r);
	const char *path;
	size_t path_len;
	const struct parts *auth = &r, *query = &r;
	const struct parts *scheme = &r;
	if(r.has_scheme) {
		path_len = remove_dots(r.path, r.path_len, tmp);
		path = tmp;
	} else {
		scheme = &b;
		if(r.has_auth) {
			path_len = remove_dots(r.path, r.path_len, tmp);
			path = tmp;
		} else {
			auth = &b;
			if(r.path_len == 0) {
				path = b.path;
				path_len = b.path_len;
				if(!r.has_query)
					query = &b;
			} else if(r.path[0] == '/') {
				path_len = remove_dots(r.path, r.path_len, tmp);
				path = tmp;
			} else {
				/* Section 5.2.3: merge with the base's directory. */
				size_t m = 0;
				if(b.has_auth && b.path_len == 0) {
					merged[m++] = '/';
				} else {
					size_t d = b.path_len;
					while(d > 0 && b.path[d - 1] != '/')
						d--;
					memcpy(merged, b.path, d);
					m = d;
				}
				memcpy(merged + m, r.path, r.path_len);
				m += r.path_len;
				path_len = remove_dots(merged, m, tmp);
				path = tmp;
			}
		}
	}
	if(scheme->has_scheme) {
		put(out, &o, scheme->scheme, scheme->scheme_len);
		put(out, &o, ":", 1);
	}
	if(auth->has_auth) {
		put(out, &o, "//", 2);
		put(out, &o, auth->auth, auth->auth_len);
	}
	put(out, &o, path, path_len);
	if(query->has_query) {
		put(out, &o, "?", 1);
		put(out, &o, query->query, query->query_len);
	}
	if(r.has_frag) {
		put(out, &o, "#", 1);
		put(out, &o, r.frag, r.frag_len);
	}
	out[o] = '\0';
	free(tmp);
	free(merged);
	return out;
}
