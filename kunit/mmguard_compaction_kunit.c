// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard_compaction: what the migrate scanner records about a pageblock
 * it has scanned, by calling isolate_migratepages_range() (the scanner of
 * compaction and alloc_contig_range()) on a block whose content the test
 * chose:
 *  - a block holding one THP, isolated whole for alloc_contig: the folio
 *    is isolated and each of the block's PFNs counts once as scanned
 *    (cc->total_migrate_scanned feeds compact_migrate_scanned and the
 *    scan-rate heuristics; a large folio must not count as one page);
 *  - a block of the test's own unmovable pages, where nothing can be
 *    isolated: the scan marks the block for skipping (PB_migrate_skip),
 *    and a second scan that honours the hint stops at its first PFN.
 *
 * The THP lives in an address space of the test's own (kunit_vm_mmap()),
 * so no other task maps it.  Skipped, saying why, when no THP is faulted
 * in or no free pageblock can be allocated.
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/migrate.h>
#include <linux/pageblock-flags.h>

#include "../internal.h"
#include "mmguard_audit.h"
#include "mmguard_thp.h"

/*
 * A compact_control for isolate_migratepages_range() calls; the caller
 * initialises cc.migratepages (a list head cannot be copied).
 * alloc_contig_range() neither reads nor writes the skip hints.
 */
static struct compact_control mmguard_cc(struct zone *zone, bool alloc_contig)
{
	struct compact_control cc = {
		.zone = zone,
		.order = -1,
		.gfp_mask = GFP_KERNEL,
		.mode = MIGRATE_SYNC,
		.alloc_contig = alloc_contig,
		.ignore_skip_hint = alloc_contig,
		.no_set_skip_hint = alloc_contig,
	};

	return cc;
}

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/* Fault a THP into a mapping of the test's own; its head PFN. */
static unsigned long mmguard_cp_fault_thp(struct kunit *test)
{
	unsigned long addr;
	struct page *page = mmguard_fault_thp(test, &addr);
	unsigned long pfn = page_to_pfn(page);

	/* The scanner skips a folio with references beyond its mappings. */
	put_page(page);
	return pfn;
}

static void mmguard_scan_counts_every_page_of_an_isolated_thp(struct kunit *test)
{
	unsigned long pfn = mmguard_cp_fault_thp(test);
	struct folio *folio = pfn_folio(pfn);
	struct compact_control cc = mmguard_cc(folio_zone(folio), true);
	int ret;

	INIT_LIST_HEAD(&cc.migratepages);
	ret = isolate_migratepages_range(&cc, pfn, pfn + HPAGE_PMD_NR);
	if (ret) {
		putback_movable_pages(&cc.migratepages);
		KUNIT_FAIL(test, "isolate_migratepages_range(): %d", ret);
		return;
	}
	if (cc.nr_migratepages &&
	    list_first_entry(&cc.migratepages, struct folio, lru) != folio) {
		putback_movable_pages(&cc.migratepages);
		kunit_skip(test, "the THP at pfn %#lx moved before the scan",
			   pfn);
	}
	KUNIT_EXPECT_EQ_MSG(test, cc.nr_migratepages, HPAGE_PMD_NR,
			    "pages isolated from the THP's block");
	KUNIT_EXPECT_EQ_MSG(test, cc.total_migrate_scanned, HPAGE_PMD_NR,
			    "pages counted as scanned in a block of %u pages, isolated whole",
			    HPAGE_PMD_NR);
	putback_movable_pages(&cc.migratepages);
}
#endif

static void mmguard_free_block(void *page)
{
	__free_pages(page, pageblock_order);
}

/* Scan the pageblock at @page twice: the first scan marks it, the second stops. */
static void mmguard_scan_unmovable_block(struct kunit *test, struct page *page)
{
	struct compact_control cc = mmguard_cc(page_zone(page), false);
	unsigned long pfn = page_to_pfn(page), scanned;
	int ret;

	INIT_LIST_HEAD(&cc.migratepages);
	ret = isolate_migratepages_range(&cc, pfn, pfn + pageblock_nr_pages);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "isolate_migratepages_range()");
	KUNIT_EXPECT_EQ_MSG(test, cc.nr_migratepages, 0,
			    "pages isolated from a block of unmovable pages");
	KUNIT_EXPECT_EQ_MSG(test, cc.total_migrate_scanned, pageblock_nr_pages,
			    "pages counted as scanned in a block of %lu pages",
			    pageblock_nr_pages);
	KUNIT_EXPECT_TRUE_MSG(test, get_pageblock_skip(page),
			      "a block with nothing to isolate is not marked for skipping");

	/* The hint holds: the next scan stops at the block's first PFN. */
	scanned = cc.total_migrate_scanned;
	ret = isolate_migratepages_range(&cc, pfn, pfn + pageblock_nr_pages);
	KUNIT_EXPECT_EQ_MSG(test, ret, 0, "isolate_migratepages_range() again");
	KUNIT_EXPECT_EQ_MSG(test, cc.total_migrate_scanned - scanned, 1,
			    "pages scanned in a block marked for skipping");
	putback_movable_pages(&cc.migratepages);
}

static void mmguard_scan_marks_a_block_with_nothing_to_isolate(struct kunit *test)
{
	struct page *page = alloc_pages(GFP_KERNEL | __GFP_NOWARN,
					pageblock_order);
	bool was_skip;
	int ret;

	if (!page)
		kunit_skip(test, "no free pageblock (order %d)", pageblock_order);
	ret = kunit_add_action_or_reset(test, mmguard_free_block, page);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_TRUE(test, pageblock_aligned(page_to_pfn(page)));

	was_skip = get_pageblock_skip(page);
	clear_pageblock_skip(page);
	mmguard_scan_unmovable_block(test, page);
	if (!was_skip)
		clear_pageblock_skip(page);
}

static struct kunit_case mmguard_compaction_cases[] = {
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	KUNIT_CASE(mmguard_scan_counts_every_page_of_an_isolated_thp),
#endif
	KUNIT_CASE(mmguard_scan_marks_a_block_with_nothing_to_isolate),
	{}
};

static struct kunit_suite mmguard_compaction_suite = {
	.name = "mmguard_compaction",
	.exit = mmguard_audit_exit,
	.test_cases = mmguard_compaction_cases,
};

kunit_test_suite(mmguard_compaction_suite);

MODULE_DESCRIPTION("mmguard: KUnit tests of the compaction migrate scanner");
MODULE_LICENSE("GPL");
