/*
 * What happens when an event is refused: the machine-readable notice
 * (published to the publisher's MQTT 5 response topic, else to its
 * per-client rejection topic), one rate-limited log line, and the counters.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "schemaset.h"
#include "topic.h"

int jw_notice__rejection_topic(char *buf, size_t buflen, const char *client_id)
{
	return jw_topic_rejection(buf, buflen, client_id);
}

static struct jw_type_count *type_count(struct jw_counters *c, const char *type)
{
	for(size_t i = 0; i < c->ntypes; i++){
		if(!strcmp(c->types[i].type, type)){
			return &c->types[i];
		}
	}
	if(c->ntypes == c->captypes){
		size_t cap = c->captypes ? c->captypes * 2 : 16;
		struct jw_type_count *grown = realloc(c->types, cap * sizeof(*grown));
		if(!grown){
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
	if(tc){
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
	if(value && value[0]){
		json_object_object_add(o, key, json_object_new_string(value));
	}
}

/* The notice as JSON text; caller frees with mosquitto_free. */
static char *notice_json(const char *client_id, const char *topic,
                         const struct jw_topic *t, const struct jw_verdict *v,
                         enum jw_origin origin, size_t *len)
{
	struct json_object *o = json_object_new_object();
	struct timespec now;
	char ts[40];
	const char *text;
	char *out = NULL;

	if(!o){
		return NULL;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	jw_event_format_ts(ts, sizeof(ts), (int64_t)now.tv_sec, now.tv_nsec);
	add_str(o, "type", "rejected");
	add_str(o, "reason", jw_reason_name(v->reason));
	add_str(o, "message", v->message);
	add_str(o, "field", v->field);
	add_str(o, "keyword", v->keyword);
	add_str(o, "topic", topic);
	if(t){
		add_str(o, "session_id", t->session);
		add_str(o, "job_id", t->job);
		add_str(o, "event", t->event);
	}
	add_str(o, "client_id", client_id);
	if(origin == JW_FROM_WILL){
		json_object_object_add(o, "will", json_object_new_boolean(1));
	}
	add_str(o, "ts", ts);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if(text){
		*len = strlen(text);
		out = mosquitto_malloc(*len + 1);
		if(out){
			memcpy(out, text, *len + 1);
		}
	}
	json_object_put(o);
	return out;
}

/*
 * Where the notice goes: the MQTT 5 response topic (with the publisher's
 * correlation data) when one was given, else the per-client topic.
 * Returns 0 with dest filled and *props (possibly NULL) to hand over.
 */
static int notice_destination(const char *client_id,
                              const mosquitto_property *in, char *dest,
                              size_t destlen, mosquitto_property **props)
{
	char *response = NULL;
	void *corr = NULL;
	uint16_t corrlen = 0;

	*props = NULL;
	if(in && mosquitto_property_read_string(in, MQTT_PROP_RESPONSE_TOPIC, &response, false)){
		bool ok = strlen(response) < destlen
				&& mosquitto_pub_topic_check(response) == MOSQ_ERR_SUCCESS;
		if(ok){
			snprintf(dest, destlen, "%s", response);
			if(mosquitto_property_read_binary(in, MQTT_PROP_CORRELATION_DATA, &corr, &corrlen, false)){
				mosquitto_property_add_binary(props, MQTT_PROP_CORRELATION_DATA, corr, corrlen);
				mosquitto_free(corr);
			}
		}
		mosquitto_free(response);
		if(ok){
			return 0;
		}
	}
	if(!client_id){
		return -1;
	}
	return jw_notice__rejection_topic(dest, destlen, client_id) < 0 ? -1 : 0;
}

/* Copies s for a log line with control characters replaced. */
static void log_safe(char *dst, size_t dstlen, const char *s)
{
	size_t i = 0;

	for(; s && *s && i + 1 < dstlen; s++){
		dst[i++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
	}
	dst[i] = '\0';
}

static bool log_allowed(struct jw_plugin *p)
{
	struct timespec now;

	if(p->opt.log_rate == 0){
		return true;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if((int64_t)now.tv_sec != p->log_window_s){
		if(p->log_suppressed){
			mosquitto_log_printf(MOSQ_LOG_NOTICE,
					"jobwire: %llu further rejections not logged (plugin_opt_log_rate %u per second)",
					(unsigned long long)p->log_suppressed, p->opt.log_rate);
		}
		p->log_window_s = (int64_t)now.tv_sec;
		p->log_in_window = 0;
		p->log_suppressed = 0;
	}
	if(p->log_in_window >= p->opt.log_rate){
		p->log_suppressed++;
		return false;
	}
	p->log_in_window++;
	return true;
}

static const char *origin_name(enum jw_origin origin)
{
	switch(origin){
		case JW_FROM_WILL: return "will";
		case JW_FROM_WRITE: return "retained PUBLISH or will";
		default: return "PUBLISH";
	}
}

void jw_notice__reject(struct jw_plugin *p, const char *client_id,
                       const char *topic, const struct jw_topic *t,
                       const struct jw_verdict *v,
                       const mosquitto_property *props, enum jw_origin origin)
{
	char dest[1024];
	mosquitto_property *out_props = NULL;
	size_t len = 0;
	char *payload;

	p->counters.rejected++;
	if(v->reason > JW_REASON_NONE && v->reason < JW_REASON__COUNT){
		p->counters.by_reason[v->reason]++;
	}
	/* Per-type counts only for known types: a client inventing event
	 * names must not grow the table. */
	if(t && jw_schemaset_find(p->schemas, t->event)){
		struct jw_type_count *tc = type_count(&p->counters, t->event);
		if(tc){
			tc->rejected++;
		}
	}

	if(log_allowed(p)){
		char ltopic[256], lclient[128];
		log_safe(ltopic, sizeof(ltopic), topic);
		log_safe(lclient, sizeof(lclient), client_id ? client_id : "?");
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jobwire: rejected %s on \"%s\" from \"%s\": %s: %s",
				origin_name(origin), ltopic, lclient,
				jw_reason_name(v->reason), v->message);
	}

	if(notice_destination(client_id, origin == JW_FROM_PUBLISH ? props : NULL, dest, sizeof(dest),
				&out_props)){
		return;
	}
	payload = notice_json(client_id, topic, t, v, origin, &len);
	if(!payload || len > INT32_MAX){
		mosquitto_free(payload);
		mosquitto_property_free_all(&out_props);
		return;
	}
	/* On success the broker owns payload and props; on failure we do. */
	if(mosquitto_broker_publish(NULL, dest, (int)len, payload, 1, false, out_props)){
		mosquitto_free(payload);
		mosquitto_property_free_all(&out_props);
	}
}
