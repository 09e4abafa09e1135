/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* The journal's threads (plugin/journal.c) without a broker: records are
 * spooled with one write each and never wait for the database; with
 * PostgreSQL unreachable they stay spooled (and are found again by the
 * next open), the spool cap refuses with ENOSPC, and a stop returns
 * within its deadline. Stray files in the spool directory (huge, negative,
 * non-numeric, overlong names, a directory, a symlink, a FIFO named like a
 * segment) are noted and left alone, and opening stays prompt. With
 * JW_TEST_PG_CONNINFO set (tests/run.sh starts a private cluster for the
 * ThreadSanitizer run) every record reaches the table exactly once while
 * the broker side keeps appending; a damaged byte in a spool segment costs
 * only its record (counted, noted, quarantined); a damaged checkpoint, at
 * any byte, costs nothing; segments with gaps in their numbers are all
 * sent. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "journal.h"
#include "journal_rec.h"
#include "journal_spool.h"
#include "kvlog.h"
#include "persist.h"
#include "quarantine.h"
#include "testutil.h"
#include "util_check.h"

/* JW_TEST_PG_CONNINFO, or NULL (noting that test is skipped) when it is
 * not set. */
static const char *pg_conninfo(const char *test)
{
	const char *conninfo = getenv("JW_TEST_PG_CONNINFO");

	if(conninfo && *conninfo) {
		return conninfo;
	}
	fprintf(stderr, "%s: JW_TEST_PG_CONNINFO not set, skipped\n", test);
	return NULL;
}

/* A loopback port with nothing listening. */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(s, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

static int append_job(struct jw_journal *j, const char *session, int i)
{
	char job[32], key[80], ev[64];
	size_t len;
	char *text;
	int rc;

	snprintf(job, sizeof(job), "job-%d", i);
	snprintf(ev, sizeof(ev), "{\"ts\":\"2026-01-02T03:04:05.000Z\",\"n\":%d}", i);
	text = finished_rec(session, job, ev, "unit", 1767323045000LL, &len);
	snprintf(key, sizeof(key), "%s/%s", session, job);
	rc = jw_journal_append(j, key, text, len);
	free(text);
	return rc;
}

START_TEST(test_spools_while_database_down)
{
	char dir[] = "/tmp/jw-journal-XXXXXX", conninfo[128], err[256];
	struct jw_journal_config cfg;
	struct jw_journal *j = NULL;
	struct jw_journal_stats st;
	uint64_t pending;
	int64_t t0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d dbname=x connect_timeout=1",
	        closed_port());
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.conninfo = conninfo;
	cfg.fsync_policy = JW_FSYNC_INTERVAL;
	cfg.spool_max = 1u << 20;
	cfg.segment_max = 8192; /* several segments */
	ck_assert_msg(jw_journal_open(&cfg, &j, err, sizeof(err)) == 0, "%s", err);
	t0 = now_ms();
	for(int i = 0; i < 500; i++) {
		ck_assert_int_eq(append_job(j, "down", i), 0);
	}
	/* 500 appends: writes only, whatever the database does. */
	ck_assert_int_lt(now_ms() - t0, 2000);
	for(int i = 0; i < 100; i++) {
		jw_journal_stats(j, &st);
		if(st.state == JW_JOURNAL_DOWN) {
			break;
		}
		sleep_ms(20);
	}
	ck_assert_int_eq(st.state, JW_JOURNAL_DOWN);
	ck_assert_uint_eq(st.spooled, 500);
	ck_assert_uint_eq(st.committed, 0);
	ck_assert_uint_gt(st.pending_bytes, 500 * 100);
	pending = st.pending_bytes;
	jw_journal_last_error(j, err, sizeof(err));
	ck_assert_msg(strlen(err) > 0, "no error text");
	t0 = now_ms();
	jw_journal_stop(j, 1000);
	ck_assert_int_lt(now_ms() - t0, 2500);

	/* The next open finds all of it again. */
	ck_assert_msg(jw_journal_open(&cfg, &j, err, sizeof(err)) == 0, "%s", err);
	jw_journal_stats(j, &st);
	ck_assert_uint_eq(st.pending_bytes, pending);
	ck_assert(!st.replay_done);
	jw_journal_stop(j, 200);
	rm_rf(dir);
}
END_TEST

