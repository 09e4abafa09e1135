/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Journal records (journal_rec.h): encode on the broker thread, decode on
 * the journal thread. The spool form, one JSON object:
 *
 *   {"k":"f"|"e", "s":session, "j":job, "t":type, "ev":<event>,
 *    "err":<json>, "code":<json>, "res":<json>, "rt":bool,
 *    "st":ms, "fin":ms, "dur":s, "prog":pct, "cid":str, "user":str,
 *    "bg":bool, "node":str, "seq":n, "at":ms, "att":n}
 *
 * A review ("k":"r", "t":"control", "ev": the review control) adds
 * "rsn":<json>, "conf":n, "thr":n, "item":<json>, "ch":<json>,
 * "cm":<json>, "by":str, "ask":ms, "ans":ms. A station's change ("k":"st",
 * "s": the station, "j": "online" or "offline", "ev": its status, "at":
 * the time of the change) adds "bg":bool.
 *
 * Absent members are SQL NULL, but for "att" (the attempt of a finished
 * job or of the job a review answered, written from 2 on): absent means 1, so the records spooled
 * before retries existed, and every first attempt's, read as they always did. Member names are
 * short because the spool holds one record per finished job until PostgreSQL has it.
 */
#include "journal_rec.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util/buf.h"
#include "util/rfc3339.h"

/* Deep enough for any event the broker accepts (plugin_opt_max_depth is
 * at most 1000) plus the record around it. */
#define DECODE_MAX_DEPTH 1010

const char *const jw_journal_finished_columns[JW_JOURNAL_FINISHED_COLS] = {
        "session_id",
        "job_id",
        "status",
        "error",
        "code",
        "retryable",
        "result",
        "final_event",
        "started_at",
        "finished_at",
        "duration_s",
        "final_progress",
        "client_id",
        "username",
        "broker_generated",
        "node",
        "attempt",
};

const char *const jw_journal_event_columns[JW_JOURNAL_EVENT_COLS] = {
        "session_id",
        "job_id",
        "type",
        "event",
        "event_ts",
        "seq",
        "client_id",
        "username",
        "node",
};

const char *const jw_journal_review_columns[JW_JOURNAL_REVIEW_COLS] = {
        "session_id",
        "job_id",
        "reason",
        "confidence",
        "threshold",
        "item",
        "choice",
        "comment",
        "answered_by",
        "asked_at",
        "answered_at",
        "client_id",
        "username",
        "node",
        "control",
        "attempt",
};

const char *const jw_journal_station_columns[JW_JOURNAL_STATION_COLS] = {
        "station",
        "state",
        "status",
        "at",
        "broker_generated",
        "client_id",
        "node",
};

/* ---- encoding ---- */

/* A JSON string: quotes, backslashes and control characters escaped; other
 * bytes copied (the broker's strings are UTF-8 already). */
static void add_str(struct jw_buf *b, const char *s)
{
	const char *run = s;

	jw_buf_add(b, "\"", 1);
	for(; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];

		if(c >= 0x20 && c != '"' && c != '\\') {
			continue;
		}
		jw_buf_add(b, run, (size_t)(s - run));
		if(c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			jw_buf_add(b, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			jw_buf_add(b, esc, 6);
		}
		run = s + 1;
	}
	jw_buf_add(b, run, (size_t)(s - run));
	jw_buf_add(b, "\"", 1);
}

static void member(struct jw_buf *b, const char *key)
{
	jw_buf_add(b, ",\"", 2);
	jw_buf_add_str(b, key);
	jw_buf_add(b, "\":", 2);
}

static void member_str(struct jw_buf *b, const char *key, const char *v)
{
	if(v) {
		member(b, key);
		add_str(b, v);
	}
}

static void member_raw(struct jw_buf *b, const char *key, const char *json, size_t n)
{
	if(json) {
		member(b, key);
		jw_buf_add(b, json, n);
	}
}

static void member_i64(struct jw_buf *b, const char *key, int64_t v)
{
	char num[32];

	member(b, key);
	snprintf(num, sizeof(num), "%lld", (long long)v);
	jw_buf_add_str(b, num);
}

