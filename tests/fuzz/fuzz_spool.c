/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The journal spool's readers. The journal thread reads spool segments
 * only once it is connected to PostgreSQL (plugin/journal.c, collect and
 * read_cb), so this target drives the pure steps it is made of directly:
 * the record decoding (jw_journal_rec_decode, core/disk/journal_rec.c), the
 * segment framing (jw_kvlog_read and jw_kvlog_read_buf, as collect calls
 * them), the names in the spool directory (jw_spool_classify) and the
 * checkpoint text (jw_spool_checkpoint_parse, core/disk/journal_spool.c). The
 * first input byte picks the mode (its value modulo 5):
 *
 * 0: the rest is one spooled record (JSON text), decoded. Checked: a
 *    refusal says why; an accepted record has the row's required columns,
 *    its JSON columns are JSON the strict parser takes, and its times are
 *    RFC 3339 ("2026-01-02T03:04:05.678Z", years 1 to 9999).
 * 1: the rest describes a record the broker thread could write (fields
 *    below); it is encoded with jw_journal_rec_encode and decoded again.
 *    Checked: decoding succeeds and every column says what was encoded.
 * 2: the rest is a segment file, read like collect does: in batches of a
 *    few records, each read resumed where the last one ended, up to a
 *    published write position or the end. Checked: the batches give
 *    exactly the records and damaged stretches of one whole read, which
 *    the file and buffer readers agree on, and which tile the file; every
 *    record is decoded as in mode 0.
 * 3: the rest is a directory entry name (up to a NUL). Checked: its kind
 *    and number are what a plain reference of the documented names says,
 *    and a segment's name is the one jw_spool_segment_name gives.
 * 4: the rest is a checkpoint file's text. Checked: the verdict and the
 *    numbers are what a plain reference of the documented format says,
 *    and a damaged one says why; numbers taken from the input round-trip
 *    through jw_spool_checkpoint_format.
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
#include "journal_spool.h"
#include "json.h"
#include "kvlog.h"
#include "quarantine.h"

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

/* RFC 3339 UTC with milliseconds, a year from 1 to 9999. */
static void check_ts_col(const char *name, const char *v)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	bool ok;

	if(!v)
		return;
	ok = strlen(v) == sizeof(shape) - 1 && strncmp(v, "0000", 4) != 0;
	for(size_t i = 0; ok && i < sizeof(shape) - 1; i++)
		ok = shape[i] == 'd' ? v[i] >= '0' && v[i] <= '9' : v[i] == shape[i];
	FUZZ_CHECK(ok, "column %s is not an RFC 3339 time: %s", name, v);
}

