/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The table's counted memory (memory_bytes in the stats, and the test
 * hook that makes an allocation fail), and the job's stored texts: each
 * JSON member an event carried, kept as its JSON text (quoted strings,
 * objects as json-c prints them), so the state and the records are
 * written without re-parsing anything.
 */
#include "internal.h"
#include "jdoc.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* ---- counted allocation ---- */

/* Whether the test hook lets this allocation be tried. */
static bool may_alloc(struct jw_jobs *jobs)
{
	if(jobs->fail_after == 0) {
		jobs->fail_after = -1;
		return false;
	}
	if(jobs->fail_after > 0)
		jobs->fail_after--;
	return true;
}

void *jw_jobs__alloc(struct jw_jobs *jobs, size_t n)
{
	void *p = may_alloc(jobs) ? calloc(1, n) : NULL;

	if(p)
		jobs->mem += n;
	return p;
}

void *jw_jobs__alloc_raw(struct jw_jobs *jobs, size_t n)
{
	void *p = may_alloc(jobs) ? malloc(n) : NULL;

	if(p)
		jobs->mem += n;
	return p;
}

void jw_jobs__release(struct jw_jobs *jobs, void *p, size_t n)
{
	if(!p)
		return;
	jobs->mem -= n;
	free(p);
}

/* The same as a struct jw_alloc, for the hash table and the heaps. */
static void *counted_alloc(void *ctx, size_t n)
{
	return jw_jobs__alloc(ctx, n);
}

static void counted_release(void *ctx, void *p, size_t n)
{
	jw_jobs__release(ctx, p, n);
}

struct jw_alloc jw_jobs__counted(struct jw_jobs *jobs)
{
	return (struct jw_alloc){counted_alloc, counted_release, jobs};
}

void jw_jobs__fail_alloc(struct jw_jobs *jobs, long n)
{
	jobs->fail_after = n < 0 ? -1 : n;
}

/* ---- stored texts ---- */

char *jw_jobs__text_dup(struct jw_jobs *jobs, const char *s, size_t n)
{
	char *t = jw_jobs__alloc(jobs, n + 1);

	if(!t)
		return NULL;
	memcpy(t, s, n);
	t[n] = '\0';
	return t;
}

/*
 * Whether json-c would write s[0..n) between the quotes unchanged: printable
 * ASCII other than '"' and '\\' ('/' stays as is with NOSLASHESCAPE).
 * Anything else, including every byte >= 0x7F, is left to json-c.
 */
bool jw_jobs__plain_ascii(const char *s, size_t n)
{
	const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
	size_t i = 0;

	/* Eight bytes at a time, as json/explain.c's skip_plain, plus 0x7F. */
	for(; n - i >= 8; i += 8) {
		uint64_t w, q, b, d;

		memcpy(&w, s + i, 8);
		if(w & highs)
			return false;
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		d = w ^ (ones * 0x7F);
		if(((q - ones) | (b - ones) | (d - ones) | (w - ones * 0x20)) & ~w & highs)
			return false;
	}
	for(; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if(c < 0x20 || c >= 0x7F || c == '"' || c == '\\')
			return false;
	}
	return true;
}

char *jw_jobs__text_of(struct jw_jobs *jobs, struct json_object *o)
{
	size_t n = 0;
	const char *s;

	/*
	 * Most stored texts are short plain strings (step, message): quoting
	 * them here gives the same bytes as json-c's serialiser without its
	 * print buffer and per-byte escaping, on every progress event.
	 */
	if(json_object_is_type(o, json_type_string)) {
		const char *str = json_object_get_string(o);
		size_t len = (size_t)json_object_get_string_len(o);

		if(jw_jobs__plain_ascii(str, len)) {
			char *t = jw_jobs__alloc(jobs, len + 3);

			if(!t)
				return NULL;
			t[0] = '"';
			memcpy(t + 1, str, len);
			t[len + 1] = '"';
			t[len + 2] = '\0';
			return t;
		}
	}
	s = json_object_to_json_string_length(
	        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);

	if(!s)
		return NULL;
	return jw_jobs__text_dup(jobs, s, n);
}

/* The text of n through the arena writer: containers and strings needing
 * escapes (started, terminal and review events mostly), in the bytes
 * json-c wrote for them before (jdoc.h, jw_jnode_write). */
char *jw_jobs__text_of_node_slow(struct jw_jobs *jobs, const struct jw_jnode *n)
{
	struct jw_buf b;
	char *t = NULL;

	jw_buf_init(&b, 0);
	if(jw_jnode_write(&b, n) == 0)
		t = jw_jobs__text_dup(jobs, b.p, b.len);
	jw_buf_cleanup(&b);
	return t;
}

char *jw_jobs__text_of_node(struct jw_jobs *jobs, const struct jw_jnode *n)
{
	char *t;

	if(n->type != JW_J_STRING || !jw_jobs__node_plain(n))
		return jw_jobs__text_of_node_slow(jobs, n);
	t = jw_jobs__alloc(jobs, (size_t)n->n + 3);
	if(t)
		jw_jobs__put_quoted(t, n);
	return t;
}

void jw_jobs__text_free(struct jw_jobs *jobs, char *s)
{
	/* JSON text never holds a raw NUL (it is escaped), so strlen is the
	 * length that was allocated. */
	if(s)
		jw_jobs__release(jobs, s, strlen(s) + 1);
}

void jw_jobs__text_free_cap(struct jw_jobs *jobs, char *s, uint32_t cap)
{
	if(s)
		jw_jobs__release(jobs, s, cap ? cap : strlen(s) + 1);
}
