/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The writer of arena trees (jdoc.h's jw_jnode_write): JSON text without
 * json-c, byte for byte what json-c writes for the same value with
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, which is how
 * jobwire has always stored member texts (job state, records). The unit
 * and fuzz tests compare the two on every input they parse.
 */
#include "jdoc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* json-c's escapes: the two-character ones, else \u00xx (lower-case hex)
 * below 0x20; every other byte (0x7F and UTF-8 included) as it is. */
static int write_string(struct jw_buf *b, const char *s, size_t n)
{
	static const char from[] = "\b\n\r\t\f\"\\", to[] = "bnrtf\"\\", hex[] = "0123456789abcdef";
	size_t run = 0;

	jw_buf_add(b, "\"", 1);
	for(size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *f;
		char e[6];

		if(c >= 0x20 && c != '"' && c != '\\')
			continue;
		f = c ? memchr(from, c, sizeof(from) - 1) : NULL;
		e[0] = '\\';
		e[1] = 'u';
		e[2] = '0';
		e[3] = '0';
		e[4] = hex[c >> 4];
		e[5] = hex[c & 0xF];
		jw_buf_add(b, s + run, i - run);
		if(f) {
			e[1] = to[f - from];
			jw_buf_add(b, e, 2);
		} else {
			jw_buf_add(b, e, 6);
		}
		run = i + 1;
	}
	jw_buf_add(b, s + run, n - run);
	return jw_buf_add(b, "\"", 1);
}

/* A double without its text (made from a json-c double): json-c's own
 * format, "%.17g" with ".0" added when that looks like an integer. */
static int write_double(struct jw_buf *b, double d)
{
	char t[64];
	int n;

	if(isnan(d))
		return jw_buf_add_str(b, "NaN");
	if(isinf(d))
		return jw_buf_add_str(b, d < 0 ? "-Infinity" : "Infinity");
	n = snprintf(t, sizeof(t), "%.17g", d);
	if(n < 0 || (size_t)n >= sizeof(t)) {
		jw_buf_fail(b, -EINVAL);
		return b->err;
	}
	if((isdigit((unsigned char)t[0]) || (t[0] == '-' && isdigit((unsigned char)t[1]))) &&
	        !strchr(t, '.') && !strchr(t, 'e'))
		return jw_buf_printf(b, "%s.0", t);
	return jw_buf_add(b, t, (size_t)n);
}

int jw_jnode_write(struct jw_buf *b, const struct jw_jnode *n)
{
	switch(n->type) {
		case JW_J_NULL:
			return jw_buf_add_str(b, "null");
		case JW_J_BOOL:
			return jw_buf_add_str(b, n->b ? "true" : "false");
		case JW_J_INT:
			return jw_buf_printf(b, "%" PRId64, n->u.i);
		case JW_J_DOUBLE:
			if(n->text)
				return jw_buf_add(b, n->text, n->n);
			return write_double(b, n->u.d);
		case JW_J_STRING:
			return write_string(b, n->u.s, n->n);
		case JW_J_ARRAY:
		case JW_J_OBJECT:
			break;
		default:
			jw_buf_fail(b, -EINVAL);
			return b->err;
	}
	jw_buf_add(b, n->type == JW_J_ARRAY ? "[" : "{", 1);
	for(uint32_t i = 0; i < n->n; i++) {
		const struct jw_jnode *k = &n->u.kids[i];

		if(i)
			jw_buf_add(b, ",", 1);
		if(n->type == JW_J_OBJECT) {
			write_string(b, k->key, k->keylen);
			jw_buf_add(b, ":", 1);
		}
		jw_jnode_write(b, k);
	}
	return jw_buf_add(b, n->type == JW_J_ARRAY ? "]" : "}", 1);
}