START_TEST(test_cap_refuses)
{
	char dir[] = "/tmp/jw-journal-XXXXXX", conninfo[128], err[256];
	struct jw_journal_config cfg;
	struct jw_journal *j = NULL;
	struct jw_journal_stats st;
	int ok = 0, rc = 0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d connect_timeout=1", closed_port());
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.conninfo = conninfo;
	cfg.fsync_policy = JW_FSYNC_ALWAYS;
	cfg.spool_max = 64 * 1024;
	ck_assert_int_eq(jw_journal_open(&cfg, &j, err, sizeof(err)), 0);
	for(int i = 0; i < 10000 && (rc = append_job(j, "cap", i)) == 0; i++) {
		ok++;
	}
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(errno, ENOSPC);
	ck_assert_int_gt(ok, 100);
	ck_assert(jw_journal_full(j, 200));
	jw_journal_stats(j, &st);
	ck_assert_uint_eq(st.spooled, (uint64_t)ok);
	ck_assert_uint_le(st.pending_bytes, cfg.spool_max);
	jw_journal_stop(j, 200);
	rm_rf(dir);
}
END_TEST

static long count_rows(const char *conninfo, const char *session)
{
	PGconn *c = PQconnectdb(conninfo);
	const char *params[1] = {session};
	PGresult *r;
	long n = -1;

	if(PQstatus(c) == CONNECTION_OK) {
		r = PQexecParams(c, "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id = $1", 1,
		        NULL, params, NULL, NULL, 0);
		if(PQresultStatus(r) == PGRES_TUPLES_OK) {
			n = atol(PQgetvalue(r, 0, 0));
		}
		PQclear(r);
	}
	PQfinish(c);
	return n;
}

START_TEST(test_reaches_postgresql)
{
	const char *conninfo = pg_conninfo("test_reaches_postgresql");
	char dir[] = "/tmp/jw-journal-XXXXXX", err[256], session[32];
	struct jw_journal_config cfg;
	struct jw_journal *j = NULL;
	struct jw_journal_stats st;
	long n = -1;

	if(!conninfo) {
		return;
	}
	snprintf(session, sizeof(session), "unit-%ld", (long)getpid());
	ck_assert_ptr_nonnull(mkdtemp(dir));
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.conninfo = conninfo;
	cfg.fsync_policy = JW_FSYNC_INTERVAL;
	cfg.spool_max = 64u << 20;
	cfg.segment_max = 64 * 1024;
	ck_assert_msg(jw_journal_open(&cfg, &j, err, sizeof(err)) == 0, "%s", err);
	/* Appends race the journal thread's reads, commits and deletes. */
	for(int i = 0; i < 3000; i++) {
		ck_assert_int_eq(append_job(j, session, i), 0);
		if(i % 500 == 0) {
			sleep_ms(5);
		}
	}
	for(int i = 0; i < 300; i++) {
		jw_journal_stats(j, &st);
		if(st.committed >= 3000) {
			break;
		}
		sleep_ms(50);
	}
	ck_assert_uint_eq(st.committed, 3000);
	ck_assert_uint_eq(st.pending_bytes, 0);
	ck_assert_int_eq(st.state, JW_JOURNAL_UP);
	/* Repeats of the same jobs add nothing. */
	for(int i = 0; i < 100; i++) {
		ck_assert_int_eq(append_job(j, session, i), 0);
	}
	jw_journal_stop(j, 5000);
	n = count_rows(conninfo, session);
	ck_assert_int_eq(n, 3000);
	/* Consumed segments are gone: at most the last one is left. */
	ck_assert_msg(jw_journal_open(&cfg, &j, err, sizeof(err)) == 0, "%s", err);
	jw_journal_stats(j, &st);
	ck_assert_uint_eq(st.pending_bytes, 0);
	ck_assert_uint_le(st.spool_bytes, cfg.segment_max + 4096);
	jw_journal_stop(j, 2000);
	rm_rf(dir);
}
END_TEST

/* ---- stray files and damage ---- */

/* A segment file written directly: jobs from..to-1 of session. */
static void write_segment(const char *path, const char *session, int from, int to)
{
	struct jw_kvlog *l;
	char err[256];

	ck_assert_msg(jw_kvlog_open(path, &l, NULL, NULL, err, sizeof(err)) == 0, "%s", err);
	for(int i = from; i < to; i++) {
		char job[32], key[80], ev[64];
		size_t len;
		char *text;

		snprintf(job, sizeof(job), "job-%d", i);
		snprintf(ev, sizeof(ev), "{\"ts\":\"2026-01-02T03:04:05.000Z\",\"n\":%d}", i);
		text = finished_rec(session, job, ev, "unit", 0, &len);
		snprintf(key, sizeof(key), "%s/%s", session, job);
		ck_assert_int_eq(jw_kvlog_append(l, key, text, len), 0);
		free(text);
	}
	jw_kvlog_close(l);
}

