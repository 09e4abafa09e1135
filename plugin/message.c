/*
 * The broker-thread handlers: every PUBLISH under the prefix is checked in
 * MOSQ_EVT_MESSAGE (which has the MQTT 5 properties needed to answer on a
 * response topic); wills, which never reach MESSAGE, are checked in the
 * write ACL check the broker runs just before sending them.
 */
#include "plugin.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mosquitto.h>

#include "jobs.h"
#include "ptrset.h"
#include "schemaset.h"
#include "topic.h"
#include "util/hash.h"

static bool is_sys_topic(const char *topic)
{
	return !strncmp(topic, JW_SYS_PREFIX "/", sizeof(JW_SYS_PREFIX));
}

static void verdict_set(struct jw_verdict *v, enum jw_reason reason, const char *msg)
{
	memset(v, 0, sizeof(*v));
	v->reason = reason;
	snprintf(v->message, sizeof(v->message), "%s", msg);
}

/*
 * Runs every check for a PUBLISH (or will) on topic. Returns 0 when the
 * event may be delivered, with *ev the parsed payload (in p->doc, valid
 * until the next message; NULL when the topic is not ours), or -1 with
 * *v, *t and *kind filled.
 */
static int check_publish(struct jw_plugin *p, const char *topic,
                         const void *payload, uint32_t len,
                         enum jw_topic_kind *kind, struct jw_topic *t,
                         const struct jw_jnode **ev, struct jw_verdict *v)
{
	*ev = NULL;
	if(is_sys_topic(topic)){
		*kind = JW_TOPIC_OTHER;
		verdict_set(v, JW_REASON_PROTECTED_TOPIC,
				JW_SYS_PREFIX "/ topics are published by the broker only");
		return -1;
	}
	*kind = jw_topic_parse(p->opt.prefix, topic, t);
	if(*kind == JW_TOPIC_OTHER){
		return 0;
	}
	if(*kind == JW_TOPIC_INVALID){
		verdict_set(v, JW_REASON_INVALID_TOPIC, t->why);
		return -1;
	}
	if(jw_event_check_doc(p->schemas, t, payload, len, &p->opt.limits, &p->doc, v)){
		return -1;
	}
	*ev = p->doc.root;
	return 0;
}

/*
 * Adds "ts" as the first member when the publisher left it out, from the
 * message's clock reading (the one its job table change used). The new
 * payload comes from mosquitto_malloc: the broker frees the old one.
 * Returns 0, or -1 when out of memory (the message is left untouched).
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

/* A hash of the client id: tells a departed client's will from a new
 * connection that happens to reuse the same struct mosquitto address. */
static uint64_t id_tag(const struct mosquitto *client)
{
	const char *id = mosquitto_client_id(client);

	if(!id){
		id = "";
	}
	return jw_hash(id, strlen(id), 0);
}

/*
 * Whether a write check is for client's will. The broker sends an
 * immediate will right after MOSQ_EVT_DISCONNECT, before any other plugin
 * event: that is p->just_departed. An MQTT 5 will delay sends it later
 * from the main loop; such clients are remembered (with their id) in
 * p->departed until they show signs of life or the will goes out.
 */
static bool is_will(struct jw_plugin *p, const struct mosquitto *client,
                    const void *just_departed)
{
	uint64_t tag = 0;

	if(client == just_departed){
		return true;
	}
	/* Nearly always nobody is pending: every PUBLISH comes through here. */
	if(jw_ptrset_size(p->departed) == 0){
		return false;
	}
	return jw_ptrset_has(p->departed, client, &tag) && tag == id_tag(client);
}

