/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Parsing and formatting of job topics, {prefix}/{session}/{job}/{event}.
 * Topics come straight from clients and may be up to 65535 bytes, so
 * levels are measured in place and copied only once they are known to fit.
 */
#include "topic.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Longest event type name, matching JW_TYPE_MAX in schemaset.h. */
#define EVENT_MAX 64

static int id_char(unsigned char c)
{
	return jw_id_byte(c);
}

static int event_first_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int event_char(unsigned char c)
{
	return event_first_char(c) || c == '_' || c == '-';
}

/* Names a refused character so a log reader can see it: '+', a space, \xC3. */
static void name_char(char *out, size_t outsz, unsigned char c)
{
	if(c == ' ')
		(void)snprintf(out, outsz, "a space");
	else if(c > 0x20 && c < 0x7F)
		(void)snprintf(out, outsz, "'%c'", c);
	else
		(void)snprintf(out, outsz, "\\x%02X", c);
}

/* Index of the first byte of s[0..n) that fails ok(), or n. */
static size_t first_bad(const char *s, size_t n, int (*ok)(unsigned char))
{
	size_t i;

	for(i = 0; i < n; i++) {
		if(!ok((unsigned char)s[i]))
			return i;
	}
	return n;
}

/* Checks one id level; on failure writes the cause to why. */
static int check_id(const char *what, const char *s, size_t n, char *why, size_t whysz)
{
	char c[16];
	size_t bad;

	if(n == 0) {
		(void)snprintf(why, whysz, "empty %s id", what);
		return -1;
	}
	if(n > JW_ID_MAX) {
		(void)snprintf(why, whysz, "%s id is %zu characters, limit %d", what, n, JW_ID_MAX);
		return -1;
	}
	bad = first_bad(s, n, id_char);
	if(bad < n) {
		name_char(c, sizeof(c), (unsigned char)s[bad]);
		(void)snprintf(why, whysz, "%s id contains %s (allowed: A-Z a-z 0-9 . _ -)", what, c);
		return -1;
	}
	return 0;
}

static int check_event(const char *s, size_t n, char *why, size_t whysz)
{
	char c[16];
	size_t bad;

	if(n == 0) {
		(void)snprintf(why, whysz, "empty event type");
		return -1;
	}
	if(n > EVENT_MAX) {
		(void)snprintf(why, whysz, "event type is %zu characters, limit %d", n, EVENT_MAX);
		return -1;
	}
	if(!event_first_char((unsigned char)s[0])) {
		name_char(c, sizeof(c), (unsigned char)s[0]);
		(void)snprintf(why, whysz, "event type must start with a-z or 0-9, got %s", c);
		return -1;
	}
	bad = first_bad(s, n, event_char);
	if(bad < n) {
		name_char(c, sizeof(c), (unsigned char)s[bad]);
		(void)snprintf(why, whysz, "event type contains %s (allowed: a-z 0-9 _ -)", c);
		return -1;
	}
	return 0;
}

static size_t count_char(const char *s, char c)
{
	size_t n = 0;

	for(; *s; s++) {
		if(*s == c)
			n++;
	}
	return n;
}

/*
 * The event bytes (event_char) as a table, for the one-pass scan of a
 * well-formed job topic. test_topic checks every byte value against the
 * rule.
 */
static const unsigned char event_byte[256] = {
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        0,
        0,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        1,
        0,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        1,
        0,
        0,
        0,
        0,
        0,
};

/*
 * Length of the run of event bytes at s, stopping at the first other byte
 * (the NUL that ends a good level).
 */
static size_t event_run(const char *s)
{
	size_t n = 0;

	while(event_byte[(unsigned char)s[n]])
		n++;
	return n;
}

/*
 * The common case in one pass: three good levels after the prefix and
 * nothing else. Returns 1 with *t filled, 0 when anything is unusual;
 * the caller then runs the full checks, which name the problem.
 */
