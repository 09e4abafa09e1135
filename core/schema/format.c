/*
 * The two asserted "format" values: RFC 3339 date-time (event timestamps)
 * and RFC 4122 UUIDs (job ids). Scanners rather than regexes because
 * date-time needs calendar and leap-second arithmetic anyway.
 */
#include <stdbool.h>
#include <stddef.h>

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
