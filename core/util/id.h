/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The id rule of session and job ids: 1 to 128 bytes of [A-Za-z0-9._-],
 * safe in a topic level, a file name, a log line and SQL text. Topics,
 * the job table, job records, tokens and the command line all check ids
 * here. Pure functions: any thread.
 */
#ifndef JW_UTIL_ID_H
#define JW_UTIL_ID_H

#include <stdbool.h>
#include <stddef.h>

/* Longest id, in bytes. */
#define JW_ID_MAX 128

/* 1 at the bytes an id may hold, 0 elsewhere (NUL included). */
extern const unsigned char jw_id_bytes[256];

/* Whether c may appear in an id. */
static inline bool jw_id_byte(unsigned char c)
{
	return jw_id_bytes[c] != 0;
}

/* Whether s[0..len) is an id. */
static inline bool jw_id_valid(const char *s, size_t len)
{
	if(len < 1 || len > JW_ID_MAX)
		return false;
	for(size_t i = 0; i < len; i++) {
		if(!jw_id_byte((unsigned char)s[i]))
			return false;
	}
	return true;
}

/*
 * The length of the run of id bytes at s: the index of the first other
 * byte (a NUL or '/' ends it), or some length above JW_ID_MAX once the
 * run is too long to be an id (the walk stops there). A byte is read only
 * after the one before it was an id byte, so the walk never passes a NUL.
 * s[0..n) is an id exactly when 1 <= n <= JW_ID_MAX.
 */
static inline __attribute__((always_inline)) size_t jw_id_run(const char *s)
{
	size_t i = 0;

	/* Four bytes a round: ids are on every message's path. */
	for(;;) {
		if(!jw_id_byte((unsigned char)s[i]))
			return i;
		if(!jw_id_byte((unsigned char)s[i + 1]))
			return i + 1;
		if(!jw_id_byte((unsigned char)s[i + 2]))
			return i + 2;
		if(!jw_id_byte((unsigned char)s[i + 3]))
			return i + 3;
		i += 4;
		if(i > JW_ID_MAX)
			return i;
	}
}

/* The length of the NUL-terminated id s, or 0 when s is not an id. */
static inline __attribute__((always_inline)) size_t jw_id_len(const char *s)
{
	size_t n = jw_id_run(s);

	return n >= 1 && n <= JW_ID_MAX && s[n] == '\0' ? n : 0;
}

#endif
