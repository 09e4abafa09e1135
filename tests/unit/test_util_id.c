/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the id rule: exactly [A-Za-z0-9._-], 1 to 128 bytes, for every
 * byte value at every position; the run scanner stops at the first other
 * byte and never reads past a NUL, however long the input. */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/id.h"
#include "util_check.h"

static bool allowed(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

START_TEST(every_byte)
{
	for(int c = 0; c < 256; c++)
		ck_assert_int_eq(jw_id_byte((unsigned char)c), allowed(c));
}
END_TEST

/* Every length up to 140, every byte value at a few positions, each id in
 * a buffer of exactly its size (ASan catches a read past the NUL). */
START_TEST(lengths_and_positions)
{
	for(size_t len = 0; len <= 140; len++) {
		for(size_t pos = 0; pos <= len; pos += (len > 8 ? len / 4 + 1 : 1)) {
			for(int c = 1; c < 256; c++) {
				char *id = malloc(len + 1);
				bool want;
				size_t run;

				ck_assert_ptr_nonnull(id);
				for(size_t i = 0; i < len; i++)
					id[i] = (char)('a' + i % 26);
				if(pos < len)
					id[pos] = (char)c;
				id[len] = '\0';
				want = len >= 1 && len <= JW_ID_MAX && (pos >= len || allowed(c));
				ck_assert_int_eq(jw_id_valid(id, len), want);
				ck_assert_uint_eq(jw_id_len(id), want ? len : 0);
				run = jw_id_run(id);
				if(pos < len && !allowed(c) && pos <= JW_ID_MAX)
					ck_assert_uint_eq(run, pos);
				else if(len <= JW_ID_MAX)
					ck_assert_uint_eq(run, len);
				else
					ck_assert_uint_gt(run, JW_ID_MAX);
				free(id);
				if(pos >= len)
					break;
			}
		}
	}
}
END_TEST

/* jw_id_run over an exact-size copy of s (ASan catches a read past it). */
static size_t run_of(const char *s)
{
	char *copy = strdup(s);
	size_t n;

	ck_assert_ptr_nonnull(copy);
	n = jw_id_run(copy);
	free(copy);
	return n;
}

START_TEST(run_stops)
{
	ck_assert_uint_eq(run_of("session/job/progress"), 7);
	ck_assert_uint_eq(run_of("/x"), 0);
	ck_assert_uint_eq(run_of(""), 0);
	ck_assert_uint_eq(run_of("a+b"), 1);
	ck_assert_uint_eq(run_of("ab\xC3\xA9"), 2);
	/* 128 is the limit, 129 is not an id. */
	{
		char id[JW_ID_MAX + 2];

		memset(id, 'x', sizeof(id));
		id[JW_ID_MAX] = '\0';
		ck_assert_uint_eq(jw_id_len(id), JW_ID_MAX);
		ck_assert(jw_id_valid(id, JW_ID_MAX));
		id[JW_ID_MAX] = 'x';
		id[JW_ID_MAX + 1] = '\0';
		ck_assert_uint_eq(jw_id_len(id), 0);
		ck_assert(!jw_id_valid(id, JW_ID_MAX + 1));
	}
	/* A 65000-byte topic level: the walk stops soon after 128. */
	{
		char *big = malloc(65001);

		ck_assert_ptr_nonnull(big);
		memset(big, 'a', 65000);
		big[65000] = '\0';
		ck_assert_uint_gt(jw_id_run(big), JW_ID_MAX);
		ck_assert_uint_le(jw_id_run(big), JW_ID_MAX + 4);
		ck_assert_uint_eq(jw_id_len(big), 0);
		free(big);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util_id");

	jw_test_case(s, "rule", every_byte, lengths_and_positions, run_stops, NULL);
	return jw_test_run(s);
}
