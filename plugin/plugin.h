/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The plugin's one context, passed as userdata to every callback (no
 * file-level state), and the functions the plugin's files share. Only the
 * broker thread touches any of it.
 */
#ifndef JW_PLUGIN_H
#define JW_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "event.h"
#include "jdoc.h"
#include "reason.h"
#include "util/clock.h"
#include "util/rfc3339.h"

struct mosquitto;
struct mosquitto_opt;
struct jw_schemaset;
struct jw_topic;
typedef struct mqtt5__property mosquitto_property;

/* Topic prefix of everything the plugin itself publishes outside the job
 * tree. A '$' topic, so '#' subscriptions never see it. */
#define JW_SYS_PREFIX "$jobwire"
#define JW_STATS_TOPIC JW_SYS_PREFIX "/stats"

/*
 * The 2.1 line fires MOSQ_EVT_CLIENT_OFFLINE instead of MOSQ_EVT_DISCONNECT
 * when a client with a persistent session goes away (its session lives
 * on); to jobwire it means what DISCONNECT means in 2.0, which fires for
 * every client. A 2.0 build registers it by its number (event numbers are
 * part of the plugin ABI), so the same .so behaves alike in a 2.1 broker;
 * a 2.0 broker answers MOSQ_ERR_NOT_SUPPORTED (docs/compatibility.md).
 */
#define JW_EVT_CLIENT_OFFLINE 28

/* What the plugin answers for access checks it has no objection to. */
enum jw_acl_fallback {
	JW_ACL_AUTO = 0, /* decided at start from the broker's configuration */
	JW_ACL_ALLOW,    /* no other ACL source: allow, as a bare broker does */
	JW_ACL_DEFER,    /* acl_file or an ACL plugin decides */
};

/* What the plugin does in this broker (docs/operations.md, "Scaling"). */
enum jw_mode {
	JW_MODE_CORE = 0, /* everything: checks, lifecycle, state, journal */
	JW_MODE_EDGE,     /* JWT and the session ACL only: the core's events
	                     come in over a bridge (edge.c) */
};

struct jw_options {
	enum jw_mode mode;
	char *schemas_dir;
	char *prefix;
	struct jw_event_limits limits;
	enum jw_acl_fallback acl_fallback;
	unsigned log_rate; /* rejection log lines per second, 0 = unlimited */
	/* Lifecycle (docs/lifecycle.md). */
	double state_max_rate;     /* state publishes per second per job */
	uint32_t state_ttl;        /* s; message expiry of a finished job's state */
	double heartbeat_interval; /* s; default when started has none */
	size_t max_jobs;
	unsigned max_attempts;    /* attempts a job may have, retries included */
	size_t history_events;    /* accepted events kept per job, 0: none */
	size_t history_max_bytes; /* all the histories together, 0: no bound */
	char *data_dir;           /* NULL: nothing persisted */
	int spool_fsync;          /* enum jw_fsync_policy */
	double stats_interval;    /* s; 0 = no stats message */
	double station_timeout;   /* s; a station not refreshed is offline; 0 = off */
	/* JWT authentication (docs/configuration.md); off without a key file. */
	char *jwt_hs256_secret_file;
	char *jwt_public_key_file;
	char *jwt_issuer;
	char *jwt_audience;
	int64_t jwt_leeway; /* s */
	bool jwt_leeway_set;
	uint64_t jwt_session_hold; /* s; an away persistent session keeps its id */
	bool jwt_session_hold_set;
	/* Journal (docs/journal.md). */
	char *pg_conninfo;    /* NULL: journal off; never logged */
	char *node_name;      /* default: the host name */
	size_t spool_max;     /* bytes not yet in PostgreSQL */
	char *journal_events; /* comma list of extra types, or NULL */
};

#define JW_DEFAULT_SPOOL_MAX (256u * 1024u * 1024u)

/* Counters since start. Per-type counts are indexed like the schema set's
 * sorted type list at the time of counting; they are kept by name in
 * jw_counters so a reload that adds types does not shift them. */
