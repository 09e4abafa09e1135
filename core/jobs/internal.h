/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Internals of the job table shared by core/jobs*.c: the table and job
 * layouts, the counted allocator every file allocates through (so
 * memory_bytes is exact and tests can fail the Nth allocation), the
 * timers' heaps, and the JSON text helpers. Not part of
 * the API: the plugin includes jobs.h only.
 */
#ifndef JW_JOBS_INTERNAL_H
#define JW_JOBS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "jdoc.h"
#include "jobs.h"
#include "util/buf.h"
#include "util/heap.h"
#include "util/htab.h"
#include "util/rfc3339.h"

struct json_object;

/*
 * Everything declared here is internal to the library: hidden, so that in
 * the plugin (a shared object built with -fPIC) the calls between these
 * files go straight to the function instead of through the PLT, and the
 * compiler may inline them, as it cannot an interposable symbol.
 */
#pragma GCC visibility push(hidden)

/* The three timers, each an indexed min-heap over a job field. */
enum jw_jobs__heap_id {
	JW_HEAP_STALL = 0, /* unfinished jobs by deadline_mono */
	JW_HEAP_DUE,       /* held state updates by due_mono */
	JW_HEAP_ENDED,     /* finished jobs by end->ended_ms: eviction order */
	JW_HEAP__COUNT
};

/* Job flags: presence of optional fields and timer states. */
#define JW_JF_PROGRESS 0x0001u /* progress holds the overall percent */
#define JW_JF_CURRENT 0x0002u
#define JW_JF_TOTAL 0x0004u
#define JW_JF_ETA 0x0008u
#define JW_JF_ETA_EST 0x0010u /* eta_s was estimated by the broker */
#define JW_JF_ADDED 0x0020u
#define JW_JF_FAILED_ITEMS 0x0040u
#define JW_JF_STARTED 0x0080u /* a started event was accepted */
#define JW_JF_CANCEL 0x0100u
#define JW_JF_HELD 0x0200u       /* a state update waits in the due heap */
#define JW_JF_PUBLISHED 0x0400u  /* published_mono is meaningful */
#define JW_JF_REANCHOR 0x0800u   /* next progress restarts the ETA clock */
#define JW_JF_EST_ANCHOR 0x1000u /* est_progress/est_mono hold a sample */

/* End flags (struct jw_job_end.flags). */
#define JW_EF_DURATION 0x01u
#define JW_EF_HAS_RETRYABLE 0x02u
#define JW_EF_RETRYABLE 0x04u
#define JW_EF_HAS_BROKER_GEN 0x08u
#define JW_EF_BROKER_GEN 0x10u
#define JW_EF_RETRY 0x20u /* a retry was requested: retry_ms holds when */

/*
 * Stored texts (char *) are compact JSON: a string is kept with its quotes
 * and escapes ("\"Processing 45/100\""), arrays and objects as compact
 * text. Rendering state or a record is then a copy, strings with embedded
 * NUL survive, and no json-c tree stays alive per job.
 */

/* The pending review of a waiting job: allocated only while waiting. */
struct jw_job_review {
	char *reason;  /* string text */
	char *item;    /* object text or NULL */
	char *actions; /* array text or NULL */
	double confidence;
	double threshold;
	bool has_threshold;
	int64_t asked_ms; /* the validation-required event's ts, else receipt */
};

/* The answer to the job's latest review (review.c): kept after the job
 * goes on, until the next validation-required asks again. */
struct jw_job_decision {
	char *choice;  /* string text */
	char *comment; /* string text or NULL */
	char *by;      /* string text or NULL: who answered, as the broker knows
	                  them (jw_job_review_set_by) */
	int64_t at_ms; /* receipt of the answer */
	bool pending;  /* answers the review still pending (job waiting) */
};

/* What a terminal event left: allocated only once a job is finished. */
struct jw_job_end {
	char *error;   /* failed: string text */
	char *code;    /* failed: string text or NULL */
	char *details; /* failed: object text or NULL */
	char *result;  /* complete: object text or NULL */
	double duration_s;
	int64_t finished_ms; /* finished_at: the event's ts, else receipt */
	int64_t ended_ms;    /* receipt time: the eviction order */
	uint64_t fp_hash;    /* fingerprint of type and raw bytes */
	uint64_t fp_len;
	int64_t retry_ms; /* JW_EF_RETRY: receipt time of the first request */
	uint8_t flags;    /* JW_EF_* */
};

