/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The two JSON parsers against each other: core/json/parse_jsonc.c's
 * strict parser (jw_json_parse, json-c trees: schemas, journal records,
 * the CLI) and core/json/parse.c's arena parser (jw_jdoc_parse, every published event).
 * Their contract is one verdict: for every input they must accept exactly
 * the same documents, build the same tree, and refuse with the same
 * reason, offset and message; the arena parser's fast path alone must
 * agree too. Each input is parsed at the broker's default depth limit and
 * at a small one derived from its length, so the limit's edges are hit.
 */
#include "fuzz.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Whether the json-c value o and the arena node n hold the same JSON. */
static int same_tree(const struct json_object *o, const struct jw_jnode *n)
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
				        !same_tree(json_object_array_get_idx(o, i), &n->u.kids[i]))
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
				        !same_tree(lh_entry_v(e), k))
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

static void compare(const uint8_t *data, size_t size, size_t depth)
{
	struct json_object *o = NULL;
	struct jw_json_error e1, e2;
	int r1, r2, r3;

	memset(&e1, 0x5a, sizeof(e1));
	memset(&e2, 0x5a, sizeof(e2));
	r1 = jw_json_parse((const char *)data, size, depth, &o, &e1);
	r2 = jw_jdoc_parse(&doc, (const char *)data, size, depth, &e2);
	r3 = jw_jdoc__parse_fast(&fast, (const char *)data, size, depth);

	FUZZ_CHECK(r1 == 0 || r1 == -1, "jw_json_parse returned %d", r1);
	FUZZ_CHECK(r1 == r2, "verdicts differ at depth %zu: json %d, jdoc %d (%s / %s)", depth, r1, r2,
	        r1 ? e1.message : "", r2 ? e2.message : "");
	FUZZ_CHECK(r1 == r3, "fast path verdict differs at depth %zu: json %d, fast %d (%s)", depth, r1,
	        r3, r1 ? e1.message : "");
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
		FUZZ_CHECK(e1.message[0] != '\0', "refused without a message");
		return;
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
