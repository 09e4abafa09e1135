/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Recognises progress reports in a wrapped command's output, so that
 * `jobwire run` can turn them into progress events. Pure: one line in,
 * what it says out. The formats are documented in docs/cli.md#run.
 */
#ifndef JW_CLI_PROGRESS_LINE_H
#define JW_CLI_PROGRESS_LINE_H

#include <stddef.h>

struct jw_progress_line {
	int has_percent;       /* percent is set */
	double percent;        /* 0..100 */
	int has_count;         /* current and total are set */
	double current, total; /* 0 <= current <= total, total > 0 */
	char step[201];        /* "" when none */
	char message[1001];    /* "" when none */
};

/*
 * Parses one line (no trailing newline needed; a trailing "\r" or "\n" is
 * ignored). Recognised, first match wins:
 *   PROGRESS 45/100 [message]   current 45 of total 100
 *   PROGRESS 45% [message]      percent (also "PROGRESS 45 [message]")
 *   STEP name [- message]       the current step
 *   any line with a free-standing "45%" or "45.5%" token, as printed by
 *   curl, wget, rsync and tqdm ("45%|####", "[ 45%]", "(45%)"): percent,
 *   and the whole line as message
 * Returns 1 when the line is a report (out filled), 0 when it is not.
 * Values outside their range (120%, 7/5) make the line not a report.
 */
int jw_progress_line_parse(const char *line, size_t len, struct jw_progress_line *out);

#endif
