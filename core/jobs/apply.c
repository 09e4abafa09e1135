/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The lifecycle rules: jw_jobs_apply, which folds one checked event into
 * its job or refuses it (docs/lifecycle.md). Every allocation an event
 * needs is made before the job is touched, so running out of memory
 * leaves the table exactly as it was.
 */
#include "jdoc.h"
#include "internal.h"
#include "lookup.h"
#include "number.h"
#include "util/hash.h"
#include "util/id.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Overall progress derived as 100 * current / total can differ from the
 * same figure sent as progress in the last bits; such a difference is not
 * "backwards" (the job keeps the larger value). */
#define PROGRESS_SLACK 1e-9

/* ---- reading events ---- */

enum kind { K_OTHER, K_STARTED, K_PROGRESS, K_COMPLETE, K_FAILED, K_VALIDATION };

static enum kind kind_of(const char *type)
{
	/* Progress first: nearly every event is one. Byte by byte, stopping
	 * at the first difference, so never past a shorter type's NUL. */
	if(type[0] == 'p' && type[1] == 'r' && type[2] == 'o' && type[3] == 'g' && type[4] == 'r' &&
	        type[5] == 'e' && type[6] == 's' && type[7] == 's' && type[8] == '\0')
		return K_PROGRESS;
	if(strcmp(type, "started") == 0)
		return K_STARTED;
	if(strcmp(type, "complete") == 0)
		return K_COMPLETE;
	if(strcmp(type, "failed") == 0)
		return K_FAILED;
	if(strcmp(type, "validation-required") == 0)
		return K_VALIDATION;
	return K_OTHER;
}

bool jw_jobs_type_is_urgent(const char *type)
{
	if(!type)
		return false;
	/* Asked before every event: the first letter rules out progress. */
	switch(type[0]) {
		case 'c':
			return strcmp(type, "complete") == 0;
		case 'f':
			return strcmp(type, "failed") == 0;
		case 'v':
			return strcmp(type, "validation-required") == 0;
		default:
			return false;
	}
}

/*
 * ev's member key (NULL when absent). Keys are unique (the parser refuses
 * duplicates), so the first match is the only one.
 */
static const struct jw_jnode *member(const struct jw_jnode *ev, const char *key, enum jw_jtype t)
{
	const struct jw_jnode *m = jw_jnode_get(ev, key);

	if(!m || m->type != t)
		return NULL;
	return m;
}

/* *out = m's value when m is a finite number. */
static bool num_of(const struct jw_jnode *m, double *out)
{
	double d;

	if(!m || (m->type != JW_J_INT && m->type != JW_J_DOUBLE))
		return false;
	d = jw_jnode_double(m);
	if(!isfinite(d))
		return false;
	*out = d;
	return true;
}

static bool num_member(const struct jw_jnode *ev, const char *key, double *out)
{
	return num_of(jw_jnode_get(ev, key), out);
}

/*
 * The members a progress event is folded from, found in one walk over the
 * event instead of one lookup per name (NULL: absent). Keys are unique
 * (the parser refuses duplicates), so the first match is the only one.
 */
struct pfields {
	const struct jw_jnode *progress, *current, *total, *step, *message, *eta_s, *items_added,
	        *items_failed;
	/* The numbers among them, read once: num_of's value where the bit of
	 * PF_<name> in has is set (present and a finite number). */
	double v_progress, v_current, v_total, v_eta_s, v_added, v_failed;
	unsigned has;
};

#define PF_PROGRESS 0x01u
#define PF_CURRENT 0x02u
#define PF_TOTAL 0x04u
#define PF_ETA 0x08u
#define PF_ADDED 0x10u
#define PF_FAILED 0x20u

/* Records m (a member named as f's bit says) when it is a finite number:
 * num_of, with an integer (always finite) decided by its type alone. */
static inline void pf_num(struct pfields *f, const struct jw_jnode *m, double *v, unsigned bit)
{
	if(m->type == JW_J_INT) {
		*v = (double)m->u.i;
		f->has |= bit;
	} else if(m->type == JW_J_DOUBLE && isfinite(m->u.d)) {
		*v = m->u.d;
		f->has |= bit;
	}
}

/*
 * Whether key k (len bytes, 4 <= len <= 16) equals lit of the same length:
 * two overlapping loads from each side, so never a byte past either end.
 * With lit a literal, its words are constants after inlining.
 */
