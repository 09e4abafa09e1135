/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * JSON value helpers for the schema validator: exact number comparison
 * across int64 and double, JSON deep equality and hashing (enum, const,
 * uniqueItems), private copies of schema constants, and bounded rendering
 * of values for error messages without touching json-c's shared state.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jdoc.h"
#include "number.h"
#include "node.h"
#include "util/hash.h"

/* 2^63 as a double: the first value above every int64. */
#define TWO_POW_63 9223372036854775808.0

void jw_schema__num_from_int(struct jw_num *n, int64_t i)
{
	n->is_int = true;
	n->was_double = false;
	n->i = i;
	n->d = (double)i;
	n->text = NULL;
	n->tlen = 0;
}

void jw_schema__num_from_double(struct jw_num *n, double d)
{
	n->d = d;
	n->i = 0;
	n->is_int = false;
	n->was_double = true;
	n->text = NULL;
	n->tlen = 0;
	/* Normalise integral doubles so 1.0 and 1 compare and hash alike. */
	if(isfinite(d) && d == floor(d) && d >= -TWO_POW_63 && d < TWO_POW_63) {
		n->is_int = true;
		n->i = (int64_t)d;
	}
}

void jw_schema__num_from_text(struct jw_num *n, double d, const char *text, size_t tlen)
{
	int64_t i;

	n->d = d;
	n->was_double = true;
	n->text = text;
	n->tlen = tlen;
	/* Integral by the text, not by d: 9007199254740993.0 is the integer
	 * 9007199254740993 although its double is ...992, and
	 * 1.0000000000000000001 is no integer although its double is 1. */
	n->is_int = jw_number_text_int64(text, tlen, &i) == 1;
	n->i = n->is_int ? i : 0;
}

void jw_schema__num_of_node(struct jw_num *n, const struct jw_jnode *x)
{
	if(x->type == JW_J_INT)
		jw_schema__num_from_int(n, x->u.i);
	else if(x->text)
		jw_schema__num_from_text(n, x->u.d, x->text, x->n);
	else
		jw_schema__num_from_double(n, x->u.d);
}

/* n's exact value as decimal text: its own, or made in buf. NULL when
 * it has none (an infinite double). */
static const char *num_text(const struct jw_num *n, char *buf, size_t size, size_t *len)
{
	int k;

	if(n->text != NULL) {
		*len = n->tlen;
		return n->text;
	}
	if(n->is_int) {
		k = snprintf(buf, size, "%" PRId64, n->i);
		*len = k > 0 ? (size_t)k : 0;
		return buf;
	}
	*len = jw_number_exact_text(n->d, buf, size);
	return *len ? buf : NULL;
}

int jw_schema__num_cmp(const struct jw_num *a, const struct jw_num *b)
{
	char ba[JW_NUMBER_EXACT_MAX], bb[JW_NUMBER_EXACT_MAX];
	const char *ta, *tb;
	size_t la = 0, lb = 0;

	if(a->is_int && b->is_int)
		return a->i < b->i ? -1 : a->i > b->i ? 1 : 0;
	if(isnan(a->d) || isnan(b->d))
		return 2;
	/* Rounding to the nearest double never reverses an order, so
	 * different doubles decide; equal ones may still be different
	 * numbers (2^53 + 1 and 2^53, 0.1 and 0.10000000000000000001). */
	if(a->d != b->d)
		return a->d < b->d ? -1 : 1;
	/* Doubles made by code are their own exact values. */
	if(a->text == NULL && !a->is_int && b->text == NULL && !b->is_int)
		return 0;
	ta = num_text(a, ba, sizeof ba, &la);
	tb = num_text(b, bb, sizeof bb, &lb);
	if(ta == NULL || tb == NULL)
		return 0; /* equal infinities */
	return jw_number_text_cmp(ta, la, tb, lb);
}

