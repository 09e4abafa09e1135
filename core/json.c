/*
 * Strict RFC 8259 parser that builds json-c objects. It exists because
 * json-c's tokener is lenient in ways an event contract cannot be
 * (duplicate keys silently overwrite, NaN and comments are accepted), and
 * because every refusal here must say exactly what and where.
 *
 * The parser keeps its container stack on the heap, so nesting depth is
 * bounded by max_depth and by memory, never by the C stack.
 *
 * The second half of the file is jw_jdoc_parse's fast path (jdoc.h): the
 * same grammar for the per-message path, building an arena tree, with
 * this parser explaining whatever it refuses.
 */
#include "json.h"
#include "jdoc.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* Schema files are small; this only stops a stray multi-GiB file. */
#define JW_JSON_FILE_MAX ((size_t)16 * 1024 * 1024)

/* Longest key shown in a duplicate-key message, in input characters. */
#define KEY_SHOWN_MAX 48

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

/* One open array or object. */
struct frame {
	struct json_object *obj;
	char *key;     /* object: NUL-terminated key awaiting its value */
	size_t keycap; /* bytes allocated at key, kept while the frame is reused */
	int is_object;
};

struct parser {
	const unsigned char *s;
	size_t len;
	size_t pos;
	size_t max_depth;
	struct frame *stack;
	size_t depth; /* frames in use */
	size_t cap;
	char *scratch; /* decoded string or number text, reused */
	size_t scratch_cap;
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

/*
 * Classifies the UTF-8 sequence starting at s[i] (Unicode 15, table 3-7).
 * Returns UTF8_OK and its length in *n, or the fault.
 */
static enum utf8_fault utf8_seq(const unsigned char *s, size_t len, size_t i, size_t *n)
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

static enum utf8_fault utf8_scan(const unsigned char *s, size_t len, size_t *bad)
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
		f = utf8_seq(s, len, i, &n);
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

	if(utf8_scan((const unsigned char *)buf, len, &bad) == UTF8_OK)
		return 1;
	if(bad_offset)
		*bad_offset = bad;
	return 0;
}

static const char *utf8_fault_name(enum utf8_fault f)
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

/*
 * Writes s[0..n) into out as an ASCII, JSON-style quoted excerpt of at most
 * max input characters: printable ASCII as is, the rest as \uXXXX. s must
 * be valid UTF-8 (decoded keys always are).
 */
static void quote_excerpt(char *out, size_t outsz, const char *s, size_t n, size_t max)
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

