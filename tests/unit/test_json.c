/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves that the strict JSON parser accepts exactly RFC 8259 UTF-8 JSON and refuses everything
 * else with the right reason, offset and message. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "json.h"
#include "reason.h"
#include "util_check.h"

#define DEPTH 32

struct hostile {
	const char *text;
	size_t len; /* inputs may hold NUL bytes */
	enum jw_reason reason;
};

#define H(s, r)                                                                                    \
	{                                                                                              \
		s, sizeof(s) - 1, r                                                                        \
	}

static const struct hostile hostile[] = {
        /* Not JSON at all. */
        H("hello", JW_REASON_INVALID_JSON),
        H("<xml/>", JW_REASON_INVALID_JSON),
        H("", JW_REASON_INVALID_JSON),
        H("   \n\t ", JW_REASON_INVALID_JSON),
        H("{", JW_REASON_INVALID_JSON),
        H("}", JW_REASON_INVALID_JSON),
        H("[1,2", JW_REASON_INVALID_JSON),
        H("{\"a\"}", JW_REASON_INVALID_JSON),
        H("{\"a\" 1}", JW_REASON_INVALID_JSON),
        H("{\"a\":}", JW_REASON_INVALID_JSON),
        H("[1 2]", JW_REASON_INVALID_JSON),
        /* Lenient extensions other parsers accept. */
        H("{a:1}", JW_REASON_INVALID_JSON),
        H("{'a':1}", JW_REASON_INVALID_JSON),
        H("['a']", JW_REASON_INVALID_JSON),
        H("[1,]", JW_REASON_INVALID_JSON),
        H("{\"a\":1,}", JW_REASON_INVALID_JSON),
        H("[,1]", JW_REASON_INVALID_JSON),
        H("// c\n{}", JW_REASON_INVALID_JSON),
        H("{} // c", JW_REASON_INVALID_JSON),
        H("/* c */ {}", JW_REASON_INVALID_JSON),
        H("{\"a\":1 /* c */}", JW_REASON_INVALID_JSON),
        H("\xEF\xBB\xBF{}", JW_REASON_INVALID_JSON),
        H("{}x", JW_REASON_INVALID_JSON),
        H("{}{}", JW_REASON_INVALID_JSON),
        H("1 2", JW_REASON_INVALID_JSON),
        H("\x00{}", JW_REASON_INVALID_JSON),
        H("{}\x00", JW_REASON_INVALID_JSON),
        H("{\"a\":\x00}", JW_REASON_INVALID_JSON),
        H("\v{}", JW_REASON_INVALID_JSON),
        H("\f{}", JW_REASON_INVALID_JSON),
        /* Numbers. */
        H("+1", JW_REASON_INVALID_JSON),
        H("01", JW_REASON_INVALID_JSON),
        H("-01", JW_REASON_INVALID_JSON),
        H(".5", JW_REASON_INVALID_JSON),
        H("1.", JW_REASON_INVALID_JSON),
        H("1.e5", JW_REASON_INVALID_JSON),
        H("1e", JW_REASON_INVALID_JSON),
        H("1e+", JW_REASON_INVALID_JSON),
        H("-", JW_REASON_INVALID_JSON),
        H("0x1F", JW_REASON_INVALID_JSON),
        H("1.2.3", JW_REASON_INVALID_JSON),
        H("NaN", JW_REASON_INVALID_JSON),
        H("Infinity", JW_REASON_INVALID_JSON),
        H("-Infinity", JW_REASON_INVALID_JSON),
        H("[nan]", JW_REASON_INVALID_JSON),
        H("1e999", JW_REASON_NUMBER_OUT_OF_RANGE),
        H("-1e999", JW_REASON_NUMBER_OUT_OF_RANGE),
        H("{\"x\":[1e400]}", JW_REASON_NUMBER_OUT_OF_RANGE),
        /* Literals. */
        H("tru", JW_REASON_INVALID_JSON),
        H("True", JW_REASON_INVALID_JSON),
        H("nulll", JW_REASON_INVALID_JSON),
        H("[truefalse]", JW_REASON_INVALID_JSON),
        H("undefined", JW_REASON_INVALID_JSON),
        /* Strings. */
        H("\"abc", JW_REASON_INVALID_JSON),
        H("\"abc\\", JW_REASON_INVALID_JSON),
        H("\"a\nb\"", JW_REASON_INVALID_JSON),
        H("\"a\tb\"", JW_REASON_INVALID_JSON),
        H("\"a\x1f\"", JW_REASON_INVALID_JSON),
        H("\"a\x00\"", JW_REASON_INVALID_JSON),
        H("\"\\x41\"", JW_REASON_INVALID_JSON),
        H("\"\\U0041\"", JW_REASON_INVALID_JSON),
        H("\"\\u00G1\"", JW_REASON_INVALID_JSON),
        H("\"\\u12\"", JW_REASON_INVALID_JSON),
        H("\"\\ud800\"", JW_REASON_INVALID_JSON),
        H("\"\\udc00\"", JW_REASON_INVALID_JSON),
        H("\"\\ud800\\u0041\"", JW_REASON_INVALID_JSON),
        H("\"\\ud800\\ud800\"", JW_REASON_INVALID_JSON),
        H("\"\\udc00\\ud800\"", JW_REASON_INVALID_JSON),
        H("{\"a\\u0000b\":1}", JW_REASON_INVALID_JSON),
        /* Invalid UTF-8, inside and outside strings. */
        H("\"\xff\"", JW_REASON_INVALID_UTF8),
        H("\"\xc0\xaf\"", JW_REASON_INVALID_UTF8),
        H("\"\xc1\xbf\"", JW_REASON_INVALID_UTF8),
        H("\"\xe0\x80\xaf\"", JW_REASON_INVALID_UTF8),
        H("\"\xf0\x80\x80\xaf\"", JW_REASON_INVALID_UTF8),
        H("\"\xed\xa0\x80\"", JW_REASON_INVALID_UTF8),
        H("\"\xed\xbf\xbf\"", JW_REASON_INVALID_UTF8),
        H("\"\xf4\x90\x80\x80\"", JW_REASON_INVALID_UTF8),
        H("\"\xf5\x80\x80\x80\"", JW_REASON_INVALID_UTF8),
        H("\"\xe2\x82\"", JW_REASON_INVALID_UTF8),
        H("\"\xe2\x82", JW_REASON_INVALID_UTF8),
        H("\"\x80\"", JW_REASON_INVALID_UTF8),
        H("\"a\xbf\"", JW_REASON_INVALID_UTF8),
        H("{\"\xfe\":1}", JW_REASON_INVALID_UTF8),
        H("[1]\xc3", JW_REASON_INVALID_UTF8),
        /* Duplicate keys. */
        H("{\"a\":1,\"a\":2}", JW_REASON_DUPLICATE_KEY),
        H("{\"a\":1,\"\\u0061\":2}", JW_REASON_DUPLICATE_KEY),
        H("{\"a/b\":1,\"a\\/b\":2}", JW_REASON_DUPLICATE_KEY),
        H("{\"a\":null,\"a\":null}", JW_REASON_DUPLICATE_KEY),
        H("{\"x\":{\"b\":1,\"c\":2,\"b\":3}}", JW_REASON_DUPLICATE_KEY),
        H("[{\"k\":[],\"k\":{}}]", JW_REASON_DUPLICATE_KEY),
        H("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", JW_REASON_DUPLICATE_KEY),
        /* Names starting with a non-ASCII byte, raw and escaped. */
        H("{\"\xc3\xa9\":1,\"\xc3\xa9\":2}", JW_REASON_DUPLICATE_KEY),
        H("{\"\\u00e9\":1,\"\xc3\xa9\":2}", JW_REASON_DUPLICATE_KEY),
        H("{\"\xe2\x82\xac\":1,\"\\u20AC\":2}", JW_REASON_DUPLICATE_KEY),
        H("{\"\xf0\x9f\x98\x80x\":1,\"\\ud83d\\ude00x\":2}", JW_REASON_DUPLICATE_KEY),
        H("{\"error\":\"x\",\"details\":{\"\xc3\xa9\":1,\"\xc3\xa9\":2}}", JW_REASON_DUPLICATE_KEY),
        /* Past the linear check (17+ members): the hash lookup. */
        H("{\"a\":0,\"b\":0,\"c\":0,\"d\":0,\"e\":0,\"f\":0,\"g\":0,\"h\":0,\"i\":0,\"j\":0,"
          "\"k\":0,\"l\":0,\"m\":0,\"n\":0,\"o\":0,\"p\":0,\"q\":0,\"\xc3\xa9\":1,\"\\u00e9\":2}",
                JW_REASON_DUPLICATE_KEY),
};

