/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Wills: a write check that MESSAGE never followed. A will known at its
 * check (right after its client's DISCONNECT) is finished there (acl.c);
 * any other is settled by the broker's next event, here. docs/design.md,
 * "Telling a will from a publish". Broker thread only.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_api.h"

#include "effects.h"
#include "jobs/jobs.h"
#include "stations.h"
#include "topic.h"
#include "write_check.h"

/*
 * Checks and applies a will (w) like a PUBLISH: counters, notice on the
 * client's rejection topic, job table, journal. raw: its payload; id:
 * its client's id. durable: false while the broker may be shutting down
 * (the job table's record and the journal record wait for the next tick).
 * Returns true when the will must reach nobody. Out of line: its buffers
 * would otherwise be set up in every access check.
 */
__attribute__((noinline)) bool jw_will__finish(
        struct jw_plugin *p, const char *topic, const void *raw, const char *id, bool durable)
{
	struct jw_write *w = &p->msg->w;
	struct jw_event_ctx e;
	struct jw_effects fx;
	struct jw_verdict v;

	p->counters.wills_checked++;
	jw_write__event_ctx(&e, JW_FROM_WILL, p->msg, topic);
	e.client_id = id;
	e.payload = raw;
	e.durable = durable;
	if(!w->valid) {
		jw_effects__refuse(p, &e, &w->v);
		return true;
	}
	if(w->kind == JW_TOPIC_STATION) {
		jw_stations__apply(p, w, raw, p->msg->seq.w.len, NULL, id);
		return false;
	}
	if(jw_journal__refuse(p, &w->t, &v)) {
		jw_effects__refuse(p, &e, &v);
		return true;
	}
	jw_jobs_step(p->jobs, w->t.session, w->t.job, w->t.event, w->ev, raw, p->msg->seq.w.len, false,
	        &w->now, &fx, &v);
	/* A repeat was delivered once already: it reaches nobody. */
	if(jw_effects__run(p, &fx, &e, &v) != JW_RUN_PASS) {
		return true;
	}
	jw_stations__job_event(p, &w->t, w->ev);
	return false;
}

/*
 * The pending write was not followed by its MESSAGE, so it was not a
 * PUBLISH (core/sequence.h says what it was). read: the read check that
 * comes first, if any.
 *
 * Applied wills reach the job table at once, so that what is delivered
 * and the table agree; they reach the disk at the next tick. At shutdown
 * mosquitto sends every connected client's will after its last tick: the
 * workers come back after the restart, and their jobs must still be
 * running then.
 */
__attribute__((noinline)) void jw_will__settle(struct jw_plugin *p, const struct jw_seq_check *read)
{
	struct jw_msgstate *m = p->msg;
	struct jw_write *w = &m->w;
	char tbuf[512];
	const char *topic = w->topic.data;
	const char *id;
	enum jw_seq_settled was;

	if(!jw_seq_must_settle(&m->seq)) {
		return;
	}
	if(w->kind == JW_TOPIC_JOB) {
		if(jw_topic_format(tbuf, sizeof(tbuf), p->opt.prefix, w->t.session, w->t.job, w->t.event) <
		        0) {
			return;
		}
		topic = tbuf;
	} else if(w->kind == JW_TOPIC_STATION) {
		if(jw_station_topic_format(tbuf, sizeof(tbuf), w->t.session, JW_STATION_STATUS) < 0) {
			return;
		}
		topic = tbuf;
	}
	was = jw_seq_settle(&m->seq, read, topic, w->bytes.data);
	if(was == JW_SEQ_DROP) {
		return;
	}
	/* A delayed will's client no longer has its id by now, unless its
	 * deliveries are being queued; the id was kept when needed. */
	id = w->has_id ? w->id.data : mosquitto_client_id(m->seq.w.client);
	if(jw_will__finish(p, topic, w->bytes.data, id, false) && was == JW_SEQ_WILL_QUEUED) {
		/* Its copy's deliveries are the read checks that follow. */
		jw_seq_suppress(&m->seq, read->payload);
	}
}

/* Every callback but MESSAGE and the access checks starts here. */
void jw_will__other_event(struct jw_plugin *p)
{
	struct jw_msgstate *m = p->msg;

	if(m->seq.w.active) {
		jw_will__settle(p, NULL);
	}
	(void)jw_seq_other(&m->seq);
}

void jw_will__end_of_pass(struct jw_plugin *p)
{
	jw_will__other_event(p);
	/* A connection's set-up, a will's deliveries and a duplicate's happen
	 * within one pass of the broker's loop, which a tick ends. */
	jw_seq_end_of_pass(&p->msg->seq);
}
