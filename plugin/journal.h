/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The PostgreSQL journal of finished jobs (docs/journal.md): a spool of
 * segment files under <data_dir>/journal that the broker thread appends to,
 * and a journal thread that owns the PGconn, copies the spool into
 * PostgreSQL in batches and advances a durable checkpoint after each
 * commit. A sync thread fdatasyncs the spool per the fsync policy. No
 * mosquitto API here (it is not thread-safe): the broker side polls
 * jw_journal_stats from its tick and logs.
 *
 * Threads. _open, _append, _stop run on one thread (the broker's); _stats
 * from any thread. _append never waits for fsync, PostgreSQL or a lock held
 * across I/O: it is one pwrite to a page-cache file.
 */
#ifndef JW_JOURNAL_H
#define JW_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "threads.h"

struct jw_journal;

struct jw_journal_config {
	const char *data_dir; /* spool in <data_dir>/journal; required */
	const char *conninfo; /* libpq conninfo; required (never logged) */
	int fsync_policy;     /* enum jw_fsync_policy (persist.h) */
	uint64_t spool_max;   /* bytes not yet in PostgreSQL before refusing */
	uint64_t segment_max; /* rotate the spool segment at this size; 0: 4 MiB */
	unsigned batch_max;   /* rows per INSERT; 0: 1000 */
};

/*
 * Broker thread, at start. Creates <data_dir>/journal, finds what an
 * earlier run left spooled (replayed first), opens a new segment and
 * starts the threads. Returns 0 with *out set, or -1 with err filled.
 */
int jw_journal_open(
        const struct jw_journal_config *cfg, struct jw_journal **out, char *err, size_t errlen);

/*
 * Broker thread. Appends one record (journal_rec.h encoding) under key
 * ("session/job") to the spool with one write(). Returns 0 once the kernel
 * has it, or -1 with errno: ENOSPC when the spool holds spool_max bytes not
 * yet in PostgreSQL (nothing written), or the write's error.
 */
int jw_journal_append(struct jw_journal *j, const char *key, const void *rec, size_t len);

/* Broker thread: true when a record of len bytes would exceed spool_max. */
bool jw_journal_full(struct jw_journal *j, size_t len);

enum jw_journal_state {
	JW_JOURNAL_CONNECTING = 0, /* not connected yet, or reconnecting */
	JW_JOURNAL_UP,             /* connected, tables ready */
	JW_JOURNAL_DOWN,           /* the latest attempt or write failed; backing off */
};

struct jw_journal_stats {
	enum jw_journal_state state;
	uint64_t state_changes; /* bumps on every state change */
	uint64_t spooled;       /* records appended since start */
	uint64_t committed;     /* records committed to PostgreSQL since start */
	uint64_t dead_letters;  /* records PostgreSQL refused for good */
	uint64_t pending_bytes; /* spooled bytes not yet in PostgreSQL */
	uint64_t spool_bytes;   /* bytes of spool segment files on disk */
	int64_t oldest_ms;      /* spool time of the oldest record not in
	                           PostgreSQL, 0 when caught up */
	uint64_t batches;
	uint64_t sync_errors;
	uint64_t write_errors;    /* failed appends */
	bool replay_done;         /* what the last run left is in PostgreSQL */
	uint64_t damaged;         /* damaged stretches of segments skipped */
	uint64_t damaged_records; /* records they held (about) */
	uint64_t damaged_bytes;
	uint64_t quarantined;        /* quarantine files written for them */
	uint64_t unkept;             /* stretches that could not be kept */
	uint64_t checkpoint_damaged; /* 1 when the checkpoint was ignored at start */
	uint64_t checkpoint_errors;  /* checkpoint writes that failed */
	uint64_t strays;             /* files in the spool directory left alone */
};

void jw_journal_stats(struct jw_journal *j, struct jw_journal_stats *out);

/* Broker thread: log lines (about damage, the checkpoint, stray files)
 * since the last call; jw_notes_take. */
size_t jw_journal_notes(struct jw_journal *j, struct jw_note *out, size_t max, uint64_t *dropped);

/* The latest PostgreSQL error text (no conninfo in it), for the log. */
void jw_journal_last_error(struct jw_journal *j, char *buf, size_t buflen);

/*
 * Broker thread, at shutdown. Asks the journal thread to copy what is
 * spooled into PostgreSQL, waits up to deadline_ms, then interrupts it
 * (dropping the connection, whatever it is doing), syncs the spool and
 * frees j. What is not in PostgreSQL stays spooled for the next start.
 * NULL is a no-op.
 */
void jw_journal_stop(struct jw_journal *j, int deadline_ms);

#endif
