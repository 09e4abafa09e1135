/*
 * An append-only log of key/value records on disk, the durable form of
 * the job table: each record carries a CRC so a write torn by a crash or
 * power cut is detected on replay and everything before it is kept;
 * compaction rewrites the live records to a new file and renames it into
 * place. Plain POSIX file I/O; no threads (the plugin runs it on its
 * writer thread).
 */
#ifndef JW_KVLOG_H
#define JW_KVLOG_H

#include <stddef.h>
#include <stdint.h>

struct jw_kvlog;

#define JW_KVLOG_KEY_MAX 512
#define JW_KVLOG_VAL_MAX (16u * 1024u * 1024u)

/* Opens (creating with mode 0600) path for appending. A torn tail left by
 * a crash is cut off first (same rule as replay). Returns 0, or -1 with
 * err filled (strerror text and the path). */
int jw_kvlog_open(const char *path, struct jw_kvlog **out, char *err, size_t errlen);

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
	uint64_t records;   /* valid records read (deletions included) */
	uint64_t live;      /* keys alive at the end */
	uint64_t bytes;     /* bytes of valid records */
	uint64_t torn_at;   /* offset of the first bad record, or UINT64_MAX */
};

/*
 * Reads path and calls fn once per LIVE key with its newest value (keys
 * whose newest record is a deletion are skipped), in no particular order.
 * A missing file is an empty log. Reading stops at the first record that
 * is truncated or fails its CRC (reported in st->torn_at, not an error).
 * fn returning non-zero stops the replay and is returned. Returns 0, fn's
 * value, or -1 with err filled for I/O errors or out of memory.
 */
int jw_kvlog_replay(const char *path,
                    int (*fn)(const char *key, const void *val, size_t len, void *arg),
                    void *arg, struct jw_kvlog_replay_stats *st, char *err, size_t errlen);

/*
 * Rewrites path keeping only the newest value of each live key: writes
 * path.tmp, fsyncs it, renames it over path and fsyncs the directory, so a
 * crash at any point leaves either the old or the new file. Returns 0 or
 * -1 with err filled (path untouched). An open jw_kvlog on path must be
 * closed and reopened afterwards.
 */
int jw_kvlog_compact(const char *path, struct jw_kvlog_replay_stats *st, char *err, size_t errlen);

/*
 * Reads path in file order from offset from (which must be a record
 * boundary: 0, or an end offset reported here), calling fn for each good
 * record that ends at or before limit (UINT64_MAX: no limit) with its key,
 * its value (NULL for a deletion), its length and the offset just past it.
 * Stops at limit, at the end of the file, or at the first torn record
 * (same rule as replay). fn returning non-zero stops the read and is
 * returned. *end gets the end offset of the last record handed to fn (from
 * when none). Unlike replay, every record is seen, in order: this is the
 * queue view of the same file format (the journal spool). Returns 0, fn's
 * value, or -1 with errno set (a missing file is ENOENT).
 */
int jw_kvlog_read(const char *path, uint64_t from, uint64_t limit,
                  int (*fn)(const char *key, const void *val, size_t len, uint64_t end, void *arg),
                  void *arg, uint64_t *end);

#endif
