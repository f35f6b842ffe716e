// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard_pcp_hotplug: a CPU taken offline hands back every page on its
 * per-cpu lists, and comes back online with empty lists.
 *
 * __drain_all_pages() takes no hotplug lock; a CPU that goes offline is
 * drained by page_alloc_cpu_dead() once it has stopped, and nothing can
 * fill its lists again until it runs. The first case parks a batch of
 * order-0 pages and a block of each of the orders 1, 3 and 9 on one CPU's
 * lists (a kthread bound to that CPU allocates and frees them), takes the
 * CPU offline with remove_cpu(), and checks that its lists of every zone
 * are empty (the free lists and counters stay consistent: every zone is
 * audited at the end, mmguard_audit.h); then it brings the CPU back with
 * add_cpu(), where the stack's DEBUG_VM check looks at the lists once more.
 *
 * Two more cases look at the drains a CPU going offline must not escape:
 *
 *  - drain_all_pages(zone) run while a CPU is going offline: after the CPU
 *    left cpu_online_mask (take_cpu_down()) and before page_alloc_cpu_dead()
 *    drained it, its lists still hold pages. A dynamic prepare-state
 *    teardown callback runs in exactly that window (CPUHP_BP_PREPARE_DYN is
 *    above CPUHP_PAGE_ALLOC, so it is torn down first); it drains the zone
 *    there, as a concurrent CMA allocation on another CPU could, and the
 *    case expects the dying CPU's lists of that zone to be empty after.
 *    On 6.12, which walks only the online CPUs, they are not.
 *  - zone_pcp_disable() with pages parked on every online CPU: after it,
 *    under each CPU's pcp->lock, no page of the zone may be on any list
 *    (with pcp->high at 0 nothing stays there once the lock is dropped).
 *
 * Skipped, saying why, on a kernel without CPU hotplug, with one CPU, or
 * when the chosen CPU cannot go offline.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/sched.h>
#include <linux/cpuhotplug.h>
#include <linux/spinlock.h>

#include "../internal.h"
#include "mmguard_audit.h"

#define MMGUARD_PARKED	64
#define MMGUARD_ROUNDS	4

/* High-order blocks parked beside the order-0 pages (pcp_allowed_order()). */
static const unsigned int mmguard_park_orders[] = {
	1, PAGE_ALLOC_COSTLY_ORDER,
#ifdef CONFIG_TRANSPARENT_HUGEPAGE
	HPAGE_PMD_ORDER,
#endif
};

struct mmguard_park {
	struct page *pages[MMGUARD_PARKED];
	struct page *blocks[ARRAY_SIZE(mmguard_park_orders)];
	struct zone *zone;
	struct completion parked;
};

struct mmguard_hotplug_ctx {
	unsigned int cpu;
	bool offline;		/* the case took ->cpu down */
};

/* On the target CPU: allocate, then free, so the pages stay on its lists. */
static int mmguard_park_pages(void *arg)
{
	struct mmguard_park *park = arg;
	int i;

	for (i = 0; i < MMGUARD_PARKED; i++)
		park->pages[i] = alloc_page(GFP_KERNEL | __GFP_NOWARN);
	for (i = 0; i < ARRAY_SIZE(mmguard_park_orders); i++)
		park->blocks[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN |
					      __GFP_NORETRY, mmguard_park_orders[i]);
	for (i = 0; i < ARRAY_SIZE(mmguard_park_orders); i++)
		if (park->blocks[i])
			__free_pages(park->blocks[i], mmguard_park_orders[i]);
	for (i = 0; i < MMGUARD_PARKED; i++) {
		if (!park->pages[i])
			continue;
		park->zone = page_zone(park->pages[i]);
		__free_page(park->pages[i]);
	}
	complete(&park->parked);

	/* A per-cpu kthread must not outlive its CPU: wait to be stopped. */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

static void mmguard_bring_cpu_back(void *arg)
{
	struct mmguard_hotplug_ctx *ctx = arg;

	if (ctx->offline && !add_cpu(ctx->cpu))
		ctx->offline = false;
}

static int mmguard_pcp_count(struct zone *zone, unsigned int cpu)
{
	return READ_ONCE(per_cpu_ptr(zone->per_cpu_pageset, cpu)->count);
}

/* Parks pages on @cpu's lists; returns its pcp count of their zone after. */
static int mmguard_park_on(struct kunit *test, struct mmguard_park *park,
			   unsigned int cpu)
{
	struct task_struct *t;

	memset(park, 0, sizeof(*park));
	init_completion(&park->parked);
	t = kthread_create_on_cpu(mmguard_park_pages, park, cpu,
				  "mmguard_park/%u");
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(t), "no kthread on CPU %u", cpu);
	wake_up_process(t);
	wait_for_completion(&park->parked);
	kthread_stop(t);
	KUNIT_ASSERT_NOT_NULL_MSG(test, park->zone, "no page could be allocated");
	return mmguard_pcp_count(park->zone, cpu);
}

