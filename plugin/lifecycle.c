/*
 * The job table inside the broker: folds every accepted event into the
 * job's lifecycle, publishes the retained state topic (rate limited per
 * job, urgent changes at once), fails stalled jobs from the tick, and
 * hands each changed job to the persistence writer. Broker thread only;
 * the writer thread is behind persist.h.
 */
#include "plugin.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include "broker_api.h"

#include "jobs/jobs.h"
#include "persist.h"
#include "topic.h"

static void persist_job(struct jw_plugin *p, const struct jw_job *j, const struct jw_clock *now)
{
	char key[2 * JW_ID_MAX + 2];
	size_t len = 0;
	char *rec;

	if(!p->persist || jw_job_key(j, key, sizeof(key)) < 0){
		return;
	}
	rec = jw_job_record(j, now, &len);
	if(!rec || jw_persist_put(p->persist, key, rec, len)){
		p->counters.persist_dropped++;
	}
	free(rec);
}

/*
 * jw_topic_format(buf, buflen, prefix, session, job, "state") for j, with
 * the ids' lengths the job keeps: four copies, no measuring. Returns the
 * length, or -1 when it does not fit (as jw_topic_format).
 */
static int state_topic(char *buf, size_t buflen, const char *prefix, const struct jw_job *j)
{
	static const char event[] = "/state";
	size_t plen = strlen(prefix);
	size_t slen = jw_job_session_len(j);
	size_t jlen = jw_job_id_len(j);
	size_t n = plen + 1 + slen + 1 + jlen + sizeof(event) - 1;

	if(n >= buflen || n > INT_MAX){
		return -1;
	}
	memcpy(buf, prefix, plen);
	buf[plen] = '/';
	memcpy(buf + plen + 1, jw_job_session(j), slen);
	buf[plen + 1 + slen] = '/';
	memcpy(buf + plen + 2 + slen, jw_job_id(j), jlen);
	memcpy(buf + plen + 2 + slen + jlen, event, sizeof(event));
	return (int)n;
}

/* Publishes j's retained state; a finished job's copy expires after
 * plugin_opt_state_ttl so the retained store does not grow forever. Out
 * of line: its topic buffer would otherwise weigh on every event's frame
 * (state_changed and the urgent flush are inlined into the apply). */
static __attribute__((noinline)) void publish_state(struct jw_plugin *p, struct jw_job *j,
		const struct jw_clock *now)
{
	char topic[512];
	mosquitto_property *props = NULL;
	size_t len = 0;
	const char *json;
	char *payload;

	jw_jobs_state_published(p->jobs, j, now);
	if(state_topic(topic, sizeof(topic), p->opt.prefix, j) < 0){
		return;
	}
	/* Rendered into the table's reusable buffer, then copied once into
	 * the payload the broker takes over. */
	json = jw_jobs_state_render(p->jobs, j, &len);
	if(!json || len > INT32_MAX){
		p->counters.state_failures++;
		return;
	}
	payload = mosquitto_malloc(len + 1);
	if(!payload){
		p->counters.state_failures++;
		return;
	}
	memcpy(payload, json, len + 1);
	if(jw_job_finished(j) && p->opt.state_ttl > 0){
		mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, p->opt.state_ttl);
	}
	if(mosquitto_broker_publish(NULL, topic, (int)len, payload, 1, true, props)){
		mosquitto_free(payload);
		mosquitto_property_free_all(&props);
		p->counters.state_failures++;
		return;
	}
	p->counters.state_published++;
}

/* Before an urgent change, a held (rate-limited) update goes out first so
 * subscribers see the states in order. */
static void flush_before_urgent(struct jw_plugin *p, const char *session, const char *job,
                                const char *type, const struct jw_clock *now)
{
	struct jw_job *j;

	/* The first letter rules out nearly every event without a call. */
	if((type[0] != 'c' && type[0] != 'f' && type[0] != 'v') || !jw_jobs_type_is_urgent(type)){
		return;
	}
	j = jw_jobs_find(p->jobs, session, job);
	if(j && jw_jobs_state_held(j)){
		publish_state(p, j, now);
	}
}