static void check_row(const struct jw_journal_row *row)
{
	if(row->kind == JW_JOURNAL_FINISHED) {
		FUZZ_CHECK(row->ncols == JW_JOURNAL_FINISHED_COLS, "%d columns", row->ncols);
		FUZZ_CHECK(row->v[0] && row->v[1] && row->v[2] && row->v[7] && row->v[9] && row->v[14] &&
		                   row->v[15],
		        "a finished row lacks a required column");
		check_json_col("result", row->v[6]);
		check_json_col("final_event", row->v[7]);
		check_ts_col("started_at", row->v[8]);
		check_ts_col("finished_at", row->v[9]);
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
	} else if(row->kind == JW_JOURNAL_STATION) {
		FUZZ_CHECK(row->ncols == JW_JOURNAL_STATION_COLS, "%d columns", row->ncols);
		FUZZ_CHECK(row->v[0] && row->v[1] && row->v[2] && row->v[3] && row->v[4] && row->v[6],
		        "a station row lacks a required column");
		FUZZ_CHECK(!strcmp(row->v[1], "online") || !strcmp(row->v[1], "offline"), "state is %s",
		        row->v[1]);
		check_json_col("status", row->v[2]);
		check_ts_col("at", row->v[3]);
		FUZZ_CHECK(!strcmp(row->v[4], "true") || !strcmp(row->v[4], "false"),
		        "broker_generated is %s", row->v[4]);
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
		check_row(&row);
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

/* A wall-clock reading in ms, as a broker's clock could give: years 1 to
 * 9999 (times beyond that are mode 0's part). */
static int64_t clock_ms(uint64_t v)
{
	const int64_t lo = -62135596800000LL, hi = 253402300799999LL;

	return lo + (int64_t)(v % (uint64_t)(hi - lo + 1));
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
	else if(row->kind == JW_JOURNAL_STATION && i < JW_JOURNAL_STATION_COLS)
		name = jw_journal_station_columns[i];

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
	check_row(&row);
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

/* A record or damaged stretch a read met. */
struct ev {
	bool damage;
	uint64_t off, end;
	uint32_t crc; /* of key and value, to compare reads */
};

struct evs {
	struct ev *v;
	size_t n, cap;
	size_t max; /* records per batch (0: no limit) */
	size_t taken;
};

static struct ev *push(struct evs *s)
{
	s->v = jw_fuzz_grow(s->v, s->n, &s->cap, sizeof(*s->v));
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	return &s->v[s->n++];
}

static int read_cb(const char *key, const void *val, size_t len, uint64_t end, void *arg)
{
	struct evs *s = arg;
	struct ev *e = push(s);
	size_t klen = strlen(key);

	FUZZ_CHECK(end >= 16 + klen + len, "a record ending at %llu", (unsigned long long)end);
	e->off = end - 16 - klen - len;
	e->end = end;
	e->crc = jw_crc32c(jw_crc32c(0, key, klen + 1), val ? val : "", val ? len : 0);
	/* As the journal thread does with each record it takes. */
	if(val)
		decode(val, len);
	s->taken++;
	return s->max && s->taken >= s->max ? 1 : 0;
}

static int damage_cb(const struct jw_kvlog_damage *d, void *arg)
{
	struct evs *s = arg;
	struct ev *e = push(s);

	FUZZ_CHECK(d->length > 0 && d->records >= 1, "an empty damaged stretch");
	e->damage = true;
	e->off = d->offset;
	e->end = d->offset + d->length;
	return 0;
}

static bool same_ev(const struct ev *a, const struct ev *b)
{
	return a->damage == b->damage && a->off == b->off && a->end == b->end && a->crc == b->crc;
}

static void check_same(const struct evs *a, size_t count, const struct evs *b, const char *what)
{
	FUZZ_CHECK(b->n == count && count <= a->n, "%s: %zu events, want %zu", what, b->n, count);
	for(size_t i = 0; i < count; i++)
		FUZZ_CHECK(same_ev(&a->v[i], &b->v[i]), "%s: event %zu differs", what, i);
}

/* Reads data[0..size) like collect: batches of max records from the
 * cursor, up to limit. */
static void read_batches(
        const uint8_t *data, size_t size, uint64_t limit, size_t max, struct evs *out)
{
	uint64_t pos = 0, end;

	out->max = max;
	for(;;) {
		size_t before = out->n;
		int rc;

		out->taken = 0;
		rc = jw_kvlog_read_buf(data, size, pos, limit, read_cb, damage_cb, out, &end);
		FUZZ_CHECK(rc == 0 || rc == 1, "read_buf failed: %d", rc);
		FUZZ_CHECK(end >= pos && end <= (limit < size ? limit : size),
		        "a batch from %llu ended at %llu", (unsigned long long)pos,
		        (unsigned long long)end);
		pos = end;
		if(out->n == before)
			break;
	}
}

static void segment(const uint8_t *data, size_t size)
{
	struct evs whole = {0}, buf = {0}, batches = {0}, part = {0};
	uint64_t end = 0, pos = 0;
	size_t k;

	if(!path[0])
		snprintf(path, sizeof(path), "%s/0000000000000001.spool", jw_fuzz_dir());
	jw_fuzz_write(path, data, size);
	FUZZ_CHECK(jw_kvlog_read(path, 0, UINT64_MAX, read_cb, damage_cb, &whole, &end) == 0,
	        "read failed: %s", strerror(errno));
	FUZZ_CHECK(end == size, "read ended at %llu of %zu", (unsigned long long)end, size);
	for(size_t i = 0; i < whole.n; i++) {
		FUZZ_CHECK(whole.v[i].off == pos && whole.v[i].end > pos, "events do not tile the segment");
		pos = whole.v[i].end;
	}
	FUZZ_CHECK(pos == size, "events end at %llu of %zu", (unsigned long long)pos, size);
	FUZZ_CHECK(jw_kvlog_read_buf(data, size, 0, UINT64_MAX, read_cb, damage_cb, &buf, &end) == 0,
	        "read_buf failed");
	check_same(&whole, whole.n, &buf, "read_buf");

	/* The journal thread's batches, to the end and to a published write
	 * position (the end of some record). */
	read_batches(data, size, UINT64_MAX, size % 7 + 1, &batches);
	check_same(&whole, whole.n, &batches, "batches");
	for(k = whole.n; k > 0 && whole.v[k - 1].damage; k--)
		;
	if(k > 0) {
		k = (size_t)(size / 3) % k; /* an event index; its end is a record's or a stretch's */
		read_batches(data, size, whole.v[k].end, size % 3 + 1, &part);
		check_same(&whole, k + 1, &part, "batches to a published position");
	}
	free(whole.v);
	free(buf.v);
	free(batches.v);
	free(part.v);
}

/* ---- mode 3 ---- */

static bool digits(const char *s, size_t n)
{
	for(size_t i = 0; i < n; i++)
		if(s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static void names(const uint8_t *data, size_t size)
{
	char *name = jw_fuzz_strndup(data, size), buf[JW_SPOOL_NAME_LEN];
	size_t n = strlen(name);
	enum jw_spool_kind want = JW_SPOOL_UNKNOWN, got;
	uint64_t wseq = 0, seq = 12345;

	if(!strcmp(name, ".") || !strcmp(name, ".."))
		want = JW_SPOOL_DOT;
	else if(!strcmp(name, "checkpoint"))
		want = JW_SPOOL_CHECKPOINT;
	else if(!strcmp(name, "checkpoint.tmp"))
		want = JW_SPOOL_CHECKPOINT_TMP;
	else if(n > 8 && !strcmp(name + n - 8, ".damaged"))
		want = JW_SPOOL_QUARANTINE;
	else if(n == 22 && digits(name, 16) && !strcmp(name + 16, ".spool")) {
		for(size_t i = 0; i < 16; i++)
			wseq = wseq * 10 + (uint64_t)(name[i] - '0');
		want = wseq > JW_SPOOL_SEQ_MAX ? JW_SPOOL_OUT_OF_RANGE : JW_SPOOL_SEGMENT;
	}
	FUZZ_CHECK(jw_quarantine_is_name(name) == (n > 8 && !strcmp(name + n - 8, ".damaged")),
	        "quarantine name %s", name);
	got = jw_spool_classify(name, &seq);
	FUZZ_CHECK(got == want, "%s is kind %d, want %d", name, (int)got, (int)want);
	if(want == JW_SPOOL_SEGMENT || want == JW_SPOOL_OUT_OF_RANGE)
		FUZZ_CHECK(seq == wseq, "%s is segment %llu", name, (unsigned long long)seq);
	if(want == JW_SPOOL_SEGMENT)
		FUZZ_CHECK(!strcmp(jw_spool_segment_name(buf, sizeof(buf), seq), name),
		        "segment %llu is named %s, not %s", (unsigned long long)seq, buf, name);
	/* Every number the journal may give a segment has a name it lists. */
	if(size >= 8) {
		uint64_t v = 0;

		for(int i = 0; i < 8; i++)
			v |= (uint64_t)data[i] << (8 * i);
		v %= JW_SPOOL_SEQ_MAX + 1;
		jw_spool_segment_name(buf, sizeof(buf), v);
		FUZZ_CHECK(jw_spool_classify(buf, &seq) == JW_SPOOL_SEGMENT && seq == v,
		        "segment %llu's name %s is not listed", (unsigned long long)v, buf);
	}
	free(name);
}

/* ---- mode 4 ---- */

/* A plain reference of the checkpoint format (core/disk/journal_spool.h). */
static enum jw_spool_cp ref_checkpoint(const char *s, size_t len, uint64_t *seq, uint64_t *off)
{
	const char *f[3];
	size_t fl[3], nf = 0, i = 0;
	uint64_t v[2] = {0, 0};

	if(len == 0 || len > 64 || s[len - 1] != '\n')
		return JW_SPOOL_CP_DAMAGED;
	/* The line without its newline, split at every space. */
	for(;;) {
		size_t start = i;

		while(i < len - 1 && s[i] != ' ')
			i++;
		if(nf == 3)
			return JW_SPOOL_CP_DAMAGED;
		f[nf] = s + start;
		fl[nf++] = i - start;
		if(i == len - 1)
			break;
		i++;
	}
	for(size_t k = 0; k < nf; k++)
		if(fl[k] == 0)
			return JW_SPOOL_CP_DAMAGED;
	if(nf < 2)
		return JW_SPOOL_CP_DAMAGED;
	for(int k = 0; k < 2; k++) {
		if(fl[k] == 0 || fl[k] > 20 || !digits(f[k], fl[k]))
			return JW_SPOOL_CP_DAMAGED;
		for(size_t j = 0; j < fl[k]; j++) {
			uint64_t d = (uint64_t)(f[k][j] - '0');

			if(v[k] > (UINT64_MAX - d) / 10)
				return JW_SPOOL_CP_DAMAGED;
			v[k] = v[k] * 10 + d;
		}
	}
	if(v[0] > JW_SPOOL_SEQ_MAX || v[1] > JW_SPOOL_OFF_MAX)
		return JW_SPOOL_CP_DAMAGED;
	if(nf == 3) {
		uint32_t want = 0;

		if(fl[2] != 8)
			return JW_SPOOL_CP_DAMAGED;
		for(int j = 0; j < 8; j++) {
			char c = f[2][j];

			if(!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
				return JW_SPOOL_CP_DAMAGED;
			want = want << 4 | (uint32_t)(c <= '9' ? c - '0' : c - 'a' + 10);
		}
		if(jw_crc32c(0, s, (size_t)(f[2] - 1 - s)) != want)
			return JW_SPOOL_CP_DAMAGED;
	}
	*seq = v[0];
	*off = v[1];
	return nf == 3 ? JW_SPOOL_CP_OK : JW_SPOOL_CP_LEGACY;
}

static void checkpoint_text(const uint8_t *data, size_t size)
{
	uint64_t seq = 1, off = 2, wseq = 3, woff = 4;
	enum jw_spool_cp got, want;
	char why[128] = "", text[64];
	size_t n;

	want = ref_checkpoint((const char *)data, size, &wseq, &woff);
	got = jw_spool_checkpoint_parse(data, size, &seq, &off, why, sizeof(why));
	FUZZ_CHECK(got == want, "checkpoint verdict %d, want %d (%s)", (int)got, (int)want, why);
	if(got == JW_SPOOL_CP_DAMAGED)
		FUZZ_CHECK(why[0] != '\0', "a damaged checkpoint without a reason");
	else
		FUZZ_CHECK(seq == wseq && off == woff, "checkpoint %llu %llu, want %llu %llu",
		        (unsigned long long)seq, (unsigned long long)off, (unsigned long long)wseq,
		        (unsigned long long)woff);

	/* Whatever the journal may write parses back to itself. */
	wseq = woff = 0;
	for(size_t i = 0; i < 8 && i < size; i++)
		wseq |= (uint64_t)data[i] << (8 * i);
	for(size_t i = 8; i < 16 && i < size; i++)
		woff |= (uint64_t)data[i] << (8 * (i - 8));
	wseq %= JW_SPOOL_SEQ_MAX + 1;
	woff %= JW_SPOOL_OFF_MAX + 1;
	n = jw_spool_checkpoint_format(text, sizeof(text), wseq, woff);
	FUZZ_CHECK(n > 0 && n == strlen(text), "checkpoint %llu %llu not formatted",
	        (unsigned long long)wseq, (unsigned long long)woff);
	FUZZ_CHECK(jw_spool_checkpoint_parse(text, n, &seq, &off, why, sizeof(why)) == JW_SPOOL_CP_OK &&
	                   seq == wseq && off == woff,
	        "the checkpoint %s does not parse back (%s)", text, why);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size == 0)
		return 0;
	switch(data[0] % 5) {
		case 0:
			decode(data + 1, size - 1);
			break;
		case 1:
			roundtrip(data + 1, size - 1);
			break;
		case 2:
			segment(data + 1, size - 1);
			break;
		case 3:
			names(data + 1, size - 1);
			break;
		default:
			checkpoint_text(data + 1, size - 1);
			break;
	}
	return 0;
}