static void member_num(struct jw_buf *b, const char *key, double v)
{
	char num[40];

	if(!isfinite(v)) {
		return;
	}
	member(b, key);
	snprintf(num, sizeof(num), "%.17g", v);
	jw_buf_add_str(b, num);
}

char *jw_journal_rec_encode(const struct jw_journal_rec *r, size_t *len)
{
	struct jw_buf b;

	if(!r || !r->session || !r->job || !r->type || !r->event || !r->node ||
	        (r->kind == JW_JOURNAL_REVIEW && (!r->reason || !r->choice))) {
		return NULL;
	}
	jw_buf_init(&b, JW_BUF_UNLIMITED);
	(void)jw_buf_reserve(&b, 255);
	jw_buf_add_str(&b, r->kind == JW_JOURNAL_FINISHED  ? "{\"k\":\"f\""
	                   : r->kind == JW_JOURNAL_REVIEW  ? "{\"k\":\"r\""
	                   : r->kind == JW_JOURNAL_STATION ? "{\"k\":\"st\""
	                                                   : "{\"k\":\"e\"");
	member_str(&b, "s", r->session);
	member_str(&b, "j", r->job);
	member_str(&b, "t", r->type);
	member_raw(&b, "ev", r->event, r->event_len);
	if(r->kind == JW_JOURNAL_FINISHED) {
		member_raw(&b, "err", r->error, r->error ? strlen(r->error) : 0);
		member_raw(&b, "code", r->code, r->code ? strlen(r->code) : 0);
		member_raw(&b, "res", r->result, r->result ? strlen(r->result) : 0);
		if(r->retryable >= 0) {
			member(&b, "rt");
			jw_buf_add_str(&b, r->retryable ? "true" : "false");
		}
		if(r->has_started) {
			member_i64(&b, "st", r->started_ms);
		}
		member_i64(&b, "fin", r->finished_ms);
		if(r->has_duration) {
			member_num(&b, "dur", r->duration_s);
		}
		if(r->has_progress) {
			member_num(&b, "prog", r->progress);
		}
		member(&b, "bg");
		jw_buf_add_str(&b, r->broker_generated ? "true" : "false");
	}
	if(r->kind == JW_JOURNAL_REVIEW) {
		member_raw(&b, "rsn", r->reason, strlen(r->reason));
		member_num(&b, "conf", r->confidence);
		if(r->has_threshold) {
			member_num(&b, "thr", r->threshold);
		}
		member_raw(&b, "item", r->item, r->item ? strlen(r->item) : 0);
		member_raw(&b, "ch", r->choice, strlen(r->choice));
		member_raw(&b, "cm", r->comment, r->comment ? strlen(r->comment) : 0);
		member_str(&b, "by", r->by);
		member_i64(&b, "ask", r->asked_ms);
		member_i64(&b, "ans", r->answered_ms);
	}
	if(r->kind == JW_JOURNAL_STATION) {
		member(&b, "bg");
		jw_buf_add_str(&b, r->broker_generated ? "true" : "false");
	}
	member_str(&b, "cid", r->client_id);
	member_str(&b, "user", r->username);
	member_str(&b, "node", r->node);
	member_i64(&b, "seq", (int64_t)(r->seq > INT64_MAX ? INT64_MAX : r->seq));
	member_i64(&b, "at", r->spooled_ms);
	if((r->kind == JW_JOURNAL_FINISHED || r->kind == JW_JOURNAL_REVIEW) && r->attempt > 1) {
		member_i64(&b, "att", (int64_t)r->attempt);
	}
	jw_buf_add(&b, "}", 1);
	/* Built whole and checked once: the buffer keeps a failed append. */
	return jw_buf_take(&b, len);
}

/* ---- decoding ---- */

char *jw_journal_format_ms(char *buf, size_t buflen, int64_t ms)
{
	if(ms < JW_JOURNAL_TIME_MIN_MS) {
		ms = JW_JOURNAL_TIME_MIN_MS;
	} else if(ms > JW_JOURNAL_TIME_MAX_MS) {
		ms = JW_JOURNAL_TIME_MAX_MS;
	}
	/* Within those bounds every year has four digits. */
	if(jw_rfc3339_format_ms(buf, buflen, ms) < 0)
		snprintf(buf, buflen, "1970-01-01T00:00:00.000Z");
	return buf;
}

