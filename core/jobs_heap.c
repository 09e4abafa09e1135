/*
 * Indexed binary min-heaps of jobs: each job stores its position in every
 * heap, so a deadline that moves (every event pushes the stall deadline)
 * is re-sifted in O(log n) instead of searched for. The key is read from
 * the job, so an entry is one pointer.
 */
#include "jobs_internal.h"

#include <string.h>

static int64_t key_of(const struct jw_job *j, enum jw_jobs__heap_id id)
{
	switch(id) {
		case JW_HEAP_STALL:
			return j->stall_key;
		case JW_HEAP_DUE:
			return j->due_mono;
		case JW_HEAP_ENDED:
		case JW_HEAP__COUNT:
			break;
	}
	return j->end ? j->end->ended_ms : 0;
}

static void place(struct jw_jobs__heap *h, size_t i, struct jw_job *j)
{
	h->v[i] = j;
	j->heap_pos[h->id] = (uint32_t)(i + 1);
}

static size_t sift_up(struct jw_jobs__heap *h, size_t i)
{
	struct jw_job *j = h->v[i];
	int64_t k = key_of(j, h->id);

	while(i > 0) {
		size_t parent = (i - 1) / 2;

		if(key_of(h->v[parent], h->id) <= k)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, j);
	return i;
}

static void sift_down(struct jw_jobs__heap *h, size_t i)
{
	struct jw_job *j = h->v[i];
	int64_t k = key_of(j, h->id);

	for(;;) {
		size_t c = 2 * i + 1;

		if(c >= h->n)
			break;
		if(c + 1 < h->n && key_of(h->v[c + 1], h->id) < key_of(h->v[c], h->id))
			c++;
		if(key_of(h->v[c], h->id) >= k)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, j);
}

int jw_jobs__heap_reserve(struct jw_jobs *jobs, struct jw_jobs__heap *h, size_t n)
{
	struct jw_job **v;
	size_t cap = h->cap ? h->cap : 16;

	if(h->cap >= n)
		return 0;
	while(cap < n)
		cap *= 2;
	v = jw_jobs__alloc(jobs, cap * sizeof(*v));
	if(!v)
		return -1;
	if(h->n)
		memcpy(v, h->v, h->n * sizeof(*v));
	jw_jobs__release(jobs, h->v, h->cap * sizeof(*h->v));
	h->v = v;
	h->cap = cap;
	return 0;
}

void jw_jobs__heap_set(struct jw_jobs__heap *h, struct jw_job *j)
{
	uint32_t pos = j->heap_pos[h->id];
	size_t i;

	if(pos == 0) {
		/* Room was reserved when the job entered the table. */
		i = h->n++;
		place(h, i, j);
		(void)sift_up(h, i);
		return;
	}
	i = sift_up(h, pos - 1);
	sift_down(h, i);
}

void jw_jobs__heap_remove(struct jw_jobs__heap *h, struct jw_job *j)
{
	uint32_t pos = j->heap_pos[h->id];
	struct jw_job *last;
	size_t i;

	if(pos == 0)
		return;
	i = pos - 1;
	j->heap_pos[h->id] = 0;
	last = h->v[--h->n];
	h->v[h->n] = NULL;
	if(last == j)
		return;
	place(h, i, last);
	i = sift_up(h, i);
	sift_down(h, i);
}

struct jw_job *jw_jobs__heap_top(const struct jw_jobs__heap *h)
{
	return h->n ? h->v[0] : NULL;
}

void jw_jobs__heap_free(struct jw_jobs *jobs, struct jw_jobs__heap *h)
{
	jw_jobs__release(jobs, h->v, h->cap * sizeof(*h->v));
	h->v = NULL;
	h->n = h->cap = 0;
}
