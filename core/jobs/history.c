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
 *
 * A history is one buffer of entries laid end to end, oldest first, that
 * wraps around (an entry never straddles the end: it starts again at 0),
 * and a ring of the entries' offsets. Adding an event copies it once into
 * the buffer; the buffer and the ring grow by doubling while the job's
 * events fill them (up to what the bound needs), so no event allocates on
 * its own, neither while the ring fills nor once it is full.
 */
#include "internal.h"

#include <string.h>

/* Offsets a ring first has room for; it doubles up to the bound. */
#define FIRST_SLOTS 8u
/* The least bytes a buffer has: a few small events. */
#define MIN_BYTES 256u
/* Offsets are 32-bit: a job's buffer stays below 4 GiB. */
#define MAX_BYTES (UINT32_MAX & ~(uint32_t)7)
/* Not an offset: no room for an entry. */
#define NO_ROOM UINT32_MAX

/* One kept event: this header, type '\0' event bytes '\0', padded to 8. */
struct jw_history_entry {
	uint64_t seq;
	uint32_t len; /* bytes of the event */
	uint16_t attempt;
	uint8_t type_len;
	uint8_t pad;
	char data[];
};

/*
 * With start = off[head], the oldest: the entries are at [start, end),
 * the free bytes at [end, size) and [0, start); or, once the newest
 * started again at 0 (end <= start), at [start, wrap) then [0, end), the
 * free bytes at [end, start).
 */
struct jw_job_history {
	struct jw_job *job;
	struct jw_job_history *older, *newer; /* the table's LRU list */
	char *buf;                            /* size bytes of entries */
	uint32_t *off;                        /* cap slots: the entries' offsets */
	uint64_t dropped;                     /* accepted but no longer (or never) kept */
	uint32_t size;                        /* bytes at buf */
	uint32_t end;                         /* past the newest entry */
	uint32_t wrap;                        /* past the last entry before 0 */
	uint32_t small;                       /* entries' bytes below it: size is halved */
	uint32_t cap;                         /* slots at off */
	uint32_t head;                        /* slot of the oldest */
	uint32_t tail;                        /* slot of the next */
	uint32_t count;                       /* kept */
};

static uint32_t entry_size(size_t type_len, size_t len)
{
	return (uint32_t)((sizeof(struct jw_history_entry) + type_len + 1 + len + 1 + 7) & ~(size_t)7);
}

static struct jw_history_entry *entry_at(const struct jw_job_history *h, uint32_t off)
{
	return (void *)(h->buf + off);
}

static uint32_t next_slot(const struct jw_job_history *h, uint32_t slot)
{
	return slot + 1 == h->cap ? 0 : slot + 1;
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
	jobs->history_events -= h->count;
	jobs->history_bytes -= h->size + h->cap * sizeof(*h->off) + sizeof(*h);
	jw_jobs__release(jobs, h->buf, h->size);
	jw_jobs__release(jobs, h->off, h->cap * sizeof(*h->off));
	jw_jobs__release(jobs, h, sizeof(*h));
	j->history = NULL;
}

/* Its oldest event goes (h->count > 0); the caller counts it. Inlined:
 * a full ring does this for every event. */
__attribute__((always_inline)) static inline void drop_oldest(
        struct jw_jobs *jobs, struct jw_job_history *h)
{
	h->head = next_slot(h, h->head);
	h->count--;
	h->dropped++;
	jobs->history_events--;
}

/* Bytes of the kept entries: they lie end to end. */
static uint32_t used_of(const struct jw_job_history *h)
{
	uint32_t start;

	if(h->count == 0)
		return 0;
	start = h->off[h->head];
	return h->end > start ? h->end - start : h->wrap - start + h->end;
}

/* Dropped to stay within history_max_bytes. */
static void shed_oldest(struct jw_jobs *jobs, struct jw_job_history *h)
{
	drop_oldest(jobs, h);
	jobs->history_shed++;
}

/* Where an entry of need bytes fits without moving anything, or
 * NO_ROOM. Inlined: every event asks. */
__attribute__((always_inline)) static inline uint32_t room_at(
        const struct jw_job_history *h, uint32_t need)
{
	uint32_t start;

	if(h->count == 0)
		return need <= h->size ? 0 : NO_ROOM;
	start = h->off[h->head];
	if(h->end <= start)
		return start - h->end >= need ? h->end : NO_ROOM;
	if(h->size - h->end >= need)
		return h->end;
	return start >= need ? 0 : NO_ROOM;
}

/* The entries, oldest first, moved to the start of a new buffer of nb
 * bytes (>= used_of(h)): false when out of memory (h unchanged). */
