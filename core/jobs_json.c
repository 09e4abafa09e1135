/*
 * The job's state as JSON text (schemas/state.json), and the small text
 * tools the state and the records share: a growing buffer, shortest
 * round-trip numbers and RFC 3339 timestamps both ways. The state is built
 * by hand from the stored JSON texts, so rendering allocates one buffer
 * and never re-parses what an event carried.
 */
#include "jobs_internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ---- */

/* Room for n more bytes and the NUL; false (and b failed) otherwise. */
static bool buf_reserve(struct jw_jobs__buf *b, size_t n)
{
	if(b->failed)
		return false;
	if(b->cap - b->len <= n) {
		/* A state or record is 300-1000 bytes: one allocation, mostly. */
		size_t cap = b->cap ? b->cap : 1024;
		char *p;

		while(cap - b->len <= n)
			cap *= 2;
		p = realloc(b->p, cap);
		if(!p) {
			b->failed = true;
			return false;
		}
		b->p = p;
		b->cap = cap;
	}
	return true;
}

void jw_jobs__buf_add(struct jw_jobs__buf *b, const char *s, size_t n)
{
	if(!buf_reserve(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void jw_jobs__buf_str(struct jw_jobs__buf *b, const char *s)
{
	jw_jobs__buf_add(b, s, strlen(s));
}

void jw_jobs__buf_key(struct jw_jobs__buf *b, const char *key)
{
	/* One reservation for ,"key": (about ten keys per state or record). */
	size_t klen = strlen(key);
	bool comma = b->len > 0 && b->p && b->p[b->len - 1] != '{';
	char *w;

	if(!buf_reserve(b, klen + 4))
		return;
	w = b->p + b->len;
	if(comma)
		*w++ = ',';
	*w++ = '"';
	memcpy(w, key, klen);
	w += klen;
	*w++ = '"';
	*w++ = ':';
	*w = '\0';
	b->len = (size_t)(w - b->p);
}

void jw_jobs__buf_num(struct jw_jobs__buf *b, double v)
{
	char t[40];

	jw_jobs__fmt_num(t, sizeof(t), v);
	jw_jobs__buf_str(b, t);
}

/* Decimal digits of v, right-aligned in t[0..24); returns where they start. */
static size_t u64_digits(char t[24], uint64_t v)
{
	size_t i = 24;

	do {
		t[--i] = (char)('0' + v % 10);
		v /= 10;
	} while(v);
	return i;
}

void jw_jobs__buf_i64(struct jw_jobs__buf *b, int64_t v)
{
	char t[24];
	/* The magnitude as unsigned, so INT64_MIN has one too. */
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	size_t i = u64_digits(t, m);

	if(v < 0)
		t[--i] = '-';
	jw_jobs__buf_add(b, t + i, 24 - i);
}

void jw_jobs__buf_u64(struct jw_jobs__buf *b, uint64_t v)
{
	char t[24];
	size_t i = u64_digits(t, v);

	jw_jobs__buf_add(b, t + i, 24 - i);
}

void jw_jobs__buf_ts(struct jw_jobs__buf *b, int64_t real_ms)
{
	char t[40];
	int n = jw_jobs__format_ts(t, sizeof(t), real_ms);

	if(n < 0) {
		b->failed = true;
		return;
	}
	jw_jobs__buf_add(b, "\"", 1);
	jw_jobs__buf_add(b, t, (size_t)n);
	jw_jobs__buf_add(b, "\"", 1);
}

char *jw_jobs__buf_finish(struct jw_jobs__buf *b, size_t *len)
{
	char *p = b->p;

	if(b->failed || !p) {
		free(p);
		p = NULL;
	} else if(len) {
		*len = b->len;
	}
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

/* ---- numbers and time ---- */

/*
 * Writes the decimal digits of m (0 < m < 1e15) with a point before the
 * last d of them ("0." first when m has no more than d digits) and a
 * leading '-' when neg. Returns the length, or -1 when buflen is short.
 */
static int put_decimal(char *buf, size_t buflen, bool neg, uint64_t m, int d)
{
	char t[40];
	int n = 0, len = 0;

	do {
		t[n++] = (char)('0' + m % 10);
		m /= 10;
	} while(m);
	while(n <= d)
		t[n++] = '0';
	if((size_t)n + 3 > buflen)
		return -1;
	if(neg)
		buf[len++] = '-';
	while(n > 0) {
		buf[len++] = t[--n];
		if(n == d && d > 0)
			buf[len++] = '.';
	}
	buf[len] = '\0';
	return len;
}

/*
 * The common numbers without printf: integers below 1e15, and values with
 * a short exact decimal form such as 42.5 or 0.125. For the latter, the
 * fewest decimals d where v * 10^d rounds to an integer m that divides back
 * to v exactly: m < 2^53 and 10^d are both exact doubles, so m / 10^d is
 * the correctly rounded value of that decimal, which is what strtod reads.
 * With m < 1e15 and 1e-4 <= |v|, that decimal has at most 15 significant
 * digits and is v rounded to 15 digits, so "%.15g" prints the same text.
 * Returns the length, or -1 to leave v to the printf path.
 */
static int fmt_num_fast(char *buf, size_t buflen, double v)
{
	static const double p10[] = {
		1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
		1e13, 1e14, 1e15
	};
	bool neg = v < 0;
	double a = neg ? -v : v;

	if(a >= 1e15)
		return -1;
	if(a == floor(a))
		return put_decimal(buf, buflen, neg, (uint64_t)a, 0);
	if(a < 1e-4)
		return -1;
	for(int d = 1; d < 16; d++) {
		double t = a * p10[d], m;

		if(t >= 1e15)
			break;
		m = nearbyint(t);
		if(m >= 1 && m / p10[d] == a)
			return put_decimal(buf, buflen, neg, (uint64_t)m, d);
	}
	return -1;
}

void jw_jobs__fmt_num_exact(char *buf, size_t buflen, double v)
{
	int n;

	if(!isfinite(v) || v == 0) {
		n = snprintf(buf, buflen, "0");
	} else if(fmt_num_fast(buf, buflen, v) >= 0) {
		return;
	} else {
		n = snprintf(buf, buflen, "%.17g", v);
	}
	if(n < 0 || (size_t)n >= buflen) {
		if(buflen)
			buf[0] = '\0';
	}
}

void jw_jobs__fmt_num(char *buf, size_t buflen, double v)
{
	int n = 0;

	if(!isfinite(v) || v == 0) {
		/* Stored numbers are finite; 0 also catches -0. */
		n = snprintf(buf, buflen, "0");
	} else if((n = fmt_num_fast(buf, buflen, v)) >= 0) {
		return;
	} else {
		/* The fewest significant digits that read back as v: 0.1 stays
		 * "0.1", and records restore every double bit for bit. */
		for(int prec = 15; prec <= 17; prec++) {
			n = snprintf(buf, buflen, "%.*g", prec, v);
			if(n < 0 || (size_t)n >= buflen || strtod(buf, NULL) == v)
				break;
		}
	}
	if(n < 0 || (size_t)n >= buflen) {
		if(buflen)
			buf[0] = '\0';
	}
}

static bool digits(const char *s, size_t n, int *out)
{
	int v = 0;

	for(size_t i = 0; i < n; i++) {
		if(s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Days from 1970-01-01 to the proleptic Gregorian y-m-d (y >= 1). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t yy = m <= 2 ? y - 1 : y;
	int64_t era = yy / 400;
	int64_t yoe = yy - era * 400;
	int64_t mp = (m + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if(m == 2)
		return ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : 28;
	return days[m - 1];
}

bool jw_jobs__parse_ts(const char *s, size_t len, int64_t *real_ms)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0, ms = 0, off = 0;
	size_t p = 19;
	int64_t t;

	/* RFC 3339 section 5.6, as schema_format.c accepts it. */
	if(len < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
	        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
	        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &sec))
		return false;
	if(y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	        sec > 60)
		return false;
	if(s[p] == '.') {
		int k = 0;

		p++;
		if(p >= len || s[p] < '0' || s[p] > '9')
			return false;
		/* Milliseconds: the first three digits, the rest truncated. */
		for(; p < len && s[p] >= '0' && s[p] <= '9'; p++, k++) {
			if(k < 3)
				ms = ms * 10 + (s[p] - '0');
		}
		for(; k < 3; k++)
			ms *= 10;
	}
	if(p < len && (s[p] == 'Z' || s[p] == 'z')) {
		p++;
	} else if(p + 6 <= len && (s[p] == '+' || s[p] == '-') && digits(s + p + 1, 2, &oh) &&
	          s[p + 3] == ':' && digits(s + p + 4, 2, &om) && oh <= 23 && om <= 59) {
		off = (s[p] == '+' ? 1 : -1) * (oh * 60 + om);
		p += 6;
	} else {
		return false;
	}
	if(p != len)
		return false;
	if(sec == 60) {
		/* A leap second has no POSIX time: the last moment before it. */
		sec = 59;
		ms = 999;
	}
	t = days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + sec -
	    (int64_t)off * 60;
	t = t * 1000 + ms;
	if(t < 0 || t > JW_TS_MAX_MS)
		return false;
	*real_ms = t;
	return true;
}

int jw_jobs__format_ts(char *buf, size_t buflen, int64_t real_ms)
{
	int64_t sec, rem;

	if(real_ms < 0 || real_ms > JW_TS_MAX_MS)
		return -1;
	sec = real_ms / 1000;
	rem = real_ms % 1000;
	return jw_event_format_ts(buf, buflen, sec, (long)(rem * 1000000));
}

/* ---- state ---- */

void jw_jobs__add_text(struct jw_jobs__buf *b, const char *key, const char *text)
{
	if(!text)
		return;
	jw_jobs__buf_key(b, key);
	jw_jobs__buf_str(b, text);
}

void jw_jobs__add_num_exact(struct jw_jobs__buf *b, const char *key, double v)
{
	char t[64];

	jw_jobs__buf_key(b, key);
	jw_jobs__fmt_num_exact(t, sizeof(t), v);
	jw_jobs__buf_str(b, t);
}

void jw_jobs__add_num(struct jw_jobs__buf *b, const char *key, double v)
{
	jw_jobs__buf_key(b, key);
	jw_jobs__buf_num(b, v);
}

void jw_jobs__add_bool(struct jw_jobs__buf *b, const char *key, bool v)
{
	jw_jobs__buf_key(b, key);
	jw_jobs__buf_str(b, v ? "true" : "false");
}

static void add_ts(struct jw_jobs__buf *b, const char *key, int64_t ms)
{
	jw_jobs__buf_key(b, key);
	jw_jobs__buf_ts(b, ms);
}


/* The members the state and the record share, from name to items_failed,
 * written the same way in both. */
void jw_jobs__add_progress(struct jw_jobs__buf *b, const struct jw_job *j)
{
	unsigned f = j->flags;

	jw_jobs__add_text(b, "name", j->name);
	jw_jobs__add_text(b, "worker", j->worker);
	jw_jobs__add_text(b, "steps", j->steps);
	jw_jobs__add_num(b, "heartbeat_interval_s", j->heartbeat_interval_s);
	if(f & JW_JF_PROGRESS)
		jw_jobs__add_num(b, "progress", j->progress);
	if(f & JW_JF_CURRENT)
		jw_jobs__add_num(b, "current", j->current);
	if(f & JW_JF_TOTAL)
		jw_jobs__add_num(b, "total", j->total);
	jw_jobs__add_text(b, "step", j->step);
	jw_jobs__add_text(b, "message", j->message);
	if(f & JW_JF_ETA) {
		jw_jobs__add_num(b, "eta_s", j->eta_s);
		jw_jobs__add_bool(b, "eta_estimated", (f & JW_JF_ETA_EST) != 0);
	}
	if(f & JW_JF_ADDED)
		jw_jobs__add_num(b, "items_added", j->items_added);
	if(f & JW_JF_FAILED_ITEMS)
		jw_jobs__add_num(b, "items_failed", j->items_failed);
}

/* "key":"id" for an id, which never needs escaping ([A-Za-z0-9._-]). */
static void add_id(struct jw_jobs__buf *b, const char *key, const char *id)
{
	jw_jobs__buf_key(b, key);
	jw_jobs__buf_add(b, "\"", 1);
	jw_jobs__buf_str(b, id);
	jw_jobs__buf_add(b, "\"", 1);
}

char *jw_job_state_json(const struct jw_job *j, size_t *len)
{
	struct jw_jobs__buf b = {0};
	const struct jw_job_end *e = j->end;
	const struct jw_job_review *r = j->review;
	unsigned f = j->flags;

	jw_jobs__buf_str(&b, "{\"type\":\"state\"");
	add_id(&b, "session_id", jw_job_session(j));
	add_id(&b, "job_id", jw_job_id(j));
	add_id(&b, "status", jw_job_status_name((enum jw_job_status)j->status));
	jw_jobs__buf_key(&b, "seq");
	jw_jobs__buf_u64(&b, j->seq);
	jw_jobs__add_progress(&b, j);
	add_ts(&b, "first_seen_at", j->first_seen_ms);
	if(f & JW_JF_STARTED)
		add_ts(&b, "started_at", j->started_ms);
	add_ts(&b, "updated_at", j->updated_ms);
	add_ts(&b, "last_heartbeat_at", j->heartbeat_ms);
	if(e) {
		add_ts(&b, "finished_at", e->finished_ms);
		if(e->flags & JW_EF_DURATION)
			jw_jobs__add_num(&b, "duration_s", e->duration_s);
		jw_jobs__add_text(&b, "result", e->result);
		jw_jobs__add_text(&b, "error", e->error);
		jw_jobs__add_text(&b, "code", e->code);
		if(e->flags & JW_EF_HAS_RETRYABLE)
			jw_jobs__add_bool(&b, "retryable", (e->flags & JW_EF_RETRYABLE) != 0);
		jw_jobs__add_text(&b, "details", e->details);
		if(e->flags & JW_EF_HAS_BROKER_GEN)
			jw_jobs__add_bool(&b, "broker_generated", (e->flags & JW_EF_BROKER_GEN) != 0);
	}
	if(r) {
		jw_jobs__buf_key(&b, "validation");
		jw_jobs__buf_add(&b, "{", 1);
		jw_jobs__add_text(&b, "reason", r->reason);
		jw_jobs__add_num(&b, "confidence", r->confidence);
		if(r->has_threshold)
			jw_jobs__add_num(&b, "threshold", r->threshold);
		jw_jobs__add_text(&b, "item", r->item);
		jw_jobs__add_text(&b, "actions", r->actions);
		jw_jobs__buf_add(&b, "}", 1);
	}
	if(f & JW_JF_CANCEL) {
		jw_jobs__add_bool(&b, "cancel_requested", true);
		add_ts(&b, "cancel_requested_at", j->cancel_ms);
	}
	jw_jobs__buf_add(&b, "}", 1);
	return jw_jobs__buf_finish(&b, len);
}
