/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Optional JWT authentication and the session ACL built on it: BASIC_AUTH
 * checks the token carried as the MQTT password and keeps its claims per
 * connection (keyed on the struct mosquitto pointer, since client ids can
 * be taken over); the ACL check answers from those claims; the tick ends
 * connections whose token has expired. A client id in use (connected, or
 * its persistent session kept while the client is away) belongs to its
 * token's owner (subject and sessions): BASIC_AUTH refuses it to any other
 * token, since it runs before mosquitto's takeover. See docs/topics.md
 * ("Who may do what") and docs/design.md ("JWT authentication").
 */
#include "plugin.h"
#include "stations.h"
#include "topic.h"
#include "token.h"
#include "util/hash.h"
#include "util/heap.h"
#include "util/htab.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker_api.h"

#define EXPIRY_SCAN_MS 1000
/* Entries the tables first have room for (1024 slots). */
#define TABLE_MIN 768
/* Most sessions kept for clients that are away; beyond it the longest
 * away loses its reservation first. */
#define MAX_HELD 65536

/*
 * One authenticated connection. Live while connected; held when it ended
 * but its persistent session is kept (its client id stays reserved and
 * its claims decide what is queued for it); departed when it ended for
 * good (kept until the next tick for the will, then freed).
 */
struct client_claims {
	const void *client; /* key; never dereferenced here */
	struct jw_jwt_claims claims;
	char *id;          /* client id at CONNECT; NULL when empty */
	bool in_table;     /* in the clients table (find() sees it) */
	bool departed;     /* on the departed list, freed at the next tick */
	bool held;         /* on the held list: away, session kept */
	bool owns_id;      /* the id table's entry for id */
	uint32_t heap_pos; /* in the expiry heap (util/heap.h) */
	int64_t held_until_ms;
	struct client_claims *next_departed;
	struct client_claims *held_prev, *held_next;
};

/* The tick's work is proportional to what changed: departed connections
 * are on their own list, and expiries come off a min-heap ordered by exp,
 * so neither walks every connection. */
struct jw_auth {
	struct jw_jwt_keys keys;
	uint64_t seed;          /* of the id hashes: ids come from clients */
	struct jw_htab clients; /* by connection; clients.count: entries */
	size_t ndeparted;       /* of them, departed */
	struct client_claims *departed;
	struct jw_heap heap; /* live entries by claims.exp */
	/* Client ids in use: id -> the entry using it (live or held). */
	struct jw_htab ids;
	/* Held entries, oldest first (all hold for the same time, so this is
	 * also the order in which they run out). */
	struct client_claims *held_head, *held_tail;
	size_t nheld;
	int64_t hold_ms;
	int64_t next_scan_ms;
	uint64_t refused;
	uint64_t accepted;
	uint64_t expired_kicked;
	uint64_t id_refused;
	uint64_t held_evicted; /* released early: MAX_HELD reached */
	uint64_t held_evicted_logged;
	bool kicking; /* inside an expiry kick */
};

/* Token times are whole seconds; the coarse clock is enough for them and
 * cheaper on the per-message ACL check. */
static int64_t wall_s(void)
{
	return jw_clock_ms(CLOCK_REALTIME_COARSE) / 1000;
}

static struct client_claims *find_at(const struct jw_auth *a, const void *client, size_t *pos)
{
	uint64_t h = jw_hash_ptr(client);

	for(struct client_claims *c = jw_htab_first(&a->clients, h, pos); c;
	        c = jw_htab_next(&a->clients, h, pos)) {
		if(c->client == client) {
			return c;
		}
	}
	return NULL;
}

static struct client_claims *find(const struct jw_auth *a, const void *client)
{
	size_t pos;

	return find_at(a, client, &pos);
}

static void entry_free(struct client_claims *c)
{
	jw_jwt_claims_cleanup(&c->claims);
	free(c->id);
	free(c);
}

