/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Writes the seed inputs of the on-disk targets with jobwire's own
 * writers, so the corpus starts from files exactly as the broker leaves
 * them, and as damage leaves them: job logs (jw_kvlog_append), spooled
 * records (jw_journal_rec_encode), spool segments holding them, and
 * checkpoints (jw_spool_checkpoint_format). Run by
 * tests/fuzz/make_corpus.py; usage: make_seeds CORPUS_DIR (it writes into
 * CORPUS_DIR/kvlog, CORPUS_DIR/spool and CORPUS_DIR/checkpoint, which must
 * exist).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_rec.h"
#include "journal_spool.h"
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

enum damage {
	INTACT,
	TORN,         /* a crash in the middle of the last append */
	FLIPPED,      /* one byte of the second record changed */
	JUNK_BETWEEN, /* stray bytes between the second and third records */
};

/* A job log written through the writer, then copied as a seed. */
static void log_seed(const char *name, enum damage how)
{
	static const char junk[] = "JWK1\x05\0\0\0not a record";
	char path[256], err[256];
	struct jw_kvlog *l;
	unsigned char *buf, *out;
	size_t len, second, third;

	snprintf(path, sizeof(path), "%s/jobs.log", tmp);
	unlink(path);
	if(jw_kvlog_open(path, &l, NULL, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "make_seeds: %s\n", err);
		exit(1);
	}
	jw_kvlog_append(l, "demo/job-1", "{\"status\":\"running\",\"seq\":1}", 29);
	second = jw_kvlog_size(l);
	jw_kvlog_append(l, "demo/job-2", "{\"status\":\"complete\",\"seq\":4}", 30);
	third = jw_kvlog_size(l);
	jw_kvlog_append(l, "demo/job-1", "{\"status\":\"running\",\"seq\":2,\"progress\":40}", 43);
	jw_kvlog_append(l, "demo/job-2", NULL, 0);
	jw_kvlog_append(l, "demo/job-3", "", 0);
	jw_kvlog_close(l);
	buf = slurp(path, &len);
	switch(how) {
		case TORN:
			len -= 3;
			break;
		case FLIPPED:
			buf[second + 30] ^= 0x20;
			break;
		case JUNK_BETWEEN:
			out = malloc(len + sizeof(junk) - 1);
			if(!out)
				die("malloc");
			memcpy(out, buf, third);
			memcpy(out + third, junk, sizeof(junk) - 1);
			memcpy(out + third + sizeof(junk) - 1, buf + third, len - third);
			free(buf);
			buf = out;
			len += sizeof(junk) - 1;
			break;
		default:
			break;
	}
	seed("kvlog", name, 0, buf, len);
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
	if(jw_kvlog_open(path, &l, NULL, NULL, err, sizeof(err)) != 0) {
		fprintf(stderr, "make_seeds: %s\n", err);
		exit(1);
	}
	jw_kvlog_append(l, "demo/job-1", fin, flen);
	jw_kvlog_append(l, "demo/job-2", ev, elen);
	jw_kvlog_append(l, "demo/job-3", fin, flen);
	jw_kvlog_close(l);
	buf = slurp(path, &len);
	seed("spool", "segment", 2, buf, len);
	seed("spool", "segment-torn", 2, buf, len - 10);
	/* A changed byte in the middle record's value. */
	buf[len / 2] ^= 0x01;
	seed("spool", "segment-damaged-middle", 2, buf, len);
	free(buf);
	unlink(path);
	free(fin);
	free(ev);
}

/* Checkpoint texts (fuzz_spool mode 4) and journal folders
 * (fuzz_checkpoint: the checkpoint, a NUL, segment bytes). */
static void checkpoint_seeds(void)
{
	char text[64], in[80];
	size_t n;

	n = jw_spool_checkpoint_format(text, sizeof(text), 3, 149);
	seed("spool", "checkpoint-ok", 4, text, n);
	text[0] = '4';
	seed("spool", "checkpoint-bad-crc", 4, text, n);
	seed("spool", "checkpoint-legacy", 4, "3 149\n", 6);

	/* Records of fuzz_checkpoint are 182 bytes: a checkpoint at the start,
	 * after the first record, past the segments, and in a gap. */
	n = jw_spool_checkpoint_format(in, sizeof(in), 1, 0);
	memcpy(in + n, "\0\x21\x31", 3);
	seed("checkpoint", "crc-start", -1, in, n + 3);
	n = jw_spool_checkpoint_format(in, sizeof(in), 1, 182);
	memcpy(in + n, "\0\x20\x31", 3);
	seed("checkpoint", "crc-after-one", -1, in, n + 3);
	n = jw_spool_checkpoint_format(in, sizeof(in), 9, 0);
	memcpy(in + n, "\0\x10\x11", 3);
	seed("checkpoint", "crc-past-segments", -1, in, n + 3);
	n = jw_spool_checkpoint_format(in, sizeof(in), 5, 0);
	memcpy(in + n, "\0\x10\x17", 3);
	seed("checkpoint", "crc-in-gap", -1, in, n + 3);
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
	log_seed("log", INTACT);
	log_seed("log-torn", TORN);
	log_seed("log-flipped", FLIPPED);
	log_seed("log-junk-between", JUNK_BETWEEN);
	spool_seeds();
	checkpoint_seeds();
	rmdir(tmp);
	return 0;
}
