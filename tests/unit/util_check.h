/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * What the toolkit's Check suites (test_util_*.c) share: a deterministic
 * generator, so that a failure repeats, and a short way to declare cases
 * and run the suite.
 */
#ifndef JW_UTIL_CHECK_H
#define JW_UTIL_CHECK_H

#include <check.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

/* xorshift64: the next value of the sequence in *state (never 0). */
static inline uint64_t jw_test_next(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* Adds a case called name to s with the tests that follow (START_TEST
 * names), up to a NULL. */
static inline void jw_test_case(Suite *s, const char *name, ...)
{
	TCase *tc = tcase_create(name);
	const TTest *t;
	va_list ap;

	va_start(ap, name);
	while((t = va_arg(ap, const TTest *)) != NULL)
		tcase_add_test(tc, t);
	va_end(ap);
	suite_add_tcase(s, tc);
}

/* Adds test to s in a case of its own, named after it, with a 300 s
 * timeout (for the long ones). */
#define JW_TEST_ALONE(s, test)                                                                     \
	do {                                                                                           \
		TCase *tc_ = tcase_create(#test);                                                          \
		tcase_add_test(tc_, test);                                                                 \
		tcase_set_timeout(tc_, 300);                                                               \
		suite_add_tcase(s, tc_);                                                                   \
	} while(0)

/* Runs s: the process's exit status. */
static inline int jw_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
