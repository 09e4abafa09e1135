/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The checks one published event must pass before delivery, in a fixed
 * order so the cheapest refusals come first and the reason is predictable:
 * protected topic, known type, size, strict JSON, object shape, topic
 * binding, schema. Also the broker-side edits to an accepted payload.
 */
#include "event.h"
#include "jdoc.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "number.h"
#include "schema.h"
#include "schemaset.h"
#include "topic.h"

/* Input characters of a client-supplied value shown in a message. */
#define VALUE_SHOWN_MAX 40

#if defined(__GNUC__)
#define RARE_NUL(x) __builtin_expect(!!(x), 0)
#else
#define RARE_NUL(x) (x)
#endif

static void reject(struct jw_verdict *v, enum jw_reason reason, const char *field, const char *fmt,
        ...) __attribute__((format(printf, 4, 5)));

static void reject(
        struct jw_verdict *v, enum jw_reason reason, const char *field, const char *fmt, ...)
{
	va_list ap;

	v->reason = reason;
	(void)snprintf(v->field, sizeof(v->field), "%s", field);
	v->keyword[0] = '\0';
	va_start(ap, fmt);
	(void)vsnprintf(v->message, sizeof(v->message), fmt, ap);
	va_end(ap);
}

static const char *type_name(const struct jw_jnode *o)
{
	switch(o->type) {
		case JW_J_NULL:
			return "null";
		case JW_J_BOOL:
			return "boolean";
		case JW_J_INT:
		case JW_J_DOUBLE:
			return "number";
		case JW_J_STRING:
			return "string";
		case JW_J_ARRAY:
			return "array";
		case JW_J_OBJECT:
			return "object";
	}
	return "unknown";
}

/* The members the event checks read (JW_TM_* of schemaset.h). */
enum {
	M_TYPE = JW_TM_TYPE,
	M_JOB_ID = JW_TM_JOB_ID,
	M_SESSION_ID = JW_TM_SESSION_ID,
	M_CURRENT = JW_TM_CURRENT,
	M_TOTAL = JW_TM_TOTAL,
	M_COUNT = JW_TM_COUNT,
};

struct members {
	const struct jw_jnode *val[M_COUNT];
	unsigned present; /* bit i: val[i] is a member */
};

/*
 * Collects the members above in one walk. A key is compared only with the
 * name of its length (the five names have five different lengths), so
 * most members cost one switch.
 */
static void find_members(const struct jw_jnode *doc, struct members *m)
{
	memset(m, 0, sizeof(*m));
	for(uint32_t e = 0; e < doc->n; e++) {
		const struct jw_jnode *kid = &doc->u.kids[e];
		const char *name;
		int i;

		switch(kid->keylen) {
			case 4:
				i = M_TYPE, name = "type";
				break;
			case 5:
				i = M_TOTAL, name = "total";
				break;
			case 6:
				i = M_JOB_ID, name = "job_id";
				break;
			case 7:
				i = M_CURRENT, name = "current";
				break;
			case 10:
				i = M_SESSION_ID, name = "session_id";
				break;
			default:
				continue;
		}
		if(memcmp(kid->key, name, kid->keylen) == 0 && !(m->present & (1u << i))) {
			m->val[i] = kid;
			m->present |= 1u << i;
		}
	}
}

/*
 * Checks that member i of m (named name), when present, is the string
 * want (the topic's value for what). Returns 0 or -1 with *v filled.
 */
static int check_binding(const struct members *ms, int i, const char *name, const char *what,
        const char *want, struct jw_verdict *v)
{
	const struct jw_jnode *m = ms->val[i];
	char field[16], got[128], topic[160];
	size_t n;

	if(!(ms->present & (1u << i)))
		return 0;
	(void)snprintf(field, sizeof(field), "/%s", name);
	jw_json_quote_excerpt(topic, sizeof(topic), want, strlen(want), JW_ID_MAX);
	if(m->type != JW_J_STRING) {
		reject(v, JW_REASON_TOPIC_MISMATCH, field,
		        "%s: must be the string %s (the topic's %s), got %s", field, topic, what,
		        type_name(m));
		return -1;
	}
	n = m->n;
	if(n == strlen(want) && memcmp(m->u.s, want, n) == 0)
		return 0;
	jw_json_quote_excerpt(got, sizeof(got), m->u.s, n, VALUE_SHOWN_MAX);
	reject(v, JW_REASON_TOPIC_MISMATCH, field, "%s: %s does not match the topic's %s %s", field,
	        got, what, topic);
	return -1;
}

/*
 * The members of m from the validator's scan of the root (sm, whose
 * scanned is set) for a type whose checked members all have a root
 * property (ty->by_scan): the same first members find_members would find.
 */
