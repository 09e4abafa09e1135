/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The journal (journal.h). Three threads touch it:
 *
 * - the broker thread appends records to the current spool segment
 *   (<data_dir>/journal/<seq>.spool, the job log's CRC framing from
 *   core/disk/kvlog.h) with one pwrite, rotates segments by size, and publishes
 *   the write position (segment, size) under the lock;
 * - the journal thread owns the PGconn: it reads records from its cursor up
 *   to the published position, inserts them in batches, and after each
 *   commit moves the cursor, writes <data_dir>/journal/checkpoint (write,
 *   fsync, rename; core/disk/journal_spool.h) and deletes segments wholly
 *   behind it. A damaged stretch of a segment is skipped (reading resumes
 *   at the next good record), kept in a quarantine file, counted and
 *   described in a note the broker thread logs;
 * - the sync thread fdatasyncs the current segment per the fsync policy,
 *   so neither the broker thread nor a slow database delays it.
 *
 * The lock guards the write position and the stop flags only, never I/O.
 * Counters are atomics the broker thread polls.
 */
#include "journal.h"
#include "threads.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <libpq-fe.h>

#include "journal_rec.h"
#include "journal_spool.h"
#include "journal_reviews_sql.h"
#include "journal_sql.h"
#include "journal_sql_002.h"
#include "journal_sql_003.h"
#include "kvlog.h"
#include "persist.h"
#include "quarantine.h"
#include "util/buf.h"

#define SEGMENT_MAX_DEFAULT (4u * 1024u * 1024u)
#define BATCH_MAX_DEFAULT 2000u
#define BATCH_MAX_LIMIT 4000u /* 16 parameters a row: under libpq's 65535 */
#define SYNC_INTERVAL_MS 100
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 5000
#define CONNECT_TIMEOUT_MS 10000
#define QUERY_TIMEOUT_MS 60000
#define POLL_SLICE_MS 100
#define GATHER_MS 20 /* after a partial batch: let the next one fill up */
#define DEAD_LETTER_NAME "journal-dead-letter.jsonl"

/* One record read back from the spool. */
struct item {
	char *raw; /* the record as spooled */
	size_t len;
	struct jw_journal_row row;
	bool decoded;
	char why[200]; /* decode error */
};

struct batch {
	struct item *items;
	size_t n, cap;
	uint64_t seq, off; /* cursor after the batch */
	uint64_t bytes;    /* spool bytes it covers (torn tails included) */
};

struct jw_journal {
	char *dir; /* <data_dir>/journal */
	char *dead_path;
	char *conninfo;
	int policy;
	uint64_t spool_max, segment_max;
	unsigned batch_max;

	/* Broker thread only. */
	struct jw_kvlog *seg;

	pthread_mutex_t lock;
	pthread_cond_t wake;      /* journal thread: new records, stop */
	pthread_cond_t sync_wake; /* sync thread */
	pthread_cond_t done;      /* _stop waits for journal_done */
	/* Under lock. */
	uint64_t w_seq, w_size; /* write position */
	bool jt_waiting;
	bool stopping;
	bool journal_done;
	bool sync_stop;
	uint64_t appends; /* for the sync thread */

	pthread_t jthread, sthread;
	atomic_bool abort;

	/* Journal thread only (set up by _open before it starts). */
	PGconn *conn;
	uint64_t c_seq, c_off;   /* cursor: first record not in PostgreSQL */
	uint64_t replay_end_seq; /* segments below this are an earlier run's */
	uint64_t *old_segs;      /* an earlier run's segments, ascending: the
	                            numbers may have gaps, so the thread steps
	                            through this list, never through a range */
	size_t n_old;
	size_t old_next;           /* old_segs[old_next..] are not deleted yet */
	uint64_t live_low;         /* this run's oldest segment not deleted yet */
	uint64_t dmg_seq, dmg_off; /* damage before this point is reported */

	atomic_uint_fast64_t written_bytes; /* backlog at open + appended */
	atomic_uint_fast64_t committed_bytes;
	atomic_uint_fast64_t disk_bytes;
	atomic_uint_fast64_t spooled;
	atomic_uint_fast64_t committed;
	atomic_uint_fast64_t dead;
	atomic_uint_fast64_t batches;
	atomic_uint_fast64_t sync_errors;
	atomic_uint_fast64_t write_errors;
	atomic_uint_fast64_t state_changes;
	atomic_int state;
	atomic_int_fast64_t oldest_ms;
	atomic_bool replay_done;
	atomic_uint_fast64_t checkpoint_damaged;
	atomic_uint_fast64_t checkpoint_errors;
	atomic_uint_fast64_t strays;

	/* Damage met in segments, and the lines about it and about the
	 * checkpoint and stray files for the broker thread's log. */
	struct jw_damage_counts damage;
	struct jw_notes notes;

	pthread_mutex_t err_lock;
	char last_err[256];
};

/* ---- small helpers ---- */

static void set_err(char *err, size_t errlen, const char *what, const char *path, int errnum)
{
	char msg[128];

	if(!err || errlen == 0) {
		return;
	}
	if(strerror_r(errnum, msg, sizeof(msg)) != 0) {
		snprintf(msg, sizeof(msg), "error %d", errnum);
	}
	snprintf(err, errlen, "%s %s: %s", what, path, msg);
}

static char *path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);

	if(p) {
		snprintf(p, n, "%s/%s", dir, name);
	}
	return p;
}

static void seg_path(const struct jw_journal *j, uint64_t seq, char *buf, size_t buflen)
{
	char name[JW_SPOOL_NAME_LEN];

	snprintf(buf, buflen, "%s/%s", j->dir, jw_spool_segment_name(name, sizeof(name), seq));
}

