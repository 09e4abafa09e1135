/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the RFC 3339 code: the formatter prints what gmtime_r and
 * strftime print for every month end, leap day and century rule of years
 * 0000-9999 and refuses what lies outside; the cache changes nothing; the
 * parser takes exactly section 5.6's date-time, says which rule a text
 * breaks, and its times round-trip through the formatter. */
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/rfc3339.h"
#include "util_check.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
	return jw_test_next(&rng);
}

START_TEST(format_known)
{
	char buf[40];

	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), 0, 0, 3), 24);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), 1795315200, 123456789L, 3), 24);
	ck_assert_str_eq(buf, "2026-11-22T02:40:00.123Z");
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), 1795315200, 123456789L, 9), 30);
	ck_assert_str_eq(buf, "2026-11-22T02:40:00.123456789Z");
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), 1795315200, 5L, 9), 30);
	ck_assert_str_eq(buf, "2026-11-22T02:40:00.000000005Z");
	/* Milliseconds are truncated, never rounded up into the next second. */
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), 1795315259, 999999999L, 3), 24);
	ck_assert_str_eq(buf, "2026-11-22T02:40:59.999Z");
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), 951782400, 5000000L, 3), 24);
	ck_assert_str_eq(buf, "2000-02-29T00:00:00.005Z");
	/* A reading's nsec out of range is taken as its nearest end. */
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), 0, -3, 3), 24);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.000Z");
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), 0, 2000000000L, 3), 24);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00.999Z");
	/* 25 bytes is enough for ms, 24 is not; 31 and 30 for ns. */
	ck_assert_int_eq(jw_rfc3339_format(buf, 25, 0, 0, 3), 24);
	ck_assert_int_eq(jw_rfc3339_format(buf, 24, 0, 0, 3), -1);
	ck_assert_int_eq(jw_rfc3339_format(buf, 31, 0, 0, 9), 30);
	ck_assert_int_eq(jw_rfc3339_format(buf, 30, 0, 0, 9), -1);
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), 0, 0, 6), -1);
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), 0, 0, 0), -1);
	/* The four-digit years and no more. */
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), JW_RFC3339_MAX_S, 999999999L, 3), 24);
	ck_assert_str_eq(buf, "9999-12-31T23:59:59.999Z");
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), JW_RFC3339_MAX_S + 1, 0, 3), -1);
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), JW_RFC3339_MIN_S, 0, 3), 24);
	ck_assert_str_eq(buf, "0000-01-01T00:00:00.000Z");
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), JW_RFC3339_MIN_S - 1, 0, 3), -1);
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), INT64_MIN, 0, 3), -1);
	ck_assert_int_eq(jw_rfc3339_format(buf, sizeof(buf), INT64_MAX, 0, 3), -1);
	/* Milliseconds before 1970 count back from the second below. */
	ck_assert_int_eq(jw_rfc3339_format_ms(buf, sizeof(buf), -1), 24);
	ck_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
	ck_assert_int_eq(jw_rfc3339_format_ms(buf, sizeof(buf), INT64_C(1767323055500)), 24);
	ck_assert_str_eq(buf, "2026-01-02T03:04:15.500Z");
	ck_assert_int_eq(jw_rfc3339_format_ms(buf, sizeof(buf), INT64_MIN), -1);
	ck_assert_int_eq(jw_rfc3339_format_ms(buf, sizeof(buf), INT64_MAX), -1);
}
END_TEST

/* Against gmtime_r and strftime ("%Y" prints four digits from year 1000 on,
 * so below that the year is printed with %04d). */
START_TEST(format_matches_gmtime)
{
	char want[64], got[40];

	for(int i = 0; i < 300000; i++) {
		uint64_t x = next();
		int64_t sec;
		long nsec = (long)((x >> 34) % 1000000000u);
		time_t tt;
		struct tm tm;
		int n;

		if(i < 4000)
			sec = (int64_t)i * 86399 * 3 + 86399 * (i & 1); /* day ends */
		else if(i < 8000)
			sec = -(int64_t)(i - 4000) * 86399 * 5 - 86399 * (i & 1); /* before 1970 */
		else
			sec = JW_RFC3339_MIN_S +
			      (int64_t)(x % (uint64_t)(JW_RFC3339_MAX_S - JW_RFC3339_MIN_S + 1));
		tt = (time_t)sec;
		ck_assert_ptr_nonnull(gmtime_r(&tt, &tm));
		n = snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec / 1000000L);
		ck_assert_int_eq(jw_rfc3339_format(got, sizeof(got), sec, nsec, 3), n);
		ck_assert_str_eq(got, want);
	}
}
END_TEST

