/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The job table: every job the broker knows, keyed by (session, job), with
 * its lifecycle (running, waiting, complete, failed), progress, ETA, the
 * timers that drive rate-limited state publishing and stall detection, and
 * the snapshot records that make it survive a restart. Pure: no I/O, no
 * threads, no clock reads (callers pass the time in).
 *
 * Threads: a table is used by one thread at a time (in the plugin, the
 * broker thread); tables share nothing. Ownership: the table owns its
 * jobs; a struct jw_job pointer stays valid until the next call that may
 * evict (apply, step, restore) or jw_jobs_free; strings passed in are
 * copied. Errors: functions returning int give 0, or -1 with nothing
 * changed (out of memory, or a malformed record: err says which); an
 * event the rules refuse is not an error but a verdict (reason.h).
 *
 * Files (core/jobs/): apply.c the lifecycle rules, effects.c
 * jw_jobs_step, table.c jobs by key and eviction, timers.c the state
 * rate limit and stall heaps, state.c the state JSON, record.c restart
 * records, retry.c the control retry and the attempt it opens, review.c
 * reviews, history.c each job's ring of accepted events; memory.c, json_write.c, timestamps.c,
 * eta.c and lookup.h what they share; internal.h is theirs alone.
 */
#ifndef JW_JOBS_H
#define JW_JOBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "util/clock.h" /* struct jw_clock */

struct json_object;
struct jw_job;
struct jw_jobs;

enum jw_job_status {
	JW_JOB_RUNNING = 0,
	JW_JOB_WAITING, /* after validation-required, until progress or an end */
	JW_JOB_COMPLETE,
	JW_JOB_FAILED,
	JW_JOB__STATUS_COUNT
};

/* "running", "waiting", "complete", "failed". */
const char *jw_job_status_name(enum jw_job_status s);

/* Most events a job's history may keep (plugin_opt_history_events). */
#define JW_HISTORY_MAX 100000

struct jw_jobs_config {
	size_t max_jobs;             /* default 100000 */
	double heartbeat_interval_s; /* default interval when started has none: 30 */
	double state_max_rate;       /* state publishes per second per job: 10 */
	unsigned max_attempts;       /* attempts a job may have, retries included:
	                                5 (0: the default; at most 1000) */
	size_t history_events;       /* accepted events kept per job (history.c):
	                                0 keeps none; at most JW_HISTORY_MAX */
	size_t history_max_bytes;    /* memory all the histories may use together
	                                (0: no bound but history_events); over it,
	                                the history added to least recently goes */
	/* Optional (NULL: not told): called with each finished job the table
	 * evicts to make room (in apply or restore), just before it is freed,
	 * so the caller can drop its record and retained state. fn must not
	 * change the table. */
	void (*on_evict)(const struct jw_job *j, void *arg);
	void *on_evict_arg;
};

/* A table with cfg (copied); NULL when out of memory or cfg is invalid. */
struct jw_jobs *jw_jobs_new(const struct jw_jobs_config *cfg);
void jw_jobs_free(struct jw_jobs *jobs);

enum jw_apply_outcome {
	JW_APPLY_ACCEPT = 0, /* deliver the event; the job's state changed */
	JW_APPLY_DUPLICATE,  /* exact repeat of the job's terminal event (QoS 1
	                        retransmission): acknowledge, do not deliver */
	JW_APPLY_REJECT,     /* refuse the event; the verdict says why */
};

struct jw_apply_result {
	enum jw_apply_outcome outcome;
	struct jw_job *job; /* ACCEPT, DUPLICATE: the job (valid until the next
	                       call that may evict: apply, restore) */
	uint64_t seq;       /* ACCEPT: the event's per-job sequence number */
	bool created;       /* ACCEPT: this event created the job */
	bool urgent;        /* ACCEPT: the new state must go out at once
	                       (terminal, waiting), after any held update */
	bool review;        /* ACCEPT: a review control, now the job's
	                       decision (jw_job_review_info) */
};