static inline bool key_eq(const char *k, const char *lit, size_t len)
{
	if(len <= 8) {
		uint32_t a, b, c, d;

		memcpy(&a, k, 4);
		memcpy(&b, lit, 4);
		memcpy(&c, k + len - 4, 4);
		memcpy(&d, lit + len - 4, 4);
		return a == b && c == d;
	} else {
		uint64_t a, b, c, d;

		memcpy(&a, k, 8);
		memcpy(&b, lit, 8);
		memcpy(&c, k + len - 8, 8);
		memcpy(&d, lit + len - 8, 8);
		return a == b && c == d;
	}
}

#define KEY_IS(m, lit) key_eq((m)->key, lit, sizeof(lit) - 1)

static void pfields_scan(const struct jw_jnode *ev, struct pfields *f)
{
	f->progress = f->current = f->total = f->step = f->message = NULL;
	f->eta_s = f->items_added = f->items_failed = NULL;
	f->has = 0;
	for(uint32_t i = 0; i < ev->n; i++) {
		const struct jw_jnode *m = &ev->u.kids[i];

		switch(m->keylen) {
			case 4:
				if(KEY_IS(m, "step"))
					f->step = m;
				break;
			case 5:
				if(KEY_IS(m, "total")) {
					f->total = m;
					pf_num(f, m, &f->v_total, PF_TOTAL);
				} else if(KEY_IS(m, "eta_s")) {
					f->eta_s = m;
					pf_num(f, m, &f->v_eta_s, PF_ETA);
				}
				break;
			case 7:
				if(KEY_IS(m, "current")) {
					f->current = m;
					pf_num(f, m, &f->v_current, PF_CURRENT);
				} else if(KEY_IS(m, "message")) {
					f->message = m;
				}
				break;
			case 8:
				if(KEY_IS(m, "progress")) {
					f->progress = m;
					pf_num(f, m, &f->v_progress, PF_PROGRESS);
				}
				break;
			case 11:
				if(KEY_IS(m, "items_added")) {
					f->items_added = m;
					pf_num(f, m, &f->v_added, PF_ADDED);
				}
				break;
			case 12:
				if(KEY_IS(m, "items_failed")) {
					f->items_failed = m;
					pf_num(f, m, &f->v_failed, PF_FAILED);
				}
				break;
			default:
				break;
		}
	}
}

static int bool_member(const struct jw_jnode *ev, const char *key)
{
	const struct jw_jnode *m = member(ev, key, JW_J_BOOL);

	return m ? (m->b ? 1 : 0) : -1;
}

static int64_t event_ts(const struct jw_jnode *ev, const struct jw_clock *now)
{
	const struct jw_jnode *m = member(ev, "ts", JW_J_STRING);
	int64_t ms;

	if(m && jw_jobs__parse_ts(m->u.s, m->n, &ms))
		return ms;
	return now->real_ms;
}

/* The event's overall progress: its progress, else 100 * current / total
 * when total > 0. false when it carries neither. */
static bool overall_of(const struct pfields *f, double *p, bool *from_current)
{
	double v;

	if(f->has & PF_PROGRESS) {
		v = f->v_progress;
		*from_current = false;
	} else if((f->has & (PF_CURRENT | PF_TOTAL)) == (PF_CURRENT | PF_TOTAL) && f->v_total > 0) {
		v = 100.0 * f->v_current / f->v_total;
		*from_current = true;
	} else {
		return false;
	}
	*p = v < 0 ? 0 : v > 100 ? 100 : v;
	return true;
}

static void verdict(struct jw_verdict *v, enum jw_reason reason, const char *field, const char *fmt,
        ...) __attribute__((format(printf, 4, 5)));

static void verdict(
        struct jw_verdict *v, enum jw_reason reason, const char *field, const char *fmt, ...)
{
	va_list ap;

	v->reason = reason;
	v->keyword[0] = '\0';
	if(snprintf(v->field, sizeof(v->field), "%s", field) < 0)
		v->field[0] = '\0';
	va_start(ap, fmt);
	if(vsnprintf(v->message, sizeof(v->message), fmt, ap) < 0)
		v->message[0] = '\0';
	va_end(ap);
}

