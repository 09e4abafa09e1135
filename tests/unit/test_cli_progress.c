/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves that `jobwire run` recognises exactly the documented progress
 * line formats (PROGRESS n/m, PROGRESS n%, STEP, free-standing n% as
 * printed by curl, wget, rsync and tqdm) and leaves other lines alone. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "progress_line.h"
#include "util_check.h"

struct pcase {
	const char *line;
	int ok;
	double pct;      /* -1: no percent */
	double cur, tot; /* tot 0: no count */
	const char *step;
	const char *msg;
};

static const struct pcase cases[] = {
        {"PROGRESS 45/100 Processing variant 45", 1, -1, 45, 100, "", "Processing variant 45"},
        {"PROGRESS 45/100", 1, -1, 45, 100, "", ""},
        {"  PROGRESS 3/4 three\r", 1, -1, 3, 4, "", "three"},
        {"PROGRESS 45% loading", 1, 45, 0, 0, "", "loading"},
        {"PROGRESS 45", 1, 45, 0, 0, "", ""},
        {"PROGRESS 12.5% - denoise", 1, 12.5, 0, 0, "", "denoise"},
        {"PROGRESS 0/0", 0, -1, 0, 0, "", ""},
        {"PROGRESS 7/5 too many", 0, -1, 0, 0, "", ""},
        {"PROGRESS 120%", 0, -1, 0, 0, "", ""},
        {"PROGRESS abc", 0, -1, 0, 0, "", ""},
        {"PROGRESS 45x", 0, -1, 0, 0, "", ""},
        {"PROGRESSIVE 45%", 1, 45, 0, 0, "", "PROGRESSIVE 45%"},
        {"STEP segment_3d", 1, -1, 0, 0, "segment_3d", ""},
        {"STEP denoise - plane 4", 1, -1, 0, 0, "denoise", "plane 4"},
        {"STEP", 0, -1, 0, 0, "", ""},
        {"45%", 1, 45, 0, 0, "", "45%"},
        {"Downloading... 45%", 1, 45, 0, 0, "", "Downloading... 45%"},
        {" 45%|####5     | 45/100 [00:10<00:12, 4.50it/s]", 1, 45, 0, 0, "",
                "45%|####5     | 45/100 [00:10<00:12, 4.50it/s]"},
        {"[ 99%] Building C object", 1, 99, 0, 0, "", "[ 99%] Building C object"},
        {"     1,234,567  45%  1.2MB/s    0:00:10", 1, 45, 0, 0, "",
                "1,234,567  45%  1.2MB/s    0:00:10"},
        {"(100%) done", 1, 100, 0, 0, "", "(100%) done"},
        {"10% then 20%", 1, 20, 0, 0, "", "10% then 20%"},
        {"coverage 250%", 0, -1, 0, 0, "", ""},
        {"v2.45%", 0, -1, 0, 0, "", ""},
        {"abc45%", 0, -1, 0, 0, "", ""},
        {"45%abc", 0, -1, 0, 0, "", ""},
        {"100 percent", 0, -1, 0, 0, "", ""},
        {"", 0, -1, 0, 0, "", ""},
        {"%%%%", 0, -1, 0, 0, "", ""},
        {"99999999999999999999999999999999999999%", 0, -1, 0, 0, "", ""},
};

START_TEST(line)
{
	const struct pcase *c = &cases[_i];
	struct jw_progress_line p;
	int ok = jw_progress_line_parse(c->line, strlen(c->line), &p);
	ck_assert_msg(ok == c->ok, "\"%s\": got %d", c->line, ok);
	if(!ok) {
		return;
	}
	ck_assert_int_eq(p.has_percent, c->pct >= 0);
	if(c->pct >= 0) {
		ck_assert_msg(p.percent == c->pct, "\"%s\": percent %g", c->line, p.percent);
	}
	ck_assert_int_eq(p.has_count, c->tot > 0);
	if(c->tot > 0) {
		ck_assert(p.current == c->cur && p.total == c->tot);
	}
	ck_assert_str_eq(p.step, c->step);
	ck_assert_str_eq(p.message, c->msg);
}
END_TEST

START_TEST(long_and_control)
{
	char buf[3000];
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "PROGRESS 5% ", 12);
	struct jw_progress_line p;
	ck_assert_int_eq(jw_progress_line_parse(buf, sizeof(buf), &p), 1);
	ck_assert_uint_eq(strlen(p.message), 1000);
	/* Control characters never reach an event; multi-byte text is cut whole. */
	const char *l = "PROGRESS 5% a\x1b[31mred\x07";
	ck_assert_int_eq(jw_progress_line_parse(l, strlen(l), &p), 1);
	ck_assert_str_eq(p.message, "a [31mred");
	char u[1100] = "PROGRESS 1% ";
	size_t n = strlen(u);
	while(n + 2 < sizeof(u)) {
		u[n++] = '\xc3';
		u[n++] = '\xa9';
	}
	u[n] = '\0';
	ck_assert_int_eq(jw_progress_line_parse(u, n, &p), 1);
	ck_assert_uint_eq(strlen(p.message) % 2, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_progress");
	TCase *tc = tcase_create("line");
	tcase_add_loop_test(tc, line, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	suite_add_tcase(s, tc);
	jw_test_case(s, "long_and_control", long_and_control, NULL);
	return jw_test_run(s);
}