static void members_of_scan(
        const struct jw_schemaset_type *ty, const struct jw_schema_members *sm, struct members *m)
{
	m->present = 0;
	for(int i = 0; i < M_COUNT; i++) {
		int p = ty->prop[i];

		if(p >= 0 && (sm->present & ((uint64_t)1 << p))) {
			m->val[i] = sm->member[p];
			m->present |= 1u << i;
		}
	}
}

static int check_bindings(const struct members *m, const struct jw_topic *t, struct jw_verdict *v)
{
	if(check_binding(m, M_TYPE, "type", "event", t->event, v) < 0 ||
	        check_binding(m, M_JOB_ID, "job_id", "job", t->job, v) < 0 ||
	        check_binding(m, M_SESSION_ID, "session_id", "session", t->session, v) < 0)
		return -1;
	return 0;
}

/* A progress event's current and total members, both present. */
struct jnode_pair {
	const struct jw_jnode *cur, *tot;
};

/*
 * A number node as it was published: an integer in decimal, any other
 * number as its text (what json-c printed for these nodes before, so the
 * messages read the same). A double without text cannot come from the
 * parser; it is printed with 17 significant digits. Returns the text and
 * its length in *n; buf (32 bytes) holds it when it is not the node's.
 */
static const char *number_text(const struct jw_jnode *x, char *buf, size_t size, int *n)
{
	if(x->type == JW_J_DOUBLE && x->text) {
		*n = x->n > INT_MAX ? INT_MAX : (int)x->n;
		return x->text;
	}
	if(x->type == JW_J_INT)
		*n = snprintf(buf, size, "%" PRId64, x->u.i);
	else
		*n = snprintf(buf, size, "%.17g", jw_jnode_double(x));
	if(*n < 0)
		*n = 0;
	return buf;
}

/* The verdict for current > total; rare, so kept out of the caller. */
__attribute__((noinline)) static int reject_rule(
        const struct jw_jnode *cur, const struct jw_jnode *tot, struct jw_verdict *v)
{
	char tb[32], cb[32];
	int tn, cn;
	const char *tt = number_text(tot, tb, sizeof(tb), &tn),
	           *ct = number_text(cur, cb, sizeof(cb), &cn);

	reject(v, JW_REASON_RULE_VIOLATION, "/current",
	        "/current: must not exceed total %.*s, got %.*s", tn, tt, cn, ct);
	(void)snprintf(v->keyword, sizeof(v->keyword), "current_le_total");
	return -1;
}

/*
 * Contract rules JSON Schema cannot express (product.md): a progress
 * event's current must not exceed its total. Runs after the schema, so the
 * members, when present, are known to be numbers. Compared exactly
 * (number.h): as doubles, 9007199254740993 would equal 9007199254740992.
 */
static inline int check_rules(const struct jnode_pair *both, struct jw_verdict *v)
{
	if(jw_jnode_num_cmp(both->cur, both->tot) == 1)
		return reject_rule(both->cur, both->tot, v);
	return 0;
}

/*
 * Appends "/token" (RFC 6901: '~' as "~0", '/' as "~1") to the pointer
 * ptr[0..*len) of cap bytes; false when it does not fit.
 */
static bool ptr_push(char *ptr, size_t cap, size_t *len, const char *tok, size_t n)
{
	size_t o = *len;

	if(o + 1 >= cap)
		return false;
	ptr[o++] = '/';
	for(size_t i = 0; i < n; i++) {
		const char *esc = tok[i] == '~' ? "~0" : tok[i] == '/' ? "~1" : NULL;
		size_t el = esc ? 2 : 1;

		if(o + el >= cap)
			return false;
		memcpy(ptr + o, esc ? esc : tok + i, el);
		o += el;
	}
	ptr[o] = '\0';
	*len = o;
	return true;
}

/*
 * The first string value under n that holds U+0000, in document order,
 * with its JSON pointer in ptr (cut to "" when it does not fit cap), or
 * NULL. Depth is bounded by the parser's max_depth.
 */
static const struct jw_jnode *find_nul(const struct jw_jnode *n, char *ptr, size_t cap, size_t len)
{
	if(n->type == JW_J_STRING)
		return memchr(n->u.s, '\0', n->n) ? n : NULL;
	if(n->type != JW_J_ARRAY && n->type != JW_J_OBJECT)
		return NULL;
	for(uint32_t i = 0; i < n->n; i++) {
		const struct jw_jnode *k = &n->u.kids[i], *hit;
		size_t l = len;
		char idx[16];
		int il;
		bool ok;

		if(n->type == JW_J_OBJECT) {
			ok = ptr_push(ptr, cap, &l, k->key, k->keylen);
		} else {
			il = snprintf(idx, sizeof(idx), "%" PRIu32, i);
			ok = il > 0 && ptr_push(ptr, cap, &l, idx, (size_t)il);
		}
		hit = find_nul(k, ptr, cap, ok ? l : len);
		if(hit) {
			if(!ok)
				ptr[0] = '\0';
			return hit;
		}
		ptr[len] = '\0';
	}
	return NULL;
}

