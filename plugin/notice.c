/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * What happens when an event is refused: the machine-readable notice
 * (published to the publisher's MQTT 5 response topic when the
 * response-topic policy allows it, else to its per-client rejection
 * topic), one rate-limited log line, and the counters. The response-topic
 * policy lives here too, for every answer the broker sends on a client's
 * behalf.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include "broker_api.h"

#include "props.h"
#include "schemaset.h"
#include "topic.h"

const char *jw_notice__response_refusal_name(enum jw_response_refusal r)
{
	switch(r) {
		case JW_RESPONSE_INVALID:
			return "invalid";
		case JW_RESPONSE_BROKER_TOPIC:
			return "broker_topic";
		case JW_RESPONSE_NOT_READABLE:
			return "not_readable";
		default:
			return "ok";
	}
}

enum jw_response_refusal jw_notice__response_topic_check(struct jw_plugin *p,
        const struct mosquitto *client, const char *topic, char *why, size_t whylen)
{
	size_t len = topic ? strlen(topic) : 0;
	bool utf8_ok =
	        len > 0 && len <= 65535 && mosquitto_validate_utf8(topic, (int)len) == MOSQ_ERR_SUCCESS;
	bool publishable = utf8_ok && mosquitto_pub_topic_check(topic) == MOSQ_ERR_SUCCESS;
	bool ask_read;
	enum jw_response_refusal r;

	/* An edge's bridge asks for its clients, each answered on its own
	 * replies, which the bridge carries back (edge.c checked them). */
	if(publishable && !strpbrk(topic, "+#") && jw_auth__is_edge(p, client) &&
	        !strncmp(topic, JW_REPLIES_PREFIX, sizeof(JW_REPLIES_PREFIX) - 1) &&
	        topic[sizeof(JW_REPLIES_PREFIX) - 1] != '\0') {
		return JW_RESPONSE_OK;
	}
	r = jw_topic_response_check(p->opt.prefix, topic, mosquitto_client_id(client), utf8_ok,
	        publishable, &ask_read, why, whylen);

	if(r != JW_RESPONSE_OK || !ask_read) {
		return r;
	}
	if(!jw_auth__may_read(p, client, topic)) {
		snprintf(why, whylen,
		        p->auth ? "the publisher's token does not allow it to read the response topic"
		                : "an ACL source other than jobwire decides who may read the response "
		                  "topic; use " JW_REPLIES_PREFIX "{client id}/...");
		return JW_RESPONSE_NOT_READABLE;
	}
	return JW_RESPONSE_OK;
}

static struct jw_type_count *type_count(struct jw_counters *c, const char *type)
{
	for(size_t i = 0; i < c->ntypes; i++) {
		if(!strcmp(c->types[i].type, type)) {
			return &c->types[i];
		}
	}
	if(c->ntypes == c->captypes) {
		size_t cap = c->captypes ? c->captypes * 2 : 16;
		struct jw_type_count *grown = realloc(c->types, cap * sizeof(*grown));
		if(!grown) {
			return NULL;
		}
		c->types = grown;
		c->captypes = cap;
	}
	memset(&c->types[c->ntypes], 0, sizeof(c->types[0]));
	snprintf(c->types[c->ntypes].type, sizeof(c->types[0].type), "%s", type);
	return &c->types[c->ntypes++];
}

void jw_notice__count_accept(struct jw_plugin *p, const char *type)
{
	struct jw_type_count *tc = type_count(&p->counters, type);

	p->counters.accepted++;
	if(tc) {
		tc->accepted++;
	}
}

void jw_counters__cleanup(struct jw_counters *c)
{
	free(c->types);
	memset(c, 0, sizeof(*c));
}

static void add_str(struct json_object *o, const char *key, const char *value)
{
	if(value && value[0]) {
		json_object_object_add(o, key, json_object_new_string(value));
	}
}

/* The notice as JSON text; caller frees with mosquitto_free. */
/* Why the publisher's response topic was not used; NULL topic: none. */
struct refused_response {
	const char *topic;
	enum jw_response_refusal reason;
	char message[160];
};

