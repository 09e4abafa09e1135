/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * JSON Schema (draft 2020-12) compiler: turns a schema document into the
 * node graph of node.h once, so validation never reads the
 * document again. Every keyword is compiled, accepted as an annotation, or
 * refused with an error naming it, the source and the schema location: a
 * schema must never silently mean less than it says.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "jdoc.h"
#include "cctx.h"
#include "util/buf.h"

/*
 * PCRE2's JIT scans subjects with aligned SIMD loads that may touch bytes
 * past the end of the string (harmless: masked off, never across a page),
 * which memcheck reports as uses of uninitialised memory. Under valgrind
 * the interpreter is used instead so leak and error checks stay clean.
 */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif

/* Bounds one regex match's backtracking (PCRE2's default is 10 million) so
 * a pathological pattern and string cannot stall the broker thread. */
#define MATCH_LIMIT 1000000u

/* Records the first error only: later ones are consequences. */
__attribute__((format(printf, 2, 3))) int jw_schema__cerr(struct cctx *c, const char *fmt, ...)
{
	char detail[400];
	va_list ap;

	if(c->failed)
		return -1;
	c->failed = true;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof detail, fmt, ap);
	va_end(ap);
	jw_schema__utf8_trim(detail);
	if(c->err != NULL && c->errlen > 0) {
		int k = snprintf(c->err, c->errlen, "%s: %s at %s", c->source, detail,
		        c->loc.len > 0 ? c->loc.p : "/");
		if(k < 0 || (size_t)k >= c->errlen)
			jw_schema__utf8_trim(c->err);
	}
	return -1;
}

int jw_schema__oom(struct cctx *c)
{
	return jw_schema__cerr(c, "out of memory");
}

/* Appends "/" + seg (escaped per RFC 6901) and returns the old length for
 * loc_pop through *saved. */
static int loc_push(struct cctx *c, const char *seg, size_t *saved)
{
	size_t len = strlen(seg);
	char *start, *w;

	*saved = c->loc.len;
	if(jw_buf_reserve(&c->loc, 1 + 2 * len) != 0)
		return jw_schema__oom(c);
	start = w = jw_buf_tail(&c->loc);
	*w++ = '/';
	for(size_t i = 0; i < len; i++) {
		if(seg[i] == '~' || seg[i] == '/') {
			*w++ = '~';
			*w++ = seg[i] == '~' ? '0' : '1';
		} else {
			*w++ = seg[i];
		}
	}
	jw_buf_commit(&c->loc, (size_t)(w - start));
	return 0;
}

static int loc_push_index(struct cctx *c, size_t i, size_t *saved)
{
	char tmp[24];
	snprintf(tmp, sizeof tmp, "%zu", i);
	return loc_push(c, tmp, saved);
}

static void loc_pop(struct cctx *c, size_t saved)
{
	jw_buf_truncate(&c->loc, saved);
}

int jw_schema__loc_set(struct cctx *c, const char *loc)
{
	jw_buf_truncate(&c->loc, 0);
	if(jw_buf_add_str(&c->loc, loc) != 0)
		return jw_schema__oom(c);
	return 0;
}

/* Quoted, escaped and bounded, for names and values inside messages. */
const char *jw_schema__quote(char *buf, size_t size, const char *s)
{
	jw_schema__render_string(buf, size, size - 8, s, strlen(s));
	return buf;
}

static struct jw_schema_node *node_new(struct cctx *c, const struct json_object *src)
{
	struct jw_schema *s = c->s;
	struct jw_schema_node *n;

	if(s->n_nodes == s->cap_nodes) {
		size_t cap = s->cap_nodes ? s->cap_nodes * 2 : 16;
		struct jw_schema_node **p = realloc(s->nodes, cap * sizeof *p);
		if(p == NULL) {
			jw_schema__oom(c);
			return NULL;
		}
		s->nodes = p;
		s->cap_nodes = cap;
	}
	n = calloc(1, sizeof *n);
	if(n == NULL) {
		jw_schema__oom(c);
		return NULL;
	}
	n->loc = strdup(c->loc.p);
	if(n->loc == NULL) {
		free(n);
		jw_schema__oom(c);
		return NULL;
	}
	n->src = src;
	s->nodes[s->n_nodes++] = n;
	return n;
}

bool jw_schema__is_type(const struct json_object *v, enum json_type t)
{
	return v != NULL && json_object_get_type(v) == t;
}

/* ---- annotations ---- */

static int kw_string_annotation(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	(void)n;
	if(!jw_schema__is_type(v, json_type_string))
		return jw_schema__cerr(c, "\"%s\" must be a string", kw);
	return 0;
}

static int kw_bool_annotation(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	(void)n;
	if(!jw_schema__is_type(v, json_type_boolean))
		return jw_schema__cerr(c, "\"%s\" must be a boolean", kw);
	return 0;
}

/* contentSchema: an annotation (content vocabulary), so not compiled or
 * applied, but it must be a schema's shape. */
static int kw_schema_annotation(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	(void)n;
	if(!jw_schema__is_type(v, json_type_object) && !jw_schema__is_type(v, json_type_boolean))
		return jw_schema__cerr(c, "\"%s\" must be a schema (an object or a boolean)", kw);
	return 0;
}

/* $vocabulary: meaningful in a meta-schema only; an object of URIs to
 * booleans, at a resource root. */
static int kw_vocabulary(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	struct json_object *id;

	if(n->src != c->doc_root &&
	        !json_object_object_get_ex((struct json_object *)(uintptr_t)n->src, "$id", &id))
		return jw_schema__cerr(
		        c, "unsupported keyword \"%s\" (accepted only at a resource root)", kw);
	if(!jw_schema__is_type(v, json_type_object))
		return jw_schema__cerr(c, "\"%s\" must be an object", kw);
	json_object_object_foreach((struct json_object *)(uintptr_t)v, key, val)
	{
		(void)key;
		if(!jw_schema__is_type(val, json_type_boolean))
			return jw_schema__cerr(c, "\"%s\" values must be booleans", kw);
	}
	return 0;
}

