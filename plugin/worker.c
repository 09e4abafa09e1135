/* See worker.h. */
#include "worker.h"

#include <errno.h>

int64_t jw_worker_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec jw_worker_mono_abs(int64_t ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	return ts;
}

void jw_worker_stop(pthread_mutex_t *lock, pthread_cond_t *wake, pthread_cond_t *done,
                    bool *stopping, const bool *finished, atomic_bool *abort, int deadline_ms)
{
	struct timespec ts = jw_worker_mono_abs(jw_worker_mono_ms() + (deadline_ms > 0 ? deadline_ms : 0));

	pthread_mutex_lock(lock);
	*stopping = true;
	pthread_cond_broadcast(wake);
	while(!*finished){
		if(pthread_cond_timedwait(done, lock, &ts) == ETIMEDOUT){
			break;
		}
	}
	if(!*finished){
		/* Past the deadline: make the thread give up at its next check
		 * rather than leave it running in code about to be unloaded. */
		atomic_store(abort, true);
		pthread_cond_broadcast(wake);
	}
	pthread_mutex_unlock(lock);
}
