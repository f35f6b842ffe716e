// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard_thp_mapcount: the exact mapcounts of an anonymous THP in a user
 * address space of the test's own (kunit_vm_mmap()), where no other task
 * can map or unmap it, through a PMD fault, a one-page munmap (the PMD is
 * split), an MADV_DONTNEED of 16 pages and the unmap of the rest.
 *
 * Userspace sees only per-page sums (/proc/kpagecount); here the folio's
 * own counters are compared with what the mappings are: _large_mapcount
 * (all mappings), _entire_mapcount (PMD mappings), _nr_pages_mapped (pages
 * with a PTE mapping, plus ENTIRELY_MAPPED per PMD mapping) and every
 * page's _mapcount. The test holds a folio reference throughout, so the
 * folio is neither freed nor split under it.
 *
 * A freeze split (split_folio() of the PMD-mapped THP: the PMD becomes 512
 * migration entries in the page table deposited with it, then 512 PTEs)
 * must write that page table and nothing after it: the test deposits a
 * table of its own, followed by a zeroed guard page, and reads the guard
 * after the split (a one-entry overrun is silent otherwise: the split
 * checks only that each entry it writes was empty).
 *
 * Skipped, saying why, when no THP is faulted in (THP disabled, no
 * contiguous 2 MiB free).
 */
#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pgtable.h>
#include <linux/pgalloc.h>

#include "../internal.h"
#include "mmguard_thp.h"

struct mmguard_thp {
	unsigned long addr;	/* PMD-aligned start of the THP's mapping */
	struct folio *folio;
	struct page *head;
};

/* Raw per-page mapcount: -1 unmapped, n - 1 for n PTE mappings. */
static int raw_page_mapcount(struct mmguard_thp *t, int i)
{
	return atomic_read(&t->head[i]._mapcount);
}

/* Page i's raw _mapcount: 0 (one PTE) iff mapped[i], else -1 (NULL: none). */
static void expect_page_mapcounts(struct kunit *test, struct mmguard_thp *t,
				  const bool *mapped)
{
	int i, bad = -1;

	for (i = 0; i < HPAGE_PMD_NR; i++) {
		int want = (mapped && mapped[i]) ? 0 : -1;

		if (raw_page_mapcount(t, i) != want) {
			bad = i;
			break;
		}
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, -1, "page %d raw mapcount %d", bad,
			    bad < 0 ? 0 : raw_page_mapcount(t, bad));
}

/*
 * The folio's counters must say: @ptes PTE mappings over @pte_pages
 * distinct pages (each page at most once here), @pmds PMD mappings, and
 * page i PTE-mapped iff mapped[i] (NULL: per @pmds only, no PTEs).
 */
static void expect_counts(struct kunit *test, struct mmguard_thp *t,
			  int pmds, int ptes, const bool *mapped)
{
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&t->folio->_large_mapcount) + 1,
			    pmds + ptes, "large mapcount");
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&t->folio->_entire_mapcount) + 1,
			    pmds, "entire mapcount");
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&t->folio->_nr_pages_mapped),
			    pmds * ENTIRELY_MAPPED + ptes, "nr_pages_mapped");
	expect_page_mapcounts(test, t, mapped);
}

/* A THP of the test's own, with a reference. */
static void fault_thp(struct kunit *test, struct mmguard_thp *t)
{
	t->head = mmguard_fault_thp(test, &t->addr);
	t->folio = page_folio(t->head);
}

static void mmguard_thp_pmd_mapped(struct kunit *test)
{
	struct mmguard_thp t;

	fault_thp(test, &t);
	expect_counts(test, &t, 1, 0, NULL);
	KUNIT_EXPECT_EQ(test, vm_munmap(t.addr, HPAGE_PMD_SIZE), 0);
	expect_counts(test, &t, 0, 0, NULL);
	folio_put(t.folio);
}