static int scratch_reserve(struct parser *p, size_t need)
{
	size_t cap;
	char *n;

	if(need <= p->scratch_cap)
		return 0;
	cap = p->scratch_cap ? p->scratch_cap : 64;
	while(cap < need) {
		if(cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	n = realloc(p->scratch, cap);
	if(!n)
		return -1;
	p->scratch = n;
	p->scratch_cap = cap;
	return 0;
}

static int hex4(const unsigned char *s, unsigned *out)
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

static size_t utf8_encode(unsigned long cp, char *o)
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
 * Decodes the \u escape at p->pos (pointing at the backslash) into the
 * code point, combining a surrogate pair. Advances past it.
 */
static int parse_u_escape(struct parser *p, unsigned long *cp)
{
	size_t at = p->pos;
	unsigned hi, lo;

	if(p->len - at < 6 || hex4(p->s + at + 2, &hi) < 0)
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
	        hex4(p->s + p->pos + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF)
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
	size_t start = p->pos, o = 0, run;
	const unsigned char *s = p->s;
	int copied = 0;

	p->pos++;
	for(;;) {
		unsigned char c;

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
		/* Decoded output never exceeds 4 bytes per escape. */
		if(scratch_reserve(p, o + (p->pos - run) + 4) < 0)
			return oom(p);
		memcpy(p->scratch + o, s + run, p->pos - run);
		o += p->pos - run;
		copied = 1;
		if(c == '"') {
			p->pos++;
			*str = p->scratch;
			*n = o;
			return 0;
		}
		if(c < 0x20)
			return fail(p, JW_REASON_INVALID_JSON, p->pos,
			        "control character U+%04X in string at byte %zu", c, p->pos);
		if(p->pos + 1 >= p->len)
			return fail(p, JW_REASON_INVALID_JSON, start,
			        "unterminated string starting at byte %zu", start);
		c = p->s[p->pos + 1];
		switch(c) {
			case '"':
			case '\\':
			case '/':
				p->scratch[o++] = (char)c;
				break;
			case 'b':
				p->scratch[o++] = '\b';
				break;
			case 'f':
				p->scratch[o++] = '\f';
				break;
			case 'n':
				p->scratch[o++] = '\n';
				break;
			case 'r':
				p->scratch[o++] = '\r';
				break;
			case 't':
				p->scratch[o++] = '\t';
				break;
			case 'u': {
				unsigned long cp = 0;

				if(parse_u_escape(p, &cp) < 0)
					return -1;
				o += utf8_encode(cp, p->scratch + o);
				continue;
			}
			default: {
				char what[32];

				describe_byte(what, sizeof(what), c);
				return fail(p, JW_REASON_INVALID_JSON, p->pos,
				        "invalid escape (backslash then %s) at byte %zu", what, p->pos);
			}
		}
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
 * Parses a number per the RFC 8259 section 6 grammar:
 *   [ "-" ] ( "0" / [1-9] *DIGIT ) [ "." 1*DIGIT ] [ ("e"/"E") [+-] 1*DIGIT ]
 * Integers that fit int64 become int objects. Everything else is converted
 * with strtod, which reads '.' as the decimal point only in the "C" locale;
 * mosquitto never calls setlocale, so that holds in the broker and tools.
 */
/* A parsed number: is_int with i, or d; a double's text is p->scratch
 * (NUL-terminated) and, in the input, s[start..start + tl). */
struct numval {
	int is_int;
	int64_t i;
	double d;
	size_t start, tl;
};

static int parse_number_val(struct parser *p, struct numval *nv)
{
	size_t start = p->pos, tl, frac = 0;
	int integral = 1, has_exp = 0;
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
		while(p->pos < p->len && is_digit(s[p->pos])) {
			p->pos++;
			frac++;
		}
	}
	if(p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
		integral = 0;
		has_exp = 1;
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

	tl = p->pos - start;
	nv->start = start;
	nv->tl = tl;
	nv->is_int = 0;
	/* Up to 18 digits cannot overflow int64: no strtoll needed. */
	if(integral && tl - (s[start] == '-') <= 18) {
		int64_t v = 0;

		for(size_t k = start + (s[start] == '-'); k < p->pos; k++)
			v = v * 10 + (s[k] - '0');
		nv->is_int = 1;
		nv->i = s[start] == '-' ? -v : v;
		return 0;
	}
	/* strtod and strtoll need a NUL-terminated copy. */
	if(scratch_reserve(p, tl + 1) < 0)
		return oom(p);
	memcpy(p->scratch, s + start, tl);
	p->scratch[tl] = '\0';

	if(integral) {
		char *end = NULL;
		long long v;

		errno = 0;
		v = strtoll(p->scratch, &end, 10);
		if(errno == 0 && end == p->scratch + tl) {
			nv->is_int = 1;
			nv->i = (int64_t)v;
			return 0;
		}
		/* Beyond int64: fall through to a double that keeps its text. */
	}
	/*
	 * Short decimals without an exponent ("42.5"): at most 15 digits make
	 * an exactly representable integer m, 10^frac is exact up to 10^22,
	 * and one IEEE division rounds m / 10^frac correctly, which is what
	 * strtod returns (Clinger's fast path).
	 */
	if(!integral && !has_exp && tl - 1 - (s[start] == '-') <= 15) {
		static const double pow10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
		        1e11, 1e12, 1e13, 1e14, 1e15};
		int64_t m = 0;
		double d;

		for(size_t k = start + (s[start] == '-'); k < p->pos; k++) {
			if(s[k] != '.')
				m = m * 10 + (s[k] - '0');
		}
		d = (double)m / pow10[frac];
		nv->d = s[start] == '-' ? -d : d;
		return 0;
	}
	{
		char *end = NULL;
		double d;

		errno = 0;
		d = strtod(p->scratch, &end);
		if(end != p->scratch + tl)
			return malformed_number(p, start);
		/* Underflow (1e-400) rounds toward zero and is accepted. */
		if(!isfinite(d))
			return fail(p, JW_REASON_NUMBER_OUT_OF_RANGE, start,
			        "number at byte %zu is out of range for a double", start);
		nv->d = d;
		return 0;
	}
}

static int parse_number(struct parser *p, struct json_object **out)
{
	struct numval nv = {0};

	if(parse_number_val(p, &nv) < 0)
		return -1;
	if(nv.is_int)
		*out = json_object_new_int64(nv.i);
	else
		*out = json_object_new_double_s(nv.d, p->scratch);
	return *out ? 0 : oom(p);
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

/* Parses one scalar (string, number, literal) at p->pos into *out. */
static int parse_scalar(struct parser *p, struct json_object **out)
{
	unsigned char c = p->s[p->pos];
	int matched = 0, value = 0;

	*out = NULL;
	if(c == '"') {
		const char *str = NULL;
		size_t n = 0;

		if(parse_string(p, &str, &n) < 0)
			return -1;
		if(n > INT_MAX)
			return fail(p, JW_REASON_INTERNAL, p->pos, "string too long at byte %zu", p->pos);
		*out = json_object_new_string_len(str, (int)n);
		return *out ? 0 : oom(p);
	}
	if(c == '-' || is_digit(c))
		return parse_number(p, out);
	if(parse_literal(p, &matched, &value) < 0)
		return -1;
	if(!matched)
		return bad_value_start(p);
	if(value < 0)
		return 0; /* null is represented by NULL, as in json-c */
	*out = json_object_new_boolean(value);
	if(!*out)
		return oom(p);
	/* A literal glued to more letters was reported by parse_literal. */
	return 0;
}

/* Objects up to this many members are searched for a duplicate key by
 * comparing with each earlier key; larger ones use json-c's hash table. */
#define LINEAR_KEYS_MAX 16

/*
 * Whether obj already has key. Hashing a key costs json-c a few hundred
 * instructions, more than comparing it with a dozen short keys, and most
 * event objects are that small; past LINEAR_KEYS_MAX members the hash
 * lookup keeps the whole parse linear, even with 10^5 keys.
 */
static int key_seen(struct json_object *obj, const char *key)
{
	if(json_object_object_length(obj) > LINEAR_KEYS_MAX)
		return json_object_object_get_ex(obj, key, NULL);
	for(struct lh_entry *e = lh_table_head(json_object_get_object(obj)); e; e = lh_entry_next(e)) {
		const char *k = lh_entry_k(e);

		if(k[0] == key[0] && strcmp(k, key) == 0)
			return 1;
	}
	return 0;
}

/*
 * Parses an object key at p->pos (after white space) into f->key (the
 * frame's buffer, reused from key to key: json-c copies the key when the
 * member is added), refusing duplicates of keys already in f->obj.
 */
static int parse_key(struct parser *p, struct frame *f)
{
	size_t at = p->pos, n = 0;
	const char *str = NULL;
	char shown[96];

	if(p->pos >= p->len || p->s[p->pos] != '"') {
		if(p->pos < p->len && p->s[p->pos] == '\'')
			return bad_value_start(p);
		return unexpected(p, "'\"' to start an object key");
	}
	if(parse_string(p, &str, &n) < 0)
		return -1;
	/*
	 * json-c keys are C strings, so a key holding U+0000 would be silently
	 * cut short (and could collide with another key). Refuse it instead.
	 */
	if(memchr(str, '\0', n))
		return fail(p, JW_REASON_INVALID_JSON, at, "object key at byte %zu contains \\u0000", at);
	if(n >= f->keycap) {
		size_t cap = f->keycap ? f->keycap : 32;
		char *k;

		while(cap <= n) {
			if(cap > SIZE_MAX / 2)
				return oom(p);
			cap *= 2;
		}
		k = realloc(f->key, cap);
		if(!k)
			return oom(p);
		f->key = k;
		f->keycap = cap;
	}
	memcpy(f->key, str, n);
	f->key[n] = '\0';
	if(key_seen(f->obj, f->key)) {
		quote_excerpt(shown, sizeof(shown), f->key, n, KEY_SHOWN_MAX);
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
		/* New frames start without a key buffer. */
		memset(n + p->cap, 0, (cap - p->cap) * sizeof(*n));
		p->stack = n;
		p->cap = cap;
	}
	f = &p->stack[p->depth];
	f->obj = is_object ? json_object_new_object() : json_object_new_array();
	f->is_object = is_object;
	if(!f->obj)
		return oom(p);
	p->depth++;
	p->pos++;
	return 0;
}

/* Adds v (ownership passes) to the innermost open container. */
static int attach(struct parser *p, struct json_object *v)
{
	struct frame *f = &p->stack[p->depth - 1];
	int rc;

	if(f->is_object) {
		/* parse_key proved the key new, so skip json-c's own lookup. */
		rc = json_object_object_add_ex(f->obj, f->key, v, JSON_C_OBJECT_ADD_KEY_IS_NEW);
	} else {
		rc = json_object_array_add(f->obj, v);
	}
	if(rc != 0) {
		json_object_put(v);
		return oom(p);
	}
	return 0;
}

static void parser_cleanup(struct parser *p)
{
	while(p->depth > 0) {
		p->depth--;
		json_object_put(p->stack[p->depth].obj);
	}
	for(size_t i = 0; i < p->cap; i++)
		free(p->stack[i].key);
	free(p->stack);
	p->stack = NULL;
	free(p->scratch);
	p->scratch = NULL;
}

/*
 * The value loop. Instead of recursing, an open array or object is a frame
 * on p->stack; a finished value is attached to the innermost frame, and a
 * finished container becomes the value for the frame below it.
 */
static int parse_document(struct parser *p, struct json_object **out)
{
	struct json_object *v = NULL;

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
				p->depth--;
				v = p->stack[p->depth].obj;
			} else if(is_object) {
				if(parse_key(p, &p->stack[p->depth - 1]) < 0)
					return -1;
				continue;
			} else {
				continue;
			}
		} else if(parse_scalar(p, &v) < 0) {
			return -1;
		}

		/* Have a value v: attach it and see what follows. */
		for(;;) {
			struct frame *f;
			unsigned char close;

			if(p->depth == 0) {
				*out = v;
				return 0;
			}
			if(attach(p, v) < 0)
				return -1;
			v = NULL;
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
				p->depth--;
				v = p->stack[p->depth].obj;
				continue;
			}
			if(p->pos < p->len && p->s[p->pos] == '/')
				return bad_value_start(p);
			return unexpected(p, f->is_object ? "',' or '}'" : "',' or ']'");
		}
	}
}

