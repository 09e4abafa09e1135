/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The station table (stations.h): presence and refresh deadlines of the
 * machines that publish stations/{station}/status. A lab has tens of
 * stations, each refreshing every few seconds, so the table is an array
 * searched from the front, and the deadlines are scanned when the
 * earliest one is due.
 */
#include "stations.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jdoc.h"
#include "util/buf.h"
#include "util/rfc3339.h"

struct jw_stations {
	struct jw_station **st;
	size_t n, cap;
	int64_t timeout_ms;
	int64_t next_due; /* earliest deadline_mono_ms, INT64_MAX: none */
};

enum jw_station_topic jw_station_topic_parse(const char *topic, char *id, char *why, size_t whylen)
{
	static const char prefix[] = JW_STATIONS_PREFIX "/";
	const char *rest, *slash;
	size_t n;
	enum jw_station_topic kind;

	if(topic[0] != prefix[0] || strncmp(topic, prefix, sizeof(prefix) - 1) != 0) {
		return JW_STATION_TOPIC_NONE;
	}
	rest = topic + sizeof(prefix) - 1;
	slash = strchr(rest, '/');
	if(!slash) {
		return JW_STATION_TOPIC_NONE;
	}
	if(!strcmp(slash + 1, JW_STATION_STATUS)) {
		kind = JW_STATION_TOPIC_STATUS;
	} else if(!strcmp(slash + 1, JW_STATION_STATE) ||
	          !strncmp(slash + 1, JW_STATION_SESSIONS "/", sizeof(JW_STATION_SESSIONS)) ||
	          !strcmp(slash + 1, JW_STATION_SESSIONS)) {
		/* The broker's own: its state and the sessions' views. */
		kind = JW_STATION_TOPIC_STATE;
	} else {
		return JW_STATION_TOPIC_NONE;
	}
	n = (size_t)(slash - rest);
	if(!jw_id_valid(rest, n)) {
		(void)snprintf(why, whylen,
		        "expected " JW_STATIONS_PREFIX "/{station}/%s with a station id of 1-%d "
		        "characters of A-Z a-z 0-9 . _ -",
		        kind == JW_STATION_TOPIC_STATUS ? JW_STATION_STATUS : JW_STATION_STATE, JW_ID_MAX);
		return JW_STATION_TOPIC_INVALID;
	}
	memcpy(id, rest, n);
	id[n] = '\0';
	return kind;
}

int jw_station_topic_format(char *buf, size_t buflen, const char *id, const char *leaf)
{
	int n = snprintf(buf, buflen, JW_STATIONS_PREFIX "/%s/%s", id, leaf);

	return n < 0 || (size_t)n >= buflen ? -1 : n;
}

struct jw_stations *jw_stations_new(int64_t timeout_ms)
{
	struct jw_stations *s = calloc(1, sizeof(*s));

	if(!s) {
		return NULL;
	}
	s->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
	s->next_due = INT64_MAX;
	return s;
}

static void station_free(struct jw_station *st)
{
	if(st) {
		free(st->status);
		free(st);
	}
}

void jw_stations_free(struct jw_stations *s)
{
	if(!s) {
		return;
	}
	for(size_t i = 0; i < s->n; i++) {
		station_free(s->st[i]);
	}
	free(s->st);
	free(s);
}

static void recompute_due(struct jw_stations *s)
{
	s->next_due = INT64_MAX;
	for(size_t i = 0; i < s->n; i++) {
		const struct jw_station *st = s->st[i];

		if(st->online && st->deadline_mono_ms && st->deadline_mono_ms < s->next_due) {
			s->next_due = st->deadline_mono_ms;
		}
	}
}

void jw_stations_set_timeout(struct jw_stations *s, int64_t timeout_ms)
{
	s->timeout_ms = timeout_ms > 0 ? timeout_ms : 0;
	if(!s->timeout_ms) {
		for(size_t i = 0; i < s->n; i++) {
			s->st[i]->deadline_mono_ms = 0;
		}
	}
	recompute_due(s);
}

struct jw_station *jw_stations_find(const struct jw_stations *s, const char *id)
{
	for(size_t i = 0; i < s->n; i++) {
		if(!strcmp(s->st[i]->id, id)) {
			return s->st[i];
		}
	}
	return NULL;
}

size_t jw_stations_count(const struct jw_stations *s)
{
	return s ? s->n : 0;
}

struct jw_station *jw_stations_at(const struct jw_stations *s, size_t i)
{
	return i < s->n ? s->st[i] : NULL;
}

int jw_station_status_rules(const struct jw_jnode *ev, char *msg, size_t msglen)
{
	if(jw_jnode_get(ev, "broker_generated")) {
		(void)snprintf(msg, msglen,
		        "/broker_generated: set by the broker only, on the offline status it "
		        "publishes itself");
		return -1;
	}
	return 0;
}

