/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Internal, included by scan_sse2.h: the rest of a long plain run 32 bytes
 * a step with AVX2, on processors that have it (asked at run time: the
 * build does not assume it). Kept because it pays on events with long
 * strings: bench/validate_bench, CPU time per event, with and without it
 * in the same run, 0.143 against 0.161 us for a 679-byte event (--size
 * 679, a 560-byte message), 0.137 against 0.138 us at the default 300
 * bytes; an SSE2 loop of two 16-byte loads a step got 0.159 us.
 * JW_JSON_NO_AVX2 leaves it out (a unit test builds the parser that way).
 */
#ifndef JW_JSON_SCAN_AVX2_H
#define JW_JSON_SCAN_AVX2_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(JW_JSON_NO_AVX2)
#define JW_JSON_AVX2 1
#include <immintrin.h>

/* jw_json__skip_run's loop with 32-byte loads: the same test, for twice
 * the bytes per step. Only called when the processor has AVX2. */
__attribute__((target("avx2"), noinline)) static unsigned char *jw_json__skip_run_avx2(
        unsigned char *c)
{
	const __m256i quote = _mm256_set1_epi8('"'), bslash = _mm256_set1_epi8('\\');
	const __m256i shift = _mm256_set1_epi8(0x60), sat = _mm256_set1_epi8(33);

	for(;;) {
		__m256i w = _mm256_loadu_si256((const __m256i *)(const void *)c);
		__m256i qb = _mm256_or_si256(_mm256_cmpeq_epi8(w, quote), _mm256_cmpeq_epi8(w, bslash));
		__m256i pl = _mm256_andnot_si256(qb, _mm256_adds_epi8(_mm256_add_epi8(w, shift), sat));
		unsigned m = ~(unsigned)_mm256_movemask_epi8(pl);

		if(m)
			return c + __builtin_ctz(m);
		c += 32;
	}
}
#else
#define JW_JSON_AVX2 0
#endif

#endif
