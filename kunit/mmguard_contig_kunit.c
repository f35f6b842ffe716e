// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard: free-page accounting while pageblocks are isolated under load.
 *
 * Seed thread 003 (2015) saw NR_FREE_PAGES drift by thousands of pages after
 * 30 CMA allocations of 8 MiB under a kernel build: pages of isolated blocks
 * freed through the pcp lists, isolate and non-isolate buddies merging, and
 * move_freepages_block() counts.  Seed thread 000 (2014) saw trinity's
 * min_free_kbytes writes move pages between migratetypes.  These cases
 * drive the 6.12 versions of those paths while a loader kthread on another
 * CPU keeps allocating and freeing (unmovable orders 0-3 and movable order 0,
 * its frees going through its own pcp lists), and run the free-page audit
 * (mmguard_audit.c: free lists against NR_FREE_PAGES, NR_FREE_CMA_PAGES,
 * nr_free_highatomic and nr_reserved_highatomic, every free page on the
 * list of its order and pageblock type) after every step:
 *
 *  - 100 isolations and undos of the pageblock the loader allocates from;
 *  - 30 alloc_contig_pages() of 8 MiB and their free_contig_range();
 *  - 30 cma_alloc() of 8 MiB from the first CMA area and cma_release();
 *  - min_free_kbytes raised and lowered 20 times with pages parked on this
 *    CPU's pcp lists, then every pcp list drained.
 *
 * The audit reads a consistent state under zone->lock, so the loader running
 * beside it cannot make it fail; only a real drift or misplacement can.  The
 * loader's own pages are in use, not free, and never counted.
 */

#include <kunit/test.h>
#include <linux/cma.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/page-isolation.h>
#include <linux/sched.h>

#include "../internal.h"
#include "mmguard_audit.h"

/* The seed-003 experiment: 30 allocations of 8 MiB. */
#define MMGUARD_CONTIG_ROUNDS		30
#define MMGUARD_CONTIG_PAGES		(SZ_8M >> PAGE_SHIFT)

/* Isolate/undo rounds on the pageblocks the loader is using. */
#define MMGUARD_ISOLATE_ROUNDS		100

#define MMGUARD_WMARK_ROUNDS		20
/* Order-0 pages parked on this CPU's pcp lists before each change. */
#define MMGUARD_WMARK_PARKED		32

/*
 * The loader holds one allocation at a time and frees it when it makes the
 * next, alternating unmovable (orders 0-3) and movable (order 0).  Its
 * freed pages mostly wait on its pcp lists (free, refcount 0: isolation
 * does not see them).  On request it adopts a pageblock the case allocated
 * and split: it frees all its pages, which puts them at the head of its own
 * pcp list (and the overflow in buddy), so its next movable allocations
 * come from that block.
 */
struct mmguard_loader {
	struct task_struct *task;
	unsigned long allocated;	/* pages it got */
	unsigned long refused;		/* allocations that failed */
	unsigned long isolated_frees;	/* frees into an isolated block */
	struct page *adopt;		/* split pageblock to free, or NULL */
	unsigned long adopted;		/* pageblocks freed so far */
};

static void mmguard_loader_adopt(struct mmguard_loader *l)
{
	/* pairs with the case's release: the block is split before we see it */
	struct page *block = smp_load_acquire(&l->adopt);
	unsigned long i;

	if (!block)
		return;
	for (i = 0; i < pageblock_nr_pages; i++)
		__free_page(block + i);
	WRITE_ONCE(l->adopt, NULL);
	/* pairs with the case's acquire: all freed before it isolates */
	smp_store_release(&l->adopted, l->adopted + 1);
}

static int mmguard_loader_fn(void *arg)
{
	struct mmguard_loader *l = arg;
	struct page *held = NULL;
	unsigned int held_order = 0;
	unsigned long i;

	for (i = 0; !kthread_should_stop(); i++) {
		bool movable = i & 1;
		unsigned int order = movable ? 0 : (i / 2) % 4;

		mmguard_loader_adopt(l);
		if (held) {
			/* a racy look, for the record only */
			if (is_migrate_isolate_page(held))
				l->isolated_frees++;
			__free_pages(held, held_order);
		}
		held = alloc_pages((movable ? GFP_HIGHUSER_MOVABLE : GFP_KERNEL) |
				   __GFP_NOWARN | __GFP_NORETRY, order);
		held_order = order;
		if (held)
			WRITE_ONCE(l->allocated, l->allocated + (1UL << order));
		else
			l->refused++;
		cond_resched();
	}
	mmguard_loader_adopt(l);
	if (held)
		__free_pages(held, held_order);
	return 0;
}

