/*
 * The broker-thread handlers for what clients publish. mosquitto shows a
 * PUBLISH to a plugin twice in a row (its write ACL check, then
 * MOSQ_EVT_MESSAGE with the same payload buffer) and a will only once (a
 * write check that MESSAGE never follows). So every write check is checked
 * where it happens and kept as the pending write; the broker's next event
 * says what it was: its MESSAGE (a PUBLISH, finished there, where its MQTT 5
 * properties are) or anything else (not a PUBLISH: a will, or a write the
 * plugin must not apply). docs/design.md, "Telling a will from a publish".
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include "broker_api.h"

#include "jobs/jobs.h"
#include "schemaset.h"
#include "topic.h"

/* What the previous plugin event was: a will is recognised at its check
 * when the broker has just said whose connection ended. */
enum last_event {
	LAST_OTHER = 0,
	LAST_READ,       /* a read check: last_read_* */
	LAST_DISCONNECT, /* MOSQ_EVT_DISCONNECT of last_client (id in last_id) */
};

/* A reusable byte buffer. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

/*
 * The write check the broker has not yet followed by anything. The
 * broker's buffers (payload, topic, client id) are compared, never read,
 * after the check: a will's are freed right after its deliveries are
 * queued (its client's id too, when the broker sends a delayed will), a
 * refused PUBLISH's at once. What settling it needs is copied; the
 * client itself lives until the next tick at least.
 */
struct jw_write {
	bool active;
	bool valid;       /* passed every check (v unused) */
	bool replay;      /* a session being resumed: see settle() */
	bool copied;      /* bytes (and topic, id as below) hold this write's */
	bool has_id;      /* id holds the client's id */
	enum jw_topic_kind kind;
	const struct mosquitto *client;
	const void *payload;
	uint32_t len;
	const struct jw_jnode *ev; /* the event (valid job topic), in p->doc */
	struct jw_clock now;       /* the message's one clock reading */
	struct jw_topic t;
	struct jw_verdict v;
	struct buf bytes;          /* the payload */
	struct buf topic;          /* the topic, when not a job topic (else t) */
	struct buf id;
};

struct jw_msgstate {
	struct jw_write w;
	enum last_event last;
	const void *last_client;
	const void *last_read_payload;
	const void *last_read_topic;
	struct buf last_id;
	const void *connecting;        /* its write checks are session replays */
	const void *suppress_payload;  /* deliveries of this message are denied */
	bool write_final;              /* the plugin's answer to a write check is
	                                  the broker's (no acl_file after it) */
};

static bool is_sys_topic(const char *topic)
{
	/* The first byte settles it for nearly every topic, without a call. */
	return topic[0] == JW_SYS_PREFIX[0] && !strncmp(topic, JW_SYS_PREFIX "/", sizeof(JW_SYS_PREFIX));
}

static void verdict_set(struct jw_verdict *v, enum jw_reason reason, const char *msg)
{
	memset(v, 0, sizeof(*v));
	v->reason = reason;
	snprintf(v->message, sizeof(v->message), "%s", msg);
}

/* Copies n bytes of s into b (NUL-terminated). -1 when out of memory. */
static int buf_set(struct buf *b, const void *s, size_t n)
{
	if(n + 1 > b->cap){
		size_t cap = b->cap ? b->cap : 64;
		char *grown;

		while(cap < n + 1){
			cap *= 2;
		}
		grown = realloc(b->data, cap);
		if(!grown){
			b->len = 0;
			return -1;
		}
		b->data = grown;
		b->cap = cap;
	}
	if(n){
		memcpy(b->data, s, n);
	}
	b->data[n] = '\0';
	b->len = n;
	return 0;
}

static void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/*
 * Runs every check for a PUBLISH or will on topic into w: kind, valid,
 * t, v, ev (in p->doc, valid until the next message; NULL when the topic
 * is not a job topic) and, for a valid job event, the clock reading.
 */
static void check_write(struct jw_plugin *p, struct jw_write *w, const char *topic,
		const void *payload, uint32_t len, bool retain)
{
	w->ev = NULL;
	w->valid = false;
	if(is_sys_topic(topic)){
		w->kind = JW_TOPIC_OTHER;
		verdict_set(&w->v, JW_REASON_PROTECTED_TOPIC,
				JW_SYS_PREFIX "/ topics are published by the broker only");
		return;
	}
	w->kind = jw_topic_parse(p->opt.prefix, topic, &w->t);
	if(w->kind == JW_TOPIC_OTHER){
		w->valid = true;
		return;
	}
	if(w->kind == JW_TOPIC_INVALID){
		verdict_set(&w->v, JW_REASON_INVALID_TOPIC, w->t.why);
		return;
	}
	/* A retained control message would be replayed to every later
	 * subscriber: an old cancel would stop the next run of the job.
	 * Refused rather than stripped, because a will cannot be changed. */
	if(retain && !strcmp(w->t.event, "control")){
		verdict_set(&w->v, JW_REASON_RULE_VIOLATION,
				"control messages are never retained: publish without the retain flag");
		snprintf(w->v.keyword, sizeof(w->v.keyword), "not_retained");
		return;
	}
	if(jw_event_check_doc(p->schemas, &w->t, payload, len, &p->opt.limits, &p->doc, &w->v)){
		return;
	}
	w->ev = p->doc.root;
	w->valid = true;
	/* One reading per message: the job table and the added ts agree. */
	jw_clock_now(&w->now);
}

