/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The job table: an open-addressing hash map of jobs keyed by (session,
 * job), their counted memory, the timers' heaps, eviction, and the
 * accessors. The rules that change a job are in apply.c.
 */
#include "jdoc.h"
#include "internal.h"
#include "lookup.h"
#include "number.h"
#include "util/hash.h"
#include "util/id.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define DEFAULT_MAX_JOBS 100000u
#define DEFAULT_HEARTBEAT_S 30.0
#define DEFAULT_STATE_RATE 10.0
/* Heap positions are uint32_t; stay far below. */
#define MAX_JOBS_LIMIT 100000000u
/* Jobs the first slot array holds: 64 slots. */
#define FIRST_JOBS 48u

/* ---- jobs ---- */

static uint64_t job_hash(const struct jw_jobs *jobs, const struct jw_job *j)
{
	return key_hash(jobs->seed, j->ids, j->session_len, j->ids + j->session_len + 1, j->job_len);
}

uint64_t jw_jobs__fingerprint(const char *type, const void *raw, size_t rawlen)
{
	/* Unseeded FNV-1a: it is stored in records and must mean the same
	 * after a restart and an upgrade. The type is part of it so that
	 * identical bytes published on another event topic are not taken for
	 * a retransmission. */
	uint64_t h = JW_HASH_FNV_OFFSET;

	h = jw_hash_fnv1a(h, type, strlen(type) + 1);
	h = jw_hash_fnv1a(h, raw, rawlen);
	return jw_hash_mix(h);
}

static size_t job_size(const struct jw_job *j)
{
	return sizeof(*j) + j->session_len + 1 + j->job_len + 1;
}

struct jw_job *jw_jobs__job_new(
        struct jw_jobs *jobs, const char *session, size_t slen, const char *job, size_t jlen)
{
	struct jw_job *j = jw_jobs__alloc(jobs, sizeof(*j) + slen + 1 + jlen + 1);

	if(!j)
		return NULL;
	memcpy(j->ids, session, slen);
	memcpy(j->ids + slen + 1, job, jlen);
	j->session_len = (uint8_t)slen;
	j->job_len = (uint8_t)jlen;
	j->heartbeat_interval_s = jobs->cfg.heartbeat_interval_s;
	j->status = JW_JOB_RUNNING;
	return j;
}

void jw_jobs__review_free(struct jw_jobs *jobs, struct jw_job_review *r)
{
	if(!r)
		return;
	jw_jobs__text_free(jobs, r->reason);
	jw_jobs__text_free(jobs, r->item);
	jw_jobs__text_free(jobs, r->actions);
	jw_jobs__release(jobs, r, sizeof(*r));
}

void jw_jobs__end_free(struct jw_jobs *jobs, struct jw_job_end *e)
{
	if(!e)
		return;
	jw_jobs__text_free(jobs, e->error);
	jw_jobs__text_free(jobs, e->code);
	jw_jobs__text_free(jobs, e->details);
	jw_jobs__text_free(jobs, e->result);
	jw_jobs__release(jobs, e, sizeof(*e));
}

void jw_jobs__job_free(struct jw_jobs *jobs, struct jw_job *j)
{
	if(!j)
		return;
	jw_jobs__text_free(jobs, j->name);
	jw_jobs__text_free(jobs, j->worker);
	jw_jobs__text_free(jobs, j->station);
	jw_jobs__text_free(jobs, j->steps);
	jw_jobs__text_free_cap(jobs, j->step, j->step_cap);
	jw_jobs__text_free_cap(jobs, j->message, j->message_cap);
	jw_jobs__review_free(jobs, j->review);
	jw_jobs__end_free(jobs, j->end);
	jw_jobs__decision_free(jobs, j->decision);
	jw_jobs__history_free(jobs, j);
	jw_jobs__release(jobs, j, job_size(j));
}

/* ---- the hash table and the timers ---- */

/* The key of j in heap id: what the timers compare with now. */
static int64_t heap_key(const struct jw_job *j, enum jw_jobs__heap_id id)
{
	switch(id) {
		case JW_HEAP_STALL:
			return j->stall_key;
		case JW_HEAP_DUE:
			return j->due_mono;
		case JW_HEAP_ENDED:
		case JW_HEAP__COUNT:
			break;
	}
	return j->end ? j->end->ended_ms : 0;
}

void jw_jobs__heap_set(struct jw_jobs *jobs, enum jw_jobs__heap_id id, struct jw_job *j)
{
	/* Cannot fail: jw_jobs__reserve made room when j entered the table. */
	(void)jw_heap_set(&jobs->heaps[id], j, heap_key(j, id));
}

