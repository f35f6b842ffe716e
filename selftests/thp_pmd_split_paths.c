// SPDX-License-Identifier: GPL-2.0
/*
 * thp_pmd_split_paths: the PMD splits of __split_huge_pmd_locked() that no
 * other suite reaches (make coverage showed them never executed), each
 * with its data checked afterwards:
 *
 *  zero-pmd   a read fault on an aligned 2 MiB range maps the huge zero
 *             page; mprotect() of one page in the middle splits that PMD
 *             (__split_huge_zero_page_pmd): every byte still reads 0, a
 *             write to one page gets its own page, the others stay 0.
 *  shmem-pmd  a shmem THP (shmem_enabled=always for the case) mapped by a
 *             PMD in a MAP_SHARED mapping; mprotect() of one page splits a
 *             file PMD, which is zapped, not split into PTEs: the data is
 *             refaulted from the page cache intact, ShmemPmdMapped drops
 *             to 0.
 *  freeze-pmd an anonymous THP still mapped by its PMD is split through
 *             /sys/kernel/debug/split_huge_pages: the PMD is split with
 *             freeze (migration entries, then the PTEs come back): same
 *             data, same PFNs, no THP left.
 *  cow-zap    a THP shared with a child by fork() (both PMDs write-
 *             protected): the child zaps one page with MADV_DONTNEED, which
 *             splits its PMD into PTEs, then writes every other page. The
 *             split must keep the PTEs write-protected, so each write
 *             copies: the parent's data stays as it was.
 *  cow-freeze the same shared THP, split as a folio by the child through
 *             split_huge_pages: both PMDs are frozen into migration
 *             entries and come back as PTEs, which must come back
 *             read-only; the child writes, the parent's data stays.
 *
 *  clean-pmd  MADV_FREE over a whole PMD-mapped THP makes its PMD clean and
 *             old; mprotect() of one page then splits it: every page reads
 *             its data or zeroes (a lazily freed page may be dropped), and a
 *             page written after the split keeps what was written.
 *  freeze-ro  an exclusive THP made read-only by mprotect() of the whole
 *             PMD is split through split_huge_pages (read-only exclusive
 *             migration entries); made writable again, a write must not
 *             copy the page (same PFN): the split kept it exclusive.
 *
 *  young-pmd  a THP just written (young PMD) and one whose accessed bits
 *             clear_refs cleared (old PMD) are split by mprotect(): smaps'
 *             Referenced must show 2048 kB and 0 kB, the PMD's accessed bit
 *             carried into every PTE.
 *  partial-unmap two single pages of a PMD-mapped THP unmapped in turn:
 *             the folio is queued for a deferred split once
 *             (thp_deferred_split_page grows by 1, not 2), the other
 *             pages keep their data.
 *
 * The two cow- cases and young-pmd were added for `make mutate`: turning
 * `if (write)` around in either branch of the PTE setup, or `if (!young)`,
 * survived every other suite.
 * The kernel's DEBUG_VM mapcount checks (patches 0010, 0011) watch each
 * split from the inside; the harness catches their reports. Needs root and
 * THP not [never]; a case whose THP did not come is skipped.
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
#include "mmguard_util.h"

#define THP		(2UL << 20)
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define KPF_THP_	22
#define KPF_ZERO_PAGE_	24

static unsigned long psize, nr_pages;
static int pagemap_fd, kflags_fd;
static char why[256];

enum { PASS, FAIL, SKIP };

static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return FAIL;
}

static int skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return SKIP;
}

static uint64_t pfn_of(const void *addr)
{
	uint64_t e;

	if (pread(pagemap_fd, &e, 8, (uintptr_t)addr / psize * 8) != 8 || !(e & PM_PRESENT))
		return 0;
	return e & PM_PFN_MASK;
}

static uint64_t kflags(uint64_t pfn)
{
	uint64_t v = 0;

	if (pread(kflags_fd, &v, 8, pfn * 8) != 8)
		return 0;
	return v;
}

/* A 2 MiB aligned range of fresh anonymous memory with MADV_HUGEPAGE. */
static char *aligned_anon(void)
{
	char *raw = mmap(NULL, 2 * THP, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (raw == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)raw + THP - 1) & ~(THP - 1));
	if (p > raw)
		munmap(raw, p - raw);
	munmap(p + THP, raw + THP - p);
	madvise(p, THP, MADV_HUGEPAGE);
	return p;
}