struct jw_type_count {
	char type[65];
	uint64_t accepted;
	uint64_t rejected;
};

struct jw_counters {
	uint64_t accepted;
	uint64_t rejected;
	uint64_t by_reason[JW_REASON__COUNT];
	uint64_t wills_checked;
	uint64_t ts_added;
	uint64_t reloads;
	uint64_t reload_failures;
	uint64_t duplicates;   /* terminal repeats acknowledged, not delivered */
	uint64_t notices_sent; /* rejection notices the broker queued */
	uint64_t state_published;
	uint64_t state_coalesced; /* held updates superseded by a newer one */
	uint64_t state_failures;
	uint64_t persist_dropped; /* records that could not be queued (memory) */
	uint64_t restore_failures;
	/* Damage jw_persist_load met in jobs.log at start (the writer's own
	 * finds are in its stats). */
	uint64_t log_damaged_records;
	uint64_t log_damaged_bytes;
	uint64_t log_quarantined;
	uint64_t log_unkept;
	uint64_t journal_refused;  /* terminal events refused: spool full or failing */
	uint64_t journal_lost;     /* broker-generated records that found the spool full */
	uint64_t history_requests; /* history.c: requests, answers published, */
	uint64_t history_answers;  /* answers that could not be made or published */
	uint64_t history_failures;
	struct jw_type_count *types;
	size_t ntypes;
	size_t captypes;
};

struct jw_jobs;
struct jw_persist;
struct jw_clock;
struct json_object;
struct jw_auth;
struct mosquitto_evt_acl_check;
struct jw_journal;
struct jw_msgstate;
struct jw_held_rec;
struct jw_effects;
struct jw_job;
struct mosquitto_evt_message;

/* Who sent what a notice or a journal record is about. */
enum jw_origin {
	JW_FROM_PUBLISH,
	JW_FROM_WILL,
	JW_FROM_WRITE,  /* a write check the broker has not yet said is either */
	JW_FROM_BROKER, /* the broker's own event (a stalled job's failure) */
};

/* The client behind an event, as copies or strings owned by the caller;
 * NULL where a function takes one: the broker itself. */
struct jw_who {
	const char *client_id;
	const char *username;
	bool late; /* its event was delivered already: nobody to refuse */
};

/* wake.c: the timer that ends the broker's wait when a held state update
 * falls due. */
struct jw_wake {
	bool on;          /* the timer and its signal handler exist */
	int signo;        /* the real-time signal it sends */
	timer_t timer;    /* one-shot, CLOCK_MONOTONIC, to the broker thread */
	int64_t armed_ms; /* its expiry (monotonic ms) when armed */
	uint64_t wakes;   /* times armed */
	bool queued;      /* the plugin queued a message in this pass */
	bool nudge;       /* it is for the pass after one that queued */
	/* How often passes queue messages, counted over windows (wake.c);
	 * busy: more often than the busy nudge's wait. */
	int64_t win_start_ms;
	uint32_t win_queued;
	bool busy;
};

struct jw_plugin {
	void *identifier;
	struct jw_options opt;
	struct jw_schemaset *schemas;
	struct jw_counters counters;
	struct jw_msgstate *msg; /* write_check.h: the write the broker has
	                            not yet said what it was, and the order
	                            of its events */
	bool acl_allow;          /* resolved acl_fallback */
	struct jw_jobs *jobs;
	struct jw_persist *persist; /* NULL without plugin_opt_data_dir */
	bool republished;           /* states put back after a restart */
	/* Changes made by wills the broker may be sending at shutdown are made
	 * durable at the next tick, which never comes at shutdown (will.c). */
	char **held_keys; /* jobs to persist at the next tick */
	size_t nheld_keys, capheld_keys;
	int64_t started_mono_ms;
	int64_t next_stats_ms;
	int64_t next_health_ms;
	uint64_t persist_errors_seen;
	bool persist_failing;
	char **evicted_at_load; /* keys to delete once the writer runs */
	size_t nevicted_at_load, capevicted_at_load;
	/* Rejection log rate limiting. */
	int64_t log_window_s;
	unsigned log_in_window;
	uint64_t log_suppressed;
	struct jw_rfc3339_cache ts_cache; /* "ts" text of the current second */
	struct jw_jdoc doc;               /* the event being handled (broker thread
	                                     only; its block is reused per message) */
	struct jw_auth *auth;             /* NULL: JWT authentication off */
	struct jw_journal *journal;       /* NULL: journal off */
	struct jw_held_rec *held_recs;    /* journal records to spool at the next
	                                     tick (journal_records.c) */
	size_t nheld_recs, capheld_recs;
	uint64_t journal_changes_seen;
	uint64_t journal_dead_seen;
	bool journal_replay_logged;
	struct jw_stations *stations; /* stations.c: presence of the stations */
	bool stations_any;            /* a station has been seen: job events
	                                 may change the job one runs */
	struct jw_wake wake;          /* wake.c */
};