bool jw_schema__num_is_integer(const struct jw_num *n)
{
	int64_t i;

	if(n->is_int)
		return true;
	if(n->text != NULL)
		return jw_number_text_int64(n->text, n->tlen, &i) >= 0;
	return isfinite(n->d) && n->d == floor(n->d);
}

bool jw_schema__num_multiple_of(const struct jw_num *x, const struct jw_num *m)
{
	/* m > 0 is guaranteed by the compiler. */
	if(x->is_int && m->is_int)
		return x->i % m->i == 0;
	/* Numbers read from text (or int64) exactly, by their decimal
	 * digits: 18446744073709551617 is not a multiple of 2, 0.0075 is
	 * one of 0.0001. */
	if((x->text != NULL || x->is_int) && (m->text != NULL || m->is_int)) {
		char bx[32], bm[32];
		size_t lx = 0, lm = 0;
		const char *tx = num_text(x, bx, sizeof bx, &lx);
		const char *tm = num_text(m, bm, sizeof bm, &lm);
		int r = jw_number_text_multiple_of(tx, lx, tm, lm);

		if(r >= 0)
			return r == 1;
	}
	if(!isfinite(x->d))
		return false;
	double q = x->d / m->d;
	/* When the quotient overflows, ask the exact binary remainder instead:
	 * 1e308 is a multiple of 0.5 but not of 0.123456789. */
	if(!isfinite(q))
		return fmod(x->d, m->d) == 0.0;
	/* Decimal divisors such as 0.0001 are not exact in binary, so
	 * 0.0075 / 0.0001 is 74.99999999999999. Allow a few ulps of the
	 * quotient, which is far below any real fractional remainder. */
	double r = nearbyint(q);
	return fabs(q - r) <= fabs(q) * (8 * DBL_EPSILON);
}

void jw_schema__value_node(struct jw_value *v, const struct jw_jnode *n)
{
	v->node = n;
	v->str = NULL;
	v->len = 0;
	v->b = false;
	switch(n->type) {
		case JW_J_BOOL:
			v->type = JW_V_BOOL;
			v->b = n->b != 0;
			break;
		case JW_J_INT:
		case JW_J_DOUBLE:
			v->type = JW_V_NUMBER;
			jw_schema__num_of_node(&v->num, n);
			return;
		case JW_J_STRING:
			v->type = JW_V_STRING;
			v->str = n->u.s;
			v->len = n->n;
			break;
		case JW_J_ARRAY:
			v->type = JW_V_ARRAY;
			break;
		case JW_J_OBJECT:
			v->type = JW_V_OBJECT;
			break;
		default:
			v->type = JW_V_NULL;
			break;
	}
	jw_schema__num_from_int(&v->num, 0);
}

void jw_schema__value_init(struct jw_value *v, const struct json_object *o)
{
	v->node = NULL;
	v->str = NULL;
	v->len = 0;
	v->b = false;
	jw_schema__num_from_int(&v->num, 0);
	v->type = JW_V_NULL;
	if(o == NULL)
		return;
	switch(json_object_get_type(o)) {
		case json_type_null:
			break;
		case json_type_boolean:
			v->type = JW_V_BOOL;
			v->b = json_object_get_boolean(o) != 0;
			break;
		case json_type_int: {
			v->type = JW_V_NUMBER;
			int64_t i = json_object_get_int64(o);
			/* json-c clamps uint64 values to INT64_MAX. */
			if(i == INT64_MAX) {
				uint64_t u = json_object_get_uint64(o);
				if(u > (uint64_t)INT64_MAX) {
					jw_schema__num_from_double(&v->num, (double)u);
					break;
				}
			}
			jw_schema__num_from_int(&v->num, i);
			break;
		}
		case json_type_double: {
			/* jw_json_parse keeps a double's text as its user data
			 * (json_object_new_double_s); doubles made by code have none. */
			const char *text = json_object_get_userdata((struct json_object *)(uintptr_t)o);
			v->type = JW_V_NUMBER;
			if(text != NULL)
				jw_schema__num_from_text(&v->num, json_object_get_double(o), text, strlen(text));
			else
				jw_schema__num_from_double(&v->num, json_object_get_double(o));
			break;
		}
		case json_type_string: {
			int len = json_object_get_string_len(o);
			v->type = JW_V_STRING;
			/* For strings json_object_get_string only reads; the cast is
			 * needed because json-c's prototype is not const. */
			v->str = json_object_get_string((struct json_object *)(uintptr_t)o);
			v->len = len > 0 ? (size_t)len : 0;
			break;
		}
		case json_type_array:
			v->type = JW_V_ARRAY;
			break;
		case json_type_object:
			v->type = JW_V_OBJECT;
			break;
	}
}