__attribute__((noinline)) static bool relocate(
        struct jw_jobs *jobs, struct jw_job_history *h, uint32_t nb)
{
	char *buf = jw_jobs__alloc_raw(jobs, nb);
	uint32_t pos = 0, slot = h->head;

	if(!buf)
		return false;
	for(uint32_t i = 0; i < h->count; i++, slot = next_slot(h, slot)) {
		const struct jw_history_entry *en = entry_at(h, h->off[slot]);
		uint32_t n = entry_size(en->type_len, en->len);

		memcpy(buf + pos, en, n);
		h->off[slot] = pos;
		pos += n;
	}
	jw_jobs__release(jobs, h->buf, h->size);
	jobs->history_bytes = jobs->history_bytes - h->size + nb;
	h->buf = buf;
	h->size = nb;
	h->small = nb > MIN_BYTES ? nb / 4u : 0;
	h->end = pos;
	return true;
}

/* A slot for one more offset below the bound: false when out of memory. */
static bool grow_slots(struct jw_jobs *jobs, struct jw_job_history *h, size_t limit)
{
	uint32_t cap, slot = h->head;
	uint32_t *off;

	if(h->count < h->cap || h->cap >= limit)
		return true;
	cap = h->cap ? h->cap * 2 : FIRST_SLOTS;
	if(cap > limit)
		cap = (uint32_t)limit;
	off = jw_jobs__alloc(jobs, cap * sizeof(*off));
	if(!off)
		return false;
	/* Unrolled oldest first, so head is 0 again. */
	for(uint32_t i = 0; i < h->count; i++, slot = next_slot(h, slot))
		off[i] = h->off[slot];
	jw_jobs__release(jobs, h->off, h->cap * sizeof(*h->off));
	jobs->history_bytes += (cap - h->cap) * sizeof(*off);
	h->off = off;
	h->cap = cap;
	h->head = 0;
	h->tail = h->count == cap ? 0 : h->count;
	return true;
}

/* The buffer h would grow to for one more entry of need bytes: double
 * (twice the entry at first), but no more than limit entries of the
 * average size so far need, plus one for the end a wrap leaves unused;
 * at least a quarter more, and at least the entries plus this one. */
static uint64_t next_size(const struct jw_job_history *h, uint32_t need, size_t limit)
{
	uint64_t want = (uint64_t)used_of(h) + need, n = h->count + 1u;
	uint64_t full = (want + n - 1) / n * limit + need;
	uint64_t nb = h->size ? 2 * (uint64_t)h->size : 2 * (uint64_t)need;

	if(nb < MIN_BYTES)
		nb = MIN_BYTES;
	if(nb > full)
		nb = full;
	if(nb < (uint64_t)h->size + h->size / 4u)
		nb = (uint64_t)h->size + h->size / 4u;
	if(nb < want)
		nb = want;
	return (nb + 7) & ~(uint64_t)7;
}

/* Whole histories other than h, least recently added to first, until h
 * may grow by extra bytes within history_max_bytes. */
static void shed_others(struct jw_jobs *jobs, struct jw_job_history *h, uint64_t extra)
{
	uint64_t max = jobs->cfg.history_max_bytes;

	while(jobs->history_bytes + extra > max && jobs->history_lru != h) {
		struct jw_job_history *old = jobs->history_lru;

		jobs->history_shed += old->count;
		jw_jobs__history_free(jobs, old->job);
	}
}

/* Bytes h's buffer may have within history_max_bytes (rounded down to
 * 8), the other histories as they are. */
static uint64_t room_for(const struct jw_jobs *jobs, const struct jw_job_history *h)
{
	size_t max = jobs->cfg.history_max_bytes, others = jobs->history_bytes - h->size;

	return others < max ? (max - others) & ~(uint64_t)7 : 0;
}

/*
 * Room in h's buffer for an entry of need bytes, its offset: its oldest
 * entries go when the table's bound leaves no room to grow (the other
 * histories going first, whole), or past 4 GiB. NO_ROOM when out of
 * memory.
 */
static uint32_t make_room(
        struct jw_jobs *jobs, struct jw_job_history *h, uint32_t need, size_t limit)
{
	uint32_t at;

	while((at = room_at(h, need)) == NO_ROOM) {
		uint64_t nb = next_size(h, need, limit), want = (uint64_t)used_of(h) + need;
		/* Less is not worth moving every entry for. */
		uint64_t least = (uint64_t)h->size + h->size / 8u;

		if(least < want)
			least = want;
		if(jobs->cfg.history_max_bytes) {
			uint64_t room;

			if(nb > h->size)
				shed_others(jobs, h, least - h->size);
			room = room_for(jobs, h);
			if(nb > room)
				nb = room;
			if(nb < least) {
				if(h->count > 0) {
					shed_oldest(jobs, h);
					continue;
				}
				/* Alone: its newest event at least. */
				nb = want;
			}
		}
		if(nb > MAX_BYTES) {
			if(want > MAX_BYTES) {
				drop_oldest(jobs, h); /* h->count > 0: need <= MAX_BYTES */
				continue;
			}
			nb = MAX_BYTES;
		}
		if(!relocate(jobs, h, (uint32_t)nb))
			return NO_ROOM;
	}
	return at;
}