static void verdict_clear(struct jw_verdict *v)
{
	v->reason = JW_REASON_NONE;
	v->field[0] = '\0';
	v->keyword[0] = '\0';
	v->message[0] = '\0';
}

/* ---- applying events ---- */

/*
 * The new value of a text most events rewrite (step, message): either a
 * plain string that fits the job's buffer, written over it by fold (no
 * allocation), or a new text that replaces the buffer.
 */
struct slot_change {
	const struct jw_jnode *in; /* write this over the job's text */
	char *text;                /* else this replaces it (NULL: no change) */
	uint32_t cap;              /* bytes of text, or of the job's buffer for
	                              in; 0: strlen + 1 */
};

/* Everything an event needs allocated, made before the job changes. */
struct change {
	char *name, *worker, *steps, *station;
	struct slot_change step, message;
	struct jw_job_review *review;
	struct jw_job_end *end;
	double overall; /* K_PROGRESS: its overall progress when sampled */
	bool sampled, from_current;
	/* K_PROGRESS: the event's members; last, as only progress events
	 * fill it (pfields_scan), so nothing else needs it cleared. */
	struct pfields pf;
};

static void change_free(struct jw_jobs *jobs, struct change *c)
{
	/* After a fold everything has moved into the job: nothing to call. */
	if(c->step.text)
		jw_jobs__text_free_cap(jobs, c->step.text, c->step.cap);
	if(c->message.text)
		jw_jobs__text_free_cap(jobs, c->message.text, c->message.cap);
	if(((uintptr_t)c->name | (uintptr_t)c->worker | (uintptr_t)c->steps | (uintptr_t)c->station |
	           (uintptr_t)c->review | (uintptr_t)c->end) == 0)
		return;
	jw_jobs__text_free(jobs, c->name);
	jw_jobs__text_free(jobs, c->worker);
	jw_jobs__text_free(jobs, c->station);
	jw_jobs__text_free(jobs, c->steps);
	jw_jobs__review_free(jobs, c->review);
	jw_jobs__end_free(jobs, c->end);
}

/*
 * Prepares sc from m (a string member or NULL) for the job's text have
 * (NULL: none yet) of have_cap bytes. A plain string is written in place
 * when it fits and does not leave more than about half the buffer unused,
 * so texts whose length varies a little (counters in a status line) keep
 * their buffer. -1: out of memory.
 */
static int slot_prepare_slow(struct jw_jobs *jobs, const char *have, uint32_t have_cap,
        const struct jw_jnode *m, struct slot_change *sc)
{
	size_t need, cap;

	if(!m || m->type != JW_J_STRING)
		return 0;
	if(!jw_jobs__node_plain(m)) {
		sc->text = jw_jobs__text_of_node_slow(jobs, m);
		return sc->text ? 0 : -1;
	}
	need = (size_t)m->n + 3;
	if(have) {
		cap = have_cap ? have_cap : strlen(have) + 1;
		if(need <= cap && cap / 2 <= need + 32) {
			sc->in = m;
			sc->cap = (uint32_t)cap;
			return 0;
		}
	}
	/* A first text gets the next multiple of 16, one that outgrew its
	 * buffer a quarter more, so a growing text does not reallocate on
	 * every event. */
	cap = ((have ? need + need / 4 : need) + 15) & ~(size_t)15;
	if(cap > UINT32_MAX)
		cap = need;
	sc->text = jw_jobs__alloc(jobs, cap);
	if(!sc->text)
		return -1;
	jw_jobs__put_quoted(sc->text, m);
	/* A plain text holds no NUL: strlen + 1 is exact for the fallback. */
	sc->cap = cap == need ? 0 : (uint32_t)cap;
	return 0;
}

/*
 * slot_prepare_slow with its commonest case inline: a string the parser
 * marked plain that fits the job's buffer (the same test), as a status
 * line or phase rewritten on every progress event is.
 */
static inline int slot_prepare(struct jw_jobs *jobs, const char *have, uint32_t have_cap,
        const struct jw_jnode *m, struct slot_change *sc)
{
	if(!m || m->type != JW_J_STRING)
		return 0;
	if(have && have_cap && m->plain) {
		size_t need = (size_t)m->n + 3;

		if(need <= have_cap && have_cap / 2 <= need + 32) {
			sc->in = m;
			sc->cap = have_cap;
			return 0;
		}
	}
	return slot_prepare_slow(jobs, have, have_cap, m, sc);
}

