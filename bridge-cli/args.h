/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Pure helpers of the jobwire command line: a small option scanner, number
 * and duration parsing, "field=value" event building and broker URLs. No
 * I/O, so the unit tests can drive every branch.
 */
#ifndef JW_CLI_ARGS_H
#define JW_CLI_ARGS_H

#include <stddef.h>

struct json_object;

/* One option a command accepts. id is returned by jw_args_next. */
struct jw_opt {
	const char *name; /* long name without "--" */
	char short_name;  /* 0 for none */
	int has_arg;      /* 1 when the option takes a value */
	int id;           /* > 0 */
};

/* Scanner state over argv[0..argc): argv[0] is the first argument. */
struct jw_args {
	int argc;
	char **argv;
	int i;             /* next argv index */
	int rest;          /* set after "--": every later argument is positional */
	const char *value; /* the option's value, or the positional argument */
	char err[200];
};

#define JW_ARGS_END 0         /* no more arguments */
#define JW_ARGS_POSITIONAL -1 /* a plain argument in value */
#define JW_ARGS_ERROR -2      /* err says what */
#define JW_ARGS_DASHDASH -3   /* "--" seen; the rest are argv[i..] */

void jw_args_init(struct jw_args *a, int argc, char **argv);

/*
 * Returns the next option's id (value set when it takes one), a
 * positional argument, "--", the end, or an error ("unknown option --x",
 * "option --port needs a value", "option --help takes no value"). Accepts
 * "--name value", "--name=value", "-x value" and "-xvalue". A lone "-" is
 * positional (stdin).
 */
int jw_args_next(struct jw_args *a, const struct jw_opt *opts);

/* Parses a whole decimal integer in [min, max]. 0 or -1 with err. */
int jw_parse_long(
        const char *s, long min, long max, long *out, const char *what, char *err, size_t errlen);

/* Parses a finite decimal number in [min, max]. 0 or -1 with err. */
int jw_parse_double(const char *s, double min, double max, double *out, const char *what, char *err,
        size_t errlen);

/*
 * Parses a duration: a number with an optional unit ms, s, m, h or d
 * ("90", "1.5s", "5m", "1h", "2d"). Seconds when no unit. Must be >= 0
 * and at most 10 years. 0 or -1 with err.
 */
int jw_parse_duration(const char *s, double *seconds, char *err, size_t errlen);

/*
 * Adds one "field=value" or "field:=json" assignment to obj.
 * "k=v": v becomes a JSON number when it is one, true/false/null when it
 * is that word, else a string. "k:=JSON": v is parsed as strict JSON of
 * any type. Dots in the key make nested objects ("system.cpu_percent=40").
 * A key may not be empty, start or end with a dot, or be set twice.
 * Returns 0 or -1 with err; obj is unchanged on error.
 */
int jw_fields_add(struct json_object *obj, const char *assignment, char *err, size_t errlen);

/* A parsed broker URL: mqtt://[user[:pass]@]host[:port] or mqtts://. */
struct jw_url {
	char host[256];
	int port; /* 0 when absent */
	int tls;  /* 1 for mqtts */
	char username[256];
	char password[256];
};

/* Parses url into *u. 0 or -1 with err. */
int jw_url_parse(const char *url, struct jw_url *u, char *err, size_t errlen);

/* Splits a comma-separated list in place-free fashion: returns the count
 * of non-empty items, or -1 with err if an item is empty ("a,,b"). Items
 * are copied into out[0..max) of width w. */
int jw_split_list(const char *s, char *out, size_t max, size_t w, char *err, size_t errlen);

/* A JSON number for v that prints the way people write it: 45, 0.42,
 * 12.5 (%.15g), not 45.0 or 0.41999999999999998. Caller owns it. */
struct json_object *jw_json_number(double v);

#endif