/* Back within history_max_bytes after h grew its slots or was made:
 * whole histories, least recently added to first, then the oldest
 * events of h, the one just added to (which keeps its newest event at
 * least), its buffer shrunk to what is left. */
__attribute__((noinline)) static void shed(struct jw_jobs *jobs, struct jw_job_history *h)
{
	uint64_t room;
	uint32_t nb;

	shed_others(jobs, h, 0);
	if(jobs->history_bytes <= jobs->cfg.history_max_bytes)
		return;
	room = room_for(jobs, h);
	while(h->count > 1 && used_of(h) > room)
		shed_oldest(jobs, h);
	nb = room > used_of(h) ? (uint32_t)room : used_of(h);
	/* Out of memory it stays over the bound until its next event. */
	if(nb < h->size)
		(void)relocate(jobs, h, nb);
}

/* A new, empty history for j: NULL when out of memory. */
__attribute__((noinline)) static struct jw_job_history *history_new(
        struct jw_jobs *jobs, struct jw_job *j)
{
	struct jw_job_history *h = jw_jobs__alloc(jobs, sizeof(*h));

	if(!h)
		return NULL;
	h->job = j;
	jobs->history_bytes += sizeof(*h);
	j->history = h;
	return h;
}

/* Room for one more entry of need bytes when h has no free slot or its
 * buffer no room: its offset, or NO_ROOM when out of memory. */
__attribute__((noinline)) static uint32_t make_space(
        struct jw_jobs *jobs, struct jw_job_history *h, uint32_t need, size_t limit)
{
	if(!grow_slots(jobs, h, limit))
		return NO_ROOM;
	return make_room(jobs, h, need, limit);
}

int jw_jobs_history_add(
        struct jw_jobs *jobs, struct jw_job *j, const char *type, const void *event, size_t len)
{
	size_t limit = jobs->cfg.history_events, tlen;
	struct jw_job_history *h = j->history;
	struct jw_history_entry *en;
	uint32_t need, at;

	if(limit == 0)
		return 0;
	tlen = strlen(type);
	if(tlen > UINT8_MAX || len > MAX_BYTES - sizeof(*en) - UINT8_MAX - 9)
		goto lost;
	need = entry_size(tlen, len);
	if(!h && !(h = history_new(jobs, j)))
		return -1;
	if(h->count == limit) {
		/* Full: the oldest goes. Once a turn of the ring, a buffer
		 * four times larger than its entries (its events got smaller)
		 * is halved. */
		drop_oldest(jobs, h);
		if(h->head == 0 && used_of(h) < h->small)
			(void)relocate(jobs, h, (h->size / 2u) & ~(uint32_t)7);
		at = room_at(h, need);
	} else {
		at = h->count < h->cap ? room_at(h, need) : NO_ROOM;
	}
	/* Mostly there is room: nothing moves, nothing is allocated. */
	if(at == NO_ROOM && (at = make_space(jobs, h, need, limit)) == NO_ROOM)
		goto lost;
	en = entry_at(h, at);
	en->seq = j->seq;
	en->len = (uint32_t)len;
	en->attempt = (uint16_t)(j->retries + 1); /* the job's attempt */
	en->type_len = (uint8_t)tlen;
	en->pad = 0;
	memcpy(en->data, type, tlen + 1);
	if(len)
		memcpy(en->data + tlen + 1, event, len);
	en->data[tlen + 1 + len] = '\0';
	if(at != h->end && h->count)
		h->wrap = h->end; /* the newest start again at 0 */
	h->end = at + need;
	h->off[h->tail] = at;
	h->tail = next_slot(h, h->tail);
	h->count++;
	jobs->history_events++;
	lru_touch(jobs, h);
	if(jobs->history_bytes > jobs->cfg.history_max_bytes && jobs->cfg.history_max_bytes)
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
	size_t slot;

	if(!h || i >= h->count)
		return false;
	slot = h->head + i;
	en = entry_at(h, h->off[slot >= h->cap ? slot - h->cap : slot]);
	out->seq = en->seq;
	out->attempt = en->attempt;
	out->type = en->data;
	out->event = en->data + en->type_len + 1;
	out->len = en->len;
	return true;
}
