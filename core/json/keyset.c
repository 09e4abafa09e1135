/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The duplicate-key set of large objects for the arena parser (keyset.h):
 * util/htab.h over the document's arena, keyed by util/hash.h.
 */
#include "keyset.h"

#include <string.h>

#include "util/hash.h"

static void *arena_zalloc(void *ctx, size_t n)
{
	void *p = jw_jdoc__alloc(ctx, n);

	if(p)
		memset(p, 0, n);
	return p;
}

static void arena_release(void *ctx, void *p, size_t n)
{
	/* The arena gives everything back at once, at the next parse. */
	(void)ctx;
	(void)p;
	(void)n;
}

void jw_keyset_arena(struct jw_alloc *a, struct jw_jdoc *d)
{
	a->alloc = arena_zalloc;
	a->release = arena_release;
	a->ctx = d;
}

/* Items are the keys themselves: NUL-terminated and free of U+0000. */
static int has(const struct jw_htab *set, uint64_t h, const char *k, size_t n)
{
	size_t pos;

	for(const char *e = jw_htab_first(set, h, &pos); e; e = jw_htab_next(set, h, &pos)) {
		if(memcmp(e, k, n) == 0 && e[n] == '\0')
			return 1;
	}
	return 0;
}

int jw_keyset_seen(struct jw_htab *set, const struct jw_alloc *arena,
        const struct jw_jnode *members, size_t count, const char *k, size_t n)
{
	uint64_t h = jw_hash(k, n, 0);

	if(!set->slots) {
		/* First use: the members so far, which are known to differ. */
		if(jw_htab_init(set, count * 2 + 1, arena) < 0)
			return -1;
		for(size_t i = 0; i < count; i++)
			jw_htab_insert(set, jw_hash(members[i].key, members[i].keylen, 0),
			        (void *)(uintptr_t)members[i].key);
	}
	if(has(set, h, k, n))
		return 1;
	if(jw_htab_reserve(set, set->count + 1) < 0)
		return -1;
	jw_htab_insert(set, h, (void *)(uintptr_t)k);
	return 0;
}
