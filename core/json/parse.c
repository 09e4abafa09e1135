/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The arena parser: jw_jdoc_parse (jdoc.h), the one JSON parser of
 * jobwire (jw_json_parse builds on it too, convert.c). Its fast path only
 * decides whether the input is acceptable and builds the tree; it says
 * nothing about why it refuses. Refusals are rare on the per-message
 * path, so only then does a second, slower walk (explain.c) find the
 * reason, offset and message (the contract is that both walks agree on
 * every verdict). This keeps the fast path free of error bookkeeping, and
 * of the up-front UTF-8 pass: it validates UTF-8 inside strings and
 * refuses any byte >= 0x80 elsewhere, so whenever it accepts, the whole
 * input was valid UTF-8, and whenever the input is not, the explaining
 * walk reports that first.
 *
 * The input is copied into the arena with JW_JSON_PAD zero bytes after it.
 * The zero after the last byte is the end marker: no byte that could
 * continue a token is 0, and a 0 inside the input is refused wherever it
 * appears, so the scanners need no length checks. The rest of the padding
 * lets the string scanner (scan.h) load 16 bytes at a time.
 */
#include "jdoc.h"
#include "internal.h"
#include "keyset.h"
#include "scan.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Branch hints for the fast path: the refusals and growth steps are
 * rare, and saying so lets the compiler keep the parser's state in
 * registers along the common path. */
#if defined(__GNUC__)
#define RARE(x) __builtin_expect(!!(x), 0)
#else
#define RARE(x) (x)
#endif

/* Character classes for the fast path. */
#define C_WS 1    /* JSON white space */
#define C_DIGIT 2 /* '0'..'9' */
#define C_WORD 4  /* cannot directly follow a number or literal (is_word_byte) */
#define C_NUM 8   /* can start a number: '-' and '0'..'9' */

static const unsigned char cls[256] = {
        /* 0x00 */ 0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        1,
        0,
        0,
        1,
        0,
        0,
        /* 0x10 */ 0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        /* 0x20 */ 1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        4,
        0,
        12,
        4,
        0,
        /* 0x30 */ 14,
        14,
        14,
        14,
        14,
        14,
        14,
        14,
        14,
        14,
        0,
        0,
        0,
        0,
        0,
        0,
        /* 0x40 */ 0,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        /* 0x50 */ 4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        0,
        0,
        0,
        0,
        4,
        /* 0x60 */ 0,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        /* 0x70 */ 4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        4,
        0,
        0,
        0,
        0,
        0,
};

#define SKIP_WS(c)                                                                                 \
	do {                                                                                           \
		while(cls[*(c)] & C_WS)                                                                    \
			(c)++;                                                                                 \
	} while(0)

/* One open array or object while building a jw_jdoc. Its own node is the
 * pending value just before its first item. */
struct aframe {
	size_t first; /* index in doc->pending of its first item */
	int is_object;
	uint64_t bloom;      /* key bits of its keys so far (parse_key) */
	struct jw_htab keys; /* past JW_KEYSET_LINEAR_MAX members (keyset.h) */
};

/* ---- strings ---- */

/* The rare paths below are kept out of line (noinline): with link-time
 * optimisation the compiler would otherwise fold them into parse_fast,
 * whose registers the common path needs (validate_bench: 2,769 against
 * 2,710 instructions per event; docs/performance.md). */

/*
 * The escape at c (a backslash) decoded to o. Returns the bytes written,
 * or 0 when the escape must be refused; *used gets the input bytes it
 * took. *nul is set to 1 for \u0000.
 */
