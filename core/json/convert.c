/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Conversions between arena trees (jdoc.h) and json-c values, for what is
 * off the per-message path: schema constants and defaults, broker-made
 * events, the reason texts that print numbers as json-c does, tests; and
 * json.h's jw_json_parse and jw_json_parse_file, which are the arena
 * parser (parse.c) followed by jw_jnode_to_json.
 */
#include "jdoc.h"
#include "util/buf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static const char *copy_text(struct jw_jdoc *d, const char *s, size_t n)
{
	char *c = jw_jdoc__alloc(d, n + 1);

	if(!c)
		return NULL;
	memcpy(c, s, n);
	c[n] = '\0';
	return c;
}

static int fill(struct jw_jdoc *d, struct jw_jnode *out, const struct json_object *o);

static int fill_int(struct jw_jdoc *d, struct jw_jnode *out, const struct json_object *o)
{
	int64_t i = json_object_get_int64(o);

	/* json-c clamps uint64 values to INT64_MAX. Above it, a double with
	 * the digits as its text, which keeps the value exact (number.h). */
	if(i == INT64_MAX && json_object_get_uint64(o) > (uint64_t)INT64_MAX) {
		char digits[24];
		int n = snprintf(digits, sizeof(digits), "%" PRIu64, json_object_get_uint64(o));

		out->type = JW_J_DOUBLE;
		out->u.d = (double)json_object_get_uint64(o);
		if(n <= 0 || !(out->text = copy_text(d, digits, (size_t)n)))
			return -1;
		out->n = (uint32_t)n;
		return 0;
	}
	out->type = JW_J_INT;
	out->u.i = i;
	return 0;
}

static int fill_double(struct jw_jdoc *d, struct jw_jnode *out, const struct json_object *o)
{
	/* jw_json_parse keeps a double's text as its serialiser's user data
	 * (json_object_new_double_s); plain doubles have none and json-c
	 * formats them itself. */
	const char *text = json_object_get_userdata((struct json_object *)(uintptr_t)o);

	out->type = JW_J_DOUBLE;
	out->u.d = json_object_get_double(o);
	if(text) {
		size_t n = strlen(text);

		if(n > UINT32_MAX || !(out->text = copy_text(d, text, n)))
			return -1;
		out->n = (uint32_t)n;
	}
	return 0;
}

static int fill_string(struct jw_jdoc *d, struct jw_jnode *out, const struct json_object *o)
{
	int n = json_object_get_string_len(o);

	out->type = JW_J_STRING;
	out->n = n > 0 ? (uint32_t)n : 0;
	out->u.s = copy_text(d, json_object_get_string((struct json_object *)(uintptr_t)o), out->n);
	if(!out->u.s)
		return -1;
	if(memchr(out->u.s, '\0', out->n))
		d->has_nul = 1;
	out->plain = 1;
	for(uint32_t i = 0; i < out->n; i++) {
		unsigned char c = (unsigned char)out->u.s[i];

		if(c < 0x20 || c > 0x7E || c == '"' || c == '\\') {
			out->plain = 0;
			break;
		}
	}
	return 0;
}

static int fill_array(struct jw_jdoc *d, struct jw_jnode *out, const struct json_object *o)
{
	size_t n = json_object_array_length(o);

	out->type = JW_J_ARRAY;
	if(n > UINT32_MAX)
		return -1;
	out->n = (uint32_t)n;
	if(!n)
		return 0;
	out->u.kids = jw_jdoc__alloc(d, n * sizeof(*out->u.kids));
	if(!out->u.kids)
		return -1;
	for(size_t i = 0; i < n; i++) {
		if(fill(d, &out->u.kids[i], json_object_array_get_idx(o, i)) < 0)
			return -1;
	}
	return 0;
}

static int fill_object(struct jw_jdoc *d, struct jw_jnode *out, const struct json_object *o)
{
	size_t n = (size_t)json_object_object_length(o), i = 0;

	out->type = JW_J_OBJECT;
	out->n = (uint32_t)n;
	if(!n)
		return 0;
	out->u.kids = jw_jdoc__alloc(d, n * sizeof(*out->u.kids));
	if(!out->u.kids)
		return -1;
	for(struct lh_entry *e = lh_table_head(json_object_get_object(o)); e && i < n;
	        e = lh_entry_next(e), i++) {
		const char *k = lh_entry_k(e);
		size_t kl = strlen(k);
		struct jw_jnode *kid = &out->u.kids[i];

		if(fill(d, kid, lh_entry_v(e)) < 0)
			return -1;
		if(kl > UINT32_MAX || !(kid->key = copy_text(d, k, kl)))
			return -1;
		kid->keylen = (uint32_t)kl;
	}
	return 0;
}

