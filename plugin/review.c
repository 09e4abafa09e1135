/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * A review answered (docs/lifecycle.md, "Reviews"): the job table accepted
 * a control {"action":"review"} (JW_FX_REVIEW); here the broker names who
 * answered (the token's subject with JWT on, else the client id) before
 * the state goes out, and spools the review for the journal's
 * jobwire_reviews table (plugin/sql/reviews.sql). Broker thread only; the
 * journal thread writes the row.
 */
#include "plugin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_api.h"

#include "jobs/jobs.h"
#include "journal.h"
#include "journal_rec.h"
#include "topic.h"

static void journal_review(
        struct jw_plugin *p, struct jw_job *j, const struct jw_event_ctx *e, const char *client_id)
{
	struct jw_review_info ri;
	struct jw_journal_rec r;
	struct jw_clock now;
	char key[2 * JW_ID_MAX + 4];
	size_t len = 0;
	char *text;

	if(!jw_job_review_info(j, &ri)) {
		return;
	}
	jw_clock_now(&now);
	memset(&r, 0, sizeof(r));
	r.kind = JW_JOURNAL_REVIEW;
	r.session = e->t->session;
	r.job = e->t->job;
	r.type = e->t->event;
	r.event = e->msg ? e->msg->payload : e->payload;
	r.event_len = e->msg ? e->msg->payloadlen : e->len;
	r.retryable = -1;
	r.client_id = client_id;
	r.username = e->client ? mosquitto_client_username(e->client) : NULL;
	r.node = p->opt.node_name;
	r.seq = jw_job_seq(j);
	r.attempt = jw_job_attempt(j);
	r.spooled_ms = now.real_ms;
	r.reason = ri.reason;
	r.item = ri.item;
	r.choice = ri.choice;
	r.comment = ri.comment;
	r.confidence = ri.confidence;
	r.has_threshold = ri.has_threshold;
	r.threshold = ri.threshold;
	r.asked_ms = ri.asked_ms;
	r.answered_ms = ri.answered_ms;
	r.by = jw_auth__subject(p, e->client);
	if(!r.by) {
		r.by = client_id;
	}
	text = jw_journal_rec_encode(&r, &len);
	snprintf(key, sizeof(key), "%s/%s", r.session, r.job);
	/* The answer is already the job's: a record that cannot be spooled
	 * is counted and logged, not refused. */
	if(!text || jw_journal_append(p->journal, key, text, len) != 0) {
		p->counters.journal_lost++;
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: journal: could not spool the review of %s/%s",
		        r.session, r.job);
	}
	free(text);
}

void jw_review__answered(struct jw_plugin *p, struct jw_job *j, const struct jw_event_ctx *e)
{
	const char *client_id = e->client_id;
	const char *by;

	if(!j || !e->t) {
		return;
	}
	if(!client_id && e->client) {
		client_id = mosquitto_client_id(e->client);
	}
	by = jw_auth__subject(p, e->client);
	if(!by) {
		by = client_id;
	}
	if(by && jw_job_review_set_by(p->jobs, j, by) != 0) {
		mosquitto_log_printf(MOSQ_LOG_WARNING,
		        "jobwire: out of memory naming who answered the review of %s/%s", e->t->session,
		        e->t->job);
	}
	if(p->journal) {
		journal_review(p, j, e, client_id);
	}
}