/* Puts what slot_prepare made into the job's text *dst of *dcap bytes.
 * Inline, as it was before the rules had a file of their own: every
 * progress event. */
static inline __attribute__((always_inline)) void slot_put(
        struct jw_jobs *jobs, char **dst, uint32_t *dcap, struct slot_change *sc)
{
	if(sc->in) {
		jw_jobs__put_quoted(*dst, sc->in);
		*dcap = sc->cap;
		sc->in = NULL;
		return;
	}
	if(!sc->text)
		return;
	jw_jobs__text_free_cap(jobs, *dst, *dcap);
	*dst = sc->text;
	*dcap = sc->cap;
	sc->text = NULL;
	sc->cap = 0;
}

/* *out = the member's text when present with type t. -1: out of memory. */
static int text_member(struct jw_jobs *jobs, const struct jw_jnode *ev, const char *key,
        enum jw_jtype t, char **out)
{
	const struct jw_jnode *m = member(ev, key, t);

	*out = NULL;
	if(!m)
		return 0;
	*out = jw_jobs__text_of_node(jobs, m);
	return *out ? 0 : -1;
}

/* A required string the schema guarantees; a fallback keeps the state
 * valid should a schema file be edited to drop the requirement. */
static char *required_text(
        struct jw_jobs *jobs, const struct jw_jnode *ev, const char *key, const char *fallback)
{
	const struct jw_jnode *m = member(ev, key, JW_J_STRING);

	if(m && m->n > 0)
		return jw_jobs__text_of_node(jobs, m);
	return jw_jobs__text_dup(jobs, fallback, strlen(fallback));
}

static int prepare(struct jw_jobs *jobs, const struct jw_job *j, struct change *c, enum kind k,
        const struct jw_jnode *ev)
{
	switch(k) {
		case K_STARTED:
			if(text_member(jobs, ev, "name", JW_J_STRING, &c->name) ||
			        text_member(jobs, ev, "worker", JW_J_STRING, &c->worker) ||
			        text_member(jobs, ev, "station", JW_J_STRING, &c->station) ||
			        text_member(jobs, ev, "steps", JW_J_ARRAY, &c->steps))
				return -1;
			return 0;
		case K_PROGRESS:
			if(slot_prepare(jobs, j ? j->step : NULL, j ? j->step_cap : 0, c->pf.step, &c->step) ||
			        slot_prepare(jobs, j ? j->message : NULL, j ? j->message_cap : 0, c->pf.message,
			                &c->message))
				return -1;
			return 0;
		case K_COMPLETE:
			c->end = jw_jobs__alloc(jobs, sizeof(*c->end));
			if(!c->end ||
			        slot_prepare(jobs, j ? j->message : NULL, j ? j->message_cap : 0,
			                member(ev, "message", JW_J_STRING), &c->message) ||
			        text_member(jobs, ev, "result", JW_J_OBJECT, &c->end->result))
				return -1;
			return 0;
		case K_FAILED:
			c->end = jw_jobs__alloc(jobs, sizeof(*c->end));
			if(!c->end)
				return -1;
			c->end->error = required_text(jobs, ev, "error", "\"failed\"");
			if(!c->end->error || text_member(jobs, ev, "code", JW_J_STRING, &c->end->code) ||
			        text_member(jobs, ev, "details", JW_J_OBJECT, &c->end->details))
				return -1;
			return 0;
		case K_VALIDATION: {
			struct jw_job_review *r = jw_jobs__alloc(jobs, sizeof(*r));
			double d;

			c->review = r;
			if(!r)
				return -1;
			r->reason = required_text(jobs, ev, "reason", "\"review required\"");
			if(!r->reason || text_member(jobs, ev, "item", JW_J_OBJECT, &r->item) ||
			        text_member(jobs, ev, "actions", JW_J_ARRAY, &r->actions))
				return -1;
			if(num_member(ev, "confidence", &d) && d >= 0 && d <= 1)
				r->confidence = d;
			if(num_member(ev, "threshold", &d) && d >= 0 && d <= 1) {
				r->threshold = d;
				r->has_threshold = true;
			}
			return 0;
		}
		case K_OTHER:
			break;
	}
	return 0;
}

