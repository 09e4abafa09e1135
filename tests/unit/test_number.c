/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Proves that JSON numbers are compared, tested for integrality and for
 * divisibility by their exact decimal values (core/number.c): integers
 * past 2^53 and past int64, decimals whose doubles are equal, every
 * spelling of the same value, and mixed int64 / text / plain double nodes.
 */
#include <check.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jdoc.h"
#include "number.h"
#include "util_check.h"

static int cmp_s(const char *a, const char *b)
{
	return jw_number_text_cmp(a, strlen(a), b, strlen(b));
}

START_TEST(text_cmp)
{
	static const struct {
		const char *a, *b;
		int want;
	} cases[] = {
	        {"9007199254740993", "9007199254740992", 1},
	        {"9007199254740992", "9007199254740993", -1},
	        {"9007199254740993", "9007199254740993.0", 0},
	        {"9007199254740993", "9.007199254740993e15", 0},
	        {"9007199254740993", "90071992547409930E-1", 0},
	        {"18446744073709551617", "18446744073709551616", 1},
	        {"-18446744073709551617", "-18446744073709551616", -1},
	        {"123456789012345678901234567890", "123456789012345678901234567891", -1},
	        {"0.1", "0.10000000000000000001", -1},
	        {"0.1", "0.1000", 0},
	        {"0.1", "1e-1", 0},
	        {"0.1", "0.01e1", 0},
	        {"0", "-0", 0},
	        {"0", "0.000e5", 0},
	        {"-0.0", "0e-10", 0},
	        {"0", "1e-400", -1},
	        {"-1e-400", "0", -1},
	        {"-1", "1", -1},
	        {"-2", "-10", 1},
	        {"100", "1e2", 0},
	        {"100", "99.999999999999999999999", 1},
	        {"1e308", "1e307", 1},
	        {"1.5", "1.49999999999999999999", 1},
	        {"10", "9", 1},
	        {"0.5", "0.05", 1},
	        {"5", "5.000000000000000000000000001", -1},
	        {"-5", "-5.000000000000000000000000001", 1},
	        /* Exponents past the cap read as the cap: both tiny, so equal. */
	        {"1e-99999999999999999999", "1e-99999999999999999998", 0},
	};

	for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		ck_assert_msg(cmp_s(cases[i].a, cases[i].b) == cases[i].want, "%s vs %s: got %d",
		        cases[i].a, cases[i].b, cmp_s(cases[i].a, cases[i].b));
		ck_assert_msg(cmp_s(cases[i].b, cases[i].a) == -cases[i].want, "%s vs %s reversed",
		        cases[i].a, cases[i].b);
	}
}
END_TEST

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* v written one of several ways: plain, ".0", "e0", with a zero moved
 * into the exponent, or as d.ddd...eN. */
static void spell(char *buf, size_t size, int64_t v, unsigned how)
{
	char digits[32];
	int neg = v < 0;
	uint64_t mag = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	snprintf(digits, sizeof digits, "%" PRIu64, mag);
	switch(how % 5) {
		case 0:
			snprintf(buf, size, "%s%s", neg ? "-" : "", digits);
			break;
		case 1:
			snprintf(buf, size, "%s%s.000", neg ? "-" : "", digits);
			break;
		case 2:
			snprintf(buf, size, "%s%se0", neg ? "-" : "", digits);
			break;
		case 3:
			snprintf(buf, size, "%s%s0E-1", neg ? "-" : "", digits);
			break;
		default:
			snprintf(buf, size, "%s%c.%se%zu", neg ? "-" : "", digits[0],
			        digits[1] ? digits + 1 : "0", strlen(digits) - 1);
			break;
	}
}

/* Random int64 pairs near each other, in every spelling, against the
 * integer comparison; and integrality with the exact value back. */
START_TEST(text_cmp_random)
{
	char a[64], b[64];

	for(unsigned i = 0; i < 20000; i++) {
		int64_t x = (int64_t)next(), y;
		int64_t got;

		if(i % 3 == 0)
			x >>= (next() % 60);
		y = x > INT64_MAX - 2 || x < INT64_MIN + 2 ? x : x + (int64_t)(next() % 5) - 2;
		spell(a, sizeof a, x, (unsigned)next());
		spell(b, sizeof b, y, (unsigned)next());
		ck_assert_msg(cmp_s(a, b) == (x > y) - (x < y), "%s vs %s", a, b);
		ck_assert_msg(jw_number_text_int64(a, strlen(a), &got) == 1 && got == x, "%s", a);
	}
}
END_TEST