int jw_json_parse(const char *buf, size_t len, size_t max_depth, struct json_object **out,
        struct jw_json_error *err)
{
	struct parser p;
	struct jw_json_error local;
	struct json_object *v = NULL;
	enum utf8_fault f;
	size_t bad = 0;
	int rc = -1;

	if(!err)
		err = &local;
	*out = NULL;
	memset(&p, 0, sizeof(p));
	p.s = (const unsigned char *)buf;
	p.len = len;
	p.max_depth = max_depth;
	p.err = err;
	err->reason = JW_REASON_NONE;
	err->offset = 0;
	err->message[0] = '\0';

	if(len == 0) {
		fail(&p, JW_REASON_INVALID_JSON, 0, "empty input");
		goto out;
	}
	/* One pass up front: RFC 8259 section 8.1 requires UTF-8. */
	f = utf8_scan(p.s, len, &bad);
	if(f != UTF8_OK) {
		fail(&p, JW_REASON_INVALID_UTF8, bad, "invalid UTF-8 at byte %zu (%s)", bad,
		        utf8_fault_name(f));
		goto out;
	}
	skip_ws(&p);
	if(p.pos == len) {
		fail(&p, JW_REASON_INVALID_JSON, 0, "empty input (only white space)");
		goto out;
	}
	if(parse_document(&p, &v) < 0)
		goto out;
	skip_ws(&p);
	if(p.pos < len) {
		char what[32];

		describe_byte(what, sizeof(what), p.s[p.pos]);
		fail(&p, JW_REASON_INVALID_JSON, p.pos, "trailing %s at byte %zu after the value", what,
		        p.pos);
		goto out;
	}
	*out = v;
	v = NULL;
	rc = 0;
out:
	json_object_put(v);
	parser_cleanup(&p);
	return rc;
}

