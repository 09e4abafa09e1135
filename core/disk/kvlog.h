/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * An append-only log of key/value records on disk: the durable form of
 * the job table (jobs.log) and the record framing of the journal spool.
 * Each record carries a magic marker, its lengths and a CRC, so a reader
 * recognises a record damaged anywhere (a write torn by a crash, a flipped
 * bit on a failing disk), skips just that stretch, finds the next good
 * record by its marker and goes on; what it skipped is reported to the
 * caller. Compaction rewrites the live records to a new file and renames
 * it into place. Plain POSIX file I/O; no threads (the plugin runs it on
 * its writer thread), no global state. The readers also work on a buffer
 * (jw_kvlog_replay_buf, jw_kvlog_read_buf), with no file at all.
 */
#ifndef JW_KVLOG_H
#define JW_KVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jw_kvlog;

#define JW_KVLOG_KEY_MAX 512
#define JW_KVLOG_VAL_MAX (16u * 1024u * 1024u)
/* The largest record: header, key and value. */
#define JW_KVLOG_RECORD_MAX (16u + JW_KVLOG_KEY_MAX + JW_KVLOG_VAL_MAX)

/* CRC32C (Castagnoli), continued from crc (0 to start). */
uint32_t jw_crc32c(uint32_t crc, const void *buf, size_t len);

/*
 * How many bytes this process has run through the checksum so far, in
 * reads and writes alike (any thread). A cost measure: the tests check
 * with it that reading past damage stays linear in the file's size.
 */
uint64_t jw_kvlog_checksummed(void);

/*
 * A stretch of bytes a reader skipped because no valid record starts in
 * it: it begins where the last good record ended (or at the first byte)
 * and ends where the next good record begins (or at the end).
 */
struct jw_kvlog_damage {
	uint64_t offset;  /* first byte of the stretch */
	uint64_t length;  /* bytes skipped */
	uint64_t records; /* record markers seen in it, at least 1: about
	                     how many records the stretch held */
	bool tail;        /* no good record follows up to the end of the
	                     file: a write cut short by a crash, or damage
	                     in the last records */
};

/* Called once per damaged stretch, in file order, before the next good
 * record. Returning non-zero stops the read, and is returned. */
typedef int jw_kvlog_damage_fn(const struct jw_kvlog_damage *d, void *arg);

/*
 * Opens (creating with mode 0600) path for appending. The whole file is
 * checked first; on_damage (may be NULL) hears of every damaged stretch,
 * then a damaged tail is cut off so the next append follows the last good
 * record. Damage in the middle stays in the file (readers skip it) until
 * a compaction. Returns 0, or -1 with err filled (strerror text and the
 * path); a path that exists but is not a regular file is refused.
 */
int jw_kvlog_open(const char *path, struct jw_kvlog **out, jw_kvlog_damage_fn *on_damage, void *arg,
        char *err, size_t errlen);

/* Appends one record: val/len, or a deletion of key when val is NULL.
 * Buffered in the kernel only: call jw_kvlog_sync for durability.
 * Returns 0 or -1 (errno set; the log may hold a torn record, which the
 * next open or replay cuts off). */
int jw_kvlog_append(struct jw_kvlog *l, const char *key, const void *val, size_t len);

/* fdatasync. Returns 0 or -1 (errno set). */
int jw_kvlog_sync(struct jw_kvlog *l);

/* Bytes in the file now. */
uint64_t jw_kvlog_size(const struct jw_kvlog *l);

/* Closes (no sync). NULL is a no-op. */
void jw_kvlog_close(struct jw_kvlog *l);

struct jw_kvlog_replay_stats {
	uint64_t records;         /* valid records read (deletions included) */
	uint64_t live;            /* keys alive at the end */
	uint64_t bytes;           /* bytes of valid records */
	uint64_t torn_at;         /* offset of a damaged tail, or UINT64_MAX */
	uint64_t damaged;         /* damaged stretches skipped (the tail included) */
	uint64_t damaged_bytes;   /* their bytes */
	uint64_t damaged_records; /* sum of their jw_kvlog_damage.records */
};

/*
 * Reads path and calls fn once per LIVE key with its newest value (keys
 * whose newest record is a deletion are skipped), in file order of those
 * values. A missing file is an empty log. A damaged record is skipped (the
 * key keeps its previous value, if any), reported to on_damage (may be
 * NULL) and counted in st; reading resumes at the next good record. fn or
 * on_damage returning non-zero stops the replay and is returned. Returns
 * 0, that value, or -1 with err filled for I/O errors, out of memory, or a
 * path that is not a regular file.
 */
int jw_kvlog_replay(const char *path,
        int (*fn)(const char *key, const void *val, size_t len, void *arg),
        jw_kvlog_damage_fn *on_damage, void *arg, struct jw_kvlog_replay_stats *st, char *err,
        size_t errlen);

/* jw_kvlog_replay over len bytes at buf instead of a file. Returns 0,
 * fn's or on_damage's value, or -1 (out of memory). */
int jw_kvlog_replay_buf(const void *buf, size_t len,
        int (*fn)(const char *key, const void *val, size_t len, void *arg),
        jw_kvlog_damage_fn *on_damage, void *arg, struct jw_kvlog_replay_stats *st);

/*
 * Rewrites path keeping only the newest value of each live key: writes
 * path.tmp, fsyncs it, renames it over path and fsyncs the directory, so a
 * crash at any point leaves either the old or the new file. Damaged
 * stretches are reported to on_damage (may be NULL) while the old file is
 * still there, then left out of the new one. Returns 0, on_damage's
 * non-zero value (nothing rewritten), or -1 with err filled (path
 * untouched). An open jw_kvlog on path must be closed and reopened
 * afterwards.
 */
int jw_kvlog_compact(const char *path, jw_kvlog_damage_fn *on_damage, void *arg,
        struct jw_kvlog_replay_stats *st, char *err, size_t errlen);

/*
 * Reads path in file order from offset from (a record boundary: 0, or an
 * end offset reported here) up to limit (UINT64_MAX: the end of the file;
 * otherwise a record boundary too, such as the journal's published write
 * position), calling fn for each good record with its key, its value (NULL
 * for a deletion), its length and the offset just past it. A stretch that
 * is not a valid record is skipped and reported to on_damage (may be
 * NULL), and reading goes on with the next good record. fn or on_damage
 * returning non-zero stops the read and is returned. *end gets the offset
 * the next read should start from: past the last record handed to fn or
 * the last stretch reported (from when none). Unlike replay, every record
 * is seen, in order: this is the queue view of the same file format (the
 * journal spool). Returns 0, fn's or on_damage's value, or -1 with errno
 * set (a missing file is ENOENT, a path that is not a regular file EINVAL).
 */
int jw_kvlog_read(const char *path, uint64_t from, uint64_t limit,
        int (*fn)(const char *key, const void *val, size_t len, uint64_t end, void *arg),
        jw_kvlog_damage_fn *on_damage, void *arg, uint64_t *end);

/* jw_kvlog_read over len bytes at buf instead of a file. */
int jw_kvlog_read_buf(const void *buf, size_t len, uint64_t from, uint64_t limit,
        int (*fn)(const char *key, const void *val, size_t len, uint64_t end, void *arg),
        jw_kvlog_damage_fn *on_damage, void *arg, uint64_t *end);

/* Whether a good record starts at off of path: 1 yes, 0 no (off is the
 * end of the file, past it, or not on a good record), -1 with errno. */
int jw_kvlog_record_at(const char *path, uint64_t off);

#endif