static int parse_fast(const char *rest, struct jw_topic *t)
{
	size_t s, j, e;

	/* jw_id_run stops soon after JW_ID_MAX bytes, so a long level is
	 * left to the full checks without being read to its end here. */
	s = jw_id_run(rest);
	if(s == 0 || s > JW_ID_MAX || rest[s] != '/')
		return 0;
	j = jw_id_run(rest + s + 1);
	if(j == 0 || j > JW_ID_MAX || rest[s + 1 + j] != '/')
		return 0;
	e = event_run(rest + s + j + 2);
	if(e == 0 || e > EVENT_MAX || rest[s + j + 2 + e] != '\0' ||
	        !event_first_char((unsigned char)rest[s + j + 2]))
		return 0;
	memcpy(t->session, rest, s);
	t->session[s] = '\0';
	memcpy(t->job, rest + s + 1, j);
	t->job[j] = '\0';
	memcpy(t->event, rest + s + j + 2, e);
	t->event[e] = '\0';
	t->why[0] = '\0';
	return 1;
}

enum jw_topic_kind jw_topic_parse(const char *prefix, const char *topic, struct jw_topic *t)
{
	size_t plen = strlen(prefix);
	const char *rest, *level[3];
	size_t llen[3], levels, i;

	/* "jobs" and "jobs/..." are ours; "jobsX/..." is not. */
	if(strncmp(topic, prefix, plen) != 0 || (topic[plen] != '/' && topic[plen] != '\0')) {
		t->session[0] = '\0';
		t->job[0] = '\0';
		t->event[0] = '\0';
		t->why[0] = '\0';
		return JW_TOPIC_OTHER;
	}
	if(topic[plen] == '/' && parse_fast(topic + plen + 1, t))
		return JW_TOPIC_JOB;

	t->session[0] = '\0';
	t->job[0] = '\0';
	t->event[0] = '\0';
	t->why[0] = '\0';

	/* Levels counted the way a user reads the topic, prefix included. */
	levels = 1 + count_char(prefix, '/') + count_char(topic + plen, '/');
	if(levels != 4 + count_char(prefix, '/')) {
		(void)snprintf(t->why, sizeof(t->why),
		        "expected %.40s/{session}/{job}/{event}, got %zu level%s", prefix, levels,
		        levels == 1 ? "" : "s");
		return JW_TOPIC_INVALID;
	}
	rest = topic + plen + 1;
	for(i = 0; i < 3; i++) {
		const char *slash = strchr(rest, '/');

		level[i] = rest;
		llen[i] = slash ? (size_t)(slash - rest) : strlen(rest);
		rest += llen[i] + 1;
	}
	if(check_id("session", level[0], llen[0], t->why, sizeof(t->why)) < 0 ||
	        check_id("job", level[1], llen[1], t->why, sizeof(t->why)) < 0 ||
	        check_event(level[2], llen[2], t->why, sizeof(t->why)) < 0)
		return JW_TOPIC_INVALID;

	/* Lengths were checked against the field sizes above. */
	memcpy(t->session, level[0], llen[0]);
	t->session[llen[0]] = '\0';
	memcpy(t->job, level[1], llen[1]);
	t->job[llen[1]] = '\0';
	memcpy(t->event, level[2], llen[2]);
	t->event[llen[2]] = '\0';
	return JW_TOPIC_JOB;
}

int jw_topic_id_valid(const char *s)
{
	size_t n;

	if(!s)
		return 0;
	n = strlen(s);
	return jw_id_valid(s, n);
}

int jw_topic_format(char *buf, size_t buflen, const char *prefix, const char *session,
        const char *job, const char *event)
{
	/* By hand: the state topic is formatted for every state published. */
	const char *part[4] = {prefix, session, job, event};
	size_t n = 0;

	for(int i = 0; i < 4; i++) {
		size_t len = strlen(part[i]);

		if(len + (i > 0) >= buflen - n || n + len + (i > 0) > INT_MAX)
			return -1;
		if(i > 0)
			buf[n++] = '/';
		memcpy(buf + n, part[i], len);
		n += len;
	}
	buf[n] = '\0';
	return (int)n;
}

