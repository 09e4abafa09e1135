/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Job records: one job's complete snapshot as compact JSON, so the job
 * table survives a broker restart. A record holds what the state shows
 * plus what only the broker needs (stall deadline, fingerprint of the
 * terminal event, ETA estimator, exact timestamps in ms). Restoring
 * checks every member before touching the table: a corrupt record is
 * refused with a reason and changes nothing.
 */
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"
#include "util/id.h"

#define RECORD_VERSION 1
/* An event may nest 32 levels; its objects sit one or two levels deeper
 * in a record. */
#define RECORD_MAX_DEPTH 64

/* ---- writing ---- */

static void add_i64(struct jw_buf *b, const char *key, int64_t v)
{
	jw_jobs__buf_key(b, key);
	jw_jobs__buf_i64(b, v);
}

/* Monotonic times mean nothing after a restart: records carry them as
 * wall-clock times, read against the same clock pair. */
static int64_t mono_to_real(int64_t mono, const struct jw_clock *now)
{
	return now->real_ms + (mono - now->mono_ms);
}

static int64_t real_to_mono(int64_t real, const struct jw_clock *now)
{
	return now->mono_ms + (real - now->real_ms);
}

char *jw_job_record(const struct jw_job *j, const struct jw_clock *now, size_t *len)
{
	struct jw_buf b;
	const struct jw_job_end *e = j->end;
	const struct jw_job_review *r = j->review;
	unsigned f = j->flags;
	char hex[20];

	/* A record is 300-1000 bytes: one allocation, mostly. */
	jw_buf_init(&b, JW_BUF_UNLIMITED);
	(void)jw_buf_reserve(&b, 1023);

	jw_buf_add_str(&b, "{");
	add_i64(&b, "v", RECORD_VERSION);
	jw_jobs__buf_key(&b, "session_id");
	jw_buf_add_str(&b, "\"");
	jw_buf_add_str(&b, jw_job_session(j));
	jw_buf_add_str(&b, "\"");
	jw_jobs__buf_key(&b, "job_id");
	jw_buf_add_str(&b, "\"");
	jw_buf_add_str(&b, jw_job_id(j));
	jw_buf_add_str(&b, "\"");
	jw_jobs__buf_key(&b, "status");
	jw_buf_add_str(&b, "\"");
	jw_buf_add_str(&b, jw_job_status_name((enum jw_job_status)j->status));
	jw_buf_add_str(&b, "\"");
	jw_jobs__buf_key(&b, "seq");
	jw_jobs__buf_u64(&b, j->seq);
	jw_jobs__add_progress(&b, j);
	add_i64(&b, "first_seen_ms", j->first_seen_ms);
	if(f & JW_JF_STARTED)
		add_i64(&b, "started_ms", j->started_ms);
	add_i64(&b, "updated_ms", j->updated_ms);
	add_i64(&b, "heartbeat_ms", j->heartbeat_ms);
	if(f & JW_JF_CANCEL)
		add_i64(&b, "cancel_ms", j->cancel_ms);
	if(!e)
		add_i64(&b, "deadline_ms", mono_to_real(j->deadline_mono, now));
	if(f & JW_JF_EST_ANCHOR) {
		jw_jobs__add_num_exact(&b, "est_progress", j->est_progress);
		add_i64(&b, "est_ms", mono_to_real(j->est_mono, now));
		jw_jobs__add_num_exact(&b, "est_rate", j->est_rate);
		jw_jobs__add_num_exact(&b, "est_weight", j->est_weight);
	}
	if(f & JW_JF_REANCHOR)
		jw_jobs__add_bool(&b, "est_reanchor", true);
	if(r) {
		jw_jobs__buf_key(&b, "validation");
		jw_buf_add_str(&b, "{");
		jw_jobs__add_text(&b, "reason", r->reason);
		jw_jobs__add_num(&b, "confidence", r->confidence);
		if(r->has_threshold)
			jw_jobs__add_num(&b, "threshold", r->threshold);
		jw_jobs__add_text(&b, "item", r->item);
		jw_jobs__add_text(&b, "actions", r->actions);
		add_i64(&b, "asked_ms", r->asked_ms);
		jw_buf_add_str(&b, "}");
	}
	if(j->decision) {
		/* The answer to the latest review (review.c). */
		jw_jobs__buf_key(&b, "review");
		jw_buf_add_str(&b, "{");
		jw_jobs__add_text(&b, "choice", j->decision->choice);
		jw_jobs__add_text(&b, "comment", j->decision->comment);
		jw_jobs__add_text(&b, "by", j->decision->by);
		add_i64(&b, "at_ms", j->decision->at_ms);
		jw_jobs__add_bool(&b, "pending", j->decision->pending);
		jw_buf_add_str(&b, "}");
	}
	if(e) {
		add_i64(&b, "finished_ms", e->finished_ms);
		add_i64(&b, "ended_ms", e->ended_ms);
		if(snprintf(hex, sizeof(hex), "%016" PRIx64, e->fp_hash) != 16)
			jw_buf_fail(&b, -ERANGE);
		jw_jobs__buf_key(&b, "fingerprint");
		jw_buf_add_str(&b, "\"");
		jw_buf_add_str(&b, hex);
		jw_buf_add_str(&b, "\"");
		jw_jobs__buf_key(&b, "fingerprint_len");
		jw_jobs__buf_u64(&b, e->fp_len);
		if(e->flags & JW_EF_DURATION)
			jw_jobs__add_num(&b, "duration_s", e->duration_s);
		jw_jobs__add_text(&b, "result", e->result);
		jw_jobs__add_text(&b, "error", e->error);
		jw_jobs__add_text(&b, "code", e->code);
		if(e->flags & JW_EF_HAS_RETRYABLE)
			jw_jobs__add_bool(&b, "retryable", (e->flags & JW_EF_RETRYABLE) != 0);
		jw_jobs__add_text(&b, "details", e->details);
		if(e->flags & JW_EF_HAS_BROKER_GEN)
			jw_jobs__add_bool(&b, "broker_generated", (e->flags & JW_EF_BROKER_GEN) != 0);
	}
	/* Retry (retry.c): absent in the records of a first attempt, so they
	 * read the same as before retries existed. */
	if(j->retries)
		add_i64(&b, "attempt", (int64_t)j->retries + 1);
	if(e && (e->flags & JW_EF_RETRY))
		add_i64(&b, "retry_ms", e->retry_ms);
	jw_buf_add_str(&b, "}");
	return jw_buf_take(&b, len);
}