static int fill(struct jw_jdoc *d, struct jw_jnode *out, const struct json_object *o)
{
	memset(out, 0, sizeof(*out));
	if(!o) {
		out->type = JW_J_NULL;
		return 0;
	}
	switch(json_object_get_type(o)) {
		case json_type_null:
			out->type = JW_J_NULL;
			return 0;
		case json_type_boolean:
			out->type = JW_J_BOOL;
			out->b = json_object_get_boolean(o) ? 1 : 0;
			return 0;
		case json_type_int:
			return fill_int(d, out, o);
		case json_type_double:
			return fill_double(d, out, o);
		case json_type_string:
			return fill_string(d, out, o);
		case json_type_array:
			return fill_array(d, out, o);
		case json_type_object:
			return fill_object(d, out, o);
	}
	return -1;
}

int jw_jdoc_from_json(struct jw_jdoc *d, const struct json_object *o)
{
	struct jw_jnode *root;

	jw_jdoc_reset(d);
	root = jw_jdoc__alloc(d, sizeof(*root));
	if(!root || fill(d, root, o) < 0)
		return -1;
	d->root = root;
	return 0;
}

/* A new json-c value for n when it is not an array or an object; NULL
 * for JSON null (*ok 1) or when out of memory (*ok 0). */
static struct json_object *scalar_to_json(const struct jw_jnode *n, int *ok)
{
	struct json_object *o = NULL;

	*ok = 1;
	switch(n->type) {
		case JW_J_NULL:
			return NULL;
		case JW_J_BOOL:
			o = json_object_new_boolean(n->b);
			break;
		case JW_J_INT:
			o = json_object_new_int64(n->u.i);
			break;
		case JW_J_DOUBLE:
			if(n->text) {
				char buf[64], *t = n->n < sizeof(buf) ? buf : malloc((size_t)n->n + 1);

				if(!t)
					break;
				memcpy(t, n->text, n->n);
				t[n->n] = '\0';
				o = json_object_new_double_s(n->u.d, t);
				if(t != buf)
					free(t);
			} else {
				o = json_object_new_double(n->u.d);
			}
			break;
		case JW_J_STRING:
			o = json_object_new_string_len(n->u.s, (int)n->n);
			break;
		default:
			break;
	}
	if(!o)
		*ok = 0;
	return o;
}

static struct json_object *new_container(const struct jw_jnode *n)
{
	if(n->type == JW_J_OBJECT)
		return json_object_new_object();
	return json_object_new_array_ext(n->n == 0 ? 1 : n->n > 1024 ? 1024 : (int)n->n);
}

/* Adds c (ownership passes, also on failure) to parent as member or item
 * n. Returns 0 or -1. */
static int add_to(struct json_object *parent, const struct jw_jnode *n, struct json_object *c)
{
	int rc;

	if(json_object_get_type(parent) == json_type_object)
		rc = json_object_object_add_ex(parent, n->key, c, JSON_C_OBJECT_ADD_KEY_IS_NEW);
	else
		rc = json_object_array_add(parent, c);
	if(rc != 0)
		json_object_put(c);
	return rc != 0 ? -1 : 0;
}

/* One open array or object of jw_jnode_to_json: the node, its json-c
 * value (owned by its parent's value, or the result) and the next kid. */
struct conv_frame {
	const struct jw_jnode *n;
	struct json_object *o;
	uint32_t next;
};

/*
 * Without recursion: the parser allows any depth the caller asks for
 * (SIZE_MAX included), so the open containers are a stack on the heap.
 * Each container is added to its parent as soon as it is made, so on
 * failure putting the result frees everything.
 */
struct json_object *jw_jnode_to_json(const struct jw_jnode *n, int *ok)
{
	struct conv_frame *stack, *grown;
	size_t depth = 0, cap = 16;
	struct json_object *root;

