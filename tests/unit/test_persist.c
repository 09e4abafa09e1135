/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Proves the job table's writer thread gets every record put before stop
 * into the log with the newest value per key, never makes put wait for the
 * disk, keeps records through write and sync failures until they succeed,
 * honours the stop deadline, syncs per policy and compacts a grown log;
 * and that a damaged byte anywhere in jobs.log costs only its record, which
 * is counted, reported in one line naming the file and offset, and kept in
 * a quarantine file. No mosquitto: plugin/persist.c is compiled into this
 * test. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "kvlog.h"
#include "persist.h"
#include "quarantine.h"
#include "seen.h"
#include "testutil.h"
#include "util_check.h"

/* ---- helpers ---- */

struct tdir {
	char root[64]; /* mkdtemp */
	char data[96]; /* root/data: created by the code under test */
	char log[128]; /* data/jobs.log */
	char tmp[136]; /* data/jobs.log.tmp */
};

static void tdir_init(struct tdir *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/jw-persist-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->root));
	snprintf(t->data, sizeof(t->data), "%s/data", t->root);
	snprintf(t->log, sizeof(t->log), "%s/jobs.log", t->data);
	snprintf(t->tmp, sizeof(t->tmp), "%s/jobs.log.tmp", t->data);
}

/* Removes the quarantine files in data; returns how many there were. */
static int remove_quarantine(const struct tdir *t)
{
	DIR *d = opendir(t->data);
	struct dirent *de;
	char path[512];
	int n = 0;

	if(!d) {
		return 0;
	}
	while((de = readdir(d)) != NULL) {
		if(jw_quarantine_is_name(de->d_name)) {
			snprintf(path, sizeof(path), "%s/%s", t->data, de->d_name);
			ck_assert_int_eq(unlink(path), 0);
			n++;
		}
	}
	closedir(d);
	return n;
}