static void mmguard_loader_stop(void *arg)
{
	struct mmguard_loader *l = arg;

	kthread_stop(l->task);
	put_task_struct(l->task);
}

/*
 * Start the loader on another online CPU than the case's (any CPU if there
 * is only one); it is stopped when the case ends, whatever happens.
 */
static struct mmguard_loader *mmguard_loader_start(struct kunit *test)
{
	struct mmguard_loader *l;
	unsigned long deadline;
	unsigned int cpu;

	l = kunit_kzalloc(test, sizeof(*l), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, l);
	cpu = cpumask_any_but(cpu_online_mask, raw_smp_processor_id());
	if (cpu < nr_cpu_ids)
		l->task = kthread_create_on_cpu(mmguard_loader_fn, l, cpu,
						"mmguard_loader/%u");
	else
		l->task = kthread_create(mmguard_loader_fn, l,
					 "mmguard_loader");
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(l->task),
			       "creating the loader failed: %ld",
			       PTR_ERR(l->task));
	get_task_struct(l->task);
	wake_up_process(l->task);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							mmguard_loader_stop,
							l), 0);
	/* It runs beside the case from its first allocation on. */
	deadline = jiffies + 2 * HZ;
	while (!READ_ONCE(l->allocated) && !READ_ONCE(l->refused)) {
		KUNIT_ASSERT_TRUE_MSG(test, time_before(jiffies, deadline),
				      "the loader did not start in 2 s");
		schedule_timeout_uninterruptible(1);
	}
	return l;
}

static void mmguard_loader_report(struct kunit *test,
				  const struct mmguard_loader *l)
{
	kunit_info(test, "loader: %lu pages allocated and freed, %lu refused, %lu freed into isolated pageblocks",
		   READ_ONCE(l->allocated), READ_ONCE(l->refused),
		   READ_ONCE(l->isolated_frees));
	KUNIT_EXPECT_GT_MSG(test, READ_ONCE(l->allocated), 0UL,
			    "the loader never ran beside the case");
}

/*
 * Seed 003's race itself: isolate a pageblock whose free pages sit on the
 * loader's pcp list while it keeps allocating and freeing from there.
 * Isolation does not see pcp pages (refcount 0), so it succeeds whenever
 * the loader's one held page is not in the block; the loader may then
 * allocate a page of the isolated block from its pcp list and free it into
 * the block (free_unref_page() sends it to the isolate list); the drain
 * that alloc_contig_range() and memory offline do next puts the rest there
 * (free_pcppages_bulk() re-reads the block type); the undo moves them back.
 * The audit runs at each of the three points.  The block is a MOVABLE (or
 * CMA) one and the undo names its own type, so that the base kernel's undo
 * (which sets the type it is given) changes no block's type either.
 */