/* The event of w for jw_effects__run. */
static void event_ctx(struct jw_event_ctx *e, enum jw_origin origin, struct jw_write *w,
		const char *topic)
{
	e->origin = origin;
	e->t = w->kind == JW_TOPIC_JOB ? &w->t : NULL;
	e->topic = topic;
	e->client = w->client;
	e->client_id = NULL;
	e->props = NULL;
	e->msg = NULL;
	e->ev = w->ev;
	e->payload = w->payload;
	e->len = w->len;
	e->durable = true;
	e->now = &w->now;
}

/* A PUBLISH, checked at its write check (w): its MESSAGE callback. */
static int finish_publish(struct jw_plugin *p, struct jw_write *w,
		struct mosquitto_evt_message *ed)
{
	struct jw_event_ctx e;
	struct jw_effects fx;
	struct jw_verdict v;

	w->active = false;
	event_ctx(&e, JW_FROM_PUBLISH, w, ed->topic);
	e.client = ed->client;
	e.props = ed->properties;
	e.msg = ed;
	if(!w->valid){
		jw_effects__refuse(p, &e, &w->v);
		return MOSQ_ERR_ACL_DENIED;
	}
	if(w->kind != JW_TOPIC_JOB){
		return MOSQ_ERR_SUCCESS;
	}
	/* A terminal event the journal cannot take is refused before it
	 * changes anything, rather than acknowledged and lost. (p->journal
	 * is tested here too: no call per message with the journal off.) */
	if(p->journal && jw_journal__refuse(p, &w->t, &v)){
		jw_effects__refuse(p, &e, &v);
		return MOSQ_ERR_ACL_DENIED;
	}
	jw_jobs_step(p->jobs, w->t.session, w->t.job, w->t.event, w->ev, ed->payload, ed->payloadlen,
			false, &w->now, &fx, &v);
	switch(jw_effects__run(p, &fx, &e, &v)){
		case JW_RUN_DENY:
			return MOSQ_ERR_ACL_DENIED;
		case JW_RUN_SUPPRESS:
			/*
			 * A QoS 1 retransmission of the terminal event: the publisher
			 * must get a normal PUBACK, so the message is accepted, but
			 * every delivery of it is denied in the read ACL check that
			 * the broker runs for each subscriber right after this
			 * callback returns (see jw_message__on_acl_check).
			 */
			p->msg->suppress_payload = ed->payload;
			ed->retain = false;
			return MOSQ_ERR_SUCCESS;
		default:
			return MOSQ_ERR_SUCCESS;
	}
}

/*
 * Checks and applies a will (w) like a PUBLISH: counters, notice on the
 * client's rejection topic, job table, journal. raw: its payload; id:
 * its client's id. durable: false while the broker may be shutting down
 * (the job table's record and the journal record wait for the next tick).
 * Returns true when the will must reach nobody. Out of line: its buffers
 * would otherwise be set up in every access check.
 */
static __attribute__((noinline)) bool finish_will(struct jw_plugin *p, struct jw_write *w,
		const char *topic, const void *raw, const char *id, bool durable)
{
	struct jw_event_ctx e;
	struct jw_effects fx;
	struct jw_verdict v;

	p->counters.wills_checked++;
	event_ctx(&e, JW_FROM_WILL, w, topic);
	e.client_id = id;
	e.payload = raw;
	e.durable = durable;
	if(!w->valid){
		jw_effects__refuse(p, &e, &w->v);
		return true;
	}
	if(jw_journal__refuse(p, &w->t, &v)){
		jw_effects__refuse(p, &e, &v);
		return true;
	}
	jw_jobs_step(p->jobs, w->t.session, w->t.job, w->t.event, w->ev, raw, w->len, false,
			&w->now, &fx, &v);
	/* A repeat was delivered once already: it reaches nobody. */
	return jw_effects__run(p, &fx, &e, &v) != JW_RUN_PASS;
}

