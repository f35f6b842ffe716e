// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard_isolation: isolating pageblocks and undoing it must give each
 * block back its own migratetype, and keep the free-page counters exact.
 *
 * Memory offline and alloc_contig_range() isolate a range of pageblocks
 * (start_isolate_page_range()) and, when they give up, undo it with the
 * migratetype the caller passes: memory offline passes MIGRATE_MOVABLE for
 * every block. A block that was MIGRATE_UNMOVABLE before must not come
 * back MOVABLE: that would let unmovable pages sit in a block the
 * allocator and compaction treat as movable.
 *
 * The fixture builds the state deterministically: one MAX_PAGE_ORDER
 * GFP_KERNEL allocation claims two whole pageblocks A and B for
 * MIGRATE_UNMOVABLE (a fallback that takes whole blocks converts them);
 * the pages of A are freed back to the buddy allocator, the pages of B are
 * kept, so B holds unmovable pages and A is an UNMOVABLE block with nothing
 * in it. Then:
 *  - isolating A alone and undoing it with MIGRATE_MOVABLE (what a failed
 *    offline does) must leave A UNMOVABLE;
 *  - isolating A+B fails at B; the rollback of A must leave A UNMOVABLE.
 * After each step every zone is audited (mmguard_audit.h).
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/page-isolation.h>

#include "../internal.h"
#include "mmguard_audit.h"

struct mmguard_iso_ctx {
	struct page *chunk;		/* MAX_PAGE_ORDER pages, split */
	unsigned long pfn_a, pfn_b;	/* the two pageblocks */
	bool a_freed;
};

static const char *mmguard_iso_mt_name(int mt)
{
	return mt < MIGRATE_TYPES ? migratetype_names[mt] : "?";
}

static void mmguard_iso_release(void *arg)
{
	struct mmguard_iso_ctx *ctx = arg;
	unsigned long i, first = ctx->a_freed ? pageblock_nr_pages : 0;

	for (i = first; i < MAX_ORDER_NR_PAGES; i++)
		__free_page(ctx->chunk + i);
}

/* Two pageblocks of type UNMOVABLE: A empty, B full of unmovable pages. */
static int mmguard_iso_init(struct kunit *test)
{
	struct mmguard_iso_ctx *ctx;
	unsigned long i;
	int mt_a, mt_b;

	if (pageblock_order >= MAX_PAGE_ORDER)
		kunit_skip(test, "needs two pageblocks in one MAX_PAGE_ORDER block");

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->chunk = alloc_pages(GFP_KERNEL | __GFP_NOWARN, MAX_PAGE_ORDER);
	if (!ctx->chunk)
		kunit_skip(test, "no free order-%d block", MAX_PAGE_ORDER);
	split_page(ctx->chunk, MAX_PAGE_ORDER);
	if (kunit_add_action_or_reset(test, mmguard_iso_release, ctx))
		return -ENOMEM;
	ctx->pfn_a = page_to_pfn(ctx->chunk);
	ctx->pfn_b = ctx->pfn_a + pageblock_nr_pages;

	mt_a = get_pageblock_migratetype(pfn_to_page(ctx->pfn_a));
	mt_b = get_pageblock_migratetype(pfn_to_page(ctx->pfn_b));
	if (mt_a != MIGRATE_UNMOVABLE || mt_b != MIGRATE_UNMOVABLE)
		kunit_skip(test, "the order-%d block came as %s+%s, not Unmovable",
			   MAX_PAGE_ORDER, mmguard_iso_mt_name(mt_a),
			   mmguard_iso_mt_name(mt_b));

	for (i = 0; i < pageblock_nr_pages; i++)
		__free_page(ctx->chunk + i);
	ctx->a_freed = true;
	/* Out of the pcp lists into the buddy allocator, so A can isolate. */
	drain_all_pages(page_zone(ctx->chunk));
	test->priv = ctx;
	return 0;
}

static void mmguard_expect_block_type(struct kunit *test, unsigned long pfn,
				      int want, const char *when)
{
	int mt = get_pageblock_migratetype(pfn_to_page(pfn));

	KUNIT_EXPECT_EQ_MSG(test, mt, want,
			    "%s: pageblock at pfn %#lx is %s, it was %s before the isolation",
			    when, pfn, mmguard_iso_mt_name(mt),
			    mmguard_iso_mt_name(want));
}

/* zone->nr_isolate_pageblock, read under the zone's lock. */
static unsigned long mmguard_nr_isolated_blocks(struct zone *zone)
{
	unsigned long flags, n;

	spin_lock_irqsave(&zone->lock, flags);
	n = zone->nr_isolate_pageblock;
	spin_unlock_irqrestore(&zone->lock, flags);
	return n;
}