static void mmguard_isolate_loader_blocks_keeps_counters(struct kunit *test)
{
	struct mmguard_loader *l = mmguard_loader_start(test);
	unsigned int round, isolated = 0, busy = 0, no_block = 0, cma = 0;
	unsigned long deadline;

	for (round = 0; round < MMGUARD_ISOLATE_ROUNDS; round++) {
		unsigned long start, end, adopted;
		struct page *block;
		struct zone *zone;
		int mt, ret;

		block = alloc_pages(GFP_HIGHUSER_MOVABLE | __GFP_NOWARN |
				    __GFP_NORETRY, pageblock_order);
		if (!block) {
			no_block++;
			continue;
		}
		split_page(block, pageblock_order);
		start = page_to_pfn(block);
		end = start + pageblock_nr_pages;
		zone = page_zone(block);
		/*
		 * A movable allocation may come from CMA (when CMA holds over
		 * half of the free pages); such a block is isolated the way
		 * cma_alloc() does it, as MIGRATE_CMA.
		 */
		mt = get_pageblock_migratetype(block);
		if (!is_migrate_movable(mt)) {
			unsigned long i;

			for (i = 0; i < pageblock_nr_pages; i++)
				__free_page(block + i);
			no_block++;
			continue;
		}
		cma += is_migrate_cma(mt);

		adopted = READ_ONCE(l->adopted);
		/* pairs with the loader's acquire in mmguard_loader_adopt() */
		smp_store_release(&l->adopt, block);
		deadline = jiffies + 2 * HZ;
		/* pairs with the loader's release once the block is freed */
		while (smp_load_acquire(&l->adopted) == adopted) {
			KUNIT_ASSERT_TRUE_MSG(test, time_before(jiffies, deadline),
					      "the loader did not free its pageblock in 2 s");
			cond_resched();
		}

		/* Busy while the loader holds a page of the block. */
		deadline = jiffies + 2 * HZ;
		while ((ret = start_isolate_page_range(start, end, mt, 0,
						       GFP_KERNEL)) == -EBUSY &&
		       time_before(jiffies, deadline)) {
			busy++;
			cond_resched();
		}
		KUNIT_ASSERT_EQ_MSG(test, ret, 0,
				    "pageblock at pfn %#lx could not be isolated in 2 s",
				    start);
		isolated++;
		mmguard_audit_all_zones(test, "with the loader's pageblock isolated");
		drain_all_pages(zone);
		mmguard_audit_all_zones(test, "after draining into the isolated pageblock");
		undo_isolate_page_range(start, end, mt);
		mmguard_audit_all_zones(test, "after undoing the isolation");
	}
	kunit_info(test, "%u of %u rounds isolated a pageblock on the loader's pcp list (%u of them CMA; %u busy tries, %u without a free movable pageblock)",
		   isolated, MMGUARD_ISOLATE_ROUNDS, cma, busy, no_block);
	mmguard_loader_report(test, l);
	KUNIT_EXPECT_GT_MSG(test, isolated, 0U,
			    "no pageblock could be isolated: the case checked nothing");
}

/* Seed 003's loop with alloc_contig_range() picking the range itself. */
static void mmguard_contig_alloc_under_load_keeps_counters(struct kunit *test)
{
	struct mmguard_loader *l = mmguard_loader_start(test);
	unsigned int round, got = 0;
	char when[64];

	for (round = 0; round < MMGUARD_CONTIG_ROUNDS; round++) {
		struct page *page;

		page = alloc_contig_pages(MMGUARD_CONTIG_PAGES,
					  GFP_KERNEL | __GFP_NOWARN,
					  numa_node_id(), NULL);
		snprintf(when, sizeof(when), "after contig allocation %u",
			 round);
		mmguard_audit_all_zones(test, when);
		if (!page)
			continue;
		got++;
		free_contig_range(page_to_pfn(page), MMGUARD_CONTIG_PAGES);
		snprintf(when, sizeof(when), "after contig free %u", round);
		mmguard_audit_all_zones(test, when);
	}
	kunit_info(test, "%u of %u contig allocations of 8 MiB succeeded",
		   got, MMGUARD_CONTIG_ROUNDS);
	mmguard_loader_report(test, l);
	KUNIT_EXPECT_GT_MSG(test, got, 0U,
			    "no contig allocation succeeded: the isolation path was not exercised");
}

static int mmguard_first_big_cma(struct cma *cma, void *data)
{
	struct cma **found = data;

	if (cma_get_size(cma) < SZ_8M)
		return 0;
	*found = cma;
	return 1;
}

/* Seed 003's experiment itself: CMA allocations of 8 MiB under load. */
static void mmguard_cma_cycles_under_load_keep_counters(struct kunit *test)
{
	struct mmguard_loader *l;
	struct cma *cma = NULL;
	unsigned int round, got = 0;
	char when[64];

	cma_for_each_area(mmguard_first_big_cma, &cma);
	if (!cma)
		kunit_skip(test, "no CMA area of 8 MiB or more (boot with cma=256M)");
	l = mmguard_loader_start(test);

	for (round = 0; round < MMGUARD_CONTIG_ROUNDS; round++) {
		struct page *page;

		page = cma_alloc(cma, MMGUARD_CONTIG_PAGES, 0, true);
		snprintf(when, sizeof(when), "after CMA allocation %u", round);
		mmguard_audit_all_zones(test, when);
		if (!page)
			continue;
		got++;
		KUNIT_EXPECT_TRUE(test, cma_release(cma, page,
						    MMGUARD_CONTIG_PAGES));
		snprintf(when, sizeof(when), "after CMA release %u", round);
		mmguard_audit_all_zones(test, when);
	}
	kunit_info(test, "%u of %u CMA allocations of 8 MiB from %s succeeded",
		   got, MMGUARD_CONTIG_ROUNDS, cma_get_name(cma));
	mmguard_loader_report(test, l);
	KUNIT_EXPECT_GT_MSG(test, got, 0U,
			    "no CMA allocation succeeded: the isolation path was not exercised");
}