/* ---- client ids in use ---- */

static uint64_t id_hash(const struct jw_auth *a, const char *id)
{
	return jw_hash(id, strlen(id), a->seed);
}

static struct client_claims *id_find(const struct jw_auth *a, const char *id)
{
	uint64_t h = id_hash(a, id);
	size_t pos;

	for(struct client_claims *c = jw_htab_first(&a->ids, h, &pos); c;
	        c = jw_htab_next(&a->ids, h, &pos)) {
		if(strcmp(c->id, id) == 0) {
			return c;
		}
	}
	return NULL;
}

/* Room for one more entry in t: growing when it can, and while memory is
 * short, the free slots a full table still has. */
static bool table_room(struct jw_htab *t)
{
	return jw_htab_reserve(t, t->count + 1) == 0 || jw_htab_has_room(t);
}

/* Makes c the user of its id (no other entry may own it; room reserved). */
static void id_insert(struct jw_auth *a, struct client_claims *c)
{
	if(!c->id) {
		return;
	}
	jw_htab_insert(&a->ids, id_hash(a, c->id), c);
	c->owns_id = true;
}

static void id_remove(struct jw_auth *a, struct client_claims *c)
{
	if(!c->owns_id) {
		return;
	}
	(void)jw_htab_remove(&a->ids, id_hash(a, c->id), c);
	c->owns_id = false;
}

/* ---- the held list ---- */

static void held_unlink(struct jw_auth *a, struct client_claims *c)
{
	if(!c->held) {
		return;
	}
	if(c->held_prev) {
		c->held_prev->held_next = c->held_next;
	} else {
		a->held_head = c->held_next;
	}
	if(c->held_next) {
		c->held_next->held_prev = c->held_prev;
	} else {
		a->held_tail = c->held_prev;
	}
	c->held_prev = c->held_next = NULL;
	c->held = false;
	a->nheld--;
}

/* ---- the table ---- */

/* Takes the entry of client out of the table, if it is there. A
 * departed entry stays on the departed list for the tick to free; any
 * other is freed now. */
static void unlink_client(struct jw_auth *a, const void *client)
{
	size_t pos;
	struct client_claims *c = find_at(a, client, &pos);

	if(!c) {
		return;
	}
	jw_htab_remove_at(&a->clients, pos);
	c->in_table = false;
	if(c->departed) {
		a->ndeparted--;
	} else {
		jw_heap_remove(&a->heap, c);
		held_unlink(a, c);
		id_remove(a, c);
		entry_free(c);
	}
}

/* The connection of c ended for good: off the heap, the held list and
 * the id table; freed at the next tick (a will may still be checked in
 * this loop pass). */
static void depart(struct jw_auth *a, struct client_claims *c)
{
	if(c->departed) {
		return;
	}
	jw_heap_remove(&a->heap, c);
	held_unlink(a, c);
	id_remove(a, c);
	c->departed = true;
	a->ndeparted++;
	c->next_departed = a->departed;
	a->departed = c;
}

/* The connection of c ended but its session is kept: its id stays
 * reserved and its claims keep answering what may be queued for it,
 * for plugin_opt_auth_jwt_session_hold. */
static void hold(struct jw_auth *a, struct client_claims *c)
{
	jw_heap_remove(&a->heap, c);
	c->held = true;
	c->held_until_ms = jw_clock_ms(CLOCK_MONOTONIC_COARSE) + a->hold_ms;
	c->held_prev = a->held_tail;
	c->held_next = NULL;
	if(a->held_tail) {
		a->held_tail->held_next = c;
	} else {
		a->held_head = c;
	}
	a->held_tail = c;
	a->nheld++;
	if(a->nheld > MAX_HELD) {
		a->held_evicted++;
		depart(a, a->held_head);
	}
}