static void tdir_cleanup(struct tdir *t)
{
	remove_quarantine(t);
	unlink(t->log);
	rmdir(t->tmp); /* a directory in the compaction failure test */
	unlink(t->tmp);
	rmdir(t->data);
	unlink(t->data); /* a file in the error tests */
	ck_assert_int_eq(rmdir(t->root), 0);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct jw_persist_stats stats_of(struct jw_persist *p)
{
	struct jw_persist_stats st;

	jw_persist_stats(p, &st);
	return st;
}

/* Polls stats until cond holds; fails the test after timeout_ms (generous:
 * the suite also runs under valgrind and ThreadSanitizer). */
#define WAIT_FOR(p, st, cond, timeout_ms)                                                          \
	do {                                                                                           \
		int64_t wait_end_ = now_ms() + (timeout_ms);                                               \
		for(;;) {                                                                                  \
			(st) = stats_of(p);                                                                    \
			if(cond) {                                                                             \
				break;                                                                             \
			}                                                                                      \
			ck_assert_msg(now_ms() < wait_end_, "timed out waiting for %s", #cond);                \
			sleep_ms(1);                                                                           \
		}                                                                                          \
	} while(0)

static struct jw_persist *start_ok(const char *dir, enum jw_fsync_policy policy)
{
	struct jw_persist *p = NULL;
	char err[256] = "";

	ck_assert_msg(jw_persist_start(dir, policy, &p, err, sizeof(err)) == 0, "%s", err);
	ck_assert_ptr_nonnull(p);
	return p;
}

static void put_s(struct jw_persist *p, const char *key, const char *val)
{
	ck_assert_int_eq(jw_persist_put(p, key, val, strlen(val)), 0);
}

static void load_into(const char *dir, struct seen *s)
{
	char err[256] = "";

	memset(s, 0, sizeof(*s));
	ck_assert_msg(jw_persist_load(dir, seen_cb, NULL, s, NULL, err, sizeof(err)) == 0, "%s", err);
}

/* How many live keys a load of dir delivers. */
static size_t live_keys(const char *dir)
{
	struct seen s;
	size_t n;

	load_into(dir, &s);
	n = s.n;
	seen_free(&s);
	return n;
}

/* Records in the log file (every version, not just live keys). */
static uint64_t log_records(const char *log)
{
	struct jw_kvlog_replay_stats st;
	struct seen s = {0};
	char err[256] = "";

	ck_assert_msg(jw_kvlog_replay(log, seen_cb, NULL, &s, &st, err, sizeof(err)) == 0, "%s", err);
	seen_free(&s);
	ck_assert_uint_eq(st.torn_at, UINT64_MAX);
	return st.records;
}

/* ---- load and start ---- */

START_TEST(test_load_creates_dir)
{
	struct tdir t;
	struct seen s;
	struct stat sb;
	char err[256] = "";
	char deep[160];
	FILE *f;

	tdir_init(&t);
	ck_assert_uint_eq(live_keys(t.data), 0);
	ck_assert_int_eq(stat(t.data, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 0777u, 0700u);
	/* Existing and empty: still fine. */
	load_into(t.data, &s);
	seen_free(&s);

	/* Only the last component is created. */
	snprintf(deep, sizeof(deep), "%s/a/b", t.root);
	ck_assert_int_eq(jw_persist_load(deep, seen_cb, NULL, &s, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, deep));
	ck_assert_int_eq(rmdir(t.data), 0);

	/* A file where the directory should be. */
	f = fopen(t.data, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(jw_persist_load(t.data, seen_cb, NULL, &s, NULL, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, t.data));
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_start_errors)
{
	struct tdir t;
	struct jw_persist *p = (struct jw_persist *)&t;
	char err[256] = "";
	FILE *f;

	tdir_init(&t);
	ck_assert_int_eq(jw_persist_start(t.data, (enum jw_fsync_policy)42, &p, err, sizeof(err)), -1);
	ck_assert_ptr_null(p);
	f = fopen(t.data, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	p = (struct jw_persist *)&t;
	ck_assert_int_eq(jw_persist_start(t.data, JW_FSYNC_ALWAYS, &p, err, sizeof(err)), -1);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(err, t.data));
	jw_persist_stop(NULL, 100);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_put_rejects_bad_arguments)
{
	struct tdir t;
	struct jw_persist *p;
	char key[JW_KVLOG_KEY_MAX + 2];
	struct seen s;

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_ALWAYS);
	memset(key, 'k', sizeof(key));
	key[sizeof(key) - 1] = '\0';
	ck_assert_fails(jw_persist_put(p, key, "v", 1), EINVAL);
	ck_assert_fails(jw_persist_put(p, "", "v", 1), EINVAL);
	ck_assert_fails(jw_persist_put(p, NULL, "v", 1), EINVAL);
	ck_assert_fails(jw_persist_put(p, "k", NULL, 3), EINVAL);
	ck_assert_fails(jw_persist_put(p, "k", "v", (size_t)JW_KVLOG_VAL_MAX + 1), EINVAL);
	ck_assert_int_eq(jw_persist_delete(p, ""), -1);
	ck_assert_int_eq(jw_persist_put(NULL, "k", "v", 1), -1);
	/* Empty values are values. */
	ck_assert_int_eq(jw_persist_put(p, "empty", NULL, 0), 0);
	key[JW_KVLOG_KEY_MAX] = '\0';
	ck_assert_int_eq(jw_persist_put(p, key, "max", 3), 0);
	jw_persist_stop(p, 5000);
	load_into(t.data, &s);
	ck_assert_uint_eq(s.n, 2);
	seen_assert_value(&s, "empty", "");
	seen_assert_value(&s, key, "max");
	seen_free(&s);
	tdir_cleanup(&t);
}
END_TEST

/* ---- put, coalesce, stop, replay ---- */

START_TEST(test_put_coalesce_stop)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	struct seen s;
	char val[32];

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_ALWAYS);
	/* Hold the writer in its retry backoff (100 + 200 + 400 ms) so the
	 * puts below pile up behind it. */
	jw_persist__fail_next_writes(p, 3);
	put_s(p, "job", "v0");
	WAIT_FOR(p, st, st.write_errors >= 1 && st.failing, 10000);
	ck_assert_int_eq(st.last_errno, ENOSPC);
	ck_assert_uint_ge(st.pending, 1); /* kept, not dropped */
	for(int i = 1; i <= 1000; i++) {
		snprintf(val, sizeof(val), "v%d", i);
		put_s(p, "job", val);
	}
	put_s(p, "other", "x");
	put_s(p, "gone", "y");
	ck_assert_int_eq(jw_persist_delete(p, "gone"), 0);
	st = stats_of(p);
	/* At most one record per distinct key in each of the two stages. */
	ck_assert_uint_le(st.pending, 6);
	jw_persist_stop(p, 10000);

	load_into(t.data, &s);
	ck_assert_uint_eq(s.n, 2);
	seen_assert_value(&s, "job", "v1000");
	seen_assert_value(&s, "other", "x");
	ck_assert_ptr_null(seen_get(&s, "gone"));
	seen_free(&s);
	/* 1003 puts, a handful of records. */
	ck_assert_uint_le(log_records(t.log), 10);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_restart_cycle)
{
	struct tdir t;
	struct jw_persist *p;
	struct seen s;
	FILE *f;

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_INTERVAL);
	put_s(p, "a", "1");
	put_s(p, "b", "2");
	jw_persist_stop(p, 5000);
	ck_assert_uint_eq(live_keys(t.data), 2);

	/* A crash left half a record: start cuts it, appends carry on. */
	f = fopen(t.log, "ab");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite("JWK1\x03\x00", 1, 6, f), 6);
	fclose(f);
	p = start_ok(t.data, JW_FSYNC_INTERVAL);
	ck_assert_int_eq(jw_persist_delete(p, "a"), 0);
	put_s(p, "c", "3");
	put_s(p, "b", "22");
	jw_persist_stop(p, 5000);
	load_into(t.data, &s);
	ck_assert_uint_eq(s.n, 2);
	seen_assert_value(&s, "b", "22");
	seen_assert_value(&s, "c", "3");
	seen_free(&s);
	ck_assert_uint_eq(log_records(t.log), 5);
	tdir_cleanup(&t);
}
END_TEST