static bool objects_equal(const struct jw_jnode *a, const struct jw_jnode *b)
{
	if(a->n != b->n)
		return false;
	for(uint32_t i = 0; i < a->n; i++) {
		const struct jw_jnode *bv = jw_jnode_get(b, a->u.kids[i].key);
		if(bv == NULL)
			return false;
		struct jw_value x, y;
		jw_schema__value_node(&x, &a->u.kids[i]);
		jw_schema__value_node(&y, bv);
		if(!jw_schema__value_equal(&x, &y))
			return false;
	}
	return true;
}

bool jw_schema__value_equal(const struct jw_value *a, const struct jw_value *b)
{
	if(a->type != b->type)
		return false;
	switch(a->type) {
		case JW_V_NULL:
			return true;
		case JW_V_BOOL:
			return a->b == b->b;
		case JW_V_NUMBER:
			return jw_schema__num_cmp(&a->num, &b->num) == 0;
		case JW_V_STRING:
			return a->len == b->len && memcmp(a->str, b->str, a->len) == 0;
		case JW_V_ARRAY: {
			size_t n = a->node->n;
			if(n != b->node->n)
				return false;
			for(size_t i = 0; i < n; i++) {
				struct jw_value x, y;
				jw_schema__value_node(&x, &a->node->u.kids[i]);
				jw_schema__value_node(&y, &b->node->u.kids[i]);
				if(!jw_schema__value_equal(&x, &y))
					return false;
			}
			return true;
		}
		case JW_V_OBJECT:
			return objects_equal(a->node, b->node);
	}
	return false;
}

/* In memory only (the uniqueItems check sorts by it), so it may change. */
uint64_t jw_schema__value_hash(const struct jw_value *v)
{
	switch(v->type) {
		case JW_V_NULL:
			return 0x6e756c6cu;
		case JW_V_BOOL:
			return v->b ? 0x74727565u : 0x66616c73u;
		case JW_V_NUMBER: {
			/* Equal numbers must hash alike: integral values are normalised
			 * to int64, everything else hashes its bits. */
			if(v->num.is_int)
				return jw_hash_mix((uint64_t)v->num.i ^ 0x4e554du);
			uint64_t bits;
			memcpy(&bits, &v->num.d, sizeof bits);
			return jw_hash_mix(bits);
		}
		case JW_V_STRING:
			return jw_hash(v->str, v->len, 0);
		case JW_V_ARRAY: {
			uint64_t h = 0x4152u;
			size_t n = v->node->n;
			for(size_t i = 0; i < n; i++) {
				struct jw_value x;
				jw_schema__value_node(&x, &v->node->u.kids[i]);
				h = jw_hash_mix(h ^ jw_schema__value_hash(&x));
			}
			return h;
		}
		case JW_V_OBJECT: {
			/* A sum of per-member hashes does not depend on key order. */
			uint64_t h = 0x4f424au;
			for(uint32_t i = 0; i < v->node->n; i++) {
				const struct jw_jnode *k = &v->node->u.kids[i];
				struct jw_value x;
				jw_schema__value_node(&x, k);
				h += jw_hash_mix(
				        jw_hash(k->key, k->keylen, 0) ^ jw_hash_mix(jw_schema__value_hash(&x)));
			}
			return h;
		}
	}
	return 0;
}

