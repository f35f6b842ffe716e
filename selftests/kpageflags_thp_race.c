// SPDX-License-Identifier: GPL-2.0
/*
 * kpageflags_thp_race: read /proc/kpageflags and /proc/kpagecount for the
 * PFNs of THPs that other tasks keep faulting in, writing and unmapping.
 *
 * This is the reproducer of seed thread 001 (2015: VM_BUG_ON_PAGE in
 * stable_page_flags() while page-types -p PID read a THP being freed),
 * ported to 6.12. One "mapper" process per online CPU loops over
 * mmap(2 MiB, 2 MiB aligned) + MADV_HUGEPAGE + memset + munmap. The reader
 * (this process, plus one reader per CPU) keeps looking the mappers' PFNs
 * up in /proc/PID/pagemap and reads kpageflags and kpagecount over the whole
 * 2 MiB PFN range around them, so it looks at folios while they are being
 * freed and reused. A second reader shape walks /proc/PID/maps like
 * tools/mm/page-types -p PID does.
 *
 * On a kernel that reads the page and its folio more than once without a
 * reference, a reader can see a folio change from large to small (or be
 * freed) between two looks, and CONFIG_DEBUG_VM_PGFLAGS turns that into a
 * VM_WARN/VM_BUG. The kernel's report is caught by the harness; this test
 * checks that every reader survived, that every read returned what was
 * asked for, and that it really saw THP PFNs while they churned.
 *
 * The run is bounded: KPF_RACE_SECONDS (default 20) seconds.
 * Needs root and THP not [never]; skips otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#define KPF_THP_BIT	22
#define THP_SIZE	(2UL << 20)
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define MAX_CPUS	64

struct reader_stats {
	unsigned long reads;		/* pread()s of kpageflags/kpagecount */
	unsigned long short_reads;	/* reads that returned less than asked */
	unsigned long thp_pfns;		/* PFNs seen with KPF_THP */
	unsigned long maps_walks;	/* page-types style walks of /proc/PID/maps */
};

static unsigned long page_size;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool thp_enabled(void)
{
	char buf[128] = "";
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY);

	if (fd < 0)
		return false;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return !strstr(buf, "[never]");
}

