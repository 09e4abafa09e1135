/*
 * The job log's on-disk reader (core/kvlog.c): what jw_kvlog_replay,
 * jw_kvlog_read, jw_kvlog_open and jw_kvlog_compact make of a file. The
 * first input byte picks the mode:
 *
 * even: the rest is the file, byte for byte. Checked: replay and the
 *   queue view (read) agree on every good record and on where the file is
 *   torn; reading from any offset is safe; open cuts the torn tail, and a
 *   record appended after it is replayed.
 *
 * odd: the rest is a script of writes and crashes run through the real
 *   writer (jw_kvlog_append): puts and deletions of a few keys, reopens,
 *   a crash that cuts the file anywhere, a crash during an append, a
 *   flipped byte. A model tracks which records must survive (every record
 *   wholly before the damage; nothing after it, since open cuts there).
 *   Checked at the end: read returns exactly the model's records in order,
 *   replay exactly its live keys with their newest values, with matching
 *   statistics, and compaction keeps exactly the live keys.
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

#define MAX_RECS 256
#define MAX_OPS 128

struct rec {
	char *key;
	unsigned char *val; /* NULL: a deletion */
	size_t len;
	uint64_t off, end;
};

struct model {
	struct rec r[MAX_RECS];
	size_t n;
};

/* What a replay or read handed over. */
struct seen {
	struct rec r[MAX_RECS * 2];
	size_t n;
	bool overflow;
};

static char path[512];

static void rec_free(struct rec *r)
{
	free(r->key);
	free(r->val);
	r->key = NULL;
	r->val = NULL;
}

static void seen_free(struct seen *s)
{
	for(size_t i = 0; i < s->n; i++)
		rec_free(&s->r[i]);
	s->n = 0;
}

static int add(struct seen *s, const char *key, const void *val, size_t len, uint64_t end)
{
	struct rec *r;

	if(s->n == sizeof(s->r) / sizeof(s->r[0])) {
		s->overflow = true;
		return 1;
	}
	r = &s->r[s->n++];
	r->key = strdup(key);
	r->val = NULL;
	if(val) {
		r->val = malloc(len ? len : 1);
		if(r->val && len)
			memcpy(r->val, val, len);
	}
	if(!r->key || (val && !r->val))
		abort();
	r->len = len;
	r->end = end;
	return 0;
}

static int replay_cb(const char *key, const void *val, size_t len, void *arg)
{
	FUZZ_CHECK(val != NULL, "replay handed over a NULL value for %s", key);
	return add(arg, key, val, len, 0);
}

static int read_cb(const char *key, const void *val, size_t len, uint64_t end, void *arg)
{
	FUZZ_CHECK(key[0] != '\0' && strlen(key) <= JW_KVLOG_KEY_MAX, "read a bad key");
	FUZZ_CHECK(val != NULL || len == 0, "a deletion with a length");
	return add(arg, key, val, len, end);
}

static uint64_t file_size(void)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

static int same_val(const struct rec *a, const struct rec *b)
{
	if((a->val == NULL) != (b->val == NULL) || a->len != b->len)
		return 0;
	return !a->val || a->len == 0 || memcmp(a->val, b->val, a->len) == 0;
}

/* The newest record of each key that is not a deletion, from recs[0..n). */
static size_t live_of(const struct rec *recs, size_t n, const struct rec **out)
{
	size_t m = 0;

	for(size_t i = 0; i < n; i++) {
		bool newer = false;

		for(size_t j = i + 1; j < n && !newer; j++)
			newer = strcmp(recs[j].key, recs[i].key) == 0;
		if(!newer && recs[i].val)
			out[m++] = &recs[i];
	}
	return m;
}

/* Replay gives exactly these live records (in any order). */
static void check_replay(const struct rec *recs, size_t n, uint64_t good_end, bool torn)
{
	const struct rec *live[MAX_RECS * 2];
	struct seen s = {.n = 0, .overflow = false};
	struct jw_kvlog_replay_stats st;
	char err[256];
	size_t m = live_of(recs, n, live);
	int rc;

	memset(&st, 0x5a, sizeof(st));
	rc = jw_kvlog_replay(path, replay_cb, &s, &st, err, sizeof(err));
	FUZZ_CHECK(rc == 0 && !s.overflow, "replay failed: %d %s", rc, rc < 0 ? err : "");
	FUZZ_CHECK(s.n == m, "replay gave %zu live keys, want %zu", s.n, m);
	for(size_t i = 0; i < m; i++) {
		bool found = false;

		for(size_t j = 0; j < s.n && !found; j++) {
			if(strcmp(s.r[j].key, live[i]->key) == 0) {
				FUZZ_CHECK(same_val(&s.r[j], live[i]), "replay gave another value for %s",
				        live[i]->key);
				found = true;
			}
		}
		FUZZ_CHECK(found, "replay lost key %s", live[i]->key);
	}
	FUZZ_CHECK(st.records == n, "stats: %llu records, want %zu", (unsigned long long)st.records, n);
	FUZZ_CHECK(st.live == m, "stats: %llu live, want %zu", (unsigned long long)st.live, m);
	FUZZ_CHECK(st.bytes == good_end, "stats: %llu bytes, want %llu", (unsigned long long)st.bytes,
	        (unsigned long long)good_end);
	FUZZ_CHECK(st.torn_at == (torn ? good_end : UINT64_MAX), "stats: torn at %llu, want %s",
	        (unsigned long long)st.torn_at, torn ? "the good end" : "none");
	seen_free(&s);
}