int jw_schema__value_copy(const struct json_object *src, struct json_object **out)
{
	struct json_object *dst = NULL;
	struct jw_value v;
	int rc = -1;

	*out = NULL;
	jw_schema__value_init(&v, src);
	switch(v.type) {
		case JW_V_NULL:
			return 0;
		case JW_V_BOOL:
			dst = json_object_new_boolean(v.b);
			break;
		case JW_V_NUMBER:
			if(json_object_get_type(src) == json_type_int && v.num.is_int)
				dst = json_object_new_int64(v.num.i);
			else if(v.num.text != NULL)
				/* The text goes along: it is the exact value. */
				dst = json_object_new_double_s(v.num.d, v.num.text);
			else
				dst = json_object_new_double(v.num.d);
			break;
		case JW_V_STRING:
			if(v.len > INT32_MAX)
				return -1;
			dst = json_object_new_string_len(v.str, (int)v.len);
			break;
		case JW_V_ARRAY: {
			size_t n = json_object_array_length(src);
			dst = json_object_new_array_ext(n == 0 ? 1 : n > 1024 ? 1024 : (int)n);
			if(dst == NULL)
				return -1;
			for(size_t i = 0; i < n; i++) {
				struct json_object *c;
				if(jw_schema__value_copy(json_object_array_get_idx(src, i), &c) < 0)
					goto out;
				if(json_object_array_add(dst, c) < 0) {
					json_object_put(c);
					goto out;
				}
			}
			break;
		}
		case JW_V_OBJECT:
			dst = json_object_new_object();
			if(dst == NULL)
				return -1;
			for(struct lh_entry *e = lh_table_head(json_object_get_object(src)); e;
			        e = lh_entry_next(e)) {
				struct json_object *c;
				if(jw_schema__value_copy(lh_entry_v(e), &c) < 0)
					goto out;
				if(json_object_object_add(dst, lh_entry_k(e), c) < 0) {
					json_object_put(c);
					goto out;
				}
			}
			break;
	}
	if(dst == NULL)
		return -1;
	*out = dst;
	dst = NULL;
	rc = 0;
out:
	json_object_put(dst);
	return rc;
}