/*
 * Folds one event that already passed jw_event_check into the job table.
 * type is the topic's event; event the parsed payload (an arena tree,
 * jdoc.h, owned by the caller; NULL for an empty payload); raw/rawlen the bytes
 * as published (before any broker insertion), used to recognise an exact
 * repeat of the terminal event.
 *
 * Rules (docs/lifecycle.md): a job exists from its first accepted worker
 * event; complete and failed are final (later events: JW_REASON_JOB_FINISHED,
 * except an exact repeat: DUPLICATE); overall progress never decreases
 * (JW_REASON_PROGRESS_BACKWARDS); validation-required moves the job to
 * waiting until progress or an end; control does not create a job and a
 * cancel for an unknown or finished job is refused (JW_REASON_UNKNOWN_JOB,
 * JW_REASON_JOB_FINISHED); when the table is full the oldest finished job
 * is evicted, and when only unfinished jobs remain a new job is refused
 * (JW_REASON_TOO_MANY_JOBS). Types without special meaning (heartbeat,
 * custom types) only refresh activity and seq. Retry (retry.c): a control
 * {"action":"retry"} is accepted only for a job that failed with
 * retryable true and fewer than cfg.max_attempts attempts
 * (JW_REASON_NOT_RETRYABLE, JW_REASON_ATTEMPTS_EXHAUSTED), and the next
 * started then opens the job's next attempt (res->job the same job,
 * running again, jw_job_attempt one more; seq goes on).
 *
 * Every accepted worker event (not control) pushes the job's stall
 * deadline to now + 3 x its heartbeat interval.
 *
 * Returns 0 with *res filled (REJECT included, with *v filled), or -1 when
 * out of memory (nothing changed; *v says internal).
 */
struct jw_jnode;
int jw_jobs_apply(struct jw_jobs *jobs, const char *session, const char *job, const char *type,
        const struct jw_jnode *event, const void *raw, size_t rawlen, const struct jw_clock *now,
        struct jw_apply_result *res, struct jw_verdict *v);

/*
 * What one event's passage through the table asks of the broker, in the
 * order it must be carried out (lowest bit first). The table decides; the
 * plugin executes the set in one place (plugin/effects.c) and does nothing
 * else with an event.
 */
enum jw_effect {
	JW_FX_HELD_STATE = 1u << 0,  /* publish held_state, the job's state from
	                                BEFORE the event (an update held back by
	                                the rate limit), ahead of all else */
	JW_FX_REFUSE = 1u << 1,      /* refuse the event: tell the publisher,
	                                count and log it (the verdict says why);
	                                nothing below follows */
	JW_FX_LOG = 1u << 2,         /* log the change (the broker's own events) */
	JW_FX_DELIVER = 1u << 3,     /* the event goes to its subscribers (a
	                                broker-made one: publish it) */
	JW_FX_SUPPRESS = 1u << 4,    /* acknowledge it, deliver it to nobody (an
	                                exact repeat of a terminal event) */
	JW_FX_STATE_NOW = 1u << 5,   /* publish the job's state now */
	JW_FX_STATE_LATER = 1u << 6, /* the state is held: it comes back from
	                                jw_jobs_pop_state_due */
	JW_FX_COALESCED = 1u << 7,   /* with STATE_LATER: it joined an update
	                                held before (counted) */
	JW_FX_PERSIST = 1u << 8,     /* write the job's record (jw_job_record) */
	JW_FX_COUNT_DUPLICATE = 1u << 9,
	JW_FX_JOURNAL = 1u << 10,      /* offer the event to the journal */
	JW_FX_COUNT_ACCEPT = 1u << 11, /* count it by type (clients' events) */
	JW_FX_REVIEW = 1u << 12,       /* a review was answered: name who answered
	                                  (jw_job_review_set_by) and journal it;
	                                  carried out with HELD_STATE, REFUSE and
	                                  LOG, before the state goes out */
};

