/*
 * A bounded set of opaque pointers with first-in-first-out eviction. The
 * plugin uses it to remember which clients have disconnected (their will
 * may still be sent) without ever growing without bound.
 */
#ifndef JW_PTRSET_H
#define JW_PTRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jw_ptrset;

/* A set holding at most cap pointers (cap >= 1); when full, adding evicts
 * the oldest entry. Returns NULL when out of memory. */
struct jw_ptrset *jw_ptrset_new(size_t cap);

/* Frees the set. NULL is a no-op. */
void jw_ptrset_free(struct jw_ptrset *s);

/* Adds p with a caller-defined tag (moving p to the newest position and
 * replacing its tag if present). Never allocates. Returns 0, or -1 when s
 * or p is NULL. */
int jw_ptrset_add(struct jw_ptrset *s, const void *p, uint64_t tag);

/* Whether p is in the set; when it is and tag is not NULL, *tag gets the
 * tag it was added with. */
bool jw_ptrset_has(const struct jw_ptrset *s, const void *p, uint64_t *tag);

/* Removes p if present. */
void jw_ptrset_remove(struct jw_ptrset *s, const void *p);

size_t jw_ptrset_size(const struct jw_ptrset *s);

#endif