/* ---- the broker thread never waits ---- */

struct poller {
	struct jw_persist *p;
	atomic_bool stop;
	uint64_t polls;
};

static void *poll_stats(void *arg)
{
	struct poller *pl = arg;

	while(!atomic_load(&pl->stop)) {
		struct jw_persist_stats st;
		jw_persist_stats(pl->p, &st);
		pl->polls++;
		sleep_ms(1);
	}
	return NULL;
}

START_TEST(test_many_puts_latency)
{
	enum { PUTS = 50000, KEYS = 2000 };
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	struct poller pl;
	pthread_t th;
	struct seen s;
	char key[64], val[300];
	int64_t worst_ns = 0;

	tdir_init(&t);
	/* ALWAYS: an fdatasync per batch, the slowest writer there is. */
	p = start_ok(t.data, JW_FSYNC_ALWAYS);
	pl.p = p;
	atomic_init(&pl.stop, false);
	pl.polls = 0;
	ck_assert_int_eq(pthread_create(&th, NULL, poll_stats, &pl), 0);
	memset(val, '.', sizeof(val));
	for(int i = 0; i < PUTS; i++) {
		int64_t t0, dt;
		int n;

		snprintf(key, sizeof(key), "session-%d/job-%d", (i % KEYS) % 13, i % KEYS);
		n = snprintf(val, sizeof(val), "{\"seq\":%d,\"pad\":\"", i);
		val[n] = '.';
		t0 = now_ns();
		ck_assert_int_eq(jw_persist_put(p, key, val, (size_t)(100 + i % 150)), 0);
		dt = now_ns() - t0;
		if(dt > worst_ns) {
			worst_ns = dt;
		}
		if(i % 5000 == 0) {
			ck_assert_uint_eq(stats_of(p).write_errors, 0);
		}
	}
	/* Stop the poller before any check can fail: it reads pl, which lives
	 * on this stack. */
	atomic_store(&pl.stop, true);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_uint_gt(pl.polls, 0);
	/* A sanity bound, not a benchmark: the lock only guards a map update,
	 * so a put never waits for the disk. Loose enough for valgrind, which
	 * runs this test too and slows everything tens of times. */
	ck_assert_msg(
	        worst_ns < 500 * 1000000LL, "worst put took %lld us", (long long)(worst_ns / 1000));
	st = stats_of(p);
	ck_assert_uint_le(st.pending, 2 * KEYS);
	jw_persist_stop(p, 30000);

	load_into(t.data, &s);
	ck_assert_uint_eq(s.n, KEYS);
	for(int k = 0; k < KEYS; k++) {
		int last = PUTS - KEYS + k; /* the last i with i % KEYS == k */
		int n;

		snprintf(key, sizeof(key), "session-%d/job-%d", k % 13, k);
		ck_assert_ptr_nonnull(seen_get(&s, key));
		n = snprintf(val, sizeof(val), "{\"seq\":%d,\"pad\":\"", last);
		ck_assert_msg(strncmp(seen_get(&s, key)->val, val, (size_t)n) == 0, "key %s is stale", key);
	}
	seen_free(&s);
	tdir_cleanup(&t);
}
END_TEST

/* ---- stop ---- */