/*
 * A count the state shows (current, total, items_added, items_failed), as
 * the worker sent it: i, exact, when the event's number was an integer
 * that fits int64 (its JW_JX_* bit in the job's exact), else d. Kept as a
 * double only, 9007199254740993 would show as 9007199254740992.
 */
union jw_jobs__count {
	double d;
	int64_t i;
};

#define JW_JX_CURRENT 0x01u
#define JW_JX_TOTAL 0x02u
#define JW_JX_ADDED 0x04u
#define JW_JX_FAILED 0x08u

struct jw_job {
	char *name, *worker, *steps, *step, *message;
	char *station; /* the station started named (core/stations.h), or NULL */
	struct jw_job_review *review;
	struct jw_job_end *end;
	/* Reviews (review.c): the answer to the latest one, or NULL. */
	struct jw_job_decision *decision;
	double progress, eta_s, heartbeat_interval_s;
	union jw_jobs__count current, total, items_added, items_failed;
	int64_t first_seen_ms, started_ms, updated_ms, heartbeat_ms, cancel_ms;
	uint64_t seq;
	int64_t deadline_mono; /* last worker activity + 3 x interval */
	/* The stall heap's key: at most deadline_mono. Each event moves the
	 * deadline later; the heap entry is only re-sifted when the stale key
	 * reaches the top (jw_jobs_pop_stalled), not on every event. */
	int64_t stall_key;
	int64_t due_mono;       /* while held: when the update goes out */
	int64_t published_mono; /* last state publish */
	/* ETA estimator (eta.c): the sample the next rate is measured
	 * from, the smoothed rate before bias correction, and its weight. */
	double est_progress, est_rate, est_weight;
	int64_t est_mono;
	uint32_t heap_pos[JW_HEAP__COUNT]; /* index + 1 in each heap, 0: absent */
	/* Bytes allocated for step and message (0: strlen + 1): a new text
	 * that fits is written over the old one, no allocation per event. */
	uint32_t step_cap, message_cap;
	uint16_t flags; /* JW_JF_* */
	uint8_t exact;  /* JW_JX_*: which counts hold i */
	uint8_t status; /* enum jw_job_status */
	uint8_t session_len;
	uint8_t job_len;
	/* Retry (retry.c): attempts opened by a retry, so the attempt is
	 * retries + 1. In what was padding: the struct does not grow. */
	uint16_t retries;
	struct jw_job_history *history; /* history.c; NULL until an event is kept */
	char ids[];                     /* session '\0' job '\0' */
};

struct jw_jobs {
	struct jw_jobs_config cfg;
	int64_t state_interval_ms;
	uint64_t seed;                        /* of the key hashes */
	struct jw_alloc alloc;                /* jw_jobs__alloc, for the table and heaps */
	struct jw_htab table;                 /* the jobs by key; table.count: how many */
	struct jw_heap heaps[JW_HEAP__COUNT]; /* by enum jw_jobs__heap_id */
	size_t by_status[JW_JOB__STATUS_COUNT];
	uint64_t stalled;
	uint64_t evicted;
	size_t mem;            /* bytes allocated through jw_jobs__alloc */
	size_t history_events; /* kept in all the histories (history.c) */
	size_t history_bytes;  /* of mem, what the histories use */
	/* Histories by their last addition, least recent first (history.c):
	 * what goes when history_max_bytes is passed. */
	struct jw_job_history *history_lru, *history_mru;
	uint64_t history_shed; /* events dropped to stay within the bound */
	/* jw_jobs_state_render's output, reused from state to state, and
	 * the formatted seconds its timestamps mostly share: [0] recent
	 * times, [1] the jobs' first times. */
	struct jw_buf render;
	struct jw_rfc3339_cache ts_cache[2];
	long fail_after; /* test hook: allocations before one fails, -1 off */
};

/* Counted allocation (zeroed). NULL on failure or injected failure. */
void *jw_jobs__alloc(struct jw_jobs *jobs, size_t n);
/* The same, not zeroed: for a buffer written before it is read (a
 * history's, where zeroing would double the cost of growing it). */
void *jw_jobs__alloc_raw(struct jw_jobs *jobs, size_t n);
/* Releases n bytes from jw_jobs__alloc. NULL is a no-op. */
void jw_jobs__release(struct jw_jobs *jobs, void *p, size_t n);
/* The same as a struct jw_alloc, for the hash table and the heaps. */
struct jw_alloc jw_jobs__counted(struct jw_jobs *jobs);
/* Fails the allocation after the next n (0: the next one); -1 disarms.
 * For tests: proves every path survives out of memory. */
