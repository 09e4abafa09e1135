/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* What a replay of the key/value log delivered (jw_kvlog_replay,
 * jw_persist_load), collected by seen_cb so a test can look keys up:
 * shared by test_kvlog and test_persist. */
#ifndef JW_TEST_SEEN_H
#define JW_TEST_SEEN_H

#include <stddef.h>

struct seen_entry {
	char *key;
	char *val; /* len bytes and a NUL, so a text value reads as a string */
	size_t len;
};

/* Zero it before the first seen_cb; seen_free empties it again. */
struct seen {
	struct seen_entry *v;
	size_t n, cap;
};

/* The replay callback (arg is a struct seen): copies key and value, and
 * fails the test when a key comes twice or a value is NULL, since a replay
 * delivers every live key once, with its newest value. Returns 0. */
int seen_cb(const char *key, const void *val, size_t len, void *arg);

/* Frees every copy and zeroes s. */
void seen_free(struct seen *s);

/* The entry for key, or NULL when it was not delivered. */
const struct seen_entry *seen_get(const struct seen *s, const char *key);

/* Fails the test unless key was delivered with exactly the value val. */
void seen_assert_value(const struct seen *s, const char *key, const char *val);

#endif