/*
 * The pending write was not followed by its MESSAGE, so it was not a
 * PUBLISH. read: the read check that comes first, if any.
 *
 * A will's deliveries are queued right after its write check: each is a
 * read check for one subscriber, on a copy of the payload (same topic and
 * bytes, another buffer, the one all its deliveries share). So a first
 * read check that matches shows the broker sent the will, and a will the
 * job table refuses is stopped there, by that buffer.
 *
 * Without that evidence, a write the plugin answered for the whole ACL
 * chain can only have been a will too (or a PUBLISH refused by a message
 * callback of a plugin loaded before jobwire); with an acl_file after it,
 * it may also have been a PUBLISH the acl_file refused, which must change
 * nothing, so it is dropped.
 *
 * A session replay (write checks of a resumed session's unacknowledged
 * QoS 2 messages, which went through MESSAGE when they arrived) is never
 * applied again.
 *
 * Applied wills reach the job table at once, so that what is delivered
 * and the table agree; they reach the disk at the next tick. At shutdown
 * mosquitto sends every connected client's will after its last tick: the
 * workers come back after the restart, and their jobs must still be
 * running then.
 */
static __attribute__((noinline)) void settle(struct jw_plugin *p,
		const struct mosquitto_evt_acl_check *read)
{
	struct jw_msgstate *m = p->msg;
	struct jw_write *w = &m->w;
	char tbuf[512];
	const char *topic = w->topic.data;
	const char *id;
	bool copy;

	w->active = false;
	if(w->replay || !w->copied || (w->valid && w->kind != JW_TOPIC_JOB)){
		return;
	}
	if(w->kind == JW_TOPIC_JOB){
		if(jw_topic_format(tbuf, sizeof(tbuf), p->opt.prefix, w->t.session, w->t.job, w->t.event) < 0){
			return;
		}
		topic = tbuf;
	}
	copy = read && read->payloadlen == w->len && !strcmp(read->topic, topic)
			&& (w->len == 0 || !memcmp(read->payload, w->bytes.data, w->len));
	if(!copy && !m->write_final){
		return;
	}
	/* A delayed will's client no longer has its id by now, unless its
	 * deliveries are being queued (copy); the id was kept when needed. */
	id = w->has_id ? w->id.data : mosquitto_client_id(w->client);
	if(finish_will(p, w, topic, w->bytes.data, id, false) && copy){
		m->suppress_payload = read->payload;
	}
}

/* Every callback but MESSAGE and the access checks starts here. */
void jw_message__other_event(struct jw_plugin *p)
{
	struct jw_msgstate *m = p->msg;

	if(m->w.active){
		settle(p, NULL);
	}
	m->suppress_payload = NULL;
	m->last = LAST_OTHER;
}