void jw_jobs__fail_alloc(struct jw_jobs *jobs, long n);

/* A counted copy of s[0..n) plus NUL, or NULL. */
char *jw_jobs__text_dup(struct jw_jobs *jobs, const char *s, size_t n);
/* Compact JSON text of o (any type), counted; NULL when out of memory. */
char *jw_jobs__text_of(struct jw_jobs *jobs, struct json_object *o);
struct jw_jnode;
char *jw_jobs__text_of_node(struct jw_jobs *jobs, const struct jw_jnode *n);
void jw_jobs__text_free(struct jw_jobs *jobs, char *s);
/* The same for a text allocated with cap bytes (0: strlen + 1). */
void jw_jobs__text_free_cap(struct jw_jobs *jobs, char *s, uint32_t cap);
/* The text of n through json-c: containers and strings needing escapes. */
char *jw_jobs__text_of_node_slow(struct jw_jobs *jobs, const struct jw_jnode *n);
/* Whether json-c would write s[0..n) between the quotes unchanged. */
bool jw_jobs__plain_ascii(const char *s, size_t n);

/* Whether string node n can be written between quotes as it is: the
 * parser's flag when it set it, else a scan. */
static inline bool jw_jobs__node_plain(const struct jw_jnode *n)
{
	return n->plain || jw_jobs__plain_ascii(n->u.s, n->n);
}

/* Writes plain string n with its quotes and a NUL: n->n + 3 bytes. */
static inline void jw_jobs__put_quoted(char *t, const struct jw_jnode *n)
{
	t[0] = '"';
	memcpy(t + 1, n->u.s, n->n);
	t[n->n + 1] = '"';
	t[n->n + 2] = '\0';
}
/* Puts the job in the stall heap at its deadline_mono, or moves it there
 * when the deadline is earlier than its key; a later deadline waits until
 * the key comes up in jw_jobs_pop_stalled. */
void jw_jobs__stall_arm(struct jw_jobs *jobs, struct jw_job *j);

/* A new job for the key (not inserted); NULL when out of memory. */
struct jw_job *jw_jobs__job_new(
        struct jw_jobs *jobs, const char *session, size_t slen, const char *job, size_t jlen);
/* Frees j and everything it owns (j must be out of the table and heaps). */
void jw_jobs__job_free(struct jw_jobs *jobs, struct jw_job *j);
void jw_jobs__review_free(struct jw_jobs *jobs, struct jw_job_review *r);
void jw_jobs__end_free(struct jw_jobs *jobs, struct jw_job_end *e);

/* Reviews (review.c). */
void jw_jobs__decision_free(struct jw_jobs *jobs, struct jw_job_decision *d);
/* A review control ({"action":"review"}) for j (NULL: unknown): 0 when
 * accepted (the decision recorded, v->reason JW_REASON_NONE) or refused
 * (v filled); -1 out of memory (nothing changed). */
int jw_jobs__apply_review(struct jw_jobs *jobs, struct jw_job *j, const char *job,
        const struct jw_jnode *ev, const struct jw_clock *now, struct jw_verdict *v);

/* Room for one more job in the hash table and every heap, so inserting
 * and every later heap push cannot fail. 0 or -1 (nothing changed). */
int jw_jobs__reserve(struct jw_jobs *jobs);
/* Inserts j (key must be absent, room reserved) and files it in the
 * stall or ended heap by its status. */
void jw_jobs__insert(struct jw_jobs *jobs, struct jw_job *j);
/* Removes j from the table and every heap (not freed). */
void jw_jobs__detach(struct jw_jobs *jobs, struct jw_job *j);
/* Evicts the finished job that ended first. false when none is finished. */
bool jw_jobs__evict_one(struct jw_jobs *jobs);
/* The stall timeout in force: 3 x the heartbeat interval, in ms. */
int64_t jw_jobs__timeout_ms(const struct jw_job *j);
/* Fingerprint of a terminal event: 64-bit hash of type, NUL and raw. */
uint64_t jw_jobs__fingerprint(const char *type, const void *raw, size_t rawlen);

