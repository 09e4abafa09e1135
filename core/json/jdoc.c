/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The arena behind jw_jdoc: blocks of memory reused from document to
 * document (the parser is parse.c, the json-c conversions convert.c).
 */
#include "jdoc.h"

#include <stdlib.h>
#include <string.h>

/* First block; enough for a typical event and its copy. */
#define CHUNK_MIN 4096
#define KEEP_MAX JW_JDOC__KEEP_MAX
#define PENDING_KEEP_MAX JW_JDOC__PENDING_KEEP_MAX

void jw_jdoc_init(struct jw_jdoc *d)
{
	memset(d, 0, sizeof(*d));
}

static void chunks_free(struct jw_jchunk *c)
{
	while(c) {
		struct jw_jchunk *next = c->next;

		free(c);
		c = next;
	}
}

void jw_jdoc_reset(struct jw_jdoc *d)
{
	d->root = NULL;
	d->has_nul = 0;
	if(d->chunks && (d->chunks->next || d->chunks->cap > KEEP_MAX)) {
		/* Several blocks: next time one block that holds them all. */
		size_t want = d->total;

		chunks_free(d->chunks);
		d->chunks = NULL;
		if(want <= KEEP_MAX) {
			size_t cap = CHUNK_MIN;

			while(cap < want)
				cap *= 2;
			d->chunks = malloc(sizeof(*d->chunks) + cap);
			if(d->chunks) {
				d->chunks->next = NULL;
				d->chunks->cap = cap;
			}
		}
	}
	d->used = 0;
	d->total = 0;
	/* Likewise the value stack a very wide document left behind. */
	if(d->pending_cap > PENDING_KEEP_MAX) {
		free(d->pending);
		d->pending = NULL;
		d->pending_cap = 0;
	}
}

void jw_jdoc_free(struct jw_jdoc *d)
{
	chunks_free(d->chunks);
	free(d->frames);
	free(d->pending);
	jw_buf_cleanup(&d->scratch);
	memset(d, 0, sizeof(*d));
}

void *jw_jdoc__alloc(struct jw_jdoc *d, size_t n)
{
	void *p;

	if(n > SIZE_MAX - 7)
		return NULL;
	n = (n + 7) & ~(size_t)7;
	if(!d->chunks || d->chunks->cap - d->used < n) {
		size_t cap = d->chunks ? d->chunks->cap * 2 : CHUNK_MIN;
		struct jw_jchunk *c;

		if(cap < n)
			cap = n;
		if(cap > SIZE_MAX - sizeof(*c))
			return NULL;
		c = malloc(sizeof(*c) + cap);
		if(!c)
			return NULL;
		c->next = d->chunks;
		c->cap = cap;
		d->chunks = c;
		d->used = 0;
	}
	p = d->chunks->data + d->used;
	d->used += n;
	d->total += n;
	return p;
}

void *jw_jdoc__begin_cold(struct jw_jdoc *d, size_t n)
{
	jw_jdoc_reset(d);
	return jw_jdoc__alloc(d, n);
}