static int kw_any_annotation(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	(void)c;
	(void)n;
	(void)kw;
	(void)v;
	return 0;
}

static int kw_examples(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	(void)n;
	if(!jw_schema__is_type(v, json_type_array))
		return jw_schema__cerr(c, "\"%s\" must be an array", kw);
	return 0;
}

static int kw_dollar_schema(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	char buf[160];
	struct json_object *id;

	if(n->src != c->doc_root &&
	        !json_object_object_get_ex((struct json_object *)(uintptr_t)n->src, "$id", &id))
		return jw_schema__cerr(c,
		        "unsupported keyword \"%s\" (accepted only at a resource root: the "
		        "document root or beside \"$id\")",
		        kw);
	if(!jw_schema__is_type(v, json_type_string))
		return jw_schema__cerr(c, "\"%s\" must be a string", kw);
	const char *uri = json_object_get_string((struct json_object *)(uintptr_t)v);
	if(strcmp(uri, DRAFT_2020_12) != 0 && strcmp(uri, DRAFT_2020_12 "#") != 0)
		return jw_schema__cerr(c, "unsupported $schema %s (only \"" DRAFT_2020_12 "\")",
		        jw_schema__quote(buf, sizeof buf, uri));
	return 0;
}

/* $id, $anchor and $dynamicAnchor take effect before the other keywords
 * (scope_enter); here they are only accepted. */
static int kw_scope(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	(void)c;
	(void)n;
	(void)kw;
	(void)v;
	return 0;
}

/* ---- helpers for keyword values ---- */

/* The number v into *out; its text, when it has one, is copied to *own
 * (the node's), because the schema document does not outlive the
 * compiled schema. */
static int get_number(
        struct cctx *c, const char *kw, const struct json_object *v, struct jw_num *out, char **own)
{
	struct jw_value val;
	jw_schema__value_init(&val, v);
	if(val.type != JW_V_NUMBER)
		return jw_schema__cerr(c, "\"%s\" must be a number", kw);
	*out = val.num;
	free(*own);
	*own = NULL;
	if(out->text != NULL) {
		*own = malloc(out->tlen + 1);
		if(*own == NULL)
			return jw_schema__oom(c);
		memcpy(*own, out->text, out->tlen);
		(*own)[out->tlen] = '\0';
		out->text = *own;
	}
	return 0;
}

/* A non-negative integer (2.0 counts, per the meta-schema's "integer");
 * values beyond size_t saturate, which no instance can reach anyway. */
static int get_count(struct cctx *c, const char *kw, const struct json_object *v, size_t *out)
{
	struct jw_value val;
	jw_schema__value_init(&val, v);
	if(val.type != JW_V_NUMBER || !jw_schema__num_is_integer(&val.num) || val.num.d < 0)
		return jw_schema__cerr(c, "\"%s\" must be a non-negative integer", kw);
	if(!val.num.is_int)
		*out = SIZE_MAX;
#if SIZE_MAX < INT64_MAX
	else if(val.num.i > (int64_t)SIZE_MAX)
		*out = SIZE_MAX;
#endif
	else
		*out = (size_t)val.num.i;
	return 0;
}

static int compile_sub(
        struct cctx *c, const char *kw, const struct json_object *v, struct jw_schema_node **out)
{
	size_t saved;
	if(loc_push(c, kw, &saved) < 0)
		return -1;
	*out = jw_schema__compile_schema(c, v);
	loc_pop(c, saved);
	return *out ? 0 : -1;
}

/* A non-empty array of schemas (allOf, anyOf, oneOf, prefixItems). */
static int compile_sub_array(struct cctx *c, const char *kw, const struct json_object *v,
        struct jw_schema_node ***out, size_t *count)
{
	size_t saved, saved_i, len;

	if(!jw_schema__is_type(v, json_type_array) || json_object_array_length(v) == 0)
		return jw_schema__cerr(c, "\"%s\" must be a non-empty array of schemas", kw);
	len = json_object_array_length(v);
	*out = calloc(len, sizeof **out);
	if(*out == NULL)
		return jw_schema__oom(c);
	*count = len;
	if(loc_push(c, kw, &saved) < 0)
		return -1;
	for(size_t i = 0; i < len; i++) {
		if(loc_push_index(c, i, &saved_i) < 0)
			return -1;
		(*out)[i] = jw_schema__compile_schema(c, json_object_array_get_idx(v, i));
		if((*out)[i] == NULL)
			return -1;
		loc_pop(c, saved_i);
	}
	loc_pop(c, saved);
	return 0;
}

/* An object whose members are schemas (properties, dependentSchemas). */
static int compile_sub_map(struct cctx *c, const char *kw, const struct json_object *v,
        struct jw_schema_prop **out, size_t *count)
{
	size_t saved, saved_m, i = 0;

	if(!jw_schema__is_type(v, json_type_object))
		return jw_schema__cerr(c, "\"%s\" must be an object of schemas", kw);
	*count = 0;
	*out = calloc((size_t)json_object_object_length(v) + 1, sizeof **out);
	if(*out == NULL)
		return jw_schema__oom(c);
	if(loc_push(c, kw, &saved) < 0)
		return -1;
	for(struct lh_entry *e = lh_table_head(json_object_get_object(v)); e;
	        e = lh_entry_next(e), i++) {
		const char *name = lh_entry_k(e);
		(*out)[i].name = strdup(name);
		if((*out)[i].name == NULL)
			return jw_schema__oom(c);
		*count = i + 1;
		if(loc_push(c, name, &saved_m) < 0)
			return -1;
		(*out)[i].node = jw_schema__compile_schema(c, lh_entry_v(e));
		if((*out)[i].node == NULL)
			return -1;
		loc_pop(c, saved_m);
	}
	loc_pop(c, saved);
	return 0;
}

