/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The job's state as JSON text (schemas/state.json) and the names of its
 * statuses. The state is built by hand from the stored JSON texts, so
 * rendering allocates one buffer and never re-parses what an event
 * carried.
 */
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>

/* ---- state ---- */

static const char *const status_names[JW_JOB__STATUS_COUNT] = {
        [JW_JOB_RUNNING] = "running",
        [JW_JOB_WAITING] = "waiting",
        [JW_JOB_COMPLETE] = "complete",
        [JW_JOB_FAILED] = "failed",
};

const char *jw_job_status_name(enum jw_job_status s)
{
	if((unsigned)s >= JW_JOB__STATUS_COUNT)
		return "unknown";
	return status_names[s];
}

/* The members the state and the record share, from name to items_failed,
 * written the same way in both. */
void jw_jobs__add_progress(struct jw_buf *b, const struct jw_job *j)
{
	unsigned f = j->flags;

	jw_jobs__add_text(b, "name", j->name);
	jw_jobs__add_text(b, "worker", j->worker);
	jw_jobs__add_text(b, "station", j->station);
	jw_jobs__add_text(b, "steps", j->steps);
	jw_jobs__add_num(b, "heartbeat_interval_s", j->heartbeat_interval_s);
	if(f & JW_JF_PROGRESS)
		jw_jobs__add_num(b, "progress", j->progress);
	if(f & JW_JF_CURRENT)
		jw_jobs__add_count(b, "current", j->current, j->exact, JW_JX_CURRENT);
	if(f & JW_JF_TOTAL)
		jw_jobs__add_count(b, "total", j->total, j->exact, JW_JX_TOTAL);
	jw_jobs__add_text(b, "step", j->step);
	jw_jobs__add_text(b, "message", j->message);
	if(f & JW_JF_ETA) {
		jw_jobs__add_num(b, "eta_s", j->eta_s);
		jw_jobs__add_bool(b, "eta_estimated", (f & JW_JF_ETA_EST) != 0);
	}
	if(f & JW_JF_ADDED)
		jw_jobs__add_count(b, "items_added", j->items_added, j->exact, JW_JX_ADDED);
	if(f & JW_JF_FAILED_ITEMS)
		jw_jobs__add_count(b, "items_failed", j->items_failed, j->exact, JW_JX_FAILED);
}

/*
 * The state is written straight into a buffer sized beforehand: keys are
 * literals of known length and nothing checks for room per member. The
 * bound is STATE_FIXED_MAX for everything but the stored texts (keys,
 * ids of at most 128 bytes, at most 12 numbers of at most 40 bytes and 8
 * timestamps of 26) plus the texts' lengths.
 */
#define STATE_FIXED_MAX 2048

/* Appends a literal. */
#define PUT_LIT(w, s) ((w) = put_mem((w), (s), sizeof(s) - 1))
/* ,"key": (no comma right after '{'), the same as jw_jobs__buf_key. */
#define PUT_KEY(w, k)                                                                              \
	do {                                                                                           \
		if((w)[-1] != '{')                                                                         \
			*(w)++ = ',';                                                                          \
		PUT_LIT(w, "\"" k "\":");                                                                  \
	} while(0)

static inline char *put_mem(char *w, const char *s, size_t n)
{
	memcpy(w, s, n);
	return w + n;
}

/* The digits of v written at w (room for 20), as u64_digits makes them,
 * without a copy of variable length: the count first, then the digits
 * from the last. */
static char *put_u64(char *w, uint64_t v)
{
	static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
	                               "25262728293031323334353637383940414243444546474849"
	                               "50515253545556575859606162636465666768697071727374"
	                               "75767778798081828384858687888990919293949596979899";
	size_t n = 1;
	char *e;

	for(uint64_t p = 10; n < 20 && v >= p; p *= 10)
		n++;
	e = w + n;
	while(v >= 100) {
		unsigned d = (unsigned)(v % 100);

		v /= 100;
		e -= 2;
		memcpy(e, pairs + 2 * d, 2);
	}
	if(v >= 10)
		memcpy(e - 2, pairs + 2 * v, 2);
	else
		e[-1] = (char)('0' + v);
	return w + n;
}

