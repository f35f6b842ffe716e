// SPDX-License-Identifier: GPL-2.0
/*
 * pcp_hotplug_stress: CPU offline/online churn while every CPU allocates
 * under memory pressure (seed thread 004).
 *
 * In 2012 the page allocator drained every CPU's per-cpu lists with IPIs
 * after a failed direct reclaim, and machines under memory pressure and CPU
 * hotplug hung. 6.12 drains remote lists under their pcp->lock, without
 * IPIs, and walks the online CPUs without the hotplug lock. This test puts
 * that walk under the load that used to break it, on a guest with 3 or more
 * CPUs:
 *
 *  - memory is filled close to the limit with anonymous memory (there is no
 *    swap, so it cannot be reclaimed), leaving a pool of MADV_FREE ("lazy
 *    free") pages that reclaim may discard: direct reclaim then makes some
 *    progress and order-0 allocations succeed, but high-order ones still
 *    fail after it, which is when __alloc_pages_direct_reclaim() drains
 *    every CPU's lists (drain_all_pages(NULL));
 *  - one "lazy" worker per CPU keeps dirtying and freeing its part of the
 *    pool (each discarded page refaults: an order-0 allocation under
 *    pressure), one "thp" worker per CPU keeps faulting MADV_HUGEPAGE
 *    regions (order-9 allocations with direct compaction and reclaim);
 *  - phase 1 (a third of the time): pressure only; the function-call IPIs
 *    (CAL in /proc/interrupts, summed over the CPUs) of that phase are
 *    printed as "# CAL ipis: N", next to an idle baseline;
 *  - phase 2: pressure plus CPU hotplug churn: the CPUs other than CPU 0
 *    go offline and online in turn through /sys/devices/system/cpu/cpuN/
 *    online (one at a time), with /proc/sys/vm/compact_memory every fourth
 *    cycle.
 *
 * It asserts that the memory was filled, that direct reclaim ran and
 * high-order faults were tried, that hotplug cycles completed, that every
 * worker lived to the end (no OOM kill), and, after everything was freed
 * and all CPUs are back, that the free-page counters are sane: for every
 * zone the free blocks of /proc/buddyinfo add up to nr_free_pages of
 * /proc/zoneinfo (after /proc/sys/vm/stat_refresh folded the per-cpu
 * deltas), and MemFree came back. Kernel reports are caught by the harness.
 *
 * With patches/measure/pcp-drain-counters.patch applied (a measurement,
 * not part of the stack) it also prints the kernel's drain counters.
 *
 * Time: PCP_STRESS_SECONDS (environment; "PCP_STRESS_SECONDS=300" on the
 * kernel command line reaches init's environment) seconds for the two
 * phases, default 24; the fill has its own limit of 20 s. Skips without
 * root, with fewer than 3 online CPUs or with no CPU that can go offline.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmguard_util.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23
#endif

#define MAX_CPUS	64
#define MAX_ZONES	16
#define THP_SIZE	(2UL << 20)
#define FILL_CHUNK	(4UL << 20)
#define LAZY_POOL_KB	(128UL << 10)	/* the reclaimable pool, all workers */
#define FILL_SECONDS	20.0

/* Counters the workers share with the parent (MAP_SHARED). */
struct shared {
	volatile int stop;		/* phase 2 over: workers exit */
	volatile int fill_done;
	unsigned long fill_kb;		/* filled so far, per filler */
	unsigned long lazy_rounds[MAX_CPUS];
	unsigned long thp_faults[MAX_CPUS];
	unsigned long cycles;		/* offline+online cycles done */
	unsigned long hotplug_errors;
	unsigned long compactions;
	char hotplug_error[160];
};

static struct shared *sh;
static long page_size;
static int hp_cpus[MAX_CPUS];		/* CPUs with a writable online file */
static int nr_hp;

/* Sum of the /proc/vmstat counters whose name starts with @prefix. */
static unsigned long vmstat(const char *prefix)
{
	char name[64];
	unsigned long val, sum = 0;
	FILE *f = fopen("/proc/vmstat", "r");

	if (!f)
		return 0;
	while (fscanf(f, "%63s %lu", name, &val) == 2)
		if (!strncmp(name, prefix, strlen(prefix)))
			sum += val;
	fclose(f);
	return sum;
}

/*
 * Sum over the CPUs of a /proc/interrupts line ("CAL", "TLB"). The file
 * has a column per online CPU only, so read it with every CPU online.
 */
