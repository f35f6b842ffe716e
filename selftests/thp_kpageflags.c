// SPDX-License-Identifier: GPL-2.0
/*
 * thp_kpageflags: what /proc/kpageflags, /proc/kpagecount, /proc/self/pagemap
 * and /proc/self/smaps say about anonymous THPs, before and after a partial
 * munmap() splits the PMD mapping of one of them.
 *
 * A 4 MiB anonymous region, 2 MiB aligned (over-mapped, then trimmed), is
 * madvise(MADV_HUGEPAGE)d and written, which on a THP-enabled kernel gives
 * two PMD-mapped 2 MiB THPs.  Then the first 1 MiB is unmapped: the kernel
 * splits that THP's PMD into PTEs and zaps the first half.  On 6.12 the
 * folio itself stays whole (it is only queued for a deferred split, which
 * runs under memory pressure), so the still-mapped half keeps reporting
 * KPF_THP | KPF_COMPOUND_TAIL, each page with mapcount 1
 * (folio_precise_page_mapcount()), the unmapped head reports mapcount 0,
 * and only the untouched second THP counts as AnonHugePages.
 *
 * Needs root (PFNs in pagemap and /proc/kpage* need CAP_SYS_ADMIN) and THP
 * not set to [never]; otherwise every check is skipped with the reason.
 * Output is kselftest TAP; one result per check.
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
#include <linux/kernel-page-flags.h>

#include "kselftest.h"

#ifndef KPF_COMPOUND_HEAD
#define KPF_COMPOUND_HEAD	15
#endif
#ifndef KPF_COMPOUND_TAIL
#define KPF_COMPOUND_TAIL	16
#endif
#ifndef KPF_THP
#define KPF_THP			22
#endif

#define PMD_SIZE_	(2UL << 20)
#define REGION_SIZE	(2 * PMD_SIZE_)
#define UNMAP_SIZE	(1UL << 20)

#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

#define NR_CHECKS	11

static unsigned long page_size;

static bool bit(uint64_t flags, int nr)
{
	return flags & (1ULL << nr);
}

/* Read the u64 at index @idx of a /proc array file; false on error. */
static bool read_u64(int fd, uint64_t idx, uint64_t *val)
{
	return pread(fd, val, sizeof(*val), idx * sizeof(*val)) == sizeof(*val);
}

/* The PFN backing @addr, or 0 if not present (or unreadable). */
static uint64_t pfn_of(int pagemap, const void *addr)
{
	uint64_t ent;

	if (!read_u64(pagemap, (uintptr_t)addr / page_size, &ent))
		return 0;
	return (ent & PM_PRESENT) ? (ent & PM_PFN_MASK) : 0;
}

/*
 * AnonHugePages (kB) of the VMA that starts at @start in /proc/self/smaps,
 * or -1 if there is no such VMA.
 */
static long anon_huge_kb(const void *start)
{
	unsigned long vma_start, vma_end, want = (uintptr_t)start;
	bool in_vma = false;
	long kb = -1;
	char line[512];
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long val;

		if (sscanf(line, "%lx-%lx ", &vma_start, &vma_end) == 2) {
			in_vma = vma_start == want;
			continue;
		}
		if (in_vma && sscanf(line, "AnonHugePages: %ld kB", &val) == 1) {
			kb = val;
			break;
		}
	}
	fclose(f);
	return kb;
}

/* Why THP tests cannot run here, or NULL if they can. */
static const char *skip_reason(void)
{
	static char reason[128];
	char buf[128] = "";
	FILE *f;

	if (geteuid() != 0)
		return "needs root: PFNs in pagemap and /proc/kpage* need CAP_SYS_ADMIN";
	if (access("/proc/kpageflags", R_OK) || access("/proc/kpagecount", R_OK))
		return "no /proc/kpageflags or /proc/kpagecount (CONFIG_PROC_PAGE_MONITOR)";
	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (!f)
		return "no /sys/kernel/mm/transparent_hugepage (THP not built in)";
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	if (strstr(buf, "[never]")) {
		snprintf(reason, sizeof(reason),
			 "THP disabled: transparent_hugepage/enabled is %s", buf);
		reason[strcspn(reason, "\n")] = '\0';
		return reason;
	}
	return NULL;
}

