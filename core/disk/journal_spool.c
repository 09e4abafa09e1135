/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The journal spool's names and checkpoint (journal_spool.h).
 */
#include "journal_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvlog.h"
#include "quarantine.h"

#define SEG_SUFFIX ".spool"
#define CP_MAX_TEXT 64

static bool all_digits(const char *s, size_t n)
{
	for(size_t i = 0; i < n; i++) {
		if(s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	return n > 0;
}

/* n (1 to 20) decimal digits at s as a number: strtoull on a bounded
 * copy, which must consume all of it. Returns 0, or -1 (not digits, or
 * more than fits 64 bits). */
static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	char tmp[24];
	char *end;
	unsigned long long v;

	if(n == 0 || n > 20 || !all_digits(s, n)) {
		return -1;
	}
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtoull(tmp, &end, 10);
	if(errno != 0 || end != tmp + n) {
		return -1;
	}
	*out = (uint64_t)v;
	return 0;
}

enum jw_spool_kind jw_spool_classify(const char *name, uint64_t *seq)
{
	size_t n = strlen(name);
	uint64_t v;

	if(!strcmp(name, ".") || !strcmp(name, "..")) {
		return JW_SPOOL_DOT;
	}
	if(!strcmp(name, "checkpoint")) {
		return JW_SPOOL_CHECKPOINT;
	}
	if(!strcmp(name, "checkpoint.tmp")) {
		return JW_SPOOL_CHECKPOINT_TMP;
	}
	if(jw_quarantine_is_name(name)) {
		return JW_SPOOL_QUARANTINE;
	}
	if(n != JW_SPOOL_DIGITS + sizeof(SEG_SUFFIX) - 1 ||
	        strcmp(name + JW_SPOOL_DIGITS, SEG_SUFFIX) != 0 ||
	        parse_u64(name, JW_SPOOL_DIGITS, &v) != 0) {
		return JW_SPOOL_UNKNOWN;
	}
	*seq = v;
	return v > JW_SPOOL_SEQ_MAX ? JW_SPOOL_OUT_OF_RANGE : JW_SPOOL_SEGMENT;
}

char *jw_spool_segment_name(char *buf, size_t buflen, uint64_t seq)
{
	snprintf(buf, buflen, "%016" PRIu64 SEG_SUFFIX, seq);
	return buf;
}

size_t jw_spool_checkpoint_format(char *buf, size_t buflen, uint64_t seq, uint64_t off)
{
	char body[48];
	int n = snprintf(body, sizeof(body), "%" PRIu64 " %" PRIu64, seq, off);
	int m;

	if(n < 0 || (size_t)n >= sizeof(body)) {
		return 0;
	}
	m = snprintf(buf, buflen, "%s %08" PRIx32 "\n", body, jw_crc32c(0, body, (size_t)n));
	if(m < 0 || (size_t)m >= buflen) {
		return 0;
	}
	return (size_t)m;
}

static enum jw_spool_cp failed(char *why, size_t whylen, int errnum)
{
	if(why && whylen && strerror_r(errnum, why, whylen) != 0) {
		snprintf(why, whylen, "error %d", errnum);
	}
	return JW_SPOOL_CP_ERROR;
}

static enum jw_spool_cp damaged(char *why, size_t whylen, const char *text)
{
	if(why && whylen) {
		snprintf(why, whylen, "%s", text);
	}
	return JW_SPOOL_CP_DAMAGED;
}

enum jw_spool_cp jw_spool_checkpoint_parse(
        const void *buf, size_t len, uint64_t *seq, uint64_t *off, char *why, size_t whylen)
{
	const char *s = buf;
	size_t i = 0, a, b, c;
	uint64_t vseq, voff;

	if(len == 0) {
		return damaged(why, whylen, "empty");
	}
	if(len > CP_MAX_TEXT || s[len - 1] != '\n') {
		return damaged(why, whylen, "not one line");
	}
	/* <digits> ' ' <digits> [' ' <8 hex>] '\n' */
	a = i;
	while(i < len && s[i] >= '0' && s[i] <= '9') {
		i++;
	}
	if(i == a || i >= len || s[i] != ' ') {
		return damaged(why, whylen, "not \"<segment> <offset>\"");
	}
	b = ++i;
	while(i < len && s[i] >= '0' && s[i] <= '9') {
		i++;
	}
	if(i == b || i >= len || (s[i] != ' ' && s[i] != '\n')) {
		return damaged(why, whylen, "not \"<segment> <offset>\"");
	}
	if(parse_u64(s + a, b - 1 - a, &vseq) != 0 || parse_u64(s + b, i - b, &voff) != 0 ||
	        vseq > JW_SPOOL_SEQ_MAX || voff > JW_SPOOL_OFF_MAX) {
		return damaged(why, whylen, "number out of range");
	}
	if(s[i] == '\n') {
		if(i + 1 != len) {
			return damaged(why, whylen, "not one line");
		}
		*seq = vseq;
		*off = voff;
		return JW_SPOOL_CP_LEGACY;
	}
	c = ++i;
	while(i < len && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
		i++;
	}
	if(i - c != 8 || i + 1 != len || s[i] != '\n') {
		return damaged(why, whylen, "no checksum");
	}
	{
		char hex[9];
		uint32_t want;

		memcpy(hex, s + c, 8);
		hex[8] = '\0';
		want = (uint32_t)strtoul(hex, NULL, 16);
		if(jw_crc32c(0, s, c - 1) != want) {
			return damaged(why, whylen, "checksum mismatch");
		}
	}
	*seq = vseq;
	*off = voff;
	return JW_SPOOL_CP_OK;
}

enum jw_spool_cp jw_spool_checkpoint_read(const char *path, uint64_t *seq, uint64_t *off,
        unsigned char *raw, size_t rawcap, size_t *rawlen, char *why, size_t whylen)
{
	unsigned char buf[CP_MAX_TEXT + 1];
	struct stat st;
	size_t got = 0;
	int fd;

	*rawlen = 0;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if(fd < 0) {
		if(errno == ENOENT) {
			return JW_SPOOL_CP_MISSING;
		}
		return failed(why, whylen, errno);
	}
	if(fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return damaged(why, whylen, "not a regular file");
	}
	while(got < sizeof(buf)) {
		ssize_t n = read(fd, buf + got, sizeof(buf) - got);
		if(n < 0) {
			if(errno == EINTR) {
				continue;
			}
			int e = errno;
			close(fd);
			return failed(why, whylen, e);
		}
		if(n == 0) {
			break;
		}
		got += (size_t)n;
	}
	close(fd);
	if(raw && rawcap) {
		*rawlen = got < rawcap ? got : rawcap;
		memcpy(raw, buf, *rawlen);
	}
	if(got > CP_MAX_TEXT) {
		return damaged(why, whylen, "too long");
	}
	return jw_spool_checkpoint_parse(buf, got, seq, off, why, whylen);
}
