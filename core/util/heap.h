/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The one priority queue: a binary min-heap of (key, item) entries in
 * which every item records its own position (index + 1, 0 when absent,
 * as a uint32_t at pos_offset inside the item). A key that changes is
 * re-sifted in place and any item is removed in O(log n), without a
 * search; the timers of the job table and the token expiries of JWT
 * authentication are built on it. Keys are compared in the heap's own
 * array, so a sift never reads an item except to update its position.
 * Among equal keys the order is unspecified.
 *
 * Not synchronised: one thread at a time per heap. Items belong to the
 * caller; an item may be in several heaps, each with its own position
 * field.
 */
#ifndef JW_UTIL_HEAP_H
#define JW_UTIL_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/alloc.h"

struct jw_heap_entry {
	int64_t key;
	void *item;
};

struct jw_heap {
	struct jw_heap_entry *v;
	size_t n;                     /* entries */
	size_t cap;                   /* entries v has room for */
	size_t pos_offset;            /* of the item's uint32_t position */
	const struct jw_alloc *alloc; /* NULL: calloc/free */
};

/* Most entries a heap holds (positions are uint32_t, 0 meaning absent). */
#define JW_HEAP_MAX ((size_t)UINT32_MAX - 1)

/* An empty heap (nothing allocated) whose items keep their position at
 * pos_offset. alloc (NULL: calloc and free) must outlive the heap. */
void jw_heap_init(struct jw_heap *h, size_t pos_offset, const struct jw_alloc *alloc);

/* Frees the array; items are left as they are (their positions too).
 * Safe twice. */
void jw_heap_cleanup(struct jw_heap *h);

/* Room for n entries in all, so that n pushes need no allocation.
 * Returns 0, or -ENOMEM (nothing changed) when out of memory or n is
 * beyond JW_HEAP_MAX. */
int jw_heap_reserve(struct jw_heap *h, size_t n);

/*
 * Puts item in the heap with key, or moves it to key when it is there
 * already. Adding grows the array when it is full. Returns 0, or -ENOMEM
 * (item not added) only when it had to grow and could not.
 */
int jw_heap_set(struct jw_heap *h, void *item, int64_t key);

/* Takes item out of the heap; nothing when it is not in it. */
void jw_heap_remove(struct jw_heap *h, void *item);

static inline uint32_t *jw_heap__pos(const struct jw_heap *h, const void *item)
{
	return (uint32_t *)(void *)((char *)(uintptr_t)item + h->pos_offset);
}

/* Whether item is in the heap. */
static inline bool jw_heap_has(const struct jw_heap *h, const void *item)
{
	return *jw_heap__pos(h, item) != 0;
}

/* The item with the smallest key (its key in *key when key is not NULL),
 * or NULL when the heap is empty. */
static inline void *jw_heap_top(const struct jw_heap *h, int64_t *key)
{
	if(h->n == 0)
		return NULL;
	if(key)
		*key = h->v[0].key;
	return h->v[0].item;
}

static inline size_t jw_heap_size(const struct jw_heap *h)
{
	return h->n;
}

#endif