/* The station id's entry, made when new. NULL when out of memory. */
static struct jw_station *get_or_add(struct jw_stations *s, const char *id)
{
	struct jw_station *st = jw_stations_find(s, id);

	if(st) {
		return st;
	}
	if(s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct jw_station **grown = realloc(s->st, cap * sizeof(*grown));

		if(!grown) {
			return NULL;
		}
		s->st = grown;
		s->cap = cap;
	}
	st = calloc(1, sizeof(*st));
	if(!st) {
		return NULL;
	}
	(void)snprintf(st->id, sizeof(st->id), "%s", id);
	s->st[s->n++] = st;
	return st;
}

/* The sessions member of a checked status into st (ids, unique, at most
 * JW_STATION_MAX_SESSIONS: the schema says so). Absent: kept. */
static void take_sessions(struct jw_station *st, const struct jw_jnode *ev)
{
	const struct jw_jnode *a = jw_jnode_get(ev, "sessions");

	if(!a || a->type != JW_J_ARRAY) {
		return;
	}
	st->nsessions = 0;
	for(uint32_t i = 0; i < a->n && st->nsessions < JW_STATION_MAX_SESSIONS; i++) {
		const struct jw_jnode *x = &a->u.kids[i];

		if(x->type == JW_J_STRING && jw_id_valid(x->u.s, x->n)) {
			memcpy(st->sessions[st->nsessions], x->u.s, x->n);
			st->sessions[st->nsessions][x->n] = '\0';
			st->nsessions++;
		}
	}
}

int jw_stations_status(struct jw_stations *s, const char *id, const struct jw_jnode *ev,
        const char *raw, size_t len, bool broker, const struct jw_clock *now,
        struct jw_station **out)
{
	const struct jw_jnode *state = jw_jnode_get(ev, "state");
	bool online = state && state->type == JW_J_STRING && state->n == 6 &&
	              !memcmp(state->u.s, "online", 6);
	struct jw_station *st;
	char *copy;
	int changed;

	*out = NULL;
	st = get_or_add(s, id);
	if(!st) {
		return -1;
	}
	copy = malloc(len + 1);
	if(!copy) {
		return -1;
	}
	memcpy(copy, raw, len);
	copy[len] = '\0';
	free(st->status);
	st->status = copy;
	st->status_len = len;
	changed = !st->known_since || st->online != online;
	if(changed) {
		if(online) {
			st->online_since_ms = now->real_ms;
		} else {
			st->offline_since_ms = now->real_ms;
		}
	}
	st->known_since = true;
	st->online = online;
	st->broker_generated = broker;
	/* Seen: the station itself said it is up (a will or a goodbye is
	 * about the station, not from it at work). */
	if(!broker && online) {
		st->last_seen_ms = now->real_ms;
	}
	take_sessions(st, ev);
	st->deadline_mono_ms = online && s->timeout_ms ? now->mono_ms + s->timeout_ms : 0;
	recompute_due(s);
	*out = st;
	return changed;
}

int64_t jw_stations_next_due(const struct jw_stations *s)
{
	return s ? s->next_due : INT64_MAX;
}

struct jw_station *jw_stations_pop_expired(struct jw_stations *s, const struct jw_clock *now)
{
	if(now->mono_ms < s->next_due) {
		return NULL;
	}
	for(size_t i = 0; i < s->n; i++) {
		struct jw_station *st = s->st[i];

		if(st->online && st->deadline_mono_ms && st->deadline_mono_ms <= now->mono_ms) {
			/* Not popped twice should the caller fail to apply it. */
			st->deadline_mono_ms = 0;
			recompute_due(s);
			return st;
		}
	}
	recompute_due(s);
	return NULL;
}

/* Appends ,"key":"<time>" for ms (wall clock), or ,"key":null for 0. */
static void add_time(struct jw_buf *b, const char *key, int64_t ms)
{
	char t[JW_RFC3339_MS_LEN + 8];

	if(ms && jw_rfc3339_format_ms(t, sizeof(t), ms) > 0) {
		(void)jw_buf_printf(b, ",\"%s\":\"%s\"", key, t);
	} else {
		(void)jw_buf_printf(b, ",\"%s\":null", key);
	}
}

char *jw_station_offline_json(
        const struct jw_station *st, int64_t timeout_ms, const struct jw_clock *now, size_t *len)
{
	struct jw_buf b;
	char t[JW_RFC3339_MS_LEN + 8];

	(void)st;
	jw_buf_init(&b, 0);
	if(jw_rfc3339_format_ms(t, sizeof(t), now->real_ms) < 0) {
		return NULL;
	}
	(void)jw_buf_printf(&b,
	        "{\"ts\":\"%s\",\"state\":\"offline\",\"broker_generated\":true,"
	        "\"reason\":\"no status for %" PRId64 " s\"}",
	        t, (timeout_ms + 999) / 1000);
	return jw_buf_take(&b, len);
}

