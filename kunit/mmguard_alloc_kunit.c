// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard: KUnit tests for the page allocator's free-page bookkeeping.
 *
 * Invariants checked (Linux 6.12 semantics):
 *
 *  I1, I2, I5: the free-page audit (mmguard_audit.c) is clean: the free
 *     lists agree with the counters and every free page is where its
 *     metadata says.
 *
 *  I3 drain_all_pages(zone) leaves no page on any CPU's per-cpu lists of
 *     that zone: pages freed on each online CPU, and seen on that CPU's
 *     pcp lists, are gone from them afterwards, for order 0 and for the
 *     high orders the pcp lists hold (<= PAGE_ALLOC_COSTLY_ORDER and the
 *     PMD/THP order).
 *
 *  I4 A pcp list holds what its count says.  Under pcp->lock, pcp->count
 *     equals the pages on pcp->lists[] (each block weighted by its list's
 *     order), and every block there is of the zone, not PageBuddy, and has
 *     refcount 0.
 *
 * Every case is followed (exit fixture) by an audit of every populated
 * zone, so no case may leave drift behind, whatever it checked itself.
 *
 * How races are handled (the audit's own, vmstat folds, are described in
 * mmguard_audit.c):
 *
 *  - For I3, other CPUs keep allocating while we check: a page that
 *    drain_all_pages() put back into buddy may be reallocated at once and
 *    freed onto (or refilled into, by rmqueue_bulk()) any CPU's pcp list,
 *    which looks exactly like a page the drain missed.  The struct page
 *    keeps no trace of the trip through buddy (free_pages_prepare() and
 *    the buddy removal both zero page->private and clear the flags), so
 *    the test makes the ambiguity impossible instead: the CPU under test
 *    parks its pages on its own pcp lists from a kthread bound to it, then
 *    keeps spinning with interrupts off until the check is done.  Only a
 *    CPU itself adds pages to its own pcp lists (frees and refills both
 *    use this_cpu's pcp); remote CPUs only take pages off them (6.12
 *    drains take the remote pcp->lock, no IPI needed).  So while that CPU
 *    is frozen its lists of the zone can only shrink, and after
 *    drain_all_pages() returns they must be empty: count 0, every list
 *    empty, none of the parked pages there.  That is exact and fails if
 *    the drain skipped the CPU or drained it only in part.  Parked pages
 *    found on another CPU's lists must have gone through buddy and are
 *    only reported.  The test thread is pinned off the frozen CPU so it
 *    cannot be queued behind it; the freeze has a safety limit
 *    (MMGUARD_FREEZE_LIMIT_NS) that, if ever reached, fails the case
 *    instead of hanging the machine (it could be reached only under
 *    CONFIG_PREEMPT, by a task preempted on the frozen CPU while holding
 *    pcpu_drain_mutex, which our drain_all_pages() would then wait for).
 *    drain_all_pages() skips CPUs whose pcp->count it reads as 0; the
 *    frozen CPU's count includes the parked pages, so it must be drained.
 *
 * The case names describe the behaviour they check.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/page-isolation.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/spinlock.h>
#include <linux/vmstat.h>

#include "../internal.h"
#include "mmguard_audit.h"

/* Order-0 pages each CPU parks on its pcp lists in the drain test. */
#define MMGUARD_PCP_BATCH	64

/* Safety limit of a CPU's freeze in the drain tests; never reached. */
#define MMGUARD_FREEZE_LIMIT_NS	(10ULL * NSEC_PER_SEC)

/* ---------------------------------------------------------------------- */
/* Fixtures and deferred cleanup                                          */
/* ---------------------------------------------------------------------- */

struct mmguard_test_ctx {
	struct cpumask saved_allowed;	/* the case thread's affinity */
};

/* Runs in the case's own kthread, before the case. */
static int mmguard_test_init(struct kunit *test)
{
	struct mmguard_test_ctx *ctx;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	cpumask_copy(&ctx->saved_allowed, current->cpus_ptr);
	test->priv = ctx;
	return 0;
}

