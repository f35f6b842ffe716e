// SPDX-License-Identifier: GPL-2.0
/*
 * cma_drift: seed thread 003's experiment on 6.12.  While a memory load
 * runs on every CPU, allocate and release 8 MiB from the CMA area 30 times
 * (debugfs cma/<area>/alloc and free, i.e. cma_alloc() ->
 * alloc_contig_range(), which isolates pageblocks and undoes the isolation)
 * and take memory blocks offline and back online (offline isolates a
 * block; one that cannot be emptied is rolled back).  The 2015 thread saw
 * NR_FREE_PAGES drift by thousands of pages in such a run.  Here the
 * mmguard free-page audit (debugfs mmguard/free_pages: free lists against
 * NR_FREE_PAGES, NR_FREE_CMA_PAGES, nr_free_highatomic and
 * nr_reserved_highatomic, under zone->lock) must show zero drift and no
 * misplaced free page before, during and after.
 *
 * Then, with the load gone, the whole CMA area is allocated in 8 MiB
 * pieces after the test's own anonymous memory has filled a quarter of it
 * (movable allocations go to CMA once its free pages are more than half of
 * the zone's), so cma_alloc() has to migrate every one of those pages.
 * alloc_contig_range() feeds /proc/vmstat's compact_isolated from both of
 * its scanners: the migrate side (isolate_migratepages_block()) counts each
 * page it takes off an LRU, the free side (isolate_freepages_range()) each
 * page of a range it hands out.  So compact_isolated must grow by at least
 * the pages allocated plus the pages migrated (pgmigrate_success; nothing
 * else migrates then, and compaction, if it runs beside, adds at least as
 * much to compact_isolated as to pgmigrate_success).  A migrate scanner
 * that stopped counting (`make mutate`'s
 * isolate_migratepages_block:negate_cond:1344) passed every other suite.
 *
 * Needs root, debugfs, a CMA area of at least 8 MiB (boot with cma=256M)
 * and the mmguard KUnit build (for the audit file); otherwise it skips.
 * Bounded: each offline attempt is killed after OFFLINE_SECONDS.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmguard_util.h"
#include "mmguard_free_audit.h"

#define CMA_DIR		"/sys/kernel/debug/cma"
#define MEMORY_DIR	"/sys/devices/system/memory"
#define ROUNDS		30
#define CHUNK_BYTES	(8UL << 20)
#define OFFLINE_TRIES	6
#define OFFLINE_SECONDS	10
#define MAX_LOADERS	16
#define FILL_STEP	(16UL << 20)
#define MAX_FILL	256

static long page_size;
static size_t load_bytes;	/* per loader: together 70 % of the RAM */