START_TEST(test_stop_deadline_with_failing_disk)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	int64_t t0, elapsed;

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_ALWAYS);
	jw_persist__fail_next_writes(p, UINT_MAX);
	put_s(p, "a", "1");
	put_s(p, "b", "2");
	WAIT_FOR(p, st, st.write_errors >= 1, 10000);
	ck_assert_uint_eq(st.pending, 2);
	t0 = now_ms();
	jw_persist_stop(p, 300);
	elapsed = now_ms() - t0;
	/* It did wait (the writer kept retrying), and not much longer. */
	ck_assert_int_ge(elapsed, 290);
	ck_assert_int_lt(elapsed, 3000);
	/* Nothing was written; the log is still a valid (empty) log. */
	ck_assert_uint_eq(live_keys(t.data), 0);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_stop_is_prompt_when_healthy)
{
	struct tdir t;
	struct jw_persist *p;
	char key[32];
	int64_t t0;

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_INTERVAL);
	for(int i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		put_s(p, key, "v");
	}
	t0 = now_ms();
	jw_persist_stop(p, 60000);
	/* Returns when the work is done, not at the deadline. */
	ck_assert_int_lt(now_ms() - t0, 20000);
	ck_assert_uint_eq(live_keys(t.data), 1000);

	/* A zero deadline gives up at once; it must still join and free. */
	p = start_ok(t.data, JW_FSYNC_ALWAYS);
	put_s(p, "late", "v");
	jw_persist_stop(p, 0);
	/* An idle writer stops too. */
	p = start_ok(t.data, JW_FSYNC_NEVER);
	jw_persist_stop(p, 1000);
	tdir_cleanup(&t);
}
END_TEST

/* ---- fsync policies ---- */

START_TEST(test_policy_always)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_ALWAYS);
	put_s(p, "a", "1");
	WAIT_FOR(p, st, st.syncs >= 1, 10000);
	ck_assert_uint_eq(st.records_written, 1);
	ck_assert_uint_gt(st.bytes_written, 0);
	ck_assert_uint_eq(st.log_bytes, st.bytes_written);
	ck_assert_uint_eq(st.pending, 0);
	ck_assert_uint_eq(st.unsynced, 0);
	put_s(p, "b", "2");
	WAIT_FOR(p, st, st.syncs >= 2, 10000);
	ck_assert_uint_eq(st.records_written, 2);
	ck_assert_uint_eq(st.unsynced, 0);
	jw_persist_stop(p, 5000);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_policy_interval)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	int64_t t0, took;
	char key[32];

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_INTERVAL);
	t0 = now_ms();
	put_s(p, "a", "1");
	WAIT_FOR(p, st, st.syncs >= 1, 10000);
	took = now_ms() - t0;
	ck_assert_uint_eq(st.records_written, 1);
	ck_assert_uint_eq(st.unsynced, 0);
	ck_assert_int_lt(took, 2000); /* ~100 ms; slack for sanitizers */

	/* 40 puts over ~400 ms: written as they come, synced at most every
	 * 100 ms. */
	t0 = now_ms();
	for(int i = 0; i < 40; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		put_s(p, key, "v");
		sleep_ms(10);
	}
	WAIT_FOR(p, st, st.records_written == 41 && st.unsynced == 0, 10000);
	took = now_ms() - t0;
	ck_assert_uint_ge(st.syncs, 2);
	ck_assert_int_le((int64_t)st.syncs - 1, took / 100 + 1);
	jw_persist_stop(p, 5000);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_policy_never)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	char key[32];

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_NEVER);
	for(int i = 0; i < 30; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		put_s(p, key, "v");
	}
	WAIT_FOR(p, st, st.records_written == 30, 10000);
	sleep_ms(250);
	st = stats_of(p);
	ck_assert_uint_eq(st.syncs, 0);
	ck_assert_uint_eq(st.unsynced, 0);
	ck_assert_uint_eq(st.pending, 0);
	jw_persist_stop(p, 5000);
	ck_assert_uint_eq(live_keys(t.data), 30);
	tdir_cleanup(&t);
}
END_TEST

/* ---- failures ---- */

