/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The pending write (write_check.h): the checks every PUBLISH or will
 * gets at its write check, the event as jw_effects__run sees it, and the
 * state's set-up and clean-up. Broker thread only.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_api.h"

#include "jobs/jobs.h"
#include "schemaset.h"
#include "stations.h"
#include "topic.h"
#include "write_check.h"

static bool is_sys_topic(const char *topic)
{
	/* The first byte settles it for nearly every topic, without a call. */
	return topic[0] == JW_SYS_PREFIX[0] &&
	       !strncmp(topic, JW_SYS_PREFIX "/", sizeof(JW_SYS_PREFIX));
}

static void verdict_set(struct jw_verdict *v, enum jw_reason reason, const char *msg)
{
	memset(v, 0, sizeof(*v));
	v->reason = reason;
	snprintf(v->message, sizeof(v->message), "%s", msg);
}

/* Copies n bytes of s into b (NUL-terminated). -1 when out of memory. */
int jw_write__buf_set(struct jw_write_buf *b, const void *s, size_t n)
{
	if(n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *grown;

		while(cap < n + 1) {
			cap *= 2;
		}
		grown = realloc(b->data, cap);
		if(!grown) {
			b->len = 0;
			return -1;
		}
		b->data = grown;
		b->cap = cap;
	}
	if(n) {
		memcpy(b->data, s, n);
	}
	b->data[n] = '\0';
	b->len = n;
	return 0;
}

void jw_write__buf_free(struct jw_write_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/*
 * Runs every check for a PUBLISH or will on topic into w: kind, valid,
 * t, v, ev (in p->doc, valid until the next message; NULL when the topic
 * is not a job topic) and, for a valid job event, the clock reading.
 */
void jw_write__check(struct jw_plugin *p, struct jw_write *w, const char *topic,
        const void *payload, uint32_t len, bool retain)
{
	w->ev = NULL;
	w->valid = false;
	if(is_sys_topic(topic)) {
		w->kind = JW_TOPIC_OTHER;
		/* The one exception: a history request, answered at its MESSAGE
		 * (history.c). Retained it would be stored for nobody. */
		if(jw_topic_is_history_request(topic)) {
			w->valid = !retain;
			verdict_set(&w->v, JW_REASON_PROTECTED_TOPIC,
			        "history requests are never retained: publish without the retain flag");
			return;
		}
		verdict_set(&w->v, JW_REASON_PROTECTED_TOPIC,
		        JW_SYS_PREFIX "/ topics are published by the broker only");
		return;
	}
	w->kind = jw_topic_parse(p->opt.prefix, topic, &w->t);
	if(w->kind == JW_TOPIC_OTHER) {
		w->valid = true;
		/* stations/{station}/status is checked too (stations.c). */
		if(topic[0] == JW_STATIONS_PREFIX[0]) {
			(void)jw_stations__check(p, w, topic, payload, len);
		}
		return;
	}
	if(w->kind == JW_TOPIC_INVALID) {
		verdict_set(&w->v, JW_REASON_INVALID_TOPIC, w->t.why);
		return;
	}
	/* A retained control message would be replayed to every later
	 * subscriber: an old cancel would stop the next run of the job.
	 * Refused rather than stripped, because a will cannot be changed. */
	if(retain && !strcmp(w->t.event, "control")) {
		verdict_set(&w->v, JW_REASON_RULE_VIOLATION,
		        "control messages are never retained: publish without the retain flag");
		snprintf(w->v.keyword, sizeof(w->v.keyword), "not_retained");
		return;
	}
	if(jw_event_check_doc(p->schemas, &w->t, payload, len, &p->opt.limits, &p->doc, &w->v)) {
		return;
	}
	w->ev = p->doc.root;
	w->valid = true;
	/* One reading per message: the job table and the added ts agree. */
	jw_clock_now(&w->now);
}

int jw_write__init(struct jw_plugin *p)
{
	p->msg = calloc(1, sizeof(*p->msg));
	if(!p->msg) {
		return -1;
	}
	jw_seq_init(&p->msg->seq, p->auth || p->acl_allow);
	return 0;
}

void jw_write__cleanup(struct jw_plugin *p)
{
	struct jw_msgstate *m = p->msg;

	if(!m) {
		return;
	}
	/* Whatever is pending came from wills sent at shutdown. */
	jw_write__buf_free(&m->w.topic);
	jw_write__buf_free(&m->w.bytes);
	jw_write__buf_free(&m->w.id);
	jw_seq_cleanup(&m->seq);
	free(m);
	p->msg = NULL;
}
