/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Collects what a replay of the key/value log delivered, for the tests of
 * the log (test_kvlog) and of its writer thread (test_persist). */
#include "seen.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

int seen_cb(const char *key, const void *val, size_t len, void *arg)
{
	struct seen *s = arg;

	ck_assert_ptr_nonnull(val);
	for(size_t i = 0; i < s->n; i++) {
		ck_assert_msg(strcmp(s->v[i].key, key) != 0, "key %s delivered twice", key);
	}
	if(s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		ck_assert_ptr_nonnull(s->v);
	}
	s->v[s->n].key = strdup(key);
	s->v[s->n].val = malloc(len + 1);
	ck_assert_ptr_nonnull(s->v[s->n].key);
	ck_assert_ptr_nonnull(s->v[s->n].val);
	memcpy(s->v[s->n].val, val, len);
	s->v[s->n].val[len] = '\0';
	s->v[s->n].len = len;
	s->n++;
	return 0;
}

void seen_free(struct seen *s)
{
	for(size_t i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].val);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

const struct seen_entry *seen_get(const struct seen *s, const char *key)
{
	for(size_t i = 0; i < s->n; i++) {
		if(strcmp(s->v[i].key, key) == 0) {
			return &s->v[i];
		}
	}
	return NULL;
}

void seen_assert_value(const struct seen *s, const char *key, const char *val)
{
	const struct seen_entry *e = seen_get(s, key);

	ck_assert_msg(e != NULL, "key %s missing", key);
	ck_assert_msg(e->len == strlen(val) && memcmp(e->val, val, e->len) == 0,
	        "key %s is \"%.*s\" (%zu bytes), not \"%s\"", key, (int)(e->len < 200 ? e->len : 200),
	        e->val, e->len, val);
}
