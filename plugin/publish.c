/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * MOSQ_EVT_MESSAGE: a PUBLISH, checked at its write check (acl.c) or here
 * when none came first (a bridge), goes through the job table; what it
 * does is carried out by jw_effects__run (the state, "ts", the journal,
 * the counters), and a refusal answers on the publisher's response topic,
 * which only this callback sees. Broker thread only.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_api.h"

#include "effects.h"
#include "jobs/jobs.h"
#include "topic.h"
#include "write_check.h"

/* A PUBLISH, checked at its write check (w): its MESSAGE callback. */
static int finish_publish(struct jw_plugin *p, struct mosquitto_evt_message *ed)
{
	struct jw_write *w = &p->msg->w;
	struct jw_event_ctx e;
	struct jw_effects fx;
	struct jw_verdict v;

	jw_write__event_ctx(&e, JW_FROM_PUBLISH, p->msg, ed->topic);
	e.client = ed->client;
	e.props = ed->properties;
	e.msg = ed;
	if(!w->valid) {
		jw_effects__refuse(p, &e, &w->v);
		return MOSQ_ERR_ACL_DENIED;
	}
	if(w->kind != JW_TOPIC_JOB) {
		/* Valid and under $jobwire/: only a history request. */
		if(ed->topic[0] == '$' && jw_topic_is_history_request(ed->topic)) {
			return jw_history__on_message(p, ed);
		}
		if(w->kind == JW_TOPIC_STATION) {
			jw_stations__apply(
			        p, w, ed->payload, ed->payloadlen, ed, mosquitto_client_id(ed->client));
		}
		return MOSQ_ERR_SUCCESS;
	}
	/* A terminal event the journal cannot take is refused before it
	 * changes anything, rather than acknowledged and lost. (p->journal
	 * is tested here too: no call per message with the journal off.) */
	if(p->journal && jw_journal__refuse(p, &w->t, &v)) {
		jw_effects__refuse(p, &e, &v);
		return MOSQ_ERR_ACL_DENIED;
	}
	jw_jobs_step(p->jobs, w->t.session, w->t.job, w->t.event, w->ev, ed->payload, ed->payloadlen,
	        false, &w->now, &fx, &v);
	switch(jw_effects__run(p, &fx, &e, &v)) {
		case JW_RUN_DENY:
			return MOSQ_ERR_ACL_DENIED;
		case JW_RUN_PASS:
			/* started naming a station, or the end of its job: one
			 * test per event until a station has been seen. */
			if(__builtin_expect(p->stations_any, 0)) {
				jw_stations__job_event(p, &w->t, w->ev);
			}
			return MOSQ_ERR_SUCCESS;
		case JW_RUN_SUPPRESS:
			/*
			 * A QoS 1 retransmission of the terminal event: the publisher
			 * must get a normal PUBACK, so the message is accepted, but
			 * every delivery of it is denied in the read ACL check that
			 * the broker runs for each subscriber right after this
			 * callback returns (see jw_acl__on_acl_check).
			 */
			jw_seq_suppress(&p->msg->seq, ed->payload);
			ed->retain = false;
			/* At QoS 2 those checks come at PUBREL, later: the repeat
			 * is held until then (write_check.h). */
			if(ed->qos == 2) {
				jw_seq_hold_repeat(&p->msg->seq, ed->topic, ed->payload, ed->payloadlen);
			}
			return MOSQ_ERR_SUCCESS;
		default:
			return MOSQ_ERR_SUCCESS;
	}
}

int jw_publish__on_message(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_msgstate *m = p->msg;
	struct mosquitto_evt_message *ed = event_data;

	(void)event;
	(void)jw_seq_other(&m->seq);
	if(jw_seq_message(&m->seq, ed->client, ed->payload)) {
		return finish_publish(p, ed);
	}
	/* No write check came first: a bridge (mosquitto skips its access
	 * checks) or an ACL plugin loaded before jobwire answered it. */
	if(m->seq.w.active) {
		jw_will__settle(p, NULL);
	}
	jw_write__check(p, &m->w, ed->topic, ed->payload, ed->payloadlen, ed->retain);
	return finish_publish(p, ed);
}