/* An array of distinct strings (required, dependentRequired values). */
static int get_string_set(
        struct cctx *c, const char *kw, const struct json_object *v, char ***out, size_t *count)
{
	char buf[96];
	size_t len;

	if(!jw_schema__is_type(v, json_type_array))
		return jw_schema__cerr(c, "\"%s\" must be an array of unique strings", kw);
	len = json_object_array_length(v);
	*count = 0;
	*out = calloc(len + 1, sizeof **out);
	if(*out == NULL)
		return jw_schema__oom(c);
	for(size_t i = 0; i < len; i++) {
		struct json_object *item = json_object_array_get_idx(v, i);
		if(!jw_schema__is_type(item, json_type_string))
			return jw_schema__cerr(c, "\"%s\" must be an array of unique strings", kw);
		const char *str = json_object_get_string(item);
		for(size_t j = 0; j < i; j++) {
			if(strcmp((*out)[j], str) == 0)
				return jw_schema__cerr(
				        c, "\"%s\" lists %s twice", kw, jw_schema__quote(buf, sizeof buf, str));
		}
		(*out)[i] = strdup(str);
		if((*out)[i] == NULL)
			return jw_schema__oom(c);
		*count = i + 1;
	}
	return 0;
}

/* ECMA-262 spells General_Category values by their long names too
 * (PropertyValueAliases.txt); PCRE2 10.42 knows only the short ones. */
static const struct {
	const char *name;
	const char *pcre;
} gc_names[] = {
        {"Other", "C"},
        {"Control", "Cc"},
        {"cntrl", "Cc"},
        {"Format", "Cf"},
        {"Unassigned", "Cn"},
        {"Private_Use", "Co"},
        {"Surrogate", "Cs"},
        {"Letter", "L"},
        {"Cased_Letter", "LC"},
        {"Lowercase_Letter", "Ll"},
        {"Modifier_Letter", "Lm"},
        {"Other_Letter", "Lo"},
        {"Titlecase_Letter", "Lt"},
        {"Uppercase_Letter", "Lu"},
        {"Mark", "M"},
        {"Combining_Mark", "M"},
        {"Spacing_Mark", "Mc"},
        {"Enclosing_Mark", "Me"},
        {"Nonspacing_Mark", "Mn"},
        {"Number", "N"},
        {"Decimal_Number", "Nd"},
        {"digit", "Nd"},
        {"Letter_Number", "Nl"},
        {"Other_Number", "No"},
        {"Punctuation", "P"},
        {"punct", "P"},
        {"Connector_Punctuation", "Pc"},
        {"Dash_Punctuation", "Pd"},
        {"Close_Punctuation", "Pe"},
        {"Final_Punctuation", "Pf"},
        {"Initial_Punctuation", "Pi"},
        {"Other_Punctuation", "Po"},
        {"Open_Punctuation", "Ps"},
        {"Symbol", "S"},
        {"Currency_Symbol", "Sc"},
        {"Modifier_Symbol", "Sk"},
        {"Math_Symbol", "Sm"},
        {"Other_Symbol", "So"},
        {"Separator", "Z"},
        {"Line_Separator", "Zl"},
        {"Paragraph_Separator", "Zp"},
        {"Space_Separator", "Zs"},
};

/*
 * Rewrites \p{Name} and \P{Name} escapes whose Name is an ECMA-262
 * General_Category spelling ("Letter", "gc=Letter",
 * "General_Category=L") into PCRE2's short form. Everything else is
 * copied unchanged. *out is NUL-terminated; the caller frees it.
 */
/* ECMA-262's \s: WhiteSpace and LineTerminator (Unicode, unlike PCRE2's
 * ASCII \s without UCP), as a class body, and its complement for \S
 * inside a class. \N{U+...}, as \x{...} means something else with
 * PCRE2_ALT_BSUX. */
#define ECMA_SPACE                                                                                 \
	"\\N{U+9}-\\N{U+D}\\N{U+20}\\N{U+A0}\\N{U+1680}\\N{U+2000}-\\N{U+200A}"                        \
	"\\N{U+2028}\\N{U+2029}\\N{U+202F}\\N{U+205F}\\N{U+3000}\\N{U+FEFF}"
#define ECMA_NOT_SPACE                                                                             \
	"\\N{U+0}-\\N{U+8}\\N{U+E}-\\N{U+1F}\\N{U+21}-\\N{U+9F}\\N{U+A1}-\\N{U+167F}"                  \
	"\\N{U+1681}-\\N{U+1FFF}\\N{U+200B}-\\N{U+2027}\\N{U+202A}-\\N{U+202E}"                        \
	"\\N{U+2030}-\\N{U+205E}\\N{U+2060}-\\N{U+2FFF}\\N{U+3001}-\\N{U+FEFE}"                        \
	"\\N{U+FF00}-\\N{U+10FFFF}"

/* Writes the PCRE2 form of \s or \S (kind), inside a class or not. */
static size_t ecma_space(char *dst, char kind, bool in_class)
{
	/* Outside a class \S is the negated class of the same body. */
	const char *body = kind == 'S' && in_class ? ECMA_NOT_SPACE : ECMA_SPACE;
	size_t o = 0;

	if(!in_class) {
		dst[o++] = '[';
		if(kind == 'S')
			dst[o++] = '^';
	}
	memcpy(dst + o, body, strlen(body));
	o += strlen(body);
	if(!in_class)
		dst[o++] = ']';
	return o;
}

