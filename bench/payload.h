/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The benchmark event: one ~300-byte progress payload that carries its own
 * send time, shared by mqtt_bench and validate_bench so both measure the
 * same bytes.
 */
#ifndef JW_BENCH_PAYLOAD_H
#define JW_BENCH_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

/* Default payload size in bytes and the largest one bench_payload_format
 * can produce. */
#define BENCH_PAYLOAD_SIZE 300u
#define BENCH_PAYLOAD_MAX 1024u

/*
 * Writes a progress event for message seq into buf (NUL-terminated): job
 * step n of per_job (so progress and current only grow within a job and
 * current < total), with the send time t_ns (CLOCK_MONOTONIC nanoseconds)
 * and seq inside "message", padded with text to about target bytes. There
 * is deliberately no "ts": the broker adds it. Returns the length, or -1
 * when buf is too small.
 */
int bench_payload_format(char *buf, size_t buflen, uint64_t seq, uint64_t n, uint64_t per_job,
        int64_t t_ns, size_t target);

/*
 * Reads back the send time and seq from a NUL-terminated payload made by
 * bench_payload_format (the broker may have inserted members before it).
 * Returns 0, or -1 when the payload carries no benchmark marker.
 */
int bench_payload_parse(const char *payload, int64_t *t_ns, uint64_t *seq);

/* A whole decimal number (no sign, no suffix) for command-line options.
 * Returns 0, or -1 when s is not one or is out of range. */
int bench_parse_u64(const char *s, uint64_t *out);

#endif