static char *notice_json(const char *client_id, const char *topic, const struct jw_topic *t,
        const struct jw_verdict *v, enum jw_origin origin, const struct refused_response *rr,
        size_t *len)
{
	struct json_object *o = json_object_new_object();
	char ts[40];
	const char *text;
	char *out = NULL;

	if(!o) {
		return NULL;
	}
	jw_rfc3339_format_ms(ts, sizeof(ts), jw_clock_ms(CLOCK_REALTIME));
	add_str(o, "type", "rejected");
	add_str(o, "reason", jw_reason_name(v->reason));
	add_str(o, "message", v->message);
	add_str(o, "field", v->field);
	add_str(o, "keyword", v->keyword);
	add_str(o, "topic", topic);
	if(t) {
		add_str(o, "session_id", t->session);
		add_str(o, "job_id", t->job);
		add_str(o, "event", t->event);
	}
	add_str(o, "client_id", client_id);
	if(origin == JW_FROM_WILL) {
		json_object_object_add(o, "will", json_object_new_boolean(1));
	}
	if(rr->topic) {
		struct json_object *r = json_object_new_object();

		if(r) {
			size_t tl = strnlen(rr->topic, 65536);

			/* Quoted only when it is text: JSON strings must be UTF-8. */
			if(tl <= 65535 && mosquitto_validate_utf8(rr->topic, (int)tl) == MOSQ_ERR_SUCCESS) {
				add_str(r, "topic", rr->topic);
			}
			add_str(r, "reason", jw_notice__response_refusal_name(rr->reason));
			add_str(r, "message", rr->message);
			json_object_object_add(o, "response_topic_refused", r);
		}
	}
	add_str(o, "ts", ts);
	text = json_object_to_json_string_ext(
	        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if(text) {
		*len = strlen(text);
		out = mosquitto_malloc(*len + 1);
		if(out) {
			memcpy(out, text, *len + 1);
		}
	}
	json_object_put(o);
	return out;
}

/*
 * Where the notice goes: the MQTT 5 response topic when one was given and
 * the response-topic policy allows it, else the per-client topic, noting
 * in *rr why the response topic was not used. The publisher's correlation
 * data goes along either way. Returns 0 with *dest (free with
 * mosquitto_free) and *props (possibly NULL) to hand over, or -1.
 * *response (free with mosquitto_free) keeps the response topic that
 * *rr points into.
 */
static int notice_destination(struct jw_plugin *p, const struct mosquitto *client,
        const char *client_id, const mosquitto_property *in, char **dest, char **response,
        struct refused_response *rr, mosquitto_property **props)
{
	void *corr = NULL;
	uint16_t corrlen = 0;
	char own[1024];

	*props = NULL;
	*dest = NULL;
	*response = NULL;
	memset(rr, 0, sizeof(*rr));
	if(!in || !client) {
		goto own_topic;
	}
	if(jw_props__read_binary(in, MQTT_PROP_CORRELATION_DATA, &corr, &corrlen)) {
		mosquitto_property_add_binary(props, MQTT_PROP_CORRELATION_DATA, corr, corrlen);
		mosquitto_free(corr);
	}
	if(!jw_props__read_string(in, MQTT_PROP_RESPONSE_TOPIC, response)) {
		goto own_topic;
	}
	rr->reason =
	        jw_notice__response_topic_check(p, client, *response, rr->message, sizeof(rr->message));
	if(rr->reason == JW_RESPONSE_OK) {
		*dest = *response;
		*response = NULL;
		return 0;
	}
	rr->topic = *response;
own_topic:
	if(!client_id || jw_client_topics__rejection(own, sizeof(own), client_id) < 0) {
		return -1;
	}
	*dest = mosquitto_strdup(own);
	return *dest ? 0 : -1;
}

/* Copies s for a log line with control characters replaced. */
static void log_safe(char *dst, size_t dstlen, const char *s)
{
	size_t i = 0;

	for(; s && *s && i + 1 < dstlen; s++) {
		dst[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	}
	dst[i] = '\0';
}

static bool log_allowed(struct jw_plugin *p)
{
	int64_t now_s;

	if(p->opt.log_rate == 0) {
		return true;
	}
	now_s = jw_clock_ms(CLOCK_MONOTONIC) / 1000;
	if(now_s != p->log_window_s) {
		if(p->log_suppressed) {
			mosquitto_log_printf(MOSQ_LOG_NOTICE,
			        "jobwire: %llu further rejections not logged (plugin_opt_log_rate %u per "
			        "second)",
			        (unsigned long long)p->log_suppressed, p->opt.log_rate);
		}
		p->log_window_s = now_s;
		p->log_in_window = 0;
		p->log_suppressed = 0;
	}
	if(p->log_in_window >= p->opt.log_rate) {
		p->log_suppressed++;
		return false;
	}
	p->log_in_window++;
	return true;
}

static const char *origin_name(enum jw_origin origin)
{
	switch(origin) {
		case JW_FROM_WILL:
			return "will";
		case JW_FROM_WRITE:
			return "retained PUBLISH or will";
		default:
			return "PUBLISH";
	}
}

void jw_notice__reject(struct jw_plugin *p, const struct mosquitto *client, const char *client_id,
        const char *topic, const struct jw_topic *t, const struct jw_verdict *v,
        const mosquitto_property *props, enum jw_origin origin)
{
	char *dest = NULL, *response = NULL;
	struct refused_response rr;
	mosquitto_property *out_props = NULL;
	size_t len = 0;
	char *payload = NULL;

	p->counters.rejected++;
	if(v->reason > JW_REASON_NONE && v->reason < JW_REASON__COUNT) {
		p->counters.by_reason[v->reason]++;
	}
	/* Per-type counts only for known types: a client inventing event
	 * names must not grow the table. */
	if(t && jw_schemaset_find(p->schemas, t->event)) {
		struct jw_type_count *tc = type_count(&p->counters, t->event);
		if(tc) {
			tc->rejected++;
		}
	}

	if(log_allowed(p)) {
		char ltopic[256], lclient[128];
		log_safe(ltopic, sizeof(ltopic), topic);
		log_safe(lclient, sizeof(lclient), client_id ? client_id : "?");
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jobwire: rejected %s on \"%s\" from \"%s\": %s: %s",
		        origin_name(origin), ltopic, lclient, jw_reason_name(v->reason), v->message);
	}

	if(notice_destination(p, client, client_id, origin == JW_FROM_PUBLISH ? props : NULL, &dest,
	           &response, &rr, &out_props)) {
		goto out;
	}
	payload = notice_json(client_id, topic, t, v, origin, &rr, &len);
	if(!payload || len > INT32_MAX) {
		goto out;
	}
	/* On success the broker owns payload and props; on failure we do. */
	if(jw_wake__publish(p, dest, (int)len, payload, 1, false, out_props) == MOSQ_ERR_SUCCESS) {
		payload = NULL;
		out_props = NULL;
		p->counters.notices_sent++;
	}
out:
	mosquitto_free(payload);
	mosquitto_property_free_all(&out_props);
	mosquitto_free(dest);
	mosquitto_free(response);
}
