/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Journal records: what the broker spools decodes into exactly the row
 * parameters the table expects (NULLs where the event said nothing,
 * strings unescaped, timestamps in UTC), hostile spool contents are
 * refused with a reason instead of crashing or inventing values, and the
 * spool's queue reader (jw_kvlog_read) returns every record in order from
 * any record boundary and stops at a torn tail. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_rec.h"
#include "kvlog.h"
#include "testutil.h"
#include "util_check.h"

static struct jw_journal_rec finished(void)
{
	static const char ev[] = "{\"ts\":\"2026-01-02T03:04:15.500Z\",\"result\":{\"rows\":100}}";
	struct jw_journal_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = JW_JOURNAL_FINISHED;
	r.session = "s1";
	r.job = "j1";
	r.type = "complete";
	r.event = ev;
	r.event_len = strlen(ev);
	r.result = "{\"rows\":100}";
	r.retryable = -1;
	r.has_started = true;
	r.started_ms = 1767323045000LL; /* 2026-01-02T03:04:05Z */
	r.finished_ms = 1767323055500LL;
	r.has_duration = true;
	r.duration_s = 10.5;
	r.has_progress = true;
	r.progress = 100;
	r.client_id = "worker \"1\"\n";
	r.username = NULL;
	r.node = "node-a";
	r.seq = 3;
	r.spooled_ms = 1767323055600LL;
	return r;
}

static void roundtrip(const struct jw_journal_rec *r, struct jw_journal_row *row)
{
	char err[200] = "";
	size_t len = 0;
	char *text = jw_journal_rec_encode(r, &len);

	ck_assert_ptr_nonnull(text);
	ck_assert_uint_eq(strlen(text), len);
	ck_assert_msg(jw_journal_rec_decode(text, len, row, err, sizeof(err)) == 0, "decode: %s", err);
	free(text);
}

START_TEST(test_finished_roundtrip)
{
	struct jw_journal_rec r = finished();
	struct jw_journal_row row;

	roundtrip(&r, &row);
	ck_assert_int_eq(row.kind, JW_JOURNAL_FINISHED);
	ck_assert_int_eq(row.ncols, JW_JOURNAL_FINISHED_COLS);
	ck_assert_str_eq(row.v[0], "s1");
	ck_assert_str_eq(row.v[1], "j1");
	ck_assert_str_eq(row.v[2], "complete");
	ck_assert_ptr_null(row.v[3]); /* error */
	ck_assert_ptr_null(row.v[4]); /* code */
	ck_assert_ptr_null(row.v[5]); /* retryable */
	ck_assert_str_eq(row.v[6], "{\"rows\":100}");
	ck_assert_str_eq(row.v[7], "{\"ts\":\"2026-01-02T03:04:15.500Z\",\"result\":{\"rows\":100}}");
	ck_assert_str_eq(row.v[8], "2026-01-02T03:04:05.000Z");
	ck_assert_str_eq(row.v[9], "2026-01-02T03:04:15.500Z");
	ck_assert_str_eq(row.v[10], "10.5");
	ck_assert_str_eq(row.v[11], "100");
	ck_assert_str_eq(row.v[12], "worker \"1\"\n");
	ck_assert_ptr_null(row.v[13]);
	ck_assert_str_eq(row.v[14], "false");
	ck_assert_str_eq(row.v[15], "node-a");
	ck_assert_int_eq(row.spooled_ms, 1767323055600LL);
	ck_assert_str_eq(jw_journal_finished_columns[7], "final_event");
	jw_journal_row_cleanup(&row);
}
END_TEST

START_TEST(test_failed_strings_unquoted)
{
	struct jw_journal_rec r = finished();
	struct jw_journal_row row;

	r.type = "failed";
	r.result = NULL;
	r.error = "\"disk \\\"full\\\"\""; /* JSON text, as the job table keeps it */
	r.code = "\"heartbeat_timeout\"";
	r.retryable = 1;
	r.has_duration = false; /* derived from started and finished */
	r.has_progress = false;
	r.broker_generated = true;
	r.client_id = NULL;
	roundtrip(&r, &row);
	ck_assert_str_eq(row.v[3], "disk \"full\"");
	ck_assert_str_eq(row.v[4], "heartbeat_timeout");
	ck_assert_str_eq(row.v[5], "true");
	ck_assert_ptr_null(row.v[6]);
	ck_assert_str_eq(row.v[10], "10.5");
	ck_assert_ptr_null(row.v[11]);
	ck_assert_ptr_null(row.v[12]);
	ck_assert_str_eq(row.v[14], "true");
	jw_journal_row_cleanup(&row);
}
END_TEST