struct mmguard_pages {
	struct page *page;
	unsigned int order;
};

static void mmguard_free_pages_action(void *arg)
{
	struct mmguard_pages *p = arg;

	if (p->page)
		__free_pages(p->page, p->order);
	p->page = NULL;
}

/* The zone that order-0 GFP_KERNEL allocations of this CPU come from. */
static struct zone *mmguard_kernel_zone(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL | __GFP_NOWARN);
	struct zone *zone;

	KUNIT_ASSERT_NOT_NULL_MSG(test, page, "no order-0 page to pick a zone");
	zone = page_zone(page);
	__free_page(page);
	return zone;
}

/* ---------------------------------------------------------------------- */
/* (a), (b): audits                                                       */
/* ---------------------------------------------------------------------- */

static void mmguard_audit_is_clean_at_rest(struct kunit *test)
{
	struct mmguard_zone_audit a;
	struct zone *zone;
	unsigned int zones = 0;

	for_each_populated_zone(zone) {
		mmguard_audit_zone(zone, &a);
		mmguard_expect_clean(test, zone, &a, "at rest");
		kunit_info(test, "node %d zone %s: %lu free pages in %lu blocks (cma %lu, highatomic %lu, isolated %lu), %u read(s)\n",
			   zone_to_nid(zone), zone->name, a.free.expected,
			   a.blocks, a.cma.expected, a.highatomic.expected,
			   a.isolated, a.tries);
		zones++;
	}
	KUNIT_EXPECT_GT(test, zones, 0U);
}

static void mmguard_alloc_free_every_order_keeps_counters(struct kunit *test)
{
	struct mmguard_pages *p;
	struct mmguard_zone_audit a;
	unsigned int order, done = 0;
	char when[40];

	p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, p);

	for (order = 0; order <= MAX_PAGE_ORDER; order++) {
		struct zone *zone;

		p->page = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
		if (!p->page) {
			kunit_info(test, "order %u: allocation failed, skipped\n",
				   order);
			continue;
		}
		p->order = order;
		KUNIT_ASSERT_EQ(test, 0,
				kunit_add_action_or_reset(test,
							  mmguard_free_pages_action,
							  p));
		zone = page_zone(p->page);

		snprintf(when, sizeof(when), "after an order-%u alloc", order);
		mmguard_audit_zone(zone, &a);
		mmguard_expect_clean(test, zone, &a, when);

		kunit_release_action(test, mmguard_free_pages_action, p);

		snprintf(when, sizeof(when), "after an order-%u free", order);
		mmguard_audit_zone(zone, &a);
		mmguard_expect_clean(test, zone, &a, when);
		done++;
	}
	/* Order 0 cannot fail here, so at least one order was exercised. */
	KUNIT_EXPECT_GT(test, done, 0U);
}

/* ---------------------------------------------------------------------- */
/* (c), (d): drain_all_pages()                                            */
/* ---------------------------------------------------------------------- */

/* What one walk of a CPU's pcp lists of a zone found. */
struct mmguard_pcp_scan {
	int count;		/* pcp->count */
	unsigned long pages;	/* pages on the lists, by list order */
	unsigned long bad;	/* blocks violating I4 */
	unsigned int parked;	/* blocks that are the round's parked ones */
};

/*
 * One round: a kthread bound to @cpu parks blocks of @order of @zone on
 * that CPU's pcp lists and freezes the CPU; the test thread, pinned to
 * another CPU, drains and checks.  Filled in by both sides; the kthread's
 * fields are read only after the completion that publishes them.
 */
struct mmguard_pcp_round {
	/* set by the test thread */
	struct zone *zone;
	unsigned int cpu;
	unsigned int order;
	unsigned int nr_blocks;
	struct page **pages;		/* nr_blocks slots */
	unsigned long *parked_pfns;	/* nr_blocks slots */

