// SPDX-License-Identifier: GPL-2.0
/*
 * compaction_direct: THP faults on a fragmented system compact in the
 * faulting task (direct compaction), and the pages compaction moves keep
 * their data.
 *
 * `make coverage` showed that no suite ever made the allocator compact in
 * the context of an allocation: memory is plentiful in the test guest, so
 * isolate_migratepages_block()'s skip_on_failure path (async direct
 * compaction gives up an order-aligned block at its first failure) and
 * the fallback that claims a half-free movable pageblock for unmovable
 * pages (try_to_steal_block() below pageblock order) never ran.
 *
 *  1. fill: all available memory (MemAvailable, which leaves the zones'
 *     watermarks alone) but MARGIN_MB in anonymous small pages, the
 *     first word of each page its own index (the page tables this takes
 *     are unmovable allocations made while memory is nearly full);
 *  2. fragment: every other page is dropped (MADV_DONTNEED), so each
 *     pageblock of the fill stays half used;
 *  3. THP faults with transparent_hugepage/defrag "always" (restored at
 *     the end) on THP_MB of MADV_HUGEPAGE memory, for at most
 *     COMPACTION_DIRECT_SECONDS (default 10) seconds;
 *  4. unmovable allocations on the fragmented system: PIPES pipes of 1 MiB
 *     filled with data (pipe buffers are unmovable pages), so the
 *     allocator must claim movable pageblocks for unmovable pages below
 *     pageblock order.
 *
 * Checks: direct compaction ran (compact_stall grew; if the guest was not
 * fragmented enough for that, the run is a skip that says so, never a
 * pass), every kept page of the fill and every written page of the THP
 * range still holds its index, every pipe gives its data back, the
 * mmguard free-page audit shows no drift with the pipes full, and
 * nr_isolated_anon/file are back to 0.
 * Needs root; kselftest TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmguard_util.h"
#include "mmguard_free_audit.h"

#define MARGIN_MB	96
#define THP_MB		256
#define MB		(1UL << 20)
#define DEFRAG		"/sys/kernel/mm/transparent_hugepage/defrag"
#define PIPES		64
#define TESTS		6

/* A /proc/vmstat item, -1 if missing. */
static long vmstat(const char *name)
{
	char line[128];
	size_t len = strlen(name);
	long v = -1;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ' ') {
			v = atol(line + len + 1);
			break;
		}
	fclose(f);
	return v;
}

/* The word of "[always] defer ..." in brackets, copied into @out. */
static int selected(const char *text, char *out, size_t len)
{
	const char *a = strchr(text, '['), *b = a ? strchr(a, ']') : NULL;

	if (!a || !b || (size_t)(b - a) > len)
		return -1;
	memcpy(out, a + 1, b - a - 1);
	out[b - a - 1] = 0;
	return 0;
}

/* nr_isolated_anon + nr_isolated_file after folding every CPU's counters. */
static long isolated_after_refresh(void)
{
	int i;
	long n = -1;

	for (i = 0; i < 50; i++) {
		mmg_write_file("/proc/sys/vm/stat_refresh", "1");
		n = vmstat("nr_isolated_anon") + vmstat("nr_isolated_file");
		if (n == 0)
			break;
		usleep(100000);
	}
	return n;
}

/*
 * Fills PIPES pipes of 1 MiB with a pattern (unmovable pages taken while
 * memory is fragmented), runs the free-page audit with them full, then
 * reads every byte back. The bytes that came back wrong, or -1 if no pipe
 * could be filled; @bytes gets what was written.
 */
static long pipes_round_trip(unsigned long *bytes)
{
	static unsigned char buf[65536];
	static int fds[PIPES][2];
	long wrong = 0;
	ssize_t n;
	int p, k;

	*bytes = 0;
	for (p = 0; p < PIPES; p++) {
		if (pipe2(fds[p], O_NONBLOCK)) {
			fds[p][0] = fds[p][1] = -1;
			continue;
		}
		fcntl(fds[p][1], F_SETPIPE_SZ, (int)MB);
		for (k = 0; k < (int)sizeof(buf); k++)
			buf[k] = (unsigned char)(p + k);
		while ((n = write(fds[p][1], buf, sizeof(buf))) > 0)
			*bytes += n;
	}
	mmg_report_audit("the pipes full");
	for (p = 0; p < PIPES; p++) {
		if (fds[p][0] < 0)
			continue;
		while ((n = read(fds[p][0], buf, sizeof(buf))) > 0)
			for (k = 0; k < n; k++)
				wrong += buf[k] != (unsigned char)(p + k);
		close(fds[p][0]);
		close(fds[p][1]);
	}
	return *bytes ? wrong : -1;
}