static void mmguard_thp_split_and_unmap(struct kunit *test)
{
	bool *mapped = kunit_kcalloc(test, HPAGE_PMD_NR, sizeof(*mapped),
				     GFP_KERNEL);
	struct mmguard_thp t;
	int i, ptes;

	KUNIT_ASSERT_NOT_NULL(test, mapped);
	fault_thp(test, &t);

	/* One page unmapped: the PMD is split into 511 PTE mappings. */
	KUNIT_EXPECT_EQ(test, vm_munmap(t.addr + PAGE_SIZE, PAGE_SIZE), 0);
	for (i = 0; i < HPAGE_PMD_NR; i++)
		mapped[i] = i != 1;
	expect_counts(test, &t, 0, HPAGE_PMD_NR - 1, mapped);
	KUNIT_EXPECT_TRUE(test, folio_test_partially_mapped(t.folio));

	/* 16 more dropped by MADV_DONTNEED (a batch of PTEs). */
	KUNIT_EXPECT_EQ(test, do_madvise(current->mm, t.addr + 64 * PAGE_SIZE,
					 16 * PAGE_SIZE, MADV_DONTNEED), 0);
	for (i = 64, ptes = HPAGE_PMD_NR - 1; i < 80; i++, ptes--)
		mapped[i] = false;
	expect_counts(test, &t, 0, ptes, mapped);

	/* The rest: nothing maps the folio, the reference keeps it. */
	KUNIT_EXPECT_EQ(test, vm_munmap(t.addr, HPAGE_PMD_SIZE), 0);
	expect_counts(test, &t, 0, 0, NULL);
	folio_put(t.folio);
}

/* Two pages: a PTE table with its constructor run, and the guard after it. */
static struct page *mmguard_table_with_guard(void)
{
	struct page *pair = alloc_pages(GFP_PGTABLE_USER, 1);

	if (!pair)
		return NULL;
	split_page(pair, 1);
	if (!pagetable_pte_ctor(page_ptdesc(pair))) {
		__free_page(pair);
		__free_page(pair + 1);
		return NULL;
	}
	return pair;
}

/* Swap the table deposited with the THP's PMD for @table; false if no PMD. */
static bool mmguard_deposit(struct mm_struct *mm, unsigned long addr,
			    pgtable_t table)
{
	pgtable_t old = NULL;
	spinlock_t *ptl;	/* the PMD's page table lock */
	pmd_t *pmd;

	mmap_read_lock(mm);
	pmd = mm_find_pmd(mm, addr);
	if (pmd) {
		ptl = pmd_lock(mm, pmd);
		if (pmd_trans_huge(*pmd)) {
			old = pgtable_trans_huge_withdraw(mm, pmd);
			pgtable_trans_huge_deposit(mm, pmd, table);
		}
		spin_unlock(ptl);
	}
	mmap_read_unlock(mm);
	if (!old)
		return false;
	pte_free(mm, old);
	return true;
}

static void mmguard_thp_freeze_split_stays_in_its_table(struct kunit *test)
{
	bool *mapped = kunit_kcalloc(test, HPAGE_PMD_NR, sizeof(*mapped),
				     GFP_KERNEL);
	struct page *table, *guard;
	struct mmguard_thp t;
	int i, ret;

	KUNIT_ASSERT_NOT_NULL(test, mapped);
	for (i = 0; i < HPAGE_PMD_NR; i++)
		mapped[i] = true;
	fault_thp(test, &t);
	table = mmguard_table_with_guard();
	if (!table) {
		folio_put(t.folio);
		kunit_skip(test, "no order-1 block for a page table and its guard");
	}
	guard = table + 1;
	if (!mmguard_deposit(current->mm, t.addr, table)) {
		pte_free(current->mm, table);
		__free_page(guard);
		folio_put(t.folio);
		KUNIT_FAIL(test, "the THP at %#lx is not PMD-mapped", t.addr);
		return;
	}

	/* Data in every page: a zero-filled one would be remapped to the zero page. */
	for (i = 0; i < HPAGE_PMD_NR; i++)
		memset(page_address(t.head + i), 0x5a, 8);

	folio_lock(t.folio);
	ret = split_folio(t.folio);
	folio_unlock(t.folio);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "split_folio() of the PMD-mapped THP");
	KUNIT_EXPECT_NULL_MSG(test, memchr_inv(page_address(guard), 0, PAGE_SIZE),
			      "the split wrote past its page table, into the page after it");
	__free_page(guard);
	/* After the split, every page is mapped by one PTE. */
	if (!ret)
		expect_page_mapcounts(test, &t, mapped);
	put_page(t.head);
}

static struct kunit_case mmguard_thp_mapcount_cases[] = {
	KUNIT_CASE(mmguard_thp_pmd_mapped),
	KUNIT_CASE(mmguard_thp_split_and_unmap),
	KUNIT_CASE(mmguard_thp_freeze_split_stays_in_its_table),
	{}
};

static struct kunit_suite mmguard_thp_mapcount_suite = {
	.name = "mmguard_thp_mapcount",
	.test_cases = mmguard_thp_mapcount_cases,
};

kunit_test_suite(mmguard_thp_mapcount_suite);