	/* set by the kthread before @parked */
	int alloc_failed;		/* blocks not obtained from @zone */
	unsigned int nr_allocated;
	unsigned int nr_parked;		/* seen on @cpu's lists after free */
	int count_before, high, batch;
	struct mmguard_pcp_scan after_free; /* @cpu's lists after the frees */
	struct completion parked;

	/* set by the test thread while @cpu is frozen */
	bool release;
	struct mmguard_pcp_scan frozen;	/* @cpu's lists after the drain */
	unsigned int elsewhere;		/* parked blocks on other CPUs' lists */
	unsigned long others_bad;	/* I4 violations on other CPUs */
	unsigned int others_mismatch;	/* other CPUs whose count != lists */

	/* set by the kthread before @done */
	bool expired;
	struct completion done;
};

static bool mmguard_is_parked_pfn(const struct mmguard_pcp_round *r,
				  unsigned long pfn)
{
	unsigned int i;

	for (i = 0; i < r->nr_parked; i++)
		if (r->parked_pfns[i] == pfn)
			return true;
	return false;
}

/* The order of the blocks on pcp->lists[pindex] (pindex_to_order()). */
static unsigned int mmguard_pindex_order(int pindex)
{
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	if (pindex >= NR_LOWORDER_PCP_LISTS)
		return HPAGE_PMD_ORDER;
#endif
	return pindex / MIGRATE_PCPTYPES;
}

/*
 * Walk one CPU's pcp lists of the round's zone (I4) and count the round's
 * parked blocks on them.  The caller holds pcp->lock.
 */
static void mmguard_scan_pcp(const struct mmguard_pcp_round *r,
			     struct per_cpu_pages *pcp,
			     struct mmguard_pcp_scan *scan)
{
	int pindex;

	memset(scan, 0, sizeof(*scan));
	scan->count = pcp->count;
	for (pindex = 0; pindex < NR_PCP_LISTS; pindex++) {
		unsigned int order = mmguard_pindex_order(pindex);
		struct page *page;

		list_for_each_entry(page, &pcp->lists[pindex], pcp_list) {
			scan->pages += 1UL << order;
			if (page_zone(page) != r->zone || PageBuddy(page) ||
			    page_ref_count(page))
				scan->bad++;
			if (mmguard_is_parked_pfn(r, page_to_pfn(page)))
				scan->parked++;
		}
	}
}

static int mmguard_pcp_parker(void *arg)
{
	struct mmguard_pcp_round *r = arg;
	struct per_cpu_pages *pcp = per_cpu_ptr(r->zone->per_cpu_pageset,
						r->cpu);
	gfp_t gfp = GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN;
	unsigned int tries, i;
	unsigned long flags;
	int pindex;
	u64 deadline;

	/* Sleepable part: get nr_blocks blocks of the zone under test. */
	for (tries = 0;
	     r->nr_allocated < r->nr_blocks && tries < 4 * r->nr_blocks;
	     tries++) {
		struct page *page = alloc_pages_node(zone_to_nid(r->zone), gfp,
						     r->order);

		if (!page)
			break;
		if (page_zone(page) != r->zone) {
			/* Fallback zone: not ours; freed before the freeze. */
			__free_pages(page, r->order);
			continue;
		}
		r->pages[r->nr_allocated++] = page;
	}
	r->alloc_failed = r->nr_blocks - r->nr_allocated;

	/*
	 * Freeze: from here until release nothing else runs on this CPU, so
	 * nothing but a remote drain can touch its pcp lists.
	 */
	preempt_disable();
	local_irq_save(flags);

	spin_lock(&pcp->lock);
	r->count_before = pcp->count;
	spin_unlock(&pcp->lock);

	for (i = 0; i < r->nr_allocated; i++)
		__free_pages(r->pages[i], r->order);

	spin_lock(&pcp->lock);
	r->high = pcp->high;
	r->batch = pcp->batch;
	for (pindex = 0; pindex < NR_PCP_LISTS; pindex++) {
		struct page *page;

		list_for_each_entry(page, &pcp->lists[pindex], pcp_list) {
			for (i = 0; i < r->nr_allocated; i++) {
				if (page == r->pages[i]) {
					r->parked_pfns[r->nr_parked++] =
						page_to_pfn(page);
					break;
				}
			}
		}
	}
	mmguard_scan_pcp(r, pcp, &r->after_free);
	spin_unlock(&pcp->lock);

	complete(&r->parked);

	/*
	 * sched_clock(), not local_clock(): with interrupts off and the
	 * sched clock just marked unstable (TSC skew under TCG), local_clock()
	 * stops one tick after the last tick here, and the limit would never
	 * come. Seen: the clocksource watchdog's stop_machine() on the other
	 * CPU waited for this one, the test thread that releases it could not
	 * run there, and the boot hung in soft lockups.
	 */
	deadline = sched_clock() + MMGUARD_FREEZE_LIMIT_NS;
	while (!READ_ONCE(r->release)) {
		if (sched_clock() > deadline) {
			r->expired = true;
			break;
		}
		cpu_relax();
	}

	local_irq_restore(flags);
	preempt_enable();
	complete(&r->done);
	return 0;
}