/* After an accepted change: publish now or hold (latest wins). */
static void state_changed(struct jw_plugin *p, struct jw_job *j, bool urgent, const struct jw_clock *now)
{
	switch(jw_jobs_state_note(p->jobs, j, urgent, now)){
		case JW_STATE_PUBLISH:
			publish_state(p, j, now);
			break;
		case JW_STATE_COALESCED:
			p->counters.state_coalesced++;
			break;
		case JW_STATE_HOLD:
			break;
	}
}

/* Remembers j for jw_lifecycle__flush_held. Out of line: the will path
 * only. Out of memory, the record is written now. */
static __attribute__((noinline)) void hold_job(struct jw_plugin *p, const struct jw_job *j)
{
	char key[2 * JW_ID_MAX + 2];
	char *copy;

	if(jw_job_key(j, key, sizeof(key)) < 0){
		return;
	}
	for(size_t i = 0; i < p->nheld_keys; i++){
		if(!strcmp(p->held_keys[i], key)){
			return;
		}
	}
	if(p->nheld_keys == p->capheld_keys){
		size_t cap = p->capheld_keys ? p->capheld_keys * 2 : 8;
		char **grown = realloc(p->held_keys, cap * sizeof(*grown));
		if(!grown){
			goto now;
		}
		p->held_keys = grown;
		p->capheld_keys = cap;
	}
	copy = strdup(key);
	if(!copy){
		goto now;
	}
	p->held_keys[p->nheld_keys++] = copy;
	return;
now:
	{
		struct jw_clock now;
		jw_clock_now(&now);
		persist_job(p, j, &now);
	}
}

void jw_lifecycle__flush_held(struct jw_plugin *p)
{
	struct jw_clock now;

	if(p->nheld_keys == 0){
		return;
	}
	jw_clock_now(&now);
	for(size_t i = 0; i < p->nheld_keys; i++){
		char *slash = strchr(p->held_keys[i], '/');
		struct jw_job *j;

		/* Ids never contain '/': the key splits at its only one. */
		if(slash){
			*slash = '\0';
			j = jw_jobs_find(p->jobs, p->held_keys[i], slash + 1);
			/* An evicted job's record is already being deleted. */
			if(j){
				persist_job(p, j, &now);
			}
		}
		free(p->held_keys[i]);
	}
	p->nheld_keys = 0;
}

void jw_lifecycle__drop_held(struct jw_plugin *p)
{
	for(size_t i = 0; i < p->nheld_keys; i++){
		free(p->held_keys[i]);
	}
	free(p->held_keys);
	p->held_keys = NULL;
	p->nheld_keys = p->capheld_keys = 0;
}

int jw_lifecycle__apply(struct jw_plugin *p, const struct jw_topic *t,
                        const struct jw_jnode *ev, const void *raw, size_t rawlen,
                        const struct jw_clock *now, struct jw_verdict *v)
{
	struct jw_apply_result res;

	flush_before_urgent(p, t->session, t->job, t->event, now);
	if(jw_jobs_apply_node(p->jobs, t->session, t->job, t->event, ev, raw, rawlen, now, &res, v)){
		return JW_APPLY_REJECT; /* out of memory: v says internal */
	}
	switch(res.outcome){
		case JW_APPLY_ACCEPT:
			state_changed(p, res.job, res.urgent, now);
			/* Checked here: persist_job's frame (a key buffer) is not
			 * worth setting up for every event without a data dir. */
			if(p->persist){
				if(p->hold_durable){
					hold_job(p, res.job);
				}else{
					persist_job(p, res.job, now);
				}
			}
			break;
		case JW_APPLY_DUPLICATE:
			p->counters.duplicates++;
			break;
		default:
			break;
	}
	return (int)res.outcome;
}

