/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The write check the broker has not yet said what it was, shared by the
 * files cut by broker event: acl.c (ACL_CHECK), publish.c (MESSAGE),
 * will.c (what a write check that MESSAGE never followed was) and
 * clients.c (DISCONNECT, BASIC_AUTH). mosquitto shows a PUBLISH to a
 * plugin twice in a row (its write ACL check, then MOSQ_EVT_MESSAGE with
 * the same payload buffer) and a will only once (a write check that
 * MESSAGE never follows). So every write check is checked where it
 * happens and kept as the pending write; the broker's next event says
 * what it was: its MESSAGE (a PUBLISH, finished there, where its MQTT 5
 * properties are) or anything else (not a PUBLISH: a will, or a write the
 * plugin must not apply). The rules that read the order of events are
 * core/sequence.h; these files feed it the broker's events and carry out
 * what it answers. docs/design.md, "Telling a will from a publish".
 * Broker thread only; p->msg owns everything here.
 */
#ifndef JW_WRITE_CHECK_H
#define JW_WRITE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"
#include "sequence.h"
#include "topic.h"

/* A reusable byte buffer. */
struct jw_write_buf {
	char *data;
	size_t len;
	size_t cap;
};

/*
 * The pending write's check (its place in the broker's order of events
 * is in struct jw_seq). The broker's buffers (payload, topic, client id)
 * are compared, never read, after the check: a will's are freed right
 * after its deliveries are queued (its client's id too, when the broker
 * sends a delayed will), a refused PUBLISH's at once. What settling it
 * needs is copied; the client itself lives until the next tick at least.
 */
struct jw_write {
	bool valid;  /* passed every check (v unused) */
	bool has_id; /* id holds the client's id */
	enum jw_topic_kind kind;
	const struct jw_jnode *ev; /* the event (valid job topic), in p->doc */
	struct jw_clock now;       /* the message's one clock reading */
	struct jw_topic t;
	struct jw_verdict v;
	struct jw_write_buf bytes; /* the payload */
	struct jw_write_buf topic; /* the topic, when not a job topic (else t) */
	struct jw_write_buf id;
};

struct jw_msgstate {
	struct jw_seq seq; /* what the order of events says (core/sequence.h) */
	struct jw_write w;
};

/* Runs every check for a PUBLISH or will on topic into w (write_check.c). */
void jw_write__check(struct jw_plugin *p, struct jw_write *w, const char *topic,
        const void *payload, uint32_t len, bool retain);
/* Fills e with w's event, as origin saw it. Inline: every event. */
static inline void jw_write__event_ctx(
        struct jw_event_ctx *e, enum jw_origin origin, struct jw_msgstate *m, const char *topic)
{
	struct jw_write *w = &m->w;

	e->origin = origin;
	e->t = w->kind == JW_TOPIC_JOB ? &w->t : NULL;
	e->topic = topic;
	e->client = m->seq.w.client;
	e->client_id = NULL;
	e->props = NULL;
	e->msg = NULL;
	e->ev = w->ev;
	e->payload = m->seq.w.payload;
	e->len = m->seq.w.len;
	e->durable = true;
	e->now = &w->now;
}

/* Copies n bytes of s into b (NUL-terminated). -1 when out of memory. */
int jw_write__buf_set(struct jw_write_buf *b, const void *s, size_t n);
void jw_write__buf_free(struct jw_write_buf *b);

/* will.c: checks and applies the pending write, a will, like a PUBLISH;
 * true when it must reach nobody. */
bool jw_will__finish(
        struct jw_plugin *p, const char *topic, const void *raw, const char *id, bool durable);
/* will.c: the pending write was not followed by its MESSAGE. read: the
 * read check that comes first, if any. */
void jw_will__settle(struct jw_plugin *p, const struct jw_seq_check *read);

#endif
