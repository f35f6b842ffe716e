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
 *     are unmovable allocations made while memory is nearly full), with
 *     SHMEM_MB of shared anonymous (shmem) pages written in between, so
 *     compaction meets dirty file pages too;
 *  2. fragment: every other page is dropped (MADV_DONTNEED), so each
 *     pageblock of the fill stays half used; the kept pages of the first
 *     MLOCK_MB are mlocked, and compact_unevictable_allowed is 0 from
 *     phase 3 to 6, so compaction meets pages it may not isolate;
 *  3. THP faults with transparent_hugepage/defrag "always" (restored at
 *     the end) on MADV_HUGEPAGE memory, for at most
 *     COMPACTION_DIRECT_SECONDS (default 10) seconds: THP_BEYOND_MB more
 *     than the free blocks of 2 MiB or more (/proc/buddyinfo) can hold,
 *     so at least that much has to be compacted whatever the fill left
 *     free (the CMA area's share of it varies from boot to boot);
 *  4. unmovable allocations on the fragmented system: PIPES pipes of 1 MiB
 *     filled with data (pipe buffers are unmovable pages), so the
 *     allocator must claim movable pageblocks for unmovable pages below
 *     pageblock order, or take single pages out of them (the second
 *     half with watermark_boost_factor 0: claims without a boost);
 *  5. with the pipes still full, 128 and 64 KiB anonymous folios (orders
 *     5 and 4) faulted with PMD THPs off, for at most half of
 *     COMPACTION_DIRECT_SECONDS: async direct compaction below pageblock
 *     order, which gives up an order-aligned block at the first page it
 *     cannot isolate (a pipe page, a mlocked page, a folio as large as
 *     its target) and puts back what it isolated there (make coverage:
 *     skip_on_failure had never run);
 *  6. a child faulting THPs is killed with SIGKILL once compact_stall
 *     shows it compacting (at most half of COMPACTION_DIRECT_SECONDS).
 *
 * Checks: direct compaction ran for order 9 and for orders 5/4
 * (compact_stall grew; if the guest was not fragmented enough for that,
 * the run is a skip that says so, never a pass), the killed child died of
 * SIGKILL, every kept page of the fill and the shmem pages and every
 * written page of the THP and mTHP ranges still holds its index, every
 * pipe gives its data back, the mmguard free-page audit shows no drift
 * with the pipes full, nr_isolated_anon/file are back to 0 (also after
 * the kill), and every knob the test changed holds its old value again.
 * Needs root; kselftest TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmguard_util.h"
#include "mmguard_free_audit.h"

#define MARGIN_MB	96
#define THP_MB		256	/* the MemAvailable the fill must leave room for */
#define THP_BEYOND_MB	64
#define THP_AREA_MB	768
#define MB		(1UL << 20)
#define PIPES		64
#define THP_DIR		"/sys/kernel/mm/transparent_hugepage/"
#define DEFRAG		THP_DIR "defrag"
#define MTHP_KB		64
#define MTHP_MB		128
#define KILL_MB		256
#define MLOCK_MB	32
#define SHMEM_MB	32
#define TESTS		9

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
		n = mmg_vmstat("nr_isolated_anon") + mmg_vmstat("nr_isolated_file");
		if (n == 0)
			break;
		usleep(100000);
	}
	return n;
}

/* A sysfs or sysctl setting a phase changes, and what it held before. */
struct knob {
	const char *path, *want;
	char old[32];
};

/* The value of @path: the word in brackets of a selection, else the text. */
static int knob_read(const char *path, char *out, size_t len)
{
	char text[256];
	int n = mmg_read_file(path, text, sizeof(text));

	if (n < 0)
		return -1;
	if (strchr(text, '['))
		return selected(text, out, len);
	n = strcspn(text, " \n");
	if ((size_t)n >= len)
		return -1;
	memcpy(out, text, n);
	out[n] = 0;
	return 0;
}