START_TEST(test_write_failures_keep_records)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	struct seen s;
	char key[32];

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_ALWAYS);
	jw_persist__fail_next_writes(p, 4);
	for(int i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		put_s(p, key, "old");
	}
	WAIT_FOR(p, st, st.write_errors >= 1, 10000);
	ck_assert_uint_eq(st.records_written, 0);
	ck_assert_uint_gt(st.pending, 0);
	/* Newer values put while the disk fails win over the held ones. */
	put_s(p, "k3", "new");
	ck_assert_int_eq(jw_persist_delete(p, "k4"), 0);
	/* Backoff 100 + 200 + 400 + 800 ms, then the disk works again. */
	WAIT_FOR(p, st, st.pending == 0 && st.unsynced == 0 && !st.failing, 20000);
	ck_assert_uint_eq(st.write_errors, 4);
	ck_assert_int_eq(st.last_errno, ENOSPC);
	jw_persist_stop(p, 5000);

	load_into(t.data, &s);
	ck_assert_uint_eq(s.n, 9);
	seen_assert_value(&s, "k0", "old");
	seen_assert_value(&s, "k3", "new");
	ck_assert_ptr_null(seen_get(&s, "k4"));
	seen_free(&s);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_backoff_doubles)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	int64_t t0, took;

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_ALWAYS);
	jw_persist__fail_next_writes(p, 4);
	t0 = now_ms();
	put_s(p, "a", "1");
	WAIT_FOR(p, st, st.records_written == 1, 20000);
	took = now_ms() - t0;
	/* Retries after 100, 200, 400 and 800 ms: 1.5 s at least. */
	ck_assert_int_ge(took, 1490);
	ck_assert_uint_eq(st.write_errors, 4);
	jw_persist_stop(p, 5000);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_sync_failure_rewrites)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	struct seen s;

	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_ALWAYS);
	jw_persist__fail_next_syncs(p, 2);
	put_s(p, "a", "1");
	WAIT_FOR(p, st, st.syncs >= 1 && st.pending == 0 && st.unsynced == 0, 20000);
	ck_assert_uint_eq(st.write_errors, 2);
	ck_assert_int_eq(st.last_errno, EIO);
	/* Appended again after each failed sync: the first copies may not be
	 * on disk. */
	ck_assert_uint_eq(st.records_written, 3);
	put_s(p, "b", "2");
	WAIT_FOR(p, st, st.syncs >= 2 && st.unsynced == 0, 20000);
	ck_assert_uint_eq(st.records_written, 4);
	jw_persist_stop(p, 5000);
	load_into(t.data, &s);
	ck_assert_uint_eq(s.n, 2);
	seen_assert_value(&s, "a", "1");
	seen_assert_value(&s, "b", "2");
	seen_free(&s);
	tdir_cleanup(&t);
}
END_TEST

/* ---- compaction ---- */

static void fill_big(struct jw_persist *p, char *big, size_t len, int from, int to)
{
	struct jw_persist_stats st;

	for(int i = from; i < to; i++) {
		int n = snprintf(big, len, "version %d ", i);
		big[n] = '#';
		ck_assert_int_eq(jw_persist_put(p, "big", big, len), 0);
		/* One record per version: let the writer take each. */
		WAIT_FOR(p, st, st.pending == 0, 10000);
	}
}

START_TEST(test_compaction)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	struct seen s;
	size_t len = 256 * 1024;
	char *big = malloc(len);

	ck_assert_ptr_nonnull(big);
	memset(big, '#', len);
	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_NEVER);
	put_s(p, "small", "kept");
	/* 40 x 256 KiB = 10 MiB > 8 MiB. */
	fill_big(p, big, len, 0, 40);
	WAIT_FOR(p, st, st.compactions >= 1, 10000);
	/* Compacted once past 8 MiB (32 versions) to one version, then the
	 * versions written since: far less than the 10 MiB appended. */
	ck_assert_uint_ge(st.bytes_written, 40 * len);
	ck_assert_uint_lt(st.log_bytes, 10 * len);
	ck_assert_uint_eq(st.compact_errors, 0);
	ck_assert_int_eq(access(t.tmp, F_OK), -1);
	put_s(p, "after", "compaction");
	jw_persist_stop(p, 5000);

	load_into(t.data, &s);
	ck_assert_uint_eq(s.n, 3);
	seen_assert_value(&s, "small", "kept");
	seen_assert_value(&s, "after", "compaction");
	ck_assert(strncmp(seen_get(&s, "big")->val, "version 39 ", 11) == 0);
	seen_free(&s);
	free(big);
	tdir_cleanup(&t);
}
END_TEST

START_TEST(test_compaction_failure_keeps_log)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	struct seen s = {0};
	size_t len = 256 * 1024;
	char *big = malloc(len);
	char err[256];

	ck_assert_ptr_nonnull(big);
	memset(big, '#', len);
	tdir_init(&t);
	ck_assert_int_eq(jw_persist_load(t.data, seen_cb, NULL, &s, NULL, err, sizeof(err)), 0);
	/* A directory in the way of the compaction's temporary file: even
	 * root cannot create a file there. */
	ck_assert_int_eq(mkdir(t.tmp, 0700), 0);
	p = start_ok(t.data, JW_FSYNC_INTERVAL);
	fill_big(p, big, len, 0, 40);
	WAIT_FOR(p, st, st.compact_errors >= 1, 10000);
	ck_assert_uint_eq(st.compactions, 0);
	ck_assert_int_eq(st.last_errno, EISDIR);
	/* Writing goes on, into the old log. */
	put_s(p, "after", "failure");
	WAIT_FOR(p, st, st.pending == 0 && st.unsynced == 0, 10000);
	ck_assert_uint_eq(st.write_errors, 0);
	ck_assert_uint_gt(st.log_bytes, 40 * len);
	jw_persist_stop(p, 5000);
	load_into(t.data, &s);
	ck_assert_uint_eq(s.n, 2);
	seen_assert_value(&s, "after", "failure");
	ck_assert(strncmp(seen_get(&s, "big")->val, "version 39 ", 11) == 0);
	seen_free(&s);
	free(big);
	tdir_cleanup(&t);
}
END_TEST

