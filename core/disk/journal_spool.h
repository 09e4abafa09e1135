/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The journal spool's files other than the records themselves (those are
 * core/disk/kvlog.h's framing): what a name in <data_dir>/journal means, and
 * the checkpoint, the durable cursor "<segment> <offset>" of the first
 * record not yet in PostgreSQL. Everything read from disk is treated as
 * untrusted input: names are parsed with bounds, the checkpoint carries a
 * CRC32C and is parsed strictly. Pure: no threads, no global state; the
 * parsers work on a buffer (for fuzzing), jw_spool_checkpoint_read on a
 * file.
 */
#ifndef JW_JOURNAL_SPOOL_H
#define JW_JOURNAL_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Segment files are "<16 decimal digits>.spool". Numbers above SEQ_MAX
 * are refused, so the next segment's number (one more) always fits the
 * 16 digits: a broker rotating every millisecond would need 30,000 years
 * to get there. */
#define JW_SPOOL_DIGITS 16
#define JW_SPOOL_SEQ_MAX 999999999999999ULL
/* Offsets in a checkpoint: segments are a few MiB, never 2^48 bytes. */
#define JW_SPOOL_OFF_MAX ((1ULL << 48) - 1)
/* Name buffer size for jw_spool_segment_name. */
#define JW_SPOOL_NAME_LEN 24

enum jw_spool_kind {
	JW_SPOOL_SEGMENT = 0,    /* a segment; *seq set */
	JW_SPOOL_CHECKPOINT,     /* "checkpoint" */
	JW_SPOOL_CHECKPOINT_TMP, /* "checkpoint.tmp", left by a crash mid-write */
	JW_SPOOL_QUARANTINE,     /* "*.damaged" (core/disk/quarantine.h) */
	JW_SPOOL_DOT,            /* "." or ".." */
	JW_SPOOL_OUT_OF_RANGE,   /* "<16 digits>.spool" above JW_SPOOL_SEQ_MAX */
	JW_SPOOL_UNKNOWN,        /* anything else */
};

/* What the directory entry name is; *seq is set for segments and
 * out-of-range names. */
enum jw_spool_kind jw_spool_classify(const char *name, uint64_t *seq);

/* "<16 digits>.spool" of seq (at most JW_SPOOL_SEQ_MAX + 1) into buf
 * (JW_SPOOL_NAME_LEN bytes). Returns buf. */
char *jw_spool_segment_name(char *buf, size_t buflen, uint64_t seq);

/* Checkpoint text: "<seq> <off> <crc>\n", crc the CRC32C of "<seq> <off>"
 * as 8 lowercase hex digits. Returns its length (< 64), or 0 when buflen
 * is too small. */
size_t jw_spool_checkpoint_format(char *buf, size_t buflen, uint64_t seq, uint64_t off);

enum jw_spool_cp {
	JW_SPOOL_CP_OK = 0,  /* checksum verified */
	JW_SPOOL_CP_LEGACY,  /* "<seq> <off>\n" without a checksum (written
	                        before checkpoints had one): parsed, but the
	                        caller must check it against the segments */
	JW_SPOOL_CP_DAMAGED, /* anything else: why says what */
	JW_SPOOL_CP_MISSING, /* no checkpoint file (jw_spool_checkpoint_read) */
	JW_SPOOL_CP_ERROR,   /* it could not be read (jw_spool_checkpoint_read) */
};

/* Parses len bytes of checkpoint text (numbers in range, nothing else in
 * it). why (may be NULL) gets the reason for JW_SPOOL_CP_DAMAGED. */
enum jw_spool_cp jw_spool_checkpoint_parse(
        const void *buf, size_t len, uint64_t *seq, uint64_t *off, char *why, size_t whylen);

/* Reads and parses the checkpoint file at path (at most 64 bytes are
 * read; a longer file, or one that is not a regular file, is damaged).
 * The raw bytes go to raw (rawcap bytes, *rawlen set) for quarantine. */
enum jw_spool_cp jw_spool_checkpoint_read(const char *path, uint64_t *seq, uint64_t *off,
        unsigned char *raw, size_t rawcap, size_t *rawlen, char *why, size_t whylen);

#endif