/* What a failed memory offline does after isolating every block. */
static void mmguard_undo_isolation_restores_own_type(struct kunit *test)
{
	struct mmguard_iso_ctx *ctx = test->priv;
	struct zone *zone = page_zone(ctx->chunk);
	unsigned long end = ctx->pfn_a + pageblock_nr_pages;
	unsigned long isolated = mmguard_nr_isolated_blocks(zone);
	int ret;

	ret = start_isolate_page_range(ctx->pfn_a, end, MIGRATE_MOVABLE, 0,
				       GFP_KERNEL);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "isolating the empty block A failed");
	mmguard_expect_block_type(test, ctx->pfn_a, MIGRATE_ISOLATE,
				  "while isolated");
	KUNIT_EXPECT_EQ_MSG(test, mmguard_nr_isolated_blocks(zone), isolated + 1,
			    "nr_isolate_pageblock with A isolated");
	mmguard_audit_all_zones(test, "with A isolated");

	undo_isolate_page_range(ctx->pfn_a, end, MIGRATE_MOVABLE);
	mmguard_expect_block_type(test, ctx->pfn_a, MIGRATE_UNMOVABLE,
				  "after undo_isolate_page_range(MOVABLE)");
	/* Left high, every free takes the isolation slow path for good. */
	KUNIT_EXPECT_EQ_MSG(test, mmguard_nr_isolated_blocks(zone), isolated,
			    "nr_isolate_pageblock after the undo");
	mmguard_audit_all_zones(test, "after the undo");
}

/* start_isolate_page_range() rolls back A when B cannot be isolated. */
static void mmguard_failed_isolation_restores_own_type(struct kunit *test)
{
	struct mmguard_iso_ctx *ctx = test->priv;
	int ret;

	ret = start_isolate_page_range(ctx->pfn_a,
				       ctx->pfn_b + pageblock_nr_pages,
				       MIGRATE_MOVABLE, 0, GFP_KERNEL);
	KUNIT_ASSERT_EQ_MSG(test, ret, -EBUSY,
			    "isolating A+B should fail at B, which holds unmovable pages");
	mmguard_expect_block_type(test, ctx->pfn_a, MIGRATE_UNMOVABLE,
				  "after the failed start_isolate_page_range(MOVABLE)");
	mmguard_expect_block_type(test, ctx->pfn_b, MIGRATE_UNMOVABLE,
				  "block B, never isolated");
}

/* A second isolation of the same block must not see a stale saved type. */
static void mmguard_isolation_twice_restores_own_type(struct kunit *test)
{
	struct mmguard_iso_ctx *ctx = test->priv;
	unsigned long end = ctx->pfn_a + pageblock_nr_pages;
	int round;

	for (round = 0; round < 2; round++) {
		KUNIT_ASSERT_EQ(test, start_isolate_page_range(ctx->pfn_a, end,
							       MIGRATE_MOVABLE, 0,
							       GFP_KERNEL), 0);
		undo_isolate_page_range(ctx->pfn_a, end, MIGRATE_MOVABLE);
		mmguard_expect_block_type(test, ctx->pfn_a, MIGRATE_UNMOVABLE,
					  round ? "after the second undo" :
						  "after the first undo");
	}
}

/*
 * Isolating a block that is already isolated is refused with -EBUSY (the
 * failure path of set_migratetype_isolate() no other suite reached): the
 * block stays isolated, the refused call must not replace the type it saved
 * for the undo, and one undo gives it back.
 */
static void mmguard_isolating_an_isolated_block_is_refused(struct kunit *test)
{
	struct mmguard_iso_ctx *ctx = test->priv;
	unsigned long end = ctx->pfn_a + pageblock_nr_pages;
	int ret;

	KUNIT_ASSERT_EQ(test, start_isolate_page_range(ctx->pfn_a, end,
						       MIGRATE_MOVABLE, 0,
						       GFP_KERNEL), 0);
	ret = start_isolate_page_range(ctx->pfn_a, end, MIGRATE_MOVABLE, 0,
				       GFP_KERNEL);
	KUNIT_EXPECT_EQ_MSG(test, ret, -EBUSY,
			    "isolating the isolated block A again");
	mmguard_expect_block_type(test, ctx->pfn_a, MIGRATE_ISOLATE,
				  "after the refused second isolation");
	mmguard_audit_all_zones(test, "after the refused second isolation");

	undo_isolate_page_range(ctx->pfn_a, end, MIGRATE_MOVABLE);
	mmguard_expect_block_type(test, ctx->pfn_a, MIGRATE_UNMOVABLE,
				  "after the one undo");
	mmguard_audit_all_zones(test, "after the undo");
}

static struct kunit_case mmguard_isolation_cases[] = {
	KUNIT_CASE(mmguard_undo_isolation_restores_own_type),
	KUNIT_CASE(mmguard_failed_isolation_restores_own_type),
	KUNIT_CASE(mmguard_isolation_twice_restores_own_type),
	KUNIT_CASE(mmguard_isolating_an_isolated_block_is_refused),
	{}
};

static struct kunit_suite mmguard_isolation_suite = {
	.name = "mmguard_isolation",
	.init = mmguard_iso_init,
	.exit = mmguard_audit_exit,
	.test_cases = mmguard_isolation_cases,
};

kunit_test_suite(mmguard_isolation_suite);

MODULE_DESCRIPTION("mmguard: KUnit tests of pageblock isolation and its undo");
MODULE_LICENSE("GPL");