struct jw_effects {
	unsigned set; /* enum jw_effect bits */
	enum jw_apply_outcome outcome;
	struct jw_job *job;      /* ACCEPT, DUPLICATE: as jw_apply_result */
	struct jw_job *held_job; /* HELD_STATE: the job it is of */
	const char *held_state;  /* HELD_STATE: the text (owned by the table,
	                            valid until its next call of any kind,
	                            jw_jobs_state_render included) */
	size_t held_len;
};

/*
 * One event through the table: the urgent flush, jw_jobs_apply and
 * the state publishing policy, with what must follow in *fx. broker_made:
 * the broker made the event itself (a stalled job's failure), which is
 * then logged. The held state is marked published here (as
 * jw_jobs_state_published). Same threading and ownership as
 * jw_jobs_apply: the caller's thread, one at a time per table.
 * Returns 0 with *fx filled (a refusal included: REFUSE, *v filled), or
 * -1 when out of memory (fx: REFUSE; *v says internal; the table is as
 * before, except that a held state may have been rendered).
 */
int jw_jobs_step(struct jw_jobs *jobs, const char *session, const char *job, const char *type,
        const struct jw_jnode *event, const void *raw, size_t rawlen, bool broker_made,
        const struct jw_clock *now, struct jw_effects *fx, struct jw_verdict *v);

/* The job, or NULL. */
struct jw_job *jw_jobs_find(struct jw_jobs *jobs, const char *session, const char *job);

const char *jw_job_session(const struct jw_job *j);
const char *jw_job_id(const struct jw_job *j);
/* The lengths of jw_job_session and jw_job_id, without measuring them. */
size_t jw_job_session_len(const struct jw_job *j);
size_t jw_job_id_len(const struct jw_job *j);
enum jw_job_status jw_job_status(const struct jw_job *j);
uint64_t jw_job_seq(const struct jw_job *j);
double jw_job_heartbeat_interval(const struct jw_job *j);
bool jw_job_finished(const struct jw_job *j);

/*
 * The job's state as a JSON object text valid against schemas/state.json
 * ("type":"state" included). Returns a malloc'd NUL-terminated string
 * (caller frees) and its length in *len, or NULL when out of memory.
 */
char *jw_job_state_json(const struct jw_job *j, size_t *len);

/*
 * The same text in a buffer the table owns and reuses: valid until the
 * next call for this table or jw_jobs_free, no allocation once it has
 * grown to fit. NULL when out of memory. For the broker's state publish,
 * which copies it into the message.
 */
const char *jw_jobs_state_render(struct jw_jobs *jobs, const struct jw_job *j, size_t *len);

/*
 * State publishing policy, at most state_max_rate per second per job,
 * latest wins, nothing held longer than one interval.
 *
 * After an ACCEPT, call jw_jobs_state_changed: it returns true when the
 * state should be published now (then publish it and call
 * jw_jobs_state_published), false when the update is held: it is then due
 * at the end of the job's interval and comes back from
 * jw_jobs_pop_state_due. For an urgent result, first call
 * jw_jobs_state_held: when it is true, the state from BEFORE the event was
 * held, and the caller must have published it before applying (see
 * jw_jobs_type_is_urgent); urgent states are always "now".
 */
bool jw_jobs_state_changed(
        struct jw_jobs *jobs, struct jw_job *j, bool urgent, const struct jw_clock *now);
void jw_jobs_state_published(struct jw_jobs *jobs, struct jw_job *j, const struct jw_clock *now);
bool jw_jobs_state_held(const struct jw_job *j);

/* What jw_jobs_state_note decided. */
enum jw_state_note {
	JW_STATE_PUBLISH = 0, /* publish now (jw_jobs_state_changed true) */
	JW_STATE_HOLD,        /* held from now on */
	JW_STATE_COALESCED,   /* an update was already held: this one joins it */
};

/* jw_jobs_state_changed, also telling whether an update was held before
 * (jw_jobs_state_held first): one call per event for the broker. */
enum jw_state_note jw_jobs_state_note(
        struct jw_jobs *jobs, struct jw_job *j, bool urgent, const struct jw_clock *now);