/* Files j in heap id at its key there (stall_key, due_mono, or
 * end->ended_ms), or moves it to that key. Room was reserved when j
 * entered the table (jw_jobs__reserve), so it cannot fail. */
void jw_jobs__heap_set(struct jw_jobs *jobs, enum jw_jobs__heap_id id, struct jw_job *j);

/* Frees j's history (history.c); j->history is NULL afterwards. */
void jw_jobs__history_free(struct jw_jobs *jobs, struct jw_job *j);

/* Retry (retry.c, docs/lifecycle.md "Retry"). */
/* Applies a control {"action":"retry"} to j (NULL: unknown job): true
 * when accepted (the request is recorded), false with *v filled. */
bool jw_jobs__retry_request(struct jw_jobs *jobs, struct jw_job *j, const char *job,
        const struct jw_clock *now, struct jw_verdict *v);
/* Whether a started event for finished job j opens its next attempt. */
bool jw_jobs__retry_opens(const struct jw_job *j);
/* Opens j's next attempt: the end is dropped and j is running again,
 * as a job no event has touched but for its ids, first_seen_at, seq,
 * name, worker, steps and heartbeat interval. Cannot fail. */
void jw_jobs__retry_open(struct jw_jobs *jobs, struct jw_job *j);

/* ETA estimator (eta.c). */
#define JW_ETA_TAU_S 30.0   /* smoothing time constant */
#define JW_ETA_MIN_DT_MS 50 /* closer samples accumulate into the next */
/* Folds an overall-progress sample taken at mono_ms into the rate. */
void jw_jobs__eta_sample(struct jw_job *j, double progress, int64_t mono_ms);
/* The estimate for progress p: true with *eta_s when the rate allows. */
bool jw_jobs__eta_estimate(const struct jw_job *j, double p, double *eta_s);

/*
 * JSON writing into a util/buf.h buffer (plain malloc: what it builds is
 * handed to the caller); a failure is kept in the buffer, so a writer
 * checks once, at jw_buf_take.
 */
/* Appends ',' unless right after '{', then "key":. */
void jw_jobs__buf_key(struct jw_buf *b, const char *key);
void jw_jobs__buf_num(struct jw_buf *b, double v);
void jw_jobs__buf_i64(struct jw_buf *b, int64_t v);
void jw_jobs__buf_u64(struct jw_buf *b, uint64_t v);
/* "2026-11-22T02:40:00.123Z" with quotes. */
void jw_jobs__buf_ts(struct jw_buf *b, int64_t real_ms);
/* "key":value members ("key" skipped for a NULL text). */
void jw_jobs__add_text(struct jw_buf *b, const char *key, const char *text);
void jw_jobs__add_num(struct jw_buf *b, const char *key, double v);
/* A count: its int64 when bit is set in exact, else its double. */
void jw_jobs__add_count(
        struct jw_buf *b, const char *key, union jw_jobs__count c, unsigned exact, unsigned bit);
/* The same with jw_jobs__fmt_num_exact: for job records, not the state. */
void jw_jobs__add_num_exact(struct jw_buf *b, const char *key, double v);
void jw_jobs__add_bool(struct jw_buf *b, const char *key, bool v);
/* name .. items_failed, shared by the state JSON and the record. */
void jw_jobs__add_progress(struct jw_buf *b, const struct jw_job *j);

/* Shortest text that reads back as v exactly; integers without ".0". */
void jw_jobs__fmt_num(char *buf, size_t buflen, double v);
/*
 * Text that reads back as v exactly, for the job records only: short
 * decimals as jw_jobs__fmt_num writes them, anything else with 17
 * significant digits (one printf, no search for the shortest form).
 */
void jw_jobs__fmt_num_exact(char *buf, size_t buflen, double v);
/* RFC 3339 date-time to ms since the epoch, a leap second anywhere taken
 * as the millisecond before it. false for anything before 1970, after
 * JW_TS_MAX_MS or unparseable (the caller then uses the receipt time). */
bool jw_jobs__parse_ts(const char *s, size_t len, int64_t *real_ms);
/* Formats real_ms as RFC 3339 UTC with milliseconds; length or -1. */
int jw_jobs__format_ts(char *buf, size_t buflen, int64_t real_ms);

/* Latest year a timestamp may have: state timestamps keep 4 digits. */
#define JW_TS_MAX_MS INT64_C(253402300799999) /* 9999-12-31T23:59:59.999Z */

#pragma GCC visibility pop

#endif
