/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The one place where what an event does is carried out. The job table
 * decides (jw_jobs_step: a set of enum jw_effect); jw_effects__run turns
 * the set into the broker's actions, in the set's order: the held state,
 * the refusal, the log line, the delivery (with "ts" added), the state
 * topic, the job's record, the journal, the counters. The callers (a
 * PUBLISH, a will, a stalled job) only describe the event (struct
 * jw_event_ctx, plugin.h). Inline, so that each caller's constant parts
 * (a PUBLISH is always durable and has its message) fold away on the
 * per-message path; the rest is in effects.c. Broker thread only.
 */
#ifndef JW_EFFECTS_H
#define JW_EFFECTS_H

#include "plugin.h"

#include "jobs/jobs.h"
#include "topic.h"

/* effects.c: the parts below, out of line. */
int jw_effects__add_ts(struct jw_plugin *p, struct mosquitto_evt_message *ed,
        const struct jw_jnode *ev, const struct jw_clock *now);
void jw_effects__publish_event(struct jw_plugin *p, const struct jw_event_ctx *e);
/* Offers the event to the journal (on). Returns 0, or -1 (v filled) when
 * the publisher must be refused: its record could not be spooled. */
int jw_effects__journal(struct jw_plugin *p, const struct jw_effects *fx,
        const struct jw_event_ctx *e, struct jw_verdict *v);
/* Keeps the delivered event in its job's history (history.c). */
void jw_effects__history(
        struct jw_plugin *p, const struct jw_effects *fx, const struct jw_event_ctx *e);
/* HELD_STATE, REFUSE, LOG and REVIEW: JW_RUN_DENY when refused. */
enum jw_run jw_effects__rare(struct jw_plugin *p, const struct jw_effects *fx,
        const struct jw_event_ctx *e, const struct jw_verdict *v);

/* Carries out fx (from jw_jobs_step) for e, in the order of enum
 * jw_effect. v: the step's verdict; also filled when a journal record
 * cannot be spooled (the event is then refused: JW_RUN_DENY). */
static inline enum jw_run jw_effects__run(struct jw_plugin *p, const struct jw_effects *fx,
        const struct jw_event_ctx *e, struct jw_verdict *v)
{
	unsigned set = fx->set;
	enum jw_run run = JW_RUN_PASS;

	/* One test for the four that nearly every event skips. */
	if(__builtin_expect(
	           (set & (JW_FX_HELD_STATE | JW_FX_REFUSE | JW_FX_LOG | JW_FX_REVIEW)) != 0, 0) &&
	        jw_effects__rare(p, fx, e, v) == JW_RUN_DENY) {
		return JW_RUN_DENY;
	}
	if(set & JW_FX_DELIVER) {
		if(e->msg) {
			/* The state already changed: a failed ts insertion (out of
			 * memory) delivers the event as published rather than
			 * refusing it now. */
			if(jw_effects__add_ts(p, e->msg, e->ev, e->now) == 0) {
				p->counters.ts_added++;
			}
		} else if(e->origin == JW_FROM_BROKER) {
			jw_effects__publish_event(p, e);
		}
	}
	if(set & JW_FX_SUPPRESS) {
		run = JW_RUN_SUPPRESS;
	}
	if(set & JW_FX_STATE_NOW) {
		jw_table__publish_state(p, fx->job, e->now);
	} else if(set & JW_FX_COALESCED) {
		p->counters.state_coalesced++;
	}
	/* Checked here: a record's frame (a key buffer) is not worth setting
	 * up for every event without a data dir. */
	if((set & JW_FX_PERSIST) && p->persist) {
		if(e->durable) {
			jw_table__persist(p, fx->job, e->now);
		} else {
			jw_table__hold(p, fx->job);
		}
	}
	if(set & JW_FX_COUNT_DUPLICATE) {
		p->counters.duplicates++;
	}
	/* Into the spool (one write) before the broker acknowledges. If even
	 * that fails the publisher is refused and retries; its retry is a
	 * duplicate, spooled again (PostgreSQL keeps the first). With the
	 * journal off there is nothing to offer (no call per message). */
	if((set & JW_FX_JOURNAL) && p->journal && jw_effects__journal(p, fx, e, v)) {
		return jw_effects__refuse(p, e, v);
	}
	/* Delivered: kept in its job's history, as it went out. */
	if((set & JW_FX_DELIVER) && p->opt.history_events) {
		jw_effects__history(p, fx, e);
	}
	if(set & JW_FX_COUNT_ACCEPT) {
		jw_notice__count_accept(p, e->t->event);
	}
	return run;
}

#endif