/* Frees every departed entry (those still in the table leave it). */
static void free_departed(struct jw_auth *a)
{
	while(a->departed) {
		struct client_claims *c = a->departed;

		a->departed = c->next_departed;
		if(c->in_table) {
			c->departed = false; /* so unlink_client frees nothing twice */
			a->ndeparted--;
			unlink_client(a, c->client); /* frees c */
		} else {
			entry_free(c);
		}
	}
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

int jw_auth__init(struct jw_plugin *p)
{
	struct jw_auth *a;
	char err[512];

	if(!p->opt.jwt_hs256_secret_file && !p->opt.jwt_public_key_file) {
		if(p->opt.jwt_issuer || p->opt.jwt_audience || p->opt.jwt_leeway_set ||
		        p->opt.jwt_session_hold_set) {
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: plugin_opt_auth_jwt_issuer/_audience/_leeway/_session_hold need "
			        "plugin_opt_auth_jwt_hs256_secret_file or plugin_opt_auth_jwt_public_key_file");
			return -1;
		}
		return 0;
	}
	a = calloc(1, sizeof(*a));
	if(!a) {
		return -1;
	}
	a->seed = jw_hash_ptr(a);
	jw_heap_init(&a->heap, offsetof(struct client_claims, heap_pos), NULL);
	if(jw_htab_init(&a->clients, TABLE_MIN, NULL) != 0 ||
	        jw_htab_init(&a->ids, TABLE_MIN, NULL) != 0) {
		jw_htab_cleanup(&a->clients);
		jw_htab_cleanup(&a->ids);
		free(a);
		return -1;
	}
	a->hold_ms = (int64_t)p->opt.jwt_session_hold * 1000;
	if(jw_jwt_keys_load(&a->keys, p->opt.jwt_hs256_secret_file, p->opt.jwt_public_key_file, err,
	           sizeof(err))) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: JWT authentication: %s", err);
		jw_htab_cleanup(&a->clients);
		jw_htab_cleanup(&a->ids);
		free(a);
		return -1;
	}
	a->keys.leeway_s = p->opt.jwt_leeway;
	a->keys.issuer = dup_opt(p->opt.jwt_issuer);
	a->keys.audience = dup_opt(p->opt.jwt_audience);
	if((p->opt.jwt_issuer && !a->keys.issuer) || (p->opt.jwt_audience && !a->keys.audience)) {
		p->auth = a;
		jw_auth__cleanup(p);
		return -1;
	}
	p->auth = a;
	mosquitto_log_printf(MOSQ_LOG_INFO,
	        "jobwire: JWT authentication on (%s%s%s), leeway %lld s%s%s%s%s, client ids of away "
	        "sessions held %lld s; password_file and acl_file are not consulted",
	        a->keys.hs_secret ? "HS256" : "", a->keys.hs_secret && a->keys.pub_alg ? ", " : "",
	        a->keys.pub_alg == JW_PUBKEY_RS256   ? "RS256"
	        : a->keys.pub_alg == JW_PUBKEY_ES256 ? "ES256"
	                                             : "",
	        (long long)a->keys.leeway_s, a->keys.issuer ? ", issuer " : "",
	        a->keys.issuer ? a->keys.issuer : "", a->keys.audience ? ", audience " : "",
	        a->keys.audience ? a->keys.audience : "", (long long)p->opt.jwt_session_hold);
	return 0;
}

void jw_auth__cleanup(struct jw_plugin *p)
{
	struct jw_auth *a = p->auth;

	if(!a) {
		return;
	}
	free_departed(a);
	{
		size_t pos = 0;
		struct client_claims *c;

		while((c = jw_htab_each(&a->clients, &pos)) != NULL) {
			entry_free(c);
		}
	}
	jw_htab_cleanup(&a->clients);
	jw_htab_cleanup(&a->ids);
	jw_heap_cleanup(&a->heap);
	jw_jwt_keys_cleanup(&a->keys);
	free(a);
	p->auth = NULL;
}