/* The cached formatter agrees with the plain one across second changes. */
START_TEST(cache)
{
	static const struct {
		int64_t sec;
		long nsec;
	} in[] = {{1795315200, 123456789L}, {1795315200, 7000000L}, {1795315259, 999999999L},
	        {1795315260, 0}, {0, 0}, {951782400, 5000000L}, {951782400, -3}, {-1, 0},
	        {JW_RFC3339_MAX_S, 0}};
	struct jw_rfc3339_cache c;
	char want[40], got[40];

	jw_rfc3339_cache_init(&c);
	for(size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		int n = jw_rfc3339_format(want, sizeof(want), in[i].sec, in[i].nsec, 3);

		ck_assert_int_eq(jw_rfc3339_format_cached(&c, got, sizeof(got), in[i].sec, in[i].nsec), n);
		ck_assert_str_eq(got, want);
	}
	for(int i = 0; i < 20000; i++) {
		uint64_t x = next();
		int64_t sec = 1700000000 + (int64_t)(x % 4);
		long nsec = (long)((x >> 20) % 1000000000u);
		int n = jw_rfc3339_format(want, sizeof(want), sec, nsec, 3);

		ck_assert_int_eq(jw_rfc3339_format_cached(&c, got, sizeof(got), sec, nsec), n);
		ck_assert_str_eq(got, want);
	}
	ck_assert_int_eq(jw_rfc3339_format_cached(&c, got, 25, 0, 0), 24);
	ck_assert_int_eq(jw_rfc3339_format_cached(&c, got, 24, 0, 0), -1);
	ck_assert_int_eq(jw_rfc3339_format_cached(&c, got, sizeof(got), JW_RFC3339_MAX_S + 1, 0), -1);
	/* A zeroed cache works as an initialised one. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(jw_rfc3339_format_cached(&c, got, sizeof(got), 0, 0), 24);
	ck_assert_str_eq(got, "1970-01-01T00:00:00.000Z");
}
END_TEST

static int parse(const char *s, struct jw_rfc3339 *t)
{
	/* An exact-size copy without NUL: a read past len fails under ASan. */
	size_t len = strlen(s);
	char *copy = malloc(len ? len : 1);
	int rc;

	ck_assert_ptr_nonnull(copy);
	memcpy(copy, s, len);
	rc = jw_rfc3339_parse(copy, len, t);
	free(copy);
	return rc;
}