/* Fails one stalled job the way a worker's failed event would. */
static void fail_stalled(struct jw_plugin *p, struct jw_job *j, const struct jw_clock *now)
{
	char topic[512], ts[40];
	char session[JW_ID_MAX + 1], job[JW_ID_MAX + 1];
	struct json_object *ev = jw_job_stall_event(j, now);
	struct jw_apply_result res;
	struct jw_verdict v;
	const char *text;
	size_t len;
	char *payload;

	if(!ev){
		return;
	}
	snprintf(session, sizeof(session), "%s", jw_job_session(j));
	snprintf(job, sizeof(job), "%s", jw_job_id(j));
	jw_rfc3339_format_ms(ts, sizeof(ts), now->real_ms);
	json_object_object_add(ev, "ts", json_object_new_string(ts));
	text = json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = text ? strlen(text) : 0;
	if(!text){
		goto out;
	}
	if(jw_jobs_state_held(j)){
		publish_state(p, j, now);
	}
	memset(&res, 0, sizeof(res));
	if(jw_jobs_apply(p->jobs, session, job, "failed", ev, text, len, now, &res, &v)
			|| res.outcome != JW_APPLY_ACCEPT){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "jobwire: could not fail stalled job %s/%s: %s",
				session, job, v.message);
		goto out;
	}
	mosquitto_log_printf(MOSQ_LOG_NOTICE, "jobwire: job %s/%s failed: heartbeat_timeout (%s)",
			session, job, json_object_get_string(json_object_object_get(ev, "error")));
	if(jw_topic_format(topic, sizeof(topic), p->opt.prefix, session, job, "failed") >= 0
			&& (payload = mosquitto_malloc(len + 1)) != NULL){
		memcpy(payload, text, len + 1);
		if(mosquitto_broker_publish(NULL, topic, (int)len, payload, 1, false, NULL)){
			mosquitto_free(payload);
		}
	}
	state_changed(p, res.job, true, now);
	persist_job(p, res.job, now);
	{
		/* Broker-generated: nobody to refuse, so a full spool is counted
		 * (journal.lost) and logged by the stats. */
		struct jw_topic t;
		memset(&t, 0, sizeof(t));
		snprintf(t.session, sizeof(t.session), "%s", session);
		snprintf(t.job, sizeof(t.job), "%s", job);
		snprintf(t.event, sizeof(t.event), "failed");
		if(jw_journal__record(p, &t, NULL, text, len, &v)){
			mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: journal: could not spool the failure of %s/%s: %s",
					session, job, v.message);
		}
	}
out:
	json_object_put(ev);
}

struct republish_ctx {
	struct jw_plugin *p;
	struct jw_clock now;
};

static void republish_one(struct jw_job *j, void *arg)
{
	struct republish_ctx *c = arg;

	publish_state(c->p, j, &c->now);
}

void jw_lifecycle__log_note(int level, const char *prefix, const char *text)
{
	int mosq = level == JW_NOTE_ERROR ? MOSQ_LOG_ERR
	           : level == JW_NOTE_WARNING ? MOSQ_LOG_WARNING : MOSQ_LOG_INFO;

	mosquitto_log_printf(mosq, "jobwire: %s%s", prefix, text);
}

