/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The one hash table: open addressing with linear probing over slots that
 * hold an item pointer and the item's 64-bit hash. The table owns only its
 * slot array; items belong to the caller, who computes their hashes
 * (util/hash.h; slots are picked by the low bits, which must be well
 * mixed) and compares keys. A lookup walks the items stored with
 * the key's hash (normally one), so a probe never reads an item whose
 * hash differs. Deletion shifts the probe chain back (no tombstones), so
 * probes stay as short as the load (at most 3/4 after jw_htab_reserve)
 * however long the table lives.
 *
 * Lookup by hash then key:
 *
 *     size_t pos;
 *     for(struct job *j = jw_htab_first(&t, h, &pos); j; j = jw_htab_next(&t, h, &pos))
 *         if(strcmp(j->key, key) == 0)
 *             return j;
 *
 * Not synchronised: one thread at a time per table (the owner's). Items
 * are never read or freed by the table; NULL is not an item.
 */
#ifndef JW_UTIL_HTAB_H
#define JW_UTIL_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/alloc.h"

struct jw_htab_slot {
	uint64_t hash;
	void *item; /* NULL: an empty slot */
};

struct jw_htab {
	struct jw_htab_slot *slots; /* mask + 1 of them, a power of two */
	size_t mask;
	size_t count;                 /* items held */
	const struct jw_alloc *alloc; /* NULL: calloc/free */
};

/*
 * An empty table with room for n items (at least 12: 16 slots). alloc
 * (NULL: calloc and free) must outlive the table. Returns 0, or -ENOMEM
 * (-EOVERFLOW when n slots cannot be addressed) with t empty and safe to
 * clean up.
 */
int jw_htab_init(struct jw_htab *t, size_t n, const struct jw_alloc *alloc);

/* Frees the slot array, not the items. Safe twice and after a failed init. */
void jw_htab_cleanup(struct jw_htab *t);

/*
 * Grows the slot array (rehashing from the stored hashes) so that n items
 * fit at a load of at most 3/4. Returns 0, -ENOMEM (the table is as it
 * was, and still usable), or -EOVERFLOW when n slots cannot be addressed.
 */
int jw_htab_reserve(struct jw_htab *t, size_t n);

/* Whether one more item fits without growing: beyond 3/4 a full table
 * still takes items, with longer probes, until one slot is left empty. */
static inline bool jw_htab_has_room(const struct jw_htab *t)
{
	return t->slots && t->count + 1 < t->mask + 1;
}

/* From *pos on, the first item stored with hash h, or NULL at the end of
 * the probe chain. *pos is left at the item's slot. */
static inline void *jw_htab__scan(const struct jw_htab *t, uint64_t h, size_t *pos)
{
	size_t i = *pos;
	const struct jw_htab_slot *s;

	while((s = &t->slots[i])->item != NULL) {
		if(s->hash == h) {
			*pos = i;
			return s->item;
		}
		i = (i + 1) & t->mask;
	}
	*pos = i;
	return NULL;
}

/* The first item stored with hash h (NULL: none); *pos is a cursor for
 * jw_htab_next and jw_htab_remove_at. The table must be initialised. */
static inline void *jw_htab_first(const struct jw_htab *t, uint64_t h, size_t *pos)
{
	*pos = (size_t)h & t->mask;
	return jw_htab__scan(t, h, pos);
}

/* The next item stored with hash h after the one at *pos, or NULL. */
static inline void *jw_htab_next(const struct jw_htab *t, uint64_t h, size_t *pos)
{
	*pos = (*pos + 1) & t->mask;
	return jw_htab__scan(t, h, pos);
}

/*
 * Stores item with hash h. The caller has made sure its key is absent and
 * that there is room (jw_htab_reserve, or jw_htab_has_room). Never fails
 * and never allocates.
 */
void jw_htab_insert(struct jw_htab *t, uint64_t h, void *item);

/* Replaces the item at *pos (from jw_htab_first/_next) by item, which
 * has the same key and hash. */
static inline void jw_htab_replace_at(struct jw_htab *t, size_t pos, void *item)
{
	t->slots[pos].item = item;
}

/* Removes the item at pos (from jw_htab_first/_next). Other items may
 * move: cursors are invalid afterwards. */
void jw_htab_remove_at(struct jw_htab *t, size_t pos);

/* Removes item (stored with hash h) if it is there; true when it was. */
bool jw_htab_remove(struct jw_htab *t, uint64_t h, const void *item);

/*
 * Every item, in slot order (which depends on the hashes, not on the
 * order of insertion): start with *pos = 0; NULL at the end. The table
 * must not change during the walk, except that jw_htab_clear may follow.
 */
static inline void *jw_htab_each(const struct jw_htab *t, size_t *pos)
{
	if(!t->slots)
		return NULL;
	while(*pos <= t->mask) {
		void *item = t->slots[(*pos)++].item;

		if(item)
			return item;
	}
	return NULL;
}

/* Empties the table, keeping its slot array. */
void jw_htab_clear(struct jw_htab *t);

/* Swaps the contents of two tables (with their allocators). */
void jw_htab_swap(struct jw_htab *a, struct jw_htab *b);

#endif
