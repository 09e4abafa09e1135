/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Pure helpers of the jobwire command line (see args.h).
 */
#include "args.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"

void jw_args_init(struct jw_args *a, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->argc = argc;
	a->argv = argv;
}

static const struct jw_opt *find_long(const struct jw_opt *opts, const char *name, size_t len)
{
	for(; opts->name; opts++) {
		if(strlen(opts->name) == len && !strncmp(opts->name, name, len)) {
			return opts;
		}
	}
	return NULL;
}

static const struct jw_opt *find_short(const struct jw_opt *opts, char c)
{
	for(; opts->name; opts++) {
		if(opts->short_name && opts->short_name == c) {
			return opts;
		}
	}
	return NULL;
}

int jw_args_next(struct jw_args *a, const struct jw_opt *opts)
{
	a->value = NULL;
	a->err[0] = '\0';
	if(a->i >= a->argc) {
		return JW_ARGS_END;
	}
	char *arg = a->argv[a->i++];
	if(a->rest || arg[0] != '-' || arg[1] == '\0') {
		a->value = arg;
		return JW_ARGS_POSITIONAL;
	}
	if(!strcmp(arg, "--")) {
		a->rest = 1;
		return JW_ARGS_DASHDASH;
	}
	const struct jw_opt *o;
	const char *inline_value = NULL;
	if(arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		o = find_long(opts, name, len);
		if(!o) {
			snprintf(a->err, sizeof(a->err), "unknown option --%.*s", (int)(len > 60 ? 60 : len),
			        name);
			return JW_ARGS_ERROR;
		}
		if(eq) {
			inline_value = eq + 1;
		}
	} else {
		o = find_short(opts, arg[1]);
		if(!o) {
			snprintf(a->err, sizeof(a->err), "unknown option -%c", arg[1]);
			return JW_ARGS_ERROR;
		}
		if(arg[2] != '\0') {
			if(!o->has_arg) {
				snprintf(a->err, sizeof(a->err), "option -%c takes no value", arg[1]);
				return JW_ARGS_ERROR;
			}
			inline_value = arg + 2;
		}
	}
	if(!o->has_arg) {
		if(inline_value) {
			snprintf(a->err, sizeof(a->err), "option --%s takes no value", o->name);
			return JW_ARGS_ERROR;
		}
		return o->id;
	}
	if(inline_value) {
		a->value = inline_value;
		return o->id;
	}
	if(a->i >= a->argc) {
		snprintf(a->err, sizeof(a->err), "option --%s needs a value", o->name);
		return JW_ARGS_ERROR;
	}
	a->value = a->argv[a->i++];
	return o->id;
}

