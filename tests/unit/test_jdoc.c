/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The arena parser's fast path (jw_jdoc__parse_fast) against its
 * explaining walk (explain.c, which shares none of its grammar code): for
 * every input both must give the same verdict. And jw_jdoc_parse against
 * jw_json_parse (its tree converted to json-c): the same verdict, the
 * same reason, offset and message, and on success the same tree (types,
 * values, number texts, member order). Inputs: hand-made hostile cases,
 * every truncation and many single-byte corruptions of the schema
 * examples, the examples themselves, the integration tests' hostile
 * corpus, and generated documents.
 */
#include <check.h>

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "internal.h"
#include "jdoc.h"
#include "json.h"
#include "testutil.h"
#include "util_check.h"

/* Under valgrind (CI runs every unit test there too) the mutation and
 * generation loops take every STRIDE-th case only: memcheck looks for
 * memory errors, which the native and ASan runs of every case also catch,
 * and three builds of this file run under it. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
/* The scanner variants (test_jdoc_sse2, test_jdoc_words) differ only in
 * how plain runs are skipped: a sparser sample covers those loops. */
#ifndef JW_VALGRIND_STRIDE
#define JW_VALGRIND_STRIDE 23u
#endif
#define STRIDE (RUNNING_ON_VALGRIND ? JW_VALGRIND_STRIDE : 1u)
#endif
#endif
#ifndef STRIDE
#define STRIDE 1u
#endif

#define EXAMPLES_DIR JW_SCHEMAS_DIR "/examples"
#define CORPUS_SCRIPT JW_SCHEMAS_DIR "/../tests/integration/hostile_corpus.py"

static struct jw_jdoc doc; /* reused across inputs, as the plugin does */
static size_t compared;

static struct jw_jdoc fast; /* for the fast path alone */