/* Moves *src into *dst, freeing what *dst held, when *src is set. */
static void replace_text(struct jw_jobs *jobs, char **dst, char **src)
{
	if(!*src)
		return;
	jw_jobs__text_free(jobs, *dst);
	*dst = *src;
	*src = NULL;
}

static void set_status(struct jw_jobs *jobs, struct jw_job *j, enum jw_job_status s)
{
	jobs->by_status[j->status]--;
	jobs->by_status[s]++;
	j->status = (uint8_t)s;
}

int64_t jw_jobs__timeout_ms(const struct jw_job *j)
{
	double x = 3.0 * j->heartbeat_interval_s * 1000.0;
	int64_t r;

	/* llround without the library call, for every event: below 2^52
	 * the fraction x - r is exact, and a half rounds away from zero. */
	if(!(x >= 0 && x < 4503599627370496.0))
		return (int64_t)llround(x);
	r = (int64_t)x;
	return x - (double)r >= 0.5 ? r + 1 : r;
}

/*
 * Stores number m (whose value as a double is d) as count c of j: exactly
 * when it is an integer that fits int64, however written (9007199254740993,
 * 9007199254740993.0, 9.007199254740993e15), else as d.
 */
static void set_count(
        struct jw_job *j, union jw_jobs__count *c, unsigned bit, const struct jw_jnode *m, double d)
{
	int64_t i;

	if(m->type == JW_J_INT) {
		c->i = m->u.i;
		j->exact |= (uint8_t)bit;
	} else if(m->text && jw_number_text_int64(m->text, m->n, &i) == 1) {
		c->i = i;
		j->exact |= (uint8_t)bit;
	} else {
		c->d = d;
		j->exact &= (uint8_t)~bit;
	}
}

static void fold_started(struct jw_job *j, struct change *c, struct jw_jobs *jobs,
        const struct jw_jnode *ev, const struct jw_clock *now)
{
	double d;

	replace_text(jobs, &j->name, &c->name);
	replace_text(jobs, &j->worker, &c->worker);
	replace_text(jobs, &j->station, &c->station);
	replace_text(jobs, &j->steps, &c->steps);
	if(num_member(ev, "total", &d) && d >= 0) {
		set_count(j, &j->total, JW_JX_TOTAL, jw_jnode_get(ev, "total"), d);
		j->flags |= JW_JF_TOTAL;
	}
	if(num_member(ev, "heartbeat_interval_s", &d) && d > 0 && d <= 86400)
		j->heartbeat_interval_s = d;
	/* A repeated started (a worker reconnecting) keeps the first time. */
	if(!(j->flags & JW_JF_STARTED)) {
		j->started_ms = event_ts(ev, now);
		j->flags |= JW_JF_STARTED;
	}
}

static void fold_progress(
        struct jw_job *j, struct change *c, struct jw_jobs *jobs, const struct jw_clock *now)
{
	const struct pfields *f = &c->pf;
	double d = c->overall;
	bool sampled = c->sampled;

