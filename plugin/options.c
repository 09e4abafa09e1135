/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * plugin_opt_* parsing and validation, done once in mosquitto_plugin_init,
 * and the start-up probe that decides how the plugin answers access checks
 * it does not object to (see docs/configuration.md, "acl_fallback").
 */
#include "plugin.h"
#include "persist.h"
#include "jobs/jobs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker_api.h"

#define OPT_PREFIX "plugin_opt_"

static int parse_size(const char *key, const char *value, size_t min, size_t max, size_t *out)
{
	char *end = NULL;
	unsigned long long v;
	unsigned long long mult = 1;

	errno = 0;
	if(!value || !isdigit((unsigned char)value[0])) {
		goto bad;
	}
	v = strtoull(value, &end, 10);
	if(errno) {
		goto bad;
	}
	if(!strcmp(end, "k") || !strcmp(end, "K") || !strcmp(end, "KiB")) {
		mult = 1024;
	} else if(!strcmp(end, "M") || !strcmp(end, "MiB")) {
		mult = 1024 * 1024;
	} else if(!strcmp(end, "G") || !strcmp(end, "GiB")) {
		mult = 1024ULL * 1024 * 1024;
	} else if(*end) {
		goto bad;
	}
	if(v > max / mult || v * mult < min || v * mult > max) {
		mosquitto_log_printf(MOSQ_LOG_ERR,
		        "jobwire: plugin_opt_%s must be between %zu and %zu, got \"%s\"", key, min, max,
		        value);
		return -1;
	}
	*out = (size_t)(v * mult);
	return 0;
bad:
	mosquitto_log_printf(MOSQ_LOG_ERR,
	        "jobwire: plugin_opt_%s must be a whole number (optionally with k, M or G), got \"%s\"",
	        key, value ? value : "");
	return -1;
}

/* "a,b,c": event type names, no empty item. */
static bool journal_events_valid(const char *list)
{
	size_t item = 0;

	for(const char *c = list;; c++) {
		if(*c == ',' || *c == '\0') {
			if(item == 0 || item > 64) {
				return false;
			}
			if(*c == '\0') {
				return true;
			}
			item = 0;
			continue;
		}
		if(!(islower((unsigned char)*c) || isdigit((unsigned char)*c) || *c == '_' || *c == '-')) {
			return false;
		}
		item++;
	}
}

/* A decimal number (e.g. "0.5", "30") within [min, max]. */
static int parse_double(const char *key, const char *value, double min, double max, double *out)
{
	char *end = NULL;
	double v;

	errno = 0;
	if(!value || !value[0]) {
		goto bad;
	}
	v = strtod(value, &end);
	if(errno || *end || v != v) {
		goto bad;
	}
	if(v < min || v > max) {
		mosquitto_log_printf(MOSQ_LOG_ERR,
		        "jobwire: plugin_opt_%s must be between %g and %g, got \"%s\"", key, min, max,
		        value);
		return -1;
	}
	*out = v;
	return 0;
bad:
	mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: plugin_opt_%s must be a number, got \"%s\"", key,
	        value ? value : "");
	return -1;
}

static int set_string(char **dst, const char *key, const char *value)
{
	if(!value || !value[0]) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: plugin_opt_%s must not be empty", key);
		return -1;
	}
	free(*dst);
	*dst = strdup(value);
	if(!*dst) {
		return -1;
	}
	return 0;
}

static int prefix_valid(const char *prefix)
{
	if(!prefix[0] || prefix[0] == '$' || strlen(prefix) > 64) {
		return 0;
	}
	for(const char *c = prefix; *c; c++) {
		if(*c == '/' || *c == '+' || *c == '#' || (unsigned char)*c < 0x20) {
			return 0;
		}
	}
	return 1;
}

const char *jw_options__acl_name(enum jw_acl_fallback f)
{
	switch(f) {
		case JW_ACL_ALLOW:
			return "allow";
		case JW_ACL_DEFER:
			return "defer";
		default:
			return "auto";
	}
}

