/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * $jobwire/stats as Prometheus metrics (see metrics_text.h). Names follow
 * the Prometheus conventions: jobwire_ prefix, base units (seconds,
 * bytes), counters end in _total, one label per breakdown. The table
 * below is the whole mapping; docs/operations.md lists it for users.
 */
#include "metrics_text.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jobs/jobs.h"
#include "util/buf.h"
#include "util/rfc3339.h"

static void family(struct jw_buf *b, const char *name, const char *type, const char *help)
{
	jw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value with \, " and newline escaped as the format requires. */
static void label_value(struct jw_buf *b, const char *v)
{
	for(; *v && !b->err; v++) {
		if(*v == '\\') {
			jw_buf_printf(b, "\\\\");
		} else if(*v == '"') {
			jw_buf_printf(b, "\\\"");
		} else if(*v == '\n') {
			jw_buf_printf(b, "\\n");
		} else {
			jw_buf_printf(b, "%c", *v);
		}
	}
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if(!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v)) {
		return NULL;
	}
	return v;
}

static int number(struct json_object *v, double *out)
{
	if(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		*out = json_object_get_double(v);
		return 0;
	}
	return -1;
}

static void sample(struct jw_buf *b, const char *name, double v)
{
	/* Counts are integers; %.17g prints them exactly up to 2^53. */
	jw_buf_printf(b, "%s %.17g\n", name, v);
}

/* One unlabelled metric from stats.<object>.<key> (object NULL: top level),
 * times scale. */
struct scalar {
	const char *name, *type, *help, *object, *key;
	double scale;
};

static const struct scalar scalars[] = {
        {"jobwire_uptime_seconds", "gauge", "Seconds since the broker loaded the plugin.", NULL,
                "uptime_s", 1},
        {"jobwire_events_duplicates_total", "counter",
                "Repeated terminal events acknowledged and not delivered again.", "events",
                "duplicates", 1},
        {"jobwire_events_ts_added_total", "counter", "Accepted events the broker added a ts to.",
                "events", "ts_added", 1},
        {"jobwire_wills_checked_total", "counter", "Wills on job topics checked before sending.",
                "events", "wills_checked", 1},
        {"jobwire_notices_sent_total", "counter",
                "Rejection notices published (to response or rejection topics).", "events",
                "notices", 1},
        {"jobwire_state_publishes_total", "counter", "Retained state messages published.", "state",
                "published", 1},
        {"jobwire_state_coalesced_total", "counter",
                "State changes superseded by a newer one before they were published.", "state",
                "coalesced", 1},
        {"jobwire_state_publish_failures_total", "counter",
                "State messages the broker refused to queue.", "state", "failures", 1},
        {"jobwire_state_loop_wakes_total", "counter",
                "Times the broker's loop was woken for a held state update falling due.", "state",
                "loop_wakes", 1},
        {"jobwire_jobs_stalled_total", "counter", "Jobs the broker failed with heartbeat_timeout.",
                "jobs", "stalled", 1},
        {"jobwire_jobs_evicted_total", "counter", "Finished jobs evicted from a full job table.",
                "jobs", "evicted", 1},
        {"jobwire_jobs_max", "gauge", "The job table's capacity (plugin_opt_max_jobs).", "jobs",
                "max", 1},
        {"jobwire_jobs_memory_bytes", "gauge", "Memory held by the job table.", "jobs",
                "memory_bytes", 1},
        {"jobwire_persist_pending_records", "gauge", "Job records waiting for the job-log writer.",
                "persistence", "pending", 1},
        {"jobwire_persist_log_bytes", "gauge", "Size of jobs.log.", "persistence", "log_bytes", 1},
        {"jobwire_persist_written_bytes_total", "counter", "Bytes appended to jobs.log.",
                "persistence", "bytes_written", 1},
        {"jobwire_persist_write_errors_total", "counter", "Failed writes of jobs.log.",
                "persistence", "write_errors", 1},
        {"jobwire_persist_damaged_records_total", "counter",
                "Damaged records skipped in jobs.log (docs/operations.md, damaged files).",
                "persistence", "damaged_records", 1},
        {"jobwire_journal_rows_spooled_total", "counter",
                "Finished jobs spooled for PostgreSQL by this run.", "journal", "spooled", 1},
        {"jobwire_journal_rows_written_total", "counter", "Rows committed to PostgreSQL.",
                "journal", "committed", 1},
        {"jobwire_journal_rows_dead_lettered_total", "counter",
                "Rows PostgreSQL refused for good, kept in the dead-letter file.", "journal",
                "dead_letters", 1},
        {"jobwire_journal_backlog_bytes", "gauge", "Spooled bytes not yet in PostgreSQL.",
                "journal", "pending_bytes", 1},
        {"jobwire_journal_lag_seconds", "gauge",
                "Age of the oldest spooled record not yet in PostgreSQL (0 when caught up).",
                "journal", "lag_ms", 0.001},
        {"jobwire_journal_spool_bytes", "gauge", "Size of the spool segment files.", "journal",
                "spool_bytes", 1},
        {"jobwire_journal_spool_max_bytes", "gauge", "The spool's cap (plugin_opt_spool_max).",
                "journal", "spool_max", 1},
        {"jobwire_journal_refused_total", "counter", "Terminal events refused with journal_full.",
                "journal", "refused", 1},
        {"jobwire_journal_lost_total", "counter",
                "Broker-generated failures that found the spool full.", "journal", "lost", 1},
        {"jobwire_journal_write_errors_total", "counter", "Failed appends to the spool.", "journal",
                "write_errors", 1},
        {"jobwire_journal_damaged_records_total", "counter",
                "Damaged records skipped in the spool.", "journal", "damaged_records", 1},
        {"jobwire_schema_types", "gauge", "Event types the broker validates.", "schemas", "types",
                1},
        {"jobwire_schema_reloads_total", "counter", "Successful schema reloads (SIGHUP).",
                "schemas", "reloads", 1},
        {"jobwire_schema_reload_failures_total", "counter", "Schema reloads that kept the old set.",
                "schemas", "reload_failures", 1},
        {"jobwire_auth_accepted_total", "counter", "Tokens accepted at CONNECT.", "auth",
                "accepted", 1},
        {"jobwire_auth_refused_total", "counter", "CONNECTs refused for their token or client id.",
                "auth", "refused", 1},
        {"jobwire_auth_expired_disconnects_total", "counter",
                "Clients disconnected because their token expired.", "auth", "expired_disconnects",
                1},
        {"jobwire_auth_connections", "gauge", "Connections holding a token.", "auth", "connected",
                1},
        {"jobwire_auth_kept_sessions", "gauge",
                "Persistent sessions held for clients that are away.", "auth", "kept_sessions", 1},
};

