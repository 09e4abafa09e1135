/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the toolkit hash: FNV-1a keeps its published values (job
 * fingerprints are stored with it), jw_hash reads exactly the bytes it is
 * given, every bit of every byte reaches the result, and the pointer hash
 * spreads aligned addresses over a table's low bits. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util_check.h"

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t next(void)
{
	return jw_test_next(&rng);
}

START_TEST(fnv1a_published_values)
{
	/* The FNV reference test vectors (draft-eastlake-fnv). */
	ck_assert_uint_eq(jw_hash_fnv1a(JW_HASH_FNV_OFFSET, "", 0), UINT64_C(0xcbf29ce484222325));
	ck_assert_uint_eq(jw_hash_fnv1a(JW_HASH_FNV_OFFSET, "a", 1), UINT64_C(0xaf63dc4c8601ec8c));
	ck_assert_uint_eq(jw_hash_fnv1a(JW_HASH_FNV_OFFSET, "foobar", 6), UINT64_C(0x85944171f73967e8));
	/* Continuing a hash is hashing the concatenation. */
	ck_assert_uint_eq(jw_hash_fnv1a(jw_hash_fnv1a(JW_HASH_FNV_OFFSET, "foo", 3), "bar", 3),
	        UINT64_C(0x85944171f73967e8));
}
END_TEST

START_TEST(mix_is_splitmix64)
{
	/* splitmix64's outputs for seed 0 are mix(k * golden) for k = 1, 2. */
	ck_assert_uint_eq(jw_hash_mix(UINT64_C(0x9e3779b97f4a7c15)), UINT64_C(0xe220a8397b1dcdaf));
	ck_assert_uint_eq(jw_hash_mix(UINT64_C(0x3c6ef372fe94f82a)), UINT64_C(0x6e789e6aa1b965f4));
	ck_assert_uint_eq(jw_hash_mix(0), 0);
}
END_TEST

/* Buffers of exactly n bytes: under ASan a read past them fails. */
START_TEST(reads_exactly_n_bytes)
{
	for(size_t n = 0; n <= 70; n++) {
		unsigned char *p = malloc(n ? n : 1);
		unsigned char *q = malloc(n + 8);

		ck_assert_ptr_nonnull(p);
		ck_assert_ptr_nonnull(q);
		for(size_t i = 0; i < n; i++)
			p[i] = q[i] = (unsigned char)next();
		/* What follows the n bytes does not count. */
		memset(q + n, 0xAB, 8);
		ck_assert_uint_eq(jw_hash(p, n, 7), jw_hash(q, n, 7));
		memset(q + n, 0x00, 8);
		ck_assert_uint_eq(jw_hash(p, n, 7), jw_hash(q, n, 7));
		free(p);
		free(q);
	}
}
END_TEST

START_TEST(every_bit_counts)
{
	unsigned char s[48];

	for(size_t n = 1; n <= sizeof(s); n++) {
		uint64_t h;

		for(size_t i = 0; i < n; i++)
			s[i] = (unsigned char)next();
		h = jw_hash(s, n, 0);
		for(size_t i = 0; i < n; i++) {
			for(int b = 0; b < 8; b++) {
				s[i] ^= (unsigned char)(1u << b);
				ck_assert_msg(jw_hash(s, n, 0) != h, "n %zu byte %zu bit %d", n, i, b);
				s[i] ^= (unsigned char)(1u << b);
			}
		}
		/* The length counts: a zero byte more is another key. */
		ck_assert_uint_ne(jw_hash(s, n - 1, 0), jw_hash(s, n, 0));
	}
}
END_TEST

START_TEST(seed_and_parts)
{
	uint64_t a, b;

	ck_assert_uint_ne(jw_hash("job-1", 5, 0), jw_hash("job-1", 5, 1));
	/* Folding parts: the split is part of the key. */
	a = jw_hash_mix(jw_hash_fold(jw_hash_fold(JW_HASH_FNV_OFFSET, "ab", 2), "c", 1));
	b = jw_hash_mix(jw_hash_fold(jw_hash_fold(JW_HASH_FNV_OFFSET, "a", 1), "bc", 2));
	ck_assert_uint_ne(a, b);
	ck_assert_uint_eq(
	        jw_hash("abc", 3, 0), jw_hash_mix(jw_hash_fold(JW_HASH_FNV_OFFSET, "abc", 3)));
	/* Equal bytes, equal hash, whatever their address. */
	{
		char x[] = "session-42", y[] = "session-42";

		ck_assert_uint_eq(jw_hash(x, 10, 3), jw_hash(y, 10, 3));
	}
}
END_TEST

/* 64-byte aligned addresses (malloc's, struct mosquitto's) land in every
 * bucket of a 1024-bucket table about as often as chance says. */
START_TEST(pointer_spread)
{
	enum { BUCKETS = 1024, N = 1024 * 64 };
	static unsigned counts[BUCKETS];
	unsigned most = 0;

	memset(counts, 0, sizeof(counts));
	for(uintptr_t i = 0; i < N; i++)
		counts[jw_hash_ptr((const void *)(0x7f0000000000u + i * 64)) & (BUCKETS - 1)]++;
	for(int i = 0; i < BUCKETS; i++) {
		ck_assert_uint_gt(counts[i], 0);
		if(counts[i] > most)
			most = counts[i];
	}
	/* Mean 64; a plain modulo of the address would put all in 16 buckets. */
	ck_assert_uint_lt(most, 128);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util_hash");

	jw_test_case(s, "fnv1a", fnv1a_published_values, NULL);
	jw_test_case(s, "mix", mix_is_splitmix64, pointer_spread, NULL);
	jw_test_case(s, "bytes", reads_exactly_n_bytes, every_bit_counts, seed_and_parts, NULL);
	return jw_test_run(s);
}
