/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Event checks: everything between "a PUBLISH arrived on a job topic" and
 * "it may be delivered": size cap, strict UTF-8 JSON, object shape, topic
 * binding (type / job_id / session_id), schema. Also the byte-exact
 * insertion of broker fields (ts) into an accepted payload.
 */
#ifndef JW_EVENT_H
#define JW_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "reason.h"

struct jw_schemaset;
struct jw_topic;

struct jw_event_limits {
	size_t max_payload; /* bytes; default JW_DEFAULT_MAX_PAYLOAD */
	size_t max_depth;   /* nesting levels; default JW_DEFAULT_MAX_DEPTH */
};

#define JW_DEFAULT_MAX_PAYLOAD (64u * 1024u)
#define JW_DEFAULT_MAX_DEPTH 32u

/* The verdict on one event: reason NONE means accepted. */
struct jw_verdict {
	enum jw_reason reason;
	char field[256];   /* JSON pointer of the offending field, "" if n/a */
	char keyword[32];  /* schema keyword for SCHEMA_VIOLATION, else "" */
	char message[400]; /* human-readable, specific, e.g.
	                      "/progress: maximum 100, got 140" */
};

/*
 * Checks payload[0..len) published on the job topic t against set and
 * limits, parsing into doc (jdoc.h; the caller's, reused from call to
 * call: the per-message path allocates nothing once doc is warm). On
 * acceptance returns 0 and doc->root is the event object, valid until
 * doc's next parse, reset or free. On rejection returns -1 with *v filled
 * (reason, field, keyword, message: event.h's struct jw_verdict) and
 * doc->root NULL. v must not be NULL; payload is only read. Pure: no I/O,
 * no globals; any thread, one doc per thread.
 */
struct jw_jdoc;
int jw_event_check_doc(const struct jw_schemaset *set, const struct jw_topic *t,
        const void *payload, size_t len, const struct jw_event_limits *limits, struct jw_jdoc *doc,
        struct jw_verdict *v);

/*
 * jw_event_check_doc with a document of its own, for callers that want
 * only the verdict (the command-line tool): returns 0 or -1 as it does.
 */
int jw_event_check(const struct jw_schemaset *set, const struct jw_topic *t, const void *payload,
        size_t len, const struct jw_event_limits *limits, struct jw_verdict *v);

/*
 * Inserts the member "key":<raw_value> as the first member of the JSON
 * object text payload[0..len), which must already have passed
 * jw_event_check. raw_value is inserted verbatim (e.g. "\"2026-...Z\"" or
 * "17"). Everything else stays byte-for-byte as published.
 *
 * alloc is the allocator for the result (the plugin passes mosquitto_malloc
 * so the broker can free it). Returns the new buffer and its length in
 * *outlen, or NULL when allocation fails.
 */
void *jw_event_splice_member(const void *payload, size_t len, const char *key,
        const char *raw_value, void *(*alloc)(size_t), size_t *outlen);

#endif