#define NHOSTILE (sizeof(hostile) / sizeof(hostile[0]))

START_TEST(hostile_inputs)
{
	const struct hostile *h = &hostile[_i];
	struct json_object *o = (struct json_object *)1;
	struct jw_json_error err;

	ck_assert_msg(jw_json_parse(h->text, h->len, DEPTH, &o, &err) == -1, "case %d accepted", _i);
	ck_assert_ptr_null(o);
	ck_assert_msg(err.reason == h->reason, "case %d: got %s (%s), want %s", _i,
	        jw_reason_name(err.reason), err.message, jw_reason_name(h->reason));
	ck_assert_msg(err.message[0] != '\0', "case %d: empty message", _i);
	ck_assert_msg(err.offset <= h->len, "case %d: offset past input", _i);
}
END_TEST

static struct json_object *parse_ok(const char *s, size_t len)
{
	struct json_object *o = NULL;
	struct jw_json_error err;

	ck_assert_msg(jw_json_parse(s, len, DEPTH, &o, &err) == 0, "rejected: %s", err.message);
	return o;
}

START_TEST(valid_values)
{
	static const char *const ok[] = {
	        "{}",
	        "[]",
	        " { } ",
	        "\r\n\t[ ]\r\n",
	        "0",
	        "-0",
	        "1",
	        "-1",
	        "0.5",
	        "-0.0",
	        "1e5",
	        "1E+5",
	        "1e-5",
	        "123.456e-7",
	        "\"\"",
	        "\"x\"",
	        "true",
	        "false",
	        "null",
	        "[null,true,false]",
	        "{\"a\":{\"b\":[1,{\"c\":\"d\"}]}}",
	        "{\"\":1}",
	        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]",
	        "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"",
	        "1e-400",
	};
	size_t i;

	for(i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct json_object *o = NULL;
		struct jw_json_error err;

		ck_assert_msg(jw_json_parse(ok[i], strlen(ok[i]), DEPTH, &o, &err) == 0, "%s rejected: %s",
		        ok[i], err.message);
		json_object_put(o);
	}
}
END_TEST

