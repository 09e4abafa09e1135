/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * JSON members written into a util/buf.h buffer, for the state and the
 * job records alike: keys, shortest round-trip numbers, counts, booleans
 * and quoted timestamps. A failure is kept in the buffer, so a writer
 * checks once, at jw_buf_take.
 */
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>

/* ---- JSON into a buffer ---- */

void jw_jobs__buf_key(struct jw_buf *b, const char *key)
{
	/* One reservation for ,"key": (about ten keys per state or record). */
	size_t klen = strlen(key);
	bool comma = b->len > 0 && b->p && b->p[b->len - 1] != '{';
	char *start, *w;

	if(jw_buf_reserve(b, klen + 4) != 0)
		return;
	start = w = jw_buf_tail(b);
	if(comma)
		*w++ = ',';
	*w++ = '"';
	memcpy(w, key, klen);
	w += klen;
	*w++ = '"';
	*w++ = ':';
	jw_buf_commit(b, (size_t)(w - start));
}

void jw_jobs__buf_num(struct jw_buf *b, double v)
{
	char t[40];

	jw_jobs__fmt_num(t, sizeof(t), v);
	jw_buf_add_str(b, t);
}

/* Decimal digits of v, right-aligned in t[0..24); returns where they
 * start. Two digits per division: seq, counters and totals are in every
 * state. */
static size_t u64_digits(char t[24], uint64_t v)
{
	static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
	                               "25262728293031323334353637383940414243444546474849"
	                               "50515253545556575859606162636465666768697071727374"
	                               "75767778798081828384858687888990919293949596979899";
	size_t i = 24;

	while(v >= 100) {
		unsigned d = (unsigned)(v % 100);

		v /= 100;
		i -= 2;
		memcpy(t + i, pairs + 2 * d, 2);
	}
	if(v >= 10) {
		i -= 2;
		memcpy(t + i, pairs + 2 * v, 2);
	} else {
		t[--i] = (char)('0' + v);
	}
	return i;
}

void jw_jobs__buf_i64(struct jw_buf *b, int64_t v)
{
	char t[24];
	/* The magnitude as unsigned, so INT64_MIN has one too. */
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t i = u64_digits(t, m);

	if(v < 0)
		t[--i] = '-';
	jw_buf_add(b, t + i, 24 - i);
}

void jw_jobs__buf_u64(struct jw_buf *b, uint64_t v)
{
	char t[24];
	size_t i = u64_digits(t, v);

	jw_buf_add(b, t + i, 24 - i);
}

void jw_jobs__buf_ts(struct jw_buf *b, int64_t real_ms)
{
	char t[40];
	int n = jw_jobs__format_ts(t, sizeof(t), real_ms);

	if(n < 0) {
		jw_buf_fail(b, -ERANGE);
		return;
	}
	jw_buf_add(b, "\"", 1);
	jw_buf_add(b, t, (size_t)n);
	jw_buf_add(b, "\"", 1);
}

/* ---- numbers and time ---- */

/*
 * Writes the decimal digits of m (0 < m < 1e15) with a point before the
 * last d of them ("0." first when m has no more than d digits) and a
 * leading '-' when neg. Returns the length, or -1 when buflen is short.
 */
static int put_decimal(char *buf, size_t buflen, bool neg, uint64_t m, int d)
{
	char t[40];
	int n = 0, len = 0;

	do {
		t[n++] = (char)('0' + m % 10);
		m /= 10;
	} while(m);
	while(n <= d)
		t[n++] = '0';
	if((size_t)n + 3 > buflen)
		return -1;
	if(neg)
		buf[len++] = '-';
	while(n > 0) {
		buf[len++] = t[--n];
		if(n == d && d > 0)
			buf[len++] = '.';
	}
	buf[len] = '\0';
	return len;
}

