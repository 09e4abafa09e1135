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

/* Whether client took over the session of the client of the DISCONNECT
 * event just before (the same client id, another connection). */
static bool resumes_last(const struct jw_msgstate *m, const struct mosquitto *client)
{
	const char *id = mosquitto_client_id(client);

	return m->last_client != client && id && m->last_id.data && !strcmp(m->last_id.data, id);
}

/*
 * Copies what settle() needs of a write check, which the broker may free
 * before the next event: the payload (always: a read check is matched
 * against it), and only where the rest cannot be had then: the topic of
 * a refused write that is not a job topic (a job topic is t), the client
 * id for a notice or a journal record. Out of memory, settle() applies
 * nothing.
 */
static void keep_copies(
        struct jw_plugin *p, struct jw_write *w, const struct mosquitto_evt_acl_check *ed)
{
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
	w->copied = true;
}

/* A write check (see the top of this file). last, last_client: the
 * previous event. */
static int on_write(struct jw_plugin *p, struct mosquitto_evt_acl_check *ed, int fallback,
        enum last_event last, const void *last_client)
{
	struct jw_msgstate *m = p->msg;
	struct jw_write *w = &m->w;
	bool known_will;

	/* mosquitto's check_retain_source: right after the read check of a
	 * retained message's replay, a write check of the same message for
	 * its original publisher. It was checked when it was published. */
	if(last == LAST_READ && ed->payload && ed->payload == m->last_read_payload &&
	        (const void *)ed->topic == m->last_read_topic) {
		return fallback;
	}
	w->client = ed->client;
	w->payload = ed->payload;
	w->len = ed->payloadlen;
	jw_write__check(p, w, ed->topic, ed->payload, ed->payloadlen, ed->retain);
	if(w->valid && w->kind != JW_TOPIC_JOB) {
		/* Not a topic jobwire checks: only MESSAGE needs to match it. */
		w->replay = false;
		w->copied = false;
		w->active = true;
		return fallback;
	}
	/* The broker sends a will right after the DISCONNECT event of its
	 * client; nothing else of that client can come then. */
	known_will = last == LAST_DISCONNECT && last_client == ed->client;
	if(known_will) {
		return jw_will__finish(p, w, ed->topic, ed->payload, mosquitto_client_id(ed->client), true)
		               ? MOSQ_ERR_ACL_DENIED
		               : fallback;
	}
	/* A retained message is stored before anyone could stop its
	 * deliveries, so a bad one is refused now, will or not. */
	if(!w->valid && ed->retain) {
		struct jw_event_ctx e;

		jw_write__event_ctx(&e, JW_FROM_WRITE, w, ed->topic);
		return jw_effects__refuse(p, &e, &w->v) == JW_RUN_DENY ? MOSQ_ERR_ACL_DENIED : fallback;
	}
	/* A connection resuming a session has its stored messages checked
	 * again, right after the broker ended the session's old connection. */
	if(last == LAST_DISCONNECT && resumes_last(m, ed->client)) {
		m->connecting = ed->client;
	}
	w->replay = ed->client == m->connecting;
	w->active = true;
	w->copied = false;
	if(!w->replay) {
		keep_copies(p, w, ed);
	}
	return fallback;
}

int jw_acl__on_acl_check(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_msgstate *m = p->msg;
	struct mosquitto_evt_acl_check *ed = event_data;
	int fallback = p->acl_allow ? MOSQ_ERR_SUCCESS : MOSQ_ERR_PLUGIN_DEFER;
	enum last_event last = m->last;
	const void *last_client = m->last_client;

	(void)event;
	if(ed->access == MOSQ_ACL_READ) {
		if(m->w.active) {
			jw_will__settle(p, ed);
		}
		/* One message's read checks come one after the other. */
		if(m->repeat_seen && ed->payload != m->last_read_payload) {
			jw_write__forget_seen(m);
		}
		m->last = LAST_READ;
		m->last_read_payload = ed->payload;
		m->last_read_topic = ed->topic;
		/* Deliveries of an acknowledged duplicate or a refused will go
		 * nowhere. */
		if(m->suppress_payload && ed->payload == m->suppress_payload) {
			return MOSQ_ERR_ACL_DENIED;
		}
		if(m->nrepeats && jw_write__is_repeat(m, ed->topic, ed->payload, ed->payloadlen)) {
			return MOSQ_ERR_ACL_DENIED;
		}
		return p->auth ? jw_auth__acl_check(p, ed) : fallback;
	}
	if(m->w.active) {
		jw_will__settle(p, NULL);
	}
	m->suppress_payload = NULL;
	if(m->repeat_seen) {
		jw_write__forget_seen(m);
	}
	m->last = LAST_OTHER;
	/* With JWT on, the token's claims come first for every check, wills
	 * included; what they allow is then checked like any publish. */
	if(p->auth && jw_auth__acl_check(p, ed) != MOSQ_ERR_SUCCESS) {
		return MOSQ_ERR_ACL_DENIED;
	}
	if(ed->access != MOSQ_ACL_WRITE) {
		return fallback;
	}
	return on_write(p, ed, fallback, last, last_client);
}