START_TEST(test_event_row)
{
	struct jw_journal_rec r = finished();
	struct jw_journal_row row;

	r.kind = JW_JOURNAL_EVENT;
	r.type = "started";
	r.seq = 7;
	roundtrip(&r, &row);
	ck_assert_int_eq(row.kind, JW_JOURNAL_EVENT);
	ck_assert_int_eq(row.ncols, JW_JOURNAL_EVENT_COLS);
	ck_assert_str_eq(row.v[2], "started");
	ck_assert_str_eq(row.v[4], "2026-01-02T03:04:15.500Z"); /* the event's ts */
	ck_assert_str_eq(row.v[5], "7");
	ck_assert_str_eq(row.v[8], "node-a");
	jw_journal_row_cleanup(&row);
}
END_TEST

START_TEST(test_encode_refuses_incomplete)
{
	struct jw_journal_rec r = finished();
	size_t len = 0;

	r.node = NULL;
	ck_assert_ptr_null(jw_journal_rec_encode(&r, &len));
	r = finished();
	r.event = NULL;
	ck_assert_ptr_null(jw_journal_rec_encode(&r, &len));
	ck_assert_ptr_null(jw_journal_rec_encode(NULL, &len));
}
END_TEST

START_TEST(test_decode_hostile)
{
	static const char *const bad[] = {
	        "",
	        "not json",
	        "[1,2]",
	        "{\"k\":\"f\"}",
	        "{\"k\":\"x\",\"s\":\"a\",\"j\":\"b\",\"t\":\"c\",\"ev\":{},\"node\":\"n\"}",
	        "{\"k\":\"f\",\"s\":\"a\",\"j\":\"b\",\"t\":\"c\",\"ev\":{},\"node\":\"n\"}", /* no fin
	                                                                                       */
	        "{\"k\":\"f\",\"s\":1,\"j\":\"b\",\"t\":\"c\",\"ev\":{},\"node\":\"n\",\"fin\":1}",
	        "{\"k\":\"f\",\"s\":\"a\",\"j\":\"b\",\"t\":\"c\",\"ev\":\"str\",\"node\":\"n\","
	        "\"fin\":1}",
	        "{\"k\":\"f\",\"k\":\"f\",\"s\":\"a\",\"j\":\"b\",\"t\":\"c\",\"ev\":{},\"node\":\"n\","
	        "\"fin\":1}",
	        "{\"k\":\"f\",\"s\":\"a\xff\",\"j\":\"b\",\"t\":\"c\",\"ev\":{},\"node\":\"n\",\"fin\":"
	        "1}",
	};

	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct jw_journal_row row;
		char err[200] = "";

		ck_assert_msg(jw_journal_rec_decode(bad[i], strlen(bad[i]), &row, err, sizeof(err)) == -1,
		        "accepted: %s", bad[i]);
		ck_assert_msg(err[0] != '\0', "no reason for: %s", bad[i]);
		jw_journal_row_cleanup(&row);
	}
}
END_TEST

