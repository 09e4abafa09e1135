/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The job table's writer: keeps <data_dir>/jobs.log (core/disk/kvlog.h) up to
 * date from a thread of its own, so the broker thread never waits for the
 * disk. The broker thread hands over job records with jw_persist_put, which
 * only copies the record into an in-memory pending map; the writer thread
 * appends, syncs and compacts.
 *
 * Threads. jw_persist_load, _start and _stop run on the broker thread (at
 * start and shutdown). _put, _delete and _stats may be called from any
 * thread while the writer runs (in the plugin: the broker thread); they
 * take one mutex that is never held across I/O, only across a hash-map
 * update. The writer thread calls nothing of the broker (the mosquitto API
 * is not thread-safe): failures show up in jw_persist_stats, which the
 * broker thread polls and logs.
 *
 * Ownership. Keys and records are copied; the caller keeps its buffers.
 * struct jw_persist belongs to whoever called _start until _stop frees it.
 */
#ifndef JW_PERSIST_H
#define JW_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "threads.h"

struct jw_persist;

/* When written records are forced to stable storage (docs/persistence.md
 * says what each can lose on a power cut). */
enum jw_fsync_policy {
	JW_FSYNC_ALWAYS = 0, /* fdatasync after every batch before it counts as written */
	JW_FSYNC_INTERVAL,   /* batches are written at once, fdatasync'd at most 100 ms later */
	JW_FSYNC_NEVER,      /* the kernel writes back when it likes (and at _stop) */
};

/* What jw_persist_load found. */
struct jw_persist_load_stats {
	uint64_t records;         /* good records read */
	uint64_t live;            /* jobs handed to fn */
	uint64_t damaged;         /* damaged stretches skipped (a torn tail included) */
	uint64_t damaged_records; /* records they held (about) */
	uint64_t damaged_bytes;
	uint64_t quarantined; /* quarantine files written */
	uint64_t unkept;      /* stretches that could not be kept */
};

/*
 * Broker thread, at start, before jw_persist_start. Creates data_dir (mode
 * 0700; its parent must exist) when missing, then replays
 * <data_dir>/jobs.log calling fn once per live key with its newest record
 * (order unspecified; key and val are valid during the call only). A
 * missing log is an empty table. A damaged record (a torn tail left by a
 * crash, or bytes a failing disk changed) is skipped, and reading goes on
 * with the next good one: the job keeps its previous record, if any. Each
 * damaged stretch is kept in a quarantine file next to the log
 * (core/disk/quarantine.h), counted in st (may be NULL), and described in one
 * line to on_note (may be NULL; the line names the file, the offset and
 * the bytes skipped). fn returning non-zero stops the replay; that value
 * is returned. Returns 0, fn's value, or -1 with err filled (data_dir
 * unusable, jobs.log not a regular file, read error, out of memory).
 */
int jw_persist_load(const char *data_dir,
        int (*fn)(const char *key, const void *val, size_t len, void *arg),
        void (*on_note)(enum jw_note_level level, const char *text, void *arg), void *arg,
        struct jw_persist_load_stats *st, char *err, size_t errlen);

/*
 * Broker thread. Opens <data_dir>/jobs.log for appending (creating
 * data_dir and the log if needed, cutting off a torn tail) and starts the
 * writer thread with policy. On success *out is the writer, which the
 * caller must eventually pass to jw_persist_stop. Returns 0, or -1 with err
 * filled and *out NULL (nothing left running).
 */
int jw_persist_start(const char *data_dir, enum jw_fsync_policy policy, struct jw_persist **out,
        char *err, size_t errlen);

/*
 * Queues rec/len (copied) as the newest record of key (copied; 1 to
 * JW_KVLOG_KEY_MAX bytes; len at most JW_KVLOG_VAL_MAX; rec may be NULL
 * only when len is 0). Never waits for I/O. A record of the same key that
 * the writer has not taken yet is replaced, so at most one record per
 * distinct key is pending. Returns 0, or -1 with errno ENOMEM (nothing
 * queued; the previous pending record of key, if any, stays) or EINVAL
 * (bad argument). Not after or during jw_persist_stop.
 */
int jw_persist_put(struct jw_persist *p, const char *key, const void *rec, size_t len);

/* Queues the deletion of key, like jw_persist_put (same rules, same
 * returns): once written, key is no longer replayed. */
int jw_persist_delete(struct jw_persist *p, const char *key);

/*
 * Broker thread, at shutdown. Asks the writer to write and fdatasync
 * everything pending (whatever the policy), waits up to deadline_ms for
 * that, then joins the thread and frees p. NULL is a no-op.
 *
 * Guarantee: when the writer finishes in time (the normal case), every
 * record put before this call is in the log and synced, unless I/O failed
 * until the deadline. When the deadline passes (the disk is failing, or is
 * very slow), the writer gives up at its next check: between two appends,
 * before a sync, or in a retry wait. The call then returns once the single
 * append, fdatasync or compaction already in progress has ended; records
 * not yet written are lost (the log stays valid: at worst a torn tail,
 * cut off at the next open). The thread is always joined, never detached,
 * so the plugin can be unloaded safely when this returns.
 */
void jw_persist_stop(struct jw_persist *p, int deadline_ms);

struct jw_persist_stats {
	uint64_t pending;         /* records put and not yet written to the log */
	uint64_t unsynced;        /* written, awaiting fdatasync (ALWAYS, INTERVAL) */
	uint64_t records_written; /* appends since start (a record retried counts again) */
	uint64_t bytes_written;   /* bytes appended since start (compaction excluded) */
	uint64_t log_bytes;       /* size of jobs.log now */
	uint64_t syncs;           /* successful fdatasyncs */
	uint64_t compactions;     /* successful compactions */
	uint64_t write_errors;    /* failed opens, appends and syncs */
	uint64_t compact_errors;  /* failed compactions (the old log is kept) */
	int last_errno;           /* errno of the latest failure, 0 if none */
	bool failing;             /* the latest write or sync failed; retrying */
	/* Damage the writer met in the log after start (reopening it after a
	 * failure, or compacting it), not counting stretches already kept in
	 * a quarantine file (reported before). */
	uint64_t damaged;         /* damaged stretches */
	uint64_t damaged_records; /* records they held (about) */
	uint64_t damaged_bytes;
	uint64_t quarantined; /* quarantine files written */
	uint64_t unkept;      /* stretches that could not be kept */
};

/* Any thread. A consistent-enough snapshot: each field is read atomically,
 * pending under the lock. */
void jw_persist_stats(struct jw_persist *p, struct jw_persist_stats *out);

/* Broker thread: the writer's log lines about damage since the last call
 * (jw_notes_take). */
size_t jw_persist_notes(struct jw_persist *p, struct jw_note *out, size_t max, uint64_t *dropped);

/*
 * Internal, for tests (always compiled in; a counter check costs nothing):
 * the writer's next n appends fail with ENOSPC, or its next n fdatasyncs
 * with EIO, exactly as if the disk had refused them.
 */
void jw_persist__fail_next_writes(struct jw_persist *p, unsigned n);
void jw_persist__fail_next_syncs(struct jw_persist *p, unsigned n);

#endif
