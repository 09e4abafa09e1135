/*
 * The broker side of the PostgreSQL journal (docs/journal.md): builds the
 * record of each finished job from the job table and the event as it is
 * delivered, spools it (journal.h) before the MESSAGE callback returns so
 * the publisher's acknowledgement never precedes it, refuses terminal
 * events the spool has no room for, and turns the journal thread's state
 * into log lines (once per change) and the stats message. Broker thread
 * only.
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

	while(list && *list){
		const char *comma = strchr(list, ',');
		size_t len = comma ? (size_t)(comma - list) : strlen(list);

		if(len == n && !strncmp(list, type, n)){
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

	if(!p->opt.pg_conninfo){
		mosquitto_log_printf(MOSQ_LOG_NOTICE,
				"jobwire: plugin_opt_pg_conninfo not set: the PostgreSQL journal is off");
		return 0;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = p->opt.data_dir;
	cfg.conninfo = p->opt.pg_conninfo;
	cfg.fsync_policy = p->opt.spool_fsync;
	cfg.spool_max = p->opt.spool_max;
	if(jw_journal_open(&cfg, &p->journal, err, sizeof(err))){
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: cannot start the journal: %s", err);
		return -1;
	}
	mosquitto_log_printf(MOSQ_LOG_INFO,
			"jobwire: journal on: spooling to %s/journal (node %s, spool_max %zu bytes), writing to PostgreSQL",
			p->opt.data_dir, p->opt.node_name, p->opt.spool_max);
	return 0;
}

void jw_journal__cleanup(struct jw_plugin *p)
{
	/* Held records came from wills sent at shutdown: not spooled. */
	jw_journal__drop_held(p);
	if(!p->journal){
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

	if(!p->journal || !is_terminal(t->event)){
		return false;
	}
	/* A repeat for a finished job is answered by the job table. */
	j = jw_jobs_find(p->jobs, t->session, t->job);
	if(j && jw_job_finished(j)){
		return false;
	}
	if(!jw_journal_full(p->journal, 4096)){
		return false;
	}
	memset(v, 0, sizeof(*v));
	v->reason = JW_REASON_JOURNAL_FULL;
	snprintf(v->message, sizeof(v->message),
			"journal spool full (plugin_opt_spool_max %zu bytes not yet in PostgreSQL): retry later",
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
	if(!text || jw_journal_append(p->journal, key, text, len) != 0){
		int e = text ? errno : ENOMEM;
		if(v){
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

int jw_journal__record(struct jw_plugin *p, const struct jw_topic *t,
                       const struct jw_who *who, const void *payload,
                       size_t len, struct jw_verdict *v)
{
	struct jw_job_summary sum;
	struct jw_journal_rec r;
	struct jw_clock now;
	struct jw_job *j;
	bool terminal, extra;
	int rc = 0;

	if(!p->journal){
		return 0;
	}
	terminal = is_terminal(t->event);
	extra = wanted_event(p, t->event);
	if(!terminal && !extra){
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
	if(terminal && j && jw_job_summary(j, &sum)){
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
		rc = spool(p, &r, v);
		if(rc){
			if(who && !who->late){
				p->counters.journal_refused++;
			}else{
				p->counters.journal_lost++;
			}
		}
	}
	if(rc == 0 && extra){
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

	if(p->nheld_recs == p->capheld_recs){
		size_t cap = p->capheld_recs ? p->capheld_recs * 2 : 8;
		struct jw_held_rec *grown = realloc(p->held_recs, cap * sizeof(*grown));
		if(!grown){
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
	if((who->client_id && !h->client_id) || (who->username && !h->username) || !h->payload){
		held_free(h);
		goto now;
	}
	if(len){
		memcpy(h->payload, payload, len);
	}
	h->len = len;
	p->nheld_recs++;
	return;
now:
	{
		struct jw_who late = *who;

		late.late = true;
		(void)jw_journal__record(p, t, &late, payload, len, &v);
	}
}

void jw_journal__flush_held(struct jw_plugin *p)
{
	for(size_t i = 0; i < p->nheld_recs; i++){
		struct jw_held_rec *h = &p->held_recs[i];
		struct jw_who who = {h->client_id, h->username, true};
		struct jw_verdict v;

		if(jw_journal__record(p, &h->t, &who, h->payload, h->len, &v)){
			mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: journal: could not spool the will of %s/%s: %s",
					h->t.session, h->t.job, v.message);
		}
		held_free(h);
	}
	p->nheld_recs = 0;
}

void jw_journal__drop_held(struct jw_plugin *p)
{
	for(size_t i = 0; i < p->nheld_recs; i++){
		held_free(&p->held_recs[i]);
	}
	free(p->held_recs);
	p->held_recs = NULL;
	p->nheld_recs = p->capheld_recs = 0;
}

static const char *state_name(enum jw_journal_state s)
{
	switch(s){
		case JW_JOURNAL_UP: return "up";
		case JW_JOURNAL_DOWN: return "down";
		default: return "connecting";
	}
}

void jw_journal__tick(struct jw_plugin *p)
{
	struct jw_journal_stats st;
	struct jw_note notes[JW_NOTES_MAX];
	uint64_t dropped;
	size_t n;
	char err[256];

	if(!p->journal){
		return;
	}
	/* Damage, a damaged checkpoint, stray files: one line each. */
	n = jw_journal_notes(p->journal, notes, JW_NOTES_MAX, &dropped);
	for(size_t i = 0; i < n; i++){
		jw_log__note((int)notes[i].level, "journal: ", notes[i].text);
	}
	if(dropped){
		mosquitto_log_printf(MOSQ_LOG_WARNING,
				"jobwire: journal: %llu more lines about damaged or stray files in %s/journal not logged one by one: see journal in $jobwire/stats",
				(unsigned long long)dropped, p->opt.data_dir);
	}
	jw_journal_stats(p->journal, &st);
	/* Log transitions only, never once per record. */
	if(st.state_changes != p->journal_changes_seen){
		p->journal_changes_seen = st.state_changes;
		if(st.state == JW_JOURNAL_UP){
			mosquitto_log_printf(MOSQ_LOG_NOTICE,
					"jobwire: journal: writing to PostgreSQL (%llu bytes spooled to catch up)",
					(unsigned long long)st.pending_bytes);
		}else if(st.state == JW_JOURNAL_DOWN){
			jw_journal_last_error(p->journal, err, sizeof(err));
			mosquitto_log_printf(MOSQ_LOG_ERR,
					"jobwire: journal: PostgreSQL unavailable (%s); spooling to %s/journal (%llu bytes pending) and retrying",
					err[0] ? err : "unknown error", p->opt.data_dir,
					(unsigned long long)st.pending_bytes);
		}
	}
	if(st.replay_done && !p->journal_replay_logged){
		p->journal_replay_logged = true;
		mosquitto_log_printf(MOSQ_LOG_INFO, "jobwire: journal: the spool left by the previous run is in PostgreSQL");
	}
	if(st.dead_letters != p->journal_dead_seen){
		char *detail;

		jw_journal_last_error(p->journal, err, sizeof(err));
		/* PostgreSQL's DETAIL repeats the row: the file has it. */
		if((detail = strstr(err, " DETAIL:")) != NULL){
			*detail = '\0';
		}
		mosquitto_log_printf(MOSQ_LOG_ERR,
				"jobwire: journal: PostgreSQL refused %llu record(s) for good; kept in %s/journal-dead-letter.jsonl (latest: %s)",
				(unsigned long long)(st.dead_letters - p->journal_dead_seen), p->opt.data_dir,
				err[0] ? err : "see the file");
		p->journal_dead_seen = st.dead_letters;
	}
}

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v));
}

struct json_object *jw_journal__stats_json(struct jw_plugin *p, const struct jw_clock *now)
{
	struct json_object *o = json_object_new_object();
	struct jw_journal_stats st;

	if(!o){
		return NULL;
	}
	json_object_object_add(o, "enabled", json_object_new_boolean(p->journal != NULL));
	if(p->journal){
		jw_journal_stats(p->journal, &st);
		json_object_object_add(o, "state", json_object_new_string(state_name(st.state)));
		add_u64(o, "spooled", st.spooled);
		add_u64(o, "committed", st.committed);
		add_u64(o, "dead_letters", st.dead_letters);
		add_u64(o, "pending_bytes", st.pending_bytes);
		add_u64(o, "spool_bytes", st.spool_bytes);
		add_u64(o, "spool_max", p->opt.spool_max);
		add_u64(o, "lag_ms", st.oldest_ms > 0 && now->real_ms > st.oldest_ms
				? (uint64_t)(now->real_ms - st.oldest_ms) : 0);
		add_u64(o, "write_errors", st.write_errors);
		add_u64(o, "sync_errors", st.sync_errors);
		add_u64(o, "damaged_records", st.damaged_records);
		add_u64(o, "damaged_bytes", st.damaged_bytes);
		add_u64(o, "quarantine_files", st.quarantined);
		add_u64(o, "quarantine_failures", st.unkept);
		add_u64(o, "checkpoint_damaged", st.checkpoint_damaged);
		add_u64(o, "checkpoint_errors", st.checkpoint_errors);
		add_u64(o, "stray_files", st.strays);
	}
	add_u64(o, "refused", p->counters.journal_refused);
	add_u64(o, "lost", p->counters.journal_lost);
	return o;
}
