/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* See clock.h. */
#include "util/clock.h"

int64_t jw_clock_ms(clockid_t id)
{
	struct timespec ts;

	if(clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t jw_clock_ns(clockid_t id)
{
	struct timespec ts;

	if(clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void jw_clock_now(struct jw_clock *now)
{
	now->real_ms = jw_clock_ms(CLOCK_REALTIME);
	now->mono_ms = jw_clock_ms(CLOCK_MONOTONIC);
}
