/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The job log's on-disk readers (core/disk/kvlog.c): what jw_kvlog_read,
 * jw_kvlog_read_buf, jw_kvlog_replay, jw_kvlog_replay_buf, jw_kvlog_open
 * and jw_kvlog_compact make of a file. The first input byte picks the
 * mode:
 *
 * even: the rest is the file, byte for byte. Checked: the reader's good
 *   records and damaged stretches tile the file in order; every record it
 *   hands over is one (a plain reference check: magic, lengths, CRC32C);
 *   no record that verifies starts anywhere inside a stretch it skipped
 *   (so no good record is lost); the file and buffer readers agree; replay
 *   gives the newest value of each live key, with matching statistics and
 *   the same damage; reading from any event boundary gives the rest,
 *   reading up to one gives the start, reading in small batches resumed
 *   from the reported end gives the whole (the journal's cursor); open
 *   reports the same damage, cuts only a damaged tail, and appends after
 *   the last good record; compaction keeps exactly the live keys.
 *
 * odd: the rest is a script of writes and crashes run through the real
 *   writer (jw_kvlog_append): puts and deletions of a few keys, reopens,
 *   a crash that cuts the file anywhere, a crash during an append, a
 *   flipped byte. A model knows every record written and which of them
 *   damage has touched. Checked at every reopen and at the end: every
 *   record no damage touched is read back, at its offset, with its key
 *   and value (whatever damage lies before or after it); the damaged
 *   bytes are reported as damage; open cuts only a damaged tail; replay,
 *   the buffer readers and compaction agree as in the even mode.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvlog.h"

#define HDR 16u
#define DELETED 0xFFFFFFFFu
#define MAX_RECS 256
#define MAX_OPS 128
/* Bytes of claimed records the plain reference may checksum per input
 * while looking for a good record inside a skipped stretch. */
#define REF_BUDGET (4u << 20)

static char path[512];

/* ---- what a reader met: good records and damaged stretches, in order ---- */

struct ev {
	bool damage;
	uint64_t off, end;
	char *key;          /* records */
	unsigned char *val; /* NULL: a deletion */
	size_t len;
	uint64_t records; /* stretches */
	bool tail;
};

struct evs {
	struct ev *v;
	size_t n, cap;
	size_t stop_after; /* a callback stops the read after this many events (0: never) */
	size_t taken;      /* events taken since the read started */
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if(!p)
		abort();
	return p;
}

static struct ev *push(struct evs *s)
{
	s->v = jw_fuzz_grow(s->v, s->n, &s->cap, sizeof(*s->v));
	memset(&s->v[s->n], 0, sizeof(s->v[0]));
	return &s->v[s->n++];
}

static void evs_free(struct evs *s)
{
	for(size_t i = 0; i < s->n; i++) {
		free(s->v[i].key);
		free(s->v[i].val);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void set_rec(struct ev *e, const char *key, const void *val, size_t len)
{
	size_t klen = strlen(key);

	e->key = xmalloc(klen + 1);
	memcpy(e->key, key, klen + 1);
	e->val = NULL;
	if(val) {
		e->val = xmalloc(len);
		if(len)
			memcpy(e->val, val, len);
	}
	e->len = len;
}

static int stop_here(struct evs *s)
{
	s->taken++;
	return s->stop_after && s->taken >= s->stop_after ? 1 : 0;
}

static int read_cb(const char *key, const void *val, size_t len, uint64_t end, void *arg)
{
	struct evs *s = arg;
	struct ev *e;
	size_t klen = strlen(key);

	FUZZ_CHECK(klen > 0 && klen <= JW_KVLOG_KEY_MAX, "read a key of %zu bytes", klen);
	FUZZ_CHECK(val != NULL || len == 0, "a deletion with a length");
	FUZZ_CHECK(end >= HDR + klen + len, "a record ending at %llu", (unsigned long long)end);
	e = push(s);
	e->off = end - HDR - klen - len;
	e->end = end;
	set_rec(e, key, val, len);
	return stop_here(s);
}

static int damage_cb(const struct jw_kvlog_damage *d, void *arg)
{
	struct evs *s = arg;
	struct ev *e = push(s);

	FUZZ_CHECK(d->length > 0, "an empty damaged stretch at %llu", (unsigned long long)d->offset);
	FUZZ_CHECK(
	        d->records >= 1, "a damaged stretch with %llu records", (unsigned long long)d->records);
	e->damage = true;
	e->off = d->offset;
	e->end = d->offset + d->length;
	e->records = d->records;
	e->tail = d->tail;
	return stop_here(s);
}

/* What replay handed over: the live keys, in order. */
static int replay_cb(const char *key, const void *val, size_t len, void *arg)
{
	struct evs *s = arg;

	FUZZ_CHECK(val != NULL, "replay handed over a NULL value for %s", key);
	set_rec(push(s), key, val, len);
	return 0;
}

static bool same_rec(const struct ev *a, const struct ev *b)
{
	if(strcmp(a->key, b->key) != 0 || (a->val == NULL) != (b->val == NULL) || a->len != b->len)
		return false;
	return !a->val || a->len == 0 || memcmp(a->val, b->val, a->len) == 0;
}

static bool same_ev(const struct ev *a, const struct ev *b)
{
	if(a->damage != b->damage || a->off != b->off || a->end != b->end)
		return false;
	if(a->damage)
		return a->records == b->records && a->tail == b->tail;
	return same_rec(a, b);
}

/* b holds exactly the events a[from..from+count). */
static void check_same(
        const struct evs *a, size_t from, size_t count, const struct evs *b, const char *what)
{
	FUZZ_CHECK(
	        b->n == count && from + count <= a->n, "%s: %zu events, want %zu", what, b->n, count);
	for(size_t i = 0; i < b->n; i++)
		FUZZ_CHECK(same_ev(&a->v[from + i], &b->v[i]), "%s: event %zu differs (at %llu)", what, i,
		        (unsigned long long)b->v[i].off);
}

/* The damaged stretches of a (sharing a's memory: free only .v). */
static void damage_of(const struct evs *a, struct evs *d)
{
	for(size_t i = 0; i < a->n; i++)
		if(a->v[i].damage)
			*push(d) = a->v[i];
}

/* ---- a plain reference of a good record ---- */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The size of the record claimed at off (0 when the header is not
 * plausible or it does not fit in lim); its CRC is not checked. */
static uint64_t claimed(const unsigned char *buf, uint64_t lim, uint64_t off)
{
	uint32_t klen, vlen;
	uint64_t size;

	if(off > lim || lim - off < HDR || le32(buf + off) != 0x314B574Au)
		return 0;
	klen = le32(buf + off + 4);
	vlen = le32(buf + off + 8);
	if(klen == 0 || klen > JW_KVLOG_KEY_MAX || (vlen != DELETED && vlen > JW_KVLOG_VAL_MAX))
		return 0;
	size = HDR + (uint64_t)klen + (vlen == DELETED ? 0 : vlen);
	return size <= lim - off ? size : 0;
}

/* The size of the good record at off of buf[0..lim), or 0. */
static uint64_t ref_record(const unsigned char *buf, uint64_t lim, uint64_t off)
{
	uint64_t size = claimed(buf, lim, off);
	uint32_t klen, crc;

	if(!size)
		return 0;
	klen = le32(buf + off + 4);
	if(memchr(buf + off + HDR, '\0', klen))
		return 0;
	crc = jw_crc32c(0, buf + off, 12);
	crc = jw_crc32c(crc, buf + off + HDR, (size_t)(size - HDR));
	return crc == le32(buf + off + 12) ? size : 0;
}

/*
 * Events of buf[from..lim) (size: the whole file) as a reader must give
 * them: contiguous from from to lim, a stretch never after a stretch, the
 * tail flag exactly on a stretch reaching the end of the file, every
 * record a good one with the key and value its bytes hold, and no good
 * record starting inside a stretch (checked within *budget bytes of
 * checksumming).
 */
static void check_events(const struct evs *s, const unsigned char *buf, uint64_t from, uint64_t lim,
        uint64_t size, uint64_t *budget)
{
	uint64_t pos = from;

	for(size_t i = 0; i < s->n; i++) {
		const struct ev *e = &s->v[i];

		FUZZ_CHECK(e->off == pos && e->end > e->off && e->end <= lim,
		        "event %zu is [%llu, %llu), want it to start at %llu, end by %llu", i,
		        (unsigned long long)e->off, (unsigned long long)e->end, (unsigned long long)pos,
		        (unsigned long long)lim);
		pos = e->end;
		if(e->damage) {
			FUZZ_CHECK(i == 0 || !s->v[i - 1].damage, "two damaged stretches in a row at %llu",
			        (unsigned long long)e->off);
			FUZZ_CHECK(e->tail == (e->end >= size), "stretch [%llu, %llu) tail %d of %llu",
			        (unsigned long long)e->off, (unsigned long long)e->end, e->tail,
			        (unsigned long long)size);
			for(uint64_t p = e->off; p < e->end; p++) {
				uint64_t c = claimed(buf, lim, p);

				if(!c || c > *budget)
					continue;
				*budget -= c;
				FUZZ_CHECK(ref_record(buf, lim, p) == 0,
				        "a good record at %llu lies in the stretch [%llu, %llu) the reader skipped",
				        (unsigned long long)p, (unsigned long long)e->off,
				        (unsigned long long)e->end);
			}
		} else {
			uint64_t n = ref_record(buf, lim, e->off);
			size_t klen = strlen(e->key);

			FUZZ_CHECK(n == e->end - e->off, "the record handed over at %llu is not a good one",
			        (unsigned long long)e->off);
			FUZZ_CHECK(klen == le32(buf + e->off + 4) && !memcmp(buf + e->off + HDR, e->key, klen),
			        "the key at %llu differs", (unsigned long long)e->off);
			FUZZ_CHECK((e->val == NULL) == (le32(buf + e->off + 8) == DELETED),
			        "deletion or value at %llu mixed up", (unsigned long long)e->off);
			FUZZ_CHECK(!e->val || !e->len || !memcmp(buf + e->off + HDR + klen, e->val, e->len),
			        "the value at %llu differs", (unsigned long long)e->off);
		}
	}
	FUZZ_CHECK(pos == lim, "the events end at %llu, want %llu", (unsigned long long)pos,
	        (unsigned long long)lim);
}

/* ---- reading the file ---- */

static unsigned char *slurp(size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	struct stat st;

	FUZZ_CHECK(f && stat(path, &st) == 0, "cannot read %s back", path);
	*len = (size_t)st.st_size;
	buf = xmalloc(*len);
	FUZZ_CHECK(fread(buf, 1, *len, f) == *len, "short read of %s", path);
	fclose(f);
	return buf;
}

static uint64_t file_size(void)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Reads the file from from to limit into s (stop_after as set). */
static uint64_t read_file(struct evs *s, uint64_t from, uint64_t limit)
{
	uint64_t end = 0;
	int rc;

	s->taken = 0;
	rc = jw_kvlog_read(path, from, limit, read_cb, damage_cb, s, &end);
	FUZZ_CHECK(rc == 0 || (rc == 1 && s->stop_after), "read failed: %d (%s)", rc, strerror(errno));
	return end;
}

/* The newest record of each key, if it is not a deletion, in file order. */
static void live_of(const struct evs *all, struct evs *live)
{
	for(size_t i = 0; i < all->n; i++) {
		const struct ev *e = &all->v[i];
		bool newer = false;

		if(e->damage || !e->val)
			continue;
		for(size_t j = i + 1; j < all->n && !newer; j++)
			newer = !all->v[j].damage && strcmp(all->v[j].key, e->key) == 0;
		if(!newer) {
			struct ev *l = push(live);

			set_rec(l, e->key, e->val, e->len);
		}
	}
}

/* Replay of the file and of its bytes agrees with the events E of a
 * whole read: the same damage, then the live keys in file order. */
static void check_replay(const struct evs *E, const unsigned char *buf, size_t len)
{
	struct evs want = {0}, wdmg = {0};
	struct jw_kvlog_replay_stats st;
	uint64_t records = 0, bytes = 0, dbytes = 0, drecords = 0, torn = UINT64_MAX;
	char err[256];
	int rc;

	live_of(E, &want);
	damage_of(E, &wdmg);
	for(size_t i = 0; i < E->n; i++) {
		const struct ev *e = &E->v[i];

		if(e->damage) {
			dbytes += e->end - e->off;
			drecords += e->records;
			if(e->tail)
				torn = e->off;
		} else {
			records++;
			bytes += e->end - e->off;
		}
	}
	for(int pass = 0; pass < 2; pass++) {
		const char *what = pass ? "replay_buf" : "replay";
		struct evs got = {0}, d = {0}, l = {0};

		memset(&st, 0x5a, sizeof(st));
		if(pass)
			rc = jw_kvlog_replay_buf(buf, len, replay_cb, damage_cb, &got, &st);
		else
			rc = jw_kvlog_replay(path, replay_cb, damage_cb, &got, &st, err, sizeof(err));
		FUZZ_CHECK(rc == 0, "%s failed: %d %s", what, rc, rc < 0 && !pass ? err : "");
		for(size_t i = 0; i < got.n; i++)
			*push(got.v[i].damage ? &d : &l) = got.v[i];
		check_same(&wdmg, 0, wdmg.n, &d, what);
		FUZZ_CHECK(l.n == want.n, "%s gave %zu live keys, want %zu", what, l.n, want.n);
		for(size_t i = 0; i < l.n; i++)
			FUZZ_CHECK(same_rec(&l.v[i], &want.v[i]), "%s: live key %zu is %s, want %s", what, i,
			        l.v[i].key, want.v[i].key);
		FUZZ_CHECK(st.records == records && st.bytes == bytes && st.live == want.n,
		        "%s stats: %llu records, %llu bytes, %llu live; want %llu, %llu, %zu", what,
		        (unsigned long long)st.records, (unsigned long long)st.bytes,
		        (unsigned long long)st.live, (unsigned long long)records, (unsigned long long)bytes,
		        want.n);
		FUZZ_CHECK(st.damaged == wdmg.n && st.damaged_bytes == dbytes &&
		                   st.damaged_records == drecords && st.torn_at == torn,
		        "%s damage stats differ", what);
		free(d.v);
		free(l.v);
		evs_free(&got);
	}
	evs_free(&want);
	free(wdmg.v);
}

/*
 * The cursor views of buf (the file's bytes), whose whole read is E:
 * from an event boundary the rest, up to one the start, and in batches of
 * `batch` events, each read resumed from the end the last reported (as
 * the journal reads a segment from its checkpoint), the whole.
 */
static void check_cursors(
        const struct evs *E, const unsigned char *buf, size_t len, unsigned pick, unsigned batch)
{
	struct evs s = {0}, all = {0};
	uint64_t end, pos = 0;

	if(E->n) {
		size_t i = pick % E->n;

		end = read_file(&s, E->v[i].off, UINT64_MAX);
		check_same(E, i, E->n - i, &s, "read from an event boundary");
		evs_free(&s);
		end = read_file(&s, 0, E->v[i].end);
		FUZZ_CHECK(end == E->v[i].end, "read to %llu ended at %llu",
		        (unsigned long long)E->v[i].end, (unsigned long long)end);
		check_same(E, 0, i + 1, &s, "read up to an event boundary");
		evs_free(&s);
	}
	all.stop_after = batch;
	for(;;) {
		size_t before = all.n;
		int rc;

		all.taken = 0;
		rc = jw_kvlog_read_buf(buf, len, pos, UINT64_MAX, read_cb, damage_cb, &all, &end);
		FUZZ_CHECK(rc == 0 || rc == 1, "read_buf failed: %d", rc);
		FUZZ_CHECK(
		        end >= pos && end <= len, "a resumed read ended at %llu", (unsigned long long)end);
		if(all.n == before)
			break;
		pos = end;
	}
	check_same(E, 0, E->n, &all, "reads resumed from their end");
	evs_free(&all);
}

/* ---- mode 1: the file as given ---- */

/* Whether a plausible header in a stretch among E[0..n) claims bytes at or
 * past at, which comes after them all (their headers lie before it). */
static bool claims_past(const struct evs *E, size_t n, const unsigned char *buf, uint64_t at)
{
	for(size_t i = 0; i < n; i++) {
		const struct ev *e = &E->v[i];

		for(uint64_t p = e->off; e->damage && p < e->end && p + HDR <= at; p++) {
			uint32_t klen = le32(buf + p + 4), vlen = le32(buf + p + 8);

			if(le32(buf + p) != 0x314B574Au || klen == 0 || klen > JW_KVLOG_KEY_MAX ||
			        (vlen != DELETED && vlen > JW_KVLOG_VAL_MAX))
				continue;
			if(p + HDR + klen + (vlen == DELETED ? 0 : vlen) > at)
				return true;
		}
	}
	return false;
}

static void raw(const uint8_t *data, size_t size)
{
	struct evs E = {0}, B = {0}, D = {0}, E2 = {0}, want = {0};
	struct jw_kvlog *l;
	uint64_t end, budget = REF_BUDGET, good_end = 0, from;
	size_t keep;
	char err[256];
	int rc;

	jw_fuzz_write(path, data, size);
	end = read_file(&E, 0, UINT64_MAX);
	FUZZ_CHECK(end == size, "read ended at %llu of %zu", (unsigned long long)end, size);
	check_events(&E, data, 0, size, size, &budget);

	rc = jw_kvlog_read_buf(data, size, 0, UINT64_MAX, read_cb, damage_cb, &B, &end);
	FUZZ_CHECK(rc == 0 && end == size, "read_buf: %d, ended at %llu", rc, (unsigned long long)end);
	check_same(&E, 0, E.n, &B, "read_buf");
	evs_free(&B);

	check_replay(&E, data, size);
	check_cursors(&E, data, size, size ? data[size / 2] : 0, size ? data[size - 1] % 5 + 1 : 1);

	/* A cursor anywhere (a damaged checkpoint may name one): the same
	 * rules hold from there. */
	from = size ? (uint64_t)data[0] * 7 % size : 0;
	end = read_file(&B, from, UINT64_MAX);
	FUZZ_CHECK(end == size, "read from %llu ended at %llu", (unsigned long long)from,
	        (unsigned long long)end);
	check_events(&B, data, from, size, size, &budget);
	evs_free(&B);

	/* Open reports the same damage, cuts a damaged tail and nothing else,
	 * and appends after the last good record. */
	for(size_t i = 0; i < E.n; i++)
		if(!E.v[i].damage)
			good_end = E.v[i].end;
	rc = jw_kvlog_open(path, &l, damage_cb, &D, err, sizeof(err));
	FUZZ_CHECK(rc == 0, "open failed: %s", err);
	damage_of(&E, &want);
	check_same(&want, 0, want.n, &D, "open's damage");
	free(want.v);
	memset(&want, 0, sizeof(want));
	evs_free(&D);
	FUZZ_CHECK(jw_kvlog_size(l) == good_end && file_size() == good_end,
	        "open kept %llu bytes, want %llu", (unsigned long long)file_size(),
	        (unsigned long long)good_end);
	FUZZ_CHECK(jw_kvlog_append(l, "fuzz-appended", "v", 1) == 0, "append failed");
	jw_kvlog_close(l);
	read_file(&E2, 0, UINT64_MAX);
	keep = E.n && E.v[E.n - 1].damage ? E.n - 1 : E.n;
	/* Unless a header in a skipped stretch claims bytes the cut and the
	 * append changed (its CRC may match now: the input chose it), the
	 * file reads as before, then the new record. */
	if(!claims_past(&E, keep, data, good_end)) {
		FUZZ_CHECK(
		        E2.n == keep + 1, "after open and an append: %zu events, want %zu", E2.n, keep + 1);
		check_same(&E, 0, keep, &(struct evs){.v = E2.v, .n = keep}, "events after open");
		FUZZ_CHECK(!E2.v[keep].damage && !strcmp(E2.v[keep].key, "fuzz-appended") &&
		                   E2.v[keep].off == good_end,
		        "the appended record is not where the last good one ended");
	}

	/* Compaction reports the damage and keeps exactly the live keys. */
	{
		struct evs C = {0}, live = {0};
		struct jw_kvlog_replay_stats st;

		FUZZ_CHECK(jw_kvlog_compact(path, damage_cb, &D, &st, err, sizeof(err)) == 0,
		        "compact failed: %s", err);
		damage_of(&E2, &want);
		check_same(&want, 0, want.n, &D, "compact's damage");
		free(want.v);
		live_of(&E2, &live);
		end = read_file(&C, 0, UINT64_MAX);
		FUZZ_CHECK(end == file_size(), "compacted file read to %llu", (unsigned long long)end);
		FUZZ_CHECK(C.n == live.n, "compacted to %zu records, want %zu", C.n, live.n);
		for(size_t i = 0; i < C.n; i++)
			FUZZ_CHECK(!C.v[i].damage && same_rec(&C.v[i], &live.v[i]),
			        "compacted record %zu is not live key %s", i, live.v[i].key);
		evs_free(&C);
		evs_free(&live);
	}
	evs_free(&D);
	evs_free(&E2);
	evs_free(&E);
}

/* ---- mode 2: a script through the writer ---- */

/* A record the writer wrote; bad once damage touched it (then [off, end)
 * are just bytes that may not read as a record). */
struct mrec {
	char *key;
	unsigned char *val; /* NULL: a deletion */
	size_t len;
	uint64_t off, end;
	bool bad;
};

struct model {
	struct mrec r[MAX_RECS];
	size_t n;
};

struct script {
	const uint8_t *p;
	size_t left;
};

static unsigned byte(struct script *sc)
{
	if(!sc->left)
		return 0;
	sc->left--;
	return *sc->p++;
}

static unsigned word(struct script *sc)
{
	unsigned hi = byte(sc);

	return hi << 8 | byte(sc);
}

static uint64_t model_end(const struct model *m)
{
	return m->n ? m->r[m->n - 1].end : 0;
}

static void mrec_free(struct mrec *r)
{
	free(r->key);
	free(r->val);
	r->key = NULL;
	r->val = NULL;
}

static void model_add(struct model *m, const char *key, const void *val, size_t len, uint64_t off,
        uint64_t end, bool bad)
{
	struct mrec *r = &m->r[m->n++];

	r->key = NULL;
	r->val = NULL;
	if(key) {
		r->key = xmalloc(strlen(key) + 1);
		memcpy(r->key, key, strlen(key) + 1);
	}
	if(val) {
		r->val = xmalloc(len);
		if(len)
			memcpy(r->val, val, len);
	}
	r->len = len;
	r->off = off;
	r->end = end;
	r->bad = bad;
}

/* The file now ends at at: records past it go, one cut by it is bad.
 * With must_be_bad (open did the cutting), only bad ones may go. */
static void model_cut(struct model *m, uint64_t at, bool must_be_bad)
{
	while(m->n > 0 && m->r[m->n - 1].end > at) {
		struct mrec *r = &m->r[m->n - 1];

		FUZZ_CHECK(!must_be_bad || r->bad, "open cut the good record [%llu, %llu) at %llu",
		        (unsigned long long)r->off, (unsigned long long)r->end, (unsigned long long)at);
		if(r->off < at) {
			r->end = at;
			r->bad = true;
			break;
		}
		mrec_free(r);
		m->n--;
	}
}

/*
 * A whole read of the file (and of its bytes) against the model: events
 * tile the file, every good model record is one of them, exactly; when
 * nothing else read as a record, the damaged bytes are exactly the bad
 * records' (an intact record inside a bad one's value may read as one).
 */
static void check_model(const struct model *m, struct evs *E)
{
	uint64_t budget = REF_BUDGET, end, bad = 0, skipped = 0;
	size_t k = 0, matched = 0, records = 0;
	unsigned char *buf;
	size_t len;

	buf = slurp(&len);
	FUZZ_CHECK(len == model_end(m), "the file holds %zu bytes, the model %llu", len,
	        (unsigned long long)model_end(m));
	end = read_file(E, 0, UINT64_MAX);
	FUZZ_CHECK(end == len, "read ended at %llu of %zu", (unsigned long long)end, len);
	check_events(E, buf, 0, len, len, &budget);
	{
		struct evs B = {0};

		FUZZ_CHECK(jw_kvlog_read_buf(buf, len, 0, UINT64_MAX, read_cb, damage_cb, &B, &end) == 0,
		        "read_buf failed");
		check_same(E, 0, E->n, &B, "read_buf");
		evs_free(&B);
	}
	for(size_t i = 0; i < E->n; i++) {
		if(E->v[i].damage)
			skipped += E->v[i].end - E->v[i].off;
		else
			records++;
	}
	for(size_t i = 0; i < m->n; i++) {
		const struct mrec *r = &m->r[i];

		if(r->bad) {
			bad += r->end - r->off;
			continue;
		}
		while(k < E->n && E->v[k].off < r->off)
			k++;
		FUZZ_CHECK(k < E->n && E->v[k].off == r->off && !E->v[k].damage && E->v[k].end == r->end,
		        "the good record [%llu, %llu) of %s was not read", (unsigned long long)r->off,
		        (unsigned long long)r->end, r->key);
		FUZZ_CHECK(!strcmp(E->v[k].key, r->key) && (E->v[k].val == NULL) == (r->val == NULL) &&
		                   E->v[k].len == r->len &&
		                   (!r->val || !r->len || !memcmp(E->v[k].val, r->val, r->len)),
		        "the record at %llu read back differently", (unsigned long long)r->off);
		matched++;
	}
	if(records == matched)
		FUZZ_CHECK(skipped == bad, "%llu damaged bytes reported, the model has %llu",
		        (unsigned long long)skipped, (unsigned long long)bad);
	else
		FUZZ_CHECK(skipped <= bad, "more damage reported than there is");
	free(buf);
}

/* Closes l (if any), checks the file, reopens it: open must report the
 * damage a read sees and cut only a damaged tail. */
static struct jw_kvlog *reopen(struct jw_kvlog *l, struct model *m)
{
	struct evs E = {0}, D = {0}, want = {0};
	uint64_t good_end = 0;
	char err[256];

	jw_kvlog_close(l);
	check_model(m, &E);
	damage_of(&E, &want);
	for(size_t i = 0; i < E.n; i++)
		if(!E.v[i].damage)
			good_end = E.v[i].end;
	FUZZ_CHECK(jw_kvlog_open(path, &l, damage_cb, &D, err, sizeof(err)) == 0, "reopen failed: %s",
	        err);
	check_same(&want, 0, want.n, &D, "open's damage");
	FUZZ_CHECK(jw_kvlog_size(l) == good_end && file_size() == good_end,
	        "reopened at %llu, want the last good record's end %llu",
	        (unsigned long long)jw_kvlog_size(l), (unsigned long long)good_end);
	model_cut(m, good_end, true);
	free(want.v);
	evs_free(&D);
	evs_free(&E);
	return l;
}

static void make_key(struct script *sc, char *key)
{
	unsigned k = byte(sc);

	if(k < 240) {
		snprintf(key, JW_KVLOG_KEY_MAX + 16, "job/%u", k % 12);
	} else {
		/* Around the 512-byte limit. */
		size_t n = JW_KVLOG_KEY_MAX - 8 + (k - 240);

		memset(key, 'k', n);
		key[n] = '\0';
	}
}

/* The model record holding byte at. */
static struct mrec *model_at(struct model *m, uint64_t at)
{
	for(size_t i = 0; i < m->n; i++)
		if(m->r[i].off <= at && at < m->r[i].end)
			return &m->r[i];
	return NULL;
}

static void script(const uint8_t *data, size_t size)
{
	static unsigned char val[8192];
	struct script sc = {data, size};
	static struct model m;
	struct jw_kvlog *l;
	char key[JW_KVLOG_KEY_MAX + 16];
	char err[256];

	m.n = 0;
	unlink(path);
	FUZZ_CHECK(jw_kvlog_open(path, &l, NULL, NULL, err, sizeof(err)) == 0, "open failed: %s", err);
	for(int ops = 0; sc.left && ops < MAX_OPS && m.n < MAX_RECS - 2; ops++) {
		unsigned op = byte(&sc) % 8;

		if(op <= 3 || op == 7) {
			bool del = op == 3;
			size_t len = 0, klen;
			uint64_t start = jw_kvlog_size(l);
			int rc;

			make_key(&sc, key);
			klen = strlen(key);
			if(!del) {
				unsigned b = byte(&sc);

				len = b < 250 ? b : (size_t)(b - 249) * 1000; /* past the 4 KiB single write */
				/* Text, as every value jobwire writes is (JSON): a value
				 * could otherwise hold a whole record with a valid CRC,
				 * claiming the records after it, which a reader cannot
				 * tell from a real one once the record around it is
				 * damaged. "JWK1" in a value still happens. */
				for(size_t i = 0; i < len; i++)
					val[i] = (unsigned char)(' ' + (i < 64 ? byte(&sc) : i * 31) % 95);
			}
			rc = jw_kvlog_append(l, key, del ? NULL : val, len);
			if(klen > JW_KVLOG_KEY_MAX) {
				FUZZ_CHECK(rc == -1 && errno == EINVAL, "a %zu-byte key was appended", klen);
				FUZZ_CHECK(jw_kvlog_size(l) == start, "a refused append grew the log");
				continue;
			}
			FUZZ_CHECK(rc == 0, "append failed: %s", strerror(errno));
			FUZZ_CHECK(jw_kvlog_size(l) == start + HDR + klen + len, "append wrote %llu bytes",
			        (unsigned long long)(jw_kvlog_size(l) - start));
			FUZZ_CHECK(start == model_end(&m), "appended at %llu, the model ends at %llu",
			        (unsigned long long)start, (unsigned long long)model_end(&m));
			if(op == 7) {
				/* A crash partway through this append. */
				uint64_t keep = start + byte(&sc) % (HDR + klen + len);

				jw_kvlog_close(l);
				FUZZ_CHECK(truncate(path, (off_t)keep) == 0, "truncate: %s", strerror(errno));
				if(keep > start)
					model_add(&m, NULL, NULL, 0, start, keep, true);
				l = reopen(NULL, &m);
				continue;
			}
			model_add(&m, key, del ? NULL : val, len, start, jw_kvlog_size(l), false);
		} else if(op == 4) {
			l = reopen(l, &m);
		} else if(op == 5) {
			/* A crash that leaves the file at any length. */
			uint64_t now = jw_kvlog_size(l);
			uint64_t at = now ? word(&sc) % (now + 1) : 0;

			jw_kvlog_close(l);
			FUZZ_CHECK(truncate(path, (off_t)at) == 0, "truncate: %s", strerror(errno));
			model_cut(&m, at, false);
			l = reopen(NULL, &m);
		} else if(op == 6 && jw_kvlog_size(l) > 0) {
			/* One damaged byte in a record no damage touched yet (a
			 * second change to the same byte could undo the first). */
			uint64_t at = word(&sc) % jw_kvlog_size(l);
			unsigned char x = (unsigned char)(byte(&sc) % 255 + 1), b;
			struct mrec *r = model_at(&m, at);
			FILE *f;

			if(!r || r->bad)
				continue;
			jw_kvlog_close(l);
			f = fopen(path, "r+b");
			FUZZ_CHECK(f && fseek(f, (long)at, SEEK_SET) == 0 && fread(&b, 1, 1, f) == 1,
			        "cannot read back byte %llu", (unsigned long long)at);
			b ^= x;
			FUZZ_CHECK(fseek(f, (long)at, SEEK_SET) == 0 && fwrite(&b, 1, 1, f) == 1,
			        "cannot damage byte %llu", (unsigned long long)at);
			fclose(f);
			r->bad = true;
			l = reopen(NULL, &m);
		}
	}
	jw_kvlog_close(l);

	{
		struct evs E = {0};
		unsigned char *buf;
		size_t len;

		check_model(&m, &E);
		buf = slurp(&len);
		check_replay(&E, buf, len);
		check_cursors(&E, buf, len, size ? data[size - 1] : 0, size ? data[0] % 4 + 1 : 1);
		free(buf);

		/* Compaction keeps the live keys and nothing else. */
		{
			struct evs C = {0}, live = {0};
			struct jw_kvlog_replay_stats st;
			uint64_t end;

			FUZZ_CHECK(jw_kvlog_compact(path, NULL, NULL, &st, err, sizeof(err)) == 0,
			        "compact failed: %s", err);
			live_of(&E, &live);
			end = read_file(&C, 0, UINT64_MAX);
			FUZZ_CHECK(C.n == live.n && end == file_size(), "compacted to %zu records, want %zu",
			        C.n, live.n);
			for(size_t i = 0; i < C.n; i++)
				FUZZ_CHECK(!C.v[i].damage && same_rec(&C.v[i], &live.v[i]),
				        "compacted record %zu differs", i);
			evs_free(&C);
			evs_free(&live);
		}
		evs_free(&E);
	}
	for(size_t i = 0; i < m.n; i++)
		mrec_free(&m.r[i]);
	m.n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(!path[0])
		snprintf(path, sizeof(path), "%s/jobs.log", jw_fuzz_dir());
	if(size == 0)
		return 0;
	if(data[0] & 1)
		script(data + 1, size - 1);
	else
		raw(data + 1, size - 1);
	return 0;
}
