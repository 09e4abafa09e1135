/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* File and clock helpers shared by the unit tests: see testutil.h. */
#include "testutil.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal_rec.h"

void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

void spill(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

char *finished_rec(const char *session, const char *job, const char *ev, const char *node,
        int64_t spooled_ms, size_t *len)
{
	struct jw_journal_rec r;
	char *text;

	memset(&r, 0, sizeof(r));
	r.kind = JW_JOURNAL_FINISHED;
	r.session = session;
	r.job = job;
	r.type = "complete";
	r.event = ev;
	r.event_len = strlen(ev);
	r.retryable = -1;
	r.finished_ms = 1767323045000LL;
	r.node = node;
	r.spooled_ms = spooled_ms;
	text = jw_journal_rec_encode(&r, len);
	ck_assert_ptr_nonnull(text);
	return text;
}

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while(nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}
