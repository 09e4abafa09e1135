/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The one 64-bit hash of jobwire's in-memory tables: bytes folded eight at
 * a time with a multiply (short ids, the usual key, take one to three
 * rounds), then the splitmix64 finaliser, which spreads every input bit
 * over the low bits a power-of-two table indexes with. Values may change
 * between releases: never store one. What is stored (the job fingerprint
 * in job records) uses jw_hash_fnv1a, whose values are fixed.
 *
 * Pure functions of their arguments: any thread. Inline, because the job
 * lookup and the type lookup run them for every message.
 */
#ifndef JW_UTIL_HASH_H
#define JW_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* FNV-1a's 64-bit offset basis: the start of jw_hash_fnv1a, and mixed
 * into every jw_hash seed so that seed 0 is not a weak start. */
#define JW_HASH_FNV_OFFSET UINT64_C(0xcbf29ce484222325)

/* splitmix64's finaliser: a bijection of x in which every input bit
 * reaches every output bit. Alone, it hashes a pointer or an integer. */
static inline uint64_t jw_hash_mix(uint64_t x)
{
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

/*
 * Folds p[0..n) into the running state h, eight bytes a round (the tail
 * as one short word), with n mixed in first: folding "ab" then "c" differs
 * from "a" then "bc", so keys made of several parts can be folded part by
 * part. Finish with jw_hash_mix. Reads exactly the n bytes.
 */
static inline uint64_t jw_hash_fold(uint64_t h, const void *p, size_t n)
{
	const uint64_t k = UINT64_C(0x9e3779b97f4a7c15);
	const unsigned char *s = p;
	uint64_t w;

	h = (h ^ n) * k;
	for(; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	if(n >= 4) {
		/* Two overlapping words: n itself is already in h. */
		uint32_t a, b;

		memcpy(&a, s, 4);
		memcpy(&b, s + n - 4, 4);
		w = (uint64_t)a << 32 | b;
	} else if(n > 0) {
		/* One to three bytes: these three are all of them. */
		w = (uint64_t)s[0] << 16 | (uint64_t)s[n / 2] << 8 | s[n - 1];
	} else {
		return h;
	}
	h = (h ^ w) * k;
	h ^= h >> 29;
	return h;
}

/* The hash of p[0..n) under seed (a table's secret, or 0). */
static inline uint64_t jw_hash(const void *p, size_t n, uint64_t seed)
{
	return jw_hash_mix(jw_hash_fold(JW_HASH_FNV_OFFSET ^ seed, p, n));
}

/* The hash of a pointer's value (the pointer is never read through). */
static inline uint64_t jw_hash_ptr(const void *p)
{
	return jw_hash_mix((uint64_t)(uintptr_t)p);
}

/*
 * FNV-1a, 64 bits: continues h (start with JW_HASH_FNV_OFFSET) over
 * p[0..n). Byte at a time, so slower than jw_hash; its values are fixed by
 * its definition, which is why values written to disk use it.
 */
static inline uint64_t jw_hash_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *u = p;

	for(size_t i = 0; i < n; i++) {
		h ^= u[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

#endif