static void log_persist_health(struct jw_plugin *p)
{
	struct jw_persist_stats st;
	struct jw_note notes[JW_NOTES_MAX];
	uint64_t dropped;
	size_t n;

	if(!p->persist){
		return;
	}
	n = jw_persist_notes(p->persist, notes, JW_NOTES_MAX, &dropped);
	for(size_t i = 0; i < n; i++){
		jw_lifecycle__log_note((int)notes[i].level, "", notes[i].text);
	}
	if(dropped){
		mosquitto_log_printf(MOSQ_LOG_ERR,
				"jobwire: %llu more damaged stretches of %s/jobs.log not logged one by one: see persistence in $jobwire/stats",
				(unsigned long long)dropped, p->opt.data_dir);
	}
	jw_persist_stats(p->persist, &st);
	/* Log transitions only, never once per record. */
	if(st.write_errors != p->persist_errors_seen){
		if(!p->persist_failing){
			mosquitto_log_printf(MOSQ_LOG_ERR,
					"jobwire: cannot write %s/jobs.log: %s; keeping %zu job records pending and retrying",
					p->opt.data_dir, strerror(st.last_errno), (size_t)st.pending);
		}
		p->persist_failing = true;
		p->persist_errors_seen = st.write_errors;
	}else if(p->persist_failing && st.pending == 0){
		mosquitto_log_printf(MOSQ_LOG_NOTICE, "jobwire: writing %s/jobs.log again", p->opt.data_dir);
		p->persist_failing = false;
	}
}

/* Whether a tick at monotonic time mono_ms has anything to do. */
static bool tick_due(const struct jw_plugin *p, int64_t mono_ms)
{
	return !p->republished || mono_ms >= jw_jobs_next_due(p->jobs) || mono_ms >= p->next_health_ms
	        || (p->opt.stats_interval > 0 && mono_ms >= p->next_stats_ms);
}

void jw_lifecycle__tick(struct jw_plugin *p)
{
	struct jw_clock now;
	struct jw_job *j;

	/* Runs on every pass of the broker's loop, nearly always with
	 * nothing due: one clock read and the timers' earliest deadline
	 * settle that; the wall clock is read only when there is work. */
	now.mono_ms = jw_clock_ms(CLOCK_MONOTONIC);
	if(!tick_due(p, now.mono_ms)){
		return;
	}
	now.real_ms = jw_clock_ms(CLOCK_REALTIME);
	if(!p->republished){
		/* The broker's retained store may have been lost with the
		 * restart: put back the state of every job we know. */
		struct republish_ctx c = {p, now};
		jw_jobs_foreach(p->jobs, republish_one, &c);
		p->republished = true;
	}
	while((j = jw_jobs_pop_state_due(p->jobs, &now)) != NULL){
		publish_state(p, j, &now);
	}
	while((j = jw_jobs_pop_stalled(p->jobs, &now)) != NULL){
		fail_stalled(p, j, &now);
	}
	if(now.mono_ms >= p->next_health_ms){
		p->next_health_ms = now.mono_ms + 1000;
		log_persist_health(p);
		jw_journal__tick(p);
	}
	if(p->opt.stats_interval > 0 && now.mono_ms >= p->next_stats_ms){
		p->next_stats_ms = now.mono_ms + (int64_t)(p->opt.stats_interval * 1000);
		jw_stats__publish(p, &now);
	}
}

/*
 * A finished job evicted to make room: its record must go from the log
 * too, or it would come back at the next start. Evictions while loading
 * happen before the writer exists and are replayed once it runs. Its
 * retained state expires by itself (plugin_opt_state_ttl).
 */
static void on_evict(const struct jw_job *j, void *arg)
{
	struct jw_plugin *p = arg;
	char key[2 * JW_ID_MAX + 2];

	if(!p->opt.data_dir || jw_job_key(j, key, sizeof(key)) < 0){
		return;
	}
	if(p->persist){
		jw_persist_delete(p->persist, key);
		return;
	}
	if(p->nevicted_at_load == p->capevicted_at_load){
		size_t cap = p->capevicted_at_load ? p->capevicted_at_load * 2 : 64;
		char **grown = realloc(p->evicted_at_load, cap * sizeof(*grown));
		if(!grown){
			return;
		}
		p->evicted_at_load = grown;
		p->capevicted_at_load = cap;
	}
	p->evicted_at_load[p->nevicted_at_load] = strdup(key);
	if(p->evicted_at_load[p->nevicted_at_load]){
		p->nevicted_at_load++;
	}
}

