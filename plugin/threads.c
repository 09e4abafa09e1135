/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* See threads.h. */
#include "threads.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kvlog.h"
#include "quarantine.h"

struct timespec jw_worker_mono_abs(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	return ts;
}

void jw_worker_stop(pthread_mutex_t *lock, pthread_cond_t *wake, pthread_cond_t *done,
        bool *stopping, const bool *finished, atomic_bool *abort, int deadline_ms)
{
	struct timespec ts =
	        jw_worker_mono_abs(jw_clock_ms(CLOCK_MONOTONIC) + (deadline_ms > 0 ? deadline_ms : 0));

	pthread_mutex_lock(lock);
	*stopping = true;
	pthread_cond_broadcast(wake);
	while(!*finished) {
		if(pthread_cond_timedwait(done, lock, &ts) == ETIMEDOUT) {
			break;
		}
	}
	if(!*finished) {
		/* Past the deadline: make the thread give up at its next check
		 * rather than leave it running in code about to be unloaded. */
		atomic_store(abort, true);
		pthread_cond_broadcast(wake);
	}
	pthread_mutex_unlock(lock);
}

void jw_notes_init(struct jw_notes *q)
{
	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
}

void jw_notes_cleanup(struct jw_notes *q)
{
	pthread_mutex_destroy(&q->lock);
}

void jw_notes_add(struct jw_notes *q, enum jw_note_level level, const char *text)
{
	pthread_mutex_lock(&q->lock);
	if(q->n < JW_NOTES_MAX) {
		q->v[q->n].level = level;
		snprintf(q->v[q->n].text, sizeof(q->v[q->n].text), "%s", text);
		q->n++;
	} else {
		q->dropped++;
	}
	pthread_mutex_unlock(&q->lock);
}

size_t jw_notes_take(struct jw_notes *q, struct jw_note *out, size_t max, uint64_t *dropped)
{
	size_t n;

	pthread_mutex_lock(&q->lock);
	n = q->n < max ? q->n : max;
	memcpy(out, q->v, n * sizeof(*out));
	memmove(q->v, q->v + n, (q->n - n) * sizeof(*q->v));
	q->n -= n;
	*dropped = q->dropped;
	q->dropped = 0;
	pthread_mutex_unlock(&q->lock);
	return n;
}

void jw_damage_counts_init(struct jw_damage_counts *c)
{
	atomic_init(&c->stretches, 0);
	atomic_init(&c->records, 0);
	atomic_init(&c->bytes, 0);
	atomic_init(&c->quarantined, 0);
	atomic_init(&c->unkept, 0);
}

void jw_damage_count(struct jw_damage_counts *c, const struct jw_kvlog_damage *d, int kept)
{
	atomic_fetch_add(&c->stretches, 1);
	atomic_fetch_add(&c->records, d->records);
	atomic_fetch_add(&c->bytes, d->length);
	if(kept == JW_QUARANTINE_WRITTEN) {
		atomic_fetch_add(&c->quarantined, 1);
	} else if(kept < 0) {
		atomic_fetch_add(&c->unkept, 1);
	}
}

int jw_worker_keep_damage(const char *path, const struct jw_kvlog_damage *d, bool sync, char *line,
        size_t linelen, enum jw_note_level *level)
{
	char kept[4096], err[512];
	int rc = jw_quarantine_copy(
	        path, d->offset, d->length, sync, kept, sizeof(kept), err, sizeof(err));
	const char *recs = d->records == 1 ? "record" : "records";

	if(d->tail) {
		/* Also what a power cut during an append leaves: a warning. */
		*level = JW_NOTE_WARNING;
		snprintf(line, linelen,
		        "cut %" PRIu64 " bytes at offset %" PRIu64 " of %s that are not a complete record "
		        "(a write cut short by a crash, or damage to the last %s: about %" PRIu64
		        " %s); %s%s",
		        d->length, d->offset, path, recs, d->records, recs,
		        rc == JW_QUARANTINE_WRITTEN   ? "kept in "
		        : rc == JW_QUARANTINE_ALREADY ? "already kept in "
		                                      : "",
		        rc >= 0 ? kept : err);
	} else {
		*level = JW_NOTE_ERROR;
		snprintf(line, linelen,
		        "skipped %" PRIu64 " damaged bytes at offset %" PRIu64 " of %s (about %" PRIu64
		        " %s lost); "
		        "reading resumed at offset %" PRIu64 "; %s%s",
		        d->length, d->offset, path, d->records, recs, d->offset + d->length,
		        rc == JW_QUARANTINE_WRITTEN   ? "kept in "
		        : rc == JW_QUARANTINE_ALREADY ? "already kept in "
		                                      : "",
		        rc >= 0 ? kept : err);
	}
	return rc;
}