/* ---- reading ---- */

struct reader {
	struct jw_jobs *jobs;
	char *err;
	size_t errlen;
	bool oom;
};

static int bad(struct reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int bad(struct reader *rd, const char *fmt, ...)
{
	va_list ap;
	int n;

	if(!rd->err || rd->errlen == 0)
		return -1;
	n = snprintf(rd->err, rd->errlen, "record: ");
	if(n < 0 || (size_t)n >= rd->errlen)
		return -1;
	va_start(ap, fmt);
	if(vsnprintf(rd->err + n, rd->errlen - (size_t)n, fmt, ap) < 0)
		rd->err[n] = '\0';
	va_end(ap);
	return -1;
}

/* The member, NULL when absent; *m stays NULL and -1 for a JSON null,
 * which records never hold. */
static int get(struct reader *rd, struct json_object *o, const char *key, struct json_object **m)
{
	*m = NULL;
	if(!json_object_object_get_ex(o, key, m))
		return 0;
	if(!*m)
		return bad(rd, "%s: null", key);
	return 0;
}

static int r_num(struct reader *rd, struct json_object *o, const char *key, double lo, double hi,
        bool *present, double *out)
{
	struct json_object *m;
	double d;

	*present = false;
	if(get(rd, o, key, &m) != 0)
		return -1;
	if(!m)
		return 0;
	if(!json_object_is_type(m, json_type_double) && !json_object_is_type(m, json_type_int))
		return bad(rd, "%s: not a number", key);
	d = json_object_get_double(m);
	if(!isfinite(d) || d < lo || d > hi)
		return bad(rd, "%s: out of range", key);
	*present = true;
	*out = d;
	return 0;
}

/*
 * A count (current, total, items_added, items_failed) of at least 0: an
 * integer member is kept exactly (bit set in j->exact), anything else as
 * a double, as jw_jobs__add_count wrote it.
 */
static int r_count(struct reader *rd, struct json_object *o, const char *key, struct jw_job *j,
        union jw_jobs__count *c, unsigned bit, bool *present)
{
	struct json_object *m;
	int64_t v;

	*present = false;
	if(get(rd, o, key, &m) != 0)
		return -1;
	if(!m)
		return 0;
	if(!json_object_is_type(m, json_type_int))
		return r_num(rd, o, key, 0, HUGE_VAL, present, &c->d);
	/* Records are read with jw_json_parse: an integer beyond int64 is a
	 * double there, so this one is exact. */
	v = json_object_get_int64(m);
	if(v < 0)
		return bad(rd, "%s: out of range", key);
	c->i = v;
	j->exact |= (uint8_t)bit;
	*present = true;
	return 0;
}

static int r_int(struct reader *rd, struct json_object *o, const char *key, int64_t lo, int64_t hi,
        bool *present, int64_t *out)
{
	struct json_object *m;
	int64_t v;

	*present = false;
	if(get(rd, o, key, &m) != 0)
		return -1;
	if(!m)
		return 0;
	if(!json_object_is_type(m, json_type_int))
		return bad(rd, "%s: not an integer", key);
	v = json_object_get_int64(m);
	if(v < lo || v > hi)
		return bad(rd, "%s: out of range", key);
	*present = true;
	*out = v;
	return 0;
}

static int r_req_int(struct reader *rd, struct json_object *o, const char *key, int64_t lo,
        int64_t hi, int64_t *out)
{
	bool present;

	if(r_int(rd, o, key, lo, hi, &present, out) != 0)
		return -1;
	return present ? 0 : bad(rd, "%s: missing", key);
}

static int r_ts(struct reader *rd, struct json_object *o, const char *key, bool required,
        bool *present, int64_t *out)
{
	if(r_int(rd, o, key, 0, JW_TS_MAX_MS, present, out) != 0)
		return -1;
	if(required && !*present)
		return bad(rd, "%s: missing", key);
	return 0;
}

static int r_bool(struct reader *rd, struct json_object *o, const char *key, int *out)
{
	struct json_object *m;

	*out = -1;
	if(get(rd, o, key, &m) != 0)
		return -1;
	if(!m)
		return 0;
	if(!json_object_is_type(m, json_type_boolean))
		return bad(rd, "%s: not a boolean", key);
	*out = json_object_get_boolean(m) ? 1 : 0;
	return 0;
}

static bool nonempty_string(struct json_object *m)
{
	return json_object_is_type(m, json_type_string) && json_object_get_string_len(m) > 0;
}

/*
 * *out = the member's stored text when present. Strings must be non-empty
 * where the state schema says minLength 1 (nonempty); arrays must hold
 * non-empty strings (steps, actions).
 */
static int r_text(struct reader *rd, struct json_object *o, const char *key, enum json_type t,
        bool nonempty, char **out)
{
	struct json_object *m;

	*out = NULL;
	if(get(rd, o, key, &m) != 0)
		return -1;
	if(!m)
		return 0;
	if(!json_object_is_type(m, t))
		return bad(rd, "%s: not %s", key,
		        t == json_type_string  ? "a string"
		        : t == json_type_array ? "an array"
		                               : "an object");
	if(t == json_type_string && nonempty && json_object_get_string_len(m) == 0)
		return bad(rd, "%s: empty", key);
	if(t == json_type_array) {
		for(size_t i = 0; i < json_object_array_length(m); i++) {
			if(!nonempty_string(json_object_array_get_idx(m, i)))
				return bad(rd, "%s: item %zu is not a non-empty string", key, i);
		}
	}
	*out = jw_jobs__text_of(rd->jobs, m);
	if(!*out) {
		rd->oom = true;
		return bad(rd, "out of memory");
	}
	return 0;
}

static const char *const known_keys[] = {"v", "session_id", "job_id", "status", "seq", "name",
        "worker", "station", "steps", "heartbeat_interval_s", "progress", "current", "total",
        "step", "message", "eta_s", "eta_estimated", "items_added", "items_failed", "first_seen_ms",
        "started_ms", "updated_ms", "heartbeat_ms", "cancel_ms", "deadline_ms", "est_progress",
        "est_ms", "est_rate", "est_weight", "est_reanchor", "validation", "review", "finished_ms",
        "ended_ms", "fingerprint", "fingerprint_len", "duration_s", "result", "error", "code",
        "retryable", "details", "broker_generated", "attempt", "retry_ms"};

static const char *const validation_keys[] = {
        "reason", "confidence", "threshold", "item", "actions", "asked_ms"};

static const char *const decision_keys[] = {"choice", "comment", "by", "at_ms", "pending"};

/* Refuses members a writer of this version never produces: a record that
 * has them is not one of ours (or is damaged). */
static int only_known(struct reader *rd, struct json_object *o, const char *const *keys, size_t n,
        const char *where)
{
	json_object_object_foreach(o, key, val)
	{
		size_t i;

		(void)val;
		for(i = 0; i < n && strcmp(keys[i], key) != 0; i++) {
		}
		if(i == n)
			return bad(rd, "%sunknown member \"%.40s\"", where, key);
	}
	return 0;
}

static int read_ids(
        struct reader *rd, struct json_object *o, const char **session, const char **job)
{
	struct json_object *s, *j;

	if(get(rd, o, "session_id", &s) != 0 || get(rd, o, "job_id", &j) != 0)
		return -1;
	if(!s || !json_object_is_type(s, json_type_string) ||
	        !jw_id_valid(json_object_get_string(s), (size_t)json_object_get_string_len(s)))
		return bad(rd, "session_id: missing or invalid");
	if(!j || !json_object_is_type(j, json_type_string) ||
	        !jw_id_valid(json_object_get_string(j), (size_t)json_object_get_string_len(j)))
		return bad(rd, "job_id: missing or invalid");
	*session = json_object_get_string(s);
	*job = json_object_get_string(j);
	return 0;
}

static int read_status(struct reader *rd, struct json_object *o, enum jw_job_status *out)
{
	struct json_object *m;

	if(get(rd, o, "status", &m) != 0)
		return -1;
	if(m && json_object_is_type(m, json_type_string)) {
		for(int s = 0; s < JW_JOB__STATUS_COUNT; s++) {
			if(strcmp(json_object_get_string(m), jw_job_status_name((enum jw_job_status)s)) == 0) {
				*out = (enum jw_job_status)s;
				return 0;
			}
		}
	}
	return bad(rd, "status: missing or invalid");
}

static int read_fingerprint(struct reader *rd, struct json_object *o, uint64_t *out)
{
	struct json_object *m;
	const char *s;
	uint64_t v = 0;

	if(get(rd, o, "fingerprint", &m) != 0)
		return -1;
	if(!m || !json_object_is_type(m, json_type_string) || json_object_get_string_len(m) != 16)
		return bad(rd, "fingerprint: missing or invalid");
	s = json_object_get_string(m);
	for(int i = 0; i < 16; i++) {
		char c = s[i];
		unsigned d;

		if(c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if(c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else
			return bad(rd, "fingerprint: missing or invalid");
		v = (v << 4) | d;
	}
	*out = v;
	return 0;
}

static int read_review(struct reader *rd, struct json_object *o, struct jw_job *j)
{
	struct json_object *m;
	struct jw_job_review *r;
	bool present;

	if(get(rd, o, "validation", &m) != 0)
		return -1;
	if(!m)
		return 0;
	if(!json_object_is_type(m, json_type_object))
		return bad(rd, "validation: not an object");
	if(only_known(rd, m, validation_keys, sizeof(validation_keys) / sizeof(validation_keys[0]),
	           "validation: ") != 0)
		return -1;
	r = jw_jobs__alloc(rd->jobs, sizeof(*r));
	if(!r) {
		rd->oom = true;
		return bad(rd, "out of memory");
	}
	j->review = r;
	if(r_text(rd, m, "reason", json_type_string, true, &r->reason) != 0 ||
	        r_num(rd, m, "confidence", 0, 1, &present, &r->confidence) != 0)
		return -1;
	if(!r->reason || !present)
		return bad(rd, "validation: reason and confidence are required");
	if(r_num(rd, m, "threshold", 0, 1, &r->has_threshold, &r->threshold) != 0 ||
	        r_text(rd, m, "item", json_type_object, false, &r->item) != 0 ||
	        r_text(rd, m, "actions", json_type_array, false, &r->actions) != 0 ||
	        r_ts(rd, m, "asked_ms", false, &present, &r->asked_ms) != 0)
		return -1;
	return 0;
}

/* "review": the answer to the latest review (absent in records of
 * versions before reviews). A pending answer needs a waiting job. */
static int read_decision(struct reader *rd, struct json_object *o, struct jw_job *j)
{
	struct json_object *m;
	struct jw_job_decision *d;
	bool present;
	int pending = -1;

	if(get(rd, o, "review", &m) != 0)
		return -1;
	if(!m)
		return 0;
	if(!json_object_is_type(m, json_type_object))
		return bad(rd, "review: not an object");
	if(only_known(rd, m, decision_keys, sizeof(decision_keys) / sizeof(decision_keys[0]),
	           "review: ") != 0)
		return -1;
	d = jw_jobs__alloc(rd->jobs, sizeof(*d));
	if(!d) {
		rd->oom = true;
		return bad(rd, "out of memory");
	}
	j->decision = d;
	if(r_text(rd, m, "choice", json_type_string, true, &d->choice) != 0 ||
	        r_text(rd, m, "comment", json_type_string, false, &d->comment) != 0 ||
	        r_text(rd, m, "by", json_type_string, true, &d->by) != 0 ||
	        r_ts(rd, m, "at_ms", true, &present, &d->at_ms) != 0 ||
	        r_bool(rd, m, "pending", &pending) != 0)
		return -1;
	if(!d->choice)
		return bad(rd, "review: choice is required");
	d->pending = pending == 1;
	if(d->pending && j->status != JW_JOB_WAITING)
		return bad(rd, "review: pending only on a waiting job");
	return 0;
}

static int read_end(
        struct reader *rd, struct json_object *o, struct jw_job *j, enum jw_job_status status)
{
	struct jw_job_end *e;
	bool present;
	int64_t len = 0;
	int b;

	e = jw_jobs__alloc(rd->jobs, sizeof(*e));
	if(!e) {
		rd->oom = true;
		return bad(rd, "out of memory");
	}
	j->end = e;
	if(r_ts(rd, o, "finished_ms", true, &present, &e->finished_ms) != 0 ||
	        r_ts(rd, o, "ended_ms", true, &present, &e->ended_ms) != 0 ||
	        read_fingerprint(rd, o, &e->fp_hash) != 0 ||
	        r_req_int(rd, o, "fingerprint_len", 0, INT64_MAX, &len) != 0)
		return -1;
	e->fp_len = (uint64_t)len;
	if(r_num(rd, o, "duration_s", 0, HUGE_VAL, &present, &e->duration_s) != 0)
		return -1;
	if(present)
		e->flags |= JW_EF_DURATION;
	if(r_text(rd, o, "result", json_type_object, false, &e->result) != 0 ||
	        r_text(rd, o, "error", json_type_string, true, &e->error) != 0 ||
	        r_text(rd, o, "code", json_type_string, true, &e->code) != 0 ||
	        r_text(rd, o, "details", json_type_object, false, &e->details) != 0)
		return -1;
	if(r_bool(rd, o, "retryable", &b) != 0)
		return -1;
	if(b >= 0)
		e->flags |= (uint8_t)(JW_EF_HAS_RETRYABLE | (b ? JW_EF_RETRYABLE : 0));
	if(r_bool(rd, o, "broker_generated", &b) != 0)
		return -1;
	if(b >= 0)
		e->flags |= (uint8_t)(JW_EF_HAS_BROKER_GEN | (b ? JW_EF_BROKER_GEN : 0));
	if(status == JW_JOB_FAILED && !e->error)
		return bad(rd, "error: missing on a failed job");
	if(r_ts(rd, o, "retry_ms", false, &present, &e->retry_ms) != 0)
		return -1;
	if(present && status != JW_JOB_FAILED)
		return bad(rd, "retry_ms: only on a failed job");
	if(present)
		e->flags |= JW_EF_RETRY;
	return 0;
}

/* A record of an unfinished job must not carry what only an end sets. */
static int no_end_members(struct reader *rd, struct json_object *o)
{
	static const char *const end_keys[] = {"finished_ms", "ended_ms", "fingerprint",
	        "fingerprint_len", "duration_s", "result", "error", "code", "retryable", "details",
	        "broker_generated", "retry_ms"};

	for(size_t i = 0; i < sizeof(end_keys) / sizeof(end_keys[0]); i++) {
		if(json_object_object_get_ex(o, end_keys[i], NULL))
			return bad(rd, "%s: on an unfinished job", end_keys[i]);
	}
	return 0;
}

static void set_flag(struct jw_job *j, bool on, unsigned flag)
{
	if(on)
		j->flags = (uint16_t)(j->flags | flag);
}

/* Reads the numbers and texts every status has. */
static int read_common(
        struct reader *rd, struct json_object *o, struct jw_job *j, const struct jw_clock *now)
{
	bool present;
	int64_t v = 0;
	int b;

	if(r_req_int(rd, o, "seq", 1, INT64_MAX, &v) != 0)
		return -1;
	j->seq = (uint64_t)v;
	if(r_text(rd, o, "name", json_type_string, true, &j->name) != 0 ||
	        r_text(rd, o, "worker", json_type_string, true, &j->worker) != 0 ||
	        r_text(rd, o, "station", json_type_string, true, &j->station) != 0 ||
	        r_text(rd, o, "steps", json_type_array, false, &j->steps) != 0 ||
	        r_text(rd, o, "step", json_type_string, true, &j->step) != 0 ||
	        r_text(rd, o, "message", json_type_string, false, &j->message) != 0)
		return -1;
	if(r_num(rd, o, "heartbeat_interval_s", 0, 86400, &present, &j->heartbeat_interval_s) != 0)
		return -1;
	if(!present || !(j->heartbeat_interval_s > 0))
		return bad(rd, "heartbeat_interval_s: missing or out of range");
	if(r_num(rd, o, "progress", 0, 100, &present, &j->progress) != 0)
		return -1;
	set_flag(j, present, JW_JF_PROGRESS);
	if(r_count(rd, o, "current", j, &j->current, JW_JX_CURRENT, &present) != 0)
		return -1;
	set_flag(j, present, JW_JF_CURRENT);
	if(r_count(rd, o, "total", j, &j->total, JW_JX_TOTAL, &present) != 0)
		return -1;
	set_flag(j, present, JW_JF_TOTAL);
	if(r_num(rd, o, "eta_s", 0, HUGE_VAL, &present, &j->eta_s) != 0 ||
	        r_bool(rd, o, "eta_estimated", &b) != 0)
		return -1;
	if(present != (b >= 0))
		return bad(rd, "eta_s and eta_estimated go together");
	set_flag(j, present, JW_JF_ETA);
	set_flag(j, b == 1, JW_JF_ETA_EST);
	if(r_count(rd, o, "items_added", j, &j->items_added, JW_JX_ADDED, &present) != 0)
		return -1;
	set_flag(j, present, JW_JF_ADDED);
	if(r_count(rd, o, "items_failed", j, &j->items_failed, JW_JX_FAILED, &present) != 0)
		return -1;
	set_flag(j, present, JW_JF_FAILED_ITEMS);
	if(r_ts(rd, o, "first_seen_ms", true, &present, &j->first_seen_ms) != 0 ||
	        r_ts(rd, o, "updated_ms", true, &present, &j->updated_ms) != 0 ||
	        r_ts(rd, o, "heartbeat_ms", true, &present, &j->heartbeat_ms) != 0)
		return -1;
	if(r_ts(rd, o, "started_ms", false, &present, &j->started_ms) != 0)
		return -1;
	set_flag(j, present, JW_JF_STARTED);
	if(r_ts(rd, o, "cancel_ms", false, &present, &j->cancel_ms) != 0)
		return -1;
	set_flag(j, present, JW_JF_CANCEL);
	/* The estimator: all four or none. */
	if(r_num(rd, o, "est_progress", 0, 100, &present, &j->est_progress) != 0)
		return -1;
	if(present) {
		bool p1, p2;

		if(r_req_int(rd, o, "est_ms", INT64_MIN / 4, INT64_MAX / 4, &v) != 0 ||
		        r_num(rd, o, "est_rate", 0, HUGE_VAL, &p1, &j->est_rate) != 0 ||
		        r_num(rd, o, "est_weight", 0, 1, &p2, &j->est_weight) != 0)
			return -1;
		if(!p1 || !p2)
			return bad(rd, "est_rate and est_weight are required with est_progress");
		j->est_mono = real_to_mono(v, now);
		j->flags |= JW_JF_EST_ANCHOR;
	} else if(json_object_object_get_ex(o, "est_ms", NULL) ||
	          json_object_object_get_ex(o, "est_rate", NULL) ||
	          json_object_object_get_ex(o, "est_weight", NULL)) {
		return bad(rd, "est_progress: missing");
	}
	if(r_bool(rd, o, "est_reanchor", &b) != 0)
		return -1;
	set_flag(j, b == 1, JW_JF_REANCHOR);
	if(r_int(rd, o, "attempt", 1, UINT16_MAX, &present, &v) != 0)
		return -1;
	j->retries = present ? (uint16_t)(v - 1) : 0;
	return 0;
}

/* Builds the job a record describes, not yet in the table. */
static struct jw_job *read_job(struct reader *rd, struct json_object *o, const struct jw_clock *now)
{
	const char *session = NULL, *jobid = NULL;
	enum jw_job_status status = JW_JOB_RUNNING;
	struct jw_job *j = NULL;
	int64_t v;
	bool present;

	if(!json_object_is_type(o, json_type_object)) {
		bad(rd, "not a JSON object");
		return NULL;
	}
	if(r_int(rd, o, "v", 0, INT64_MAX, &present, &v) != 0)
		return NULL;
	if(!present) {
		bad(rd, "v: missing");
		return NULL;
	}
	if(v != RECORD_VERSION) {
		bad(rd, "v: version %" PRId64 " not supported", v);
		return NULL;
	}
	if(only_known(rd, o, known_keys, sizeof(known_keys) / sizeof(known_keys[0]), "") != 0 ||
	        read_ids(rd, o, &session, &jobid) != 0 || read_status(rd, o, &status) != 0)
		return NULL;
	if(!session || !jobid)
		return NULL;
	j = jw_jobs__job_new(rd->jobs, session, strlen(session), jobid, strlen(jobid));
	if(!j) {
		rd->oom = true;
		bad(rd, "out of memory");
		return NULL;
	}
	j->status = (uint8_t)status;
	if(read_common(rd, o, j, now) != 0 || read_review(rd, o, j) != 0 ||
	        read_decision(rd, o, j) != 0)
		goto out;
	if((status == JW_JOB_WAITING) != (j->review != NULL)) {
		bad(rd, "validation: %s", j->review ? "only on a waiting job" : "missing on a waiting job");
		goto out;
	}
	if(status == JW_JOB_COMPLETE || status == JW_JOB_FAILED) {
		if(read_end(rd, o, j, status) != 0)
			goto out;
	} else {
		if(no_end_members(rd, o) != 0 ||
		        r_req_int(rd, o, "deadline_ms", INT64_MIN / 4, INT64_MAX / 4, &v) != 0)
			goto out;
		j->deadline_mono = real_to_mono(v, now);
	}
	return j;
out:
	jw_jobs__job_free(rd->jobs, j);
	return NULL;
}

int jw_jobs_restore(struct jw_jobs *jobs, const void *rec, size_t len, const struct jw_clock *now,
        char *err, size_t errlen)
{
	struct reader rd = {jobs, err, errlen, false};
	struct json_object *doc = NULL;
	struct jw_json_error jerr;
	struct jw_job *j = NULL, *old;
	int rc = -1;

	if(err && errlen)
		err[0] = '\0';
	if(!jobs || !rec || !now) {
		bad(&rd, "invalid arguments");
		goto out;
	}
	if(jw_json_parse(rec, len, RECORD_MAX_DEPTH, &doc, &jerr) != 0) {
		bad(&rd, "%s", jerr.message);
		goto out;
	}
	if(!doc) {
		bad(&rd, "not a JSON object");
		goto out;
	}
	j = read_job(&rd, doc, now);
	if(!j)
		goto out;
	old = jw_jobs_find(jobs, jw_job_session(j), jw_job_id(j));
	if(old) {
		/* The newest record of a key wins. */
		jw_jobs__detach(jobs, old);
		jw_jobs__job_free(jobs, old);
	} else {
		if(jobs->table.count >= jobs->cfg.max_jobs &&
		        jw_heap_size(&jobs->heaps[JW_HEAP_ENDED]) == 0) {
			bad(&rd, "job table full: %zu unfinished jobs", jobs->table.count);
			goto out;
		}
		if(jw_jobs__reserve(jobs) != 0) {
			bad(&rd, "out of memory");
			goto out;
		}
		if(jobs->table.count >= jobs->cfg.max_jobs)
			(void)jw_jobs__evict_one(jobs);
	}
	jw_jobs__insert(jobs, j);
	j = NULL;
	rc = 0;
out:
	jw_jobs__job_free(jobs, j);
	json_object_put(doc);
	return rc;
}