	if(sampled) {
		if(!(j->flags & JW_JF_PROGRESS) || d > j->progress)
			j->progress = d;
		j->flags |= JW_JF_PROGRESS;
	}
	if((f->has & (PF_CURRENT | PF_TOTAL)) == (PF_CURRENT | PF_TOTAL)) {
		set_count(j, &j->current, JW_JX_CURRENT, f->current, f->v_current);
		set_count(j, &j->total, JW_JX_TOTAL, f->total, f->v_total);
		j->flags |= JW_JF_CURRENT | JW_JF_TOTAL;
	}
	/* Absent members keep their last value: a status line or a phase
	 * stays shown until the worker says something else. */
	slot_put(jobs, &j->step, &j->step_cap, &c->step);
	slot_put(jobs, &j->message, &j->message_cap, &c->message);
	if((f->has & PF_ADDED) && f->v_added >= 0) {
		set_count(j, &j->items_added, JW_JX_ADDED, f->items_added, f->v_added);
		j->flags |= JW_JF_ADDED;
	}
	if((f->has & PF_FAILED) && f->v_failed >= 0) {
		set_count(j, &j->items_failed, JW_JX_FAILED, f->items_failed, f->v_failed);
		j->flags |= JW_JF_FAILED_ITEMS;
	}
	/* An event without an overall figure says nothing about the rate.
	 * jw_jobs__eta_sample's first test is repeated here: a sample closer
	 * than JW_ETA_MIN_DT_MS to an anchor it keeps changes nothing. */
	if(sampled && ((j->flags & (JW_JF_EST_ANCHOR | JW_JF_REANCHOR)) != JW_JF_EST_ANCHOR ||
	                      now->mono_ms - j->est_mono >= JW_ETA_MIN_DT_MS))
		jw_jobs__eta_sample(j, j->progress, now->mono_ms);
	if((f->has & PF_ETA) && f->v_eta_s >= 0) {
		j->eta_s = f->v_eta_s;
		j->flags = (uint16_t)((j->flags | JW_JF_ETA) & ~JW_JF_ETA_EST);
	} else if((j->flags & JW_JF_PROGRESS) && jw_jobs__eta_estimate(j, j->progress, &d)) {
		j->eta_s = d;
		j->flags |= JW_JF_ETA | JW_JF_ETA_EST;
	} else {
		j->flags = (uint16_t)(j->flags & ~(JW_JF_ETA | JW_JF_ETA_EST));
	}
	if(j->status == JW_JOB_WAITING) {
		jw_jobs__review_free(jobs, j->review);
		j->review = NULL;
		if(j->decision)
			j->decision->pending = false;
		set_status(jobs, j, JW_JOB_RUNNING);
	}
}

static void fold_end(struct jw_job *j, struct change *c, struct jw_jobs *jobs, enum kind k,
        const char *type, const struct jw_jnode *ev, const void *raw, size_t rawlen,
        const struct jw_clock *now)
{
	struct jw_job_end *e = c->end;
	double d;
	int b;

	c->end = NULL;
	j->end = e;
	e->finished_ms = event_ts(ev, now);
	e->ended_ms = now->real_ms;
	e->fp_hash = jw_jobs__fingerprint(type, raw, rawlen);
	e->fp_len = rawlen;
	slot_put(jobs, &j->message, &j->message_cap, &c->message);
	if(k == K_COMPLETE) {
		if(num_member(ev, "duration_s", &d) && d >= 0) {
			e->duration_s = d;
		} else {
			/* Without a started event the job is measured from when the
			 * broker first saw it. */
			int64_t from = (j->flags & JW_JF_STARTED) ? j->started_ms : j->first_seen_ms;
			e->duration_s = e->finished_ms > from ? (double)(e->finished_ms - from) / 1000.0 : 0;
		}
		e->flags |= JW_EF_DURATION;
		j->progress = 100;
		j->flags |= JW_JF_PROGRESS;
	} else {
		if((b = bool_member(ev, "retryable")) >= 0)
			e->flags |= (uint8_t)(JW_EF_HAS_RETRYABLE | (b ? JW_EF_RETRYABLE : 0));
		if((b = bool_member(ev, "broker_generated")) >= 0)
			e->flags |= (uint8_t)(JW_EF_HAS_BROKER_GEN | (b ? JW_EF_BROKER_GEN : 0));
		if(b == 1 && e->code && strcmp(e->code, "\"heartbeat_timeout\"") == 0)
			jobs->stalled++;
	}
	/* A finished job has no time left. */
	j->flags = (uint16_t)(j->flags & ~(JW_JF_ETA | JW_JF_ETA_EST));
	jw_jobs__review_free(jobs, j->review);
	j->review = NULL;
	if(j->decision)
		j->decision->pending = false;
	set_status(jobs, j, k == K_COMPLETE ? JW_JOB_COMPLETE : JW_JOB_FAILED);
}