static void forget_evicted_at_load(struct jw_plugin *p)
{
	for(size_t i = 0; i < p->nevicted_at_load; i++){
		if(p->persist){
			jw_persist_delete(p->persist, p->evicted_at_load[i]);
		}
		free(p->evicted_at_load[i]);
	}
	free(p->evicted_at_load);
	p->evicted_at_load = NULL;
	p->nevicted_at_load = p->capevicted_at_load = 0;
}

static int restore_cb(const char *key, const void *val, size_t len, void *arg)
{
	struct jw_plugin *p = arg;
	struct jw_clock now;
	char err[256];

	jw_clock_now(&now);
	if(jw_jobs_restore(p->jobs, val, len, &now, err, sizeof(err))){
		mosquitto_log_printf(MOSQ_LOG_WARNING, "jobwire: skipping unreadable job record %s: %s", key, err);
		p->counters.restore_failures++;
	}
	return 0;
}

/* A damaged stretch of jobs.log met at load. */
static void load_note_cb(enum jw_note_level level, const char *text, void *arg)
{
	(void)arg;
	jw_lifecycle__log_note((int)level, "", text);
}

int jw_lifecycle__init(struct jw_plugin *p)
{
	struct jw_persist_load_stats lst;
	struct jw_jobs_config cfg;
	struct jw_jobs_stats st;
	char err[512];

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_jobs = p->opt.max_jobs;
	cfg.heartbeat_interval_s = p->opt.heartbeat_interval;
	cfg.state_max_rate = p->opt.state_max_rate;
	cfg.on_evict = on_evict;
	cfg.on_evict_arg = p;
	p->jobs = jw_jobs_new(&cfg);
	if(!p->jobs){
		return -1;
	}
	if(!p->opt.data_dir){
		mosquitto_log_printf(MOSQ_LOG_WARNING,
				"jobwire: plugin_opt_data_dir not set: the job table is not persisted and is lost on restart");
		return 0;
	}
	if(jw_persist_load(p->opt.data_dir, restore_cb, load_note_cb, p, &lst, err, sizeof(err))){
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: cannot load the job table: %s", err);
		return -1;
	}
	p->counters.log_damaged_records += lst.damaged_records;
	p->counters.log_damaged_bytes += lst.damaged_bytes;
	p->counters.log_quarantined += lst.quarantined;
	p->counters.log_unkept += lst.unkept;
	jw_jobs_stats(p->jobs, &st);
	mosquitto_log_printf(MOSQ_LOG_INFO,
			"jobwire: restored %zu jobs from %s/jobs.log (%zu running, %zu waiting, %zu complete, %zu failed)",
			st.jobs, p->opt.data_dir, st.by_status[JW_JOB_RUNNING], st.by_status[JW_JOB_WAITING],
			st.by_status[JW_JOB_COMPLETE], st.by_status[JW_JOB_FAILED]);
	if(jw_persist_start(p->opt.data_dir, (enum jw_fsync_policy)p->opt.spool_fsync, &p->persist,
				err, sizeof(err))){
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: cannot start the job table writer: %s", err);
		forget_evicted_at_load(p);
		return -1;
	}
	forget_evicted_at_load(p);
	return 0;
}

void jw_lifecycle__cleanup(struct jw_plugin *p)
{
	/* Held changes came from wills sent at shutdown: the job table on
	 * disk stays as it was, so the workers carry on after a restart. */
	jw_lifecycle__drop_held(p);
	if(p->persist){
		/* Everything put so far reaches the disk, or the deadline says
		 * how long shutdown may wait for it. */
		jw_persist_stop(p->persist, 2000);
		p->persist = NULL;
	}
	forget_evicted_at_load(p);
	jw_jobs_free(p->jobs);
	p->jobs = NULL;
}