/* ---- damage in jobs.log ---- */

/* Log lines handed to on_note. */
struct notes_seen {
	struct seen s; /* first: seen_cb gets this struct */
	char lines[8][1024];
	int levels[8];
	int n;
};

static void note_cb(enum jw_note_level level, const char *text, void *arg)
{
	struct notes_seen *c = arg;

	ck_assert_int_lt(c->n, 8);
	c->levels[c->n] = (int)level;
	snprintf(c->lines[c->n++], sizeof(c->lines[0]), "%s", text);
}

static void load_damaged(const char *dir, struct notes_seen *c, struct jw_persist_load_stats *st)
{
	char err[256] = "";

	memset(c, 0, sizeof(*c));
	ck_assert_msg(jw_persist_load(dir, seen_cb, note_cb, c, st, err, sizeof(err)) == 0, "%s", err);
}

#define NJOB 6
/* Record i: key jk[i], value jv[i] (job 2 is written twice). */
static const char *const jk[NJOB] = {"s/j0", "s/j1", "s/j2", "s/j3", "s/j2", "s/j4"};
static const char *const jv[NJOB] = {
        "{\"status\":\"running\",\"progress\":10}",
        "{\"status\":\"complete\"}",
        "{\"status\":\"running\",\"progress\":1}",
        "{\"status\":\"failed\",\"code\":\"x\"}",
        "{\"status\":\"running\",\"progress\":99}",
        "{\"status\":\"waiting\"}",
};

/* Every job's newest undamaged record is loaded; lost is the damaged one. */
static void assert_jobs_without(const struct seen *s, int lost, size_t extra)
{
	const char *keys[] = {"s/j0", "s/j1", "s/j2", "s/j3", "s/j4"};
	size_t live = 0;

	for(size_t k = 0; k < 5; k++) {
		const char *want = NULL;

		for(int i = 0; i < NJOB; i++) {
			if(i != lost && !strcmp(jk[i], keys[k])) {
				want = jv[i];
			}
		}
		if(want) {
			seen_assert_value(s, keys[k], want);
			live++;
		} else {
			ck_assert_ptr_null(seen_get(s, keys[k]));
		}
	}
	ck_assert_uint_eq(s->n, live + extra);
}

