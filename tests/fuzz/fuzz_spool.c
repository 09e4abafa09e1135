/*
 * The journal spool's reader. The journal thread reads spool segments
 * only once it is connected to PostgreSQL (plugin/journal.c, collect and
 * read_cb), so this target drives the same two pure steps directly: the
 * segment framing (jw_kvlog_read, as collect calls it) and the record
 * decoding (jw_journal_rec_decode, core/journal_rec.c). The first input
 * byte picks the mode (its value modulo 3):
 *
 * 0: the rest is one spooled record (JSON text), decoded. Checked: a
 *    refusal says why; an accepted record has the row's required columns,
 *    and its JSON columns are JSON the strict parser takes.
 * 1: the rest describes a record the broker thread could write (fields
 *    below); it is encoded with jw_journal_rec_encode and decoded again.
 *    Checked: decoding succeeds and every column says what was encoded.
 * 2: the rest is a segment file, read like collect does, every record
 *    decoded as in mode 0.
 *
 * Mode 1 input: a flags byte (bit 0 event row, 1 has started, 2 has
 * duration, 3 has progress, 4 broker generated, 5-6 retryable -1/0/1,
 * 7 no client id), six 8-byte little-endian numbers (started ms, finished
 * ms, duration and progress as double bits, seq, spooled ms), then
 * NUL-separated text: session, job, type, event, error, code, result,
 * client id, username, node. The broker only spools valid UTF-8 strings
 * and validated JSON, so inputs breaking that are skipped.
 */
#include "fuzz.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal_rec.h"
#include "json.h"
#include "kvlog.h"

static char path[512];

static void check_json_col(const char *name, const char *v)
{
	struct json_object *o = NULL;
	struct jw_json_error e;

	if(!v)
		return;
	FUZZ_CHECK(jw_json_parse(v, strlen(v), 2000, &o, &e) == 0, "column %s is not JSON: %s (%.200s)",
	        name, e.message, v);
	json_object_put(o);
}

static void check_ts_col(const char *name, const char *v)
{
	size_t n;

	if(!v)
		return;
	n = strlen(v);
	FUZZ_CHECK(n >= 24 && v[n - 1] == 'Z' && v[n - 5] == '.' && v[n - 14] == 'T',
	        "column %s is not an RFC 3339 time: %s", name, v);
}

/* times: also check the shape of the time columns (the caller knows the
 * times are ones a clock gives). */
static void check_row(const struct jw_journal_row *row, bool times)
{
	if(row->kind == JW_JOURNAL_FINISHED) {
		FUZZ_CHECK(row->ncols == JW_JOURNAL_FINISHED_COLS, "%d columns", row->ncols);
		FUZZ_CHECK(row->v[0] && row->v[1] && row->v[2] && row->v[7] && row->v[9] && row->v[14] &&
		                   row->v[15],
		        "a finished row lacks a required column");
		check_json_col("result", row->v[6]);
		check_json_col("final_event", row->v[7]);
		if(times) {
			check_ts_col("started_at", row->v[8]);
			check_ts_col("finished_at", row->v[9]);
		}
		for(int i = 10; i <= 11; i++) {
			char *end;

			if(row->v[i]) {
				double d = strtod(row->v[i], &end);

				FUZZ_CHECK(*end == '\0' && isfinite(d), "column %s is not a number: %s",
				        jw_journal_finished_columns[i], row->v[i]);
			}
		}
		FUZZ_CHECK(!row->v[5] || !strcmp(row->v[5], "true") || !strcmp(row->v[5], "false"),
		        "retryable is %s", row->v[5]);
		FUZZ_CHECK(!strcmp(row->v[14], "true") || !strcmp(row->v[14], "false"),
		        "broker_generated is %s", row->v[14]);
	} else {
		FUZZ_CHECK(row->kind == JW_JOURNAL_EVENT, "kind %d", (int)row->kind);
		FUZZ_CHECK(row->ncols == JW_JOURNAL_EVENT_COLS, "%d columns", row->ncols);
		FUZZ_CHECK(row->v[0] && row->v[1] && row->v[2] && row->v[3] && row->v[5] && row->v[8],
		        "an event row lacks a required column");
		check_json_col("event", row->v[3]);
	}
}

static void decode(const void *buf, size_t len)
{
	struct jw_journal_row row;
	char err[200];
	int rc;

	memset(err, 0, sizeof(err));
	rc = jw_journal_rec_decode(buf, len, &row, err, sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "decode returned %d", rc);
	if(rc == 0)
		check_row(&row, false);
	else
		FUZZ_CHECK(err[0] != '\0', "refused without a reason");
	jw_journal_row_cleanup(&row);
	jw_journal_row_cleanup(&row);
}

/* ---- mode 1 ---- */

struct fields {
	const uint8_t *p;
	size_t left;
};

static uint64_t u64(struct fields *f)
{
	uint64_t v = 0;

	for(int i = 0; i < 8; i++) {
		uint64_t b = f->left ? *f->p : 0;

		if(f->left) {
			f->p++;
			f->left--;
		}
		v |= b << (8 * i);
	}
	return v;
}

