/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The topic contract: {prefix}/{session}/{job}/{event}. Ids are 1-128
 * characters of [A-Za-z0-9._-]; the event is a schema type name.
 */
#ifndef JW_TOPIC_H
#define JW_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "util/id.h" /* JW_ID_MAX and the id rule */

enum jw_topic_kind {
	JW_TOPIC_OTHER = 0, /* not under the prefix: none of our business */
	JW_TOPIC_JOB,       /* a well-formed job topic (see t->event) */
	JW_TOPIC_INVALID,   /* under the prefix but malformed */
	JW_TOPIC_STATION,   /* stations/{station}/status (core/stations.h; t->session
	                       holds the station, t->event "station") */
};

struct jw_topic {
	char session[JW_ID_MAX + 1];
	char job[JW_ID_MAX + 1];
	char event[65];
	char why[128]; /* for JW_TOPIC_INVALID: what is wrong */
};

/*
 * Classifies topic. "Under the prefix" means the first level equals prefix
 * exactly ("jobs/..." for prefix "jobs"; "jobsX/..." is OTHER). Fills *t for
 * JOB, t->why for INVALID.
 */
enum jw_topic_kind jw_topic_parse(const char *prefix, const char *topic, struct jw_topic *t);

/* 1 when s is a valid session or job id, else 0. */
int jw_topic_id_valid(const char *s);

/*
 * Writes "{prefix}/{session}/{job}/{event}" into buf. Returns the length,
 * or -1 when it does not fit.
 */
int jw_topic_format(char *buf, size_t buflen, const char *prefix, const char *session,
        const char *job, const char *event);

/* Where the broker sends a client's rejection notices. */
#define JW_REJECTIONS_PREFIX "$jobwire/rejections/"
/* A client's own answer topics: JW_REPLIES_PREFIX{escaped id}[/...]. The
 * only part of $jobwire/ a client may name as an MQTT 5 response topic. */
#define JW_REPLIES_PREFIX "$jobwire/replies/"

/* History requests (plugin/history.c): the one $jobwire/ topic clients
 * publish to, JW_HISTORY_PREFIX{session}/{job}. */
#define JW_HISTORY_PREFIX "$jobwire/history/"

/* Whether topic is under JW_HISTORY_PREFIX (a history request, well
 * formed or not). Inline: asked of every $ topic a client publishes. */
static inline bool jw_topic_is_history_request(const char *topic)
{
	return topic[0] == '$' && !strncmp(topic, JW_HISTORY_PREFIX, sizeof(JW_HISTORY_PREFIX) - 1);
}

/*
 * Writes prefix followed by client_id (NULL as "") into buf, with '/',
 * '+', '#', '%' and control bytes encoded as %XX so every id maps to
 * exactly one topic level. Returns the length, or -1 when it does not fit.
 */
int jw_topic_client_level(char *buf, size_t buflen, const char *prefix, const char *client_id);

/* jw_topic_client_level with JW_REJECTIONS_PREFIX. */
int jw_topic_rejection(char *buf, size_t buflen, const char *client_id);

/* Whether topic is one of client_id's own replies topics
 * (JW_REPLIES_PREFIX{escaped id} or below it). */
bool jw_topic_own_replies(const char *topic, const char *client_id);

/* Why the broker will not answer on a client-named response topic. */
enum jw_response_refusal {
	JW_RESPONSE_OK = 0,
	JW_RESPONSE_INVALID,      /* not a valid PUBLISH topic */
	JW_RESPONSE_BROKER_TOPIC, /* a topic the broker owns */
	JW_RESPONSE_NOT_READABLE, /* the client may not (or might not) read it */
};

/*
 * The response-topic rule, for every answer the broker sends on a
 * client's behalf (mosquitto_broker_publish skips the write check): a
 * valid PUBLISH topic (MQTT 5 section 4.7), not the broker's own (the
 * tree under prefix, any $ topic but the client's own replies), and one
 * the client may read. What only the broker can say comes in: utf8_ok
 * (its UTF-8 rule, at most 65535 bytes), publishable (its topic check).
 * JW_RESPONSE_OK with *ask_read set: allowed if the client may read
 * topic, which the caller asks its ACL source. Otherwise why holds a
 * sentence for the client.
 */
enum jw_response_refusal jw_topic_response_check(const char *prefix, const char *topic,
        const char *client_id, bool utf8_ok, bool publishable, bool *ask_read, char *why,
        size_t whylen);

#endif