/* edge.c: plugin_opt_mode edge. init: JWT (when configured), the access
 * fallback and the edge's callbacks; MOSQ_ERR_SUCCESS, or an error code
 * (logged; nothing left registered, the caller frees p). cleanup
 * unregisters them (safe twice). */
int jw_edge__init(struct jw_plugin *p);
void jw_edge__cleanup(struct jw_plugin *p);

/* options.c */
int jw_options__parse(struct jw_options *opt, struct mosquitto_opt *opts, int count);
void jw_options__cleanup(struct jw_options *opt);
const char *jw_options__mode_name(enum jw_mode m);
const char *jw_options__acl_name(enum jw_acl_fallback f);
bool jw_options__detect_acl_source(char *why, size_t whylen);

/*
 * The broker's events, one file each (write_check.h holds what they
 * share: the write check the broker has not yet said what it was):
 * publish.c MESSAGE, acl.c ACL_CHECK, clients.c DISCONNECT and (with JWT)
 * BASIC_AUTH, will.c the wills among the write checks, tick.c TICK, and
 * plugin.c RELOAD. The callbacks take the plugin as userdata and return
 * MOSQ_ERR_SUCCESS, MOSQ_ERR_ACL_DENIED or MOSQ_ERR_PLUGIN_DEFER (never a
 * code that would cost a client its connection). Broker thread only.
 */
int jw_publish__on_message(int event, void *event_data, void *userdata);
int jw_acl__on_acl_check(int event, void *event_data, void *userdata);
int jw_clients__on_disconnect(int event, void *event_data, void *userdata);
int jw_clients__on_basic_auth(int event, void *event_data, void *userdata);
/* write_check.c: the pending write's state. init returns 0 or -1 (out of
 * memory); cleanup drops what is pending without applying it (safe to
 * call twice). */
int jw_write__init(struct jw_plugin *p);
void jw_write__cleanup(struct jw_plugin *p);
/* will.c: every callback but MESSAGE and the access checks starts here:
 * what the broker did since the last write check is settled first. */
void jw_will__other_event(struct jw_plugin *p);
/* will.c: the end of a pass of the broker's loop (tick): as other_event,
 * and a connection's set-up is over. */
void jw_will__end_of_pass(struct jw_plugin *p);

/* history.c: a history request's MESSAGE (jw_topic_is_history_request):
 * answered, delivered to nobody. MOSQ_ERR_SUCCESS. */
int jw_history__on_message(struct jw_plugin *p, struct mosquitto_evt_message *ed);

/* tick.c: the TICK callback (timers, health, stats). */
int jw_tick__on_tick(int event, void *event_data, void *userdata);

/* wake.c: init sets up the timer and its signal (on failure the loop is
 * simply not woken, and the log says why); cleanup undoes it. after_tick,
 * at the end of each TICK with its event data: after a pass that queued a
 * message, makes sure the next pass does not sleep before sending it;
 * otherwise tells a 2.1 broker to wait at most until next_ms (the plugin's
 * earliest deadline, monotonic ms; capped at 100 ms) and arms the timer
 * for due_ms (the earliest held state update) when a 2.0 broker's wait
 * would end after it. */
