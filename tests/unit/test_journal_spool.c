/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the journal spool's on-disk files are read safely: a damaged byte
 * or bit anywhere in a spool segment costs exactly the record it is in
 * (read in batches from a cursor, the way the journal thread reads, every
 * other record arrives once and in order, and the damage is reported once
 * with its offset and kept byte for byte in a quarantine file); every
 * damaged checkpoint is recognised as damaged, never read as another
 * position; directory entry names are parsed with bounds; quarantine files
 * are never overwritten and bounded in number. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal_rec.h"
#include "journal_spool.h"
#include "kvlog.h"
#include "quarantine.h"
#include "testutil.h"
#include "util_check.h"

/* ---- helpers ---- */

/* ---- names ---- */

START_TEST(test_classify_names)
{
	uint64_t seq = 7;
	char name[JW_SPOOL_NAME_LEN];

	ck_assert_int_eq(jw_spool_classify("0000000000000000.spool", &seq), JW_SPOOL_SEGMENT);
	ck_assert_uint_eq(seq, 0);
	ck_assert_int_eq(jw_spool_classify("0000000000001234.spool", &seq), JW_SPOOL_SEGMENT);
	ck_assert_uint_eq(seq, 1234);
	ck_assert_int_eq(jw_spool_classify("0999999999999999.spool", &seq), JW_SPOOL_SEGMENT);
	ck_assert_uint_eq(seq, JW_SPOOL_SEQ_MAX);
	ck_assert_int_eq(jw_spool_classify("1000000000000000.spool", &seq), JW_SPOOL_OUT_OF_RANGE);
	ck_assert_int_eq(jw_spool_classify("9999999999999999.spool", &seq), JW_SPOOL_OUT_OF_RANGE);
	ck_assert_uint_eq(seq, 9999999999999999ULL);
	/* Whatever strtoull would accept beyond plain digits is refused. */
	ck_assert_int_eq(jw_spool_classify("-000000000000001.spool", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("+000000000000001.spool", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify(" 000000000000001.spool", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("0x00000000000001.spool", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("abcdefghijklmnop.spool", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("00000000000000001.spool", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("99999999999999999999999.spool", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("000000000000001.spool", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("0000000000000001.spool.tmp", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("0000000000000001.SPOOL", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("0000000000000001.spoo", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify(".spool", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify("checkpoint", &seq), JW_SPOOL_CHECKPOINT);
	ck_assert_int_eq(jw_spool_classify("checkpoint.tmp", &seq), JW_SPOOL_CHECKPOINT_TMP);
	ck_assert_int_eq(jw_spool_classify("checkpoint.at-0.damaged", &seq), JW_SPOOL_QUARANTINE);
	ck_assert_int_eq(
	        jw_spool_classify("0000000000000001.spool.at-12.damaged", &seq), JW_SPOOL_QUARANTINE);
	ck_assert_int_eq(jw_spool_classify(".damaged", &seq), JW_SPOOL_UNKNOWN);
	ck_assert_int_eq(jw_spool_classify(".", &seq), JW_SPOOL_DOT);
	ck_assert_int_eq(jw_spool_classify("..", &seq), JW_SPOOL_DOT);
	ck_assert_str_eq(jw_spool_segment_name(name, sizeof(name), 42), "0000000000000042.spool");
	ck_assert_str_eq(jw_spool_segment_name(name, sizeof(name), JW_SPOOL_SEQ_MAX + 1),
	        "1000000000000000.spool");
}
END_TEST

/* ---- checkpoint ---- */

START_TEST(test_checkpoint_roundtrip)
{
	char text[64];
	uint64_t seq = 0, off = 0;
	size_t n;

	n = jw_spool_checkpoint_format(text, sizeof(text), 12, 345678);
	ck_assert_uint_gt(n, 0);
	ck_assert_int_eq(text[n - 1], '\n');
	ck_assert(strncmp(text, "12 345678 ", 10) == 0);
	ck_assert_int_eq(jw_spool_checkpoint_parse(text, n, &seq, &off, NULL, 0), JW_SPOOL_CP_OK);
	ck_assert_uint_eq(seq, 12);
	ck_assert_uint_eq(off, 345678);
	/* The format before checksums: read, flagged as such. */
	ck_assert_int_eq(
	        jw_spool_checkpoint_parse("7 4096\n", 7, &seq, &off, NULL, 0), JW_SPOOL_CP_LEGACY);
	ck_assert_uint_eq(seq, 7);
	ck_assert_uint_eq(off, 4096);
	n = jw_spool_checkpoint_format(text, sizeof(text), JW_SPOOL_SEQ_MAX, JW_SPOOL_OFF_MAX);
	ck_assert_int_eq(jw_spool_checkpoint_parse(text, n, &seq, &off, NULL, 0), JW_SPOOL_CP_OK);
}
END_TEST

START_TEST(test_checkpoint_hostile)
{
	const char *bad[] = {
	        "",
	        "\n",
	        "7\n",
	        "7 \n",
	        " 7 8\n",
	        "7  8\n",
	        "7 8",
	        "7 8\n\n",
	        "7 8 \n",
	        "-7 8\n",
	        "7 -8\n",
	        "7 8 0000000\n",
	        "7 8 000000000\n",
	        "7 8 0000000g\n",
	        "7 8 0000000A\n",
	        "1000000000000000 0\n",
	        "0 281474976710656\n",
	        "99999999999999999999 0\n",
	        "184467440737095516160 0\n",
	        "7 8 00000000 \n",
	};
	char why[64];
	uint64_t seq = 0, off = 0;

	for(size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		ck_assert_msg(jw_spool_checkpoint_parse(bad[i], strlen(bad[i]), &seq, &off, why,
		                      sizeof(why)) == JW_SPOOL_CP_DAMAGED,
		        "accepted [%s]", bad[i]);
		ck_assert_msg(why[0] != '\0', "no reason for [%s]", bad[i]);
	}
}
END_TEST

/* Every byte and every bit of a checkpoint changed: always recognised as
 * damaged, never read as some other position. */
START_TEST(test_checkpoint_every_flip)
{
	char text[64], copy[64];
	uint64_t seq, off;
	size_t n = jw_spool_checkpoint_format(text, sizeof(text), 3, 123456);

	for(size_t b = 0; b < n; b++) {
		for(int mode = 0; mode < 9; mode++) {
			enum jw_spool_cp st;

			memcpy(copy, text, n);
			copy[b] = (char)(copy[b] ^ (mode == 8 ? 0xFF : 1 << mode));
			st = jw_spool_checkpoint_parse(copy, n, &seq, &off, NULL, 0);
			ck_assert_msg(st == JW_SPOOL_CP_DAMAGED,
			        "byte %zu mode %d: [%.*s] read as %d (%llu %llu)", b, mode, (int)n - 1, copy,
			        (int)st, (unsigned long long)seq, (unsigned long long)off);
		}
	}
	/* Cut short anywhere: damaged too. */
	for(size_t cut = 0; cut < n; cut++) {
		ck_assert_int_eq(
		        jw_spool_checkpoint_parse(text, cut, &seq, &off, NULL, 0), JW_SPOOL_CP_DAMAGED);
	}
}
END_TEST

START_TEST(test_checkpoint_file)
{
	char dir[] = "/tmp/jw-cp-XXXXXX", path[64], why[64];
	unsigned char raw[80];
	char text[64];
	size_t rawlen, n;
	uint64_t seq = 0, off = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/checkpoint", dir);
	ck_assert_int_eq(
	        jw_spool_checkpoint_read(path, &seq, &off, raw, sizeof(raw), &rawlen, why, sizeof(why)),
	        JW_SPOOL_CP_MISSING);
	n = jw_spool_checkpoint_format(text, sizeof(text), 5, 99);
	spill(path, text, n);
	ck_assert_int_eq(
	        jw_spool_checkpoint_read(path, &seq, &off, raw, sizeof(raw), &rawlen, why, sizeof(why)),
	        JW_SPOOL_CP_OK);
	ck_assert_uint_eq(seq, 5);
	ck_assert_uint_eq(rawlen, n);
	/* Too long (a block of garbage): damaged, and the bytes are handed
	 * back for quarantine. */
	{
		char junk[200];
		memset(junk, '1', sizeof(junk));
		spill(path, junk, sizeof(junk));
		ck_assert_int_eq(jw_spool_checkpoint_read(
		                         path, &seq, &off, raw, sizeof(raw), &rawlen, why, sizeof(why)),
		        JW_SPOOL_CP_DAMAGED);
		ck_assert_uint_eq(rawlen, 65);
	}
	/* A directory or a FIFO named checkpoint: damaged, never blocks. */
	unlink(path);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(
	        jw_spool_checkpoint_read(path, &seq, &off, raw, sizeof(raw), &rawlen, why, sizeof(why)),
	        JW_SPOOL_CP_DAMAGED);
	ck_assert_str_eq(why, "not a regular file");
	unlink(path);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(
	        jw_spool_checkpoint_read(path, &seq, &off, raw, sizeof(raw), &rawlen, why, sizeof(why)),
	        JW_SPOOL_CP_DAMAGED);
	rm_rf(dir);
}
END_TEST

/* ---- spool segments ---- */

#define NSPOOL 6

/* A segment of NSPOOL journal records of finished jobs; off[i] is where
 * record i starts. */
static unsigned char *write_spool(const char *path, uint64_t off[NSPOOL + 1], size_t *len)
{
	struct jw_kvlog *l;
	char err[256];

	ck_assert_int_eq(jw_kvlog_open(path, &l, NULL, NULL, err, sizeof(err)), 0);
	for(int i = 0; i < NSPOOL; i++) {
		char job[16], key[32], ev[80];
		size_t n;
		char *text;

		snprintf(job, sizeof(job), "job-%d", i);
		snprintf(key, sizeof(key), "sess/%s", job);
		snprintf(ev, sizeof(ev), "{\"ts\":\"2026-01-02T03:04:05.000Z\",\"result\":{\"n\":%d}}", i);
		text = finished_rec("sess", job, ev, "n", 0, &n);
		off[i] = jw_kvlog_size(l);
		ck_assert_int_eq(jw_kvlog_append(l, key, text, n), 0);
		free(text);
	}
	off[NSPOOL] = jw_kvlog_size(l);
	jw_kvlog_close(l);
	return slurp(path, len);
}

/* The journal thread's reading, reduced: batches of at most 2 records
 * from a cursor; damage is kept in a quarantine file when first met. */
struct cursor {
	const char *path;
	int got[NSPOOL * 2]; /* job numbers, in arrival order */
	int n;
	int in_batch;
	uint64_t off; /* past the last record taken or stretch skipped */
	struct jw_kvlog_damage d[4];
	int nd;
	char kept[4][512];
};

static int take_cb(const char *key, const void *val, size_t len, uint64_t end, void *arg)
{
	struct cursor *c = arg;
	struct jw_journal_row row;
	char why[128];
	int job;

	ck_assert_int_eq(jw_journal_rec_decode(val, len, &row, why, sizeof(why)), 0);
	ck_assert_int_eq(sscanf(key, "sess/job-%d", &job), 1);
	ck_assert_str_eq(row.v[1], key + 5);
	jw_journal_row_cleanup(&row);
	c->got[c->n++] = job;
	c->off = end;
	return ++c->in_batch >= 2;
}

static int keep_cb(const struct jw_kvlog_damage *d, void *arg)
{
	struct cursor *c = arg;
	char err[256];

	ck_assert_int_lt(c->nd, 4);
	c->off = d->offset + d->length;
	c->d[c->nd] = *d;
	err[0] = '\0';
	ck_assert_msg(jw_quarantine_copy(c->path, d->offset, d->length, true, c->kept[c->nd],
	                      sizeof(c->kept[0]), err, sizeof(err)) == JW_QUARANTINE_WRITTEN,
	        "%s", err);
	c->nd++;
	return 0;
}

static void read_in_batches(struct cursor *c)
{
	uint64_t end;

	for(int rounds = 0; rounds < 20; rounds++) {
		uint64_t before = c->off;
		c->in_batch = 0;
		ck_assert_int_ge(jw_kvlog_read(c->path, c->off, UINT64_MAX, take_cb, keep_cb, c, &end), 0);
		if(c->off == before) {
			return;
		}
	}
	ck_abort_msg("reading did not finish");
}

static void check_spool_copy(const char *dir, const char *path, const unsigned char *copy,
        size_t len, const uint64_t off[NSPOOL + 1], int k, const char *what)
{
	struct cursor c;
	int want = 0;
	unsigned char *q;
	size_t qlen;

	spill(path, copy, len);
	memset(&c, 0, sizeof(c));
	c.path = path;
	read_in_batches(&c);
	/* Every record but the damaged one, once each, in order. */
	ck_assert_msg(c.n == NSPOOL - 1, "%s: %d records read", what, c.n);
	for(int i = 0; i < c.n; i++, want++) {
		if(want == k) {
			want++;
		}
		ck_assert_int_eq(c.got[i], want);
	}
	ck_assert_msg(c.nd == 1, "%s: %d stretches", what, c.nd);
	ck_assert_uint_eq(c.d[0].offset, off[k]);
	ck_assert_uint_eq(c.d[0].length, off[k + 1] - off[k]);
	ck_assert_uint_eq(c.d[0].records, 1);
	ck_assert_uint_eq(c.off, len);
	/* The quarantine file, next to the segment, holds the damaged bytes. */
	ck_assert(strncmp(c.kept[0], dir, strlen(dir)) == 0);
	q = slurp(c.kept[0], &qlen);
	ck_assert_uint_eq(qlen, off[k + 1] - off[k]);
	ck_assert(memcmp(q, copy + off[k], qlen) == 0);
	free(q);
	ck_assert_int_eq(unlink(c.kept[0]), 0);

	/* The buffer entry point (for fuzzing) sees the same. */
	memset(&c, 0, sizeof(c));
	{
		uint64_t from = 0, end = 0;

		for(int rounds = 0; rounds < 20 && from < len; rounds++) {
			c.in_batch = 0;
			ck_assert_int_ge(
			        jw_kvlog_read_buf(copy, len, from, UINT64_MAX, take_cb, NULL, &c, &end), 0);
			ck_assert_uint_gt(end, from);
			from = end;
		}
		ck_assert_uint_eq(from, len);
		ck_assert_int_eq(c.n, NSPOOL - 1);
	}
}

START_TEST(test_spool_flip_every_byte)
{
	char dir[] = "/tmp/jw-spool-XXXXXX", path[96], what[64];
	uint64_t off[NSPOOL + 1];
	unsigned char *full, *copy;
	size_t len;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/0000000000000000.spool", dir);
	full = write_spool(path, off, &len);
	copy = malloc(len);
	ck_assert_ptr_nonnull(copy);
	for(uint64_t b = 0; b < len; b++) {
		int k = 0;
		while(b >= off[k + 1]) {
			k++;
		}
		memcpy(copy, full, len);
		copy[b] ^= 0xFF;
		snprintf(what, sizeof(what), "byte %llu", (unsigned long long)b);
		check_spool_copy(dir, path, copy, len, off, k, what);
	}
	/* Every bit of the header, of the key and of a few value bytes of a
	 * middle record, and of the last record's last byte. */
	for(uint64_t at = 0; at < 40; at++) {
		uint64_t b = at < 36    ? off[2] + at
		             : at == 36 ? off[2] + 60
		             : at == 37 ? off[3] - 1
		                        : len - 1 - (at - 38);
		int k = b >= off[NSPOOL - 1] ? NSPOOL - 1 : 2;

		for(int bit = 0; bit < 8; bit++) {
			memcpy(copy, full, len);
			copy[b] ^= (unsigned char)(1u << bit);
			snprintf(what, sizeof(what), "bit %d of byte %llu", bit, (unsigned long long)b);
			check_spool_copy(dir, path, copy, len, off, k, what);
		}
	}
	free(copy);
	free(full);
	rm_rf(dir);
}
END_TEST

/* ---- quarantine ---- */

START_TEST(test_quarantine_never_overwrites)
{
	char dir[] = "/tmp/jw-q-XXXXXX", path[64], kept[256], kept2[256], err[256];
	size_t len;
	unsigned char *q;
	int count = 0;
	DIR *d;
	struct dirent *de;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/jobs.log", dir);
	spill(path, "0123456789abcdef", 16);
	ck_assert_int_eq(jw_quarantine_copy(path, 4, 4, false, kept, sizeof(kept), err, sizeof(err)),
	        JW_QUARANTINE_WRITTEN);
	ck_assert_str_eq(strrchr(kept, '/'), "/jobs.log.at-4.damaged");
	ck_assert_int_eq(jw_quarantine_copy(path, 4, 4, false, kept2, sizeof(kept2), err, sizeof(err)),
	        JW_QUARANTINE_ALREADY);
	ck_assert_str_eq(kept, kept2);
	/* Other bytes at the same offset later: a second file, the first
	 * untouched. */
	spill(path, "0123WXYZ89abcdef", 16);
	ck_assert_int_eq(jw_quarantine_copy(path, 4, 4, false, kept2, sizeof(kept2), err, sizeof(err)),
	        JW_QUARANTINE_WRITTEN);
	ck_assert_str_eq(strrchr(kept2, '/'), "/jobs.log.at-4.2.damaged");
	q = slurp(kept, &len);
	ck_assert(len == 4 && memcmp(q, "4567", 4) == 0);
	free(q);
	q = slurp(kept2, &len);
	ck_assert(len == 4 && memcmp(q, "WXYZ", 4) == 0);
	free(q);
	/* Bounded: at most JW_QUARANTINE_MAX_FILES in a directory. */
	for(unsigned i = 0; i < JW_QUARANTINE_MAX_FILES + 5; i++) {
		int rc = jw_quarantine_copy(path, 100 + i, 1, false, kept, sizeof(kept), err, sizeof(err));
		if(i + 2 < JW_QUARANTINE_MAX_FILES) {
			ck_assert_int_eq(rc, JW_QUARANTINE_WRITTEN);
		} else {
			ck_assert_int_eq(rc, -1);
			ck_assert_ptr_nonnull(strstr(err, "move them away"));
		}
	}
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while((de = readdir(d)) != NULL) {
		count += jw_quarantine_is_name(de->d_name);
	}
	closedir(d);
	ck_assert_int_eq(count, JW_QUARANTINE_MAX_FILES);
	rm_rf(dir);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("journal_spool");
	TCase *tc;

	jw_test_case(suite, "names", test_classify_names, NULL);
	jw_test_case(suite, "checkpoint", test_checkpoint_roundtrip, test_checkpoint_hostile,
	        test_checkpoint_every_flip, test_checkpoint_file, NULL);
	tc = tcase_create("segments");
	tcase_add_test(tc, test_spool_flip_every_byte);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(suite, tc);
	jw_test_case(suite, "quarantine", test_quarantine_never_overwrites, NULL);
	return jw_test_run(suite);
}