/* A wall-clock reading in ms, as the broker's clock gives: within about
 * 140,000 years of 1970 (decoding times beyond that is mode 0's part). */
static int64_t clock_ms(uint64_t v)
{
	return (int64_t)(v % ((uint64_t)1 << 53)) - ((int64_t)1 << 52);
}

static double dbl(struct fields *f)
{
	uint64_t bits = u64(f);
	double d;

	memcpy(&d, &bits, sizeof(d));
	return d;
}

/* The next NUL-separated text, or NULL when the input has run out. */
static char *text(struct fields *f)
{
	const uint8_t *nul;
	size_t n;
	char *s;

	if(!f->left)
		return NULL;
	nul = memchr(f->p, '\0', f->left);
	n = nul ? (size_t)(nul - f->p) : f->left;
	s = jw_fuzz_strndup(f->p, n);
	f->p += n + (nul ? 1 : 0);
	f->left -= n + (nul ? 1 : 0);
	return s;
}

static bool utf8(const char *s)
{
	size_t bad;

	return !s || jw_utf8_valid(s, strlen(s), &bad);
}

/* JSON text the broker could hold: what the strict parser accepts (an
 * object for the event). */
static bool json_ok(const char *s, bool object)
{
	struct json_object *o = NULL;
	struct jw_json_error e;
	bool ok;

	if(!s)
		return true;
	if(jw_json_parse(s, strlen(s), 32, &o, &e) != 0)
		return false;
	ok = !object || json_object_is_type(o, json_type_object);
	json_object_put(o);
	return ok;
}

/* What decoding a JSON member gives: its string value (unquote), else
 * its JSON text as json-c writes it; SQL NULL for JSON null. */