int jw_auth__on_basic_auth(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	struct jw_auth *a = p->auth;
	struct mosquitto_evt_basic_auth *ed = event_data;
	struct client_claims *c, *user = NULL;
	char why[256];
	const char *id = mosquitto_client_id(ed->client);
	const char *addr = mosquitto_client_address(ed->client);

	(void)event;
	/* A new connection may reuse the address of one that departed in
	 * this loop pass: its claims must never be inherited. */
	unlink_client(a, ed->client);
	c = calloc(1, sizeof(*c));
	if(!c || jw_heap_reserve(&a->heap, jw_heap_size(&a->heap) + 1) != 0 ||
	        !table_room(&a->clients) || !table_room(&a->ids)) {
		free(c);
		return MOSQ_ERR_NOMEM;
	}
	if(jw_jwt_verify(&a->keys, ed->password, wall_s(), &c->claims, why, sizeof(why))) {
		a->refused++;
		/* Never the token, nor the username (some clients put it there). */
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jobwire: refused client %s from %s: %s",
		        id ? id : "(no id)", addr ? addr : "?", why);
		free(c);
		return MOSQ_ERR_AUTH;
	}
	/*
	 * mosquitto takes an id in use over after authentication
	 * (connect__on_authorised): the old connection is closed and its
	 * session handed over or wiped. Only the id's owner may do that; for
	 * anyone else this is the last point to say no.
	 */
	if(id && id[0]) {
		user = id_find(a, id);
		if(user && !jw_jwt_same_owner(&user->claims, &c->claims)) {
			a->refused++;
			a->id_refused++;
			mosquitto_log_printf(MOSQ_LOG_NOTICE,
			        "jobwire: refused client %s from %s: client id %s is in use by a %s whose "
			        "token has another subject or other sessions",
			        id, addr ? addr : "?", id,
			        user->held ? "kept session (client away)" : "connection");
			jw_jwt_claims_cleanup(&c->claims);
			free(c);
			return MOSQ_ERR_AUTH;
		}
		c->id = strdup(id);
		if(!c->id) {
			jw_jwt_claims_cleanup(&c->claims);
			free(c);
			return MOSQ_ERR_NOMEM;
		}
	}
	if(user) {
		/* The owner is back (or reconnects before mosquitto noticed the
		 * old connection drop): the new connection uses the id now. A
		 * kept session's entry has no connection left to wait for. */
		id_remove(a, user);
		if(user->held) {
			depart(a, user);
		}
	}
	c->client = ed->client;
	jw_htab_insert(&a->clients, jw_hash_ptr(ed->client), c);
	c->in_table = true;
	(void)jw_heap_set(&a->heap, c, c->claims.exp); /* room reserved above */
	id_insert(a, c);
	a->accepted++;
	mosquitto_log_printf(MOSQ_LOG_INFO,
	        "jobwire: client %s authenticated as %s for %s%zu session(s), token expires in %lld s",
	        id ? id : "(no id)", jw_jwt_role_name(c->claims.role),
	        c->claims.all_sessions ? "all " : "",
	        c->claims.all_sessions ? (size_t)0 : c->claims.nsessions,
	        (long long)(c->claims.exp - wall_s()));
	return MOSQ_ERR_SUCCESS;
}

/*
 * A will may still be checked after DISCONNECT, in the same loop pass:
 * the claims stay until the next tick. A client that asked for a
 * persistent session (MQTT 3.1.1 clean session off, MQTT 5 clean start
 * off; the plugin API shows no MQTT 5 session expiry) keeps its id and
 * its claims while it is away.
 */
void jw_auth__on_disconnect(struct jw_plugin *p, const struct mosquitto *client)
{
	struct jw_auth *a = p->auth;
	struct client_claims *c = find(a, client);

	if(!c || c->departed) {
		return;
	}
	/* A kept session ends when it is taken over (mosquitto closes the old
	 * context then) or its address is reused. */
	if(!c->held && c->owns_id && a->hold_ms > 0 && !mosquitto_client_clean_session(client)) {
		hold(a, c);
	} else {
		depart(a, c);
	}
}

