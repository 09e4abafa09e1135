/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * What the order of the broker's events says each write check was
 * (sequence.h).
 */
#include "sequence.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

void jw_seq_init(struct jw_seq *s, bool write_final)
{
	memset(s, 0, sizeof(*s));
	s->write_final = write_final;
}

void jw_seq_cleanup(struct jw_seq *s)
{
	free(s->last_id);
	free(s->repeats);
	memset(s, 0, sizeof(*s));
}

bool jw_seq_must_settle(struct jw_seq *s)
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

enum jw_seq_settled jw_seq_settle(
        struct jw_seq *s, const struct jw_seq_check *read, const char *topic, const void *bytes)
{
	uint32_t len = s->w.len;
	bool copy = read && read->len == len && !strcmp(read->topic, topic) &&
	            (len == 0 || !memcmp(read->payload, bytes, len));

	if(copy) {
		return JW_SEQ_WILL_QUEUED;
	}
	return s->write_final ? JW_SEQ_WILL : JW_SEQ_DROP;
}

static void forget_seen(struct jw_seq *s)
{
	size_t kept = 0;

	for(size_t i = 0; i < s->nrepeats; i++) {
		if(!s->repeats[i].seen) {
			s->repeats[kept++] = s->repeats[i];
		}
	}
	s->nrepeats = kept;
	s->repeat_seen = false;
}

static uint64_t repeat_hash(const char *topic, const void *payload, uint32_t len)
{
	uint64_t h = jw_hash_fold(JW_HASH_FNV_OFFSET, topic, strlen(topic) + 1);

	return jw_hash_mix(jw_hash_fold(h, payload, len));
}

static bool is_repeat(struct jw_seq *s, const struct jw_seq_check *c)
{
	uint64_t h = 0;
	bool hashed = false;

	for(size_t i = 0; i < s->nrepeats; i++) {
		struct jw_held_repeat *r = &s->repeats[i];

		if(r->payload != c->payload || r->len != c->len) {
			continue;
		}
		if(!hashed) {
			h = repeat_hash(c->topic, c->payload, c->len);
			hashed = true;
		}
		if(r->hash == h) {
			r->seen = true;
			s->repeat_seen = true;
			return true;
		}
	}
	return false;
}

bool jw_seq_read(struct jw_seq *s, const struct jw_seq_check *c)
{
	/* One message's read checks come one after the other. */
	if(s->repeat_seen && c->payload != s->last_read_payload) {
		forget_seen(s);
	}
	s->last = JW_SEQ_LAST_READ;
	s->last_read_payload = c->payload;
	s->last_read_topic = c->topic;
	if(s->suppress_payload && c->payload == s->suppress_payload) {
		return true;
	}
	return s->nrepeats && is_repeat(s, c);
}

struct jw_seq_prev jw_seq_other(struct jw_seq *s)
{
	struct jw_seq_prev prev = {s->last, s->last_client};

	s->suppress_payload = NULL;
	if(s->repeat_seen) {
		forget_seen(s);
	}
	s->last = JW_SEQ_LAST_OTHER;
	return prev;
}

bool jw_seq_write_replayed(
        const struct jw_seq *s, const struct jw_seq_prev *prev, const struct jw_seq_check *c)
{
	/* Right after the read check of a retained message's replay, a write
	 * check of the same message for its original publisher. */
	return prev->last == JW_SEQ_LAST_READ && c->payload && c->payload == s->last_read_payload &&
	       (const void *)c->topic == s->last_read_topic;
}

/* Whether client took over the session of the client of the DISCONNECT
 * just before (the same client id, another connection). */
static bool resumes_last(
        const struct jw_seq *s, const struct jw_seq_prev *prev, const struct jw_seq_check *c)
{
	return prev->client != c->client && c->client_id && s->last_id &&
	       !strcmp(s->last_id, c->client_id);
}

enum jw_seq_write_kind jw_seq_write_checked(struct jw_seq *s, const struct jw_seq_prev *prev,
        const struct jw_seq_check *c, bool valid, bool job)
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
	/* The broker sends a will right after the DISCONNECT event of its
	 * client; nothing else of that client can come then. */
	if(prev->last == JW_SEQ_LAST_DISCONNECT && prev->client == c->client) {
		return JW_SEQ_WILL_NOW;
	}
	/* A retained message is stored before anyone could stop its
	 * deliveries, so a bad one is refused now, will or not. */
	if(!valid && c->retain) {
		return JW_SEQ_REFUSE_NOW;
	}
	/* A connection resuming a session has its stored messages checked
	 * again, right after the broker ended the session's old connection. */
	if(prev->last == JW_SEQ_LAST_DISCONNECT && resumes_last(s, prev, c)) {
		s->connecting = c->client;
	}
	w->replay = c->client == s->connecting;
	w->active = true;
	return w->replay ? JW_SEQ_REPLAY : JW_SEQ_PENDING;
}

bool jw_seq_message(struct jw_seq *s, const void *client, const void *payload)
{
	if(s->w.active && s->w.client == client && s->w.payload == payload) {
		s->w.active = false;
		return true;
	}
	return false;
}

void jw_seq_hold_repeat(struct jw_seq *s, const char *topic, const void *payload, uint32_t len)
{
	struct jw_held_repeat *r;

	if(!s->repeats) {
		s->repeats = calloc(JW_HELD_REPEATS_MAX, sizeof(*s->repeats));
		if(!s->repeats) {
			return;
		}
	}
	if(s->nrepeats == JW_HELD_REPEATS_MAX) {
		memmove(s->repeats, s->repeats + 1, (JW_HELD_REPEATS_MAX - 1) * sizeof(*s->repeats));
		s->nrepeats--;
	}
	r = &s->repeats[s->nrepeats++];
	r->payload = payload;
	r->len = len;
	r->seen = false;
	r->hash = repeat_hash(topic, payload, len);
}

void jw_seq_disconnect(struct jw_seq *s, const void *client, const char *id)
{
	size_t n = id ? strlen(id) : 0;

	s->last = JW_SEQ_LAST_DISCONNECT;
	s->last_client = client;
	if(n + 1 > s->last_id_cap) {
		char *grown = realloc(s->last_id, n + 1);

		if(!grown) {
			/* Without the id a takeover cannot be told: no will is
			 * known at its check either. */
			s->last = JW_SEQ_LAST_OTHER;
			return;
		}
		s->last_id = grown;
		s->last_id_cap = n + 1;
	}
	memcpy(s->last_id, id ? id : "", n + 1);
}
