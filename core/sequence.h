/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * What the order of the broker's events says each write check was. A
 * PUBLISH reaches a plugin twice in a row (its write check, then MESSAGE
 * with the same client and payload buffer), a will only once (a write
 * check MESSAGE never follows), a resumed session's stored messages as
 * write checks again, a retained message's replay as a read check and a
 * write check of the same buffers. docs/design.md, "Telling a will from a
 * publish", gives the broker's side; this file is the rules, as data in
 * and decisions out, with no broker behind it: the plugin feeds it every
 * access check, MESSAGE, DISCONNECT, accepted authentication and tick,
 * and carries out what it answers (plugin/acl.c, publish.c, will.c,
 * clients.c, tick.c); tests/unit/test_sequence.c drives it directly.
 *
 * Clients, payloads and topics are the broker's pointers: compared, never
 * read after the call they come with (the broker frees a will's buffers
 * right after queueing it). One thread (the broker's); the state belongs
 * to its caller.
 */
#ifndef JW_SEQUENCE_H
#define JW_SEQUENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the previous event was: a will is known at its check when the
 * broker has just said whose connection ended. */
enum jw_seq_last {
	JW_SEQ_LAST_OTHER = 0,
	JW_SEQ_LAST_READ,       /* a read check: last_read_* */
	JW_SEQ_LAST_DISCONNECT, /* the DISCONNECT of last_client (id in last_id) */
};

/* An access check as the broker shows it. */
struct jw_seq_check {
	const void *client;
	const char *client_id; /* write checks: may be NULL */
	const char *topic;
	const void *payload;
	uint32_t len;
	bool retain;
};

/* The write check not yet followed by anything. */
struct jw_seq_write {
	bool active;
	bool valid;  /* passed every check */
	bool job;    /* on a job topic */
	bool replay; /* a resumed session's stored message: never applied */
	bool copied; /* the caller kept its bytes (jw_seq_kept) */
	const void *client;
	const void *payload;
	uint32_t len;
};

/*
 * A QoS 2 repeat of a terminal event, acknowledged but not to be
 * delivered. With QoS 2 the broker delivers at PUBREL, after MESSAGE has
 * returned (for a kept session maybe on a later connection), so the
 * repeat is known by its stored payload buffer, length and a hash of its
 * topic and bytes until a read check of it comes. A buffer freed and
 * reused would also need the same topic and bytes to match.
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

struct jw_seq {
	struct jw_seq_write w;
	enum jw_seq_last last;
	const void *last_client;
	const void *last_read_payload;
	const void *last_read_topic;
	char *last_id; /* NUL-terminated; last_id_cap bytes */
	size_t last_id_cap;
	const void *connecting;         /* its write checks are session replays */
	const void *suppress_payload;   /* deliveries of this message are denied */
	struct jw_held_repeat *repeats; /* oldest first */
	size_t nrepeats;
	bool repeat_seen; /* some repeat has seen == true */
	bool write_final; /* the plugin's answer to a write check is the
	                     broker's (no acl_file after it) */
};

/* The previous event, as a write check needs it after jw_seq_other. */
struct jw_seq_prev {
	enum jw_seq_last last;
	const void *client;
};

/* What a write check is, once checked (jw_seq_write_checked). */
enum jw_seq_write_kind {
	JW_SEQ_PLAIN,      /* valid, not a job topic: only MESSAGE matches it */
	JW_SEQ_WILL_NOW,   /* a will known at its check: finish it there */
	JW_SEQ_REFUSE_NOW, /* failed and retained: refuse it at the check */
	JW_SEQ_PENDING,    /* kept: keep its bytes, then call jw_seq_kept */
	JW_SEQ_REPLAY,     /* a resumed session's message: never applied */
};

/* What the pending write was, now that the broker went on without its
 * MESSAGE (jw_seq_settle). */
enum jw_seq_settled {
	JW_SEQ_DROP,       /* nothing to apply */
	JW_SEQ_WILL,       /* a will: apply it */
	JW_SEQ_WILL_QUEUED /* a will whose deliveries are being queued: apply
	                      it, and if refused, jw_seq_suppress the read's
	                      payload */
};

/* An empty state. write_final: the plugin answers write checks for the
 * whole ACL chain. */
void jw_seq_init(struct jw_seq *s, bool write_final);
void jw_seq_cleanup(struct jw_seq *s);

/* The parts below that are out of line (sequence.c). */
void jw_seq__forget_seen(struct jw_seq *s);
bool jw_seq__is_repeat(struct jw_seq *s, const struct jw_seq_check *c);

/* Whether the pending write must be settled by the caller before the
 * current event: it may have been a will (jw_seq_settle). Clears it
 * otherwise. Call at every event while s->w.active. The functions of
 * the per-message path are inline: a PUBLISH passes four of them. */
static inline bool jw_seq_must_settle(struct jw_seq *s)
{
	const struct jw_seq_write *w = &s->w;

	if(!w->active) {
		return false;
	}
	s->w.active = false;
	/* A replay went through MESSAGE when it first came; a valid write
	 * on a topic jobwire does not check changes nothing; without its
	 * bytes (out of memory) nothing can be applied. */
	return !(w->replay || !w->copied || (w->valid && !w->job));
}

/*
 * Settles the pending write (jw_seq_must_settle said so). read: the read
 * check that comes first, if any; topic, bytes: the write's own topic and
 * a copy of its payload (w.len bytes). A first read check with the same
 * topic and bytes is one of its copy's deliveries: the broker sent it. A
 * write the plugin answered for the whole ACL chain can only have been a
 * will too; with an acl_file after it, it may have been a PUBLISH the
 * acl_file refused, which must change nothing: dropped.
 */
