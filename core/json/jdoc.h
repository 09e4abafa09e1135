/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * A compact, arena-allocated JSON tree for the per-message path. One
 * jw_jdoc holds one document: its nodes, its decoded strings and a copy of
 * the input live in one block that is reused from message to message, so
 * parsing an event costs no malloc once the block has grown to fit, and
 * freeing it costs nothing. Objects keep their members in input order, as
 * an array; there is no hashing. json-c stays for schema documents and for
 * anything off the per-message path (convert.c: jw_jnode_to_json converts
 * a subtree, jw_jdoc_from_json the other way).
 *
 * Ownership: a jw_jdoc owns every node and string of its tree; pointers
 * into it are valid until its next parse, reset or free. It never refers
 * to the caller's input. Threads: a jw_jdoc is used by one thread at a
 * time; different documents are independent. Errors: jw_jdoc_parse
 * reports as jw_json_parse does (json.h, struct jw_json_error).
 */
#ifndef JW_JDOC_H
#define JW_JDOC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "util/buf.h"

struct json_object;

enum jw_jtype {
	JW_J_NULL,
	JW_J_BOOL,
	JW_J_INT,    /* integral and fits int64: u.i */
	JW_J_DOUBLE, /* everything else: u.d, and its text as written */
	JW_J_STRING,
	JW_J_ARRAY,
	JW_J_OBJECT,
};

/*
 * One value. A member of an object carries its key. Strings and keys are
 * NUL-terminated (a string may also hold U+0000: n is its length; a key
 * never does, the parser refuses it).
 */
struct jw_jnode {
	uint8_t type;  /* enum jw_jtype */
	uint8_t b;     /* JW_J_BOOL: 0 or 1 */
	uint8_t plain; /* JW_J_STRING: 1 when every byte is printable ASCII
	                  (0x20-0x7E) other than '"' and '\\', so the text
	                  can be written between quotes as it is; 0 when not,
	                  or not known */
	uint32_t n;    /* string: bytes; array: items; object: members;
	                  double: bytes of text */
	uint32_t keylen;
	const char *key; /* object member: its key, else NULL */
	union {
		int64_t i;
		double d;
		const char *s;
		struct jw_jnode *kids; /* array items or object members;
		                          NULL when n is 0, so index it, never
		                          offset it (NULL + 0 is undefined) */
	} u;
	const char *text; /* double: its text as written (n bytes, not
	                     NUL-terminated), for output; NULL if unknown */
};

struct jw_jchunk;

/*
 * The document and the parser's reusable state. Zero-initialise (or
 * jw_jdoc_init), parse any number of times, jw_jdoc_free once. Not
 * thread-safe: one per thread (the plugin keeps one for the broker thread).
 */
struct jw_jdoc {
	const struct jw_jnode *root; /* NULL until a parse succeeds */
	uint8_t has_nul;             /* a string value holds U+0000 */
	struct jw_jchunk *chunks;    /* the newest first; one once warm */
	size_t used;                 /* bytes used in chunks */
	size_t total;                /* bytes used in all chunks */
	/* Parser state kept between parses (capacity only). */
	void *frames;
	size_t frames_cap;
	struct jw_jnode *pending;
	size_t pending_cap;
	struct jw_buf scratch; /* a long number's text, for strtod */
};

void jw_jdoc_init(struct jw_jdoc *d);
/* Forgets the document, keeping (one block of) its memory for the next. */
void jw_jdoc_reset(struct jw_jdoc *d);
void jw_jdoc_free(struct jw_jdoc *d);

/*
 * Same contract as jw_json_parse (same verdicts, same error reasons,
 * offsets and messages) but builds the tree in d. On success returns 0
 * and d->root is the value (JSON null is a node of type JW_J_NULL). On
 * failure returns -1, fills *err and d->root is NULL. The tree is valid
 * until the next parse, reset or free of d; it does not refer to buf.
 * Accepting is the fast case; a refused input is walked once more by a
 * slower pass that builds nothing (explain.c) and supplies *err, so a
 * refusal costs about one more walk of the input up to the fault. An
 * input longer than INT_MAX bytes is refused as INTERNAL.
 */
int jw_jdoc_parse(struct jw_jdoc *d, const char *buf, size_t len, size_t max_depth,
        struct jw_json_error *err);

