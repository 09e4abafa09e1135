/* The journal's threads (plugin/journal.c) without a broker: records are
 * spooled with one write each and never wait for the database; with
 * PostgreSQL unreachable they stay spooled (and are found again by the
 * next open), the spool cap refuses with ENOSPC, and a stop returns
 * within its deadline. With JW_TEST_PG_CONNINFO set (tests/run.sh starts a
 * private cluster for the ThreadSanitizer run) every record reaches the
 * table exactly once while the broker side keeps appending. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "journal.h"
#include "journal_rec.h"
#include "persist.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
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

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static int append_job(struct jw_journal *j, const char *session, int i)
{
	char job[32], key[80], ev[64];
	struct jw_journal_rec r;
	size_t len;
	char *text;
	int rc;

	snprintf(job, sizeof(job), "job-%d", i);
	snprintf(ev, sizeof(ev), "{\"ts\":\"2026-01-02T03:04:05.000Z\",\"n\":%d}", i);
	memset(&r, 0, sizeof(r));
	r.kind = JW_JOURNAL_FINISHED;
	r.session = session;
	r.job = job;
	r.type = "complete";
	r.event = ev;
	r.event_len = strlen(ev);
	r.retryable = -1;
	r.finished_ms = 1767323045000LL;
	r.node = "unit";
	r.spooled_ms = 1767323045000LL;
	text = jw_journal_rec_encode(&r, &len);
	ck_assert_ptr_nonnull(text);
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
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d dbname=x connect_timeout=1", closed_port());
	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	cfg.conninfo = conninfo;
	cfg.fsync_policy = JW_FSYNC_INTERVAL;
	cfg.spool_max = 1u << 20;
	cfg.segment_max = 8192; /* several segments */
	ck_assert_msg(jw_journal_open(&cfg, &j, err, sizeof(err)) == 0, "%s", err);
	t0 = now_ms();
	for(int i = 0; i < 500; i++){
		ck_assert_int_eq(append_job(j, "down", i), 0);
	}
	/* 500 appends: writes only, whatever the database does. */
	ck_assert_int_lt(now_ms() - t0, 2000);
	for(int i = 0; i < 100; i++){
		jw_journal_stats(j, &st);
		if(st.state == JW_JOURNAL_DOWN){
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
	for(int i = 0; i < 10000 && (rc = append_job(j, "cap", i)) == 0; i++){
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

	if(PQstatus(c) == CONNECTION_OK){
		r = PQexecParams(c, "SELECT count(*) FROM jobwire_finished_jobs WHERE session_id = $1",
		                 1, NULL, params, NULL, NULL, 0);
		if(PQresultStatus(r) == PGRES_TUPLES_OK){
			n = atol(PQgetvalue(r, 0, 0));
		}
		PQclear(r);
	}
	PQfinish(c);
	return n;
}

START_TEST(test_reaches_postgresql)
{
	const char *conninfo = getenv("JW_TEST_PG_CONNINFO");
	char dir[] = "/tmp/jw-journal-XXXXXX", err[256], session[32];
	struct jw_journal_config cfg;
	struct jw_journal *j = NULL;
	struct jw_journal_stats st;
	long n = -1;

	if(!conninfo || !*conninfo){
		fprintf(stderr, "test_reaches_postgresql: JW_TEST_PG_CONNINFO not set, skipped\n");
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
	for(int i = 0; i < 3000; i++){
		ck_assert_int_eq(append_job(j, session, i), 0);
		if(i % 500 == 0){
			sleep_ms(5);
		}
	}
	for(int i = 0; i < 300; i++){
		jw_journal_stats(j, &st);
		if(st.committed >= 3000){
			break;
		}
		sleep_ms(50);
	}
	ck_assert_uint_eq(st.committed, 3000);
	ck_assert_uint_eq(st.pending_bytes, 0);
	ck_assert_int_eq(st.state, JW_JOURNAL_UP);
	/* Repeats of the same jobs add nothing. */
	for(int i = 0; i < 100; i++){
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

int main(void)
{
	Suite *suite = suite_create("journal");
	TCase *tc = tcase_create("threads");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_spools_while_database_down);
	tcase_add_test(tc, test_cap_refuses);
	tcase_add_test(tc, test_reaches_postgresql);
	suite_add_tcase(suite, tc);
	sr = srunner_create(suite);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