START_TEST(test_format_ms)
{
	char buf[40];

	ck_assert_str_eq(jw_journal_format_ms(buf, sizeof(buf), 0), "1970-01-01T00:00:00.000Z");
	ck_assert_str_eq(
	        jw_journal_format_ms(buf, sizeof(buf), 1767323055500LL), "2026-01-02T03:04:15.500Z");
	ck_assert_str_eq(jw_journal_format_ms(buf, sizeof(buf), -1), "1969-12-31T23:59:59.999Z");
	ck_assert_str_eq(jw_journal_format_ms(buf, sizeof(buf), -1000), "1969-12-31T23:59:59.000Z");
	ck_assert_str_eq(jw_journal_format_ms(buf, sizeof(buf), -1001), "1969-12-31T23:59:58.999Z");
	ck_assert_str_eq(jw_journal_format_ms(buf, sizeof(buf), JW_JOURNAL_TIME_MIN_MS),
	        "0001-01-01T00:00:00.000Z");
	ck_assert_str_eq(jw_journal_format_ms(buf, sizeof(buf), JW_JOURNAL_TIME_MAX_MS),
	        "9999-12-31T23:59:59.999Z");
	/* Beyond what a record may hold: clamped, never a wrong fraction. */
	ck_assert_str_eq(jw_journal_format_ms(buf, sizeof(buf), INT64_MIN), "0001-01-01T00:00:00.000Z");
	ck_assert_str_eq(jw_journal_format_ms(buf, sizeof(buf), INT64_MAX), "9999-12-31T23:59:59.999Z");
}
END_TEST

/* A time no clock gives (a damaged or forged spool record) is refused as
 * undecodable, saying which member, and never overflows the duration. */
START_TEST(test_decode_times_out_of_range)
{
	static const struct {
		const char *rec, *member;
	} bad[] = {
	        {"{\"k\":\"f\",\"s\":\"a\",\"j\":\"b\",\"t\":\"failed\",\"ev\":{},\"node\":\"n\","
	         "\"fin\":-9223372036854775808}",
	                "fin"},
	        {"{\"k\":\"f\",\"s\":\"a\",\"j\":\"b\",\"t\":\"failed\",\"ev\":{},\"node\":\"n\","
	         "\"st\":-9000000000000000000,\"fin\":9000000000000000000}",
	                "st"},
	        {"{\"k\":\"f\",\"s\":\"a\",\"j\":\"b\",\"t\":\"c\",\"ev\":{},\"node\":\"n\",\"fin\":1,"
	         "\"at\":253402300800000}",
	                "at"},
	        {"{\"k\":\"e\",\"s\":\"a\",\"j\":\"b\",\"t\":\"c\",\"ev\":{},\"node\":\"n\","
	         "\"at\":-62135596800001}",
	                "at"},
	};
	static const char ok[] =
	        "{\"k\":\"f\",\"s\":\"a\",\"j\":\"b\",\"t\":\"c\",\"ev\":{},\"node\":\"n\","
	        "\"st\":-62135596800000,\"fin\":253402300799999}";
	struct jw_journal_row row;
	char err[200];

	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(
		        jw_journal_rec_decode(bad[i].rec, strlen(bad[i].rec), &row, err, sizeof(err)) == -1,
		        "accepted: %s", bad[i].rec);
		ck_assert_msg(strstr(err, "out of range") && strstr(err, bad[i].member), "reason: %s", err);
		jw_journal_row_cleanup(&row);
	}
	/* The extremes themselves are times. */
	ck_assert_msg(jw_journal_rec_decode(ok, strlen(ok), &row, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(row.v[8], "0001-01-01T00:00:00.000Z");
	ck_assert_str_eq(row.v[9], "9999-12-31T23:59:59.999Z");
	ck_assert_str_eq(row.v[10], "315537897599.99902");
	jw_journal_row_cleanup(&row);
}
END_TEST

/* ---- the spool's queue view of the kvlog format ---- */

struct seen {
	char keys[64][32];
	uint64_t ends[64];
	int n;
};

static int collect_cb(const char *key, const void *val, size_t len, uint64_t end, void *arg)
{
	struct seen *s = arg;

	ck_assert_uint_eq(len, strlen(key) + 1);
	ck_assert_int_eq(memcmp(val, "v", 1), 0);
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
	s->ends[s->n++] = end;
	return 0;
}

START_TEST(test_kvlog_read_in_order)
{
	char dir[] = "/tmp/jw-spool-XXXXXX", path[64], err[256];
	struct jw_kvlog *l;
	struct seen s = {0}, s2 = {0};
	uint64_t end = 0;
	char val[40];
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/0.spool", dir);
	ck_assert_int_eq(jw_kvlog_open(path, &l, NULL, NULL, err, sizeof(err)), 0);
	for(int i = 0; i < 10; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i % 3); /* the same key again: a queue keeps all */
		memset(val, 'v', sizeof(val));
		ck_assert_int_eq(jw_kvlog_append(l, key, val, strlen(key) + 1), 0);
	}
	jw_kvlog_close(l);
	ck_assert_int_eq(jw_kvlog_read(path, 0, UINT64_MAX, collect_cb, NULL, &s, &end), 0);
	ck_assert_int_eq(s.n, 10);
	ck_assert_str_eq(s.keys[4], "k1");
	ck_assert_uint_eq(end, s.ends[9]);
	/* From a boundary, up to a boundary (the journal's published write
	 * position). */
	ck_assert_int_eq(jw_kvlog_read(path, s.ends[3], s.ends[6], collect_cb, NULL, &s2, &end), 0);
	ck_assert_int_eq(s2.n, 3);
	ck_assert_str_eq(s2.keys[0], "k1");
	ck_assert_uint_eq(end, s.ends[6]);
	/* A torn tail: garbage after the last record is not read as a
	 * record. */
	fd = open(path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "JWK1garbage", 11), 11);
	close(fd);
	memset(&s2, 0, sizeof(s2));
	ck_assert_int_eq(jw_kvlog_read(path, 0, UINT64_MAX, collect_cb, NULL, &s2, &end), 0);
	ck_assert_int_eq(s2.n, 10);
	ck_assert_uint_eq(end, s.ends[9] + 11); /* past the skipped tail */
	/* A missing file is ENOENT. */
	unlink(path);
	ck_assert_fails(jw_kvlog_read(path, 0, UINT64_MAX, collect_cb, NULL, &s2, &end), ENOENT);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* Retries: a finished record carries its attempt from 2 on ("att"); a
 * record without it, as every record spooled before retries existed,
 * is attempt 1. */
