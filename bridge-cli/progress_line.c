/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Progress lines in a wrapped command's output (see progress_line.h).
 */
#include "progress_line.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Copies s[0..n) into dst (size cap) with control characters as spaces
 * and surrounding blanks trimmed. Cuts on a UTF-8 boundary. */
static void copy_text(char *dst, size_t cap, const char *s, size_t n)
{
	while(n > 0 && (*s == ' ' || *s == '\t' || *s == '-' || *s == ':')) {
		s++;
		n--;
	}
	while(n > 0 && ((unsigned char)s[n - 1] <= ' ' || s[n - 1] == 0x7f)) {
		n--;
	}
	if(n >= cap) {
		n = cap - 1;
		while(n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) {
			n--;
		}
	}
	for(size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	dst[n] = '\0';
}

/* Reads an unsigned decimal number (digits with an optional fraction) at
 * s[*i..n). Returns 0 and advances *i, or -1. */
static int read_number(const char *s, size_t n, size_t *i, double *out)
{
	size_t j = *i;
	char buf[32];
	size_t k = 0;
	while(j < n && s[j] >= '0' && s[j] <= '9' && k < sizeof(buf) - 1) {
		buf[k++] = s[j++];
	}
	if(k == 0) {
		return -1;
	}
	if(j < n && s[j] == '.' && j + 1 < n && s[j + 1] >= '0' && s[j + 1] <= '9') {
		buf[k++] = s[j++];
		while(j < n && s[j] >= '0' && s[j] <= '9' && k < sizeof(buf) - 1) {
			buf[k++] = s[j++];
		}
	}
	if(j < n && s[j] >= '0' && s[j] <= '9') {
		return -1; /* absurdly long number */
	}
	buf[k] = '\0';
	*out = strtod(buf, NULL);
	*i = j;
	return isfinite(*out) ? 0 : -1;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int keyword(const char *s, size_t n, const char *kw, size_t *after)
{
	size_t i = 0;
	while(i < n && is_blank(s[i])) {
		i++;
	}
	size_t kl = strlen(kw);
	if(n - i < kl || strncmp(s + i, kw, kl) != 0) {
		return 0;
	}
	i += kl;
	if(i < n && !is_blank(s[i])) {
		return 0;
	}
	while(i < n && is_blank(s[i])) {
		i++;
	}
	*after = i;
	return 1;
}

/* "PROGRESS 45/100 msg" or "PROGRESS 45% msg", from i (after the
 * keyword). 1 with out filled, 0 when the figures are not valid. */
static int parse_progress(const char *line, size_t len, size_t i, struct jw_progress_line *out)
{
	double a, b;
	if(read_number(line, len, &i, &a)) {
		return 0;
	}
	if(i < len && line[i] == '/') {
		i++;
		if(read_number(line, len, &i, &b) || b <= 0 || a > b) {
			return 0;
		}
		out->has_count = 1;
		out->current = a;
		out->total = b;
	} else {
		if(i < len && line[i] == '%') {
			i++;
		}
		if(a > 100) {
			return 0;
		}
		out->has_percent = 1;
		out->percent = a;
	}
	if(i < len && !is_blank(line[i])) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	copy_text(out->message, sizeof(out->message), line + i, len - i);
	return 1;
}

/* "STEP name msg", from i (after the keyword). */
static int parse_step(const char *line, size_t len, size_t i, struct jw_progress_line *out)
{
	size_t e = i;
	while(e < len && !is_blank(line[e])) {
		e++;
	}
	if(e == i) {
		return 0;
	}
	copy_text(out->step, sizeof(out->step), line + i, e - i);
	copy_text(out->message, sizeof(out->message), line + e, len - e);
	return 1;
}

/* A free-standing percentage anywhere in the line; the last one wins
 * (tqdm and curl print the overall figure last on a line). */
static int find_percent(const char *line, size_t len, struct jw_progress_line *out)
{
	int found = 0;
	for(size_t i = 0; i < len; i++) {
		if(!(line[i] >= '0' && line[i] <= '9')) {
			continue;
		}
		if(i > 0 && !strchr(" \t([|", line[i - 1])) {
			/* inside a word or number: skip to its end */
			while(i + 1 < len &&
			        ((line[i + 1] >= '0' && line[i + 1] <= '9') || line[i + 1] == '.')) {
				i++;
			}
			continue;
		}
		size_t j = i;
		double v;
		if(read_number(line, len, &j, &v) == 0 && j < len && line[j] == '%' &&
		        (j + 1 == len || strchr(" \t)]|,", line[j + 1]))) {
			if(v <= 100) {
				out->has_percent = 1;
				out->percent = v;
				found = 1;
			}
		}
		i = j > i ? j - 1 : i;
	}
	if(found) {
		copy_text(out->message, sizeof(out->message), line, len);
	}
	return found;
}

int jw_progress_line_parse(const char *line, size_t len, struct jw_progress_line *out)
{
	memset(out, 0, sizeof(*out));
	while(len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) {
		len--;
	}
	size_t i;
	if(keyword(line, len, "PROGRESS", &i)) {
		return parse_progress(line, len, i, out);
	}
	if(keyword(line, len, "STEP", &i)) {
		return parse_step(line, len, i, out);
	}
	return find_percent(line, len, out);
}