static unsigned long long irq_sum(const char *name, int *columns)
{
	char line[4096];
	unsigned long long sum = 0;
	int ncol = 0;
	FILE *f = fopen("/proc/interrupts", "r");

	if (!f)
		return 0;
	if (fgets(line, sizeof(line), f)) {
		char *p = line;

		while ((p = strstr(p, "CPU"))) {
			ncol++;
			p += 3;
		}
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		int i;

		while (*p == ' ')
			p++;
		if (strncmp(p, name, strlen(name)) || p[strlen(name)] != ':')
			continue;
		p += strlen(name) + 1;
		for (i = 0; i < ncol; i++) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			sum += v;
			p = end;
		}
		break;
	}
	fclose(f);
	if (columns)
		*columns = ncol;
	return sum;
}

/*
 * Drain counters, when the kernel has the measurement patch
 * patches/measure/pcp-drain-counters.patch; printed as they are.
 */
static void print_drain_stats(const char *when)
{
	char buf[256];

	if (mmg_read_file("/sys/module/page_alloc/parameters/drain_stats", buf,
		      sizeof(buf)) > 0)
		ksft_print_msg("drain_stats %s: %s", when, buf);
}

static int cpu_online_path(int cpu, char *path, size_t size)
{
	return snprintf(path, size, "/sys/devices/system/cpu/cpu%d/online", cpu);
}

static int set_cpu_online(int cpu, bool online)
{
	char path[80];

	cpu_online_path(cpu, path, sizeof(path));
	return mmg_write_file(path, online ? "1" : "0");
}

static bool cpu_is_online(int cpu)
{
	char path[80], buf[8];

	cpu_online_path(cpu, path, sizeof(path));
	if (mmg_read_file(path, buf, sizeof(buf)) <= 0)
		return true;	/* no online file: CPU 0, always online */
	return buf[0] == '1';
}

static void all_cpus_online(void)
{
	int i;

	for (i = 0; i < nr_hp; i++)
		if (!cpu_is_online(hp_cpus[i]))
			set_cpu_online(hp_cpus[i], true);
}

static void set_oom_score_adj(const char *val)
{
	mmg_write_file("/proc/self/oom_score_adj", val);
}

