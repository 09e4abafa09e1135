/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The one JSON parser against independent judges. core/json/parse.c's
 * arena parser decides with its fast path alone; core/json/explain.c's
 * walk, which shares none of its grammar code, must give the same verdict
 * on every input. jw_jdoc_parse and jw_json_parse (the arena tree
 * converted to json-c: schemas, journal records, the CLI) must then agree
 * on the verdict, reason, offset, message and tree. And every text the
 * parser accepts, json-c's own tokener (strict, UTF-8 checked) must
 * accept too, with the same value; only where json-c clamps an integer
 * beyond 64 bits does jobwire keep it exactly, as a double with its text.
 * Each input is parsed at the broker's default depth limit and at a small
 * one derived from its length, so the limit's edges are hit.
 */
#include "fuzz.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "jdoc.h"
#include "json.h"

static struct jw_jdoc doc, fast, copy;
static int ready;

static void cleanup(void)
{
	jw_jdoc_free(&doc);
	jw_jdoc_free(&fast);
	jw_jdoc_free(&copy);
}

static int plain_bytes(const char *s, size_t n)
{
	for(size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if(c < 0x20 || c > 0x7E || c == '"' || c == '\\')
			return 0;
	}
	return 1;
}

/*
 * Whether the integer o of json-c's tokener is what json-c makes of the
 * integral text of n, a double because it does not fit int64: json-c
 * clamps it (to INT64_MIN, or to UINT64_MAX above it).
 */
static int clamped_int(const struct json_object *o, const struct jw_jnode *n)
{
	char text[512];
	unsigned long long u;

	if(n->type != JW_J_DOUBLE || !n->text || n->n >= sizeof(text))
		return 0;
	memcpy(text, n->text, n->n);
	text[n->n] = '\0';
	if(strpbrk(text, ".eE"))
		return 0;
	if(text[0] == '-')
		return json_object_get_int64(o) == INT64_MIN;
	errno = 0;
	u = strtoull(text, NULL, 10);
	return json_object_get_uint64(o) == (errno == ERANGE ? UINT64_MAX : (uint64_t)u);
}

/*
 * Whether the json-c value o and the arena node n hold the same JSON;
 * tok: o comes from json-c's tokener (clamped_int).
 */
static int same_tree_as(const struct json_object *o, const struct jw_jnode *n, int tok);

static int same_tree(const struct json_object *o, const struct jw_jnode *n)
{
	return same_tree_as(o, n, 0);
}

static int same_tree_as(const struct json_object *o, const struct jw_jnode *n, int tok)
{
	struct json_object *m = (struct json_object *)(uintptr_t)o;

	if(!o)
		return n->type == JW_J_NULL;
	switch(json_object_get_type(o)) {
		case json_type_null:
			return n->type == JW_J_NULL;
		case json_type_boolean:
			return n->type == JW_J_BOOL && n->b == (json_object_get_boolean(o) ? 1 : 0);
		case json_type_int:
			if(tok && n->type == JW_J_DOUBLE)
				return clamped_int(o, n);
			return n->type == JW_J_INT && n->u.i == json_object_get_int64(o);
		case json_type_double: {
			const char *t = json_object_get_userdata(m);
			double d = json_object_get_double(o);

			if(n->type != JW_J_DOUBLE || memcmp(&d, &n->u.d, sizeof(d)) != 0 || !isfinite(d))
				return 0;
			return t && n->text && strlen(t) == n->n && memcmp(t, n->text, n->n) == 0;
		}
		case json_type_string:
			if(n->type != JW_J_STRING || (size_t)json_object_get_string_len(o) != n->n ||
			        memcmp(json_object_get_string(m), n->u.s, n->n) != 0 || n->u.s[n->n] != '\0')
				return 0;
			/* plain may be 0 when not known, never 1 when false. */
			return !n->plain || plain_bytes(n->u.s, n->n);
		case json_type_array:
			if(n->type != JW_J_ARRAY || json_object_array_length(o) != n->n)
				return 0;
			for(size_t i = 0; i < n->n; i++) {
				if(n->u.kids[i].key || n->u.kids[i].keylen ||
				        !same_tree_as(json_object_array_get_idx(o, i), &n->u.kids[i], tok))
					return 0;
			}
			return 1;
		case json_type_object: {
			size_t i = 0;

			if(n->type != JW_J_OBJECT || (size_t)json_object_object_length(o) != n->n)
				return 0;
			for(struct lh_entry *e = lh_table_head(json_object_get_object(o)); e;
			        e = lh_entry_next(e), i++) {
				const struct jw_jnode *k = &n->u.kids[i];

				if(!k->key || strcmp(lh_entry_k(e), k->key) != 0 || strlen(k->key) != k->keylen ||
				        !same_tree_as(lh_entry_v(e), k, tok))
					return 0;
				/* Keys are unique, so lookup finds this very member. */
				if(jw_jnode_get(n, k->key) != k)
					return 0;
			}
			return 1;
		}
	}
	return 0;
}

/*
 * json-c's own tokener on text[0..size), which holds no NUL byte: strict,
 * UTF-8 checked, nesting up to depth. The value (NULL for null), *ok 1;
 * or *ok 0 when it refuses.
 */
static struct json_object *tokener_parse(const uint8_t *data, size_t size, size_t depth, int *ok)
{
	struct json_tokener *t = json_tokener_new_ex(depth < 1000 ? (int)depth + 1 : 1000);
	char *text = malloc(size + 1);
	struct json_object *o = NULL;

