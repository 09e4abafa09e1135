/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Exact arithmetic on JSON numbers as written. A double cannot hold
 * 9007199254740993 (it reads 9007199254740992), nor any integer beyond
 * int64, nor 0.1: comparing such numbers as doubles answers "equal" for
 * different values. These helpers work on the decimal text instead (any
 * number of digits), and on arena nodes, whose integers are exact int64
 * and whose other numbers keep their text (jdoc.h).
 */
#ifndef JW_NUMBER_H
#define JW_NUMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jdoc.h"

/*
 * Compares two numbers written in the JSON grammar (RFC 8259 section 6;
 * a[0..an), b[0..bn), not NUL-terminated) by their exact values: -1, 0
 * or 1 as a < b, a == b, a > b. "1", "1.0", "10e-1" and "-0" vs "0" are
 * equal. Exponents beyond +-10^15 are taken as +-10^15 (such numbers
 * are 0 or out of range as doubles).
 */
int jw_number_text_cmp(const char *a, size_t an, const char *b, size_t bn);

/*
 * Whether the number t[0..n) (JSON grammar) is an integer ("2.0" and
 * "1e3" are, "1.5" is not); when it is and fits int64, *out holds it
 * exactly. Returns 1 (an integer that fits), 0 (an integer beyond
 * int64) or -1 (not an integer).
 */
int jw_number_text_int64(const char *t, size_t n, int64_t *out);

/*
 * Whether x[0..xn) is an integer multiple of m[0..mn) (both JSON grammar,
 * m > 0), exactly: 1 yes, 0 no, -1 cannot tell exactly (m has more than
 * 9 significant digits; the caller then decides another way).
 */
int jw_number_text_multiple_of(const char *x, size_t xn, const char *m, size_t mn);

/*
 * The exact order of two number nodes (JW_J_INT or JW_J_DOUBLE): -1, 0
 * or 1, or 2 when unordered (a double without text that is NaN). Two
 * int64 compare at once; otherwise the doubles decide when they differ
 * (rounding to a double never reverses an order), and equal doubles
 * are settled on the decimal text. A JW_J_DOUBLE without text (made
 * from a json-c double) is exactly its double.
 */
int jw_number__cmp_nodes(const struct jw_jnode *a, const struct jw_jnode *b);

static inline int jw_jnode_num_cmp(const struct jw_jnode *a, const struct jw_jnode *b)
{
	if(a->type == JW_J_INT && b->type == JW_J_INT)
		return (a->u.i > b->u.i) - (a->u.i < b->u.i);
	return jw_number__cmp_nodes(a, b);
}

/* Whether number node x is an integer by its exact value ("1.0" is,
 * "1.0000000000000000001" is not, although both read 1.0 as doubles). */
bool jw_jnode_is_integer(const struct jw_jnode *x);

/*
 * The exact decimal text of d (finite) in buf, in the JSON grammar:
 * every digit of the binary value, so that it compares exactly with
 * number texts. Returns its length, or 0 when d is not finite or buf is
 * too short; JW_NUMBER_EXACT_MAX bytes are always enough.
 */
#define JW_NUMBER_EXACT_MAX 800
size_t jw_number_exact_text(double d, char *buf, size_t size);

#endif
