/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The one growable text buffer (after curl's dynbuf): appends keep the
 * text NUL-terminated, growth doubles, and a maximum size turns a runaway
 * input into an error instead of unbounded memory. Errors are sticky: the
 * first one is kept in err and every later call returns it and changes
 * nothing, so a writer can append a whole record and check once, at
 * jw_buf_take.
 *
 * Errors: -ENOMEM (out of memory), -EMSGSIZE (the text would pass max).
 * The buffer belongs to its caller; one thread at a time.
 */
#ifndef JW_UTIL_BUF_H
#define JW_UTIL_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct jw_buf {
	char *p;    /* the text, NUL-terminated; NULL until the first growth */
	size_t len; /* bytes of text */
	size_t cap; /* bytes allocated at p */
	size_t max; /* most bytes of text */
	int err;    /* 0, or the first error */
};

/* For a buffer with no limit but memory. */
#define JW_BUF_UNLIMITED (SIZE_MAX / 2)

/* An empty buffer (nothing allocated) for at most max bytes of text; max
 * 0 means JW_BUF_UNLIMITED, so a zeroed struct jw_buf is an empty buffer
 * too. */
void jw_buf_init(struct jw_buf *b, size_t max);

/* Frees the text; b is then empty, with its max kept. Safe twice. */
void jw_buf_cleanup(struct jw_buf *b);

/* jw_buf_reserve's growth, out of line. */
int jw_buf__grow(struct jw_buf *b, size_t n);

/*
 * Room for n more bytes and the NUL, so that writing them through
 * jw_buf_tail needs no allocation. 0 or an error. Inline, like the
 * appends: a job record is some forty of them, on every message that
 * changes a job when the table is persisted.
 */
static inline int jw_buf_reserve(struct jw_buf *b, size_t n)
{
	/* cap never passes max + 1, so room within cap is within max. */
	if(b->err == 0 && n < b->cap - b->len)
		return 0;
	return jw_buf__grow(b, n);
}

/* Appends s[0..n) (any bytes, NUL included). 0 or an error. */
static inline int jw_buf_add(struct jw_buf *b, const void *s, size_t n)
{
	int rc = jw_buf_reserve(b, n);

	if(rc != 0)
		return rc;
	if(n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/* Appends the string s. 0 or an error. */
static inline int jw_buf_add_str(struct jw_buf *b, const char *s)
{
	return jw_buf_add(b, s, strlen(s));
}

/* Appends printf's output. 0, an error, or -EINVAL for a bad format. */
int jw_buf_printf(struct jw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Where the next byte goes: write at most the n bytes of the last
 * jw_buf_reserve(b, n), then jw_buf_commit. NULL after an error. */
static inline char *jw_buf_tail(struct jw_buf *b)
{
	return b->err || !b->p ? NULL : b->p + b->len;
}

/* Counts n bytes written at jw_buf_tail as text and terminates it. */
static inline void jw_buf_commit(struct jw_buf *b, size_t n)
{
	b->len += n;
	b->p[b->len] = '\0';
}

/* Cuts the text back to len bytes (len <= b->len). */
void jw_buf_truncate(struct jw_buf *b, size_t len);

/* Makes err (negative) the buffer's error, as if an append had failed:
 * for a writer whose own step failed (a number that would not format). */
void jw_buf_fail(struct jw_buf *b, int err);

/* Empties the text and clears the error, keeping the memory. */
void jw_buf_reset(struct jw_buf *b);

/*
 * Hands the text over: a malloc'd NUL-terminated string (free it), with
 * its length in *len when len is not NULL; "" when nothing was added.
 * After an error, frees the text and returns NULL. Either way b is empty
 * again and usable.
 */
char *jw_buf_take(struct jw_buf *b, size_t *len);

#endif
