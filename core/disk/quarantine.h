/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Quarantine files: when a reader of an on-disk record file (jobs.log, a
 * journal spool segment, the journal checkpoint) has to skip bytes it
 * cannot verify, it keeps a copy of them next to the file for the
 * operator, named "<file>.at-<offset>.damaged". A quarantine file is never
 * overwritten; the same bytes found again (the damage is still there at
 * the next start) are not copied twice. Bounded: at most
 * JW_QUARANTINE_MAX_FILES such files per directory, each holding at most
 * the first JW_QUARANTINE_MAX_BYTES of its stretch. Plain POSIX file I/O,
 * no threads, no global state.
 */
#ifndef JW_QUARANTINE_H
#define JW_QUARANTINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JW_QUARANTINE_SUFFIX ".damaged"
#define JW_QUARANTINE_MAX_FILES 64
#define JW_QUARANTINE_MAX_BYTES (17u * 1024u * 1024u) /* one record of the largest size */

enum jw_quarantine_result {
	JW_QUARANTINE_WRITTEN = 0, /* a new quarantine file holds the bytes */
	JW_QUARANTINE_ALREADY = 1, /* a quarantine file already held exactly them */
};

/*
 * Copies len bytes at off of the file path (the first
 * JW_QUARANTINE_MAX_BYTES of them) into "<path>.at-<off>.damaged", or
 * "<path>.at-<off>.<n>.damaged" (n from 2) when that name is taken by
 * other bytes. Mode 0600, created with O_EXCL. With sync, the new file and
 * its directory are fsync'd (not on the broker thread). kept gets the
 * file's path. Returns JW_QUARANTINE_WRITTEN or JW_QUARANTINE_ALREADY, or
 * -1 with err filled: read or write errors, or the directory already
 * holding JW_QUARANTINE_MAX_FILES quarantine files.
 */
int jw_quarantine_copy(const char *path, uint64_t off, uint64_t len, bool sync, char *kept,
        size_t keptlen, char *err, size_t errlen);

/* The same with the bytes given: len bytes at buf, found at off of path. */
int jw_quarantine_write(const char *path, uint64_t off, const void *buf, size_t len, bool sync,
        char *kept, size_t keptlen, char *err, size_t errlen);

/* Whether a file name is a quarantine file's. */
bool jw_quarantine_is_name(const char *name);

#endif