START_TEST(value_types)
{
	struct json_object *o, *v;

	static const char doc[] = "{\"i\":42,\"d\":1.5,\"s\":\"hi\",\"b\":true,"
	                          "\"n\":null,\"a\":[1],\"o\":{}}";

	o = parse_ok(doc, sizeof(doc) - 1);
	ck_assert(json_object_is_type(o, json_type_object));
	ck_assert(json_object_object_get_ex(o, "i", &v));
	ck_assert(json_object_is_type(v, json_type_int));
	ck_assert_int_eq(json_object_get_int64(v), 42);
	ck_assert(json_object_object_get_ex(o, "d", &v));
	ck_assert(json_object_is_type(v, json_type_double));
	ck_assert(json_object_get_double(v) == 1.5);
	ck_assert(json_object_object_get_ex(o, "s", &v));
	ck_assert_str_eq(json_object_get_string(v), "hi");
	ck_assert(json_object_object_get_ex(o, "b", &v));
	ck_assert(json_object_get_boolean(v));
	ck_assert(json_object_object_get_ex(o, "n", &v));
	ck_assert_ptr_null(v);
	ck_assert(json_object_object_get_ex(o, "a", &v));
	ck_assert_int_eq((long)json_object_array_length(v), 1);
	ck_assert(json_object_object_get_ex(o, "o", &v));
	ck_assert(json_object_is_type(v, json_type_object));
	json_object_put(o);

	/* JSON null at the top level is a successful NULL. */
	o = parse_ok("null", 4);
	ck_assert_ptr_null(o);
}
END_TEST

START_TEST(numbers)
{
	struct json_object *o;

	o = parse_ok("9223372036854775807", 19);
	ck_assert(json_object_is_type(o, json_type_int));
	ck_assert(json_object_get_int64(o) == INT64_MAX);
	json_object_put(o);

	o = parse_ok("-9223372036854775808", 20);
	ck_assert(json_object_is_type(o, json_type_int));
	ck_assert(json_object_get_int64(o) == INT64_MIN);
	json_object_put(o);

	/* One past int64 becomes a double that serialises as written. */
	o = parse_ok("9223372036854775808", 19);
	ck_assert(json_object_is_type(o, json_type_double));
	ck_assert_str_eq(json_object_to_json_string(o), "9223372036854775808");
	json_object_put(o);

	o = parse_ok("-123456789012345678901234567890", 31);
	ck_assert(json_object_is_type(o, json_type_double));
	ck_assert(json_object_get_double(o) < -1e29);
	ck_assert_str_eq(json_object_to_json_string(o), "-123456789012345678901234567890");
	json_object_put(o);

	/* -0 is an integer zero: JSON Schema counts it as an integer. */
	o = parse_ok("-0", 2);
	ck_assert(json_object_is_type(o, json_type_int));
	ck_assert_int_eq(json_object_get_int64(o), 0);
	json_object_put(o);

	o = parse_ok("1.0", 3);
	ck_assert(json_object_is_type(o, json_type_double));
	ck_assert_str_eq(json_object_to_json_string(o), "1.0");
	json_object_put(o);

	o = parse_ok("2.5E-3", 6);
	ck_assert(json_object_get_double(o) == 2.5e-3);
	json_object_put(o);

	o = parse_ok("1.7976931348623157e308", 22);
	ck_assert(json_object_get_double(o) > 1e308);
	json_object_put(o);
}
END_TEST

