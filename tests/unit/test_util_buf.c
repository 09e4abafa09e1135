/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the toolkit buffer: appends keep a NUL-terminated text (embedded
 * NULs included), growth keeps what was written, the maximum is exact and
 * an error is sticky until the text is taken or reset. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util_check.h"

START_TEST(append_and_take)
{
	struct jw_buf b;
	char *s;
	size_t len = 0;

	jw_buf_init(&b, JW_BUF_UNLIMITED);
	ck_assert_int_eq(jw_buf_add_str(&b, "state"), 0);
	ck_assert_int_eq(jw_buf_add(&b, "\0x", 2), 0);
	ck_assert_int_eq(jw_buf_printf(&b, "/%d/%s", 42, "job"), 0);
	ck_assert_uint_eq(b.len, 5 + 2 + 7);
	ck_assert(memcmp(b.p, "state\0x/42/job", 15) == 0);
	s = jw_buf_take(&b, &len);
	ck_assert_uint_eq(len, 14);
	ck_assert(memcmp(s, "state\0x/42/job", 15) == 0);
	free(s);
	/* Taken: empty again, usable, "" for nothing added. */
	ck_assert_ptr_null(b.p);
	s = jw_buf_take(&b, &len);
	ck_assert_str_eq(s, "");
	ck_assert_uint_eq(len, 0);
	free(s);
	jw_buf_cleanup(&b);
	jw_buf_cleanup(&b);
}
END_TEST

START_TEST(growth_keeps_text)
{
	struct jw_buf b;
	char want[40000];

	jw_buf_init(&b, JW_BUF_UNLIMITED);
	for(size_t i = 0; i < sizeof(want) - 1; i++) {
		char c = (char)('a' + i % 26);

		want[i] = c;
		ck_assert_int_eq(jw_buf_add(&b, &c, 1), 0);
		ck_assert_uint_lt(b.len, b.cap);
		ck_assert_int_eq(b.p[b.len], '\0');
	}
	want[sizeof(want) - 1] = '\0';
	ck_assert_str_eq(b.p, want);
	/* Reset keeps the memory, truncate cuts. */
	jw_buf_truncate(&b, 3);
	ck_assert_str_eq(b.p, "abc");
	jw_buf_truncate(&b, 10); /* longer: nothing */
	ck_assert_str_eq(b.p, "abc");
	jw_buf_reset(&b);
	ck_assert_str_eq(b.p, "");
	ck_assert_uint_gt(b.cap, 0);
	jw_buf_cleanup(&b);
}
END_TEST

START_TEST(reserve_tail_commit)
{
	struct jw_buf b;
	char *w;

	jw_buf_init(&b, JW_BUF_UNLIMITED);
	ck_assert_ptr_null(jw_buf_tail(&b));
	ck_assert_int_eq(jw_buf_reserve(&b, 1023), 0);
	ck_assert_uint_eq(b.cap, 1024);
	ck_assert_str_eq(b.p, "");
	w = jw_buf_tail(&b);
	memcpy(w, "{\"a\":1}", 7);
	jw_buf_commit(&b, 7);
	ck_assert_str_eq(b.p, "{\"a\":1}");
	ck_assert_int_eq(jw_buf_reserve(&b, 10), 0);
	ck_assert_uint_eq(b.cap, 1024);
	jw_buf_cleanup(&b);
}
END_TEST

START_TEST(max_is_exact_and_sticky)
{
	struct jw_buf b;
	size_t len = 99;

	jw_buf_init(&b, 8);
	ck_assert_int_eq(jw_buf_add(&b, "12345678", 8), 0);
	ck_assert_str_eq(b.p, "12345678");
	ck_assert_uint_le(b.cap, 9);
	ck_assert_int_eq(jw_buf_add(&b, "", 0), 0);
	ck_assert_int_eq(jw_buf_add(&b, "9", 1), -EMSGSIZE);
	/* Sticky: nothing more is added, even what would fit. */
	jw_buf_truncate(&b, 2);
	ck_assert_int_eq(jw_buf_add(&b, "x", 1), -EMSGSIZE);
	ck_assert_int_eq(jw_buf_printf(&b, "%d", 1), -EMSGSIZE);
	ck_assert_ptr_null(jw_buf_tail(&b));
	ck_assert_ptr_null(jw_buf_take(&b, &len));
	ck_assert_uint_eq(len, 99);
	/* take left it empty and clear. */
	ck_assert_int_eq(jw_buf_add(&b, "ok", 2), 0);
	ck_assert_str_eq(b.p, "ok");
	/* reset clears the error too. */
	ck_assert_int_eq(jw_buf_add(&b, "too long!", 9), -EMSGSIZE);
	jw_buf_reset(&b);
	ck_assert_int_eq(b.err, 0);
	ck_assert_int_eq(jw_buf_add(&b, "again", 5), 0);
	ck_assert_str_eq(b.p, "again");
	jw_buf_cleanup(&b);
}
END_TEST

/* Sizes near SIZE_MAX are refused before any arithmetic can wrap. */
START_TEST(hostile_sizes)
{
	struct jw_buf b;

	jw_buf_init(&b, SIZE_MAX);
	ck_assert_uint_eq(b.max, JW_BUF_UNLIMITED);
	ck_assert_int_eq(jw_buf_add(&b, "a", 1), 0);
	ck_assert_int_eq(jw_buf_reserve(&b, SIZE_MAX), -EMSGSIZE);
	jw_buf_reset(&b);
	ck_assert_int_eq(jw_buf_reserve(&b, SIZE_MAX - 1), -EMSGSIZE);
	jw_buf_cleanup(&b);
	/* max 0 and a zeroed buffer: no limit but memory. */
	jw_buf_init(&b, 0);
	ck_assert_uint_eq(b.max, JW_BUF_UNLIMITED);
	jw_buf_cleanup(&b);
	{
		struct jw_buf z = {0};

		ck_assert_int_eq(jw_buf_add(&z, "abc", 3), 0);
		ck_assert_str_eq(z.p, "abc");
		ck_assert_uint_eq(z.max, JW_BUF_UNLIMITED);
		jw_buf_cleanup(&z);
	}
	/* A writer's own failure is kept like an append's. */
	jw_buf_init(&b, 16);
	jw_buf_fail(&b, -ERANGE);
	ck_assert_int_eq(jw_buf_add(&b, "a", 1), -ERANGE);
	jw_buf_fail(&b, -ENOMEM); /* the first error stays */
	ck_assert_int_eq(b.err, -ERANGE);
	ck_assert_ptr_null(jw_buf_take(&b, NULL));
	jw_buf_cleanup(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util_buf");

	jw_test_case(s, "text", append_and_take, growth_keeps_text, reserve_tail_commit, NULL);
	jw_test_case(s, "limits", max_is_exact_and_sticky, hostile_sizes, NULL);
	return jw_test_run(s);
}
