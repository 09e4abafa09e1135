/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Exact comparison, integrality and divisibility of JSON numbers from
 * their decimal text (number.h), for the places where rounding to a
 * double would give a wrong answer: the contract rule current <= total,
 * the validator's numeric keywords, const and enum.
 */
#include "number.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Exponents are read up to this magnitude; a number whose exponent is
 * larger is 0 or out of range as a double, and such numbers never reach
 * a comparison that matters. Keeps every scale below within int64. */
#define EXP_CAP INT64_C(1000000000000000)

/* Divisors of up to this many significant digits are handled exactly:
 * below 10^9, so products of two remainders stay below 2^63. */
#define DIVISOR_DIGITS_MAX 9

/*
 * A number's exact value: (-1)^neg * 0.D * 10^mag, where D is the
 * significant digits, the integer digits ip[0..il) followed by the
 * fraction digits fp[0..fl), from index lead to trail (the first and
 * last that are not 0). zero when there is none.
 */
struct dec {
	const char *ip, *fp;
	size_t il, fl;
	size_t lead, trail;
	int64_t mag;
	bool neg, zero;
};

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char digit_at(const struct dec *d, size_t k)
{
	return k < d->il ? d->ip[k] : d->fp[k - d->il];
}

/* Reads t[0..n), which the callers' parsers have checked to be a JSON
 * number; anything after it is ignored. */
static void dec_parse(const char *t, size_t n, struct dec *d)
{
	size_t i = 0, len;
	int64_t ex = 0;
	bool eneg = false;

	memset(d, 0, sizeof(*d));
	d->neg = n > 0 && t[0] == '-';
	i += d->neg;
	d->ip = t + i;
	while(i < n && is_digit(t[i]))
		i++;
	d->il = (size_t)(t + i - d->ip);
	d->fp = t + i;
	if(i < n && t[i] == '.') {
		d->fp = t + ++i;
		while(i < n && is_digit(t[i]))
			i++;
		d->fl = (size_t)(t + i - d->fp);
	}
	if(i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if(i < n && (t[i] == '+' || t[i] == '-'))
			eneg = t[i++] == '-';
		for(; i < n && is_digit(t[i]); i++) {
			if(ex <= EXP_CAP)
				ex = ex * 10 + (t[i] - '0');
		}
		if(ex > EXP_CAP)
			ex = EXP_CAP;
		if(eneg)
			ex = -ex;
	}
	len = d->il + d->fl;
	while(d->lead < len && digit_at(d, d->lead) == '0')
		d->lead++;
	if(d->lead == len) {
		d->zero = true;
		d->neg = false;
		return;
	}
	d->trail = len - 1;
	while(digit_at(d, d->trail) == '0')
		d->trail--;
	d->mag = (int64_t)d->il - (int64_t)d->lead + ex;
}

/* Significant digits. */
static size_t dec_digits(const struct dec *d)
{
	return d->trail - d->lead + 1;
}

/* The exponent of the last significant digit: value = D * 10^q. */
static int64_t dec_q(const struct dec *d)
{
	return d->mag - (int64_t)dec_digits(d);
}

/* |a| against |b|, both not zero. */
static int cmp_magnitude(const struct dec *a, const struct dec *b)
{
	size_t na = dec_digits(a), nb = dec_digits(b), n = na < nb ? na : nb;

	if(a->mag != b->mag)
		return a->mag < b->mag ? -1 : 1;
	for(size_t k = 0; k < n; k++) {
		char x = digit_at(a, a->lead + k), y = digit_at(b, b->lead + k);

		if(x != y)
			return x < y ? -1 : 1;
	}
	/* One is the other followed by more digits, the last of them not 0. */
	return na == nb ? 0 : na < nb ? -1 : 1;
}

static int sign_of(const struct dec *d)
{
	return d->zero ? 0 : d->neg ? -1 : 1;
}

int jw_number_text_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	struct dec x, y;
	int sx, sy, r;

	dec_parse(a, an, &x);
	dec_parse(b, bn, &y);
	sx = sign_of(&x);
	sy = sign_of(&y);
	if(sx != sy)
		return sx < sy ? -1 : 1;
	if(sx == 0)
		return 0;
	r = cmp_magnitude(&x, &y);
	return sx > 0 ? r : -r;
}