/*
 * The parser converts short integers and short decimals without libc;
 * every result must equal strtoll's and strtod's, bit for bit.
 */
START_TEST(number_fast_paths)
{
	static const char *const in[] = {"0", "-0", "7", "-7", "999999999999999999",
	        "-999999999999999999", "1000000000000000000", "-9223372036854775807", "0.1", "-0.0",
	        "42.5", "0.3", "2.675", "123456789012.345", "-99999999999999.9", "0.000000000000001",
	        "9007199254740993.0", "1234567890123456.7", "3.14159265358979", "100.25", "1e2",
	        "0.1e1"};
	char buf[64];

	for(size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct json_object *o = parse_ok(in[i], strlen(in[i]));
		char *end = NULL;

		if(json_object_is_type(o, json_type_int)) {
			ck_assert_msg(json_object_get_int64(o) == strtoll(in[i], &end, 10), "%s", in[i]);
		} else {
			double want = strtod(in[i], &end), got = json_object_get_double(o);

			ck_assert_msg(
			        memcmp(&want, &got, sizeof(got)) == 0, "%s: %.17g != %.17g", in[i], got, want);
			ck_assert_str_eq(json_object_to_json_string(o), in[i]);
		}
		json_object_put(o);
	}
	/* Random decimals of up to 15 digits, against strtod. */
	srand(7);
	for(int i = 0; i < 20000; i++) {
		int fd = 1 + rand() % 7, len;
		long long ip = rand() % 100000000, fp = rand(), scale = 1;
		struct json_object *o;
		double want, got;

		for(int k = 0; k < fd; k++)
			scale *= 10;
		len = snprintf(buf, sizeof(buf), "%s%lld.%0*lld", (i & 1) ? "-" : "", ip, fd, fp % scale);
		ck_assert(len > 0 && (size_t)len < sizeof(buf));
		o = parse_ok(buf, (size_t)len);
		want = strtod(buf, NULL);
		got = json_object_get_double(o);
		ck_assert_msg(memcmp(&want, &got, sizeof(got)) == 0, "%s", buf);
		json_object_put(o);
	}
}
END_TEST

/*
 * Plain runs are skipped eight bytes at a time: quotes, escapes and
 * control bytes must be found at every position within a block.
 */
START_TEST(string_runs)
{
	char buf[64], want[64];

	for(size_t at = 0; at < 20; at++) {
		struct json_object *o;
		struct jw_json_error err;
		size_t n = 0, w = 0;

		buf[n++] = '"';
		for(size_t k = 0; k < at; k++) {
			buf[n++] = (char)('a' + k % 26);
			want[w++] = (char)('a' + k % 26);
		}
		memcpy(buf + n, "\\\\\\u00e9x\\\"", 11);
		n += 11;
		memcpy(want + w, "\\\xc3\xa9x\"", 5);
		w += 5;
		buf[n++] = '"';
		o = parse_ok(buf, n);
		ck_assert_int_eq(json_object_get_string_len(o), (int)w);
		ck_assert(memcmp(json_object_get_string(o), want, w) == 0);
		json_object_put(o);

		/* A raw control byte at the same place is refused. */
		buf[1 + at] = '\t';
		o = NULL;
		ck_assert_int_eq(jw_json_parse(buf, n, DEPTH, &o, &err), -1);
		ck_assert_uint_eq(err.offset, 1 + at);
	}
}
END_TEST

START_TEST(strings)
{
	struct json_object *o;
	static const char nul_in[] = "\"a\\u0000b\"";
	static const char pair[] = "\"\\ud83d\\ude00\"";
	static const char esc[] = "\"\\u00e9\\u20AC\\n\"";

	/* U+0000 inside a string value survives with its length. */
	o = parse_ok(nul_in, sizeof(nul_in) - 1);
	ck_assert_int_eq(json_object_get_string_len(o), 3);
	ck_assert(memcmp(json_object_get_string(o), "a\0b", 3) == 0);
	json_object_put(o);

	o = parse_ok(pair, sizeof(pair) - 1);
	ck_assert_str_eq(json_object_get_string(o), "\xf0\x9f\x98\x80");
	json_object_put(o);

	o = parse_ok(esc, sizeof(esc) - 1);
	ck_assert_str_eq(json_object_get_string(o), "\xc3\xa9\xe2\x82\xac\n");
	json_object_put(o);
}
END_TEST

