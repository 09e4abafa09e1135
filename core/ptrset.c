/*
 * Bounded pointer set: an open-addressing hash table (linear probing with
 * backward-shift deletion, so no tombstones accumulate) indexing the slots
 * of a ring buffer that remembers insertion order for eviction.
 */
#include "ptrset.h"

#include <stdint.h>
#include <stdlib.h>

struct jw_ptrset {
	size_t cap;       /* most entries held */
	size_t nbuckets;  /* power of two, >= 2 * cap */
	const void **buckets;
	uint64_t *tags;    /* tag of the pointer in the same bucket */
	const void **ring; /* insertion order; NULL marks a removed entry */
	const void **spare; /* compaction buffer, so adding never allocates */
	size_t head;       /* oldest ring position */
	size_t count;      /* ring positions in use (incl. removed ones) */
	size_t size;       /* live entries */
};

static size_t hash_ptr(const void *p, size_t mask)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	/* Pointers are aligned and clustered: mix the bits (splitmix64). */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (size_t)x & mask;
}

struct jw_ptrset *jw_ptrset_new(size_t cap)
{
	struct jw_ptrset *s;
	size_t n = 16;

	if(cap == 0 || cap > SIZE_MAX / 4){
		return NULL;
	}
	while(n < cap * 2){
		n *= 2;
	}
	s = calloc(1, sizeof(*s));
	if(!s){
		return NULL;
	}
	s->cap = cap;
	s->nbuckets = n;
	s->buckets = calloc(n, sizeof(*s->buckets));
	s->tags = calloc(n, sizeof(*s->tags));
	s->ring = calloc(cap, sizeof(*s->ring));
	s->spare = calloc(cap, sizeof(*s->spare));
	if(!s->buckets || !s->tags || !s->ring || !s->spare){
		jw_ptrset_free(s);
		return NULL;
	}
	return s;
}

void jw_ptrset_free(struct jw_ptrset *s)
{
	if(!s){
		return;
	}
	free(s->buckets);
	free(s->tags);
	free(s->ring);
	free(s->spare);
	free(s);
}

static size_t find_bucket(const struct jw_ptrset *s, const void *p)
{
	size_t mask = s->nbuckets - 1;
	size_t i = hash_ptr(p, mask);

	while(s->buckets[i] && s->buckets[i] != p){
		i = (i + 1) & mask;
	}
	return i;
}

bool jw_ptrset_has(const struct jw_ptrset *s, const void *p, uint64_t *tag)
{
	size_t i;

	if(!s || !p){
		return false;
	}
	i = find_bucket(s, p);
	if(s->buckets[i] != p){
		return false;
	}
	if(tag){
		*tag = s->tags[i];
	}
	return true;
}

static void hash_delete(struct jw_ptrset *s, size_t i)
{
	size_t mask = s->nbuckets - 1;
	size_t j = i;

	/* Backward-shift deletion keeps every probe chain unbroken. */
	for(;;){
		size_t home;

		j = (j + 1) & mask;
		if(!s->buckets[j]){
			break;
		}
		home = hash_ptr(s->buckets[j], mask);
		/* Move j into the hole at i unless its home lies in (i, j]. */
		if((i <= j) ? (home <= i || home > j) : (home <= i && home > j)){
			s->buckets[i] = s->buckets[j];
			s->tags[i] = s->tags[j];
			i = j;
		}
	}
	s->buckets[i] = NULL;
}

static void ring_forget(struct jw_ptrset *s, const void *p)
{
	size_t k;

	for(k = 0; k < s->count; k++){
		size_t pos = (s->head + k) % s->cap;
		if(s->ring[pos] == p){
			s->ring[pos] = NULL;
			return;
		}
	}
}

void jw_ptrset_remove(struct jw_ptrset *s, const void *p)
{
	size_t i;

	if(!s || !p){
		return;
	}
	i = find_bucket(s, p);
	if(s->buckets[i] != p){
		return;
	}
	hash_delete(s, i);
	ring_forget(s, p);
	s->size--;
}

static void ring_pop_oldest(struct jw_ptrset *s)
{
	while(s->count > 0){
		const void *old = s->ring[s->head];

		s->ring[s->head] = NULL;
		s->head = (s->head + 1) % s->cap;
		s->count--;
		if(old){
			hash_delete(s, find_bucket(s, old));
			s->size--;
			return;
		}
	}
}

int jw_ptrset_add(struct jw_ptrset *s, const void *p, uint64_t tag)
{
	size_t i;

	if(!s || !p){
		return -1;
	}
	i = find_bucket(s, p);
	if(s->buckets[i] == p){
		/* Refresh: a second departure of the same pointer is newer. */
		ring_forget(s, p);
	}else{
		if(s->size == s->cap){
			ring_pop_oldest(s);
			i = find_bucket(s, p);
		}
		s->buckets[i] = p;
		s->size++;
	}
	s->tags[i] = tag;
	/* Removed entries leave holes in the ring; compact when it is full. */
	if(s->count == s->cap){
		size_t k, w = 0;
		const void **tmp = s->spare;

		for(k = 0; k < s->count; k++){
			const void *q = s->ring[(s->head + k) % s->cap];
			if(q){
				tmp[w++] = q;
			}
		}
		for(k = w; k < s->cap; k++){
			tmp[k] = NULL;
		}
		s->spare = s->ring;
		s->ring = tmp;
		s->head = 0;
		s->count = w;
	}
	s->ring[(s->head + s->count) % s->cap] = p;
	s->count++;
	return 0;
}

size_t jw_ptrset_size(const struct jw_ptrset *s)
{
	return s ? s->size : 0;
}