int main(void)
{
	long psize = sysconf(_SC_PAGESIZE), free_kb, stall0, stall, moved0, moved;
	unsigned long fill_pages, thp_pages, i, bad = 0, first_bad = 0, written = 0, faults = 0;
	char old[64] = "", text[256];
	const char *env = getenv("COMPACTION_DIRECT_SECONDS");
	double seconds = env ? atof(env) : 10, end;
	long isolated, wrong;
	unsigned long piped;
	uint64_t *fill, *thp;

	ksft_print_header();
	ksft_set_plan(TESTS);
	if (geteuid() != 0 || mmg_read_file(DEFRAG, text, sizeof(text)) < 0 ||
	    selected(text, old, sizeof(old))) {
		for (i = 0; i < TESTS; i++)
			ksft_test_result_skip("needs root and %s\n", DEFRAG);
		ksft_finished();
	}
	free_kb = mmg_meminfo_kb("MemAvailable");
	if (free_kb < (MARGIN_MB + THP_MB) * 1024L * 2)
		ksft_exit_fail_msg("MemAvailable %ld kB: too little to fragment\n", free_kb);
	fill_pages = (free_kb / 1024 - MARGIN_MB) * (MB / psize);
	thp_pages = THP_MB * (MB / psize);

	/* 1: fill. */
	fill = mmap(NULL, fill_pages * psize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	thp = mmap(NULL, (THP_MB + 2) * MB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fill == MAP_FAILED || thp == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	madvise(fill, fill_pages * psize, MADV_NOHUGEPAGE);
	thp = (uint64_t *)(((uintptr_t)thp + 2 * MB - 1) & ~(2 * MB - 1));
	madvise(thp, THP_MB * MB, MADV_HUGEPAGE);
	for (i = 0; i < fill_pages; i++)
		fill[i * psize / 8] = i;

	/* 2: fragment. */
	for (i = 1; i < fill_pages; i += 2)
		madvise((char *)fill + i * psize, psize, MADV_DONTNEED);

	/* 3: THP faults that must compact. */
	if (mmg_write_file(DEFRAG, "always"))
		ksft_exit_fail_msg("cannot write %s\n", DEFRAG);
	stall0 = vmstat("compact_stall");
	moved0 = vmstat("compact_migrate_scanned");
	end = mmg_now() + seconds;
	for (i = 0; i < thp_pages && mmg_now() < end; i += 2 * MB / psize) {
		thp[i * psize / 8] = i;
		written = i + 1;
		faults++;
	}
	stall = vmstat("compact_stall");
	moved = vmstat("compact_migrate_scanned");
	mmg_write_file(DEFRAG, old);

	for (i = 0; i < fill_pages; i += 2)
		if (fill[i * psize / 8] != i && !bad++)
			first_bad = i;
	for (i = 0; i < written; i += 2 * MB / psize)
		if (thp[i * psize / 8] != i && !bad++)
			first_bad = i;

	if (stall <= stall0)
		ksft_test_result_skip("no direct compaction: compact_stall stayed %ld (%lu THP faults)\n",
				      stall, faults);
	else
		ksft_test_result_pass("direct compaction: %ld stalls, %ld pages scanned, %lu THP faults (at most %.0f s)\n",
				      stall - stall0, moved - moved0, faults, seconds);
	ksft_test_result(!bad, "every kept page keeps its data (%lu bad, the first at page %lu)\n",
			 bad, first_bad);

	/* 4: unmovable pages on the fragmented system. */
	wrong = pipes_round_trip(&piped);
	ksft_test_result(wrong == 0, "%lu KiB through %d pipes, %ld bytes came back wrong\n",
			 piped >> 10, PIPES, wrong);
	munmap(fill, fill_pages * psize);
	munmap(thp, THP_MB * MB);
	isolated = isolated_after_refresh();
	ksft_test_result(isolated == 0, "nr_isolated_anon + nr_isolated_file back to 0 (%ld)\n", isolated);
	ksft_test_result(mmg_read_file(DEFRAG, text, sizeof(text)) > 0 && strstr(text, old),
			 "defrag restored to %s\n", old);
	ksft_finished();
}
