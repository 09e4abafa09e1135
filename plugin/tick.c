/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The broker's TICK: once per pass of its loop. Settles what the pass
 * left pending (the write check of a will, records held while the broker
 * may be shutting down), then, when something is due: puts back the
 * states after a restart, publishes held state updates, fails stalled
 * jobs, logs the writers' health and publishes the stats message.
 * Broker thread only.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker_api.h"

#include "effects.h"
#include "jdoc.h"
#include "jobs/jobs.h"
#include "topic.h"

/* Fails one stalled job the way a worker's failed event would. */
static void fail_stalled(struct jw_plugin *p, struct jw_job *j, const struct jw_clock *now)
{
	struct jw_event_ctx e;
	struct jw_effects fx;
	struct jw_verdict v;
	struct jw_json_error err;
	struct jw_topic t;
	struct jw_jdoc d;
	size_t len;
	char *text = jw_job_stall_event(j, now, &len);

	if(!text) {
		return;
	}
	memset(&t, 0, sizeof(t));
	snprintf(t.session, sizeof(t.session), "%s", jw_job_session(j));
	snprintf(t.job, sizeof(t.job), "%s", jw_job_id(j));
	snprintf(t.event, sizeof(t.event), "failed");
	memset(&e, 0, sizeof(e));
	e.origin = JW_FROM_BROKER;
	e.t = &t;
	e.payload = text;
	e.len = len;
	e.durable = true;
	e.now = now;
	/* The broker's own event takes the path every event takes: parsed
	 * into an arena tree, then through the table. */
	jw_jdoc_init(&d);
	if(jw_jdoc_parse(&d, text, len, p->opt.limits.max_depth, &err) != 0) {
		memset(&v, 0, sizeof(v));
		v.reason = JW_REASON_INTERNAL;
		snprintf(v.message, sizeof(v.message), "%s", err.message);
		jw_effects__refuse(p, &e, &v);
	} else {
		e.ev = d.root;
		jw_jobs_step(
		        p->jobs, t.session, t.job, t.event, e.ev, e.payload, e.len, true, now, &fx, &v);
		if(jw_effects__run(p, &fx, &e, &v) == JW_RUN_PASS) {
			jw_stations__job_event(p, &t, e.ev);
		}
	}
	jw_jdoc_free(&d);
	free(text);
}

/* Whether a tick at monotonic time mono_ms has anything to do. */
static bool tick_due(const struct jw_plugin *p, int64_t mono_ms)
{
	return !p->republished || mono_ms >= jw_jobs_next_due(p->jobs) ||
	       mono_ms >= p->next_health_ms ||
	       (p->stations_any && mono_ms >= jw_stations__next_due(p)) ||
	       (p->opt.stats_interval > 0 && mono_ms >= p->next_stats_ms);
}

/* The plugin's earliest deadline (monotonic ms): the job table's timers,
 * the stations', the health lines and the stats. */
static int64_t next_deadline(const struct jw_plugin *p)
{
	int64_t t = jw_jobs_next_due(p->jobs);

	if(p->next_health_ms < t) {
		t = p->next_health_ms;
	}
	if(p->stations_any && jw_stations__next_due(p) < t) {
		t = jw_stations__next_due(p);
	}
	if(p->opt.stats_interval > 0 && p->next_stats_ms < t) {
		t = p->next_stats_ms;
	}
	return t;
}

/* The job table's timers, the health log lines and the stats, at
 * monotonic time mono_ms. */
static void timers(struct jw_plugin *p, int64_t mono_ms)
{
	struct jw_clock now;
	struct jw_job *j;

	/* Runs on every pass of the broker's loop, nearly always with
	 * nothing due: one clock read and the timers' earliest deadline
	 * settle that; the wall clock is read only when there is work. */
	now.mono_ms = mono_ms;
	if(!tick_due(p, now.mono_ms)) {
		return;
	}
	now.real_ms = jw_clock_ms(CLOCK_REALTIME);
	if(!p->republished) {
		/* The broker's retained store may have been lost with the
		 * restart: put back the state of every job we know. */
		jw_table__republish(p, &now);
	}
	while((j = jw_jobs_pop_state_due(p->jobs, &now)) != NULL) {
		jw_table__publish_state(p, j, &now);
	}
	while((j = jw_jobs_pop_stalled(p->jobs, &now)) != NULL) {
		fail_stalled(p, j, &now);
	}
	if(p->stations_any) {
		jw_stations__tick(p, &now);
	}
	if(now.mono_ms >= p->next_health_ms) {
		p->next_health_ms = now.mono_ms + 1000;
		jw_table__health(p);
		jw_journal__tick(p);
	}
	if(p->opt.stats_interval > 0 && now.mono_ms >= p->next_stats_ms) {
		p->next_stats_ms = now.mono_ms + (int64_t)(p->opt.stats_interval * 1000);
		jw_stats__publish(p, &now);
	}
}

int jw_tick__on_tick(int event, void *event_data, void *userdata)
{
	struct jw_plugin *p = userdata;
	int64_t mono_ms = jw_clock_ms(CLOCK_MONOTONIC);

	(void)event;
	jw_will__end_of_pass(p);
	if(p->nheld_keys) {
		jw_table__flush_held(p);
	}
	if(p->nheld_recs) {
		jw_journal__flush_held(p);
	}
	timers(p, mono_ms);
	if(p->auth) {
		jw_auth__tick(p);
	}
	/* A held state update is due at a set time: the broker's loop must
	 * not sleep past it (wake.c). */
	jw_wake__after_tick(&p->wake, event_data, mono_ms, next_deadline(p), jw_jobs_next_due(p->jobs));
	return MOSQ_ERR_SUCCESS;
}