int jw_message__on_message(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct mosquitto_evt_message *ed = event_data;
	struct jw_topic t;
	struct jw_verdict v;
	struct jw_clock now;
	const struct jw_jnode *ev = NULL;
	enum jw_topic_kind kind;
	int rc = MOSQ_ERR_SUCCESS;
	int added;

	(void)event;
	p->just_departed = NULL;
	p->suppress_payload = NULL;
	/* Publishing proves the client is connected: no will is pending. */
	if(jw_ptrset_size(p->departed) != 0){
		jw_ptrset_remove(p->departed, ed->client);
	}

	if(check_publish(p, ed->topic, ed->payload, ed->payloadlen, &kind, &t, &ev, &v)){
		jw_notice__reject(p, ed->client, ed->topic,
				kind == JW_TOPIC_JOB ? &t : NULL, &v, ed->properties, false);
		return MOSQ_ERR_ACL_DENIED;
	}
	if(kind != JW_TOPIC_JOB){
		return MOSQ_ERR_SUCCESS;
	}
	/* A terminal event the journal cannot take is refused before it
	 * changes anything, rather than acknowledged and lost. */
	if(jw_journal__refuse(p, &t, &v)){
		jw_notice__reject(p, ed->client, ed->topic, &t, &v, ed->properties, false);
		rc = MOSQ_ERR_ACL_DENIED;
		goto out;
	}
	/* One reading per message: the job table and the added ts agree. */
	jw_clock_now(&now);
	switch(jw_lifecycle__apply(p, &t, ev, ed->payload, ed->payloadlen, &now, &v)){
		case JW_APPLY_REJECT:
			jw_notice__reject(p, ed->client, ed->topic, &t, &v, ed->properties, false);
			rc = MOSQ_ERR_ACL_DENIED;
			goto out;
		case JW_APPLY_DUPLICATE:
			/* Spooled again (PostgreSQL keeps the first): if the first
			 * copy could not be spooled, this retry is how it gets in. */
			if(jw_journal__record(p, &t, ed->client, ed->payload, ed->payloadlen, &v)){
				jw_notice__reject(p, ed->client, ed->topic, &t, &v, ed->properties, false);
				rc = MOSQ_ERR_ACL_DENIED;
				goto out;
			}
			/*
			 * A QoS 1 retransmission of the terminal event: the publisher
			 * must get a normal PUBACK, so the message is accepted, but
			 * every delivery of it is denied in the read ACL check that
			 * the broker runs for each subscriber right after this
			 * callback returns (see jw_message__on_acl_check).
			 */
			p->suppress_payload = ed->payload;
			ed->retain = false;
			goto out;
		default:
			break;
	}
	/* The state already changed: a failed ts insertion (out of memory)
	 * delivers the event as published rather than refusing it now. */
	added = add_ts(p, ed, ev, &now);
	if(added == 0){
		p->counters.ts_added++;
	}
	/* Into the spool (one write) before the broker acknowledges. If even
	 * that fails the publisher is refused and retries; its retry is a
	 * duplicate, spooled above. */
	if(jw_journal__record(p, &t, ed->client, ed->payload, ed->payloadlen, &v)){
		jw_notice__reject(p, ed->client, ed->topic, &t, &v, ed->properties, false);
		rc = MOSQ_ERR_ACL_DENIED;
		goto out;
	}
	jw_notice__count_accept(p, t.event);
out:
	return rc;
}

/*
 * Checks a will (the write check of a departed client) like a PUBLISH.
 * Out of line: its topic and verdict buffers would otherwise be set up in
 * every access check, one per PUBLISH and one per delivery.
 */
static __attribute__((noinline)) int check_will(struct jw_plugin *p,
		struct mosquitto_evt_acl_check *ed, int fallback)
{
	struct jw_topic t;
	struct jw_verdict v;
	const struct jw_jnode *ev = NULL;
	enum jw_topic_kind kind;