static void set_err(char *err, size_t errlen, const char *msg, const char *what)
{
	if(err && errlen) {
		snprintf(err, errlen, "%s%s%s", msg, what ? " " : "", what ? what : "");
	}
}

static struct json_object *get(struct json_object *o, const char *key, enum json_type type)
{
	struct json_object *m = NULL;

	if(!json_object_object_get_ex(o, key, &m) || !m || !json_object_is_type(m, type)) {
		return NULL;
	}
	return m;
}

/* Sets *dst to a copy of s (NULL stays NULL). Returns -1 out of memory. */
static int dup_to(char **dst, const char *s)
{
	if(!s) {
		*dst = NULL;
		return 0;
	}
	*dst = strdup(s);
	return *dst ? 0 : -1;
}

static int dup_str_member(char **dst, struct json_object *o, const char *key)
{
	struct json_object *m = get(o, key, json_type_string);

	return dup_to(dst, m ? json_object_get_string(m) : NULL);
}

/* A JSON member as JSON text; a JSON string member as its value when
 * unquote is set. */
static int dup_json_member(char **dst, struct json_object *o, const char *key, bool unquote)
{
	struct json_object *m = NULL;

	*dst = NULL;
	if(!json_object_object_get_ex(o, key, &m) || !m) {
		return 0;
	}
	if(unquote && json_object_is_type(m, json_type_string)) {
		return dup_to(dst, json_object_get_string(m));
	}
	return dup_to(dst, json_object_to_json_string_ext(
	                           m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static bool get_i64(struct json_object *o, const char *key, int64_t *out)
{
	struct json_object *m = get(o, key, json_type_int);

	if(!m) {
		return false;
	}
	*out = json_object_get_int64(m);
	return true;
}

static bool get_num(struct json_object *o, const char *key, double *out)
{
	struct json_object *m = NULL;

	if(!json_object_object_get_ex(o, key, &m) || !m ||
	        !(json_object_is_type(m, json_type_double) || json_object_is_type(m, json_type_int))) {
		return false;
	}
	*out = json_object_get_double(m);
	return isfinite(*out);
}

/* Whether the time member key, if present, is one a record may hold. */
static bool time_ok(struct json_object *o, const char *key)
{
	int64_t ms;

	return !get_i64(o, key, &ms) || (ms >= JW_JOURNAL_TIME_MIN_MS && ms <= JW_JOURNAL_TIME_MAX_MS);
}

static int dup_ts(char **dst, struct json_object *o, const char *key)
{
	char ts[40];
	int64_t ms;

	*dst = NULL;
	if(!get_i64(o, key, &ms)) {
		return 0;
	}
	return dup_to(dst, jw_journal_format_ms(ts, sizeof(ts), ms));
}

static int dup_num(char **dst, double v)
{
	char num[40];

	snprintf(num, sizeof(num), "%.17g", v);
	return dup_to(dst, num);
}

static int dup_bool(char **dst, struct json_object *o, const char *key)
{
	struct json_object *m = get(o, key, json_type_boolean);

	*dst = NULL;
	return m ? dup_to(dst, json_object_get_boolean(m) ? "true" : "false") : 0;
}

/* The columns of a finished-job record ("k":"f"). Returns -1 (err set)
 * or the out-of-memory flag. */
static int decode_finished(
        struct json_object *o, struct jw_journal_row *row, char *err, size_t errlen)
{
	int64_t st = 0, fin = 0, att = 1;
	double dur = 0, prog = 0;
	bool has_st = get_i64(o, "st", &st);
	int oom = 0;

	if(!get_i64(o, "fin", &fin)) {
		set_err(err, errlen, "finished record lacks fin", NULL);
		return -1;
	}
	row->kind = JW_JOURNAL_FINISHED;
	row->ncols = JW_JOURNAL_FINISHED_COLS;
	oom |= dup_str_member(&row->v[0], o, "s");
	oom |= dup_str_member(&row->v[1], o, "j");
	oom |= dup_str_member(&row->v[2], o, "t");
	oom |= dup_json_member(&row->v[3], o, "err", true);
	oom |= dup_json_member(&row->v[4], o, "code", true);
	oom |= dup_bool(&row->v[5], o, "rt");
	oom |= dup_json_member(&row->v[6], o, "res", false);
	oom |= dup_json_member(&row->v[7], o, "ev", false);
	oom |= dup_ts(&row->v[8], o, "st");
	oom |= dup_ts(&row->v[9], o, "fin");
	if(get_num(o, "dur", &dur)) {
		oom |= dup_num(&row->v[10], dur);
	} else if(has_st && fin >= st) {
		oom |= dup_num(&row->v[10], (double)(fin - st) / 1000.0);
	}
	if(get_num(o, "prog", &prog)) {
		oom |= dup_num(&row->v[11], prog);
	}
	oom |= dup_str_member(&row->v[12], o, "cid");
	oom |= dup_str_member(&row->v[13], o, "user");
	oom |= dup_bool(&row->v[14], o, "bg");
	if(!row->v[14]) {
		oom |= dup_to(&row->v[14], "false");
	}
	oom |= dup_str_member(&row->v[15], o, "node");
	if(!get_i64(o, "att", &att) || att < 1 || att > 65535) {
		att = 1;
	}
	oom |= dup_num(&row->v[16], (double)att);
	return oom;
}

/* The columns of an event record ("k":"e"), ev its event. Returns the
 * out-of-memory flag. */
static int decode_event(struct json_object *o, struct json_object *ev, struct jw_journal_row *row)
{
	struct json_object *ts = get(ev, "ts", json_type_string);
	int64_t seq = 0;
	char num[32];
	int oom = 0;

	row->kind = JW_JOURNAL_EVENT;
	row->ncols = JW_JOURNAL_EVENT_COLS;
	oom |= dup_str_member(&row->v[0], o, "s");
	oom |= dup_str_member(&row->v[1], o, "j");
	oom |= dup_str_member(&row->v[2], o, "t");
	oom |= dup_json_member(&row->v[3], o, "ev", false);
	if(ts) {
		oom |= dup_to(&row->v[4], json_object_get_string(ts));
	} else {
		oom |= dup_ts(&row->v[4], o, "at");
	}
	get_i64(o, "seq", &seq);
	snprintf(num, sizeof(num), "%lld", (long long)seq);
	oom |= dup_to(&row->v[5], num);
	oom |= dup_str_member(&row->v[6], o, "cid");
	oom |= dup_str_member(&row->v[7], o, "user");
	oom |= dup_str_member(&row->v[8], o, "node");
	return oom;
}

/* The columns of a review record ("k":"r"). Returns -1 (err set) or the
 * out-of-memory flag. */
static int decode_review(
        struct json_object *o, struct jw_journal_row *row, char *err, size_t errlen)
{
	double conf = 0, thr = 0;
	int64_t ms, att;
	int oom = 0;

	if(!get(o, "rsn", json_type_string) || !get(o, "ch", json_type_string) ||
	        !get_num(o, "conf", &conf) || !get_i64(o, "ask", &ms) || !get_i64(o, "ans", &ms)) {
		set_err(err, errlen, "review record lacks rsn, conf, ch, ask or ans", NULL);
		return -1;
	}
	row->kind = JW_JOURNAL_REVIEW;
	row->ncols = JW_JOURNAL_REVIEW_COLS;
	oom |= dup_str_member(&row->v[0], o, "s");
	oom |= dup_str_member(&row->v[1], o, "j");
	oom |= dup_json_member(&row->v[2], o, "rsn", true);
	oom |= dup_num(&row->v[3], conf);
	if(get_num(o, "thr", &thr)) {
		oom |= dup_num(&row->v[4], thr);
	}
	oom |= dup_json_member(&row->v[5], o, "item", false);
	oom |= dup_json_member(&row->v[6], o, "ch", true);
	oom |= dup_json_member(&row->v[7], o, "cm", true);
	oom |= dup_str_member(&row->v[8], o, "by");
	oom |= dup_ts(&row->v[9], o, "ask");
	oom |= dup_ts(&row->v[10], o, "ans");
	oom |= dup_str_member(&row->v[11], o, "cid");
	oom |= dup_str_member(&row->v[12], o, "user");
	oom |= dup_str_member(&row->v[13], o, "node");
	oom |= dup_json_member(&row->v[14], o, "ev", false);
	if(!get_i64(o, "att", &att) || att < 1 || att > 65535) {
		att = 1;
	}
	oom |= dup_num(&row->v[15], (double)att);
	return oom;
}

/* The columns of a station record ("k":"st"). Returns the out-of-memory
 * flag, or -1 (err filled) when its state is neither online nor offline. */
static int decode_station(
        struct json_object *o, struct jw_journal_row *row, char *err, size_t errlen)
{
	const char *state = json_object_get_string(get(o, "j", json_type_string));
	int oom = 0;

	if(strcmp(state, "online") != 0 && strcmp(state, "offline") != 0) {
		set_err(err, errlen, "station record state must be online or offline", NULL);
		return -1;
	}
	row->kind = JW_JOURNAL_STATION;
	row->ncols = JW_JOURNAL_STATION_COLS;
	oom |= dup_str_member(&row->v[0], o, "s");
	oom |= dup_to(&row->v[1], state);
	oom |= dup_json_member(&row->v[2], o, "ev", false);
	oom |= dup_ts(&row->v[3], o, "at");
	if(!oom && !row->v[3]) {
		set_err(err, errlen, "station record lacks at", NULL);
		return -1;
	}
	oom |= dup_bool(&row->v[4], o, "bg");
	if(!row->v[4]) {
		oom |= dup_to(&row->v[4], "false");
	}
	oom |= dup_str_member(&row->v[5], o, "cid");
	oom |= dup_str_member(&row->v[6], o, "node");
	return oom;
}

/* Whether every time member is one a clock gives. A time no clock gives
 * (the difference of two such overflows) is damage the CRC did not
 * catch, or a forgery: the record is refused, like any other that cannot
 * be decoded. */
static bool times_ok(struct json_object *o, char *err, size_t errlen)
{
	static const char *const times[] = {"st", "fin", "at", "ask", "ans"};

	for(size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		if(!time_ok(o, times[i])) {
			set_err(err, errlen, "record time out of range (years 1 to 9999):", times[i]);
			return false;
		}
	}
	return true;
}

int jw_journal_rec_decode(
        const void *buf, size_t len, struct jw_journal_row *row, char *err, size_t errlen)
{
	struct json_object *o = NULL, *k, *ev;
	struct jw_json_error jerr = {0};
	const char *kind;
	int64_t at = 0;
	int rc = -1, oom;

	memset(row, 0, sizeof(*row));
	if(jw_json_parse(buf, len, DECODE_MAX_DEPTH, &o, &jerr) != 0 || !o ||
	        !json_object_is_type(o, json_type_object)) {
		set_err(err, errlen, "record is not a JSON object:", jerr.message);
		goto out;
	}
	k = get(o, "k", json_type_string);
	kind = k ? json_object_get_string(k) : "";
	ev = get(o, "ev", json_type_object);
	if(!get(o, "s", json_type_string) || !get(o, "j", json_type_string) ||
	        !get(o, "t", json_type_string) || !ev || !get(o, "node", json_type_string)) {
		set_err(err, errlen, "record lacks s, j, t, ev or node", NULL);
		goto out;
	}
	if(!times_ok(o, err, errlen)) {
		goto out;
	}
	row->spooled_ms = get_i64(o, "at", &at) ? at : 0;
	if(!strcmp(kind, "f")) {
		oom = decode_finished(o, row, err, errlen);
		if(oom < 0) {
			goto out;
		}
	} else if(!strcmp(kind, "e")) {
		oom = decode_event(o, ev, row);
	} else if(!strcmp(kind, "r")) {
		oom = decode_review(o, row, err, errlen);
		if(oom < 0) {
			goto out;
		}
	} else if(!strcmp(kind, "st")) {
		oom = decode_station(o, row, err, errlen);
		if(oom < 0) {
			goto out;
		}
	} else {
		set_err(err, errlen, "record kind must be f, e, r or st", NULL);
		goto out;
	}
	if(oom) {
		set_err(err, errlen, "out of memory", NULL);
		goto out;
	}
	rc = 0;
out:
	json_object_put(o);
	return rc;
}

void jw_journal_row_cleanup(struct jw_journal_row *row)
{
	for(int i = 0; i < JW_JOURNAL_MAX_COLS; i++) {
		free(row->v[i]);
		row->v[i] = NULL;
	}
	row->ncols = 0;
}
