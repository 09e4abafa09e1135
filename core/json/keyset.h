/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Internal to core/json/parse.c: the duplicate-key set of one large object
 * while the arena parser builds it. Small objects are checked by comparing
 * with the earlier keys; past JW_KEYSET_LINEAR_MAX members the parser asks
 * this set instead, so that a wide object still parses in linear time.
 * The set is a util/htab.h table whose slots live in the document's arena:
 * nothing to free, and it is gone with the next parse. Not thread-safe
 * (one document, one thread).
 */
#ifndef JW_JSON_KEYSET_H
#define JW_JSON_KEYSET_H

#include <stddef.h>

#include "jdoc.h"
#include "util/alloc.h"
#include "util/htab.h"

#define JW_KEYSET_LINEAR_MAX 16

/* An allocator over d's arena (its release does nothing), for the sets. */
void jw_keyset_arena(struct jw_alloc *a, struct jw_jdoc *d);

/*
 * Whether the object whose members so far are members[0..count) already
 * has the key k[0..n) (NUL-terminated, as every key in the arena's copy
 * of the input is). set starts zeroed; on its first use it is filled from
 * members. Returns 1 when the key is there, 0 when it was not (it is now),
 * -1 when out of memory. arena (jw_keyset_arena) must outlive set.
 */
int jw_keyset_seen(struct jw_htab *set, const struct jw_alloc *arena,
        const struct jw_jnode *members, size_t count, const char *k, size_t n);

#endif
