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

/* Whether the pending write must be settled by the caller before the
 * current event: it may have been a will (jw_seq_settle). Clears it
 * otherwise. Call at every event while s->w.active. */
bool jw_seq_must_settle(struct jw_seq *s);

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
bool jw_seq_read(struct jw_seq *s, const struct jw_seq_check *c);

/* Any event but a read check, after settling: returns the previous
 * event for a write check. */
struct jw_seq_prev jw_seq_other(struct jw_seq *s);

/* A write check (after jw_seq_other): true when it is the check of a
 * retained message's replay for its original publisher (mosquitto's
 * check_retain_source), already checked when it was published. */
bool jw_seq_write_replayed(
        const struct jw_seq *s, const struct jw_seq_prev *prev, const struct jw_seq_check *c);

/* A write check, checked by the caller (valid, job): what it is. Every
 * kind but WILL_NOW and REFUSE_NOW leaves it pending. */
enum jw_seq_write_kind jw_seq_write_checked(struct jw_seq *s, const struct jw_seq_prev *prev,
        const struct jw_seq_check *c, bool valid, bool job);

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
bool jw_seq_message(struct jw_seq *s, const void *client, const void *payload);

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
