/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The journal's checkpoint and spool directory as jw_journal_open finds
 * them at start (plugin/journal.c: load_checkpoint, scan_segments and the
 * cursor they give). The checkpoint is read only inside jw_journal_open,
 * so the target drives jw_journal_open itself on a private data directory,
 * with a libpq connection string that fails at once (the journal thread
 * then only backs off), and stops it again.
 *
 * Input: the checkpoint file's bytes (none when empty), optionally a NUL
 * byte and a segment list: each byte b adds b >> 4 records, written by the
 * real writer (jw_journal_rec_encode, jw_kvlog_append), to segment
 * 1 + (b & 15).
 *
 * Checked: a damaged checkpoint never stops the start, and it is counted
 * exactly when jw_spool_checkpoint_parse refuses it (or it is in the old
 * format and does not point at a record boundary of a segment present);
 * the statistics agree with the files (spool bytes are the segments'
 * sizes, pending is at most that); an appended record lands in a segment
 * the next start lists, and is pending. Then, after a stop and a second
 * start: nothing pending was lost or invented (what docs/journal.md
 * promises for anything acknowledged and not yet in PostgreSQL, whatever
 * the checkpoint said), and the checkpoint is damaged again only if the
 * journal could not have replaced it (one in the old format is rewritten
 * at the first start).
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "journal_rec.h"
#include "journal_spool.h"
#include "kvlog.h"
#include "persist.h"

#define KEY "fz/j1"

static char jdir[512];
static char *rec;
static size_t rec_len;

static void cleanup(void)
{
	free(rec);
	jw_fuzz_empty_dir(jdir);
	rmdir(jdir);
}

static void init(void)
{
	struct jw_journal_rec r;

	snprintf(jdir, sizeof(jdir), "%s/journal", jw_fuzz_dir());
	memset(&r, 0, sizeof(r));
	r.kind = JW_JOURNAL_FINISHED;
	r.session = "fz";
	r.job = "j1";
	r.type = "complete";
	r.event = "{\"ts\":\"2026-01-02T03:04:05.678Z\",\"result\":{\"rows\":1}}";
	r.event_len = strlen(r.event);
	r.retryable = -1;
	r.finished_ms = 1767323045678;
	r.node = "fuzz";
	r.seq = 3;
	rec = jw_journal_rec_encode(&r, &rec_len);
	if(!rec)
		abort();
	atexit(cleanup);
}

/* Bytes in the *.spool files of the journal folder; *bad counts names the
 * start would not list as segments. */