/* What is checked and how refusals are logged. 0, -1 (logged) for a bad value, 1 for another
 * group's key. */
static int parse_check_option(struct jw_options *opt, const char *key, const char *value)
{
	size_t n = 0;

	if(!strcmp(key, "mode")) {
		if(value && !strcmp(value, "core")) {
			opt->mode = JW_MODE_CORE;
		} else if(value && !strcmp(value, "edge")) {
			opt->mode = JW_MODE_EDGE;
		} else {
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: plugin_opt_mode must be core or edge, got \"%s\"",
			        value ? value : "");
			return -1;
		}
	} else if(!strcmp(key, "schemas_dir")) {
		if(set_string(&opt->schemas_dir, key, value))
			return -1;
	} else if(!strcmp(key, "topic_prefix")) {
		if(set_string(&opt->prefix, key, value))
			return -1;
		if(!prefix_valid(opt->prefix)) {
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: plugin_opt_topic_prefix must be one topic level without / + # or a "
			        "leading $, got \"%s\"",
			        value);
			return -1;
		}
	} else if(!strcmp(key, "max_payload")) {
		if(parse_size(key, value, 64, 256u * 1024u * 1024u, &opt->limits.max_payload))
			return -1;
	} else if(!strcmp(key, "max_depth")) {
		if(parse_size(key, value, 2, 1000, &opt->limits.max_depth))
			return -1;
	} else if(!strcmp(key, "log_rate")) {
		if(parse_size(key, value, 0, 1000000, &n))
			return -1;
		opt->log_rate = (unsigned)n;
	} else if(!strcmp(key, "acl_fallback")) {
		if(value && !strcmp(value, "auto")) {
			opt->acl_fallback = JW_ACL_AUTO;
		} else if(value && !strcmp(value, "allow")) {
			opt->acl_fallback = JW_ACL_ALLOW;
		} else if(value && !strcmp(value, "defer")) {
			opt->acl_fallback = JW_ACL_DEFER;
		} else {
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: plugin_opt_acl_fallback must be auto, allow or defer, got \"%s\"",
			        value ? value : "");
			return -1;
		}
	} else {
		return 1;
	}
	return 0;
}

/* The job table, its records and the stats. 0, -1 (logged) for a bad value, 1 for another group's
 * key. */
static int parse_lifecycle_option(struct jw_options *opt, const char *key, const char *value)
{
	size_t n = 0;

	if(!strcmp(key, "state_max_rate")) {
		if(parse_double(key, value, 0.1, 1000, &opt->state_max_rate))
			return -1;
	} else if(!strcmp(key, "state_ttl")) {
		if(parse_size(key, value, 0, UINT32_MAX, &n))
			return -1;
		opt->state_ttl = (uint32_t)n;
	} else if(!strcmp(key, "heartbeat_interval")) {
		if(parse_double(key, value, 0.1, 86400, &opt->heartbeat_interval))
			return -1;
	} else if(!strcmp(key, "max_jobs")) {
		if(parse_size(key, value, 1, 100000000, &opt->max_jobs))
			return -1;
	} else if(!strcmp(key, "max_attempts")) {
		/* Retries (docs/lifecycle.md): attempts a job may have. */
		if(parse_size(key, value, 1, 1000, &n))
			return -1;
		opt->max_attempts = (unsigned)n;
	} else if(!strcmp(key, "history_events")) {
		/* Each job's history (docs/lifecycle.md): 0 keeps none. */
		if(parse_size(key, value, 0, JW_HISTORY_MAX, &opt->history_events))
			return -1;
	} else if(!strcmp(key, "history_max")) {
		/* All the histories together (docs/lifecycle.md): 0, no bound. */
		if(parse_size(key, value, 0, SIZE_MAX / 2, &opt->history_max_bytes)) {
			return -1;
		}
	} else if(!strcmp(key, "data_dir")) {
		if(set_string(&opt->data_dir, key, value))
			return -1;
	} else if(!strcmp(key, "station_timeout")) {
		if(parse_double(key, value, 0, 86400, &opt->station_timeout))
			return -1;
	} else if(!strcmp(key, "stats_interval")) {
		if(parse_double(key, value, 0, 86400, &opt->stats_interval))
			return -1;
	} else if(!strcmp(key, "spool_fsync")) {
		if(value && !strcmp(value, "always")) {
			opt->spool_fsync = JW_FSYNC_ALWAYS;
		} else if(value && !strcmp(value, "interval")) {
			opt->spool_fsync = JW_FSYNC_INTERVAL;
		} else if(value && !strcmp(value, "never")) {
			opt->spool_fsync = JW_FSYNC_NEVER;
		} else {
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: plugin_opt_spool_fsync must be always, interval or never, got \"%s\"",
			        value ? value : "");
			return -1;
		}
	} else {
		return 1;
	}
	return 0;
}