void jw_wake__init(struct jw_wake *w);
/* mosquitto_broker_publish (same arguments, same ownership), for every
 * message the plugin sends: the broker sends it at its next pass, and the
 * TICK makes sure that pass does not first sleep (wake.c). */
int jw_wake__publish(struct jw_plugin *p, const char *topic, int payloadlen, void *payload, int qos,
        bool retain, mosquitto_property *properties);
void jw_wake__cleanup(struct jw_wake *w);
void jw_wake__after_tick(
        struct jw_wake *w, void *event_data, int64_t now_ms, int64_t next_ms, int64_t due_ms);

/* reload.c: the RELOAD callback (SIGHUP: the schemas again, swapped in
 * only when every file compiled; a failure keeps the old set and is
 * logged). load_schemas: 0, or -1 (logged) with *out untouched. */
int jw_reload__on_reload(int event, void *event_data, void *userdata);
int jw_reload__load_schemas(struct jw_plugin *p, struct jw_schemaset **out);
/* Logs the set's types: "jobwire: <what> N event types: a, b, ...". */
void jw_reload__log_types(const struct jw_schemaset *set, const char *what);

/*
 * effects.h, effects.c: the one place where what an event does is carried
 * out.
 * An event as the broker showed it: strings and buffers are the caller's
 * and only read during the call.
 */
struct jw_event_ctx {
	enum jw_origin origin;
	const struct jw_topic *t;          /* NULL: not a job topic (refusals only) */
	const char *topic;                 /* as published, for notices */
	const struct mosquitto *client;    /* its sender (PUBLISH, write check),
	                                      the will's client, NULL: the broker */
	const char *client_id;             /* NULL: the client's, when asked */
	const mosquitto_property *props;   /* PUBLISH: its properties */
	struct mosquitto_evt_message *msg; /* PUBLISH: "ts" is added to it */
	const struct jw_jnode *ev;         /* the event (NULL for refusals) */
	const void *payload;               /* will, broker: the bytes */
	size_t len;
	bool durable;               /* false: a will while the broker may
	                               be shutting down: the job's record
	                               and journal record wait for the
	                               next tick */
	const struct jw_clock *now; /* the message's one clock reading */
};

/* What the broker must do with the event afterwards. */
enum jw_run {
	JW_RUN_PASS = 0, /* deliver it */
	JW_RUN_SUPPRESS, /* acknowledge it, deliver it to nobody */
	JW_RUN_DENY,     /* refused (the publisher was told) */
};

/* jw_effects__run (effects.h) carries out what jw_jobs_step returned;
 * jw_effects__refuse refuses e for v (a notice, a count, a log line) and
 * returns JW_RUN_DENY. */
enum jw_run jw_effects__refuse(
        struct jw_plugin *p, const struct jw_event_ctx *e, const struct jw_verdict *v);

/* log.c: a background thread's note (threads.h: enum jw_note_level) as
 * "jobwire: <prefix><text>". Broker thread. */
void jw_log__note(int level, const char *prefix, const char *text);

/* job_table.c: the job table in the broker. init: -1 when the table
 * cannot be made or loaded (logged). */
int jw_table__init(struct jw_plugin *p);
void jw_table__cleanup(struct jw_plugin *p);
/* Publishes j's retained state now (and marks it published). */
void jw_table__publish_state(struct jw_plugin *p, struct jw_job *j, const struct jw_clock *now);
/* Publishes a state rendered before (json NULL: rendering failed). */
void jw_table__publish_rendered(
        struct jw_plugin *p, const struct jw_job *j, const char *json, size_t len);
