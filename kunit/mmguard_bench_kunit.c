// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard_bench: the cost of a page allocation and free, timed in the
 * kernel, so that base and patched kernels of the same config can be
 * compared (mmguard bench).
 *
 * Each case times rounds of MMGUARD_BENCH_BATCH alloc_pages() followed by
 * as many __free_pages() of one order, for at least mmguard_bench.ms
 * milliseconds (default 600: under QEMU TCG the guest's clocksource is
 * often refined-jiffies, 4 ms a tick, so a loop must run long enough for
 * the tick to be noise): 0 (the per-cpu list fast path) and
 * the PMD order (a THP-sized block, which the per-cpu lists also cache),
 * either on one CPU or on every online CPU at once. Each timing thread is
 * a kthread bound to its CPU; all of them wait at a barrier and start
 * together, and each times its own loop with ktime_get_ns(). A case is
 * repeated MMGUARD_BENCH_REPS times and prints, as one KTAP diagnostic,
 *
 *   mmguard_bench: case=NAME order=N cpus=N ops=N ns_per_op=N min=N max=N fails=N
 *
 * where ns_per_op is the median over the repetitions of the mean cost of
 * one alloc+free pair (averaged over the CPUs that ran), and min/max are
 * the extremes over the repetitions.
 *
 * The suite skips unless the kernel was booted with mmguard_bench.run=1,
 * so ordinary boots stay fast.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sort.h>

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX "mmguard_bench."

static bool mmguard_bench_run;
module_param_named(run, mmguard_bench_run, bool, 0444);
MODULE_PARM_DESC(run, "run the allocation timing loops (default: skip)");

static unsigned int mmguard_bench_ms = 600;
module_param_named(ms, mmguard_bench_ms, uint, 0444);
MODULE_PARM_DESC(ms, "milliseconds each timing loop runs at least");

#define MMGUARD_BENCH_BATCH	16
#define MMGUARD_BENCH_REPS	5

struct mmguard_bench_thread {
	unsigned int order;
	u64 min_ns;		/* run at least this long */
	atomic_t *ready;	/* threads at the start line */
	atomic_t *go;		/* set by the last one to arrive */
	int nthreads;
	u64 ns;			/* this thread's time in the loop */
	unsigned long ops;	/* alloc+free pairs done */
	unsigned long fails;	/* allocations that returned NULL */
	struct completion done;
};

