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

void jw_seq__forget_seen(struct jw_seq *s)
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

bool jw_seq__is_repeat(struct jw_seq *s, const struct jw_seq_check *c)
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

bool jw_seq__resumes_last(
        const struct jw_seq *s, const struct jw_seq_prev *prev, const struct jw_seq_check *c)
{
	return prev->client != c->client && c->client_id && s->last_id &&
	       !strcmp(s->last_id, c->client_id);
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
