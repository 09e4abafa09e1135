/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* See buf.h. */
#include "util/buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The first allocation: room for a short line without growing. */
#define FIRST_CAP 64u

void jw_buf_init(struct jw_buf *b, size_t max)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max == 0 || max > JW_BUF_UNLIMITED ? JW_BUF_UNLIMITED : max;
	b->err = 0;
}

void jw_buf_cleanup(struct jw_buf *b)
{
	free(b->p);
	jw_buf_init(b, b->max);
}

int jw_buf__grow(struct jw_buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	if(b->err)
		return b->err;
	if(b->max == 0)
		b->max = JW_BUF_UNLIMITED;
	if(n > b->max - b->len) {
		b->err = -EMSGSIZE;
		return b->err;
	}
	need = b->len + n + 1;
	if(need <= b->cap)
		return 0;
	/* Doubling, or exactly what was asked when that is more; never past
	 * what max allows. */
	cap = b->cap ? b->cap * 2 : FIRST_CAP;
	if(cap < need)
		cap = need;
	if(cap > b->max + 1)
		cap = b->max + 1;
	p = realloc(b->p, cap);
	if(!p) {
		b->err = -ENOMEM;
		return b->err;
	}
	b->p = p;
	b->cap = cap;
	if(b->len == 0)
		b->p[0] = '\0';
	return 0;
}

int jw_buf_printf(struct jw_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	if(b->err)
		return b->err;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if(n < 0)
		return -EINVAL;
	rc = jw_buf_reserve(b, (size_t)n);
	if(rc != 0)
		return rc;
	va_start(ap, fmt);
	(void)vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void jw_buf_truncate(struct jw_buf *b, size_t len)
{
	if(len < b->len) {
		b->len = len;
		b->p[len] = '\0';
	}
}

void jw_buf_fail(struct jw_buf *b, int err)
{
	if(!b->err)
		b->err = err < 0 ? err : -EINVAL;
}

void jw_buf_reset(struct jw_buf *b)
{
	b->len = 0;
	b->err = 0;
	if(b->p)
		b->p[0] = '\0';
}

char *jw_buf_take(struct jw_buf *b, size_t *len)
{
	char *p = b->p;
	size_t n = b->len;

	if(b->err) {
		free(p);
		p = NULL;
	} else if(!p) {
		p = calloc(1, 1);
	}
	jw_buf_init(b, b->max);
	if(p && len)
		*len = n;
	return p;
}
