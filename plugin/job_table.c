/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The job table inside the broker (core/jobs over the broker's API): the
 * retained state topic of each job (rendered by the table, published
 * here), the job records handed to the persistence writer (persist.h),
 * what a restart loads back, and the writer's health in the log. What an
 * event does to the table is decided by jw_jobs_step and carried out by
 * plugin/effects.c, which calls the functions here. Broker thread only;
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

void jw_table__persist(struct jw_plugin *p, const struct jw_job *j, const struct jw_clock *now)
{
	char key[2 * JW_ID_MAX + 2];
	size_t len = 0;
	char *rec;

	if(!p->persist || jw_job_key(j, key, sizeof(key)) < 0) {
		return;
	}
	rec = jw_job_record(j, now, &len);
	if(!rec || jw_persist_put(p->persist, key, rec, len)) {
		p->counters.persist_dropped++;
	}
	free(rec);
}

/*
 * jw_topic_format(buf, buflen, prefix, session, job, "state") for j, with
 * the ids' lengths the job keeps: four copies, no measuring. Returns the
 * length, or -1 when it does not fit (as jw_topic_format).
 */
static inline __attribute__((always_inline)) int state_topic(
        char *buf, size_t buflen, const char *prefix, const struct jw_job *j)
{
	static const char event[] = "/state";
	size_t plen = strlen(prefix);
	size_t slen = jw_job_session_len(j);
	size_t jlen = jw_job_id_len(j);
	size_t n = plen + 1 + slen + 1 + jlen + sizeof(event) - 1;

	if(n >= buflen || n > INT_MAX) {
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

/* Publishes json (the rendered state of j, NULL when rendering failed)
 * on topic as j's retained state; a finished job's copy expires after
 * plugin_opt_state_ttl so the retained store does not grow forever. */
static inline __attribute__((always_inline)) void publish_json(struct jw_plugin *p,
        const char *topic, const struct jw_job *j, const char *json, size_t len)
{
	mosquitto_property *props = NULL;
	char *payload;

	if(!json || len > INT32_MAX) {
		p->counters.state_failures++;
		return;
	}
	/* Copied once into the payload the broker takes over. */
	payload = mosquitto_malloc(len + 1);
	if(!payload) {
		p->counters.state_failures++;
		return;
	}
	memcpy(payload, json, len + 1);
	if(jw_job_finished(j) && p->opt.state_ttl > 0) {
		mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, p->opt.state_ttl);
	}
	if(jw_wake__publish(p, topic, (int)len, payload, 1, true, props)) {
		mosquitto_free(payload);
		mosquitto_property_free_all(&props);
		p->counters.state_failures++;
		return;
	}
	p->counters.state_published++;
}

void jw_table__publish_rendered(
        struct jw_plugin *p, const struct jw_job *j, const char *json, size_t len)
{
	char topic[512];

	if(state_topic(topic, sizeof(topic), p->opt.prefix, j) >= 0) {
		publish_json(p, topic, j, json, len);
	}
}

/* Out of line: its topic buffer would otherwise weigh on every event's
 * frame. */
__attribute__((noinline)) void jw_table__publish_state(
        struct jw_plugin *p, struct jw_job *j, const struct jw_clock *now)
{
	char topic[512];
	const char *json;
	size_t len = 0;

	jw_jobs_state_published(p->jobs, j, now);
	if(state_topic(topic, sizeof(topic), p->opt.prefix, j) < 0) {
		return;
	}
	/* Rendered into the table's reusable buffer, then copied once into
	 * the payload the broker takes over. */
	json = jw_jobs_state_render(p->jobs, j, &len);
	publish_json(p, topic, j, json, len);
}

/* Remembers j for jw_table__flush_held. Out of line: the will path
 * only. Out of memory, the record is written now. */
__attribute__((noinline)) void jw_table__hold(struct jw_plugin *p, const struct jw_job *j)
{
	char key[2 * JW_ID_MAX + 2];
	char *copy;

	if(jw_job_key(j, key, sizeof(key)) < 0) {
		return;
	}
	for(size_t i = 0; i < p->nheld_keys; i++) {
		if(!strcmp(p->held_keys[i], key)) {
			return;
		}
	}
	if(p->nheld_keys == p->capheld_keys) {
		size_t cap = p->capheld_keys ? p->capheld_keys * 2 : 8;
		char **grown = realloc(p->held_keys, cap * sizeof(*grown));
		if(!grown) {
			goto now;
		}
		p->held_keys = grown;
		p->capheld_keys = cap;
	}
	copy = strdup(key);
	if(!copy) {
		goto now;
	}
	p->held_keys[p->nheld_keys++] = copy;
	return;
now : {
	struct jw_clock now;
	jw_clock_now(&now);
	jw_table__persist(p, j, &now);
}
}

void jw_table__flush_held(struct jw_plugin *p)
{
	struct jw_clock now;

	if(p->nheld_keys == 0) {
		return;
	}
	jw_clock_now(&now);
	for(size_t i = 0; i < p->nheld_keys; i++) {
		char *slash = strchr(p->held_keys[i], '/');
		struct jw_job *j;

		/* Ids never contain '/': the key splits at its only one. */
		if(slash) {
			*slash = '\0';
			j = jw_jobs_find(p->jobs, p->held_keys[i], slash + 1);
			/* An evicted job's record is already being deleted. */
			if(j) {
				jw_table__persist(p, j, &now);
			}
		}
		free(p->held_keys[i]);
	}
	p->nheld_keys = 0;
}

void jw_table__drop_held(struct jw_plugin *p)
{
	for(size_t i = 0; i < p->nheld_keys; i++) {
		free(p->held_keys[i]);
	}
	free(p->held_keys);
	p->held_keys = NULL;
	p->nheld_keys = p->capheld_keys = 0;
}

struct republish_ctx {
	struct jw_plugin *p;
	struct jw_clock now;
};

static void republish_one(struct jw_job *j, void *arg)
{
	struct republish_ctx *c = arg;

	jw_table__publish_state(c->p, j, &c->now);
}

void jw_table__republish(struct jw_plugin *p, const struct jw_clock *now)
{
	struct republish_ctx c = {p, *now};

	jw_jobs_foreach(p->jobs, republish_one, &c);
	p->republished = true;
}

void jw_table__health(struct jw_plugin *p)
{
	struct jw_persist_stats st;
	struct jw_note notes[JW_NOTES_MAX];
	uint64_t dropped;
	size_t n;

	if(!p->persist) {
		return;
	}
	n = jw_persist_notes(p->persist, notes, JW_NOTES_MAX, &dropped);
	for(size_t i = 0; i < n; i++) {
		jw_log__note((int)notes[i].level, "", notes[i].text);
	}
	if(dropped) {
		mosquitto_log_printf(MOSQ_LOG_ERR,
		        "jobwire: %llu more damaged stretches of %s/jobs.log not logged one by one: see "
		        "persistence in $jobwire/stats",
		        (unsigned long long)dropped, p->opt.data_dir);
	}
	jw_persist_stats(p->persist, &st);
	/* Log transitions only, never once per record. */
	if(st.write_errors != p->persist_errors_seen) {
		if(!p->persist_failing) {
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: cannot write %s/jobs.log: %s; keeping %zu job records pending and "
			        "retrying",
			        p->opt.data_dir, strerror(st.last_errno), (size_t)st.pending);
		}
		p->persist_failing = true;
		p->persist_errors_seen = st.write_errors;
	} else if(p->persist_failing && st.pending == 0) {
		mosquitto_log_printf(
		        MOSQ_LOG_NOTICE, "jobwire: writing %s/jobs.log again", p->opt.data_dir);
		p->persist_failing = false;
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

	if(!p->opt.data_dir || jw_job_key(j, key, sizeof(key)) < 0) {
		return;
	}
	if(p->persist) {
		jw_persist_delete(p->persist, key);
		return;
	}
	if(p->nevicted_at_load == p->capevicted_at_load) {
		size_t cap = p->capevicted_at_load ? p->capevicted_at_load * 2 : 64;
		char **grown = realloc(p->evicted_at_load, cap * sizeof(*grown));
		if(!grown) {
			return;
		}
		p->evicted_at_load = grown;
		p->capevicted_at_load = cap;
	}
	p->evicted_at_load[p->nevicted_at_load] = strdup(key);
	if(p->evicted_at_load[p->nevicted_at_load]) {
		p->nevicted_at_load++;
	}
}

static void forget_evicted_at_load(struct jw_plugin *p)
{
	for(size_t i = 0; i < p->nevicted_at_load; i++) {
		if(p->persist) {
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
	if(jw_jobs_restore(p->jobs, val, len, &now, err, sizeof(err))) {
		mosquitto_log_printf(
		        MOSQ_LOG_WARNING, "jobwire: skipping unreadable job record %s: %s", key, err);
		p->counters.restore_failures++;
	}
	return 0;
}

/* A damaged stretch of jobs.log met at load. */
static void load_note_cb(enum jw_note_level level, const char *text, void *arg)
{
	(void)arg;
	jw_log__note((int)level, "", text);
}

int jw_table__init(struct jw_plugin *p)
{
	struct jw_persist_load_stats lst;
	struct jw_jobs_config cfg;
	struct jw_jobs_stats st;
	char err[512];

	memset(&cfg, 0, sizeof(cfg));
	cfg.max_jobs = p->opt.max_jobs;
	cfg.heartbeat_interval_s = p->opt.heartbeat_interval;
	cfg.state_max_rate = p->opt.state_max_rate;
	cfg.max_attempts = p->opt.max_attempts;
	cfg.history_events = p->opt.history_events;
	cfg.history_max_bytes = p->opt.history_max_bytes;
	cfg.on_evict = on_evict;
	cfg.on_evict_arg = p;
	p->jobs = jw_jobs_new(&cfg);
	if(!p->jobs) {
		return -1;
	}
	if(!p->opt.data_dir) {
		mosquitto_log_printf(MOSQ_LOG_WARNING, "jobwire: plugin_opt_data_dir not set: the job "
		                                       "table is not persisted and is lost on restart");
		return 0;
	}
	if(jw_persist_load(p->opt.data_dir, restore_cb, load_note_cb, p, &lst, err, sizeof(err))) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: cannot load the job table: %s", err);
		return -1;
	}
	p->counters.log_damaged_records += lst.damaged_records;
	p->counters.log_damaged_bytes += lst.damaged_bytes;
	p->counters.log_quarantined += lst.quarantined;
	p->counters.log_unkept += lst.unkept;
	jw_jobs_stats(p->jobs, &st);
	mosquitto_log_printf(MOSQ_LOG_INFO,
	        "jobwire: restored %zu jobs from %s/jobs.log (%zu running, %zu waiting, %zu complete, "
	        "%zu failed)",
	        st.jobs, p->opt.data_dir, st.by_status[JW_JOB_RUNNING], st.by_status[JW_JOB_WAITING],
	        st.by_status[JW_JOB_COMPLETE], st.by_status[JW_JOB_FAILED]);
	if(jw_persist_start(p->opt.data_dir, (enum jw_fsync_policy)p->opt.spool_fsync, &p->persist, err,
	           sizeof(err))) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: cannot start the job table writer: %s", err);
		forget_evicted_at_load(p);
		return -1;
	}
	forget_evicted_at_load(p);
	return 0;
}

void jw_table__cleanup(struct jw_plugin *p)
{
	/* Held changes came from wills sent at shutdown: the job table on
	 * disk stays as it was, so the workers carry on after a restart. */
	jw_table__drop_held(p);
	if(p->persist) {
		/* Everything put so far reaches the disk, or the deadline says
		 * how long shutdown may wait for it. */
		jw_persist_stop(p->persist, 2000);
		p->persist = NULL;
	}
	forget_evicted_at_load(p);
	jw_jobs_free(p->jobs);
	p->jobs = NULL;
}