/*
 * Builds d's tree from a json-c value (NULL is JSON null), copying what it
 * needs: the result does not refer to o. Returns 0, or -1 when out of
 * memory. For the paths that still hold json-c objects (schema constants,
 * broker-made events, tests).
 */
int jw_jdoc_from_json(struct jw_jdoc *d, const struct json_object *o);

/*
 * A new json-c value equal to n (NULL for JSON null; *ok is set to 0 when
 * out of memory, else 1). Numbers keep their text, so json-c serialises
 * them as they were written. Iterative: any depth converts without
 * using more C stack (json-c's own free and serialiser still recurse).
 */
struct json_object *jw_jnode_to_json(const struct jw_jnode *n, int *ok);

/*
 * Appends the JSON text of n (a whole tree, or any node in one) to b:
 * compact, members in their order, numbers as they were written, strings
 * with '"', '\\' and control characters escaped and everything else
 * ('/', 0x7F, UTF-8) as it is: the bytes json-c writes for
 * jw_jnode_to_json(n) with JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE (write.c). Returns 0, or b's error
 * (util/buf.h: -ENOMEM, -EMSGSIZE); b keeps what was written. Reads n
 * only: any thread that may read the document.
 */
int jw_jnode_write(struct jw_buf *b, const struct jw_jnode *n);

/*
 * Internal, for tests: jw_jdoc_parse's fast path alone. Returns 0 with
 * d->root set when the input is acceptable, else -1 with d->root NULL
 * and no reason given (also when out of memory, and for an input longer
 * than INT_MAX bytes).
 */
int jw_jdoc__parse_fast(struct jw_jdoc *d, const char *buf, size_t len, size_t max_depth);

/* Internal: n bytes (8-aligned) from d's arena, or NULL. For core/json/. */
void *jw_jdoc__alloc(struct jw_jdoc *d, size_t n);

/*
 * Internal, for parse.c: the arena's blocks, and what jw_jdoc_reset keeps
 * (a block larger than JW_JDOC__KEEP_MAX bytes, left by an unusually
 * large document, is given back rather than kept for the next one, and
 * likewise a value stack of more than JW_JDOC__PENDING_KEEP_MAX values).
 */
struct jw_jchunk {
	struct jw_jchunk *next;
	size_t cap;
	size_t pad_; /* keeps data 8-aligned */
	unsigned char data[];
};

#define JW_JDOC__KEEP_MAX ((size_t)1024 * 1024)
#define JW_JDOC__PENDING_KEEP_MAX 4096

void *jw_jdoc__begin_cold(struct jw_jdoc *d, size_t n);

/* Internal: jw_jdoc_reset, then jw_jdoc__alloc of n bytes. Inline for the
 * warm case, one kept block with room, which is what reset would leave. */
static inline void *jw_jdoc__begin(struct jw_jdoc *d, size_t n)
{
	struct jw_jchunk *c = d->chunks;

	if(c && !c->next && c->cap <= JW_JDOC__KEEP_MAX && n <= c->cap - 7 &&
	        d->pending_cap <= JW_JDOC__PENDING_KEEP_MAX) {
		n = (n + 7) & ~(size_t)7;
		d->root = NULL;
		d->has_nul = 0;
		d->used = n;
		d->total = n;
		return c->data;
	}
	return jw_jdoc__begin_cold(d, n);
}

/*
 * The member of object o named key (NUL-terminated), or NULL. Inline, so
 * that a literal key's length is known at compile time: the walk then
 * compares lengths and first bytes before any memcmp.
 */
static inline const struct jw_jnode *jw_jnode_get(const struct jw_jnode *o, const char *key)
{
	size_t len = strlen(key);

	if(!o || o->type != JW_J_OBJECT)
		return NULL;
	for(uint32_t i = 0; i < o->n; i++) {
		const struct jw_jnode *m = &o->u.kids[i];

		if(m->keylen == len && m->key[0] == key[0] && memcmp(m->key, key, len) == 0)
			return m;
	}
	return NULL;
}

/* The value as a double (ints converted), for numbers only. */
static inline double jw_jnode_double(const struct jw_jnode *n)
{
	return n->type == JW_J_INT ? (double)n->u.i : n->u.d;
}

#endif
