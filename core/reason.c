/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The string form of each rejection reason. These names appear in
 * rejection notices, logs and counters, so they are part of the contract:
 * add new ones, never rename.
 */
#include "reason.h"

static const char *const names[JW_REASON__COUNT] = {
        [JW_REASON_NONE] = "none",
        [JW_REASON_INVALID_TOPIC] = "invalid_topic",
        [JW_REASON_PROTECTED_TOPIC] = "protected_topic",
        [JW_REASON_UNKNOWN_EVENT_TYPE] = "unknown_event_type",
        [JW_REASON_EMPTY_PAYLOAD] = "empty_payload",
        [JW_REASON_PAYLOAD_TOO_LARGE] = "payload_too_large",
        [JW_REASON_INVALID_UTF8] = "invalid_utf8",
        [JW_REASON_INVALID_JSON] = "invalid_json",
        [JW_REASON_DUPLICATE_KEY] = "duplicate_key",
        [JW_REASON_TOO_DEEP] = "too_deep",
        [JW_REASON_NUMBER_OUT_OF_RANGE] = "number_out_of_range",
        [JW_REASON_NOT_AN_OBJECT] = "not_an_object",
        [JW_REASON_TOPIC_MISMATCH] = "topic_mismatch",
        [JW_REASON_SCHEMA_VIOLATION] = "schema_violation",
        [JW_REASON_INTERNAL] = "internal",
        [JW_REASON_RULE_VIOLATION] = "rule_violation",
        [JW_REASON_JOB_FINISHED] = "job_finished",
        [JW_REASON_PROGRESS_BACKWARDS] = "progress_backwards",
        [JW_REASON_UNKNOWN_JOB] = "unknown_job",
        [JW_REASON_TOO_MANY_JOBS] = "too_many_jobs",
        [JW_REASON_JOURNAL_FULL] = "journal_full",
        [JW_REASON_NOT_RETRYABLE] = "not_retryable",
        [JW_REASON_ATTEMPTS_EXHAUSTED] = "attempts_exhausted",
        [JW_REASON_NO_PENDING_REVIEW] = "no_pending_review",
        [JW_REASON_CHOICE_NOT_OFFERED] = "choice_not_offered",
};

const char *jw_reason_name(enum jw_reason reason)
{
	/* The cast catches negative values smuggled in through the enum. */
	if((unsigned)reason >= (unsigned)JW_REASON__COUNT || !names[reason])
		return "unknown";
	return names[reason];
}
