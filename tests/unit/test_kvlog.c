/* Proves the on-disk key/value log keeps exactly the newest value of every
 * live key across reopen and compaction, and that a record torn at any byte
 * or corrupted anywhere is detected: replay keeps everything before it and
 * open cuts it off so appending continues cleanly. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvlog.h"
#include "seen.h"

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

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spill(const char *path, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

static void replay_into(const char *path, struct seen *s, struct jw_kvlog_replay_stats *st)
{
	char err[256] = "";

	memset(s, 0, sizeof(*s));
	ck_assert_msg(jw_kvlog_replay(path, seen_cb, s, st, err, sizeof(err)) == 0, "%s", err);
}

static struct jw_kvlog *open_ok(const char *path)
{
	struct jw_kvlog *l = NULL;
	char err[256] = "";

	ck_assert_msg(jw_kvlog_open(path, &l, err, sizeof(err)) == 0, "%s", err);
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
	while(n--){
		crc ^= *p++;
		for(int k = 0; k < 8; k++){
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
	for(size_t i = 0; i < biglen; i++){
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
	ck_assert_int_eq(jw_kvlog_replay(t.path, stop_after_one, &calls, NULL, err, sizeof(err)), 7);
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
	ck_assert_int_eq(jw_kvlog_open(path, &l, err, sizeof(err)), -1);
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
	for(int i = 0; i < 20; i++){
		snprintf(key, sizeof(key), "k%d", i % 12);
		snprintf(expect, sizeof(expect), "v%d", i);
		put_s(l, key, expect);
	}
	base = (size_t)jw_kvlog_size(l);
	val = malloc(vlen);
	ck_assert_ptr_nonnull(val);
	memset(val, 'x', vlen);
	if(last_is_delete){
		ck_assert_int_eq(jw_kvlog_append(l, "k3", NULL, 0), 0);
	}else{
		ck_assert_int_eq(jw_kvlog_append(l, "last", val, vlen), 0);
	}
	jw_kvlog_close(l);
	full = slurp(t.path, &full_len);
	ck_assert_uint_eq(full_len, base + 16 + (last_is_delete ? 2 : 4 + vlen));

	for(size_t cut = 0; cut < full_len - base; cut++){
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

/* ---- corruption in the middle ---- */

