/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the on-disk key/value log keeps exactly the newest value of every
 * live key across reopen and compaction, and that a record torn at any byte
 * or corrupted anywhere is detected: replay keeps everything before it and
 * open cuts it off so appending continues cleanly. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kvlog.h"
#include "quarantine.h"
#include "seen.h"
#include "testutil.h"
#include "util_check.h"

/* ---- helpers ---- */

struct tdir {
	char dir[64];
	char path[128]; /* dir/jobs.log */
	char tmp[136];  /* dir/jobs.log.tmp */
};

static void tdir_init(struct tdir *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/jw-kvlog-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/jobs.log", t->dir);
	snprintf(t->tmp, sizeof(t->tmp), "%s/jobs.log.tmp", t->dir);
}

static void tdir_cleanup(struct tdir *t)
{
	unlink(t->path);
	unlink(t->tmp);
	ck_assert_int_eq(rmdir(t->dir), 0);
}

static off_t file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

static void replay_into(const char *path, struct seen *s, struct jw_kvlog_replay_stats *st)
{
	char err[256] = "";

	memset(s, 0, sizeof(*s));
	ck_assert_msg(jw_kvlog_replay(path, seen_cb, NULL, s, st, err, sizeof(err)) == 0, "%s", err);
}

static struct jw_kvlog *open_ok(const char *path)
{
	struct jw_kvlog *l = NULL;
	char err[256] = "";