/* JWT authentication. 0, -1 (logged) for a bad value, 1 for another group's key. */
static int parse_auth_option(struct jw_options *opt, const char *key, const char *value)
{
	size_t n = 0;

	if(!strcmp(key, "auth_jwt_hs256_secret_file")) {
		if(set_string(&opt->jwt_hs256_secret_file, key, value))
			return -1;
	} else if(!strcmp(key, "auth_jwt_public_key_file")) {
		if(set_string(&opt->jwt_public_key_file, key, value))
			return -1;
	} else if(!strcmp(key, "auth_jwt_issuer")) {
		if(set_string(&opt->jwt_issuer, key, value))
			return -1;
	} else if(!strcmp(key, "auth_jwt_audience")) {
		if(set_string(&opt->jwt_audience, key, value))
			return -1;
	} else if(!strcmp(key, "auth_jwt_leeway")) {
		if(parse_size(key, value, 0, 3600, &n))
			return -1;
		opt->jwt_leeway = (int64_t)n;
		opt->jwt_leeway_set = true;
	} else if(!strcmp(key, "auth_jwt_session_hold")) {
		if(parse_size(key, value, 0, 31536000, &n))
			return -1;
		opt->jwt_session_hold = (uint64_t)n;
		opt->jwt_session_hold_set = true;
	} else {
		return 1;
	}
	return 0;
}

/* The PostgreSQL journal. 0, -1 (logged) for a bad value, 1 for another group's key. */
static int parse_journal_option(struct jw_options *opt, const char *key, const char *value)
{
	if(!strcmp(key, "pg_conninfo")) {
		/* Never logged: a conninfo may hold password=. */
		if(set_string(&opt->pg_conninfo, key, value))
			return -1;
	} else if(!strcmp(key, "node_name")) {
		if(set_string(&opt->node_name, key, value))
			return -1;
		if(!*opt->node_name || strlen(opt->node_name) > 255) {
			mosquitto_log_printf(
			        MOSQ_LOG_ERR, "jobwire: plugin_opt_node_name must be 1 to 255 bytes");
			return -1;
		}
	} else if(!strcmp(key, "spool_max")) {
		if(parse_size(key, value, 64u * 1024u, SIZE_MAX / 2, &opt->spool_max))
			return -1;
	} else if(!strcmp(key, "journal_events")) {
		if(set_string(&opt->journal_events, key, value))
			return -1;
		if(!journal_events_valid(opt->journal_events)) {
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: plugin_opt_journal_events must be a comma-separated list of event "
			        "types (a-z 0-9 _ -), got \"%s\"",
			        value);
			return -1;
		}
	} else {
		return 1;
	}
	return 0;
}