START_TEST(test_corrupt_middle)
{
	struct tdir t;
	struct jw_kvlog *l;
	unsigned char *full, *copy;
	size_t full_len;
	uint64_t off[11];
	char key[16], val[16];

	tdir_init(&t);
	l = open_ok(t.path);
	for(int i = 0; i < 10; i++){
		off[i] = jw_kvlog_size(l);
		snprintf(key, sizeof(key), "key%d", i);
		snprintf(val, sizeof(val), "value%d", i);
		if(i == 7){
			ck_assert_int_eq(jw_kvlog_append(l, "key2", NULL, 0), 0);
		}else{
			put_s(l, key, val);
		}
	}
	off[10] = jw_kvlog_size(l);
	jw_kvlog_close(l);
	full = slurp(t.path, &full_len);
	copy = malloc(full_len);
	ck_assert_ptr_nonnull(copy);

	/* Every byte of record 5, and one bit or the whole byte flipped. */
	for(uint64_t b = off[5]; b < off[6]; b++){
		for(int mode = 0; mode < 2; mode++){
			struct seen s;
			struct jw_kvlog_replay_stats st;

			memcpy(copy, full, full_len);
			copy[b] ^= mode ? 0xFF : 0x10;
			spill(t.path, copy, full_len);
			replay_into(t.path, &s, &st);
			ck_assert_uint_eq(st.records, 5);
			ck_assert_uint_eq(st.torn_at, off[5]);
			ck_assert_uint_eq(st.bytes, off[5]);
			ck_assert_uint_eq(s.n, 5);
			seen_assert_value(&s, "key4", "value4");
			ck_assert_ptr_null(seen_get(&s, "key5"));
			ck_assert_ptr_null(seen_get(&s, "key9"));
			seen_free(&s);
		}
	}
	/* Open trusts nothing past the bad record either. */
	l = open_ok(t.path);
	ck_assert_uint_eq(jw_kvlog_size(l), off[5]);
	jw_kvlog_close(l);
	ck_assert_int_eq(file_size(t.path), (off_t)off[5]);

	/* A bad first record leaves an empty log. */
	memcpy(copy, full, full_len);
	copy[20] ^= 1;
	spill(t.path, copy, full_len);
	{
		struct seen s;
		struct jw_kvlog_replay_stats st;

		replay_into(t.path, &s, &st);
		ck_assert_uint_eq(st.records, 0);
		ck_assert_uint_eq(st.torn_at, 0);
		ck_assert_uint_eq(s.n, 0);
		seen_free(&s);
	}
	free(copy);
	free(full);
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
	for(int round = 0; round < 10; round++){
		for(int k = 0; k < 100; k++){
			snprintf(key, sizeof(key), "session-%d/job-%d", k % 7, k);
			if((k + round) % 9 == 0){
				ck_assert_int_eq(jw_kvlog_append(l, key, NULL, 0), 0);
				model[k][0] = '\0';
			}else{
				snprintf(val, sizeof(val), "round %d of key %d", round, k);
				put_s(l, key, val);
				memcpy(model[k], val, sizeof(val));
			}
		}
	}
	jw_kvlog_close(l);
	before = file_size(t.path);

	ck_assert_msg(jw_kvlog_compact(t.path, &cst, err, sizeof(err)) == 0, "%s", err);
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
		for(int k = 0; k < 100; k++){
			snprintf(key, sizeof(key), "session-%d/job-%d", k % 7, k);
			if(model[k][0]){
				seen_assert_value(&s, key, model[k]);
				live++;
			}else{
				ck_assert_ptr_null(seen_get(&s, key));
			}
		}
		ck_assert_uint_eq(s.n, live);
		ck_assert_uint_eq(cst.live, live);
	}
	seen_free(&s);

	/* Compacting a compacted log changes nothing. */
	ck_assert_int_eq(jw_kvlog_compact(t.path, NULL, err, sizeof(err)), 0);
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
	ck_assert_msg(jw_kvlog_compact(t.path, &st, err, sizeof(err)) == 0, "%s", err);
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
	ck_assert_int_eq(jw_kvlog_compact(t.path, &st, err, sizeof(err)), 0);
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
		ck_assert_int_eq(jw_kvlog_compact(bad, NULL, err, sizeof(err)), -1);
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
	errno = 0;
	ck_assert_int_eq(jw_kvlog_append(l, key, "v", 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(jw_kvlog_append(l, "", "v", 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_int_eq(jw_kvlog_append(l, NULL, "v", 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	/* Rejected before the value is read, so a short buffer is safe here. */
	errno = 0;
	ck_assert_int_eq(jw_kvlog_append(l, "k", "v", (size_t)JW_KVLOG_VAL_MAX + 1), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_uint_eq(jw_kvlog_size(l), 0);

	key[JW_KVLOG_KEY_MAX] = '\0'; /* 512 bytes: allowed */
	ck_assert_int_eq(jw_kvlog_append(l, key, "v", 1), 0);
	val = malloc(JW_KVLOG_VAL_MAX);
	ck_assert_ptr_nonnull(val);
	for(size_t i = 0; i < JW_KVLOG_VAL_MAX; i++){
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
	errno = 0;
	ck_assert_int_eq(jw_kvlog_append(l, "big", val, sizeof(val)), -1);
	ck_assert_int_eq(errno, EFBIG);
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
	SRunner *sr;
	int failed;

	tc = tcase_create("format");
	tcase_add_test(tc, test_record_layout);
	suite_add_tcase(suite, tc);
	tc = tcase_create("append_replay");
	tcase_add_test(tc, test_append_replay);
	tcase_add_test(tc, test_replay_callback_stops);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(suite, tc);
	tc = tcase_create("torn_tail");
	tcase_add_test(tc, test_torn_value_record);
	tcase_add_test(tc, test_torn_deletion_record);
	tcase_add_test(tc, test_garbage_tail);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(suite, tc);
	tc = tcase_create("corruption");
	tcase_add_test(tc, test_corrupt_middle);
	suite_add_tcase(suite, tc);
	tc = tcase_create("compaction");
	tcase_add_test(tc, test_compact);
	tcase_add_test(tc, test_compact_torn_and_missing);
	suite_add_tcase(suite, tc);
	tc = tcase_create("limits");
	tcase_add_test(tc, test_oversize_rejected);
	tcase_add_test(tc, test_failed_append_rolls_back);
	suite_add_tcase(suite, tc);

	sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
