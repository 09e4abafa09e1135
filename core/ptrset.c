/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Bounded pointer set: the toolkit's hash table (util/htab.h) indexing a
 * fixed pool of entries, which a doubly linked list keeps in insertion
 * order for eviction. Everything is allocated by jw_ptrset_new; adding,
 * refreshing, evicting and removing are O(1) and never allocate.
 */
#include "ptrset.h"

#include <stdint.h>
#include <stdlib.h>

#include "util/hash.h"
#include "util/htab.h"

#define NONE SIZE_MAX

struct entry {
	const void *p; /* NULL: on the free list */
	uint64_t tag;
	size_t prev; /* older neighbour, NONE for the oldest */
	size_t next; /* newer neighbour (or next free), NONE at the end */
};

struct jw_ptrset {
	size_t cap;            /* most entries held */
	struct jw_htab table;  /* p -> its entry */
	struct entry *entries; /* cap of them */
	size_t oldest, newest; /* ends of the insertion order, NONE: empty */
	size_t free;           /* first free entry, NONE: none */
};

struct jw_ptrset *jw_ptrset_new(size_t cap)
{
	struct jw_ptrset *s;

	if(cap == 0 || cap > SIZE_MAX / 4 / sizeof(struct entry)) {
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if(!s) {
		return NULL;
	}
	s->cap = cap;
	s->entries = calloc(cap, sizeof(*s->entries));
	if(!s->entries || jw_htab_init(&s->table, cap, NULL) != 0) {
		jw_ptrset_free(s);
		return NULL;
	}
	for(size_t i = 0; i < cap; i++) {
		s->entries[i].next = i + 1 < cap ? i + 1 : NONE;
	}
	s->free = 0;
	s->oldest = s->newest = NONE;
	return s;
}

void jw_ptrset_free(struct jw_ptrset *s)
{
	if(!s) {
		return;
	}
	jw_htab_cleanup(&s->table);
	free(s->entries);
	free(s);
}

/* p's entry, or NULL; *pos gets its table slot. */
static struct entry *find(const struct jw_ptrset *s, const void *p, size_t *pos)
{
	uint64_t h = jw_hash_ptr(p);

	for(struct entry *e = jw_htab_first(&s->table, h, pos); e;
	        e = jw_htab_next(&s->table, h, pos)) {
		if(e->p == p) {
			return e;
		}
	}
	return NULL;
}

static void unlink_entry(struct jw_ptrset *s, struct entry *e)
{
	if(e->prev != NONE) {
		s->entries[e->prev].next = e->next;
	} else {
		s->oldest = e->next;
	}
	if(e->next != NONE) {
		s->entries[e->next].prev = e->prev;
	} else {
		s->newest = e->prev;
	}
}

static void append(struct jw_ptrset *s, struct entry *e)
{
	size_t i = (size_t)(e - s->entries);

	e->prev = s->newest;
	e->next = NONE;
	if(s->newest != NONE) {
		s->entries[s->newest].next = i;
	} else {
		s->oldest = i;
	}
	s->newest = i;
}

/* Takes e (at table slot pos) out of the set. */
static void drop(struct jw_ptrset *s, struct entry *e, size_t pos)
{
	jw_htab_remove_at(&s->table, pos);
	unlink_entry(s, e);
	e->p = NULL;
	e->next = s->free;
	s->free = (size_t)(e - s->entries);
}

bool jw_ptrset_has(const struct jw_ptrset *s, const void *p, uint64_t *tag)
{
	struct entry *e;
	size_t pos;

	if(!s || !p) {
		return false;
	}
	e = find(s, p, &pos);
	if(!e) {
		return false;
	}
	if(tag) {
		*tag = e->tag;
	}
	return true;
}

void jw_ptrset_remove(struct jw_ptrset *s, const void *p)
{
	struct entry *e;
	size_t pos;

	if(!s || !p) {
		return;
	}
	e = find(s, p, &pos);
	if(e) {
		drop(s, e, pos);
	}
}

int jw_ptrset_add(struct jw_ptrset *s, const void *p, uint64_t tag)
{
	struct entry *e;
	size_t pos;

	if(!s || !p) {
		return -1;
	}
	e = find(s, p, &pos);
	if(e) {
		/* Refresh: a second departure of the same pointer is newer. */
		unlink_entry(s, e);
	} else {
		if(s->free == NONE) {
			struct entry *old = &s->entries[s->oldest];

			(void)find(s, old->p, &pos);
			drop(s, old, pos);
		}
		e = &s->entries[s->free];
		s->free = e->next;
		e->p = p;
		jw_htab_insert(&s->table, jw_hash_ptr(p), e);
	}
	e->tag = tag;
	append(s, e);
	return 0;
}

size_t jw_ptrset_size(const struct jw_ptrset *s)
{
	return s ? s->table.count : 0;
}