/*
 * Refuses an event with U+0000 in a string (keys cannot hold it: the
 * parser refuses those). The broker could deliver it, but the journal
 * could not keep it: PostgreSQL's text and jsonb cannot store U+0000
 * (SQLSTATE 22P05), so an acknowledged terminal event would never reach
 * history. Refusing it at the door is the rule for every event type, so
 * that a worker learns of it on its first progress event, not its last.
 * Called only when the parser saw U+0000 (doc->has_nul).
 */
__attribute__((noinline)) static int reject_nul(const struct jw_jnode *root, struct jw_verdict *v)
{
	char ptr[sizeof(v->field)], got[128];
	const struct jw_jnode *hit;

	ptr[0] = '\0';
	hit = find_nul(root, ptr, sizeof(ptr), 0);
	if(!hit)
		return 0;
	jw_json_quote_excerpt(got, sizeof(got), hit->u.s, hit->n, VALUE_SHOWN_MAX);
	reject(v, JW_REASON_RULE_VIOLATION, ptr,
	        "%s: U+0000 (\\u0000) is not allowed in strings (the journal cannot store it), got %s",
	        ptr[0] ? ptr : "/", got);
	(void)snprintf(v->keyword, sizeof(v->keyword), "no_nul");
	return -1;
}

int jw_event_check(const struct jw_schemaset *set, const struct jw_topic *t, const void *payload,
        size_t len, const struct jw_event_limits *limits, struct jw_verdict *v)
{
	struct jw_jdoc d;
	int rc;

	jw_jdoc_init(&d);
	rc = jw_event_check_doc(set, t, payload, len, limits, &d, v);
	jw_jdoc_free(&d);
	return rc;
}

/*
 * The checks before the schema's: the topic's type, the size, the syntax
 * (into doc) and the root's kind. Returns the type's entry, or NULL with
 * *v filled.
 */
static inline const struct jw_schemaset_type *admit(const struct jw_schemaset *set,
        const struct jw_topic *t, const void *payload, size_t len,
        const struct jw_event_limits *limits, struct jw_jdoc *doc, struct jw_verdict *v)
{
	size_t max_payload = (size_t)JW_DEFAULT_MAX_PAYLOAD;
	size_t max_depth = (size_t)JW_DEFAULT_MAX_DEPTH;
	const struct jw_schemaset_type *ty;
	struct jw_json_error jerr;

	/* A zero limit means "use the default", like a missing option. */
	if(limits && limits->max_payload)
		max_payload = limits->max_payload;
	if(limits && limits->max_depth)
		max_depth = limits->max_depth;

	if(t->event[0] == 's' && strcmp(t->event, "state") == 0) {
		reject(v, JW_REASON_PROTECTED_TOPIC, "", "state is published by the broker only");
		return NULL;
	}
	/* A station's status has a topic of its own (core/stations.h), which
	 * is checked with an empty job; never a job's event. */
	if(t->event[0] == 's' && t->job[0] != '\0' && strcmp(t->event, "station") == 0) {
		reject(v, JW_REASON_UNKNOWN_EVENT_TYPE, "",
		        "station is not a job event: a station publishes its status on "
		        "stations/{station}/status");
		return NULL;
	}
	/* The type comes from the topic, already limited to [a-z0-9_-]. */
	ty = set ? jw_schemaset_lookup(set, t->event) : NULL;
	if(!ty) {
		reject(v, JW_REASON_UNKNOWN_EVENT_TYPE, "", "no schema for event type \"%s\"", t->event);
		return NULL;
	}
	if(len == 0) {
		reject(v, JW_REASON_EMPTY_PAYLOAD, "", "payload is empty");
		return NULL;
	}
	if(len > max_payload) {
		reject(v, JW_REASON_PAYLOAD_TOO_LARGE, "", "payload is %zu bytes, limit %zu", len,
		        max_payload);
		return NULL;
	}
	if(jw_jdoc_parse(doc, payload, len, max_depth, &jerr) < 0) {
		reject(v, jerr.reason, "", "%s", jerr.message);
		return NULL;
	}
	if(doc->root->type != JW_J_OBJECT) {
		reject(v, JW_REASON_NOT_AN_OBJECT, "", "payload must be a JSON object, got %s",
		        type_name(doc->root));
		return NULL;
	}
	return ty;
}