/* Deferred: unfreeze the CPU and wait for the kthread to be done with @r. */
static void mmguard_round_release(void *arg)
{
	struct mmguard_pcp_round *r = arg;

	WRITE_ONCE(r->release, true);
	wait_for_completion(&r->done);
}

/* Count parked blocks that are back in buddy (zone->lock for a stable view). */
static unsigned int mmguard_parked_in_buddy(const struct mmguard_pcp_round *r)
{
	unsigned int i, n = 0;
	unsigned long flags;

	spin_lock_irqsave(&r->zone->lock, flags);
	for (i = 0; i < r->nr_parked; i++)
		if (is_free_buddy_page(pfn_to_page(r->parked_pfns[i])))
			n++;
	spin_unlock_irqrestore(&r->zone->lock, flags);
	return n;
}

/*
 * Park blocks on @cpu, freeze it, drain_all_pages() from here and look at
 * every CPU's pcp lists.  No assertion may abort the test while @cpu is
 * frozen (the cleanup would have to run beside it), so this only records;
 * the caller judges.  Return: 0, or an error from creating the kthread.
 */
static int mmguard_pcp_round_run(struct kunit *test,
				 struct mmguard_pcp_round *r)
{
	struct mmguard_test_ctx *ctx = test->priv;
	struct per_cpu_pages *pcp;
	struct task_struct *task;
	struct cpumask *others;
	unsigned long flags;
	unsigned int cpu;
	int ret;

	others = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);
	if (!others)
		return -ENOMEM;

	init_completion(&r->parked);
	init_completion(&r->done);

	/*
	 * Keep the test thread off the CPU that will be frozen, or a wakeup
	 * could queue it there behind the frozen kthread.  The case thread
	 * exits after the case, so an abort needs no affinity restore.
	 */
	cpumask_andnot(others, cpu_online_mask, cpumask_of(r->cpu));
	ret = set_cpus_allowed_ptr(current, others);
	if (ret)
		return ret;

	/* Start from empty pcp lists so the parked blocks fit under high. */
	drain_all_pages(r->zone);

	task = kthread_create_on_cpu(mmguard_pcp_parker, r, r->cpu,
				     "mmguard_pcp/%u");
	if (IS_ERR(task))
		return PTR_ERR(task);
	wake_up_process(task);
	ret = kunit_add_action_or_reset(test, mmguard_round_release, r);
	if (ret)
		return ret;

	wait_for_completion(&r->parked);

	/* --- r->cpu is frozen: no kunit assertions until released --- */
	drain_all_pages(r->zone);

	pcp = per_cpu_ptr(r->zone->per_cpu_pageset, r->cpu);
	spin_lock_irqsave(&pcp->lock, flags);
	mmguard_scan_pcp(r, pcp, &r->frozen);
	spin_unlock_irqrestore(&pcp->lock, flags);

	for_each_online_cpu(cpu) {
		struct mmguard_pcp_scan scan;

		if (cpu == r->cpu)
			continue;
		pcp = per_cpu_ptr(r->zone->per_cpu_pageset, cpu);
		spin_lock_irqsave(&pcp->lock, flags);
		mmguard_scan_pcp(r, pcp, &scan);
		spin_unlock_irqrestore(&pcp->lock, flags);
		r->elsewhere += scan.parked;
		r->others_bad += scan.bad;
		if (scan.pages != scan.count)
			r->others_mismatch++;
	}

	kunit_release_action(test, mmguard_round_release, r);
	/* --- released --- */
	return set_cpus_allowed_ptr(current, &ctx->saved_allowed);
}

