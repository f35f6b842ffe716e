// SPDX-License-Identifier: GPL-2.0
/*
 * kpageflags_types: /proc/kpageflags reports the right bits, and only
 * those, for pages whose kind the test knows:
 *
 *  - over all PFNs: some page is KPF_PGTABLE (every process has page
 *    tables), KPF_SLAB and KPF_RESERVED (the kernel image), and at least
 *    half of MemFree is KPF_BUDDY (every page of a free block, not only
 *    its head);
 *  - pages this test makes, found through /proc/self/pagemap after
 *    /proc/sys/vm/drop_caches has drained every CPU's LRU batches
 *    (lru_add_drain_all()): a written anonymous page, an mlocked one, the
 *    head and a tail of an anonymous THP, the shared zero page, the huge
 *    zero page and a KSM page (two identical MADV_MERGEABLE pages that ksmd
 *    merged into one PFN), each with the bits it must have and the bits it
 *    must not.
 *
 * Added for `make mutate` (Documentation/mutate.md): deleting the line of
 * stable_page_flags() that sets one of these bits, or shifting it onto its
 * neighbour (KPF_ANON onto KPF_MMAP, KPF_THP onto KPF_HWPOISON), survived
 * every other suite; the KSM page is the positive half of 0024 (a KSM page
 * still has KPF_KSM) and kills the mutant that shifts that bit. Needs root
 * (PFNs in pagemap and /proc/kpageflags need CAP_SYS_ADMIN). A page that
 * did not come (no THP, no huge zero page, no CONFIG_KSM) is a skip, said
 * so; two identical pages that a running ksmd does not merge are a failure.
 * Output is kselftest TAP.
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
#include <linux/kernel-page-flags.h>

#include "kselftest.h"
#include "mmguard_util.h"

/* Kernel-internal bits of include/linux/kernel-page-flags.h (not in uapi). */
#ifndef KPF_RESERVED
#define KPF_RESERVED	32
#endif
#ifndef KPF_MLOCKED
#define KPF_MLOCKED	33
#endif

#define BIT(n)		(1ULL << (n))
#define PM_PRESENT	BIT(63)
#define PM_PFN_MASK	(BIT(55) - 1)
#define THP_SIZE	(2UL << 20)
#define CHUNK		4096
#define KSM_DIR		"/sys/kernel/mm/ksm"
/* ksmd needs two scans of two pages; under TCG that is milliseconds. */
#define KSM_SECONDS	20

/* Bits no page this test makes may have. */
#define NEVER	(BIT(KPF_HUGE) | BIT(KPF_HWPOISON) | BIT(KPF_KSM) | BIT(KPF_SLAB) | \
		 BIT(KPF_PGTABLE) | BIT(KPF_BUDDY) | BIT(KPF_OFFLINE) | BIT(KPF_RESERVED) | \
		 BIT(KPF_NOPAGE))

static const struct {
	const char *name;
	int bit;
} names[] = {
	{ "LOCKED", KPF_LOCKED }, { "ERROR", KPF_ERROR }, { "REFERENCED", KPF_REFERENCED },
	{ "UPTODATE", KPF_UPTODATE }, { "DIRTY", KPF_DIRTY }, { "LRU", KPF_LRU },
	{ "ACTIVE", KPF_ACTIVE }, { "SLAB", KPF_SLAB }, { "WRITEBACK", KPF_WRITEBACK },
	{ "RECLAIM", KPF_RECLAIM }, { "BUDDY", KPF_BUDDY }, { "MMAP", KPF_MMAP },
	{ "ANON", KPF_ANON }, { "SWAPCACHE", KPF_SWAPCACHE }, { "SWAPBACKED", KPF_SWAPBACKED },
	{ "COMPOUND_HEAD", KPF_COMPOUND_HEAD }, { "COMPOUND_TAIL", KPF_COMPOUND_TAIL },
	{ "HUGE", KPF_HUGE }, { "UNEVICTABLE", KPF_UNEVICTABLE }, { "HWPOISON", KPF_HWPOISON },
	{ "NOPAGE", KPF_NOPAGE }, { "KSM", KPF_KSM }, { "THP", KPF_THP },
	{ "OFFLINE", KPF_OFFLINE }, { "ZERO_PAGE", KPF_ZERO_PAGE }, { "IDLE", KPF_IDLE },
	{ "PGTABLE", KPF_PGTABLE }, { "RESERVED", KPF_RESERVED }, { "MLOCKED", KPF_MLOCKED },
};

