// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard_fallback: which pageblock an allocation claims when it has to
 * take a free page from another migratetype's lists.
 *
 * try_to_steal_block() claims the whole pageblock of the free page it
 * falls back to (moves its free pages to the requested type's lists and
 * retypes it) when at least half of the block is free or "alike": for an
 * unmovable or reclaimable request out of a Movable block, the pages that
 * are neither free nor movable (they already pin the block); out of any
 * other block, none, since non-movable pages of another type cannot be
 * told apart.  Otherwise the allocation takes the page alone and the
 * block keeps its type.  That rule decides how fast movable memory
 * fragments; `make mutate` showed that no other suite could tell a block
 * claimed from one left alone (try_to_steal_block:swap_migratetype:2027).
 *
 * Each case builds the one situation the rule is about, with real
 * allocations of the zone and its own fallback path:
 *  - block B: one pageblock, allocated whole with the type under test and
 *    split into order-0 pages the case holds (allocated, not on an LRU,
 *    not movable: non-movable to prep_move_freepages_block());
 *  - every other free block of order >= MMGUARD_FB_ORDER on the
 *    Unmovable, Reclaimable and Movable lists of B's zone taken, each by
 *    allocations of its own list's migratetype while that list still has
 *    such a block, so that none falls back and no other block is retyped
 *    (the zone's watermarks at 0 for that moment, restored by a KUnit
 *    action; pcp orders are not used);
 *  - B's first 1 << MMGUARD_FB_ORDER pages (a quarter of B) freed and
 *    drained: one free block on B's list, the only one of that order or
 *    larger on the three lists;
 *  - one allocation of MMGUARD_FB_ORDER of the requested type: its own
 *    lists are empty from that order up and CMA is not for it, so
 *    __rmqueue_claim() finds B's free block as the largest fallback.
 * A quarter free plus three quarters alike is a claim; a quarter free and
 * nothing alike is not.  The window with the zone drained is one
 * allocation long, at boot; other tasks' allocations in it are served
 * from blocks below MMGUARD_FB_ORDER.  If something else frees a large
 * block in the window, the allocation may not come from B: the case
 * skips, saying so.
 */
#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/spinlock.h>

#include "../internal.h"
#include "mmguard_audit.h"

/* The order of the fallback: a quarter of a pageblock, below the pcp orders. */
#define MMGUARD_FB_ORDER	(pageblock_order - 2)

struct mmguard_fb_param {
	const char *name;
	int block_mt;		/* B's type */
	int request_mt;		/* the falling-back allocation's type */
	int want_mt;		/* B's type after the allocation */
};

static const struct mmguard_fb_param mmguard_fb_params[] = {
	{ "unmovable into a movable block of unmovable pages: claimed",
	  MIGRATE_MOVABLE, MIGRATE_UNMOVABLE, MIGRATE_UNMOVABLE },
	{ "reclaimable into an unmovable block: taken alone",
	  MIGRATE_UNMOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE },
};

/* The lists a fallback chooses from, in the order the case drains them. */
static const int mmguard_fb_types[] = {
	MIGRATE_UNMOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE
};

/* The gfp mobility flag of an allocation of migratetype @mt. */
static gfp_t mmguard_fb_gfp(int mt)
{
	if (mt == MIGRATE_MOVABLE)
		return __GFP_MOVABLE;
	if (mt == MIGRATE_RECLAIMABLE)
		return __GFP_RECLAIMABLE;
	return 0;
}