	/* MESSAGE never sees wills: this is the only place to stop a bad one. */
	jw_ptrset_remove(p->departed, ed->client);
	p->counters.wills_checked++;
	if(check_publish(p, ed->topic, ed->payload, ed->payloadlen, &kind, &t, &ev, &v)){
		jw_notice__reject(p, ed->client, ed->topic,
				kind == JW_TOPIC_JOB ? &t : NULL, &v, NULL, true);
		return MOSQ_ERR_ACL_DENIED;
	}
	if(kind == JW_TOPIC_JOB){
		struct jw_clock now;
		int outcome;

		if(jw_journal__refuse(p, &t, &v)){
			jw_notice__reject(p, ed->client, ed->topic, &t, &v, NULL, true);
			return MOSQ_ERR_ACL_DENIED;
		}
		jw_clock_now(&now);
		outcome = jw_lifecycle__apply(p, &t, ev, ed->payload, ed->payloadlen, &now, &v);

		if(outcome == JW_APPLY_REJECT){
			jw_notice__reject(p, ed->client, ed->topic, &t, &v, NULL, true);
			return MOSQ_ERR_ACL_DENIED;
		}
		if(outcome == JW_APPLY_DUPLICATE){
			return MOSQ_ERR_ACL_DENIED; /* already delivered once */
		}
		if(jw_journal__record(p, &t, ed->client, ed->payload, ed->payloadlen, &v)){
			jw_notice__reject(p, ed->client, ed->topic, &t, &v, NULL, true);
			return MOSQ_ERR_ACL_DENIED;
		}
		jw_notice__count_accept(p, t.event);
	}
	return fallback;
}

int jw_message__on_acl_check(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct mosquitto_evt_acl_check *ed = event_data;
	int fallback = p->acl_allow ? MOSQ_ERR_SUCCESS : MOSQ_ERR_PLUGIN_DEFER;
	const void *just_departed = p->just_departed;

	(void)event;
	if(ed->access == MOSQ_ACL_READ){
		/* Deliveries of an acknowledged duplicate go nowhere. */
		if(p->suppress_payload && ed->payload == p->suppress_payload){
			return MOSQ_ERR_ACL_DENIED;
		}
		return p->auth ? jw_auth__acl_check(p, ed) : fallback;
	}
	p->just_departed = NULL;
	p->suppress_payload = NULL;
	/* With JWT on, the token's claims come first for every check, wills
	 * included; what they allow is then checked like any publish. */
	if(p->auth && jw_auth__acl_check(p, ed) != MOSQ_ERR_SUCCESS){
		if(ed->access == MOSQ_ACL_WRITE && is_will(p, ed->client, just_departed)){
			jw_ptrset_remove(p->departed, ed->client);
		}
		return MOSQ_ERR_ACL_DENIED;
	}
	if(ed->access == MOSQ_ACL_SUBSCRIBE || ed->access == MOSQ_ACL_UNSUBSCRIBE){
		jw_ptrset_remove(p->departed, ed->client);
		return fallback;
	}
	if(ed->access != MOSQ_ACL_WRITE || !is_will(p, ed->client, just_departed)){
		/* Ordinary publishes are checked in MESSAGE, with their properties. */
		return fallback;
	}
	return check_will(p, ed, fallback);
}

int jw_message__on_disconnect(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct mosquitto_evt_disconnect *ed = event_data;

	(void)event;
	p->suppress_payload = NULL;
	p->just_departed = ed->client;
	if(p->auth){
		jw_auth__on_disconnect(p, ed->client);
	}
	/* Only MQTT 5 has will delays; 3.1.1 wills go out right away. */
	if(mosquitto_client_protocol_version(ed->client) == 5){
		jw_ptrset_add(p->departed, ed->client, id_tag(ed->client));
	}
	return MOSQ_ERR_SUCCESS;
}

int jw_message__on_tick(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;

	(void)event;
	(void)event_data;
	/* A will follows its disconnect, and the read checks of a duplicate
	 * follow its MESSAGE, within the same loop pass. */
	p->just_departed = NULL;
	p->suppress_payload = NULL;
	jw_lifecycle__tick(p);
	if(p->auth){
		jw_auth__tick(p);
	}
	return MOSQ_ERR_SUCCESS;
}