static int ecma_properties(const char *src, size_t len, char **out, size_t *outlen)
{
	/* Room for every escape to become the longest \S form. */
	char *dst = malloc(len * (sizeof ECMA_NOT_SPACE / 2 + 4) + 1);
	size_t o = 0;
	bool in_class = false;

	if(dst == NULL)
		return -1;
	for(size_t i = 0; i < len; i++) {
		if(src[i] != '\\' || i + 1 >= len) {
			if(src[i] == '[' && !in_class)
				in_class = true;
			else if(src[i] == ']' && in_class)
				in_class = false;
			dst[o++] = src[i];
			continue;
		}
		char kind = src[i + 1];
		if(kind == 's' || kind == 'S') {
			o += ecma_space(dst + o, kind, in_class);
			i++;
			continue;
		}
		const char *close = NULL;
		if((kind == 'p' || kind == 'P') && i + 2 < len && src[i + 2] == '{')
			close = memchr(src + i + 3, '}', len - (i + 3));
		if(close == NULL) {
			/* Copy the escape as a pair so an escaped backslash
			 * cannot start a new escape. */
			dst[o++] = src[i++];
			dst[o++] = src[i];
			continue;
		}
		const char *name = src + i + 3;
		size_t nlen = (size_t)(close - name);
		const char *eq = memchr(name, '=', nlen);
		const char *value = name;
		size_t vlen = nlen;
		bool gc_prefix = false;
		if(eq != NULL) {
			size_t plen = (size_t)(eq - name);
			gc_prefix = (plen == 2 && memcmp(name, "gc", 2) == 0) ||
			            (plen == 16 && memcmp(name, "General_Category", 16) == 0);
			value = eq + 1;
			vlen = nlen - plen - 1;
		}
		const char *repl = NULL;
		if(eq == NULL || gc_prefix) {
			for(size_t k = 0; k < sizeof gc_names / sizeof gc_names[0]; k++) {
				if(strlen(gc_names[k].name) == vlen && memcmp(gc_names[k].name, value, vlen) == 0) {
					repl = gc_names[k].pcre;
					break;
				}
			}
			/* "gc=Lu": already short, only the prefix goes. */
			if(repl == NULL && gc_prefix && vlen <= 2)
				repl = "";
		}
		if(repl == NULL) {
			size_t n = (size_t)(close - (src + i)) + 1;
			memcpy(dst + o, src + i, n);
			o += n;
		} else {
			dst[o++] = '\\';
			dst[o++] = kind;
			dst[o++] = '{';
			if(repl[0] != '\0') {
				memcpy(dst + o, repl, strlen(repl));
				o += strlen(repl);
			} else {
				memcpy(dst + o, value, vlen);
				o += vlen;
			}
			dst[o++] = '}';
		}
		i = (size_t)(close - src);
	}
	dst[o] = '\0';
	*out = dst;
	*outlen = o;
	return 0;
}

pcre2_code *jw_schema__regex_code(const char *src, size_t len, int *errcode, PCRE2_SIZE *erroff)
{
	char *pcre;
	size_t pcre_len;

	*errcode = 0;
	*erroff = 0;
	if(ecma_properties(src, len, &pcre, &pcre_len) < 0)
		return NULL;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pcre, pcre_len,
	        PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX | PCRE2_ALLOW_EMPTY_CLASS, errcode,
	        erroff, NULL);
	free(pcre);
	if(code == NULL && *errcode == 0)
		*errcode = PCRE2_ERROR_NOMEMORY;
	return code;
}

/*
 * ECMA-262 is the dialect JSON Schema names; PCRE2 is close when used in
 * UTF mode without UCP (so \d, \w and \b stay ASCII), with "$" matching
 * only at the very end, with \uXXXX escapes and with ECMA's long Unicode
 * category names. Searches are unanchored. An error offset refers to the
 * pattern as PCRE2 saw it, which differs only after a rewritten \p{...},
 * \s or \S.
 */
static int compile_regex(
        struct cctx *c, const char *kw, const char *src, size_t len, struct jw_regex *re)
{
	char buf[160];
	int errcode;
	PCRE2_SIZE erroff;

	re->source = malloc(len + 1);
	if(re->source == NULL)
		return jw_schema__oom(c);
	memcpy(re->source, src, len);
	re->source[len] = '\0';
	re->code = jw_schema__regex_code(src, len, &errcode, &erroff);
	if(re->code == NULL && errcode == 0)
		return jw_schema__oom(c);
	if(re->code == NULL) {
		PCRE2_UCHAR msg[128];
		if(pcre2_get_error_message(errcode, msg, sizeof msg) < 0)
			snprintf((char *)msg, sizeof msg, "error %d", errcode);
		jw_schema__render_string(buf, sizeof buf, 100, src, len);
		return jw_schema__cerr(c, "\"%s\" %s does not compile: %s (at offset %zu)", kw, buf,
		        (const char *)msg, (size_t)erroff);
	}
	/* JIT is an optimisation: where it is unavailable (or skipped, see
	 * UNDER_VALGRIND) the interpreter gives the same answers. */
	if(!UNDER_VALGRIND())
		(void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
	return 0;
}

/* ---- assertions ---- */

static const char *const type_names[] = {
        "null",
        "boolean",
        "object",
        "array",
        "number",
        "string",
        "integer",
};

static int type_bit(
        struct cctx *c, const struct json_object *v, unsigned *bit, unsigned char *index)
{
	char buf[96];