int jw_event_check_doc(const struct jw_schemaset *set, const struct jw_topic *t,
        const void *payload, size_t len, const struct jw_event_limits *limits, struct jw_jdoc *doc,
        struct jw_verdict *v)
{
	const struct jw_schemaset_type *ty;
	const struct jw_jnode *root;
	struct jw_schema_error serr; /* written by the validator */
	struct jw_schema_members sm;
	struct members members;
	struct jnode_pair pair;
	unsigned rule = (1u << M_CURRENT) | (1u << M_TOTAL);
	int rc = -1, valid;

	v->reason = JW_REASON_NONE;
	v->field[0] = '\0';
	v->keyword[0] = '\0';
	v->message[0] = '\0';
	ty = admit(set, t, payload, len, limits, doc, v);
	if(!ty)
		goto out;
	root = doc->root;

	/*
	 * The checks run in the order binding, schema, rules, and the first
	 * failure is the verdict. The schema's own scan of the members finds
	 * those the other checks read, so the validator runs first and its
	 * verdict is held back until the binding has passed; validation has
	 * no effect other than its result, so the verdict is the same.
	 */
	if(ty->by_scan) {
		uint64_t both;

		valid = jw_schema_validate_members(ty->schema, root, &serr, &sm);
		if(!sm.scanned) {
			find_members(root, &members);
		} else if(sm.present & ty->bind_mask) {
			members_of_scan(ty, &sm, &members);
		} else {
			/* The common case: no binding member, nothing to compare. */
			members.present = 0;
			if(valid == 1 && ty->progress) {
				both = ((uint64_t)1 << ty->prop[M_CURRENT]) | ((uint64_t)1 << ty->prop[M_TOTAL]);
				if((sm.present & both) != both) {
					rc = 0;
					goto out;
				}
				pair.cur = sm.member[ty->prop[M_CURRENT]];
				pair.tot = sm.member[ty->prop[M_TOTAL]];
				if(check_rules(&pair, v) < 0)
					goto out;
			}
			if(valid == 1) {
				rc = 0;
				goto out;
			}
		}
		if(check_bindings(&members, t, v) < 0)
			goto out;
	} else {
		find_members(root, &members);
		if(check_bindings(&members, t, v) < 0)
			goto out;
		valid = jw_schema_validate_node(ty->schema, root, &serr);
	}
	if(valid < 0) {
		reject(v, JW_REASON_INTERNAL, "", "out of memory while validating against the schema");
		goto out;
	}
	if(valid == 0) {
		reject(v, JW_REASON_SCHEMA_VIOLATION, serr.pointer, "%s", serr.message);
		(void)snprintf(v->keyword, sizeof(v->keyword), "%s", serr.keyword);
		goto out;
	}
	if(ty->progress && (members.present & rule) == rule) {
		pair.cur = members.val[M_CURRENT];
		pair.tot = members.val[M_TOTAL];
		if(check_rules(&pair, v) < 0)
			goto out;
	}
	rc = 0;
out:
	/* Last of the contract rules, on every accepted path above. */
	if(rc == 0 && RARE_NUL(doc->has_nul) && reject_nul(doc->root, v) < 0)
		rc = -1;
	if(rc < 0)
		jw_jdoc_reset(doc);
	return rc;
}

void *jw_event_splice_member(const void *payload, size_t len, const char *key,
        const char *raw_value, void *(*alloc)(size_t), size_t *outlen)
{
	const char *p = payload;
	size_t brace = 0, next, klen = strlen(key), vlen = strlen(raw_value);
	size_t ins, total;
	int empty;
	char *out, *o;

	/* A checked payload is white space, then '{'; no BOM gets this far. */
	while(brace < len && p[brace] != '{')
		brace++;
	if(brace == len)
		return NULL;
	next = brace + 1;
	while(next < len && (p[next] == ' ' || p[next] == '\t' || p[next] == '\n' || p[next] == '\r'))
		next++;
	empty = next < len && p[next] == '}';

	/* "key":value plus a comma when members follow. */
	ins = klen + vlen + 3 + (empty ? 0 : 1);
	if(ins < klen || len > SIZE_MAX - ins - 1)
		return NULL;
	total = len + ins;
	out = alloc ? alloc(total + 1) : malloc(total + 1);
	if(!out)
		return NULL;
	o = out;
	memcpy(o, p, brace + 1);
	o += brace + 1;
	*o++ = '"';
	memcpy(o, key, klen);
	o += klen;
	*o++ = '"';
	*o++ = ':';
	memcpy(o, raw_value, vlen);
	o += vlen;
	if(!empty)
		*o++ = ',';
	memcpy(o, p + brace + 1, len - brace - 1);
	o += len - brace - 1;
	*o = '\0';
	if(outlen)
		*outlen = total;
	return out;
}
