/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The job table's writer thread (see persist.h): the broker thread drops
 * records into a pending map under a mutex; the writer swaps the whole map
 * out, appends it to the log unlocked, syncs per policy and compacts the
 * log when it has grown. The mutex is never held across I/O, so a slow or
 * failing disk cannot stall the broker.
 *
 * Records flow pending (shared, locked) -> batch (writer) -> unsynced
 * (writer, appended but not yet fdatasync'd) -> freed. Each stage is a map
 * keyed by job key holding only the newest record, so memory is bounded by
 * the number of distinct keys however fast the broker puts. A failed append
 * leaves the record in batch; a failed fdatasync moves unsynced back into
 * batch (the kernel may have dropped those pages: on Linux a failed fsync
 * can mark them clean), and both are retried with backoff.
 */
#include "persist.h"
#include "threads.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "kvlog.h"
#include "quarantine.h"
#include "util/hash.h"

#define SYNC_INTERVAL_MS 100
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define COMPACT_MIN_BYTES (8u * 1024u * 1024u)
#define COMPACT_GROWTH 3u
#define COMPACT_RETRY_MS 60000 /* after a failed compaction */
#define LOG_NAME "jobs.log"

/* One record: key, NUL, then the value, in a single allocation. */
struct rec {
	struct rec *next; /* hash chain */
	uint64_t hash;
	size_t len;
	bool del;
	unsigned char *val; /* into key[]; never NULL, even for len 0 */
	char key[];
};

/*
 * Chained hash map of records by key. nb is 0 or a power of two. The one
 * place that does not use util/htab.h, on purpose: once a chained map has
 * buckets it takes every further record (a failed growth only lengthens
 * chains), so the writer thread, which moves records between maps after
 * a sync error or a swap, never holds a record it cannot put back; an
 * open-addressing table that cannot grow has no such room.
 */
struct rec_map {
	struct rec **b;
	size_t nb;
	size_t count;
};

/* State only the writer thread touches (and _stop after the join). */
struct writer {
	struct jw_kvlog *log;    /* NULL after a failed (re)open */
	struct rec_map batch;    /* to append */
	struct rec_map unsynced; /* appended, not yet synced (ALWAYS, INTERVAL) */
	bool dirty;              /* NEVER: appended since the last sync */
	int64_t sync_due_ms;     /* INTERVAL: when unsynced must be synced */
	uint64_t compact_base;   /* log size after open or the last compaction */
	int64_t compact_not_before_ms;
};

struct jw_persist {
	char *path;
	enum jw_fsync_policy policy;
	uint64_t seed; /* hash seed: keys come from clients */

	pthread_mutex_t lock;
	pthread_cond_t wake; /* writer waits here: work, stop, timers */
	pthread_cond_t done; /* _stop waits here for writer_done */
	pthread_t thread;
	/* Under lock. */
	struct rec_map pending;
	bool stopping;
	bool writer_done;

	atomic_bool abort; /* read by the writer between records */
	struct writer w;

	/* Stats, written by the writer. */
	atomic_uint_fast64_t batch_count;
	atomic_uint_fast64_t unsynced_count;
	atomic_uint_fast64_t records_written;
	atomic_uint_fast64_t bytes_written;
	atomic_uint_fast64_t log_bytes;
	atomic_uint_fast64_t syncs;
	atomic_uint_fast64_t compactions;
	atomic_uint_fast64_t write_errors;
	atomic_uint_fast64_t compact_errors;
	atomic_int last_errno;
	atomic_bool failing;

	/* Failure injection (persist.h). */
	atomic_uint fail_writes;
	atomic_uint fail_syncs;

	/* Damage the writer met in the log (reopen, compaction), and the log
	 * lines about it for the broker thread. */
	struct jw_damage_counts damage;
	struct jw_notes notes;
};

/* ---- time ---- */

/* ---- records and maps ---- */

static struct rec *rec_new(uint64_t seed, const char *key, const void *val, size_t len, bool del)
{
	size_t klen;
	struct rec *r;

	if(!key || (!val && len > 0 && !del)) {
		errno = EINVAL;
		return NULL;
	}
	klen = strlen(key);
	if(klen == 0 || klen > JW_KVLOG_KEY_MAX || len > JW_KVLOG_VAL_MAX) {
		/* Refused here: the log would refuse it on every retry. */
		errno = EINVAL;
		return NULL;
	}
	if(del) {
		len = 0;
	}
	r = malloc(sizeof(*r) + klen + 1 + len);
	if(!r) {
		errno = ENOMEM;
		return NULL;
	}
	r->next = NULL;
	r->hash = jw_hash(key, klen, seed);
	r->len = len;
	r->del = del;
	memcpy(r->key, key, klen + 1);
	r->val = (unsigned char *)r->key + klen + 1;
	if(len > 0) {
		memcpy(r->val, val, len);
	}
	return r;
}

static void map_free(struct rec_map *m)
{
	for(size_t i = 0; i < m->nb; i++) {
		struct rec *r = m->b[i];
		while(r) {
			struct rec *next = r->next;
			free(r);
			r = next;
		}
	}
	free(m->b);
	memset(m, 0, sizeof(*m));
}

/* Makes room for one more record. Returns -1 only when the map has no
 * buckets at all and none can be allocated; a failed growth just leaves
 * longer chains. */
static int map_reserve(struct rec_map *m)
{
	size_t nb;
	struct rec **b;

	if(m->nb > 0 && m->count < m->nb) {
		return 0;
	}
	nb = m->nb ? m->nb * 2 : 64;
	b = calloc(nb, sizeof(*b));
	if(!b) {
		return m->nb > 0 ? 0 : -1;
	}
	for(size_t i = 0; i < m->nb; i++) {
		struct rec *r = m->b[i];
		while(r) {
			struct rec *next = r->next;
			size_t j = (size_t)r->hash & (nb - 1);
			r->next = b[j];
			b[j] = r;
			r = next;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
	return 0;
}

static struct rec **map_slot(struct rec_map *m, const struct rec *r)
{
	struct rec **pp = &m->b[(size_t)r->hash & (m->nb - 1)];

	while(*pp && ((*pp)->hash != r->hash || strcmp((*pp)->key, r->key) != 0)) {
		pp = &(*pp)->next;
	}
	return pp;
}

/* Inserts r (the map must have buckets: map_reserve) and returns the
 * record of the same key it replaced, or NULL. */
static struct rec *map_put(struct rec_map *m, struct rec *r)
{
	struct rec **pp = map_slot(m, r);
	struct rec *old = *pp;

	if(old) {
		r->next = old->next;
		old->next = NULL;
	} else {
		r->next = NULL;
		m->count++;
	}
	*pp = r;
	return old;
}

/* Removes and returns the record of r's key, or NULL. */
static struct rec *map_remove(struct rec_map *m, const struct rec *r)
{
	struct rec **pp, *found;

	if(m->nb == 0) {
		return NULL;
	}
	pp = map_slot(m, r);
	found = *pp;
	if(found) {
		*pp = found->next;
		found->next = NULL;
		m->count--;
	}
	return found;
}

/* Some record of m, left in place, or NULL; *cursor remembers where the
 * scan got to (start at 0). */
static struct rec *map_first(const struct rec_map *m, size_t *cursor)
{
	while(*cursor < m->nb) {
		if(m->b[*cursor]) {
			return m->b[*cursor];
		}
		(*cursor)++;
	}
	return NULL;
}

/* ---- shared state: the broker side ---- */

static int enqueue(struct jw_persist *p, struct rec *r)
{
	struct rec *old = NULL;
	bool wake = false;
	int rc = -1;

	pthread_mutex_lock(&p->lock);
	if(map_reserve(&p->pending) == 0) {
		wake = p->pending.count == 0;
		old = map_put(&p->pending, r);
		r = NULL;
		rc = 0;
	}
	pthread_mutex_unlock(&p->lock);
	/* Only the empty -> non-empty transition needs the writer: otherwise
	 * it has been woken already and will swap this record out with the
	 * rest. */
	if(wake) {
		pthread_cond_signal(&p->wake);
	}
	free(old);
	if(r) {
		free(r);
		errno = ENOMEM;
	}
	return rc;
}

int jw_persist_put(struct jw_persist *p, const char *key, const void *rec, size_t len)
{
	struct rec *r;

	if(!p) {
		errno = EINVAL;
		return -1;
	}
	r = rec_new(p->seed, key, rec, len, false);
	return r ? enqueue(p, r) : -1;
}

int jw_persist_delete(struct jw_persist *p, const char *key)
{
	struct rec *r;

	if(!p) {
		errno = EINVAL;
		return -1;
	}
	r = rec_new(p->seed, key, NULL, 0, true);
	return r ? enqueue(p, r) : -1;
}

void jw_persist_stats(struct jw_persist *p, struct jw_persist_stats *out)
{
	memset(out, 0, sizeof(*out));
	if(!p) {
		return;
	}
	/* Both halves under the lock: the writer moves records from one to
	 * the other under it, so a record is never counted twice or not at
	 * all. */
	pthread_mutex_lock(&p->lock);
	out->pending = p->pending.count + atomic_load_explicit(&p->batch_count, memory_order_relaxed);
	pthread_mutex_unlock(&p->lock);
	out->unsynced = atomic_load_explicit(&p->unsynced_count, memory_order_relaxed);
	out->records_written = atomic_load_explicit(&p->records_written, memory_order_relaxed);
	out->bytes_written = atomic_load_explicit(&p->bytes_written, memory_order_relaxed);
	out->log_bytes = atomic_load_explicit(&p->log_bytes, memory_order_relaxed);
	out->syncs = atomic_load_explicit(&p->syncs, memory_order_relaxed);
	out->compactions = atomic_load_explicit(&p->compactions, memory_order_relaxed);
	out->write_errors = atomic_load_explicit(&p->write_errors, memory_order_relaxed);
	out->compact_errors = atomic_load_explicit(&p->compact_errors, memory_order_relaxed);
	out->last_errno = atomic_load_explicit(&p->last_errno, memory_order_relaxed);
	out->failing = atomic_load_explicit(&p->failing, memory_order_relaxed);
	out->damaged = atomic_load(&p->damage.stretches);
	out->damaged_records = atomic_load(&p->damage.records);
	out->damaged_bytes = atomic_load(&p->damage.bytes);
	out->quarantined = atomic_load(&p->damage.quarantined);
	out->unkept = atomic_load(&p->damage.unkept);
}

size_t jw_persist_notes(struct jw_persist *p, struct jw_note *out, size_t max, uint64_t *dropped)
{
	*dropped = 0;
	return p ? jw_notes_take(&p->notes, out, max, dropped) : 0;
}

/*
 * The writer thread met a damaged stretch of the log (reopening it after
 * a failure, or compacting it): keep its bytes, and count and report it
 * unless an identical copy was already kept, which means it was reported
 * before (at load, or by an earlier compaction of this run or a previous
 * one). Compaction drops the stretch from the log right after this.
 */
static int writer_damage_cb(const struct jw_kvlog_damage *d, void *arg)
{
	struct jw_persist *p = arg;
	enum jw_note_level level;
	char line[JW_NOTE_LEN];
	int kept = jw_worker_keep_damage(p->path, d, true, line, sizeof(line), &level);

	if(kept != JW_QUARANTINE_ALREADY) {
		jw_damage_count(&p->damage, d, kept);
		jw_notes_add(&p->notes, level, line);
	}
	return 0;
}

static bool take_injected(atomic_uint *counter)
{
	unsigned n = atomic_load(counter);

	while(n > 0) {
		if(atomic_compare_exchange_weak(counter, &n, n - 1)) {
			return true;
		}
	}
	return false;
}

void jw_persist__fail_next_writes(struct jw_persist *p, unsigned n)
{
	atomic_store(&p->fail_writes, n);
}

void jw_persist__fail_next_syncs(struct jw_persist *p, unsigned n)
{
	atomic_store(&p->fail_syncs, n);
}

/* ---- the writer thread ---- */

static void note_error(struct jw_persist *p, int errnum)
{
	atomic_store_explicit(&p->last_errno, errnum ? errnum : EIO, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->write_errors, 1, memory_order_relaxed);
}

static void update_counts(struct jw_persist *p)
{
	struct writer *w = &p->w;

	atomic_store_explicit(&p->batch_count, w->batch.count, memory_order_relaxed);
	atomic_store_explicit(&p->unsynced_count, w->unsynced.count, memory_order_relaxed);
	atomic_store_explicit(&p->log_bytes, jw_kvlog_size(w->log), memory_order_relaxed);
}

static int ensure_open(struct jw_persist *p)
{
	char err[256];

	if(p->w.log) {
		return 0;
	}
	/* The error text is dropped: stats carry the errno, and the broker
	 * thread names the file when it logs. */
	if(jw_kvlog_open(p->path, &p->w.log, writer_damage_cb, p, err, sizeof(err)) != 0) {
		note_error(p, errno);
		return -1;
	}
	return 0;
}

/* Moves everything in src into dst; src's records are newer. */
static void merge_newer(struct rec_map *dst, struct rec_map *src)
{
	for(size_t i = 0; i < src->nb; i++) {
		struct rec *r = src->b[i];
		while(r) {
			struct rec *next = r->next;
			map_reserve(dst);
			free(map_put(dst, r));
			r = next;
		}
		src->b[i] = NULL;
	}
	free(src->b);
	memset(src, 0, sizeof(*src));
}

/* After a failed sync: what was appended but not synced goes back into the
 * batch, unless the batch already holds a newer record of the key. */
static void requeue_unsynced(struct writer *w)
{
	for(size_t i = 0; i < w->unsynced.nb; i++) {
		struct rec *r = w->unsynced.b[i];
		while(r) {
			struct rec *next = r->next;
			struct rec **pp = map_slot(&w->batch, r);
			if(*pp) {
				free(r);
			} else {
				map_reserve(&w->batch);
				map_put(&w->batch, r);
			}
			r = next;
		}
		w->unsynced.b[i] = NULL;
	}
	w->unsynced.count = 0;
}

static void clear_unsynced(struct writer *w)
{
	for(size_t i = 0; i < w->unsynced.nb; i++) {
		struct rec *r = w->unsynced.b[i];
		while(r) {
			struct rec *next = r->next;
			free(r);
			r = next;
		}
		w->unsynced.b[i] = NULL;
	}
	w->unsynced.count = 0;
}

/* Appends the batch. Returns 0 when it is empty, 1 when told to abort, -1
 * on an I/O error (the failed record and the rest stay in the batch). */
static int write_batch(struct jw_persist *p)
{
	struct writer *w = &p->w;
	size_t cursor = 0;
	struct rec *r;

	while((r = map_first(&w->batch, &cursor)) != NULL) {
		uint64_t before;

		if(atomic_load_explicit(&p->abort, memory_order_relaxed)) {
			return 1;
		}
		if(ensure_open(p) != 0) {
			return -1;
		}
		before = jw_kvlog_size(w->log);
		if(take_injected(&p->fail_writes)) {
			errno = ENOSPC;
			note_error(p, errno);
			return -1;
		}
		if(jw_kvlog_append(w->log, r->key, r->del ? NULL : r->val, r->len) != 0) {
			note_error(p, errno);
			return -1;
		}
		map_remove(&w->batch, r);
		atomic_fetch_add_explicit(&p->records_written, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(
		        &p->bytes_written, jw_kvlog_size(w->log) - before, memory_order_relaxed);
		if(p->policy == JW_FSYNC_NEVER) {
			/* Nothing to redo after a sync error: the kernel owns it now. */
			w->dirty = true;
			free(r);
			continue;
		}
		if(w->unsynced.count == 0) {
			w->sync_due_ms = jw_clock_ms(CLOCK_MONOTONIC) + SYNC_INTERVAL_MS;
		}
		map_reserve(&w->unsynced);
		free(map_put(&w->unsynced, r));
	}
	return 0;
}

static int sync_log(struct jw_persist *p)
{
	struct writer *w = &p->w;

	if(ensure_open(p) != 0) {
		goto fail;
	}
	if(take_injected(&p->fail_syncs)) {
		errno = EIO;
		note_error(p, errno);
		goto fail;
	}
	if(jw_kvlog_sync(w->log) != 0) {
		note_error(p, errno);
		goto fail;
	}
	atomic_fetch_add_explicit(&p->syncs, 1, memory_order_relaxed);
	clear_unsynced(w);
	w->dirty = false;
	return 0;
fail:
	requeue_unsynced(w);
	return -1;
}

/* Rewrites the log to its live records. Called with an empty batch; the
 * rewrite is fsync'd, so whatever was appended but unsynced is durable
 * afterwards. A failure keeps the old log. */
static void compact(struct jw_persist *p)
{
	struct writer *w = &p->w;
	char err[256];
	int rc, saved;

	jw_kvlog_close(w->log);
	w->log = NULL;
	rc = jw_kvlog_compact(p->path, writer_damage_cb, p, NULL, err, sizeof(err));
	saved = errno;
	if(rc == 0) {
		atomic_fetch_add_explicit(&p->compactions, 1, memory_order_relaxed);
		clear_unsynced(w);
		w->dirty = false;
	} else {
		/* Typically no room for the copy: keep the threshold, try again
		 * later rather than after every batch. */
		atomic_fetch_add_explicit(&p->compact_errors, 1, memory_order_relaxed);
		atomic_store_explicit(&p->last_errno, saved ? saved : EIO, memory_order_relaxed);
		w->compact_not_before_ms = jw_clock_ms(CLOCK_MONOTONIC) + COMPACT_RETRY_MS;
	}
	/* A failed reopen is counted as a write error; the next append or
	 * sync retries it. Without a size to measure, compaction falls back
	 * to the 8 MiB threshold. */
	if(ensure_open(p) != 0) {
		if(rc == 0) {
			w->compact_base = 0;
		}
		return;
	}
	if(rc == 0) {
		w->compact_base = jw_kvlog_size(w->log);
	}
}

static bool compaction_due(const struct jw_persist *p)
{
	const struct writer *w = &p->w;
	uint64_t limit = w->compact_base * COMPACT_GROWTH;

	if(limit < COMPACT_MIN_BYTES) {
		limit = COMPACT_MIN_BYTES;
	}
	return w->log && jw_kvlog_size(w->log) > limit &&
	       jw_clock_ms(CLOCK_MONOTONIC) >= w->compact_not_before_ms;
}

/* One pass unlocked: append the batch, sync as the policy (or a stop)
 * asks, compact if due. Returns 0, or -1 after an I/O error. */
static int writer_round(struct jw_persist *p, bool stopping)
{
	struct writer *w = &p->w;
	int rc = write_batch(p);

	if(rc != 0) {
		return rc < 0 ? -1 : 0; /* aborting: no sync, no compaction */
	}
	switch(p->policy) {
		case JW_FSYNC_ALWAYS:
			if(w->unsynced.count > 0 && sync_log(p) != 0) {
				return -1;
			}
			break;
		case JW_FSYNC_INTERVAL:
			if(w->unsynced.count > 0 &&
			        (stopping || jw_clock_ms(CLOCK_MONOTONIC) >= w->sync_due_ms) &&
			        sync_log(p) != 0) {
				return -1;
			}
			break;
		case JW_FSYNC_NEVER:
			if(w->dirty && stopping && sync_log(p) != 0) {
				return -1;
			}
			break;
	}
	if(!stopping && compaction_due(p)) {
		compact(p);
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct jw_persist *p = arg;
	struct writer *w = &p->w;
	int64_t backoff_ms = 0, retry_at_ms = 0; /* backoff 0: not failing */
	bool retried_since_stop = false;

	pthread_mutex_lock(&p->lock);
	for(;;) {
		struct rec_map incoming;
		bool stopping;
		int rc;

		/* Sleep until there is work; every timed wait uses the monotonic
		 * clock the condition variable was set up with. */
		for(;;) {
			int64_t now = jw_clock_ms(CLOCK_MONOTONIC);
			int64_t until = -1;

			if(atomic_load(&p->abort)) {
				goto out;
			}
			stopping = p->stopping;
			if(backoff_ms > 0) {
				/* A stop request gets one immediate retry; after that
				 * the backoff holds until the stop deadline aborts. */
				if(now >= retry_at_ms || (stopping && !retried_since_stop)) {
					break;
				}
				until = retry_at_ms;
			} else if(p->pending.count > 0) {
				break;
			} else if(w->unsynced.count > 0 || w->dirty) {
				if(stopping || p->policy == JW_FSYNC_ALWAYS) {
					break;
				}
				if(p->policy == JW_FSYNC_INTERVAL) {
					if(now >= w->sync_due_ms) {
						break;
					}
					until = w->sync_due_ms;
				}
			}
			if(until < 0 && stopping) {
				goto out; /* everything written and synced */
			}
			if(until >= 0) {
				struct timespec ts = jw_worker_mono_abs(until);
				pthread_cond_timedwait(&p->wake, &p->lock, &ts);
			} else {
				pthread_cond_wait(&p->wake, &p->lock);
			}
		}
		if(stopping) {
			retried_since_stop = true;
		}
		/* Swap the whole pending set out: O(1) under the lock. Count it as
		 * the writer's before unlocking so stats never see it vanish. */
		incoming = p->pending;
		memset(&p->pending, 0, sizeof(p->pending));
		atomic_store_explicit(
		        &p->batch_count, w->batch.count + incoming.count, memory_order_relaxed);
		pthread_mutex_unlock(&p->lock);

		if(incoming.count == 0) {
			map_free(&incoming);
		} else if(w->batch.count == 0) {
			/* Adopt its buckets: the batch must keep some (see start). */
			map_free(&w->batch);
			w->batch = incoming;
		} else {
			merge_newer(&w->batch, &incoming);
		}
		rc = writer_round(p, stopping);
		update_counts(p);
		atomic_store_explicit(&p->failing, rc != 0, memory_order_relaxed);

		pthread_mutex_lock(&p->lock);
		if(rc == 0) {
			backoff_ms = 0;
		} else {
			backoff_ms = backoff_ms ? backoff_ms * 2 : BACKOFF_FIRST_MS;
			if(backoff_ms > BACKOFF_MAX_MS) {
				backoff_ms = BACKOFF_MAX_MS;
			}
			retry_at_ms = jw_clock_ms(CLOCK_MONOTONIC) + backoff_ms;
		}
	}
out:
	p->writer_done = true;
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* ---- start, load, stop ---- */

static void set_err(char *err, size_t errlen, const char *what, const char *path, int errnum)
{
	char msg[128];

	if(!err || errlen == 0) {
		return;
	}
	if(strerror_r(errnum, msg, sizeof(msg)) != 0) {
		snprintf(msg, sizeof(msg), "error %d", errnum);
	}
	snprintf(err, errlen, "%s %s: %s", what, path, msg);
}

/* Creates dir (0700) unless it exists; it must be a directory. */
static int ensure_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if(!dir || !*dir) {
		set_err(err, errlen, "data directory", "(empty)", EINVAL);
		return -1;
	}
	if(mkdir(dir, 0700) == 0) {
		return 0;
	}
	if(errno != EEXIST) {
		set_err(err, errlen, "create data directory", dir, errno);
		return -1;
	}
	if(stat(dir, &st) != 0) {
		set_err(err, errlen, "stat data directory", dir, errno);
		return -1;
	}
	if(!S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "data directory", dir, ENOTDIR);
		return -1;
	}
	return 0;
}

/* <dir>/jobs.log, malloc'd, or NULL. */
static char *log_path(const char *dir)
{
	size_t n = strlen(dir) + 1 + sizeof(LOG_NAME);
	char *path = malloc(n);

	if(path) {
		snprintf(path, n, "%s/%s", dir, LOG_NAME);
	}
	return path;
}

struct load_ctx {
	const char *path;
	int (*fn)(const char *key, const void *val, size_t len, void *arg);
	void (*on_note)(enum jw_note_level level, const char *text, void *arg);
	void *arg;
	struct jw_persist_load_stats *st;
};

/* A damaged stretch met at load (broker thread, before the writer runs):
 * kept without fsync (no disk sync on the broker thread; the writer's
 * first compaction syncs the copy it finds again), counted, reported. */
static int load_damage_cb(const struct jw_kvlog_damage *d, void *arg)
{
	struct load_ctx *c = arg;
	enum jw_note_level level;
	char line[JW_NOTE_LEN];
	int kept = jw_worker_keep_damage(c->path, d, false, line, sizeof(line), &level);

	c->st->damaged++;
	c->st->damaged_records += d->records;
	c->st->damaged_bytes += d->length;
	if(kept == JW_QUARANTINE_WRITTEN) {
		c->st->quarantined++;
	} else if(kept < 0) {
		c->st->unkept++;
	}
	if(c->on_note) {
		c->on_note(level, line, c->arg);
	}
	return 0;
}

static int load_record_cb(const char *key, const void *val, size_t len, void *arg)
{
	struct load_ctx *c = arg;

	return c->fn(key, val, len, c->arg);
}

int jw_persist_load(const char *data_dir,
        int (*fn)(const char *key, const void *val, size_t len, void *arg),
        void (*on_note)(enum jw_note_level level, const char *text, void *arg), void *arg,
        struct jw_persist_load_stats *st, char *err, size_t errlen)
{
	struct jw_persist_load_stats local;
	struct jw_kvlog_replay_stats rst;
	struct load_ctx c;
	char *path = NULL;
	int rc = -1;

	if(!st) {
		st = &local;
	}
	memset(st, 0, sizeof(*st));
	if(ensure_dir(data_dir, err, errlen) != 0) {
		goto out;
	}
	path = log_path(data_dir);
	if(!path) {
		set_err(err, errlen, "load", data_dir, ENOMEM);
		goto out;
	}
	c.path = path;
	c.fn = fn;
	c.on_note = on_note;
	c.arg = arg;
	c.st = st;
	rc = jw_kvlog_replay(path, load_record_cb, load_damage_cb, &c, &rst, err, errlen);
	st->records = rst.records;
	st->live = rst.live;
out:
	free(path);
	return rc;
}

static void persist_free(struct jw_persist *p)
{
	jw_kvlog_close(p->w.log);
	map_free(&p->w.batch);
	map_free(&p->w.unsynced);
	map_free(&p->pending);
	jw_notes_cleanup(&p->notes);
	pthread_cond_destroy(&p->done);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->path);
	free(p);
}

/* The writer's counters, all zero. */
static void init_counters(struct jw_persist *p)
{
	atomic_init(&p->abort, false);
	atomic_init(&p->batch_count, 0);
	atomic_init(&p->unsynced_count, 0);
	atomic_init(&p->records_written, 0);
	atomic_init(&p->bytes_written, 0);
	atomic_init(&p->log_bytes, 0);
	atomic_init(&p->syncs, 0);
	atomic_init(&p->compactions, 0);
	atomic_init(&p->write_errors, 0);
	atomic_init(&p->compact_errors, 0);
	atomic_init(&p->last_errno, 0);
	atomic_init(&p->failing, false);
	atomic_init(&p->fail_writes, 0);
	atomic_init(&p->fail_syncs, 0);
}

/* The lock and the two condition variables (timed waits on the monotonic
 * clock). 0, or -1 with err filled and nothing left to destroy. */
static int make_locks(struct jw_persist *p, const char *data_dir, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	int e;

	if((e = pthread_mutex_init(&p->lock, NULL)) != 0) {
		set_err(err, errlen, "start writer for", data_dir, e);
		return -1;
	}
	/* Timed waits measure against CLOCK_MONOTONIC: a wall-clock jump must
	 * not stretch the stop deadline or the sync interval. */
	if((e = pthread_condattr_init(&ca)) != 0) {
		pthread_mutex_destroy(&p->lock);
		set_err(err, errlen, "start writer for", data_dir, e);
		return -1;
	}
	e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if(e == 0 && (e = pthread_cond_init(&p->wake, &ca)) == 0) {
		if((e = pthread_cond_init(&p->done, &ca)) != 0) {
			pthread_cond_destroy(&p->wake);
		}
	}
	pthread_condattr_destroy(&ca);
	if(e != 0) {
		pthread_mutex_destroy(&p->lock);
		set_err(err, errlen, "start writer for", data_dir, e);
		return -1;
	}
	return 0;
}

int jw_persist_start(const char *data_dir, enum jw_fsync_policy policy, struct jw_persist **out,
        char *err, size_t errlen)
{
	struct jw_persist *p = NULL;
	sigset_t all, old;
	bool locks_made = false;
	int rc = -1, e;

	*out = NULL;
	if(policy != JW_FSYNC_ALWAYS && policy != JW_FSYNC_INTERVAL && policy != JW_FSYNC_NEVER) {
		set_err(err, errlen, "fsync policy for", data_dir ? data_dir : "(null)", EINVAL);
		return -1;
	}
	if(ensure_dir(data_dir, err, errlen) != 0) {
		return -1;
	}
	p = calloc(1, sizeof(*p));
	if(!p || !(p->path = log_path(data_dir))) {
		free(p);
		set_err(err, errlen, "start writer for", data_dir, ENOMEM);
		return -1;
	}
	p->policy = policy;
	p->seed = jw_hash_mix((uint64_t)jw_clock_ms(CLOCK_MONOTONIC) ^ (uint64_t)(uintptr_t)p);
	init_counters(p);
	jw_damage_counts_init(&p->damage);

	/* The writer's maps always have buckets, so moving records between
	 * them never needs an allocation that could fail. */
	if(map_reserve(&p->w.batch) != 0 || map_reserve(&p->w.unsynced) != 0) {
		set_err(err, errlen, "start writer for", data_dir, ENOMEM);
		goto out;
	}
	/* jw_persist_load has reported any damage already: this only cuts a
	 * damaged tail so appends follow the last good record. */
	if(jw_kvlog_open(p->path, &p->w.log, NULL, NULL, err, errlen) != 0) {
		goto out;
	}
	p->w.compact_base = jw_kvlog_size(p->w.log);
	atomic_store(&p->log_bytes, p->w.compact_base);

	if(make_locks(p, data_dir, err, errlen) != 0) {
		goto out;
	}
	jw_notes_init(&p->notes);
	locks_made = true;

	/* The writer blocks every signal, so they keep reaching the broker
	 * thread, whose main loop relies on them interrupting its wait. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&p->thread, NULL, writer_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if(e != 0) {
		set_err(err, errlen, "start writer for", data_dir, e);
		goto out;
	}
	*out = p;
	p = NULL;
	rc = 0;
out:
	if(p) {
		if(locks_made) {
			persist_free(p);
		} else {
			jw_kvlog_close(p->w.log);
			map_free(&p->w.batch);
			map_free(&p->w.unsynced);
			free(p->path);
			free(p);
		}
	}
	return rc;
}

void jw_persist_stop(struct jw_persist *p, int deadline_ms)
{
	if(!p) {
		return;
	}
	jw_worker_stop(
	        &p->lock, &p->wake, &p->done, &p->stopping, &p->writer_done, &p->abort, deadline_ms);
	pthread_join(p->thread, NULL);
	persist_free(p);
}