void jw_auth__tick(struct jw_plugin *p)
{
	struct jw_auth *a = p->auth;
	int64_t now_ms;
	int64_t now;
	char **kick = NULL;
	size_t nkick = 0, capkick = 0;
	struct client_claims *c;
	int64_t exp;

	free_departed(a);
	now_ms = jw_clock_ms(CLOCK_MONOTONIC_COARSE);
	/* Kept sessions whose hold ran out give up their id. */
	while(a->held_head && a->held_head->held_until_ms <= now_ms) {
		depart(a, a->held_head);
	}
	if(now_ms < a->next_scan_ms) {
		return;
	}
	a->next_scan_ms = now_ms + EXPIRY_SCAN_MS;
	if(a->held_evicted != a->held_evicted_logged) {
		mosquitto_log_printf(MOSQ_LOG_WARNING,
		        "jobwire: %llu kept sessions gave up their client id early: more than %d clients "
		        "with persistent sessions are away",
		        (unsigned long long)(a->held_evicted - a->held_evicted_logged), MAX_HELD);
		a->held_evicted_logged = a->held_evicted;
	}
	now = wall_s();
	/* Collect first: a kick fires DISCONNECT, which changes the heap. */
	while((c = jw_heap_top(&a->heap, &exp)) != NULL && now >= exp + a->keys.leeway_s) {
		const char *id;

		jw_heap_remove(&a->heap, c);
		id = mosquitto_client_id(c->client);
		if(!id) {
			continue;
		}
		if(nkick == capkick) {
			size_t cap = capkick ? capkick * 2 : 16;
			char **grown = realloc(kick, cap * sizeof(*grown));
			if(!grown) {
				(void)jw_heap_set(&a->heap, c, exp); /* the next scan tries again */
				break;
			}
			kick = grown;
			capkick = cap;
		}
		kick[nkick] = strdup(id);
		if(kick[nkick]) {
			nkick++;
		}
	}
	for(size_t i = 0; i < nkick; i++) {
		mosquitto_log_printf(
		        MOSQ_LOG_NOTICE, "jobwire: disconnecting client %s: its token expired", kick[i]);
		/* mosquitto re-checks a persistent session's subscriptions as it
		 * kicks (check_subscription_acls): the expired token must not
		 * strip the session it is about to keep (see jw_auth__acl_check). */
		a->kicking = true;
		mosquitto_kick_client_by_clientid(kick[i], false);
		a->kicking = false;
		a->expired_kicked++;
		free(kick[i]);
	}
	free(kick);
}

/* Splits topic into at most 5 levels; returns the level count (5 means
 * "5 or more"). */
static int split_levels(const char *topic, const char *lv[5], size_t len[5])
{
	int n = 0;
	const char *s = topic;

	for(;;) {
		const char *slash = strchr(s, '/');
		size_t l = slash ? (size_t)(slash - s) : strlen(s);

		if(n == 5) {
			return 5;
		}
		lv[n] = s;
		len[n] = l;
		n++;
		if(!slash) {
			return n;
		}
		s = slash + 1;
	}
}

static bool level_is(const char *lv, size_t len, const char *word)
{
	return strlen(word) == len && !memcmp(lv, word, len);
}

/* Whether the session level of a topic or filter is granted: an exact id,
 * or a wildcard only for tokens with "sessions": "*". */
static bool session_ok(const struct jw_jwt_claims *c, const char *lv, size_t len)
{
	if(level_is(lv, len, "+") || level_is(lv, len, "#")) {
		return c->all_sessions;
	}
	return jw_jwt_has_session(c, lv, len);
}

