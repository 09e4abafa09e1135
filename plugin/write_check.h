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
 * plugin must not apply). docs/design.md, "Telling a will from a publish".
 * Broker thread only; p->msg owns everything here.
 */
#ifndef JW_WRITE_CHECK_H
#define JW_WRITE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plugin.h"
#include "topic.h"

struct mosquitto_evt_acl_check;

/* What the previous plugin event was: a will is recognised at its check
 * when the broker has just said whose connection ended. */
enum last_event {
	LAST_OTHER = 0,
	LAST_READ,       /* a read check: last_read_* */
	LAST_DISCONNECT, /* MOSQ_EVT_DISCONNECT of last_client (id in last_id) */
};

/* A reusable byte buffer. */
struct jw_write_buf {
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
	bool valid;  /* passed every check (v unused) */
	bool replay; /* a session being resumed: see settle() */
	bool copied; /* bytes (and topic, id as below) hold this write's */
	bool has_id; /* id holds the client's id */
	enum jw_topic_kind kind;
	const struct mosquitto *client;
	const void *payload;
	uint32_t len;
	const struct jw_jnode *ev; /* the event (valid job topic), in p->doc */
	struct jw_clock now;       /* the message's one clock reading */
	struct jw_topic t;
	struct jw_verdict v;
	struct jw_write_buf bytes; /* the payload */
	struct jw_write_buf topic; /* the topic, when not a job topic (else t) */
	struct jw_write_buf id;
};

/*
 * A QoS 2 repeat of a terminal event, acknowledged but not to be
 * delivered. With QoS 2 the broker delivers at PUBREL, after MESSAGE has
 * returned (and for a kept session maybe on a later connection), so the
 * repeat is known by its stored payload buffer, length and a hash of its
 * topic and bytes until a read check of it comes. The buffer is compared,
 * never read: a buffer freed and reused would also need the same topic
 * and bytes to match, and those are the repeat's own.
 */
struct jw_held_repeat {
	const void *payload;
	uint32_t len;
	bool seen;     /* a read check matched it: gone at the next other event */
	uint64_t hash; /* of topic and payload */
};

/* How many held repeats are kept; the oldest goes first (its PUBREL may
 * never come: a publisher gone for good). */
#define JW_HELD_REPEATS_MAX 1024

struct jw_msgstate {
	struct jw_write w;
	enum last_event last;
	const void *last_client;
	const void *last_read_payload;
	const void *last_read_topic;
	struct jw_write_buf last_id;
	const void *connecting;         /* its write checks are session replays */
	const void *suppress_payload;   /* deliveries of this message are denied */
	struct jw_held_repeat *repeats; /* QoS 2 repeats, oldest first */
	size_t nrepeats;
	bool repeat_seen; /* some repeat has seen == true */
	bool write_final; /* the plugin's answer to a write check is
	                     the broker's (no acl_file after it) */
};

/* Holds the QoS 2 repeat (payload, len) on topic (write_check.c). Out of
 * memory, the oldest held repeat makes room. */
void jw_write__hold_repeat(
        struct jw_msgstate *m, const char *topic, const void *payload, uint32_t len);
/* Whether a read check's message is a held repeat (marked seen if so).
 * Called only when m->nrepeats. */
bool jw_write__is_repeat(
        struct jw_msgstate *m, const char *topic, const void *payload, uint32_t len);
/* Forgets the repeats a read check has matched (their deliveries are
 * over by the next event of another kind). */
void jw_write__forget_seen(struct jw_msgstate *m);

/* Runs every check for a PUBLISH or will on topic into w (write_check.c). */
void jw_write__check(struct jw_plugin *p, struct jw_write *w, const char *topic,
        const void *payload, uint32_t len, bool retain);
/* Fills e with w's event, as origin saw it. Inline: every event. */
static inline void jw_write__event_ctx(
        struct jw_event_ctx *e, enum jw_origin origin, struct jw_write *w, const char *topic)
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

/* Copies n bytes of s into b (NUL-terminated). -1 when out of memory. */
int jw_write__buf_set(struct jw_write_buf *b, const void *s, size_t n);
void jw_write__buf_free(struct jw_write_buf *b);

/* will.c: checks and applies a will (w) like a PUBLISH; true when it must
 * reach nobody. */
bool jw_will__finish(struct jw_plugin *p, struct jw_write *w, const char *topic, const void *raw,
        const char *id, bool durable);
/* will.c: the pending write was not followed by its MESSAGE. read: the
 * read check that comes first, if any. */
void jw_will__settle(struct jw_plugin *p, const struct mosquitto_evt_acl_check *read);

#endif