static int ensure_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if(mkdir(dir, 0700) == 0) {
		return 0;
	}
	if(errno != EEXIST) {
		set_err(err, errlen, "create directory", dir, errno);
		return -1;
	}
	if(stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		set_err(err, errlen, "directory", dir, errno ? errno : ENOTDIR);
		return -1;
	}
	return 0;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);

	if(fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

static void set_state(struct jw_journal *j, enum jw_journal_state s)
{
	if(atomic_exchange(&j->state, (int)s) != (int)s) {
		atomic_fetch_add(&j->state_changes, 1);
	}
}

static void set_last_error(struct jw_journal *j, const char *msg)
{
	size_t n;

	pthread_mutex_lock(&j->err_lock);
	snprintf(j->last_err, sizeof(j->last_err), "%s", msg ? msg : "");
	/* libpq messages end in a newline and may hold several lines. */
	n = strlen(j->last_err);
	while(n > 0 && (j->last_err[n - 1] == '\n' || j->last_err[n - 1] == ' ')) {
		j->last_err[--n] = '\0';
	}
	for(char *c = j->last_err; *c; c++) {
		if(*c == '\n' || *c == '\t') {
			*c = ' ';
		}
	}
	pthread_mutex_unlock(&j->err_lock);
}

void jw_journal_last_error(struct jw_journal *j, char *buf, size_t buflen)
{
	pthread_mutex_lock(&j->err_lock);
	snprintf(buf, buflen, "%s", j->last_err);
	pthread_mutex_unlock(&j->err_lock);
}

/* ---- checkpoint ---- */

/* Writes seq/off (core/disk/journal_spool.h: with its CRC) to checkpoint.tmp,
 * fsyncs it and renames it over checkpoint: a crash leaves the old or the
 * new one, never a mix; damage to it is detected at the next start. */
static int write_checkpoint(struct jw_journal *j, uint64_t seq, uint64_t off)
{
	char tmp[4096], path[4096], line[64];
	size_t n;
	int fd, rc = -1;

	snprintf(tmp, sizeof(tmp), "%s/checkpoint.tmp", j->dir);
	snprintf(path, sizeof(path), "%s/checkpoint", j->dir);
	n = jw_spool_checkpoint_format(line, sizeof(line), seq, off);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if(fd < 0) {
		atomic_fetch_add(&j->checkpoint_errors, 1);
		return -1;
	}
	if(n > 0 && write(fd, line, n) == (ssize_t)n && fsync(fd) == 0) {
		rc = 0;
	}
	close(fd);
	if(rc == 0 && rename(tmp, path) != 0) {
		rc = -1;
	}
	if(rc == 0) {
		fsync_dir(j->dir);
	} else {
		/* Not fatal: the previous checkpoint stays; a restart replays a
		 * little more, which ON CONFLICT absorbs. */
		atomic_fetch_add(&j->checkpoint_errors, 1);
	}
	return rc;
}

/* ---- the broker side ---- */

bool jw_journal_full(struct jw_journal *j, size_t len)
{
	uint64_t pending = atomic_load(&j->written_bytes) - atomic_load(&j->committed_bytes);

	return pending + len + 16 + 2 * 256 > j->spool_max;
}

static int rotate(struct jw_journal *j)
{
	char path[4096], err[256];
	struct jw_kvlog *next = NULL;
	uint64_t seq = j->w_seq + 1;

	if(seq > JW_SPOOL_SEQ_MAX) {
		return -1; /* never a name the next start would not read */
	}
	seg_path(j, seq, path, sizeof(path));
	if(jw_kvlog_open(path, &next, NULL, NULL, err, sizeof(err)) != 0) {
		return -1; /* keep appending to the full one */
	}
	jw_kvlog_close(j->seg);
	j->seg = next;
	pthread_mutex_lock(&j->lock);
	j->w_seq = seq;
	j->w_size = 0;
	pthread_mutex_unlock(&j->lock);
	return 0;
}

int jw_journal_append(struct jw_journal *j, const char *key, const void *rec, size_t len)
{
	uint64_t before, after;
	bool wake;

	if(!j || !key || !rec) {
		errno = EINVAL;
		return -1;
	}
	if(jw_journal_full(j, len)) {
		errno = ENOSPC;
		return -1;
	}
	before = jw_kvlog_size(j->seg);
	if(jw_kvlog_append(j->seg, key, rec, len) != 0) {
		atomic_fetch_add(&j->write_errors, 1);
		return -1;
	}
	after = jw_kvlog_size(j->seg);
	atomic_fetch_add(&j->written_bytes, after - before);
	atomic_fetch_add(&j->disk_bytes, after - before);
	atomic_fetch_add(&j->spooled, 1);
	pthread_mutex_lock(&j->lock);
	j->w_size = after;
	j->appends++;
	wake = j->jt_waiting;
	j->jt_waiting = false;
	pthread_mutex_unlock(&j->lock);
	if(wake) {
		pthread_cond_signal(&j->wake);
	}
	if(j->policy == JW_FSYNC_ALWAYS) {
		pthread_cond_signal(&j->sync_wake);
	}
	if(after >= j->segment_max) {
		rotate(j);
	}
	return 0;
}

void jw_journal_stats(struct jw_journal *j, struct jw_journal_stats *out)
{
	uint64_t w, c;

	memset(out, 0, sizeof(*out));
	if(!j) {
		return;
	}
	c = atomic_load(&j->committed_bytes);
	w = atomic_load(&j->written_bytes);
	out->state = (enum jw_journal_state)atomic_load(&j->state);
	out->state_changes = atomic_load(&j->state_changes);
	out->spooled = atomic_load(&j->spooled);
	out->committed = atomic_load(&j->committed);
	out->dead_letters = atomic_load(&j->dead);
	out->pending_bytes = w > c ? w - c : 0;
	out->spool_bytes = atomic_load(&j->disk_bytes);
	out->oldest_ms = atomic_load(&j->oldest_ms);
	out->batches = atomic_load(&j->batches);
	out->sync_errors = atomic_load(&j->sync_errors);
	out->write_errors = atomic_load(&j->write_errors);
	out->replay_done = atomic_load(&j->replay_done);
	out->damaged = atomic_load(&j->damage.stretches);
	out->damaged_records = atomic_load(&j->damage.records);
	out->damaged_bytes = atomic_load(&j->damage.bytes);
	out->quarantined = atomic_load(&j->damage.quarantined);
	out->unkept = atomic_load(&j->damage.unkept);
	out->checkpoint_damaged = atomic_load(&j->checkpoint_damaged);
	out->checkpoint_errors = atomic_load(&j->checkpoint_errors);
	out->strays = atomic_load(&j->strays);
}

size_t jw_journal_notes(struct jw_journal *j, struct jw_note *out, size_t max, uint64_t *dropped)
{
	*dropped = 0;
	return j ? jw_notes_take(&j->notes, out, max, dropped) : 0;
}

/* ---- the sync thread ---- */

static void *sync_main(void *arg)
{
	struct jw_journal *j = arg;
	uint64_t synced_appends = 0, fd_seq = UINT64_MAX;
	int fd = -1;

	pthread_mutex_lock(&j->lock);
	for(;;) {
		uint64_t appends, seq;
		bool stop = j->sync_stop;

		if(!stop && j->appends == synced_appends) {
			if(j->policy == JW_FSYNC_INTERVAL || j->policy == JW_FSYNC_ALWAYS) {
				struct timespec ts =
				        jw_worker_mono_abs(jw_clock_ms(CLOCK_MONOTONIC) + SYNC_INTERVAL_MS);
				pthread_cond_timedwait(&j->sync_wake, &j->lock, &ts);
			} else {
				pthread_cond_wait(&j->sync_wake, &j->lock);
			}
			continue;
		}
		if(!stop && j->policy == JW_FSYNC_NEVER) {
			pthread_cond_wait(&j->sync_wake, &j->lock);
			continue;
		}
		appends = j->appends;
		seq = j->w_seq;
		pthread_mutex_unlock(&j->lock);

		if(appends != synced_appends) {
			char path[4096];

			if(fd >= 0 && fd_seq != seq) {
				/* Rotated: the old segment's last records first. */
				if(fdatasync(fd) != 0) {
					atomic_fetch_add(&j->sync_errors, 1);
				}
				close(fd);
				fd = -1;
				fsync_dir(j->dir);
			}
			if(fd < 0) {
				seg_path(j, seq, path, sizeof(path));
				fd = open(path, O_RDONLY);
				fd_seq = seq;
			}
			if(fd >= 0 && fdatasync(fd) == 0) {
				synced_appends = appends;
			} else {
				atomic_fetch_add(&j->sync_errors, 1);
				synced_appends = appends; /* counted; the next append retries */
			}
		}
		if(j->policy == JW_FSYNC_INTERVAL && !stop) {
			/* At most one sync per interval. */
			struct timespec ts = {0, SYNC_INTERVAL_MS * 1000000L};
			nanosleep(&ts, NULL);
		}
		pthread_mutex_lock(&j->lock);
		if(stop && j->appends == synced_appends) {
			break;
		}
	}
	pthread_mutex_unlock(&j->lock);
	if(fd >= 0) {
		close(fd);
	}
	return NULL;
}

/* ---- PostgreSQL, asynchronously so a stop can interrupt it ---- */

static bool aborting(struct jw_journal *j)
{
	return atomic_load_explicit(&j->abort, memory_order_relaxed);
}

static void disconnect(struct jw_journal *j)
{
	if(j->conn) {
		PQfinish(j->conn);
		j->conn = NULL;
	}
}

/* Waits until the connection's socket is ready for events, at most
 * POLL_SLICE_MS. */
static void wait_socket(PGconn *c, short events)
{
	struct pollfd pfd = {PQsocket(c), events, 0};

	if(pfd.fd >= 0) {
		poll(&pfd, 1, POLL_SLICE_MS);
	}
}

/* Sends sql (with n text parameters, or as a simple multi-statement query
 * when vals is NULL) and returns its last result (caller PQclears), or
 * NULL when the connection failed, the query timed out or a stop aborted
 * it (the connection is then closed). The connection is non-blocking, so
 * nothing here waits longer than POLL_SLICE_MS without checking for a stop:
 * a stalled server is simply dropped (no PQcancel, which would block on
 * it); a statement it was running commits or not, and ON CONFLICT makes
 * the retry harmless either way. */
static PGresult *run(struct jw_journal *j, const char *sql, int n, const char *const *vals)
{
	PGconn *c = j->conn;
	PGresult *res, *last = NULL;
	int64_t deadline = jw_clock_ms(CLOCK_MONOTONIC) + QUERY_TIMEOUT_MS;
	int sent, flushed;

	sent = vals ? PQsendQueryParams(c, sql, n, NULL, vals, NULL, NULL, 0) : PQsendQuery(c, sql);
	if(!sent) {
		set_last_error(j, PQerrorMessage(c));
		disconnect(j);
		return NULL;
	}
	for(;;) {
		/* Push the query out (a big batch may not fit the socket buffer),
		 * then read until the result is complete. */
		while((flushed = PQflush(c)) == 1 || (flushed == 0 && PQisBusy(c))) {
			if(aborting(j) || jw_clock_ms(CLOCK_MONOTONIC) > deadline) {
				set_last_error(j, aborting(j) ? "interrupted by shutdown" : "query timed out");
				PQclear(last);
				disconnect(j);
				return NULL;
			}
			wait_socket(c, flushed == 1 ? (short)(POLLIN | POLLOUT) : (short)POLLIN);
			if(!PQconsumeInput(c)) {
				set_last_error(j, PQerrorMessage(c));
				PQclear(last);
				disconnect(j);
				return NULL;
			}
		}
		if(flushed < 0) {
			set_last_error(j, PQerrorMessage(c));
			PQclear(last);
			disconnect(j);
			return NULL;
		}
		res = PQgetResult(c);
		if(!res) {
			break;
		}
		PQclear(last);
		last = res;
	}
	if(!last || PQstatus(c) != CONNECTION_OK) {
		set_last_error(j, PQerrorMessage(c));
		PQclear(last);
		disconnect(j);
		return NULL;
	}
	return last;
}

static bool result_ok(PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/*
 * Whether a failed statement's error is about the data of this row (so
 * retrying cannot help and the row goes to the dead letters) rather than
 * the database's condition (retry later): data exceptions (22), integrity
 * violations (23, e.g. a CHECK), errors raised by triggers or functions
 * (P0), datatype mismatches and program limits such as an oversized row
 * (54). Permission errors, missing tables, connection and resource errors
 * are the database's: they would refuse every row alike.
 */
static bool permanent_error(PGresult *r)
{
	const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	if(!s) {
		return false;
	}
	return !strncmp(s, "22", 2) || !strncmp(s, "23", 2) || !strncmp(s, "P0", 2) ||
	       !strcmp(s, "42804") || !strncmp(s, "54", 2);
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* The reviews' table (sql/reviews.sql, IF NOT EXISTS), on a fresh
 * connection. 0, or -1 disconnected with the error kept. */
static int create_reviews_table(struct jw_journal *j)
{
	PGresult *r = run(j, JW_JOURNAL_REVIEWS_SQL, 0, NULL);

	if(!r) {
		return -1;
	}
	if(!result_ok(r)) {
		set_last_error(j, PQresultErrorMessage(r));
		PQclear(r);
		disconnect(j);
		return -1;
	}
	PQclear(r);
	return 0;
}

static int connect_db(struct jw_journal *j)
{
	PGconn *c;
	PGresult *r;
	int64_t deadline = jw_clock_ms(CLOCK_MONOTONIC) + CONNECT_TIMEOUT_MS;

	c = PQconnectStart(j->conninfo);
	if(!c) {
		set_last_error(j, "out of memory");
		return -1;
	}
	if(PQstatus(c) == CONNECTION_BAD) {
		set_last_error(j, PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	for(;;) {
		PostgresPollingStatusType st = PQconnectPoll(c);

		if(st == PGRES_POLLING_OK) {
			break;
		}
		if(st == PGRES_POLLING_FAILED) {
			set_last_error(j, PQerrorMessage(c));
			PQfinish(c);
			return -1;
		}
		if(aborting(j) || jw_clock_ms(CLOCK_MONOTONIC) > deadline) {
			set_last_error(j, aborting(j) ? "interrupted by shutdown" : "connection timed out");
			PQfinish(c);
			return -1;
		}
		wait_socket(c, st == PGRES_POLLING_WRITING ? POLLOUT : POLLIN);
	}
	/* NOTICEs ("already exists, skipping") would go to the broker's
	 * stderr: the journal reports through its stats and the broker log. */
	PQsetNoticeProcessor(c, ignore_notice, NULL);
	if(PQsetnonblocking(c, 1) != 0) {
		set_last_error(j, PQerrorMessage(c));
		PQfinish(c);
		return -1;
	}
	j->conn = c;
	/* The same statements a DBA applies by hand (all IF NOT EXISTS),
	 * each version's file after the one before: 002 migrates a database
	 * made by 001 in place. */
	r = run(j, JW_JOURNAL_SQL, 0, NULL);
	if(r && result_ok(r)) {
		PQclear(r);
		r = run(j, JW_JOURNAL_SQL_002, 0, NULL);
	}
	if(r && result_ok(r)) {
		PQclear(r);
		r = run(j, JW_JOURNAL_SQL_003, 0, NULL);
	}
	if(!r) {
		return -1;
	}
	if(!result_ok(r)) {
		set_last_error(j, PQresultErrorMessage(r));
		PQclear(r);
		disconnect(j);
		return -1;
	}
	PQclear(r);
	return create_reviews_table(j);
}

/* ---- reading the spool ---- */

static void item_free(struct item *it)
{
	free(it->raw);
	jw_journal_row_cleanup(&it->row);
}

static void batch_clear(struct batch *b)
{
	for(size_t i = 0; i < b->n; i++) {
		item_free(&b->items[i]);
	}
	b->n = 0;
	b->bytes = 0;
}

struct read_ctx {
	struct jw_journal *j;
	struct batch *b;
	size_t max;
	uint64_t seq; /* the segment being read */
	const char *path;
	uint64_t off; /* past the last record taken or stretch skipped */
	bool oom;
};

static int read_cb(const char *key, const void *val, size_t len, uint64_t end, void *arg)
{
	struct read_ctx *rc = arg;
	struct batch *b = rc->b;
	struct item *it;

	(void)key;
	if(b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 256;
		struct item *grown = realloc(b->items, cap * sizeof(*grown));
		if(!grown) {
			rc->oom = true;
			return 1;
		}
		b->items = grown;
		b->cap = cap;
	}
	it = &b->items[b->n];
	memset(it, 0, sizeof(*it));
	it->raw = malloc(len + 1);
	if(!it->raw) {
		rc->oom = true;
		return 1;
	}
	if(val && len) {
		memcpy(it->raw, val, len);
	}
	it->raw[len] = '\0';
	it->len = len;
	it->decoded = jw_journal_rec_decode(it->raw, len, &it->row, it->why, sizeof(it->why)) == 0;
	b->n++;
	rc->off = end;
	return b->n >= rc->max ? 1 : 0;
}

/*
 * A stretch of a segment that is not a valid record: skipped (the cursor
 * moves past it with the batch), kept in a quarantine file next to the
 * segment, counted and noted for the log. A batch PostgreSQL did not take
 * is read again later, so a stretch is reported the first time only.
 */
static int damage_cb(const struct jw_kvlog_damage *d, void *arg)
{
	struct read_ctx *rc = arg;
	struct jw_journal *j = rc->j;
	enum jw_note_level level;
	char line[JW_NOTE_LEN];
	int kept;

	rc->off = d->offset + d->length;
	if(rc->seq < j->dmg_seq || (rc->seq == j->dmg_seq && d->offset < j->dmg_off)) {
		return 0;
	}
	j->dmg_seq = rc->seq;
	j->dmg_off = d->offset + d->length;
	kept = jw_worker_keep_damage(rc->path, d, true, line, sizeof(line), &level);
	jw_damage_count(&j->damage, d, kept);
	jw_notes_add(&j->notes, level, line);
	return 0;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The segment after seq: the next of an earlier run's (there may be gaps
 * in their numbers), then this run's, which follow one another. */
static uint64_t next_seq(const struct jw_journal *j, uint64_t seq)
{
	size_t lo = 0, hi = j->n_old;

	if(seq + 1 >= j->replay_end_seq) {
		return seq + 1;
	}
	while(lo < hi) { /* the first old segment above seq */
		size_t mid = lo + (hi - lo) / 2;
		if(j->old_segs[mid] <= seq) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return lo < j->n_old ? j->old_segs[lo] : j->replay_end_seq;
}

/* Fills b with up to max records from the cursor. Segments behind the
 * write position are read to their end; the current one up to the
 * published size. b->bytes counts the spool bytes passed, damaged
 * stretches included. */
static int collect(struct jw_journal *j, struct batch *b, size_t max)
{
	uint64_t wseq, wsize, seq = j->c_seq, off = j->c_off;

	pthread_mutex_lock(&j->lock);
	wseq = j->w_seq;
	wsize = j->w_size;
	pthread_mutex_unlock(&j->lock);
	b->n = 0;
	b->bytes = 0;
	while(b->n < max && seq <= wseq) {
		char path[4096];
		struct read_ctx rc = {j, b, max, seq, path, off, false};
		uint64_t end = off;
		int r;

		seg_path(j, seq, path, sizeof(path));
		r = jw_kvlog_read(
		        path, off, seq == wseq ? wsize : UINT64_MAX, read_cb, damage_cb, &rc, &end);
		b->bytes += rc.off - off;
		off = rc.off;
		if(rc.oom) {
			break;
		}
		/* A missing segment (or one replaced by something that is not a
		 * file since the start) holds nothing to send. */
		if(r == -1 && errno != ENOENT && errno != EINVAL) {
			char msg[128];
			if(strerror_r(errno, msg, sizeof(msg)) != 0) {
				snprintf(msg, sizeof(msg), "error %d", errno);
			}
			set_last_error(j, msg);
			break;
		}
		if(b->n >= max || seq == wseq) {
			break;
		}
		/* An older segment read to its end. */
		seq = next_seq(j, seq);
		off = 0;
	}
	b->seq = seq;
	b->off = off;
	return 0;
}

/* ---- writing to PostgreSQL ---- */

static const char *const finished_casts[JW_JOURNAL_FINISHED_COLS] = {
        "",
        "",
        "",
        "",
        "",
        "::boolean",
        "::jsonb",
        "::jsonb",
        "::timestamptz",
        "::timestamptz",
        "::float8",
        "::float8",
        "",
        "",
        "::boolean",
        "",
        "::integer",
};
static const char *const event_casts[JW_JOURNAL_EVENT_COLS] = {
        "",
        "",
        "",
        "::jsonb",
        "::timestamptz",
        "::bigint",
        "",
        "",
        "",
};

static const char *const review_casts[JW_JOURNAL_REVIEW_COLS] = {
        "",
        "",
        "",
        "::float8",
        "::float8",
        "::jsonb",
        "",
        "",
        "",
        "::timestamptz",
        "::timestamptz",
        "",
        "",
        "",
        "::jsonb",
        "::integer",
};

static const char *const station_casts[JW_JOURNAL_STATION_COLS] = {
        "",
        "",
        "::jsonb",
        "::timestamptz",
        "::boolean",
        "",
        "",
};

/* The table a kind of row goes to. */
struct kind_sql {
	const char *insert;   /* "INSERT INTO t (" */
	const char *conflict; /* " ON CONFLICT ..." */
	const char *const *cols, *const *casts;
	int ncols;
};

static struct kind_sql kind_sql(enum jw_journal_kind kind)
{
	static const char *const review_insert = "INSERT INTO jobwire_reviews (";
	static const char *const review_conflict =
	        " ON CONFLICT (session_id, job_id, answered_at, node) DO NOTHING";
	struct kind_sql k;
	bool fin = kind == JW_JOURNAL_FINISHED;

	if(kind == JW_JOURNAL_REVIEW) {
		k.insert = review_insert;
		k.conflict = review_conflict;
		k.cols = jw_journal_review_columns;
		k.casts = review_casts;
		k.ncols = JW_JOURNAL_REVIEW_COLS;
		return k;
	}
	if(kind == JW_JOURNAL_STATION) {
		k.insert = "INSERT INTO jobwire_station_transitions (";
		k.conflict = " ON CONFLICT (station, at, state, node) DO NOTHING";
		k.cols = jw_journal_station_columns;
		k.casts = station_casts;
		k.ncols = JW_JOURNAL_STATION_COLS;
		return k;
	}
	k.insert = fin ? "INSERT INTO jobwire_finished_jobs (" : "INSERT INTO jobwire_events (";
	k.conflict = fin ? " ON CONFLICT (session_id, job_id, attempt) DO NOTHING"
	                 : " ON CONFLICT (session_id, job_id, seq, node) DO NOTHING";
	k.cols = fin ? jw_journal_finished_columns : jw_journal_event_columns;
	k.casts = fin ? finished_casts : event_casts;
	k.ncols = fin ? JW_JOURNAL_FINISHED_COLS : JW_JOURNAL_EVENT_COLS;
	return k;
}

/* INSERT of the rows idx[0..n) of kind: one statement, parameters in
 * *vals (caller frees). Returns the SQL (caller frees) or NULL. */
static char *build_insert(const struct batch *b, const size_t *idx, size_t n,
        enum jw_journal_kind kind, const char ***vals)
{
	struct kind_sql k = kind_sql(kind);
	int ncols = k.ncols;
	const char *const *cols = k.cols;
	const char *const *casts = k.casts;
	struct jw_buf s;
	const char **v;
	char *sql;
	int p = 1;

	v = malloc(n * (size_t)ncols * sizeof(*v));
	if(!v) {
		return NULL;
	}
	/* Built whole and checked once: the buffer keeps a failed append. */
	jw_buf_init(&s, JW_BUF_UNLIMITED);
	(void)jw_buf_reserve(&s, 4095);
	jw_buf_add_str(&s, k.insert);
	for(int c = 0; c < ncols; c++) {
		jw_buf_add_str(&s, c ? ", " : "");
		jw_buf_add_str(&s, cols[c]);
	}
	jw_buf_add_str(&s, ") VALUES ");
	for(size_t i = 0; i < n; i++) {
		const struct item *it = &b->items[idx[i]];
		jw_buf_add_str(&s, i ? ",(" : "(");
		for(int c = 0; c < ncols; c++) {
			jw_buf_printf(&s, "%s$%d%s", c ? "," : "", p++, casts[c]);
			v[i * (size_t)ncols + (size_t)c] = it->row.v[c];
		}
		jw_buf_add_str(&s, ")");
	}
	jw_buf_add_str(&s, k.conflict);
	sql = jw_buf_take(&s, NULL);
	if(!sql) {
		free(v);
		return NULL;
	}
	*vals = v;
	return sql;
}

/* Appends one line to the dead-letter file and fsyncs it. */
static void dead_letter(
        struct jw_journal *j, const struct item *it, const char *sqlstate, const char *reason)
{
	struct json_object *o = json_object_new_object();
	struct json_object *rec = json_tokener_parse(it->raw);
	char ts[40];
	const char *text;
	int fd;

	if(!o) {
		json_object_put(rec);
		return;
	}
	json_object_object_add(o, "dead_at",
	        json_object_new_string(
	                jw_journal_format_ms(ts, sizeof(ts), jw_clock_ms(CLOCK_REALTIME))));
	json_object_object_add(o, "sqlstate", sqlstate ? json_object_new_string(sqlstate) : NULL);
	json_object_object_add(o, "reason", json_object_new_string(reason ? reason : ""));
	json_object_object_add(o, "record", rec ? rec : json_object_new_string(it->raw));
	text = json_object_to_json_string_ext(
	        o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	fd = open(j->dead_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if(fd >= 0 && text) {
		size_t n = strlen(text);
		char *line = malloc(n + 2);
		if(line) {
			memcpy(line, text, n);
			line[n] = '\n';
			if(write(fd, line, n + 1) < 0) {
				atomic_fetch_add(&j->sync_errors, 1);
			}
			free(line);
		}
		fsync(fd);
	}
	if(fd >= 0) {
		close(fd);
	}
	json_object_put(o);
	atomic_fetch_add(&j->dead, 1);
}

/* Outcome of writing rows. */
enum wr { WR_OK = 0, WR_RETRY, WR_ROWWISE };

/* One INSERT of idx[0..n) of kind; WR_ROWWISE when PostgreSQL refused it
 * for the data of some row. */
static enum wr insert_rows(struct jw_journal *j, const struct batch *b, const size_t *idx, size_t n,
        enum jw_journal_kind kind, char *state, size_t statelen, char *msg, size_t msglen)
{
	const char **vals = NULL;
	char *sql;
	PGresult *r;
	enum wr out = WR_OK;
	int ncols = kind_sql(kind).ncols;

	if(n == 0) {
		return WR_OK;
	}
	sql = build_insert(b, idx, n, kind, &vals);
	if(!sql) {
		set_last_error(j, "out of memory");
		return WR_RETRY;
	}
	r = run(j, sql, (int)(n * (size_t)ncols), vals);
	free(sql);
	free(vals);
	if(!r) {
		return WR_RETRY;
	}
	if(!result_ok(r)) {
		const char *s = PQresultErrorField(r, PG_DIAG_SQLSTATE);
		snprintf(state, statelen, "%s", s ? s : "");
		snprintf(msg, msglen, "%s", PQresultErrorMessage(r));
		set_last_error(j, msg);
		out = permanent_error(r) ? WR_ROWWISE : WR_RETRY;
	}
	PQclear(r);
	return out;
}

static enum wr exec_simple(struct jw_journal *j, const char *sql)
{
	PGresult *r = run(j, sql, 0, NULL);
	enum wr out = WR_OK;

	if(!r) {
		return WR_RETRY;
	}
	if(!result_ok(r)) {
		set_last_error(j, PQresultErrorMessage(r));
		out = WR_RETRY;
	}
	PQclear(r);
	return out;
}

/*
 * Writes the batch: the finished rows and the event rows in one
 * transaction. When PostgreSQL refuses it for the data of a row, every
 * row is retried alone (ON CONFLICT makes the repeats harmless) and those
 * it refuses go to the dead letters. Returns 0 when everything is either
 * committed or dead-lettered, -1 to retry the batch later.
 */
static int write_batch(struct jw_journal *j, struct batch *b)
{
	size_t *fin = NULL, *ev = NULL, *rv = NULL, *sta = NULL, nf = 0, ne = 0, nr = 0, ns = 0;
	char state[8] = "", msg[512] = "";
	enum wr w;
	int rc = -1;

	fin = malloc((b->n + 1) * sizeof(*fin));
	ev = malloc((b->n + 1) * sizeof(*ev));
	rv = malloc((b->n + 1) * sizeof(*rv));
	sta = malloc((b->n + 1) * sizeof(*sta));
	if(!fin || !ev || !rv || !sta) {
		set_last_error(j, "out of memory");
		goto out;
	}
	for(size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		if(!it->decoded) {
			dead_letter(j, it, NULL, it->why);
		} else if(it->row.kind == JW_JOURNAL_FINISHED) {
			fin[nf++] = i;
		} else if(it->row.kind == JW_JOURNAL_REVIEW) {
			rv[nr++] = i;
		} else if(it->row.kind == JW_JOURNAL_STATION) {
			sta[ns++] = i;
		} else {
			ev[ne++] = i;
		}
	}
	if(nf + ne + nr + ns == 0) {
		rc = 0;
		goto out;
	}
	if(ne + nr + ns == 0) {
		w = insert_rows(j, b, fin, nf, JW_JOURNAL_FINISHED, state, sizeof(state), msg, sizeof(msg));
	} else {
		w = exec_simple(j, "BEGIN");
		if(w == WR_OK) {
			w = insert_rows(
			        j, b, fin, nf, JW_JOURNAL_FINISHED, state, sizeof(state), msg, sizeof(msg));
		}
		if(w == WR_OK) {
			w = insert_rows(j, b, ev, ne, JW_JOURNAL_EVENT, state, sizeof(state), msg, sizeof(msg));
		}
		if(w == WR_OK) {
			w = insert_rows(
			        j, b, rv, nr, JW_JOURNAL_REVIEW, state, sizeof(state), msg, sizeof(msg));
		}
		if(w == WR_OK) {
			w = insert_rows(
			        j, b, sta, ns, JW_JOURNAL_STATION, state, sizeof(state), msg, sizeof(msg));
		}
		if(w == WR_OK) {
			w = exec_simple(j, "COMMIT");
		} else if(j->conn) {
			exec_simple(j, "ROLLBACK");
		}
	}
	if(w == WR_RETRY) {
		goto out;
	}
	if(w == WR_ROWWISE) {
		for(size_t i = 0; i < b->n; i++) {
			struct item *it = &b->items[i];
			size_t one = i;

			if(!it->decoded) {
				continue;
			}
			state[0] = '\0';
			w = insert_rows(j, b, &one, 1, it->row.kind, state, sizeof(state), msg, sizeof(msg));
			if(w == WR_RETRY) {
				goto out;
			}
			if(w == WR_ROWWISE) {
				dead_letter(j, it, state, msg);
			}
		}
	}
	rc = 0;
out:
	free(fin);
	free(ev);
	free(rv);
	free(sta);
	return rc;
}

static void drop_segment(struct jw_journal *j, uint64_t seq)
{
	char path[4096];
	uint64_t size;

	seg_path(j, seq, path, sizeof(path));
	size = file_size(path);
	if(unlink(path) == 0) {
		atomic_fetch_sub(&j->disk_bytes, size);
	}
}

/* After a commit: move the cursor, make it durable, drop whole segments
 * behind it. */
static void advance(struct jw_journal *j, const struct batch *b)
{
	j->c_seq = b->seq;
	j->c_off = b->off;
	write_checkpoint(j, j->c_seq, j->c_off);
	atomic_fetch_add(&j->committed_bytes, b->bytes);
	atomic_fetch_add(&j->committed, b->n);
	atomic_fetch_add(&j->batches, 1);
	while(j->old_next < j->n_old && j->old_segs[j->old_next] < j->c_seq) {
		drop_segment(j, j->old_segs[j->old_next++]);
	}
	while(j->live_low < j->c_seq) {
		drop_segment(j, j->live_low++);
	}
	if(j->c_seq >= j->replay_end_seq) {
		atomic_store(&j->replay_done, true);
	}
}

/* ---- the journal thread ---- */

/* PostgreSQL refused or failed: down, and the next try after a doubled
 * wait (capped). */
static void back_off(struct jw_journal *j, int64_t *backoff, int64_t *retry_at)
{
	set_state(j, JW_JOURNAL_DOWN);
	*backoff = *backoff ? *backoff * 2 : BACKOFF_FIRST_MS;
	if(*backoff > BACKOFF_MAX_MS) {
		*backoff = BACKOFF_MAX_MS;
	}
	*retry_at = jw_clock_ms(CLOCK_MONOTONIC) + *backoff;
}

/* Waits until monotonic mono_ms, an append or a stop. */
static void sleep_until(struct jw_journal *j, int64_t mono_ms)
{
	pthread_mutex_lock(&j->lock);
	if(!j->stopping) {
		struct timespec ts = jw_worker_mono_abs(mono_ms);
		pthread_cond_timedwait(&j->wake, &j->lock, &ts);
	}
	pthread_mutex_unlock(&j->lock);
}

/* Caught up: sleep until the broker appends (or a stop). */
static void sleep_caught_up(struct jw_journal *j)
{
	pthread_mutex_lock(&j->lock);
	if(!j->stopping && j->w_seq == j->c_seq && j->w_size == j->c_off) {
		struct timespec ts = jw_worker_mono_abs(jw_clock_ms(CLOCK_MONOTONIC) + 1000);
		j->jt_waiting = true;
		pthread_cond_timedwait(&j->wake, &j->lock, &ts);
		j->jt_waiting = false;
	}
	pthread_mutex_unlock(&j->lock);
}

static void *journal_main(void *arg)
{
	struct jw_journal *j = arg;
	struct batch b = {0};
	int64_t backoff = 0, retry_at = 0;

	for(;;) {
		bool stopping;

		pthread_mutex_lock(&j->lock);
		stopping = j->stopping;
		pthread_mutex_unlock(&j->lock);
		if(aborting(j)) {
			break;
		}
		if(backoff > 0 && jw_clock_ms(CLOCK_MONOTONIC) < retry_at) {
			if(stopping) {
				break; /* the rest stays spooled */
			}
			sleep_until(j, retry_at);
			continue;
		}
		if(!j->conn) {
			if(connect_db(j) != 0) {
				back_off(j, &backoff, &retry_at);
				if(stopping) {
					break;
				}
				continue;
			}
			set_state(j, JW_JOURNAL_UP);
			set_last_error(j, "");
		}
		collect(j, &b, j->batch_max);
		if(b.n == 0 && b.bytes == 0 && b.seq == j->c_seq && b.off == j->c_off) {
			atomic_store(&j->oldest_ms, 0);
			atomic_store(&j->replay_done, true);
			if(stopping) {
				break;
			}
			sleep_caught_up(j);
			continue;
		}
		if(b.n > 0) {
			atomic_store(&j->oldest_ms, b.items[0].row.spooled_ms ? b.items[0].row.spooled_ms
			                                                      : jw_clock_ms(CLOCK_REALTIME));
		}
		if(write_batch(j, &b) != 0) {
			back_off(j, &backoff, &retry_at);
			batch_clear(&b);
			continue;
		}
		backoff = 0;
		set_state(j, JW_JOURNAL_UP);
		advance(j, &b);
		if(b.n < j->batch_max) {
			/* A partial batch: the spool is caught up. Waiting a little
			 * before the next turns a trickle of finishing jobs into
			 * batches (one commit and one checkpoint fsync per batch)
			 * instead of a transaction per job, at the cost of at most
			 * GATHER_MS more journal lag. Under load batches are full and
			 * there is no wait. */
			sleep_until(j, jw_clock_ms(CLOCK_MONOTONIC) + GATHER_MS);
		}
		batch_clear(&b);
	}
	batch_clear(&b);
	free(b.items);
	disconnect(j);
	pthread_mutex_lock(&j->lock);
	j->journal_done = true;
	pthread_cond_broadcast(&j->done);
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

/* ---- open and stop ---- */

static void journal_free(struct jw_journal *j)
{
	jw_kvlog_close(j->seg);
	pthread_cond_destroy(&j->wake);
	pthread_cond_destroy(&j->sync_wake);
	pthread_cond_destroy(&j->done);
	pthread_mutex_destroy(&j->lock);
	pthread_mutex_destroy(&j->err_lock);
	jw_notes_cleanup(&j->notes);
	free(j->old_segs);
	free(j->dir);
	free(j->dead_path);
	free(j->conninfo);
	free(j);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void note(struct jw_journal *j, enum jw_note_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void note(struct jw_journal *j, enum jw_note_level level, const char *fmt, ...)
{
	char line[JW_NOTE_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	jw_notes_add(&j->notes, level, line);
}

/*
 * Lists the spool directory: the segment files an earlier run left
 * (ascending, in *segs), and the highest segment number any name in it
 * carries (*top, for numbering the next segment past all of them; -1 as
 * UINT64_MAX when none). Names are untrusted input: each is parsed with
 * bounds (core/disk/journal_spool.h), and anything that is not a regular file
 * named like a segment in range, the checkpoint or a quarantine file is
 * noted for the log and left alone. Only names and file types are looked
 * at (lstat), so a FIFO or device named like a segment blocks nothing.
 * Returns 0, or -1 (out of memory, or the directory cannot be read).
 */
static int scan_segments(struct jw_journal *j, uint64_t **segs, size_t *nsegs, uint64_t *top,
        char *err, size_t errlen)
{
	DIR *d = opendir(j->dir);
	struct dirent *de;
	uint64_t *v = NULL;
	size_t n = 0, cap = 0;

	*segs = NULL;
	*nsegs = 0;
	*top = UINT64_MAX;
	if(!d) {
		set_err(err, errlen, "read directory", j->dir, errno);
		return -1;
	}
	for(;;) {
		struct stat st;
		enum jw_spool_kind kind;
		uint64_t seq = 0;

		errno = 0;
		de = readdir(d);
		if(!de) {
			if(errno != 0) {
				set_err(err, errlen, "read directory", j->dir, errno);
				goto fail;
			}
			break;
		}
		kind = jw_spool_classify(de->d_name, &seq);
		if(kind == JW_SPOOL_DOT || kind == JW_SPOOL_CHECKPOINT || kind == JW_SPOOL_CHECKPOINT_TMP ||
		        kind == JW_SPOOL_QUARANTINE) {
			continue;
		}
		if(kind == JW_SPOOL_UNKNOWN) {
			atomic_fetch_add(&j->strays, 1);
			note(j, JW_NOTE_WARNING, "ignoring %s/%.300s: not a journal file (left alone)", j->dir,
			        de->d_name);
			continue;
		}
		if(kind == JW_SPOOL_OUT_OF_RANGE) {
			atomic_fetch_add(&j->strays, 1);
			note(j, JW_NOTE_WARNING,
			        "ignoring %s/%s: segment number out of range (at most %llu; left alone)",
			        j->dir, de->d_name, (unsigned long long)JW_SPOOL_SEQ_MAX);
			continue;
		}
		/* A segment's name. Even if it is not a file, the next segment
		 * must be numbered past it, or opening that would fail. */
		if(*top == UINT64_MAX || seq > *top) {
			*top = seq;
		}
		if(fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) {
			atomic_fetch_add(&j->strays, 1);
			note(j, JW_NOTE_WARNING,
			        "ignoring %s/%s: named like a spool segment but not a regular file (left "
			        "alone)",
			        j->dir, de->d_name);
			continue;
		}
		if(n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			uint64_t *grown = realloc(v, ncap * sizeof(*grown));
			if(!grown) {
				set_err(err, errlen, "read directory", j->dir, ENOMEM);
				goto fail;
			}
			v = grown;
			cap = ncap;
		}
		v[n++] = seq;
	}
	closedir(d);
	if(n > 1) {
		qsort(v, n, sizeof(*v), cmp_u64);
	}
	*segs = v;
	*nsegs = n;
	return 0;
fail:
	closedir(d);
	free(v);
	return -1;
}

/* Whether segments holds seq (ascending). */
static bool has_seg(const uint64_t *segs, size_t n, uint64_t seq)
{
	return n > 0 && bsearch(&seq, segs, n, sizeof(*segs), cmp_u64) != NULL;
}

/*
 * Reads the checkpoint. A damaged one (bad checksum, not parseable, out
 * of range, not a regular file) is kept in a quarantine file, counted and
 * noted, and ignored: the caller then reads from the oldest segment,
 * which sends again what PostgreSQL already has (ON CONFLICT drops it)
 * but loses nothing. A checkpoint of the format without a checksum is
 * trusted only when it points at a record boundary of a segment present
 * (or there is no segment); *legacy says it was in that format, used or
 * not. Returns whether the values in seq and off are to be used.
 */
static bool load_checkpoint(struct jw_journal *j, const uint64_t *segs, size_t nsegs, uint64_t *seq,
        uint64_t *off, bool *legacy)
{
	char path[4096], why[128] = "", kept[4096] = "", qerr[512] = "";
	unsigned char raw[80];
	size_t rawlen = 0;
	enum jw_spool_cp st;
	int q;

	snprintf(path, sizeof(path), "%s/checkpoint", j->dir);
	st = jw_spool_checkpoint_read(path, seq, off, raw, sizeof(raw), &rawlen, why, sizeof(why));
	*legacy = st == JW_SPOOL_CP_LEGACY;
	if(st == JW_SPOOL_CP_OK) {
		return true;
	}
	if(st == JW_SPOOL_CP_MISSING) {
		return false;
	}
	if(st == JW_SPOOL_CP_LEGACY) {
		char seg[4096];
		uint64_t size;

		if(nsegs == 0) {
			return true; /* it only numbers the next segment */
		}
		if(has_seg(segs, nsegs, *seq)) {
			seg_path(j, *seq, seg, sizeof(seg));
			size = file_size(seg);
			if(*off == size || (*off < size && jw_kvlog_record_at(seg, *off) == 1)) {
				return true;
			}
		}
		snprintf(why, sizeof(why),
		        "\"%" PRIu64 " %" PRIu64 "\" is not a record boundary of a segment present", *seq,
		        *off);
	}
	atomic_fetch_add(&j->checkpoint_damaged, 1);
	if(st == JW_SPOOL_CP_ERROR) {
		note(j, JW_NOTE_ERROR,
		        "cannot read the checkpoint %s (%s); reading the spool from its oldest segment "
		        "(what PostgreSQL already has is sent again and ignored)",
		        path, why);
		return false;
	}
	/* Broker thread at start: no fsync. */
	q = jw_quarantine_write(path, 0, raw, rawlen, false, kept, sizeof(kept), qerr, sizeof(qerr));
	note(j, JW_NOTE_ERROR,
	        "the checkpoint %s is damaged (%s); reading the spool from its oldest segment "
	        "(what PostgreSQL already has is sent again and ignored); %s%s",
	        path, why,
	        q == JW_QUARANTINE_WRITTEN   ? "kept in "
	        : q == JW_QUARANTINE_ALREADY ? "already kept in "
	                                     : "",
	        q >= 0 ? kept : qerr);
	return false;
}

/*
 * At open, when the checkpoint file would lead the next start somewhere
 * else than where this start reads from: writes that position as the
 * checkpoint, durably (write, fsync, rename, directory fsync), before
 * anything is appended. This runs on the broker thread, but only at
 * start before it serves anyone, and only for this repair. If the
 * checkpoint cannot be written it is removed, which makes the next start
 * read from the oldest segment (sending again what PostgreSQL has, losing
 * nothing). cp_seq/cp_off are what the file said. Returns 0, or -1 with
 * err filled when neither works.
 */
static int repair_checkpoint(struct jw_journal *j, uint64_t cp_seq, uint64_t cp_off, uint64_t seq,
        uint64_t off, char *err, size_t errlen)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/checkpoint", j->dir);
	if(write_checkpoint(j, seq, off) == 0) {
		if(cp_seq == seq && cp_off == off) {
			note(j, JW_NOTE_INFO,
			        "rewrote the checkpoint %s (segment %" PRIu64 " offset %" PRIu64
			        ") with a checksum",
			        path, seq, off);
		} else {
			note(j, JW_NOTE_WARNING,
			        "the checkpoint %s said segment %" PRIu64 " offset %" PRIu64
			        ", which is not where the spool on disk goes on; reading from segment %" PRIu64
			        " offset %" PRIu64 ", now the checkpoint",
			        path, cp_seq, cp_off, seq, off);
		}
		return 0;
	}
	if(unlink(path) == 0) {
		fsync_dir(j->dir);
		note(j, JW_NOTE_WARNING,
		        "cannot rewrite the checkpoint %s (segment %" PRIu64 " offset %" PRIu64
		        "); removed it, so the next start reads the spool from its oldest segment",
		        path, cp_seq, cp_off);
		return 0;
	}
	set_err(err, errlen, "rewrite the journal checkpoint", path, errno);
	return -1;
}

/* A journal with cfg's settings, its locks and counters set up, nothing
 * on disk touched yet. NULL (err filled) when out of memory. */
static struct jw_journal *journal_new(const struct jw_journal_config *cfg, char *err, size_t errlen)
{
	struct jw_journal *j = calloc(1, sizeof(*j));
	pthread_condattr_t ca;

	if(!j) {
		set_err(err, errlen, "journal", cfg->data_dir, ENOMEM);
		return NULL;
	}
	j->dir = path_join(cfg->data_dir, "journal");
	j->dead_path = path_join(cfg->data_dir, DEAD_LETTER_NAME);
	j->conninfo = strdup(cfg->conninfo);
	if(!j->dir || !j->dead_path || !j->conninfo) {
		free(j->dir);
		free(j->dead_path);
		free(j->conninfo);
		free(j);
		set_err(err, errlen, "journal", cfg->data_dir, ENOMEM);
		return NULL;
	}
	j->policy = cfg->fsync_policy;
	j->spool_max = cfg->spool_max;
	j->segment_max = cfg->segment_max ? cfg->segment_max : SEGMENT_MAX_DEFAULT;
	j->batch_max = cfg->batch_max ? cfg->batch_max : BATCH_MAX_DEFAULT;
	if(j->batch_max > BATCH_MAX_LIMIT) {
		j->batch_max = BATCH_MAX_LIMIT;
	}
	pthread_mutex_init(&j->lock, NULL);
	pthread_mutex_init(&j->err_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&j->wake, &ca);
	pthread_cond_init(&j->sync_wake, &ca);
	pthread_cond_init(&j->done, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&j->abort, false);
	atomic_init(&j->written_bytes, 0);
	atomic_init(&j->committed_bytes, 0);
	atomic_init(&j->disk_bytes, 0);
	atomic_init(&j->spooled, 0);
	atomic_init(&j->committed, 0);
	atomic_init(&j->dead, 0);
	atomic_init(&j->batches, 0);
	atomic_init(&j->sync_errors, 0);
	atomic_init(&j->write_errors, 0);
	atomic_init(&j->state_changes, 0);
	atomic_init(&j->state, JW_JOURNAL_CONNECTING);
	atomic_init(&j->oldest_ms, 0);
	atomic_init(&j->replay_done, false);
	atomic_init(&j->checkpoint_damaged, 0);
	atomic_init(&j->checkpoint_errors, 0);
	atomic_init(&j->strays, 0);
	jw_damage_counts_init(&j->damage);
	jw_notes_init(&j->notes);

	return j;
}

/* Checks the conninfo here, where a mistake can stop the start. The
 * parser's message is not repeated: it may quote part of a password. */
static int check_conninfo(const char *conninfo, char *err, size_t errlen)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &perr);

	if(!opts) {
		PQfreemem(perr);
		snprintf(err, errlen,
		        "plugin_opt_pg_conninfo is not a valid libpq connection string or URI");
		return -1;
	}
	PQconninfoFree(opts);
	return 0;
}

/*
 * What an earlier run left: from the checkpoint (or the oldest segment)
 * to the newest segment. Sets where reading and writing start and the
 * byte counts, and opens this run's segment. 0, or -1 with err filled.
 */
static int recover_spool(struct jw_journal *j, char *err, size_t errlen)
{
	uint64_t lo, next, top, cp_seq = 0, cp_off = 0, c_seq, c_off, backlog = 0, disk = 0;
	uint64_t *segs = NULL;
	size_t nsegs = 0;
	bool any, have_cp, legacy = false;
	char path[4096];

	if(scan_segments(j, &segs, &nsegs, &top, err, errlen) != 0) {
		return -1;
	}
	any = nsegs > 0;
	lo = any ? segs[0] : 0;
	/* This run writes past every segment-like name (top >= every segment
	 * listed), so nothing it appends lies behind what an earlier run
	 * left. Numbering does not follow the checkpoint: only names on disk
	 * decide, so a checkpoint naming a huge segment cannot push the
	 * numbers to the limit. */
	next = top == UINT64_MAX ? 0 : top + 1;
	if(next > JW_SPOOL_SEQ_MAX) {
		snprintf(err, errlen,
		        "journal segment numbers in %s reach the limit %llu: move the segment files away",
		        j->dir, (unsigned long long)JW_SPOOL_SEQ_MAX);
		goto fail;
	}
	have_cp = load_checkpoint(j, segs, nsegs, &cp_seq, &cp_off, &legacy);
	c_seq = lo;
	c_off = 0;
	if(!any || (have_cp && cp_seq > segs[nsegs - 1])) {
		c_seq = next; /* nothing spooled past the checkpoint */
	} else if(have_cp && cp_seq >= lo) {
		c_seq = cp_seq;
		/* In a gap, reading goes on with the next segment. */
		c_off = has_seg(segs, nsegs, cp_seq) ? cp_off : 0;
	}
	if((have_cp && (c_seq != cp_seq || c_off != cp_off)) || legacy) {
		/* The checkpoint names a place that is not on disk, or is in the
		 * old format, which is judged by the segments present: left as it
		 * is, the next start could trust it (again, or newly, now that
		 * this run's segment exists), and it may then fall inside or past
		 * what this run appends: those records would be skipped. So the
		 * position used here is made durable first. */
		if(repair_checkpoint(j, cp_seq, cp_off, c_seq, c_off, err, errlen) != 0) {
			goto fail;
		}
	}
	for(size_t i = 0; i < nsegs; i++) {
		uint64_t size;
		seg_path(j, segs[i], path, sizeof(path));
		size = file_size(path);
		disk += size;
		if(segs[i] > c_seq) {
			backlog += size;
		} else if(segs[i] == c_seq && size > c_off) {
			backlog += size - c_off;
		}
	}
	j->c_seq = c_seq;
	j->c_off = c_off;
	j->w_seq = next;
	j->replay_end_seq = j->w_seq;
	j->live_low = j->w_seq;
	j->old_segs = segs;
	j->n_old = nsegs;
	segs = NULL;
	atomic_store(&j->written_bytes, backlog);
	atomic_store(&j->disk_bytes, disk);
	seg_path(j, j->w_seq, path, sizeof(path));
	if(jw_kvlog_open(path, &j->seg, NULL, NULL, err, errlen) != 0) {
		return -1;
	}
	j->w_size = jw_kvlog_size(j->seg);
	atomic_fetch_add(&j->written_bytes, j->w_size);
	atomic_fetch_add(&j->disk_bytes, j->w_size);
	return 0;
fail:
	free(segs);
	return -1;
}

/* Starts the sync and journal threads. 0, or -1 with err filled (no
 * thread left running). */
static int start_threads(struct jw_journal *j, char *err, size_t errlen)
{
	sigset_t all, old;
	int e;

	/* Both threads block every signal, so they keep reaching the broker
	 * thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&j->sthread, NULL, sync_main, j);
	if(e == 0) {
		e = pthread_create(&j->jthread, NULL, journal_main, j);
		if(e != 0) {
			pthread_mutex_lock(&j->lock);
			j->sync_stop = true;
			pthread_cond_signal(&j->sync_wake);
			pthread_mutex_unlock(&j->lock);
			pthread_join(j->sthread, NULL);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if(e != 0) {
		set_err(err, errlen, "start journal threads for", j->dir, e);
		return -1;
	}
	return 0;
}

int jw_journal_open(
        const struct jw_journal_config *cfg, struct jw_journal **out, char *err, size_t errlen)
{
	struct jw_journal *j;

	*out = NULL;
	if(!cfg || !cfg->data_dir || !cfg->conninfo) {
		set_err(err, errlen, "journal", "(configuration)", EINVAL);
		return -1;
	}
	j = journal_new(cfg, err, errlen);
	if(!j) {
		return -1;
	}
	if(check_conninfo(j->conninfo, err, errlen) != 0 || ensure_dir(j->dir, err, errlen) != 0 ||
	        recover_spool(j, err, errlen) != 0 || start_threads(j, err, errlen) != 0) {
		journal_free(j);
		return -1;
	}
	*out = j;
	return 0;
}

void jw_journal_stop(struct jw_journal *j, int deadline_ms)
{
	if(!j) {
		return;
	}
	jw_worker_stop(
	        &j->lock, &j->wake, &j->done, &j->stopping, &j->journal_done, &j->abort, deadline_ms);
	pthread_join(j->jthread, NULL);

	pthread_mutex_lock(&j->lock);
	j->sync_stop = true;
	pthread_cond_signal(&j->sync_wake);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->sthread, NULL);
	journal_free(j);
}