/* Every job's state again (after a restart); sets p->republished. */
void jw_table__republish(struct jw_plugin *p, const struct jw_clock *now);
/* Hands j's record to the writer now (a failure is counted). */
void jw_table__persist(struct jw_plugin *p, const struct jw_job *j, const struct jw_clock *now);
/* Remembers j's record for jw_table__flush_held (the next tick). */
void jw_table__hold(struct jw_plugin *p, const struct jw_job *j);
/* Writes the jobs held (tick), or forgets them (cleanup). */
void jw_table__flush_held(struct jw_plugin *p);
void jw_table__drop_held(struct jw_plugin *p);
/* The writer's notes and failures in the log (once per change). */
void jw_table__health(struct jw_plugin *p);

/* auth.c: JWT authentication and the session ACL (only with a key). */
int jw_auth__init(struct jw_plugin *p);
void jw_auth__cleanup(struct jw_plugin *p);
int jw_auth__on_basic_auth(int event, void *event_data, void *userdata);
void jw_auth__on_disconnect(struct jw_plugin *p, const struct mosquitto *client);
void jw_auth__tick(struct jw_plugin *p);

/* stations.c: stations/{station}/status (core/stations.h). init: 0, or
 * -1 when out of memory. check: the write check of topic, a station
 * topic when it returns true (w filled as jw_write__check fills it).
 * apply: a checked status (a PUBLISH's when msg is given: its ts is added)
 * into the table and the station's state. tick: the stations whose status
 * was not refreshed in time are marked offline. */
struct jw_write;
struct jw_topic;
struct jw_jnode;
int jw_stations__init(struct jw_plugin *p);
void jw_stations__cleanup(struct jw_plugin *p);
bool jw_stations__check(struct jw_plugin *p, struct jw_write *w, const char *topic,
        const void *payload, uint32_t len);
void jw_stations__apply(struct jw_plugin *p, struct jw_write *w, const void *payload, size_t len,
        struct mosquitto_evt_message *msg, const char *client_id);
int64_t jw_stations__next_due(const struct jw_plugin *p);
/* An accepted job event: started naming a station, or the job's end,
 * changes the job the station's state shows. */
void jw_stations__job_event(
        struct jw_plugin *p, const struct jw_topic *t, const struct jw_jnode *ev);
void jw_stations__tick(struct jw_plugin *p, const struct jw_clock *now);
/* MOSQ_ERR_SUCCESS or MOSQ_ERR_ACL_DENIED from the client's claims. */
int jw_auth__acl_check(struct jw_plugin *p, const struct mosquitto_evt_acl_check *ed);
/* Whether client may read topic: from its token's claims with JWT on;
 * with JWT off, true only when no other ACL source follows jobwire
 * (acl_fallback allow), since the plugin cannot ask acl_file. */
bool jw_auth__may_read(struct jw_plugin *p, const struct mosquitto *client, const char *topic);
void jw_auth__stats(const struct jw_plugin *p, uint64_t *accepted, uint64_t *refused,
        uint64_t *expired, size_t *connected);
/* CONNECTs refused because their client id belongs to another token's
 * owner, and persistent sessions kept for clients that are away. */
void jw_auth__id_stats(const struct jw_plugin *p, uint64_t *id_refused, size_t *held);
/* Whether client's token has the role edge (an edge broker's bridge):
 * false with JWT off. */
bool jw_auth__is_edge(const struct jw_plugin *p, const struct mosquitto *client);
/* The subject ("sub") of client's token; NULL with JWT off or none. */
const char *jw_auth__subject(const struct jw_plugin *p, const struct mosquitto *client);

/* review.c: a review was answered (JW_FX_REVIEW): names who answered on
 * the job (the token's subject, else the client id) and journals the
 * review. Before the state goes out. */
struct jw_job;
void jw_review__answered(struct jw_plugin *p, struct jw_job *j, const struct jw_event_ctx *e);
/* journal_records.c: the broker side of the PostgreSQL journal (the
 * journal's own threads are behind journal.h). init: 0 (also when the
 * journal is off), -1 when it cannot start (logged). cleanup: what
 * PostgreSQL has not taken stays spooled for the next start. */
int jw_journal__init(struct jw_plugin *p);
void jw_journal__cleanup(struct jw_plugin *p);
/* Before applying an event: true (v filled, journal_full) when it is a
 * terminal event the spool has no room for. */
