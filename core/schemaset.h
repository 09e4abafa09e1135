/*
 * The set of event schemas loaded from one directory: every top-level
 * "<type>.json" file defines event type <type>. Subdirectories (examples,
 * notices) are not loaded. A set is immutable once loaded, so a reload
 * builds a new set and swaps it in only when every file compiled.
 */
#ifndef JW_SCHEMASET_H
#define JW_SCHEMASET_H

#include <stddef.h>

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
int jw_schemaset_load_dir(const char *dir, struct jw_schemaset **out,
                          char *err, size_t errlen);

/* The compiled schema for type, or NULL when there is none. */
const struct jw_schema *jw_schemaset_find(const struct jw_schemaset *set,
                                          const char *type);

/* Number of types and the i-th type name (sorted), for logs and docs. */
size_t jw_schemaset_count(const struct jw_schemaset *set);
const char *jw_schemaset_type(const struct jw_schemaset *set, size_t i);

/* Frees the set and its schemas. NULL is a no-op. */
void jw_schemaset_free(struct jw_schemaset *set);

#endif