/* Whether an accepted event of this type would be urgent (terminal or
 * validation-required), so the caller can flush a held update first. */
bool jw_jobs_type_is_urgent(const char *type);

/* One job whose held state update is due at now, or NULL; the job is no
 * longer held afterwards (publish it, then jw_jobs_state_published). Time
 * proportional to the number of due jobs (a min-heap). */
struct jw_job *jw_jobs_pop_state_due(struct jw_jobs *jobs, const struct jw_clock *now);

/*
 * One unfinished job whose stall deadline has passed, or NULL. The caller
 * then fails it (normally by applying a broker-made failed event with code
 * heartbeat_timeout through jw_jobs_apply). A popped job is not returned
 * again unless new activity re-arms it. Time proportional to due jobs.
 */
struct jw_job *jw_jobs_pop_stalled(struct jw_jobs *jobs, const struct jw_clock *now);

/*
 * The earliest monotonic time (ms) at which jw_jobs_pop_state_due or
 * jw_jobs_pop_stalled may return a job, INT64_MAX when neither can: before
 * it both return NULL, so a caller polling often may skip them (and the
 * clock reads their now needs). A stall deadline that events have moved
 * later may be reported early: the pop then only re-files it.
 */
int64_t jw_jobs_next_due(const struct jw_jobs *jobs);

/* The failed event the broker publishes for a stalled job, as JSON text
 * (malloc'd, NUL-terminated, *len bytes; the caller frees it), valid
 * against schemas/failed.json with code "heartbeat_timeout", retryable
 * true, broker_generated true, an error naming the silence ("no event for
 * 90 s (3 x heartbeat interval 30 s)") and "ts" (now). NULL when out of
 * memory. */
char *jw_job_stall_event(const struct jw_job *j, const struct jw_clock *now, size_t *len);

struct jw_jobs_stats {
	size_t jobs; /* in the table */
	size_t by_status[JW_JOB__STATUS_COUNT];
	uint64_t stalled;      /* jobs failed for heartbeat_timeout */
	uint64_t evicted;      /* finished jobs evicted when full */
	size_t memory_bytes;   /* heap used by the table (histories included) */
	size_t history_events; /* events kept in the jobs' histories */
	size_t history_bytes;  /* of memory_bytes, what the histories use */
	uint64_t history_shed; /* events dropped to keep history_max_bytes */
};
void jw_jobs_stats(const struct jw_jobs *jobs, struct jw_jobs_stats *out);

/*
 * Restart safety. A record is one job's full snapshot (state plus what the
 * broker needs internally: stall deadline as wall-clock time, heartbeat
 * interval, terminal-event fingerprint, ETA estimator, seq). Records are
 * opaque bytes to everyone else; the newest record of a key wins.
 *
 * jw_job_record: a malloc'd record of j (caller frees), *len its length,
 * NULL when out of memory. jw_job_key: "session/job", the record's key.
 * jw_jobs_restore: loads one record (replacing any job with the same key),
 * converting its wall-clock deadline to now's monotonic clock (a deadline
 * already passed fires on the next jw_jobs_pop_stalled). Returns 0, or -1
 * with err filled for a malformed record (nothing changed).
 */
char *jw_job_record(const struct jw_job *j, const struct jw_clock *now, size_t *len);
int jw_job_key(const struct jw_job *j, char *buf, size_t buflen);
int jw_jobs_restore(struct jw_jobs *jobs, const void *rec, size_t len, const struct jw_clock *now,
        char *err, size_t errlen);

/* Calls fn for every job (order unspecified); fn must not change the table. */
void jw_jobs_foreach(struct jw_jobs *jobs, void (*fn)(struct jw_job *j, void *arg), void *arg);

/* Applying a cancel: a set flag shows in the state as cancel_requested. */
bool jw_job_cancel_requested(const struct jw_job *j);