START_TEST(text_int64)
{
	static const struct {
		const char *t;
		int want;
		int64_t v;
	} cases[] = {
	        {"0", 1, 0},
	        {"-0.0", 1, 0},
	        {"9007199254740993.0", 1, INT64_C(9007199254740993)},
	        {"9223372036854775807", 1, INT64_MAX},
	        {"9.223372036854775807e18", 1, INT64_MAX},
	        {"-9223372036854775808", 1, INT64_MIN},
	        {"9223372036854775808", 0, 0},
	        {"-9223372036854775809", 0, 0},
	        {"1e19", 0, 0},
	        {"1e400", 0, 0},
	        {"123456789012345678901234567890", 0, 0},
	        {"1.5", -1, 0},
	        {"1.0000000000000000001", -1, 0},
	        {"1e-1", -1, 0},
	        {"1e-400", -1, 0},
	        {"15e-1", -1, 0},
	        {"150e-1", 1, 15},
	        {"1.5e1", 1, 15},
	};

	for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t v = 42;
		int r = jw_number_text_int64(cases[i].t, strlen(cases[i].t), &v);

		ck_assert_msg(r == cases[i].want, "%s: got %d", cases[i].t, r);
		if(r == 1)
			ck_assert_msg(v == cases[i].v, "%s: got %" PRId64, cases[i].t, v);
	}
}
END_TEST

static int mult_s(const char *x, const char *m)
{
	return jw_number_text_multiple_of(x, strlen(x), m, strlen(m));
}

START_TEST(text_multiple_of)
{
	char a[64], b[64];

	ck_assert_int_eq(mult_s("18446744073709551617", "2"), 0);
	ck_assert_int_eq(mult_s("18446744073709551616", "2"), 1);
	ck_assert_int_eq(mult_s("9223372036854775809", "3"), 1);
	ck_assert_int_eq(mult_s("1e308", "0.5"), 1);
	ck_assert_int_eq(mult_s("1e308", "0.123456789"), 0);
	ck_assert_int_eq(mult_s("0.0075", "0.0001"), 1);
	ck_assert_int_eq(mult_s("0.00751", "0.0001"), 0);
	ck_assert_int_eq(mult_s("7.5", "2.5"), 1);
	ck_assert_int_eq(mult_s("0.25", "0.5"), 0);
	ck_assert_int_eq(mult_s("-9", "3"), 1);
	ck_assert_int_eq(mult_s("0", "7"), 1);
	ck_assert_int_eq(mult_s("123456789012345678901234.56", "0.01"), 1);
	ck_assert_int_eq(mult_s("4.0000000000000000001", "2"), 0);
	ck_assert_int_eq(mult_s("1e30", "1e-30"), 1);
	ck_assert_int_eq(mult_s("1e-30", "1e30"), 0);
	/* Exponent gaps past the cap are computed by squaring, not looped. */
	ck_assert_int_eq(mult_s("1e99999999999999999999", "7"), 0);
	ck_assert_int_eq(mult_s("1e99999999999999999999", "5"), 1);
	/* Too many significant digits in the divisor: not decided here. */
	ck_assert_int_eq(mult_s("10", "1.234567891"), -1);
	ck_assert_int_eq(mult_s("10", "0"), -1);
	for(unsigned i = 0; i < 20000; i++) {
		int64_t x = (int64_t)(next() >> 1) >> (next() % 62), m = 1 + (int64_t)(next() % 1000);

		spell(a, sizeof a, x, (unsigned)next());
		spell(b, sizeof b, m, (unsigned)next());
		ck_assert_msg(mult_s(a, b) == (x % m == 0), "%s multipleOf %s", a, b);
	}
}
END_TEST

START_TEST(exact_text)
{
	char buf[JW_NUMBER_EXACT_MAX];
	static const double ds[] = {0.1, -0.1, 1e308, 5e-324, 9007199254740992.0, 1.5, -0.0, 0.0,
	        2.2250738585072014e-308, 1.7976931348623157e308};

	for(size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
		size_t n = jw_number_exact_text(ds[i], buf, sizeof buf);

		ck_assert_uint_gt(n, 0);
		ck_assert(strtod(buf, NULL) == ds[i]);
	}
	/* The binary value of 0.1, every digit. */
	jw_number_exact_text(0.1, buf, sizeof buf);
	ck_assert(strncmp(buf, "1.000000000000000055511151231257827021181583404541015625000", 59) == 0);
	ck_assert_int_eq(cmp_s(buf, "0.1"), 1);
	ck_assert_uint_eq(jw_number_exact_text(INFINITY, buf, sizeof buf), 0);
	ck_assert_uint_eq(jw_number_exact_text(NAN, buf, sizeof buf), 0);
	ck_assert_uint_eq(jw_number_exact_text(0.1, buf, 10), 0);
}
END_TEST