/* Folds an accepted worker event; cannot fail (c holds the allocations). */
static void fold(struct jw_jobs *jobs, struct jw_job *j, enum kind k, const char *type,
        const struct jw_jnode *ev, const void *raw, size_t rawlen, struct change *c,
        const struct jw_clock *now)
{
	switch(k) {
		case K_STARTED:
			fold_started(j, c, jobs, ev, now);
			break;
		case K_PROGRESS:
			fold_progress(j, c, jobs, now);
			break;
		case K_COMPLETE:
		case K_FAILED:
			fold_end(j, c, jobs, k, type, ev, raw, rawlen, now);
			break;
		case K_VALIDATION:
			jw_jobs__review_free(jobs, j->review);
			j->review = c->review;
			c->review = NULL;
			j->review->asked_ms = event_ts(ev, now);
			/* A new question: the answer to the last one goes. */
			jw_jobs__decision_free(jobs, j->decision);
			j->decision = NULL;
			/* The worker is paused for a person: the time until the next
			 * progress says nothing about its speed. */
			j->flags |= JW_JF_REANCHOR;
			if(j->status != JW_JOB_WAITING)
				set_status(jobs, j, JW_JOB_WAITING);
			break;
		case K_OTHER:
			break;
	}
	j->seq++;
	j->updated_ms = now->real_ms;
	j->heartbeat_ms = now->real_ms;
	if(j->end) {
		jw_heap_remove(&jobs->heaps[JW_HEAP_STALL], j);
		jw_jobs__heap_set(jobs, JW_HEAP_ENDED, j);
	} else {
		j->deadline_mono = now->mono_ms + jw_jobs__timeout_ms(j);
		/* Nearly always a later deadline of a job already filed: the
		 * lazy heap leaves it (jw_jobs__stall_arm's own test). */
		if(j->heap_pos[JW_HEAP_STALL] == 0 || j->deadline_mono < j->stall_key)
			jw_jobs__stall_arm(jobs, j);
	}
}

static int apply_control(struct jw_jobs *jobs, struct jw_job *j, const char *job,
        const struct jw_jnode *ev, const struct jw_clock *now, struct jw_apply_result *res,
        struct jw_verdict *v)
{
	const struct jw_jnode *action;

	res->outcome = JW_APPLY_REJECT;
	if(!j) {
		verdict(v, JW_REASON_UNKNOWN_JOB, "", "no such job: %s", job);
		return 0;
	}
	action = member(ev, "action", JW_J_STRING);
	/* A retry is the one request a finished job takes (retry.c). */
	if(action && strcmp(action->u.s, "retry") == 0) {
		if(!jw_jobs__retry_request(jobs, j, job, now, v))
			return 0;
		goto accept;
	}
	if(j->end) {
		verdict(v, JW_REASON_JOB_FINISHED, "", "job %s is already %s", job,
		        jw_job_status_name((enum jw_job_status)j->status));
		return 0;
	}
	if(action && strcmp(action->u.s, "review") == 0) {
		if(jw_jobs__apply_review(jobs, j, job, ev, now, v) != 0) {
			verdict(v, JW_REASON_INTERNAL, "", "out of memory");
			return -1;
		}
		if(v->reason != JW_REASON_NONE)
			return 0;
		res->review = true;
		res->urgent = true;
	}
	/* A repeated cancel is delivered again (the worker may have missed
	 * the first) but keeps the time of the first request. */
	if(action && strcmp(action->u.s, "cancel") == 0 && !(j->flags & JW_JF_CANCEL)) {
		j->flags |= JW_JF_CANCEL;
		j->cancel_ms = now->real_ms;
	}
accept:
	/* Not worker activity: the stall deadline and last_heartbeat_at stay. */
	j->seq++;
	j->updated_ms = now->real_ms;
	res->outcome = JW_APPLY_ACCEPT;
	res->job = j;
	res->seq = j->seq;
	return 0;
}

/* The verdict for a progress event c whose overall figure is below j's.
 * Out of line: its buffers would otherwise weigh on every event's frame. */
static __attribute__((noinline)) void backwards(
        const struct jw_job *j, const struct change *c, struct jw_verdict *v)
{
	char got[32], have[32], cur[32], tot[32];
	double d = 0;

	jw_jobs__fmt_num(have, sizeof(have), j->progress);
	if(!c->from_current) {
		(void)num_of(c->pf.progress, &d);
		jw_jobs__fmt_num(got, sizeof(got), d);
		verdict(v, JW_REASON_PROGRESS_BACKWARDS, "/progress",
		        "/progress: %s is below the job's progress %s", got, have);
	} else {
		(void)num_of(c->pf.current, &d);
		jw_jobs__fmt_num(cur, sizeof(cur), d);
		(void)num_of(c->pf.total, &d);
		jw_jobs__fmt_num(tot, sizeof(tot), d);
		jw_jobs__fmt_num(got, sizeof(got), c->overall);
		verdict(v, JW_REASON_PROGRESS_BACKWARDS, "/current",
		        "/current: %s of %s (%s%%) is below the job's progress %s", cur, tot, got, have);
	}
}