/* An smaps field (kB) summed over the VMAs overlapping [p, p + THP). */
static long smaps_kb(const char *p, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	unsigned long lo = 0, hi = 0;
	size_t len = strlen(field);
	long kb, sum = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2)
			continue;
		if (!strncmp(line, field, len) && line[len] == ':' &&
		    sscanf(line + len + 1, "%ld", &kb) == 1 &&
		    lo < (uintptr_t)p + THP && hi > (uintptr_t)p)
			sum += kb;
	}
	fclose(f);
	return sum;
}

static int case_zero_pmd(void)
{
	char *p = aligned_anon();
	volatile char sink = 0;
	unsigned long i, j;
	uint64_t pfn;
	int ret = PASS;

	if (!p)
		return fail("mmap: %s", strerror(errno));
	for (i = 0; i < nr_pages; i++)
		sink += p[i * psize];
	pfn = pfn_of(p);
	if (!pfn || !(kflags(pfn) & (1ULL << KPF_ZERO_PAGE_)) || !(kflags(pfn) & (1ULL << KPF_THP_)) ||
	    pfn_of(p + THP - psize) != pfn + nr_pages - 1) {
		munmap(p, THP);
		return skip("no huge zero page mapped (use_zero_page off?)");
	}
	if (mprotect(p + nr_pages / 2 * psize, psize, PROT_READ)) {
		munmap(p, THP);
		return fail("mprotect: %s", strerror(errno));
	}
	p[psize] = 0x5a;
	for (i = 0; i < nr_pages && ret == PASS; i++)
		for (j = 0; j < psize; j += 512)
			if (p[i * psize + j] != (i == 1 && j == 0 ? 0x5a : 0)) {
				ret = fail("page %lu byte %lu reads %d after the split", i, j, p[i * psize + j]);
				break;
			}
	if (ret == PASS && pfn_of(p + psize) == pfn + 1)
		ret = fail("the written page still maps the huge zero page");
	munmap(p, THP);
	(void)sink;
	return ret;
}