/*
 * The station topics (core/stations.h) for a token that is not admin's.
 * A station publishes only its own status (its will included) and reads
 * its own status and state. The whole status and state name every
 * session a station serves and the job it runs, so nobody else reads
 * them: a token reads stations/{station}/sessions/{session}, the view the
 * broker keeps for each session a station serves, for its own sessions
 * (any station: "+" is allowed there). Nothing else under stations/ is
 * theirs.
 */
static int station_decide(
        const struct jw_jwt_claims *c, const char *lv[5], const size_t len[5], int n, int access)
{
	bool read = access == MOSQ_ACL_READ || access == MOSQ_ACL_SUBSCRIBE;
	bool wild = level_is(lv[1], len[1], "+");

	if(n == 4 && level_is(lv[2], len[2], JW_STATION_SESSIONS)) {
		if(!read || !(wild || jw_id_valid(lv[1], len[1]))) {
			return MOSQ_ERR_ACL_DENIED;
		}
		return session_ok(c, lv[3], len[3]) ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
	}
	if(n != 3 || c->role != JW_ROLE_STATION || wild || !c->station ||
	        !level_is(lv[1], len[1], c->station)) {
		return MOSQ_ERR_ACL_DENIED;
	}
	if(level_is(lv[2], len[2], JW_STATION_STATUS)) {
		return MOSQ_ERR_SUCCESS;
	}
	return read && level_is(lv[2], len[2], JW_STATION_STATE) ? MOSQ_ERR_SUCCESS
	                                                         : MOSQ_ERR_ACL_DENIED;
}

static int decide(struct jw_plugin *p, const struct jw_jwt_claims *c,
        const struct mosquitto *client, const char *topic, int access)
{
	const char *lv[5];
	size_t len[5];
	int n;
	bool sub = access == MOSQ_ACL_SUBSCRIBE;
	bool read = access == MOSQ_ACL_READ || sub;

	if(c->role == JW_ROLE_ADMIN) {
		return MOSQ_ERR_SUCCESS;
	}
	if(topic[0] == '$') {
		char own[512];

		/* Everyone reads their own rejection notices and their own
		 * replies; nothing else under $jobwire ($jobwire/stats counts
		 * every session's jobs: admin). The escaped id is one level, so
		 * no filter can reach another client's topics through it. */
		if(read &&
		        jw_client_topics__rejection(own, sizeof(own), mosquitto_client_id(client)) >= 0 &&
		        !strcmp(own, topic)) {
			return MOSQ_ERR_SUCCESS;
		}
		if(read && jw_client_topics__own_replies(client, topic)) {
			return MOSQ_ERR_SUCCESS;
		}
		/* An edge's bridge carries the answers to its own clients'
		 * requests back (edge.c checked who may ask for what). */
		if(read && c->role == JW_ROLE_EDGE &&
		        !strncmp(topic, JW_REPLIES_PREFIX, sizeof(JW_REPLIES_PREFIX) - 1)) {
			return MOSQ_ERR_SUCCESS;
		}
		/* A history request is a read: the token's right to the session
		 * asked about is checked when it is answered (history.c). */
		if(access == MOSQ_ACL_WRITE && jw_topic_is_history_request(topic)) {
			return MOSQ_ERR_SUCCESS;
		}
		return MOSQ_ERR_ACL_DENIED;
	}
	n = split_levels(topic, lv, len);
	if(n >= 2 && level_is(lv[0], len[0], JW_STATIONS_PREFIX) &&
	        !level_is(lv[0], len[0], p->opt.prefix)) {
		/* An edge for every session serves admins the whole station
		 * tree too; the edge's own ACL gives each client its part. */
		if(c->role == JW_ROLE_EDGE && c->all_sessions) {
			return read ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
		}
		return station_decide(c, lv, len, n, access);
	}
	if(n < 2 || !level_is(lv[0], len[0], p->opt.prefix) || !session_ok(c, lv[1], len[1])) {
		return MOSQ_ERR_ACL_DENIED;
	}
	if(c->role == JW_ROLE_OBSERVER) {
		/* A wall display: reads as a viewer does, publishes nothing. */
		return read ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
	}
	if(c->role == JW_ROLE_VIEWER || c->role == JW_ROLE_EDGE) {
		if(read) {
			return MOSQ_ERR_SUCCESS;
		}
		/* Publish: control only (cancel, review). */
		return n == 4 && level_is(lv[3], len[3], "control") ? MOSQ_ERR_SUCCESS
		                                                    : MOSQ_ERR_ACL_DENIED;
	}
	/* Worker: events in, control out. */
	if(read) {
		return n == 4 && level_is(lv[3], len[3], "control") && !level_is(lv[2], len[2], "#")
		               ? MOSQ_ERR_SUCCESS
		               : MOSQ_ERR_ACL_DENIED;
	}
	return n == 4 && !level_is(lv[3], len[3], "control") ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
}

