// SPDX-License-Identifier: GPL-2.0
/*
 * thp_mapcount: what /proc/kpagecount, /proc/kpageflags, /proc/self/pagemap
 * and /proc/self/smaps say about anonymous THPs while their PMD mappings
 * are split in every way userspace can split them, and while they are
 * shared with a child by fork.
 *
 * Each case maps one fresh 2 MiB THP (2 MiB aligned, MADV_HUGEPAGE, written;
 * the case is skipped if no THP came), checks it is PMD-mapped
 * (AnonHugePages 2048 kB, head and tails flagged, every page's kpagecount
 * 1), does one thing to it and checks the exact outcome:
 *
 *  mprotect   mprotect() of one page in the middle splits the PMD; the folio
 *             stays one THP, PTE-mapped: same PFNs, each count 1, no
 *             AnonHugePages left.
 *  munmap     munmap() of the first 1 MiB: those pages are gone from
 *             pagemap and counted 0, the other 256 still 1 and still THP.
 *  mremap     mremap() of the second 1 MiB elsewhere: the PFNs move with it.
 *  dontneed   MADV_DONTNEED of 64 KiB: those 16 pages are gone, counted 0.
 *  fork-pmd   fork() shares the PMD: every count 2 while the child lives;
 *             the child writes one page (COW splits the child's PMD only):
 *             that page's count drops to 1, the parent's PMD stays whole;
 *             after the child exits every count is 1 again.
 *  fork-pte   the same with the PMD split first (mprotect), so fork copies
 *             PTEs of a large folio in batches: every count 2, then 1.
 *  split      munmap() of 64 KiB, then the THP is split through
 *             /sys/kernel/debug/split_huge_pages: the still-mapped pages are
 *             no longer THP or compound, same PFNs, each count 1.
 *
 * The kernel's DEBUG_VM checks on the mapcounts (patches 0010, 0011) watch
 * all of this from the inside; the harness catches their reports.
 * Needs root and THP not [never]. kselftest TAP, one result per case.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"

#define KPF_COMPOUND_HEAD_	15
#define KPF_COMPOUND_TAIL_	16
#define KPF_THP_		22

#define THP		(2UL << 20)
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

static unsigned long psize;
static unsigned long nr_pages;		/* pages per THP */
static int pagemap_fd, kflags_fd, kcount_fd;
static char why[256];			/* first mismatch of the current case */

static bool fail(const char *fmt, ...)
{
	va_list ap;

	if (!why[0]) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
	}
	return false;
}

static bool read_u64(int fd, uint64_t idx, uint64_t *val)
{
	return pread(fd, val, sizeof(*val), idx * sizeof(*val)) == sizeof(*val);
}

/* PFN of the page at @addr in this process, 0 if none. */
static uint64_t pfn_of(const char *addr)
{
	uint64_t ent;

	if (!read_u64(pagemap_fd, (uintptr_t)addr / psize, &ent))
		return 0;
	return (ent & PM_PRESENT) ? ent & PM_PFN_MASK : 0;
}

static uint64_t kflags(uint64_t pfn)
{
	uint64_t v = 0;

	read_u64(kflags_fd, pfn, &v);
	return v;
}

static int64_t kcount(uint64_t pfn)
{
	uint64_t v;

	return read_u64(kcount_fd, pfn, &v) ? (int64_t)v : -1;
}

/* AnonHugePages in kB summed over the VMAs overlapping [start, end). */
static long anon_huge_kb(const char *start, const char *end)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	unsigned long lo = 0, hi = 0;
	long kb, sum = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			continue;
		if (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1 &&
		    lo < (uintptr_t)end && hi > (uintptr_t)start)
			sum += kb;
	}
	fclose(f);
	return sum;
}

/*
 * Every page of [addr, addr + n pages) maps pfn0 + its index (-1: not
 * mapped), has kpagecount @count and, if @thp, KPF_THP with HEAD on the
 * folio's first page and TAIL on the others; if !@thp, neither THP nor a
 * compound bit.
 */