/* What a string node's plain flag must say, byte by byte. */
static int ref_plain(const char *s, size_t n)
{
	for(size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if(c < 0x20 || c >= 0x7F || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

/* Whether json-c value o and arena node n are the same tree. */
static int same_tree(const struct json_object *o, const struct jw_jnode *n)
{
	struct json_object *m = (struct json_object *)(uintptr_t)o;

	if(!o)
		return n->type == JW_J_NULL;
	switch(json_object_get_type(o)) {
		case json_type_null:
			return n->type == JW_J_NULL;
		case json_type_boolean:
			return n->type == JW_J_BOOL && n->b == (json_object_get_boolean(o) ? 1 : 0);
		case json_type_int:
			return n->type == JW_J_INT && n->u.i == json_object_get_int64(o);
		case json_type_double: {
			const char *t = json_object_get_userdata(m);
			double d = json_object_get_double(o);

			if(n->type != JW_J_DOUBLE || memcmp(&d, &n->u.d, sizeof(d)) != 0)
				return 0;
			return t && n->text && strlen(t) == n->n && memcmp(t, n->text, n->n) == 0;
		}
		case json_type_string:
			return n->type == JW_J_STRING && n->plain == ref_plain(n->u.s, n->n) &&
			       (size_t)json_object_get_string_len(o) == n->n &&
			       memcmp(json_object_get_string(m), n->u.s, n->n) == 0 && n->u.s[n->n] == '\0';
		case json_type_array:
			if(n->type != JW_J_ARRAY || json_object_array_length(o) != n->n)
				return 0;
			for(size_t i = 0; i < n->n; i++) {
				/* Items carry no key. */
				if(n->u.kids[i].key || n->u.kids[i].keylen ||
				        !same_tree(json_object_array_get_idx(o, i), &n->u.kids[i]))
					return 0;
			}
			return 1;
		case json_type_object: {
			size_t i = 0;

			if(n->type != JW_J_OBJECT || (size_t)json_object_object_length(o) != n->n)
				return 0;
			for(struct lh_entry *e = lh_table_head(json_object_get_object(o)); e;
			        e = lh_entry_next(e), i++) {
				const struct jw_jnode *k = &n->u.kids[i];

				if(strcmp(lh_entry_k(e), k->key) != 0 || strlen(k->key) != k->keylen ||
				        !same_tree(lh_entry_v(e), k))
					return 0;
				if(jw_jnode_get(n, k->key) != k)
					return 0;
			}
			return 1;
		}
	}
	return 0;
}

/* Whether a string value under n holds U+0000 (what has_nul must say). */
static int tree_has_nul(const struct jw_jnode *n)
{
	if(n->type == JW_J_STRING)
		return memchr(n->u.s, '\0', n->n) != NULL;
	if(n->type == JW_J_ARRAY || n->type == JW_J_OBJECT) {
		for(uint32_t i = 0; i < n->n; i++) {
			if(tree_has_nul(&n->u.kids[i]))
				return 1;
		}
	}
	return 0;
}

static void show(char *out, size_t outsz, const char *buf, size_t len)
{
	size_t o = 0;

	for(size_t i = 0; i < len && o + 8 < outsz; i++) {
		unsigned char c = (unsigned char)buf[i];

		o += (size_t)snprintf(out + o, outsz - o, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
	}
	out[o] = '\0';
}

/* jw_jnode_write of n gives what json-c writes for o (the same value). */
static void check_write(const struct jw_jnode *n, struct json_object *o)
{
	struct jw_buf b;
	const char *want = o ? json_object_to_json_string_ext(
	                               o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
	                     : "null";

	jw_buf_init(&b, 0);
	ck_assert_int_eq(jw_jnode_write(&b, n), 0);
	ck_assert_msg(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0,
	        "writer gives %s, json-c %s", b.p, want);
	jw_buf_cleanup(&b);
}

/* Parses buf both ways (with max_depth) and checks they agree. */
static void compare_depth(const char *buf, size_t len, size_t max_depth)
{
	struct json_object *o = (struct json_object *)1;
	struct jw_json_error e1, e2;
	int r1, r2, r3;
	char shown[200];

	memset(&e1, 0x5a, sizeof(e1));
	memset(&e2, 0x5a, sizeof(e2));
	r1 = jw_json_parse(buf, len, max_depth, &o, &e1);
	r2 = jw_jdoc_parse(&doc, buf, len, max_depth, &e2);
	show(shown, sizeof(shown), buf, len);
	/*
	 * Both take their verdict from the fast path and their error reports
	 * from the explaining walk, so what proves them is that the two walks
	 * agree: the fast path must accept exactly what the explaining walk
	 * finds no fault in, and build the same tree.
	 */
	r3 = jw_jdoc__parse_fast(&fast, buf, len, max_depth);
	{
		struct jw_json_error e4;
		int r4 = jw_json__explain(buf, len, max_depth, &e4);

		ck_assert_msg(r3 == r4, "fast path and explaining walk differ on %s: %d vs %d (%s)", shown,
		        r3, r4, r4 ? e4.message : "");
		if(r4 != 0)
			ck_assert_msg(e4.reason == e1.reason && e4.offset == e1.offset &&
			                      strcmp(e4.message, e1.message) == 0,
			        "jw_json_parse reports otherwise than the explaining walk on %s", shown);
	}
	ck_assert_msg(
	        r1 == r3, "fast path verdict differs on %s: %d vs %d (%s)", shown, r1, r3, e1.message);
	if(r3 == 0) {
		ck_assert_msg(
		        same_tree(o, fast.root) && !fast.root->key, "fast path tree differs on %s", shown);
		ck_assert_msg(fast.has_nul == tree_has_nul(fast.root), "has_nul wrong on %s", shown);
	} else
		ck_assert_ptr_null(fast.root);
	ck_assert_msg(r1 == r2, "verdicts differ on %s: %d vs %d (%s / %s)", shown, r1, r2, e1.message,
	        e2.message);
	ck_assert_msg(e1.reason == e2.reason, "reasons differ on %s", shown);
	ck_assert_msg(e1.offset == e2.offset, "offsets differ on %s", shown);
	ck_assert_msg(strcmp(e1.message, e2.message) == 0, "messages differ on %s: %s / %s", shown,
	        e1.message, e2.message);
	if(r1 == 0) {
		struct json_object *back;
		int ok = 0;

		ck_assert_ptr_nonnull(doc.root);
		ck_assert_msg(same_tree(o, doc.root), "trees differ on %s", shown);
		/* Back to json-c: serialises exactly like the json-c parse. */
		back = jw_jnode_to_json(doc.root, &ok);
		ck_assert_int_eq(ok, 1);
		ck_assert_str_eq(json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN),
		        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(back);
		/* The writer: the bytes json-c writes for the same value. */
		check_write(doc.root, o);
	} else {
		ck_assert_ptr_null(o);
		ck_assert_ptr_null(doc.root);
	}
	json_object_put(o);
	compared++;
}

static void compare(const char *buf, size_t len)
{
	compare_depth(buf, len, 32);
}

static void compare_s(const char *s)
{
	compare(s, strlen(s));
}

START_TEST(hostile_cases)
{
	static const char *const cases[] = {
	        "",
	        " ",
	        " \t\r\n",
	        "{",
	        "}",
	        "[",
	        "]",
	        "{\"a\"",
	        "{\"a\":",
	        "{\"a\":1",
	        "{\"a\":1,",
	        "[1,",
	        "[1",
	        "\"abc",
	        "\"ab\\",
	        "\"\\u12",
	        "\"\\u12G4\"",
	        "tru",
	        "nul",
	        "fals",
	        "true",
	        "false",
	        "null",
	        "truex",
	        "nulll",
	        "True",
	        "NaN",
	        "-NaN",
	        "Infinity",
	        "-Infinity",
	        "[NaN]",
	        "{\"a\":Infinity}",
	        "inf",
	        "0",
	        "-0",
	        "-0.0",
	        "0.0",
	        "00",
	        "01",
	        "-01",
	        "1.",
	        ".5",
	        "-.5",
	        "+1",
	        "1e",
	        "1e+",
	        "1E-",
	        "1e5",
	        "1E+5",
	        "1e-5",
	        "-1.5e-7",
	        "1.5E308",
	        "1e309",
	        "-1e309",
	        "1e-400",
	        "4.9e-324",
	        "2.2250738585072011e-308",
	        "9223372036854775807",
	        "9223372036854775808",
	        "-9223372036854775808",
	        "-9223372036854775809",
	        "123456789012345678",
	        "1234567890123456789",
	        "99999999999999999999999999999",
	        "0.1",
	        "42.5",
	        "3.14159265358979",
	        "3.141592653589793238",
	        "123456789012345.6",
	        "1234567890123456.7",
	        "0x1F",
	        "1.2.3",
	        "12abc",
	        "1_0",
	        "[1,]",
	        "{\"a\":1,}",
	        "[,1]",
	        "{,}",
	        "{\"a\" 1}",
	        "{\"a\":1 \"b\":2}",
	        "{'a':1}",
	        "['a']",
	        "{a:1}",
	        "/* c */1",
	        "1 // c",
	        "[1 /* c */]",
	        "{\"a\":1}x",
	        "{\"a\":1} {}",
	        "1 2",
	        "\"a\" \"b\"",
	        "\xef\xbb\xbf{}",
	        "\xef\xbb\xbf",
	        " \xef\xbb\xbf{}",
	        "{\"a\":1,\"a\":2}",
	        "{\"a\":1,\"b\":{\"a\":1},\"a\":3}",
	        "{\"\":1,\"\":2}",
	        "{\"a\\u0062\":1,\"ab\":2}",
	        "{\"a\\u0000\":1}",
	        "{\"\\u0000\":1}",
	        "\"\\u0000\"",
	        "\"a\\u0000b\"",
	        "\"\\ud800\"",
	        "\"\\udc00\"",
	        "\"\\ud800\\u0041\"",
	        "\"\\ud800x\"",
	        "\"\\ud83d\\ude00\"",
	        "\"\\uD83D\\uDE00\"",
	        "\"\\ud83d\\ud83d\"",
	        "\"\\ud83d\\u\"",
	        "\"\\x41\"",
	        "\"\\a\"",
	        "\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"",
	        "\"\\",
	        "\"\\\"",
	        "\"a\x01b\"",
	        "\"\x1f\"",
	        "\"\x7f\"",
	        "\"tab\there\"",
	        "\"\xc3\xa9\"",
	        "\"\xc0\xaf\"",
	        "\"\xc1\xbf\"",
	        "\"\xe0\x80\xaf\"",
	        "\"\xe0\x9f\xbf\"",
	        "\"\xf0\x80\x80\xaf\"",
	        "\"\xf0\x8f\xbf\xbf\"",
	        "\"\xed\xa0\x80\"",
	        "\"\xed\xbf\xbf\"",
	        "\"\xf4\x90\x80\x80\"",
	        "\"\xf5\x80\x80\x80\"",
	        "\"\xff\"",
	        "\"\xfe\"",
	        "\"\x80\"",
	        "\"\xbf\"",
	        "\"\xe2\x82\"",
	        "\"\xe2\"",
	        "\"\xf0\x9f\x98\"",
	        "\"\xf0\x9f\x98\x80\"",
	        "{\"\xfe\":1}",
	        "\xc3",
	        "{\"a\":[1,2,{\"b\":null,\"c\":[true,false]}],\"d\":\"x\"}",
	        "[[[[]]]]",
	        "[{}]",
	        "{\"a\":{}}",
	        "[[],[[]],{}]",
	        "  [ 1 , 2 ]  ",
	        "{ \"a\" : 1 }",
	        "[\"\\/\"]",
	};

	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		compare_s(cases[i]);
	/* NUL bytes inside and outside strings. */
	compare("\0", 1);
	compare("{}\0", 3);
	compare("\"a\0b\"", 5);
	compare("[1,\0]", 5);
	compare("{\"a\0\":1}", 8);
}
END_TEST

START_TEST(depth_cap)
{
	char buf[256];

	for(size_t cap = 1; cap <= 6; cap++) {
		for(size_t depth = 0; depth <= cap + 2; depth++) {
			size_t o = 0;

			for(size_t i = 0; i < depth; i++)
				buf[o++] = i % 2 ? '[' : '{', o += (i % 2 ? 0 : (size_t)sprintf(buf + o, "\"k\":"));
			buf[o++] = '1';
			for(size_t i = depth; i-- > 0;)
				buf[o++] = i % 2 ? ']' : '}';
			compare_depth(buf, o, cap);
			/* The same nesting truncated at every byte. */
			for(size_t cut = 0; cut < o; cut++)
				compare_depth(buf, cut, cap);
		}
	}
	/* Far over the default cap. */
	{
		size_t n = 3000;
		char *deep = malloc(2 * n);

		ck_assert_ptr_nonnull(deep);
		memset(deep, '[', n);
		memset(deep + n, ']', n);
		compare(deep, 2 * n);
		compare_depth(deep, 2 * n, n);
		compare_depth(deep, 2 * n, n - 1);
		free(deep);
	}
}
END_TEST

START_TEST(many_keys)
{
	/* Past the linear duplicate check: a hash set in the arena. */
	for(size_t n = 1; n <= 300; n += (n < 40 ? 1 : 37)) {
		size_t cap = 32 * n + 64, o = 0, base;
		char *buf = malloc(cap);

		ck_assert_ptr_nonnull(buf);
		buf[o++] = '{';
		for(size_t i = 0; i < n; i++)
			o += (size_t)sprintf(buf + o, "%s\"k%zu\":[%zu,{\"k%zu\":1}]", i ? "," : "", i, i, i);
		base = o;
		buf[o++] = '}';
		compare(buf, o);
		/* The same with one more key repeating an earlier one. */
		for(size_t d = 0; d < n; d += (n / 7 + 1)) {
			o = base + (size_t)sprintf(buf + base, ",\"k%zu\":0}", d);
			compare(buf, o);
		}
		free(buf);
	}
}
END_TEST

/* The UTF-8 bytes of cp at out; returns their number. */
static size_t put_utf8(char *out, unsigned long cp)
{
	if(cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if(cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if(cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* cp as a JSON escape (a surrogate pair above U+FFFF). */
static size_t put_escape(char *out, unsigned long cp)
{
	if(cp < 0x10000)
		return (size_t)sprintf(out, "\\u%04lx", cp);
	cp -= 0x10000;
	return (size_t)sprintf(out, "\\u%04lx\\u%04lX", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
}

/*
 * A code point whose UTF-8 form starts with lead byte b (every lead byte
 * that occurs: ASCII, 0xC2-0xDF, 0xE0-0xEF, 0xF0-0xF4), or 0 for bytes
 * that never start a character or need escaping in a key.
 */
static unsigned long cp_for_lead(unsigned b)
{
	if(b >= 0x20 && b < 0x80)
		return b == '"' || b == '\\' ? 0 : b;
	if(b >= 0xC2 && b <= 0xDF)
		return ((unsigned long)(b & 0x1F) << 6) | 0x15;
	if(b >= 0xE0 && b <= 0xEF)
		return ((unsigned long)(b & 0x0F) << 12) | (b == 0xED ? 0x123 : 0x923);
	if(b >= 0xF0 && b <= 0xF4)
		return ((unsigned long)(b & 0x07) << 18) | (b == 0xF4 ? 0x2345 : 0x12345);
	return 0;
}

/* Expects buf to be refused as a duplicate key by both parsers, the fast
 * path included, and the two to agree on everything else (compare). */
static void expect_duplicate(const char *buf, size_t len)
{
	struct json_object *o = NULL;
	struct jw_json_error e;
	char shown[200];

	show(shown, sizeof(shown), buf, len);
	ck_assert_msg(jw_json_parse(buf, len, 32, &o, &e) == -1, "json-c path accepted %s", shown);
	ck_assert_msg(e.reason == JW_REASON_DUPLICATE_KEY, "json-c path: %s on %s", e.message, shown);
	ck_assert_msg(jw_jdoc__parse_fast(&fast, buf, len, 32) == -1, "fast path accepted %s", shown);
	ck_assert_msg(jw_jdoc_parse(&doc, buf, len, 32, &e) == -1, "arena parser accepted %s", shown);
	ck_assert_msg(e.reason == JW_REASON_DUPLICATE_KEY, "arena parser: %s on %s", e.message, shown);
	compare(buf, len);
}

/*
 * A member name twice in one object is refused whatever its first byte
 * (every ASCII character, every lead byte of 2-, 3- and 4-byte UTF-8),
 * however each occurrence is written (as is, or as \u escapes that
 * decode to the same bytes), whether the object is small (compared key
 * by key) or large (hashed), and nested or not. A different name with
 * the same first byte and length stays accepted.
 */
START_TEST(duplicate_keys)
{
	char name[2][64], other[64], buf[2048];

	for(unsigned b = 0x20; b <= 0xF4; b++) {
		unsigned long cp = cp_for_lead(b);
		size_t nl[2], ol;

		if(!cp)
			continue;
		/* The name: that character, then "k"; spelled raw and escaped. */
		nl[0] = put_utf8(name[0], cp);
		name[0][nl[0]++] = 'k';
		nl[1] = put_escape(name[1], cp);
		name[1][nl[1]++] = '\\';
		memcpy(name[1] + nl[1], "u006b", 5);
		nl[1] += 5;
		/* Same first byte and length, another name. */
		memcpy(other, name[0], nl[0]);
		other[nl[0] - 1] = 'j';
		ol = nl[0];
		for(int a = 0; a < 2; a++) {
			for(int c = 0; c < 2; c++) {
				for(int fill = 0; fill <= 20; fill += 20) {
					for(int nest = 0; nest < 2; nest++) {
						size_t o = 0;

						if(nest)
							o += (size_t)sprintf(buf + o, "{\"outer\":");
						buf[o++] = '{';
						for(int i = 0; i < fill; i++)
							o += (size_t)sprintf(buf + o, "\"f%d\":%d,", i, i);
						o += (size_t)sprintf(buf + o, "\"%.*s\":1,\"%.*s\":2,", (int)nl[a], name[a],
						        (int)ol, other);
						o += (size_t)sprintf(buf + o, "\"%.*s\":3}", (int)nl[c], name[c]);
						if(nest)
							buf[o++] = '}';
						expect_duplicate(buf, o);
						/* Without the repeat: accepted by both, same tree. */
						o = 0;
						buf[o++] = '{';
						for(int i = 0; i < fill; i++)
							o += (size_t)sprintf(buf + o, "\"f%d\":%d,", i, i);
						o += (size_t)sprintf(buf + o, "\"%.*s\":1,\"%.*s\":2}", (int)nl[a], name[a],
						        (int)ol, other);
						ck_assert_int_eq(jw_jdoc__parse_fast(&fast, buf, o, 32), 0);
						compare(buf, o);
					}
				}
			}
		}
	}
	/* The cases from the event contract: details with é twice. */
	{
		static const char ev[] = "{\"error\":\"x\",\"details\":{\"\xc3\xa9\":1,\"\xc3\xa9\":2}}";

		expect_duplicate(ev, sizeof(ev) - 1);
	}
	compare_s("{\"error\":\"x\",\"details\":{\"\xc3\xa9\":1,\"\xc3\xa8\":2}}");
}
END_TEST

/* Every example file: as is, every prefix, and single-byte corruptions. */
static void mutate(const char *buf, size_t len)
{
	static const unsigned char bytes[] = {0x00, 0x01, 0x1f, ' ', '"', '\\', '{', '}', '[', ']', ',',
	        ':', '-', '0', '9', '.', 'e', 'E', '+', 'n', 't', 'u', '/', 0x7f, 0x80, 0xbf, 0xc0,
	        0xc3, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff};
	char *m = malloc(len + 2);

	ck_assert_ptr_nonnull(m);
	compare(buf, len);
	if(len > 4096) {
		/* Large ones (the size-limit cases): a few cuts only. */
		for(size_t cut = 0; cut < len; cut += len / 61 + 1)
			compare(buf, cut);
		free(m);
		return;
	}
	for(size_t cut = 0; cut < len; cut += STRIDE)
		compare(buf, cut);
	for(size_t i = 0; i < len; i += STRIDE) {
		/* Four of the bytes per position, a different four each time. */
		for(size_t k = 0; k < 4; k++) {
			memcpy(m, buf, len);
			m[i] = (char)bytes[(i * 7 + k * 9) % sizeof(bytes)];
			compare(m, len);
		}
		/* Deleted byte. */
		memcpy(m, buf, i);
		memcpy(m + i, buf + i + 1, len - i - 1);
		compare(m, len - 1);
	}
	free(m);
}

static size_t walk(const char *dir, void (*fn)(const char *, size_t), const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t files = 0;

	ck_assert_msg(d != NULL, "cannot open %s", dir);
	while((e = readdir(d))) {
		char path[1024];
		struct stat st;

		if(e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		ck_assert_int_eq(stat(path, &st), 0);
		if(S_ISDIR(st.st_mode)) {
			files += walk(path, fn, suffix);
		} else if(strlen(e->d_name) > strlen(suffix) &&
		          strcmp(e->d_name + strlen(e->d_name) - strlen(suffix), suffix) == 0) {
			size_t len;
			char *buf = slurp(path, &len);

			fn(buf, len);
			free(buf);
			files++;
		}
	}
	closedir(d);
	return files;
}

START_TEST(schema_examples)
{
	size_t before = compared;
	size_t files = walk(EXAMPLES_DIR, mutate, ".json");

	ck_assert_uint_ge(files, 20);
	ck_assert_uint_gt(compared - before, files * 100 / STRIDE);
	/* The schemas themselves, as they are. */
	ck_assert_uint_ge(walk(JW_SCHEMAS_DIR, compare, ".json"), 8 + files);
}
END_TEST

START_TEST(hostile_corpus)
{
	char dir[] = "/tmp/jw-jdoc-XXXXXX", cmd[1200];
	size_t files;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", CORPUS_SCRIPT, dir);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	files = walk(dir, mutate, ".bin");
	ck_assert_uint_ge(files, 40);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* Generated documents of every shape, valid or not. */
static uint64_t rng = 88172645463325252u;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Object keys for gen: ASCII, 2-, 3- and 4-byte UTF-8 first bytes, and
 * escapes that decode to the same names. */
static const char *const gen_keys[] = {"k0", "k1", "k2", "\\u006b0", "\xc3\xa9", "\\u00e9",
        "\xc3\xa9x", "\xe2\x82\xac", "\\u20ac", "\xf0\x9f\x98\x80", "\\ud83d\\ude00",
        "\\ud83d\\ude00x", "\x7f", "\\u007f", ""};

static void gen(char *buf, size_t cap, size_t *o, int depth)
{
	static const char *const atoms[] = {"0", "-0", "1", "-1", "42.5", "1e3", "-2.5E-3", "1e999",
	        "9223372036854775808", "true", "false", "null", "\"\"", "\"x\"", "\"\\u00e9\\n\"",
	        "\"\xc3\xa9\"", "\"\\ud83d\\ude00\"", "NaN", "\"\\ud800\"", "01", "\"\x01\"",
	        "\"a\\u0000\""};
	uint64_t r = next();

	if(*o + 64 > cap)
		return;
	if(depth > 5 || r % 3 == 0) {
		const char *a = atoms[(r >> 8) % (sizeof(atoms) / sizeof(atoms[0]))];

		/* Bad atoms rarely, so most documents are valid. */
		if((r >> 16) % 16 != 0 && (strcmp(a, "1e999") == 0 || strcmp(a, "NaN") == 0 ||
		                                  strcmp(a, "\"\\ud800\"") == 0 || strcmp(a, "01") == 0 ||
		                                  strcmp(a, "\"\x01\"") == 0))
			a = "7";
		*o += (size_t)snprintf(buf + *o, cap - *o, "%s", a);
		return;
	}
	if(r % 3 == 1) {
		size_t n = (r >> 8) % 5;

		buf[(*o)++] = '[';
		for(size_t i = 0; i < n; i++) {
			if(i)
				buf[(*o)++] = ',';
			gen(buf, cap, o, depth + 1);
		}
		buf[(*o)++] = ']';
	} else {
		size_t n = (r >> 8) % 5;

		buf[(*o)++] = '{';
		for(size_t i = 0; i < n; i++) {
			if(i)
				buf[(*o)++] = ',';
			/* Keys from a small set, so duplicates happen: names
			 * starting with each UTF-8 byte class, some written both
			 * raw and escaped (the same name). */
			*o += (size_t)snprintf(buf + *o, cap - *o,
			        "\"%s\" : ", gen_keys[next() % (sizeof(gen_keys) / sizeof(gen_keys[0]))]);
			gen(buf, cap, o, depth + 1);
		}
		buf[(*o)++] = '}';
	}
}

START_TEST(generated)
{
	char buf[8192];

	for(unsigned i = 0; i < 4000 / STRIDE; i++) {
		size_t o = 0;

		gen(buf, sizeof(buf) - 8, &o, 0);
		compare(buf, o);
		compare_depth(buf, o, 3);
	}
}
END_TEST

/*
 * Numbers around the fast path's limits: 2^53 (the largest exact mantissa),
 * 10^22 (the largest exact power of ten), 18/19/20 digits (int64 and the
 * digit budget), exponents near +-22 and beyond, -0, and long fractions.
 */
START_TEST(numbers)
{
	static const char *const cases[] = {
	        "9007199254740992",
	        "9007199254740993",
	        "9007199254740992.0",
	        "9007199254740993.0",
	        "9007199254740992e0",
	        "9007199254740993e0",
	        "900719925474099.3",
	        "900719925474099.31",
	        "9007199254740991e22",
	        "9007199254740992e22",
	        "9007199254740993e22",
	        "9007199254740992e-22",
	        "9007199254740993e-22",
	        "1e22",
	        "1e23",
	        "1e-22",
	        "1e-23",
	        "1.0e22",
	        "10e21",
	        "0.1e23",
	        "123e-25",
	        "5e-324",
	        "2e-324",
	        "1e308",
	        "1.7976931348623157e308",
	        "1.7976931348623159e308",
	        "2.2250738585072014e-308",
	        "-0",
	        "-0.0",
	        "-0e0",
	        "-0e-400",
	        "0e400",
	        "0.0e999999999999999999999",
	        "-0.000",
	        "0.30000000000000004",
	        "0.1",
	        "0.2",
	        "0.3",
	        "1.1",
	        "2.675",
	        "1.005",
	        "123456789012345678",
	        "-123456789012345678",
	        "1234567890123456789",
	        "-1234567890123456789",
	        "9223372036854775807",
	        "-9223372036854775808",
	        "9223372036854775808",
	        "18446744073709551615",
	        "18446744073709551616",
	        "12345678901234567890.5",
	        "1234567890123456789.5",
	        "123456789012345678.5",
	        "0.1234567890123456789",
	        "0.12345678901234567890",
	        "1.2345678901234567e-3",
	        "4503599627370497.5",
	        "1e00000000000000000000000000000000000000022",
	        "1e-0000000000000000000000000000000023",
	        "1e100000",
	        "1e-100000",
	        "1E+2",
	        "1e+22",
	        "1E-22",
	        "100000000000000000000000e-1",
	        "0.000000000000000000000000000001",
	        "7.0e-10",
	        "[1.5,-2.25e3,3e-7,-0.0]",
	        "{\"a\":1e22,\"b\":-1e-22}",
	        "1.5 ",
	        "1.5e",
	        "1.5e+",
	        "1.e5",
	        "-",
	        "--1",
	        "-e5",
	        "1e5.5",
	        "1.5.5",
	        "2e2e2",
	        "0.5x",
	        "1_000",
	        "3.14_",
	        "1e5_",
	};
	char buf[96];

	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		compare_s(cases[i]);
	/* Random mantissas, fractions and exponents around those limits. */
	for(unsigned i = 0; i < 20000 / STRIDE; i++) {
		uint64_t r = next();
		size_t o = 0, ni = 1 + r % 21, nf = (r >> 5) % 4 ? 0 : 1 + (r >> 7) % 20;
		int ex = (int)((r >> 12) % 61) - 30;

		if((r >> 20) & 1)
			buf[o++] = '-';
		buf[o++] = (char)('1' + (r >> 21) % 9);
		for(size_t k = 1; k < ni; k++)
			buf[o++] = (char)('0' + next() % 10);
		if(nf) {
			buf[o++] = '.';
			for(size_t k = 0; k < nf; k++)
				buf[o++] = (char)('0' + next() % 10);
		}
		if((r >> 24) % 3)
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%d", (r >> 26) & 1 ? "E" : "e", ex);
		compare(buf, o);
		/* The same in an array with a neighbour, and corrupted once. */
		memmove(buf + 1, buf, o);
		buf[0] = '[';
		buf[o + 1] = ',';
		buf[o + 2] = '1';
		buf[o + 3] = ']';
		compare(buf, o + 4);
		buf[1 + (next() % o)] = "0.e-+x"[next() % 6];
		compare(buf, o + 4);
		/* As a member value (the parser reads the usual forms inline),
		 * closed by '}', by white space, and by another member. */
		memmove(buf + 5, buf + 1, o);
		memcpy(buf, "{\"k\":", 5);
		buf[o + 5] = '}';
		compare(buf, o + 6);
		memcpy(buf + o + 5, " }", 2);
		compare(buf, o + 7);
		memcpy(buf + o + 5, ",\"j\":1}", 7);
		compare(buf, o + 12);
	}
}
END_TEST

/*
 * Every byte value at every position of a string of up to 55 bytes, as a
 * value and as a key: the run scanners (16 bytes, then 32 with AVX2) must
 * stop exactly where the reference does, whatever the byte and wherever
 * it falls in a block.
 */
START_TEST(every_byte)
{
	char buf[160];

	for(unsigned b = 0; b < 256; b++) {
		for(size_t len = 1; len <= 55; len += (len < 20 ? 1 : 7)) {
			for(size_t at = b % STRIDE; at < len; at += STRIDE) {
				size_t o = 0;

				memcpy(buf, "{\"", 2);
				o = 2;
				for(size_t i = 0; i < len; i++)
					buf[o++] = i == at ? (char)b : (char)('A' + i % 26);
				memcpy(buf + o, "\":\"", 3);
				o += 3;
				for(size_t i = 0; i < len; i++)
					buf[o++] = i == at ? (char)b : (char)('a' + i % 26);
				memcpy(buf + o, "\"}", 2);
				o += 2;
				compare(buf, o);
				/* Only the value, and a value with a second member. */
				compare(buf + 2 + len + 2, len + 2);
				memcpy(buf + o - 1, ",\"z\":true}", 11);
				compare(buf, o + 10);
			}
		}
	}
}
END_TEST

/*
 * Strings of every length up to 40 with one odd byte at every position,
 * as values and as keys: the 8-byte scanner must find the first special
 * byte wherever it falls in a word, and the plain flag must match.
 */
START_TEST(strings)
{
	static const char *const odd[] = {"\"", "\\", "\\n", "\\\"", "\\u0041", "\\u00e9", "\\/",
	        "\x01", "\x1f", "\x7f", "\x80", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xc3",
	        "\xed\xa0\x80", "\xff", " ", "~", "\\ud83d\\ude00", "\\ud83d", "\\x", "\\u00",
	        "\\u0000", "\\\\u0000"};
	char buf[128];

	for(size_t len = 0; len <= 40; len++) {
		for(size_t at = 0; at <= len; at++) {
			for(size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
				size_t o = 0, ol = strlen(odd[k]);

				buf[o++] = '"';
				for(size_t i = 0; i < len; i++) {
					if(i == at) {
						memcpy(buf + o, odd[k], ol);
						o += ol;
					}
					buf[o++] = (char)('a' + i % 26);
				}
				if(at == len) {
					memcpy(buf + o, odd[k], ol);
					o += ol;
				}
				buf[o++] = '"';
				compare(buf, o);
				/* Unterminated, then as a key. */
				compare(buf, o - 1);
				memmove(buf + 1, buf, o);
				buf[0] = '{';
				memcpy(buf + o + 1, ":0}", 3);
				compare(buf, o + 4);
			}
		}
	}
	/* Random bytes from a hostile palette. */
	for(unsigned i = 0; i < 40000 / STRIDE; i++) {
		static const unsigned char pal[] = {'a', 'Z', ' ', '~', '"', '\\', 'u', 'n', '0', 'D', '8',
		        'c', 0x00, 0x1f, 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5,
		        0xa0, 0x9f, 0x90, 0x8f};
		size_t n = next() % 24, o = 0;

		buf[o++] = '"';
		for(size_t k = 0; k < n; k++)
			buf[o++] = (char)pal[next() % sizeof(pal)];
		buf[o++] = '"';
		compare(buf, o);
	}
}
END_TEST

START_TEST(from_json_round_trip)
{
	static const char *const docs[] = {"{\"a\":[1,2.50,{\"b\":null}],\"c\":\"\\u00e9\",\"d\":true}",
	        "[]", "{}", "null", "-0", "1e-7", "123456789012345678901234567890", "\"a\\u0000b\""};

	for(size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct json_object *o = NULL, *back;
		struct jw_json_error e;
		struct jw_jdoc d;
		int ok = 0;

		jw_jdoc_init(&d);
		ck_assert_int_eq(jw_json_parse(docs[i], strlen(docs[i]), 32, &o, &e), 0);
		ck_assert_int_eq(jw_jdoc_from_json(&d, o), 0);
		ck_assert(same_tree(o, d.root));
		ck_assert_int_eq(d.has_nul, tree_has_nul(d.root));
		ck_assert_int_eq(d.has_nul, strstr(docs[i], "u0000") != NULL);
		back = jw_jnode_to_json(d.root, &ok);
		ck_assert_int_eq(ok, 1);
		ck_assert_str_eq(json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN),
		        json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(back);
		check_write(d.root, o);
		json_object_put(o);
		jw_jdoc_free(&d);
	}
	/* Plain json-c doubles (no text) and uint64 values. */
	{
		struct json_object *o = json_object_new_array(), *back;
		struct jw_jdoc d;
		int ok = 0;

		json_object_array_add(o, json_object_new_double(0.1));
		json_object_array_add(o, json_object_new_uint64(UINT64_MAX));
		jw_jdoc_init(&d);
		ck_assert_int_eq(jw_jdoc_from_json(&d, o), 0);
		{
			/* The writer formats text-less doubles as json-c does. */
			static const double more[] = {
			        1.0, -2.0, 0.0, 1e300, 1e-7, 123456789.0, 1e17, -1.5e-300, 2.5};
			struct json_object *w = json_object_new_array();
			struct jw_jdoc wd;

			for(size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++)
				json_object_array_add(w, json_object_new_double(more[i]));
			json_object_array_add(w, json_object_new_string("a/b\x7f\x01\n\"\\"));
			jw_jdoc_init(&wd);
			ck_assert_int_eq(jw_jdoc_from_json(&wd, w), 0);
			check_write(wd.root, w);
			check_write(d.root, o);
			jw_jdoc_free(&wd);
			json_object_put(w);
		}
		ck_assert_int_eq(d.root->u.kids[0].type, JW_J_DOUBLE);
		ck_assert_ptr_null(d.root->u.kids[0].text);
		ck_assert_int_eq(d.root->u.kids[1].type, JW_J_DOUBLE);
		ck_assert(d.root->u.kids[1].u.d == 18446744073709551615.0);
		back = jw_jnode_to_json(&d.root->u.kids[0], &ok);
		ck_assert_str_eq(json_object_to_json_string(back),
		        json_object_to_json_string(json_object_array_get_idx(o, 0)));
		json_object_put(back);
		json_object_put(o);
		jw_jdoc_free(&d);
	}
}
END_TEST

START_TEST(arena_reuse)
{
	/* A large document grows the arena over several blocks; the next
	 * parse reuses one block, and a small one after a huge one gives the
	 * memory back (checked by valgrind/ASan in CI for leaks). */
	size_t n = 20000, o = 0;
	char *big = malloc(n * 16 + 8);

	ck_assert_ptr_nonnull(big);
	big[o++] = '[';
	for(size_t i = 0; i < n; i++)
		o += (size_t)sprintf(big + o, "%s\"s%zu\"", i ? "," : "", i);
	big[o++] = ']';
	ck_assert_int_eq(jw_jdoc_parse(&doc, big, o, 32, NULL), 0);
	ck_assert_uint_eq(doc.root->n, n);
	ck_assert_ptr_nonnull(doc.chunks);
	ck_assert_int_eq(jw_jdoc_parse(&doc, big, o, 32, NULL), 0);
	ck_assert_str_eq(doc.root->u.kids[n - 1].u.s, "s19999");
	ck_assert_int_eq(jw_jdoc_parse(&doc, "{\"a\":1}", 7, 32, NULL), 0);
	ck_assert_int_eq(jw_jnode_get(doc.root, "a")->u.i, 1);
	ck_assert_ptr_null(jw_jnode_get(doc.root, "b"));
	ck_assert_ptr_null(jw_jnode_get(jw_jnode_get(doc.root, "a"), "a"));
	/* The tree does not refer to the input. */
	memcpy(big, "{\"key\":\"value\"}", 15);
	ck_assert_int_eq(jw_jdoc_parse(&doc, big, 15, 32, NULL), 0);
	memset(big, 'x', 15);
	ck_assert_str_eq(jw_jnode_get(doc.root, "key")->u.s, "value");
	free(big);
}
END_TEST

static void setup(void)
{
	jw_jdoc_init(&doc);
	jw_jdoc_init(&fast);
}

static void teardown(void)
{
	jw_jdoc_free(&doc);
	jw_jdoc_free(&fast);
}

static Suite *suite(void)
{
	Suite *s = suite_create("jdoc");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, hostile_cases);
	tcase_add_test(tc, depth_cap);
	tcase_add_test(tc, many_keys);
	tcase_add_test(tc, duplicate_keys);
	tcase_add_test(tc, schema_examples);
	tcase_add_test(tc, hostile_corpus);
	tcase_add_test(tc, generated);
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, strings);
	tcase_add_test(tc, every_byte);
	tcase_add_test(tc, from_json_round_trip);
	tcase_add_test(tc, arena_reuse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return jw_test_run(suite());
}
