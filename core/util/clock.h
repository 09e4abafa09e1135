/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Clock readings in milliseconds or nanoseconds, and the pair of them the
 * job table works with. CLOCK_REALTIME is for timestamps people read;
 * CLOCK_MONOTONIC for deadlines, rates and timeouts, which a wall-clock
 * step must not move. The _COARSE clocks cost less and tick every few
 * milliseconds: for checks made per message that need no finer time.
 * Any thread.
 */
#ifndef JW_UTIL_CLOCK_H
#define JW_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Both clocks, read once per event or tick and handed down, so that every
 * decision about one event sees the same time. */
struct jw_clock {
	int64_t real_ms; /* CLOCK_REALTIME, ms since the epoch: timestamps */
	int64_t mono_ms; /* CLOCK_MONOTONIC, ms: deadlines and rate limits */
};

/* The clock id's reading in milliseconds (truncated) or nanoseconds.
 * An id the system lacks reads as 0. */
int64_t jw_clock_ms(clockid_t id);
int64_t jw_clock_ns(clockid_t id);

/* Both clocks, realtime first. */
void jw_clock_now(struct jw_clock *now);

#endif
