// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard_highatomic: the highatomic reserve, reserved and released through
 * the page allocator's own paths, keeps zone->nr_reserved_highatomic equal
 * to the pages of the zone's MIGRATE_HIGHATOMIC pageblocks (audit I5).
 *
 * The reserve is taken by get_page_from_freelist() when a high-order
 * allocation that may not sleep (ALLOC_HIGHATOMIC, slow path only)
 * succeeds, and given back by __alloc_pages_direct_reclaim() when reclaim
 * did not produce a page (unreserve_highatomic_pageblock(ac, false), which
 * keeps the last block).  The cases reach both deterministically by moving
 * the watermarks for a moment (saved and restored by a KUnit action):
 *  - with every zone's low watermark above its free pages, a __GFP_HIGH
 *    high-order allocation fails the fast path and succeeds in the slow
 *    path at the min watermark, so it reserves its block(s);
 *  - with the min watermark above the free pages too, an order-0
 *    __GFP_NORETRY allocation with direct reclaim (and no kswapd) fails,
 *    and on its way out unreserves exactly one reserve unit.  Direct
 *    reclaim unreserves only after it made progress, and a test guest at
 *    boot has nothing on its LRUs, so the suite gives reclaim something to
 *    reclaim: a stash of pages behind a shrinker that frees them (for the
 *    test's own reclaim only) and accounts them with
 *    mm_account_reclaimed_pages(), as shrinkers of non-slab caches do.
 * Neither allocation wakes kswapd.  The window is a single allocation,
 * taken at boot where nothing else allocates much; allocations of other
 * tasks in it take their slow path or fail quietly (none is expected).
 *
 * The reserve units: an order-MAX_PAGE_ORDER allocation converts its
 * 1 << (MAX_PAGE_ORDER - pageblock_order) pageblocks at once (counted as
 * 1 << MAX_PAGE_ORDER pages); an order below pageblock_order converts the
 * one pageblock it came from (pageblock_nr_pages).
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/page-isolation.h>
#include <linux/shrinker.h>
#include <linux/spinlock.h>
#include <linux/swap.h>

#include "../internal.h"
#include "mmguard_audit.h"

/* A high-order allocation that may not sleep or wake kswapd. */
#define MMGUARD_GFP_HIGHATOMIC	(__GFP_HIGH | __GFP_NOWARN)
/* Order-0, direct reclaim once, no kswapd, no retries, no OOM killer. */
#define MMGUARD_GFP_RECLAIM_ONCE \
	(__GFP_DIRECT_RECLAIM | __GFP_IO | __GFP_FS | __GFP_NORETRY | \
	 __GFP_NOWARN)

/* Pageblock units the limit case may reserve (1 % of a zone). */
#define MMGUARD_HA_UNITS	32

/* Order-0, direct reclaim until it gives up, never the OOM killer. */
#define MMGUARD_GFP_RECLAIM_MAYFAIL \
	(__GFP_DIRECT_RECLAIM | __GFP_IO | __GFP_FS | __GFP_RETRY_MAYFAIL | \
	 __GFP_NOWARN)

/* Pages the stash shrinker hands to reclaim; each failed reclaim needs some. */
#define MMGUARD_STASH_PAGES	1024

struct mmguard_ha_ctx {
	unsigned long wmark[MAX_NR_ZONES][NR_WMARK];
	bool moved;
	struct page *big, *small;	/* the reserving allocations */
	struct zone *zone;
	/* order-pageblock_order reserve units, up to the zone's limit */
	struct page *units[MMGUARD_HA_UNITS];
	unsigned int nr_units;

	struct shrinker *shrinker;	/* frees the stash for reclaim */
	struct task_struct *reclaimer;	/* the only task it frees it for */
	spinlock_t stash_lock;
	unsigned int stashed;
	struct page *stash[MMGUARD_STASH_PAGES];
};

static unsigned long mmguard_stash_count(struct shrinker *s,
					 struct shrink_control *sc)
{
	struct mmguard_ha_ctx *ctx = s->private_data;

	if (READ_ONCE(ctx->reclaimer) != current)
		return 0;
	return READ_ONCE(ctx->stashed) ?: SHRINK_EMPTY;
}

static unsigned long mmguard_stash_scan(struct shrinker *s,
					struct shrink_control *sc)
{
	struct mmguard_ha_ctx *ctx = s->private_data;
	unsigned long freed = 0;

	if (READ_ONCE(ctx->reclaimer) != current)
		return SHRINK_STOP;
	spin_lock(&ctx->stash_lock);
	while (freed < sc->nr_to_scan && ctx->stashed) {
		__free_page(ctx->stash[--ctx->stashed]);
		freed++;
	}
	spin_unlock(&ctx->stash_lock);
	mm_account_reclaimed_pages(freed);
	return freed ?: SHRINK_STOP;
}

static void mmguard_stash_free(struct mmguard_ha_ctx *ctx)
{
	if (ctx->shrinker)
		shrinker_free(ctx->shrinker);
	ctx->shrinker = NULL;
	while (ctx->stashed)
		__free_page(ctx->stash[--ctx->stashed]);
}

/* Fill the stash up again: each failed reclaim takes some of it. */
static int mmguard_stash_top_up(struct mmguard_ha_ctx *ctx)
{
	for (;;) {
		struct page *page = alloc_page(GFP_KERNEL | __GFP_NOWARN);

		if (!page)
			return -ENOMEM;
		spin_lock(&ctx->stash_lock);
		if (ctx->stashed < MMGUARD_STASH_PAGES) {
			ctx->stash[ctx->stashed++] = page;
			page = NULL;
		}
		spin_unlock(&ctx->stash_lock);
		if (page) {
			__free_page(page);
			return 0;
		}
	}
}

static int mmguard_stash_fill(struct mmguard_ha_ctx *ctx)
{
	spin_lock_init(&ctx->stash_lock);
	if (mmguard_stash_top_up(ctx))
		return -ENOMEM;
	ctx->shrinker = shrinker_alloc(0, "mmguard-stash");
	if (!ctx->shrinker)
		return -ENOMEM;
	ctx->shrinker->count_objects = mmguard_stash_count;
	ctx->shrinker->scan_objects = mmguard_stash_scan;
	ctx->shrinker->seeks = 1;
	ctx->shrinker->private_data = ctx;
	shrinker_register(ctx->shrinker);
	return 0;
}

static void mmguard_ha_restore_wmarks(struct mmguard_ha_ctx *ctx)
{
	struct zone *zone;

	if (!ctx->moved)
		return;
	for_each_populated_zone(zone) {
		enum zone_watermarks w;

		for (w = 0; w < NR_WMARK; w++)
			WRITE_ONCE(zone->_watermark[w],
				   ctx->wmark[zone_idx(zone)][w]);
	}
	ctx->moved = false;
}

/* Put the watermarks from @from up to WMARK_HIGH above any free count. */
static void mmguard_ha_raise_wmarks(struct mmguard_ha_ctx *ctx,
				    enum zone_watermarks from)
{
	struct zone *zone;

	for_each_populated_zone(zone) {
		unsigned long above = 2 * zone_managed_pages(zone);
		enum zone_watermarks w;

		for (w = 0; w < NR_WMARK; w++) {
			if (!ctx->moved)
				ctx->wmark[zone_idx(zone)][w] =
					zone->_watermark[w];
			if (w >= from)
				WRITE_ONCE(zone->_watermark[w], above);
		}
	}
	ctx->moved = true;
}

static void mmguard_ha_cleanup(void *arg)
{
	struct mmguard_ha_ctx *ctx = arg;

	mmguard_ha_restore_wmarks(ctx);
	mmguard_stash_free(ctx);
	if (ctx->big)
		__free_pages(ctx->big, MAX_PAGE_ORDER);
	if (ctx->small)
		__free_pages(ctx->small, pageblock_order - 1);
	ctx->big = NULL;
	ctx->small = NULL;
	while (ctx->nr_units)
		__free_pages(ctx->units[--ctx->nr_units], pageblock_order);
}

/* Allocate with ALLOC_HIGHATOMIC through the slow path. */
static struct page *mmguard_ha_alloc(struct mmguard_ha_ctx *ctx,
				     unsigned int order)
{
	struct page *page;

	mmguard_ha_raise_wmarks(ctx, WMARK_LOW);
	page = alloc_pages(MMGUARD_GFP_HIGHATOMIC, order);
	mmguard_ha_restore_wmarks(ctx);
	return page;
}

/* An order-0 @gfp allocation with the min watermark above the free pages fails. */
static void mmguard_ha_fail_above_min(struct kunit *test,
				      struct mmguard_ha_ctx *ctx, gfp_t gfp)
{
	struct page *page;

	mmguard_ha_raise_wmarks(ctx, WMARK_MIN);
	page = alloc_pages(gfp, 0);
	mmguard_ha_restore_wmarks(ctx);
	if (page)
		__free_page(page);
	KUNIT_EXPECT_NULL_MSG(test, page,
			      "an order-0 allocation above the min watermark succeeded");
}

/*
 * Fail one allocation after direct reclaim; it unreserves one unit.  The
 * stash is freed only for this task's own reclaim: kswapd, woken by an
 * allocation of another task while the watermarks are up, must not take
 * it, or this reclaim would make no progress and skip the unreserve.
 */
static void mmguard_ha_fail_reclaim(struct kunit *test,
				    struct mmguard_ha_ctx *ctx)
{
	KUNIT_ASSERT_EQ_MSG(test, mmguard_stash_top_up(ctx), 0,
			    "no pages to fill the reclaim stash with");
	WRITE_ONCE(ctx->reclaimer, current);
	mmguard_ha_fail_above_min(test, ctx, MMGUARD_GFP_RECLAIM_ONCE);
	WRITE_ONCE(ctx->reclaimer, NULL);
	KUNIT_EXPECT_LT_MSG(test, READ_ONCE(ctx->stashed), MMGUARD_STASH_PAGES,
			    "direct reclaim did not reclaim from the stash");
}

static unsigned long mmguard_ha_reserved(struct zone *zone)
{
	return READ_ONCE(zone->nr_reserved_highatomic);
}

static void mmguard_ha_expect_types(struct kunit *test, struct page *page,
				    unsigned int order, int want,
				    const char *when)
{
	unsigned long pfn = page_to_pfn(page);
	unsigned long end = pfn + (1UL << order);

	pfn = ALIGN_DOWN(pfn, pageblock_nr_pages);
	for (; pfn < end; pfn += pageblock_nr_pages) {
		int mt = get_pageblock_migratetype(pfn_to_page(pfn));

		KUNIT_EXPECT_EQ_MSG(test, mt, want,
				    "%s: pageblock at pfn %#lx is %s, not %s",
				    when, pfn, migratetype_names[mt],
				    migratetype_names[want]);
	}
}

static void mmguard_ha_expect_reserved(struct kunit *test, struct zone *zone,
				       unsigned long want, const char *when)
{
	KUNIT_EXPECT_EQ_MSG(test, mmguard_ha_reserved(zone), want,
			    "%s: zone %s nr_reserved_highatomic", when,
			    zone->name);
	mmguard_audit_all_zones(test, when);
}

static int mmguard_ha_init(struct kunit *test)
{
	struct mmguard_ha_ctx *ctx;
	struct zone *zone;

	if (pageblock_order >= MAX_PAGE_ORDER)
		kunit_skip(test, "needs multi-pageblock MAX_PAGE_ORDER blocks");
	for_each_populated_zone(zone)
		if (mmguard_ha_reserved(zone))
			kunit_skip(test, "zone %s already holds a highatomic reserve of %lu pages",
				   zone->name, mmguard_ha_reserved(zone));

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	if (kunit_add_action_or_reset(test, mmguard_ha_cleanup, ctx))
		return -ENOMEM;
	if (mmguard_stash_fill(ctx))
		return -ENOMEM;
	test->priv = ctx;
	return 0;
}

/* Reserve a MAX_PAGE_ORDER unit and a pageblock unit; 0 on success. */
static int mmguard_ha_reserve_two(struct kunit *test,
				  struct mmguard_ha_ctx *ctx)
{
	unsigned long max_managed;

	ctx->big = mmguard_ha_alloc(ctx, MAX_PAGE_ORDER);
	if (!ctx->big) {
		kunit_skip(test, "no order-%d page for a __GFP_HIGH allocation",
			   MAX_PAGE_ORDER);
		return -ENOMEM;
	}
	ctx->zone = page_zone(ctx->big);
	max_managed = ALIGN(zone_managed_pages(ctx->zone) / 100,
			    pageblock_nr_pages);
	if (max_managed < MAX_ORDER_NR_PAGES + pageblock_nr_pages) {
		kunit_skip(test, "zone %s may reserve only %lu pages",
			   ctx->zone->name, max_managed);
		return -ENOSPC;
	}
	mmguard_ha_expect_types(test, ctx->big, MAX_PAGE_ORDER,
				MIGRATE_HIGHATOMIC, "after the order-MAX reserve");
	KUNIT_EXPECT_EQ_MSG(test, mmguard_ha_reserved(ctx->zone),
			    MAX_ORDER_NR_PAGES,
			    "an order-%d __GFP_HIGH allocation reserves its %lu pageblocks",
			    MAX_PAGE_ORDER,
			    MAX_ORDER_NR_PAGES / pageblock_nr_pages);

	/* The MAX unit has no free page left: this one takes a new block. */
	ctx->small = mmguard_ha_alloc(ctx, pageblock_order - 1);
	KUNIT_ASSERT_NOT_NULL(test, ctx->small);
	KUNIT_ASSERT_PTR_EQ_MSG(test, page_zone(ctx->small), ctx->zone,
				"both reserving allocations must come from one zone");
	mmguard_ha_expect_types(test, ctx->small, pageblock_order - 1,
				MIGRATE_HIGHATOMIC, "after the pageblock reserve");
	mmguard_ha_expect_reserved(test, ctx->zone,
				   MAX_ORDER_NR_PAGES + pageblock_nr_pages,
				   "with two reserve units allocated");

	__free_pages(ctx->big, MAX_PAGE_ORDER);
	__free_pages(ctx->small, pageblock_order - 1);
	ctx->big = NULL;
	ctx->small = NULL;
	mmguard_ha_expect_reserved(test, ctx->zone,
				   MAX_ORDER_NR_PAGES + pageblock_nr_pages,
				   "with both units freed");
	return 0;
}

/*
 * Each failed direct reclaim gives back one unit, the lowest-order free
 * highatomic page's: the pageblock unit (its free pages are below
 * MAX_PAGE_ORDER), then the MAX_PAGE_ORDER unit; then nothing, as it
 * would leave the zone without a reserve only under force.
 */
static void mmguard_reserve_and_release_through_the_allocator(struct kunit *test)
{
	struct mmguard_ha_ctx *ctx = test->priv;

	if (mmguard_ha_reserve_two(test, ctx))
		return;

	mmguard_ha_fail_reclaim(test, ctx);
	mmguard_ha_expect_reserved(test, ctx->zone, MAX_ORDER_NR_PAGES,
				   "after the first failed reclaim");
	mmguard_ha_fail_reclaim(test, ctx);
	mmguard_ha_expect_reserved(test, ctx->zone, 0,
				   "after the second failed reclaim");
	mmguard_ha_fail_reclaim(test, ctx);
	mmguard_ha_expect_reserved(test, ctx->zone, 0,
				   "after the third failed reclaim");
}

/*
 * A unit that is partly allocated again is given back block-wise: the
 * allocation from the reserve reserves nothing more (its block is
 * already HighAtomic), and the failed reclaim finds the unit's free half
 * below pageblock order, moves the block's free pages to the reclaimer's
 * type and gives the block to it, allocated half and all.
 */
static void mmguard_partly_used_reserve_goes_back_by_block(struct kunit *test)
{
	struct mmguard_ha_ctx *ctx = test->priv;

	if (mmguard_ha_reserve_two(test, ctx))
		return;

	/* The smallest free reserve page is the pageblock unit's. */
	ctx->small = mmguard_ha_alloc(ctx, pageblock_order - 1);
	KUNIT_ASSERT_NOT_NULL(test, ctx->small);
	mmguard_ha_expect_types(test, ctx->small, pageblock_order - 1,
				MIGRATE_HIGHATOMIC, "allocated from the reserve");
	mmguard_ha_expect_reserved(test, ctx->zone,
				   MAX_ORDER_NR_PAGES + pageblock_nr_pages,
				   "after an allocation from the reserve");

	mmguard_ha_fail_reclaim(test, ctx);
	mmguard_ha_expect_reserved(test, ctx->zone, MAX_ORDER_NR_PAGES,
				   "after the half-used unit went back");
	/* An order-0 allocation without __GFP_MOVABLE is Unmovable. */
	mmguard_ha_expect_types(test, ctx->small, pageblock_order - 1,
				MIGRATE_UNMOVABLE, "after the half-used unit went back");

	__free_pages(ctx->small, pageblock_order - 1);
	ctx->small = NULL;
	mmguard_ha_fail_reclaim(test, ctx);
	mmguard_ha_expect_reserved(test, ctx->zone, 0,
				   "after the order-MAX unit went back");
}

/*
 * The reserve grows by one unit per reserving allocation up to about 1 %
 * of the zone, and not beyond: the allocation after that is served but
 * its block keeps its own type.  A unit all allocated cannot be given
 * back (a failed reclaim finds no free highatomic page and leaves it).
 * After an order-MAX_PAGE_ORDER unit, the units are single pageblocks
 * (order pageblock_order), so the reserve meets its limit exactly (the
 * limit is a whole number of pageblocks).
 * Every unit goes back, one per failed reclaim, the order-MAX_PAGE_ORDER
 * unit last (reclaim gives back the lowest order first and would keep a
 * last single pageblock).
 */
static void mmguard_reserve_stops_at_its_limit(struct kunit *test)
{
	struct mmguard_ha_ctx *ctx = test->priv;
	unsigned long max_managed, reserved, before;
	struct page *page;
	unsigned int i;

	ctx->big = mmguard_ha_alloc(ctx, MAX_PAGE_ORDER);
	if (!ctx->big)
		kunit_skip(test, "no order-%d page for a __GFP_HIGH allocation",
			   MAX_PAGE_ORDER);
	ctx->zone = page_zone(ctx->big);
	max_managed = ALIGN(zone_managed_pages(ctx->zone) / 100,
			    pageblock_nr_pages);
	if (max_managed <= MAX_ORDER_NR_PAGES ||
	    max_managed >= MAX_ORDER_NR_PAGES + MMGUARD_HA_UNITS * pageblock_nr_pages)
		kunit_skip(test, "zone %s reserves up to %lu pages: not %d to %lu",
			   ctx->zone->name, max_managed, MAX_ORDER_NR_PAGES,
			   MAX_ORDER_NR_PAGES + MMGUARD_HA_UNITS * pageblock_nr_pages);
	mmguard_ha_expect_reserved(test, ctx->zone, MAX_ORDER_NR_PAGES,
				   "after the order-MAX unit");
	/* A unit with no free page cannot go back: reclaim finds none. */
	mmguard_ha_fail_reclaim(test, ctx);
	mmguard_ha_expect_reserved(test, ctx->zone, MAX_ORDER_NR_PAGES,
				   "after a failed reclaim with the unit allocated");
	mmguard_ha_expect_types(test, ctx->big, MAX_PAGE_ORDER,
				MIGRATE_HIGHATOMIC, "with the unit allocated");

	for (;;) {
		page = mmguard_ha_alloc(ctx, pageblock_order);
		if (!page)
			kunit_skip(test, "no order-%d page for reserve unit %u",
				   pageblock_order, ctx->nr_units + 2);
		reserved = mmguard_ha_reserved(ctx->zone);
		if (page_zone(page) != ctx->zone ||
		    !is_migrate_highatomic(get_pageblock_migratetype(page)))
			break;
		ctx->units[ctx->nr_units++] = page;
		KUNIT_ASSERT_EQ_MSG(test, reserved, MAX_ORDER_NR_PAGES +
				    ctx->nr_units * pageblock_nr_pages,
				    "unit %u: zone %s nr_reserved_highatomic",
				    ctx->nr_units + 1, ctx->zone->name);
		KUNIT_ASSERT_LT_MSG(test, ctx->nr_units, MMGUARD_HA_UNITS,
				    "the reserve grew past %lu pages", max_managed);
	}
	/* @page was served but not reserved: the reserve is at its limit. */
	KUNIT_EXPECT_PTR_EQ(test, page_zone(page), ctx->zone);
	__free_pages(page, pageblock_order);
	kunit_info(test, "zone %s: %u units, %lu of at most %lu pages reserved",
		   ctx->zone->name, ctx->nr_units + 1, reserved, max_managed);
	KUNIT_EXPECT_EQ_MSG(test, reserved, max_managed,
			    "zone %s: the reserve stopped off its limit",
			    ctx->zone->name);
	mmguard_ha_expect_reserved(test, ctx->zone, reserved, "at the limit");

	__free_pages(ctx->big, MAX_PAGE_ORDER);
	ctx->big = NULL;
	while (ctx->nr_units)
		__free_pages(ctx->units[--ctx->nr_units], pageblock_order);
	drain_all_pages(ctx->zone);	/* order-pageblock_order frees go to pcp */
	for (i = 0; i <= MMGUARD_HA_UNITS && reserved; i++) {
		before = reserved;
		mmguard_ha_fail_reclaim(test, ctx);
		reserved = mmguard_ha_reserved(ctx->zone);
		KUNIT_EXPECT_LT_MSG(test, reserved, before,
				    "failed reclaim %u gave back nothing", i + 1);
		mmguard_ha_expect_reserved(test, ctx->zone, reserved,
					   "after a unit went back");
	}
	KUNIT_EXPECT_EQ_MSG(test, reserved, 0,
			    "zone %s kept a reserve after %u failed reclaims",
			    ctx->zone->name, i);
}

#ifdef CONFIG_MEMORY_ISOLATION
/*
 * Isolating a free highatomic unit and undoing the isolation (what a
 * failed memory offline or alloc_contig_range() does) must give the blocks
 * back their HighAtomic type: nr_reserved_highatomic still counts them.
 */
static void mmguard_isolated_reserve_stays_reserved(struct kunit *test)
{
	struct mmguard_ha_ctx *ctx = test->priv;
	unsigned long start, end;
	int ret;

	ctx->big = mmguard_ha_alloc(ctx, MAX_PAGE_ORDER);
	if (!ctx->big)
		kunit_skip(test, "no order-%d page for a __GFP_HIGH allocation",
			   MAX_PAGE_ORDER);
	ctx->zone = page_zone(ctx->big);
	start = page_to_pfn(ctx->big);
	end = start + MAX_ORDER_NR_PAGES;
	__free_pages(ctx->big, MAX_PAGE_ORDER);
	ctx->big = NULL;
	mmguard_ha_expect_reserved(test, ctx->zone, MAX_ORDER_NR_PAGES,
				   "with the free reserve unit");

	ret = start_isolate_page_range(start, end, MIGRATE_MOVABLE, 0,
				       GFP_KERNEL);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "isolating the free reserve failed");
	undo_isolate_page_range(start, end, MIGRATE_MOVABLE);
	mmguard_ha_expect_types(test, pfn_to_page(start), MAX_PAGE_ORDER,
				MIGRATE_HIGHATOMIC, "after isolate + undo(MOVABLE)");
	mmguard_audit_all_zones(test, "after isolate + undo(MOVABLE)");

	/* Give the reserve back the way the allocator does. */
	mmguard_ha_fail_reclaim(test, ctx);
	mmguard_ha_expect_reserved(test, ctx->zone, 0,
				   "after a failed reclaim");
}
#endif

