/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the toolkit hash table: lookups agree with a plain model under
 * long random churn with colliding and wrapping probe chains, growth keeps
 * every item, a failed allocation leaves the table as it was (and a table
 * that cannot grow still takes items until one slot is left), and its
 * memory goes through the owner's allocator. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/htab.h"
#include "util_check.h"

struct item {
	uint64_t key;
	uint64_t hash;
	bool in;
};

/* Counting allocator that can be told to fail. */
struct counter {
	size_t bytes;
	long fail_after; /* -1: never */
};

static void *c_alloc(void *ctx, size_t n)
{
	struct counter *c = ctx;
	void *p;

	if(c->fail_after == 0)
		return NULL;
	if(c->fail_after > 0)
		c->fail_after--;
	p = calloc(1, n);
	if(p)
		c->bytes += n;
	return p;
}

static void c_release(void *ctx, void *p, size_t n)
{
	struct counter *c = ctx;

	if(p)
		c->bytes -= n;
	free(p);
}

static struct item *find(const struct jw_htab *t, uint64_t h, uint64_t key, size_t *at)
{
	size_t pos;

	for(struct item *it = jw_htab_first(t, h, &pos); it; it = jw_htab_next(t, h, &pos)) {
		if(it->key == key) {
			if(at)
				*at = pos;
			return it;
		}
	}
	return NULL;
}

START_TEST(init_cleanup)
{
	struct jw_htab t;

	ck_assert_int_eq(jw_htab_init(&t, 0, NULL), 0);
	ck_assert_uint_eq(t.mask + 1, 16);
	ck_assert_uint_eq(t.count, 0);
	ck_assert(jw_htab_has_room(&t));
	jw_htab_cleanup(&t);
	jw_htab_cleanup(&t);
	ck_assert_ptr_null(t.slots);
	ck_assert(!jw_htab_has_room(&t));
	{
		size_t pos = 0;

		ck_assert_ptr_null(jw_htab_each(&t, &pos));
	}
	/* Room for 48 items is 64 slots (3/4), for 49 it is 128. */
	ck_assert_int_eq(jw_htab_init(&t, 48, NULL), 0);
	ck_assert_uint_eq(t.mask + 1, 64);
	ck_assert_int_eq(jw_htab_reserve(&t, 48), 0);
	ck_assert_uint_eq(t.mask + 1, 64);
	ck_assert_int_eq(jw_htab_reserve(&t, 49), 0);
	ck_assert_uint_eq(t.mask + 1, 128);
	ck_assert_int_eq(jw_htab_reserve(&t, SIZE_MAX), -EOVERFLOW);
	ck_assert_uint_eq(t.mask + 1, 128);
	jw_htab_cleanup(&t);
	ck_assert_int_eq(jw_htab_init(&t, SIZE_MAX / 2, NULL), -EOVERFLOW);
	jw_htab_cleanup(&t);
}
END_TEST

/* Random inserts, lookups and removals against a model. Hashes are drawn
 * from a few values (long shared chains) or aimed at the last slots (chains
 * that wrap around the end), through growth from 16 slots. */
static void churn(int hash_kind)
{
	enum { N = 700 };
	static struct item items[N];
	struct jw_htab t;
	uint64_t x = UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)(unsigned)hash_kind;
	size_t live = 0;

	ck_assert_int_eq(jw_htab_init(&t, 0, NULL), 0);
	for(size_t i = 0; i < N; i++) {
		items[i].key = i;
		items[i].in = false;
		if(hash_kind == 0)
			items[i].hash = jw_hash(&items[i].key, sizeof(items[i].key), 0);
		else if(hash_kind == 1)
			items[i].hash = (uint64_t)(i % 5); /* five chains, all colliding */
		else
			items[i].hash = UINT64_MAX - (uint64_t)(i % 3); /* home at the last slots */
	}
	for(int step = 0; step < 60000; step++) {
		struct item *it;
		size_t i, pos;

		jw_test_next(&x);
		i = (size_t)(x % N);
		it = find(&t, items[i].hash, items[i].key, &pos);
		ck_assert_int_eq(it != NULL, items[i].in);
		if(it)
			ck_assert_ptr_eq(it, &items[i]);
		if((x >> 40) % 3 != 0) {
			if(!it) {
				ck_assert_int_eq(jw_htab_reserve(&t, t.count + 1), 0);
				jw_htab_insert(&t, items[i].hash, &items[i]);
				items[i].in = true;
				live++;
			}
		} else if(it) {
			if((x >> 50) & 1)
				jw_htab_remove_at(&t, pos);
			else
				ck_assert(jw_htab_remove(&t, items[i].hash, &items[i]));
			items[i].in = false;
			live--;
		} else {
			ck_assert(!jw_htab_remove(&t, items[i].hash, &items[i]));
		}
		ck_assert_uint_eq(t.count, live);
	}
	for(size_t i = 0; i < N; i++) {
		struct item *it = find(&t, items[i].hash, items[i].key, NULL);

		ck_assert_int_eq(it != NULL, items[i].in);
	}
	/* The walk sees each item once. */
	{
		size_t pos = 0, seen = 0;
		struct item *it;

		while((it = jw_htab_each(&t, &pos)) != NULL) {
			ck_assert(it->in);
			it->in = false;
			seen++;
		}
		ck_assert_uint_eq(seen, live);
	}
	jw_htab_clear(&t);
	ck_assert_uint_eq(t.count, 0);
	ck_assert_ptr_null(find(&t, items[0].hash, 0, NULL));
	jw_htab_cleanup(&t);
}