/* Anonymous memory the reclaim cannot take (no swap), 4 KiB pages. */
static void __attribute__((noreturn)) filler(unsigned long target_kb,
					     double deadline)
{
	unsigned long done = 0;

	set_oom_score_adj("1000");
	while (done < target_kb && mmg_now() < deadline && !sh->stop) {
		char *p = mmap(NULL, FILL_CHUNK, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			break;
		madvise(p, FILL_CHUNK, MADV_NOHUGEPAGE);
		if (madvise(p, FILL_CHUNK, MADV_POPULATE_WRITE))
			memset(p, 0x11, FILL_CHUNK);
		done += FILL_CHUNK >> 10;
		__atomic_add_fetch(&sh->fill_kb, FILL_CHUNK >> 10,
				   __ATOMIC_RELAXED);
	}
	while (!sh->stop)
		pause();
	_exit(0);
}

/*
 * Dirty the pool, then MADV_FREE it, in 1 MiB steps: reclaim may discard
 * freed pages at any time, and writing to a discarded page allocates again.
 */
static void __attribute__((noreturn)) lazy_worker(int idx, unsigned long kb)
{
	size_t len = kb << 10, step = 1UL << 20, off;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	set_oom_score_adj("1000");
	if (p == MAP_FAILED)
		_exit(1);
	madvise(p, len, MADV_NOHUGEPAGE);
	while (!sh->stop) {
		for (off = 0; off + step <= len && !sh->stop; off += step) {
			size_t i;

			for (i = 0; i < step; i += page_size)
				p[off + i] = 1;
			madvise(p + off, step, MADV_FREE);
		}
		sh->lazy_rounds[idx]++;
	}
	_exit(0);
}

/* Fault one THP-sized, THP-aligned MADV_HUGEPAGE region after another. */
static void __attribute__((noreturn)) thp_worker(int idx)
{
	set_oom_score_adj("1000");
	while (!sh->stop) {
		char *area = mmap(NULL, 2 * THP_SIZE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *p;

		if (area == MAP_FAILED)
			_exit(1);
		p = (char *)(((uintptr_t)area + THP_SIZE - 1) & ~(THP_SIZE - 1));
		madvise(p, THP_SIZE, MADV_HUGEPAGE);
		p[0] = 1;	/* a THP, or one 4 KiB page if none was had */
		munmap(area, 2 * THP_SIZE);
		sh->thp_faults[idx]++;
	}
	_exit(0);
}

/* One CPU at a time goes offline and comes back, until @deadline. */
static void __attribute__((noreturn)) hotplug_churn(double deadline)
{
	int i = 0, err;

	set_oom_score_adj("-1000");
	while (mmg_now() < deadline) {
		int cpu = hp_cpus[i++ % nr_hp];

		err = set_cpu_online(cpu, false);
		if (!err && cpu_is_online(cpu))
			err = -EEXIST;
		if (!err) {
			err = set_cpu_online(cpu, true);
			if (!err && !cpu_is_online(cpu))
				err = -ENOENT;
		}
		if (err) {
			sh->hotplug_errors++;
			snprintf(sh->hotplug_error, sizeof(sh->hotplug_error),
				 "cpu %d: %s", cpu, strerror(-err));
			set_cpu_online(cpu, true);
			continue;
		}
		sh->cycles++;
		if (sh->cycles % 4 == 0 &&
		    !mmg_write_file("/proc/sys/vm/compact_memory", "1"))
			sh->compactions++;
	}
	_exit(0);
}

struct zone_free {
	char name[32];
	int node;
	long buddy;		/* pages in /proc/buddyinfo */
	long nr_free;		/* nr_free_pages in /proc/zoneinfo */
};

/* Fills @z from /proc/buddyinfo and /proc/zoneinfo; returns the zones. */
static int read_zone_free(struct zone_free *z)
{
	char line[512], name[32];
	int n = 0, node, i;
	FILE *f = fopen("/proc/buddyinfo", "r");

	if (!f)
		return 0;
	while (n < MAX_ZONES && fgets(line, sizeof(line), f)) {
		char *p;
		int off;

		if (sscanf(line, "Node %d, zone %31s%n", &node, name, &off) != 2)
			continue;
		z[n].node = node;
		snprintf(z[n].name, sizeof(z[n].name), "%s", name);
		z[n].buddy = 0;
		z[n].nr_free = -1;
		p = line + off;
		for (i = 0; ; i++) {
			char *end;
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			z[n].buddy += v << i;
			p = end;
		}
		n++;
	}
	fclose(f);

	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return n;
	i = -1;
	while (fgets(line, sizeof(line), f)) {
		long v;
		int k;

		if (sscanf(line, "Node %d, zone %31s", &node, name) == 2) {
			i = -1;
			for (k = 0; k < n; k++)
				if (z[k].node == node && !strcmp(z[k].name, name))
					i = k;
			continue;
		}
		/* The first nr_free_pages after the zone header is the zone's. */
		if (i >= 0 && z[i].nr_free < 0 &&
		    sscanf(line, " nr_free_pages %ld", &v) == 1)
			z[i].nr_free = v;
	}
	fclose(f);
	return n;
}

/*
 * Free blocks on the buddy lists and NR_FREE_PAGES change together under
 * zone->lock, but the two files are read one after the other and the
 * counter may hold per-cpu deltas: fold them, compare, and allow a few
 * tries for activity between the reads. Returns the zones that disagreed
 * in the best try.
 */
static int check_free_counters(int *best_diff)
{
	struct zone_free z[MAX_ZONES];
	int tries, best = MAX_ZONES + 1, n, i, bad;

	*best_diff = -1;
	for (tries = 0; tries < 20 && best; tries++) {
		long worst = 0;

		mmg_write_file("/proc/sys/vm/stat_refresh", "1");
		n = read_zone_free(z);
		if (!n)
			return MAX_ZONES + 1;
		bad = 0;
		for (i = 0; i < n; i++) {
			long d = labs(z[i].buddy - z[i].nr_free);

			if (z[i].nr_free < 0 || d) {
				bad++;
				if (d > worst)
					worst = d;
			}
		}
		if (bad < best) {
			best = bad;
			*best_diff = worst;
		}
		if (tries == 0 || !bad)
			for (i = 0; i < n; i++)
				ksft_print_msg("try %d: node %d zone %s: buddyinfo %ld pages, nr_free_pages %ld\n",
					       tries, z[i].node, z[i].name,
					       z[i].buddy, z[i].nr_free);
	}
	return best;
}

static void stop_all(pid_t *pids, int n)
{
	int i;

	sh->stop = 1;
	for (i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], SIGKILL);
}

int main(void)
{
	const char *env = getenv("PCP_STRESS_SECONDS");
	double seconds = env ? atof(env) : 24, t0, t1, fill_deadline;
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), nproc = 0, i, status;
	int cols0, cols1, died = 0, bad_zones, worst_diff;
	unsigned long long cal_idle0, cal_idle1, cal0, cal1, cal2, tlb0, tlb1;
	unsigned long stall0, stall1, stall2, thpa0, thpf0, thpa1, thpf1;
	unsigned long oom0, oom1, lazy_total = 0, thp_total = 0;
	long free_start, free_filled, free_end, total, min_free_kb;
	unsigned long fill_target;
	pid_t pids[3 * MAX_CPUS + 2], churn_pid;
	char buf[256];

	page_size = sysconf(_SC_PAGESIZE);
	ksft_print_header();
	/* Skips come before the plan, so they print "1..0 # SKIP reason". */
	if (geteuid() != 0)
		ksft_exit_skip("needs root for CPU hotplug and /proc/sys/vm\n");
	if (ncpus < 3)
		ksft_exit_skip("needs 3 online CPUs (has %d): run with --cpus 3\n",
			       ncpus);
	if (ncpus > MAX_CPUS)
		ncpus = MAX_CPUS;
	for (i = 1; i < MAX_CPUS; i++) {
		char path[80];

		cpu_online_path(i, path, sizeof(path));
		if (access(path, W_OK) == 0 && cpu_is_online(i))
			hp_cpus[nr_hp++] = i;
	}
	if (!nr_hp)
		ksft_exit_skip("no CPU has a writable online file\n");
	if (mmg_read_file("/sys/kernel/mm/transparent_hugepage/enabled", buf,
		      sizeof(buf)) <= 0 || strstr(buf, "[never]"))
		ksft_exit_skip("transparent hugepages are off\n");
	ksft_set_plan(6);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	memset(sh, 0, sizeof(*sh));
	set_oom_score_adj("-1000");

	total = mmg_meminfo_kb("MemTotal");
	min_free_kb = 0;
	if (mmg_read_file("/proc/sys/vm/min_free_kbytes", buf, sizeof(buf)) > 0)
		min_free_kb = atol(buf);

	/* Idle baseline of function-call IPIs, 2 s, every CPU online. */
	cal_idle0 = irq_sum("CAL", NULL);
	t0 = mmg_now();
	sleep(2);
	cal_idle1 = irq_sum("CAL", NULL);
	ksft_print_msg("CAL ipis idle: %llu in %.1f s\n", cal_idle1 - cal_idle0,
		       mmg_now() - t0);

	/* Lazy pool first, so the fill below pushes part of it out. */
	free_start = mmg_meminfo_kb("MemFree");
	for (i = 0; i < ncpus; i++) {
		pids[nproc] = fork();
		if (pids[nproc] == 0)
			lazy_worker(i, LAZY_POOL_KB / ncpus);
		if (pids[nproc] < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
		nproc++;
	}

	/*
	 * Fill so that half of the lazy pool does not fit: free memory then
	 * stays at the watermarks, and what is left besides the pool is room
	 * for the THP workers and the pool's dirty steps, so order-0
	 * allocations are served by discarding lazy pages, not by the OOM
	 * killer.
	 */
	{
		long reserve = 2 * min_free_kb + 16 * 1024 + ncpus * 4 * 1024;
		long avail = free_start - (long)LAZY_POOL_KB - reserve +
			     (long)LAZY_POOL_KB / 2;

		fill_target = avail > 0 ? avail : 0;
	}
	ksft_print_msg("%d CPUs (%d can go offline), MemTotal %ld kB, MemFree %ld kB, min_free_kbytes %ld; filling %lu kB, lazy pool %lu kB, %.0f s of stress\n",
		       ncpus, nr_hp, total, free_start, min_free_kb, fill_target,
		       LAZY_POOL_KB, seconds);
	t0 = mmg_now();
	fill_deadline = t0 + FILL_SECONDS;
	for (i = 0; i < ncpus; i++) {
		pids[nproc] = fork();
		if (pids[nproc] == 0)
			filler(fill_target / ncpus, fill_deadline);
		if (pids[nproc] < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
		nproc++;
	}
	while (sh->fill_kb + FILL_CHUNK / 1024 * ncpus < fill_target &&
	       mmg_now() < fill_deadline)
		usleep(100000);
	free_filled = mmg_meminfo_kb("MemFree");
	ksft_print_msg("filled %lu kB in %.1f s, MemFree %ld kB\n", sh->fill_kb,
		       mmg_now() - t0, free_filled);
	ksft_test_result(sh->fill_kb + FILL_CHUNK / 1024 * ncpus >= fill_target,
			 "memory filled to its limit (%lu of %lu kB)\n",
			 sh->fill_kb, fill_target);

	/* Phase 1: pressure only. */
	for (i = 0; i < ncpus; i++) {
		pids[nproc] = fork();
		if (pids[nproc] == 0)
			thp_worker(i);
		if (pids[nproc] < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
		nproc++;
	}
	stall0 = vmstat("allocstall_");
	thpa0 = vmstat("thp_fault_alloc");
	thpf0 = vmstat("thp_fault_fallback");
	oom0 = vmstat("oom_kill");
	print_drain_stats("before pressure");
	cal0 = irq_sum("CAL", &cols0);
	tlb0 = irq_sum("TLB", NULL);
	t0 = mmg_now();
	usleep((useconds_t)(seconds / 3 * 1e6));
	cal1 = irq_sum("CAL", &cols1);
	tlb1 = irq_sum("TLB", NULL);
	t1 = mmg_now();
	stall1 = vmstat("allocstall_");
	print_drain_stats("after phase 1");
	ksft_print_msg("CAL ipis: %llu in %.1f s of allocator pressure (TLB shootdowns %llu, direct reclaim stalls %lu, %d CPUs)\n",
		       cal1 - cal0, t1 - t0, tlb1 - tlb0, stall1 - stall0, cols1);

	/* Phase 2: pressure and CPU hotplug. */
	churn_pid = fork();
	if (churn_pid == 0)
		hotplug_churn(mmg_now() + seconds * 2 / 3);
	if (churn_pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	t0 = mmg_now();
	if (waitpid(churn_pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		ksft_print_msg("hotplug churn ended with status 0x%x\n", status);
	t1 = mmg_now();
	stall2 = vmstat("allocstall_");
	print_drain_stats("after phase 2");
	all_cpus_online();
	cal2 = irq_sum("CAL", NULL);
	ksft_print_msg("hotplug: %lu cycles in %.1f s, %lu errors%s%s, %lu compactions; CAL ipis during churn %llu\n",
		       sh->cycles, t1 - t0, sh->hotplug_errors,
		       sh->hotplug_errors ? ", last: " : "", sh->hotplug_error,
		       sh->compactions, cal2 - cal1);

	/* Did every worker live to the end? */
	for (i = 0; i < nproc; i++)
		if (waitpid(pids[i], &status, WNOHANG) != 0) {
			died++;
			pids[i] = 0;
		}
	thpa1 = vmstat("thp_fault_alloc");
	thpf1 = vmstat("thp_fault_fallback");
	oom1 = vmstat("oom_kill");
	for (i = 0; i < ncpus; i++) {
		lazy_total += sh->lazy_rounds[i];
		thp_total += sh->thp_faults[i];
	}
	stop_all(pids, nproc);
	for (i = 0; i < nproc; i++)
		if (pids[i] > 0)
			waitpid(pids[i], &status, 0);

	ksft_print_msg("direct reclaim stalls %lu (phase 1 %lu, phase 2 %lu), THP faults %lu: %lu THPs, %lu fallbacks; %lu lazy rounds; %lu OOM kills\n",
		       stall2 - stall0, stall1 - stall0, stall2 - stall1,
		       thp_total, thpa1 - thpa0, thpf1 - thpf0, lazy_total,
		       oom1 - oom0);
	ksft_test_result(stall2 > stall0 && thp_total > 0 &&
			 thpa1 + thpf1 > thpa0 + thpf0,
			 "direct reclaim ran and high-order faults were tried\n");
	ksft_test_result(sh->cycles > 0,
			 "CPU hotplug cycles under allocator pressure survived\n");
	ksft_test_result(died == 0 && oom1 == oom0,
			 "every worker ran to the end (%d ended early, %lu OOM kills)\n",
			 died, oom1 - oom0);

	bad_zones = check_free_counters(&worst_diff);
	if (bad_zones)
		ksft_print_msg("%d zones disagreed in the best of 20 tries, by up to %d pages\n",
			       bad_zones, worst_diff);
	ksft_test_result(bad_zones == 0,
			 "free blocks of every zone add up to its nr_free_pages\n");
	free_end = mmg_meminfo_kb("MemFree");
	ksft_print_msg("MemFree %ld kB before, %ld kB filled, %ld kB after\n",
		       free_start, free_filled, free_end);
	/* Slab and page tables grown by the stress may keep a little. */
	ksft_test_result(free_end >= free_start - total / 20,
			 "the memory came back (MemFree %ld of %ld kB)\n",
			 free_end, free_start);
	all_cpus_online();
	ksft_finished();
}
