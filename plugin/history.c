/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The history request: an MQTT 5 PUBLISH to $jobwire/history/{session}/{job}
 * with a response topic and correlation data is answered on that topic
 * with the job's kept events (core/jobs/history.c), or an error. The one
 * $jobwire/ topic a client may publish to; the request itself reaches no
 * subscriber. Handled at MESSAGE, the only callback that sees the
 * properties. docs/topics.md, "History". Broker thread only.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_api.h"

#include "jobs/jobs.h"
#include "props.h"
#include "topic.h"
#include "util/buf.h"

/* Most bytes of events one answer carries: beyond it the oldest are left
 * out (truncated), so a job of large events cannot make a reply the
 * broker and the client choke on. */
#define REPLY_EVENTS_MAX (1024u * 1024u)

/* The request topic's session and job: false when it is not exactly
 * $jobwire/history/{session}/{job} with valid ids. */
static bool parse_request(const char *topic, char *session, char *job)
{
	const char *s = topic + sizeof(JW_HISTORY_PREFIX) - 1;
	const char *slash = strchr(s, '/');
	size_t slen, jlen;

	if(!slash) {
		return false;
	}
	slen = (size_t)(slash - s);
	jlen = strlen(slash + 1);
	if(slen == 0 || slen > JW_ID_MAX || jlen > JW_ID_MAX) {
		return false;
	}
	memcpy(session, s, slen);
	session[slen] = '\0';
	memcpy(job, slash + 1, jlen + 1);
	return jw_topic_id_valid(session) && jw_topic_id_valid(job);
}

/* The envelope's start: {"type":"history"[,"session","job"]. Ids are
 * [A-Za-z0-9._-] only, so they need no escaping. */
static void start_reply(struct jw_buf *b, const char *session, const char *job)
{
	jw_buf_add_str(b, "{\"type\":\"history\"");
	if(session && job) {
		jw_buf_printf(b, ",\"session\":\"%s\",\"job\":\"%s\"", session, job);
	}
}

/* A JSON string of the plain ASCII text s (messages made here, and
 * refusal sentences): anything else is replaced. */
static void add_text(struct jw_buf *b, const char *s)
{
	jw_buf_add_str(b, "\"");
	for(; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if(c == '"' || c == '\\') {
			jw_buf_add(b, "\\", 1);
			jw_buf_add(b, s, 1);
		} else {
			jw_buf_add(b, c < 0x20 || c >= 0x7f ? "?" : s, 1);
		}
	}
	jw_buf_add_str(b, "\"");
}

static void error_reply(struct jw_buf *b, const char *session, const char *job, const char *error,
        const char *message, const char *refusal)
{
	start_reply(b, session, job);
	jw_buf_printf(b, ",\"error\":\"%s\",\"message\":", error);
	add_text(b, message);
	if(refusal) {
		jw_buf_printf(b, ",\"reason\":\"%s\"", refusal);
	}
	jw_buf_add_str(b, "}");
}

/* The events of j, oldest first, as many of the newest as fit in
 * REPLY_EVENTS_MAX bytes. */
static void events_reply(struct jw_buf *b, const struct jw_job *j)
{
	size_t n = jw_job_history_count(j), first = n, bytes = 0;
	struct jw_history_event e;
	bool truncated;

	while(first > 0 && jw_job_history_get(j, first - 1, &e) &&
	        bytes + e.len + 96 <= REPLY_EVENTS_MAX) {
		bytes += e.len + 96;
		first--;
	}
	truncated = first > 0 || !jw_job_history_complete(j);
	start_reply(b, jw_job_session(j), jw_job_id(j));
	jw_buf_printf(b, ",\"status\":\"%s\",\"attempt\":%u,\"seq\":%llu,\"events\":[",
	        jw_job_status_name(jw_job_status(j)), jw_job_attempt(j),
	        (unsigned long long)jw_job_seq(j));
	for(size_t i = first; i < n && jw_job_history_get(j, i, &e); i++) {
		jw_buf_printf(b,
		        "%s{\"seq\":%llu,\"attempt\":%u,\"type\":\"%s\",\"event\":", i > first ? "," : "",
		        (unsigned long long)e.seq, e.attempt, e.type);
		if(e.len) {
			jw_buf_add(b, e.event, e.len);
		} else {
			jw_buf_add_str(b, "null");
		}
		jw_buf_add_str(b, "}");
	}
	jw_buf_printf(b, "],\"truncated\":%s}", truncated ? "true" : "false");
}

/* Publishes b's text to dest with the correlation data of in (QoS 1,
 * not retained). The broker owns what it took; the rest is freed. */
