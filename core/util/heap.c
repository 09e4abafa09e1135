/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* See heap.h. */
#include "util/heap.h"

#include <errno.h>

static void place(struct jw_heap *h, size_t i, struct jw_heap_entry e)
{
	h->v[i] = e;
	*jw_heap__pos(h, e.item) = (uint32_t)(i + 1);
}

static size_t sift_up(struct jw_heap *h, size_t i)
{
	struct jw_heap_entry e = h->v[i];

	while(i > 0) {
		size_t parent = (i - 1) / 2;

		if(h->v[parent].key <= e.key)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, e);
	return i;
}

static void sift_down(struct jw_heap *h, size_t i)
{
	struct jw_heap_entry e = h->v[i];

	for(;;) {
		size_t c = 2 * i + 1;

		if(c >= h->n)
			break;
		if(c + 1 < h->n && h->v[c + 1].key < h->v[c].key)
			c++;
		if(h->v[c].key >= e.key)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, e);
}

void jw_heap_init(struct jw_heap *h, size_t pos_offset, const struct jw_alloc *alloc)
{
	h->v = NULL;
	h->n = 0;
	h->cap = 0;
	h->pos_offset = pos_offset;
	h->alloc = alloc;
}

void jw_heap_cleanup(struct jw_heap *h)
{
	if(h->v)
		jw_alloc_release(h->alloc, h->v, h->cap * sizeof(*h->v));
	h->v = NULL;
	h->n = h->cap = 0;
}

int jw_heap_reserve(struct jw_heap *h, size_t n)
{
	struct jw_heap_entry *v;
	size_t cap = h->cap ? h->cap : 16;

	if(h->cap >= n)
		return 0;
	if(n > JW_HEAP_MAX)
		return -ENOMEM;
	while(cap < n)
		cap *= 2;
	v = jw_alloc_zeroed(h->alloc, cap * sizeof(*v));
	if(!v)
		return -ENOMEM;
	if(h->n)
		memcpy(v, h->v, h->n * sizeof(*v));
	if(h->v)
		jw_alloc_release(h->alloc, h->v, h->cap * sizeof(*h->v));
	h->v = v;
	h->cap = cap;
	return 0;
}

int jw_heap_set(struct jw_heap *h, void *item, int64_t key)
{
	uint32_t pos = *jw_heap__pos(h, item);
	size_t i;

	if(pos == 0) {
		if(h->n == h->cap && jw_heap_reserve(h, h->n + 1) != 0)
			return -ENOMEM;
		i = h->n++;
		place(h, i, (struct jw_heap_entry){key, item});
		(void)sift_up(h, i);
		return 0;
	}
	i = pos - 1;
	h->v[i].key = key;
	i = sift_up(h, i);
	sift_down(h, i);
	return 0;
}

void jw_heap_remove(struct jw_heap *h, void *item)
{
	uint32_t *pos = jw_heap__pos(h, item);
	struct jw_heap_entry last;
	size_t i;

	if(*pos == 0)
		return;
	i = *pos - 1;
	*pos = 0;
	last = h->v[--h->n];
	h->v[h->n].item = NULL;
	if(last.item == item)
		return;
	place(h, i, last);
	i = sift_up(h, i);
	sift_down(h, i);
}
