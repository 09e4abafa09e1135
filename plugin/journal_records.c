/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The journal's records, on the broker's side (docs/journal.md): builds
 * the record of each finished job from the job table and the event as it
 * is delivered, spools it (journal.h) before the MESSAGE callback returns
 * so the publisher's acknowledgement never precedes it, refuses terminal
 * events the spool has no room for, keeps a will's record for the next
 * tick, and starts and stops the journal. Its health (log lines, stats)
 * is in journal_health.c. Broker thread only.
 */
#include "plugin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include "broker_api.h"

#include "jobs/jobs.h"
#include "journal.h"
#include "journal_rec.h"
#include "persist.h"
#include "topic.h"

#define STOP_DEADLINE_MS 3000

static bool is_terminal(const char *type)
{
	return !strcmp(type, "complete") || !strcmp(type, "failed");
}

/* Whether type is in plugin_opt_journal_events. */
static bool wanted_event(const struct jw_plugin *p, const char *type)
{
	const char *list = p->opt.journal_events;
	size_t n = strlen(type);

	while(list && *list) {
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);

		if(len == n && !strncmp(list, type, n)) {
			return true;
		}
		list = comma ? comma + 1 : NULL;
	}
	return false;
}

bool jw_journal__wants(const struct jw_plugin *p, const char *type)
{
	return p->journal && (is_terminal(type) || wanted_event(p, type));
}

int jw_journal__init(struct jw_plugin *p)
{
	struct jw_journal_config cfg;
	char err[512];

	if(!p->opt.pg_conninfo) {
		mosquitto_log_printf(MOSQ_LOG_NOTICE,
		        "jobwire: plugin_opt_pg_conninfo not set: the PostgreSQL journal is off");
		return 0;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = p->opt.data_dir;
	cfg.conninfo = p->opt.pg_conninfo;
	cfg.fsync_policy = p->opt.spool_fsync;
	cfg.spool_max = p->opt.spool_max;
	if(jw_journal_open(&cfg, &p->journal, err, sizeof(err))) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: cannot start the journal: %s", err);
		return -1;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO,
	        "jobwire: journal on: spooling to %s/journal (node %s, spool_max %zu bytes), writing "
	        "to PostgreSQL",
	        p->opt.data_dir, p->opt.node_name, p->opt.spool_max);
	return 0;
}

void jw_journal__cleanup(struct jw_plugin *p)
{
	/* Held records came from wills sent at shutdown: not spooled. */
	jw_journal__drop_held(p);
	if(!p->journal) {
		return;
	}
	/* What PostgreSQL has not taken by the deadline stays spooled for the
	 * next start. */
	jw_journal_stop(p->journal, STOP_DEADLINE_MS);
	p->journal = NULL;
}

bool jw_journal__refuse(struct jw_plugin *p, const struct jw_topic *t, struct jw_verdict *v)
{
	struct jw_job *j;

	if(!p->journal || !is_terminal(t->event)) {
		return false;
	}
	/* A repeat for a finished job is answered by the job table. */
	j = jw_jobs_find(p->jobs, t->session, t->job);
	if(j && jw_job_finished(j)) {
		return false;
	}
	if(!jw_journal_full(p->journal, 4096)) {
		return false;
	}
	memset(v, 0, sizeof(*v));
	v->reason = JW_REASON_JOURNAL_FULL;
	snprintf(v->message, sizeof(v->message),
	        "journal spool full (plugin_opt_spool_max %zu bytes not yet in PostgreSQL): retry "
	        "later",
	        p->opt.spool_max);
	p->counters.journal_refused++;
	return true;
}

static int spool(struct jw_plugin *p, struct jw_journal_rec *r, struct jw_verdict *v)
{
	char key[2 * JW_ID_MAX + 4];
	size_t len = 0;
	char *text;
	int rc = 0;

	text = jw_journal_rec_encode(r, &len);
	snprintf(key, sizeof(key), "%s/%s", r->session, r->job);
	if(!text || jw_journal_append(p->journal, key, text, len) != 0) {
		int e = text ? errno : ENOMEM;
		if(v) {
			memset(v, 0, sizeof(*v));
			v->reason = JW_REASON_JOURNAL_FULL;
			snprintf(v->message, sizeof(v->message), "%s: retry later",
			        e == ENOSPC ? "journal spool full" : "journal spool not writable");
		}
		rc = -1;
	}
	free(text);
	return rc;
}