/* jw_jobs__buf_num's text: integers without the general formatter. */
static char *put_num(char *w, double v)
{
	double a = v < 0 ? -v : v;

	if(v == 0) {
		/* -0 too, as jw_jobs__fmt_num writes it. */
		*w++ = '0';
		return w;
	}
	/* Below 1e15 the conversion truncates exactly: an integer when it
	 * converts back unchanged (no floor() call). NaN fails the test. */
	if(a < 1e15 && (double)(uint64_t)a == a) {
		if(v < 0)
			*w++ = '-';
		return put_u64(w, (uint64_t)a);
	}
	jw_jobs__fmt_num(w, 40, v);
	return w + strlen(w);
}

/* jw_jobs__add_count's text: the int64 when exact, else put_num. */
static char *put_count(char *w, union jw_jobs__count c, unsigned exact)
{
	if(!exact)
		return put_num(w, c.d);
	if(c.i < 0) {
		*w++ = '-';
		return put_u64(w, (uint64_t)0 - (uint64_t)c.i);
	}
	return put_u64(w, (uint64_t)c.i);
}

/* "key":"ts" as add_ts writes it; *ok false when real_ms is out of range.
 * Through the table's cache when there is one: consecutive states mostly
 * carry times of the same second. */
static char *put_ts(char *w, int64_t real_ms, struct jw_rfc3339_cache *tc, bool *ok)
{
	int n;

	*w++ = '"';
	if(real_ms < 0 || real_ms > JW_TS_MAX_MS)
		n = -1;
	else if(tc)
		n = jw_rfc3339_format_cached(tc, w, 40, real_ms / 1000, (long)(real_ms % 1000) * 1000000L);
	else
		n = jw_jobs__format_ts(w, 40, real_ms);
	if(n < 0) {
		*ok = false;
		return w;
	}
	w += n;
	*w++ = '"';
	return w;
}

static char *put_text(char *w, const char *text, size_t len)
{
	return put_mem(w, text, len);
}

/* Lengths of the stored texts the state shows (0: absent). */
struct state_lens {
	size_t name, worker, station, steps, step, message;
	size_t result, error, code, details;
	size_t reason, item, actions;
	size_t choice, comment, by;
};

static size_t tlen(const char *t)
{
	return t ? strlen(t) : 0;
}

static size_t state_bound(const struct jw_job *j, struct state_lens *l)
{
	const struct jw_job_end *e = j->end;
	const struct jw_job_review *r = j->review;

	memset(l, 0, sizeof(*l));
	l->name = tlen(j->name);
	l->worker = tlen(j->worker);
	l->station = tlen(j->station);
	l->steps = tlen(j->steps);
	l->step = tlen(j->step);
	l->message = tlen(j->message);
	if(e) {
		l->result = tlen(e->result);
		l->error = tlen(e->error);
		l->code = tlen(e->code);
		l->details = tlen(e->details);
	}
	if(r) {
		l->reason = tlen(r->reason);
		l->item = tlen(r->item);
		l->actions = tlen(r->actions);
	}
	if(j->decision) {
		l->choice = tlen(j->decision->choice);
		l->comment = tlen(j->decision->comment);
		l->by = tlen(j->decision->by);
	}
	/* The review's keys and time fit in the fixed part's slack. */
	return STATE_FIXED_MAX + l->name + l->worker + l->station + l->steps + l->step + l->message +
	       l->result + l->error + l->code + l->details + l->reason + l->item + l->actions +
	       l->choice + l->comment + l->by;
}

#define PUT_TEXT(w, k, text, len)                                                                  \
	do {                                                                                           \
		if(text) {                                                                                 \
			PUT_KEY(w, k);                                                                         \
			(w) = put_text((w), (text), (len));                                                    \
		}                                                                                          \
	} while(0)

/* Writes j's state into out (room for state_bound bytes) and a NUL; its
 * length, or -1 when a timestamp is out of range. tc: NULL, or two caches
 * (recent times, first times). */