int jw_parse_long(
        const char *s, long min, long max, long *out, const char *what, char *err, size_t errlen)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if(s[0] == '\0' || *end != '\0' || errno == ERANGE || s[0] == ' ') {
		snprintf(err, errlen, "%s: \"%.60s\" is not a whole number", what, s);
		return -1;
	}
	if(v < min || v > max) {
		snprintf(err, errlen, "%s: %ld is out of range (%ld-%ld)", what, v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int jw_parse_double(const char *s, double min, double max, double *out, const char *what, char *err,
        size_t errlen)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if(s[0] == '\0' || *end != '\0' || errno == ERANGE || !isfinite(v) || s[0] == ' ' ||
	        strpbrk(s, "xXnNiI")) {
		snprintf(err, errlen, "%s: \"%.60s\" is not a number", what, s);
		return -1;
	}
	if(v < min || v > max) {
		snprintf(err, errlen, "%s: %g is out of range (%g-%g)", what, v, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

int jw_parse_duration(const char *s, double *seconds, char *err, size_t errlen)
{
	static const struct {
		const char *unit;
		double mul;
	} units[] = {
	        {"ms", 0.001},
	        {"s", 1},
	        {"m", 60},
	        {"h", 3600},
	        {"d", 86400},
	};
	char num[64];
	size_t n = strlen(s);
	double mul = 1;
	for(size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
		size_t ul = strlen(units[u].unit);
		if(n > ul && !strcmp(s + n - ul, units[u].unit) &&
		        (s[n - ul - 1] >= '0' && s[n - ul - 1] <= '9')) {
			n -= ul;
			mul = units[u].mul;
			break;
		}
	}
	if(n == 0 || n >= sizeof(num)) {
		snprintf(err, errlen, "duration \"%.60s\" is not like 30, 90s, 5m, 1h or 2d", s);
		return -1;
	}
	memcpy(num, s, n);
	num[n] = '\0';
	double v;
	char e2[120];
	if(jw_parse_double(num, 0, 1e12, &v, "duration", e2, sizeof(e2))) {
		snprintf(err, errlen, "duration \"%.60s\" is not like 30, 90s, 5m, 1h or 2d", s);
		return -1;
	}
	v *= mul;
	if(v > 10.0 * 365 * 86400) {
		snprintf(err, errlen, "duration \"%.60s\" is longer than 10 years", s);
		return -1;
	}
	*seconds = v;
	return 0;
}

/* 1 when s is a JSON number per RFC 8259 (what jw_json_parse accepts). */
static int looks_like_number(const char *s)
{
	const char *p = s;
	if(*p == '-') {
		p++;
	}
	if(*p == '0') {
		p++;
	} else if(*p >= '1' && *p <= '9') {
		while(*p >= '0' && *p <= '9') {
			p++;
		}
	} else {
		return 0;
	}
	if(*p == '.') {
		p++;
		if(!(*p >= '0' && *p <= '9')) {
			return 0;
		}
		while(*p >= '0' && *p <= '9') {
			p++;
		}
	}
	if(*p == 'e' || *p == 'E') {
		p++;
		if(*p == '+' || *p == '-') {
			p++;
		}
		if(!(*p >= '0' && *p <= '9')) {
			return 0;
		}
		while(*p >= '0' && *p <= '9') {
			p++;
		}
	}
	return *p == '\0';
}

/* Splits "key=value" or "key:=json" into key (NUL-terminated, cap bytes)
 * and *val, with *raw for :=. 0 or -1 with err on an empty, long, dotted
 * or non-UTF-8 name or value. */
static int split_assignment(const char *assignment, char *key, size_t cap, int *raw,
        const char **val, char *err, size_t errlen)
{
	const char *eq = strchr(assignment, '=');
	if(!eq) {
		snprintf(err, errlen, "\"%.60s\": expected field=value or field:=json", assignment);
		return -1;
	}
	*raw = eq > assignment && eq[-1] == ':';
	size_t klen = (size_t)(eq - assignment) - (*raw ? 1u : 0u);
	*val = eq + 1;
	if(klen == 0 || klen >= cap) {
		snprintf(err, errlen, "\"%.60s\": the field name is %s", assignment,
		        klen ? "too long" : "empty");
		return -1;
	}
	memcpy(key, assignment, klen);
	key[klen] = '\0';
	if(key[0] == '.' || key[klen - 1] == '.' || strstr(key, "..")) {
		snprintf(err, errlen, "field \"%s\": empty name between dots", key);
		return -1;
	}
	if(!jw_utf8_valid(key, klen, &(size_t){0}) ||
	        !jw_utf8_valid(*val, strlen(*val), &(size_t){0})) {
		snprintf(err, errlen, "field \"%.60s\": not valid UTF-8", key);
		return -1;
	}
	return 0;
}

/* The typed value: JSON for :=, else a number, true, false, null or a
 * string. *v is NULL for JSON null. 0 or -1 with err. */
static int field_value(
        const char *key, const char *val, int raw, struct json_object **v, char *err, size_t errlen)
{
	struct jw_json_error je;
	*v = NULL;
	if(raw || looks_like_number(val)) {
		/* JSON null: json-c represents it as NULL. */
		if(jw_json_parse(val, strlen(val), raw ? 32 : 1, v, &je)) {
			snprintf(err, errlen, "field \"%s\": %s", key, je.message);
			return -1;
		}
	} else if(!strcmp(val, "true") || !strcmp(val, "false")) {
		*v = json_object_new_boolean(val[0] == 't');
	} else if(strcmp(val, "null")) {
		*v = json_object_new_string(val);
	}
	return 0;
}

int jw_fields_add(struct json_object *obj, const char *assignment, char *err, size_t errlen)
{
	char key[256];
	int raw;
	const char *val;
	struct json_object *v = NULL;
	if(split_assignment(assignment, key, sizeof(key), &raw, &val, err, errlen) ||
	        field_value(key, val, raw, &v, err, errlen)) {
		return -1;
	}

	/* Walk (and create) the parent objects; refuse to overwrite. */
	struct json_object *parent = obj;
	char *seg = key;
	char *dot;
	struct json_object *created = NULL; /* first object we created, to undo */
	struct json_object *created_parent = NULL;
	char created_name[256];
	while((dot = strchr(seg, '.')) != NULL) {
		*dot = '\0';
		struct json_object *child;
		if(json_object_object_get_ex(parent, seg, &child)) {
			if(!json_object_is_type(child, json_type_object)) {
				snprintf(err, errlen, "field \"%s\" is already set and is not an object", seg);
				goto fail;
			}
		} else {
			child = json_object_new_object();
			json_object_object_add(parent, seg, child);
			if(!created) {
				created = child;
				created_parent = parent;
				snprintf(created_name, sizeof(created_name), "%s", seg);
			}
		}
		*dot = '.';
		parent = child;
		seg = dot + 1;
	}
	if(json_object_object_get_ex(parent, seg, NULL)) {
		snprintf(err, errlen, "field \"%s\" is given twice", key);
		goto fail;
	}
	json_object_object_add(parent, seg, v);
	return 0;

fail:
	json_object_put(v);
	if(created) {
		json_object_object_del(created_parent, created_name);
	}
	return -1;
}

/* "user:password@" at the start of [*p, end), moving *p past it. 0 or -1
 * with err. */
static int url_userinfo(const char **p, const char *end, struct jw_url *u, char *err, size_t errlen)
{
	const char *at = memchr(*p, '@', (size_t)(end - *p));
	if(!at) {
		return 0;
	}
	const char *colon = memchr(*p, ':', (size_t)(at - *p));
	const char *uend = colon ? colon : at;
	if((size_t)(uend - *p) >= sizeof(u->username) ||
	        (colon && (size_t)(at - colon - 1) >= sizeof(u->password))) {
		snprintf(err, errlen, "URL: user name or password too long");
		return -1;
	}
	memcpy(u->username, *p, (size_t)(uend - *p));
	if(colon) {
		memcpy(u->password, colon + 1, (size_t)(at - colon - 1));
	}
	*p = at + 1;
	return 0;
}

/* The host of [p, end), "[v6]" or a name; *portp gets the port's text or
 * NULL. 0 or -1 with err. */
static int url_host(const char *url, const char *p, const char *end, struct jw_url *u,
        const char **portp, char *err, size_t errlen)
{
	const char *hend;
	*portp = NULL;
	if(*p == '[') {
		hend = memchr(p, ']', (size_t)(end - p));
		if(!hend) {
			snprintf(err, errlen, "URL \"%.80s\": unclosed [", url);
			return -1;
		}
		p++;
		if(hend[1] == ':') {
			*portp = hend + 2;
		} else if(hend + 1 != end) {
			snprintf(err, errlen, "URL \"%.80s\": junk after ]", url);
			return -1;
		}
	} else {
		hend = memchr(p, ':', (size_t)(end - p));
		if(hend) {
			*portp = hend + 1;
		} else {
			hend = end;
		}
	}
	if(hend == p || (size_t)(hend - p) >= sizeof(u->host)) {
		snprintf(err, errlen, "URL \"%.80s\": %s host", url, hend == p ? "no" : "too long a");
		return -1;
	}
	memcpy(u->host, p, (size_t)(hend - p));
	return 0;
}

static int url_port(const char *url, const char *portp, const char *end, struct jw_url *u,
        char *err, size_t errlen)
{
	char num[16];
	size_t n = (size_t)(end - portp);
	long port;
	if(n == 0 || n >= sizeof(num)) {
		snprintf(err, errlen, "URL \"%.80s\": bad port", url);
		return -1;
	}
	memcpy(num, portp, n);
	num[n] = '\0';
	if(jw_parse_long(num, 1, 65535, &port, "URL port", err, errlen)) {
		return -1;
	}
	u->port = (int)port;
	return 0;
}

int jw_url_parse(const char *url, struct jw_url *u, char *err, size_t errlen)
{
	memset(u, 0, sizeof(*u));
	const char *p, *portp;
	if(!strncmp(url, "mqtt://", 7) || !strncmp(url, "tcp://", 6)) {
		p = strchr(url, '/') + 2;
	} else if(!strncmp(url, "mqtts://", 8) || !strncmp(url, "ssl://", 6)) {
		p = strchr(url, '/') + 2;
		u->tls = 1;
	} else {
		snprintf(err, errlen, "URL \"%.80s\": scheme must be mqtt:// or mqtts://", url);
		return -1;
	}
	const char *end = p + strcspn(p, "/?#");
	if(*end != '\0' && strcmp(end, "/") != 0) {
		snprintf(err, errlen, "URL \"%.80s\": no path, query or fragment allowed", url);
		return -1;
	}
	if(url_userinfo(&p, end, u, err, errlen) || url_host(url, p, end, u, &portp, err, errlen)) {
		return -1;
	}
	return portp ? url_port(url, portp, end, u, err, errlen) : 0;
}

int jw_split_list(const char *s, char *out, size_t max, size_t w, char *err, size_t errlen)
{
	size_t n = 0;
	const char *p = s;
	for(;;) {
		size_t len = strcspn(p, ",");
		if(len == 0) {
			snprintf(err, errlen, "list \"%.60s\" has an empty item", s);
			return -1;
		}
		if(len >= w) {
			snprintf(err, errlen, "list item \"%.*s\" is too long", (int)(len > 40 ? 40 : len), p);
			return -1;
		}
		if(n >= max) {
			snprintf(err, errlen, "list \"%.40s...\" has more than %zu items", s, max);
			return -1;
		}
		memcpy(out + n * w, p, len);
		out[n * w + len] = '\0';
		n++;
		if(p[len] == '\0') {
			break;
		}
		p += len + 1;
	}
	return (int)n;
}

struct json_object *jw_json_number(double v)
{
	if(v == floor(v) && fabs(v) < 1e15) {
		return json_object_new_int64((int64_t)v);
	}
	char buf[40];
	snprintf(buf, sizeof(buf), "%.15g", v);
	return json_object_new_double_s(v, buf);
}
