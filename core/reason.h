/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Why an event was refused: the stable, machine-readable reason codes that
 * travel in rejection notices, logs and counters. The string form of each
 * code is part of the public contract (docs/topics.md); never rename one.
 */
#ifndef JW_REASON_H
#define JW_REASON_H

enum jw_reason {
	JW_REASON_NONE = 0,
	JW_REASON_INVALID_TOPIC,      /* topic under the prefix but malformed */
	JW_REASON_PROTECTED_TOPIC,    /* state / rejection topics: broker only */
	JW_REASON_UNKNOWN_EVENT_TYPE, /* no schema file for the topic's event */
	JW_REASON_EMPTY_PAYLOAD,
	JW_REASON_PAYLOAD_TOO_LARGE,
	JW_REASON_INVALID_UTF8,
	JW_REASON_INVALID_JSON,
	JW_REASON_DUPLICATE_KEY,
	JW_REASON_TOO_DEEP,
	JW_REASON_NUMBER_OUT_OF_RANGE,
	JW_REASON_NOT_AN_OBJECT,
	JW_REASON_TOPIC_MISMATCH, /* type / job_id / session_id disagree */
	JW_REASON_SCHEMA_VIOLATION,
	JW_REASON_INTERNAL,           /* out of memory and the like */
	JW_REASON_RULE_VIOLATION,     /* a contract rule JSON Schema cannot say */
	JW_REASON_JOB_FINISHED,       /* event for a complete or failed job */
	JW_REASON_PROGRESS_BACKWARDS, /* overall progress would decrease */
	JW_REASON_UNKNOWN_JOB,        /* control for a job the broker never saw */
	JW_REASON_TOO_MANY_JOBS,      /* table full of unfinished jobs */
	JW_REASON_JOURNAL_FULL,       /* journal spool full (or unwritable) */
	JW_REASON_NOT_RETRYABLE,      /* retry for a job not failed retryable */
	JW_REASON_ATTEMPTS_EXHAUSTED, /* retry past plugin_opt_max_attempts */
	JW_REASON_NO_PENDING_REVIEW,  /* review: the job waits on no review */
	JW_REASON_CHOICE_NOT_OFFERED, /* review: choice not among the actions */
	JW_REASON__COUNT
};

/* The snake_case name of a reason, e.g. "schema_violation". Never NULL. */
const char *jw_reason_name(enum jw_reason reason);

#endif
