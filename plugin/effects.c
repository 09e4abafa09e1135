/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The one place where what an event does is carried out: the parts of
 * jw_effects__run (effects.h) that are not on every message's path. The
 * job table decides (jw_jobs_step: a set of enum jw_effect);
 * jw_effects__run turns the set into the broker's actions. Broker thread
 * only.
 */
#include "plugin.h"

#include <stdio.h>
#include <string.h>

#include "broker_api.h"

#include "jobs/jobs.h"
#include "effects.h"
#include "topic.h"

/* The client id of a notice or record: the one given, else the client's. */
static const char *client_id(const struct jw_event_ctx *e)
{
	if(e->client_id || !e->client) {
		return e->client_id;
	}
	return mosquitto_client_id(e->client);
}

enum jw_run jw_effects__refuse(
        struct jw_plugin *p, const struct jw_event_ctx *e, const struct jw_verdict *v)
{
	switch(e->origin) {
		case JW_FROM_BROKER:
			mosquitto_log_printf(MOSQ_LOG_WARNING, "jobwire: could not fail stalled job %s/%s: %s",
			        e->t->session, e->t->job, v->message);
			break;
		case JW_FROM_WILL:
			/* Its client is gone: nothing to answer on but its id. */
			jw_notice__reject(p, NULL, client_id(e), e->topic, e->t, v, NULL, JW_FROM_WILL);
			break;
		default:
			jw_notice__reject(p, e->client, client_id(e), e->topic, e->t, v, e->props, e->origin);
			break;
	}
	return JW_RUN_DENY;
}

/*
 * Adds "ts" as the first member when the publisher left it out, from the
 * message's clock reading (the one its job table change used). The new
 * payload comes from mosquitto_malloc: the broker frees the old one.
 * Returns 0, 1 when the event has a ts, or -1 when out of memory (the
 * message is left untouched).
 */
int jw_effects__add_ts(struct jw_plugin *p, struct mosquitto_evt_message *ed,
        const struct jw_jnode *ev, const struct jw_clock *now)
{
	char raw[44];
	size_t outlen = 0;
	int64_t sec = now->real_ms / 1000;
	long ms = (long)(now->real_ms % 1000);
	void *out;
	int n;

	if(jw_jnode_get(ev, "ts")) {
		return 1;
	}
	if(ms < 0) {
		/* Before 1970: the second below, as tv_sec and tv_nsec were. */
		ms += 1000;
		sec--;
	}
	/* The quoted JSON string, written in place: this runs per message.
	 * Milliseconds are all a ts shows, and all the reading keeps. */
	raw[0] = '"';
	n = jw_rfc3339_format_cached(&p->ts_cache, raw + 1, sizeof(raw) - 2, sec, ms * 1000000L);
	if(n < 0) {
		return -1;
	}
	raw[n + 1] = '"';
	raw[n + 2] = '\0';
	out = jw_event_splice_member(ed->payload, ed->payloadlen, "ts", raw, mosquitto_malloc, &outlen);
	if(!out || outlen > UINT32_MAX) {
		mosquitto_free(out);
		return -1;
	}
	ed->payload = out;
	ed->payloadlen = (uint32_t)outlen;
	return 0;
}

/* The broker's own event (a stalled job's failure), published as a
 * worker's would be. */
void jw_effects__publish_event(struct jw_plugin *p, const struct jw_event_ctx *e)
{
	char topic[512];
	char *payload;

	if(jw_topic_format(topic, sizeof(topic), p->opt.prefix, e->t->session, e->t->job, e->t->event) <
	                0 ||
	        e->len > INT32_MAX) {
		return;
	}
	payload = mosquitto_malloc(e->len + 1);
	if(!payload) {
		return;
	}
	memcpy(payload, e->payload, e->len);
	payload[e->len] = '\0';
	if(jw_wake__publish(p, topic, (int)e->len, payload, 1, false, NULL)) {
		mosquitto_free(payload);
	}
}

/* The event as it goes out (a PUBLISH's own payload: "ts" may be new). */
static const void *payload_of(const struct jw_event_ctx *e, size_t *len)
{
	if(e->msg) {
		*len = e->msg->payloadlen;
		return e->msg->payload;
	}
	*len = e->len;
	return e->payload;
}

int jw_effects__journal(struct jw_plugin *p, const struct jw_effects *fx,
        const struct jw_event_ctx *e, struct jw_verdict *v)
{
	struct jw_who who;
	const void *payload;
	size_t len;

	payload = payload_of(e, &len);
	if(e->origin == JW_FROM_BROKER) {
		/* Nobody to refuse, so a full spool is counted (journal.lost)
		 * and logged by the stats. */
		if(jw_journal__record(p, e->t, NULL, payload, len, v)) {
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: journal: could not spool the failure of %s/%s: %s", e->t->session,
			        e->t->job, v->message);
		}
		return 0;
	}
	/* A will's repeat was delivered once and is never sent again: there
	 * is no retry to make up for. */
	if(e->origin == JW_FROM_WILL && (fx->set & JW_FX_SUPPRESS)) {
		return 0;
	}
	who.client_id = client_id(e);
	who.username = mosquitto_client_username(e->client);
	who.late = false;
	if(!e->durable) {
		/* A will while the broker may be shutting down: its record
		 * waits for the next tick (plugin/will.c). */
		if(jw_journal__wants(p, e->t->event)) {
			jw_journal__hold(p, e->t, &who, payload, len);
		}
		return 0;
	}
	return jw_journal__record(p, e->t, &who, payload, len, v);
}

void jw_effects__history(
        struct jw_plugin *p, const struct jw_effects *fx, const struct jw_event_ctx *e)
{
	const void *payload;
	size_t len;

	payload = payload_of(e, &len);
	/* Out of memory the event is not kept and the history says it is
	 * incomplete (truncated in the answer). */
	(void)jw_jobs_history_add(p->jobs, fx->job, e->t->event, payload, len);
}

static void log_change(const struct jw_event_ctx *e)
{
	const struct jw_jnode *code = e->ev ? jw_jnode_get(e->ev, "code") : NULL;
	const struct jw_jnode *error = e->ev ? jw_jnode_get(e->ev, "error") : NULL;

	mosquitto_log_printf(MOSQ_LOG_NOTICE, "jobwire: job %s/%s %s: %s (%s)", e->t->session,
	        e->t->job, e->t->event, code && code->type == JW_J_STRING ? code->u.s : "",
	        error && error->type == JW_J_STRING ? error->u.s : "");
}

enum jw_run jw_effects__rare(struct jw_plugin *p, const struct jw_effects *fx,
        const struct jw_event_ctx *e, const struct jw_verdict *v)
{
	if(fx->set & JW_FX_HELD_STATE) {
		jw_table__publish_rendered(p, fx->held_job, fx->held_state, fx->held_len);
	}
	if(fx->set & JW_FX_REFUSE) {
		return jw_effects__refuse(p, e, v);
	}
	if(fx->set & JW_FX_LOG) {
		log_change(e);
	}
	if(fx->set & JW_FX_REVIEW) {
		jw_review__answered(p, fx->job, e);
	}
	return JW_RUN_PASS;
}
