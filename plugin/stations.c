/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Stations in the broker: the write check of stations/{station}/status
 * (its schema, like every event), the station table (core/stations.h) fed
 * by accepted statuses and wills, the retained stations/{station}/state
 * the broker keeps, and the offline status the broker publishes itself
 * for a station whose status was not refreshed within
 * plugin_opt_station_timeout. Broker thread only.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_api.h"

#include "effects.h"
#include "jdoc.h"
#include "stations.h"
#include "write_check.h"

static int64_t timeout_ms(const struct jw_plugin *p)
{
	return (int64_t)(p->opt.station_timeout * 1000.0);
}

int jw_stations__init(struct jw_plugin *p)
{
	p->stations = jw_stations_new(timeout_ms(p));
	return p->stations ? 0 : -1;
}

void jw_stations__cleanup(struct jw_plugin *p)
{
	jw_stations_free(p->stations);
	p->stations = NULL;
}

static void refuse(struct jw_write *w, enum jw_reason reason, const char *keyword, const char *msg)
{
	memset(&w->v, 0, sizeof(w->v));
	w->v.reason = reason;
	snprintf(w->v.keyword, sizeof(w->v.keyword), "%s", keyword);
	snprintf(w->v.message, sizeof(w->v.message), "%s", msg);
	w->valid = false;
}

bool jw_stations__check(struct jw_plugin *p, struct jw_write *w, const char *topic,
        const void *payload, uint32_t len)
{
	char why[sizeof(w->v.message)];

	switch(jw_station_topic_parse(topic, w->t.session, why, sizeof(why))) {
		case JW_STATION_TOPIC_NONE:
			return false;
		case JW_STATION_TOPIC_INVALID:
			w->kind = JW_TOPIC_INVALID;
			refuse(w, JW_REASON_INVALID_TOPIC, "", why);
			return true;
		case JW_STATION_TOPIC_STATE:
			w->kind = JW_TOPIC_INVALID;
			refuse(w, JW_REASON_PROTECTED_TOPIC, "",
			        JW_STATIONS_PREFIX "/{station}/" JW_STATION_STATE
			                           " is published by the broker only");
			return true;
		case JW_STATION_TOPIC_STATUS:
			break;
	}
	w->kind = JW_TOPIC_STATION;
	w->t.job[0] = '\0';
	snprintf(w->t.event, sizeof(w->t.event), "%s", JW_STATION_TYPE);
	w->t.why[0] = '\0';
	if(jw_event_check_doc(p->schemas, &w->t, payload, len, &p->opt.limits, &p->doc, &w->v)) {
		w->valid = false;
		return true;
	}
	if(jw_station_status_rules(p->doc.root, why, sizeof(why))) {
		jw_jdoc_reset(&p->doc);
		refuse(w, JW_REASON_RULE_VIOLATION, "broker_generated", why);
		snprintf(w->v.field, sizeof(w->v.field), "/broker_generated");
		return true;
	}
	w->ev = p->doc.root;
	w->valid = true;
	jw_clock_now(&w->now);
	return true;
}

/* Publishes json (len bytes; freed here; NULL: out of memory) retained on
 * topic; an empty json clears the retained message. */
static void publish_retained(struct jw_plugin *p, const char *topic, char *json, size_t len)
{
	char *payload = NULL;

	if(!json || len > INT32_MAX || (len && !(payload = mosquitto_malloc(len + 1)))) {
		free(json);
		p->counters.state_failures++;
		return;
	}
	if(len) {
		memcpy(payload, json, len + 1);
	}
	free(json);
	if(jw_wake__publish(p, topic, (int)len, payload, 1, true, NULL)) {
		mosquitto_free(payload);
		p->counters.state_failures++;
		return;
	}
	p->counters.state_published++;
}

/* Publishes st's retained state document on stations/{id}/state, and
 * each session's view of it on stations/{id}/sessions/{session}: what a
 * viewer of that session may read (docs/topics.md, "Stations"). */
static void publish_state(struct jw_plugin *p, const struct jw_station *st)
{
	char topic[sizeof(JW_STATIONS_PREFIX) + sizeof(JW_STATION_SESSIONS) + 2 * JW_ID_MAX + 16];
	char leaf[sizeof(JW_STATION_SESSIONS) + JW_ID_MAX + 2];
	size_t len = 0;

	if(jw_station_topic_format(topic, sizeof(topic), st->id, JW_STATION_STATE) >= 0) {
		char *json = jw_station_state_json(st, &len);
		publish_retained(p, topic, json, len);
	}
	for(size_t i = 0; i < st->nsessions; i++) {
		snprintf(leaf, sizeof(leaf), JW_STATION_SESSIONS "/%s", st->sessions[i]);
		if(jw_station_topic_format(topic, sizeof(topic), st->id, leaf) >= 0) {
			char *json = jw_station_view_json(st, st->sessions[i], &len);
			publish_retained(p, topic, json, len);
		}
	}
}

/* Clears the views of the sessions in old[0..n) that st no longer
 * serves. */
static void clear_views(
        struct jw_plugin *p, const struct jw_station *st, char (*old)[JW_ID_MAX + 1], size_t n)
{
	char topic[sizeof(JW_STATIONS_PREFIX) + sizeof(JW_STATION_SESSIONS) + 2 * JW_ID_MAX + 16];
	char leaf[sizeof(JW_STATION_SESSIONS) + JW_ID_MAX + 2];