static uint64_t size_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* Drains the journal's notes into one string (lines joined by '\n'). */
static void notes_text(struct jw_journal *j, char *buf, size_t buflen, size_t *count)
{
	struct jw_note notes[JW_NOTES_MAX];
	uint64_t dropped;
	size_t n = jw_journal_notes(j, notes, JW_NOTES_MAX, &dropped), used = 0;

	buf[0] = '\0';
	for(size_t i = 0; i < n && used < buflen; i++) {
		int w = snprintf(buf + used, buflen - used, "%s\n", notes[i].text);
		used += w > 0 ? (size_t)w : 0;
	}
	*count = n + (size_t)dropped;
}

/* The spool directory with strays of every kind next to two real
 * segments far apart in number. */
static void make_strays(const char *jdir, const char *session)
{
	char path[512];
	int fd;
	const char *files[] = {"9999999999999999.spool", "-000000000000001.spool",
	        "abcdefghijklmnop.spool", "00000000000000001.spool", "README"};

	ck_assert_int_eq(mkdir(jdir, 0700), 0);
	for(size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", jdir, files[i]);
		spill(path, "JWK1 not a segment", 18);
	}
	snprintf(path, sizeof(path), "%s/0000000000000005.spool", jdir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/0000000000000006.spool", jdir);
	ck_assert_int_eq(symlink("/dev/zero", path), 0);
	snprintf(path, sizeof(path), "%s/0000000000000007.spool", jdir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	snprintf(path, sizeof(path), "%s/0000000000000002.spool", jdir);
	write_segment(path, session, 0, 3);
	snprintf(path, sizeof(path), "%s/0000000900000000.spool", jdir);
	write_segment(path, session, 3, 5);
	/* Readable by nobody but a directory scan: still only a name. */
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

START_TEST(test_stray_files)
{
	char dir[] = "/tmp/jw-journal-XXXXXX", jdir[64], conninfo[128], err[256], path[256], text[8192];
	struct jw_journal_config cfg;
	struct jw_journal *j = NULL;
	struct jw_journal_stats st;
	uint64_t expect;
	size_t count;
	int64_t t0;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(jdir, sizeof(jdir), "%s/journal", dir);
	make_strays(jdir, "stray");
	snprintf(path, sizeof(path), "%s/0000000000000002.spool", jdir);
	expect = size_of(path);
	snprintf(path, sizeof(path), "%s/0000000900000000.spool", jdir);
	expect += size_of(path);
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d connect_timeout=1", closed_port());
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.conninfo = conninfo;
	cfg.fsync_policy = JW_FSYNC_INTERVAL;
	cfg.spool_max = 1u << 20;
	t0 = now_ms();
	ck_assert_msg(jw_journal_open(&cfg, &j, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_lt(now_ms() - t0, 1000);
	jw_journal_stats(j, &st);
	ck_assert_uint_eq(st.strays, 8);
	ck_assert_uint_eq(st.pending_bytes, expect);
	notes_text(j, text, sizeof(text), &count);
	ck_assert_uint_eq(count, 8);
	ck_assert_ptr_nonnull(strstr(text, "9999999999999999.spool: segment number out of range"));
	ck_assert_ptr_nonnull(strstr(text, "-000000000000001.spool: not a journal file"));
	ck_assert_ptr_nonnull(strstr(text, "abcdefghijklmnop.spool: not a journal file"));
	ck_assert_ptr_nonnull(strstr(text, "00000000000000001.spool: not a journal file"));
	ck_assert_ptr_nonnull(strstr(text, "README: not a journal file"));
	ck_assert_ptr_nonnull(strstr(
	        text, "0000000000000005.spool: named like a spool segment but not a regular file"));
	ck_assert_ptr_nonnull(strstr(
	        text, "0000000000000006.spool: named like a spool segment but not a regular file"));
	ck_assert_ptr_nonnull(strstr(
	        text, "0000000000000007.spool: named like a spool segment but not a regular file"));
	/* New records go to a segment numbered past every name. */
	ck_assert_int_eq(append_job(j, "stray", 5), 0);
	snprintf(path, sizeof(path), "%s/0000000900000001.spool", jdir);
	ck_assert_uint_gt(size_of(path), 0);
	t0 = now_ms();
	jw_journal_stop(j, 500);
	ck_assert_int_lt(now_ms() - t0, 1500);
	/* Left alone. */
	snprintf(path, sizeof(path), "%s/9999999999999999.spool", jdir);
	ck_assert_uint_eq(size_of(path), 18);
	snprintf(path, sizeof(path), "%s/0000000000000005.spool", jdir);
	{
		struct stat sb;
		ck_assert_int_eq(lstat(path, &sb), 0);
		ck_assert(S_ISDIR(sb.st_mode));
		snprintf(path, sizeof(path), "%s/0000000000000006.spool", jdir);
		ck_assert_int_eq(lstat(path, &sb), 0);
		ck_assert(S_ISLNK(sb.st_mode));
	}
	rm_rf(dir);
}
END_TEST

static PGconn *db(const char *conninfo)
{
	PGconn *c = PQconnectdb(conninfo);

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	return c;
}

static void exec_ok(PGconn *c, const char *sql, const char *p1)
{
	const char *params[1] = {p1};
	PGresult *r = PQexecParams(c, sql, p1 ? 1 : 0, NULL, params, NULL, NULL, 0);

	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
	        "%s", PQresultErrorMessage(r));
	PQclear(r);
}

/* Opens the journal on dir and waits until everything spooled is in
 * PostgreSQL. */
static struct jw_journal *open_caught_up(
        const char *dir, const char *conninfo, struct jw_journal_stats *st)
{
	struct jw_journal_config cfg;
	struct jw_journal *j = NULL;
	char err[256];

	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.conninfo = conninfo;
	cfg.fsync_policy = JW_FSYNC_INTERVAL;
	cfg.spool_max = 64u << 20;
	ck_assert_msg(jw_journal_open(&cfg, &j, err, sizeof(err)) == 0, "%s", err);
	for(int i = 0; i < 600; i++) {
		jw_journal_stats(j, st);
		if(st->replay_done && st->pending_bytes == 0 && st->state == JW_JOURNAL_UP) {
			return j;
		}
		sleep_ms(20);
	}
	ck_abort_msg("the journal did not catch up");
	return j;
}

#define NDMG 20

/* One byte changed in the middle of a spool segment left while PostgreSQL
 * was down: every other job gets its row; the damaged record is counted,
 * named in a note (file and offset) and kept in a quarantine file. */
START_TEST(test_damaged_spool_byte)
{
	const char *conninfo = pg_conninfo("test_damaged_spool_byte");
	char dir[] = "/tmp/jw-journal-XXXXXX", seg[128], session[32], want[256], text[8192], qpath[256];
	uint64_t off[NDMG + 1];
	struct jw_journal_stats st;
	struct jw_journal *j;
	struct jw_kvlog *l;
	unsigned char *bytes, *q;
	size_t len, qlen, count;
	uint64_t mid;
	int k = 0;
	char err[256];

	if(!conninfo) {
		return;
	}
	snprintf(session, sizeof(session), "dmg-%ld", (long)getpid());
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(seg, sizeof(seg), "%s/journal", dir);
	ck_assert_int_eq(mkdir(seg, 0700), 0);
	snprintf(seg, sizeof(seg), "%s/journal/0000000000000000.spool", dir);
	write_segment(seg, session, 0, NDMG);
	/* Where each record starts, from the same framing. */
	ck_assert_int_eq(jw_kvlog_open(seg, &l, NULL, NULL, err, sizeof(err)), 0);
	jw_kvlog_close(l);
	bytes = slurp(seg, &len);
	{
		uint64_t at = 0;
		for(int i = 0; i < NDMG; i++) {
			uint32_t klen = (uint32_t)bytes[at + 4] | (uint32_t)bytes[at + 5] << 8;
			uint32_t vlen = (uint32_t)bytes[at + 8] | (uint32_t)bytes[at + 9] << 8 |
			                (uint32_t)bytes[at + 10] << 16;
			off[i] = at;
			at += 16 + klen + vlen;
		}
		off[NDMG] = at;
		ck_assert_uint_eq(at, len);
	}
	mid = len / 2;
	while(mid >= off[k + 1]) {
		k++;
	}
	bytes[mid] ^= 0x5A;
	spill(seg, bytes, len);

	j = open_caught_up(dir, conninfo, &st);
	ck_assert_uint_eq(st.committed, NDMG - 1);
	ck_assert_uint_eq(st.damaged_records, 1);
	ck_assert_uint_eq(st.damaged_bytes, off[k + 1] - off[k]);
	ck_assert_uint_eq(st.quarantined, 1);
	notes_text(j, text, sizeof(text), &count);
	ck_assert_uint_eq(count, 1);
	snprintf(want, sizeof(want), "skipped %llu damaged bytes at offset %llu of %s",
	        (unsigned long long)(off[k + 1] - off[k]), (unsigned long long)off[k], seg);
	ck_assert_msg(strstr(text, want) != NULL, "[%s] lacks [%s]", text, want);
	jw_journal_stop(j, 2000);
	ck_assert_int_eq(count_rows(conninfo, session), NDMG - 1);
	/* The segment is consumed and deleted; its damaged bytes are kept. */
	ck_assert_int_eq(access(seg, F_OK), -1);
	snprintf(qpath, sizeof(qpath), "%s.at-%llu.damaged", seg, (unsigned long long)off[k]);
	q = slurp(qpath, &qlen);
	ck_assert_uint_eq(qlen, off[k + 1] - off[k]);
	ck_assert(memcmp(q, bytes + off[k], qlen) == 0);
	free(q);
	free(bytes);
	rm_rf(dir);
}
END_TEST

/* The checkpoint damaged at every byte (and to the old format's text, and
 * to a position that is not a record boundary): no job is lost; what
 * PostgreSQL already had is sent again and ignored. Segments whose numbers
 * leave gaps are all sent. */
START_TEST(test_damaged_checkpoint)
{
	const char *conninfo = pg_conninfo("test_damaged_checkpoint");
	char dir[] = "/tmp/jw-journal-XXXXXX", work[64], cp[128], session[32], cmd[512], text[8192];
	struct jw_journal_config cfg;
	struct jw_journal_stats st;
	struct jw_journal *j;
	unsigned char *good;
	size_t cplen, count;
	PGconn *c;
	char err[256];

	if(!conninfo) {
		return;
	}
	snprintf(session, sizeof(session), "cp-%ld", (long)getpid());
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(work, sizeof(work), "%s/w", dir);
	ck_assert_int_eq(mkdir(work, 0700), 0);
	/* 20 jobs in PostgreSQL (the checkpoint behind them), then 10 more
	 * spooled while it is unreachable. */
	j = open_caught_up(work, conninfo, &st);
	for(int i = 0; i < 20; i++) {
		ck_assert_int_eq(append_job(j, session, i), 0);
	}
	for(int i = 0; i < 300; i++) {
		jw_journal_stats(j, &st);
		if(st.committed >= 20) {
			break;
		}
		sleep_ms(20);
	}
	ck_assert_uint_eq(st.committed, 20);
	jw_journal_stop(j, 2000);
	{
		char down[128];
		snprintf(down, sizeof(down), "host=127.0.0.1 port=%d connect_timeout=1", closed_port());
		memset(&cfg, 0, sizeof(cfg));
		cfg.data_dir = work;
		cfg.conninfo = down;
		cfg.fsync_policy = JW_FSYNC_INTERVAL;
		cfg.spool_max = 64u << 20;
		ck_assert_msg(jw_journal_open(&cfg, &j, err, sizeof(err)) == 0, "%s", err);
		for(int i = 20; i < 30; i++) {
			ck_assert_int_eq(append_job(j, session, i), 0);
		}
		jw_journal_stop(j, 200);
	}
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s/saved'", work, dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(cp, sizeof(cp), "%s/journal/checkpoint", work);
	good = slurp(cp, &cplen);
	c = db(conninfo);

	for(size_t b = 0; b <= cplen + 2; b++) {
		unsigned char bad[80];
		size_t badlen = cplen;
		bool damaged = true;

		memcpy(bad, good, cplen);
		if(b < cplen) {
			bad[b] ^= 0x01;
		} else if(b == cplen) {
			/* The format before checksums, pointing at a boundary: used. */
			badlen = (size_t)(strchr((char *)bad, ' ') - (char *)bad);
			badlen += strcspn((char *)bad + badlen + 1, " ") + 1;
			bad[badlen++] = '\n';
			damaged = false;
		} else if(b == cplen + 1) {
			/* The old format, not at a boundary: not trusted. */
			badlen = (size_t)snprintf((char *)bad, sizeof(bad), "0 7\n");
		} else {
			/* Garbage. */
			badlen = 40;
			memset(bad, 0xA5, badlen);
		}
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -a '%s/saved' '%s'", work, dir, work);
		ck_assert_int_eq(system(cmd), 0);
		spill(cp, bad, badlen);
		exec_ok(c,
		        "DELETE FROM jobwire_finished_jobs WHERE session_id = $1 AND substr(job_id, "
		        "5)::int >= 20",
		        session);
		ck_assert_int_eq(count_rows(conninfo, session), 20);

		j = open_caught_up(work, conninfo, &st);
		ck_assert_msg(st.checkpoint_damaged == (damaged ? 1u : 0u),
		        "case %zu: checkpoint_damaged %llu", b, (unsigned long long)st.checkpoint_damaged);
		ck_assert_uint_eq(st.committed, damaged ? 30 : 10);
		notes_text(j, text, sizeof(text), &count);
		if(damaged) {
			ck_assert_msg(strstr(text, "checkpoint") &&
			                      strstr(text, "reading the spool from its oldest segment"),
			        "case %zu: %s", b, text);
		}
		jw_journal_stop(j, 2000);
		ck_assert_msg(count_rows(conninfo, session) == 30, "case %zu: %ld rows", b,
		        count_rows(conninfo, session));
	}
	PQfinish(c);
	free(good);
	rm_rf(dir);
}
END_TEST

/* Segments numbered far apart, with stray files around them: all sent,
 * then deleted; the strays stay. */
START_TEST(test_gaps_and_strays_reach_postgresql)
{
	const char *conninfo = pg_conninfo("test_gaps_and_strays_reach_postgresql");
	char dir[] = "/tmp/jw-journal-XXXXXX", jdir[64], session[32], path[256];
	struct jw_journal_stats st;
	struct jw_journal *j;
	int64_t t0;

	if(!conninfo) {
		return;
	}
	snprintf(session, sizeof(session), "gap-%ld", (long)getpid());
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(jdir, sizeof(jdir), "%s/journal", dir);
	make_strays(jdir, session);
	t0 = now_ms();
	j = open_caught_up(dir, conninfo, &st);
	ck_assert_int_lt(now_ms() - t0, 10000);
	ck_assert_uint_eq(st.committed, 5);
	jw_journal_stop(j, 2000);
	ck_assert_int_eq(count_rows(conninfo, session), 5);
	snprintf(path, sizeof(path), "%s/0000000000000002.spool", jdir);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/0000000900000000.spool", jdir);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/9999999999999999.spool", jdir);
	ck_assert_int_eq(access(path, F_OK), 0);
	rm_rf(dir);
}
END_TEST

/* Opens the journal on dir with PostgreSQL unreachable, checks that it
 * finds pending bytes pending (unless UINT64_MAX), appends jobs
 * from..to-1 of session, stops it. Returns the bytes pending at the
 * stop. */
static uint64_t run_down(
        const char *dir, const char *what, uint64_t pending, const char *session, int from, int to)
{
	char conninfo[128], err[256];
	struct jw_journal_config cfg;
	struct jw_journal_stats st;
	struct jw_journal *j = NULL;

	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d dbname=x connect_timeout=1",
	        closed_port());
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.conninfo = conninfo;
	cfg.fsync_policy = JW_FSYNC_INTERVAL;
	cfg.spool_max = 16u << 20;
	ck_assert_msg(jw_journal_open(&cfg, &j, err, sizeof(err)) == 0, "%s", err);
	jw_journal_stats(j, &st);
	ck_assert_msg(pending == UINT64_MAX || st.pending_bytes == pending,
	        "%s: %llu bytes pending after a restart, %llu before it", what,
	        (unsigned long long)st.pending_bytes, (unsigned long long)pending);
	for(int i = from; i < to; i++) {
		ck_assert_int_eq(append_job(j, session, i), 0);
	}
	jw_journal_stats(j, &st);
	jw_journal_stop(j, 200);
	return st.pending_bytes;
}

/* PostgreSQL down, jobs finished, the broker restarted twice with
 * PostgreSQL still down (more jobs finishing in each run), then up: every
 * job has its row, once. Also when the checkpoint an earlier run left
 * names a place not on disk (ahead of the segments, or no segment at
 * all): the start that adjusts it must make the adjustment durable, or
 * the next start skips what was spooled meanwhile. Without a database the
 * case still checks that each restart finds every byte pending. */
START_TEST(test_restarts_while_database_down)
{
	const char *conninfo = getenv("JW_TEST_PG_CONNINFO");
	static const struct {
		const char *name;
		uint64_t cp_seq, cp_off; /* UINT64_MAX: no checkpoint */
		bool old_format;         /* without a checksum */
		bool old_segments;       /* segments 2 and 11, of another session */
		long old_rows;           /* of those, rows expected */
	} cases[] = {
	        {"no checkpoint", UINT64_MAX, 0, false, false, 0},
	        {"checkpoint ahead, no segment", 7, 500, false, false, 0},
	        /* Behind the checkpoint: in PostgreSQL as far as it says. */
	        {"checkpoint ahead of the segments", 80, 2, false, true, 0},
	        /* Rejected (no segment 12), until this run writes segment 12. */
	        {"old format naming the next segment", 12, 0, true, true, 4},
	};

	for(size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char dir[] = "/tmp/jw-journal-XXXXXX", jdir[64], path[128], session[48], old[48];
		uint64_t pending;

		snprintf(session, sizeof(session), "rs-%ld-%zu", (long)getpid(), c);
		snprintf(old, sizeof(old), "rs-old-%ld-%zu", (long)getpid(), c);
		ck_assert_ptr_nonnull(mkdtemp(dir));
		snprintf(jdir, sizeof(jdir), "%s/journal", dir);
		ck_assert_int_eq(mkdir(jdir, 0700), 0);
		if(cases[c].cp_seq != UINT64_MAX) {
			char text[64];
			size_t n = cases[c].old_format ? (size_t)snprintf(text, sizeof(text), "%llu %llu\n",
			                                         (unsigned long long)cases[c].cp_seq,
			                                         (unsigned long long)cases[c].cp_off)
			                               : jw_spool_checkpoint_format(text, sizeof(text),
			                                         cases[c].cp_seq, cases[c].cp_off);

			ck_assert_uint_gt(n, 0);
			snprintf(path, sizeof(path), "%s/checkpoint", jdir);
			spill(path, text, n);
		}
		if(cases[c].old_segments) {
			snprintf(path, sizeof(path), "%s/0000000000000002.spool", jdir);
			write_segment(path, old, 0, 2);
			snprintf(path, sizeof(path), "%s/0000000000000011.spool", jdir);
			write_segment(path, old, 2, 4);
		}
		pending = run_down(dir, cases[c].name, UINT64_MAX, session, 0, 10);
		pending = run_down(dir, cases[c].name, pending, session, 10, 20);
		pending = run_down(dir, cases[c].name, pending, session, 20, 30);
		if(conninfo && *conninfo) {
			struct jw_journal_stats st;
			struct jw_journal *j = open_caught_up(dir, conninfo, &st);

			ck_assert_uint_eq(st.committed, 30 + (uint64_t)cases[c].old_rows);
			jw_journal_stop(j, 2000);
			ck_assert_msg(count_rows(conninfo, session) == 30, "%s: %ld rows of 30", cases[c].name,
			        count_rows(conninfo, session));
			ck_assert_msg(count_rows(conninfo, old) == cases[c].old_rows,
			        "%s: %ld earlier rows of %ld", cases[c].name, count_rows(conninfo, old),
			        cases[c].old_rows);
		} else {
			ck_assert_uint_eq(run_down(dir, cases[c].name, pending, session, 30, 30), pending);
			if(c == 0) {
				fprintf(stderr, "test_restarts_while_database_down: JW_TEST_PG_CONNINFO not set, "
				                "checking pending bytes only\n");
			}
		}
		rm_rf(dir);
	}
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("journal");
	TCase *tc = tcase_create("threads");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_spools_while_database_down);
	tcase_add_test(tc, test_cap_refuses);
	tcase_add_test(tc, test_reaches_postgresql);
	suite_add_tcase(suite, tc);
	tc = tcase_create("disk");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_stray_files);
	tcase_add_test(tc, test_damaged_spool_byte);
	tcase_add_test(tc, test_damaged_checkpoint);
	tcase_add_test(tc, test_gaps_and_strays_reach_postgresql);
	tcase_add_test(tc, test_restarts_while_database_down);
	suite_add_tcase(suite, tc);
	return jw_test_run(suite);
}
