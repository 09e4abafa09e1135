/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves a review's journal record (core/disk/journal_rec.h, "k":"r") carries the question and
 * its answer to the columns of jobwire_reviews in their order, strings unquoted and JSON kept as
 * JSON, NULL where nothing was given; that it is not encoded without its reason or choice; and
 * that a damaged one (a member missing, a time no clock gives) is refused, not guessed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal_rec.h"
#include "util_check.h"

static struct jw_journal_rec review(void)
{
	static const char ev[] = "{\"action\":\"review\",\"choice\":\"reject\"}";
	struct jw_journal_rec r;

	memset(&r, 0, sizeof(r));
	r.kind = JW_JOURNAL_REVIEW;
	r.session = "lab";
	r.job = "seg-1";
	r.type = "control";
	r.event = ev;
	r.event_len = sizeof(ev) - 1;
	r.retryable = -1;
	r.client_id = "dash-1";
	r.username = "alice";
	r.node = "n1";
	r.seq = 7;
	r.spooled_ms = 1767323045000;
	r.reason = "\"Low \\\"confidence\\\"\"";
	r.item = "{\"slice\":97}";
	r.choice = "\"reject\"";
	r.comment = "\"out of focus\"";
	r.by = "alice@lab";
	r.confidence = 0.41;
	r.threshold = 0.8;
	r.has_threshold = true;
	r.asked_ms = 1767323045000;    /* 2026-01-02T03:04:05.000Z */
	r.answered_ms = 1767323050500; /* 2026-01-02T03:04:10.500Z */
	return r;
}

START_TEST(test_review_row)
{
	struct jw_journal_rec r = review();
	struct jw_journal_row row;
	char err[200];
	size_t len = 0;
	char *text = jw_journal_rec_encode(&r, &len);
	static const char *const want[JW_JOURNAL_REVIEW_COLS] = {"lab", "seg-1", "Low \"confidence\"",
	        "0.40999999999999998", "0.80000000000000004", "{\"slice\":97}", "reject",
	        "out of focus", "alice@lab", "2026-01-02T03:04:05.000Z", "2026-01-02T03:04:10.500Z",
	        "dash-1", "alice", "n1", "{\"action\":\"review\",\"choice\":\"reject\"}", "1"};

	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(jw_journal_rec_decode(text, len, &row, err, sizeof(err)), 0);
	ck_assert_int_eq(row.kind, JW_JOURNAL_REVIEW);
	ck_assert_int_eq(row.ncols, JW_JOURNAL_REVIEW_COLS);
	for(int i = 0; i < JW_JOURNAL_REVIEW_COLS; i++) {
		ck_assert_msg(row.v[i] && !strcmp(row.v[i], want[i]), "column %s: [%s], want [%s]",
		        jw_journal_review_columns[i], row.v[i] ? row.v[i] : "NULL", want[i]);
	}
	jw_journal_row_cleanup(&row);
	free(text);

	/* Without threshold, item, comment and who: NULL. */
	r.has_threshold = false;
	r.item = r.comment = r.by = NULL;
	text = jw_journal_rec_encode(&r, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(jw_journal_rec_decode(text, len, &row, err, sizeof(err)), 0);
	ck_assert_ptr_null(row.v[4]);
	ck_assert_ptr_null(row.v[5]);
	ck_assert_ptr_null(row.v[7]);
	ck_assert_ptr_null(row.v[8]);
	jw_journal_row_cleanup(&row);
	free(text);

	/* A review of a retried job's third attempt says so. */
	r.attempt = 3;
	text = jw_journal_rec_encode(&r, &len);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(jw_journal_rec_decode(text, len, &row, err, sizeof(err)), 0);
	ck_assert_str_eq(row.v[15], "3");
	jw_journal_row_cleanup(&row);
	free(text);
}
END_TEST

START_TEST(test_review_incomplete)
{
	struct jw_journal_rec r = review();
	struct jw_journal_row row;
	char err[200];
	size_t len;

	r.choice = NULL;
	ck_assert_ptr_null(jw_journal_rec_encode(&r, &len));
	r = review();
	r.reason = NULL;
	ck_assert_ptr_null(jw_journal_rec_encode(&r, &len));

	static const char *const bad[] = {
	        /* no choice */
	        "{\"k\":\"r\",\"s\":\"a\",\"j\":\"b\",\"t\":\"control\",\"ev\":{},\"rsn\":\"r\","
	        "\"conf\":0.5,\"ask\":0,\"ans\":0,\"node\":\"n\"}",
	        /* no answer time */
	        "{\"k\":\"r\",\"s\":\"a\",\"j\":\"b\",\"t\":\"control\",\"ev\":{},\"rsn\":\"r\","
	        "\"ch\":\"x\",\"conf\":0.5,\"ask\":0,\"node\":\"n\"}",
	        /* an answer time no clock gives */
	        "{\"k\":\"r\",\"s\":\"a\",\"j\":\"b\",\"t\":\"control\",\"ev\":{},\"rsn\":\"r\","
	        "\"ch\":\"x\",\"conf\":0.5,\"ask\":0,\"ans\":9223372036854775807,\"node\":\"n\"}",
	};
	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(jw_journal_rec_decode(bad[i], strlen(bad[i]), &row, err, sizeof(err)) != 0,
		        "decoded: %s", bad[i]);
		jw_journal_row_cleanup(&row);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("journal_rec_review");

	jw_test_case(s, "review", test_review_row, test_review_incomplete, NULL);
	return jw_test_run(s);
}
