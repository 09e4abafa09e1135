/*
 * The two asserted "format" values: RFC 3339 date-time (event timestamps)
 * and RFC 4122 UUIDs (job ids). Hand-written scanners rather than regexes
 * because date-time needs calendar and leap-second arithmetic anyway.
 */
#include <stdbool.h>
#include <stddef.h>

#include "schema_internal.h"

/* Reads n ASCII digits at s; false on anything else (including non-ASCII
 * digits, which RFC 3339's ABNF DIGIT excludes). */
static bool digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static int days_in_month(int year, int month)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (month == 2) {
		bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
		return leap ? 29 : 28;
	}
	return days[month - 1];
}

/*
 * RFC 3339 section 5.6:
 *   date-time = full-date "T" full-time
 *   full-date = date-fullyear "-" date-month "-" date-mday
 *   full-time = partial-time time-offset
 *   partial-time = time-hour ":" time-minute ":" time-second [time-secfrac]
 *   time-offset = "Z" / time-numoffset  (time-numoffset = ("+"/"-") HH ":" MM)
 * "T" and "Z" may be lower case (section 5.6, NOTE). time-second 60 is a
 * leap second, allowed only where the time is 23:59 in UTC (appendix D).
 */
bool jw_schema__format_date_time(const char *s, size_t len)
{
	int year, month, mday, hour, minute, second;
	size_t p;

	if (len < 20)
		return false;
	if (!digits(s, 4, &year) || s[4] != '-' || !digits(s + 5, 2, &month) ||
	    s[7] != '-' || !digits(s + 8, 2, &mday))
		return false;
	if (s[10] != 'T' && s[10] != 't')
		return false;
	if (!digits(s + 11, 2, &hour) || s[13] != ':' || !digits(s + 14, 2, &minute) ||
	    s[16] != ':' || !digits(s + 17, 2, &second))
		return false;
	if (month < 1 || month > 12 || mday < 1 || mday > days_in_month(year, month))
		return false;
	if (hour > 23 || minute > 59 || second > 60)
		return false;

	p = 19;
	if (p < len && s[p] == '.') {
		size_t start = ++p;
		while (p < len && s[p] >= '0' && s[p] <= '9')
			p++;
		if (p == start)
			return false;
	}
	if (p >= len)
		return false;

	int offset_min = 0;
	if (s[p] == 'Z' || s[p] == 'z') {
		p++;
	} else if (s[p] == '+' || s[p] == '-') {
		int oh, om;
		if (len - p < 6 || !digits(s + p + 1, 2, &oh) || s[p + 3] != ':' ||
		    !digits(s + p + 4, 2, &om))
			return false;
		if (oh > 23 || om > 59)
			return false;
		offset_min = (s[p] == '+' ? 1 : -1) * (oh * 60 + om);
		p += 6;
	} else {
		return false;
	}
	if (p != len)
		return false;

	if (second == 60) {
		int utc = ((hour * 60 + minute - offset_min) % 1440 + 1440) % 1440;
		if (utc != 23 * 60 + 59)
			return false;
	}
	return true;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 4122 section 3: 8-4-4-4-12 hex digits, either case, any version or
 * variant (the format is about the text, not the generator). */
bool jw_schema__format_uuid(const char *s, size_t len)
{
	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return false;
	}
	return true;
}