START_TEST(test_load_damage_every_byte)
{
	struct tdir t;
	struct jw_kvlog *l;
	struct notes_seen c;
	struct jw_persist_load_stats st;
	uint64_t off[NJOB + 1];
	unsigned char *full, *copy;
	size_t len;
	char err[256], want[512], qpath[512];

	tdir_init(&t);
	ck_assert_int_eq(mkdir(t.data, 0700), 0);
	ck_assert_int_eq(jw_kvlog_open(t.log, &l, NULL, NULL, err, sizeof(err)), 0);
	for(int i = 0; i < NJOB; i++) {
		off[i] = jw_kvlog_size(l);
		ck_assert_int_eq(jw_kvlog_append(l, jk[i], jv[i], strlen(jv[i])), 0);
	}
	off[NJOB] = jw_kvlog_size(l);
	jw_kvlog_close(l);
	full = slurp(t.log, &len);
	copy = malloc(len);
	ck_assert_ptr_nonnull(copy);

	for(uint64_t b = 0; b < len; b++) {
		int k = 0;
		uint64_t rlen;
		unsigned char *q;
		size_t qlen;

		while(b >= off[k + 1]) {
			k++;
		}
		rlen = off[k + 1] - off[k];
		memcpy(copy, full, len);
		copy[b] ^= 0xFF;
		spill(t.log, copy, len);

		load_damaged(t.data, &c, &st);
		assert_jobs_without(&c.s, k, 0);
		ck_assert_uint_eq(st.damaged, 1);
		ck_assert_uint_eq(st.damaged_records, 1);
		ck_assert_uint_eq(st.damaged_bytes, rlen);
		ck_assert_uint_eq(st.quarantined, 1);
		ck_assert_uint_eq(st.records, NJOB - 1);
		/* One line: the file, the offset, the bytes, where they are kept. */
		ck_assert_int_eq(c.n, 1);
		snprintf(qpath, sizeof(qpath), "%s.at-%llu.damaged", t.log, (unsigned long long)off[k]);
		snprintf(want, sizeof(want), "%llu %sbytes at offset %llu of %s", (unsigned long long)rlen,
		        k == NJOB - 1 ? "" : "damaged ", (unsigned long long)off[k], t.log);
		ck_assert_msg(strstr(c.lines[0], want) != NULL, "[%s] lacks [%s]", c.lines[0], want);
		ck_assert_msg(strstr(c.lines[0], qpath) != NULL, "[%s] lacks [%s]", c.lines[0], qpath);
		ck_assert_int_eq(c.levels[0], k == NJOB - 1 ? JW_NOTE_WARNING : JW_NOTE_ERROR);
		/* The quarantine file holds exactly the damaged record's bytes. */
		q = slurp(qpath, &qlen);
		ck_assert_uint_eq(qlen, rlen);
		ck_assert(memcmp(q, copy + off[k], rlen) == 0);
		free(q);
		seen_free(&c.s);

		/* The same damage at the next start: reported again, not copied
		 * again. */
		load_damaged(t.data, &c, &st);
		ck_assert_uint_eq(st.damaged, 1);
		ck_assert_uint_eq(st.quarantined, 0);
		ck_assert_ptr_nonnull(strstr(c.lines[0], "already kept in"));
		seen_free(&c.s);
		ck_assert_int_eq(remove_quarantine(&t), 1);
	}
	free(copy);
	free(full);
	tdir_cleanup(&t);
}
END_TEST

/* After a load that skipped damage, the writer appends behind the last
 * good record: damage in the middle stays (and is skipped again), a
 * damaged tail is cut, and nothing written later is lost. */
START_TEST(test_start_after_damage)
{
	struct tdir t;
	struct jw_kvlog *l;
	struct jw_persist *p;
	struct notes_seen c;
	struct jw_persist_load_stats st;
	uint64_t off[NJOB + 1];
	unsigned char *full;
	size_t len;
	char err[256];

	tdir_init(&t);
	ck_assert_int_eq(mkdir(t.data, 0700), 0);
	for(int where = 0; where < 2; where++) {
		int k = where == 0 ? 2 : NJOB - 1;

		ck_assert_int_eq(jw_kvlog_open(t.log, &l, NULL, NULL, err, sizeof(err)), 0);
		for(int i = 0; i < NJOB; i++) {
			off[i] = jw_kvlog_size(l);
			ck_assert_int_eq(jw_kvlog_append(l, jk[i], jv[i], strlen(jv[i])), 0);
		}
		off[NJOB] = jw_kvlog_size(l);
		jw_kvlog_close(l);
		full = slurp(t.log, &len);
		full[off[k] + 20] ^= 0x01;
		spill(t.log, full, len);
		free(full);

		load_damaged(t.data, &c, &st);
		seen_free(&c.s);
		p = start_ok(t.data, JW_FSYNC_ALWAYS);
		put_s(p, "s/new", "written after");
		jw_persist_stop(p, 5000);
		load_damaged(t.data, &c, &st);
		assert_jobs_without(&c.s, k, 1);
		seen_assert_value(&c.s, "s/new", "written after");
		ck_assert_uint_eq(st.damaged, where == 0 ? 1 : 0);
		seen_free(&c.s);
		remove_quarantine(&t);
		unlink(t.log);
	}
	tdir_cleanup(&t);
}
END_TEST

static void big_round(struct jw_persist *p, char *big, size_t len)
{
	struct jw_persist_stats st;

	fill_big(p, big, len, 0, 40);
	WAIT_FOR(p, st, st.compactions >= 1, 10000);
}

/* Damage that appears while the broker runs is met by the compaction:
 * counted, noted, quarantined (synced), and the rewritten log is clean.
 * Damage already reported at load is not counted a second time. */
