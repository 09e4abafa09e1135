/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The asserted "format" values: the table the compiler looks names up in,
 * and the checkers for dates and times, durations, UUIDs, JSON pointers
 * and regular expressions. Network names and addresses are in
 * format_net.c, URIs and URI templates in format_uri.c. Each checker is a
 * scanner over the exact grammar its RFC gives (docs/validator.md,
 * "Formats"): ASCII only where the grammar says so, no surrounding white
 * space, no locale.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "node.h"
#include "util/rfc3339.h"

/* RFC 3339 section 5.6, with a leap second only where the time is 23:59
 * in UTC (appendix D): util/rfc3339.c. */
bool jw_schema__format_date_time(const char *s, size_t len)
{
	struct jw_rfc3339 t;

	return jw_rfc3339_parse(s, len, &t) == 0;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 4122 section 3: 8-4-4-4-12 hex digits, either case, any version or
 * variant (the format is about the text, not the generator). */
bool jw_schema__format_uuid(const char *s, size_t len)
{
	if(len != 36)
		return false;
	for(size_t i = 0; i < len; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if(dash ? s[i] != '-' : !is_hex(s[i]))
			return false;
	}
	return true;
}

/* n ASCII digits at s as a number, or -1. */
static int digits(const char *s, size_t n)
{
	int v = 0;

	for(size_t i = 0; i < n; i++) {
		if(!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 full-date: YYYY-MM-DD, the day within its month. */
static bool format_date(const char *s, size_t len)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if(len != 10 || s[4] != '-' || s[7] != '-')
		return false;
	int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
	if(y < 0 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return !(m == 2 && d == 29 && !leap_year(y));
}

/*
 * RFC 3339 full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM), "z" allowed. A
 * leap second (:60) only where the time in UTC is 23:59 (appendix D).
 */
static bool format_time(const char *s, size_t len)
{
	size_t i = 8;

	if(len < 9 || s[2] != ':' || s[5] != ':')
		return false;
	int h = digits(s, 2), m = digits(s + 3, 2), sec = digits(s + 6, 2);
	if(h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60)
		return false;
	if(s[i] == '.') {
		size_t start = ++i;
		while(i < len && is_digit(s[i]))
			i++;
		if(i == start)
			return false;
	}
	if(i >= len)
		return false;
	int off = 0;
	if(s[i] == 'Z' || s[i] == 'z') {
		if(i + 1 != len)
			return false;
	} else if(s[i] == '+' || s[i] == '-') {
		if(len - i != 6 || s[i + 3] != ':')
			return false;
		int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
		if(oh < 0 || oh > 23 || om < 0 || om > 59)
			return false;
		off = (s[i] == '+' ? 1 : -1) * (oh * 60 + om);
	} else {
		return false;
	}
	if(sec == 60) {
		int utc = ((h * 60 + m - off) % 1440 + 1440) % 1440;
		if(utc != 23 * 60 + 59)
			return false;
	}
	return true;
}

/*
 * RFC 3339 appendix A duration: "P" then either weeks ("nW") alone, or
 * date units in the order Y M D and/or "T" with time units H M S, where
 * the units present are consecutive (no "P1Y2D", no "PT1H2S"), each with
 * at least one ASCII digit and no fraction or sign.
 */
static bool duration_units(const char *s, size_t len, size_t *i, const char *units, bool *any)
{
	int next = 0; /* index in units of the first one still allowed */
	int last = -1;

	while(*i < len && is_digit(s[*i])) {
		while(*i < len && is_digit(s[*i]))
			(*i)++;
		if(*i >= len)
			return false;
		const char *u = strchr(units, s[*i]);
		if(u == NULL || s[*i] == '\0')
			return false;
		int k = (int)(u - units);
		if(k < next || (last >= 0 && k != last + 1))
			return false;
		last = k;
		next = k + 1;
		(*i)++;
		*any = true;
	}
	return true;
}

static bool format_duration(const char *s, size_t len)
{
	size_t i = 1;
	bool date = false, time = false;

	if(len < 3 || s[0] != 'P')
		return false;
	if(s[len - 1] == 'W') {
		for(i = 1; i + 1 < len; i++)
			if(!is_digit(s[i]))
				return false;
		return true;
	}
	if(!duration_units(s, len, &i, "YMD", &date))
		return false;
	if(i < len && s[i] == 'T') {
		i++;
		if(!duration_units(s, len, &i, "HMS", &time) || !time)
			return false;
	}
	return i == len && (date || time);
}

/* RFC 6901: "" or "/"-prefixed tokens in which "~" is followed by 0 or 1. */
static bool pointer_tail(const char *s, size_t len)
{
	if(len > 0 && s[0] != '/')
		return false;
	for(size_t i = 0; i < len; i++) {
		if(s[i] == '~' && (i + 1 >= len || (s[i + 1] != '0' && s[i + 1] != '1')))
			return false;
	}
	return true;
}

static bool format_json_pointer(const char *s, size_t len)
{
	return pointer_tail(s, len);
}

/* draft-handrews-relative-json-pointer-01: a non-negative integer without
 * leading zeros, then "#" or a JSON pointer. */
static bool format_relative_json_pointer(const char *s, size_t len)
{
	size_t i = 0;

	while(i < len && is_digit(s[i]))
		i++;
	if(i == 0 || (s[0] == '0' && i > 1))
		return false;
	if(i < len && s[i] == '#')
		return i + 1 == len;
	return pointer_tail(s + i, len - i);
}

/*
 * ECMA-262 pattern syntax, as far as PCRE2 does not check it itself: the
 * pattern compiles with the options "pattern" uses, every escape is one
 * ECMA-262 knows, and no PCRE-only group ("(?P<", "(?#", "(?i)") appears.
 */
static bool regex_syntax(const char *s, size_t len)
{
	static const char escapes[] = "dDwWsSbBfnrtv0cxupPk123456789^$\\.*+?()[]{}|/-";
	bool in_class = false;

	for(size_t i = 0; i < len; i++) {
		char ch = s[i];
		if(ch == '\\') {
			if(i + 1 >= len || s[i + 1] == '\0' || strchr(escapes, s[i + 1]) == NULL)
				return false;
			i++;
		} else if(ch == '[' && !in_class) {
			in_class = true;
		} else if(ch == ']' && in_class) {
			in_class = false;
		} else if(ch == '(' && !in_class && i + 1 < len && s[i + 1] == '?') {
			char k = i + 2 < len ? s[i + 2] : '\0';
			bool look_behind = k == '<' && i + 3 < len && (s[i + 3] == '=' || s[i + 3] == '!');
			bool named = k == '<' && !look_behind;
			if(k != ':' && k != '=' && k != '!' && !look_behind && !named)
				return false;
		}
	}
	return true;
}

static bool format_regex(const char *s, size_t len)
{
	int errcode;
	PCRE2_SIZE erroff;

	if(!regex_syntax(s, len))
		return false;
	pcre2_code *code = jw_schema__regex_code(s, len, &errcode, &erroff);
	if(code == NULL)
		return false;
	pcre2_code_free(code);
	return true;
}

/* Alphabetical; date-time and uuid have fast paths of their own
 * (JW_FORMAT_DATE_TIME, JW_FORMAT_UUID) but are listed for the names. */
static const struct jw_format_def formats[] = {
        {"date", format_date},
        {"date-time", jw_schema__format_date_time},
        {"duration", format_duration},
        {"email", jw_schema__format_email},
        {"hostname", jw_schema__format_hostname},
        {"idn-email", jw_schema__format_idn_email},
        {"idn-hostname", jw_schema__format_idn_hostname},
        {"ipv4", jw_schema__format_ipv4},
        {"ipv6", jw_schema__format_ipv6},
        {"iri", jw_schema__format_iri},
        {"iri-reference", jw_schema__format_iri_reference},
        {"json-pointer", format_json_pointer},
        {"regex", format_regex},
        {"relative-json-pointer", format_relative_json_pointer},
        {"time", format_time},
        {"uri", jw_schema__format_uri},
        {"uri-reference", jw_schema__format_uri_reference},
        {"uri-template", jw_schema__format_uri_template},
        {"uuid", jw_schema__format_uuid},
};

const struct jw_format_def *jw_schema__format_find(const char *name)
{
	for(size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if(strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

const char *jw_schema__format_names(void)
{
	return "\"date\", \"date-time\", \"duration\", \"email\", "
	       "\"hostname\", \"idn-email\", \"idn-hostname\", \"ipv4\", "
	       "\"ipv6\", \"iri\", \"iri-reference\", \"json-pointer\", "
	       "\"regex\", \"relative-json-pointer\", \"time\", \"uri\", "
	       "\"uri-reference\", \"uri-template\", \"uuid\"";
}
