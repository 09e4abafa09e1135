/*
 * The one place where what an event does is carried out. The job table
 * decides (jw_jobs_step: a set of enum jw_effect); jw_effects__run turns
 * the set into the broker's actions, in the set's order: the held state,
 * the refusal, the log line, the delivery (with "ts" added), the state
 * topic, the job's record, the journal, the counters. The callers (a
 * PUBLISH, a will, a stalled job) only describe the event. Broker thread
 * only.
 */
#include "plugin.h"

#include <stdio.h>
#include <string.h>

#include "broker_api.h"

#include "jobs/jobs.h"
#include "topic.h"

/* The client id of a notice or record: the one given, else the client's. */
static const char *client_id(const struct jw_event_ctx *e)
{
	if(e->client_id || !e->client){
		return e->client_id;
	}
	return mosquitto_client_id(e->client);
}

enum jw_run jw_effects__refuse(struct jw_plugin *p, const struct jw_event_ctx *e,
		const struct jw_verdict *v)
{
	switch(e->origin){
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
static int add_ts(struct jw_plugin *p, struct mosquitto_evt_message *ed,
		const struct jw_jnode *ev, const struct jw_clock *now)
{
	char raw[44];
	size_t outlen = 0;
	int64_t sec = now->real_ms / 1000;
	long ms = (long)(now->real_ms % 1000);
	void *out;
	int n;

	if(jw_jnode_get(ev, "ts")){
		return 1;
	}
	if(ms < 0){
		/* Before 1970: the second below, as tv_sec and tv_nsec were. */
		ms += 1000;
		sec--;
	}
	/* The quoted JSON string, written in place: this runs per message.
	 * Milliseconds are all a ts shows, and all the reading keeps. */
	raw[0] = '"';
	n = jw_rfc3339_format_cached(&p->ts_cache, raw + 1, sizeof(raw) - 2, sec, ms * 1000000L);
	if(n < 0){
		return -1;
	}
	raw[n + 1] = '"';
	raw[n + 2] = '\0';
	out = jw_event_splice_member(ed->payload, ed->payloadlen, "ts", raw,
			mosquitto_malloc, &outlen);
	if(!out || outlen > UINT32_MAX){
		mosquitto_free(out);
		return -1;
	}
	ed->payload = out;
	ed->payloadlen = (uint32_t)outlen;
	return 0;
}

/* The broker's own event (a stalled job's failure), published as a
 * worker's would be. */
static void publish_event(struct jw_plugin *p, const struct jw_event_ctx *e)
{
	char topic[512];
	char *payload;

	if(jw_topic_format(topic, sizeof(topic), p->opt.prefix, e->t->session, e->t->job,
				e->t->event) < 0 || e->len > INT32_MAX){
		return;
	}
	payload = mosquitto_malloc(e->len + 1);
	if(!payload){
		return;
	}
	memcpy(payload, e->payload, e->len);
	payload[e->len] = '\0';
	if(mosquitto_broker_publish(NULL, topic, (int)e->len, payload, 1, false, NULL)){
		mosquitto_free(payload);
	}
}

/* The event as it goes out (a PUBLISH's own payload: "ts" may be new). */
static const void *payload_of(const struct jw_event_ctx *e, size_t *len)
{
	if(e->msg){
		*len = e->msg->payloadlen;
		return e->msg->payload;
	}
	*len = e->len;
	return e->payload;
}

/* Offers the event to the journal. Returns 0, or -1 (v filled) when the
 * publisher must be refused: its record could not be spooled. */
static int journal(struct jw_plugin *p, const struct jw_effects *fx,
		const struct jw_event_ctx *e, struct jw_verdict *v)
{
	struct jw_who who;
	const void *payload;
	size_t len;

	payload = payload_of(e, &len);
	if(e->origin == JW_FROM_BROKER){
		/* Nobody to refuse, so a full spool is counted (journal.lost)
		 * and logged by the stats. */
		if(jw_journal__record(p, e->t, NULL, payload, len, v)){
			mosquitto_log_printf(MOSQ_LOG_ERR,
					"jobwire: journal: could not spool the failure of %s/%s: %s",
					e->t->session, e->t->job, v->message);
		}
		return 0;
	}
	/* (p->journal is tested here too: no call per message with the
	 * journal off.) A will's repeat was delivered once and is never sent
	 * again: there is no retry to make up for. */
	if(!p->journal || (e->origin == JW_FROM_WILL && (fx->set & JW_FX_SUPPRESS))){
		return 0;
	}
	who.client_id = client_id(e);
	who.username = mosquitto_client_username(e->client);
	who.late = false;
	if(!e->durable){
		/* A will while the broker may be shutting down: its record
		 * waits for the next tick (plugin/will.c). */
		if(jw_journal__wants(p, e->t->event)){
			jw_journal__hold(p, e->t, &who, payload, len);
		}
		return 0;
	}
	return jw_journal__record(p, e->t, &who, payload, len, v);
}

static __attribute__((noinline)) void log_change(const struct jw_event_ctx *e)
{
	const struct jw_jnode *code = e->ev ? jw_jnode_get(e->ev, "code") : NULL;
	const struct jw_jnode *error = e->ev ? jw_jnode_get(e->ev, "error") : NULL;

	mosquitto_log_printf(MOSQ_LOG_NOTICE, "jobwire: job %s/%s %s: %s (%s)",
			e->t->session, e->t->job, e->t->event,
			code && code->type == JW_J_STRING ? code->u.s : "",
			error && error->type == JW_J_STRING ? error->u.s : "");
}

enum jw_run jw_effects__run(struct jw_plugin *p, const struct jw_effects *fx,
		const struct jw_event_ctx *e, struct jw_verdict *v)
{
	unsigned set = fx->set;
	enum jw_run run = JW_RUN_PASS;

	/* One test for the three that nearly every event skips. */
	if(__builtin_expect((set & (JW_FX_HELD_STATE | JW_FX_REFUSE | JW_FX_LOG)) != 0, 0)){
		if(set & JW_FX_HELD_STATE){
			jw_table__publish_rendered(p, fx->held_job, fx->held_state, fx->held_len);
		}
		if(set & JW_FX_REFUSE){
			return jw_effects__refuse(p, e, v);
		}
		if(set & JW_FX_LOG){
			log_change(e);
		}
	}
	if(set & JW_FX_DELIVER){
		if(e->msg){
			/* The state already changed: a failed ts insertion (out of
			 * memory) delivers the event as published rather than
			 * refusing it now. */
			if(add_ts(p, e->msg, e->ev, e->now) == 0){
				p->counters.ts_added++;
			}
		}else if(e->origin == JW_FROM_BROKER){
			publish_event(p, e);
		}
	}
	if(set & JW_FX_SUPPRESS){
		run = JW_RUN_SUPPRESS;
	}
	if(set & JW_FX_STATE_NOW){
		jw_table__publish_state(p, fx->job, e->now);
	}else if(set & JW_FX_COALESCED){
		p->counters.state_coalesced++;
	}
	/* Checked here: a record's frame (a key buffer) is not worth setting
	 * up for every event without a data dir. */
	if((set & JW_FX_PERSIST) && p->persist){
		if(e->durable){
			jw_table__persist(p, fx->job, e->now);
		}else{
			jw_table__hold(p, fx->job);
		}
	}
	if(set & JW_FX_COUNT_DUPLICATE){
		p->counters.duplicates++;
	}
	/* Into the spool (one write) before the broker acknowledges. If even
	 * that fails the publisher is refused and retries; its retry is a
	 * duplicate, spooled again (PostgreSQL keeps the first). */
	if((set & JW_FX_JOURNAL) && journal(p, fx, e, v)){
		return jw_effects__refuse(p, e, v);
	}
	if(set & JW_FX_COUNT_ACCEPT){
		jw_notice__count_accept(p, e->t->event);
	}
	return run;
}
