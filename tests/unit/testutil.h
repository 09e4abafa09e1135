/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Small helpers the unit tests share (linked as jw_test_util): files,
 * clocks, a journal record, an errno check. Each one fails the running
 * Check test when the call under it fails. The Check suite helpers
 * (jw_test_case, jw_test_run) are in util_check.h. */
#ifndef JW_TEST_TESTUTIL_H
#define JW_TEST_TESTUTIL_H

#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* Asserts that call returns -1 with errno set to err (errno is cleared
 * first, so a stale value cannot pass). */
#define ck_assert_fails(call, err)                                                                 \
	do {                                                                                           \
		errno = 0;                                                                                 \
		ck_assert_int_eq((call), -1);                                                              \
		ck_assert_int_eq(errno, (err));                                                            \
	} while(0)

/* The whole file at path, malloc'd with one spare byte (not set) after
 * its *len bytes; the caller frees it. */
void *slurp(const char *path, size_t *len);

/* Writes len bytes of buf to path, replacing what was there. */
void spill(const char *path, const void *buf, size_t len);

/* Removes dir and everything under it (rm -rf). */
void rm_rf(const char *dir);

/* The encoded journal record (jw_journal_rec_encode) of job of session
 * finished as "complete" with event ev (a JSON object), written by node at
 * 2026-01-02T03:04:05Z; spooled_ms 0 leaves the spool time out. Sets *len;
 * the caller frees the text. */
char *finished_rec(const char *session, const char *job, const char *ev, const char *node,
        int64_t spooled_ms, size_t *len);

/* CLOCK_MONOTONIC in milliseconds. */
int64_t now_ms(void);

/* Sleeps ms milliseconds, resuming after a signal. */
void sleep_ms(long ms);

#endif