/*
 * The common numbers without printf: integers below 1e15, and values with
 * a short exact decimal form such as 42.5 or 0.125. For the latter, the
 * fewest decimals d where v * 10^d rounds to an integer m that divides back
 * to v exactly: m < 2^53 and 10^d are both exact doubles, so m / 10^d is
 * the correctly rounded value of that decimal, which is what strtod reads.
 * With m < 1e15 and 1e-4 <= |v|, that decimal has at most 15 significant
 * digits and is v rounded to 15 digits, so "%.15g" prints the same text.
 * Returns the length, or -1 to leave v to the printf path.
 */
static int fmt_num_fast(char *buf, size_t buflen, double v)
{
	static const double p10[] = {
	        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
	/* 2^52: adding it to 0 <= t < 2^52 leaves no bits below the units,
	 * so the sum is t rounded as the current mode rounds, exactly what
	 * nearbyint(t) returns, and taking it away again is exact. */
	const double round_add = 4503599627370496.0;
	bool neg = v < 0;
	double a = neg ? -v : v;

	if(!(a < 1e15))
		return -1;
	/* Below 1e15 the conversion truncates exactly: floor(a) == a. */
	if((double)(uint64_t)a == a)
		return put_decimal(buf, buflen, neg, (uint64_t)a, 0);
	if(a < 1e-4)
		return -1;
	for(int d = 1; d < 16; d++) {
		double t = a * p10[d], m;

		if(t >= 1e15)
			break;
		m = (t + round_add) - round_add;
		if(m >= 1 && m / p10[d] == a)
			return put_decimal(buf, buflen, neg, (uint64_t)m, d);
	}
	return -1;
}

void jw_jobs__fmt_num_exact(char *buf, size_t buflen, double v)
{
	int n;

	if(!isfinite(v) || v == 0) {
		n = snprintf(buf, buflen, "0");
	} else if(fmt_num_fast(buf, buflen, v) >= 0) {
		return;
	} else {
		n = snprintf(buf, buflen, "%.17g", v);
	}
	if(n < 0 || (size_t)n >= buflen) {
		if(buflen)
			buf[0] = '\0';
	}
}

void jw_jobs__fmt_num(char *buf, size_t buflen, double v)
{
	int n = 0;

	if(!isfinite(v) || v == 0) {
		/* Stored numbers are finite; 0 also catches -0. */
		n = snprintf(buf, buflen, "0");
	} else if((n = fmt_num_fast(buf, buflen, v)) >= 0) {
		return;
	} else {
		/* The fewest significant digits that read back as v: 0.1 stays
		 * "0.1", and records restore every double bit for bit. */
		for(int prec = 15; prec <= 17; prec++) {
			n = snprintf(buf, buflen, "%.*g", prec, v);
			if(n < 0 || (size_t)n >= buflen || strtod(buf, NULL) == v)
				break;
		}
	}
	if(n < 0 || (size_t)n >= buflen) {
		if(buflen)
			buf[0] = '\0';
	}
}

/* ---- "key":value members ---- */

void jw_jobs__add_text(struct jw_buf *b, const char *key, const char *text)
{
	if(!text)
		return;
	jw_jobs__buf_key(b, key);
	jw_buf_add_str(b, text);
}

void jw_jobs__add_num_exact(struct jw_buf *b, const char *key, double v)
{
	char t[64];

	jw_jobs__buf_key(b, key);
	jw_jobs__fmt_num_exact(t, sizeof(t), v);
	jw_buf_add_str(b, t);
}

void jw_jobs__add_num(struct jw_buf *b, const char *key, double v)
{
	jw_jobs__buf_key(b, key);
	jw_jobs__buf_num(b, v);
}

void jw_jobs__add_count(
        struct jw_buf *b, const char *key, union jw_jobs__count c, unsigned exact, unsigned bit)
{
	if(exact & bit) {
		jw_jobs__buf_key(b, key);
		jw_jobs__buf_i64(b, c.i);
	} else {
		jw_jobs__add_num(b, key, c.d);
	}
}

void jw_jobs__add_bool(struct jw_buf *b, const char *key, bool v)
{
	jw_jobs__buf_key(b, key);
	jw_buf_add_str(b, v ? "true" : "false");
}