/* Every proper prefix of a document is refused, never crashes. */
START_TEST(truncated_everywhere)
{
	static const char doc[] = "{\"type\":\"progress\",\"n\":[1,-2.5e3,true,false,null],"
	                          "\"s\":\"a\\\"\\u00e9\\ud83d\\ude00\",\"o\":{\"k\":{}}}";
	size_t n = sizeof(doc) - 1, cut;

	json_object_put(parse_ok(doc, n));
	for(cut = 0; cut < n; cut++) {
		struct json_object *o = NULL;
		struct jw_json_error err;

		ck_assert_msg(jw_json_parse(doc, cut, DEPTH, &o, &err) == -1,
		        "prefix of %zu bytes accepted", cut);
		ck_assert_int_eq(err.reason, JW_REASON_INVALID_JSON);
		ck_assert_ptr_null(o);
	}
}
END_TEST

static void expect(
        const char *s, size_t len, enum jw_reason reason, size_t offset, const char *message)
{
	struct json_object *o = NULL;
	struct jw_json_error err;

	ck_assert_int_eq(jw_json_parse(s, len, DEPTH, &o, &err), -1);
	ck_assert_msg(err.reason == reason, "%s: got %s", message, jw_reason_name(err.reason));
	ck_assert_msg(err.offset == offset, "%s: offset %zu, want %zu", message, err.offset, offset);
	ck_assert_str_eq(err.message, message);
}

#define EXPECT(s, r, off, m) expect(s, sizeof(s) - 1, r, off, m)

START_TEST(messages)
{
	EXPECT("", JW_REASON_INVALID_JSON, 0, "empty input");
	EXPECT("{\"a\":1} x", JW_REASON_INVALID_JSON, 8,
	        "trailing character 'x' at byte 8 after the value");
	EXPECT("[1,x]", JW_REASON_INVALID_JSON, 3, "unexpected character 'x' at byte 3");
	EXPECT("{\"a\":\"abc", JW_REASON_INVALID_JSON, 5, "unterminated string starting at byte 5");
	EXPECT("[\"\\ud800\"]", JW_REASON_INVALID_JSON, 2, "lone surrogate \\ud800 at byte 2");
	EXPECT("NaN", JW_REASON_INVALID_JSON, 0, "NaN is not valid JSON (at byte 0)");
	EXPECT("[-Infinity]", JW_REASON_INVALID_JSON, 1, "-Infinity is not valid JSON (at byte 1)");
	EXPECT("[1e999]", JW_REASON_NUMBER_OUT_OF_RANGE, 1,
	        "number at byte 1 is out of range for a double");
	EXPECT("[1,]", JW_REASON_INVALID_JSON, 2, "trailing comma at byte 2");
	EXPECT("{\"a\":1, \"a\":2}", JW_REASON_DUPLICATE_KEY, 8, "duplicate key \"a\" at byte 8");
	EXPECT("\xEF\xBB\xBF{}", JW_REASON_INVALID_JSON, 0,
	        "byte order mark at byte 0 is not valid JSON");
	EXPECT("{\"a\":\"\xc0\x80\"}", JW_REASON_INVALID_UTF8, 6,
	        "invalid UTF-8 at byte 6 (overlong encoding)");
	EXPECT("[\"\xed\xa0\x80\"]", JW_REASON_INVALID_UTF8, 2,
	        "invalid UTF-8 at byte 2 (UTF-16 surrogate)");
	EXPECT("\"\xf4\x90\x80\x80\"", JW_REASON_INVALID_UTF8, 1,
	        "invalid UTF-8 at byte 1 (above U+10FFFF)");
	EXPECT("\"ab\xe2\x82", JW_REASON_INVALID_UTF8, 3,
	        "invalid UTF-8 at byte 3 (truncated sequence)");
	EXPECT("\"\x80\"", JW_REASON_INVALID_UTF8, 1,
	        "invalid UTF-8 at byte 1 (unexpected continuation byte)");
	EXPECT("\"a\x01\"", JW_REASON_INVALID_JSON, 2, "control character U+0001 in string at byte 2");
	EXPECT("{a:1}", JW_REASON_INVALID_JSON, 1,
	        "unexpected character 'a' at byte 1, expected '\"' to start an "
	        "object key");
	EXPECT("[1]\x00", JW_REASON_INVALID_JSON, 3, "trailing NUL byte at byte 3 after the value");
	EXPECT("01", JW_REASON_INVALID_JSON, 0, "leading zero in number at byte 0");
	EXPECT("+1", JW_REASON_INVALID_JSON, 0, "leading '+' in number at byte 0");
	EXPECT("// x", JW_REASON_INVALID_JSON, 0, "comments are not valid JSON (at byte 0)");
}
END_TEST

