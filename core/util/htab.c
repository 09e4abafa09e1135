/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* See htab.h. */
#include "util/htab.h"

#include <errno.h>
#include <string.h>

#define MIN_SLOTS 16u

/* Slots for n items at a load of at most 3/4 (a power of two), or 0 when
 * that many cannot be addressed. */
static size_t slots_for(size_t n)
{
	size_t s = MIN_SLOTS;

	if(n > SIZE_MAX / 4 / sizeof(struct jw_htab_slot))
		return 0;
	while(s / 4 * 3 < n)
		s *= 2;
	return s;
}

static void put(struct jw_htab_slot *slots, size_t mask, uint64_t h, void *item)
{
	size_t i = (size_t)h & mask;

	while(slots[i].item)
		i = (i + 1) & mask;
	slots[i].hash = h;
	slots[i].item = item;
}

int jw_htab_init(struct jw_htab *t, size_t n, const struct jw_alloc *alloc)
{
	size_t s = slots_for(n);

	t->slots = NULL;
	t->mask = 0;
	t->count = 0;
	t->alloc = alloc;
	if(s == 0)
		return -EOVERFLOW;
	t->slots = jw_alloc_zeroed(alloc, s * sizeof(*t->slots));
	if(!t->slots)
		return -ENOMEM;
	t->mask = s - 1;
	return 0;
}

void jw_htab_cleanup(struct jw_htab *t)
{
	if(t->slots)
		jw_alloc_release(t->alloc, t->slots, (t->mask + 1) * sizeof(*t->slots));
	t->slots = NULL;
	t->mask = 0;
	t->count = 0;
}

int jw_htab_reserve(struct jw_htab *t, size_t n)
{
	struct jw_htab_slot *ns;
	size_t s, old = t->slots ? t->mask + 1 : 0;

	if(n < t->count)
		n = t->count;
	if(t->slots && n <= old / 4 * 3)
		return 0;
	s = slots_for(n);
	if(s == 0)
		return -EOVERFLOW;
	ns = jw_alloc_zeroed(t->alloc, s * sizeof(*ns));
	if(!ns)
		return -ENOMEM;
	/* O(count), from the stored hashes: items are not read. */
	for(size_t i = 0; i < old; i++) {
		if(t->slots[i].item)
			put(ns, s - 1, t->slots[i].hash, t->slots[i].item);
	}
	if(t->slots)
		jw_alloc_release(t->alloc, t->slots, old * sizeof(*t->slots));
	t->slots = ns;
	t->mask = s - 1;
	return 0;
}

void jw_htab_insert(struct jw_htab *t, uint64_t h, void *item)
{
	put(t->slots, t->mask, h, item);
	t->count++;
}

void jw_htab_remove_at(struct jw_htab *t, size_t pos)
{
	size_t mask = t->mask, i = pos, k = pos;

	/* Backward-shift deletion: each later item of the chain moves into
	 * the hole unless its home slot lies cyclically in (hole, its slot],
	 * where it would then be unreachable. */
	for(;;) {
		size_t home;

		k = (k + 1) & mask;
		if(!t->slots[k].item)
			break;
		home = (size_t)t->slots[k].hash & mask;
		if((i <= k) ? (home <= i || home > k) : (home <= i && home > k)) {
			t->slots[i] = t->slots[k];
			i = k;
		}
	}
	t->slots[i].item = NULL;
	t->slots[i].hash = 0;
	t->count--;
}

bool jw_htab_remove(struct jw_htab *t, uint64_t h, const void *item)
{
	size_t pos;

	if(!t->slots)
		return false;
	for(void *it = jw_htab_first(t, h, &pos); it; it = jw_htab_next(t, h, &pos)) {
		if(it == item) {
			jw_htab_remove_at(t, pos);
			return true;
		}
	}
	return false;
}

void jw_htab_clear(struct jw_htab *t)
{
	if(t->slots)
		memset(t->slots, 0, (t->mask + 1) * sizeof(*t->slots));
	t->count = 0;
}

void jw_htab_swap(struct jw_htab *a, struct jw_htab *b)
{
	struct jw_htab tmp = *a;

	*a = *b;
	*b = tmp;
}
