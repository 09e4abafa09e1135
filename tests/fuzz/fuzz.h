/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * What the fuzz targets share. Each tests/fuzz/fuzz_<name>.c defines
 * LLVMFuzzerTestOneInput and is built twice: with clang and libFuzzer
 * (JW_FUZZ=ON, ASan+UBSan), and with the normal compiler against
 * replay_main.c, which runs it over the committed corpus and regression
 * files as a ctest (docs/development.md, "Fuzzing").
 */
#ifndef JW_FUZZ_H
#define JW_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant of the code under test: when it does not hold, print where
 * and why and abort(), which libFuzzer reports as a crash with its input
 * and the replay program as a failed test. Not assert(): release builds
 * define NDEBUG.
 */
#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                           \
		if(!(cond))                                                                                \
			jw_fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);                                  \
	} while(0)

_Noreturn void jw_fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/*
 * A private directory for the process's files (under /dev/shm when it
 * exists, so file-based targets do not wear the disk), made on first use
 * and removed with its contents at exit. Never NULL: failing to make it
 * aborts.
 */
const char *jw_fuzz_dir(void);

/* Writes len bytes to path (created or truncated, mode 0600); aborts on
 * failure. */
void jw_fuzz_write(const char *path, const void *data, size_t len);

/* Removes every entry of dir (one level: the targets make no subfolders
 * inside it). */
void jw_fuzz_empty_dir(const char *dir);

/* A copy of data[0..size) with a NUL after it (malloc; aborts when out of
 * memory). */
char *jw_fuzz_strndup(const uint8_t *data, size_t size);

/* Room for element n of an array of size-byte elements with *cap of them
 * at v: v itself when n < *cap, else v grown (64 first, then doubled) and
 * *cap updated. Aborts when out of memory; the caller stores the result. */
void *jw_fuzz_grow(void *v, size_t n, size_t *cap, size_t size);

#endif