START_TEST(duplicate_key_message)
{
	struct json_object *o = NULL;
	struct jw_json_error err;
	static const char ctl[] = "{\"a\\n\\\"\\u0001\xc3\xa9\":1,"
	                          "\"a\\n\\\"\\u0001\xc3\xa9\":2}";
	char big[600];
	size_t n = 0, i;

	/* Control characters, quotes and non-ASCII are escaped. */
	ck_assert_int_eq(jw_json_parse(ctl, sizeof(ctl) - 1, DEPTH, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_DUPLICATE_KEY);
	ck_assert_str_eq(err.message, "duplicate key \"a\\u000a\\\"\\u0001\\u00e9\" at byte 19");

	/* A long key is cut short and marked, the offset still shown. */
	big[n++] = '{';
	for(i = 0; i < 2; i++) {
		big[n++] = '"';
		memset(big + n, 'k', 200);
		n += 200;
		memcpy(big + n, "\":1,", 4);
		n += 4;
	}
	big[n - 1] = '}';
	ck_assert_int_eq(jw_json_parse(big, n, DEPTH, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_DUPLICATE_KEY);
	ck_assert_ptr_nonnull(strstr(err.message, "kkk\"... at byte 206"));
	ck_assert_uint_eq(err.offset, 206);
	ck_assert_uint_lt(strlen(err.message), sizeof(err.message));
}
END_TEST

/*
 * A 1 MiB object of ~100000 distinct keys parses in linear time: a
 * quadratic duplicate check would need ~10^10 key comparisons here.
 */
START_TEST(many_keys)
{
	size_t cap = 1u << 21, n = 0, i, keys = 0;
	char *buf = malloc(cap);
	struct json_object *o = NULL;
	struct jw_json_error err;
	clock_t t0;

	ck_assert_ptr_nonnull(buf);
	buf[n++] = '{';
	for(i = 0; n < (1u << 20) - 32; i++) {
		n += (size_t)snprintf(buf + n, cap - n, "%s\"%zx\":0", i ? "," : "", i);
		keys++;
	}
	buf[n++] = '}';
	t0 = clock();
	ck_assert_int_eq(jw_json_parse(buf, n, DEPTH, &o, &err), 0);
	ck_assert_int_eq((long)json_object_object_length(o), (long)keys);
	ck_assert_uint_gt(keys, 90000);
	json_object_put(o);

	/* The same with one duplicate at the very end. */
	n--;
	n += (size_t)snprintf(buf + n, cap - n, ",\"0\":1}");
	ck_assert_int_eq(jw_json_parse(buf, n, DEPTH, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_DUPLICATE_KEY);
	ck_assert_uint_eq(err.offset, n - 6);
	/* Linear is well under a second natively, a few under valgrind. */
	ck_assert((double)(clock() - t0) / CLOCKS_PER_SEC < 20.0);
	free(buf);
}
END_TEST

static char *nested(size_t levels, char open, char close, size_t *len)
{
	char *buf = malloc(2 * levels + 1);
	size_t i;

	ck_assert_ptr_nonnull(buf);
	for(i = 0; i < levels; i++)
		buf[i] = open;
	for(i = 0; i < levels; i++)
		buf[levels + i] = close;
	*len = 2 * levels;
	return buf;
}

START_TEST(depth_limit)
{
	struct json_object *o = NULL;
	struct jw_json_error err;
	size_t len;
	char *buf;

	buf = nested(DEPTH, '[', ']', &len);
	ck_assert_int_eq(jw_json_parse(buf, len, DEPTH, &o, &err), 0);
	json_object_put(o);
	free(buf);

	buf = nested(DEPTH + 1, '[', ']', &len);
	ck_assert_int_eq(jw_json_parse(buf, len, DEPTH, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_TOO_DEEP);
	ck_assert_uint_eq(err.offset, DEPTH);
	ck_assert_str_eq(err.message, "nesting deeper than 32 levels at byte 32");
	free(buf);

	/* Objects count as well as arrays; scalars do not add a level. */
	{
		static const char mix3[] = "{\"a\":[{\"b\":1}]}";
		static const char mix4[] = "{\"a\":[{\"b\":[]}]}";

		ck_assert_int_eq(jw_json_parse(mix3, sizeof(mix3) - 1, 3, &o, &err), 0);
		json_object_put(o);
		ck_assert_int_eq(jw_json_parse(mix4, sizeof(mix4) - 1, 3, &o, &err), -1);
		ck_assert_int_eq(err.reason, JW_REASON_TOO_DEEP);
		ck_assert_int_eq(jw_json_parse("1", 1, 0, &o, &err), 0);
		json_object_put(o);
		ck_assert_int_eq(jw_json_parse("{}", 2, 0, &o, &err), -1);
		ck_assert_int_eq(err.reason, JW_REASON_TOO_DEEP);
	}
}
END_TEST

/* Deep nesting neither recurses on the C stack nor needs a limit to be safe. */
START_TEST(deep_nesting_no_crash)
{
	struct json_object *o = NULL;
	struct jw_json_error err;
	size_t len;
	char *buf;

	buf = nested(100000, '[', ']', &len);
	ck_assert_int_eq(jw_json_parse(buf, len, DEPTH, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_TOO_DEEP);
	/* Unclosed, too. */
	ck_assert_int_eq(jw_json_parse(buf, 100000, DEPTH, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_TOO_DEEP);
	/* Without a practical limit, the unclosed input is cleaned up flat. */
	ck_assert_int_eq(jw_json_parse(buf, 100000, SIZE_MAX, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_INVALID_JSON);
	free(buf);

	/*
	 * And a deep document parses. Kept to 10000 levels because json-c
	 * frees recursively, which is the caller's stack, not the parser's.
	 */
	buf = nested(10000, '[', ']', &len);
	ck_assert_int_eq(jw_json_parse(buf, len, SIZE_MAX, &o, &err), 0);
	json_object_put(o);
	free(buf);

	/* 100000 levels of {"a":{"a":...}}. */
	{
		size_t levels = 100000, i, n = 0;

		buf = malloc(levels * 6 + 1);
		ck_assert_ptr_nonnull(buf);
		for(i = 0; i < levels; i++) {
			memcpy(buf + n, "{\"a\":", 5);
			n += 5;
		}
		buf[n++] = '1';
		memset(buf + n, '}', levels);
		n += levels;
		ck_assert_int_eq(jw_json_parse(buf, n, DEPTH, &o, &err), -1);
		ck_assert_int_eq(err.reason, JW_REASON_TOO_DEEP);
		ck_assert_uint_eq(err.offset, DEPTH * 5);
		free(buf);
	}
}
END_TEST

START_TEST(utf8_valid)
{
	size_t bad = 99;

	ck_assert_int_eq(jw_utf8_valid("", 0, &bad), 1);
	ck_assert_int_eq(jw_utf8_valid("abc\0def", 7, &bad), 1);
	ck_assert_int_eq(jw_utf8_valid("\xc2\x80\xdf\xbf", 4, &bad), 1);
	ck_assert_int_eq(jw_utf8_valid("\xe0\xa0\x80\xef\xbf\xbf", 6, &bad), 1);
	ck_assert_int_eq(jw_utf8_valid("\xed\x9f\xbf\xee\x80\x80", 6, &bad), 1);
	ck_assert_int_eq(jw_utf8_valid("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 8, &bad), 1);
	ck_assert_int_eq(jw_utf8_valid("ab\xc2", 3, &bad), 0);
	ck_assert_uint_eq(bad, 2);
	ck_assert_int_eq(jw_utf8_valid("a\xc2\x41", 3, &bad), 0);
	ck_assert_uint_eq(bad, 1);
	ck_assert_int_eq(jw_utf8_valid("abc\xe0\x9f\xbf", 6, &bad), 0);
	ck_assert_uint_eq(bad, 3);
	ck_assert_int_eq(jw_utf8_valid("\xed\xa0\x80", 3, &bad), 0);
	ck_assert_uint_eq(bad, 0);
	ck_assert_int_eq(jw_utf8_valid("x\xf0\x8f\xbf\xbf", 5, &bad), 0);
	ck_assert_uint_eq(bad, 1);
	ck_assert_int_eq(jw_utf8_valid("xy\xf4\x90\x80\x80", 6, &bad), 0);
	ck_assert_uint_eq(bad, 2);
	ck_assert_int_eq(jw_utf8_valid("\xf8\x88\x80\x80\x80", 5, &bad), 0);
	ck_assert_uint_eq(bad, 0);
	ck_assert_int_eq(jw_utf8_valid("ok\xbf", 3, NULL), 0);
}
END_TEST

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "wb");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(text, 1, strlen(text), fp), strlen(text));
	ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(parse_file)
{
	char dir[] = "/tmp/jw_json_XXXXXX";
	char path[256];
	struct json_object *o = NULL;
	struct jw_json_error err;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/good.json", dir);
	write_file(path, "{\"type\":\"object\"}\n");
	ck_assert_int_eq(jw_json_parse_file(path, DEPTH, &o, &err), 0);
	ck_assert(json_object_is_type(o, json_type_object));
	json_object_put(o);
	ck_assert_int_eq(unlink(path), 0);

	(void)snprintf(path, sizeof(path), "%s/bad.json", dir);
	write_file(path, "{\"a\":1,\"a\":2}");
	ck_assert_int_eq(jw_json_parse_file(path, DEPTH, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_DUPLICATE_KEY);
	ck_assert_ptr_nonnull(strstr(err.message, "bad.json: duplicate key"));
	ck_assert_ptr_null(o);
	ck_assert_int_eq(unlink(path), 0);

	/* A schema file whose property names repeat with a non-ASCII first
	 * byte, once escaped. */
	(void)snprintf(path, sizeof(path), "%s/utf8.json", dir);
	write_file(path, "{\"properties\":{\"\xc3\xa9t\xc3\xa9\":{},\"\\u00e9t\\u00e9\":{}}}");
	ck_assert_int_eq(jw_json_parse_file(path, DEPTH, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_DUPLICATE_KEY);
	ck_assert_ptr_nonnull(strstr(err.message, "utf8.json: duplicate key \"\\u00e9t\\u00e9\""));
	ck_assert_ptr_null(o);
	ck_assert_int_eq(unlink(path), 0);

	(void)snprintf(path, sizeof(path), "%s/missing.json", dir);
	ck_assert_int_eq(jw_json_parse_file(path, DEPTH, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_INTERNAL);
	ck_assert_ptr_nonnull(strstr(err.message, "missing.json: "));

	/* A directory opens but does not read. */
	ck_assert_int_eq(jw_json_parse_file(dir, DEPTH, &o, &err), -1);
	ck_assert_int_eq(err.reason, JW_REASON_INTERNAL);
	ck_assert_ptr_nonnull(strstr(err.message, dir));

	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc;

	tc = tcase_create("hostile_inputs");
	tcase_add_loop_test(tc, hostile_inputs, 0, (int)NHOSTILE);
	suite_add_tcase(s, tc);
	tc = tcase_create("valid_values");
	tcase_add_test(tc, valid_values);
	suite_add_tcase(s, tc);
	tc = tcase_create("value_types");
	tcase_add_test(tc, value_types);
	suite_add_tcase(s, tc);
	tc = tcase_create("numbers");
	tcase_add_test(tc, numbers);
	suite_add_tcase(s, tc);
	tc = tcase_create("number_fast_paths");
	tcase_add_test(tc, number_fast_paths);
	suite_add_tcase(s, tc);
	tc = tcase_create("string_runs");
	tcase_add_test(tc, string_runs);
	suite_add_tcase(s, tc);
	tc = tcase_create("strings");
	tcase_add_test(tc, strings);
	suite_add_tcase(s, tc);
	tc = tcase_create("truncated_everywhere");
	tcase_add_test(tc, truncated_everywhere);
	suite_add_tcase(s, tc);
	tc = tcase_create("messages");
	tcase_add_test(tc, messages);
	suite_add_tcase(s, tc);
	tc = tcase_create("duplicate_key_message");
	tcase_add_test(tc, duplicate_key_message);
	suite_add_tcase(s, tc);
	tc = tcase_create("many_keys");
	tcase_add_test(tc, many_keys);
	suite_add_tcase(s, tc);
	tc = tcase_create("depth_limit");
	tcase_add_test(tc, depth_limit);
	suite_add_tcase(s, tc);
	tc = tcase_create("deep_nesting_no_crash");
	tcase_add_test(tc, deep_nesting_no_crash);
	suite_add_tcase(s, tc);
	tc = tcase_create("utf8_valid");
	tcase_add_test(tc, utf8_valid);
	suite_add_tcase(s, tc);
	tc = tcase_create("parse_file");
	tcase_add_test(tc, parse_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return jw_test_run(json_suite());
}
