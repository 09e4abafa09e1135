/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The two clocks a job runs on: the state publishing policy (at most
 * state_max_rate publishes per second per job, latest wins, nothing held
 * longer than one interval) and stall detection (no worker event for 3 x
 * the heartbeat interval). Both are indexed min-heaps, so a tick costs
 * time in proportion to the jobs that are due, not to the table.
 */
#include "internal.h"

#include <math.h>
#include <stdio.h>

bool jw_jobs_state_changed(
        struct jw_jobs *jobs, struct jw_job *j, bool urgent, const struct jw_clock *now)
{
	if(urgent || !(j->flags & JW_JF_PUBLISHED) ||
	        now->mono_ms - j->published_mono >= jobs->state_interval_ms)
		return true;
	/* Already held: keep the due time. The state is rendered when it is
	 * published, so the held update carries this change too. */
	if(!(j->flags & JW_JF_HELD)) {
		j->flags |= JW_JF_HELD;
		j->due_mono = j->published_mono + jobs->state_interval_ms;
		jw_jobs__heap_set(jobs, JW_HEAP_DUE, j);
	}
	return false;
}

enum jw_state_note jw_jobs_state_note(
        struct jw_jobs *jobs, struct jw_job *j, bool urgent, const struct jw_clock *now)
{
	bool was_held = (j->flags & JW_JF_HELD) != 0;

	if(jw_jobs_state_changed(jobs, j, urgent, now))
		return JW_STATE_PUBLISH;
	return was_held ? JW_STATE_COALESCED : JW_STATE_HOLD;
}

void jw_jobs_state_published(struct jw_jobs *jobs, struct jw_job *j, const struct jw_clock *now)
{
	j->published_mono = now->mono_ms;
	j->flags |= JW_JF_PUBLISHED;
	j->flags = (uint16_t)(j->flags & ~JW_JF_HELD);
	jw_heap_remove(&jobs->heaps[JW_HEAP_DUE], j);
}

bool jw_jobs_state_held(const struct jw_job *j)
{
	return (j->flags & JW_JF_HELD) != 0;
}

struct jw_job *jw_jobs_pop_state_due(struct jw_jobs *jobs, const struct jw_clock *now)
{
	struct jw_job *j = jw_heap_top(&jobs->heaps[JW_HEAP_DUE], NULL);

	if(!j || j->due_mono > now->mono_ms)
		return NULL;
	jw_heap_remove(&jobs->heaps[JW_HEAP_DUE], j);
	j->flags = (uint16_t)(j->flags & ~JW_JF_HELD);
	return j;
}

struct jw_job *jw_jobs_pop_stalled(struct jw_jobs *jobs, const struct jw_clock *now)
{
	struct jw_job *j;

	while((j = jw_heap_top(&jobs->heaps[JW_HEAP_STALL], NULL)) != NULL &&
	        j->stall_key <= now->mono_ms) {
		/* A key that events have since moved on: re-filed at the real
		 * deadline, once per timeout at most. Every other job's deadline
		 * is at least its key, so a top whose key is its deadline is the
		 * earliest deadline of all. */
		if(j->deadline_mono > j->stall_key) {
			j->stall_key = j->deadline_mono;
			jw_jobs__heap_set(jobs, JW_HEAP_STALL, j);
			continue;
		}
		/* Out of the heap until activity re-arms it: the caller fails
		 * it, and a job is never reported twice for the same silence. */
		jw_heap_remove(&jobs->heaps[JW_HEAP_STALL], j);
		return j;
	}
	return NULL;
}

int64_t jw_jobs_next_due(const struct jw_jobs *jobs)
{
	int64_t t = INT64_MAX, k;

	/* The tops' keys are what the pops compare with now: due_mono, and
	 * stall_key (at most the real deadline, see jw_jobs_pop_stalled). */
	if(jw_heap_top(&jobs->heaps[JW_HEAP_DUE], &k))
		t = k;
	if(jw_heap_top(&jobs->heaps[JW_HEAP_STALL], &k) && k < t)
		t = k;
	return t;
}

/* Appends "key":"text" (text needs no escaping: ids, timestamps and
 * the broker's own words). */
static void add_plain_str(struct jw_buf *b, const char *key, const char *text, size_t n)
{
	jw_jobs__buf_key(b, key);
	jw_buf_add(b, "\"", 1);
	jw_buf_add(b, text, n);
	jw_buf_add(b, "\"", 1);
}

char *jw_job_stall_event(const struct jw_job *j, const struct jw_clock *now, size_t *len)
{
	char error[160], hb[40], silent[40];
	int64_t timeout = jw_jobs__timeout_ms(j);
	int64_t silent_ms = now->mono_ms - (j->deadline_mono - timeout);
	struct jw_buf b;
	int n;

	/* The silence actually measured (at least the timeout once due; more
	 * when the broker was down), in tenths of a second so a fractional
	 * interval reads right, and the interval it is judged by. */
	if(silent_ms < 0)
		silent_ms = 0;
	jw_jobs__fmt_num(silent, sizeof(silent), floor((double)silent_ms / 100.0) / 10.0);
	jw_jobs__fmt_num(hb, sizeof(hb), j->heartbeat_interval_s);
	n = snprintf(
	        error, sizeof(error), "no event for %s s (3 x heartbeat interval %s s)", silent, hb);
	if(n < 0 || (size_t)n >= sizeof(error))
		return NULL;
	/* The members in the order json-c wrote them when it built this
	 * event, so subscribers see the same bytes. */
	jw_buf_init(&b, JW_BUF_UNLIMITED);
	jw_buf_add(&b, "{", 1);
	add_plain_str(&b, "type", "failed", 6);
	add_plain_str(&b, "session_id", jw_job_session(j), strlen(jw_job_session(j)));
	add_plain_str(&b, "job_id", jw_job_id(j), strlen(jw_job_id(j)));
	add_plain_str(&b, "error", error, (size_t)n);
	add_plain_str(&b, "code", "heartbeat_timeout", 17);
	jw_jobs__buf_key(&b, "retryable");
	jw_buf_add_str(&b, "true");
	jw_jobs__buf_key(&b, "broker_generated");
	jw_buf_add_str(&b, "true");
	jw_jobs__buf_key(&b, "details");
	jw_buf_add(&b, "{", 1);
	jw_jobs__buf_key(&b, "last_event_at");
	jw_jobs__buf_ts(&b, j->heartbeat_ms);
	jw_jobs__buf_key(&b, "heartbeat_interval_s");
	jw_jobs__buf_num(&b, j->heartbeat_interval_s);
	jw_buf_add(&b, "}", 1);
	jw_jobs__buf_key(&b, "ts");
	jw_jobs__buf_ts(&b, now->real_ms);
	jw_buf_add(&b, "}", 1);
	return jw_buf_take(&b, len);
}
