/*
 * What the plugin's background threads (the job-log writer, persist.c; the
 * journal and its sync thread, journal.c) share: a monotonic clock for
 * pthread_cond_timedwait on CLOCK_MONOTONIC condition variables, and the
 * stop-with-deadline handshake. No mosquitto API: both files are also
 * compiled straight into their unit tests.
 */
#ifndef JW_WORKER_H
#define JW_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t jw_worker_mono_ms(void);

/* An absolute CLOCK_MONOTONIC time for pthread_cond_timedwait. */
struct timespec jw_worker_mono_abs(int64_t ms);

/*
 * The shutdown handshake, called by the thread's owner: sets *stopping
 * under lock and wakes the thread (wake), then waits on done until
 * *finished or deadline_ms pass. Past the deadline it sets *abort, which
 * the thread checks between operations, and wakes it again. Returns with
 * lock released; the caller then joins the thread.
 */
void jw_worker_stop(pthread_mutex_t *lock, pthread_cond_t *wake, pthread_cond_t *done,
                    bool *stopping, const bool *finished, atomic_bool *abort, int deadline_ms);

#endif