START_TEST(parse_verdicts)
{
	static const struct {
		const char *s;
		int rc;
	} cases[] = {
	        {"2026-11-22T02:40:00Z", 0},
	        {"2026-11-22t02:40:00.1234567z", 0},
	        {"2026-11-22T03:40:00.5+01:00", 0},
	        {"2026-11-21T22:10:00-04:30", 0},
	        {"0000-01-01T00:00:00Z", 0},
	        {"9999-12-31T23:59:59.999999999999Z", 0},
	        {"2024-02-29T00:00:00Z", 0},
	        {"2000-02-29T00:00:00Z", 0},
	        {"2026-11-22T02:40:00+23:59", 0},
	        /* Leap seconds: only where UTC reads 23:59 (appendix D). */
	        {"2016-12-31T23:59:60Z", 0},
	        {"2016-12-31T18:59:60-05:00", 0},
	        {"2017-01-01T00:59:60+01:00", 0},
	        {"2016-12-31T23:59:60+01:00", JW_RFC3339_ELEAP},
	        {"2026-11-22T12:00:60Z", JW_RFC3339_ELEAP},
	        /* Field ranges. */
	        {"2023-02-29T00:00:00Z", JW_RFC3339_ERANGE},
	        {"1900-02-29T00:00:00Z", JW_RFC3339_ERANGE},
	        {"2026-13-01T00:00:00Z", JW_RFC3339_ERANGE},
	        {"2026-00-01T00:00:00Z", JW_RFC3339_ERANGE},
	        {"2026-04-31T00:00:00Z", JW_RFC3339_ERANGE},
	        {"2026-04-00T00:00:00Z", JW_RFC3339_ERANGE},
	        {"2026-04-01T24:00:00Z", JW_RFC3339_ERANGE},
	        {"2026-04-01T23:60:00Z", JW_RFC3339_ERANGE},
	        {"2026-04-01T23:59:61Z", JW_RFC3339_ERANGE},
	        {"2026-04-01T23:59:59+24:00", JW_RFC3339_ERANGE},
	        {"2026-04-01T23:59:59-00:60", JW_RFC3339_ERANGE},
	        /* Grammar. */
	        {"", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00.Z", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00.", JW_RFC3339_ESYNTAX},
	        {"2026-11-22 02:40:00Z", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00+0100", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00+01:0", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00+01:000", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00Zx", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00ZZ", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T2:40:00Z", JW_RFC3339_ESYNTAX},
	        {"26-11-22T02:40:00Z", JW_RFC3339_ESYNTAX},
	        {"+2026-11-22T02:40:00Z", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00,5Z", JW_RFC3339_ESYNTAX},
	        {" 2026-11-22T02:40:00Z", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00Z ", JW_RFC3339_ESYNTAX},
	        {"2026-11-22T02:40:00\xd9\xa0Z", JW_RFC3339_ESYNTAX},
	        {"\xd9\xa2\xd9\xa0"
	         "26-11-22T02:40:00Z",
	                JW_RFC3339_ESYNTAX},
	        {"2026-1a-22T02:40:00Z", JW_RFC3339_ESYNTAX},
	        /* A malformed text is ESYNTAX whatever its numbers. */
	        {"2026-13-22T02:40:00", JW_RFC3339_ESYNTAX},
	};
	struct jw_rfc3339 t;

	for(size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(
		        parse(cases[i].s, &t) == cases[i].rc, "%s: %d", cases[i].s, parse(cases[i].s, &t));
	/* What ELEAP leaves filled in. */
	ck_assert_int_eq(parse("2026-11-22T12:00:60.25+02:00", &t), JW_RFC3339_ELEAP);
	ck_assert_int_eq(t.year, 2026);
	ck_assert_int_eq(t.second, 60);
	ck_assert_int_eq(t.nsec, 250000000L);
	ck_assert_int_eq(t.offset_min, 120);
}
END_TEST

/* Every prefix of a valid text, and every byte value at every position:
 * never a crash or a read past len, and only digits where digits go (or a
 * case change of T and Z) can keep it valid. */
START_TEST(parse_hostile)
{
	const char *good = "2016-12-31T23:59:59.123456+00:00";
	size_t n = strlen(good);
	struct jw_rfc3339 t;
	char s[64];

	for(size_t len = 0; len < n; len++) {
		memcpy(s, good, len);
		s[len] = '\0';
		ck_assert_int_ne(parse(s, &t), 0);
	}
	ck_assert_int_eq(parse(good, &t), 0);
	for(size_t pos = 0; pos < n; pos++) {
		for(int c = 0; c < 256; c++) {
			bool digit_place = good[pos] >= '0' && good[pos] <= '9';
			int rc;

			memcpy(s, good, n + 1);
			s[pos] = (char)c;
			rc = jw_rfc3339_parse(s, n, &t);
			if(c == good[pos])
				ck_assert_int_eq(rc, 0);
			else if(!(digit_place && c >= '0' && c <= '9') && !(pos == 10 && c == 't') &&
			        !(pos == 26 && c == '-'))
				ck_assert_msg(rc == JW_RFC3339_ESYNTAX, "pos %zu byte %d: %d", pos, c, rc);
		}
	}
	/* A fraction of a million digits is read to its end. */
	{
		size_t big = 1000000;
		char *p = malloc(big + 21);

		ck_assert_ptr_nonnull(p);
		memcpy(p, "2026-11-22T02:40:00.", 20);
		memset(p + 20, '7', big);
		p[20 + big] = 'Z';
		ck_assert_int_eq(jw_rfc3339_parse(p, big + 21, &t), 0);
		ck_assert_int_eq(t.nsec, 777777777L);
		free(p);
	}
}
END_TEST

START_TEST(to_ms)
{
	struct jw_rfc3339 t;

	ck_assert_int_eq(parse("1970-01-01T00:00:00Z", &t), 0);
	ck_assert_int_eq(jw_rfc3339_to_ms(&t), 0);
	ck_assert_int_eq(parse("2026-11-22t02:40:00.1239z", &t), 0);
	ck_assert_int_eq(jw_rfc3339_to_ms(&t), INT64_C(1795315200123));
	ck_assert_int_eq(parse("2026-11-22T03:40:00.5+01:00", &t), 0);
	ck_assert_int_eq(jw_rfc3339_to_ms(&t), INT64_C(1795315200500));
	ck_assert_int_eq(parse("2026-11-21T22:10:00-04:30", &t), 0);
	ck_assert_int_eq(jw_rfc3339_to_ms(&t), INT64_C(1795315200000));
	/* A leap second is the last millisecond before it. */
	ck_assert_int_eq(parse("2016-12-31T23:59:60.5Z", &t), 0);
	ck_assert_int_eq(jw_rfc3339_to_ms(&t), INT64_C(1483228799999));
	ck_assert_int_eq(parse("1969-12-31T23:59:59.999Z", &t), 0);
	ck_assert_int_eq(jw_rfc3339_to_ms(&t), -1);
	ck_assert_int_eq(parse("0000-01-01T00:00:00Z", &t), 0);
	ck_assert_int_eq(jw_rfc3339_to_ms(&t), JW_RFC3339_MIN_S * 1000);
	ck_assert_int_eq(parse("9999-12-31T23:59:59.999-23:59", &t), 0);
	ck_assert_int_eq(jw_rfc3339_to_ms(&t), (JW_RFC3339_MAX_S + 23 * 3600 + 59 * 60) * 1000 + 999);
	/* Formatting then parsing gives the time back. */
	for(int i = 0; i < 100000; i++) {
		uint64_t x = next();
		int64_t ms = JW_RFC3339_MIN_S * 1000 +
		             (int64_t)(x % (uint64_t)((JW_RFC3339_MAX_S - JW_RFC3339_MIN_S + 1) * 1000));
		char buf[40];
		int n = jw_rfc3339_format_ms(buf, sizeof(buf), ms);

		ck_assert_int_eq(n, 24);
		ck_assert_int_eq(jw_rfc3339_parse(buf, (size_t)n, &t), 0);
		ck_assert_int_eq(jw_rfc3339_to_ms(&t), ms);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util_rfc3339");

	jw_test_case(s, "format", format_known, format_matches_gmtime, cache, NULL);
	jw_test_case(s, "parse", parse_verdicts, parse_hostile, to_ms, NULL);
	return jw_test_run(s);
}