static int case_shmem_pmd(void)
{
	const char *knob = "/sys/kernel/mm/transparent_hugepage/shmem_enabled";
	char old[128] = "", *sel, *end;
	unsigned long i;
	int fd, kfd, ret = PASS;
	char *raw, *p;

	kfd = open(knob, O_RDWR);
	if (kfd < 0)
		return skip("no %s", knob);
	if (read(kfd, old, sizeof(old) - 1) <= 0 || !(sel = strchr(old, '[')) || !(end = strchr(sel, ']'))) {
		close(kfd);
		return fail("cannot read %s", knob);
	}
	*end = 0;
	sel++;
	if (pwrite(kfd, "always", 6, 0) != 6) {
		close(kfd);
		return fail("cannot write %s: %s", knob, strerror(errno));
	}
	fd = memfd_create("thp_pmd_split_paths", 0);
	if (fd < 0 || ftruncate(fd, THP)) {
		ret = fail("memfd: %s", strerror(errno));
		goto restore;
	}
	raw = mmap(NULL, 2 * THP, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		ret = fail("mmap: %s", strerror(errno));
		goto close_fd;
	}
	p = (char *)(((uintptr_t)raw + THP - 1) & ~(THP - 1));
	if (mmap(p, THP, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) {
		ret = fail("mmap memfd: %s", strerror(errno));
		goto unmap_raw;
	}
	madvise(p, THP, MADV_HUGEPAGE);
	for (i = 0; i < nr_pages; i++)
		memset(p + i * psize, (int)(i & 0x7f) + 1, psize);
	if (smaps_kb(p, "ShmemPmdMapped") != 2048) {
		ret = skip("no PMD-mapped shmem THP (ShmemPmdMapped %ld kB)", smaps_kb(p, "ShmemPmdMapped"));
		goto unmap_raw;
	}
	if (mprotect(p + 7 * psize, psize, PROT_READ)) {
		ret = fail("mprotect: %s", strerror(errno));
		goto unmap_raw;
	}
	if (smaps_kb(p, "ShmemPmdMapped") != 0)
		ret = fail("ShmemPmdMapped %ld kB after the split", smaps_kb(p, "ShmemPmdMapped"));
	for (i = 0; i < nr_pages && ret == PASS; i++)
		if (p[i * psize] != (char)((i & 0x7f) + 1) || p[i * psize + psize - 1] != (char)((i & 0x7f) + 1))
			ret = fail("page %lu lost its data after the split", i);
unmap_raw:
	munmap(raw, 2 * THP);
close_fd:
	if (fd >= 0)
		close(fd);
restore:
	if (pwrite(kfd, sel, strlen(sel), 0) < 0 && ret == PASS)
		ret = fail("cannot restore %s to %s", knob, sel);
	close(kfd);
	return ret;
}

/* Asks split_huge_pages to split the THPs of this process in [p, p + THP). */
static int split_range(char *p)
{
	char buf[128];
	int fd, len, ret = 0;

	fd = open("/sys/kernel/debug/split_huge_pages", O_WRONLY);
	if (fd < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%d,%#lx,%#lx", getpid(), (unsigned long)p, (unsigned long)(p + THP));
	if (write(fd, buf, len) != len)
		ret = -1;
	close(fd);
	return ret;
}

static int case_freeze_pmd(void)
{
	char *p = aligned_anon();
	uint64_t pfn0;
	unsigned long i;
	int ret = PASS;

	if (!p)
		return fail("mmap: %s", strerror(errno));
	for (i = 0; i < nr_pages; i++)
		memset(p + i * psize, (int)(i & 0x7f) + 1, psize);
	pfn0 = pfn_of(p);
	if (smaps_kb(p, "AnonHugePages") != 2048 || !pfn0) {
		munmap(p, THP);
		return skip("no PMD-mapped THP came");
	}
	if (access("/sys/kernel/debug/split_huge_pages", W_OK)) {
		munmap(p, THP);
		return skip("no /sys/kernel/debug/split_huge_pages");
	}
	if (split_range(p))
		ret = fail("split_huge_pages: %s", strerror(errno));
	if (ret == PASS && smaps_kb(p, "AnonHugePages") != 0)
		ret = fail("AnonHugePages %ld kB after the split", smaps_kb(p, "AnonHugePages"));
	for (i = 0; i < nr_pages && ret == PASS; i++) {
		uint64_t pfn = pfn_of(p + i * psize);

		if (pfn != pfn0 + i)
			ret = fail("page %lu moved: pfn %#" PRIx64 ", was %#" PRIx64, i, pfn, pfn0 + i);
		else if (kflags(pfn) & (1ULL << KPF_THP_))
			ret = fail("page %lu still THP after the split", i);
		else if (p[i * psize] != (char)((i & 0x7f) + 1) || p[i * psize + psize - 1] != (char)((i & 0x7f) + 1))
			ret = fail("page %lu lost its data after the split", i);
	}
	munmap(p, THP);
	return ret;
}

/*
 * A PMD-mapped THP filled with a pattern is shared with a child; the child
 * splits it (@freeze: the whole folio through split_huge_pages; else its
 * PMD, by zapping page 0) and writes 0xee over every page but 0. The
 * parent's copy must keep the pattern: the split must not have made the
 * child's PTEs of the shared pages writable.
 */
static int cow_split(bool freeze)
{
	char *p = aligned_anon();
	unsigned long i;
	int status, ret = PASS;
	pid_t pid;

	if (!p)
		return fail("mmap: %s", strerror(errno));
	for (i = 0; i < nr_pages; i++)
		memset(p + i * psize, (int)(i & 0x7f) + 1, psize);
	if (smaps_kb(p, "AnonHugePages") != 2048) {
		munmap(p, THP);
		return skip("no PMD-mapped THP came");
	}
	pid = fork();
	if (pid < 0) {
		munmap(p, THP);
		return fail("fork: %s", strerror(errno));
	}
	if (pid == 0) {
		if (freeze ? split_range(p) : madvise(p, psize, MADV_DONTNEED))
			_exit(2);
		if (smaps_kb(p, "AnonHugePages") != 0)
			_exit(3);
		for (i = 1; i < nr_pages; i++)
			memset(p + i * psize, 0xee, psize);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		ret = fail("the child did not exit normally (status %#x)", status);
	else if (WEXITSTATUS(status) == 2)
		ret = freeze ? skip("no /sys/kernel/debug/split_huge_pages") :
			       fail("MADV_DONTNEED: failed in the child");
	else if (WEXITSTATUS(status) == 3)
		ret = fail("the child's PMD was not split");
	else if (WEXITSTATUS(status))
		ret = fail("the child exited with %d", WEXITSTATUS(status));
	for (i = 0; i < nr_pages && ret == PASS; i++)
		if (p[i * psize] != (char)((i & 0x7f) + 1) || p[i * psize + psize - 1] != (char)((i & 0x7f) + 1))
			ret = fail("page %lu of the parent reads %#x: the child's write went into the shared page",
				   i, (unsigned char)p[i * psize]);
	munmap(p, THP);
	return ret;
}

static int case_cow_zap(void)
{
	return cow_split(false);
}

static int case_cow_freeze(void)
{
	return cow_split(true);
}

/*
 * Splits a THP whose PMD MADV_FREE made clean and old: every page reads its
 * pattern or zeroes, and a page written after the split keeps the write.
 */
static int case_clean_pmd(void)
{
	char *p = aligned_anon();
	unsigned long i;
	int ret = PASS;

	if (!p)
		return fail("mmap: %s", strerror(errno));
	for (i = 0; i < nr_pages; i++)
		memset(p + i * psize, (int)(i & 0x7f) + 1, psize);
	if (smaps_kb(p, "AnonHugePages") != 2048) {
		munmap(p, THP);
		return skip("no PMD-mapped THP came");
	}
	if (madvise(p, THP, MADV_FREE)) {
		munmap(p, THP);
		return skip("MADV_FREE: %s", strerror(errno));
	}
	if (mprotect(p + 9 * psize, psize, PROT_READ))
		ret = fail("mprotect: %s", strerror(errno));
	else if (smaps_kb(p, "AnonHugePages") != 0)
		ret = fail("AnonHugePages %ld kB after the split", smaps_kb(p, "AnonHugePages"));
	if (ret == PASS)
		p[3 * psize] = 0x55;
	for (i = 0; i < nr_pages && ret == PASS; i++) {
		char want = i == 3 ? 0x55 : (char)((i & 0x7f) + 1), first = p[i * psize];

		if (i == 3 ? first != want : first != want && first != 0)
			ret = fail("page %lu reads %d after the split", i, first);
		else if (i != 3 && p[i * psize + psize - 1] != first)
			ret = fail("page %lu is torn after the split", i);
	}
	munmap(p, THP);
	return ret;
}

/*
 * Freezes a read-only but exclusive THP's PMD (split_huge_pages); after
 * mprotect() back to writable, writes must reuse the same PFNs.
 */
static int case_freeze_ro(void)
{
	char *p = aligned_anon();
	uint64_t pfn0;
	unsigned long i;
	int ret = PASS;

	if (!p)
		return fail("mmap: %s", strerror(errno));
	for (i = 0; i < nr_pages; i++)
		memset(p + i * psize, (int)(i & 0x7f) + 1, psize);
	pfn0 = pfn_of(p);
	if (smaps_kb(p, "AnonHugePages") != 2048 || !pfn0) {
		munmap(p, THP);
		return skip("no PMD-mapped THP came");
	}
	if (access("/sys/kernel/debug/split_huge_pages", W_OK)) {
		munmap(p, THP);
		return skip("no /sys/kernel/debug/split_huge_pages");
	}
	if (mprotect(p, THP, PROT_READ) || split_range(p) || mprotect(p, THP, PROT_READ | PROT_WRITE))
		ret = fail("mprotect/split_huge_pages: %s", strerror(errno));
	else if (smaps_kb(p, "AnonHugePages") != 0)
		ret = fail("AnonHugePages %ld kB after the split", smaps_kb(p, "AnonHugePages"));
	for (i = 0; i < nr_pages && ret == PASS; i++) {
		if (p[i * psize] != (char)((i & 0x7f) + 1))
			ret = fail("page %lu lost its data after the split", i);
		p[i * psize] = 0x33;
		if (pfn_of(p + i * psize) != pfn0 + i)
			ret = fail("page %lu was copied on write (pfn %#" PRIx64 ", was %#" PRIx64
				   "): the split lost its exclusivity", i, pfn_of(p + i * psize), pfn0 + i);
	}
	munmap(p, THP);
	return ret;
}

/* A PMD-mapped THP, each page filled with its index; NULL if none came. */
static char *thp_filled(void)
{
	char *p = aligned_anon();
	unsigned long i;

	if (!p)
		return NULL;
	for (i = 0; i < nr_pages; i++)
		memset(p + i * psize, (int)(i & 0x7f) + 1, psize);
	if (smaps_kb(p, "AnonHugePages") != 2048) {
		munmap(p, THP);
		return NULL;
	}
	return p;
}

/*
 * The split PTEs inherit the PMD's accessed bit: a THP just written
 * (young PMD) splits into 512 young PTEs, one whose accessed bits
 * clear_refs cleared splits into old PTEs. smaps' Referenced shows it
 * (no page idle tracking in this configuration).
 */
static int case_young_pmd(void)
{
	long ref[2] = { -1, -1 };
	int i, ret = PASS;
	char *p;

	if (access("/proc/self/clear_refs", W_OK))
		return skip("no /proc/self/clear_refs");
	for (i = 0; i < 2 && ret == PASS; i++) {
		p = thp_filled();
		if (!p)
			return skip("no PMD-mapped THP came");
		/* The second time, clear the accessed bit of every mapping. */
		if ((i && mmg_write_file("/proc/self/clear_refs", "1")) ||
		    mprotect(p + 5 * psize, psize, PROT_READ))
			ret = fail("clear_refs or mprotect: %s", strerror(errno));
		ref[i] = smaps_kb(p, "Referenced");
		if (ret == PASS && smaps_kb(p, "AnonHugePages"))
			ret = fail("the THP is still PMD-mapped after its split");
		else if (ret == PASS && p[7 * psize] != 8)
			ret = fail("page 7 lost its data in the split");
		munmap(p, THP);
	}
	if (ret == PASS && ref[0] != 2048)
		ret = fail("split of a young PMD: %ld kB Referenced, not 2048", ref[0]);
	else if (ret == PASS && ref[1] != 0)
		ret = fail("split of an old PMD: %ld kB Referenced, not 0", ref[1]);
	return ret;
}

/*
 * Two pages of a PMD-mapped THP unmapped one after the other: the first
 * munmap() splits the PMD and leaves the folio partially mapped, which
 * queues it for a deferred split once (thp_deferred_split_page + 1); the
 * second finds it already partially mapped and must not count it again.
 * The other pages keep their data.
 */
static int case_partial_unmap(void)
{
	char *p = thp_filled();
	long before = mmg_vmstat("thp_deferred_split_page"), queued;
	unsigned long i;
	int ret = PASS;

	if (!p)
		return skip("no PMD-mapped THP came");
	if (before < 0) {
		munmap(p, THP);
		return skip("no thp_deferred_split_page in /proc/vmstat");
	}
	if (munmap(p + 3 * psize, psize) || munmap(p + 9 * psize, psize)) {
		munmap(p, THP);
		return fail("munmap: %s", strerror(errno));
	}
	queued = mmg_vmstat("thp_deferred_split_page") - before;
	if (queued != 1)
		ret = fail("thp_deferred_split_page grew by %ld, not 1", queued);
	for (i = 0; i < nr_pages && ret == PASS; i++)
		if (i != 3 && i != 9 && p[i * psize] != (char)((i & 0x7f) + 1))
			ret = fail("page %lu lost its data", i);
	munmap(p, THP);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(void);
} cases[] = {
	{ "zero-pmd", case_zero_pmd },
	{ "shmem-pmd", case_shmem_pmd },
	{ "freeze-pmd", case_freeze_pmd },
	{ "cow-zap", case_cow_zap },
	{ "cow-freeze", case_cow_freeze },
	{ "clean-pmd", case_clean_pmd },
	{ "freeze-ro", case_freeze_ro },
	{ "young-pmd", case_young_pmd },
	{ "partial-unmap", case_partial_unmap },
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
	if (geteuid() || pagemap_fd < 0 || kflags_fd < 0 || !enabled[0] || strstr(enabled, "[never]")) {
		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
			ksft_test_result_skip("%s: needs root, /proc/kpageflags and THP\n", cases[i].name);
		ksft_finished();
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = 0;
		switch (cases[i].fn()) {
		case PASS:
			ksft_test_result_pass("%s\n", cases[i].name);
			break;
		case SKIP:
			ksft_test_result_skip("%s: %s\n", cases[i].name, why);
			break;
		default:
			ksft_test_result_fail("%s: %s\n", cases[i].name, why);
		}
	}
	ksft_finished();
}