int jw_jobs__reserve(struct jw_jobs *jobs)
{
	/* The rehash is O(n) but happens only when the table doubles (about
	 * a dozen times up to 100000 jobs) and uses the stored hashes. */
	if(jw_htab_reserve(&jobs->table, jobs->table.count + 1) != 0)
		return -1;
	/* Every heap can hold every job, so a push never allocates: the
	 * state policy and the event path then cannot fail half-way. */
	for(int h = 0; h < JW_HEAP__COUNT; h++) {
		if(jw_heap_reserve(&jobs->heaps[h], jobs->table.count + 1) != 0)
			return -1;
	}
	return 0;
}

void jw_jobs__insert(struct jw_jobs *jobs, struct jw_job *j)
{
	jw_htab_insert(&jobs->table, job_hash(jobs, j), j);
	jobs->by_status[j->status]++;
	if(j->end)
		jw_jobs__heap_set(jobs, JW_HEAP_ENDED, j);
	else
		jw_jobs__stall_arm(jobs, j);
}

void jw_jobs__stall_arm(struct jw_jobs *jobs, struct jw_job *j)
{
	if(j->heap_pos[JW_HEAP_STALL] != 0 && j->deadline_mono >= j->stall_key)
		return;
	j->stall_key = j->deadline_mono;
	jw_jobs__heap_set(jobs, JW_HEAP_STALL, j);
}

void jw_jobs__detach(struct jw_jobs *jobs, struct jw_job *j)
{
	if(jw_htab_remove(&jobs->table, job_hash(jobs, j), j))
		jobs->by_status[j->status]--;
	for(int h = 0; h < JW_HEAP__COUNT; h++)
		jw_heap_remove(&jobs->heaps[h], j);
}

bool jw_jobs__evict_one(struct jw_jobs *jobs)
{
	struct jw_job *j = jw_heap_top(&jobs->heaps[JW_HEAP_ENDED], NULL);

	if(!j)
		return false;
	jw_jobs__detach(jobs, j);
	if(jobs->cfg.on_evict)
		jobs->cfg.on_evict(j, jobs->cfg.on_evict_arg);
	jw_jobs__job_free(jobs, j);
	jobs->evicted++;
	return true;
}

struct jw_jobs *jw_jobs_new(const struct jw_jobs_config *cfg)
{
	struct jw_jobs *jobs;
	struct jw_jobs_config c = {0};

	if(cfg)
		c = *cfg;
	/* Zero means "the default", as for a missing plugin option. */
	if(c.max_jobs == 0)
		c.max_jobs = DEFAULT_MAX_JOBS;
	if(c.heartbeat_interval_s == 0)
		c.heartbeat_interval_s = DEFAULT_HEARTBEAT_S;
	if(c.state_max_rate == 0)
		c.state_max_rate = DEFAULT_STATE_RATE;
	/* The interval's range is started.json's; the rate's keeps the
	 * publishing interval between 1 ms and about 17 minutes. */
	if(c.max_jobs > MAX_JOBS_LIMIT || !(c.heartbeat_interval_s > 0) ||
	        !(c.heartbeat_interval_s <= 86400) || !(c.state_max_rate >= 0.001) ||
	        !(c.state_max_rate <= 1000) || c.max_attempts > 1000 ||
	        c.history_events > JW_HISTORY_MAX)
		return NULL;
	jobs = calloc(1, sizeof(*jobs));
	if(!jobs)
		return NULL;
	jobs->cfg = c;
	jobs->mem = sizeof(*jobs);
	jobs->fail_after = -1;
	jw_buf_init(&jobs->render, JW_BUF_UNLIMITED);
	jw_rfc3339_cache_init(&jobs->ts_cache[0]);
	jw_rfc3339_cache_init(&jobs->ts_cache[1]);
	jobs->state_interval_ms = (int64_t)ceil(1000.0 / c.state_max_rate);
	/* Per-table seed (address space layout varies per process), so hash
	 * collisions cannot be precomputed from the ids alone. */
	jobs->seed = jw_hash_mix((uint64_t)(uintptr_t)jobs ^ 0x6a6f62776972650aULL);
	/* The table's arrays are counted in memory_bytes like the jobs. */
	jobs->alloc = jw_jobs__counted(jobs);
	for(int h = 0; h < JW_HEAP__COUNT; h++)
		jw_heap_init(&jobs->heaps[h],
		        offsetof(struct jw_job, heap_pos) + (size_t)h * sizeof(uint32_t), &jobs->alloc);
	if(jw_htab_init(&jobs->table, FIRST_JOBS, &jobs->alloc) != 0) {
		free(jobs);
		return NULL;
	}
	return jobs;
}