START_TEST(churn_spread)
{
	churn(0);
}
END_TEST

START_TEST(churn_collisions)
{
	churn(1);
}
END_TEST

START_TEST(churn_wrap)
{
	churn(2);
}
END_TEST

START_TEST(same_hash_many_keys)
{
	struct jw_htab t;
	struct item items[40];
	size_t pos, n = 0;

	ck_assert_int_eq(jw_htab_init(&t, 40, NULL), 0);
	for(size_t i = 0; i < 40; i++) {
		items[i] = (struct item){i, 42, true};
		jw_htab_insert(&t, 42, &items[i]);
	}
	for(struct item *it = jw_htab_first(&t, 42, &pos); it; it = jw_htab_next(&t, 42, &pos))
		n++;
	ck_assert_uint_eq(n, 40);
	ck_assert_ptr_null(jw_htab_first(&t, 43, &pos));
	/* Replacing keeps the slot and the hash. */
	{
		struct item other = {39, 42, true};

		ck_assert_ptr_eq(find(&t, 42, 39, &pos), &items[39]);
		jw_htab_replace_at(&t, pos, &other);
		ck_assert_ptr_eq(find(&t, 42, 39, NULL), &other);
		ck_assert_uint_eq(t.count, 40);
	}
	jw_htab_cleanup(&t);
}
END_TEST

START_TEST(allocator_and_failures)
{
	struct counter c = {0, -1};
	struct jw_alloc a = {c_alloc, c_release, &c};
	struct jw_htab t, u;
	struct item items[64];

	ck_assert_int_eq(jw_htab_init(&t, 0, &a), 0);
	ck_assert_uint_eq(c.bytes, 16 * sizeof(struct jw_htab_slot));
	for(size_t i = 0; i < 12; i++) {
		items[i] = (struct item){i, jw_hash(&i, sizeof(i), 0), true};
		ck_assert_int_eq(jw_htab_reserve(&t, t.count + 1), 0);
		jw_htab_insert(&t, items[i].hash, &items[i]);
	}
	ck_assert_uint_eq(t.mask + 1, 16);
	/* Growth fails: the table is as it was. */
	c.fail_after = 0;
	ck_assert_int_eq(jw_htab_reserve(&t, t.count + 1), -ENOMEM);
	ck_assert_uint_eq(t.mask + 1, 16);
	ck_assert_uint_eq(c.bytes, 16 * sizeof(struct jw_htab_slot));
	for(size_t i = 0; i < 12; i++)
		ck_assert_ptr_eq(find(&t, items[i].hash, i, NULL), &items[i]);
	/* Without growth it still takes items while a slot stays empty. */
	for(size_t i = 12; i < 15; i++) {
		ck_assert(jw_htab_has_room(&t));
		items[i] = (struct item){i, jw_hash(&i, sizeof(i), 0), true};
		jw_htab_insert(&t, items[i].hash, &items[i]);
	}
	ck_assert(!jw_htab_has_room(&t));
	for(size_t i = 0; i < 15; i++)
		ck_assert_ptr_eq(find(&t, items[i].hash, i, NULL), &items[i]);
	ck_assert_ptr_null(find(&t, jw_hash(&(size_t){99}, sizeof(size_t), 0), 99, NULL));
	/* Memory back: growth works again, every item moves with it. */
	c.fail_after = -1;
	ck_assert_int_eq(jw_htab_reserve(&t, t.count + 1), 0);
	ck_assert_uint_eq(t.mask + 1, 32);
	ck_assert_uint_eq(c.bytes, 32 * sizeof(struct jw_htab_slot));
	for(size_t i = 0; i < 15; i++)
		ck_assert_ptr_eq(find(&t, items[i].hash, i, NULL), &items[i]);
	/* Swap moves contents and allocator alike. */
	ck_assert_int_eq(jw_htab_init(&u, 0, NULL), 0);
	jw_htab_swap(&t, &u);
	ck_assert_uint_eq(t.count, 0);
	ck_assert_uint_eq(u.count, 15);
	ck_assert_ptr_eq(u.alloc, &a);
	jw_htab_cleanup(&t);
	jw_htab_cleanup(&u);
	ck_assert_uint_eq(c.bytes, 0);
	/* A failed init leaves a table that cleans up. */
	c.fail_after = 0;
	ck_assert_int_eq(jw_htab_init(&t, 0, &a), -ENOMEM);
	jw_htab_cleanup(&t);
	ck_assert_uint_eq(c.bytes, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util_htab");

	jw_test_case(s, "lifecycle", init_cleanup, allocator_and_failures, NULL);
	jw_test_case(s, "model", churn_spread, churn_collisions, churn_wrap, same_hash_many_keys, NULL);
	return jw_test_run(s);
}