static bool expect_pages(const char *what, const char *addr, unsigned long n,
			 uint64_t pfn0, int64_t count, bool thp)
{
	unsigned long i;

	for (i = 0; i < n; i++) {
		uint64_t pfn = pfn_of(addr + i * psize);
		uint64_t fl, want = pfn0 + i;
		int64_t c;

		if (pfn != want)
			return fail("%s: page %lu maps pfn %#" PRIx64 ", expected %#" PRIx64,
				    what, i, pfn, want);
		c = kcount(pfn);
		if (c != count)
			return fail("%s: pfn %#" PRIx64 " kpagecount %" PRId64 ", expected %" PRId64,
				    what, pfn, c, count);
		fl = kflags(pfn);
		if (thp != !!(fl & (1ULL << KPF_THP_)))
			return fail("%s: pfn %#" PRIx64 " kpageflags %#" PRIx64 " THP bit wrong",
				    what, pfn, fl);
		if (!thp && (fl & (3ULL << KPF_COMPOUND_HEAD_)))
			return fail("%s: pfn %#" PRIx64 " kpageflags %#" PRIx64 " still compound",
				    what, pfn, fl);
	}
	return true;
}

/* Pages of [addr, addr + n pages) are not in pagemap. */
static bool expect_gone(const char *what, const char *addr, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if (pfn_of(addr + i * psize))
			return fail("%s: page %lu still mapped", what, i);
	return true;
}

/* kpagecount of pfns [pfn0, pfn0 + n) is @count. */
static bool expect_counts(const char *what, uint64_t pfn0, unsigned long n,
			  int64_t count)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		if (kcount(pfn0 + i) != count)
			return fail("%s: pfn %#" PRIx64 " kpagecount %" PRId64 ", expected %" PRId64,
				    what, pfn0 + i, kcount(pfn0 + i), count);
	return true;
}

/*
 * A fresh PMD-mapped THP at a 2 MiB aligned address; its head PFN in
 * *pfn0. NULL (and why[] says why) if the kernel gave no THP.
 */
static char *map_thp(uint64_t *pfn0)
{
	char *raw, *p;
	uint64_t fl;

	raw = mmap(NULL, 2 * THP, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		fail("mmap: %s", strerror(errno));
		return NULL;
	}
	p = (char *)(((uintptr_t)raw + THP - 1) & ~(THP - 1));
	if (p > raw)
		munmap(raw, p - raw);
	munmap(p + THP, raw + THP - p);
	madvise(p, THP, MADV_HUGEPAGE);
	memset(p, 0x5a, THP);
	*pfn0 = pfn_of(p);
	fl = kflags(*pfn0);
	if (!*pfn0 || !(fl & (1ULL << KPF_THP_)) ||
	    !(fl & (1ULL << KPF_COMPOUND_HEAD_)) || *pfn0 % nr_pages) {
		fail("no THP (pfn %#" PRIx64 " flags %#" PRIx64 ")", *pfn0, fl);
		munmap(p, THP);
		return NULL;
	}
	if (!expect_pages("fresh THP", p, nr_pages, *pfn0, 1, true))
		goto bad;
	if (anon_huge_kb(p, p + THP) != (long)(THP >> 10)) {
		fail("fresh THP: AnonHugePages %ld kB, expected %lu",
		     anon_huge_kb(p, p + THP), THP >> 10);
		goto bad;
	}
	return p;
bad:
	munmap(p, THP);
	return NULL;
}

static bool expect_no_anon_huge(const char *what, const char *start,
				const char *end)
{
	long kb = anon_huge_kb(start, end);

	if (kb != 0)
		return fail("%s: AnonHugePages %ld kB, expected 0", what, kb);
	return true;
}

static bool case_mprotect(char *p, uint64_t pfn0)
{
	bool ok;

	if (mprotect(p + THP / 2, psize, PROT_READ))
		return fail("mprotect: %s", strerror(errno));
	ok = expect_pages("after mprotect", p, nr_pages, pfn0, 1, true) &&
	     expect_no_anon_huge("after mprotect", p, p + THP);
	munmap(p, THP);
	return ok;
}

