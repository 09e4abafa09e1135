/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Internal to core/json/parse.c: jw_json__skip_run, the scanner that skips
 * a run of plain string text (printable ASCII other than '"' and '\\').
 * SSE2 where the compiler offers it (all of x86-64, scan_sse2.h), else
 * eight bytes at a time (scan_words.h); JW_JSON_NO_SIMD forces the words
 * (a unit test builds the parser that way).
 *
 * The scanners need no length: the arena parser's copy of the input ends
 * in JW_JSON_PAD zero bytes, and a zero byte is never plain, so a run
 * always stops inside the padding. Pure; any thread.
 */
#ifndef JW_JSON_SCAN_H
#define JW_JSON_SCAN_H

#include <stdint.h>
#include <string.h>

/* Zero bytes after the arena parser's copy: the end marker, and room for
 * a 16-byte load that starts at the last input byte. */
#define JW_JSON_PAD 32

/* Whether c may stand in a string as it is, and be written back unquoted. */
static inline int jw_json__plain_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

#if defined(__SSE2__) && !defined(JW_JSON_NO_SIMD)
#include "scan_sse2.h"
#else
#include "scan_words.h"
#endif

#endif