static char *expect_json(const char *json, bool unquote)
{
	struct json_object *o = NULL;
	struct jw_json_error e;
	char *out;

	if(!json)
		return NULL;
	if(jw_json_parse(json, strlen(json), 32, &o, &e) != 0)
		abort();
	if(!o)
		return NULL;
	if(unquote && json_object_is_type(o, json_type_string))
		out = strdup(json_object_get_string(o));
	else
		out = strdup(json_object_to_json_string_ext(
		        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	if(!out)
		abort();
	return out;
}

static void expect_col(const struct jw_journal_row *row, int i, const char *want)
{
	const char *name = "?";

	if(row->kind == JW_JOURNAL_FINISHED && i < JW_JOURNAL_FINISHED_COLS)
		name = jw_journal_finished_columns[i];
	else if(row->kind == JW_JOURNAL_EVENT && i < JW_JOURNAL_EVENT_COLS)
		name = jw_journal_event_columns[i];

	if(!want)
		FUZZ_CHECK(row->v[i] == NULL, "column %s is %s, want NULL", name, row->v[i]);
	else
		FUZZ_CHECK(row->v[i] && !strcmp(row->v[i], want), "column %s is %s, want %s", name,
		        row->v[i] ? row->v[i] : "NULL", want);
}

/* A number column: the same double (-0 and 0 are the same number to
 * PostgreSQL, and the spool's JSON keeps "-0" as the integer 0). */
static void expect_num(const struct jw_journal_row *row, int i, double want)
{
	char *end;
	double got;

	FUZZ_CHECK(row->v[i] != NULL, "column %s is NULL, want %.17g", jw_journal_finished_columns[i],
	        want);
	got = strtod(row->v[i], &end);
	FUZZ_CHECK(*end == '\0' && got == want, "column %s is %s, want %.17g",
	        jw_journal_finished_columns[i], row->v[i], want);
}

static void roundtrip(const uint8_t *data, size_t size)
{
	struct fields f = {data, size};
	struct jw_journal_rec r;
	struct jw_journal_row row;
	char *s[10], err[200], num[64], ts[40];
	unsigned flags = size ? data[0] : 0;
	char *enc, *want;
	size_t len = 0;
	bool ok = true;

	if(size) {
		f.p++;
		f.left--;
	}
	memset(&r, 0, sizeof(r));
	r.kind = flags & 1 ? JW_JOURNAL_EVENT : JW_JOURNAL_FINISHED;
	r.has_started = flags & 2;
	r.has_duration = flags & 4;
	r.has_progress = flags & 8;
	r.broker_generated = flags & 16;
	r.retryable = (int)(flags >> 5 & 3) % 3 - 1;
	r.started_ms = clock_ms(u64(&f));
	r.finished_ms = clock_ms(u64(&f));
	r.duration_s = dbl(&f);
	r.progress = dbl(&f);
	r.seq = u64(&f);
	r.spooled_ms = clock_ms(u64(&f));
	for(int i = 0; i < 10; i++)
		s[i] = text(&f);
	r.session = s[0] ? s[0] : "s1";
	r.job = s[1] ? s[1] : "j1";
	r.type = s[2] ? s[2] : "complete";
	r.event = s[3] ? s[3] : "{\"ts\":\"2026-01-02T03:04:05.678Z\"}";
	r.event_len = strlen(r.event);
	r.error = s[4] && s[4][0] ? s[4] : NULL;
	r.code = s[5] && s[5][0] ? s[5] : NULL;
	r.result = s[6] && s[6][0] ? s[6] : NULL;
	r.client_id = flags & 128 ? NULL : s[7] ? s[7] : "worker-1";
	r.username = s[8];
	r.node = s[9] ? s[9] : "node-1";
	for(int i = 0; i < 10; i++)
		ok = ok && utf8(s[i]);
	ok = ok && json_ok(r.event, true) && json_ok(r.error, false) && json_ok(r.code, false) &&
	     json_ok(r.result, false);
	if(!ok)
		goto out;

	enc = jw_journal_rec_encode(&r, &len);
	FUZZ_CHECK(enc != NULL, "encode failed");
	FUZZ_CHECK(strlen(enc) == len, "encoded length %zu, text %zu", len, strlen(enc));
	FUZZ_CHECK(jw_journal_rec_decode(enc, len, &row, err, sizeof(err)) == 0,
	        "the journal cannot decode what the broker spooled: %s (%.300s)", err, enc);
	check_row(&row, true);
	FUZZ_CHECK(row.kind == r.kind, "kind changed");
	FUZZ_CHECK(row.spooled_ms == r.spooled_ms, "spool time changed");
	expect_col(&row, 0, r.session);
	expect_col(&row, 1, r.job);
	expect_col(&row, 2, r.type);
	if(r.kind == JW_JOURNAL_FINISHED) {
		bool dur = r.has_duration && isfinite(r.duration_s);

		want = expect_json(r.error, true);
		expect_col(&row, 3, want);
		free(want);
		want = expect_json(r.code, true);
		expect_col(&row, 4, want);
		free(want);
		expect_col(&row, 5, r.retryable < 0 ? NULL : r.retryable ? "true" : "false");
		want = expect_json(r.result, false);
		expect_col(&row, 6, want);
		free(want);
		want = expect_json(r.event, false);
		expect_col(&row, 7, want);
		free(want);
		expect_col(
		        &row, 8, r.has_started ? jw_journal_format_ms(ts, sizeof(ts), r.started_ms) : NULL);
		expect_col(&row, 9, jw_journal_format_ms(ts, sizeof(ts), r.finished_ms));
		if(dur) {
			expect_num(&row, 10, r.duration_s);
		} else if(r.has_started && r.finished_ms >= r.started_ms) {
			/* Both are clock readings (clock_ms): no overflow. */
			expect_num(&row, 10, (double)(r.finished_ms - r.started_ms) / 1000.0);
		} else {
			expect_col(&row, 10, NULL);
		}
		if(r.has_progress && isfinite(r.progress)) {
			expect_num(&row, 11, r.progress);
		} else {
			expect_col(&row, 11, NULL);
		}
		expect_col(&row, 12, r.client_id);
		expect_col(&row, 13, r.username);
		expect_col(&row, 14, r.broker_generated ? "true" : "false");
		expect_col(&row, 15, r.node);
	} else {
		struct json_object *ev = NULL, *tsv = NULL;
		struct jw_json_error e;

		want = expect_json(r.event, false);
		expect_col(&row, 3, want);
		free(want);
		if(jw_json_parse(r.event, r.event_len, 32, &ev, &e) == 0 &&
		        json_object_object_get_ex(ev, "ts", &tsv) &&
		        json_object_is_type(tsv, json_type_string))
			expect_col(&row, 4, json_object_get_string(tsv));
		else
			expect_col(&row, 4, jw_journal_format_ms(ts, sizeof(ts), r.spooled_ms));
		json_object_put(ev);
		snprintf(num, sizeof(num), "%lld", (long long)(r.seq > INT64_MAX ? INT64_MAX : r.seq));
		expect_col(&row, 5, num);
		expect_col(&row, 6, r.client_id);
		expect_col(&row, 7, r.username);
		expect_col(&row, 8, r.node);
	}
	jw_journal_row_cleanup(&row);
	free(enc);
out:
	for(int i = 0; i < 10; i++)
		free(s[i]);
}

/* ---- mode 2 ---- */

static int read_cb(const char *key, const void *val, size_t len, uint64_t end, void *arg)
{
	(void)key;
	(void)end;
	(void)arg;
	if(val)
		decode(val, len);
	return 0;
}

static void segment(const uint8_t *data, size_t size)
{
	uint64_t end = 0;

	if(!path[0])
		snprintf(path, sizeof(path), "%s/0000000000000001.spool", jw_fuzz_dir());
	jw_fuzz_write(path, data, size);
	FUZZ_CHECK(jw_kvlog_read(path, 0, UINT64_MAX, read_cb, NULL, &end) == 0, "read failed: %s",
	        strerror(errno));
	FUZZ_CHECK(end <= size, "read past the end");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size == 0)
		return 0;
	switch(data[0] % 3) {
		case 0:
			decode(data + 1, size - 1);
			break;
		case 1:
			roundtrip(data + 1, size - 1);
			break;
		default:
			segment(data + 1, size - 1);
			break;
	}
	return 0;
}