int jw_message__on_message(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_msgstate *m = p->msg;
	struct mosquitto_evt_message *ed = event_data;
	struct jw_write *w = &m->w;

	(void)event;
	m->last = LAST_OTHER;
	m->suppress_payload = NULL;
	if(w->active && w->client == ed->client && w->payload == ed->payload){
		return finish_publish(p, w, ed);
	}
	/* No write check came first: a bridge (mosquitto skips its access
	 * checks) or an ACL plugin loaded before jobwire answered it. */
	if(w->active){
		settle(p, NULL);
	}
	check_write(p, w, ed->topic, ed->payload, ed->payloadlen, ed->retain);
	return finish_publish(p, w, ed);
}

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
static void keep_copies(struct jw_plugin *p, struct jw_write *w,
		const struct mosquitto_evt_acl_check *ed)
{
	const char *id;

	/* Inline for the usual size: this runs for every PUBLISH. */
	if(ed->payloadlen >= w->bytes.cap && buf_set(&w->bytes, ed->payload, ed->payloadlen)){
		return;
	}
	if(ed->payloadlen){
		memcpy(w->bytes.data, ed->payload, ed->payloadlen);
	}
	w->bytes.len = ed->payloadlen;
	w->has_id = false;
	if(!w->valid || (p->journal && jw_journal__wants(p, w->t.event))){
		id = mosquitto_client_id(ed->client);
		if(buf_set(&w->id, id ? id : "", id ? strlen(id) : 0)){
			return;
		}
		w->has_id = id != NULL;
		if(w->kind != JW_TOPIC_JOB && buf_set(&w->topic, ed->topic, strlen(ed->topic))){
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
	if(last == LAST_READ && ed->payload && ed->payload == m->last_read_payload
			&& (const void *)ed->topic == m->last_read_topic){
		return fallback;
	}
	w->client = ed->client;
	w->payload = ed->payload;
	w->len = ed->payloadlen;
	check_write(p, w, ed->topic, ed->payload, ed->payloadlen, ed->retain);
	if(w->valid && w->kind != JW_TOPIC_JOB){
		/* Not a topic jobwire checks: only MESSAGE needs to match it. */
		w->replay = false;
		w->copied = false;
		w->active = true;
		return fallback;
	}
	/* The broker sends a will right after the DISCONNECT event of its
	 * client; nothing else of that client can come then. */
	known_will = last == LAST_DISCONNECT && last_client == ed->client;
	if(known_will){
		return finish_will(p, w, ed->topic, ed->payload, mosquitto_client_id(ed->client), true)
				? MOSQ_ERR_ACL_DENIED : fallback;
	}
	/* A retained message is stored before anyone could stop its
	 * deliveries, so a bad one is refused now, will or not. */
	if(!w->valid && ed->retain){
		struct jw_event_ctx e;

		event_ctx(&e, JW_FROM_WRITE, w, ed->topic);
		return jw_effects__refuse(p, &e, &w->v) == JW_RUN_DENY ? MOSQ_ERR_ACL_DENIED : fallback;
	}
	/* A connection resuming a session has its stored messages checked
	 * again, right after the broker ended the session's old connection. */
	if(last == LAST_DISCONNECT && resumes_last(m, ed->client)){
		m->connecting = ed->client;
	}
	w->replay = ed->client == m->connecting;
	w->active = true;
	w->copied = false;
	if(!w->replay){
		keep_copies(p, w, ed);
	}
	return fallback;
}

int jw_message__on_acl_check(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_msgstate *m = p->msg;
	struct mosquitto_evt_acl_check *ed = event_data;
	int fallback = p->acl_allow ? MOSQ_ERR_SUCCESS : MOSQ_ERR_PLUGIN_DEFER;
	enum last_event last = m->last;
	const void *last_client = m->last_client;

	(void)event;
	if(ed->access == MOSQ_ACL_READ){
		if(m->w.active){
			settle(p, ed);
		}
		m->last = LAST_READ;
		m->last_read_payload = ed->payload;
		m->last_read_topic = ed->topic;
		/* Deliveries of an acknowledged duplicate or a refused will go
		 * nowhere. */
		if(m->suppress_payload && ed->payload == m->suppress_payload){
			return MOSQ_ERR_ACL_DENIED;
		}
		return p->auth ? jw_auth__acl_check(p, ed) : fallback;
	}
	if(m->w.active){
		settle(p, NULL);
	}
	m->suppress_payload = NULL;
	m->last = LAST_OTHER;
	/* With JWT on, the token's claims come first for every check, wills
	 * included; what they allow is then checked like any publish. */
	if(p->auth && jw_auth__acl_check(p, ed) != MOSQ_ERR_SUCCESS){
		return MOSQ_ERR_ACL_DENIED;
	}
	if(ed->access != MOSQ_ACL_WRITE){
		return fallback;
	}
	return on_write(p, ed, fallback, last, last_client);
}

int jw_message__on_disconnect(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_msgstate *m = p->msg;
	struct mosquitto_evt_disconnect *ed = event_data;
	const char *id = mosquitto_client_id(ed->client);

	(void)event;
	jw_message__other_event(p);
	m->last = LAST_DISCONNECT;
	m->last_client = ed->client;
	if(buf_set(&m->last_id, id ? id : "", id ? strlen(id) : 0)){
		m->last = LAST_OTHER;
	}
	if(p->auth){
		jw_auth__on_disconnect(p, ed->client);
	}
	return MOSQ_ERR_SUCCESS;
}

int jw_message__on_basic_auth(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_msgstate *m = p->msg;
	struct mosquitto_evt_basic_auth *ed = event_data;
	int rc;

	jw_message__other_event(p);
	rc = jw_auth__on_basic_auth(event, event_data, userdata);
	/* An accepted connection goes on at once to take over its session
	 * (its stored messages are checked again then). */
	if(rc == MOSQ_ERR_SUCCESS){
		m->connecting = ed->client;
	}
	return rc;
}

void jw_message__end_of_pass(struct jw_plugin *p)
{
	jw_message__other_event(p);
	/* A connection's set-up, a will's deliveries and a duplicate's happen
	 * within one pass of the broker's loop, which a tick ends. */
	p->msg->connecting = NULL;
}

int jw_message__init(struct jw_plugin *p)
{
	p->msg = calloc(1, sizeof(*p->msg));
	if(!p->msg){
		return -1;
	}
	p->msg->write_final = p->auth || p->acl_allow;
	return 0;
}

void jw_message__cleanup(struct jw_plugin *p)
{
	struct jw_msgstate *m = p->msg;

	if(!m){
		return;
	}
	/* Whatever is pending came from wills sent at shutdown. */
	buf_free(&m->w.topic);
	buf_free(&m->w.bytes);
	buf_free(&m->w.id);
	buf_free(&m->last_id);
	free(m);
	p->msg = NULL;
}