struct jw_station *jw_stations_set_job(
        struct jw_stations *s, const char *id, const char *session, const char *job)
{
	struct jw_station *st = jw_stations_find(s, id);

	if(!st) {
		return NULL;
	}
	(void)snprintf(st->job_session, sizeof(st->job_session), "%s", session ? session : "");
	(void)snprintf(st->job_id, sizeof(st->job_id), "%s", job ? job : "");
	return st;
}

struct jw_station *jw_stations_end_job(struct jw_stations *s, const char *session, const char *job)
{
	struct jw_station *last = NULL;

	for(size_t i = 0; s && i < s->n; i++) {
		struct jw_station *st = s->st[i];

		if(!strcmp(st->job_session, session) && !strcmp(st->job_id, job)) {
			st->job_session[0] = '\0';
			st->job_id[0] = '\0';
			last = st;
		}
	}
	return last;
}

bool jw_station_serves(const struct jw_station *st, const char *session)
{
	for(size_t i = 0; i < st->nsessions; i++) {
		if(!strcmp(st->sessions[i], session)) {
			return true;
		}
	}
	return false;
}

/* The status without its "sessions" member, into b. Falls back to null
 * when it cannot be read (it was checked when it came, so never). */
static void add_status_without_sessions(struct jw_buf *b, const struct jw_station *st)
{
	struct jw_jdoc d;
	struct jw_json_error err;
	const struct jw_jnode *root;
	bool first = true;

	jw_jdoc_init(&d);
	if(!st->status || jw_jdoc_parse(&d, st->status, st->status_len, 64, &err) != 0 ||
	        (root = d.root)->type != JW_J_OBJECT) {
		(void)jw_buf_add_str(b, "null");
		jw_jdoc_free(&d);
		return;
	}
	(void)jw_buf_add_str(b, "{");
	for(uint32_t i = 0; i < root->n; i++) {
		const struct jw_jnode *m = &root->u.kids[i];

		if(m->keylen == sizeof(JW_STATION_SESSIONS) - 1 &&
		        !memcmp(m->key, JW_STATION_SESSIONS, m->keylen)) {
			continue;
		}
		(void)jw_buf_add_str(b, first ? "" : ",");
		first = false;
		/* A key is a JSON string node of its own for the writer. */
		{
			struct jw_jnode k = {0};

			k.type = JW_J_STRING;
			k.n = m->keylen;
			k.u.s = m->key;
			(void)jw_jnode_write(b, &k);
		}
		(void)jw_buf_add_str(b, ":");
		(void)jw_jnode_write(b, m);
	}
	(void)jw_buf_add_str(b, "}");
	jw_jdoc_free(&d);
}

/* The state document (session NULL) or one session's view of it. */
static char *state_json(const struct jw_station *st, const char *session, size_t *len)
{
	struct jw_buf b;
	bool job = st->job_id[0] && (!session || !strcmp(st->job_session, session));

	jw_buf_init(&b, 0);
	/* Ids are [A-Za-z0-9._-]: written between quotes as they are. */
	(void)jw_buf_printf(
	        &b, "{\"station\":\"%s\",\"state\":\"%s\"", st->id, st->online ? "online" : "offline");
	add_time(&b, "online_since", st->online_since_ms);
	add_time(&b, "offline_since", st->offline_since_ms);
	add_time(&b, "last_seen", st->last_seen_ms);
	(void)jw_buf_printf(&b, ",\"broker_generated\":%s", st->broker_generated ? "true" : "false");
	(void)jw_buf_add_str(&b, ",\"sessions\":[");
	if(session) {
		(void)jw_buf_printf(&b, "\"%s\"", session);
	} else {
		for(size_t i = 0; i < st->nsessions; i++) {
			(void)jw_buf_printf(&b, "%s\"%s\"", i ? "," : "", st->sessions[i]);
		}
	}
	(void)jw_buf_add_str(&b, "]");
	if(job) {
		(void)jw_buf_printf(&b, ",\"job\":{\"session_id\":\"%s\",\"job_id\":\"%s\"}",
		        st->job_session, st->job_id);
	} else {
		(void)jw_buf_add_str(&b, ",\"job\":null");
	}
	(void)jw_buf_add_str(&b, ",\"status\":");
	if(session) {
		add_status_without_sessions(&b, st);
	} else {
		/* A checked JSON object: embedded as published. */
		(void)jw_buf_add(&b, st->status ? st->status : "null", st->status ? st->status_len : 4);
	}
	(void)jw_buf_add_str(&b, "}");
	return jw_buf_take(&b, len);
}

char *jw_station_state_json(const struct jw_station *st, size_t *len)
{
	return state_json(st, NULL, len);
}

char *jw_station_view_json(const struct jw_station *st, const char *session, size_t *len)
{
	return state_json(st, session, len);
}
