/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * UTF-8 validation of whole buffers (json.h's jw_utf8_valid, and the
 * up-front pass of the json-c parser), over the one sequence rule in
 * internal.h.
 */
#include "json.h"
#include "internal.h"

#include <string.h>

enum utf8_fault jw_utf8__scan(const unsigned char *s, size_t len, size_t *bad)
{
	size_t i = 0, n = 0;
	enum utf8_fault f;

	while(i < len) {
		/* Eight ASCII bytes at a time: most payloads are all ASCII. */
		while(len - i >= 8) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if(w & HIGHS)
				break;
			i += 8;
		}
		if(i == len)
			break;
		if(s[i] < 0x80) {
			i++;
			continue;
		}
		f = jw_utf8__seq(s, len, i, &n);
		if(f != UTF8_OK) {
			*bad = i;
			return f;
		}
		i += n;
	}
	return UTF8_OK;
}

/* The offset reported is the first byte of the ill-formed sequence. */
int jw_utf8_valid(const char *buf, size_t len, size_t *bad_offset)
{
	size_t bad = 0;

	if(jw_utf8__scan((const unsigned char *)buf, len, &bad) == UTF8_OK)
		return 1;
	if(bad_offset)
		*bad_offset = bad;
	return 0;
}

const char *jw_utf8__fault_name(enum utf8_fault f)
{
	switch(f) {
		case UTF8_BAD_BYTE:
			return "byte never valid in UTF-8";
		case UTF8_STRAY_CONT:
			return "unexpected continuation byte";
		case UTF8_TRUNCATED:
			return "truncated sequence";
		case UTF8_OVERLONG:
			return "overlong encoding";
		case UTF8_SURROGATE:
			return "UTF-16 surrogate";
		case UTF8_TOO_BIG:
			return "above U+10FFFF";
		case UTF8_OK:
			break;
	}
	return "invalid";
}
