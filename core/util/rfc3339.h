/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * RFC 3339 timestamps, both ways. Formatting writes UTC with a 'Z' and
 * three or nine fraction digits, years 0000-9999 (the four digits RFC
 * 3339 allows), without gmtime_r or strftime; a per-second cache lets a
 * caller stamping many events per second rewrite only the milliseconds.
 * Parsing takes section 5.6's date-time with any offset and reports which
 * rule a text breaks, so that each caller keeps its own policy on leap
 * seconds and on the range of times it accepts.
 *
 * Pure functions: any thread. A cache belongs to its caller, one thread
 * at a time.
 */
#ifndef JW_UTIL_RFC3339_H
#define JW_UTIL_RFC3339_H

#include <stddef.h>
#include <stdint.h>

/* Length of "2026-11-22T02:40:00.123Z" and "2026-11-22T02:40:00.123456789Z". */
#define JW_RFC3339_MS_LEN 24
#define JW_RFC3339_NS_LEN 30

/* The seconds of 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. */
#define JW_RFC3339_MIN_S INT64_C(-62167219200)
#define JW_RFC3339_MAX_S INT64_C(253402300799)

/*
 * Formats the time sec + nsec / 1e9 (seconds since the epoch, as from
 * CLOCK_REALTIME) with digits fraction digits, 3 (ms) or 9 (ns); the
 * fraction is truncated, and nsec is taken as 0 below 0 and 999999999
 * above it. buf gets the text and a NUL. Returns the length, or -1 when
 * buflen is too short, digits is neither 3 nor 9 or the year falls
 * outside 0000-9999 (buf is then left unspecified).
 */
int jw_rfc3339_format(char *buf, size_t buflen, int64_t sec, long nsec, int digits);

/* The same for ms milliseconds since the epoch (negative: before 1970),
 * with milliseconds. */
int jw_rfc3339_format_ms(char *buf, size_t buflen, int64_t ms);

/* The text of the last second formatted through it. Zero it, or
 * jw_rfc3339_cache_init. */
struct jw_rfc3339_cache {
	int64_t sec;   /* the second in head, when len > 0 */
	size_t len;    /* bytes in head; 0: empty */
	char head[24]; /* "2026-11-22T02:40:00" */
};

void jw_rfc3339_cache_init(struct jw_rfc3339_cache *c);

/* jw_rfc3339_format(buf, buflen, sec, nsec, 3) through the cache: the
 * same results, and only a new second costs the calendar arithmetic. */
int jw_rfc3339_format_cached(
        struct jw_rfc3339_cache *c, char *buf, size_t buflen, int64_t sec, long nsec);

/* A parsed date-time, as written (the offset not applied). */
struct jw_rfc3339 {
	int year, month, day;     /* 0-9999, 1-12, 1-28..31 */
	int hour, minute, second; /* 0-23, 0-59, 0-60 (60: a leap second) */
	long nsec;                /* the fraction's first nine digits */
	int offset_min;           /* local time minus UTC: -1439 to 1439 */
};

enum {
	JW_RFC3339_ESYNTAX = -1, /* not date-time's grammar (RFC 3339 5.6) */
	JW_RFC3339_ERANGE =
	        -2, /* a field out of range: month 13, Feb 30, 24:00, second 61, offset +24:00 */
	JW_RFC3339_ELEAP = -3, /* second 60 at a time that is not 23:59 UTC (appendix D) */
};

/*
 * Parses s[0..len) (no NUL needed; every byte counts) as RFC 3339's
 * date-time: "T" and "Z" in either case, any number of fraction digits
 * (at least one after '.'), 'Z' or +hh:mm / -hh:mm. Returns 0 with *t
 * filled, or a JW_RFC3339_E* code; with JW_RFC3339_ELEAP *t is filled
 * too, for a caller that takes leap seconds anywhere.
 */
int jw_rfc3339_parse(const char *s, size_t len, struct jw_rfc3339 *t);

/* Milliseconds since the epoch of a parsed time (offset applied, the
 * fraction truncated). A leap second has no POSIX time: it counts as the
 * last millisecond before it (23:59:59.999). */
int64_t jw_rfc3339_to_ms(const struct jw_rfc3339 *t);

#endif