/* Skips the case unless a CPU can be taken offline and brought back. */
static void mmguard_need_cpu_hotplug(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU))
		kunit_skip(test, "CONFIG_HOTPLUG_CPU is off");
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
}

static void mmguard_offline_cpu_hands_back_pcp_pages(struct kunit *test)
{
	struct mmguard_hotplug_ctx *ctx;
	struct mmguard_park *park;
	struct zone *zone;
	int round, before, with_pages = 0, ret;

	mmguard_need_cpu_hotplug(test);

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	park = kunit_kzalloc(test, sizeof(*park), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_NOT_NULL(test, park);
	/* CPU 0 often cannot go offline; the last one usually can. */
	ctx->cpu = cpumask_last(cpu_online_mask);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mmguard_bring_cpu_back, ctx), 0);

	/*
	 * Several rounds: other paths (periodic pcp decay and drains) may
	 * empty the lists between the parking and the offline, which would
	 * hide a missing drain in that round, not in all of them.
	 */
	for (round = 0; round < MMGUARD_ROUNDS; round++) {
		before = mmguard_park_on(test, park, ctx->cpu);
		/*
		 * Under memory pressure (a large cma= area, say) pcp->high can
		 * be so low that freed pages go straight back to the buddy
		 * allocator: then this round has nothing to hand back.
		 */
		if (before)
			with_pages++;

		ret = remove_cpu(ctx->cpu);
		if (ret)
			kunit_skip(test, "CPU %u cannot go offline (%d)", ctx->cpu, ret);
		ctx->offline = true;
		for_each_populated_zone(zone)
			KUNIT_EXPECT_EQ_MSG(test, mmguard_pcp_count(zone, ctx->cpu), 0,
					    "round %d: offline CPU %u still has pages on its zone %s pcp lists (%d before)",
					    round, ctx->cpu, zone->name, before);
		kunit_info(test, "round %d: CPU %u had %d pages on its zone %s pcp lists before going offline",
			   round, ctx->cpu, before, park->zone->name);

		ret = add_cpu(ctx->cpu);
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "CPU %u did not come back online", ctx->cpu);
		ctx->offline = false;
	}
	if (!with_pages)
		kunit_skip(test, "CPU %u kept none of %d freed pages on its pcp lists in %d rounds",
			   ctx->cpu, MMGUARD_PARKED, MMGUARD_ROUNDS);
	mmguard_audit_all_zones(test, "after the offline/online cycles");
}

/* What the teardown callback saw of the dying CPU's lists. */
struct mmguard_window {
	unsigned int cpu;
	struct zone *zone;
	bool seen;		/* the callback ran for ->cpu */
	bool online;		/* ->cpu was in cpu_online_mask there */
	int before;		/* its pcp count of ->zone before the drain */
	int after;		/* ... and after drain_all_pages(->zone) */
};

/* Hotplug callbacks take no argument: the case publishes its window here. */
static struct mmguard_window *mmguard_window;

/*
 * Torn down on the control CPU after the dying CPU stopped and before
 * CPUHP_PAGE_ALLOC's page_alloc_cpu_dead() drains it.
 */
static int mmguard_window_teardown(unsigned int cpu)
{
	struct mmguard_window *w = READ_ONCE(mmguard_window);

	if (!w || w->cpu != cpu || w->seen)
		return 0;
	w->online = cpu_online(cpu);
	w->before = mmguard_pcp_count(w->zone, cpu);
	drain_all_pages(w->zone);
	w->after = mmguard_pcp_count(w->zone, cpu);
	w->seen = true;
	return 0;
}

static void mmguard_window_remove(void *arg)
{
	WRITE_ONCE(mmguard_window, NULL);
	cpuhp_remove_state_nocalls((enum cpuhp_state)(long)arg);
}

