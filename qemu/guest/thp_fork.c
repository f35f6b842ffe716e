// SPDX-License-Identifier: GPL-2.0
/*
 * One round of the thp_fork churner (qemu/guest/churn.sh): what seed thread
 * 002 ran for hours, THP faults + fork + compaction, in a form trinity does
 * not reach on its own (its madvise() gets random advice values).
 *
 *  - maps 8 MiB of anonymous memory, MADV_HUGEPAGE, and touches it: THP
 *    faults when THP is enabled;
 *  - MADV_COLLAPSE on the range: a synchronous collapse (whatever the THP
 *    mode the thp churner has just set);
 *  - fork(); the child writes one byte in every 4 KiB page of the first
 *    2 MiB (copy-on-write of a PMD-mapped THP) and exits;
 *  - MADV_DONTNEED of half of the second 2 MiB (a partial unmap of a THP:
 *    deferred split), then munmap.
 *
 * Exit 0 when the range was backed by a THP at some point (AnonHugePages of
 * /proc/self/smaps_rollup went up), 1 when not, 2 on a failed syscall.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

#define SZ_2M (2UL << 20)
#define LEN (4 * SZ_2M)

static long anon_huge_kb(void)
{
	FILE *f = fopen("/proc/self/smaps_rollup", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(void)
{
	char *raw, *p;
	long before, huge = 0, kb;
	size_t i;
	pid_t pid;

	before = anon_huge_kb();
	/* Room to align the range to 2 MiB. */
	raw = mmap(NULL, LEN + SZ_2M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return 2;
	p = (char *)(((uintptr_t)raw + SZ_2M - 1) & ~(SZ_2M - 1));
	madvise(p, LEN, MADV_HUGEPAGE);
	for (i = 0; i < LEN; i += 4096)
		p[i] = (char)i;
	kb = anon_huge_kb();
	if (kb > huge)
		huge = kb;
	madvise(p, LEN, MADV_COLLAPSE);
	kb = anon_huge_kb();
	if (kb > huge)
		huge = kb;

	pid = fork();
	if (pid == 0) {
		for (i = 0; i < SZ_2M; i += 4096)
			p[i]++;
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	madvise(p + SZ_2M, SZ_2M / 2, MADV_DONTNEED);
	munmap(raw, LEN + SZ_2M);
	if (pid < 0)
		return 2;
	return huge > (before > 0 ? before : 0) ? 0 : 1;
}