	if(!jw_schema__is_type(v, json_type_string))
		return jw_schema__cerr(c, "\"type\" must be a type name or an array of them");
	const char *name = json_object_get_string((struct json_object *)(uintptr_t)v);
	for(unsigned i = 0; i < 7; i++) {
		if(strcmp(name, type_names[i]) == 0) {
			*bit = 1u << i;
			*index = (unsigned char)i;
			return 0;
		}
	}
	return jw_schema__cerr(c, "unknown type %s", jw_schema__quote(buf, sizeof buf, name));
}

static int kw_type(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	unsigned bit;
	unsigned char idx;

	(void)kw;
	n->has |= JW_HAS_TYPE;
	if(!jw_schema__is_type(v, json_type_array)) {
		if(type_bit(c, v, &bit, &idx) < 0)
			return -1;
		n->types = bit;
		n->type_order[0] = idx;
		n->n_types = 1;
		return 0;
	}
	size_t len = json_object_array_length(v);
	if(len == 0)
		return jw_schema__cerr(c, "\"type\" must not be an empty array");
	n->type_is_array = true;
	for(size_t i = 0; i < len; i++) {
		if(type_bit(c, json_object_array_get_idx(v, i), &bit, &idx) < 0)
			return -1;
		if(n->types & bit)
			return jw_schema__cerr(c, "\"type\" lists \"%s\" twice", type_names[idx]);
		n->types |= bit;
		n->type_order[n->n_types++] = idx;
	}
	return 0;
}

static void doc_free(struct jw_jdoc *d)
{
	if(d != NULL) {
		jw_jdoc_free(d);
		free(d);
	}
}

/* The arena tree validation reads, built from the private json-c copy. */
static int to_doc(const struct json_object *v, struct jw_jdoc **out)
{
	struct jw_jdoc *d = malloc(sizeof(*d));

	if(d == NULL)
		return -1;
	jw_jdoc_init(d);
	if(jw_jdoc_from_json(d, v) < 0) {
		jw_jdoc_free(d);
		free(d);
		return -1;
	}
	doc_free(*out);
	*out = d;
	return 0;
}

static int kw_const(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	(void)kw;
	n->has |= JW_HAS_CONST;
	if(jw_schema__value_copy(v, &n->const_value) < 0 || to_doc(n->const_value, &n->const_doc) < 0)
		return jw_schema__oom(c);
	return 0;
}

static int kw_enum(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	(void)kw;
	if(!jw_schema__is_type(v, json_type_array))
		return jw_schema__cerr(c, "\"enum\" must be an array");
	n->has |= JW_HAS_ENUM;
	if(jw_schema__value_copy(v, &n->enum_values) < 0 || to_doc(n->enum_values, &n->enum_doc) < 0)
		return jw_schema__oom(c);
	return 0;
}

static int kw_number(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	struct jw_num *dst;
	uint32_t bit;
	size_t t;

	if(strcmp(kw, "minimum") == 0) {
		dst = &n->minimum;
		bit = JW_HAS_MINIMUM;
		t = 0;
	} else if(strcmp(kw, "maximum") == 0) {
		dst = &n->maximum;
		bit = JW_HAS_MAXIMUM;
		t = 1;
	} else if(strcmp(kw, "exclusiveMinimum") == 0) {
		dst = &n->ex_minimum;
		bit = JW_HAS_EX_MINIMUM;
		t = 2;
	} else {
		dst = &n->ex_maximum;
		bit = JW_HAS_EX_MAXIMUM;
		t = 3;
	}
	if(get_number(c, kw, v, dst, &n->num_text[t]) < 0)
		return -1;
	n->has |= bit;
	return 0;
}

static int kw_multiple_of(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	struct jw_num zero;

	if(get_number(c, kw, v, &n->multiple_of, &n->num_text[4]) < 0)
		return -1;
	jw_schema__num_from_int(&zero, 0);
	if(jw_schema__num_cmp(&n->multiple_of, &zero) != 1)
		return jw_schema__cerr(c, "\"%s\" must be greater than 0", kw);
	n->has |= JW_HAS_MULTIPLE_OF;
	return 0;
}

static int kw_count(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	static const struct {
		const char *name;
		size_t offset;
		uint32_t bit;
	} counts[] = {
	        {"minLength", offsetof(struct jw_schema_node, min_length), JW_HAS_MIN_LENGTH},
	        {"maxLength", offsetof(struct jw_schema_node, max_length), JW_HAS_MAX_LENGTH},
	        {"minItems", offsetof(struct jw_schema_node, min_items), JW_HAS_MIN_ITEMS},
	        {"maxItems", offsetof(struct jw_schema_node, max_items), JW_HAS_MAX_ITEMS},
	        {"minContains", offsetof(struct jw_schema_node, min_contains), JW_HAS_MIN_CONTAINS},
	        {"maxContains", offsetof(struct jw_schema_node, max_contains), JW_HAS_MAX_CONTAINS},
	        {"minProperties", offsetof(struct jw_schema_node, min_props), JW_HAS_MIN_PROPS},
	        {"maxProperties", offsetof(struct jw_schema_node, max_props), JW_HAS_MAX_PROPS},
	};
	for(size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		if(strcmp(kw, counts[i].name) != 0)
			continue;
		size_t *dst = (size_t *)(void *)((char *)n + counts[i].offset);
		if(get_count(c, kw, v, dst) < 0)
			return -1;
		n->has |= counts[i].bit;
		return 0;
	}
	return jw_schema__cerr(c, "internal error: no slot for \"%s\"", kw);
}

static int kw_pattern(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	if(!jw_schema__is_type(v, json_type_string))
		return jw_schema__cerr(c, "\"%s\" must be a string", kw);
	n->has |= JW_HAS_PATTERN;
	int len = json_object_get_string_len(v);
	return compile_regex(c, kw, json_object_get_string((struct json_object *)(uintptr_t)v),
	        len > 0 ? (size_t)len : 0, &n->pattern);
}

static int kw_format(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	char buf[96];

	if(!jw_schema__is_type(v, json_type_string))
		return jw_schema__cerr(c, "\"%s\" must be a string", kw);
	const char *f = json_object_get_string((struct json_object *)(uintptr_t)v);
	/* Formats are asserted here, not mere annotations, so an unknown one
	 * would silently check nothing: refuse it. */
	/* The format-annotation vocabulary, on request: no check at all. */
	if(c->opts->flags & JW_SCHEMA_FORMAT_ANNOTATION)
		return 0;
	const struct jw_format_def *def = jw_schema__format_find(f);
	if(def == NULL)
		return jw_schema__cerr(c, "unsupported format %s (supported: %s)",
		        jw_schema__quote(buf, sizeof buf, f), jw_schema__format_names());
	if(strcmp(f, "date-time") == 0) {
		n->format = JW_FORMAT_DATE_TIME;
	} else if(strcmp(f, "uuid") == 0) {
		n->format = JW_FORMAT_UUID;
	} else {
		n->format = JW_FORMAT_OTHER;
		n->format_def = def;
	}
	n->has |= JW_HAS_FORMAT;
	return 0;
}

static int kw_unique_items(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	if(!jw_schema__is_type(v, json_type_boolean))
		return jw_schema__cerr(c, "\"%s\" must be a boolean", kw);
	if(json_object_get_boolean(v))
		n->has |= JW_HAS_UNIQUE;
	return 0;
}

static int kw_required(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	return get_string_set(c, kw, v, &n->required, &n->n_required);
}

static int kw_dependent_required(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	size_t saved, saved_m, i = 0;

	if(!jw_schema__is_type(v, json_type_object))
		return jw_schema__cerr(c, "\"%s\" must be an object of string arrays", kw);
	n->dep_required = calloc((size_t)json_object_object_length(v) + 1, sizeof *n->dep_required);
	if(n->dep_required == NULL)
		return jw_schema__oom(c);
	if(loc_push(c, kw, &saved) < 0)
		return -1;
	for(struct lh_entry *e = lh_table_head(json_object_get_object(v)); e;
	        e = lh_entry_next(e), i++) {
		struct jw_schema_dep *d = &n->dep_required[i];
		d->name = strdup(lh_entry_k(e));
		if(d->name == NULL)
			return jw_schema__oom(c);
		n->n_dep_required = i + 1;
		if(loc_push(c, d->name, &saved_m) < 0)
			return -1;
		if(get_string_set(c, kw, lh_entry_v(e), &d->required, &d->n_required) < 0)
			return -1;
		loc_pop(c, saved_m);
	}
	loc_pop(c, saved);
	return 0;
}

/* ---- applicators ---- */

static int kw_defs(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	struct jw_schema_prop *defs = NULL;
	size_t count = 0;
	int rc;

	(void)n;
	/* Definitions are compiled (and so checked) even when unused; they
	 * are reached only through $ref, which finds them by source object. */
	rc = compile_sub_map(c, kw, v, &defs, &count);
	for(size_t i = 0; i < count; i++)
		free(defs[i].name);
	free(defs);
	return rc;
}

static int kw_properties(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	/* The lookup table is built by jw_schema__finish. */
	return compile_sub_map(c, kw, v, &n->props, &n->n_props);
}

static int kw_pattern_properties(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	size_t saved, saved_m, i = 0;

	if(!jw_schema__is_type(v, json_type_object))
		return jw_schema__cerr(c, "\"%s\" must be an object of schemas", kw);
	n->pattern_props = calloc((size_t)json_object_object_length(v) + 1, sizeof *n->pattern_props);
	if(n->pattern_props == NULL)
		return jw_schema__oom(c);
	if(loc_push(c, kw, &saved) < 0)
		return -1;
	for(struct lh_entry *e = lh_table_head(json_object_get_object(v)); e;
	        e = lh_entry_next(e), i++) {
		struct jw_schema_pprop *pp = &n->pattern_props[i];
		const char *re = lh_entry_k(e);
		n->n_pattern_props = i + 1;
		if(loc_push(c, re, &saved_m) < 0)
			return -1;
		if(compile_regex(c, kw, re, strlen(re), &pp->re) < 0)
			return -1;
		pp->node = jw_schema__compile_schema(c, lh_entry_v(e));
		if(pp->node == NULL)
			return -1;
		loc_pop(c, saved_m);
	}
	loc_pop(c, saved);
	return 0;
}

static int kw_dependent_schemas(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	return compile_sub_map(c, kw, v, &n->dep_schemas, &n->n_dep_schemas);
}

static int kw_items(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	if(jw_schema__is_type(v, json_type_array))
		return jw_schema__cerr(
		        c, "\"items\" must be a schema (draft 2020-12 spells tuples \"prefixItems\")");
	return compile_sub(c, kw, v, &n->items);
}

static int kw_single(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	struct jw_schema_node **dst;

	if(strcmp(kw, "additionalProperties") == 0)
		dst = &n->additional;
	else if(strcmp(kw, "propertyNames") == 0)
		dst = &n->property_names;
	else if(strcmp(kw, "contains") == 0)
		dst = &n->contains;
	else if(strcmp(kw, "not") == 0)
		dst = &n->not_schema;
	else if(strcmp(kw, "if") == 0)
		dst = &n->if_schema;
	else if(strcmp(kw, "then") == 0)
		dst = &n->then_schema;
	else if(strcmp(kw, "unevaluatedProperties") == 0)
		dst = &n->unevaluated_props;
	else if(strcmp(kw, "unevaluatedItems") == 0)
		dst = &n->unevaluated_items;
	else
		dst = &n->else_schema;
	return compile_sub(c, kw, v, dst);
}

static int kw_array_of_schemas(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	if(strcmp(kw, "allOf") == 0)
		return compile_sub_array(c, kw, v, &n->all_of, &n->n_all_of);
	if(strcmp(kw, "anyOf") == 0)
		return compile_sub_array(c, kw, v, &n->any_of, &n->n_any_of);
	if(strcmp(kw, "oneOf") == 0)
		return compile_sub_array(c, kw, v, &n->one_of, &n->n_one_of);
	return compile_sub_array(c, kw, v, &n->prefix_items, &n->n_prefix_items);
}

static int add_ref(struct cctx *c, struct jw_schema_node *n, const char *kw,
        const struct json_object *v, bool dynamic)
{
	if(!jw_schema__is_type(v, json_type_string))
		return jw_schema__cerr(c, "\"%s\" must be a string", kw);
	if(c->n_refs == c->cap_refs) {
		size_t cap = c->cap_refs ? c->cap_refs * 2 : 8;
		struct pending_ref *p = realloc(c->refs, cap * sizeof *p);
		if(p == NULL)
			return jw_schema__oom(c);
		c->refs = p;
		c->cap_refs = cap;
	}
	struct pending_ref *r = &c->refs[c->n_refs];
	r->node = n;
	r->ref = strdup(json_object_get_string((struct json_object *)(uintptr_t)v));
	r->loc = strdup(c->loc.p);
	r->base = c->base;
	r->dynamic = dynamic;
	if(r->ref == NULL || r->loc == NULL) {
		free(r->ref);
		free(r->loc);
		return jw_schema__oom(c);
	}
	c->n_refs++;
	return 0;
}

static int kw_ref(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	return add_ref(c, n, kw, v, false);
}

static int kw_dynamic_ref(
        struct cctx *c, struct jw_schema_node *n, const char *kw, const struct json_object *v)
{
	return add_ref(c, n, kw, v, true);
}

/* Everything accepted. Anything else, including later-draft or vocabulary
 * keywords this compiler cannot honour, is refused by name. */
static const struct keyword keywords[] = {
        {"$schema", kw_dollar_schema},
        {"$id", kw_scope},
        {"$anchor", kw_scope},
        {"$dynamicAnchor", kw_scope},
        {"$dynamicRef", kw_dynamic_ref},
        {"$comment", kw_string_annotation},
        {"title", kw_string_annotation},
        {"description", kw_string_annotation},
        {"default", kw_any_annotation},
        {"examples", kw_examples},
        {"deprecated", kw_bool_annotation},
        {"readOnly", kw_bool_annotation},
        {"writeOnly", kw_bool_annotation},
        {"contentEncoding", kw_string_annotation},
        {"contentMediaType", kw_string_annotation},
        {"contentSchema", kw_schema_annotation},
        {"$vocabulary", kw_vocabulary},
        {"$defs", kw_defs},
        {"$ref", kw_ref},
        {"type", kw_type},
        {"const", kw_const},
        {"enum", kw_enum},
        {"minimum", kw_number},
        {"maximum", kw_number},
        {"exclusiveMinimum", kw_number},
        {"exclusiveMaximum", kw_number},
        {"multipleOf", kw_multiple_of},
        {"minLength", kw_count},
        {"maxLength", kw_count},
        {"pattern", kw_pattern},
        {"format", kw_format},
        {"items", kw_items},
        {"prefixItems", kw_array_of_schemas},
        {"minItems", kw_count},
        {"maxItems", kw_count},
        {"uniqueItems", kw_unique_items},
        {"contains", kw_single},
        {"minContains", kw_count},
        {"maxContains", kw_count},
        {"properties", kw_properties},
        {"patternProperties", kw_pattern_properties},
        {"additionalProperties", kw_single},
        {"propertyNames", kw_single},
        {"required", kw_required},
        {"minProperties", kw_count},
        {"maxProperties", kw_count},
        {"dependentRequired", kw_dependent_required},
        {"dependentSchemas", kw_dependent_schemas},
        {"allOf", kw_array_of_schemas},
        {"anyOf", kw_array_of_schemas},
        {"oneOf", kw_array_of_schemas},
        {"not", kw_single},
        {"if", kw_single},
        {"then", kw_single},
        {"else", kw_single},
        {"unevaluatedProperties", kw_single},
        {"unevaluatedItems", kw_single},
};

static const struct keyword *find_keyword(const char *name)
{
	for(size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
		if(strcmp(keywords[i].name, name) == 0)
			return &keywords[i];
	}
	return NULL;
}

struct jw_schema_node *jw_schema__compile_schema(struct cctx *c, const struct json_object *obj)
{
	char buf[96];
	struct jw_schema_node *n;

