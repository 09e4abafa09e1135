/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * What the benchmark tools share: the event (a valid schemas/progress.json
 * payload with its send time in the "message" text) and option parsing.
 */
#include "payload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Marks the start of the machine-readable part of "message". */
#define MARK "bench t="

/* Plain ASCII filler for "message": nothing that needs JSON escaping. */
static const char filler[] =
        "Processing variant batch, writing segment index and checksums for the "
        "current chunk; resolving references against the catalogue; uploading "
        "thumbnails; waiting for the encoder queue to drain before the next "
        "pass; retrying transient storage errors with backoff where needed. "
        "Processing variant batch, writing segment index and checksums for the "
        "current chunk; resolving references against the catalogue; uploading "
        "thumbnails; waiting for the encoder queue to drain before the next "
        "pass; retrying transient storage errors with backoff where needed.";

int bench_payload_format(char *buf, size_t buflen, uint64_t seq, uint64_t n, uint64_t per_job,
        int64_t t_ns, size_t target)
{
	double progress = per_job ? 100.0 * (double)n / (double)per_job : 0.0;
	uint64_t eta = per_job > n ? per_job - n : 0;
	size_t pad = 0;
	int len = -1;

	/* The first pass measures the unpadded event, the second pads it. */
	for(int pass = 0; pass < 2; pass++) {
		len = snprintf(buf, buflen,
		        "{\"progress\":%.1f,\"current\":%" PRIu64 ",\"total\":%" PRIu64
		        ",\"message\":\"" MARK "%" PRId64 " seq=%" PRIu64 " %.*s\""
		        ",\"step\":\"segmenting\",\"eta_s\":%" PRIu64 ",\"items_added\":%" PRIu64 "}",
		        progress, n, per_job, t_ns, seq, (int)pad, filler, eta, n);
		if(len < 0 || (size_t)len >= buflen)
			return -1;
		if((size_t)len >= target || pad)
			break;
		pad = target - (size_t)len;
		if(pad > sizeof(filler) - 1)
			pad = sizeof(filler) - 1;
	}
	return len;
}

int bench_payload_parse(const char *payload, int64_t *t_ns, uint64_t *seq)
{
	const char *p = strstr(payload, MARK);
	char *end;
	long long t;
	unsigned long long s;

	if(!p)
		return -1;
	p += sizeof(MARK) - 1;
	errno = 0;
	t = strtoll(p, &end, 10);
	if(errno || end == p || strncmp(end, " seq=", 5) != 0)
		return -1;
	p = end + 5;
	s = strtoull(p, &end, 10);
	if(errno || end == p)
		return -1;
	*t_ns = (int64_t)t;
	*seq = (uint64_t)s;
	return 0;
}

int bench_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if(!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if(errno || *end)
		return -1;
	*out = (uint64_t)v;
	return 0;
}
