/* SPDX-License-Identifier: EPL-2.0 OR BSD-3-Clause */
/*
 * Small file I/O helpers the on-disk record files share (kvlog.c,
 * quarantine.c). Any thread; errno is left as the system call set it.
 */
#ifndef JW_DISK_FILEIO_H
#define JW_DISK_FILEIO_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

/* Reads up to len bytes of fd at off, past EINTR and short reads. Returns
 * the count (less than len only at end of file) or -1. */
static inline ssize_t jw_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;
	size_t got = 0;

	while(got < len) {
		ssize_t n = pread(fd, p + got, len - got, (off_t)(off + got));
		if(n < 0) {
			if(errno == EINTR) {
				continue;
			}
			return -1;
		}
		if(n == 0) {
			break;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

#endif
