/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * JSON Schema (draft 2020-12) compiler and validator on json-c. A schema is
 * compiled once into a tree of keyword nodes (regexes compiled, $refs
 * resolved to nodes); validation walks that tree and never re-reads the
 * schema document. Keywords outside the supported set make compilation
 * fail, naming the keyword, so a schema never silently means less than it
 * says. See docs/validator.md for the supported set.
 */
#ifndef JW_SCHEMA_H
#define JW_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

struct json_object;
struct jw_schema;

/* Where and why an instance failed. */
struct jw_schema_error {
	char pointer[256]; /* JSON pointer into the instance, "" for the root */
	char keyword[32];  /* the failing keyword, e.g. "maximum" */
	char message[320]; /* "/progress: maximum 100, got 140" */
};

/*
 * Compiles a schema document. source names the document in error messages
 * (normally its file path). The document is not retained: the compiled
 * schema copies what it needs, so the caller may put() doc afterwards.
 *
 * Returns 0 and *out on success. On failure returns -1, *out is NULL and
 * err (errlen bytes, always NUL-terminated) says what and where, e.g.
 * "schemas/progress.json: unsupported keyword \"maxLenght\"
 * at /properties/x".
 */
int jw_schema_compile(const struct json_object *doc, const char *source, struct jw_schema **out,
        char *err, size_t errlen);

/*
 * Keywords jobwire does not know are refused, except those starting with
 * "x-" (the schema author's own annotations). With this flag every
 * unknown keyword is accepted as an annotation instead: for running other
 * people's schemas (the test suite's), never for event types.
 */
#define JW_SCHEMA_UNKNOWN_AS_ANNOTATION 1u
/*
 * "format" as the 2020-12 format-annotation vocabulary: any value, no
 * check. By default jobwire asserts formats and refuses unknown ones.
 */
#define JW_SCHEMA_FORMAT_ANNOTATION 2u

/*
 * How a document's URIs resolve ($id, $ref to other documents). Fields
 * left 0 take their defaults.
 */
struct jw_schema_options {
	unsigned flags; /* JW_SCHEMA_* */
	/* The document's own absolute URI, the base of its $id and $ref
	 * values. NULL: "file://" and the source name. */
	const char *base_uri;
	/*
	 * Fetches the schema document at uri (absolute, no fragment) when a
	 * $ref names one that no $id of the documents compiled so far names.
	 * Returns 0 and *doc (the compiler puts it when done), or -1 with
	 * err (errlen bytes) saying why. NULL: such a $ref does not resolve.
	 * uri is untrusted text from the schema: the loader decides what it
	 * may open. Called on the compiling thread only.
	 */
	int (*load)(void *ctx, const char *uri, struct json_object **doc, char *err, size_t errlen);
	void *load_ctx;
};

/* jw_schema_compile with options (NULL: the defaults, as jw_schema_compile). */
int jw_schema_compile_opts(const struct json_object *doc, const char *source,
        const struct jw_schema_options *opts, struct jw_schema **out, char *err, size_t errlen);

/*
 * Validates instance (may be NULL for JSON null) against s. Returns 1 when
 * valid, 0 when not (with *err describing the first failure found: the
 * deepest, most specific one where a choice exists), -1 on out of memory.
 * err may be NULL when the caller needs only the verdict. Thread-safe for
 * concurrent readers of one compiled schema.
 */
int jw_schema_validate(
        const struct jw_schema *s, const struct json_object *instance, struct jw_schema_error *err);

/*
 * The same for an arena tree (jdoc.h): what the per-message path uses.
 * jw_schema_validate converts its json-c instance and calls this.
 */
struct jw_jnode;
int jw_schema_validate_node(
        const struct jw_schema *s, const struct jw_jnode *instance, struct jw_schema_error *err);

/*
 * What validation learnt of an object instance's own members while
 * checking the root schema's "properties", for a caller that reads some
 * of them too (the event checks) without a second walk. scanned is 1
 * when the root's member scan ran over instance (it does unless the
 * instance is refused before it, or the root has no "properties" or
 * more than JW_SCHEMA_MEMBERS_MAX of them); then bit i of present says
 * whether a member is named as the root's i-th declared property
 * (jw_schema_root_property), and member[i] is the first such member.
 * Other entries of member are not set.
 */
#define JW_SCHEMA_MEMBERS_MAX 64
struct jw_schema_members {
	int scanned;
	uint64_t present;
	const struct jw_jnode *member[JW_SCHEMA_MEMBERS_MAX];
};

/*
 * jw_schema_validate_node that also fills *m (see above; m must not be
 * NULL). The verdict and *err are those of jw_schema_validate_node.
 */
int jw_schema_validate_members(const struct jw_schema *s, const struct jw_jnode *instance,
        struct jw_schema_error *err, struct jw_schema_members *m);

/*
 * The index of name among the root's declared "properties", as
 * jw_schema_members counts them, or -1 when it is not one of them or the
 * root tracks no members (no "properties", or more than
 * JW_SCHEMA_MEMBERS_MAX).
 */
int jw_schema_root_property(const struct jw_schema *s, const char *name);

/* Frees a compiled schema. NULL is a no-op. */
void jw_schema_free(struct jw_schema *s);

#endif