START_TEST(test_damage_met_by_compaction)
{
	struct tdir t;
	struct jw_persist *p;
	struct jw_persist_stats st;
	struct jw_note notes[JW_NOTES_MAX];
	struct notes_seen c;
	struct jw_persist_load_stats lst;
	uint64_t dropped, b_off, b_len;
	size_t n, len = 256 * 1024;
	char *big = malloc(len);
	char want[512];
	int fd;

	ck_assert_ptr_nonnull(big);
	memset(big, '#', len);
	tdir_init(&t);
	p = start_ok(t.data, JW_FSYNC_ALWAYS);
	put_s(p, "a", "first");
	WAIT_FOR(p, st, st.pending == 0 && st.unsynced == 0, 10000);
	b_off = st.log_bytes;
	put_s(p, "b", "second, damaged on disk");
	WAIT_FOR(p, st, st.pending == 0 && st.unsynced == 0, 10000);
	b_len = st.log_bytes - b_off;
	put_s(p, "c", "third");
	WAIT_FOR(p, st, st.pending == 0 && st.unsynced == 0, 10000);
	/* A failing disk changes a byte of "b" under the running writer. */
	fd = open(t.log, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "X", 1, (off_t)(b_off + 20)), 1);
	close(fd);
	big_round(p, big, len);
	st = stats_of(p);
	ck_assert_uint_eq(st.damaged, 1);
	ck_assert_uint_eq(st.damaged_records, 1);
	ck_assert_uint_eq(st.damaged_bytes, b_len);
	ck_assert_uint_eq(st.quarantined, 1);
	n = jw_persist_notes(p, notes, JW_NOTES_MAX, &dropped);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(dropped, 0);
	snprintf(want, sizeof(want), "skipped %llu damaged bytes at offset %llu of %s",
	        (unsigned long long)b_len, (unsigned long long)b_off, t.log);
	ck_assert_msg(strstr(notes[0].text, want) != NULL, "[%s] lacks [%s]", notes[0].text, want);
	jw_persist_stop(p, 5000);
	load_damaged(t.data, &c, &lst);
	ck_assert_uint_eq(lst.damaged, 0); /* compaction rewrote the log without it */
	seen_assert_value(&c.s, "a", "first");
	seen_assert_value(&c.s, "c", "third");
	ck_assert_ptr_null(seen_get(&c.s, "b"));
	seen_free(&c.s);
	ck_assert_int_eq(remove_quarantine(&t), 1);

	/* Damage reported (and kept) at load: the compaction that drops it
	 * does not report it again. */
	{
		unsigned char *full;
		size_t flen;
		struct jw_kvlog *l;
		char err[256];

		unlink(t.log);
		ck_assert_int_eq(jw_kvlog_open(t.log, &l, NULL, NULL, err, sizeof(err)), 0);
		ck_assert_int_eq(jw_kvlog_append(l, "x", "one", 3), 0);
		ck_assert_int_eq(jw_kvlog_append(l, "y", "two", 3), 0);
		jw_kvlog_close(l);
		full = slurp(t.log, &flen);
		full[2] ^= 0x20;
		spill(t.log, full, flen);
		free(full);
		load_damaged(t.data, &c, &lst);
		ck_assert_uint_eq(lst.damaged, 1);
		ck_assert_uint_eq(lst.quarantined, 1);
		seen_free(&c.s);
		p = start_ok(t.data, JW_FSYNC_NEVER);
		big_round(p, big, len);
		st = stats_of(p);
		ck_assert_uint_eq(st.damaged, 0);
		ck_assert_uint_eq(jw_persist_notes(p, notes, JW_NOTES_MAX, &dropped), 0);
		jw_persist_stop(p, 5000);
		ck_assert_int_eq(remove_quarantine(&t), 1);
	}
	free(big);
	tdir_cleanup(&t);
}
END_TEST

int main(void)
{
	Suite *suite = suite_create("persist");
	TCase *tc;

	jw_test_case(suite, "load_start", test_load_creates_dir, test_start_errors,
	        test_put_rejects_bad_arguments, NULL);
	jw_test_case(suite, "put_replay", test_put_coalesce_stop, test_restart_cycle, NULL);
	jw_test_case(suite, "broker_never_waits", test_many_puts_latency, NULL);
	jw_test_case(suite, "stop", test_stop_deadline_with_failing_disk,
	        test_stop_is_prompt_when_healthy, NULL);
	jw_test_case(suite, "fsync_policy", test_policy_always, test_policy_interval, test_policy_never,
	        NULL);
	jw_test_case(suite, "failures", test_write_failures_keep_records, test_backoff_doubles,
	        test_sync_failure_rewrites, NULL);
	jw_test_case(suite, "compaction", test_compaction, test_compaction_failure_keeps_log, NULL);
	tc = tcase_create("damage");
	tcase_add_test(tc, test_load_damage_every_byte);
	tcase_add_test(tc, test_start_after_damage);
	tcase_add_test(tc, test_damage_met_by_compaction);
	tcase_set_timeout(tc, 300);
	suite_add_tcase(suite, tc);

	return jw_test_run(suite);
}