/* Saves each knob and selects what it wants; -1 if one is missing. */
static int knobs_set(struct knob *k, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (knob_read(k[i].path, k[i].old, sizeof(k[i].old)))
			return -1;
	for (i = 0; i < n; i++)
		if (mmg_write_file(k[i].path, k[i].want))
			ksft_exit_fail_msg("cannot write %s to %s\n", k[i].want, k[i].path);
	return 0;
}

static void knobs_restore(struct knob *k, int n)
{
	int i;

	for (i = 0; i < n; i++)
		mmg_write_file(k[i].path, k[i].old);
}

/* Each knob holds its saved value again. */
static bool knobs_restored(struct knob *k, int n)
{
	char now[32];
	int i;

	for (i = 0; i < n; i++)
		if (knob_read(k[i].path, now, sizeof(now)) || strcmp(now, k[i].old))
			return false;
	return true;
}

static int fds[PIPES][2];

/* Phase 4's second half: a fallback that claims a block boosts nothing. */
static struct knob no_boost = {
	.path = "/proc/sys/vm/watermark_boost_factor", .want = "0"
};

/*
 * Fills PIPES pipes of 1 MiB with a pattern (unmovable pages taken while
 * memory is fragmented) and runs the free-page audit with them full.
 * Returns the bytes written.
 */
static unsigned long pipes_fill(void)
{
	static unsigned char buf[65536];
	unsigned long bytes = 0;
	ssize_t n;
	int p, k;

	for (p = 0; p < PIPES; p++) {
		if (p == PIPES / 2 && knobs_set(&no_boost, 1))
			ksft_print_msg("no %s: the watermarks boost all along\n", no_boost.path);
		if (pipe2(fds[p], O_NONBLOCK)) {
			fds[p][0] = fds[p][1] = -1;
			continue;
		}
		fcntl(fds[p][1], F_SETPIPE_SZ, (int)MB);
		for (k = 0; k < (int)sizeof(buf); k++)
			buf[k] = (unsigned char)(p + k);
		while ((n = write(fds[p][1], buf, sizeof(buf))) > 0)
			bytes += n;
	}
	knobs_restore(&no_boost, 1);
	mmg_report_audit("the pipes full");
	return bytes;
}

/* Reads every pipe back and closes it: the bytes that came back wrong. */
static long pipes_drain(void)
{
	static unsigned char buf[65536];
	long wrong = 0;
	ssize_t n;
	int p, k;

	for (p = 0; p < PIPES; p++) {
		if (fds[p][0] < 0)
			continue;
		while ((n = read(fds[p][0], buf, sizeof(buf))) > 0)
			for (k = 0; k < n; k++)
				wrong += buf[k] != (unsigned char)(p + k);
		close(fds[p][0]);
		close(fds[p][1]);
	}
	return wrong;
}

/* Phase 5: anonymous folios of 128 and 64 KiB only. */
static struct knob mthp_knobs[] = {
	{ .path = THP_DIR "hugepages-128kB/enabled", .want = "always" },
	{ .path = THP_DIR "hugepages-64kB/enabled", .want = "always" },
	{ .path = THP_DIR "hugepages-2048kB/enabled", .want = "never" },
};

#define MTHP_KNOBS	((int)(sizeof(mthp_knobs) / sizeof(mthp_knobs[0])))

/* Anonymous folios of 128 and 64 KiB faulted in so far. */
static long mthp_allocs(void)
{
	return mmg_read_long(THP_DIR "hugepages-128kB/stats/anon_fault_alloc", 10) +
	       mmg_read_long(THP_DIR "hugepages-64kB/stats/anon_fault_alloc", 10);
}

/*
 * 5: anonymous folios of 128 and 64 KiB (orders 5 and 4) faulted with
 * defrag "always" while the pipes hold unmovable pages inside movable
 * blocks: async direct compaction for orders below pageblock order, which
 * gives up an order-aligned block at its first failure (skip_on_failure),
 * puts back what it had isolated in it, and skips the folios of the other
 * size that are as large as its target.  PMD THPs are off meanwhile.
 * Writes each 64 KiB chunk's index into it; returns the chunks written,
 * or -1 without mTHP support.
 */
