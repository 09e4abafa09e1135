/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Internal to core/json/: the pieces the arena parser (parse.c) and its
 * explaining pass (explain.c) share (UTF-8 rules, \u escapes). Not for
 * use outside this folder. Everything here is pure and thread-safe.
 */
#ifndef JW_JSON_INTERNAL_H
#define JW_JSON_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

struct jw_json_error;

/* Eight-bytes-at-a-time (SWAR) masks: a byte of ones, each byte's top bit. */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

enum utf8_fault {
	UTF8_OK = 0,
	UTF8_BAD_BYTE,   /* 0xF5..0xFF never occur */
	UTF8_STRAY_CONT, /* continuation byte without a lead byte */
	UTF8_TRUNCATED,  /* lead byte not followed by enough continuations */
	UTF8_OVERLONG,   /* C0, C1, E0 80..9F, F0 80..8F */
	UTF8_SURROGATE,  /* ED A0..BF: U+D800..U+DFFF */
	UTF8_TOO_BIG,    /* F4 90.., above U+10FFFF */
};

/*
 * The one UTF-8 rule of jobwire (Unicode 15, table 3-7): classifies the
 * sequence starting at s[i] of s[0..len). Returns UTF8_OK and its length
 * in *n, or the fault. The arena parser passes len SIZE_MAX: its input is
 * followed by a zero byte, which is no continuation byte, so the check
 * stops there. Inline: the arena parser calls it per non-ASCII character.
 */
static inline enum utf8_fault jw_utf8__seq(const unsigned char *s, size_t len, size_t i, size_t *n)
{
	unsigned char c = s[i];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need, k;

	if(c < 0x80) {
		*n = 1;
		return UTF8_OK;
	}
	if(c < 0xC0)
		return UTF8_STRAY_CONT;
	if(c < 0xC2 || c > 0xF4)
		return c < 0xC2 ? UTF8_OVERLONG : UTF8_BAD_BYTE;
	if(c < 0xE0)
		need = 1;
	else if(c < 0xF0)
		need = 2;
	else
		need = 3;
	/* The second byte carries the range restrictions. */
	if(c == 0xE0)
		lo = 0xA0;
	else if(c == 0xED)
		hi = 0x9F;
	else if(c == 0xF0)
		lo = 0x90;
	else if(c == 0xF4)
		hi = 0x8F;
	if(i + 1 >= len)
		return UTF8_TRUNCATED;
	if(s[i + 1] < lo || s[i + 1] > hi) {
		if(s[i + 1] < 0x80 || s[i + 1] > 0xBF)
			return UTF8_TRUNCATED;
		if(c == 0xED)
			return UTF8_SURROGATE;
		if(c == 0xF4)
			return UTF8_TOO_BIG;
		return UTF8_OVERLONG;
	}
	for(k = 2; k <= need; k++) {
		if(i + k >= len || s[i + k] < 0x80 || s[i + k] > 0xBF)
			return UTF8_TRUNCATED;
	}
	*n = need + 1;
	return UTF8_OK;
}

/* The first ill-formed sequence of s[0..len): UTF8_OK, or its fault
 * with its first byte's offset in *bad (utf8.c). */
enum utf8_fault jw_utf8__scan(const unsigned char *s, size_t len, size_t *bad);

/* A fault in words, for error messages ("overlong encoding"). */
const char *jw_utf8__fault_name(enum utf8_fault f);

/* The value of the four hex digits at s into *out, or -1 when one is not
 * a hex digit (it stops at the first, so a zero end marker is safe). */
static inline int jw_json__hex4(const unsigned char *s, unsigned *out)
{
	unsigned v = 0;
	int i;

	for(i = 0; i < 4; i++) {
		unsigned char c = s[i];

		v <<= 4;
		if(c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if(c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if(c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Writes code point cp (at most U+10FFFF, no surrogate) as UTF-8 at o;
 * returns the bytes written (1 to 4). */
static inline size_t jw_json__utf8_encode(unsigned long cp, char *o)
{
	if(cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if(cp < 0x800) {
		o[0] = (char)(0xC0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if(cp < 0x10000) {
		o[0] = (char)(0xE0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * Why buf[0..len) is not acceptable JSON under jw_json_parse's rules
 * (json.h) at max_depth (explain.c): -1 with *err filled (reason, byte
 * offset, message) at the first fault, or 0 when the text is acceptable
 * (*err untouched). Slower than the arena parser and builds nothing: it
 * runs only after that parser refused. Thread-safe.
 */
int jw_json__explain(const char *buf, size_t len, size_t max_depth, struct jw_json_error *err);

#endif
