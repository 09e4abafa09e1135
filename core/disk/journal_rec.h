/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Journal records: what the broker thread writes to the journal spool for
 * each finished job (and each extra event type plugin_opt_journal_events
 * asks for), and how the journal thread turns one back into the parameters
 * of a row of jobwire_finished_jobs or jobwire_events
 * (plugin/sql/001_finished_jobs.sql, 002_attempts.sql). The spool form is one JSON object;
 * JSON values of the event (the event itself, its result, error and code)
 * are embedded as the exact text the broker holds. Pure: no I/O, no
 * threads, no global state, so both threads may call it.
 */
#ifndef JW_JOURNAL_REC_H
#define JW_JOURNAL_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum jw_journal_kind {
	JW_JOURNAL_FINISHED = 0, /* a row of jobwire_finished_jobs */
	JW_JOURNAL_EVENT,        /* a row of jobwire_events */
	JW_JOURNAL_REVIEW,       /* a row of jobwire_reviews (sql/reviews.sql) */
	JW_JOURNAL_STATION,      /* a row of jobwire_station_transitions (003_stations.sql):
	                            session is the station, job its new state
	                            ("online"/"offline"), event the status, spooled_ms
	                            the time of the change */
};

/* The broker thread's view. JSON members (event, result, error, code) are
 * JSON text; NULL (or has_* false) means SQL NULL. Nothing is kept. */
struct jw_journal_rec {
	enum jw_journal_kind kind;
	const char *session, *job, *type;
	const char *event; /* the event as delivered (with ts) */
	size_t event_len;
	const char *error, *code, *result; /* JSON text or NULL */
	int retryable;                     /* -1 unknown, 0, 1 */
	bool has_started, has_duration, has_progress;
	int64_t started_ms, finished_ms;
	double duration_s, progress;
	const char *client_id, *username, *node;
	bool broker_generated;
	uint64_t seq;       /* the job's per-job sequence at this event */
	int64_t spooled_ms; /* wall clock when spooled: journal lag */
	unsigned attempt;   /* finished: which attempt ended; review: the
	                       attempt it answered (0 taken as 1) */
	/* JW_JOURNAL_REVIEW (event: the review control; type "control"):
	 * the question and its answer. reason, item, choice and comment are
	 * JSON text (NULL: SQL NULL); by a plain string. */
	const char *reason, *item, *choice, *comment, *by;
	double confidence, threshold;
	bool has_threshold;
	int64_t asked_ms, answered_ms;
};

/*
 * Encodes r as one JSON object (malloc'd, *len its length, no NUL counted
 * but one is present). The JSON text members must be valid JSON (the
 * broker validated them). Returns NULL when out of memory or r lacks
 * session, job, type, event or node.
 */
char *jw_journal_rec_encode(const struct jw_journal_rec *r, size_t *len);

#define JW_JOURNAL_FINISHED_COLS 17
#define JW_JOURNAL_EVENT_COLS 9
#define JW_JOURNAL_REVIEW_COLS 16
#define JW_JOURNAL_STATION_COLS 7
#define JW_JOURNAL_MAX_COLS 17

/* Column names in parameter order; the SQL file defines them. */
extern const char *const jw_journal_finished_columns[JW_JOURNAL_FINISHED_COLS];
extern const char *const jw_journal_event_columns[JW_JOURNAL_EVENT_COLS];
extern const char *const jw_journal_review_columns[JW_JOURNAL_REVIEW_COLS];
extern const char *const jw_journal_station_columns[JW_JOURNAL_STATION_COLS];

/* A decoded record: text parameters for one row, NULL for SQL NULL. */
struct jw_journal_row {
	enum jw_journal_kind kind;
	int ncols;
	char *v[JW_JOURNAL_MAX_COLS];
	int64_t spooled_ms;
};

/* The times a record may hold, in ms since 1970: years 1 to 9999, what
 * RFC 3339 can write and PostgreSQL's timestamptz can store. No clock
 * gives anything else. */
#define JW_JOURNAL_TIME_MIN_MS (-62135596800000LL) /* 0001-01-01T00:00:00.000Z */
#define JW_JOURNAL_TIME_MAX_MS 253402300799999LL   /* 9999-12-31T23:59:59.999Z */

/*
 * Decodes a spooled record into row (the caller frees it with
 * jw_journal_row_cleanup, also after a failure). Timestamps become RFC
 * 3339 UTC text with milliseconds; booleans "true"/"false"; JSON members
 * their JSON text; error and code their string value. Returns 0, or -1
 * with err filled (not JSON, wrong kind, a required member missing or of
 * the wrong type, a time (st, fin, at, ask, ans) outside JW_JOURNAL_TIME_MIN_MS to
 * JW_JOURNAL_TIME_MAX_MS: only a damaged or forged record holds one).
 */
int jw_journal_rec_decode(
        const void *buf, size_t len, struct jw_journal_row *row, char *err, size_t errlen);

void jw_journal_row_cleanup(struct jw_journal_row *row);

/* RFC 3339 UTC with milliseconds ("2026-01-02T03:04:05.678Z") of a
 * wall-clock time in ms, clamped to JW_JOURNAL_TIME_MIN_MS to
 * JW_JOURNAL_TIME_MAX_MS (util/rfc3339.h); buf needs 25 bytes. Returns buf. */
char *jw_journal_format_ms(char *buf, size_t buflen, int64_t ms);

#endif