int jw_json_parse_file(
        const char *path, size_t max_depth, struct json_object **out, struct jw_json_error *err)
{
	FILE *fp = NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	char inner[sizeof(err->message)];
	int rc = -1;

	*out = NULL;
	err->reason = JW_REASON_INTERNAL;
	err->offset = 0;
	err->message[0] = '\0';
	fp = fopen(path, "rb");
	if(!fp) {
		(void)snprintf(err->message, sizeof(err->message), "%s: %s", path, strerror(errno));
		goto out;
	}
	for(;;) {
		size_t got;

		if(len == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *n;

			/* One byte past the cap tells "too big" from "exactly max". */
			if(ncap > JW_JSON_FILE_MAX + 1)
				ncap = JW_JSON_FILE_MAX + 1;
			if(ncap == cap) {
				(void)snprintf(err->message, sizeof(err->message), "%s: larger than %zu bytes", path,
				        JW_JSON_FILE_MAX);
				goto out;
			}
			n = realloc(buf, ncap);
			if(!n) {
				(void)snprintf(err->message, sizeof(err->message), "%s: out of memory", path);
				goto out;
			}
			buf = n;
			cap = ncap;
		}
		got = fread(buf + len, 1, cap - len, fp);
		len += got;
		if(got == 0) {
			if(ferror(fp)) {
				(void)snprintf(err->message, sizeof(err->message), "%s: %s", path, strerror(errno));
				goto out;
			}
			break;
		}
	}
	if(len > JW_JSON_FILE_MAX) {
		(void)snprintf(err->message, sizeof(err->message), "%s: larger than %zu bytes", path,
		        JW_JSON_FILE_MAX);
		goto out;
	}
	if(jw_json_parse(buf, len, max_depth, out, err) < 0) {
		/* "path: cause", cut to fit; a long path may shorten the cause,
		 * the offset survives in err->offset. Built by hand because
		 * snprintf into the buffer we copy from cannot be proven safe. */
		const char *parts[3] = {path, ": ", inner};
		size_t used = 0;

		memcpy(inner, err->message, sizeof(inner));
		for(size_t k = 0; k < 3; k++) {
			size_t n = strlen(parts[k]);
			if(n > sizeof(err->message) - 1 - used)
				n = sizeof(err->message) - 1 - used;
			memcpy(err->message + used, parts[k], n);
			used += n;
		}
		err->message[used] = '\0';
		goto out;
	}
	rc = 0;
out:
	if(fp)
		fclose(fp);
	free(buf);
	return rc;
}

/* ---- arena documents (jdoc.h) ---- */

/*
 * jw_jdoc_parse is split in two. The fast path below only decides whether
 * the input is acceptable and builds the tree; it says nothing about why
 * it refuses. Refusals are rare on the per-message path, so they are
 * handed to jw_json_parse, which gives the reason, offset and message (the
 * contract is that both parsers agree on them anyway). This keeps the fast
 * path free of error bookkeeping, and of the up-front UTF-8 pass: the fast
 * path validates UTF-8 inside strings and refuses any byte >= 0x80
 * elsewhere, so whenever it accepts, the whole input was valid UTF-8, and
 * whenever the input is not, jw_json_parse reports that first, as before.
 *
 * The input is copied into the arena with JW_PAD zero bytes after it. The
 * zero after the last byte is the end marker: no byte that could continue
 * a token is 0, and a 0 inside the input is refused wherever it appears,
 * so the scanners need no length checks. The rest of the padding lets the
 * string scanner load 16 or 32 bytes at a time.
 */
#define JW_PAD 32

/* The string scanner uses SSE2 where the compiler offers it (all of
 * x86-64), else 8-byte words; JW_JSON_NO_SIMD forces the words (the tests
 * build it both ways). */
#if defined(__SSE2__) && !defined(JW_JSON_NO_SIMD)
#define JW_JSON_SSE2 1
#include <emmintrin.h>
#else
#define JW_JSON_SSE2 0
#endif

/* Past a string's first 16 plain bytes, 32 at a time with AVX2 when the
 * processor has it (asked at run time: the build does not assume it).
 * JW_JSON_NO_AVX2 leaves it out (a test builds the SSE2 loop that way). */
