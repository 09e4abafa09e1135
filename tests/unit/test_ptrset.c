/* Proves the bounded pointer set keeps membership exact under adds,
 * removes, refreshes and first-in-first-out eviction at its capacity. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "ptrset.h"

static const void *P(uintptr_t i)
{
	return (const void *)(i * 16 + 0x1000);
}

START_TEST(test_add_has_remove)
{
	struct jw_ptrset *s = jw_ptrset_new(4);

	ck_assert_ptr_nonnull(s);
	ck_assert(!jw_ptrset_has(s, P(1), NULL));
	ck_assert_int_eq(jw_ptrset_add(s, P(1), 7), 0);
	ck_assert(jw_ptrset_has(s, P(1), NULL));
	{
		uint64_t tag = 0;
		ck_assert(jw_ptrset_has(s, P(1), &tag));
		ck_assert_uint_eq(tag, 7);
		jw_ptrset_add(s, P(1), 9);
		ck_assert(jw_ptrset_has(s, P(1), &tag));
		ck_assert_uint_eq(tag, 9);
	}
	jw_ptrset_remove(s, P(1));
	ck_assert(!jw_ptrset_has(s, P(1), NULL));
	ck_assert_uint_eq(jw_ptrset_size(s), 0);
	jw_ptrset_remove(s, P(1)); /* absent: no-op */
	ck_assert(!jw_ptrset_has(s, NULL, NULL));
	ck_assert_int_eq(jw_ptrset_add(s, NULL, 0), -1);
	jw_ptrset_free(s);
	jw_ptrset_free(NULL);
}
END_TEST

START_TEST(test_evicts_oldest)
{
	struct jw_ptrset *s = jw_ptrset_new(3);

	jw_ptrset_add(s, P(1), 7);
	jw_ptrset_add(s, P(2), 7);
	jw_ptrset_add(s, P(3), 7);
	jw_ptrset_add(s, P(4), 7);
	ck_assert(!jw_ptrset_has(s, P(1), NULL));
	ck_assert(jw_ptrset_has(s, P(2), NULL) && jw_ptrset_has(s, P(3), NULL) && jw_ptrset_has(s, P(4), NULL));
	ck_assert_uint_eq(jw_ptrset_size(s), 3);
	/* A refreshed entry becomes the newest and survives the next eviction. */
	jw_ptrset_add(s, P(2), 7);
	jw_ptrset_add(s, P(5), 7);
	ck_assert(jw_ptrset_has(s, P(2), NULL));
	ck_assert(!jw_ptrset_has(s, P(3), NULL));
	jw_ptrset_free(s);
}
END_TEST

START_TEST(test_matches_model_under_churn)
{
	enum { CAP = 64, N = 200 };
	struct jw_ptrset *s = jw_ptrset_new(CAP);
	uintptr_t order[CAP]; /* model: live entries, oldest first */
	size_t live = 0, k, j;
	unsigned seed = 12345;

	for(int step = 0; step < 200000; step++){
		uintptr_t v;
		int op;

		seed = seed * 1103515245u + 12345u;
		v = (seed >> 8) % N + 1;
		op = (int)((seed >> 20) % 3);
		for(k = 0; k < live && order[k] != v; k++){
		}
		if(op < 2){
			ck_assert_int_eq(jw_ptrset_add(s, P(v), v * 3), 0);
			if(k < live){
				for(j = k; j + 1 < live; j++) order[j] = order[j + 1];
				live--;
			}else if(live == CAP){
				for(j = 0; j + 1 < live; j++) order[j] = order[j + 1];
				live--;
			}
			order[live++] = v;
		}else{
			jw_ptrset_remove(s, P(v));
			if(k < live){
				for(j = k; j + 1 < live; j++) order[j] = order[j + 1];
				live--;
			}
		}
		ck_assert_uint_eq(jw_ptrset_size(s), live);
	}
	for(uintptr_t v = 1; v <= N; v++){
		bool in_model = false;
		for(k = 0; k < live; k++) in_model |= order[k] == v;
		uint64_t tag = 0;
		ck_assert_int_eq(jw_ptrset_has(s, P(v), &tag), in_model);
		if(in_model){
			ck_assert_uint_eq(tag, v * 3);
		}
	}
	jw_ptrset_free(s);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("ptrset");
	TCase *tc;
	SRunner *sr;
	int failed;

	tc = tcase_create("membership");
	tcase_add_test(tc, test_add_has_remove);
	suite_add_tcase(suite, tc);
	tc = tcase_create("eviction");
	tcase_add_test(tc, test_evicts_oldest);
	suite_add_tcase(suite, tc);
	tc = tcase_create("model");
	tcase_add_test(tc, test_matches_model_under_churn);
	suite_add_tcase(suite, tc);

	sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