static void mmguard_drain_test(struct kunit *test, unsigned int order,
			       unsigned int nr_blocks)
{
	struct mmguard_zone_audit a;
	struct mmguard_pcp_round *r;
	struct zone *zone;
	unsigned int cpu, rounds = 0, parked_rounds = 0;
	char when[48];

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs 2 online CPUs: one is frozen while another drains");

	zone = mmguard_kernel_zone(test);
	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, r);

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		unsigned int in_buddy;
		int ret;

		memset(r, 0, sizeof(*r));
		r->zone = zone;
		r->cpu = cpu;
		r->order = order;
		r->nr_blocks = nr_blocks;
		r->pages = kunit_kcalloc(test, nr_blocks, sizeof(*r->pages),
					 GFP_KERNEL);
		r->parked_pfns = kunit_kcalloc(test, nr_blocks,
					       sizeof(*r->parked_pfns),
					       GFP_KERNEL);
		if (!r->pages || !r->parked_pfns) {
			cpus_read_unlock();
			KUNIT_FAIL_AND_ABORT(test, "out of memory");
		}

		ret = mmguard_pcp_round_run(test, r);
		if (ret) {
			cpus_read_unlock();
			KUNIT_FAIL_AND_ABORT(test, "cpu %u: round setup failed: %d",
					     cpu, ret);
		}
		rounds++;

		KUNIT_EXPECT_FALSE_MSG(test, r->expired,
				       "cpu %u: freeze hit its safety limit; the check is void",
				       cpu);
		/* A short allocation is not what is tested; it only shrinks the sample. */
		if (r->alloc_failed)
			kunit_info(test, "cpu %u: only %u of %u order-%u blocks came from node %d zone %s\n",
				   cpu, r->nr_allocated, nr_blocks, order,
				   zone_to_nid(zone), zone->name);
		if (r->high < r->batch || r->batch <= 1)
			kunit_info(test, "cpu %u: pcp caching off (high %d batch %d)\n",
				   cpu, r->high, r->batch);
		/* I4 on the CPU that parked, right after its frees. */
		KUNIT_EXPECT_EQ_MSG(test, r->after_free.pages,
				    (unsigned long)r->after_free.count,
				    "cpu %u: pcp->count %d but its lists hold %lu pages after the frees",
				    cpu, r->after_free.count, r->after_free.pages);
		KUNIT_EXPECT_EQ_MSG(test, r->after_free.bad, 0UL,
				    "cpu %u: %lu pcp blocks of another zone, PageBuddy or with a refcount",
				    cpu, r->after_free.bad);
		/* The parked blocks are on the lists, so count includes them. */
		KUNIT_EXPECT_GE_MSG(test, r->after_free.count,
				    (int)(r->nr_parked << order),
				    "cpu %u: pcp->count %d < %u parked order-%u blocks",
				    cpu, r->after_free.count, r->nr_parked, order);
		if (r->nr_parked)
			parked_rounds++;

		/* I3, exact because the CPU was frozen (see the top comment). */
		KUNIT_EXPECT_EQ_MSG(test, r->frozen.parked, 0U,
				    "cpu %u: %u of %u parked order-%u blocks still on its pcp lists after drain_all_pages()",
				    cpu, r->frozen.parked, r->nr_parked, order);
		KUNIT_EXPECT_EQ_MSG(test, r->frozen.count, 0,
				    "cpu %u: pcp->count of zone %s is %d after drain_all_pages()",
				    cpu, zone->name, r->frozen.count);
		KUNIT_EXPECT_EQ_MSG(test, r->frozen.pages, 0UL,
				    "cpu %u: %lu pages on its zone %s pcp lists after drain_all_pages()",
				    cpu, r->frozen.pages, zone->name);
		/* I4 on the CPUs that kept running. */
		KUNIT_EXPECT_EQ_MSG(test, r->others_mismatch, 0U,
				    "%u CPUs' pcp->count differs from their lists",
				    r->others_mismatch);
		KUNIT_EXPECT_EQ_MSG(test, r->others_bad, 0UL,
				    "%lu blocks on other CPUs' pcp lists of another zone, PageBuddy or with a refcount",
				    r->others_bad);

		in_buddy = mmguard_parked_in_buddy(r);
		kunit_info(test, "cpu %u: order %u: parked %u/%u (pcp count %d -> %d, high %d); after drain %u in buddy, %u on other CPUs' pcp\n",
			   cpu, order, r->nr_parked, r->nr_allocated,
			   r->count_before, r->after_free.count, r->high, in_buddy,
			   r->elsewhere);

		snprintf(when, sizeof(when), "after draining cpu %u order %u",
			 cpu, order);
		mmguard_audit_zone(zone, &a);
		mmguard_expect_clean(test, zone, &a, when);
	}
	cpus_read_unlock();

	KUNIT_EXPECT_GT(test, rounds, 0U);
	if (!parked_rounds)
		kunit_skip(test,
			   "zone %s pcp lists kept no order-%u block on any CPU; nothing to drain",
			   zone->name, order);
}