#if JW_JSON_SSE2 && defined(__x86_64__) && defined(__GNUC__) && !defined(JW_JSON_NO_AVX2)
#define JW_JSON_AVX2 1
#include <immintrin.h>
#else
#define JW_JSON_AVX2 0
#endif

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
	/* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 0,
	/* 0x10 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* 0x20 */ 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 12, 4, 0,
	/* 0x30 */ 14, 14, 14, 14, 14, 14, 14, 14, 14, 14, 0, 0, 0, 0, 0, 0,
	/* 0x40 */ 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	/* 0x50 */ 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 4,
	/* 0x60 */ 0, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
	/* 0x70 */ 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0,
};

#define SKIP_WS(c)                                                                                 \
	do {                                                                                           \
		while(cls[*(c)] & C_WS)                                                                    \
			(c)++;                                                                                 \
	} while(0)

/* One key remembered in an object's duplicate-key set. */
struct akey {
	const char *k;
	size_t n;
};

/* One open array or object while building a jw_jdoc. Its own node is the
 * pending value just before its first item. */
struct aframe {
	size_t first;      /* index in doc->pending of its first item */
	int is_object;
	uint64_t bloom;    /* key_bit of each key while the object is small */
	struct akey *hs;   /* past LINEAR_KEYS_MAX members: open-addressing set */
	size_t hcap, hn;   /* (in the arena, so nothing to free per frame) */
};

static uint64_t key_hash(const char *k, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for(size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)k[i]) * UINT64_C(0x100000001b3);
	return h;
}

/* Adds k to f's set (which has room). */
static void hs_insert(struct aframe *f, const char *k, size_t n)
{
	size_t m = f->hcap - 1, i = (size_t)key_hash(k, n) & m;

	while(f->hs[i].k)
		i = (i + 1) & m;
	f->hs[i].k = k;
	f->hs[i].n = n;
	f->hn++;
}

/* Makes room for one more key, building or doubling the set from the
 * members pending[f->first..pn). */
static int hs_grow(struct jw_jdoc *d, struct aframe *f, size_t pn)
{
	size_t cap;
	struct akey *old = f->hs;
	size_t oldcap = f->hcap;

	if(f->hs && (f->hn + 1) * 2 <= f->hcap)
		return 0;
	cap = f->hcap ? f->hcap * 2 : 64;
	f->hs = jw_jdoc__alloc(d, cap * sizeof(*f->hs));
	if(!f->hs)
		return -1;
	memset(f->hs, 0, cap * sizeof(*f->hs));
	f->hcap = cap;
	f->hn = 0;
	if(old) {
		for(size_t i = 0; i < oldcap; i++) {
			if(old[i].k)
				hs_insert(f, old[i].k, old[i].n);
		}
	} else {
		for(size_t i = f->first; i < pn; i++)
			hs_insert(f, d->pending[i].key, d->pending[i].keylen);
	}
	return 0;
}

/*
 * Whether f's object (members pending[f->first..pn)), which has more than
 * LINEAR_KEYS_MAX members, already has the key k[0..n): 1 yes, 0 no, -1
 * no memory. A hash set in the arena keeps the parse linear. (Smaller
 * objects are checked by the parser itself, comparing with earlier keys.)
 */
static int akey_seen(struct jw_jdoc *d, struct aframe *f, size_t pn, const char *k, size_t n)
{
	if(hs_grow(d, f, pn) < 0)
		return -1;
	for(size_t i = (size_t)key_hash(k, n) & (f->hcap - 1); f->hs[i].k; i = (i + 1) & (f->hcap - 1)) {
		if(f->hs[i].n == n && memcmp(f->hs[i].k, k, n) == 0)
			return 1;
	}
	hs_insert(f, k, n);
	return 0;
}

#if !JW_JSON_SSE2
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
#endif

static inline int plain_byte(unsigned char c)
{
	return c >= 0x20 && c < 0x7F && c != '"' && c != '\\';
}

#if !JW_JSON_SSE2
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
	while(plain_byte(s[i]))
		i++;
	return i;
#endif
}
#endif

/*
 * The length of the well-formed UTF-8 sequence at s (s[0] >= 0x80), or 0
 * (Unicode 15, table 3-7: the same rules as utf8_seq). s is followed by
 * the end marker, and each byte is looked at only if the one before it
 * fits, so this never reads past it.
 */
static inline size_t utf8_ok(const unsigned char *s)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need;

	if(c < 0xC2 || c > 0xF4)
		return 0;
	if(c < 0xE0)
		need = 1;
	else if(c < 0xF0)
		need = 2;
	else
		need = 3;
	if(c == 0xE0)
		lo = 0xA0;
	else if(c == 0xED)
		hi = 0x9F;
	else if(c == 0xF0)
		lo = 0x90;
	else if(c == 0xF4)
		hi = 0x8F;
	if(s[1] < lo || s[1] > hi)
		return 0;
	for(size_t k = 2; k <= need; k++) {
		if(s[k] < 0x80 || s[k] > 0xBF)
			return 0;
	}
	return need + 1;
}

#if JW_JSON_AVX2
/* skip_run's loop with 32-byte loads: the same test as below, for twice
 * the bytes per step. Only called when the processor has AVX2. */
__attribute__((target("avx2"), noinline)) static unsigned char *skip_run_avx2(unsigned char *c)
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
#endif

/*
 * The first byte at or after c that is not plain: a run of plain string
 * text is skipped 16 bytes at a time with SSE2 (past the first 16, 32 at a
 * time with AVX2 if the processor has it), else 8 (special8). The
 * end marker stops it.
 */
