/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the toolkit heap: the smallest key comes out first under random
 * pushes, key moves both ways and removals (checked against a model),
 * every item knows its position, an item sits in two heaps at once, and
 * running out of memory adds nothing. */
#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "util/heap.h"
#include "util_check.h"

struct item {
	int64_t key[2];
	uint32_t pos[2];
	int id;
};

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
	return jw_test_next(&rng);
}

/* The heap property, and each entry's item pointing back at its index. */
static void check_shape(const struct jw_heap *h, int which)
{
	for(size_t i = 0; i < h->n; i++) {
		const struct item *it = h->v[i].item;

		ck_assert_uint_eq(it->pos[which], i + 1);
		ck_assert_int_eq(h->v[i].key, it->key[which]);
		if(i > 0)
			ck_assert_int_le(h->v[(i - 1) / 2].key, h->v[i].key);
	}
}

START_TEST(model)
{
	enum { N = 300 };
	static struct item items[N];
	static bool in[N];
	struct jw_heap h;

	jw_heap_init(&h, offsetof(struct item, pos), NULL);
	for(int i = 0; i < N; i++) {
		items[i] = (struct item){{0, 0}, {0, 0}, i};
		in[i] = false;
	}
	for(int step = 0; step < 100000; step++) {
		uint64_t r = next();
		int i = (int)(r % N);
		int op = (int)((r >> 20) % 4);

		if(op <= 1) {
			/* Small key range: many equal keys; extremes included. */
			int64_t k = (int64_t)((r >> 32) % 50) - 25;

			if(((r >> 40) & 63) == 0)
				k = ((r >> 46) & 1) ? INT64_MAX : INT64_MIN;
			items[i].key[0] = k;
			ck_assert_int_eq(jw_heap_set(&h, &items[i], k), 0);
			in[i] = true;
		} else if(op == 2) {
			jw_heap_remove(&h, &items[i]);
			in[i] = false;
			ck_assert_uint_eq(items[i].pos[0], 0);
		} else {
			int64_t top_key, min = INT64_MAX;
			struct item *top = jw_heap_top(&h, &top_key);
			bool any = false;

			for(int j = 0; j < N; j++) {
				if(in[j] && items[j].key[0] <= min) {
					min = items[j].key[0];
					any = true;
				}
			}
			ck_assert_int_eq(top != NULL, any);
			if(top) {
				ck_assert_int_eq(top_key, min);
				ck_assert_int_eq(top->key[0], min);
				jw_heap_remove(&h, top);
				in[top->id] = false;
			}
		}
		ck_assert_int_eq(jw_heap_has(&h, &items[i]), in[i]);
		if(step % 97 == 0)
			check_shape(&h, 0);
	}
	/* Draining gives non-decreasing keys. */
	{
		int64_t last = INT64_MIN, k;
		struct item *it;

		while((it = jw_heap_top(&h, &k)) != NULL) {
			ck_assert_int_ge(k, last);
			last = k;
			jw_heap_remove(&h, it);
		}
	}
	ck_assert_uint_eq(jw_heap_size(&h), 0);
	jw_heap_cleanup(&h);
	jw_heap_cleanup(&h);
}
END_TEST

START_TEST(two_heaps)
{
	struct item items[10];
	struct jw_heap a, b;

	jw_heap_init(&a, offsetof(struct item, pos), NULL);
	jw_heap_init(&b, offsetof(struct item, pos) + sizeof(uint32_t), NULL);
	for(int i = 0; i < 10; i++) {
		items[i] = (struct item){{i, 10 - i}, {0, 0}, i};
		ck_assert_int_eq(jw_heap_set(&a, &items[i], items[i].key[0]), 0);
		ck_assert_int_eq(jw_heap_set(&b, &items[i], items[i].key[1]), 0);
	}
	ck_assert_ptr_eq(jw_heap_top(&a, NULL), &items[0]);
	ck_assert_ptr_eq(jw_heap_top(&b, NULL), &items[9]);
	/* Moving a key in one heap leaves the other alone. */
	items[5].key[0] = -1;
	ck_assert_int_eq(jw_heap_set(&a, &items[5], -1), 0);
	ck_assert_ptr_eq(jw_heap_top(&a, NULL), &items[5]);
	ck_assert_ptr_eq(jw_heap_top(&b, NULL), &items[9]);
	/* And later again: it sinks. */
	items[5].key[0] = 100;
	ck_assert_int_eq(jw_heap_set(&a, &items[5], 100), 0);
	ck_assert_ptr_eq(jw_heap_top(&a, NULL), &items[0]);
	check_shape(&a, 0);
	check_shape(&b, 1);
	jw_heap_remove(&b, &items[9]);
	ck_assert(jw_heap_has(&a, &items[9]));
	ck_assert(!jw_heap_has(&b, &items[9]));
	jw_heap_remove(&b, &items[9]); /* absent: nothing */
	ck_assert_uint_eq(jw_heap_size(&b), 9);
	jw_heap_cleanup(&a);
	jw_heap_cleanup(&b);
}
END_TEST

static long fail_after = -1;
static size_t held;

static void *f_alloc(void *ctx, size_t n)
{
	(void)ctx;
	if(fail_after == 0)
		return NULL;
	if(fail_after > 0)
		fail_after--;
	held += n;
	return calloc(1, n);
}

static void f_release(void *ctx, void *p, size_t n)
{
	(void)ctx;
	if(p)
		held -= n;
	free(p);
}

/* jw_heap_set with the key also kept in the item, for check_shape. */
static int set0(struct jw_heap *h, struct item *it, int64_t k)
{
	it->key[0] = k;
	return jw_heap_set(h, it, k);
}

START_TEST(out_of_memory)
{
	static struct item items[40];
	struct jw_alloc al = {f_alloc, f_release, NULL};
	struct jw_heap h;

	jw_heap_init(&h, offsetof(struct item, pos), &al);
	ck_assert_ptr_null(jw_heap_top(&h, NULL));
	fail_after = 0;
	ck_assert_int_eq(set0(&h, &items[0], 1), -ENOMEM);
	ck_assert(!jw_heap_has(&h, &items[0]));
	ck_assert_uint_eq(jw_heap_size(&h), 0);
	fail_after = -1;
	ck_assert_int_eq(jw_heap_reserve(&h, 16), 0);
	ck_assert_uint_eq(held, 16 * sizeof(struct jw_heap_entry));
	fail_after = 0;
	/* Reserved room: sixteen pushes need nothing more. */
	for(int i = 0; i < 16; i++)
		ck_assert_int_eq(set0(&h, &items[i], 16 - i), 0);
	ck_assert_int_eq(set0(&h, &items[16], 0), -ENOMEM);
	ck_assert(!jw_heap_has(&h, &items[16]));
	ck_assert_ptr_eq(jw_heap_top(&h, NULL), &items[15]);
	/* Moving a key never allocates. */
	ck_assert_int_eq(set0(&h, &items[3], -5), 0);
	ck_assert_ptr_eq(jw_heap_top(&h, NULL), &items[3]);
	ck_assert_int_eq(jw_heap_reserve(&h, JW_HEAP_MAX + 1), -ENOMEM);
	fail_after = -1;
	ck_assert_int_eq(set0(&h, &items[16], 0), 0);
	ck_assert_uint_eq(held, 32 * sizeof(struct jw_heap_entry));
	check_shape(&h, 0);
	jw_heap_cleanup(&h);
	ck_assert_uint_eq(held, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("util_heap");

	jw_test_case(s, "order", model, two_heaps, NULL);
	jw_test_case(s, "memory", out_of_memory, NULL);
	return jw_test_run(s);
}