/* Map @size bytes aligned to @align (over-map, then trim both ends). */
static char *map_aligned(size_t size, size_t align)
{
	size_t len = size + align;
	char *raw, *p;

	raw = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (p > raw)
		munmap(raw, p - raw);
	if (raw + len > p + size)
		munmap(p + size, raw + len - (p + size));
	return p;
}

int main(void)
{
	int pagemap, kflags, kcount, i;
	uint64_t head[2], flags, count;
	size_t pages_per_pmd;
	const char *why;
	char *region;
	bool ok, contiguous;
	long kb;

	page_size = sysconf(_SC_PAGESIZE);
	pages_per_pmd = PMD_SIZE_ / page_size;

	ksft_print_header();
	ksft_set_plan(NR_CHECKS);

	why = skip_reason();
	if (why) {
		for (i = 0; i < NR_CHECKS; i++)
			ksft_test_result_skip("%s\n", why);
		ksft_finished();
	}

	pagemap = open("/proc/self/pagemap", O_RDONLY);
	kflags = open("/proc/kpageflags", O_RDONLY);
	kcount = open("/proc/kpagecount", O_RDONLY);
	if (pagemap < 0 || kflags < 0 || kcount < 0)
		ksft_exit_fail_msg("open /proc files: %s\n", strerror(errno));

	region = map_aligned(REGION_SIZE, PMD_SIZE_);
	if (!region)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	if (madvise(region, REGION_SIZE, MADV_HUGEPAGE))
		ksft_exit_fail_msg("madvise(MADV_HUGEPAGE): %s\n", strerror(errno));
	/* Write faults: a read fault could map the huge zero page instead. */
	memset(region, 0xa5, REGION_SIZE);

	/* 1: both 2 MiB halves are THPs, mapped by PMDs. */
	kb = anon_huge_kb(region);
	ksft_test_result(kb >= (long)(PMD_SIZE_ >> 10),
			 "smaps AnonHugePages of the region is %ld kB (>= %lu)\n",
			 kb, PMD_SIZE_ >> 10);

	/* 2: every page present; each half physically contiguous and aligned. */
	ok = true;
	for (i = 0; i < 2; i++) {
		size_t j;

		head[i] = pfn_of(pagemap, region + i * PMD_SIZE_);
		if (!head[i] || head[i] % pages_per_pmd)
			ok = false;
		for (j = 1; ok && j < pages_per_pmd; j++)
			if (pfn_of(pagemap, region + i * PMD_SIZE_ + j * page_size) !=
			    head[i] + j)
				ok = false;
	}
	ksft_print_msg("head PFNs %#" PRIx64 " and %#" PRIx64 "\n", head[0], head[1]);
	ksft_test_result(ok, "pagemap: all pages present, each THP's PFNs contiguous and PMD aligned\n");
	if (!ok) {
		/* Without the PFNs there is nothing to look up. */
		for (i = 2; i < NR_CHECKS; i++)
			ksft_test_result_skip("no THP-backed PFNs to inspect\n");
		ksft_finished();
	}

	/* 3: heads are THP compound heads. */
	ok = true;
	for (i = 0; i < 2; i++)
		ok &= read_u64(kflags, head[i], &flags) && bit(flags, KPF_THP) &&
		      bit(flags, KPF_COMPOUND_HEAD) && !bit(flags, KPF_COMPOUND_TAIL);
	ksft_test_result(ok, "kpageflags of the head PFNs: THP and COMPOUND_HEAD\n");

	/* 4: tails (first, middle and last) are THP compound tails. */
	ok = true;
	for (i = 0; i < 2; i++) {
		size_t t[] = { 1, pages_per_pmd / 2, pages_per_pmd - 1 };
		size_t j;

		for (j = 0; j < sizeof(t) / sizeof(t[0]); j++)
			ok &= read_u64(kflags, head[i] + t[j], &flags) &&
			      bit(flags, KPF_THP) && bit(flags, KPF_COMPOUND_TAIL) &&
			      !bit(flags, KPF_COMPOUND_HEAD);
	}
	ksft_test_result(ok, "kpageflags of tail PFNs: THP and COMPOUND_TAIL\n");

	/* 5: kpagecount of each head is 1 (one PMD mapping). */
	ok = true;
	for (i = 0; i < 2; i++)
		ok &= read_u64(kcount, head[i], &count) && count == 1;
	ksft_test_result(ok, "kpagecount of the head PFNs is 1\n");

	/* 6: ...and of every tail page too (the PMD maps each page once). */
	ok = true;
	for (i = 0; i < 2; i++) {
		size_t j;

		for (j = 1; j < pages_per_pmd; j++)
			ok &= read_u64(kcount, head[i] + j, &count) && count == 1;
	}
	ksft_test_result(ok, "kpagecount of every tail PFN is 1\n");

	/* Partial munmap: splits the first THP's PMD, zaps its first half. */
	if (munmap(region, UNMAP_SIZE))
		ksft_exit_fail_msg("munmap: %s\n", strerror(errno));

	/* 7: only the untouched second THP is still PMD-mapped. */
	kb = anon_huge_kb(region + UNMAP_SIZE);
	ksft_test_result(kb == (long)(PMD_SIZE_ >> 10),
			 "after munmap of the first 1 MiB: smaps AnonHugePages is %ld kB (== %lu)\n",
			 kb, PMD_SIZE_ >> 10);

	/* 8: the rest of the first THP is still mapped, by the same PFNs. */
	ok = true;
	contiguous = true;
	for (i = UNMAP_SIZE / page_size; i < (int)pages_per_pmd; i++)
		if (pfn_of(pagemap, region + i * page_size) != head[0] + i)
			contiguous = ok = false;
	ksft_test_result(ok, "after munmap: remaining pages of the split THP still map the same PFNs\n");

	/*
	 * 9: those pages are still tails of the (whole, deferred-split) THP and
	 * each is mapped once, now by a PTE.
	 */
	ok = contiguous;
	for (i = UNMAP_SIZE / page_size; ok && i < (int)pages_per_pmd; i++)
		ok = read_u64(kflags, head[0] + i, &flags) &&
		     bit(flags, KPF_THP) && bit(flags, KPF_COMPOUND_TAIL) &&
		     read_u64(kcount, head[0] + i, &count) && count == 1;
	ksft_test_result(ok, "after munmap: remaining pages are THP COMPOUND_TAIL with kpagecount 1 (folio awaits deferred split)\n");

	/* 10: the unmapped head is still the folio's head, now unmapped. */
	ok = read_u64(kflags, head[0], &flags) && bit(flags, KPF_THP) &&
	     bit(flags, KPF_COMPOUND_HEAD) &&
	     read_u64(kcount, head[0], &count) && count == 0;
	ksft_test_result(ok, "after munmap: the unmapped head PFN is THP COMPOUND_HEAD with kpagecount 0\n");

	/* 11: the second THP is untouched: head flags and count as before. */
	ok = read_u64(kflags, head[1], &flags) && bit(flags, KPF_THP) &&
	     bit(flags, KPF_COMPOUND_HEAD) &&
	     read_u64(kcount, head[1], &count) && count == 1;
	ksft_test_result(ok, "after munmap: the second THP's head is unchanged (THP, COMPOUND_HEAD, kpagecount 1)\n");

	munmap(region + UNMAP_SIZE, REGION_SIZE - UNMAP_SIZE);
	close(pagemap);
	close(kflags);
	close(kcount);
	ksft_finished();
}
