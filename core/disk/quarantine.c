/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Quarantine files (quarantine.h): the bytes a reader skipped, kept for
 * the operator next to the file they came from.
 */
#include "quarantine.h"
#include "fileio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

bool jw_quarantine_is_name(const char *name)
{
	size_t n = strlen(name), s = sizeof(JW_QUARANTINE_SUFFIX) - 1;

	return n > s && strcmp(name + n - s, JW_QUARANTINE_SUFFIX) == 0;
}

/* Directory part of path ("." for a bare name) into buf. */
static void dir_of(const char *path, char *buf, size_t buflen)
{
	const char *slash = strrchr(path, '/');

	if(!slash) {
		snprintf(buf, buflen, ".");
	} else if(slash == path) {
		snprintf(buf, buflen, "/");
	} else {
		snprintf(buf, buflen, "%.*s", (int)(slash - path), path);
	}
}

/* Quarantine files in dir now, or -1 when it cannot be listed. Only names
 * are looked at: nothing is opened. */
static long count_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	long n = 0;

	if(!d) {
		return -1;
	}
	while((de = readdir(d)) != NULL) {
		if(jw_quarantine_is_name(de->d_name)) {
			n++;
		}
	}
	closedir(d);
	return n;
}

/* Whether the regular file at path holds exactly buf/len. */
static bool same_bytes(const char *path, const void *buf, size_t len)
{
	struct stat st;
	unsigned char chunk[8192];
	const unsigned char *want = buf;
	size_t done = 0;
	bool same = false;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);

	if(fd < 0) {
		return false;
	}
	if(fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != len) {
		goto out;
	}
	while(done < len) {
		size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		if(jw_pread_full(fd, chunk, n, done) != (ssize_t)n || memcmp(chunk, want + done, n) != 0) {
			goto out;
		}
		done += n;
	}
	same = true;
out:
	close(fd);
	return same;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while(len > 0) {
		ssize_t n = write(fd, p, len);
		if(n < 0) {
			if(errno == EINTR) {
				continue;
			}
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int jw_quarantine_write(const char *path, uint64_t off, const void *buf, size_t len, bool sync,
        char *kept, size_t keptlen, char *err, size_t errlen)
{
	char name[4096], dir[4096];
	long have;
	int fd = -1;

	if(len > JW_QUARANTINE_MAX_BYTES) {
		len = JW_QUARANTINE_MAX_BYTES;
	}
	if(kept && keptlen) {
		kept[0] = '\0';
	}
	dir_of(path, dir, sizeof(dir));
	have = count_in(dir);
	for(unsigned n = 1; n <= JW_QUARANTINE_MAX_FILES; n++) {
		int w;

		if(n == 1) {
			w = snprintf(
			        name, sizeof(name), "%s.at-%" PRIu64 "%s", path, off, JW_QUARANTINE_SUFFIX);
		} else {
			w = snprintf(name, sizeof(name), "%s.at-%" PRIu64 ".%u%s", path, off, n,
			        JW_QUARANTINE_SUFFIX);
		}
		if(w < 0 || (size_t)w >= sizeof(name)) {
			set_err(err, errlen, "quarantine", path, ENAMETOOLONG);
			return -1;
		}
		if(same_bytes(name, buf, len)) {
			if(kept && keptlen) {
				snprintf(kept, keptlen, "%s", name);
			}
			return JW_QUARANTINE_ALREADY;
		}
		if(have >= JW_QUARANTINE_MAX_FILES) {
			continue; /* full: only an identical copy can still be found */
		}
		fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if(fd < 0) {
			if(errno == EEXIST) {
				continue; /* taken by other bytes */
			}
			set_err(err, errlen, "create", name, errno);
			return -1;
		}
		if(write_all(fd, buf, len) != 0 || (sync && fsync(fd) != 0)) {
			int e = errno;
			close(fd);
			unlink(name);
			set_err(err, errlen, "write", name, e);
			return -1;
		}
		close(fd);
		if(sync) {
			int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if(dfd >= 0) {
				fsync(dfd);
				close(dfd);
			}
		}
		if(kept && keptlen) {
			snprintf(kept, keptlen, "%s", name);
		}
		return JW_QUARANTINE_WRITTEN;
	}
	if(err && errlen) {
		if(have >= JW_QUARANTINE_MAX_FILES) {
			snprintf(err, errlen,
			        "not kept: %s already holds %ld quarantine files (*%s); move them away", dir,
			        have, JW_QUARANTINE_SUFFIX);
		} else {
			snprintf(err, errlen,
			        "not kept: %d quarantine files for offset %" PRIu64 " of %s already exist",
			        JW_QUARANTINE_MAX_FILES, off, path);
		}
	}
	return -1;
}

int jw_quarantine_copy(const char *path, uint64_t off, uint64_t len, bool sync, char *kept,
        size_t keptlen, char *err, size_t errlen)
{
	unsigned char *buf;
	size_t n = len > JW_QUARANTINE_MAX_BYTES ? JW_QUARANTINE_MAX_BYTES : (size_t)len;
	ssize_t got;
	int fd, rc;

	if(kept && keptlen) {
		kept[0] = '\0';
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if(fd < 0) {
		set_err(err, errlen, "open", path, errno);
		return -1;
	}
	buf = malloc(n ? n : 1);
	if(!buf) {
		close(fd);
		set_err(err, errlen, "quarantine", path, ENOMEM);
		return -1;
	}
	got = jw_pread_full(fd, buf, n, off);
	close(fd);
	if(got < 0) {
		free(buf);
		set_err(err, errlen, "read", path, errno);
		return -1;
	}
	/* Fewer bytes than asked: the file shrank meanwhile; keep what is there. */
	rc = jw_quarantine_write(path, off, buf, (size_t)got, sync, kept, keptlen, err, errlen);
	free(buf);
	return rc;
}
