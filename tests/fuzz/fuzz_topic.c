/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The topic contract (core/topic.c): jw_topic_parse against a plain
 * reference of {prefix}/{session}/{job}/{event} (the one-pass fast path
 * and the full checks must agree with it), jw_topic_format's round trip of
 * every topic accepted, and jw_topic_rejection's encoding of a client id
 * into one topic level. Input: a topic; or a prefix, a NUL byte and a
 * topic (without one the prefix is the default "jobs").
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "topic.h"

static int id_ok(const char *s, size_t n)
{
	if(n == 0 || n > JW_ID_MAX)
		return 0;
	for(size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if(!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		           c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int event_ok(const char *s, size_t n)
{
	if(n == 0 || n > 64)
		return 0;
	for(size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if(!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && (c == '_' || c == '-'))))
			return 0;
	}
	return 1;
}

/* The documented rule, slowly. */
static enum jw_topic_kind reference(
        const char *prefix, const char *topic, const char **lv, size_t *ln)
{
	size_t plen = strlen(prefix);
	const char *rest;

	if(strncmp(topic, prefix, plen) != 0 || (topic[plen] != '/' && topic[plen] != '\0'))
		return JW_TOPIC_OTHER;
	if(topic[plen] == '\0')
		return JW_TOPIC_INVALID;
	rest = topic + plen + 1;
	for(int i = 0; i < 3; i++) {
		const char *slash = strchr(rest, '/');

		if((i < 2) != (slash != NULL))
			return JW_TOPIC_INVALID;
		lv[i] = rest;
		ln[i] = slash ? (size_t)(slash - rest) : strlen(rest);
		rest += ln[i] + 1;
	}
	if(!id_ok(lv[0], ln[0]) || !id_ok(lv[1], ln[1]) || !event_ok(lv[2], ln[2]))
		return JW_TOPIC_INVALID;
	return JW_TOPIC_JOB;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static void check_rejection(const char *id)
{
	char buf[600];
	size_t plen = strlen(JW_REJECTIONS_PREFIX);
	int n = jw_topic_rejection(buf, sizeof(buf), id);
	size_t want = 0;

	for(const unsigned char *c = (const unsigned char *)id; *c; c++)
		want += (*c == '/' || *c == '+' || *c == '#' || *c == '%' || *c < 0x20 || *c == 0x7f) ? 3
		                                                                                      : 1;
	if(plen + want >= sizeof(buf)) {
		FUZZ_CHECK(n == -1, "rejection topic of %zu bytes fits a %zu-byte buffer", plen + want,
		        sizeof(buf));
		return;
	}
	FUZZ_CHECK(n >= 0 && (size_t)n == plen + want, "rejection topic is %d bytes, want %zu", n,
	        plen + want);
	FUZZ_CHECK(memcmp(buf, JW_REJECTIONS_PREFIX, plen) == 0 && buf[n] == '\0',
	        "rejection topic lacks its prefix or NUL");
	/* One level, no wildcard, and it decodes back to the id. */
	{
		size_t o = 0;

		for(size_t i = plen; i < (size_t)n; i++) {
			char c = buf[i];

			FUZZ_CHECK(c != '/' && c != '+' && c != '#', "rejection topic holds '%c'", c);
			if(c == '%') {
				int hi = i + 2 < (size_t)n ? hexval(buf[i + 1]) : -1;
				int lo = i + 2 < (size_t)n ? hexval(buf[i + 2]) : -1;

				FUZZ_CHECK(hi >= 0 && lo >= 0, "bad escape in the rejection topic");
				FUZZ_CHECK((char)(hi << 4 | lo) == id[o], "escape decodes to another byte");
				i += 2;
			} else {
				FUZZ_CHECK(c == id[o], "rejection topic byte %zu differs from the id", i);
			}
			o++;
		}
		FUZZ_CHECK(id[o] == '\0', "rejection topic holds part of the id only");
	}
	/* One byte short of what it needs: refused, not cut. */
	if(n > 0) {
		char *small = malloc((size_t)n);

		if(small) {
			FUZZ_CHECK(jw_topic_rejection(small, (size_t)n, id) == -1,
			        "rejection topic written into a buffer one byte short");
			free(small);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	char *prefix, *topic;
	struct jw_topic t;
	const char *lv[3] = {NULL, NULL, NULL};
	size_t ln[3] = {0, 0, 0};
	enum jw_topic_kind kind, want;

	if(nul) {
		prefix = jw_fuzz_strndup(data, (size_t)(nul - data));
		topic = jw_fuzz_strndup(nul + 1, size - (size_t)(nul - data) - 1);
	} else {
		prefix = jw_fuzz_strndup((const uint8_t *)"jobs", 4);
		topic = jw_fuzz_strndup(data, size);
	}
	memset(&t, 0x5a, sizeof(t));
	kind = jw_topic_parse(prefix, topic, &t);
	want = reference(prefix, topic, lv, ln);
	FUZZ_CHECK(kind == want, "kind %d, the rule gives %d (why: %.100s)", (int)kind, (int)want,
	        kind == JW_TOPIC_INVALID ? t.why : "");
	if(kind == JW_TOPIC_INVALID) {
		FUZZ_CHECK(memchr(t.why, '\0', sizeof(t.why)) && t.why[0], "invalid without a reason");
	} else if(kind == JW_TOPIC_JOB) {
		char buf[512];
		int n;

		FUZZ_CHECK(strlen(t.session) == ln[0] && !memcmp(t.session, lv[0], ln[0]) &&
		                   strlen(t.job) == ln[1] && !memcmp(t.job, lv[1], ln[1]) &&
		                   strlen(t.event) == ln[2] && !memcmp(t.event, lv[2], ln[2]),
		        "levels differ from the topic's");
		FUZZ_CHECK(jw_topic_id_valid(t.session) && jw_topic_id_valid(t.job),
		        "an accepted id is not valid");
		n = jw_topic_format(buf, sizeof(buf), prefix, t.session, t.job, t.event);
		if(strlen(topic) < sizeof(buf)) {
			FUZZ_CHECK(n >= 0 && !strcmp(buf, topic), "format does not give the topic back");
			/* Exactly big enough, then one byte short. */
			FUZZ_CHECK(jw_topic_format(buf, (size_t)n + 1, prefix, t.session, t.job, t.event) == n,
			        "format refuses a buffer of exactly the size");
			FUZZ_CHECK(jw_topic_format(buf, (size_t)n, prefix, t.session, t.job, t.event) == -1,
			        "format writes into a buffer one byte short");
		} else {
			FUZZ_CHECK(n == -1, "a %zu-byte topic fits %zu bytes", strlen(topic), sizeof(buf));
		}
	} else {
		FUZZ_CHECK(t.why[0] == '\0', "not ours, yet a reason");
	}
	check_rejection(topic);
	free(prefix);
	free(topic);
	return 0;
}
