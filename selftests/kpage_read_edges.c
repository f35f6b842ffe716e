// SPDX-License-Identifier: GPL-2.0
/*
 * kpage_read_edges: the edges of a /proc/kpageflags, kpagecount and
 * kpagecgroup read, which patch 0013 rewrote (entries are made 64 at a time
 * under get_online_mems() and copied out in batches):
 *
 *  - a count or an offset that is not a multiple of 8 is EINVAL;
 *  - a read at the end (found by reading the whole file) returns 0, one
 *    that crosses the end returns only what is left;
 *  - a read into a buffer whose second batch runs into an unmapped page is
 *    EFAULT, and so is a read into no mapped memory at all; neither moves
 *    the file position (the VFS keeps it on an error), and the file reads
 *    on normally afterwards.
 *
 * make coverage showed none of these branches of kpage_read() taken by
 * any suite. Needs root; kselftest TAP, one result per file and edge.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"

#define EDGES		4
#define FIT_BYTES	800	/* 100 entries: one whole batch of 64 and part of the next */

static const char *const files[] = { "/proc/kpageflags", "/proc/kpagecount", "/proc/kpagecgroup" };

static void misaligned(const char *name, int fd)
{
	uint64_t buf[4];
	ssize_t a = pread(fd, buf, 12, 0);
	int ea = errno;
	ssize_t b = pread(fd, buf, 8, 4);
	int eb = errno;

	ksft_test_result(a < 0 && ea == EINVAL && b < 0 && eb == EINVAL,
			 "%s: count 12 and offset 4 are EINVAL (got %zd/%s, %zd/%s)\n", name,
			 a, a < 0 ? strerror(ea) : "-", b, b < 0 ? strerror(eb) : "-");
}

/* Reads the whole file: its size in bytes, or -1. */
static off_t whole_size(int fd)
{
	static char buf[1 << 20];
	off_t off = 0;
	ssize_t n;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0)
		off += n;
	return n < 0 ? -1 : off;
}

static void at_the_end(const char *name, int fd)
{
	off_t size = whole_size(fd);
	uint64_t buf[3];
	ssize_t at, across;

	if (size < 8) {
		ksft_test_result_fail("%s: whole read gave %lld bytes\n", name, (long long)size);
		return;
	}
	at = pread(fd, buf, 8, size);
	across = pread(fd, buf, sizeof(buf), size - 8);
	ksft_test_result(at == 0 && across == 8,
			 "%s: %lld bytes; a read at the end gives %zd, across it %zd of 24\n",
			 name, (long long)size, at, across);
}

static void faulting(const char *name, int fd, long psize)
{
	uint64_t want[FIT_BYTES / 8], again[FIT_BYTES / 8];
	char *map = mmap(NULL, 2 * psize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *buf;
	ssize_t n, got;
	off_t pos;
	int err;

	if (map == MAP_FAILED || munmap(map + psize, psize)) {
		ksft_test_result_fail("%s: mmap: %s\n", name, strerror(errno));
		return;
	}
	buf = map + psize - FIT_BYTES;
	lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, 2 * FIT_BYTES);
	err = errno;
	pos = lseek(fd, 0, SEEK_CUR);
	/* The kpageflags of the kernel's first PFNs do not change between reads. */
	got = pread(fd, want, sizeof(want), 0) == sizeof(want) && read(fd, again, sizeof(again)) == sizeof(again);
	ksft_test_result(n < 0 && err == EFAULT && pos == 0 && got,
			 "%s: into a buffer with %d bytes mapped: %zd/%s, position %lld, reads on: %s\n",
			 name, FIT_BYTES, n, n < 0 ? strerror(err) : "-", (long long)pos, got ? "yes" : "no");
	munmap(map, psize);
}

static void unmapped(const char *name, int fd, long psize)
{
	char *map = mmap(NULL, psize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ssize_t n;
	off_t pos;
	int err;

	lseek(fd, 8 * 64, SEEK_SET);
	n = read(fd, map, 64);
	err = errno;
	pos = lseek(fd, 0, SEEK_CUR);
	ksft_test_result(n < 0 && err == EFAULT && pos == 8 * 64,
			 "%s: into no mapped memory: %zd/%s, position %lld (was 512)\n", name, n,
			 n < 0 ? strerror(err) : "-", (long long)pos);
	munmap(map, psize);
}

int main(void)
{
	long psize = sysconf(_SC_PAGESIZE);
	unsigned int i, e;

	ksft_print_header();
	ksft_set_plan(EDGES * sizeof(files) / sizeof(files[0]));
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		int fd = geteuid() == 0 ? open(files[i], O_RDONLY) : -1;

		if (fd < 0) {
			for (e = 0; e < EDGES; e++)
				ksft_test_result_skip("%s: %s\n", files[i],
						      geteuid() ? "needs root" : strerror(errno));
			continue;
		}
		misaligned(files[i], fd);
		at_the_end(files[i], fd);
		faulting(files[i], fd, psize);
		unmapped(files[i], fd, psize);
		close(fd);
	}
	ksft_finished();
}
