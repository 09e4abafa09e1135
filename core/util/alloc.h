/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The allocator a toolkit structure (util/htab.h, util/heap.h) takes its
 * arrays from, so that an owner that counts its memory (the job table's
 * memory_bytes) or fails the Nth allocation in tests sees them too.
 * A NULL struct jw_alloc pointer means calloc and free.
 */
#ifndef JW_UTIL_ALLOC_H
#define JW_UTIL_ALLOC_H

#include <stddef.h>
#include <stdlib.h>

struct jw_alloc {
	/* n zeroed bytes, or NULL when out of memory. */
	void *(*alloc)(void *ctx, size_t n);
	/* Gives back p, which alloc returned for the same n. p may be NULL. */
	void (*release)(void *ctx, void *p, size_t n);
	void *ctx;
};

static inline void *jw_alloc_zeroed(const struct jw_alloc *a, size_t n)
{
	return a ? a->alloc(a->ctx, n) : calloc(1, n);
}

static inline void jw_alloc_release(const struct jw_alloc *a, void *p, size_t n)
{
	if(a)
		a->release(a->ctx, p, n);
	else
		free(p);
}

#endif
