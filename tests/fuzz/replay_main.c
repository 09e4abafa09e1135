/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * The replay driver: runs a fuzz target's LLVMFuzzerTestOneInput over
 * files, without libFuzzer, so the normal (gcc) build and its valgrind
 * and sanitizer runs keep every committed corpus and regression input
 * passing. Arguments are files or folders (each folder's files, one
 * level, in name order); with none, the folders compiled in as
 * JW_FUZZ_DIRS (the target's corpus and regressions). A missing folder is
 * skipped; an input that breaks an invariant aborts with its name printed
 * first.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static size_t ran;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;

	if(!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for(;;) {
		size_t got;

		if(len == cap) {
			uint8_t *grown;

			cap = cap ? cap * 2 : 4096;
			grown = realloc(buf, cap);
			if(!grown) {
				fclose(f);
				free(buf);
				return -1;
			}
			buf = grown;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if(got == 0)
			break;
	}
	fclose(f);
	/* libFuzzer hands over exactly len bytes: a copy of that size lets
	 * valgrind and ASan see a read past the end. */
	{
		uint8_t *exact = malloc(len ? len : 1);

		if(!exact) {
			free(buf);
			return -1;
		}
		if(len)
			memcpy(exact, buf, len);
		free(buf);
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
		LLVMFuzzerTestOneInput(exact, len);
		free(exact);
	}
	ran++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if(!d) {
		if(errno == ENOENT)
			return 0;
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while((de = readdir(d)) != NULL) {
		if(de->d_name[0] == '.')
			continue; /* ., .., .gitkeep */
		if(n == cap) {
			char **grown;

			cap = cap ? cap * 2 : 64;
			grown = realloc(names, cap * sizeof(*names));
			if(!grown) {
				rc = -1;
				break;
			}
			names = grown;
		}
		names[n] = malloc(strlen(path) + strlen(de->d_name) + 2);
		if(!names[n]) {
			rc = -1;
			break;
		}
		snprintf(names[n], strlen(path) + strlen(de->d_name) + 2, "%s/%s", path, de->d_name);
		n++;
	}
	closedir(d);
	if(n)
		qsort(names, n, sizeof(*names), cmp_names);
	for(size_t i = 0; i < n; i++) {
		struct stat st;

		if(rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && run_file(names[i]) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

static int run_path(const char *path)
{
	struct stat st;

	if(stat(path, &st) != 0) {
		if(errno == ENOENT)
			return 0;
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path);
}

int main(int argc, char **argv)
{
	static const char *const dirs[] = {JW_FUZZ_DIRS};
	int rc = 0;

	if(argc > 1) {
		for(int i = 1; i < argc; i++)
			rc |= run_path(argv[i]);
	} else {
		for(size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
			rc |= run_path(dirs[i]);
	}
	printf("replay: %zu inputs, %s\n", ran, rc ? "FAILED to read some" : "all passed");
	return rc ? 1 : 0;
}
