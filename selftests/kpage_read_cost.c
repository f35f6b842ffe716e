// SPDX-License-Identifier: GPL-2.0
/*
 * kpage_read_cost: what one full read of /proc/kpageflags, /proc/kpagecount
 * and /proc/kpagecgroup costs per PFN, on a quiet system and with THPs
 * mapped, for base/patched comparisons (topic 001, issue 16).
 *
 * Two states: thp=0 (nothing of ours mapped) and thp=1 (up to THP_MAX_MB of
 * anonymous memory, 2 MiB aligned, madvise(MADV_HUGEPAGE)d and written, so
 * a good share of the PFNs are THP heads and tails). In each state every
 * file is read from PFN 0 to its end once untimed (TCG translates the code
 * on first use), then READS times, CHUNK_PFNS entries per read(); the best
 * time per PFN is printed as one line a bench can parse:
 *
 *   # kpage_read_cost: kpageflags thp=0 pfns=524288 ns_per_pfn=186.2 best_of=9
 *
 * The guest's clocksource is printed first: under TCG without a stable TSC
 * it is jiffies, so a read's time is a multiple of the tick (4 ms at
 * HZ=250, 7.6 ns per PFN over 524288 PFNs); boot with a TSC clock
 * (mmguard --tsc-clock) for finer figures.
 *
 * One KTAP result per file and state: ok when every read returned the whole
 * file, SKIP when the file does not exist (kpagecgroup needs CONFIG_MEMCG).
 * Needs root; skips otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmguard_util.h"

#define CHUNK_PFNS	4096
#define READS		9
#define THP_SIZE	(2UL << 20)
#define THP_MAX_MB	512UL
#define CLOCKSOURCE	"/sys/devices/system/clocksource/clocksource0/current_clocksource"

static const char *const files[] = { "kpageflags", "kpagecount", "kpagecgroup" };
#define NR_FILES	(sizeof(files) / sizeof(files[0]))

/* One full read of /proc/@name: ns per PFN (PFNs in *@pfns), or -1. */
static double full_read_ns_per_pfn(const char *name, uint64_t *pfns)
{
	static uint64_t buf[CHUNK_PFNS];
	char path[64];
	double t0;
	ssize_t got;
	int fd;

	snprintf(path, sizeof(path), "/proc/%s", name);
	*pfns = 0;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	t0 = mmg_now();
	while ((got = read(fd, buf, sizeof(buf))) > 0)
		*pfns += got / sizeof(buf[0]);
	close(fd);
	return got == 0 && *pfns ? (mmg_now() - t0) * 1e9 / *pfns : -1;
}

static void measure(const char *name, int thp)
{
	double best = -1, t;
	uint64_t pfns = 0, first = 0;
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/proc/%s", name);
	if (access(path, R_OK)) {
		ksft_test_result_skip("%s thp=%d: no %s\n", name, thp, path);
		return;
	}
	full_read_ns_per_pfn(name, &pfns);	/* warm-up */
	for (i = 0; i < READS; i++) {
		t = full_read_ns_per_pfn(name, &pfns);
		if (t < 0 || (i && pfns != first)) {
			ksft_test_result_fail("%s thp=%d: read %d incomplete (%" PRIu64 " PFNs)\n",
					      name, thp, i, pfns);
			return;
		}
		first = pfns;
		/* 0: the clock did not tick during the read (jiffies). */
		if (t > 0 && (best < 0 || t < best))
			best = t;
	}
	ksft_print_msg("kpage_read_cost: %s thp=%d pfns=%" PRIu64
		       " ns_per_pfn=%.1f best_of=%d\n", name, thp, pfns, best, READS);
	ksft_test_result_pass("%s thp=%d\n", name, thp);
}

/* The clock the figures come from (its tick bounds their resolution). */
static void print_clocksource(void)
{
	char cs[64] = "unknown";

	mmg_read_file(CLOCKSOURCE, cs, sizeof(cs));
	cs[strcspn(cs, "\n")] = 0;
	ksft_print_msg("kpage_read_cost: clocksource=%s\n", cs);
}

/* Maps, advises and writes up to THP_MAX_MB of THPs; returns the bytes. */
static size_t map_thps(void)
{
	long avail_kb = mmg_meminfo_kb("MemAvailable");
	size_t want = THP_MAX_MB << 20, len;
	char *raw, *p;

	if (avail_kb > 0 && (size_t)avail_kb * 1024 / 2 < want)
		want = ((size_t)avail_kb * 1024 / 2) & ~(THP_SIZE - 1);
	if (!want)
		return 0;
	len = want + THP_SIZE;
	raw = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return 0;
	p = (char *)(((uintptr_t)raw + THP_SIZE - 1) & ~(THP_SIZE - 1));
	madvise(p, want, MADV_HUGEPAGE);
	memset(p, 0x5a, want);
	return want;
}

int main(void)
{
	size_t i, mapped;

	ksft_print_header();
	if (geteuid())
		ksft_exit_skip("needs root\n");
	ksft_set_plan(2 * NR_FILES);
	print_clocksource();

	for (i = 0; i < NR_FILES; i++)
		measure(files[i], 0);

	mapped = map_thps();
	ksft_print_msg("kpage_read_cost: mapped %zu MiB, AnonHugePages %ld kB\n",
		       mapped >> 20, mmg_meminfo_kb("AnonHugePages"));
	for (i = 0; i < NR_FILES; i++)
		measure(files[i], 1);

	ksft_finished();
}
