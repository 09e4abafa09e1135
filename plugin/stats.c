/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The retained stats message on $jobwire/stats: counters since start,
 * the job table's shape and the persistence writer's health, published
 * from the tick every plugin_opt_stats_interval seconds.
 */
#include "plugin.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include "broker_api.h"

#include "jobs/jobs.h"
#include "persist.h"
#include "schemaset.h"

static void add_u64(struct json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v));
}

static struct json_object *events_json(const struct jw_counters *c)
{
	struct json_object *o = json_object_new_object();
	struct json_object *acc = json_object_new_object();
	struct json_object *rej = json_object_new_object();
	struct json_object *why = json_object_new_object();

	add_u64(o, "accepted", c->accepted);
	add_u64(o, "rejected", c->rejected);
	add_u64(o, "duplicates", c->duplicates);
	add_u64(o, "ts_added", c->ts_added);
	add_u64(o, "wills_checked", c->wills_checked);
	add_u64(o, "notices", c->notices_sent);
	for(size_t i = 0; i < c->ntypes; i++) {
		add_u64(acc, c->types[i].type, c->types[i].accepted);
		add_u64(rej, c->types[i].type, c->types[i].rejected);
	}
	for(int r = JW_REASON_NONE + 1; r < JW_REASON__COUNT; r++) {
		if(c->by_reason[r]) {
			add_u64(why, jw_reason_name((enum jw_reason)r), c->by_reason[r]);
		}
	}
	json_object_object_add(o, "accepted_by_type", acc);
	json_object_object_add(o, "rejected_by_type", rej);
	json_object_object_add(o, "rejected_by_reason", why);
	return o;
}

static struct json_object *jobs_json(const struct jw_plugin *p)
{
	struct json_object *o = json_object_new_object();
	struct jw_jobs_stats st;

	jw_jobs_stats(p->jobs, &st);
	add_u64(o, "total", st.jobs);
	for(int s = 0; s < JW_JOB__STATUS_COUNT; s++) {
		add_u64(o, jw_job_status_name((enum jw_job_status)s), st.by_status[s]);
	}
	add_u64(o, "stalled", st.stalled);
	add_u64(o, "evicted", st.evicted);
	add_u64(o, "max", p->opt.max_jobs);
	add_u64(o, "memory_bytes", st.memory_bytes);
	/* Each job's history (history.c): part of memory_bytes. */
	add_u64(o, "history_events", st.history_events);
	add_u64(o, "history_bytes", st.history_bytes);
	add_u64(o, "history_shed", st.history_shed);
	add_u64(o, "history_requests", p->counters.history_requests);
	add_u64(o, "history_answers", p->counters.history_answers);
	add_u64(o, "history_failures", p->counters.history_failures);
	return o;
}

static struct json_object *persist_json(const struct jw_plugin *p)
{
	struct json_object *o = json_object_new_object();
	struct jw_persist_stats st;

	json_object_object_add(o, "enabled", json_object_new_boolean(p->persist != NULL));
	memset(&st, 0, sizeof(st));
	if(p->persist) {
		jw_persist_stats(p->persist, &st);
		add_u64(o, "pending", st.pending);
		add_u64(o, "bytes_written", st.bytes_written);
		add_u64(o, "log_bytes", st.log_bytes);
		add_u64(o, "write_errors", st.write_errors);
	}
	add_u64(o, "dropped", p->counters.persist_dropped);
	add_u64(o, "restore_failures", p->counters.restore_failures);
	/* Damage skipped in jobs.log: at load and by the writer since. */
	add_u64(o, "damaged_records", p->counters.log_damaged_records + st.damaged_records);
	add_u64(o, "damaged_bytes", p->counters.log_damaged_bytes + st.damaged_bytes);
	add_u64(o, "quarantine_files", p->counters.log_quarantined + st.quarantined);
	add_u64(o, "quarantine_failures", p->counters.log_unkept + st.unkept);
	return o;
}

void jw_stats__publish(struct jw_plugin *p, const struct jw_clock *now)
{
	struct json_object *o = json_object_new_object();
	struct json_object *state = json_object_new_object();
	struct json_object *schemas = json_object_new_object();
	char ts[40];
	const char *text;
	size_t len;
	char *payload;

	if(!o || !state || !schemas) {
		json_object_put(o);
		json_object_put(state);
		json_object_put(schemas);
		return;
	}
	jw_rfc3339_format_ms(ts, sizeof(ts), now->real_ms);
	json_object_object_add(o, "type", json_object_new_string("stats"));
	json_object_object_add(o, "ts", json_object_new_string(ts));
	add_u64(o, "uptime_s", (uint64_t)((now->mono_ms - p->started_mono_ms) / 1000));
	json_object_object_add(o, "events", events_json(&p->counters));
	json_object_object_add(o, "jobs", jobs_json(p));
	add_u64(state, "published", p->counters.state_published);
	add_u64(state, "coalesced", p->counters.state_coalesced);
	add_u64(state, "failures", p->counters.state_failures);
	add_u64(state, "loop_wakes", p->wake.wakes);
	json_object_object_add(o, "state", state);
	json_object_object_add(o, "persistence", persist_json(p));
	json_object_object_add(o, "journal", jw_journal__stats_json(p, now));
	add_u64(schemas, "types", jw_schemaset_count(p->schemas));
	add_u64(schemas, "reloads", p->counters.reloads);
	add_u64(schemas, "reload_failures", p->counters.reload_failures);
	json_object_object_add(o, "schemas", schemas);
	if(p->auth) {
		struct json_object *auth = json_object_new_object();
		uint64_t accepted, refused, expired, id_refused;
		size_t connected, held;

		if(auth) {
			jw_auth__stats(p, &accepted, &refused, &expired, &connected);
			add_u64(auth, "accepted", accepted);
			add_u64(auth, "refused", refused);
			add_u64(auth, "expired_disconnects", expired);
			add_u64(auth, "connected", connected);
			jw_auth__id_stats(p, &id_refused, &held);
			add_u64(auth, "client_id_refused", id_refused);
			add_u64(auth, "kept_sessions", held);
			json_object_object_add(o, "auth", auth);
		}
	}

	text = json_object_to_json_string_ext(
	        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	len = text ? strlen(text) : 0;
	if(text && len < INT32_MAX && (payload = mosquitto_malloc(len + 1)) != NULL) {
		memcpy(payload, text, len + 1);
		if(mosquitto_broker_publish(NULL, JW_STATS_TOPIC, (int)len, payload, 0, true, NULL)) {
			mosquitto_free(payload);
		}
	}
	json_object_put(o);
}