void jw_jobs_free(struct jw_jobs *jobs)
{
	if(!jobs)
		return;
	{
		size_t pos = 0;
		struct jw_job *j;

		while((j = jw_htab_each(&jobs->table, &pos)) != NULL)
			jw_jobs__job_free(jobs, j);
	}
	for(int h = 0; h < JW_HEAP__COUNT; h++)
		jw_heap_cleanup(&jobs->heaps[h]);
	jw_htab_cleanup(&jobs->table);
	jw_buf_cleanup(&jobs->render);
	free(jobs);
}

struct jw_job *jw_jobs_find(struct jw_jobs *jobs, const char *session, const char *job)
{
	size_t slen, jlen;

	if(!jobs || !session || !job)
		return NULL;
	slen = strlen(session);
	jlen = strlen(job);
	if(slen < 1 || slen > JW_ID_MAX || jlen < 1 || jlen > JW_ID_MAX)
		return NULL;
	return find_key(jobs, key_hash(jobs->seed, session, slen, job, jlen), session, slen, job, jlen);
}

/* ---- accessors ---- */

const char *jw_job_session(const struct jw_job *j)
{
	return j->ids;
}

const char *jw_job_id(const struct jw_job *j)
{
	return job_part(j);
}

size_t jw_job_session_len(const struct jw_job *j)
{
	return j->session_len;
}

size_t jw_job_id_len(const struct jw_job *j)
{
	return j->job_len;
}

enum jw_job_status jw_job_status(const struct jw_job *j)
{
	return (enum jw_job_status)j->status;
}

uint64_t jw_job_seq(const struct jw_job *j)
{
	return j->seq;
}

double jw_job_heartbeat_interval(const struct jw_job *j)
{
	return j->heartbeat_interval_s;
}

bool jw_job_finished(const struct jw_job *j)
{
	return j->end != NULL;
}

bool jw_job_cancel_requested(const struct jw_job *j)
{
	return (j->flags & JW_JF_CANCEL) != 0;
}

int jw_job_key(const struct jw_job *j, char *buf, size_t buflen)
{
	int n;

	if(!j || !buf || buflen == 0)
		return -1;
	n = snprintf(buf, buflen, "%s/%s", j->ids, job_part(j));
	if(n < 0 || (size_t)n >= buflen)
		return -1;
	return n;
}

void jw_jobs_stats(const struct jw_jobs *jobs, struct jw_jobs_stats *out)
{
	memset(out, 0, sizeof(*out));
	if(!jobs)
		return;
	out->jobs = jobs->table.count;
	memcpy(out->by_status, jobs->by_status, sizeof(out->by_status));
	out->stalled = jobs->stalled;
	out->evicted = jobs->evicted;
	out->memory_bytes = jobs->mem;
	out->history_events = jobs->history_events;
	out->history_bytes = jobs->history_bytes;
	out->history_shed = jobs->history_shed;
}

void jw_jobs_foreach(struct jw_jobs *jobs, void (*fn)(struct jw_job *j, void *arg), void *arg)
{
	size_t pos = 0;
	struct jw_job *j;

	if(!jobs || !fn)
		return;
	while((j = jw_htab_each(&jobs->table, &pos)) != NULL)
		fn(j, arg);
}

bool jw_job_summary(const struct jw_job *j, struct jw_job_summary *out)
{
	const struct jw_job_end *e = j->end;

	memset(out, 0, sizeof(*out));
	out->retryable = -1;
	if(!e || !jw_job_finished(j))
		return false;
	out->has_started = (j->flags & JW_JF_STARTED) != 0;
	out->started_ms = j->started_ms;
	out->has_progress = (j->flags & JW_JF_PROGRESS) != 0;
	out->progress = j->progress;
	out->has_duration = (e->flags & JW_EF_DURATION) != 0;
	out->duration_s = e->duration_s;
	out->finished_ms = e->finished_ms;
	out->error = e->error;
	out->code = e->code;
	out->result = e->result;
	if(e->flags & JW_EF_HAS_RETRYABLE)
		out->retryable = (e->flags & JW_EF_RETRYABLE) ? 1 : 0;
	out->broker_generated = (e->flags & JW_EF_BROKER_GEN) != 0;
	out->attempt = jw_job_attempt(j);
	return true;
}

unsigned jw_job_attempt(const struct jw_job *j)
{
	return (unsigned)j->retries + 1;
}
