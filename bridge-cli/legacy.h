/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Maps the JSON messages of legacy progress WebSocket feeds (the
 * FastAPI + Redis designs jobwire replaces) to jobwire events. Pure: one
 * message in, at most one event out, plus a small per-job memory (last
 * progress, items added) so that item-only messages can be expressed.
 * Messages the mapper cannot express are reported with a reason, never
 * guessed at. The formats are documented in docs/cli.md#bridge.
 */
#ifndef JW_CLI_LEGACY_H
#define JW_CLI_LEGACY_H

#include <stddef.h>

#include "topic.h"

struct jw_legacy;

enum jw_legacy_result {
	JW_LEGACY_EVENT = 0,   /* *ev holds an event to publish */
	JW_LEGACY_IGNORED = 1, /* a known message with no job meaning (pong, connected) */
	JW_LEGACY_UNMAPPED = 2 /* why says what is missing or unknown */
};

struct jw_legacy_event {
	char session[JW_ID_MAX + 1];
	char job[JW_ID_MAX + 1];
	char type[65]; /* jobwire event type */
	char *payload; /* JSON object text, malloc'd; jw_legacy_event_cleanup */
};

/* New mapper; default_session is used when a message names no session
 * (must be a valid id). Returns NULL on bad session or no memory. */
struct jw_legacy *jw_legacy_new(const char *default_session);
void jw_legacy_free(struct jw_legacy *lg);

/*
 * Maps msg[0..len). On JW_LEGACY_EVENT, *ev is filled and its payload
 * owned by the caller. On the other results *ev is empty and why (for
 * UNMAPPED and IGNORED) says why.
 */
enum jw_legacy_result jw_legacy_map(struct jw_legacy *lg, const char *msg, size_t len,
        struct jw_legacy_event *ev, char *why, size_t whylen);

/* Frees ev->payload; safe twice. */
void jw_legacy_event_cleanup(struct jw_legacy_event *ev);

#endif