	ck_assert_msg(jw_kvlog_open(path, &l, NULL, NULL, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(l);
	return l;
}

static void put_s(struct jw_kvlog *l, const char *key, const char *val)
{
	ck_assert_int_eq(jw_kvlog_append(l, key, val, strlen(val)), 0);
}

/* Bit-at-a-time CRC32C, independent of the table in kvlog.c. */
static uint32_t crc32c_bitwise(uint32_t crc, const unsigned char *p, size_t n)
{
	crc = ~crc;
	while(n--) {
		crc ^= *p++;
		for(int k = 0; k < 8; k++) {
			crc = (crc & 1u) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
		}
	}
	return ~crc;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- format ---- */

START_TEST(test_record_layout)
{
	struct tdir t;
	struct jw_kvlog *l;
	unsigned char *buf;
	size_t len;
	const char *check = "123456789";

	ck_assert_uint_eq(crc32c_bitwise(0, (const unsigned char *)check, 9), 0xE3069283u);
	tdir_init(&t);
	l = open_ok(t.path);
	put_s(l, "job/1", "hello");
	ck_assert_int_eq(jw_kvlog_append(l, "job/2", NULL, 99), 0); /* deletion */
	ck_assert_uint_eq(jw_kvlog_size(l), (16 + 5 + 5) + (16 + 5));
	ck_assert_int_eq(jw_kvlog_sync(l), 0);
	jw_kvlog_close(l);

	buf = slurp(t.path, &len);
	ck_assert_uint_eq(len, 47);
	ck_assert(memcmp(buf, "JWK1", 4) == 0);
	ck_assert_uint_eq(le32(buf + 4), 5);
	ck_assert_uint_eq(le32(buf + 8), 5);
	{
		uint32_t crc = crc32c_bitwise(0, buf, 12);
		crc = crc32c_bitwise(crc, buf + 16, 10);
		ck_assert_uint_eq(le32(buf + 12), crc);
	}
	ck_assert(memcmp(buf + 16, "job/1hello", 10) == 0);
	ck_assert(memcmp(buf + 26, "JWK1", 4) == 0);
	ck_assert_uint_eq(le32(buf + 30), 5);
	ck_assert_uint_eq(le32(buf + 34), 0xFFFFFFFFu);
	ck_assert_uint_eq(le32(buf + 38), crc32c_bitwise(crc32c_bitwise(0, buf + 26, 12), buf + 42, 5));
	free(buf);
	tdir_cleanup(&t);
}
END_TEST

/* ---- append, replay, delete, overwrite ---- */

START_TEST(test_append_replay)
{
	struct tdir t;
	struct jw_kvlog *l;
	struct seen s;
	struct jw_kvlog_replay_stats st;
	unsigned char *big;
	size_t biglen = 200000; /* crosses the 64 KiB read buffer */

	tdir_init(&t);
	l = open_ok(t.path);
	ck_assert_uint_eq(jw_kvlog_size(l), 0);
	put_s(l, "a", "1");
	put_s(l, "b", "2");
	put_s(l, "c", "3");
	put_s(l, "b", "22");
	ck_assert_int_eq(jw_kvlog_append(l, "c", NULL, 0), 0);
	ck_assert_int_eq(jw_kvlog_append(l, "d", NULL, 0), 0); /* never existed */
	put_s(l, "e", "");
	big = malloc(biglen);
	ck_assert_ptr_nonnull(big);
	for(size_t i = 0; i < biglen; i++) {
		big[i] = (unsigned char)(i * 7);
	}
	ck_assert_int_eq(jw_kvlog_append(l, "big", big, biglen), 0);
	ck_assert_uint_eq(jw_kvlog_size(l), (uint64_t)file_size(t.path));
	jw_kvlog_close(l);

	replay_into(t.path, &s, &st);
	ck_assert_uint_eq(st.records, 8);
	ck_assert_uint_eq(st.live, 4);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_uint_eq(st.bytes, (uint64_t)file_size(t.path));
	ck_assert_uint_eq(st.torn_at, UINT64_MAX);
	seen_assert_value(&s, "a", "1");
	seen_assert_value(&s, "b", "22");
	seen_assert_value(&s, "e", "");
	ck_assert_ptr_null(seen_get(&s, "c"));
	ck_assert_ptr_null(seen_get(&s, "d"));
	ck_assert_uint_eq(seen_get(&s, "big")->len, biglen);
	ck_assert(memcmp(seen_get(&s, "big")->val, big, biglen) == 0);
	seen_free(&s);

	/* Reopen: appends continue at the end; a deleted key can come back. */
	l = open_ok(t.path);
	ck_assert_uint_eq(jw_kvlog_size(l), st.bytes);
	put_s(l, "c", "back");
	ck_assert_int_eq(jw_kvlog_append(l, "a", NULL, 0), 0);
	jw_kvlog_close(l);
	replay_into(t.path, &s, &st);
	ck_assert_uint_eq(st.records, 10);
	ck_assert_uint_eq(s.n, 4);
	seen_assert_value(&s, "c", "back");
	ck_assert_ptr_null(seen_get(&s, "a"));
	seen_free(&s);
	free(big);
	jw_kvlog_close(NULL);
	tdir_cleanup(&t);
}
END_TEST

static int stop_after_one(const char *key, const void *val, size_t len, void *arg)
{
	int *calls = arg;

	(void)key;
	(void)val;
	(void)len;
	(*calls)++;
	return 7;
}

START_TEST(test_replay_callback_stops)
{
	struct tdir t;
	struct jw_kvlog *l;
	int calls = 0;
	char err[256];

	tdir_init(&t);
	l = open_ok(t.path);
	put_s(l, "a", "1");
	put_s(l, "b", "2");
	jw_kvlog_close(l);
	ck_assert_int_eq(
	        jw_kvlog_replay(t.path, stop_after_one, NULL, &calls, NULL, err, sizeof(err)), 7);
	ck_assert_int_eq(calls, 1);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_missing_file)
{
	struct tdir t;
	struct seen s;
	struct jw_kvlog_replay_stats st;
	struct jw_kvlog *l = (struct jw_kvlog *)&st;
	char err[256] = "";
	char path[200];

	tdir_init(&t);
	replay_into(t.path, &s, &st);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_uint_eq(st.records, 0);
	ck_assert_uint_eq(st.live, 0);
	ck_assert_uint_eq(st.bytes, 0);
	ck_assert_uint_eq(st.torn_at, UINT64_MAX);

	/* Open creates the file, mode 0600. */
	l = open_ok(t.path);
	jw_kvlog_close(l);
	{
		struct stat sb;
		ck_assert_int_eq(stat(t.path, &sb), 0);
		ck_assert_uint_eq(sb.st_mode & 0777u, 0600u);
	}

	/* Open in a directory that does not exist: an error naming the path. */
	snprintf(path, sizeof(path), "%s/nope/jobs.log", t.dir);
	l = (struct jw_kvlog *)&st;
	ck_assert_int_eq(jw_kvlog_open(path, &l, NULL, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_null(l);
	ck_assert_ptr_nonnull(strstr(err, path));
	tdir_cleanup(&t);
}
END_TEST

/* ---- torn tails ---- */

/* Writes 20 records, then a last one (a value, or the deletion of a live key
 * when last_is_delete), and for every length that cuts into the last record
 * checks replay, open and appending afterwards. */
static void torn_tail_every_offset(int last_is_delete)
{
	struct tdir t;
	struct jw_kvlog *l;
	unsigned char *full, *val;
	size_t full_len, base, vlen = 5000; /* > 4096: two pwrites */
	char key[32], expect[32];

	tdir_init(&t);
	l = open_ok(t.path);
	for(int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "k%d", i % 12);
		snprintf(expect, sizeof(expect), "v%d", i);
		put_s(l, key, expect);
	}
	base = (size_t)jw_kvlog_size(l);
	val = malloc(vlen);
	ck_assert_ptr_nonnull(val);
	memset(val, 'x', vlen);
	if(last_is_delete) {
		ck_assert_int_eq(jw_kvlog_append(l, "k3", NULL, 0), 0);
	} else {
		ck_assert_int_eq(jw_kvlog_append(l, "last", val, vlen), 0);
	}
	jw_kvlog_close(l);
	full = slurp(t.path, &full_len);
	ck_assert_uint_eq(full_len, base + 16 + (last_is_delete ? 2 : 4 + vlen));

	for(size_t cut = 0; cut < full_len - base; cut++) {
		struct seen s;
		struct jw_kvlog_replay_stats st;

		spill(t.path, full, base + cut);
		replay_into(t.path, &s, &st);
		ck_assert_uint_eq(st.records, 20);
		ck_assert_uint_eq(st.live, 12);
		ck_assert_uint_eq(st.bytes, base);
		ck_assert_uint_eq(st.torn_at, cut == 0 ? UINT64_MAX : base);
		ck_assert_ptr_null(seen_get(&s, "last"));
		seen_assert_value(&s, "k3", "v15"); /* still live: the deletion is torn */
		seen_assert_value(&s, "k11", "v11");
		seen_free(&s);

		l = open_ok(t.path);
		ck_assert_uint_eq(jw_kvlog_size(l), base);
		ck_assert_int_eq(file_size(t.path), (off_t)base);
		put_s(l, "after", "ok");
		jw_kvlog_close(l);
		replay_into(t.path, &s, &st);
		ck_assert_uint_eq(st.records, 21);
		ck_assert_uint_eq(st.torn_at, UINT64_MAX);
		seen_assert_value(&s, "after", "ok");
		seen_assert_value(&s, "k3", "v15");
		seen_free(&s);
	}
	/* And uncut, the last record counts. */
	{
		struct seen s;
		struct jw_kvlog_replay_stats st;

		spill(t.path, full, full_len);
		replay_into(t.path, &s, &st);
		ck_assert_uint_eq(st.records, 21);
		ck_assert_uint_eq(st.torn_at, UINT64_MAX);
		ck_assert(last_is_delete ? seen_get(&s, "k3") == NULL : seen_get(&s, "last") != NULL);
		seen_free(&s);
	}
	free(val);
	free(full);
	tdir_cleanup(&t);
}

START_TEST(test_torn_value_record)
{
	torn_tail_every_offset(0);
}
END_TEST

START_TEST(test_torn_deletion_record)
{
	torn_tail_every_offset(1);
}
END_TEST

START_TEST(test_garbage_tail)
{
	struct tdir t;
	struct jw_kvlog *l;
	struct seen s;
	struct jw_kvlog_replay_stats st;
	unsigned char zeros[4096] = {0};
	uint64_t good;
	int fd;

	/* A power cut can leave zero-filled blocks after the last record. */
	tdir_init(&t);
	l = open_ok(t.path);
	put_s(l, "a", "1");
	good = jw_kvlog_size(l);
	jw_kvlog_close(l);
	fd = open(t.path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
	close(fd);
	replay_into(t.path, &s, &st);
	ck_assert_uint_eq(st.torn_at, good);
	ck_assert_uint_eq(s.n, 1);
	seen_free(&s);
	l = open_ok(t.path);
	ck_assert_uint_eq(jw_kvlog_size(l), good);
	jw_kvlog_close(l);
	ck_assert_int_eq(file_size(t.path), (off_t)good);
	tdir_cleanup(&t);
}
END_TEST

/* ---- damage anywhere: skip the damaged record, keep the rest ---- */

/* A replay that also collects the damaged stretches it was told of. */
struct dmg_seen {
	struct seen s; /* first: seen_cb gets this struct */
	struct jw_kvlog_damage d[16];
	size_t nd;
};

static int dmg_cb(const struct jw_kvlog_damage *d, void *arg)
{
	struct dmg_seen *c = arg;

	ck_assert_uint_lt(c->nd, 16);
	c->d[c->nd++] = *d;
	return 0;
}

static void replay_dmg(const char *path, struct dmg_seen *c, struct jw_kvlog_replay_stats *st)
{
	char err[256] = "";

	memset(c, 0, sizeof(*c));
	ck_assert_msg(jw_kvlog_replay(path, seen_cb, dmg_cb, c, st, err, sizeof(err)) == 0, "%s", err);
}

/* The log of the damage tests: a map with overwrites, a deletion and an
 * empty value. Record i is key[i] = val[i] (NULL: a deletion). */
#define NREC 8
static const char *const dk[NREC] = {"s/a", "s/b", "s/a", "s/c", "s/b", "s/d", "s/e", "s/c"};
static const char *const dv[NREC] = {
        "alpha-1", "bravo-1", "alpha-2", "charlie-1", NULL, "", "echo-1", "charlie-2"};

/* Writes the log; off[i] is where record i starts, off[NREC] the end. */
static unsigned char *write_model_log(const char *path, uint64_t off[NREC + 1], size_t *len)
{
	struct jw_kvlog *l = open_ok(path);

	for(int i = 0; i < NREC; i++) {
		off[i] = jw_kvlog_size(l);
		ck_assert_int_eq(jw_kvlog_append(l, dk[i], dv[i], dv[i] ? strlen(dv[i]) : 0), 0);
	}
	off[NREC] = jw_kvlog_size(l);
	jw_kvlog_close(l);
	return slurp(path, len);
}

/* Fails unless s is what the log holds without record lost (-1: none),
 * plus extra keys of other names. */
static void assert_model_without(const struct seen *s, int lost, size_t extra)
{
	const char *keys[] = {"s/a", "s/b", "s/c", "s/d", "s/e"};
	size_t live = 0;

	for(size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const char *want = NULL;
		bool present = false;

		for(int i = 0; i < NREC; i++) {
			if(i != lost && !strcmp(dk[i], keys[k])) {
				present = dv[i] != NULL;
				want = dv[i];
			}
		}
		if(present) {
			seen_assert_value(s, keys[k], want);
			live++;
		} else {
			ck_assert_msg(seen_get(s, keys[k]) == NULL, "%s should be absent (record %d lost)",
			        keys[k], lost);
		}
	}
	ck_assert_uint_eq(s->n, live + extra);
}

/* Which record byte b belongs to. */
static int record_of(const uint64_t off[NREC + 1], uint64_t b)
{
	for(int i = 0; i < NREC; i++) {
		if(b >= off[i] && b < off[i + 1]) {
			return i;
		}
	}
	ck_abort_msg("byte %llu outside the log", (unsigned long long)b);
	return -1;
}

/* One damaged copy of the log: every other record is read, exactly the
 * damaged one is lost and reported once with its bounds, replay from a
 * buffer agrees, its bytes can be quarantined, and open keeps the middle
 * (cutting only a damaged tail) so appends go on. */
static void check_damaged_copy(struct tdir *t, const unsigned char *copy, size_t len,
        const uint64_t off[NREC + 1], int k, const char *what)
{
	struct dmg_seen c, cb;
	struct jw_kvlog_replay_stats st, stb;
	struct jw_kvlog *l;
	uint64_t klen = off[k + 1] - off[k];
	bool tail = k == NREC - 1;
	char kept[256], err[256];

	spill(t->path, copy, len);
	replay_dmg(t->path, &c, &st);
	ck_assert_msg(c.nd == 1, "%s: %zu damaged stretches", what, c.nd);
	ck_assert_msg(c.d[0].offset == off[k] && c.d[0].length == klen,
	        "%s: stretch %llu+%llu, record %d is %llu+%llu", what,
	        (unsigned long long)c.d[0].offset, (unsigned long long)c.d[0].length, k,
	        (unsigned long long)off[k], (unsigned long long)klen);
	ck_assert_uint_eq(c.d[0].records, 1);
	ck_assert_int_eq(c.d[0].tail, tail);
	ck_assert_uint_eq(st.records, NREC - 1);
	ck_assert_uint_eq(st.damaged, 1);
	ck_assert_uint_eq(st.damaged_bytes, klen);
	ck_assert_uint_eq(st.damaged_records, 1);
	ck_assert_uint_eq(st.bytes, off[NREC] - klen);
	ck_assert_uint_eq(st.torn_at, tail ? off[k] : UINT64_MAX);
	assert_model_without(&c.s, k, 0);

	/* The buffer entry point (for fuzzing) reads the same. */
	memset(&cb, 0, sizeof(cb));
	ck_assert_int_eq(jw_kvlog_replay_buf(copy, len, seen_cb, dmg_cb, &cb, &stb), 0);
	ck_assert_uint_eq(cb.nd, 1);
	ck_assert_uint_eq(cb.d[0].offset, off[k]);
	ck_assert_uint_eq(stb.records, st.records);
	assert_model_without(&cb.s, k, 0);
	seen_free(&cb.s);
	seen_free(&c.s);

	/* The quarantine file holds exactly the damaged bytes. */
	ck_assert_int_eq(
	        jw_quarantine_copy(t->path, off[k], klen, false, kept, sizeof(kept), err, sizeof(err)),
	        JW_QUARANTINE_WRITTEN);
	{
		size_t qlen;
		unsigned char *q = slurp(kept, &qlen);
		ck_assert_uint_eq(qlen, klen);
		ck_assert(memcmp(q, copy + off[k], klen) == 0);
		free(q);
	}
	/* Found again: not copied twice. */
	ck_assert_int_eq(
	        jw_quarantine_copy(t->path, off[k], klen, false, kept, sizeof(kept), err, sizeof(err)),
	        JW_QUARANTINE_ALREADY);
	ck_assert_int_eq(unlink(kept), 0);

	/* Open cuts only a damaged tail; appends follow the last good record. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(jw_kvlog_open(t->path, &l, dmg_cb, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.nd, 1);
	ck_assert_uint_eq(jw_kvlog_size(l), tail ? off[k] : len);
	put_s(l, "s/new", "after");
	jw_kvlog_close(l);
	replay_dmg(t->path, &c, &st);
	ck_assert_uint_eq(c.nd, tail ? 0 : 1);
	ck_assert_uint_eq(st.records, NREC);
	seen_assert_value(&c.s, "s/new", "after");
	assert_model_without(&c.s, k, 1);
	seen_free(&c.s);
}

START_TEST(test_flip_every_byte)
{
	struct tdir t;
	uint64_t off[NREC + 1];
	unsigned char *full, *copy;
	size_t len;
	char what[64];

	tdir_init(&t);
	full = write_model_log(t.path, off, &len);
	copy = malloc(len);
	ck_assert_ptr_nonnull(copy);
	for(uint64_t b = 0; b < len; b++) {
		memcpy(copy, full, len);
		copy[b] ^= 0xFF;
		snprintf(what, sizeof(what), "byte %llu flipped", (unsigned long long)b);
		check_damaged_copy(&t, copy, len, off, record_of(off, b), what);
	}
	free(copy);
	free(full);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_flip_every_bit)
{
	struct tdir t;
	uint64_t off[NREC + 1];
	unsigned char *full, *copy;
	size_t len;
	char what[64];

	tdir_init(&t);
	full = write_model_log(t.path, off, &len);
	copy = malloc(len);
	ck_assert_ptr_nonnull(copy);
	/* In record 3 (a middle one) and the last: magic, key length, value
	 * length (low and high bytes: too long, or past the end), CRC, key,
	 * value. */
	for(int r = 3; r < NREC; r += NREC - 1 - 3) {
		const uint64_t at[] = {0, 3, 4, 7, 8, 10, 11, 12, 15, 16, 20};
		for(size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
			uint64_t b = off[r] + at[i];
			for(int bit = 0; bit < 8; bit++) {
				memcpy(copy, full, len);
				copy[b] ^= (unsigned char)(1u << bit);
				snprintf(what, sizeof(what), "bit %d of byte %llu", bit, (unsigned long long)b);
				check_damaged_copy(&t, copy, len, off, r, what);
			}
		}
	}
	free(copy);
	free(full);
	tdir_cleanup(&t);
}
END_TEST

/* A zero-filled block in the middle (a lost disk block) and a torn tail in
 * the same file: two stretches; every record outside them is read. */
START_TEST(test_zeroed_block_and_torn_tail)
{
	struct tdir t;
	struct jw_kvlog *l;
	struct dmg_seen c;
	struct jw_kvlog_replay_stats st;
	unsigned char *full;
	uint64_t off[41];
	size_t len;
	char key[16], val[32];
	int first_lost = -1, last_lost = -1;

	tdir_init(&t);
	l = open_ok(t.path);
	for(int i = 0; i < 40; i++) {
		off[i] = jw_kvlog_size(l);
		snprintf(key, sizeof(key), "k%02d", i);
		snprintf(val, sizeof(val), "value of record %02d", i);
		put_s(l, key, val);
	}
	off[40] = jw_kvlog_size(l);
	jw_kvlog_close(l);
	full = slurp(t.path, &len);
	memset(full + off[10] + 5, 0, 300);
	for(int i = 0; i < 40; i++) {
		if(off[i + 1] > off[10] + 5 && off[i] < off[10] + 305) {
			if(first_lost < 0) {
				first_lost = i;
			}
			last_lost = i;
		}
	}
	spill(t.path, full, off[39] + 20); /* the last record cut short */
	replay_dmg(t.path, &c, &st);
	ck_assert_uint_eq(c.nd, 2);
	ck_assert_uint_eq(c.d[0].offset, off[first_lost]);
	ck_assert_uint_eq(c.d[0].offset + c.d[0].length, off[last_lost + 1]);
	ck_assert_uint_eq(c.d[0].records, 1); /* the zeros ate the other markers */
	ck_assert(!c.d[0].tail);
	ck_assert_uint_eq(c.d[1].offset, off[39]);
	ck_assert_uint_eq(c.d[1].length, 20);
	ck_assert(c.d[1].tail);
	ck_assert_uint_eq(st.records, (uint64_t)(39 - (last_lost - first_lost + 1)));
	for(int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "k%02d", i);
		snprintf(val, sizeof(val), "value of record %02d", i);
		if((i >= first_lost && i <= last_lost) || i == 39) {
			ck_assert_ptr_null(seen_get(&c.s, key));
		} else {
			seen_assert_value(&c.s, key, val);
		}
	}
	seen_free(&c.s);
	free(full);
	tdir_cleanup(&t);
}
END_TEST

/* A marker inside a value that is not a record start is not taken for
 * one: the lengths or the CRC reject it, and reading stays in step. */
START_TEST(test_false_marker_in_value)
{
	struct tdir t;
	struct jw_kvlog *l;
	struct dmg_seen c;
	struct jw_kvlog_replay_stats st;
	unsigned char *full;
	size_t len;
	uint64_t second;

	tdir_init(&t);
	l = open_ok(t.path);
	put_s(l, "a", "xxJWK1\x05\x01\x01\x01JWK1JWK1 end");
	second = jw_kvlog_size(l);
	put_s(l, "b", "JWK1");
	put_s(l, "c", "3");
	jw_kvlog_close(l);
	replay_dmg(t.path, &c, &st);
	ck_assert_uint_eq(c.nd, 0);
	ck_assert_uint_eq(c.s.n, 3);
	seen_free(&c.s);
	/* Damage the first record: the markers in its value are passed over
	 * (and counted), and reading resumes at "b". */
	full = slurp(t.path, &len);
	full[1] ^= 0x01;
	spill(t.path, full, len);
	replay_dmg(t.path, &c, &st);
	ck_assert_uint_eq(c.nd, 1);
	ck_assert_uint_eq(c.d[0].offset, 0);
	ck_assert_uint_eq(c.d[0].length, second);
	ck_assert_uint_eq(c.d[0].records, 3);
	ck_assert_uint_eq(c.s.n, 2);
	seen_assert_value(&c.s, "b", "JWK1");
	seen_free(&c.s);
	free(full);
	tdir_cleanup(&t);
}
END_TEST

struct ends {
	uint64_t end[4];
	size_t n;
	struct jw_kvlog_damage d;
	size_t nd;
};

static int ends_dmg_cb(const struct jw_kvlog_damage *d, void *arg)
{
	struct ends *e = arg;

	e->d = *d;
	e->nd++;
	return 0;
}

static int ends_cb(const char *key, const void *val, size_t len, uint64_t end, void *arg)
{
	struct ends *e = arg;

	(void)key;
	(void)val;
	(void)len;
	ck_assert_uint_lt(e->n, 4);
	e->end[e->n++] = end;
	return 0;
}

/*
 * A stretch packed with plausible headers, a marker every 16 bytes and
 * each claiming a record that runs to the end of the file (what a file
 * made to defeat the reader looks like): reading it checksums no more
 * bytes than a few passes over the file would (four today; the bound is
 * eight), since no claim is checksummed by itself (docs/persistence.md,
 * "Limits"); checksumming every claim would take thousands of passes. Counted (not timed) on a
 * buffer and a file. The good records after it, a big one and a small
 * one, are found.
 */
START_TEST(test_resync_cost_is_linear)
{
	const size_t junk = 256 * 1024;
	struct tdir t;
	struct jw_kvlog *l;
	unsigned char *tail, *buf, *big;
	size_t tail_len, total;
	uint64_t big_end;
	uint64_t before, cost;

	tdir_init(&t);
	big = malloc(64 * 1024);
	ck_assert_ptr_nonnull(big);
	memset(big, 'v', 64 * 1024);
	l = open_ok(t.path);
	ck_assert_int_eq(jw_kvlog_append(l, "big", big, 64 * 1024), 0);
	big_end = jw_kvlog_size(l);
	put_s(l, "small", "s");
	jw_kvlog_close(l);
	tail = slurp(t.path, &tail_len);
	total = junk + tail_len;
	buf = malloc(total);
	ck_assert_ptr_nonnull(buf);
	for(size_t off = 0; off < junk; off += 16) {
		uint32_t vlen = (uint32_t)(total - off - 17);

		memcpy(buf + off, "JWK1", 4);
		buf[off + 4] = 1;
		buf[off + 5] = buf[off + 6] = buf[off + 7] = 0;
		for(int k = 0; k < 4; k++) {
			buf[off + 8 + (size_t)k] = (unsigned char)(vlen >> (8 * k));
			buf[off + 12 + (size_t)k] = (unsigned char)(0x5A + k);
		}
	}
	memcpy(buf + junk, tail, tail_len);
	spill(t.path, buf, total);

	for(int file = 0; file < 2; file++) {
		struct ends e;
		uint64_t end = 0;
		int rc;

		memset(&e, 0, sizeof(e));
		before = jw_kvlog_checksummed();
		if(file) {
			rc = jw_kvlog_read(t.path, 0, UINT64_MAX, ends_cb, ends_dmg_cb, &e, &end);
		} else {
			rc = jw_kvlog_read_buf(buf, total, 0, UINT64_MAX, ends_cb, ends_dmg_cb, &e, &end);
		}
		cost = jw_kvlog_checksummed() - before;
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(e.n, 2);
		ck_assert_uint_eq(e.end[0], junk + big_end);
		ck_assert_uint_eq(e.end[1], total);
		ck_assert_uint_eq(e.nd, 1);
		ck_assert_uint_eq(e.d.offset, 0);
		ck_assert_uint_eq(e.d.length, junk);
		ck_assert_uint_eq(e.d.records, junk / 16);
		ck_assert_msg(cost <= 8 * (uint64_t)total,
		        "%s: reading checksummed %llu bytes of a %zu-byte file", file ? "file" : "buffer",
		        (unsigned long long)cost, total);
	}
	free(big);
	free(buf);
	free(tail);
	tdir_cleanup(&t);
}
END_TEST

/* Not a regular file: refused, never read (a FIFO would block). */
START_TEST(test_not_a_regular_file)
{
	struct tdir t;
	struct jw_kvlog *l = NULL;
	struct seen s = {0};
	char err[256] = "";
	uint64_t end;

	tdir_init(&t);
	ck_assert_int_eq(mkfifo(t.path, 0600), 0);
	ck_assert_int_eq(jw_kvlog_replay(t.path, seen_cb, NULL, &s, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	ck_assert_int_eq(jw_kvlog_open(t.path, &l, NULL, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
	ck_assert_fails(jw_kvlog_read(t.path, 0, UINT64_MAX, NULL, NULL, NULL, &end), EINVAL);
	unlink(t.path);
	ck_assert_int_eq(mkdir(t.path, 0700), 0);
	ck_assert_int_eq(jw_kvlog_replay(t.path, seen_cb, NULL, &s, NULL, err, sizeof(err)), -1);
	ck_assert_int_eq(rmdir(t.path), 0);
	tdir_cleanup(&t);
}
END_TEST

/* ---- compaction ---- */

START_TEST(test_compact)
{
	struct tdir t;
	struct jw_kvlog *l;
	struct seen s;
	struct jw_kvlog_replay_stats st, cst;
	char key[32], val[64];
	char model[100][64]; /* "" = absent */
	char err[256] = "";
	off_t before, after;

	tdir_init(&t);
	memset(model, 0, sizeof(model));
	l = open_ok(t.path);
	for(int round = 0; round < 10; round++) {
		for(int k = 0; k < 100; k++) {
			snprintf(key, sizeof(key), "session-%d/job-%d", k % 7, k);
			if((k + round) % 9 == 0) {
				ck_assert_int_eq(jw_kvlog_append(l, key, NULL, 0), 0);
				model[k][0] = '\0';
			} else {
				snprintf(val, sizeof(val), "round %d of key %d", round, k);
				put_s(l, key, val);
				memcpy(model[k], val, sizeof(val));
			}
		}
	}
	jw_kvlog_close(l);
	before = file_size(t.path);

	ck_assert_msg(jw_kvlog_compact(t.path, NULL, NULL, &cst, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cst.records, 1000);
	ck_assert_uint_eq(cst.bytes, (uint64_t)before);
	ck_assert_uint_eq(cst.torn_at, UINT64_MAX);
	after = file_size(t.path);
	ck_assert_int_lt(after * 5, before);
	ck_assert_int_eq(access(t.tmp, F_OK), -1);

	replay_into(t.path, &s, &st);
	ck_assert_uint_eq(st.records, cst.live); /* one record per live key */
	ck_assert_uint_eq(st.live, cst.live);
	ck_assert_uint_eq(st.bytes, (uint64_t)after);
	{
		size_t live = 0;
		for(int k = 0; k < 100; k++) {
			snprintf(key, sizeof(key), "session-%d/job-%d", k % 7, k);
			if(model[k][0]) {
				seen_assert_value(&s, key, model[k]);
				live++;
			} else {
				ck_assert_ptr_null(seen_get(&s, key));
			}
		}
		ck_assert_uint_eq(s.n, live);
		ck_assert_uint_eq(cst.live, live);
	}
	seen_free(&s);

	/* Compacting a compacted log changes nothing. */
	ck_assert_int_eq(jw_kvlog_compact(t.path, NULL, NULL, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(file_size(t.path), after);

	/* Reopened after compaction, the log takes appends. */
	l = open_ok(t.path);
	ck_assert_uint_eq(jw_kvlog_size(l), (uint64_t)after);
	put_s(l, "new", "value");
	jw_kvlog_close(l);
	replay_into(t.path, &s, &st);
	seen_assert_value(&s, "new", "value");
	ck_assert_uint_eq(st.torn_at, UINT64_MAX);
	seen_free(&s);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_compact_torn_and_missing)
{
	struct tdir t;
	struct jw_kvlog *l;
	struct seen s;
	struct jw_kvlog_replay_stats st;
	char err[256] = "";
	uint64_t good;
	int fd;

	tdir_init(&t);
	/* A missing log compacts to an empty one. */
	ck_assert_msg(jw_kvlog_compact(t.path, NULL, NULL, &st, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(st.records, 0);
	ck_assert_int_eq(file_size(t.path), 0);

	/* A torn tail is dropped by the rewrite. */
	l = open_ok(t.path);
	put_s(l, "a", "1");
	put_s(l, "a", "2");
	good = jw_kvlog_size(l);
	jw_kvlog_close(l);
	fd = open(t.path, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "JWK1\x01", 5), 5);
	close(fd);
	/* A stale tmp file from an interrupted compaction is overwritten. */
	spill(t.tmp, (const unsigned char *)"junk", 4);
	ck_assert_int_eq(jw_kvlog_compact(t.path, NULL, NULL, &st, err, sizeof(err)), 0);
	ck_assert_uint_eq(st.torn_at, good);
	ck_assert_int_eq(access(t.tmp, F_OK), -1);
	replay_into(t.path, &s, &st);
	ck_assert_uint_eq(st.records, 1);
	ck_assert_uint_eq(st.torn_at, UINT64_MAX);
	seen_assert_value(&s, "a", "2");
	seen_free(&s);

	/* Failure leaves the log untouched and reports the path. */
	{
		char bad[200];
		snprintf(bad, sizeof(bad), "%s/nodir/jobs.log", t.dir);
		ck_assert_int_eq(jw_kvlog_compact(bad, NULL, NULL, NULL, err, sizeof(err)), -1);
		ck_assert_ptr_nonnull(strstr(err, "nodir"));
	}
	tdir_cleanup(&t);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_oversize_rejected)
{
	struct tdir t;
	struct jw_kvlog *l;
	struct seen s;
	struct jw_kvlog_replay_stats st;
	char key[JW_KVLOG_KEY_MAX + 2];
	unsigned char *val;
	uint64_t size;

	tdir_init(&t);
	l = open_ok(t.path);
	memset(key, 'k', sizeof(key));
	key[JW_KVLOG_KEY_MAX + 1] = '\0'; /* 513 bytes */
	ck_assert_fails(jw_kvlog_append(l, key, "v", 1), EINVAL);
	ck_assert_fails(jw_kvlog_append(l, "", "v", 1), EINVAL);
	ck_assert_fails(jw_kvlog_append(l, NULL, "v", 1), EINVAL);
	/* Rejected before the value is read, so a short buffer is safe here. */
	ck_assert_fails(jw_kvlog_append(l, "k", "v", (size_t)JW_KVLOG_VAL_MAX + 1), EINVAL);
	ck_assert_uint_eq(jw_kvlog_size(l), 0);

	key[JW_KVLOG_KEY_MAX] = '\0'; /* 512 bytes: allowed */
	ck_assert_int_eq(jw_kvlog_append(l, key, "v", 1), 0);
	val = malloc(JW_KVLOG_VAL_MAX);
	ck_assert_ptr_nonnull(val);
	for(size_t i = 0; i < JW_KVLOG_VAL_MAX; i++) {
		val[i] = (unsigned char)(i >> 5);
	}
	ck_assert_int_eq(jw_kvlog_append(l, "max", val, JW_KVLOG_VAL_MAX), 0);
	size = jw_kvlog_size(l);
	jw_kvlog_close(l);

	replay_into(t.path, &s, &st);
	ck_assert_uint_eq(st.bytes, size);
	ck_assert_uint_eq(s.n, 2);
	seen_assert_value(&s, key, "v");
	ck_assert_uint_eq(seen_get(&s, "max")->len, JW_KVLOG_VAL_MAX);
	ck_assert(memcmp(seen_get(&s, "max")->val, val, JW_KVLOG_VAL_MAX) == 0);
	seen_free(&s);
	free(val);
	tdir_cleanup(&t);
}
END_TEST

/* A write that fails part-way (here: the file size limit, a real EFBIG
 * from the kernel) is taken back, and the log carries on cleanly. */
START_TEST(test_failed_append_rolls_back)
{
	struct tdir t;
	struct jw_kvlog *l;
	struct seen s;
	struct jw_kvlog_replay_stats st;
	struct rlimit old, lim;
	struct sigaction ign, prev;
	unsigned char val[3000];
	uint64_t size;

	memset(val, 'z', sizeof(val));
	tdir_init(&t);
	l = open_ok(t.path);
	put_s(l, "a", "1");
	size = jw_kvlog_size(l);

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	ck_assert_int_eq(sigaction(SIGXFSZ, &ign, &prev), 0);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)size + 1000; /* the record gets 1000 bytes in */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ck_assert_fails(jw_kvlog_append(l, "big", val, sizeof(val)), EFBIG);
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &old), 0);
	ck_assert_int_eq(sigaction(SIGXFSZ, &prev, NULL), 0);

	ck_assert_uint_eq(jw_kvlog_size(l), size);
	ck_assert_int_eq(file_size(t.path), (off_t)size);
	ck_assert_int_eq(jw_kvlog_append(l, "big", val, sizeof(val)), 0);
	put_s(l, "b", "2");
	jw_kvlog_close(l);
	replay_into(t.path, &s, &st);
	ck_assert_uint_eq(st.torn_at, UINT64_MAX);
	ck_assert_uint_eq(st.records, 3);
	seen_assert_value(&s, "b", "2");
	ck_assert_uint_eq(seen_get(&s, "big")->len, sizeof(val));
	seen_free(&s);
	tdir_cleanup(&t);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("kvlog");
	TCase *tc;

	jw_test_case(suite, "format", test_record_layout, NULL);
	jw_test_case(suite, "append_replay", test_append_replay, test_replay_callback_stops,
	        test_missing_file, NULL);
	tc = tcase_create("torn_tail");
	tcase_add_test(tc, test_torn_value_record);
	tcase_add_test(tc, test_torn_deletion_record);
	tcase_add_test(tc, test_garbage_tail);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(suite, tc);
	tc = tcase_create("damage");
	tcase_add_test(tc, test_flip_every_byte);
	tcase_add_test(tc, test_flip_every_bit);
	tcase_add_test(tc, test_zeroed_block_and_torn_tail);
	tcase_add_test(tc, test_false_marker_in_value);
	tcase_add_test(tc, test_resync_cost_is_linear);
	tcase_add_test(tc, test_not_a_regular_file);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(suite, tc);
	jw_test_case(suite, "compaction", test_compact, test_compact_torn_and_missing, NULL);
	jw_test_case(suite, "limits", test_oversize_rejected, test_failed_append_rolls_back, NULL);

	return jw_test_run(suite);
}
