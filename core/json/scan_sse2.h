/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Internal, included by scan.h: jw_json__skip_run 16 bytes at a time with
 * SSE2, which every x86-64 processor has; past the first 16 bytes of a
 * run, 32 at a time with AVX2 where the processor has it (scan_avx2.h).
 */
#ifndef JW_JSON_SCAN_SSE2_H
#define JW_JSON_SCAN_SSE2_H

#include <emmintrin.h>

#include "scan_avx2.h"

/* The first byte at or after c that is not plain (jw_json__plain_byte). */
static inline unsigned char *jw_json__skip_run(unsigned char *c)
{
	/* b + 0x60 (wrapping) is -128..-34 as a signed byte exactly for
	 * 0x20..0x7E; adding 33 more with signed saturation leaves those
	 * negative and takes every other byte to 0 or above. So the top bit
	 * says "plain", unless the byte is '"' or '\\'; a plain run ends at
	 * the first byte whose bit is clear. */
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i shift = _mm_set1_epi8(0x60), sat = _mm_set1_epi8(33);

	for(;;) {
		__m128i w = _mm_loadu_si128((const __m128i *)(const void *)c);
		__m128i qb = _mm_or_si128(_mm_cmpeq_epi8(w, quote), _mm_cmpeq_epi8(w, bslash));
		__m128i pl = _mm_andnot_si128(qb, _mm_adds_epi8(_mm_add_epi8(w, shift), sat));
		unsigned m = (unsigned)_mm_movemask_epi8(pl) ^ 0xFFFFu;

		if(m)
			return c + __builtin_ctz(m);
		c += 16;
#if JW_JSON_AVX2
		/* A long run: the rest with AVX2 if there is AVX2. */
		if(__builtin_cpu_supports("avx2"))
			return jw_json__skip_run_avx2(c);
#endif
	}
}

#endif