static void mmguard_drain_reaches_a_cpu_going_offline(struct kunit *test)
{
	struct mmguard_hotplug_ctx *ctx;
	struct mmguard_window *w;
	struct mmguard_park *park;
	int round, state, ret, with_pages = 0;

	mmguard_need_cpu_hotplug(test);

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	park = kunit_kzalloc(test, sizeof(*park), GFP_KERNEL);
	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	KUNIT_ASSERT_NOT_NULL(test, park);
	KUNIT_ASSERT_NOT_NULL(test, w);
	ctx->cpu = cpumask_last(cpu_online_mask);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mmguard_bring_cpu_back, ctx), 0);

	state = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN,
					  "mm/mmguard_kunit:drain_window",
					  NULL, mmguard_window_teardown);
	KUNIT_ASSERT_GT_MSG(test, state, 0, "no dynamic prepare state (%d)", state);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, mmguard_window_remove,
							(void *)(long)state), 0);

	/* Rounds, as above: something else may empty the lists first. */
	for (round = 0; round < MMGUARD_ROUNDS && !with_pages; round++) {
		int parked = mmguard_park_on(test, park, ctx->cpu);

		memset(w, 0, sizeof(*w));
		w->cpu = ctx->cpu;
		w->zone = park->zone;
		WRITE_ONCE(mmguard_window, w);
		ret = remove_cpu(ctx->cpu);
		WRITE_ONCE(mmguard_window, NULL);
		if (ret)
			kunit_skip(test, "CPU %u cannot go offline (%d)", ctx->cpu, ret);
		ctx->offline = true;

		KUNIT_ASSERT_TRUE_MSG(test, w->seen, "the teardown callback did not run for CPU %u",
				      ctx->cpu);
		KUNIT_EXPECT_FALSE_MSG(test, w->online,
				       "CPU %u was still in cpu_online_mask in its prepare-state teardown",
				       ctx->cpu);
		kunit_info(test, "round %d: CPU %u parked %d pages; going offline it had %d on its zone %s pcp lists, %d after drain_all_pages()",
			   round, ctx->cpu, parked, w->before, w->zone->name, w->after);
		if (w->before)
			with_pages++;
		KUNIT_EXPECT_EQ_MSG(test, w->after, 0,
				    "drain_all_pages(%s) while CPU %u was going offline (out of cpu_online_mask, not yet drained by page_alloc_cpu_dead()) left %d of its %d pages on its lists",
				    w->zone->name, ctx->cpu, w->after, w->before);

		ret = add_cpu(ctx->cpu);
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "CPU %u did not come back online", ctx->cpu);
		ctx->offline = false;
	}
	if (!with_pages)
		kunit_skip(test, "CPU %u had no page on its pcp lists going offline in %d rounds",
			   ctx->cpu, MMGUARD_ROUNDS);
	mmguard_audit_all_zones(test, "after the drains in the offline window");
}

/* Its pcp count of @zone, read under its pcp->lock (a stable value). */
static int mmguard_pcp_count_locked(struct zone *zone, unsigned int cpu)
{
	struct per_cpu_pages *pcp = per_cpu_ptr(zone->per_cpu_pageset, cpu);
	unsigned long flags;
	int count;

	spin_lock_irqsave(&pcp->lock, flags);
	count = pcp->count;
	spin_unlock_irqrestore(&pcp->lock, flags);
	return count;
}

static void mmguard_pcp_disable_empties_every_cpu(struct kunit *test)
{
	struct mmguard_park *park;
	struct zone *zone = NULL;
	unsigned int cpu;
	int round, parked, with_pages = 0;

	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");
	park = kunit_kzalloc(test, sizeof(*park), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, park);

	for (round = 0; round < MMGUARD_ROUNDS; round++) {
		for_each_online_cpu(cpu) {
			parked = mmguard_park_on(test, park, cpu);
			if (zone && zone != park->zone)
				continue;	/* a fallback zone: not counted */
			zone = park->zone;
			if (parked)
				with_pages++;
		}
		zone_pcp_disable(zone);
		for_each_possible_cpu(cpu)
			KUNIT_EXPECT_EQ_MSG(test, mmguard_pcp_count_locked(zone, cpu), 0,
					    "round %d: CPU %u (%s) keeps pages on its zone %s pcp lists after zone_pcp_disable()",
					    round, cpu, cpu_online(cpu) ? "online" : "offline",
					    zone->name);
		zone_pcp_enable(zone);
	}
	if (!with_pages)
		kunit_skip(test, "no CPU kept a parked page on its pcp lists");
	kunit_info(test, "%d CPU rounds had pages parked on zone %s before zone_pcp_disable()",
		   with_pages, zone->name);
	mmguard_audit_all_zones(test, "after zone_pcp_disable() and zone_pcp_enable()");
}

static struct kunit_case mmguard_pcp_hotplug_cases[] = {
	KUNIT_CASE(mmguard_offline_cpu_hands_back_pcp_pages),
	KUNIT_CASE(mmguard_drain_reaches_a_cpu_going_offline),
	KUNIT_CASE(mmguard_pcp_disable_empties_every_cpu),
	{}
};

static struct kunit_suite mmguard_pcp_hotplug_suite = {
	.name = "mmguard_pcp_hotplug",
	.test_cases = mmguard_pcp_hotplug_cases,
};

kunit_test_suite(mmguard_pcp_hotplug_suite);

MODULE_DESCRIPTION("mmguard: KUnit test of per-cpu page lists across CPU hotplug");
MODULE_LICENSE("GPL");