size_t jw_schema__utf8_length(const char *s, size_t len)
{
	/* Every code point has exactly one byte that is not a continuation
	 * byte (10xxxxxx); the input is known to be valid UTF-8. */
	size_t n = 0;
	for(size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

void jw_schema__utf8_trim(char *buf)
{
	size_t len = strlen(buf);
	size_t start = len;
	/* Find the start of the last sequence (at most 4 bytes back). */
	while(start > 0 && len - start < 4 && ((unsigned char)buf[start - 1] & 0xc0) == 0x80)
		start--;
	if(start == 0)
		return;
	unsigned char lead = (unsigned char)buf[start - 1];
	size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if(len - (start - 1) < need)
		buf[start - 1] = '\0';
}

static void sink_put(struct jw_sink *s, const char *p, size_t n)
{
	if(s->full)
		return;
	if(n > s->cap - s->len) {
		memcpy(s->buf + s->len, p, s->cap - s->len);
		s->len = s->cap;
		s->full = true;
		return;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void sink_str(struct jw_sink *s, const char *p)
{
	sink_put(s, p, strlen(p));
}

static void sink_json_string(struct jw_sink *s, const char *p, size_t len)
{
	sink_put(s, "\"", 1);
	for(size_t i = 0; i < len && !s->full; i++) {
		unsigned char ch = (unsigned char)p[i];
		char esc[8];
		if(ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			sink_put(s, esc, 2);
		} else if(ch < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", ch);
			sink_put(s, esc, 6);
		} else {
			sink_put(s, (const char *)&p[i], 1);
		}
	}
	sink_put(s, "\"", 1);
}

void jw_schema__render_num(char *buf, size_t size, const struct jw_num *n)
{
	/* As written, when that fits: 18446744073709551617 and 0.1 are
	 * shown as they were sent, not as their doubles. */
	if(n->text != NULL && n->tlen < size) {
		memcpy(buf, n->text, n->tlen);
		buf[n->tlen] = '\0';
		return;
	}
	if(n->is_int) {
		snprintf(buf, size, "%" PRId64 "%s", n->i, n->was_double ? ".0" : "");
		return;
	}
	/* Shortest form that reads back to the same double, so 0.1 prints as
	 * 0.1 and not 0.10000000000000001. */
	for(int prec = 15; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, n->d);
		if(strtod(buf, NULL) == n->d)
			return;
	}
}

static void sink_value(struct jw_sink *s, const struct jw_value *v)
{
	char num[40];

	switch(v->type) {
		case JW_V_NULL:
			sink_str(s, "null");
			return;
		case JW_V_BOOL:
			sink_str(s, v->b ? "true" : "false");
			return;
		case JW_V_NUMBER:
			jw_schema__render_num(num, sizeof num, &v->num);
			sink_str(s, num);
			return;
		case JW_V_STRING:
			sink_json_string(s, v->str, v->len);
			return;
		case JW_V_ARRAY: {
			size_t n = v->node ? v->node->n : 0;
			sink_put(s, "[", 1);
			for(size_t i = 0; i < n && !s->full; i++) {
				struct jw_value x;
				if(i > 0)
					sink_put(s, ",", 1);
				jw_schema__value_node(&x, &v->node->u.kids[i]);
				sink_value(s, &x);
			}
			sink_put(s, "]", 1);
			return;
		}
		case JW_V_OBJECT: {
			bool first = true;
			sink_put(s, "{", 1);
			for(uint32_t i = 0; v->node && i < v->node->n && !s->full; i++) {
				const struct jw_jnode *k = &v->node->u.kids[i];
				struct jw_value x;
				if(!first)
					sink_put(s, ",", 1);
				first = false;
				sink_json_string(s, k->key, k->keylen);
				sink_put(s, ":", 1);
				jw_schema__value_node(&x, k);
				sink_value(s, &x);
			}
			sink_put(s, "}", 1);
			return;
		}
	}
}

static void sink_finish(struct jw_sink *s, char *buf, size_t size)
{
	buf[s->len] = '\0';
	if(s->full) {
		jw_schema__utf8_trim(buf);
		size_t len = strlen(buf);
		if(len + 4 > size)
			len = size - 4;
		memcpy(buf + len, "...", 4);
		jw_schema__utf8_trim(buf);
	}
}

void jw_schema__render_value(char *buf, size_t size, size_t limit, const struct jw_value *v)
{
	struct jw_sink s;

	if(size < 8) {
		if(size > 0)
			buf[0] = '\0';
		return;
	}
	/* Room for "..." and the terminator. */
	if(limit + 4 > size)
		limit = size - 4;
	s.buf = buf;
	s.cap = limit;
	s.len = 0;
	s.full = false;
	sink_value(&s, v);
	sink_finish(&s, buf, size);
}

void jw_schema__render_json(char *buf, size_t size, size_t limit, const struct json_object *o)
{
	struct jw_value v;
	struct jw_jdoc d;

	/* Compile-time messages only: arrays and objects go through a tree. */
	jw_jdoc_init(&d);
	if(jw_jdoc_from_json(&d, o) == 0) {
		jw_schema__value_node(&v, d.root);
		jw_schema__render_value(buf, size, limit, &v);
	} else if(size > 0) {
		buf[0] = '\0';
	}
	jw_jdoc_free(&d);
}

void jw_schema__render_string(char *buf, size_t size, size_t limit, const char *str, size_t len)
{
	struct jw_value v;
	jw_schema__value_init(&v, NULL);
	v.type = JW_V_STRING;
	v.str = str;
	v.len = len;
	jw_schema__render_value(buf, size, limit, &v);
}