int jw_number_text_int64(const char *t, size_t n, int64_t *out)
{
	struct dec d;
	uint64_t v = 0;
	int64_t q;

	dec_parse(t, n, &d);
	if(d.zero) {
		*out = 0;
		return 1;
	}
	q = dec_q(&d);
	if(q < 0)
		return -1;
	/* mag digits in all: at most 19 fit uint64 (below 10^19). */
	if(d.mag > 19)
		return 0;
	for(size_t k = d.lead; k <= d.trail; k++)
		v = v * 10 + (uint64_t)(digit_at(&d, k) - '0');
	for(int64_t k = 0; k < q; k++)
		v *= 10;
	if(!d.neg) {
		if(v > (uint64_t)INT64_MAX)
			return 0;
		*out = (int64_t)v;
		return 1;
	}
	if(v > (uint64_t)INT64_MAX + 1)
		return 0;
	*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	return 1;
}

int jw_number_text_multiple_of(const char *x, size_t xn, const char *m, size_t mn)
{
	struct dec a, b;
	uint64_t mod = 0, r = 0, p, base;
	int64_t k;

	dec_parse(x, xn, &a);
	dec_parse(m, mn, &b);
	if(b.zero || b.neg || dec_digits(&b) > DIVISOR_DIGITS_MAX)
		return -1;
	if(a.zero)
		return 1;
	/* x = X * 10^qx and m = M * 10^qm, X and M without trailing zeros.
	 * Below qm, x / m would need 10 to divide X, whose last digit is not
	 * 0: never an integer. Otherwise x / m = X * 10^(qx - qm) / M. */
	if(dec_q(&a) < dec_q(&b))
		return 0;
	for(size_t i = b.lead; i <= b.trail; i++)
		mod = mod * 10 + (uint64_t)(digit_at(&b, i) - '0');
	for(size_t i = a.lead; i <= a.trail; i++)
		r = (r * 10 + (uint64_t)(digit_at(&a, i) - '0')) % mod;
	/* r * 10^k mod M by squaring; every factor is below M < 10^9. */
	k = dec_q(&a) - dec_q(&b);
	p = 1 % mod;
	base = 10 % mod;
	while(k > 0) {
		if(k & 1)
			p = p * base % mod;
		base = base * base % mod;
		k >>= 1;
	}
	return r * p % mod == 0;
}

size_t jw_number_exact_text(double d, char *buf, size_t size)
{
	int n;

	if(!isfinite(d))
		return 0;
	/* 767 significant digits hold any double exactly; glibc prints the
	 * exact binary value to whatever precision is asked. */
	n = snprintf(buf, size, "%.766e", d);
	if(n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

/* The decimal text of number node x: its own, or made in buf. */
static const char *node_text(const struct jw_jnode *x, char *buf, size_t size, size_t *len)
{
	int n;

	if(x->type == JW_J_INT) {
		n = snprintf(buf, size, "%" PRId64, x->u.i);
		*len = n > 0 ? (size_t)n : 0;
		return buf;
	}
	if(x->text) {
		*len = x->n;
		return x->text;
	}
	*len = jw_number_exact_text(x->u.d, buf, size);
	return *len ? buf : NULL;
}

int jw_number__cmp_nodes(const struct jw_jnode *a, const struct jw_jnode *b)
{
	double da = jw_jnode_double(a), db = jw_jnode_double(b);
	char ba[JW_NUMBER_EXACT_MAX], bb[JW_NUMBER_EXACT_MAX];
	const char *ta, *tb;
	size_t la = 0, lb = 0;

	if(isnan(da) || isnan(db))
		return 2;
	/* Rounding to the nearest double is monotonic: different doubles
	 * come from values in the same order. */
	if(da != db)
		return da < db ? -1 : 1;
	/* Two doubles without text are their own exact values. */
	if(a->type == JW_J_DOUBLE && !a->text && b->type == JW_J_DOUBLE && !b->text)
		return 0;
	ta = node_text(a, ba, sizeof(ba), &la);
	tb = node_text(b, bb, sizeof(bb), &lb);
	if(!ta || !tb)
		return 0; /* infinities: equal doubles */
	return jw_number_text_cmp(ta, la, tb, lb);
}

bool jw_jnode_is_integer(const struct jw_jnode *x)
{
	int64_t i;

	if(x->type == JW_J_INT)
		return true;
	if(x->type != JW_J_DOUBLE)
		return false;
	if(x->text)
		return jw_number_text_int64(x->text, x->n, &i) >= 0;
	return isfinite(x->u.d) && x->u.d == floor(x->u.d);
}