static inline unsigned char *skip_run(unsigned char *c)
{
#if JW_JSON_SSE2
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
			return skip_run_avx2(c);
#endif
	}
#else
	for(;;) {
		uint64_t w, m;

		memcpy(&w, c, 8);
		m = special8(w);
		if(m)
			return c + first_marked(m, c);
		c += 8;
	}
#endif
}

/*
 * The rest of a string whose plain start skip_run passed: s is its first
 * byte, c the first byte that is not plain (and not its closing quote).
 * Decodes escapes in place (the decoded text is never longer than the
 * escaped one) and checks UTF-8. Returns the byte after the closing quote,
 * or NULL when the string must be refused. The text s[0..*n) is
 * NUL-terminated; *nul is set to 1 when it holds U+0000 (only \u0000
 * can put it there), else left alone.
 */
static unsigned char *scan_string_rest(unsigned char *s, unsigned char *c, size_t *n, uint8_t *plain,
        uint8_t *nul)
{
	unsigned char *o = c, *r;
	int raw = 0; /* a byte 0x7F or above, as it is */

	for(;;) {
		unsigned char b = *c;

		if(b == '"')
			break;
		if(b < 0x20)
			return NULL; /* a control character or the end of the input */
		if(b == '\\') {
			unsigned hi, lo;
			unsigned long cp;

			switch(c[1]) {
				case '"':
				case '\\':
				case '/':
					*o++ = c[1];
					break;
				case 'b':
					*o++ = '\b';
					break;
				case 'f':
					*o++ = '\f';
					break;
				case 'n':
					*o++ = '\n';
					break;
				case 'r':
					*o++ = '\r';
					break;
				case 't':
					*o++ = '\t';
					break;
				case 'u':
					/* hex4 stops at the first non-hex byte, the end marker
					 * included. */
					if(hex4(c + 2, &hi) < 0 || (hi >= 0xDC00 && hi <= 0xDFFF))
						return NULL;
					if(hi < 0xD800 || hi > 0xDBFF) {
						cp = hi;
						if(!cp)
							*nul = 1;
					} else {
						if(c[6] != '\\' || c[7] != 'u' || hex4(c + 8, &lo) < 0 || lo < 0xDC00 ||
						        lo > 0xDFFF)
							return NULL;
						cp = 0x10000 + (((unsigned long)hi - 0xD800) << 10) + (lo - 0xDC00);
						c += 6;
					}
					o += utf8_encode(cp, (char *)o);
					c += 4;
					break;
				default:
					return NULL;
			}
			c += 2;
		} else if(b == 0x7F) {
			raw = 1;
			*o++ = *c++;
		} else {
			size_t k = utf8_ok(c);

			if(!k)
				return NULL;
			raw = 1;
			memmove(o, c, k);
			o += k;
			c += k;
		}
		/* The plain run up to the next byte of interest, moved down over
		 * what escapes saved. */
		r = skip_run(c);
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

		while(t < o && plain_byte(*t))
			t++;
		*plain = t == o;
	}
	return c + 1;
}

/* d->scratch with room for need bytes. */
static char *dscratch(struct jw_jdoc *d, size_t need)
{
	size_t cap;
	char *n;

	if(need <= d->scratch_cap)
		return d->scratch;
	cap = d->scratch_cap ? d->scratch_cap : 64;
	while(cap < need) {
		if(cap > SIZE_MAX / 2)
			return NULL;
		cap *= 2;
	}
	n = realloc(d->scratch, cap);
	if(!n)
		return NULL;
	d->scratch = n;
	d->scratch_cap = cap;
	return n;
}

/*
 * A number too long for the fast path: what parse_number_val does after
 * its own short cases, with strtoll and strtod on a NUL-terminated copy.
 * Returns 0, or -1 when out of range or out of memory.
 */
