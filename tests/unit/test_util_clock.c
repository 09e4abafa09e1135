/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the clock helpers: milliseconds and nanoseconds of the same
 * clock agree, the monotonic clock never goes back, the wall clock is the
 * one time() reads, and a clock the system lacks reads as 0. */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "util/clock.h"
#include "util_check.h"

START_TEST(readings)
{
	struct jw_clock now;
	int64_t before = (int64_t)time(NULL), m0, m1, ns, ms;

	jw_clock_now(&now);
	ck_assert_int_ge(now.real_ms / 1000, before);
	ck_assert_int_le(now.real_ms / 1000, (int64_t)time(NULL));
	m0 = jw_clock_ms(CLOCK_MONOTONIC);
	ck_assert_int_ge(m0, now.mono_ms);
	for(int i = 0; i < 100000; i++) {
		m1 = jw_clock_ms(CLOCK_MONOTONIC);
		ck_assert_int_ge(m1, m0);
		m0 = m1;
	}
	ns = jw_clock_ns(CLOCK_MONOTONIC);
	ms = jw_clock_ms(CLOCK_MONOTONIC);
	ck_assert_int_ge(ms, ns / 1000000);
	ck_assert_int_lt(ms - ns / 1000000, 1000);
	ck_assert_int_gt(jw_clock_ns(CLOCK_PROCESS_CPUTIME_ID), 0);
	ck_assert_int_gt(jw_clock_ms(CLOCK_MONOTONIC_COARSE), 0);
	ck_assert_int_eq(jw_clock_ms((clockid_t)1000), 0);
	ck_assert_int_eq(jw_clock_ns((clockid_t)1000), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util_clock");

	jw_test_case(s, "readings", readings, NULL);
	return jw_test_run(s);
}
