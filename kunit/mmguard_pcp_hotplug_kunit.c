// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard_pcp_hotplug: a CPU taken offline hands back every page on its
 * per-cpu lists, and comes back online with empty lists.
 *
 * __drain_all_pages() walks the online CPUs without the hotplug lock; that
 * is safe only because page_alloc_cpu_dead() drains a CPU's lists once it
 * has stopped, and nothing can fill them again until it runs. The case
 * parks a batch of order-0 pages on one CPU's lists (a kthread bound to
 * that CPU allocates and frees them), takes the CPU offline with
 * remove_cpu(), and checks that its lists of every zone are empty (the free
 * lists and counters stay consistent: every zone is audited at the end,
 * mmguard_audit.h); then it brings the CPU back with add_cpu(), where the
 * stack's DEBUG_VM check looks at the lists once more.
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

#include "../internal.h"
#include "mmguard_audit.h"

#define MMGUARD_PARKED	64
#define MMGUARD_ROUNDS	4

struct mmguard_park {
	struct page *pages[MMGUARD_PARKED];
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

static void mmguard_offline_cpu_hands_back_pcp_pages(struct kunit *test)
{
	struct mmguard_hotplug_ctx *ctx;
	struct mmguard_park *park;
	struct zone *zone;
	int round, before, with_pages = 0, ret;

	if (!IS_ENABLED(CONFIG_HOTPLUG_CPU))
		kunit_skip(test, "CONFIG_HOTPLUG_CPU is off");
	if (num_online_cpus() < 2)
		kunit_skip(test, "needs two online CPUs");

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

static struct kunit_case mmguard_pcp_hotplug_cases[] = {
	KUNIT_CASE(mmguard_offline_cpu_hands_back_pcp_pages),
	{}
};

static struct kunit_suite mmguard_pcp_hotplug_suite = {
	.name = "mmguard_pcp_hotplug",
	.test_cases = mmguard_pcp_hotplug_cases,
};
kunit_test_suite(mmguard_pcp_hotplug_suite);

MODULE_DESCRIPTION("mmguard: KUnit test of per-cpu page lists across CPU hotplug");
MODULE_LICENSE("GPL");