	if(!jw_schema__is_type(obj, json_type_object) && !jw_schema__is_type(obj, json_type_boolean)) {
		jw_schema__render_json(buf, sizeof buf, 60, obj);
		jw_schema__cerr(c, "a schema must be an object or a boolean, got %s", buf);
		return NULL;
	}
	n = node_new(c, obj);
	if(n == NULL)
		return NULL;
	if(jw_schema__is_type(obj, json_type_boolean)) {
		n->is_bool = true;
		n->bool_value = json_object_get_boolean(obj) != 0;
		return n;
	}
	const char *saved_base = c->base;
	uint32_t saved_res = c->cur_res;
	if(jw_schema__scope_enter(c, obj, n) < 0)
		return NULL;
	n->resource = c->cur_res;
	for(struct lh_entry *e = lh_table_head(json_object_get_object(obj)); e; e = lh_entry_next(e)) {
		const char *name = lh_entry_k(e);
		const struct keyword *kw = find_keyword(name);
		/* "x-" keywords are the user's own annotations; other unknown
		 * words are refused (a typo must not turn a rule off) unless
		 * the caller asked for them as annotations. */
		if(kw == NULL &&
		        (strncmp(name, "x-", 2) == 0 || (c->opts->flags & JW_SCHEMA_UNKNOWN_AS_ANNOTATION)))
			continue;
		if(kw == NULL) {
			jw_schema__cerr(c, "unsupported keyword %s", jw_schema__quote(buf, sizeof buf, name));
			return NULL;
		}
		if(kw->compile(c, n, name, lh_entry_v(e)) < 0)
			return NULL;
	}
	c->base = saved_base;
	c->cur_res = saved_res;
	return n;
}

static void regex_free(struct jw_regex *re)
{
	pcre2_code_free(re->code);
	free(re->source);
}

static void node_free(struct jw_schema_node *n)
{
	for(size_t i = 0; i < sizeof n->num_text / sizeof n->num_text[0]; i++)
		free(n->num_text[i]);
	free(n->dyn_name);
	json_object_put(n->const_value);
	json_object_put(n->enum_values);
	doc_free(n->const_doc);
	doc_free(n->enum_doc);
	regex_free(&n->pattern);
	for(size_t i = 0; i < n->n_props; i++)
		free(n->props[i].name);
	free(n->props);
	free(n->props_hash);
	free(n->dep_bit);
	free(n->dep_mask);
	free(n->props_order);
	for(size_t i = 0; i < n->n_pattern_props; i++)
		regex_free(&n->pattern_props[i].re);
	free(n->pattern_props);
	for(size_t i = 0; i < n->n_required; i++)
		free(n->required[i]);
	free(n->required);
	free(n->required_key);
	free(n->required_bit);
	for(size_t i = 0; i < n->n_dep_required; i++) {
		free(n->dep_required[i].required_key);
		for(size_t j = 0; j < n->dep_required[i].n_required; j++)
			free(n->dep_required[i].required[j]);
		free(n->dep_required[i].required);
		free(n->dep_required[i].name);
	}
	free(n->dep_required);
	for(size_t i = 0; i < n->n_dep_schemas; i++)
		free(n->dep_schemas[i].name);
	free(n->dep_schemas);
	free(n->prefix_items);
	free(n->all_of);
	free(n->any_of);
	free(n->one_of);
	free(n->loc);
	free(n);
}

void jw_schema_free(struct jw_schema *s)
{
	if(s == NULL)
		return;
	for(size_t i = 0; i < s->n_nodes; i++)
		node_free(s->nodes[i]);
	free(s->nodes);
	for(size_t r = 0; r < s->n_resources; r++) {
		for(size_t k = 0; k < s->resources[r].n_anchors; k++)
			free(s->resources[r].anchors[k].name);
		free(s->resources[r].anchors);
		free(s->resources[r].uri);
	}
	free(s->resources);
	pcre2_match_context_free(s->match_ctx);
	free(s);
}

int jw_schema_compile(const struct json_object *doc, const char *source, struct jw_schema **out,
        char *err, size_t errlen)
{
	return jw_schema_compile_opts(doc, source, NULL, out, err, errlen);
}

/* The document's own URI when the caller gives none: a file: URI of the
 * source name, so relative $id and $ref values have a base to resolve
 * against (they find nothing there without a loader). */
static const char *default_base(struct cctx *c, const char *source)
{
	size_t n = strlen(source) + 16;
	char *uri = malloc(n);

	if(uri != NULL)
		snprintf(uri, n, "file://%s%s", source[0] == '/' ? "" : "/", source);
	return jw_schema__keep_uri(c, uri);
}

int jw_schema_compile_opts(const struct json_object *doc, const char *source,
        const struct jw_schema_options *opts, struct jw_schema **out, char *err, size_t errlen)
{
	static const struct jw_schema_options none;
	struct cctx c;
	struct jw_schema *s = NULL;
	int rc = -1;

	memset(&c, 0, sizeof c);
	c.opts = opts != NULL ? opts : &none;
	c.doc_root = doc;
	c.source = source != NULL ? source : "schema";
	c.err = err;
	c.errlen = errlen;
	*out = NULL;
	if(err != NULL && errlen > 0)
		err[0] = '\0';

	/* Room for most locations, and "" from the start. */
	jw_buf_init(&c.loc, JW_BUF_UNLIMITED);
	s = calloc(1, sizeof *s);
	if(jw_buf_reserve(&c.loc, 63) != 0 || s == NULL) {
		jw_schema__oom(&c);
		goto out;
	}
	c.s = s;

	s->match_ctx = pcre2_match_context_create(NULL);
	if(s->match_ctx == NULL) {
		jw_schema__oom(&c);
		goto out;
	}
	pcre2_set_match_limit(s->match_ctx, MATCH_LIMIT);

	c.base = c.opts->base_uri != NULL ? jw_schema__keep_uri(&c, strdup(c.opts->base_uri))
	                                  : default_base(&c, c.source);
	if(c.base == NULL || jw_schema__add_name(&c, c.base, doc, c.base, false) < 0 ||
	        jw_schema__new_resource(&c) < 0)
		goto out;
	s->root = jw_schema__compile_schema(&c, doc);
	if(s->root == NULL || jw_schema__resolve_refs(&c) < 0)
		goto out;
	s->root->res_root = true;
	jw_schema__mark_scoped(s);
	for(size_t i = 0; i < s->n_nodes; i++)
		if(jw_schema__check_cycles(&c, s->nodes[i]) < 0)
			goto out;
	for(size_t i = 0; i < s->n_nodes; i++) {
		if(jw_schema__finish(s->nodes[i]) < 0) {
			jw_schema__oom(&c);
			goto out;
		}
	}
	for(size_t i = 0; i < s->n_nodes; i++) {
		if(jw_schema__finish_late(s->nodes[i]) < 0) {
			jw_schema__oom(&c);
			goto out;
		}
	}

	/* The document may be freed after this: drop every pointer into it
	 * and the compile-time-only locations. */
	for(size_t i = 0; i < s->n_nodes; i++) {
		s->nodes[i]->src = NULL;
		free(s->nodes[i]->loc);
		s->nodes[i]->loc = NULL;
	}
	*out = s;
	s = NULL;
	rc = 0;
out:
	for(size_t i = 0; i < c.n_refs; i++) {
		free(c.refs[i].ref);
		free(c.refs[i].loc);
	}
	free(c.refs);
	free(c.names);
	for(size_t i = 0; i < c.n_uris; i++)
		free(c.uris[i]);
	free(c.uris);
	for(size_t i = 0; i < c.n_loaded; i++)
		json_object_put(c.loaded[i]);
	jw_buf_cleanup(&c.loc);
	jw_schema_free(s);
	return rc;
}