static int kflags_fd, pagemap_fd;
static long page_size;

/* Appends the names of the bits in @bits to @out. */
static void bit_names(uint64_t bits, char *out, size_t len)
{
	size_t used = 0;
	unsigned int i;

	out[0] = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]) && used < len; i++)
		if (bits & BIT(names[i].bit))
			used += snprintf(out + used, len - used, " %s", names[i].name);
}

/* The PFN mapped at @addr, 0 if none is. */
static uint64_t pfn_at(const void *addr)
{
	uint64_t ent = 0;

	if (pread(pagemap_fd, &ent, 8, (uintptr_t)addr / page_size * 8) != 8 ||
	    !(ent & PM_PRESENT))
		return 0;
	return ent & PM_PFN_MASK;
}

/* One TAP result: the page at @addr has every bit of @must, none of @mustnot. */
static void expect(const char *what, const volatile void *addr, uint64_t must, uint64_t mustnot)
{
	char missing[256], extra[256];
	uint64_t flags = 0;

	uint64_t pfn = pfn_at((const void *)addr);

	if (!pfn || pread(kflags_fd, &flags, 8, pfn * 8) != 8) {
		ksft_test_result_fail("%s: no PFN in /proc/self/pagemap\n", what);
		return;
	}
	bit_names(must & ~flags, missing, sizeof(missing));
	bit_names(mustnot & flags, extra, sizeof(extra));
	ksft_test_result(!missing[0] && !extra[0],
			 "%s: flags %#llx; missing:%s; unexpected:%s\n", what,
			 (unsigned long long)flags, missing[0] ? missing : " none",
			 extra[0] ? extra : " none");
}

/* Counts the PFNs with each of @bits set, over all of /proc/kpageflags. */
static uint64_t count_all(const int *bits, uint64_t *counts, int n)
{
	static uint64_t buf[CHUNK];
	off_t off = 0;
	ssize_t got;
	int i, b;

	while ((got = pread(kflags_fd, buf, sizeof(buf), off)) > 0) {
		for (i = 0; i < got / 8; i++)
			for (b = 0; b < n; b++)
				counts[b] += !!(buf[i] & BIT(bits[b]));
		off += got;
	}
	return off / 8;
}

/*
 * Whether [p, p + 2 MiB) is mapped by one naturally aligned 2 MiB block of
 * PFNs: what a PMD-mapped THP or the huge zero page looks like in pagemap,
 * told without /proc/kpageflags, whose bits are under test.
 */
static bool one_huge_block(const volatile char *p)
{
	uint64_t first = pfn_at((const void *)p);
	unsigned long i, n = THP_SIZE / page_size;

	if (!first || first % n)
		return false;
	for (i = 1; i < n; i++)
		if (pfn_at((const void *)(p + i * page_size)) != first + i)
			return false;
	return true;
}

/* A 2 MiB aligned anonymous range with MADV_HUGEPAGE, or NULL. */
static char *aligned_thp_range(void)
{
	char *raw = mmap(NULL, 2 * THP_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (raw == MAP_FAILED)
		return NULL;
	p = (char *)(((uintptr_t)raw + THP_SIZE - 1) & ~(THP_SIZE - 1));
	madvise(p, THP_SIZE, MADV_HUGEPAGE);
	return p;
}

/*
 * Two identical pages in a MADV_MERGEABLE range, for ksmd to merge into
 * one KSM page: 0 and the first page in @out once pagemap shows both at one
 * PFN, 1 (skip) without KSM, -1 if ksmd did not merge them in KSM_SECONDS;
 * @why says which.  ksmd's knobs are put back as they were (a stopped ksmd
 * leaves merged pages merged).
 */
static int ksm_page(volatile char **out, char *why, size_t len)
{
	static const char *const knob[] = { "run", "pages_to_scan", "sleep_millisecs" };
	static const char *const want[] = { "1", "1000", "0" };
	char saved[3][32], path[64];
	volatile char *p;
	bool merged = false;
	unsigned int i;
	double end;

	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), KSM_DIR "/%s", knob[i]);
		if (mmg_read_file(path, saved[i], sizeof(saved[i])) < 0) {
			snprintf(why, len, "no %s (no CONFIG_KSM)", path);
			return 1;
		}
	}
	p = mmap(NULL, 2 * page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	madvise((void *)p, 2 * page_size, MADV_NOHUGEPAGE);
	if (madvise((void *)p, 2 * page_size, MADV_MERGEABLE)) {
		snprintf(why, len, "MADV_MERGEABLE: %s", strerror(errno));
		return 1;
	}
	/* The same bytes in both pages, unlike any other page's. */
	for (i = 0; i < 2; i++)
		snprintf((char *)p + i * page_size, page_size,
			 "mmguard kpageflags_types KSM page of pid %d", (int)getpid());
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), KSM_DIR "/%s", knob[i]);
		if (mmg_write_file(path, want[i]))
			ksft_exit_fail_msg("%s: %s\n", path, strerror(errno));
	}
	end = mmg_now() + KSM_SECONDS;
	while (!merged && mmg_now() < end) {
		merged = pfn_at((const void *)p) &&
			 pfn_at((const void *)p) == pfn_at((const void *)(p + page_size));
		if (!merged)
			usleep(10000);
	}
	for (i = 3; i-- > 0;) {
		snprintf(path, sizeof(path), KSM_DIR "/%s", knob[i]);
		if (mmg_write_file(path, saved[i]))
			ksft_exit_fail_msg("restoring %s: %s\n", path, strerror(errno));
	}
	*out = p;
	snprintf(why, len, "ksmd did not merge two identical pages in %d s", KSM_SECONDS);
	return merged ? 0 : -1;
}