int jw_topic_client_level(char *buf, size_t buflen, const char *prefix, const char *client_id)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t used = strlen(prefix);

	if(buflen <= used) {
		return -1;
	}
	memcpy(buf, prefix, used);
	/* A client id may hold characters that are not allowed (or mean
	 * something) in a topic level; encode them so every id maps to
	 * exactly one level. */
	for(const unsigned char *c = (const unsigned char *)(client_id ? client_id : ""); *c; c++) {
		bool enc = *c == '/' || *c == '+' || *c == '#' || *c == '%' || *c < 0x20 || *c == 0x7f;
		size_t need = enc ? 3 : 1;

		if(used + need >= buflen) {
			return -1;
		}
		if(enc) {
			buf[used++] = '%';
			buf[used++] = hex[*c >> 4];
			buf[used++] = hex[*c & 0xf];
		} else {
			buf[used++] = (char)*c;
		}
	}
	buf[used] = '\0';
	return (int)used;
}

int jw_topic_rejection(char *buf, size_t buflen, const char *client_id)
{
	return jw_topic_client_level(buf, buflen, JW_REJECTIONS_PREFIX, client_id);
}

bool jw_topic_own_replies(const char *topic, const char *client_id)
{
	char own[1024];
	int n = jw_topic_client_level(own, sizeof(own), JW_REPLIES_PREFIX, client_id);

	/* An empty id would make every client's replies "its own". */
	if(n <= (int)strlen(JW_REPLIES_PREFIX) || strncmp(topic, own, (size_t)n) != 0) {
		return false;
	}
	return topic[n] == '\0' || topic[n] == '/';
}

/* Whether topic's first level is exactly level. */
static bool first_level_is(const char *topic, const char *level)
{
	size_t n = strlen(level);

	return !strncmp(topic, level, n) && (topic[n] == '\0' || topic[n] == '/');
}

enum jw_response_refusal jw_topic_response_check(const char *prefix, const char *topic,
        const char *client_id, bool utf8_ok, bool publishable, bool *ask_read, char *why,
        size_t whylen)
{
	*ask_read = false;
	if(!topic || !*topic) {
		snprintf(why, whylen, "the response topic is empty");
		return JW_RESPONSE_INVALID;
	}
	if(!utf8_ok) {
		snprintf(why, whylen, "the response topic is not UTF-8 of at most 65535 bytes");
		return JW_RESPONSE_INVALID;
	}
	/* 2.0.11 passes wildcards through to the plugin. */
	if(strpbrk(topic, "+#")) {
		snprintf(why, whylen, "the response topic contains a wildcard (+ or #)");
		return JW_RESPONSE_INVALID;
	}
	if(!publishable) {
		snprintf(why, whylen, "the response topic is not a valid topic to publish to");
		return JW_RESPONSE_INVALID;
	}
	/* The broker's own topics: job events, control and state under the
	 * prefix, $jobwire/ (stats, every client's notices and replies), $SYS
	 * and any other $ topic. A client's own replies are the exception. */
	if(first_level_is(topic, prefix)) {
		snprintf(why, whylen, "%s/ topics are the broker's: answers never go there", prefix);
		return JW_RESPONSE_BROKER_TOPIC;
	}
	if(topic[0] == '$') {
		if(jw_topic_own_replies(topic, client_id)) {
			return JW_RESPONSE_OK;
		}
		snprintf(why, whylen,
		        "$ topics are the broker's; the one a client may use is " JW_REPLIES_PREFIX
		        "{its client id}/...");
		return JW_RESPONSE_BROKER_TOPIC;
	}
	*ask_read = true;
	return JW_RESPONSE_OK;
}