	if(n->type != JW_J_ARRAY && n->type != JW_J_OBJECT)
		return scalar_to_json(n, ok);
	*ok = 0;
	root = new_container(n);
	stack = malloc(cap * sizeof(*stack));
	if(!root || !stack)
		goto fail;
	stack[depth++] = (struct conv_frame){n, root, 0};
	while(depth) {
		struct conv_frame *f = &stack[depth - 1];
		const struct jw_jnode *kid;
		struct json_object *c;
		int kid_ok;

		if(f->next == f->n->n) {
			depth--;
			continue;
		}
		kid = &f->n->u.kids[f->next++];
		if(kid->type != JW_J_ARRAY && kid->type != JW_J_OBJECT) {
			c = scalar_to_json(kid, &kid_ok);
			if(!kid_ok || add_to(f->o, kid, c) < 0)
				goto fail;
			continue;
		}
		c = new_container(kid);
		if(!c || add_to(f->o, kid, c) < 0)
			goto fail;
		if(depth == cap) {
			grown = realloc(stack, cap * 2 * sizeof(*stack));
			if(!grown)
				goto fail;
			stack = grown;
			cap *= 2;
		}
		stack[depth++] = (struct conv_frame){kid, c, 0};
	}
	free(stack);
	*ok = 1;
	return root;
fail:
	free(stack);
	json_object_put(root);
	return NULL;
}

int jw_json_parse(const char *buf, size_t len, size_t max_depth, struct json_object **out,
        struct jw_json_error *err)
{
	struct jw_jdoc d;
	struct jw_json_error local;
	int ok = 0;

	if(!err)
		err = &local;
	*out = NULL;
	jw_jdoc_init(&d);
	if(jw_jdoc_parse(&d, buf, len, max_depth, err) < 0) {
		jw_jdoc_free(&d);
		return -1;
	}
	*out = jw_jnode_to_json(d.root, &ok);
	jw_jdoc_free(&d);
	if(!ok) {
		err->reason = JW_REASON_INTERNAL;
		err->offset = 0;
		(void)snprintf(err->message, sizeof(err->message), "out of memory at byte 0");
		return -1;
	}
	return 0;
}

/* Schema files are small; this only stops a stray multi-GiB file. */
#define JW_JSON_FILE_MAX ((size_t)16 * 1024 * 1024)

int jw_json_parse_file(
        const char *path, size_t max_depth, struct json_object **out, struct jw_json_error *err)
{
	FILE *fp = NULL;
	struct jw_buf buf;
	char inner[sizeof(err->message)];
	int rc = -1;

	/* One byte past the limit tells "too big" from "exactly max". */
	jw_buf_init(&buf, JW_JSON_FILE_MAX + 1);
	*out = NULL;
	err->reason = JW_REASON_INTERNAL;
	err->offset = 0;
	err->message[0] = '\0';
	fp = fopen(path, "rb");
	if(!fp) {
		(void)snprintf(err->message, sizeof(err->message), "%s: %s", path, strerror(errno));
		goto out;
	}
	for(;;) {
		size_t got, want = buf.max - buf.len;

		if(want == 0)
			break;
		if(want > 65536)
			want = 65536;
		if(jw_buf_reserve(&buf, want) != 0) {
			(void)snprintf(err->message, sizeof(err->message), "%s: out of memory", path);
			goto out;
		}
		got = fread(jw_buf_tail(&buf), 1, want, fp);
		jw_buf_commit(&buf, got);
		if(got == 0) {
			if(ferror(fp)) {
				(void)snprintf(err->message, sizeof(err->message), "%s: %s", path, strerror(errno));
				goto out;
			}
			break;
		}
	}
	if(buf.len > JW_JSON_FILE_MAX) {
		(void)snprintf(err->message, sizeof(err->message), "%s: larger than %zu bytes", path,
		        JW_JSON_FILE_MAX);
		goto out;
	}
	if(jw_json_parse(buf.p ? buf.p : "", buf.len, max_depth, out, err) < 0) {
		/* "path: cause", cut to fit; a long path may shorten the cause,
		 * the offset survives in err->offset. Built by hand because
		 * snprintf into the buffer we copy from cannot be proven safe. */
		const char *parts[3] = {path, ": ", inner};
		size_t used = 0;

		memcpy(inner, err->message, sizeof(inner));
		for(size_t k = 0; k < 3; k++) {
			size_t n = strlen(parts[k]);
			if(n > sizeof(err->message) - 1 - used)
				n = sizeof(err->message) - 1 - used;
			memcpy(err->message + used, parts[k], n);
			used += n;
		}
		err->message[used] = '\0';
		goto out;
	}
	rc = 0;
out:
	if(fp)
		fclose(fp);
	jw_buf_cleanup(&buf);
	return rc;
}
