/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Validation alone: runs the plugin's per-message core work (topic parse and
 * jw_event_check, optionally the "ts" insertion) on one ~300-byte progress
 * event N times in one thread and prints events per second.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "event.h"
#include "util/clock.h"
#include "util/rfc3339.h"
#include "jdoc.h"
#include "payload.h"
#include "schemaset.h"
#include "topic.h"

#ifndef JW_SCHEMAS_DIR
#define JW_SCHEMAS_DIR "schemas"
#endif

struct options {
	uint64_t n;
	const char *schemas;
	const char *topic;
	size_t size;
	int splice;
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: validate_bench [-n N] [--schemas DIR] [--topic TOPIC] [--size BYTES] "
	        "[--splice]\n"
	        "  -n N        events to check (default 200000)\n"
	        "  --schemas   schema directory (default " JW_SCHEMAS_DIR ")\n"
	        "  --topic     job topic (default jobs/bench/job-1/progress)\n"
	        "  --size      payload size in bytes (default %u)\n"
	        "  --splice    also insert \"ts\" into each accepted payload, as the plugin does\n",
	        BENCH_PAYLOAD_SIZE);
}

static int parse_args(int argc, char **argv, struct options *o)
{
	uint64_t v;

	for(int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if(!strcmp(a, "--splice")) {
			o->splice = 1;
			continue;
		}
		if(!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			exit(0);
		}
		if(!val) {
			fprintf(stderr, "validate_bench: %s needs a value\n", a);
			return -1;
		}
		i++;
		if(!strcmp(a, "-n") && !bench_parse_u64(val, &v) && v > 0) {
			o->n = v;
		} else if(!strcmp(a, "--schemas")) {
			o->schemas = val;
		} else if(!strcmp(a, "--topic")) {
			o->topic = val;
		} else if(!strcmp(a, "--size") && !bench_parse_u64(val, &v) && v < BENCH_PAYLOAD_MAX) {
			o->size = (size_t)v;
		} else {
			fprintf(stderr, "validate_bench: bad option %s %s\n", a, val);
			return -1;
		}
	}
	return 0;
}

/* The plugin's per-message work for one event. Returns 0 when accepted. */
static int check_one(const struct jw_schemaset *set, const char *topic, const char *payload,
        size_t len, int splice, struct jw_rfc3339_cache *cache, struct jw_verdict *v)
{
	static struct jw_jdoc doc; /* reused, as the plugin's (never freed) */
	struct jw_topic t;
	char raw[44];
	size_t outlen = 0;
	void *out;
	int n;

	if(jw_topic_parse("jobs", topic, &t) != JW_TOPIC_JOB) {
		snprintf(v->message, sizeof(v->message), "not a job topic: %s", t.why);
		return -1;
	}
	if(jw_event_check_doc(set, &t, payload, len, NULL, &doc, v) < 0)
		return -1;
	if(splice && !jw_jnode_get(doc.root, "ts")) {
		int64_t now_ms = jw_clock_ms(CLOCK_REALTIME);

		raw[0] = '"';
		n = jw_rfc3339_format_cached(
		        cache, raw + 1, sizeof(raw) - 2, now_ms / 1000, (long)(now_ms % 1000) * 1000000L);
		if(n < 0) {
			snprintf(v->message, sizeof(v->message), "cannot format ts");
			return -1;
		}
		raw[n + 1] = '"';
		raw[n + 2] = '\0';
		out = jw_event_splice_member(payload, len, "ts", raw, malloc, &outlen);
		if(!out) {
			snprintf(v->message, sizeof(v->message), "out of memory");
			return -1;
		}
		free(out);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {200000, JW_SCHEMAS_DIR, "jobs/bench/job-1/progress", BENCH_PAYLOAD_SIZE, 0};
	struct jw_rfc3339_cache cache;
	struct jw_schemaset *set = NULL;
	struct jw_verdict v;
	char err[512], payload[BENCH_PAYLOAD_MAX];
	int64_t t0, t1, c0, c1;
	int len, rc = 1;
	double secs;

	if(parse_args(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	jw_rfc3339_cache_init(&cache);
	if(jw_schemaset_load_dir(o.schemas, &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "validate_bench: %s\n", err);
		return 1;
	}
	/* Step 425 of 1000 of a job, sent at t=1 s: a typical mid-job event. */
	len = bench_payload_format(payload, sizeof(payload), 425, 425, 1000, 1000000000, o.size);
	if(len < 0) {
		fprintf(stderr, "validate_bench: payload does not fit\n");
		goto out;
	}
	/* The payload must be accepted, or we would time the rejection path. */
	memset(&v, 0, sizeof(v));
	if(check_one(set, o.topic, payload, (size_t)len, o.splice, &cache, &v) < 0) {
		fprintf(stderr, "validate_bench: payload rejected: %s\n%s\n", v.message, payload);
		goto out;
	}
	t0 = jw_clock_ns(CLOCK_MONOTONIC);
	c0 = jw_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	for(uint64_t i = 0; i < o.n; i++) {
		if(check_one(set, o.topic, payload, (size_t)len, o.splice, &cache, &v) < 0) {
			fprintf(stderr, "validate_bench: rejected at %" PRIu64 ": %s\n", i, v.message);
			goto out;
		}
	}
	t1 = jw_clock_ns(CLOCK_MONOTONIC);
	c1 = jw_clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	secs = (double)(t1 - t0) / 1e9;
	printf("mode=%s events=%" PRIu64 " bytes=%d seconds=%.3f events_per_s=%.0f us_per_event=%.3f "
	       "cpu_us_per_event=%.3f\n",
	        o.splice ? "check+ts" : "check", o.n, len, secs, (double)o.n / secs,
	        (double)(t1 - t0) / 1e3 / (double)o.n, (double)(c1 - c0) / 1e3 / (double)o.n);
	rc = 0;
out:
	jw_schemaset_free(set);
	return rc;
}