static long mthp_faults(uint64_t **area, double seconds, long *stalls, long *folios)
{
	long psize = sysconf(_SC_PAGESIZE), chunk = MTHP_KB * 1024 / psize;
	long stall0, alloc0, written = 0, i;
	double end;

	*area = mmap(NULL, MTHP_MB * MB, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (*area == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	if (knobs_set(mthp_knobs, MTHP_KNOBS)) {
		munmap(*area, MTHP_MB * MB);
		return -1;
	}
	stall0 = mmg_vmstat("compact_stall");
	alloc0 = mthp_allocs();
	end = mmg_now() + seconds;
	for (i = 0; i < (long)(MTHP_MB * MB / psize) && mmg_now() < end; i += chunk) {
		(*area)[i * psize / 8] = i;
		written = i + chunk;
	}
	*stalls = mmg_vmstat("compact_stall") - stall0;
	*folios = mthp_allocs() - alloc0;
	knobs_restore(mthp_knobs, MTHP_KNOBS);
	return written;
}

/*
 * 6: a task killed while it compacts.  A child faults THPs on the
 * fragmented system (each fault compacts directly) until the parent,
 * once compact_stall shows it compacting (at most @seconds), kills it
 * with SIGKILL: compaction notices the fatal signal in the middle of a
 * block and must put back what it isolated (the nr_isolated check after
 * this phase).  Returns the stalls before the kill, or -1 if the child
 * did not die of SIGKILL.
 */
static long killed_while_compacting(double seconds)
{
	long stall0 = mmg_vmstat("compact_stall"), stalls;
	int go[2], status;
	double end;
	pid_t pid;
	char c;

	if (pipe(go))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (!pid) {
		char *p = mmap(NULL, (KILL_MB + 2) * MB, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		unsigned long i;

		if (p == MAP_FAILED)
			_exit(1);
		p = (char *)(((uintptr_t)p + 2 * MB - 1) & ~(2 * MB - 1));
		madvise(p, KILL_MB * MB, MADV_HUGEPAGE);
		if (write(go[1], "g", 1) != 1)
			_exit(1);
		for (i = 0; i < KILL_MB * MB; i += 2 * MB)
			p[i] = 1;
		pause();
		_exit(1);
	}
	close(go[1]);
	if (read(go[0], &c, 1) != 1)
		c = 0;
	close(go[0]);
	end = mmg_now() + seconds;
	while (c && mmg_vmstat("compact_stall") < stall0 + 2 && mmg_now() < end)
		usleep(1000);
	stalls = mmg_vmstat("compact_stall") - stall0;
	kill(pid, SIGKILL);
	if (waitpid(pid, &status, 0) != pid || !WIFSIGNALED(status) ||
	    WTERMSIG(status) != SIGKILL)
		return -1;
	return stalls;
}

/* Phases 3 to 6: faults compact directly; mlocked pages are not isolated. */
static struct knob compact_knobs[] = {
	{ .path = DEFRAG, .want = "always" },
	{ .path = "/proc/sys/vm/compact_unevictable_allowed", .want = "0" },
};
#define COMPACT_KNOBS	((int)(sizeof(compact_knobs) / sizeof(compact_knobs[0])))

/* MiB in free blocks of 2 MiB and more, over every zone in /proc/buddyinfo. */
static long free_huge_mb(long psize)
{
	FILE *f = fopen("/proc/buddyinfo", "r");
	char line[512];
	long mb = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, "zone");
		long count, order = 0;
		int used;

		if (!p)
			continue;
		p += 4;
		while (*p == ' ')
			p++;
		p += strcspn(p, " ");	/* the zone's name */
		while (sscanf(p, "%ld%n", &count, &used) == 1) {
			if ((psize << order) >= (long)(2 * MB))
				mb += count * (psize << order) / (long)MB;
			order++;
			p += used;
		}
	}
	fclose(f);
	return mb;
}

int main(void)
{
	long psize = sysconf(_SC_PAGESIZE), free_kb, stall0, stall, moved0, moved, huge_mb;
	unsigned long fill_pages, thp_pages, shm_pages, i, k, bad = 0, first_bad = 0, written = 0, faults = 0;
	const char *env = getenv("COMPACTION_DIRECT_SECONDS");
	double seconds = env ? atof(env) : 10, end;
	long isolated, wrong, mthp_written, mthp_stalls = 0, mthp_folios = 0, kill_stalls;
	unsigned long piped;
	uint64_t *fill, *thp, *shm, *mthp = NULL;
	char text[256];

	ksft_print_header();
	ksft_set_plan(TESTS);
	if (geteuid() != 0 || mmg_read_file(DEFRAG, text, sizeof(text)) < 0) {
		for (i = 0; i < TESTS; i++)
			ksft_test_result_skip("needs root and %s\n", DEFRAG);
		ksft_finished();
	}
	free_kb = mmg_meminfo_kb("MemAvailable");
	if (free_kb < (MARGIN_MB + THP_MB) * 1024L * 2)
		ksft_exit_fail_msg("MemAvailable %ld kB: too little to fragment\n", free_kb);
	shm_pages = SHMEM_MB * (MB / psize);
	fill_pages = (free_kb / 1024 - MARGIN_MB - SHMEM_MB) * (MB / psize);

	/* 1: fill. */
	fill = mmap(NULL, fill_pages * psize, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	thp = mmap(NULL, (THP_AREA_MB + 2) * MB, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	shm = mmap(NULL, shm_pages * psize, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (fill == MAP_FAILED || thp == MAP_FAILED || shm == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	madvise(fill, fill_pages * psize, MADV_NOHUGEPAGE);
	thp = (uint64_t *)(((uintptr_t)thp + 2 * MB - 1) & ~(2 * MB - 1));
	madvise(thp, THP_AREA_MB * MB, MADV_HUGEPAGE);
	for (i = 0, k = 0; i < fill_pages; i++) {
		fill[i * psize / 8] = i;
		if (k < shm_pages && i % (fill_pages / shm_pages) == 0) {
			shm[k * psize / 8] = k;
			k++;
		}
	}

	/* 2: fragment; mlock the kept pages of the first MLOCK_MB. */
	for (i = 1; i < fill_pages; i += 2)
		madvise((char *)fill + i * psize, psize, MADV_DONTNEED);
	if (mlock2(fill, MLOCK_MB * MB, MLOCK_ONFAULT))
		ksft_print_msg("mlock2: %s: no unevictable pages\n", strerror(errno));

	/* 3: THP faults that must compact: more than the free 2 MiB blocks. */
	huge_mb = free_huge_mb(psize);
	thp_pages = (huge_mb + THP_BEYOND_MB) * (MB / psize);
	if (thp_pages > THP_AREA_MB * (MB / psize))
		thp_pages = THP_AREA_MB * (MB / psize);
	if (knobs_set(compact_knobs, COMPACT_KNOBS))
		ksft_exit_fail_msg("no %s or %s\n", compact_knobs[0].path,
				   compact_knobs[1].path);
	stall0 = mmg_vmstat("compact_stall");
	moved0 = mmg_vmstat("compact_migrate_scanned");
	end = mmg_now() + seconds;
	for (i = 0; i < thp_pages && mmg_now() < end; i += 2 * MB / psize) {
		thp[i * psize / 8] = i;
		written = i + 1;
		faults++;
	}
	stall = mmg_vmstat("compact_stall");
	moved = mmg_vmstat("compact_migrate_scanned");
	if (stall <= stall0)
		ksft_test_result_skip("no direct compaction: compact_stall stayed %ld (%lu THP faults, %ld MiB free in 2 MiB blocks)\n",
				      stall, faults, huge_mb);
	else
		ksft_test_result_pass("direct compaction: %ld stalls, %ld pages scanned, %lu THP faults, %ld MiB free in 2 MiB blocks (at most %.0f s)\n",
				      stall - stall0, moved - moved0, faults, huge_mb, seconds);

	/* 4: unmovable pages on the fragmented system, kept through 5. */
	piped = pipes_fill();

	/* 5: order-5 and order-4 faults that must compact around them. */
	mthp_written = mthp_faults(&mthp, seconds / 2, &mthp_stalls, &mthp_folios);
	if (mthp_written < 0)
		ksft_test_result_skip("no mTHP knobs (%s)\n", mthp_knobs[0].path);
	else if (mthp_stalls <= 0)
		ksft_test_result_skip("no order-5/4 direct compaction: %ld stalls, %ld mTHPs in %ld KiB\n",
				      mthp_stalls, mthp_folios, mthp_written * psize >> 10);
	else
		ksft_test_result_pass("order-5/4 direct compaction: %ld stalls, %ld 128/64 KiB folios in %ld KiB (at most %.0f s)\n",
				      mthp_stalls, mthp_folios, mthp_written * psize >> 10, seconds / 2);

	/* 6: a task killed in direct compaction. */
	kill_stalls = killed_while_compacting(seconds / 2);
	knobs_restore(compact_knobs, COMPACT_KNOBS);
	if (kill_stalls < 0)
		ksft_test_result_fail("the compacting child did not die of SIGKILL\n");
	else if (!kill_stalls)
		ksft_test_result_skip("the killed child never compacted\n");
	else
		ksft_test_result_pass("a child killed after %ld direct compactions\n", kill_stalls);

	for (i = 0; i < fill_pages; i += 2)
		if (fill[i * psize / 8] != i && !bad++)
			first_bad = i;
	for (i = 0; i < written; i += 2 * MB / psize)
		if (thp[i * psize / 8] != i && !bad++)
			first_bad = i;
	for (i = 0; (long)i < mthp_written; i += MTHP_KB * 1024 / psize)
		if (mthp[i * psize / 8] != i && !bad++)
			first_bad = i;
	for (i = 0; i < k; i++)
		if (shm[i * psize / 8] != i && !bad++)
			first_bad = i;
	ksft_test_result(!bad, "every kept page keeps its data (%lu bad, the first at page %lu)\n",
			 bad, first_bad);

	wrong = piped ? pipes_drain() : -1;
	ksft_test_result(wrong == 0, "%lu KiB through %d pipes, %ld bytes came back wrong\n",
			 piped >> 10, PIPES, wrong);
	munmap(fill, fill_pages * psize);
	munmap(thp, THP_AREA_MB * MB);
	munmap(shm, shm_pages * psize);
	if (mthp_written >= 0)
		munmap(mthp, MTHP_MB * MB);
	isolated = isolated_after_refresh();
	ksft_test_result(isolated == 0, "nr_isolated_anon + nr_isolated_file back to 0 (%ld)\n", isolated);
	ksft_test_result(knobs_restored(compact_knobs, COMPACT_KNOBS) &&
			 knobs_restored(&no_boost, 1),
			 "defrag, compact_unevictable_allowed and watermark_boost_factor restored to %s, %s, %s\n",
			 compact_knobs[0].old, compact_knobs[1].old, no_boost.old);
	if (mthp_written < 0)
		ksft_test_result_skip("no mTHP knobs to restore\n");
	else
		ksft_test_result(knobs_restored(mthp_knobs, MTHP_KNOBS),
				 "128, 64 and 2048 KiB THPs restored to %s, %s, %s\n",
				 mthp_knobs[0].old, mthp_knobs[1].old, mthp_knobs[2].old);
	ksft_finished();
}
