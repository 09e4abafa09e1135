/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* See rfc3339.h. */
#include "util/rfc3339.h"

#include <stdbool.h>
#include <string.h>

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
}

/*
 * "YYYY-MM-DDTHH:MM:SS" (19 bytes, no NUL) for sec in [JW_RFC3339_MIN_S,
 * JW_RFC3339_MAX_S]: days to a proleptic Gregorian date as in H. Hinnant's
 * civil_from_days (UTC has no leap seconds in POSIX time).
 */
static void put_head(char *buf, int64_t sec)
{
	int64_t days = sec / 86400, rem = sec % 86400;
	int64_t z, era, doe, yoe, doy, mp;
	int y, m, d;

	if(rem < 0) {
		rem += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int)(doy - (153 * mp + 2) / 5 + 1);
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y = (int)(yoe + era * 400 + (m <= 2));
	put2(buf, y / 100);
	put2(buf + 2, y % 100);
	buf[4] = '-';
	put2(buf + 5, m);
	buf[7] = '-';
	put2(buf + 8, d);
	buf[10] = 'T';
	put2(buf + 11, (int)(rem / 3600));
	buf[13] = ':';
	put2(buf + 14, (int)(rem / 60 % 60));
	buf[16] = ':';
	put2(buf + 17, (int)(rem % 60));
}

static long clamp_nsec(long nsec)
{
	return nsec < 0 ? 0 : nsec > 999999999L ? 999999999L : nsec;
}

/* ".fffZ" or ".fffffffffZ" and a NUL at p; returns the bytes before the NUL. */
static size_t put_frac(char *p, long nsec, int digits)
{
	long v = digits == 3 ? nsec / 1000000L : nsec;

	p[0] = '.';
	for(int i = digits; i > 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	p[digits + 1] = 'Z';
	p[digits + 2] = '\0';
	return (size_t)digits + 2;
}

int jw_rfc3339_format(char *buf, size_t buflen, int64_t sec, long nsec, int digits)
{
	if((digits != 3 && digits != 9) || buflen < (size_t)(19 + digits + 3) ||
	        sec < JW_RFC3339_MIN_S || sec > JW_RFC3339_MAX_S)
		return -1;
	put_head(buf, sec);
	return (int)(19 + put_frac(buf + 19, clamp_nsec(nsec), digits));
}

int jw_rfc3339_format_ms(char *buf, size_t buflen, int64_t ms)
{
	int64_t sec = ms / 1000, rem = ms % 1000;

	/* The second below for times before 1970, as a clock reading has it. */
	if(rem < 0) {
		rem += 1000;
		sec--;
	}
	return jw_rfc3339_format(buf, buflen, sec, (long)rem * 1000000L, 3);
}

void jw_rfc3339_cache_init(struct jw_rfc3339_cache *c)
{
	c->sec = 0;
	c->len = 0;
	c->head[0] = '\0';
}

int jw_rfc3339_format_cached(
        struct jw_rfc3339_cache *c, char *buf, size_t buflen, int64_t sec, long nsec)
{
	if(buflen < JW_RFC3339_MS_LEN + 1 || sec < JW_RFC3339_MIN_S || sec > JW_RFC3339_MAX_S)
		return -1;
	if(c->len == 0 || c->sec != sec) {
		put_head(c->head, sec);
		c->head[19] = '\0';
		c->len = 19;
		c->sec = sec;
	}
	memcpy(buf, c->head, 19);
	return (int)(19 + put_frac(buf + 19, clamp_nsec(nsec), 3));
}

/* ---- parsing ---- */

/* Reads n ASCII digits at s; false on anything else (including non-ASCII
 * digits, which RFC 3339's ABNF DIGIT excludes). */
static bool digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for(size_t i = 0; i < n; i++) {
		if(s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/*
 * RFC 3339 section 5.6:
 *   date-time    = full-date "T" full-time
 *   full-date    = date-fullyear "-" date-month "-" date-mday
 *   full-time    = partial-time time-offset
 *   partial-time = time-hour ":" time-minute ":" time-second [time-secfrac]
 *   time-secfrac = "." 1*DIGIT
 *   time-offset  = "Z" / time-numoffset   (("+" / "-") time-hour ":" time-minute)
 * "T" and "Z" may be lower case (section 5.6, NOTE). Ranges are checked
 * after the whole text has the grammar, so a malformed text is always
 * ESYNTAX whatever its numbers.
 */
int jw_rfc3339_parse(const char *s, size_t len, struct jw_rfc3339 *t)
{
	int oh = 0, om = 0, utc;
	size_t p = 19;
	bool range_ok;

	if(len < 20 || !digits(s, 4, &t->year) || s[4] != '-' || !digits(s + 5, 2, &t->month) ||
	        s[7] != '-' || !digits(s + 8, 2, &t->day) || (s[10] != 'T' && s[10] != 't') ||
	        !digits(s + 11, 2, &t->hour) || s[13] != ':' || !digits(s + 14, 2, &t->minute) ||
	        s[16] != ':' || !digits(s + 17, 2, &t->second))
		return JW_RFC3339_ESYNTAX;
	t->nsec = 0;
	if(s[p] == '.') {
		int k = 0;

		p++;
		if(p >= len || s[p] < '0' || s[p] > '9')
			return JW_RFC3339_ESYNTAX;
		/* Nanoseconds: the first nine digits, the rest truncated. */
		for(; p < len && s[p] >= '0' && s[p] <= '9'; p++, k++) {
			if(k < 9)
				t->nsec = t->nsec * 10 + (s[p] - '0');
		}
		for(; k < 9; k++)
			t->nsec *= 10;
	}
	t->offset_min = 0;
	if(p < len && (s[p] == 'Z' || s[p] == 'z')) {
		p++;
	} else if(p < len && (s[p] == '+' || s[p] == '-')) {
		if(len - p < 6 || !digits(s + p + 1, 2, &oh) || s[p + 3] != ':' ||
		        !digits(s + p + 4, 2, &om))
			return JW_RFC3339_ESYNTAX;
		t->offset_min = (s[p] == '+' ? 1 : -1) * (oh * 60 + om);
		p += 6;
	} else {
		return JW_RFC3339_ESYNTAX;
	}
	if(p != len)
		return JW_RFC3339_ESYNTAX;
	range_ok = t->month >= 1 && t->month <= 12 && t->day >= 1 &&
	           t->day <= days_in_month(t->year, t->month) && t->hour <= 23 && t->minute <= 59 &&
	           t->second <= 60 && oh <= 23 && om <= 59;
	if(!range_ok)
		return JW_RFC3339_ERANGE;
	if(t->second == 60) {
		utc = ((t->hour * 60 + t->minute - t->offset_min) % 1440 + 1440) % 1440;
		if(utc != 23 * 60 + 59)
			return JW_RFC3339_ELEAP;
	}
	return 0;
}

/* Days from 1970-01-01 to the proleptic Gregorian y-m-d. */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = m <= 2 ? y - 1 : y;
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t mp = (m + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

int64_t jw_rfc3339_to_ms(const struct jw_rfc3339 *t)
{
	int sec = t->second;
	int64_t ms = t->nsec / 1000000L, s;

	if(sec == 60) {
		sec = 59;
		ms = 999;
	}
	s = days_from_civil(t->year, t->month, t->day) * 86400 + (int64_t)t->hour * 3600 +
	    (int64_t)t->minute * 60 + sec - (int64_t)t->offset_min * 60;
	return s * 1000 + ms;
}