/* The defaults, before any option. */
static void set_defaults(struct jw_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->limits.max_payload = JW_DEFAULT_MAX_PAYLOAD;
	opt->limits.max_depth = JW_DEFAULT_MAX_DEPTH;
	opt->acl_fallback = JW_ACL_AUTO;
	opt->log_rate = 20;
	opt->state_max_rate = 10;
	opt->state_ttl = 3600;
	opt->heartbeat_interval = 30;
	opt->max_jobs = 100000;
	opt->max_attempts = 5;
	opt->history_events = 200;
	opt->history_max_bytes = 256u * 1024u * 1024u;
	opt->spool_fsync = JW_FSYNC_INTERVAL;
	opt->stats_interval = 10;
	opt->station_timeout = 60;
	opt->jwt_leeway = 30;
	opt->jwt_session_hold = 86400;
	opt->spool_max = JW_DEFAULT_SPOOL_MAX;
}

/* An edge keeps no job table and no journal: the core does (edge.c). */
static int finish_edge(const struct jw_options *opt)
{
	if(opt->pg_conninfo || opt->data_dir) {
		mosquitto_log_printf(MOSQ_LOG_ERR,
		        "jobwire: plugin_opt_mode edge keeps no job log and no journal: remove "
		        "plugin_opt_%s (the core broker journals every job)",
		        opt->pg_conninfo ? "pg_conninfo" : "data_dir");
		return -1;
	}
	return 0;
}

const char *jw_options__mode_name(enum jw_mode m)
{
	return m == JW_MODE_EDGE ? "edge" : "core";
}

/* What the options mean together, once all are read. 0, or -1 (logged). */
static int finish(struct jw_options *opt)
{
	if(opt->mode == JW_MODE_EDGE && finish_edge(opt)) {
		return -1;
	}
	if(!opt->schemas_dir && opt->mode == JW_MODE_CORE) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: plugin_opt_schemas_dir is required");
		return -1;
	}
	if(!opt->prefix) {
		opt->prefix = strdup("jobs");
		if(!opt->prefix)
			return -1;
	}
	if(opt->pg_conninfo && !opt->data_dir) {
		mosquitto_log_printf(MOSQ_LOG_ERR, "jobwire: plugin_opt_pg_conninfo needs "
		                                   "plugin_opt_data_dir (the journal spools there)");
		return -1;
	}
	if(!opt->node_name) {
		char host[256];
		if(gethostname(host, sizeof(host)) != 0 || !host[0]) {
			snprintf(host, sizeof(host), "localhost");
		}
		host[sizeof(host) - 1] = '\0';
		opt->node_name = strdup(host);
		if(!opt->node_name)
			return -1;
	}
	return 0;
}

int jw_options__parse(struct jw_options *opt, struct mosquitto_opt *opts, int count)
{
	static int (*const groups[])(struct jw_options *, const char *, const char *) = {
	        parse_check_option,
	        parse_lifecycle_option,
	        parse_auth_option,
	        parse_journal_option,
	};

	set_defaults(opt);
	for(int i = 0; i < count; i++) {
		const char *key = opts[i].key;
		int rc = 1;

		if(!key) {
			continue;
		}
		for(size_t g = 0; g < sizeof(groups) / sizeof(groups[0]) && rc == 1; g++) {
			rc = groups[g](opt, key, opts[i].value);
		}
		if(rc == 1) {
			/* A typo must not silently leave a default in force. */
			mosquitto_log_printf(MOSQ_LOG_ERR,
			        "jobwire: unknown option plugin_opt_%s (see docs/configuration.md)", key);
		}
		if(rc != 0) {
			goto fail;
		}
	}
	if(finish(opt) != 0) {
		goto fail;
	}
	return 0;
fail:
	jw_options__cleanup(opt);
	return -1;
}

