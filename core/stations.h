/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Stations: the machines that run the jobs. Their topic
 * (stations/{station}/status, retained, checked against the "station"
 * schema) and the station table the broker keeps from it: presence
 * (online since, offline since, last seen), the refresh deadline after
 * which the broker marks a station offline itself, the sessions a
 * station serves and the job it runs. Pure: no I/O, no globals, no
 * threads; one table per caller, used from one thread.
 */
#ifndef JW_STATIONS_H
#define JW_STATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/clock.h"
#include "util/id.h"

/* The first level of every station topic, and the status topic's last. */
#define JW_STATIONS_PREFIX "stations"
#define JW_STATION_STATUS "status"
/* The retained document the broker keeps per station (state.c's kind). */
#define JW_STATION_STATE "state"
/* The broker's view of a station for one session it serves:
 * stations/{station}/sessions/{session} (retained). */
#define JW_STATION_SESSIONS "sessions"
/* The schema type a station status is checked against. */
#define JW_STATION_TYPE "station"
/* Most sessions a station may serve (the schema's maxItems). */
#define JW_STATION_MAX_SESSIONS 64

enum jw_station_topic {
	JW_STATION_TOPIC_NONE = 0, /* not a station topic jobwire checks */
	JW_STATION_TOPIC_STATUS,   /* stations/{station}/status, id valid */
	JW_STATION_TOPIC_STATE,    /* stations/{station}/state and
	                              stations/{station}/sessions/...: the broker's */
	JW_STATION_TOPIC_INVALID,  /* stations/{bad id}/status or /state */
};

/*
 * Classifies topic. STATUS and STATE fill id (JW_ID_MAX + 1 bytes);
 * INVALID fills why. Other topics under stations/ are none of jobwire's
 * business (NONE), as every topic outside the job prefix is.
 */
enum jw_station_topic jw_station_topic_parse(const char *topic, char *id, char *why, size_t whylen);

/* Writes "stations/{id}/{leaf}" into buf: its length, or -1. */
int jw_station_topic_format(char *buf, size_t buflen, const char *id, const char *leaf);

struct jw_station {
	char id[JW_ID_MAX + 1];
	bool online;
	bool broker_generated;    /* the last status was the broker's */
	bool known_since;         /* online_since / offline_since seen */
	int64_t online_since_ms;  /* wall clock, 0: never online */
	int64_t offline_since_ms; /* wall clock, 0: never offline */
	int64_t last_seen_ms;     /* wall clock of the last online status */
	int64_t deadline_mono_ms; /* offline when not refreshed by then; 0: none */
	char *status;             /* the last status as published (NUL-terminated) */
	size_t status_len;
	char sessions[JW_STATION_MAX_SESSIONS][JW_ID_MAX + 1];
	size_t nsessions;
	char job_session[JW_ID_MAX + 1]; /* the job it runs; "" when none */
	char job_id[JW_ID_MAX + 1];
};

struct jw_stations;
struct jw_jnode;

/* A table whose stations go offline timeout_ms after their last status
 * (0: never by timeout). NULL when out of memory. */
struct jw_stations *jw_stations_new(int64_t timeout_ms);
/* Frees the table and its stations. NULL is a no-op. */
void jw_stations_free(struct jw_stations *s);
void jw_stations_set_timeout(struct jw_stations *s, int64_t timeout_ms);

/* The station with this id, or NULL. */
struct jw_station *jw_stations_find(const struct jw_stations *s, const char *id);
size_t jw_stations_count(const struct jw_stations *s);
struct jw_station *jw_stations_at(const struct jw_stations *s, size_t i);

/*
 * Rules a client's status must pass beyond its schema (ev: the checked
 * status object): broker_generated is the broker's alone. Returns 0, or
 * -1 with msg filled.
 */
int jw_station_status_rules(const struct jw_jnode *ev, char *msg, size_t msglen);

/*
 * Applies a checked status (ev, and its text raw[0..len)) of station id
 * at now: its presence, sessions, last seen and refresh deadline. Returns
 * 1 when the station went online or offline (a transition, the journal's
 * business), 0 for a refresh, -1 when out of memory (the table is as
 * before). *out: the station.
 */
int jw_stations_status(struct jw_stations *s, const char *id, const struct jw_jnode *ev,
        const char *raw, size_t len, bool broker, const struct jw_clock *now,
        struct jw_station **out);

/* The earliest refresh deadline (monotonic ms), INT64_MAX when none. */
int64_t jw_stations_next_due(const struct jw_stations *s);

/*
 * The next online station whose refresh deadline has passed at now, or
 * NULL. The caller publishes its offline status (jw_station_offline_json)
 * and applies it, which clears the deadline.
 */
struct jw_station *jw_stations_pop_expired(struct jw_stations *s, const struct jw_clock *now);

/*
 * The status the broker publishes for st when it marks it offline: state
 * offline, broker_generated, ts and reason, as a malloc'd NUL-terminated
 * text (*len its length). NULL when out of memory.
 */
char *jw_station_offline_json(
        const struct jw_station *st, int64_t timeout_ms, const struct jw_clock *now, size_t *len);

/*
 * Records that station id runs job (session, job); job NULL: it runs
 * none (only when it ran that one: session and job given). Returns the
 * station, or NULL when it is not known.
 */
struct jw_station *jw_stations_set_job(
        struct jw_stations *s, const char *id, const char *session, const char *job);
/* Clears the job of every station that runs (session, job); returns the
 * last station cleared, or NULL. */
struct jw_station *jw_stations_end_job(struct jw_stations *s, const char *session, const char *job);

/* Whether st serves session. */
bool jw_station_serves(const struct jw_station *st, const char *session);

/*
 * The station's state document, published retained by the broker on
 * stations/{id}/state: station, state, online_since, offline_since,
 * last_seen, broker_generated, sessions, job, and the last status as
 * published. A malloc'd NUL-terminated text (*len), NULL when out of
 * memory.
 */
char *jw_station_state_json(const struct jw_station *st, size_t *len);

/*
 * st as one session it serves sees it, for stations/{id}/sessions/{session}
 * (retained): the state document with "sessions":[session], "job" only
 * when the station runs one of that session's jobs, and "status" without
 * its "sessions" member. So a viewer of one session learns nothing of the
 * others a station serves. NULL when out of memory.
 */
char *jw_station_view_json(const struct jw_station *st, const char *session, size_t *len);

#endif