/* The first CMA area of at least CHUNK_BYTES, into @dir. */
static bool find_cma_area(char *dir, size_t len)
{
	DIR *d = opendir(CMA_DIR);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		char path[512];

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), CMA_DIR "/%s/count", e->d_name);
		if (mmg_read_long(path, 10) * page_size >= (long)CHUNK_BYTES) {
			snprintf(dir, len, CMA_DIR "/%s", e->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/*
 * A child that keeps faulting and freeing anonymous memory until killed.
 * Together the children hold most of the RAM, so movable allocations also
 * land in the CMA area and cma_alloc() has to migrate them away.
 */
static pid_t start_loader(void)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	for (;;) {
		char *p = mmap(NULL, load_bytes, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			_exit(1);
		memset(p, 0x5a, load_bytes);
		munmap(p, load_bytes);
	}
}

static void stop_loaders(pid_t *pids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
}

/*
 * One CMA cycle: alloc 8 MiB, check "used" grew by that much, free it,
 * check it shrank back.  Returns 1 if allocated and freed, 0 if the
 * allocation failed (-EBUSY and friends are allowed under load), -1 if
 * the area's bookkeeping disagrees.
 */
static int cma_cycle(const char *dir, long pages)
{
	char path[PATH_MAX + 8], count[32];	/* @dir + "/alloc" */
	long used0, used1, used2;
	int ret;

	snprintf(count, sizeof(count), "%ld", pages);
	snprintf(path, sizeof(path), "%s/used", dir);
	used0 = mmg_read_long(path, 10);
	snprintf(path, sizeof(path), "%s/alloc", dir);
	ret = mmg_write_file(path, count);
	snprintf(path, sizeof(path), "%s/used", dir);
	used1 = mmg_read_long(path, 10);
	if (ret) {
		if (used1 != used0) {
			ksft_print_msg("failed alloc (%s) changed used %ld -> %ld\n",
				       strerror(-ret), used0, used1);
			return -1;
		}
		return 0;
	}
	snprintf(path, sizeof(path), "%s/free", dir);
	ret = mmg_write_file(path, count);
	snprintf(path, sizeof(path), "%s/used", dir);
	used2 = mmg_read_long(path, 10);
	/* "used" counts bitmap bits; compare in pages via the ratio. */
	if (ret || used1 <= used0 || used2 != used0) {
		ksft_print_msg("alloc/free of %ld pages: used %ld -> %ld -> %ld, free: %s\n",
			       pages, used0, used1, used2,
			       ret ? strerror(-ret) : "ok");
		return -1;
	}
	return 1;
}

/*
 * Anonymous memory in FILL_STEP pieces until a quarter of the CMA area is
 * in use or MemFree is down to an eighth of MemTotal; into @fill, returns
 * the pieces.
 */
static int fill_cma(char **fill)
{
	long cma_total = mmg_meminfo_kb("CmaTotal"), floor = mmg_meminfo_kb("MemTotal") / 8;
	int n = 0;

	while (n < MAX_FILL && mmg_meminfo_kb("CmaFree") > cma_total / 4 * 3 &&
	       mmg_meminfo_kb("MemFree") > floor + (long)(FILL_STEP >> 10)) {
		fill[n] = mmap(NULL, FILL_STEP, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fill[n] == MAP_FAILED)
			break;
		memset(fill[n++], 0x3c, FILL_STEP);
	}
	return n;
}

/*
 * The whole CMA area at @dir in @pages pieces, held, then freed; the
 * pieces that came into @ok.  -1 if "free" refused what "alloc" gave.
 */
static int take_cma_area(const char *dir, long pages, long *ok)
{
	char path[PATH_MAX + 8], count[32];	/* @dir + "/alloc" */
	long i, n;

	snprintf(path, sizeof(path), "%s/count", dir);
	n = mmg_read_long(path, 10) / pages;
	snprintf(count, sizeof(count), "%ld", pages);
	snprintf(path, sizeof(path), "%s/alloc", dir);
	for (*ok = 0, i = 0; i < n; i++)
		*ok += !mmg_write_file(path, count);
	snprintf(path, sizeof(path), "%s/free", dir);
	for (i = 0; i < *ok; i++)
		if (mmg_write_file(path, count))
			return -1;
	return 0;
}

/* Phase 3: compact_isolated counts what cma_alloc() isolates. */
static void check_cma_isolated(const char *dir, long pages)
{
	long isolated, migrated, cma_used, ok;
	char *fill[MAX_FILL];
	int n, i, ret;

	if (mmg_vmstat("compact_isolated") < 0 || mmg_vmstat("pgmigrate_success") < 0) {
		ksft_test_result_skip("CMA: no compact_isolated or pgmigrate_success in /proc/vmstat\n");
		return;
	}
	n = fill_cma(fill);
	cma_used = mmg_meminfo_kb("CmaTotal") - mmg_meminfo_kb("CmaFree");
	isolated = mmg_vmstat("compact_isolated");
	migrated = mmg_vmstat("pgmigrate_success");
	ret = take_cma_area(dir, pages, &ok);
	isolated = mmg_vmstat("compact_isolated") - isolated;
	migrated = mmg_vmstat("pgmigrate_success") - migrated;
	for (i = 0; i < n; i++)
		munmap(fill[i], FILL_STEP);
	ksft_print_msg("CMA: %d MiB filled, %ld KiB of the area in use, %ld pieces of %ld pages taken\n",
		       n * (int)(FILL_STEP >> 20), cma_used, ok, pages);
	/* Without a migration the sum says nothing about the migrate side. */
	ksft_test_result(!ret && migrated > 0 && isolated >= ok * pages + migrated,
			 "CMA: compact_isolated +%ld, at least the %ld pages allocated + the %ld migrated (> 0)%s\n",
			 isolated, ok * pages, migrated, ret ? "; free refused" : "");
}

/* Cycle up to OFFLINE_TRIES blocks, highest first; -1 if one stays off. */
static int cycle_memory_blocks(int *offlined, int *refused, int *timeouts)
{
	struct dirent **names;
	int n, i, tries = 0, ret = 0;

	n = scandir(MEMORY_DIR, &names, NULL, alphasort);
	if (n < 0)
		return 0;
	for (i = n - 1; i >= 0; i--) {
		char state[512], buf[32];
		const char *name = names[i]->d_name;

		if (tries < OFFLINE_TRIES && !strncmp(name, "memory", 6) &&
		    strcmp(name, "memory0")) {
			snprintf(state, sizeof(state), MEMORY_DIR "/%s/state",
				 name);
			if (mmg_read_file(state, buf, sizeof(buf)) >= 0 &&
			    !strncmp(buf, "online", 6)) {
				tries++;
				switch (mmg_offline_block(state, OFFLINE_SECONDS)) {
				case 0:
					(*offlined)++;
					if (mmg_write_file(state, "online")) {
						ksft_print_msg("%s stays offline\n",
							       name);
						ret = -1;
					}
					break;
				case 2:
					(*timeouts)++;
					break;
				default:
					(*refused)++;
				}
			}
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

int main(void)
{
	pid_t loaders[MAX_LOADERS];
	int nloaders, i, ok = 0, failed = 0, bad = 0;
	int offlined = 0, refused = 0, timeouts = 0;
	char area[PATH_MAX];
	long pages;

	page_size = sysconf(_SC_PAGESIZE);
	pages = CHUNK_BYTES / page_size;
	ksft_print_header();
	if (geteuid())
		ksft_exit_skip("needs root for debugfs and memory hotplug\n");
	if (access(MMG_AUDIT_FILE, R_OK))
		ksft_exit_skip("no " MMG_AUDIT_FILE " (mmguard KUnit build with DEBUG_FS)\n");
	if (!find_cma_area(area, sizeof(area)))
		ksft_exit_skip("no CMA area of 8 MiB in " CMA_DIR " (boot with cma=256M)\n");
	ksft_set_plan(6);
	ksft_print_msg("CMA area %s, %d rounds of %ld pages\n", area, ROUNDS,
		       pages);

	mmg_report_audit("before the load");

	nloaders = sysconf(_SC_NPROCESSORS_ONLN);
	if (nloaders > MAX_LOADERS)
		nloaders = MAX_LOADERS;
	{
		struct sysinfo si;

		sysinfo(&si);
		load_bytes = (size_t)si.totalram * si.mem_unit / 10 * 7 /
			     nloaders;
	}
	ksft_print_msg("%d loaders of %zu MiB each\n", nloaders,
		       load_bytes >> 20);
	for (i = 0; i < nloaders; i++) {
		loaders[i] = start_loader();
		if (loaders[i] < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	}

	for (i = 0; i < ROUNDS; i++) {
		int r = cma_cycle(area, pages);

		ok += r == 1;
		failed += r == 0;
		bad += r < 0;
	}
	ksft_test_result(bad == 0 && ok > 0,
			 "CMA: %d of %d allocations of %ld pages made and released, %d refused, %d with wrong bookkeeping\n",
			 ok, ROUNDS, pages, failed, bad);

	bad = cycle_memory_blocks(&offlined, &refused, &timeouts);
	ksft_test_result(bad == 0,
			 "memory blocks: %d offlined and onlined again, %d refused, %d timed out after %ds\n",
			 offlined, refused, timeouts, OFFLINE_SECONDS);

	mmg_report_audit("under the load");
	stop_loaders(loaders, nloaders);
	mmg_report_audit("after the load");
	check_cma_isolated(area, pages);
	ksft_finished();
}