/* name .. items_failed: jw_jobs__add_progress's members, in its order. */
static inline char *put_progress(char *w, const struct jw_job *j, const struct state_lens *l)
{
	unsigned f = j->flags;

	PUT_TEXT(w, "name", j->name, l->name);
	PUT_TEXT(w, "worker", j->worker, l->worker);
	PUT_TEXT(w, "station", j->station, l->station);
	PUT_TEXT(w, "steps", j->steps, l->steps);
	PUT_KEY(w, "heartbeat_interval_s");
	w = put_num(w, j->heartbeat_interval_s);
	if(f & JW_JF_PROGRESS) {
		PUT_KEY(w, "progress");
		w = put_num(w, j->progress);
	}
	if(f & JW_JF_CURRENT) {
		PUT_KEY(w, "current");
		w = put_count(w, j->current, j->exact & JW_JX_CURRENT);
	}
	if(f & JW_JF_TOTAL) {
		PUT_KEY(w, "total");
		w = put_count(w, j->total, j->exact & JW_JX_TOTAL);
	}
	PUT_TEXT(w, "step", j->step, l->step);
	PUT_TEXT(w, "message", j->message, l->message);
	if(f & JW_JF_ETA) {
		PUT_KEY(w, "eta_s");
		w = put_num(w, j->eta_s);
		PUT_KEY(w, "eta_estimated");
		if(f & JW_JF_ETA_EST)
			PUT_LIT(w, "true");
		else
			PUT_LIT(w, "false");
	}
	if(f & JW_JF_ADDED) {
		PUT_KEY(w, "items_added");
		w = put_count(w, j->items_added, j->exact & JW_JX_ADDED);
	}
	if(f & JW_JF_FAILED_ITEMS) {
		PUT_KEY(w, "items_failed");
		w = put_count(w, j->items_failed, j->exact & JW_JX_FAILED);
	}
	return w;
}

/* first_seen_at .. last_heartbeat_at. */
static inline char *put_times(
        char *w, const struct jw_job *j, struct jw_rfc3339_cache *tc, bool *okp)
{
	bool ok = *okp;
	char *upd;
	size_t upd_len;

	/* A job's first times are from long ago: a cache of their own, so
	 * they do not evict the current second. */
	PUT_KEY(w, "first_seen_at");
	w = put_ts(w, j->first_seen_ms, tc ? tc + 1 : NULL, &ok);
	if(j->flags & JW_JF_STARTED) {
		PUT_KEY(w, "started_at");
		w = put_ts(w, j->started_ms, tc ? tc + 1 : NULL, &ok);
	}
	PUT_KEY(w, "updated_at");
	upd = w;
	w = put_ts(w, j->updated_ms, tc, &ok);
	upd_len = (size_t)(w - upd);
	PUT_KEY(w, "last_heartbeat_at");
	if(ok && j->heartbeat_ms == j->updated_ms) {
		/* Every worker event sets both: the same text again. */
		memcpy(w, upd, upd_len);
		w += upd_len;
	} else {
		w = put_ts(w, j->heartbeat_ms, tc, &ok);
	}
	*okp = ok;
	return w;
}

/* A finished job's members: finished_at .. broker_generated. */
static inline char *put_end(char *w, const struct jw_job_end *e, const struct state_lens *l,
        struct jw_rfc3339_cache *tc, bool *okp)
{
	bool ok = *okp;

	PUT_KEY(w, "finished_at");
	w = put_ts(w, e->finished_ms, tc, &ok);
	if(e->flags & JW_EF_DURATION) {
		PUT_KEY(w, "duration_s");
		w = put_num(w, e->duration_s);
	}
	PUT_TEXT(w, "result", e->result, l->result);
	PUT_TEXT(w, "error", e->error, l->error);
	PUT_TEXT(w, "code", e->code, l->code);
	if(e->flags & JW_EF_HAS_RETRYABLE) {
		PUT_KEY(w, "retryable");
		if(e->flags & JW_EF_RETRYABLE)
			PUT_LIT(w, "true");
		else
			PUT_LIT(w, "false");
	}
	PUT_TEXT(w, "details", e->details, l->details);
	if(e->flags & JW_EF_HAS_BROKER_GEN) {
		PUT_KEY(w, "broker_generated");
		if(e->flags & JW_EF_BROKER_GEN)
			PUT_LIT(w, "true");
		else
			PUT_LIT(w, "false");
	}
	*okp = ok;
	return w;
}

/* "validation":{...} of a job waiting for a review. */
static inline char *put_review(char *w, const struct jw_job_review *r, const struct state_lens *l)
{
	PUT_KEY(w, "validation");
	*w++ = '{';
	PUT_TEXT(w, "reason", r->reason, l->reason);
	PUT_KEY(w, "confidence");
	w = put_num(w, r->confidence);
	if(r->has_threshold) {
		PUT_KEY(w, "threshold");
		w = put_num(w, r->threshold);
	}
	PUT_TEXT(w, "item", r->item, l->item);
	PUT_TEXT(w, "actions", r->actions, l->actions);
	*w++ = '}';
	return w;
}