int jw_auth__acl_check(struct jw_plugin *p, const struct mosquitto_evt_acl_check *ed)
{
	const struct client_claims *c;

	if(ed->access == MOSQ_ACL_UNSUBSCRIBE) {
		return MOSQ_ERR_SUCCESS;
	}
	c = find(p->auth, ed->client);
	if(!c || !ed->topic) {
		return MOSQ_ERR_ACL_DENIED;
	}
	/*
	 * The token's expiry ends its rights at once, even before the tick
	 * disconnects the client. Except for what is queued for a kept
	 * session while its client is away: nothing reaches anyone from that
	 * queue until the client is back with a valid token, and mosquitto
	 * then checks every queued message again against the new connection
	 * (connection_check_acl in handle_connect.c), so the token it comes
	 * back with decides. Denying here would drop the messages the session
	 * exists to keep (a worker's cancel) whenever a token runs out during
	 * an outage.
	 */
	if(!(c->held && ed->access == MOSQ_ACL_READ) &&
	        !(p->auth->kicking && ed->access == MOSQ_ACL_SUBSCRIBE) &&
	        wall_s() >= c->claims.exp + p->auth->keys.leeway_s) {
		return MOSQ_ERR_ACL_DENIED;
	}
	return decide(p, &c->claims, ed->client, ed->topic, ed->access);
}

bool jw_auth__may_read(struct jw_plugin *p, const struct mosquitto *client, const char *topic)
{
	const struct client_claims *c;

	if(!p->auth) {
		return p->acl_allow;
	}
	c = find(p->auth, client);
	if(!c || wall_s() >= c->claims.exp + p->auth->keys.leeway_s) {
		return false;
	}
	return decide(p, &c->claims, client, topic, MOSQ_ACL_READ) == MOSQ_ERR_SUCCESS;
}

void jw_auth__stats(const struct jw_plugin *p, uint64_t *accepted, uint64_t *refused,
        uint64_t *expired, size_t *connected)
{
	const struct jw_auth *a = p->auth;

	*accepted = a ? a->accepted : 0;
	*refused = a ? a->refused : 0;
	*expired = a ? a->expired_kicked : 0;
	*connected = a ? a->clients.count - a->ndeparted - a->nheld : 0;
}

void jw_auth__id_stats(const struct jw_plugin *p, uint64_t *id_refused, size_t *held)
{
	const struct jw_auth *a = p->auth;

	*id_refused = a ? a->id_refused : 0;
	*held = a ? a->nheld : 0;
}

bool jw_auth__is_edge(const struct jw_plugin *p, const struct mosquitto *client)
{
	const struct client_claims *c;

	if(!p->auth || !client) {
		return false;
	}
	c = find(p->auth, client);
	return c && c->claims.role == JW_ROLE_EDGE;
}

const char *jw_auth__subject(const struct jw_plugin *p, const struct mosquitto *client)
{
	const struct client_claims *c;

	if(!p->auth || !client) {
		return NULL;
	}
	c = find(p->auth, client);
	return c ? c->claims.subject : NULL;
}