	for(size_t i = 0; i < n; i++) {
		if(jw_station_serves(st, old[i])) {
			continue;
		}
		snprintf(leaf, sizeof(leaf), JW_STATION_SESSIONS "/%s", old[i]);
		if(jw_station_topic_format(topic, sizeof(topic), st->id, leaf) >= 0) {
			publish_retained(p, topic, strdup(""), 0);
		}
	}
}

/* Applies a checked status (ev) of station id into the table. */
static void apply(struct jw_plugin *p, const char *id, const struct jw_jnode *ev,
        const void *payload, size_t len, bool broker, const char *client_id,
        const struct jw_clock *now)
{
	struct jw_station *st = jw_stations_find(p->stations, id);
	char(*old)[JW_ID_MAX + 1] = NULL;
	size_t nold = st ? st->nsessions : 0;
	int rc;

	/* The sessions it served, whose views go when it no longer does. */
	if(nold) {
		old = malloc(nold * sizeof(*old));
		if(old) {
			memcpy(old, st->sessions, nold * sizeof(*old));
		} else {
			nold = 0;
		}
	}
	rc = jw_stations_status(p->stations, id, ev, payload, len, broker, now, &st);

	if(rc < 0) {
		mosquitto_log_printf(
		        MOSQ_LOG_WARNING, "jobwire: out of memory recording station %s's status", id);
		free(old);
		return;
	}
	p->stations_any = true;
	if(rc == 1) {
		mosquitto_log_printf(MOSQ_LOG_INFO, "jobwire: station %s is %s%s", id,
		        st->online ? "online" : "offline", broker ? " (no status in time)" : "");
		/* The journal keeps the transitions (003_stations.sql). */
		jw_journal__station(p, id, st->online, payload, len, broker, client_id, now->real_ms);
	}
	publish_state(p, st);
	clear_views(p, st, old, nold);
	free(old);
}

void jw_stations__apply(struct jw_plugin *p, struct jw_write *w, const void *payload, size_t len,
        struct mosquitto_evt_message *msg, const char *client_id)
{
	if(msg && jw_effects__add_ts(p, msg, w->ev, &w->now) == 0) {
		p->counters.ts_added++;
	}
	/* The status as delivered, with its ts. */
	if(msg) {
		payload = msg->payload;
		len = msg->payloadlen;
	}
	apply(p, w->t.session, w->ev, payload, len, false, client_id, &w->now);
}

int64_t jw_stations__next_due(const struct jw_plugin *p)
{
	return jw_stations_next_due(p->stations);
}

/* Publishes and applies the broker's offline status for st. */
static void mark_offline(struct jw_plugin *p, struct jw_station *st, const struct jw_clock *now)
{
	char topic[sizeof(JW_STATIONS_PREFIX) + JW_ID_MAX + 16];
	char id[JW_ID_MAX + 1];
	struct jw_json_error err;
	struct jw_jdoc d;
	size_t len;
	char *text = jw_station_offline_json(st, timeout_ms(p), now, &len);
	char *payload;

	if(!text || jw_station_topic_format(topic, sizeof(topic), st->id, JW_STATION_STATUS) < 0) {
		free(text);
		return;
	}
	payload = mosquitto_malloc(len + 1);
	if(payload) {
		memcpy(payload, text, len + 1);
		if(jw_wake__publish(p, topic, (int)len, payload, 1, true, NULL)) {
			mosquitto_free(payload);
		}
	}
	/* The table keeps the broker's status like a station's, parsed the
	 * way every status is. */
	snprintf(id, sizeof(id), "%s", st->id);
	jw_jdoc_init(&d);
	if(jw_jdoc_parse(&d, text, len, p->opt.limits.max_depth, &err) == 0) {
		apply(p, id, d.root, text, len, true, NULL, now);
	}
	jw_jdoc_free(&d);
	free(text);
}

void jw_stations__tick(struct jw_plugin *p, const struct jw_clock *now)
{
	struct jw_station *st;

	while((st = jw_stations_pop_expired(p->stations, now)) != NULL) {
		mark_offline(p, st, now);
	}
}

void jw_stations__job_event(
        struct jw_plugin *p, const struct jw_topic *t, const struct jw_jnode *ev)
{
	struct jw_station *st = NULL;
	const struct jw_jnode *m;
	char id[JW_ID_MAX + 1];

	if(!jw_stations_count(p->stations) || !ev) {
		return;
	}
	if(!strcmp(t->event, "started")) {
		m = jw_jnode_get(ev, "station");
		if(!m || m->type != JW_J_STRING || !jw_id_valid(m->u.s, m->n)) {
			return;
		}
		memcpy(id, m->u.s, m->n);
		id[m->n] = '\0';
		/* A job it ran before is over for the station's card. */
		st = jw_stations_set_job(p->stations, id, t->session, t->job);
	} else if(!strcmp(t->event, "complete") || !strcmp(t->event, "failed")) {
		st = jw_stations_end_job(p->stations, t->session, t->job);
	}
	if(st) {
		publish_state(p, st);
	}
}