int jw_journal__record(struct jw_plugin *p, const struct jw_topic *t, const struct jw_who *who,
        const void *payload, size_t len, struct jw_verdict *v)
{
	struct jw_job_summary sum;
	struct jw_journal_rec r;
	struct jw_clock now;
	struct jw_job *j;
	bool terminal, extra;
	int rc = 0;

	if(!p->journal) {
		return 0;
	}
	terminal = is_terminal(t->event);
	extra = wanted_event(p, t->event);
	if(!terminal && !extra) {
		return 0;
	}
	j = jw_jobs_find(p->jobs, t->session, t->job);
	jw_clock_now(&now);
	memset(&r, 0, sizeof(r));
	r.session = t->session;
	r.job = t->job;
	r.type = t->event;
	r.event = payload;
	r.event_len = len;
	r.retryable = -1;
	r.client_id = who ? who->client_id : NULL;
	r.username = who ? who->username : NULL;
	r.node = p->opt.node_name;
	r.seq = j ? jw_job_seq(j) : 0;
	r.spooled_ms = now.real_ms;
	if(terminal && j && jw_job_summary(j, &sum)) {
		r.kind = JW_JOURNAL_FINISHED;
		r.error = sum.error;
		r.code = sum.code;
		r.result = sum.result;
		r.retryable = sum.retryable;
		r.has_started = sum.has_started;
		r.started_ms = sum.started_ms;
		r.finished_ms = sum.finished_ms;
		r.has_duration = sum.has_duration;
		r.duration_s = sum.duration_s;
		r.has_progress = sum.has_progress;
		r.progress = sum.progress;
		r.broker_generated = sum.broker_generated || !who;
		r.attempt = sum.attempt;
		rc = spool(p, &r, v);
		if(rc) {
			if(who && !who->late) {
				p->counters.journal_refused++;
			} else {
				p->counters.journal_lost++;
			}
		}
	}
	if(rc == 0 && extra) {
		r.kind = JW_JOURNAL_EVENT;
		/* Extra events are best effort: a full spool refuses terminal
		 * events, never progress. */
		spool(p, &r, NULL);
	}
	return rc;
}

/* A will's journal record, spooled at the next tick (plugin/will.c). */
struct jw_held_rec {
	struct jw_topic t;
	char *client_id;
	char *username;
	char *payload;
	size_t len;
};

static void held_free(struct jw_held_rec *h)
{
	free(h->client_id);
	free(h->username);
	free(h->payload);
}

void jw_journal__hold(struct jw_plugin *p, const struct jw_topic *t, const struct jw_who *who,
        const void *payload, size_t len)
{
	struct jw_held_rec *h;
	struct jw_verdict v;

	if(p->nheld_recs == p->capheld_recs) {
		size_t cap = p->capheld_recs ? p->capheld_recs * 2 : 8;
		struct jw_held_rec *grown = realloc(p->held_recs, cap * sizeof(*grown));
		if(!grown) {
			goto now;
		}
		p->held_recs = grown;
		p->capheld_recs = cap;
	}
	h = &p->held_recs[p->nheld_recs];
	memset(h, 0, sizeof(*h));
	h->t = *t;
	h->client_id = who->client_id ? strdup(who->client_id) : NULL;
	h->username = who->username ? strdup(who->username) : NULL;
	h->payload = malloc(len + 1);
	if((who->client_id && !h->client_id) || (who->username && !h->username) || !h->payload) {
		held_free(h);
		goto now;
	}
	if(len) {
		memcpy(h->payload, payload, len);
	}
	h->len = len;
	p->nheld_recs++;
	return;
now : {
	struct jw_who late = *who;

	late.late = true;
	(void)jw_journal__record(p, t, &late, payload, len, &v);
}
}

void jw_journal__flush_held(struct jw_plugin *p)
{
	for(size_t i = 0; i < p->nheld_recs; i++) {
		struct jw_held_rec *h = &p->held_recs[i];
		struct jw_who who = {h->client_id, h->username, true};
		struct jw_verdict v;

		if(jw_journal__record(p, &h->t, &who, h->payload, h->len, &v)) {
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: journal: could not spool the will of %s/%s: %s", h->t.session,
			        h->t.job, v.message);
		}
		held_free(h);
	}
	p->nheld_recs = 0;
}

void jw_journal__drop_held(struct jw_plugin *p)
{
	for(size_t i = 0; i < p->nheld_recs; i++) {
		held_free(&p->held_recs[i]);
	}
	free(p->held_recs);
	p->held_recs = NULL;
	p->nheld_recs = p->capheld_recs = 0;
}

void jw_journal__station(struct jw_plugin *p, const char *station, bool online, const void *status,
        size_t len, bool broker, const char *client_id, int64_t at_ms)
{
	struct jw_journal_rec r;

	if(!p->journal) {
		return;
	}
	memset(&r, 0, sizeof(r));
	r.kind = JW_JOURNAL_STATION;
	r.session = station;
	r.job = online ? "online" : "offline";
	r.type = "station";
	r.event = status;
	r.event_len = len;
	r.retryable = -1;
	r.client_id = client_id;
	r.node = p->opt.node_name;
	r.broker_generated = broker;
	r.spooled_ms = at_ms;
	/* Best effort, like the extra events: a station's status is never
	 * refused for a full spool. */
	if(spool(p, &r, NULL)) {
		p->counters.journal_lost++;
	}
}