	*ok = 0;
	if(!t || !text) {
		json_tokener_free(t);
		free(text);
		return NULL;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	json_tokener_set_flags(t, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* Through the NUL, which ends a number or literal at the top level. */
	o = json_tokener_parse_ex(t, text, (int)size + 1);
	*ok = json_tokener_get_error(t) == json_tokener_success;
	json_tokener_free(t);
	free(text);
	return o;
}

static void compare(const uint8_t *data, size_t size, size_t depth)
{
	struct json_object *o = NULL;
	struct jw_json_error e1, e2, e4;
	int r1, r2, r3, r4;

	memset(&e1, 0x5a, sizeof(e1));
	memset(&e2, 0x5a, sizeof(e2));
	memset(&e4, 0x5a, sizeof(e4));
	r1 = jw_json_parse((const char *)data, size, depth, &o, &e1);
	r2 = jw_jdoc_parse(&doc, (const char *)data, size, depth, &e2);
	r3 = jw_jdoc__parse_fast(&fast, (const char *)data, size, depth);
	r4 = jw_json__explain((const char *)data, size, depth, &e4);

	FUZZ_CHECK(r1 == 0 || r1 == -1, "jw_json_parse returned %d", r1);
	FUZZ_CHECK(r3 == r4, "the fast path and the explaining walk differ at depth %zu: %d / %d (%s)",
	        depth, r3, r4, r4 ? e4.message : "");
	FUZZ_CHECK(r1 == r2, "verdicts differ at depth %zu: json %d, jdoc %d (%s / %s)", depth, r1, r2,
	        r1 ? e1.message : "", r2 ? e2.message : "");
	FUZZ_CHECK(r2 == r3, "fast path verdict differs at depth %zu: jdoc %d, fast %d (%s)", depth, r2,
	        r3, r2 ? e2.message : "");
	if(r1 != 0) {
		FUZZ_CHECK(o == NULL, "a refused parse left an object");
		FUZZ_CHECK(doc.root == NULL && fast.root == NULL, "a refused parse left a root");
		FUZZ_CHECK(
		        e1.reason == e2.reason, "reasons differ: %d / %d", (int)e1.reason, (int)e2.reason);
		FUZZ_CHECK(e1.offset == e2.offset, "offsets differ: %zu / %zu", e1.offset, e2.offset);
		FUZZ_CHECK(e1.offset <= size, "offset %zu past the input (%zu bytes)", e1.offset, size);
		FUZZ_CHECK(
		        memchr(e1.message, '\0', sizeof(e1.message)) != NULL, "message not NUL-terminated");
		FUZZ_CHECK(strcmp(e1.message, e2.message) == 0, "messages differ: %s / %s", e1.message,
		        e2.message);
		FUZZ_CHECK(e2.reason == e4.reason && e2.offset == e4.offset &&
		                   strcmp(e2.message, e4.message) == 0,
		        "jw_jdoc_parse reports otherwise than its explaining walk: %s / %s", e2.message,
		        e4.message);
		FUZZ_CHECK(e1.message[0] != '\0', "refused without a message");
		return;
	}
	/* What the parser accepts, json-c's tokener takes as the same value. */
	{
		int tok_ok = 0;
		struct json_object *t = tokener_parse(data, size, depth, &tok_ok);

		FUZZ_CHECK(tok_ok, "json-c's tokener refuses an accepted document");
		FUZZ_CHECK(same_tree_as(t, doc.root, 1), "json-c's tokener builds another value");
		json_object_put(t);
	}
	FUZZ_CHECK(doc.root && fast.root, "accepted without a root");
	FUZZ_CHECK(!doc.root->key && !fast.root->key, "the root carries a key");
	FUZZ_CHECK(same_tree(o, doc.root), "trees differ (jdoc)");
	FUZZ_CHECK(same_tree(o, fast.root), "trees differ (fast path)");

	/* Back to json-c, and from json-c again: the same text either way. */
	{
		int ok = 0;
		struct json_object *back = jw_jnode_to_json(doc.root, &ok);
		const char *want = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "null";
		const char *got;

		FUZZ_CHECK(ok == 1, "jw_jnode_to_json failed");
		got = back ? json_object_to_json_string_ext(back, JSON_C_TO_STRING_PLAIN) : "null";
		FUZZ_CHECK(strcmp(want, got) == 0, "jw_jnode_to_json serialises differently");
		FUZZ_CHECK(jw_jdoc_from_json(&copy, o) == 0, "jw_jdoc_from_json failed");
		FUZZ_CHECK(same_tree(o, copy.root), "jw_jdoc_from_json builds another tree");
		json_object_put(back);

		/* The writer: json-c's bytes (no slash escapes), without json-c. */
		{
			struct jw_buf b;
			const char *jc = o ? json_object_to_json_string_ext(
			                             o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
			                   : "null";

			jw_buf_init(&b, 0);
			FUZZ_CHECK(jw_jnode_write(&b, doc.root) == 0, "jw_jnode_write failed");
			FUZZ_CHECK(b.len == strlen(jc) && memcmp(b.p, jc, b.len) == 0,
			        "jw_jnode_write writes other bytes than json-c");
			jw_buf_cleanup(&b);
		}

		/* What json-c writes is JSON the strict parser takes back (the
		 * round trip the CLI and the journal rely on). */
		{
			struct json_object *again = NULL;
			struct jw_json_error e3;

			FUZZ_CHECK(jw_json_parse(want, strlen(want), depth, &again, &e3) == 0,
			        "json-c's output of an accepted document is refused: %s", e3.message);
			json_object_put(again);
		}
	}
	json_object_put(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(!ready) {
		jw_jdoc_init(&doc);
		jw_jdoc_init(&fast);
		jw_jdoc_init(&copy);
		atexit(cleanup);
		ready = 1;
	}
	compare(data, size, 32);
	compare(data, size, 1 + size % 5);
	return 0;
}