static int slow_number(struct jw_jdoc *d, const unsigned char *start, size_t tl, int integral,
        struct jw_jnode *v)
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
static const double pow10_exact[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
        1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static unsigned char *scan_number(struct jw_jdoc *d, unsigned char *c, struct jw_jnode *v)
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
static int pending_grow(struct jw_jdoc *d)
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

static int frames_grow(struct jw_jdoc *d)
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
 * The fast path. Values being built wait in d->pending: an open array or
 * object is a pending node followed by its items so far, and closing it
 * moves the items into one arena array. The outermost container is the
 * exception: nothing follows its items, so they stay where they are and
 * the root is d->pending[0] (kept, like the arena, until the next parse,
 * reset or free of d). Object members are pending nodes that carry their
 * key. The innermost container's first item, kind and key filter live in
 * locals; d->frames keeps them for every open container (the filter only
 * while a child is open). Returns 0 with d->root set, or -1 with d->root
 * NULL when the input must be refused, memory ran out or the input is
 * longer than INT_MAX bytes.
 */
/*
 * jw_jdoc_parse after the fast path refused the input (or ran out of
 * memory): the reference parser says why. Out of line, and reached by a
 * tail call, so that the accepting path keeps nothing for it.
 */
static int refused(struct jw_jdoc *d, const char *buf, size_t len, size_t max_depth,
        struct jw_json_error *err)
{
	struct jw_json_error local;
	struct json_object *o = NULL;
	int rc;

	if(!err)
		err = &local;
	err->reason = JW_REASON_NONE;
	err->offset = 0;
	err->message[0] = '\0';
	if(jw_json_parse(buf, len, max_depth, &o, err) < 0)
		return -1;
	/* It accepts what the fast path refused: that can only be for want
	 * of memory, so a tree built from its result is the answer. */
	rc = jw_jdoc_from_json(d, o);
	json_object_put(o);
	if(rc < 0) {
		d->root = NULL;
		err->reason = JW_REASON_INTERNAL;
		err->offset = 0;
		(void)snprintf(err->message, sizeof(err->message), "out of memory at byte 0");
		return -1;
	}
	return 0;
}

static int parse_fast(struct jw_jdoc *d, const char *buf, size_t len, size_t max_depth,
        struct jw_json_error *err, int report)
{
	unsigned char *copy, *c;
	struct jw_jnode *v, *p, *pend, *first;
	struct aframe *f;
	size_t depth = 0;
	uint64_t bloom = 0;
	/* What closes the innermost container: '}', ']', or at the top
	 * level the end marker. */
	unsigned char closer = 0;

	/* Within this bound every string fits a node's n and every key its
	 * keylen without a check; a longer input is left to jw_json_parse. */
	if(len == 0 || len > INT_MAX) {
		jw_jdoc_reset(d);
		goto refused;
	}
	/* The tree's strings live in this copy, so the tree outlives buf. */
	copy = jw_jdoc__begin(d, len + JW_PAD);
	if(!copy || (!d->pending && pending_grow(d) < 0))
		goto refused;
	memcpy(copy, buf, len);
	memset(copy + len, 0, JW_PAD);
	c = copy;
	p = d->pending;
	pend = p + d->pending_cap;
	first = p;

/* The next pending slot, zeroed, into v. Growing moves d->pending, and
 * the pointers into it with it. */
#define NEXT_SLOT()                                                                                \
	do {                                                                                           \
		if(RARE(p == pend)) {                                                                      \
			size_t pi_ = (size_t)(p - d->pending), fi_ = (size_t)(first - d->pending);             \
                                                                                                   \
			if(pending_grow(d) < 0)                                                                \
				goto refused;                                                                         \
			p = d->pending + pi_;                                                                  \
			first = d->pending + fi_;                                                              \
			pend = d->pending + d->pending_cap;                                                    \
		}                                                                                          \
		v = p++;                                                                                   \
		memset(v, 0, sizeof(*v));                                                                  \
	} while(0)

item:
	/* A slot for the top-level value or an array item. */
	NEXT_SLOT();
value:
	/* Numbers and strings first, without the jump table. */
	if(cls[*c] & C_NUM) {
		/* The usual forms inline: an integer of up to 18 digits, or
		 * one with a fraction and no exponent, that does not start
		 * with 0. These are scan_number's own short cases (the same
		 * tests, the same one rounding); anything else goes to it
		 * from the start. */
		unsigned char *t = c + (*c == '-'), *u = t + 1;
		uint64_t m = (uint64_t)*t - '0', dg, b;

		if(m - 1 < 9) {
			/* The byte is kept whole: the digit is b - '0' inside the
			 * one address computation. */
			while((b = *u) - '0' < 10) {
				m = m * 10 + b - '0';
				u++;
			}
			if(!(cls[b] & C_WORD)) {
				if(u - t <= 18) {
					v->type = JW_J_INT;
					v->u.i = *c == '-' ? -(int64_t)m : (int64_t)m;
					c = u;
					goto next;
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
				if(!(cls[*u] & C_WORD) && u - t - 1 <= 19 && m <= (UINT64_C(1) << 53) &&
				        u - fr <= 22) {
					double x = (double)m / pow10_exact[u - fr];

					v->type = JW_J_DOUBLE;
					v->u.d = *c == '-' ? -x : x;
					v->text = (const char *)c;
					v->n = (uint32_t)(u - c);
					c = u;
					goto next;
				}
			}
#endif
		}
		c = scan_number(d, c, v);
		if(RARE(!c))
			goto refused;
		goto next;
	}
	if(*c == '"') {
		unsigned char *s = c + 1;

		c = skip_run(s);
		v->type = JW_J_STRING;
		v->u.s = (const char *)s;
		if(*c == '"') {
			*c++ = '\0';
			v->n = (uint32_t)(c - 1 - s);
			v->plain = 1;
		} else {
			size_t n;

			c = scan_string_rest(s, c, &n, &v->plain, &d->has_nul);
			if(RARE(!c))
				goto refused;
			v->n = (uint32_t)n;
		}
		goto next;
	}
	switch(*c) {
		case '-':
		case '0':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
		case '7':
		case '8':
		case '9':
			c = scan_number(d, c, v);
			if(!c)
				goto refused;
			break;
		case 't':
			if(memcmp(c, "true", 4) != 0 || (cls[c[4]] & C_WORD))
				goto refused;
			v->type = JW_J_BOOL;
			v->b = 1;
			c += 4;
			break;
		case 'f':
			if(memcmp(c, "false", 5) != 0 || (cls[c[5]] & C_WORD))
				goto refused;
			v->type = JW_J_BOOL;
			c += 5;
			break;
		case 'n':
			if(memcmp(c, "null", 4) != 0 || (cls[c[4]] & C_WORD))
				goto refused;
			v->type = JW_J_NULL;
			c += 4;
			break;
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			c++;
			SKIP_WS(c);
			goto value;
		case '{':
		case '[':
			if(depth >= max_depth)
				goto refused;
			if(depth == d->frames_cap && frames_grow(d) < 0)
				goto refused;
			if(depth)
				((struct aframe *)d->frames)[depth - 1].bloom = bloom;
			f = (struct aframe *)d->frames + depth++;
			closer = *c == '{' ? '}' : ']';
			first = p;
			bloom = 0;
			f->first = (size_t)(p - d->pending);
			f->is_object = closer == '}';
			f->hs = NULL;
			f->hcap = 0;
			f->hn = 0;
			v->type = closer == '}' ? JW_J_OBJECT : JW_J_ARRAY;
			c++;
			SKIP_WS(c);
			if(*c == closer) {
				/* Empty: n 0, no items. */
				c++;
				goto closed;
			}
			if(closer == '}')
				goto key;
			goto item;
		default:
			goto refused;
	}

next:
	/* A value is complete: what follows it? At the top level only white
	 * space and the end marker (closer is 0 there). */
	for(;;) {
		if(*c == ',') {
			c++;
			if(closer == '}')
				goto key;
			if(RARE(closer != ']'))
				goto refused;
			goto item;
		}
		if(*c == closer)
			break;
		if(RARE(!(cls[*c] & C_WS)))
			goto refused;
		c++;
		SKIP_WS(c);
	}
	if(!closer)
		goto done;
	c++;
	/* Close the innermost container: its items move into the arena,
	 * unless it is the outermost one. */
	v = first - 1;
	v->n = (uint32_t)(p - first);
	if(depth == 1) {
		v->u.kids = first;
		goto done;
	}
	v->u.kids = jw_jdoc__alloc(d, (size_t)(p - first) * sizeof(*v->u.kids));
	if(!v->u.kids)
		goto refused;
	memcpy(v->u.kids, first, (size_t)(p - first) * sizeof(*v->u.kids));
	p = first;
closed:
	/* Back in the enclosing container, if any. */
	if(--depth) {
		f = (struct aframe *)d->frames + depth - 1;
		first = d->pending + f->first;
		closer = f->is_object ? '}' : ']';
		bloom = f->bloom;
	} else {
		closer = 0;
	}
	goto next;

key:
	if(RARE(*c != '"')) {
		SKIP_WS(c);
		if(*c != '"')
			goto refused;
	}
	{
		unsigned char *k = c + 1;
		size_t n;
		uint64_t bit;

		c = skip_run(k);
		if(*c == '"') {
			*c++ = '\0';
			n = (size_t)(c - 1 - k);
		} else {
			uint8_t kplain, knul = 0;

			c = scan_string_rest(k, c, &n, &kplain, &knul);
			/* A key may not hold U+0000 (only an escape can put it
			 * there). */
			if(RARE(!c || knul))
				goto refused;
		}
		/*
		 * One bit per key, from its first byte and its length (the keys
		 * of each schemas/ event type get distinct bits): only when the
		 * bit was already set can an earlier key be the same. Then
		 * up to LINEAR_KEYS_MAX earlier keys are compared one by one;
		 * past that the object gets a hash set, and all its bits are
		 * set, so that every later key goes to the set too.
		 */
		bit = UINT64_C(1) << (((unsigned)k[0] + 4u * (unsigned)n) & 63);
		if(RARE(bloom & bit)) {
			size_t count = (size_t)(p - first);

			if(count <= LINEAR_KEYS_MAX) {
				for(size_t i = 0; i < count; i++) {
					/* key is char and k unsigned char: compared as
					 * bytes, or a first byte of 0x80 or more (any
					 * name not starting with ASCII) never matches. */
					if(first[i].keylen == n && (unsigned char)first[i].key[0] == k[0] &&
					        memcmp(first[i].key, k, n) == 0)
						goto refused;
				}
			} else {
				f = (struct aframe *)d->frames + depth - 1;
				if(akey_seen(d, f, (size_t)(p - d->pending), (const char *)k, n) != 0)
					goto refused;
				bit = ~UINT64_C(0);
			}
		}
		bloom |= bit;
		if(RARE(*c != ':')) {
			SKIP_WS(c);
			if(*c != ':')
				goto refused;
		}
		c++;
		NEXT_SLOT();
		v->key = (const char *)k;
		v->keylen = (uint32_t)n;
	}
	goto value;

done:
	SKIP_WS(c);
	if(c != copy + len)
		goto refused;
	d->root = d->pending;
	return 0;

refused:
	d->root = NULL;
	return report ? refused(d, buf, len, max_depth, err) : -1;
#undef NEXT_SLOT
}

int jw_jdoc__parse_fast(struct jw_jdoc *d, const char *buf, size_t len, size_t max_depth)
{
	return parse_fast(d, buf, len, max_depth, NULL, 0);
}

int jw_jdoc_parse(struct jw_jdoc *d, const char *buf, size_t len, size_t max_depth,
        struct jw_json_error *err)
{
	if(err) {
		err->reason = JW_REASON_NONE;
		err->offset = 0;
		err->message[0] = '\0';
	}
	return parse_fast(d, buf, len, max_depth, err, 1);
}