static uint64_t spool_bytes(int *bad)
{
	DIR *d = opendir(jdir);
	struct dirent *de;
	uint64_t sum = 0;

	*bad = 0;
	if(!d)
		return 0;
	while((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		char p[1024];
		struct stat st;
		uint64_t seq;

		if(n < 6 || strcmp(de->d_name + n - 6, ".spool") != 0)
			continue;
		if(jw_spool_classify(de->d_name, &seq) != JW_SPOOL_SEGMENT)
			(*bad)++;
		snprintf(p, sizeof(p), "%s/%s", jdir, de->d_name);
		if(stat(p, &st) == 0)
			sum += (uint64_t)st.st_size;
	}
	closedir(d);
	return sum;
}

/* The size of segment seq, or -1 when there is none. */
static int64_t segment_size(uint64_t seq)
{
	char p[600];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%016llu.spool", jdir, (unsigned long long)seq);
	return stat(p, &st) == 0 ? (int64_t)st.st_size : -1;
}

/* Whether the start must call the checkpoint damaged: what the parser
 * refuses, or the old format not at a record boundary of a segment
 * present (with segments at all). Every record here has size each. */
static bool expect_damaged(const uint8_t *cp, size_t len, bool any_segment, uint64_t each)
{
	uint64_t seq, off;
	int64_t size;

	if(len == 0)
		return false;
	switch(jw_spool_checkpoint_parse(cp, len, &seq, &off, NULL, 0)) {
		case JW_SPOOL_CP_OK:
			return false;
		case JW_SPOOL_CP_LEGACY:
			if(!any_segment)
				return false;
			size = segment_size(seq);
			return size < 0 || off > (uint64_t)size || off % each != 0;
		default:
			return true;
	}
}

static struct jw_journal *start(const char *dir)
{
	struct jw_journal_config cfg;
	struct jw_journal *j = NULL;
	char err[512];
	int rc;

	memset(&cfg, 0, sizeof(cfg));
	cfg.data_dir = dir;
	/* A unix socket in a folder that does not exist: fails at once. */
	cfg.conninfo = "host=/nonexistent/jobwire-fuzz dbname=none connect_timeout=1";
	cfg.fsync_policy = JW_FSYNC_NEVER;
	cfg.spool_max = (uint64_t)1 << 30;
	rc = jw_journal_open(&cfg, &j, err, sizeof(err));
	FUZZ_CHECK(rc == 0 && j, "the journal did not start: %s", err);
	return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t cplen = nul ? (size_t)(nul - data) : size;
	struct jw_journal *j;
	struct jw_journal_stats st;
	uint64_t disk, pending, seq, off, rec_bytes = 16 + strlen(KEY);
	bool damaged;
	int bad;

	if(!rec)
		init();
	rec_bytes += rec_len;
	if(mkdir(jdir, 0700) != 0 && errno != EEXIST)
		abort();
	jw_fuzz_empty_dir(jdir);
	if(cplen > 0) {
		char p[600];

		snprintf(p, sizeof(p), "%s/checkpoint", jdir);
		jw_fuzz_write(p, data, cplen);
	}
	if(nul) {
		for(size_t i = (size_t)(nul - data) + 1, k = 0; i < size && k < 32; i++, k++) {
			char p[600], err[256];
			struct jw_kvlog *l;

			snprintf(p, sizeof(p), "%s/%016u.spool", jdir, 1u + (data[i] & 15u));
			FUZZ_CHECK(jw_kvlog_open(p, &l, NULL, NULL, err, sizeof(err)) == 0, "%s", err);
			for(int n = 0; n < data[i] >> 4; n++)
				FUZZ_CHECK(jw_kvlog_append(l, KEY, rec, rec_len) == 0, "append failed");
			jw_kvlog_close(l);
		}
	}

	damaged = expect_damaged(data, cplen, nul && size > cplen + 1, rec_bytes);
	j = start(jw_fuzz_dir());
	jw_journal_stats(j, &st);
	FUZZ_CHECK(st.checkpoint_damaged == (damaged ? 1u : 0u),
	        "checkpoint_damaged is %" PRIu64 ", the checkpoint is %s", st.checkpoint_damaged,
	        damaged ? "damaged" : "usable");
	disk = spool_bytes(&bad);
	FUZZ_CHECK(st.spool_bytes == disk, "stats say %" PRIu64 " spool bytes, the files hold %" PRIu64,
	        st.spool_bytes, disk);
	FUZZ_CHECK(st.pending_bytes <= st.spool_bytes,
	        "%" PRIu64 " bytes pending of %" PRIu64 " spooled", st.pending_bytes, st.spool_bytes);
	FUZZ_CHECK(jw_journal_append(j, KEY, rec, rec_len) == 0, "append failed: %s", strerror(errno));
	jw_journal_stats(j, &st);
	disk = spool_bytes(&bad);
	FUZZ_CHECK(st.spool_bytes == disk,
	        "after an append: stats say %" PRIu64 " spool bytes, the files hold %" PRIu64,
	        st.spool_bytes, disk);
	FUZZ_CHECK(st.pending_bytes >= rec_bytes,
	        "an appended record is not pending (%" PRIu64 " bytes)", st.pending_bytes);
	pending = st.pending_bytes;
	jw_journal_stop(j, 0);

	FUZZ_CHECK(bad == 0, "the journal writes to a segment the next start does not list");
	j = start(jw_fuzz_dir());
	jw_journal_stats(j, &st);
	FUZZ_CHECK(st.pending_bytes == pending,
	        "after a restart %" PRIu64 " bytes are pending, before it %" PRIu64, st.pending_bytes,
	        pending);
	/* Only a file the journal cannot have replaced is damaged again: one
	 * in the old format is rewritten at the first start. */
	damaged = damaged &&
	          jw_spool_checkpoint_parse(data, cplen, &seq, &off, NULL, 0) != JW_SPOOL_CP_LEGACY;
	FUZZ_CHECK(st.checkpoint_damaged == (damaged ? 1u : 0u),
	        "after a restart checkpoint_damaged is %" PRIu64, st.checkpoint_damaged);
	jw_journal_stop(j, 0);
	return 0;
}