/*
 * The last pageblock of a reserve is kept through a failed reclaim
 * (unreserve_highatomic_pageblock(ac, false) passes over a zone with one
 * block or less) and given up only before the OOM path:
 * should_reclaim_retry() unreserves with force once no zone can meet the
 * min watermark even with everything reclaimable.  An order-0
 * __GFP_RETRY_MAYFAIL allocation with the min watermark above the free
 * pages gets there after at most two reclaim passes, and fails without
 * the OOM killer (RETRY_MAYFAIL); the stash is gone first, so reclaim has
 * nothing to give.
 */
static void mmguard_last_reserve_block_goes_only_before_oom(struct kunit *test)
{
	struct mmguard_ha_ctx *ctx = test->priv;

	ctx->small = mmguard_ha_alloc(ctx, pageblock_order - 1);
	if (!ctx->small)
		kunit_skip(test, "no order-%d page for a __GFP_HIGH allocation",
			   pageblock_order - 1);
	ctx->zone = page_zone(ctx->small);
	mmguard_ha_expect_reserved(test, ctx->zone, pageblock_nr_pages,
				   "after the pageblock reserve");
	__free_pages(ctx->small, pageblock_order - 1);
	ctx->small = NULL;

	mmguard_ha_fail_reclaim(test, ctx);
	mmguard_ha_expect_reserved(test, ctx->zone, pageblock_nr_pages,
				   "after a failed reclaim (the last block is kept)");

	mmguard_stash_free(ctx);
	mmguard_ha_fail_above_min(test, ctx, MMGUARD_GFP_RECLAIM_MAYFAIL);
	mmguard_ha_expect_reserved(test, ctx->zone, 0,
				   "after reclaim gave up (before the OOM path)");
}

static struct kunit_case mmguard_highatomic_cases[] = {
	KUNIT_CASE(mmguard_reserve_and_release_through_the_allocator),
	KUNIT_CASE(mmguard_partly_used_reserve_goes_back_by_block),
	KUNIT_CASE(mmguard_reserve_stops_at_its_limit),
#ifdef CONFIG_MEMORY_ISOLATION
	KUNIT_CASE(mmguard_isolated_reserve_stays_reserved),
#endif
	KUNIT_CASE(mmguard_last_reserve_block_goes_only_before_oom),
	{}
};

static struct kunit_suite mmguard_highatomic_suite = {
	.name = "mmguard_highatomic",
	.init = mmguard_ha_init,
	.exit = mmguard_audit_exit,
	.test_cases = mmguard_highatomic_cases,
};

kunit_test_suite(mmguard_highatomic_suite);

MODULE_DESCRIPTION("mmguard: KUnit tests of the highatomic reserve");
MODULE_LICENSE("GPL");