/*
 * Reviews. A control {"action":"review","choice":C,"comment":T} is
 * accepted only while the job is waiting on a validation-required event
 * not yet answered, and only with a choice among that event's actions
 * (any non-empty choice when it offered none); otherwise it is refused
 * (JW_REASON_NO_PENDING_REVIEW, JW_REASON_CHOICE_NOT_OFFERED, or
 * UNKNOWN_JOB / JOB_FINISHED as for any control). The decision shows in
 * the state as "review" until the next validation-required; the job stays
 * waiting until progress or an end.
 */
struct jw_review_info {
	/* JSON texts (strings with their quotes) or NULL; they point into the
	 * job and stay valid until it changes. */
	const char *reason, *item, *actions;
	double confidence;
	bool has_threshold;
	double threshold;
	int64_t asked_ms; /* the validation-required event's ts */
	const char *choice, *comment, *by;
	int64_t answered_ms;
};

/* Fills out with j's latest review and its answer: false (out zeroed)
 * when the job holds no answered review still pending. */
bool jw_job_review_info(const struct jw_job *j, struct jw_review_info *out);

/* Names who answered j's review (the token's subject, else the client
 * id; copied). 0, or -1 when out of memory or there is no answer. */
int jw_job_review_set_by(struct jw_jobs *jobs, struct jw_job *j, const char *who);
/* The job's attempt: 1, then 2, 3, ... as retries open new ones. */
unsigned jw_job_attempt(const struct jw_job *j);
/* Whether a retry was requested for the failed job j and no started
 * has opened the next attempt yet. */
bool jw_job_retry_requested(const struct jw_job *j);

/*
 * History (history.c, docs/lifecycle.md "History"): the last
 * cfg.history_events accepted events of each job, all attempts, oldest
 * first, kept as long as the job. Not in the job's record: a restored
 * job starts with an empty history.
 *
 * jw_jobs_history_add: keeps event[0..len) (the bytes as delivered,
 * "ts" included) of type for j, with j's current seq and attempt: call
 * it right after the event's ACCEPT, before the next call that may
 * evict. A full ring drops its oldest. Returns 0 (also when histories are
 * off), or -1 when out of memory: the event is not kept and counts as
 * dropped. The bytes are copied.
 */
struct jw_history_event {
	uint64_t seq;
	unsigned attempt;
	const char *type;  /* NUL-terminated */
	const void *event; /* len bytes, NUL after them */
	size_t len;
};
int jw_jobs_history_add(
        struct jw_jobs *jobs, struct jw_job *j, const char *type, const void *event, size_t len);
/* Events kept for j. */
size_t jw_job_history_count(const struct jw_job *j);
/* The i-th kept event, 0 the oldest: false when i >= count. Pointers
 * into the job, valid until its next change. */
bool jw_job_history_get(const struct jw_job *j, size_t i, struct jw_history_event *out);
/* Accepted events of j that its ring let go (its bound) or could not
 * keep (memory). */
uint64_t jw_job_history_dropped(const struct jw_job *j);
/* Whether the kept events are all j's accepted events, from its first:
 * as many as its seq (false after a restart, which keeps no history). */
bool jw_job_history_complete(const struct jw_job *j);

/* What the journal records of a finished job (see core/disk/journal_rec.h).
 * Strings point into the job and stay valid until the job changes. */
struct jw_job_summary {
	bool has_started; /* started_ms holds the first started event's ts */
	int64_t started_ms;
	bool has_progress;
	double progress; /* overall percent last known */
	bool has_duration;
	double duration_s;
	int64_t finished_ms; /* the terminal event's ts, else receipt */
	const char *error;   /* failed only, else NULL */
	const char *code;
	const char *result; /* complete: the result object's JSON text, or NULL */
	int retryable;      /* -1 not given, 0, 1 */
	bool broker_generated;
	unsigned attempt; /* 1, 2, ...: jw_job_attempt */
};

/* Fills out for j; returns false (out zeroed) when j is not finished. */
bool jw_job_summary(const struct jw_job *j, struct jw_job_summary *out);

#endif