static void send_reply(
        struct jw_plugin *p, const char *dest, struct jw_buf *b, const mosquitto_property *in)
{
	mosquitto_property *props = NULL;
	void *corr = NULL;
	uint16_t corrlen = 0;
	char *payload;

	if(b->err || b->len > INT32_MAX) {
		p->counters.history_failures++;
		return;
	}
	payload = mosquitto_malloc(b->len + 1);
	if(!payload) {
		p->counters.history_failures++;
		return;
	}
	memcpy(payload, b->p, b->len + 1);
	if(jw_props__read_binary(in, MQTT_PROP_CORRELATION_DATA, &corr, &corrlen)) {
		mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr, corrlen);
		mosquitto_free(corr);
	}
	if(jw_wake__publish(p, dest, (int)b->len, payload, 1, false, props) == MOSQ_ERR_SUCCESS) {
		p->counters.history_answers++;
		return;
	}
	p->counters.history_failures++;
	mosquitto_free(payload);
	mosquitto_property_free_all(&props);
}

/* Answers the request ed (see the top of the file). */
static void answer(struct jw_plugin *p, struct mosquitto_evt_message *ed)
{
	char session[JW_ID_MAX + 1], job[JW_ID_MAX + 1], own[1024], why[160];
	int ownlen;
	char state_topic[512];
	char *response = NULL;
	const char *dest = own;
	bool parsed = parse_request(ed->topic, session, job);
	const char *s = parsed ? session : NULL, *jb = parsed ? job : NULL;
	enum jw_response_refusal r = JW_RESPONSE_OK;
	struct jw_job *j;
	struct jw_buf b;

	jw_buf_init(&b, 0);
	/* Where to answer: the response topic when the policy allows it, else
	 * the requester's own replies, with the error. */
	ownlen = jw_topic_client_level(
	        own, sizeof(own), JW_REPLIES_PREFIX, mosquitto_client_id(ed->client));
	if(ownlen < 0 || snprintf(own + ownlen, sizeof(own) - (size_t)ownlen, "/history") >=
	                         (int)(sizeof(own) - (size_t)ownlen)) {
		p->counters.history_failures++;
		return;
	}
	if(!jw_props__read_string(ed->properties, MQTT_PROP_RESPONSE_TOPIC, &response)) {
		error_reply(&b, s, jb, "no_response_topic",
		        "a history request needs an MQTT 5 response topic (and correlation data)", NULL);
		goto send;
	}
	r = jw_notice__response_topic_check(p, ed->client, response, why, sizeof(why));
	if(r != JW_RESPONSE_OK) {
		error_reply(&b, s, jb, "response_topic_refused", why, jw_notice__response_refusal_name(r));
		goto send;
	}
	dest = response;
	if(!parsed) {
		error_reply(&b, NULL, NULL, "invalid_request",
		        "the request topic is " JW_HISTORY_PREFIX "{session}/{job}, ids of 1 to 128 "
		        "characters of A-Z a-z 0-9 . _ -",
		        NULL);
		goto send;
	}
	/* With JWT on, the token must allow reading the job's topics; asked
	 * before the table, so that nobody learns which jobs exist elsewhere. */
	if(p->auth && (jw_topic_format(state_topic, sizeof(state_topic), p->opt.prefix, session, job,
	                       "state") < 0 ||
	                      !jw_auth__may_read(p, ed->client, state_topic))) {
		error_reply(&b, s, jb, "not_allowed",
		        "the requester's token does not allow reading this session", NULL);
		goto send;
	}
	if(p->opt.history_events == 0) {
		error_reply(&b, s, jb, "history_off",
		        "the broker keeps no history (plugin_opt_history_events 0)", NULL);
		goto send;
	}
	j = jw_jobs_find(p->jobs, session, job);
	if(!j) {
		error_reply(
		        &b, s, jb, "unknown_job", "the broker keeps no job of that session and id", NULL);
		goto send;
	}
	events_reply(&b, j);
send:
	send_reply(p, dest, &b, ed->properties);
	jw_buf_cleanup(&b);
	mosquitto_free(response);
}

int jw_history__on_message(struct jw_plugin *p, struct mosquitto_evt_message *ed)
{
	p->counters.history_requests++;
	answer(p, ed);
	/* The request reaches nobody: every delivery of it is denied in its
	 * read check (acl.c), so it is acknowledged as usual (a PUBACK
	 * without error) and goes no further. */
	ed->retain = false;
	return MOSQ_ERR_SUCCESS;
}