/* One labelled family from the members of stats.<object>.<key>. */
struct labelled {
	const char *name, *type, *help, *object, *key, *label;
};

static const struct labelled labelled[] = {
        {"jobwire_events_accepted_total", "counter",
                "Events accepted and delivered, by event type.", "events", "accepted_by_type",
                "type"},
        {"jobwire_events_rejected_total", "counter",
                "Events refused, by reason (docs/topics.md, reason codes).", "events",
                "rejected_by_reason", "reason"},
        {"jobwire_events_rejected_by_type_total", "counter", "Events refused, by event type.",
                "events", "rejected_by_type", "type"},
};

static void render_labelled(struct jw_buf *b, struct json_object *stats, const struct labelled *l)
{
	struct json_object *o = member(member(stats, l->object), l->key);
	double v;

	family(b, l->name, l->type, l->help);
	if(!o || !json_object_is_type(o, json_type_object)) {
		return;
	}
	json_object_object_foreach(o, k, val)
	{
		if(number(val, &v) == 0) {
			jw_buf_printf(b, "%s{%s=\"", l->name, l->label);
			label_value(b, k);
			jw_buf_printf(b, "\"} %.17g\n", v);
		}
	}
}

static void render_stats(struct jw_buf *b, const struct jw_metrics_input *in)
{
	struct json_object *stats = in->stats, *jobs = member(stats, "jobs"),
	                   *journal = member(stats, "journal");
	struct json_object *v;
	double d, spooled, committed, dead;

	family(b, "jobwire_stats_age_seconds", "gauge",
	        "Age of the latest $jobwire/stats message (its ts against this host's clock).");
	if((v = member(stats, "ts")) && json_object_is_type(v, json_type_string)) {
		struct jw_rfc3339 t;
		const char *ts = json_object_get_string(v);

		if(jw_rfc3339_parse(ts, strlen(ts), &t) == 0) {
			d = (double)jw_rfc3339_to_ms(&t) / 1000.0;
			sample(b, "jobwire_stats_age_seconds", in->now_s > d ? in->now_s - d : 0);
		}
	}
	for(size_t i = 0; i < sizeof(labelled) / sizeof(labelled[0]); i++) {
		render_labelled(b, stats, &labelled[i]);
	}
	family(b, "jobwire_jobs", "gauge", "Jobs in the broker's table, by status.");
	for(int s = 0; s < JW_JOB__STATUS_COUNT; s++) {
		const char *name = jw_job_status_name((enum jw_job_status)s);
		if((v = member(jobs, name)) && number(v, &d) == 0) {
			jw_buf_printf(b, "jobwire_jobs{status=\"%s\"} %.17g\n", name, d);
		}
	}
	for(size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		const struct scalar *s = &scalars[i];
		struct json_object *from = s->object ? member(stats, s->object) : stats;

		if((v = member(from, s->key)) && number(v, &d) == 0) {
			family(b, s->name, s->type, s->help);
			sample(b, s->name, d * s->scale);
		}
	}
	v = member(journal, "enabled");
	if(v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v)) {
		family(b, "jobwire_journal_up", "gauge", "1 while the journal writes to PostgreSQL.");
		v = member(journal, "state");
		sample(b, "jobwire_journal_up",
		        v && json_object_is_type(v, json_type_string) &&
		                !strcmp(json_object_get_string(v), "up"));
		/* Records of this run not yet in PostgreSQL or dead-lettered; a
		 * backlog an earlier run left is in jobwire_journal_backlog_bytes. */
		if(number(member(journal, "spooled"), &spooled) == 0 &&
		        number(member(journal, "committed"), &committed) == 0 &&
		        number(member(journal, "dead_letters"), &dead) == 0) {
			family(b, "jobwire_journal_backlog_rows", "gauge",
			        "Finished jobs spooled by this run and not yet in PostgreSQL.");
			sample(b, "jobwire_journal_backlog_rows",
			        spooled > committed + dead ? spooled - committed - dead : 0);
		}
	}
	if(in->clients_connected >= 0) {
		family(b, "jobwire_clients_connected", "gauge",
		        "Clients connected to the broker ($SYS/broker/clients/connected).");
		sample(b, "jobwire_clients_connected", (double)in->clients_connected);
	}
}

int jw_metrics_render(const struct jw_metrics_input *in, char **out, size_t *len)
{
	struct jw_buf b;
	int up = in->connected && in->stats;

	*out = NULL;
	*len = 0;
	jw_buf_init(&b, 0);
	family(&b, "jobwire_up", "gauge",
	        "1 when the exporter is connected to the broker and has its $jobwire/stats.");
	sample(&b, "jobwire_up", up);
	if(up) {
		render_stats(&b, in);
	}
	*out = jw_buf_take(&b, len);
	return *out ? 0 : -1;
}
