/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The job table's timestamps: RFC 3339 text to milliseconds since the
 * epoch and back (core/util/rfc3339), within the years a state may show.
 */
#include "internal.h"

bool jw_jobs__parse_ts(const char *s, size_t len, int64_t *real_ms)
{
	struct jw_rfc3339 t;
	int rc = jw_rfc3339_parse(s, len, &t);
	int64_t ms;

	/* The schemas' date-time refuses a leap second that is not 23:59 UTC;
	 * a time that reaches the table without that check keeps it all the
	 * same (as the millisecond before it). */
	if(rc != 0 && rc != JW_RFC3339_ELEAP)
		return false;
	ms = jw_rfc3339_to_ms(&t);
	if(ms < 0 || ms > JW_TS_MAX_MS)
		return false;
	*real_ms = ms;
	return true;
}

int jw_jobs__format_ts(char *buf, size_t buflen, int64_t real_ms)
{
	if(real_ms < 0 || real_ms > JW_TS_MAX_MS)
		return -1;
	return jw_rfc3339_format_ms(buf, buflen, real_ms);
}
