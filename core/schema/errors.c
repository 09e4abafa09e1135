/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Validation failures: the instance location as an RFC 6901 pointer and
 * the message, written only when the caller wants one (c->want). Off the
 * success path: nothing here runs for a valid instance.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vctx.h"

void jw_schema__ptr_put(char *buf, size_t size, size_t *len, const char *s, size_t n)
{
	if(*len + n >= size)
		n = size - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

/* RFC 6901: "~" is written "~0" and "/" is written "~1". */
static void ptr_put_token(char *buf, size_t size, size_t *len, const char *tok)
{
	jw_schema__ptr_put(buf, size, len, "/", 1);
	for(const char *p = tok; *p != '\0'; p++) {
		if(*p == '~')
			jw_schema__ptr_put(buf, size, len, "~0", 2);
		else if(*p == '/')
			jw_schema__ptr_put(buf, size, len, "~1", 2);
		else
			jw_schema__ptr_put(buf, size, len, p, 1);
	}
}

static void render_pointer(const struct vctx *c, const char *extra, char *buf, size_t size)
{
	size_t len = 0;
	size_t n = c->depth < PATH_SEGS ? c->depth : PATH_SEGS;

	buf[0] = '\0';
	for(size_t i = 0; i < n; i++) {
		if(c->path[i].key != NULL) {
			ptr_put_token(buf, size, &len, c->path[i].key);
		} else {
			char tmp[24];
			int k = snprintf(tmp, sizeof tmp, "/%zu", c->path[i].index);
			jw_schema__ptr_put(buf, size, &len, tmp, (size_t)k);
		}
	}
	if(c->depth > PATH_SEGS)
		jw_schema__ptr_put(buf, size, &len, "/...", 4);
	if(extra != NULL)
		ptr_put_token(buf, size, &len, extra);
	jw_schema__utf8_trim(buf);
}

/*
 * Records a failure at the current instance location (plus extra, the
 * name of a missing property, when given) and returns 0. Message format:
 * "<pointer>: <detail>", the root pointer "" shown as "/".
 */
__attribute__((format(printf, 4, 5))) int jw_schema__fail(
        struct vctx *c, const char *extra, const char *keyword, const char *fmt, ...)
{
	char detail[300];
	va_list ap;

	if(!c->want)
		return 0;
	struct verr *e = c->err;
	e->depth = c->depth;
	render_pointer(c, extra, e->e.pointer, sizeof e->e.pointer);
	snprintf(e->e.keyword, sizeof e->e.keyword, "%s", c->in_names ? "propertyNames" : keyword);
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	jw_schema__utf8_trim(detail);
	int k = snprintf(e->e.message, sizeof e->e.message, "%s: %s%s",
	        e->e.pointer[0] != '\0' ? e->e.pointer : "/", c->in_names ? "propertyNames: " : "",
	        detail);
	if(k < 0 || (size_t)k >= sizeof e->e.message)
		jw_schema__utf8_trim(e->e.message);
	return 0;
}

/* The common shape "<expectation>, got <value>". */
__attribute__((format(printf, 4, 5))) int jw_schema__fail_got(
        struct vctx *c, const char *keyword, const struct jw_jnode *x, const char *fmt, ...)
{
	char expect[200], got[VALUE_LIMIT + 8];
	struct jw_value v;
	va_list ap;

	if(!c->want)
		return 0;
	va_start(ap, fmt);
	vsnprintf(expect, sizeof expect, fmt, ap);
	va_end(ap);
	jw_schema__utf8_trim(expect);
	jw_schema__value_node(&v, x);
	jw_schema__render_value(got, sizeof got, VALUE_LIMIT, &v);
	return jw_schema__fail(c, NULL, keyword, "%s, got %s", expect, got);
}

const char *jw_schema__quoted(char *buf, size_t size, const char *s)
{
	jw_schema__render_string(buf, size, size - 8, s, strlen(s));
	return buf;
}
