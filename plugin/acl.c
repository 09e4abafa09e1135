/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * MOSQ_EVT_ACL_CHECK: read checks (a refused will's or an acknowledged
 * duplicate's deliveries are stopped there; with JWT on, the session ACL
 * decides) and write checks (every PUBLISH and will is checked here and
 * kept as the pending write, write_check.h). Broker thread only.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_api.h"

#include "jobs/jobs.h"
#include "topic.h"
#include "write_check.h"

/*
 * Copies what settle() needs of a write check, which the broker may free
 * before the next event: the payload (always: a read check is matched
 * against it), and only where the rest cannot be had then: the topic of
 * a refused write that is not a job topic (a job topic is t), the client
 * id for a notice or a journal record. Out of memory, settle() applies
 * nothing.
 */
static void keep_copies(
        struct jw_plugin *p, struct jw_msgstate *m, const struct mosquitto_evt_acl_check *ed)
{
	struct jw_write *w = &m->w;
	const char *id;

	/* Inline for the usual size: this runs for every PUBLISH. */
	if(ed->payloadlen >= w->bytes.cap &&
	        jw_write__buf_set(&w->bytes, ed->payload, ed->payloadlen)) {
		return;
	}
	if(ed->payloadlen) {
		memcpy(w->bytes.data, ed->payload, ed->payloadlen);
	}
	w->bytes.len = ed->payloadlen;
	w->has_id = false;
	if(!w->valid || (p->journal && jw_journal__wants(p, w->t.event))) {
		id = mosquitto_client_id(ed->client);
		if(jw_write__buf_set(&w->id, id ? id : "", id ? strlen(id) : 0)) {
			return;
		}
		w->has_id = id != NULL;
		if(w->kind != JW_TOPIC_JOB && jw_write__buf_set(&w->topic, ed->topic, strlen(ed->topic))) {
			return;
		}
	}
	jw_seq_kept(&m->seq);
}

/* A write check (see the top of this file). prev: the event before. */
static int on_write(struct jw_plugin *p, struct mosquitto_evt_acl_check *ed, int fallback,
        const struct jw_seq_prev *prev)
{
	struct jw_msgstate *m = p->msg;
	struct jw_write *w = &m->w;
	struct jw_seq_check c = {ed->client, NULL, ed->topic, ed->payload, ed->payloadlen, ed->retain};
	struct jw_event_ctx e;

	/* mosquitto's check_retain_source: checked when it was published. */
	if(jw_seq_write_replayed(&m->seq, prev, &c)) {
		return fallback;
	}
	if(jw_seq_wants_id(prev)) {
		c.client_id = mosquitto_client_id(ed->client);
	}
	jw_write__check(p, w, ed->topic, ed->payload, ed->payloadlen, ed->retain);
	switch(jw_seq_write_checked(
	        &m->seq, prev, &c, w->valid, w->kind == JW_TOPIC_JOB || w->kind == JW_TOPIC_STATION)) {
		case JW_SEQ_WILL_NOW:
			return jw_will__finish(p, ed->topic, ed->payload, c.client_id, true)
			               ? MOSQ_ERR_ACL_DENIED
			               : fallback;
		case JW_SEQ_REFUSE_NOW:
			jw_write__event_ctx(&e, JW_FROM_WRITE, m, ed->topic);
			return jw_effects__refuse(p, &e, &w->v) == JW_RUN_DENY ? MOSQ_ERR_ACL_DENIED : fallback;
		case JW_SEQ_PENDING:
			keep_copies(p, m, ed);
			return fallback;
		default: /* PLAIN, REPLAY: nothing to keep */
			return fallback;
	}
}

int jw_acl__on_acl_check(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_msgstate *m = p->msg;
	struct mosquitto_evt_acl_check *ed = event_data;
	int fallback = p->acl_allow ? MOSQ_ERR_SUCCESS : MOSQ_ERR_PLUGIN_DEFER;
	struct jw_seq_prev prev;

	(void)event;
	if(ed->access == MOSQ_ACL_READ) {
		struct jw_seq_check c = {
		        ed->client, NULL, ed->topic, ed->payload, ed->payloadlen, ed->retain};

		if(m->seq.w.active) {
			jw_will__settle(p, &c);
		}
		/* Deliveries of an acknowledged duplicate, a refused will or a
		 * held QoS 2 repeat go nowhere. */
		if(jw_seq_read(&m->seq, &c)) {
			return MOSQ_ERR_ACL_DENIED;
		}
		/* A history request is answered, never delivered (history.c). */
		if(ed->topic[0] == '$' && jw_topic_is_history_request(ed->topic)) {
			return MOSQ_ERR_ACL_DENIED;
		}
		return p->auth ? jw_auth__acl_check(p, ed) : fallback;
	}
	if(m->seq.w.active) {
		jw_will__settle(p, NULL);
	}
	prev = jw_seq_other(&m->seq);
	/* With JWT on, the token's claims come first for every check, wills
	 * included; what they allow is then checked like any publish. */
	if(p->auth && jw_auth__acl_check(p, ed) != MOSQ_ERR_SUCCESS) {
		return MOSQ_ERR_ACL_DENIED;
	}
	if(ed->access != MOSQ_ACL_WRITE) {
		return fallback;
	}
	return on_write(p, ed, fallback, &prev);
}