static void mmguard_drain_all_pages_empties_every_cpu(struct kunit *test)
{
	mmguard_drain_test(test, 0, MMGUARD_PCP_BATCH);
}

/* The pcp-eligible high orders (pcp_allowed_order() in mm/page_alloc.c). */
static const unsigned int mmguard_pcp_high_orders[] = {
	1, 2, PAGE_ALLOC_COSTLY_ORDER,
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	HPAGE_PMD_ORDER,
#endif
};

static void mmguard_pcp_order_desc(const unsigned int *order, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "order %u", *order);
}

KUNIT_ARRAY_PARAM(mmguard_pcp_high_order, mmguard_pcp_high_orders,
		  mmguard_pcp_order_desc);

static void mmguard_drain_all_pages_empties_high_orders(struct kunit *test)
{
	const unsigned int *order = test->param_value;
	/* A few blocks: enough to see, few enough to stay under pcp->high. */
	unsigned int nr = *order <= PAGE_ALLOC_COSTLY_ORDER ? 8 : 1;

	mmguard_drain_test(test, *order, nr);
}

static struct kunit_case mmguard_freepages_cases[] = {
	KUNIT_CASE(mmguard_audit_is_clean_at_rest),
	KUNIT_CASE(mmguard_alloc_free_every_order_keeps_counters),
	KUNIT_CASE(mmguard_drain_all_pages_empties_every_cpu),
	KUNIT_CASE_PARAM(mmguard_drain_all_pages_empties_high_orders,
			 mmguard_pcp_high_order_gen_params),
	{}
};

static struct kunit_suite mmguard_freepages_suite = {
	.name = "mmguard_freepages",
	.init = mmguard_test_init,
	.exit = mmguard_audit_exit,
	.test_cases = mmguard_freepages_cases,
};

kunit_test_suite(mmguard_freepages_suite);

MODULE_DESCRIPTION("mmguard: KUnit tests of the page allocator's free-page bookkeeping");
MODULE_LICENSE("GPL");
