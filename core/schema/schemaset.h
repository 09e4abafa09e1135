/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The set of event schemas loaded from one directory: every top-level
 * "<type>.json" file defines event type <type>. Subdirectories (examples,
 * notices) are not loaded. A set is immutable once loaded, so a reload
 * builds a new set and swaps it in only when every file compiled.
 */
#ifndef JW_SCHEMASET_H
#define JW_SCHEMASET_H

#include <stddef.h>
#include <stdint.h>

struct jw_schema;
struct jw_schemaset;

/* Longest event type name accepted (file name without ".json"). */
#define JW_TYPE_MAX 64

/*
 * Loads every "<type>.json" in dir. Type names must match
 * [a-z0-9][a-z0-9_-]{0,63}; any other *.json name is an error, as is an
 * unreadable file, invalid JSON (strict parser) or a schema that does not
 * compile. An empty directory is an error too.
 *
 * Returns 0 and *out, or -1 with err filled (file name and cause) and *out
 * NULL. Nothing is kept from a failed load.
 */
int jw_schemaset_load_dir(const char *dir, struct jw_schemaset **out, char *err, size_t errlen);

/*
 * Reads, parses (strict, the schema set's depth limit) and compiles one
 * schema file, for checking documents against a schema that is not an
 * event type. Returns 0 and *out, or -1 with err filled (starting with
 * path) and *out NULL.
 */
int jw_schema_load_file(const char *path, struct jw_schema **out, char *err, size_t errlen);

/* The compiled schema for type, or NULL when there is none. */
const struct jw_schema *jw_schemaset_find(const struct jw_schemaset *set, const char *type);

/* The top-level members the event checks (event.c) read: the topic
 * binding (type, job_id, session_id) and the progress rule's current and
 * total. */
enum {
	JW_TM_TYPE,
	JW_TM_JOB_ID,
	JW_TM_SESSION_ID,
	JW_TM_CURRENT,
	JW_TM_TOTAL,
	JW_TM_COUNT,
};

/* One type of the set, with what the event checks derive from its schema
 * once instead of per event. */
struct jw_schemaset_type {
	const struct jw_schema *schema;
	/* jw_schema_root_property of each JW_TM_* member's name, -1 when the
	 * root does not declare it. */
	int prop[JW_TM_COUNT];
	/* The type is "progress" (the current <= total rule applies). */
	int progress;
	/* Every member the checks of this type read has a prop (type,
	 * job_id, session_id; current and total too for progress), so the
	 * validator's scan of the root (jw_schema_members) finds them all. */
	int by_scan;
	/* The presence bits (jw_schema_members.present) of the binding
	 * members type, job_id and session_id that have a prop. */
	uint64_t bind_mask;
};

/* The entry for type, or NULL when there is none. */
const struct jw_schemaset_type *jw_schemaset_lookup(
        const struct jw_schemaset *set, const char *type);

/* Number of types and the i-th type name (sorted), for logs and docs. */
size_t jw_schemaset_count(const struct jw_schemaset *set);
const char *jw_schemaset_type(const struct jw_schemaset *set, size_t i);

/* Frees the set and its schemas. NULL is a no-op. */
void jw_schemaset_free(struct jw_schemaset *set);

#endif
