/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Strict JSON parsing into json-c objects, for what is off the
 * per-message path (schema files, journal records, tokens, the CLI); the
 * per-message path keeps the arena document instead (jdoc.h). Both are
 * the one parser of jobwire, the arena parser, so their verdicts are the
 * same: jw_json_parse is jw_jdoc_parse followed by jw_jnode_to_json.
 * json-c's own tokener accepts things an event contract must refuse
 * (duplicate keys, NaN, Infinity, comments, invalid UTF-8 in some modes),
 * so untrusted text goes through this parser. RFC 8259 exactly, plus
 * limits.
 *
 * core/json/ holds: parse.c (the arena parser), explain.c (why it
 * refused: reason, offset, message), jdoc.c (the arena), write.c (arena
 * tree to text), convert.c (arena <-> json-c, and jw_json_parse),
 * utf8.c (UTF-8 validation), scan*.h (the string scanner: SSE2, AVX2 or
 * words), keyset.c (duplicate keys of wide objects).
 *
 * Every function here is thread-safe: no global state.
 */
#ifndef JW_JSON_H
#define JW_JSON_H

#include <stddef.h>

#include "reason.h"

struct json_object;

/*
 * Why a text was refused. reason is one of:
 *   JW_REASON_INVALID_JSON         not RFC 8259 JSON (grammar, a lone
 *                                  surrogate escape, trailing bytes, empty)
 *   JW_REASON_INVALID_UTF8         the text is not well-formed UTF-8
 *   JW_REASON_DUPLICATE_KEY        an object names a key twice
 *   JW_REASON_TOO_DEEP             nesting beyond max_depth
 *   JW_REASON_NUMBER_OUT_OF_RANGE  a number beyond a finite double
 *   JW_REASON_INTERNAL             out of memory, or a file could not be read
 */
struct jw_json_error {
	enum jw_reason reason; /* see above */
	size_t offset;         /* byte offset of the problem in the input */
	char message[160];     /* e.g. "duplicate key \"job_id\" at byte 42" */
};

/*
 * Parses exactly one JSON value from buf[0..len) (surrounding white space
 * allowed, nothing else). buf need not be NUL-terminated and may contain
 * NUL bytes (which are an error outside strings).
 *
 * Rules beyond RFC 8259 grammar: input must be valid UTF-8 (no overlongs,
 * no surrogates, nothing above U+10FFFF); \u escapes must not leave a lone
 * surrogate; object keys must be unique; arrays and objects may nest at
 * most max_depth levels (the top-level value is depth 1); a number that
 * does not fit a finite double is NUMBER_OUT_OF_RANGE. Integers that fit
 * int64 become json_type_int, others json_type_double (keeping their text
 * for serialisation).
 *
 * On success returns 0 and stores a new object in *out (caller owns it,
 * json_object_put). JSON null yields *out == NULL. On failure returns -1,
 * fills *err and leaves *out NULL. Thread-safe; no global state.
 */
int jw_json_parse(const char *buf, size_t len, size_t max_depth, struct json_object **out,
        struct jw_json_error *err);

/*
 * Reads and parses a whole file with jw_json_parse. Returns 0 or -1 with
 * *err filled (a read failure is INTERNAL with strerror text).
 */
int jw_json_parse_file(
        const char *path, size_t max_depth, struct json_object **out, struct jw_json_error *err);

/*
 * Writes s[0..n) into out (outsz bytes, NUL-terminated) as a quoted ASCII
 * excerpt of at most max characters, for error messages: printable ASCII
 * as is, everything else as \uXXXX (a character past the BMP as its
 * surrogate pair), "..." after the closing quote when cut short. Keeping
 * messages ASCII means cutting one short never splits a sequence. s must
 * be valid UTF-8 (what the parser accepted; NUL and controls allowed).
 * With outsz < 8, out is left empty. Any thread.
 */
void jw_json_quote_excerpt(char *out, size_t outsz, const char *s, size_t n, size_t max);

/* Checks that buf[0..len) is well-formed UTF-8 (same rules as above).
 * Returns 1 when valid, 0 otherwise; *bad_offset gets the first bad byte. */
int jw_utf8_valid(const char *buf, size_t len, size_t *bad_offset);

#endif