/* "review":{"choice":..,"comment":..,"by":..,"at":..}: the answer to the
 * latest review (review.c). */
static char *put_decision(char *w, const struct jw_job_decision *d, const struct state_lens *l,
        struct jw_rfc3339_cache *tc, bool *ok)
{
	PUT_KEY(w, "review");
	*w++ = '{';
	PUT_TEXT(w, "choice", d->choice, l->choice);
	PUT_TEXT(w, "comment", d->comment, l->comment);
	PUT_TEXT(w, "by", d->by, l->by);
	PUT_KEY(w, "at");
	w = put_ts(w, d->at_ms, tc, ok);
	*w++ = '}';
	return w;
}

/* The retry members: attempt, and a pending request of a failed job. */
static inline char *put_retry(
        char *w, const struct jw_job *j, struct jw_rfc3339_cache *tc, bool *okp)
{
	PUT_KEY(w, "attempt");
	w = put_u64(w, (uint64_t)j->retries + 1);
	if(j->end && (j->end->flags & JW_EF_RETRY)) {
		PUT_KEY(w, "retry_requested");
		PUT_LIT(w, "true");
		PUT_KEY(w, "retry_requested_at");
		w = put_ts(w, j->end->retry_ms, tc, okp);
	}
	return w;
}

static ptrdiff_t render_state(
        char *out, const struct jw_job *j, const struct state_lens *l, struct jw_rfc3339_cache *tc)
{
	const struct jw_job_end *e = j->end;
	const struct jw_job_review *r = j->review;
	unsigned f = j->flags;
	const char *status = jw_job_status_name((enum jw_job_status)j->status);
	char *w = out;
	bool ok = true;

	PUT_LIT(w, "{\"type\":\"state\",\"session_id\":\"");
	w = put_mem(w, j->ids, j->session_len);
	PUT_LIT(w, "\",\"job_id\":\"");
	w = put_mem(w, j->ids + j->session_len + 1, j->job_len);
	PUT_LIT(w, "\",\"status\":\"");
	w = put_mem(w, status, strlen(status));
	PUT_LIT(w, "\",\"seq\":");
	w = put_u64(w, j->seq);
	w = put_progress(w, j, l);
	w = put_times(w, j, tc, &ok);
	if(e)
		w = put_end(w, e, l, tc, &ok);
	if(r)
		w = put_review(w, r, l);
	if(j->decision)
		w = put_decision(w, j->decision, l, tc, &ok);
	if(f & JW_JF_CANCEL) {
		PUT_KEY(w, "cancel_requested");
		PUT_LIT(w, "true");
		PUT_KEY(w, "cancel_requested_at");
		w = put_ts(w, j->cancel_ms, tc, &ok);
	}
	w = put_retry(w, j, tc, &ok);
	*w++ = '}';
	*w = '\0';
	if(!ok)
		return -1;
	return w - out;
}

char *jw_job_state_json(const struct jw_job *j, size_t *len)
{
	struct state_lens l;
	size_t bound = state_bound(j, &l);
	char *out = malloc(bound);
	ptrdiff_t n;

	if(!out)
		return NULL;
	n = render_state(out, j, &l, NULL);
	if(n < 0) {
		free(out);
		return NULL;
	}
	if(len)
		*len = (size_t)n;
	return out;
}

const char *jw_jobs_state_render(struct jw_jobs *jobs, const struct jw_job *j, size_t *len)
{
	struct state_lens l;
	size_t bound = state_bound(j, &l);
	ptrdiff_t n;

	/* Scratch space, not job state: not through jw_jobs__alloc. At least
	 * 4 KiB, so the size of a job's state can vary without a realloc. */
	jw_buf_reset(&jobs->render);
	if(jw_buf_reserve(&jobs->render, bound < 4095 ? 4095 : bound) != 0)
		return NULL;
	n = render_state(jw_buf_tail(&jobs->render), j, &l, jobs->ts_cache);
	if(n < 0)
		return NULL;
	if(len)
		*len = (size_t)n;
	return jobs->render.p;
}