enum jw_seq_settled jw_seq_settle(
        struct jw_seq *s, const struct jw_seq_check *read, const char *topic, const void *bytes);

/* A read check, after settling: true when its delivery must be denied (a
 * refused will's copy, an acknowledged duplicate, a held repeat). */
static inline bool jw_seq_read(struct jw_seq *s, const struct jw_seq_check *c)
{
	/* One message's read checks come one after the other. */
	if(s->repeat_seen && c->payload != s->last_read_payload) {
		jw_seq__forget_seen(s);
	}
	s->last = JW_SEQ_LAST_READ;
	s->last_read_payload = c->payload;
	s->last_read_topic = c->topic;
	if(s->suppress_payload && c->payload == s->suppress_payload) {
		return true;
	}
	return s->nrepeats && jw_seq__is_repeat(s, c);
}

/* Any event but a read check, after settling: returns the previous
 * event for a write check. */
static inline struct jw_seq_prev jw_seq_other(struct jw_seq *s)
{
	struct jw_seq_prev prev = {s->last, s->last_client};

	s->suppress_payload = NULL;
	if(s->repeat_seen) {
		jw_seq__forget_seen(s);
	}
	s->last = JW_SEQ_LAST_OTHER;
	return prev;
}

/* A write check (after jw_seq_other): true when it is the check of a
 * retained message's replay for its original publisher (mosquitto's
 * check_retain_source), already checked when it was published: right
 * after the read check of the replay, a write check of the same
 * buffers. */
static inline bool jw_seq_write_replayed(
        const struct jw_seq *s, const struct jw_seq_prev *prev, const struct jw_seq_check *c)
{
	return prev->last == JW_SEQ_LAST_READ && c->payload && c->payload == s->last_read_payload &&
	       (const void *)c->topic == s->last_read_topic;
}

/* Whether a write check after prev needs c->client_id (only right after
 * a DISCONNECT: a will, or a session taken over); otherwise it may be
 * NULL, which spares the broker a call per PUBLISH. */
static inline bool jw_seq_wants_id(const struct jw_seq_prev *prev)
{
	return prev->last == JW_SEQ_LAST_DISCONNECT;
}

/* Whether c's client took over the session of the client of the
 * DISCONNECT just before (the same client id, another connection). */
bool jw_seq__resumes_last(
        const struct jw_seq *s, const struct jw_seq_prev *prev, const struct jw_seq_check *c);

/* A write check, checked by the caller (valid, job): what it is. Every
 * kind but WILL_NOW and REFUSE_NOW leaves it pending. */
static inline enum jw_seq_write_kind jw_seq_write_checked(struct jw_seq *s,
        const struct jw_seq_prev *prev, const struct jw_seq_check *c, bool valid, bool job)
{
	struct jw_seq_write *w = &s->w;

	w->client = c->client;
	w->payload = c->payload;
	w->len = c->len;
	w->valid = valid;
	w->job = job;
	w->copied = false;
	w->replay = false;
	if(valid && !job) {
		w->active = true;
		return JW_SEQ_PLAIN;
	}
	if(prev->last == JW_SEQ_LAST_DISCONNECT) {
		/* The broker sends a will right after the DISCONNECT event of
		 * its client; nothing else of that client can come then. */
		if(prev->client == c->client) {
			return JW_SEQ_WILL_NOW;
		}
		/* A connection resuming a session has its stored messages
		 * checked again, right after the broker ended the session's old
		 * connection (a bad retained one is still refused below). */
		if(!(!valid && c->retain) && jw_seq__resumes_last(s, prev, c)) {
			s->connecting = c->client;
		}
	}
	/* A retained message is stored before anyone could stop its
	 * deliveries, so a bad one is refused now, will or not. */
	if(!valid && c->retain) {
		return JW_SEQ_REFUSE_NOW;
	}
	w->replay = c->client == s->connecting;
	w->active = true;
	return w->replay ? JW_SEQ_REPLAY : JW_SEQ_PENDING;
}

/* The caller kept the pending write's bytes (and whatever else settling
 * needs): it may be applied as a will. */
static inline void jw_seq_kept(struct jw_seq *s)
{
	s->w.copied = true;
}

/* MESSAGE (after jw_seq_other): true when it is the pending write's (a
 * PUBLISH checked at its write check; no longer pending). Otherwise no
 * write check came first (a bridge, or an earlier plugin answered it):
 * the caller settles anything pending and checks the message itself. */
static inline bool jw_seq_message(struct jw_seq *s, const void *client, const void *payload)
{
	if(s->w.active && s->w.client == client && s->w.payload == payload) {
		s->w.active = false;
		return true;
	}
	return false;
}

/* Deliveries of payload are denied until an event other than a read
 * check (an acknowledged duplicate, a refused will's copy). */
static inline void jw_seq_suppress(struct jw_seq *s, const void *payload)
{
	s->suppress_payload = payload;
}

/* Holds a QoS 2 repeat (payload, len) on topic until its read checks.
 * Out of memory, nothing is held; at JW_HELD_REPEATS_MAX the oldest
 * goes. */
void jw_seq_hold_repeat(struct jw_seq *s, const char *topic, const void *payload, uint32_t len);

/* A DISCONNECT of client (id may be NULL), after jw_seq_other. */
void jw_seq_disconnect(struct jw_seq *s, const void *client, const char *id);

/* An accepted connection: it goes on at once to take over its session,
 * whose stored messages are checked again (replays). */
static inline void jw_seq_connecting(struct jw_seq *s, const void *client)
{
	s->connecting = client;
}

/* The end of a pass of the broker's loop (the tick), after jw_seq_other:
 * a connection's set-up is over. */
static inline void jw_seq_end_of_pass(struct jw_seq *s)
{
	s->connecting = NULL;
}

#endif
