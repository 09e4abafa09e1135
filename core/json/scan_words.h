/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Internal, included by scan.h: jw_json__skip_run eight bytes at a time in
 * a 64-bit word (SWAR), for processors without SSE2.
 */
#ifndef JW_JSON_SCAN_WORDS_H
#define JW_JSON_SCAN_WORDS_H

#include "internal.h"

/*
 * Per byte of w, the top bit is set when the byte ends a run of plain
 * string text: '"', '\\', below 0x20, 0x7F or above. (b ^ '"') - 1 and
 * (b ^ '\\') - 1 borrow into the top bit when b is that byte, b - 0x20
 * when b < 0x20, b + 1 sets it for 0x7F..0xFE and b itself for 0x80 and
 * up. A borrow or carry can also mark the byte above a marked one, never
 * one below, so the lowest marked byte is exact.
 */
static inline uint64_t special8(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

	return ((q - ONES) | (b - ONES) | (w - ONES * 0x20) | (w + ONES) | w) & HIGHS;
}

/* The index of the lowest byte of w (in memory order) with its top bit set;
 * m is special8 of the 8 bytes at s, not 0. */
static inline size_t first_marked(uint64_t m, const unsigned char *s)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	(void)s;
	return (size_t)__builtin_ctzll(m) >> 3;
#else
	size_t i = 0;

	(void)m;
	while(jw_json__plain_byte(s[i]))
		i++;
	return i;
#endif
}

/* The first byte at or after c that is not plain (jw_json__plain_byte). */
static inline unsigned char *jw_json__skip_run(unsigned char *c)
{
	for(;;) {
		uint64_t w, m;

		memcpy(&w, c, 8);
		m = special8(w);
		if(m)
			return c + first_marked(m, c);
		c += 8;
	}
}

#endif