struct mmguard_wmark_saved {
	int min_free_kbytes;
	int user_min_free_kbytes;
};

static void mmguard_wmark_restore(void *arg)
{
	struct mmguard_wmark_saved *s = arg;

	min_free_kbytes = s->min_free_kbytes;
	user_min_free_kbytes = s->user_min_free_kbytes;
	setup_per_zone_wmarks();
}

/* Free @n order-0 pages on this CPU; return how many its pcp lists hold. */
static int mmguard_park_on_this_cpu(unsigned int n)
{
	struct page *pages[MMGUARD_WMARK_PARKED];
	struct zone *zone = NULL;
	unsigned int i, got = 0;
	int count = 0;

	migrate_disable();
	for (i = 0; i < n && i < ARRAY_SIZE(pages); i++) {
		pages[got] = alloc_page(GFP_KERNEL | __GFP_NOWARN);
		if (pages[got])
			got++;
	}
	if (got)
		zone = page_zone(pages[0]);
	for (i = 0; i < got; i++)
		__free_page(pages[i]);
	if (zone)
		count = READ_ONCE(this_cpu_ptr(zone->per_cpu_pageset)->count);
	migrate_enable();
	return count;
}

/*
 * Seed 000 in 6.12: min_free_kbytes writes while pages sit on the pcp lists.
 * In 2014 a write re-ran setup_zone_migrate_reserve() and moved pages to
 * MIGRATE_RESERVE blocks; today setup_per_zone_wmarks() only recomputes the
 * watermarks, and no free page may change list or count because of it.
 */
static void mmguard_min_free_kbytes_changes_keep_pages_placed(struct kunit *test)
{
	struct mmguard_wmark_saved *saved;
	struct mmguard_loader *l;
	unsigned int round;
	int parked = 0;
	char when[80];

	saved = kunit_kzalloc(test, sizeof(*saved), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, saved);
	saved->min_free_kbytes = min_free_kbytes;
	saved->user_min_free_kbytes = user_min_free_kbytes;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							mmguard_wmark_restore,
							saved), 0);
	l = mmguard_loader_start(test);

	for (round = 0; round < MMGUARD_WMARK_ROUNDS; round++) {
		int kbytes = (round & 1) ? max(saved->min_free_kbytes / 2, 128)
					 : saved->min_free_kbytes * 4;

		parked = max(parked, mmguard_park_on_this_cpu(MMGUARD_WMARK_PARKED));
		min_free_kbytes = kbytes;
		user_min_free_kbytes = kbytes;
		setup_per_zone_wmarks();
		snprintf(when, sizeof(when),
			 "after min_free_kbytes %d with pages on the pcp lists",
			 kbytes);
		mmguard_audit_all_zones(test, when);
	}
	mmguard_wmark_restore(saved);
	drain_all_pages(NULL);
	mmguard_audit_all_zones(test, "after restoring min_free_kbytes and draining");
	kunit_info(test, "up to %d pages on this CPU's pcp list during the changes",
		   parked);
	mmguard_loader_report(test, l);
	KUNIT_EXPECT_GT_MSG(test, parked, 0,
			    "no page stayed on this CPU's pcp list: the case checked nothing");
}

static struct kunit_case mmguard_contig_cases[] = {
	KUNIT_CASE(mmguard_isolate_loader_blocks_keeps_counters),
	KUNIT_CASE(mmguard_contig_alloc_under_load_keeps_counters),
	KUNIT_CASE(mmguard_cma_cycles_under_load_keep_counters),
	KUNIT_CASE(mmguard_min_free_kbytes_changes_keep_pages_placed),
	{}
};

static struct kunit_suite mmguard_contig_suite = {
	.name = "mmguard_contig",
	.exit = mmguard_audit_exit,
	.test_cases = mmguard_contig_cases,
};

kunit_test_suite(mmguard_contig_suite);

MODULE_DESCRIPTION("mmguard: free-page accounting through isolation under load");
MODULE_LICENSE("GPL");