void jw_options__cleanup(struct jw_options *opt)
{
	free(opt->schemas_dir);
	free(opt->prefix);
	free(opt->data_dir);
	free(opt->jwt_hs256_secret_file);
	free(opt->jwt_public_key_file);
	free(opt->jwt_issuer);
	free(opt->jwt_audience);
	opt->jwt_hs256_secret_file = NULL;
	opt->jwt_public_key_file = NULL;
	opt->jwt_issuer = NULL;
	opt->jwt_audience = NULL;
	free(opt->pg_conninfo);
	free(opt->node_name);
	free(opt->journal_events);
	opt->pg_conninfo = NULL;
	opt->node_name = NULL;
	opt->journal_events = NULL;
	opt->schemas_dir = NULL;
	opt->prefix = NULL;
	opt->data_dir = NULL;
}

/* The path given to the broker with -c, from /proc/self/cmdline. */
static char *config_path(void)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen("/proc/self/cmdline", "rb");
	char *path = NULL;

	if(!f) {
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for(size_t i = 0; i < n;) {
		const char *arg = buf + i;
		size_t len = strlen(arg);

		if((!strcmp(arg, "-c") || !strcmp(arg, "--config-file")) && i + len + 1 < n) {
			path = strdup(arg + len + 1);
			break;
		}
		i += len + 1;
	}
	return path;
}

struct acl_probe {
	int plugins; /* plugin / auth_plugin lines, ours included */
	int acl_files;
	int depth;
};

static void probe_file(const char *path, struct acl_probe *pr);

static void probe_dir(const char *dir, struct acl_probe *pr)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if(!d) {
		return;
	}
	while((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char path[4096];

		if(len > 5 && !strcmp(de->d_name + len - 5, ".conf")) {
			if(snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) < (int)sizeof(path)) {
				probe_file(path, pr);
			}
		}
	}
	closedir(d);
}

/* Opens path for reading only if it is a regular file: names found in an
 * include_dir are whatever lies there, and a FIFO would block the start. */
static FILE *open_regular(const char *path)
{
	struct stat st;
	FILE *f;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if(fd < 0) {
		return NULL;
	}
	if(fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !(f = fdopen(fd, "r"))) {
		close(fd);
		return NULL;
	}
	return f;
}

static void probe_file(const char *path, struct acl_probe *pr)
{
	FILE *f;
	char *line = NULL;
	size_t cap = 0;

	if(pr->depth > 8 || !(f = open_regular(path))) {
		return;
	}
	pr->depth++;
	while(getline(&line, &cap, f) > 0) {
		char *key = line, *end;

		while(isspace((unsigned char)*key))
			key++;
		end = key;
		while(*end && !isspace((unsigned char)*end))
			end++;
		if(*end) {
			*end++ = '\0';
		}
		while(isspace((unsigned char)*end))
			end++;
		end[strcspn(end, "\r\n")] = '\0';
		if(!strcmp(key, "plugin") || !strcmp(key, "auth_plugin")) {
			pr->plugins++;
		} else if(!strcmp(key, "acl_file")) {
			pr->acl_files++;
		} else if(!strcmp(key, "include_dir") && *end) {
			probe_dir(end, pr);
		}
	}
	pr->depth--;
	free(line);
	fclose(f);
}

bool jw_options__detect_acl_source(char *why, size_t whylen)
{
	struct acl_probe pr = {0, 0, 0};
	char *path = config_path();
	FILE *f;

	if(!path) {
		snprintf(why, whylen, "no -c configuration file on the command line");
		return false;
	}
	f = fopen(path, "r");
	if(!f) {
		/* Unknown: defer, so an acl_file we cannot see is never bypassed. */
		snprintf(why, whylen, "cannot read %s to look for acl_file", path);
		free(path);
		return true;
	}
	fclose(f);
	probe_file(path, &pr);
	if(pr.acl_files > 0) {
		snprintf(why, whylen, "%s sets acl_file", path);
	} else if(pr.plugins > 1) {
		snprintf(why, whylen, "%s loads another plugin", path);
	} else {
		snprintf(why, whylen, "%s has no acl_file and no other plugin", path);
	}
	free(path);
	return pr.acl_files > 0 || pr.plugins > 1;
}