static bool case_munmap(char *p, uint64_t pfn0)
{
	unsigned long half = nr_pages / 2;
	bool ok;

	if (munmap(p, THP / 2))
		return fail("munmap: %s", strerror(errno));
	ok = expect_pages("after munmap", p + THP / 2, half, pfn0 + half, 1, true) &&
	     expect_counts("unmapped half", pfn0, half, 0) &&
	     expect_no_anon_huge("after munmap", p + THP / 2, p + THP);
	munmap(p + THP / 2, THP / 2);
	return ok;
}

static bool case_mremap(char *p, uint64_t pfn0)
{
	unsigned long half = nr_pages / 2;
	char *dst, *q;
	bool ok;

	dst = mmap(NULL, THP, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dst == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	q = mremap(p + THP / 2, THP / 2, THP / 2, MREMAP_MAYMOVE | MREMAP_FIXED,
		   dst + psize);
	if (q == MAP_FAILED) {
		munmap(dst, THP);
		return fail("mremap: %s", strerror(errno));
	}
	ok = expect_pages("moved half", q, half, pfn0 + half, 1, true) &&
	     expect_pages("staying half", p, half, pfn0, 1, true) &&
	     expect_gone("moved from", p + THP / 2, half) &&
	     expect_no_anon_huge("after mremap", q, q + THP / 2) &&
	     expect_no_anon_huge("after mremap", p, p + THP / 2);
	munmap(dst, THP);
	munmap(p, THP / 2);
	return ok;
}

static bool case_dontneed(char *p, uint64_t pfn0)
{
	unsigned long n = (64UL << 10) / psize, off = nr_pages / 4;
	bool ok;

	if (madvise(p + off * psize, n * psize, MADV_DONTNEED))
		return fail("madvise: %s", strerror(errno));
	ok = expect_gone("dropped", p + off * psize, n) &&
	     expect_counts("dropped", pfn0 + off, n, 0) &&
	     expect_pages("before", p, off, pfn0, 1, true) &&
	     expect_pages("after", p + (off + n) * psize, nr_pages - off - n,
			  pfn0 + off + n, 1, true) &&
	     expect_no_anon_huge("after MADV_DONTNEED", p, p + THP);
	munmap(p, THP);
	return ok;
}

/*
 * fork; the child waits for a byte on @go, writes page @cow (if >= 0),
 * reports the PFN it then maps there on @back and waits for the second
 * byte before it exits.
 */
static bool case_fork(char *p, uint64_t pfn0, bool split_first)
{
	int go[2], back[2];
	long cow = nr_pages / 3;
	uint64_t child_pfn = 0;
	char c = 0;
	bool ok = true;
	int status;
	pid_t pid;

	if (split_first && mprotect(p + psize, psize, PROT_READ))
		return fail("mprotect: %s", strerror(errno));
	if (pipe(go) || pipe(back))
		return fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid) {
		uint64_t pfn;

		if (read(go[0], &c, 1) != 1)
			_exit(1);
		p[cow * psize] = 1;
		/* The inherited fd reads the parent's page tables. */
		close(pagemap_fd);
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
		pfn = pfn_of(p + cow * psize);
		if (write(back[1], &pfn, sizeof(pfn)) != sizeof(pfn) ||
		    read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	/* Shared with the child: every page is mapped twice. */
	ok = expect_pages("shared", p, nr_pages, pfn0, 2, true);
	if (ok && !split_first &&
	    anon_huge_kb(p, p + THP) != (long)(THP >> 10))
		ok = fail("shared: AnonHugePages %ld kB in the parent",
			  anon_huge_kb(p, p + THP));
	/* The child writes one page: COW gives it its own copy. */
	if (write(go[1], &c, 1) != 1 ||
	    read(back[0], &child_pfn, sizeof(child_pfn)) != sizeof(child_pfn))
		ok = fail("child did not answer");
	if (ok && (!child_pfn || (child_pfn >= pfn0 && child_pfn < pfn0 + nr_pages)))
		ok = fail("child's COW page pfn %#" PRIx64 " not a new page", child_pfn);
	if (ok)
		ok = expect_pages("before the COW page", p, cow, pfn0, 2, true) &&
		     expect_pages("COW page", p + cow * psize, 1, pfn0 + cow, 1, true) &&
		     expect_pages("after the COW page", p + (cow + 1) * psize,
				  nr_pages - cow - 1, pfn0 + cow + 1, 2, true);
	if (ok && !split_first &&
	    anon_huge_kb(p, p + THP) != (long)(THP >> 10))
		ok = fail("after COW: AnonHugePages %ld kB in the parent",
			  anon_huge_kb(p, p + THP));
	if (write(go[1], &c, 1) != 1)
		ok = fail("child gone early");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		ok = fail("child failed (status %#x)", status);
	if (ok)
		ok = expect_pages("child gone", p, nr_pages, pfn0, 1, true);
	close(go[0]);
	close(go[1]);
	close(back[0]);
	close(back[1]);
	munmap(p, THP);
	return ok;
}

static bool case_fork_pmd(char *p, uint64_t pfn0)
{
	return case_fork(p, pfn0, false);
}

static bool case_fork_pte(char *p, uint64_t pfn0)
{
	return case_fork(p, pfn0, true);
}

static bool case_split(char *p, uint64_t pfn0)
{
	char buf[128];
	bool ok;
	int fd, len;

	/* 64 KiB unmapped (the PMD is split), then the whole folio split. */
	if (munmap(p + 16 * psize, 16 * psize))
		return fail("munmap: %s", strerror(errno));
	fd = open("/sys/kernel/debug/split_huge_pages", O_WRONLY);
	if (fd < 0) {
		munmap(p, THP);
		return fail("open split_huge_pages: %s", strerror(errno));
	}
	len = snprintf(buf, sizeof(buf), "%d,%#lx,%#lx", getpid(),
		       (unsigned long)p, (unsigned long)(p + THP));
	if (write(fd, buf, len) != len)
		ok = fail("split_huge_pages: %s", strerror(errno));
	else
		ok = expect_pages("split first 64 KiB", p, 16, pfn0, 1, false) &&
		     expect_pages("split rest", p + 32 * psize, nr_pages - 32,
				  pfn0 + 32, 1, false);
	close(fd);
	munmap(p, THP);
	return ok;
}

static const struct {
	const char *name;
	bool (*fn)(char *p, uint64_t pfn0);
} cases[] = {
	{ "split", case_split },
	{ "mprotect", case_mprotect },
	{ "munmap", case_munmap },
	{ "mremap", case_mremap },
	{ "dontneed", case_dontneed },
	{ "fork-pmd", case_fork_pmd },
	{ "fork-pte", case_fork_pte },
};

int main(void)
{
	char enabled[64] = "";
	unsigned int i;
	FILE *f;

	ksft_print_header();
	ksft_set_plan(sizeof(cases) / sizeof(cases[0]));
	psize = getpagesize();
	nr_pages = THP / psize;

	f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
	if (f) {
		if (!fgets(enabled, sizeof(enabled), f))
			enabled[0] = 0;
		fclose(f);
	}
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	kflags_fd = open("/proc/kpageflags", O_RDONLY);
	kcount_fd = open("/proc/kpagecount", O_RDONLY);
	if (geteuid() || pagemap_fd < 0 || kflags_fd < 0 || kcount_fd < 0 ||
	    !enabled[0] || strstr(enabled, "[never]")) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			ksft_test_result_skip("%s: needs root, /proc/kpage* and THP\n",
					      cases[i].name);
		ksft_finished();
	}

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t pfn0;
		char *p;

		why[0] = 0;
		p = map_thp(&pfn0);
		if (!p) {
			ksft_test_result_fail("%s: %s\n", cases[i].name, why);
			continue;
		}
		if (cases[i].fn(p, pfn0))
			ksft_test_result_pass("%s\n", cases[i].name);
		else
			ksft_test_result_fail("%s: %s\n", cases[i].name, why);
	}
	ksft_finished();
}