static int mmguard_bench_fn(void *arg)
{
	struct mmguard_bench_thread *t = arg;
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN;
	struct page *pages[MMGUARD_BENCH_BATCH];
	unsigned int i;
	u64 start, now;

	/* A THP-order block: no reclaim or compaction in the timed path. */
	if (t->order)
		gfp |= __GFP_COMP | __GFP_NORETRY;

	/*
	 * Start together: the last thread to arrive opens the gate. Each
	 * thread has a CPU of its own, so the spinning ones keep nobody
	 * from arriving.
	 */
	if (atomic_inc_return(t->ready) == t->nthreads)
		atomic_set(t->go, 1);
	while (!atomic_read(t->go))
		cpu_relax();

	start = ktime_get_ns();
	do {
		for (i = 0; i < MMGUARD_BENCH_BATCH; i++)
			pages[i] = alloc_pages(gfp, t->order);
		for (i = 0; i < MMGUARD_BENCH_BATCH; i++) {
			if (!pages[i]) {
				t->fails++;
				continue;
			}
			__free_pages(pages[i], t->order);
			t->ops++;
		}
		cond_resched();
		now = ktime_get_ns();
	} while (now - start < t->min_ns);
	t->ns = now - start;
	complete(&t->done);

	/* A bound kthread waits to be stopped rather than exiting early. */
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

struct mmguard_bench_rep {
	u64 ns_per_op;
	unsigned long ops;
	unsigned long fails;
};

/*
 * One repetition: one timing kthread per CPU of @cpus, all created first
 * and then woken together (@threads and @tasks have room for every CPU).
 * @rep gets the mean cost of an alloc+free pair over those CPUs.
 */
static void mmguard_bench_once(struct kunit *test, unsigned int order, const struct cpumask *cpus,
			       struct mmguard_bench_thread *threads, struct task_struct **tasks,
			       struct mmguard_bench_rep *rep)
{
	int n = cpumask_weight(cpus), k = 0, i;
	atomic_t ready = ATOMIC_INIT(0), go = ATOMIC_INIT(0);
	unsigned int cpu;
	u64 sum = 0;

	memset(threads, 0, n * sizeof(*threads));
	for_each_cpu(cpu, cpus) {
		struct mmguard_bench_thread *t = &threads[k];
		struct task_struct *task;

		t->order = order;
		t->min_ns = (u64)mmguard_bench_ms * NSEC_PER_MSEC;
		t->ready = &ready;
		t->go = &go;
		t->nthreads = n;
		init_completion(&t->done);
		task = kthread_create_on_cpu(mmguard_bench_fn, t, cpu, "mmguard_bench/%u");
		if (IS_ERR(task)) {
			KUNIT_FAIL(test, "cannot create a timing thread on CPU %u: %ld",
				   cpu, PTR_ERR(task));
			break;
		}
		tasks[k++] = task;
	}
	if (k < n) {
		/* Never woken: kthread_stop() ends them before they run. */
		for (i = 0; i < k; i++)
			kthread_stop(tasks[i]);
		return;
	}
	for (i = 0; i < n; i++)
		wake_up_process(tasks[i]);
	for (i = 0; i < n; i++) {
		wait_for_completion(&threads[i].done);
		kthread_stop(tasks[i]);
	}
	rep->ops = 0;
	rep->fails = 0;
	for (i = 0; i < n; i++) {
		rep->ops += threads[i].ops;
		rep->fails += threads[i].fails;
		if (threads[i].ops)
			sum += div64_u64(threads[i].ns, threads[i].ops);
	}
	rep->ns_per_op = div64_u64(sum, n);
}

static int mmguard_bench_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void mmguard_bench_case(struct kunit *test, const char *name,
			       unsigned int order, bool all_cpus)
{
	u64 costs[MMGUARD_BENCH_REPS];
	struct mmguard_bench_rep rep = {};
	struct mmguard_bench_thread *threads;
	struct task_struct **tasks;
	unsigned long ops = 0, fails = 0;
	cpumask_var_t cpus;
	int i;

	if (!mmguard_bench_run)
		kunit_skip(test, "boot with mmguard_bench.run=1 to time allocations");
	/* Everything that can abort the case comes before cpus_read_lock(). */
	threads = kunit_kcalloc(test, nr_cpu_ids, sizeof(*threads), GFP_KERNEL);
	tasks = kunit_kcalloc(test, nr_cpu_ids, sizeof(*tasks), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, threads);
	KUNIT_ASSERT_NOT_NULL(test, tasks);
	KUNIT_ASSERT_TRUE_MSG(test, zalloc_cpumask_var(&cpus, GFP_KERNEL),
			      "no memory for a cpumask");

	/* CPU hotplug would take a bound thread's CPU away mid-loop. */
	cpus_read_lock();
	if (all_cpus)
		cpumask_copy(cpus, cpu_online_mask);
	else
		cpumask_set_cpu(cpumask_first(cpu_online_mask), cpus);
	for (i = 0; i < MMGUARD_BENCH_REPS; i++) {
		mmguard_bench_once(test, order, cpus, threads, tasks, &rep);
		costs[i] = rep.ns_per_op;
		ops += rep.ops;
		fails += rep.fails;
	}
	cpus_read_unlock();

	sort(costs, MMGUARD_BENCH_REPS, sizeof(costs[0]), mmguard_bench_cmp, NULL);
	kunit_info(test, "mmguard_bench: case=%s order=%u cpus=%u ops=%lu ns_per_op=%llu min=%llu max=%llu fails=%lu\n",
		   name, order, cpumask_weight(cpus), ops, costs[MMGUARD_BENCH_REPS / 2], costs[0],
		   costs[MMGUARD_BENCH_REPS - 1], fails);
	free_cpumask_var(cpus);
	/* Most of the work must have been timed, or the figure means nothing. */
	KUNIT_EXPECT_LT_MSG(test, fails, ops / 10 + 1,
			    "%lu of %lu allocations failed", fails, ops + fails);
}

static void mmguard_bench_order0_one_cpu(struct kunit *test)
{
	mmguard_bench_case(test, "order0-1cpu", 0, false);
}

static void mmguard_bench_order0_all_cpus(struct kunit *test)
{
	mmguard_bench_case(test, "order0-allcpus", 0, true);
}

/*
 * The order of a THP, spelled so that it also builds without
 * CONFIG_TRANSPARENT_HUGEPAGE (where HPAGE_PMD_ORDER is a BUILD_BUG()).
 */
#define MMGUARD_BENCH_PMD_ORDER	(PMD_SHIFT - PAGE_SHIFT)

static void mmguard_bench_thp_one_cpu(struct kunit *test)
{
	mmguard_bench_case(test, "thp-1cpu", MMGUARD_BENCH_PMD_ORDER, false);
}

static void mmguard_bench_thp_all_cpus(struct kunit *test)
{
	mmguard_bench_case(test, "thp-allcpus", MMGUARD_BENCH_PMD_ORDER, true);
}

static struct kunit_case mmguard_bench_cases[] = {
	KUNIT_CASE(mmguard_bench_order0_one_cpu),
	KUNIT_CASE(mmguard_bench_order0_all_cpus),
	KUNIT_CASE(mmguard_bench_thp_one_cpu),
	KUNIT_CASE(mmguard_bench_thp_all_cpus),
	{}
};

static struct kunit_suite mmguard_bench_suite = {
	.name = "mmguard_bench",
	.test_cases = mmguard_bench_cases,
};

kunit_test_suite(mmguard_bench_suite);

MODULE_DESCRIPTION("mmguard: alloc_pages/__free_pages timing loops");
MODULE_LICENSE("GPL");