int main(void)
{
	static const struct {
		const char *name;
		int bit;
	} global[] = {
		{ "PGTABLE", KPF_PGTABLE }, { "BUDDY", KPF_BUDDY },
		{ "SLAB", KPF_SLAB }, { "RESERVED", KPF_RESERVED },
	};
	const unsigned int nglobal = sizeof(global) / sizeof(global[0]);
	int bits[sizeof(global) / sizeof(global[0])];
	uint64_t counts[sizeof(global) / sizeof(global[0])] = { 0 }, total;
	volatile char *anon, *locked, *zero, *thp, *hzero, *hzero2, *ksm = NULL;
	bool have_zero, have_thp, have_hzero;
	char ksm_why[128];
	int ksm_state;
	long free_pages;
	unsigned int i;

	ksft_print_header();
	ksft_set_plan(nglobal + 7);
	if (geteuid() != 0) {
		for (i = 0; i < nglobal + 7; i++)
			ksft_test_result_skip("needs root\n");
		ksft_finished();
	}
	page_size = sysconf(_SC_PAGESIZE);
	kflags_fd = open("/proc/kpageflags", O_RDONLY);
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY);
	if (kflags_fd < 0 || pagemap_fd < 0)
		ksft_exit_fail_msg("open /proc files: %s\n", strerror(errno));

	for (i = 0; i < nglobal; i++)
		bits[i] = global[i].bit;
	total = count_all(bits, counts, nglobal);
	/*
	 * Every page of a free block is KPF_BUDDY, not only its head: at
	 * least half of MemFree (the rest may sit on pcp lists).
	 */
	free_pages = mmg_meminfo_kb("MemFree") * 1024 / sysconf(_SC_PAGESIZE);
	for (i = 0; i < nglobal; i++)
		ksft_test_result(counts[i] > (global[i].bit == KPF_BUDDY ? (uint64_t)free_pages / 2 : 0),
				 "%s PFN is %s (%llu of %llu; %ld pages free)\n",
				 global[i].bit == KPF_BUDDY ? "every free" : "some", global[i].name,
				 (unsigned long long)counts[i], (unsigned long long)total, free_pages);

	anon = mmap(NULL, 5 * page_size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	madvise((void *)anon, 5 * page_size, MADV_NOHUGEPAGE);
	locked = anon + page_size;
	zero = anon + 2 * page_size;
	anon[0] = 1;
	locked[0] = 1;
	/* Read faults map the shared zero page: the same PFN at two places. */
	(void)zero[0];
	(void)zero[2 * page_size];
	have_zero = pfn_at((const void *)zero) &&
		    pfn_at((const void *)zero) == pfn_at((const void *)(zero + 2 * page_size));
	if (mlock((void *)locked, page_size))
		ksft_exit_fail_msg("mlock: %s\n", strerror(errno));

	thp = aligned_thp_range();
	hzero = aligned_thp_range();
	hzero2 = aligned_thp_range();
	if (!thp || !hzero || !hzero2)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset((void *)thp, 2, THP_SIZE);
	/* Read faults map the huge zero page if it can: one block, twice. */
	(void)hzero[0];
	(void)hzero2[0];
	have_thp = one_huge_block(thp);
	have_hzero = one_huge_block(hzero) &&
		     pfn_at((const void *)hzero) == pfn_at((const void *)hzero2);
	ksm_state = ksm_page(&ksm, ksm_why, sizeof(ksm_why));

	/* lru_add_drain_all(): every page made above is on its LRU list now. */
	if (mmg_write_file("/proc/sys/vm/drop_caches", "1"))
		ksft_exit_fail_msg("drop_caches: %s\n", strerror(errno));

	expect("a written anonymous page", anon,
	       BIT(KPF_MMAP) | BIT(KPF_ANON) | BIT(KPF_UPTODATE) | BIT(KPF_SWAPBACKED) | BIT(KPF_LRU),
	       NEVER | BIT(KPF_COMPOUND_HEAD) | BIT(KPF_COMPOUND_TAIL) | BIT(KPF_THP) |
	       BIT(KPF_ZERO_PAGE) | BIT(KPF_MLOCKED) | BIT(KPF_UNEVICTABLE));
	expect("an mlocked anonymous page", locked,
	       BIT(KPF_MMAP) | BIT(KPF_ANON) | BIT(KPF_UPTODATE) | BIT(KPF_SWAPBACKED) |
	       BIT(KPF_LRU) | BIT(KPF_MLOCKED) | BIT(KPF_UNEVICTABLE),
	       NEVER | BIT(KPF_COMPOUND_HEAD) | BIT(KPF_COMPOUND_TAIL) | BIT(KPF_THP) |
	       BIT(KPF_ZERO_PAGE));
	/* The shared zero page lies in the kernel image: KPF_RESERVED too. */
	if (!have_zero)
		ksft_test_result_skip("the zero page: read faults got their own pages\n");
	else
		expect("a read-only anonymous page (the zero page)", zero,
		       BIT(KPF_ZERO_PAGE),
		       (NEVER & ~BIT(KPF_RESERVED)) | BIT(KPF_ANON) | BIT(KPF_MMAP) | BIT(KPF_THP) |
		       BIT(KPF_COMPOUND_HEAD) | BIT(KPF_LRU));

	if (!have_thp) {
		ksft_test_result_skip("head of an anonymous THP: no THP came\n");
		ksft_test_result_skip("tail of an anonymous THP: no THP came\n");
	} else {
		expect("head of an anonymous THP", thp,
		       BIT(KPF_MMAP) | BIT(KPF_ANON) | BIT(KPF_THP) | BIT(KPF_COMPOUND_HEAD) |
		       BIT(KPF_UPTODATE) | BIT(KPF_SWAPBACKED) | BIT(KPF_LRU),
		       NEVER | BIT(KPF_COMPOUND_TAIL) | BIT(KPF_ZERO_PAGE) | BIT(KPF_MLOCKED));
		expect("tail of an anonymous THP", thp + 5 * page_size,
		       BIT(KPF_MMAP) | BIT(KPF_ANON) | BIT(KPF_THP) | BIT(KPF_COMPOUND_TAIL),
		       NEVER | BIT(KPF_COMPOUND_HEAD) | BIT(KPF_ZERO_PAGE));
	}

	/* The huge zero page is compound, but neither anonymous nor on an LRU. */
	if (!have_hzero)
		ksft_test_result_skip("the huge zero page: not mapped (use_zero_page %ld)\n",
				      mmg_read_long("/sys/kernel/mm/transparent_hugepage/use_zero_page", 10));
	else
		expect("the huge zero page", hzero,
		       BIT(KPF_ZERO_PAGE) | BIT(KPF_THP) | BIT(KPF_COMPOUND_HEAD),
		       NEVER | BIT(KPF_ANON) | BIT(KPF_MMAP) | BIT(KPF_LRU) | BIT(KPF_COMPOUND_TAIL));

	/* A KSM page is anonymous and mapped, KPF_KSM, and order 0. */
	if (ksm_state > 0)
		ksft_test_result_skip("a KSM page: %s\n", ksm_why);
	else if (ksm_state < 0)
		ksft_test_result_fail("a KSM page: %s\n", ksm_why);
	else
		expect("a KSM page", ksm, BIT(KPF_KSM) | BIT(KPF_ANON) | BIT(KPF_MMAP),
		       (NEVER & ~BIT(KPF_KSM)) | BIT(KPF_COMPOUND_HEAD) | BIT(KPF_COMPOUND_TAIL) |
		       BIT(KPF_THP) | BIT(KPF_ZERO_PAGE));
	close(pagemap_fd);
	close(kflags_fd);
	ksft_finished();
}
