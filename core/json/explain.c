/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Why the arena parser (parse.c) refused a text: a second, plain walk of
 * the RFC 8259 grammar that builds nothing and stops at the first fault
 * with its reason, byte offset and message (json.h). parse.c runs it only
 * after its fast path has refused, so none of this costs anything on the
 * accepting path; both walks accept exactly the same texts (tests/fuzz/
 * fuzz_json.c checks it).
 *
 * The order of the checks is part of the contract: an empty input first,
 * then the whole text's UTF-8, then the grammar from the start, so the
 * fault reported is the first one in that order.
 *
 * The container stack is on the heap, so nesting depth is bounded by
 * max_depth and by memory, never by the C stack.
 */
#include "json.h"
#include "internal.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/htab.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest key shown in a duplicate-key message, in input characters. */
#define KEY_SHOWN_MAX 48

/*
 * One open array or object. An object's keys so far are in p->keys from
 * keys_start on (each NUL-terminated, none holds U+0000): the keys of
 * the open objects form a stack there, as an inner object closes before
 * its parent's next key. Past LINEAR_KEYS_MAX keys, set indexes them.
 */
struct frame {
	int is_object;
	size_t keys_start; /* offset in p->keys of its first key */
	size_t nkeys;
	struct jw_htab set; /* items: key offset + 1; empty until needed */
};

struct parser {
	const unsigned char *s;
	size_t len;
	size_t pos;
	size_t max_depth;
	struct frame *stack;
	size_t depth; /* frames in use */
	size_t cap;
	struct jw_buf scratch; /* decoded string or number text, reused */
	struct jw_buf keys;    /* the keys of the open objects (struct frame) */
	struct jw_json_error *err;
};