static void mmguard_fb_desc(const struct mmguard_fb_param *p, char *desc)
{
	strscpy(desc, p->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(mmguard_fb, mmguard_fb_params, mmguard_fb_desc);

/* Drain rounds before the case gives up on a zone that keeps a large block. */
#define MMGUARD_FB_DRAINS	3

/* No reclaim, no kswapd, no retries: each allocation either is or is not. */
#define MMGUARD_FB_GFP	(__GFP_NOWARN | __GFP_NORETRY)

struct mmguard_fb_ctx {
	struct zone *zone;
	unsigned long wmark[NR_WMARK];
	unsigned long boost;
	bool moved;
	struct list_head taken;		/* the drained blocks, order in private */
	struct page *block;		/* B */
	unsigned long block_freed;	/* B's pages given back (from the start) */
	struct page *got;		/* the fallback allocation */
};

static void mmguard_fb_restore_wmarks(struct mmguard_fb_ctx *ctx)
{
	unsigned long flags;
	enum zone_watermarks w;

	if (!ctx->moved)
		return;
	spin_lock_irqsave(&ctx->zone->lock, flags);
	for (w = 0; w < NR_WMARK; w++)
		WRITE_ONCE(ctx->zone->_watermark[w], ctx->wmark[w]);
	/* A fallback below pageblock_order boosts the watermarks. */
	ctx->zone->watermark_boost = ctx->boost;
	spin_unlock_irqrestore(&ctx->zone->lock, flags);
	ctx->moved = false;
}

static void mmguard_fb_zero_wmarks(struct mmguard_fb_ctx *ctx)
{
	unsigned long flags;
	enum zone_watermarks w;

	spin_lock_irqsave(&ctx->zone->lock, flags);
	for (w = 0; w < NR_WMARK; w++) {
		ctx->wmark[w] = ctx->zone->_watermark[w];
		WRITE_ONCE(ctx->zone->_watermark[w], 0);
	}
	ctx->boost = ctx->zone->watermark_boost;
	ctx->zone->watermark_boost = 0;
	spin_unlock_irqrestore(&ctx->zone->lock, flags);
	ctx->moved = true;
}

static void mmguard_fb_cleanup(void *arg)
{
	struct mmguard_fb_ctx *ctx = arg;
	struct page *page, *next;
	unsigned long i;

	mmguard_fb_restore_wmarks(ctx);
	if (ctx->got)
		__free_pages(ctx->got, MMGUARD_FB_ORDER);
	ctx->got = NULL;
	list_for_each_entry_safe(page, next, &ctx->taken, lru) {
		unsigned int order = page_private(page);

		list_del(&page->lru);
		set_page_private(page, 0);
		__free_pages(page, order);
	}
	if (ctx->block)
		for (i = ctx->block_freed; i < pageblock_nr_pages; i++)
			__free_page(ctx->block + i);
	ctx->block = NULL;
}

/* Whether @mt's lists of @zone have a free block of @order or larger. */
static bool mmguard_fb_has_block(struct zone *zone, int mt, unsigned int order)
{
	unsigned int o;

	for (o = order; o < NR_PAGE_ORDERS; o++)
		if (!free_area_empty(&zone->free_area[o], mt))
			return true;
	return false;
}

/*
 * Take every free block of @lowest order or larger of @mt in ctx->zone,
 * by allocations of @mt only while @mt's own lists have one (from the
 * largest order down; a block taken at a lower order is split, its rest
 * taken next).  pageblock_order is skipped: it goes through the pcp lists,
 * whose refills may take more than one block and fall back for the rest.
 */
static void mmguard_fb_take(struct mmguard_fb_ctx *ctx, int mt,
			    unsigned int lowest)
{
	gfp_t gfp = mmguard_fb_gfp(mt) | MMGUARD_FB_GFP;
	const unsigned int orders[] = { MAX_PAGE_ORDER, pageblock_order - 1,
					pageblock_order - 2 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(orders); i++) {
		unsigned int order = orders[i];
		/* Bounded by the zone's size, whatever the lists say. */
		unsigned long n = zone_managed_pages(ctx->zone) >> order;

		while (order >= lowest && n-- && mmguard_fb_has_block(ctx->zone, mt, order)) {
			struct page *page = alloc_pages(gfp, order);

			if (!page)
				break;
			set_page_private(page, order);
			list_add(&page->lru, &ctx->taken);
		}
	}
}

/*
 * A free block of MMGUARD_FB_ORDER or larger, other than @chunk, on the
 * Unmovable, Reclaimable or Movable lists of @zone (its type and order in
 * @mt and @order), or NULL.  Under zone->lock; the lists are short once
 * drained.
 */
static struct page *mmguard_fb_other_block(struct zone *zone, struct page *chunk,
					   int *mt, unsigned int *order)
{
	struct page *page;
	unsigned int i, o;

	for (i = 0; i < ARRAY_SIZE(mmguard_fb_types); i++)
		for (o = MMGUARD_FB_ORDER; o < NR_PAGE_ORDERS; o++)
			list_for_each_entry(page,
					    &zone->free_area[o].free_list[mmguard_fb_types[i]],
					    buddy_list)
				if (page != chunk) {
					*mt = mmguard_fb_types[i];
					*order = o;
					return page;
				}
	return NULL;
}

/*
 * Take the three types' free blocks of MMGUARD_FB_ORDER or larger, but
 * only larger ones of @chunk_mt once @chunk (of that order) is free; true
 * if no block but @chunk is left.
 */
static bool mmguard_fb_drain(struct kunit *test, struct mmguard_fb_ctx *ctx,
			     struct page *chunk, int chunk_mt, bool last)
{
	struct page *other;
	unsigned long flags;
	unsigned int i, order;
	int mt;

	for (i = 0; i < ARRAY_SIZE(mmguard_fb_types); i++)
		mmguard_fb_take(ctx, mmguard_fb_types[i],
				MMGUARD_FB_ORDER + (mmguard_fb_types[i] == chunk_mt));
	spin_lock_irqsave(&ctx->zone->lock, flags);
	other = mmguard_fb_other_block(ctx->zone, chunk, &mt, &order);
	spin_unlock_irqrestore(&ctx->zone->lock, flags);
	if (other && last)
		kunit_info(test, "zone %s keeps a free %s block of order %u at pfn %#lx (pageblock %s)",
			   ctx->zone->name, migratetype_names[mt], order, page_to_pfn(other),
			   migratetype_names[get_pageblock_migratetype(other)]);
	return !other;
}

static void mmguard_fallback_claims_by_the_rule(struct kunit *test)
{
	const struct mmguard_fb_param *p = test->param_value;
	struct mmguard_fb_ctx *ctx;
	struct page *chunk;
	bool drained = false;
	unsigned long i;
	int mt;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	INIT_LIST_HEAD(&ctx->taken);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mmguard_fb_cleanup, ctx), 0);

	ctx->block = alloc_pages(mmguard_fb_gfp(p->block_mt) | MMGUARD_FB_GFP,
				 pageblock_order);
	if (!ctx->block)
		kunit_skip(test, "no free pageblock for block B");
	split_page(ctx->block, pageblock_order);
	ctx->zone = page_zone(ctx->block);
	mt = get_pageblock_migratetype(ctx->block);
	if (mt != p->block_mt)
		kunit_skip(test, "block B at pfn %#lx came %s, not %s",
			   page_to_pfn(ctx->block), migratetype_names[mt],
			   migratetype_names[p->block_mt]);

	/*
	 * The pcp lists emptied into the free lists (their pages would merge
	 * into large blocks on the next drain), the lists drained of large
	 * blocks, a quarter of B given back, and the lists drained again of
	 * anything freed meanwhile (but B's quarter).
	 */
	chunk = ctx->block;
	mmguard_fb_zero_wmarks(ctx);
	drain_all_pages(ctx->zone);
	mmguard_fb_drain(test, ctx, NULL, -1, false);
	for (i = 0; i < (1UL << MMGUARD_FB_ORDER); i++)
		__free_page(ctx->block + i);
	ctx->block_freed = 1UL << MMGUARD_FB_ORDER;
	drain_all_pages(ctx->zone);
	if (!PageBuddy(chunk) || buddy_order(chunk) != MMGUARD_FB_ORDER) {
		mmguard_fb_restore_wmarks(ctx);
		kunit_skip(test, "B's first %lu pages did not merge into one free block",
			   1UL << MMGUARD_FB_ORDER);
	}
	for (i = 0; i < MMGUARD_FB_DRAINS && !drained; i++)
		drained = mmguard_fb_drain(test, ctx, chunk, p->block_mt,
					   i == MMGUARD_FB_DRAINS - 1);
	if (!drained) {
		mmguard_fb_restore_wmarks(ctx);
		kunit_skip(test, "zone %s keeps another free block of order >= %d",
			   ctx->zone->name, MMGUARD_FB_ORDER);
	}

	ctx->got = alloc_pages(mmguard_fb_gfp(p->request_mt) | MMGUARD_FB_GFP,
			       MMGUARD_FB_ORDER);
	mt = get_pageblock_migratetype(ctx->block);
	mmguard_fb_restore_wmarks(ctx);

	KUNIT_ASSERT_NOT_NULL_MSG(test, ctx->got,
				  "a %s allocation of order %d found no fallback",
				  migratetype_names[p->request_mt], MMGUARD_FB_ORDER);
	if (ctx->got != chunk)
		kunit_skip(test, "got pfn %#lx, not B's free block at %#lx (another was freed)",
			   page_to_pfn(ctx->got), page_to_pfn(chunk));
	KUNIT_EXPECT_EQ_MSG(test, mt, p->want_mt,
			    "%s allocation from a %s block, %lu/%lu pages free, rest non-movable: now %s, not %s",
			    migratetype_names[p->request_mt],
			    migratetype_names[p->block_mt],
			    1UL << MMGUARD_FB_ORDER, pageblock_nr_pages,
			    migratetype_names[mt], migratetype_names[p->want_mt]);
}

static struct kunit_case mmguard_fallback_cases[] = {
	KUNIT_CASE_PARAM(mmguard_fallback_claims_by_the_rule, mmguard_fb_gen_params),
	{}
};

static struct kunit_suite mmguard_fallback_suite = {
	.name = "mmguard_fallback",
	.exit = mmguard_audit_exit,
	.test_cases = mmguard_fallback_cases,
};

kunit_test_suite(mmguard_fallback_suite);

MODULE_DESCRIPTION("mmguard: KUnit tests of the fallback's pageblock claim");
MODULE_LICENSE("GPL");