__attribute__((noinline)) static size_t decode_escape(
        const unsigned char *c, unsigned char *o, size_t *used, uint8_t *nul)
{
	unsigned hi, lo;
	unsigned long cp;

	*used = 2;
	switch(c[1]) {
		case '"':
		case '\\':
		case '/':
			*o = c[1];
			return 1;
		case 'b':
			*o = '\b';
			return 1;
		case 'f':
			*o = '\f';
			return 1;
		case 'n':
			*o = '\n';
			return 1;
		case 'r':
			*o = '\r';
			return 1;
		case 't':
			*o = '\t';
			return 1;
		case 'u':
			break;
		default:
			return 0;
	}
	/* jw_json__hex4 stops at the first non-hex byte, the end marker
	 * included. */
	if(jw_json__hex4(c + 2, &hi) < 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
		return 0;
	*used = 6;
	if(hi < 0xD800 || hi > 0xDBFF) {
		cp = hi;
		if(!cp)
			*nul = 1;
	} else {
		if(c[6] != '\\' || c[7] != 'u' || jw_json__hex4(c + 8, &lo) < 0 || lo < 0xDC00 ||
		        lo > 0xDFFF)
			return 0;
		cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + (lo - 0xDC00);
		*used = 12;
	}
	return jw_json__utf8_encode(cp, (char *)o);
}

/*
 * The rest of a string whose plain start jw_json__skip_run passed: s is
 * its first byte, c the first byte that is not plain (and not its closing
 * quote). Decodes escapes in place (the decoded text is never longer than
 * the escaped one) and checks UTF-8. Returns the byte after the closing
 * quote, or NULL when the string must be refused. The text s[0..*n) is
 * NUL-terminated; *nul is set to 1 when it holds U+0000 (only \u0000
 * can put it there), else left alone.
 */
__attribute__((noinline)) static unsigned char *scan_string_rest(
        unsigned char *s, unsigned char *c, size_t *n, uint8_t *plain, uint8_t *nul)
{
	unsigned char *o = c, *r;
	int raw = 0; /* a byte 0x7F or above, as it is */

	for(;;) {
		unsigned char b = *c;
		size_t k;

		if(b == '"')
			break;
		if(b < 0x20)
			return NULL; /* a control character or the end of the input */
		if(b == '\\') {
			size_t used, w = decode_escape(c, o, &used, nul);

			if(!w)
				return NULL;
			o += w;
			c += used;
		} else if(b == 0x7F) {
			raw = 1;
			*o++ = *c++;
		} else {
			/* 0x80 and above: one whole UTF-8 sequence, as it is. The
			 * end marker stops the check (internal.h). */
			if(jw_utf8__seq(c, SIZE_MAX, 0, &k) != UTF8_OK)
				return NULL;
			raw = 1;
			memmove(o, c, k);
			o += k;
			c += k;
		}
		/* The plain run up to the next byte of interest, moved down over
		 * what escapes saved. */
		r = jw_json__skip_run(c);
		if(o != c)
			memmove(o, c, (size_t)(r - c));
		o += r - c;
		c = r;
	}
	*o = '\0';
	*n = (size_t)(o - s);
	*plain = 0;
	if(!raw) {
		/* Only escapes: the decoded text may still be plain ("\/"). */
		const unsigned char *t = s;

		while(t < o && jw_json__plain_byte(*t))
			t++;
		*plain = t == o;
	}
	return c + 1;
}

/* ---- numbers ---- */

/* d->scratch with room for need bytes, or NULL. The buffer's errors are
 * sticky; this one is only reported, so the next parse starts afresh. */
static char *dscratch(struct jw_jdoc *d, size_t need)
{
	if(jw_buf_reserve(&d->scratch, need) != 0) {
		jw_buf_reset(&d->scratch);
		return NULL;
	}
	return d->scratch.p;
}

/*
 * A number too long for the fast path: what parse_number_val does after
 * its own short cases, with strtoll and strtod on a NUL-terminated copy.
 * Returns 0, or -1 when out of range or out of memory.
 */
__attribute__((noinline)) static int slow_number(
        struct jw_jdoc *d, const unsigned char *start, size_t tl, int integral, struct jw_jnode *v)
{
	char *t = dscratch(d, tl + 1), *end = NULL;
	double x;

	if(!t)
		return -1;
	memcpy(t, start, tl);
	t[tl] = '\0';
	if(integral) {
		long long i;

		errno = 0;
		i = strtoll(t, &end, 10);
		if(errno == 0 && end == t + tl) {
			v->type = JW_J_INT;
			v->u.i = (int64_t)i;
			return 0;
		}
	}
	errno = 0;
	x = strtod(t, &end);
	if(end != t + tl || !isfinite(x))
		return -1;
	v->type = JW_J_DOUBLE;
	v->u.d = x;
	v->text = (const char *)start;
	v->n = (uint32_t)tl;
	return 0;
}

/* Appends the digits at c to *m (wrapping past 19 digits, which the
 * callers count) and returns the first byte that is not a digit. */
static inline unsigned char *accumulate(unsigned char *c, uint64_t *m)
{
	uint64_t v = *m, dg;

	while((dg = (uint64_t)*c - '0') < 10) {
		v = v * 10 + dg;
		c++;
	}
	*m = v;
	return c;
}

/*
 * The number at c (a '-' or a digit) into v. Returns the byte after it, or
 * NULL when it must be refused. Integers of up to 18 digits fit int64 as
 * they are accumulated. Other numbers with at most 19 significant digits
 * whose integer m is below 2^53 and whose decimal exponent e is within
 * 22 of zero are m * 10^e or m / 10^-e: both operands are exact doubles,
 * so the one IEEE operation rounds correctly, which is what strtod returns
 * (Clinger's fast path). Everything else goes to slow_number.
 */
static const double pow10_exact[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* Out of line: the parser inlines the usual numbers itself (number_value),
 * and keeping this out leaves it the registers for them. */
#if defined(__GNUC__)
__attribute__((noinline))
#endif
static unsigned char *
scan_number(struct jw_jdoc *d, unsigned char *c, struct jw_jnode *v)
{
	const double *pow10 = pow10_exact;
	unsigned char *start = c, *digits;
	uint64_t m = 0;
	size_t nd, frac = 0;
	int64_t ex = 0, e10;
	int neg = *c == '-', integral = 1;

	c += neg;
	digits = c;
	if(*c == '0') {
		c++;
		if(cls[*c] & C_DIGIT)
			return NULL;
	} else if(cls[*c] & C_DIGIT) {
		c = accumulate(c, &m);
	} else {
		return NULL;
	}
	nd = (size_t)(c - digits);
	if(!(cls[*c] & C_WORD)) {
		/* The common case: an integer followed by , ] } or white space. */
		if(nd <= 18) {
			v->type = JW_J_INT;
			v->u.i = neg ? -(int64_t)m : (int64_t)m;
			return c;
		}
		return slow_number(d, start, (size_t)(c - start), 1, v) < 0 ? NULL : c;
	}
	if(*c == '.') {
		unsigned char *f = ++c;

		integral = 0;
		if(!(cls[*c] & C_DIGIT))
			return NULL;
		c = accumulate(c, &m);
		frac = (size_t)(c - f);
		nd += frac;
	}
	if(*c == 'e' || *c == 'E') {
		int eneg = 0;

		integral = 0;
		c++;
		if(*c == '+' || *c == '-')
			eneg = *c++ == '-';
		if(!(cls[*c] & C_DIGIT))
			return NULL;
		do {
			/* Past this, only slow_number can tell 0 or out of range. */
			if(ex < 100000)
				ex = ex * 10 + (*c - '0');
			c++;
		} while(cls[*c] & C_DIGIT);
		if(eneg)
			ex = -ex;
	}
	/* "0x1F", "1.2.3", "12abc": the grammar stopped early. */
	if(cls[*c] & C_WORD)
		return NULL;
	if(integral)
		return slow_number(d, start, (size_t)(c - start), 1, v) < 0 ? NULL : c;
	e10 = ex - (int64_t)frac;
#if FLT_EVAL_METHOD == 0
	if(nd <= 19 && m <= (UINT64_C(1) << 53) && e10 >= -22 && e10 <= 22) {
		double x = (double)m;

		x = e10 < 0 ? x / pow10[-e10] : x * pow10[e10];
		v->type = JW_J_DOUBLE;
		v->u.d = neg ? -x : x;
		v->text = (const char *)start;
		v->n = (uint32_t)(c - start);
		return c;
	}
#else
	(void)pow10;
	(void)nd;
	(void)e10;
#endif
	return slow_number(d, start, (size_t)(c - start), 0, v) < 0 ? NULL : c;
}

/* Grows d->pending to hold one more value. */
__attribute__((noinline)) static int pending_grow(struct jw_jdoc *d)
{
	size_t cap = d->pending_cap ? d->pending_cap * 2 : 64;
	struct jw_jnode *n;

	if(cap > UINT32_MAX)
		return -1;
	n = realloc(d->pending, cap * sizeof(*n));
	if(!n)
		return -1;
	d->pending = n;
	d->pending_cap = cap;
	return 0;
}

__attribute__((noinline)) static int frames_grow(struct jw_jdoc *d)
{
	size_t cap = d->frames_cap ? d->frames_cap * 2 : 16;
	struct aframe *n = realloc(d->frames, cap * sizeof(*n));

	if(!n)
		return -1;
	d->frames = n;
	d->frames_cap = cap;
	return 0;
}

/*
 * jw_jdoc_parse after the fast path refused the input (or ran out of
 * memory): the explaining pass (explain.c) says why. Out of line, and
 * reached by a tail call, so that the accepting path keeps nothing for
 * it. When that pass finds no fault, the fast path gave up for want of
 * memory, or because the input is longer than it takes.
 */
__attribute__((noinline)) static int refused(
        struct jw_jdoc *d, const char *buf, size_t len, size_t max_depth, struct jw_json_error *err)
{
	struct jw_json_error local;

	d->root = NULL;
	if(!err)
		err = &local;
	err->reason = JW_REASON_NONE;
	err->offset = 0;
	err->message[0] = '\0';
	if(jw_json__explain(buf, len, max_depth, err) < 0)
		return -1;
	err->reason = JW_REASON_INTERNAL;
	err->offset = 0;
	if(len > INT_MAX)
		(void)snprintf(err->message, sizeof(err->message),
		        "input of %zu bytes is longer than %d at byte 0", len, INT_MAX);
	else
		(void)snprintf(err->message, sizeof(err->message), "out of memory at byte 0");
	return -1;
}

/* ---- the fast path ---- */

/*
 * The state of one parse. Values being built wait in d->pending: an open
 * array or object is a pending node followed by its items so far, and
 * closing it moves the items into one arena array. The outermost
 * container is the exception: nothing follows its items, so they stay
 * where they are and the root is d->pending[0] (kept, like the arena,
 * until the next parse, reset or free of d). Object members are pending
 * nodes that carry their key. The innermost container's first item, kind
 * and key filter are kept here; d->frames keeps them for every open
 * container (the filter only while a child is open).
 *
 * The steps below are inlined into parse_fast and this struct never
 * escapes it, so the compiler keeps its fields in registers, as it did
 * when the parser was one function.
 */
struct fast {
	struct jw_jdoc *d;
	struct jw_alloc *arena; /* for the key sets (keyset.h) */
	unsigned char *c;       /* the next input byte */
	struct jw_jnode *v;     /* the value being parsed */
	struct jw_jnode *p;     /* the next free pending slot */
	struct jw_jnode *pend;  /* the end of d->pending */
	struct jw_jnode *first; /* the innermost container's first item */
	size_t depth, max_depth;
	uint64_t bloom; /* the innermost object's key bits (parse_key) */
	/* What closes the innermost container: '}', ']', or at the top
	 * level the end marker. */
	unsigned char closer;
};

/* Where the parse goes after a step. */
enum step {
	STEP_VALUE,  /* a value starts at c, its slot is v */
	STEP_ITEM,   /* an array item (or the top-level value) starts at c */
	STEP_KEY,    /* an object member starts at c */
	STEP_NEXT,   /* a value is complete: ',', a closer or the end follows */
	STEP_CLOSED, /* a container is complete: back to the enclosing one */
	STEP_DONE,   /* the top-level value is complete */
	STEP_REFUSE, /* the input must be refused (or memory ran out) */
};

#if defined(__GNUC__)
#define STEP_INLINE static inline __attribute__((always_inline))
#else
#define STEP_INLINE static inline
#endif

/* The next pending slot, zeroed, into st->v. Growing moves d->pending,
 * and the pointers into it with it. Returns 0 or -1. */
STEP_INLINE int next_slot(struct fast *st)
{
	if(RARE(st->p == st->pend)) {
		struct jw_jdoc *d = st->d;
		size_t pi = (size_t)(st->p - d->pending), fi = (size_t)(st->first - d->pending);

		if(pending_grow(d) < 0)
			return -1;
		st->p = d->pending + pi;
		st->first = d->pending + fi;
		st->pend = d->pending + d->pending_cap;
	}
	st->v = st->p++;
	memset(st->v, 0, sizeof(*st->v));
	return 0;
}

/*
 * A number at c (a '-' or a digit). The usual forms inline: an integer of
 * up to 18 digits, or one with a fraction and no exponent, that does not
 * start with 0. These are scan_number's own short cases (the same tests,
 * the same one rounding); anything else goes to it from the start.
 * Returns 0 or -1.
 */
STEP_INLINE int number_value(struct fast *st)
{
	unsigned char *c = st->c, *t = c + (*c == '-'), *u = t + 1;
	struct jw_jnode *v = st->v;
	uint64_t m = (uint64_t)*t - '0', dg, b;

	if(m - 1 < 9) {
		/* The byte is kept whole: the digit is b - '0' inside the one
		 * address computation. */
		while((b = *u) - '0' < 10) {
			m = m * 10 + b - '0';
			u++;
		}
		if(!(cls[b] & C_WORD)) {
			if(u - t <= 18) {
				v->type = JW_J_INT;
				v->u.i = *c == '-' ? -(int64_t)m : (int64_t)m;
				st->c = u;
				return 0;
			}
		}
#if FLT_EVAL_METHOD == 0
		else if(*u == '.' && (dg = (uint64_t)u[1] - '0') < 10) {
			unsigned char *fr = u + 1;

			u += 2;
			m = m * 10 + dg;
			while((dg = (uint64_t)*u - '0') < 10) {
				m = m * 10 + dg;
				u++;
			}
			if(!(cls[*u] & C_WORD) && u - t - 1 <= 19 && m <= (UINT64_C(1) << 53) && u - fr <= 22) {
				double x = (double)m / pow10_exact[u - fr];

				v->type = JW_J_DOUBLE;
				v->u.d = *c == '-' ? -x : x;
				v->text = (const char *)c;
				v->n = (uint32_t)(u - c);
				st->c = u;
				return 0;
			}
		}
#endif
	}
	st->c = scan_number(st->d, c, v);
	return RARE(!st->c) ? -1 : 0;
}

/* A string value at c (its opening quote). Returns 0 or -1. */
STEP_INLINE int string_value(struct fast *st)
{
	unsigned char *s = st->c + 1, *c = jw_json__skip_run(s);
	struct jw_jnode *v = st->v;

	v->type = JW_J_STRING;
	v->u.s = (const char *)s;
	if(*c == '"') {
		/* No escapes, nothing but printable ASCII: the usual string. */
		*c++ = '\0';
		v->n = (uint32_t)(c - 1 - s);
		v->plain = 1;
	} else {
		size_t n;

		c = scan_string_rest(s, c, &n, &v->plain, &st->d->has_nul);
		if(RARE(!c))
			return -1;
		v->n = (uint32_t)n;
	}
	st->c = c;
	return 0;
}

/* An array or object opens at c: push a frame. */
STEP_INLINE enum step open_container(struct fast *st)
{
	struct jw_jdoc *d = st->d;
	struct aframe *f;

	if(st->depth >= st->max_depth)
		return STEP_REFUSE;
	if(st->depth == d->frames_cap && frames_grow(d) < 0)
		return STEP_REFUSE;
	if(st->depth)
		((struct aframe *)d->frames)[st->depth - 1].bloom = st->bloom;
	f = (struct aframe *)d->frames + st->depth++;
	st->closer = *st->c == '{' ? '}' : ']';
	st->first = st->p;
	st->bloom = 0;
	f->first = (size_t)(st->p - d->pending);
	f->is_object = st->closer == '}';
	memset(&f->keys, 0, sizeof(f->keys));
	st->v->type = st->closer == '}' ? JW_J_OBJECT : JW_J_ARRAY;
	st->c++;
	SKIP_WS(st->c);
	if(*st->c == st->closer) {
		/* Empty: n 0, no items. */
		st->c++;
		return STEP_CLOSED;
	}
	return st->closer == '}' ? STEP_KEY : STEP_ITEM;
}

/* Any value but a number or a string: literals, white space before the
 * value, containers. */
STEP_INLINE enum step other_value(struct fast *st)
{
	unsigned char *c = st->c;
	struct jw_jnode *v = st->v;

	switch(*c) {
		case 't':
			if(memcmp(c, "true", 4) != 0 || (cls[c[4]] & C_WORD))
				return STEP_REFUSE;
			v->type = JW_J_BOOL;
			v->b = 1;
			st->c += 4;
			return STEP_NEXT;
		case 'f':
			if(memcmp(c, "false", 5) != 0 || (cls[c[5]] & C_WORD))
				return STEP_REFUSE;
			v->type = JW_J_BOOL;
			st->c += 5;
			return STEP_NEXT;
		case 'n':
			if(memcmp(c, "null", 4) != 0 || (cls[c[4]] & C_WORD))
				return STEP_REFUSE;
			v->type = JW_J_NULL;
			st->c += 4;
			return STEP_NEXT;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			st->c++;
			SKIP_WS(st->c);
			return STEP_VALUE;
		case '{':
		case '[':
			return open_container(st);
		default:
			return STEP_REFUSE;
	}
}

/* Closes the innermost container, whose closer was just read: its items
 * move into the arena, unless it is the outermost one. */
STEP_INLINE enum step close_container(struct fast *st)
{
	struct jw_jnode *v = st->first - 1;
	size_t n = (size_t)(st->p - st->first);

	v->n = (uint32_t)n;
	if(st->depth == 1) {
		v->u.kids = st->first;
		return STEP_DONE;
	}
	v->u.kids = jw_jdoc__alloc(st->d, n * sizeof(*v->u.kids));
	if(!v->u.kids)
		return STEP_REFUSE;
	memcpy(v->u.kids, st->first, n * sizeof(*v->u.kids));
	st->p = st->first;
	return STEP_CLOSED;
}

/* Back in the enclosing container, if any, after one closed. */
STEP_INLINE void pop_frame(struct fast *st)
{
	if(--st->depth) {
		struct aframe *f = (struct aframe *)st->d->frames + st->depth - 1;

		st->first = st->d->pending + f->first;
		st->closer = f->is_object ? '}' : ']';
		st->bloom = f->bloom;
	} else {
		st->closer = 0;
	}
}

/* A value is complete: what follows it? At the top level only white space
 * and the end marker (closer is 0 there). */
STEP_INLINE enum step after_value(struct fast *st)
{
	for(;;) {
		if(*st->c == ',') {
			st->c++;
			if(st->closer == '}')
				return STEP_KEY;
			if(RARE(st->closer != ']'))
				return STEP_REFUSE;
			return STEP_ITEM;
		}
		if(*st->c == st->closer)
			break;
		if(RARE(!(cls[*st->c] & C_WS)))
			return STEP_REFUSE;
		st->c++;
		SKIP_WS(st->c);
	}
	if(!st->closer)
		return STEP_DONE;
	st->c++;
	return close_container(st);
}

/*
 * Whether the key k[0..n) is already in the innermost object: 1 yes, 0 no,
 * -1 out of memory. One bit per key, from its first byte and its length
 * (the keys of each schemas/ event type get distinct bits): only when the
 * bit was already set can an earlier key be the same. Then up to
 * JW_KEYSET_LINEAR_MAX earlier keys are compared one by one; past that
 * the object gets a key set (keyset.h), and all its bits are set, so that
 * every later key goes to the set too.
 */
STEP_INLINE int key_seen(struct fast *st, const unsigned char *k, size_t n)
{
	uint64_t bit = UINT64_C(1) << (((unsigned)k[0] + 4u * (unsigned)n) & 63);
	size_t count = (size_t)(st->p - st->first);

	if(RARE(st->bloom & bit)) {
		if(count <= JW_KEYSET_LINEAR_MAX) {
			for(size_t i = 0; i < count; i++) {
				/* key is char and k unsigned char: compared as bytes,
				 * or a first byte of 0x80 or more (any name not
				 * starting with ASCII) never matches. */
				if(st->first[i].keylen == n && (unsigned char)st->first[i].key[0] == k[0] &&
				        memcmp(st->first[i].key, k, n) == 0)
					return 1;
			}
		} else {
			struct aframe *f = (struct aframe *)st->d->frames + st->depth - 1;
			int seen;

			/* The allocator the sets share, made on first need. */
			if(!st->arena->alloc)
				jw_keyset_arena(st->arena, st->d);
			seen = jw_keyset_seen(&f->keys, st->arena, st->first, count, (const char *)k, n);

			if(seen != 0)
				return seen;
			bit = ~UINT64_C(0);
		}
	}
	st->bloom |= bit;
	return 0;
}

/* An object member: its key, the ':' and a slot for its value. Returns 0
 * or -1. */
STEP_INLINE int parse_key(struct fast *st)
{
	unsigned char *k;
	size_t n;

	if(RARE(*st->c != '"')) {
		SKIP_WS(st->c);
		if(*st->c != '"')
			return -1;
	}
	k = st->c + 1;
	st->c = jw_json__skip_run(k);
	if(*st->c == '"') {
		*st->c++ = '\0';
		n = (size_t)(st->c - 1 - k);
	} else {
		uint8_t kplain, knul = 0;

		st->c = scan_string_rest(k, st->c, &n, &kplain, &knul);
		/* A key may not hold U+0000 (only an escape can put it there). */
		if(RARE(!st->c || knul))
			return -1;
	}
	if(RARE(key_seen(st, k, n) != 0))
		return -1;
	if(RARE(*st->c != ':')) {
		SKIP_WS(st->c);
		if(*st->c != ':')
			return -1;
	}
	st->c++;
	if(RARE(next_slot(st) < 0))
		return -1;
	st->v->key = (const char *)k;
	st->v->keylen = (uint32_t)n;
	return 0;
}

/*
 * The fast path: 0 with d->root set, or -1 with d->root NULL when the
 * input must be refused, memory ran out or the input is longer than
 * INT_MAX bytes; then, when report is set, refused() says why.
 */
static int parse_fast(struct jw_jdoc *d, const char *buf, size_t len, size_t max_depth,
        struct jw_json_error *err, int report)
{
	struct jw_alloc arena;
	struct fast st;
	unsigned char *copy;

	/* Within this bound every string fits a node's n and every key its
	 * keylen without a check; a longer input is refused. */
	if(len == 0 || len > INT_MAX) {
		jw_jdoc_reset(d);
		goto refused;
	}
	/* The tree's strings live in this copy, so the tree outlives buf. */
	copy = jw_jdoc__begin(d, len + JW_JSON_PAD);
	if(!copy || (!d->pending && pending_grow(d) < 0))
		goto refused;
	memcpy(copy, buf, len);
	memset(copy + len, 0, JW_JSON_PAD);
	arena.alloc = NULL;
	st = (struct fast){.d = d,
	        .arena = &arena,
	        .c = copy,
	        .p = d->pending,
	        .pend = d->pending + d->pending_cap,
	        .first = d->pending,
	        .max_depth = max_depth};

item:
	if(RARE(next_slot(&st) < 0))
		goto refused;
value:
	/* Numbers and strings first, without the jump table. */
	if(cls[*st.c] & C_NUM) {
		if(RARE(number_value(&st) < 0))
			goto refused;
		goto next;
	}
	if(*st.c == '"') {
		if(RARE(string_value(&st) < 0))
			goto refused;
		goto next;
	}
	switch(other_value(&st)) {
		case STEP_VALUE:
			goto value;
		case STEP_ITEM:
			goto item;
		case STEP_KEY:
			goto key;
		case STEP_NEXT:
			goto next;
		case STEP_CLOSED:
			goto closed;
		default:
			goto refused;
	}
next:
	/* The usual case first, without a step: a ',' right after the value. */
	if(*st.c == ',' && st.closer) {
		st.c++;
		if(st.closer == '}')
			goto key;
		goto item;
	}
	switch(after_value(&st)) {
		case STEP_KEY:
			goto key;
		case STEP_ITEM:
			goto item;
		case STEP_CLOSED:
			goto closed;
		case STEP_DONE:
			goto done;
		default:
			goto refused;
	}
closed:
	pop_frame(&st);
	goto next;
key:
	if(RARE(parse_key(&st) < 0))
		goto refused;
	goto value;
done:
	SKIP_WS(st.c);
	if(st.c != copy + len)
		goto refused;
	d->root = d->pending;
	return 0;
refused:
	d->root = NULL;
	return report ? refused(d, buf, len, max_depth, err) : -1;
}
int jw_jdoc__parse_fast(struct jw_jdoc *d, const char *buf, size_t len, size_t max_depth)
{
	return parse_fast(d, buf, len, max_depth, NULL, 0);
}

int jw_jdoc_parse(
        struct jw_jdoc *d, const char *buf, size_t len, size_t max_depth, struct jw_json_error *err)
{
	if(err) {
		err->reason = JW_REASON_NONE;
		err->offset = 0;
		err->message[0] = '\0';
	}
	return parse_fast(d, buf, len, max_depth, err, 1);
}