START_TEST(test_attempt_column)
{
	/* A record exactly as the broker spooled it before retries existed. */
	static const char old[] =
	        "{\"k\":\"f\",\"s\":\"s1\",\"j\":\"j1\",\"t\":\"failed\","
	        "\"ev\":{\"error\":\"x\",\"ts\":\"2026-01-02T03:04:15.500Z\"},\"err\":\"x\","
	        "\"fin\":1767323055500,\"bg\":false,\"cid\":\"w\",\"node\":\"n\",\"seq\":2,"
	        "\"at\":1767323055600}";
	struct jw_journal_rec r = finished();
	struct jw_journal_row row;
	char err[200] = "";
	size_t len = 0;
	char *text;

	ck_assert_str_eq(jw_journal_finished_columns[16], "attempt");
	/* Attempt 1 (or unset) writes nothing new. */
	r.attempt = 1;
	text = jw_journal_rec_encode(&r, &len);
	ck_assert_ptr_null(strstr(text, "\"att\""));
	free(text);
	roundtrip(&r, &row);
	ck_assert_str_eq(row.v[16], "1");
	jw_journal_row_cleanup(&row);
	r.attempt = 3;
	text = jw_journal_rec_encode(&r, &len);
	ck_assert_ptr_nonnull(strstr(text, "\"att\":3"));
	free(text);
	roundtrip(&r, &row);
	ck_assert_str_eq(row.v[16], "3");
	jw_journal_row_cleanup(&row);
	ck_assert_msg(
	        jw_journal_rec_decode(old, sizeof(old) - 1, &row, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(row.ncols, JW_JOURNAL_FINISHED_COLS);
	ck_assert_str_eq(row.v[2], "failed");
	ck_assert_str_eq(row.v[16], "1");
	jw_journal_row_cleanup(&row);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("journal_rec");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_finished_roundtrip);
	tcase_add_test(tc, test_failed_strings_unquoted);
	tcase_add_test(tc, test_event_row);
	tcase_add_test(tc, test_encode_refuses_incomplete);
	tcase_add_test(tc, test_decode_hostile);
	tcase_add_test(tc, test_format_ms);
	tcase_add_test(tc, test_decode_times_out_of_range);
	tcase_add_test(tc, test_kvlog_read_in_order);
	tcase_add_test(tc, test_attempt_column);
	suite_add_tcase(suite, tc);
	return jw_test_run(suite);
}
