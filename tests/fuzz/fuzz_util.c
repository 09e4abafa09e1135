/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/* Helpers shared by the fuzz targets (fuzz.h). */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

void jw_fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant failed: %s\n  ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void jw_fuzz_empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char p[512];

	if(!d)
		return;
	while((de = readdir(d)) != NULL) {
		if(!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
		unlink(p);
	}
	closedir(d);
}

static void remove_dir(void)
{
	jw_fuzz_empty_dir(dir);
	rmdir(dir);
}

const char *jw_fuzz_dir(void)
{
	struct stat st;
	const char *base = getenv("JW_FUZZ_TMPDIR");

	if(dir[0])
		return dir;
	/* A crash skips atexit: tests/fuzz/run.sh points JW_FUZZ_TMPDIR at a
	 * folder it removes itself. */
	if(!base || !base[0]) {
		if(stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
			base = "/dev/shm";
		else
			base = getenv("TMPDIR") && getenv("TMPDIR")[0] ? getenv("TMPDIR") : "/tmp";
	}
	snprintf(dir, sizeof(dir), "%s/jw-fuzz.XXXXXX", base);
	if(!mkdtemp(dir)) {
		fprintf(stderr, "fuzz: mkdtemp %s: %s\n", dir, strerror(errno));
		abort();
	}
	atexit(remove_dir);
	return dir;
}

void jw_fuzz_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	const char *p = data;

	if(fd < 0) {
		fprintf(stderr, "fuzz: open %s: %s\n", path, strerror(errno));
		abort();
	}
	while(len > 0) {
		ssize_t n = write(fd, p, len);

		if(n < 0 && errno == EINTR)
			continue;
		if(n <= 0) {
			fprintf(stderr, "fuzz: write %s: %s\n", path, strerror(errno));
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
}

char *jw_fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if(!s)
		abort();
	if(size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

void *jw_fuzz_grow(void *v, size_t n, size_t *cap, size_t size)
{
	size_t grown;

	if(n < *cap)
		return v;
	grown = *cap ? *cap * 2 : 64;
	v = realloc(v, grown * size);
	if(!v)
		abort();
	*cap = grown;
	return v;
}