/* ---- mode 1: the file as given ---- */

static void raw(const uint8_t *data, size_t size)
{
	struct seen s = {.n = 0, .overflow = false};
	struct jw_kvlog *l;
	uint64_t end = 0, from;
	char err[256];
	int rc;

	jw_fuzz_write(path, data, size);
	rc = jw_kvlog_read(path, 0, UINT64_MAX, read_cb, &s, &end);
	FUZZ_CHECK(rc == 0, "read failed: %d (%s)", rc, strerror(errno));
	if(s.overflow) {
		seen_free(&s);
		return;
	}
	FUZZ_CHECK(end <= size, "read ended at %llu of %zu", (unsigned long long)end, size);
	for(size_t i = 0; i < s.n; i++)
		FUZZ_CHECK(s.r[i].end <= end && (i == 0 || s.r[i].end > s.r[i - 1].end),
		        "record ends out of order");
	check_replay(s.r, s.n, end, end < size);

	/* A cursor anywhere (a checkpoint names one): no crash, nothing past
	 * the end of the file. */
	from = size ? (uint64_t)data[0] * 7 % size : 0;
	{
		struct seen s2 = {.n = 0, .overflow = false};
		uint64_t end2 = 0;

		(void)jw_kvlog_read(path, from, UINT64_MAX, read_cb, &s2, &end2);
		FUZZ_CHECK(end2 >= from && end2 <= size, "read from %llu ended at %llu",
		        (unsigned long long)from, (unsigned long long)end2);
		seen_free(&s2);
	}

	/* Open cuts the torn tail; a record appended then is the last one. */
	rc = jw_kvlog_open(path, &l, err, sizeof(err));
	FUZZ_CHECK(rc == 0, "open failed: %s", err);
	FUZZ_CHECK(jw_kvlog_size(l) == end && file_size() == end, "open kept %llu bytes, want %llu",
	        (unsigned long long)file_size(), (unsigned long long)end);
	FUZZ_CHECK(jw_kvlog_append(l, "fuzz-appended", "v", 1) == 0, "append failed");
	jw_kvlog_close(l);
	if(s.n < MAX_RECS) {
		add(&s, "fuzz-appended", "v", 1, end + 16 + 13 + 1);
		check_replay(s.r, s.n, end + 16 + 13 + 1, false);
	}
	seen_free(&s);
}

/* ---- mode 2: a script through the writer ---- */

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

static void model_cut(struct model *m, uint64_t at)
{
	while(m->n > 0 && m->r[m->n - 1].end > at)
		rec_free(&m->r[--m->n]);
}

static uint64_t model_end(const struct model *m)
{
	return m->n ? m->r[m->n - 1].end : 0;
}

static struct jw_kvlog *reopen(struct jw_kvlog *l, const struct model *m)
{
	char err[256];

	jw_kvlog_close(l);
	FUZZ_CHECK(jw_kvlog_open(path, &l, err, sizeof(err)) == 0, "reopen failed: %s", err);
	FUZZ_CHECK(jw_kvlog_size(l) == model_end(m), "reopened at %llu, want %llu",
	        (unsigned long long)jw_kvlog_size(l), (unsigned long long)model_end(m));
	return l;
}

