/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Retrying a failed job (docs/lifecycle.md, "Retry"): the control
 * {"action":"retry"} that asks the worker for another attempt, and the
 * worker's next started, which opens it. Apart from the rules in apply.c
 * so that the one exception to "terminal means final" reads in one place.
 */
#include "internal.h"

#include <stdio.h>

#define DEFAULT_MAX_ATTEMPTS 5u

static void refuse(struct jw_verdict *v, enum jw_reason reason, const char *msg)
{
	v->reason = reason;
	v->field[0] = '\0';
	v->keyword[0] = '\0';
	if(snprintf(v->message, sizeof(v->message), "%s", msg) < 0)
		v->message[0] = '\0';
}

static unsigned max_attempts(const struct jw_jobs *jobs)
{
	return jobs->cfg.max_attempts ? jobs->cfg.max_attempts : DEFAULT_MAX_ATTEMPTS;
}

bool jw_jobs__retry_request(struct jw_jobs *jobs, struct jw_job *j, const char *job,
        const struct jw_clock *now, struct jw_verdict *v)
{
	char msg[sizeof(v->message)];
	unsigned attempt, limit = max_attempts(jobs);

	if(!j) {
		snprintf(msg, sizeof(msg), "no such job: %s", job);
		refuse(v, JW_REASON_UNKNOWN_JOB, msg);
		return false;
	}
	attempt = (unsigned)j->retries + 1;
	if(j->status != JW_JOB_FAILED || !j->end) {
		snprintf(msg, sizeof(msg), "job %s is %s: only a failed job can be retried", job,
		        jw_job_status_name((enum jw_job_status)j->status));
		refuse(v, JW_REASON_NOT_RETRYABLE, msg);
		return false;
	}
	if(!(j->end->flags & JW_EF_RETRYABLE)) {
		snprintf(msg, sizeof(msg), "job %s failed %s: the worker did not say it may be retried",
		        job,
		        (j->end->flags & JW_EF_HAS_RETRYABLE) ? "with retryable false"
		                                              : "without retryable true");
		refuse(v, JW_REASON_NOT_RETRYABLE, msg);
		return false;
	}
	if(attempt >= limit) {
		snprintf(msg, sizeof(msg),
		        "job %s has had %u of %u attempts (plugin_opt_max_attempts): no retry left", job,
		        attempt, limit);
		refuse(v, JW_REASON_ATTEMPTS_EXHAUSTED, msg);
		return false;
	}
	/* A repeated request is delivered again (the worker may have missed
	 * the first) but keeps the time of the first, as a cancel does. */
	if(!(j->end->flags & JW_EF_RETRY)) {
		j->end->flags |= JW_EF_RETRY;
		j->end->retry_ms = now->real_ms;
	}
	return true;
}

bool jw_jobs__retry_opens(const struct jw_job *j)
{
	return j->end && (j->end->flags & JW_EF_RETRY);
}

void jw_jobs__retry_open(struct jw_jobs *jobs, struct jw_job *j)
{
	/* Out of the eviction order; fold files the job in the stall heap
	 * again, with the deadline of the new attempt. */
	jw_heap_remove(&jobs->heaps[JW_HEAP_ENDED], j);
	jw_jobs__end_free(jobs, j->end);
	j->end = NULL;
	jobs->by_status[j->status]--;
	jobs->by_status[JW_JOB_RUNNING]++;
	j->status = JW_JOB_RUNNING;
	j->retries++;
	/* The new attempt starts from nothing: its progress may be lower
	 * than the last one's, and an old status line would mislead. */
	jw_jobs__text_free_cap(jobs, j->step, j->step_cap);
	jw_jobs__text_free_cap(jobs, j->message, j->message_cap);
	j->step = j->message = NULL;
	j->step_cap = j->message_cap = 0;
	j->progress = j->eta_s = 0;
	j->current.i = j->total.i = j->items_added.i = j->items_failed.i = 0;
	j->exact = 0;
	j->est_progress = j->est_rate = j->est_weight = 0;
	j->est_mono = 0;
	j->started_ms = j->cancel_ms = 0;
	/* The last attempt's review answer is not this one's (review.c). */
	jw_jobs__decision_free(jobs, j->decision);
	j->decision = NULL;
	/* A held update stays held (its due time is in the due heap). */
	j->flags &= (uint16_t)(JW_JF_HELD | JW_JF_PUBLISHED);
}

bool jw_job_retry_requested(const struct jw_job *j)
{
	return jw_jobs__retry_opens(j);
}