int jw_jobs_apply(struct jw_jobs *jobs, const char *session, const char *job, const char *type,
        const struct jw_jnode *event, const void *raw, size_t rawlen, const struct jw_clock *now,
        struct jw_apply_result *res, struct jw_verdict *v)
{
	struct change c;
	struct jw_job *j, *nj = NULL;
	enum kind k;
	size_t slen, jlen;
	uint64_t h;
	bool reopen = false;
	int rc = -1;

	memset(&c, 0, offsetof(struct change, pf));
	memset(res, 0, sizeof(*res));
	res->outcome = JW_APPLY_REJECT;
	verdict_clear(v);
	if(!jobs || !session || !job || !type || !event || !now || (!raw && rawlen) ||
	        event->type != JW_J_OBJECT) {
		verdict(v, JW_REASON_INTERNAL, "", "invalid arguments");
		return 0;
	}
	slen = jw_id_len(session);
	jlen = jw_id_len(job);
	if(slen == 0 || jlen == 0) {
		verdict(v, JW_REASON_INVALID_TOPIC, "", "invalid session or job id");
		return 0;
	}
	if(!raw)
		raw = "";
	h = key_hash(jobs->seed, session, slen, job, jlen);
	j = find_key(jobs, h, session, slen, job, jlen);
	k = kind_of(type);
	if(k == K_OTHER && strcmp(type, "control") == 0)
		return apply_control(jobs, j, job, event, now, res, v);

	if(j && j->end) {
		if(rawlen == j->end->fp_len && jw_jobs__fingerprint(type, raw, rawlen) == j->end->fp_hash) {
			res->outcome = JW_APPLY_DUPLICATE;
			res->job = j;
			res->seq = j->seq;
			return 0;
		}
		/* After an accepted retry, started opens the next attempt. */
		if(k != K_STARTED || !jw_jobs__retry_opens(j)) {
			verdict(v, JW_REASON_JOB_FINISHED, "", "job %s is already %s", job,
			        jw_job_status_name((enum jw_job_status)j->status));
			return 0;
		}
		reopen = true;
	}
	if(k == K_PROGRESS) {
		pfields_scan(event, &c.pf);
		c.sampled = overall_of(&c.pf, &c.overall, &c.from_current);
	}
	if(k == K_PROGRESS && j && (j->flags & JW_JF_PROGRESS) && c.sampled &&
	        c.overall < j->progress - PROGRESS_SLACK) {
		backwards(j, &c, v);
		return 0;
	}
	if(!j && jobs->table.count >= jobs->cfg.max_jobs &&
	        jw_heap_size(&jobs->heaps[JW_HEAP_ENDED]) == 0) {
		verdict(v, JW_REASON_TOO_MANY_JOBS, "", "job table full: %zu unfinished jobs",
		        jobs->table.count);
		return 0;
	}
	if(prepare(jobs, j, &c, k, event) != 0)
		goto out;
	if(!j) {
		nj = jw_jobs__job_new(jobs, session, slen, job, jlen);
		if(!nj || jw_jobs__reserve(jobs) != 0)
			goto out;
		/* Only now, with nothing left that can fail, make room. */
		if(jobs->table.count >= jobs->cfg.max_jobs)
			(void)jw_jobs__evict_one(jobs);
		nj->first_seen_ms = now->real_ms;
		nj->deadline_mono = now->mono_ms + jw_jobs__timeout_ms(nj);
		jw_jobs__insert(jobs, nj);
		j = nj;
		nj = NULL;
		res->created = true;
	}
	if(reopen)
		jw_jobs__retry_open(jobs, j);
	fold(jobs, j, k, type, event, raw, rawlen, &c, now);
	res->outcome = JW_APPLY_ACCEPT;
	res->job = j;
	res->seq = j->seq;
	res->urgent = k == K_COMPLETE || k == K_FAILED || k == K_VALIDATION;
	rc = 0;
out:
	change_free(jobs, &c);
	jw_jobs__job_free(jobs, nj);
	if(rc != 0) {
		memset(res, 0, sizeof(*res));
		res->outcome = JW_APPLY_REJECT;
		verdict(v, JW_REASON_INTERNAL, "", "out of memory");
	}
	return rc;
}
