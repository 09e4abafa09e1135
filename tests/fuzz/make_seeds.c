/*
 * Writes the seed inputs of the on-disk targets with jobwire's own
 * writers, so the corpus starts from files exactly as the broker leaves
 * them: job logs (jw_kvlog_append), spooled records (jw_journal_rec_encode)
 * and a spool segment holding them. Run by tests/fuzz/make_corpus.py;
 * usage: make_seeds CORPUS_DIR (it writes into CORPUS_DIR/kvlog and
 * CORPUS_DIR/spool, which must exist).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_rec.h"
#include "kvlog.h"

static const char *out_dir;
static char tmp[] = "/tmp/jw-make-seeds.XXXXXX";

static void die(const char *what)
{
	fprintf(stderr, "make_seeds: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Writes a seed file: a mode byte, then len bytes. */
static void seed(const char *target, const char *name, int mode, const void *data, size_t len)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
	f = fopen(path, "wb");
	if(!f)
		die(path);
	if(mode >= 0)
		fputc(mode, f);
	if(len && fwrite(data, 1, len, f) != len)
		die(path);
	if(fclose(f) != 0)
		die(path);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = malloc(1 << 20);

	if(!f || !buf)
		die(path);
	*len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	return buf;
}

/* A job log written through the writer, then copied as a seed. */
static void log_seed(const char *name, int torn)
{
	char path[256], err[256];
	struct jw_kvlog *l;
	unsigned char *buf;
	size_t len;

	snprintf(path, sizeof(path), "%s/jobs.log", tmp);
	unlink(path);
	if(jw_kvlog_open(path, &l, err, sizeof(err)) != 0) {
		fprintf(stderr, "make_seeds: %s\n", err);
		exit(1);
	}
	jw_kvlog_append(l, "demo/job-1", "{\"status\":\"running\",\"seq\":1}", 29);
	jw_kvlog_append(l, "demo/job-2", "{\"status\":\"complete\",\"seq\":4}", 30);
	jw_kvlog_append(l, "demo/job-1", "{\"status\":\"running\",\"seq\":2,\"progress\":40}", 43);
	jw_kvlog_append(l, "demo/job-2", NULL, 0);
	jw_kvlog_append(l, "demo/job-3", "", 0);
	jw_kvlog_close(l);
	buf = slurp(path, &len);
	/* A crash in the middle of the last append. */
	seed("kvlog", name, 0, buf, torn ? len - 3 : len);
	free(buf);
	unlink(path);
}

static char *record(enum jw_journal_kind kind, const char *job, size_t *len)
{
	struct jw_journal_rec r;
	char *text;

	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.session = "demo";
	r.job = job;
	if(kind == JW_JOURNAL_FINISHED) {
		r.type = "failed";
		r.event =
		        "{\"ts\":\"2026-01-02T03:04:05.678Z\",\"error\":\"disk full\",\"code\":\"enospc\","
		        "\"retryable\":true}";
		r.error = "\"disk full\"";
		r.code = "\"enospc\"";
		r.retryable = 1;
		r.has_started = true;
		r.started_ms = 1767322800000;
		r.has_progress = true;
		r.progress = 42.5;
	} else {
		r.type = "progress";
		r.event = "{\"ts\":\"2026-01-02T03:04:05.678Z\",\"progress\":42.5,\"message\":"
		          "\"\\u00e9t\\u00e9\"}";
		r.retryable = -1;
	}
	r.event_len = strlen(r.event);
	r.finished_ms = 1767323045678;
	r.client_id = "worker-1";
	r.username = "lab";
	r.node = "broker-a";
	r.seq = 7;
	r.spooled_ms = 1767323045680;
	text = jw_journal_rec_encode(&r, len);
	if(!text)
		die("encode");
	return text;
}

static void spool_seeds(void)
{
	char path[256], err[256];
	struct jw_kvlog *l;
	unsigned char *buf;
	size_t len, flen, elen;
	char *fin = record(JW_JOURNAL_FINISHED, "job-1", &flen);
	char *ev = record(JW_JOURNAL_EVENT, "job-2", &elen);

	seed("spool", "record-finished", 0, fin, flen);
	seed("spool", "record-event", 0, ev, elen);
	snprintf(path, sizeof(path), "%s/0000000000000001.spool", tmp);
	unlink(path);
	if(jw_kvlog_open(path, &l, err, sizeof(err)) != 0) {
		fprintf(stderr, "make_seeds: %s\n", err);
		exit(1);
	}
	jw_kvlog_append(l, "demo/job-1", fin, flen);
	jw_kvlog_append(l, "demo/job-2", ev, elen);
	jw_kvlog_close(l);
	buf = slurp(path, &len);
	seed("spool", "segment", 2, buf, len);
	seed("spool", "segment-torn", 2, buf, len - 10);
	free(buf);
	unlink(path);
	free(fin);
	free(ev);
}

int main(int argc, char **argv)
{
	if(argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	out_dir = argv[1];
	if(!mkdtemp(tmp))
		die("mkdtemp");
	log_seed("log", 0);
	log_seed("log-torn", 1);
	spool_seeds();
	rmdir(tmp);
	return 0;
}
