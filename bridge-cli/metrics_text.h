/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The Prometheus text exposition (format 0.0.4) of a broker's
 * $jobwire/stats message: what `jobwire metrics` serves on /metrics.
 * Pure (json-c only), so the unit tests check every name and value.
 */
#ifndef JW_CLI_METRICS_TEXT_H
#define JW_CLI_METRICS_TEXT_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

/* The exporter's view of the broker when a scrape arrives. */
struct jw_metrics_input {
	int connected;             /* the MQTT connection is up */
	struct json_object *stats; /* the latest $jobwire/stats payload, or NULL */
	int64_t clients_connected; /* $SYS/broker/clients/connected, -1 unknown */
	double now_s;              /* wall clock, seconds since the epoch */
};

/* The Content-Type of the text format. */
#define JW_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Renders the exposition. jobwire_up is 1 only when connected and a stats
 * message has arrived; otherwise the output is jobwire_up 0 alone, so a
 * broker that is down never shows stale counters. Returns 0 with *out
 * (malloc'd, NUL-terminated, free()) and *len, or -1 (out of memory).
 */
int jw_metrics_render(const struct jw_metrics_input *in, char **out, size_t *len);

#endif