static unsigned word(struct script *sc)
{
	unsigned hi = byte(sc);

	return hi << 8 | byte(sc);
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

static void script(const uint8_t *data, size_t size)
{
	static unsigned char val[8192];
	struct script sc = {data, size};
	struct model m;
	struct jw_kvlog *l;
	char key[JW_KVLOG_KEY_MAX + 16];
	char err[256];

	m.n = 0;
	unlink(path);
	FUZZ_CHECK(jw_kvlog_open(path, &l, err, sizeof(err)) == 0, "open failed: %s", err);
	for(int ops = 0; sc.left && ops < MAX_OPS && m.n < MAX_RECS - 1; ops++) {
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
				for(size_t i = 0; i < len; i++)
					val[i] = (unsigned char)(i < 64 ? byte(&sc) : i * 31);
			}
			rc = jw_kvlog_append(l, key, del ? NULL : val, len);
			if(klen > JW_KVLOG_KEY_MAX) {
				FUZZ_CHECK(rc == -1 && errno == EINVAL, "a %zu-byte key was appended", klen);
				FUZZ_CHECK(jw_kvlog_size(l) == start, "a refused append grew the log");
				continue;
			}
			FUZZ_CHECK(rc == 0, "append failed: %s", strerror(errno));
			FUZZ_CHECK(jw_kvlog_size(l) == start + 16 + klen + len, "append wrote %llu bytes",
			        (unsigned long long)(jw_kvlog_size(l) - start));
			if(op == 7) {
				/* A crash partway through this append. */
				uint64_t keep = start + byte(&sc) % (16 + klen + len);

				jw_kvlog_close(l);
				FUZZ_CHECK(truncate(path, (off_t)keep) == 0, "truncate: %s", strerror(errno));
				l = reopen(NULL, &m);
				continue;
			}
			{
				struct rec *r = &m.r[m.n++];

				r->key = strdup(key);
				r->val = NULL;
				if(!del) {
					r->val = malloc(len ? len : 1);
					if(r->val && len)
						memcpy(r->val, val, len);
				}
				if(!r->key || (!del && !r->val))
					abort();
				r->len = len;
				r->off = start;
				r->end = jw_kvlog_size(l);
			}
		} else if(op == 4) {
			l = reopen(l, &m);
		} else if(op == 5) {
			/* A crash that leaves the file at any length. */
			uint64_t now = jw_kvlog_size(l);
			uint64_t at = now ? word(&sc) % (now + 1) : 0;

			jw_kvlog_close(l);
			FUZZ_CHECK(truncate(path, (off_t)at) == 0, "truncate: %s", strerror(errno));
			model_cut(&m, at);
			l = reopen(NULL, &m);
		} else if(op == 6 && jw_kvlog_size(l) > 0) {
			/* One damaged byte: its record and everything after go. */
			uint64_t at = word(&sc) % jw_kvlog_size(l);
			unsigned char x = (unsigned char)(byte(&sc) % 255 + 1), b;
			FILE *f = fopen(path, "r+b");

			jw_kvlog_close(l);
			FUZZ_CHECK(f && fseek(f, (long)at, SEEK_SET) == 0 && fread(&b, 1, 1, f) == 1,
			        "cannot read back byte %llu", (unsigned long long)at);
			b ^= x;
			FUZZ_CHECK(fseek(f, (long)at, SEEK_SET) == 0 && fwrite(&b, 1, 1, f) == 1,
			        "cannot damage byte %llu", (unsigned long long)at);
			fclose(f);
			model_cut(&m, at);
			l = reopen(NULL, &m);
		}
	}
	jw_kvlog_close(l);

	/* Read: exactly the model's records, in order. */
	{
		struct seen s = {.n = 0, .overflow = false};
		uint64_t end = 0, limit;
		size_t want;

		FUZZ_CHECK(jw_kvlog_read(path, 0, UINT64_MAX, read_cb, &s, &end) == 0, "read failed");
		FUZZ_CHECK(s.n == m.n && end == model_end(&m), "read %zu records to %llu, want %zu to %llu",
		        s.n, (unsigned long long)end, m.n, (unsigned long long)model_end(&m));
		for(size_t i = 0; i < m.n; i++)
			FUZZ_CHECK(!strcmp(s.r[i].key, m.r[i].key) && same_val(&s.r[i], &m.r[i]) &&
			                   s.r[i].end == m.r[i].end,
			        "record %zu read back differently", i);
		seen_free(&s);

		/* With a limit (the journal's published write position) and
		 * from a record boundary (its cursor). */
		limit = size && model_end(&m) ? (uint64_t)data[size - 1] * 97 % (model_end(&m) + 1) : 0;
		for(want = 0; want < m.n && m.r[want].end <= limit; want++)
			;
		FUZZ_CHECK(jw_kvlog_read(path, 0, limit, read_cb, &s, &end) == 0, "read failed");
		FUZZ_CHECK(s.n == want, "read to %llu gave %zu records, want %zu",
		        (unsigned long long)limit, s.n, want);
		seen_free(&s);
		if(m.n > 1) {
			size_t from = m.n / 2;

			FUZZ_CHECK(jw_kvlog_read(path, m.r[from].off, UINT64_MAX, read_cb, &s, &end) == 0,
			        "read failed");
			FUZZ_CHECK(s.n == m.n - from, "read from record %zu gave %zu records, want %zu", from,
			        s.n, m.n - from);
			seen_free(&s);
		}
	}
	check_replay(m.r, m.n, model_end(&m), false);

	/* Compaction keeps the live keys and nothing else. */
	{
		const struct rec *live[MAX_RECS];
		struct seen s = {.n = 0, .overflow = false};
		struct jw_kvlog_replay_stats st;
		size_t nlive = live_of(m.r, m.n, live);
		uint64_t end = 0;

		FUZZ_CHECK(jw_kvlog_compact(path, &st, err, sizeof(err)) == 0, "compact failed: %s", err);
		FUZZ_CHECK(jw_kvlog_read(path, 0, UINT64_MAX, read_cb, &s, &end) == 0, "read failed");
		FUZZ_CHECK(s.n == nlive && end == file_size(), "compacted to %zu records, want %zu", s.n,
		        nlive);
		for(size_t i = 0; i < s.n; i++)
			FUZZ_CHECK(s.r[i].val != NULL, "compaction kept a deletion");
		for(size_t i = 0; i < s.n; i++)
			s.r[i].off = 0;
		check_replay(s.r, s.n, end, false);
		seen_free(&s);
	}
	for(size_t i = 0; i < m.n; i++)
		rec_free(&m.r[i]);
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
