/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Each job's history: a bounded ring of the events the broker accepted for
 * it, as they were delivered (the broker's "ts" included), with their seq
 * and attempt, for the MQTT 5 history request (plugin/history.c). It lives
 * and dies with its job, across attempts; memory is counted with the
 * table's. All the histories together stay within history_max_bytes: the
 * history added to least recently (a finished job's, mostly) goes first,
 * and when only the newest one is left, its oldest events. docs/lifecycle.md,
 * "History".
 */
#include "internal.h"

#include <string.h>

/* Slots a ring first has room for; it doubles up to the bound. */
#define FIRST_SLOTS 8u

/* One kept event: type '\0' event bytes '\0'. */
struct jw_history_entry {
	uint64_t seq;
	uint32_t len;  /* bytes of the event */
	uint32_t size; /* bytes allocated for the entry */
	uint16_t attempt;
	uint8_t type_len;
	char data[];
};

struct jw_job_history {
	struct jw_job *job;
	struct jw_job_history *older, *newer; /* the table's LRU list */
	uint32_t cap;                         /* slots at e */
	uint32_t head;                        /* the oldest */
	uint32_t count;                       /* kept */
	uint64_t dropped;                     /* accepted but no longer (or never) kept */
	struct jw_history_entry **e;
};

/* Rounded up to 16 bytes, so that an entry is reused for an event a few
 * bytes longer than the one it held ("progress":9, then 10). */
static size_t entry_size(size_t type_len, size_t len)
{
	return (sizeof(struct jw_history_entry) + type_len + 1 + len + 1 + 15) & ~(size_t)15;
}

static void entry_release(struct jw_jobs *jobs, struct jw_history_entry *en)
{
	if(!en)
		return;
	jobs->history_bytes -= en->size;
	jw_jobs__release(jobs, en, en->size);
}

static void lru_unlink(struct jw_jobs *jobs, struct jw_job_history *h)
{
	if(h->older)
		h->older->newer = h->newer;
	else
		jobs->history_lru = h->newer;
	if(h->newer)
		h->newer->older = h->older;
	else
		jobs->history_mru = h->older;
	h->older = h->newer = NULL;
}

/* h is now the history added to most recently. */
static void lru_touch(struct jw_jobs *jobs, struct jw_job_history *h)
{
	if(jobs->history_mru == h)
		return;
	if(h->older || h->newer || jobs->history_lru == h)
		lru_unlink(jobs, h);
	h->older = jobs->history_mru;
	if(jobs->history_mru)
		jobs->history_mru->newer = h;
	else
		jobs->history_lru = h;
	jobs->history_mru = h;
}

void jw_jobs__history_free(struct jw_jobs *jobs, struct jw_job *j)
{
	struct jw_job_history *h = j->history;

	if(!h)
		return;
	lru_unlink(jobs, h);
	for(uint32_t i = 0; i < h->count; i++)
		entry_release(jobs, h->e[(h->head + i) % h->cap]);
	jobs->history_events -= h->count;
	jobs->history_bytes -= h->cap * sizeof(*h->e) + sizeof(*h);
	jw_jobs__release(jobs, h->e, h->cap * sizeof(*h->e));
	jw_jobs__release(jobs, h, sizeof(*h));
	j->history = NULL;
}

/* Room for one more entry below the bound: false when out of memory. */
static bool grow(struct jw_jobs *jobs, struct jw_job_history *h, size_t limit)
{
	uint32_t cap;
	struct jw_history_entry **e;

	if(h->count < h->cap || h->cap >= limit)
		return true;
	cap = h->cap ? h->cap * 2 : FIRST_SLOTS;
	if(cap > limit)
		cap = (uint32_t)limit;
	e = jw_jobs__alloc(jobs, cap * sizeof(*e));
	if(!e)
		return false;
	/* Unrolled oldest first, so head is 0 again. */
	for(uint32_t i = 0; i < h->count; i++)
		e[i] = h->e[(h->head + i) % h->cap];
	jw_jobs__release(jobs, h->e, h->cap * sizeof(*h->e));
	jobs->history_bytes += (cap - h->cap) * sizeof(*e);
	h->e = e;
	h->cap = cap;
	h->head = 0;
	return true;
}

/* Its oldest event goes (h->count > 0). */
static void drop_oldest(struct jw_jobs *jobs, struct jw_job_history *h)
{
	entry_release(jobs, h->e[h->head]);
	h->e[h->head] = NULL;
	h->head = (h->head + 1) % h->cap;
	h->count--;
	h->dropped++;
	jobs->history_events--;
	jobs->history_shed++;
}

/* Back within history_max_bytes: whole histories, least recently added
 * to first, then the oldest events of newest, the one just added to
 * (which keeps its newest event at least). */
static void shed(struct jw_jobs *jobs, struct jw_job_history *newest)
{
	size_t max = jobs->cfg.history_max_bytes;

	while(jobs->history_bytes > max && jobs->history_lru != newest) {
		struct jw_job_history *old = jobs->history_lru;

		jobs->history_shed += old->count;
		jw_jobs__history_free(jobs, old->job);
	}
	while(jobs->history_bytes > max && newest->count > 1)
		drop_oldest(jobs, newest);
}

int jw_jobs_history_add(
        struct jw_jobs *jobs, struct jw_job *j, const char *type, const void *event, size_t len)
{
	size_t limit = jobs->cfg.history_events, tlen = strlen(type), need;
	struct jw_job_history *h = j->history;
	struct jw_history_entry *en = NULL;
	uint32_t slot;

	if(limit == 0)
		return 0;
	need = entry_size(tlen, len);
	if(tlen > UINT8_MAX || len > UINT32_MAX || need > UINT32_MAX)
		goto lost;
	if(!h) {
		h = jw_jobs__alloc(jobs, sizeof(*h));
		if(!h)
			goto lost;
		memset(h, 0, sizeof(*h));
		h->job = j;
		jobs->history_bytes += sizeof(*h);
		j->history = h;
	}
	if(!grow(jobs, h, limit))
		goto lost;
	if(h->count == h->cap) {
		/* Full: the oldest goes, its memory reused when it fits, so a
		 * steady job allocates nothing per event. */
		slot = h->head;
		en = h->e[slot];
		h->head = (h->head + 1) % h->cap;
		h->count--;
		jobs->history_events--;
		h->dropped++;
		h->e[slot] = NULL;
		if(en->size < need || en->size > 2 * need + 256) {
			entry_release(jobs, en);
			en = NULL;
		}
	}
	slot = (h->head + h->count) % h->cap;
	if(!en) {
		en = jw_jobs__alloc(jobs, need);
		if(!en)
			goto lost;
		en->size = (uint32_t)need;
		jobs->history_bytes += need;
	}
	en->seq = j->seq;
	en->attempt = (uint16_t)(j->retries + 1); /* the job's attempt */
	en->type_len = (uint8_t)tlen;
	en->len = (uint32_t)len;
	memcpy(en->data, type, tlen + 1);
	if(len)
		memcpy(en->data + tlen + 1, event, len);
	en->data[tlen + 1 + len] = '\0';
	h->e[slot] = en;
	h->count++;
	jobs->history_events++;
	lru_touch(jobs, h);
	if(jobs->cfg.history_max_bytes && jobs->history_bytes > jobs->cfg.history_max_bytes)
		shed(jobs, h);
	return 0;
lost:
	/* The event is not kept: the history says it is incomplete. */
	if(h)
		h->dropped++;
	return -1;
}

size_t jw_job_history_count(const struct jw_job *j)
{
	return j->history ? j->history->count : 0;
}

uint64_t jw_job_history_dropped(const struct jw_job *j)
{
	return j->history ? j->history->dropped : 0;
}

bool jw_job_history_complete(const struct jw_job *j)
{
	/* Kept events have distinct seqs from 1 to seq, in order. */
	return jw_job_history_count(j) == j->seq;
}

bool jw_job_history_get(const struct jw_job *j, size_t i, struct jw_history_event *out)
{
	const struct jw_job_history *h = j->history;
	const struct jw_history_entry *en;

	if(!h || i >= h->count)
		return false;
	en = h->e[(h->head + i) % h->cap];
	out->seq = en->seq;
	out->attempt = en->attempt;
	out->type = en->data;
	out->event = en->data + en->type_len + 1;
	out->len = en->len;
	return true;
}
