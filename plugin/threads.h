/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * What the plugin's background threads (the job-log writer, persist.c; the
 * journal and its sync thread, journal.c) share: a monotonic clock for
 * pthread_cond_timedwait on CLOCK_MONOTONIC condition variables, the
 * stop-with-deadline handshake, a bounded queue of log lines for the
 * broker thread to write (the threads may not call the mosquitto API),
 * and what to do with a damaged stretch of an on-disk file (keep its bytes
 * in a quarantine file, count it, describe it). No mosquitto API: both
 * files are also compiled straight into their unit tests.
 */
#ifndef JW_THREADS_H
#define JW_THREADS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/clock.h"

struct jw_kvlog_damage;

/* An absolute CLOCK_MONOTONIC time (ms, as jw_clock_ms reads it) for
 * pthread_cond_timedwait. */
struct timespec jw_worker_mono_abs(int64_t ms);

/*
 * The shutdown handshake, called by the thread's owner: sets *stopping
 * under lock and wakes the thread (wake), then waits on done until
 * *finished or deadline_ms pass. Past the deadline it sets *abort, which
 * the thread checks between operations, and wakes it again. Returns with
 * lock released; the caller then joins the thread.
 */
void jw_worker_stop(pthread_mutex_t *lock, pthread_cond_t *wake, pthread_cond_t *done,
        bool *stopping, const bool *finished, atomic_bool *abort, int deadline_ms);

enum jw_note_level {
	JW_NOTE_INFO = 0,
	JW_NOTE_WARNING,
	JW_NOTE_ERROR,
};

#define JW_NOTES_MAX 16
#define JW_NOTE_LEN 1024

struct jw_note {
	enum jw_note_level level;
	char text[JW_NOTE_LEN]; /* without the "jobwire: " prefix */
};

/* Log lines a worker thread leaves for the broker thread's tick. Bounded:
 * when JW_NOTES_MAX lines wait, further ones are only counted. */
struct jw_notes {
	pthread_mutex_t lock;
	struct jw_note v[JW_NOTES_MAX];
	size_t n;
	uint64_t dropped;
};

void jw_notes_init(struct jw_notes *q);
void jw_notes_cleanup(struct jw_notes *q);

/* Any thread: queues one line (text copied, cut at JW_NOTE_LEN). */
void jw_notes_add(struct jw_notes *q, enum jw_note_level level, const char *text);

/* Any thread: moves up to max lines, oldest first, into out and returns
 * their count; *dropped gets the number of lines dropped since the last
 * call (and is reset). */
size_t jw_notes_take(struct jw_notes *q, struct jw_note *out, size_t max, uint64_t *dropped);

/* Damage found in on-disk files since start. */
struct jw_damage_counts {
	atomic_uint_fast64_t stretches;   /* damaged stretches skipped */
	atomic_uint_fast64_t records;     /* records they held (about) */
	atomic_uint_fast64_t bytes;       /* their bytes */
	atomic_uint_fast64_t quarantined; /* quarantine files written */
	atomic_uint_fast64_t unkept;      /* stretches that could not be kept */
};

void jw_damage_counts_init(struct jw_damage_counts *c);

/* Adds stretch d to c; kept is what jw_worker_keep_damage returned. */
void jw_damage_count(struct jw_damage_counts *c, const struct jw_kvlog_damage *d, int kept);

/*
 * Keeps the bytes of the damaged stretch d of path in a quarantine file
 * (core/disk/quarantine.h; fsync'd when sync, so never on the broker thread
 * with sync) and writes the log line saying so into line (without the
 * "jobwire: " prefix): the file, the offset, the byte count, about how
 * many records, and where the bytes are kept. Returns what
 * jw_quarantine_copy returned (JW_QUARANTINE_WRITTEN, _ALREADY, or -1:
 * the line says why they are not kept). *level gets the line's level.
 */
int jw_worker_keep_damage(const char *path, const struct jw_kvlog_damage *d, bool sync, char *line,
        size_t linelen, enum jw_note_level *level);

#endif