bool jw_journal__refuse(struct jw_plugin *p, const struct jw_topic *t, struct jw_verdict *v);
/* After an accepted (or duplicate terminal) event: spools its record when
 * the journal wants it. who NULL: broker-generated. Returns 0, or -1
 * with v filled (the record could not be spooled). */
int jw_journal__record(struct jw_plugin *p, const struct jw_topic *t, const struct jw_who *who,
        const void *payload, size_t len, struct jw_verdict *v);
/* Keeps a record for jw_journal__flush_held (a will's, spooled at the
 * next tick); out of memory it is spooled now. drop_held forgets them. */
void jw_journal__hold(struct jw_plugin *p, const struct jw_topic *t, const struct jw_who *who,
        const void *payload, size_t len);
void jw_journal__flush_held(struct jw_plugin *p);
void jw_journal__drop_held(struct jw_plugin *p);
/* A station's transition (online or offline) at at_ms into the journal
 * (on): its status (checked JSON), broker: the broker's own offline
 * status, client_id: the publisher (NULL: the broker). Best effort. */
void jw_journal__station(struct jw_plugin *p, const char *station, bool online, const void *status,
        size_t len, bool broker, const char *client_id, int64_t at_ms);
/* Whether jw_journal__record would record an event of this type. */
bool jw_journal__wants(const struct jw_plugin *p, const char *type);
/* journal_health.c: the journal thread's state in the log (once per
 * change; from the tick) and in the stats (a new json-c object, caller
 * puts it; NULL when out of memory). */
void jw_journal__tick(struct jw_plugin *p);
struct json_object *jw_journal__stats_json(struct jw_plugin *p, const struct jw_clock *now);

/* stats.c: publishes the retained stats message now (tick). */
void jw_stats__publish(struct jw_plugin *p, const struct jw_clock *now);

/* notice.c: rejection notices, log lines and counters. client: the
 * publisher while it is the live sender of a PUBLISH (its claims decide
 * whether its response topic may be used), else NULL; client_id: the
 * publisher's (NULL when the broker no longer knows it: no notice then);
 * props: the PUBLISH's properties (response topic), NULL for the others. */
void jw_notice__reject(struct jw_plugin *p, const struct mosquitto *client, const char *client_id,
        const char *topic, const struct jw_topic *t, const struct jw_verdict *v,
        const mosquitto_property *props, enum jw_origin origin);
void jw_notice__count_accept(struct jw_plugin *p, const char *type);
void jw_counters__cleanup(struct jw_counters *c);
/* client_topics.c: client_id's rejection topic into buf (as
 * jw_topic_rejection: its length, or -1 when it does not fit). */
int jw_client_topics__rejection(char *buf, size_t buflen, const char *client_id);
/* Whether topic is client's own $jobwire/replies/{escaped id} or below. */
bool jw_client_topics__own_replies(const struct mosquitto *client, const char *topic);

/*
 * The response-topic policy: whether the broker may publish an answer for
 * client (a rejection notice, or any later request/response reply) to
 * topic, the MQTT 5 response topic the client named. mosquitto_broker_publish
 * skips the write ACL, so this is the only check such a publish gets. OK
 * only when topic is a valid PUBLISH topic, is not the broker's (anything
 * under the prefix, any $ topic except the client's own
 * $jobwire/replies/{id}[/...]), and the client may read it
 * (jw_auth__may_read; its own replies always). Otherwise a refusal with a
 * sentence for the client in why. The rule is core's
 * jw_topic_response_check; this asks the broker and the ACL source what
 * only they know. Broker thread only.
 */
enum jw_response_refusal jw_notice__response_topic_check(struct jw_plugin *p,
        const struct mosquitto *client, const char *topic, char *why, size_t whylen);
/* The refusal's stable name in notices: "invalid", "broker_topic", ... */
const char *jw_notice__response_refusal_name(enum jw_response_refusal r);

#endif