static int fail(struct parser *p, enum jw_reason reason, size_t offset, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(struct parser *p, enum jw_reason reason, size_t offset, const char *fmt, ...)
{
	va_list ap;

	p->err->reason = reason;
	p->err->offset = offset;
	va_start(ap, fmt);
	(void)vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
	return -1;
}

static int oom(struct parser *p)
{
	return fail(p, JW_REASON_INTERNAL, p->pos, "out of memory at byte %zu", p->pos);
}

/* See json.h. */
void jw_json_quote_excerpt(char *out, size_t outsz, const char *s, size_t n, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0, shown = 0, k;
	char unit[16];
	int ulen;

	if(outsz < 8) {
		if(outsz)
			out[0] = '\0';
		return;
	}
	out[o++] = '"';
	while(i < n) {
		unsigned long cp;
		size_t step;

		if(shown == max)
			break;
		if(u[i] < 0x80) {
			cp = u[i];
			step = 1;
		} else if(u[i] < 0xE0) {
			cp = u[i] & 0x1Fu;
			step = 2;
		} else if(u[i] < 0xF0) {
			cp = u[i] & 0x0Fu;
			step = 3;
		} else {
			cp = u[i] & 0x07u;
			step = 4;
		}
		if(i + step > n)
			break;
		for(k = 1; k < step; k++)
			cp = (cp << 6) | (u[i + k] & 0x3Fu);
		if(cp == '"' || cp == '\\')
			ulen = snprintf(unit, sizeof(unit), "\\%c", (int)cp);
		else if(cp >= 0x20 && cp < 0x7F)
			ulen = snprintf(unit, sizeof(unit), "%c", (int)cp);
		else if(cp < 0x10000)
			ulen = snprintf(unit, sizeof(unit), "\\u%04lx", cp);
		else
			ulen = snprintf(unit, sizeof(unit), "\\u%04lx\\u%04lx", 0xD800 + ((cp - 0x10000) >> 10),
			        0xDC00 + ((cp - 0x10000) & 0x3FF));
		/* Keep room for the closing quote, "..." and the NUL. */
		if(ulen < 0 || o + (size_t)ulen + 5 > outsz)
			break;
		memcpy(out + o, unit, (size_t)ulen);
		o += (size_t)ulen;
		i += step;
		shown++;
	}
	out[o++] = '"';
	if(i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

/* Describes the byte at pos for "unexpected ..." messages. */
static void describe_byte(char *out, size_t outsz, unsigned char c)
{
	if(c >= 0x20 && c < 0x7F && c != '\'')
		(void)snprintf(out, outsz, "character '%c'", c);
	else if(c == '\'')
		(void)snprintf(out, outsz, "character \"'\"");
	else if(c == 0)
		(void)snprintf(out, outsz, "NUL byte");
	else
		(void)snprintf(out, outsz, "byte \\x%02X", c);
}

static int unexpected(struct parser *p, const char *expected)
{
	char what[32];

	if(p->pos >= p->len) {
		if(expected)
			return fail(p, JW_REASON_INVALID_JSON, p->pos,
			        "unexpected end of input at byte %zu, expected %s", p->pos, expected);
		return fail(
		        p, JW_REASON_INVALID_JSON, p->pos, "unexpected end of input at byte %zu", p->pos);
	}
	describe_byte(what, sizeof(what), p->s[p->pos]);
	if(expected)
		return fail(p, JW_REASON_INVALID_JSON, p->pos, "unexpected %s at byte %zu, expected %s",
		        what, p->pos, expected);
	return fail(p, JW_REASON_INVALID_JSON, p->pos, "unexpected %s at byte %zu", what, p->pos);
}

static void skip_ws(struct parser *p)
{
	while(p->pos < p->len) {
		unsigned char c = p->s[p->pos];

		if(c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		p->pos++;
	}
}

/*
 * Decodes the \u escape at p->pos (pointing at the backslash) into the
 * code point, combining a surrogate pair. Advances past it.
 */
static int parse_u_escape(struct parser *p, unsigned long *cp)
{
	size_t at = p->pos;
	unsigned hi, lo;

	if(p->len - at < 6 || jw_json__hex4(p->s + at + 2, &hi) < 0)
		return fail(p, JW_REASON_INVALID_JSON, at,
		        "invalid \\u escape at byte %zu (need 4 hex digits)", at);
	p->pos = at + 6;
	if(hi >= 0xDC00 && hi <= 0xDFFF)
		return fail(p, JW_REASON_INVALID_JSON, at, "lone surrogate \\u%04x at byte %zu", hi, at);
	if(hi < 0xD800 || hi > 0xDBFF) {
		*cp = hi;
		return 0;
	}
	/* RFC 8259 section 7: a high surrogate must be followed by a low one. */
	if(p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
	        jw_json__hex4(p->s + p->pos + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
		return fail(p, JW_REASON_INVALID_JSON, at, "lone surrogate \\u%04x at byte %zu", hi, at);
	p->pos += 6;
	*cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + (lo - 0xDC00);
	return 0;
}

/* Bytes that end a run of plain string content. */
static int string_special(unsigned char c)
{
	return c == '"' || c == '\\' || c < 0x20;
}

/*
 * Skips plain string content from i, eight bytes at a time, and returns
 * the offset of the first 8-byte block holding a '"', a '\\', a byte
 * below 0x20 (or too few bytes left); the caller finishes byte by byte.
 * Per byte b of a word: (b ^ '"') - 1 and (b ^ '\\') - 1 borrow into
 * the high bit only when b is that byte, and b - 0x20 only when b < 0x20;
 * "& ~w" drops bytes >= 0x80 (all plain UTF-8), which cannot match.
 */
static size_t skip_plain(const unsigned char *s, size_t len, size_t i)
{
	while(len - i >= 8) {
		uint64_t w, q, b;

		memcpy(&w, s + i, 8);
		q = w ^ (ONES * '"');
		b = w ^ (ONES * '\\');
		if(((q - ONES) | (b - ONES) | (w - ONES * 0x20)) & ~w & HIGHS)
			break;
		i += 8;
	}
	return i;
}

/*
 * Parses the string whose opening quote is at p->pos. On success *str and
 * *n hold the decoded text (not NUL-terminated, may contain NUL): a slice
 * of the input when the string has no escapes, else p->scratch, valid
 * until the next parse_string or parse_number. The input was already
 * checked to be valid UTF-8, so runs without escapes are copied as they
 * are, a run at a time.
 */
static int parse_string(struct parser *p, const char **str, size_t *n)
{
	size_t start = p->pos, run;
	const unsigned char *s = p->s;
	int copied = 0;

	p->pos++;
	for(;;) {
		unsigned char c;
		char esc;

		run = p->pos;
		p->pos = skip_plain(s, p->len, p->pos);
		while(p->pos < p->len && !string_special(s[p->pos]))
			p->pos++;
		if(p->pos >= p->len)
			return fail(p, JW_REASON_INVALID_JSON, start,
			        "unterminated string starting at byte %zu", start);
		c = s[p->pos];
		if(c == '"' && !copied) {
			/* No escapes: the input itself is the decoded text. */
			*str = (const char *)s + run;
			*n = p->pos - run;
			p->pos++;
			return 0;
		}
		/* Escapes: the decoded text is built in p->scratch. */
		if(!copied)
			jw_buf_truncate(&p->scratch, 0);
		if(jw_buf_add(&p->scratch, s + run, p->pos - run) != 0)
			return oom(p);
		copied = 1;
		if(c == '"') {
			p->pos++;
			*str = p->scratch.p;
			*n = p->scratch.len;
			return 0;
		}
		if(c < 0x20)
			return fail(p, JW_REASON_INVALID_JSON, p->pos,
			        "control character U+%04X in string at byte %zu", c, p->pos);
		if(p->pos + 1 >= p->len)
			return fail(p, JW_REASON_INVALID_JSON, start,
			        "unterminated string starting at byte %zu", start);
		c = p->s[p->pos + 1];
		esc = (char)c;
		switch(c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
				esc = '\b';
				break;
			case 'f':
				esc = '\f';
				break;
			case 'n':
				esc = '\n';
				break;
			case 'r':
				esc = '\r';
				break;
			case 't':
				esc = '\t';
				break;
			case 'u': {
				unsigned long cp = 0;
				char u8[4];

				if(parse_u_escape(p, &cp) < 0)
					return -1;
				if(jw_buf_add(&p->scratch, u8, jw_json__utf8_encode(cp, u8)) != 0)
					return oom(p);
				continue;
			}
			default: {
				char what[32];

				describe_byte(what, sizeof(what), c);
				return fail(p, JW_REASON_INVALID_JSON, p->pos,
				        "invalid escape (backslash then %s) at byte %zu", what, p->pos);
			}
		}
		if(jw_buf_add(&p->scratch, &esc, 1) != 0)
			return oom(p);
		p->pos += 2;
	}
}

static int is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Bytes that cannot directly follow a number or literal in valid JSON. */
static int is_word_byte(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
	       c == '+' || c == '-' || c == '_';
}

static int malformed_number(struct parser *p, size_t start)
{
	return fail(p, JW_REASON_INVALID_JSON, start, "malformed number at byte %zu", start);
}

/*
 * Moves p->pos over the number that starts there (RFC 8259 section 6);
 * *integral is set to 1 when it has neither fraction nor exponent.
 * Returns 0, or -1 with the error set.
 */
static int number_grammar(struct parser *p, int *integral_out)
{
	size_t start = p->pos;
	int integral = 1;
	const unsigned char *s = p->s;

	if(s[p->pos] == '-')
		p->pos++;
	if(p->pos >= p->len || !is_digit(s[p->pos])) {
		if(p->len - p->pos >= 8 && memcmp(s + p->pos, "Infinity", 8) == 0)
			return fail(p, JW_REASON_INVALID_JSON, start,
			        "-Infinity is not valid JSON (at byte %zu)", start);
		return fail(p, JW_REASON_INVALID_JSON, p->pos, "expected a digit after '-' at byte %zu",
		        p->pos);
	}
	if(s[p->pos] == '0') {
		p->pos++;
		if(p->pos < p->len && is_digit(s[p->pos]))
			return fail(
			        p, JW_REASON_INVALID_JSON, start, "leading zero in number at byte %zu", start);
	} else {
		while(p->pos < p->len && is_digit(s[p->pos]))
			p->pos++;
	}
	if(p->pos < p->len && s[p->pos] == '.') {
		integral = 0;
		p->pos++;
		if(p->pos >= p->len || !is_digit(s[p->pos]))
			return fail(p, JW_REASON_INVALID_JSON, p->pos, "expected a digit after '.' at byte %zu",
			        p->pos);
		while(p->pos < p->len && is_digit(s[p->pos]))
			p->pos++;
	}
	if(p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
		integral = 0;
		p->pos++;
		if(p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
			p->pos++;
		if(p->pos >= p->len || !is_digit(s[p->pos]))
			return fail(p, JW_REASON_INVALID_JSON, p->pos,
			        "expected a digit in exponent at byte %zu", p->pos);
		while(p->pos < p->len && is_digit(s[p->pos]))
			p->pos++;
	}
	/* "0x1F", "1.2.3", "12abc": the grammar stopped early. */
	if(p->pos < p->len && is_word_byte(s[p->pos]))
		return malformed_number(p, start);
	*integral_out = integral;
	return 0;
}

/*
 * The number at p->pos (RFC 8259 section 6): its grammar, then whether
 * its value fits. Integers of up to 18 digits always do; others are read
 * with strtoll or strtod, which read '.' as the decimal point only in the
 * "C" locale: mosquitto never calls setlocale, so that holds in the
 * broker and tools. A number that fits neither int64 nor a finite double
 * is NUMBER_OUT_OF_RANGE; underflow (1e-400) rounds toward zero.
 */
static int parse_number(struct parser *p)
{
	size_t start = p->pos, tl;
	const unsigned char *s = p->s;
	int integral = 0;
	char *end = NULL;
	double d;

	if(number_grammar(p, &integral) < 0)
		return -1;
	tl = p->pos - start;
	if(integral && tl - (s[start] == '-') <= 18)
		return 0;
	/* strtod and strtoll need a NUL-terminated copy. */
	jw_buf_truncate(&p->scratch, 0);
	if(jw_buf_add(&p->scratch, s + start, tl) != 0)
		return oom(p);
	if(integral) {
		errno = 0;
		(void)strtoll(p->scratch.p, &end, 10);
		if(errno == 0 && end == p->scratch.p + tl)
			return 0;
		/* Beyond int64: a double, if it fits one. */
	}
	d = strtod(p->scratch.p, &end);
	if(end != p->scratch.p + tl)
		return malformed_number(p, start);
	if(!isfinite(d))
		return fail(p, JW_REASON_NUMBER_OUT_OF_RANGE, start,
		        "number at byte %zu is out of range for a double", start);
	return 0;
}

/* Matches the word at p->pos against a literal; reports the usual slips. */
static int parse_literal(struct parser *p, int *matched, int *value)
{
	static const struct {
		const char *text;
		int value;
	} words[] = {{"true", 1}, {"false", 0}, {"null", -1}};
	size_t start = p->pos, i, wl = 0;

	while(start + wl < p->len && is_word_byte(p->s[start + wl]))
		wl++;
	for(i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		size_t n = strlen(words[i].text);

		if(wl == n && memcmp(p->s + start, words[i].text, n) == 0) {
			p->pos += n;
			*matched = 1;
			*value = words[i].value;
			return 0;
		}
	}
	*matched = 0;
	if(wl == 3 && memcmp(p->s + start, "NaN", 3) == 0)
		return fail(p, JW_REASON_INVALID_JSON, start, "NaN is not valid JSON (at byte %zu)", start);
	if(wl == 8 && memcmp(p->s + start, "Infinity", 8) == 0)
		return fail(p, JW_REASON_INVALID_JSON, start, "Infinity is not valid JSON (at byte %zu)",
		        start);
	if(wl > 0 && (p->s[start] == 't' || p->s[start] == 'f' || p->s[start] == 'n'))
		return fail(p, JW_REASON_INVALID_JSON, start,
		        "invalid literal at byte %zu (expected true, false or null)", start);
	return 0;
}

/* Reports the byte at p->pos when a value was expected there. */
static int bad_value_start(struct parser *p)
{
	unsigned char c;

	if(p->pos >= p->len)
		return unexpected(p, "a value");
	c = p->s[p->pos];
	if(c == 0xEF && p->pos == 0)
		return fail(p, JW_REASON_INVALID_JSON, 0, "byte order mark at byte 0 is not valid JSON");
	if(c == '/')
		return fail(p, JW_REASON_INVALID_JSON, p->pos, "comments are not valid JSON (at byte %zu)",
		        p->pos);
	if(c == '\'')
		return fail(p, JW_REASON_INVALID_JSON, p->pos,
		        "single-quoted strings are not valid JSON (at byte %zu)", p->pos);
	if(c == '+')
		return fail(p, JW_REASON_INVALID_JSON, p->pos, "leading '+' in number at byte %zu", p->pos);
	if(c == '.')
		return fail(p, JW_REASON_INVALID_JSON, p->pos,
		        "number must start with a digit (at byte %zu)", p->pos);
	return unexpected(p, NULL);
}

/* One scalar (string, number, literal) at p->pos. */
static int parse_scalar(struct parser *p)
{
	unsigned char c = p->s[p->pos];
	int matched = 0, value = 0;

	if(c == '"') {
		const char *str = NULL;
		size_t n = 0;

		return parse_string(p, &str, &n);
	}
	if(c == '-' || is_digit(c))
		return parse_number(p);
	if(parse_literal(p, &matched, &value) < 0)
		return -1;
	/* A literal glued to more letters was reported by parse_literal. */
	return matched ? 0 : bad_value_start(p);
}

/* Objects up to this many keys are searched for a duplicate by comparing
 * with each earlier key; larger ones get a hash set, which keeps the
 * whole walk linear, even with 10^5 keys. */
#define LINEAR_KEYS_MAX 16

/*
 * Whether the innermost object f already has the key k[0..n) (which is
 * free of U+0000); when it has not, the key is added. 1 yes, 0 no, -1
 * out of memory.
 */
static int key_seen(struct parser *p, struct frame *f, const char *k, size_t n)
{
	uint64_t h = jw_hash(k, n, 0);
	size_t at = p->keys.len, pos;

	if(f->nkeys < LINEAR_KEYS_MAX) {
		for(size_t o = f->keys_start; o < at;) {
			const char *e = p->keys.p + o;
			size_t el = strlen(e);

			if(el == n && memcmp(e, k, n) == 0)
				return 1;
			o += el + 1;
		}
	} else {
		if(!f->set.slots) {
			/* First use: the keys so far, which are known to differ. */
			if(jw_htab_init(&f->set, f->nkeys * 2 + 1, NULL) < 0)
				return -1;
			for(size_t o = f->keys_start; o < at;) {
				const char *e = p->keys.p + o;
				size_t el = strlen(e);

				jw_htab_insert(&f->set, jw_hash(e, el, 0), (void *)(uintptr_t)(o + 1));
				o += el + 1;
			}
		}
		for(void *it = jw_htab_first(&f->set, h, &pos); it; it = jw_htab_next(&f->set, h, &pos)) {
			const char *e = p->keys.p + ((uintptr_t)it - 1);

			if(memcmp(e, k, n) == 0 && e[n] == '\0')
				return 1;
		}
		if(jw_htab_reserve(&f->set, f->set.count + 1) < 0)
			return -1;
		jw_htab_insert(&f->set, h, (void *)(uintptr_t)(at + 1));
	}
	if(jw_buf_add(&p->keys, k, n) != 0 || jw_buf_add(&p->keys, "", 1) != 0)
		return -1;
	f->nkeys++;
	return 0;
}

/*
 * An object key at p->pos (after white space) and the ':' after it,
 * refusing a key that f already has.
 */
static int parse_key(struct parser *p, struct frame *f)
{
	size_t at = p->pos, n = 0;
	const char *str = NULL;
	char shown[96];
	int seen;

	if(p->pos >= p->len || p->s[p->pos] != '"') {
		if(p->pos < p->len && p->s[p->pos] == '\'')
			return bad_value_start(p);
		return unexpected(p, "'\"' to start an object key");
	}
	if(parse_string(p, &str, &n) < 0)
		return -1;
	/*
	 * json-c keys are C strings, so a key holding U+0000 would be cut
	 * short (and could collide with another key). Refuse it instead.
	 */
	if(memchr(str, '\0', n))
		return fail(p, JW_REASON_INVALID_JSON, at, "object key at byte %zu contains \\u0000", at);
	seen = key_seen(p, f, str, n);
	if(seen < 0)
		return oom(p);
	if(seen) {
		jw_json_quote_excerpt(shown, sizeof(shown), str, n, KEY_SHOWN_MAX);
		return fail(p, JW_REASON_DUPLICATE_KEY, at, "duplicate key %s at byte %zu", shown, at);
	}
	skip_ws(p);
	if(p->pos >= p->len || p->s[p->pos] != ':')
		return unexpected(p, "':' after object key");
	p->pos++;
	return 0;
}

static int push(struct parser *p, int is_object)
{
	struct frame *f;

	/*
	 * Check before descending, so "[[[[..." cannot run away. The limit
	 * matters beyond this file too: json-c frees and serialises
	 * recursively, so a result's depth is a C-stack cost for its users.
	 */
	if(p->depth + 1 > p->max_depth)
		return fail(p, JW_REASON_TOO_DEEP, p->pos, "nesting deeper than %zu levels at byte %zu",
		        p->max_depth, p->pos);
	if(p->depth == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct frame *n = realloc(p->stack, cap * sizeof(*n));

		if(!n)
			return oom(p);
		p->stack = n;
		p->cap = cap;
	}
	f = &p->stack[p->depth];
	memset(f, 0, sizeof(*f));
	f->is_object = is_object;
	f->keys_start = p->keys.len;
	p->depth++;
	p->pos++;
	return 0;
}

/* The innermost container closed: its keys go. */
static void pop(struct parser *p)
{
	struct frame *f = &p->stack[--p->depth];

	jw_htab_cleanup(&f->set);
	jw_buf_truncate(&p->keys, f->keys_start);
}

static void parser_cleanup(struct parser *p)
{
	while(p->depth > 0)
		pop(p);
	free(p->stack);
	p->stack = NULL;
	jw_buf_cleanup(&p->scratch);
	jw_buf_cleanup(&p->keys);
}

/*
 * The value loop. Instead of recursing, an open array or object is a frame
 * on p->stack; after a value, what follows decides between the next item,
 * the close of the innermost container and the end.
 */
static int parse_document(struct parser *p)
{
	for(;;) {
		/* Expect a value. */
		skip_ws(p);
		if(p->pos >= p->len)
			return unexpected(p, "a value");
		if(p->s[p->pos] == '{' || p->s[p->pos] == '[') {
			int is_object = p->s[p->pos] == '{';
			unsigned char close = is_object ? '}' : ']';

			if(push(p, is_object) < 0)
				return -1;
			skip_ws(p);
			if(p->pos < p->len && p->s[p->pos] == close) {
				p->pos++;
				pop(p);
			} else if(is_object) {
				if(parse_key(p, &p->stack[p->depth - 1]) < 0)
					return -1;
				continue;
			} else {
				continue;
			}
		} else if(parse_scalar(p) < 0) {
			return -1;
		}

		/* A value is complete: see what follows. */
		for(;;) {
			struct frame *f;
			unsigned char close;

			if(p->depth == 0)
				return 0;
			f = &p->stack[p->depth - 1];
			close = f->is_object ? '}' : ']';
			skip_ws(p);
			if(p->pos < p->len && p->s[p->pos] == ',') {
				size_t comma = p->pos;

				p->pos++;
				skip_ws(p);
				if(p->pos < p->len && p->s[p->pos] == close)
					return fail(
					        p, JW_REASON_INVALID_JSON, comma, "trailing comma at byte %zu", comma);
				if(f->is_object && parse_key(p, f) < 0)
					return -1;
				break; /* next value */
			}
			if(p->pos < p->len && p->s[p->pos] == close) {
				p->pos++;
				pop(p);
				continue;
			}
			if(p->pos < p->len && p->s[p->pos] == '/')
				return bad_value_start(p);
			return unexpected(p, f->is_object ? "',' or '}'" : "',' or ']'");
		}
	}
}

int jw_json__explain(const char *buf, size_t len, size_t max_depth, struct jw_json_error *err)
{
	struct parser p;
	enum utf8_fault f;
	size_t bad = 0;
	int rc = -1;

	memset(&p, 0, sizeof(p));
	p.s = (const unsigned char *)buf;
	p.len = len;
	p.max_depth = max_depth;
	p.err = err;

	if(len == 0) {
		fail(&p, JW_REASON_INVALID_JSON, 0, "empty input");
		goto out;
	}
	/* One pass up front: RFC 8259 section 8.1 requires UTF-8. */
	f = jw_utf8__scan(p.s, len, &bad);
	if(f != UTF8_OK) {
		fail(&p, JW_REASON_INVALID_UTF8, bad, "invalid UTF-8 at byte %zu (%s)", bad,
		        jw_utf8__fault_name(f));
		goto out;
	}
	skip_ws(&p);
	if(p.pos == len) {
		fail(&p, JW_REASON_INVALID_JSON, 0, "empty input (only white space)");
		goto out;
	}
	if(parse_document(&p) < 0)
		goto out;
	skip_ws(&p);
	if(p.pos < len) {
		char what[32];

		describe_byte(what, sizeof(what), p.s[p.pos]);
		fail(&p, JW_REASON_INVALID_JSON, p.pos, "trailing %s at byte %zu after the value", what,
		        p.pos);
		goto out;
	}
	rc = 0;
out:
	parser_cleanup(&p);
	return rc;
}
