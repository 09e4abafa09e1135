/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Finding a job by its key, for table.c and apply.c: inline, because
 * every event does it. Internal to core/jobs/.
 */
#ifndef JW_JOBS_LOOKUP_H
#define JW_JOBS_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "util/hash.h"

/* Whether a[0..n) equals b[0..n): ids are short, and a memcmp call costs
 * more than the comparison itself. */
static inline bool bytes_eq(const char *a, const char *b, size_t n)
{
	uint64_t x, y, u, v;

	if(n < 8) {
		uint32_t p, q, r, t;

		if(n < 4) {
			for(size_t i = 0; i < n; i++) {
				if(a[i] != b[i])
					return false;
			}
			return true;
		}
		/* Two overlapping words cover 4 to 7 bytes. */
		memcpy(&p, a, 4);
		memcpy(&q, b, 4);
		memcpy(&r, a + n - 4, 4);
		memcpy(&t, b + n - 4, 4);
		return p == q && r == t;
	}
	for(; n > 8; a += 8, b += 8, n -= 8) {
		memcpy(&x, a, 8);
		memcpy(&y, b, 8);
		if(x != y)
			return false;
	}
	/* The last eight, overlapping what was compared when n < 8 now. */
	memcpy(&u, a + n - 8, 8);
	memcpy(&v, b + n - 8, 8);
	return u == v;
}

/* In memory only (records do not store it), so it may change freely. The
 * session and the job are folded apart, so that "ab"/"c" and "a"/"bc"
 * differ. */
static inline __attribute__((always_inline)) uint64_t key_hash(
        uint64_t seed, const char *session, size_t slen, const char *job, size_t jlen)
{
	uint64_t h = JW_HASH_FNV_OFFSET ^ seed;

	h = jw_hash_fold(h, session, slen);
	h = jw_hash_fold(h, job, jlen);
	return jw_hash_mix(h);
}

static inline const char *job_part(const struct jw_job *j)
{
	return j->ids + j->session_len + 1;
}

/* The job of the key (ids measured and valid, h their key_hash), or NULL. */
static inline __attribute__((always_inline)) struct jw_job *find_key(const struct jw_jobs *jobs,
        uint64_t h, const char *session, size_t slen, const char *job, size_t jlen)
{
	size_t pos;

	for(struct jw_job *j = jw_htab_first(&jobs->table, h, &pos); j;
	        j = jw_htab_next(&jobs->table, h, &pos)) {
		if(j->session_len == slen && j->job_len == jlen && bytes_eq(j->ids, session, slen) &&
		        bytes_eq(job_part(j), job, jlen))
			return j;
	}
	return NULL;
}

#endif