/* Node comparisons: the parser's int64 and text nodes, and json-c doubles
 * (no text), against each other. */
START_TEST(nodes)
{
	static const struct {
		const char *json;
		int want; /* element 0 against element 1 */
	} cases[] = {
	        {"[9007199254740993,9007199254740992]", 1},
	        {"[9007199254740993,9007199254740993.0]", 0},
	        {"[9007199254740992,9007199254740993.0]", -1},
	        {"[9223372036854775807,9223372036854775808]", -1},
	        {"[18446744073709551617,18446744073709551616]", 1},
	        {"[100,100.00000000000000001]", -1},
	        {"[0.1,0.10000000000000000001]", -1},
	        {"[1e2,100]", 0},
	        {"[-0.0,0]", 0},
	};
	struct jw_jdoc d;
	struct jw_json_error e;

	jw_jdoc_init(&d);
	for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct jw_jnode *k;

		ck_assert_int_eq(jw_jdoc_parse(&d, cases[i].json, strlen(cases[i].json), 8, &e), 0);
		k = d.root->u.kids;
		ck_assert_msg(jw_jnode_num_cmp(&k[0], &k[1]) == cases[i].want, "%s", cases[i].json);
		ck_assert_msg(
		        jw_jnode_num_cmp(&k[1], &k[0]) == -cases[i].want, "%s reversed", cases[i].json);
	}
	/* A json-c double has no text: it is its binary value, so 0.1 made
	 * by code is above the text 0.1; uint64 values keep every digit. */
	{
		struct json_object *a = json_object_new_array();
		struct jw_jnode pair[2];
		const char *t = "[0.1,18446744073709551615]";

		json_object_array_add(a, json_object_new_double(0.1));
		json_object_array_add(a, json_object_new_uint64(UINT64_MAX));
		ck_assert_int_eq(jw_jdoc_from_json(&d, a), 0);
		pair[0] = d.root->u.kids[0];
		pair[1] = d.root->u.kids[1];
		json_object_put(a);
		ck_assert_ptr_null(pair[0].text);
		{
			struct jw_jdoc t2;

			jw_jdoc_init(&t2);
			ck_assert_int_eq(jw_jdoc_parse(&t2, t, strlen(t), 8, &e), 0);
			ck_assert_int_eq(jw_jnode_num_cmp(&pair[0], &t2.root->u.kids[0]), 1);
			ck_assert_int_eq(jw_jnode_num_cmp(&pair[1], &t2.root->u.kids[1]), 0);
			jw_jdoc_free(&t2);
		}
	}
	jw_jdoc_free(&d);
}
END_TEST

START_TEST(is_integer)
{
	static const struct {
		const char *json;
		bool want;
	} cases[] = {
	        {"[1]", true},
	        {"[1.0]", true},
	        {"[9007199254740993.0]", true},
	        {"[18446744073709551617.000]", true},
	        {"[1e400000000]", false}, /* refused by the parser: see below */
	        {"[1.0000000000000000001]", false},
	        {"[9007199254740992.5]", false},
	        {"[1e-400]", false},
	        {"[1.5e1]", true},
	};
	struct jw_jdoc d;
	struct jw_json_error e;

	jw_jdoc_init(&d);
	for(size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		if(jw_jdoc_parse(&d, cases[i].json, strlen(cases[i].json), 8, &e) < 0)
			continue;
		ck_assert_msg(jw_jnode_is_integer(d.root->u.kids) == cases[i].want, "%s", cases[i].json);
	}
	jw_jdoc_free(&d);
}
END_TEST

static Suite *number_suite(void)
{
	Suite *s = suite_create("number");
	TCase *tc = tcase_create("number");

	tcase_add_test(tc, text_cmp);
	tcase_add_test(tc, text_cmp_random);
	tcase_add_test(tc, text_int64);
	tcase_add_test(tc, text_multiple_of);
	tcase_add_test(tc, exact_text);
	tcase_add_test(tc, nodes);
	tcase_add_test(tc, is_integer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return jw_test_run(number_suite());
}