/* A mapper: fault in, dirty and free a THP at one fixed address, forever. */
static void __attribute__((noreturn)) mapper(void)
{
	char *area = mmap(NULL, 2 * THP_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *addr;

	if (area == MAP_FAILED)
		_exit(1);
	addr = (char *)(((uintptr_t)area + THP_SIZE - 1) & ~(THP_SIZE - 1));
	munmap(area, 2 * THP_SIZE);
	for (;;) {
		char *p = mmap(addr, THP_SIZE, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

		if (p == MAP_FAILED)
			_exit(1);
		madvise(p, THP_SIZE, MADV_HUGEPAGE);
		memset(p, 0x5a, THP_SIZE);
		munmap(p, THP_SIZE);
	}
}

static int open_pid_file(pid_t pid, const char *name)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	return open(path, O_RDONLY);
}

/* Reads flags and counts of the 2 MiB-aligned PFN range holding @pfn. */
static void read_pfn_range(int kflags, int kcount, uint64_t pfn,
			   struct reader_stats *st)
{
	uint64_t buf[THP_SIZE / 4096];
	size_t n = THP_SIZE / page_size;
	off_t off = (off_t)(pfn & ~(uint64_t)(n - 1)) * sizeof(uint64_t);
	ssize_t got;
	size_t i;

	got = pread(kflags, buf, n * sizeof(uint64_t), off);
	st->reads++;
	if (got != (ssize_t)(n * sizeof(uint64_t))) {
		st->short_reads++;
		return;
	}
	for (i = 0; i < n; i++)
		if (buf[i] & (1ULL << KPF_THP_BIT))
			st->thp_pfns++;
	got = pread(kcount, buf, n * sizeof(uint64_t), off);
	st->reads++;
	if (got != (ssize_t)(n * sizeof(uint64_t)))
		st->short_reads++;
}

/*
 * page-types -p PID: every anonymous VMA of the task, pagemap for each
 * page, kpageflags for each present PFN.
 */
static void walk_maps(pid_t pid, int kflags, int kcount,
		      struct reader_stats *st)
{
	char path[64], line[256];
	int pagemap = open_pid_file(pid, "pagemap");
	FILE *maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps = fopen(path, "r");
	if (!maps || pagemap < 0)
		goto out;
	while (fgets(line, sizeof(line), maps)) {
		unsigned long start, end, va;

		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		for (va = start; va < end; va += THP_SIZE) {
			uint64_t pm[THP_SIZE / 4096];
			unsigned long len = end - va < THP_SIZE ? end - va : THP_SIZE;
			size_t i, n = len / page_size;
			off_t off = (off_t)(va / page_size) * sizeof(uint64_t);

			if (pread(pagemap, pm, n * sizeof(uint64_t), off) !=
			    (ssize_t)(n * sizeof(uint64_t)))
				break;
			for (i = 0; i < n; i += 64)
				if (pm[i] & PM_PRESENT)
					read_pfn_range(kflags, kcount,
						       pm[i] & PM_PFN_MASK, st);
		}
	}
	st->maps_walks++;
out:
	if (maps)
		fclose(maps);
	if (pagemap >= 0)
		close(pagemap);
}

/* A reader: until @deadline, chase the mappers' PFNs. */
static void run_reader(const pid_t *mappers, int nr, double deadline,
		       bool walker, struct reader_stats *st)
{
	int kflags = open("/proc/kpageflags", O_RDONLY);
	int kcount = open("/proc/kpagecount", O_RDONLY);
	uint64_t last_pfn[MAX_CPUS] = { 0 };
	int pagemap[MAX_CPUS];
	unsigned long addr[MAX_CPUS] = { 0 };
	int i;

	if (kflags < 0 || kcount < 0)
		return;
	for (i = 0; i < nr; i++)
		pagemap[i] = open_pid_file(mappers[i], "pagemap");

	while (now() < deadline) {
		for (i = 0; i < nr; i++) {
			uint64_t pm;

			if (walker) {
				walk_maps(mappers[i], kflags, kcount, st);
				continue;
			}
			/* Find the mapper's THP once, from its maps. */
			if (!addr[i]) {
				char path[64], line[256];
				FILE *maps;

				snprintf(path, sizeof(path), "/proc/%d/maps",
					 mappers[i]);
				maps = fopen(path, "r");
				while (maps && fgets(line, sizeof(line), maps)) {
					unsigned long s, e;

					if (sscanf(line, "%lx-%lx", &s, &e) == 2 &&
					    e - s == THP_SIZE && !(s & (THP_SIZE - 1)))
						addr[i] = s;
				}
				if (maps)
					fclose(maps);
			}
			if (addr[i] && pagemap[i] >= 0 &&
			    pread(pagemap[i], &pm, sizeof(pm),
				  (off_t)(addr[i] / page_size) * sizeof(pm)) ==
			    sizeof(pm) && (pm & PM_PRESENT))
				last_pfn[i] = pm & PM_PFN_MASK;
			/* The last PFN seen, even if it was freed since. */
			if (last_pfn[i])
				read_pfn_range(kflags, kcount, last_pfn[i], st);
		}
	}
	for (i = 0; i < nr; i++)
		if (pagemap[i] >= 0)
			close(pagemap[i]);
	close(kflags);
	close(kcount);
}

int main(void)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	double seconds = getenv("KPF_RACE_SECONDS") ?
			 atof(getenv("KPF_RACE_SECONDS")) : 20;
	struct reader_stats *stats, total = { 0 };
	pid_t mappers[MAX_CPUS], readers[MAX_CPUS + 1];
	int i, nreaders, status, died = 0;
	double deadline;

	page_size = sysconf(_SC_PAGESIZE);
	ksft_print_header();
	ksft_set_plan(4);
	if (geteuid() != 0)
		ksft_exit_skip("needs root for PFNs and /proc/kpage*\n");
	if (!thp_enabled())
		ksft_exit_skip("transparent hugepages are disabled\n");
	if (page_size != 4096)
		ksft_exit_skip("needs 4 KiB pages\n");
	if (ncpus < 1)
		ncpus = 1;
	if (ncpus > MAX_CPUS)
		ncpus = MAX_CPUS;

	stats = mmap(NULL, sizeof(*stats) * (MAX_CPUS + 1),
		     PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stats == MAP_FAILED)
		ksft_exit_fail_msg("mmap of the stats: %s\n", strerror(errno));
	memset(stats, 0, sizeof(*stats) * (MAX_CPUS + 1));

	for (i = 0; i < ncpus; i++) {
		mappers[i] = fork();
		if (mappers[i] == 0)
			mapper();
		if (mappers[i] < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	}
	ksft_print_msg("%d mappers, %d readers (one page-types style), %.0f s\n",
		       ncpus, ncpus + 1, seconds);

	deadline = now() + seconds;
	nreaders = ncpus + 1;
	for (i = 0; i < nreaders; i++) {
		readers[i] = fork();
		if (readers[i] == 0) {
			run_reader(mappers, ncpus, deadline, i == ncpus,
				   &stats[i]);
			_exit(0);
		}
		if (readers[i] < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	}
	for (i = 0; i < nreaders; i++) {
		if (waitpid(readers[i], &status, 0) < 0 ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			died++;
			ksft_print_msg("reader %d ended with status 0x%x\n",
				       i, status);
		}
		total.reads += stats[i].reads;
		total.short_reads += stats[i].short_reads;
		total.thp_pfns += stats[i].thp_pfns;
		total.maps_walks += stats[i].maps_walks;
	}
	for (i = 0; i < ncpus; i++) {
		kill(mappers[i], SIGKILL);
		waitpid(mappers[i], &status, 0);
	}

	ksft_print_msg("%lu reads (%lu short), %lu THP PFNs seen, %lu maps walks, %d of %d readers died\n",
		       total.reads, total.short_reads, total.thp_pfns,
		       total.maps_walks, died, nreaders);
	ksft_test_result(died == 0, "every reader survived\n");
	ksft_test_result(total.short_reads == 0,
			 "every kpageflags/kpagecount read was complete\n");
	ksft_test_result(total.thp_pfns > 0,
			 "readers saw THP PFNs while the THPs churned\n");
	ksft_test_result(total.maps_walks > 0,
			 "page-types style walks of /proc/PID/maps ran\n");
	ksft_finished();
}
