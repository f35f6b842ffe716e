// SPDX-License-Identifier: GPL-2.0
/*
 * isolation_undo_types: a memory offline that fails must leave every
 * pageblock of the block with the migratetype it had before.
 *
 * offline_pages() isolates the block's pageblocks (their type becomes
 * MIGRATE_ISOLATE), migrates what is in use, and on failure undoes the
 * isolation. 6.12.117 gives every undone pageblock MIGRATE_MOVABLE, the
 * type the caller passes, whatever it was before: an Unmovable or
 * Reclaimable pageblock comes back Movable.
 *
 * The test makes that state and looks at it:
 *  1. a child faults in page tables (one per 2 MiB of a large sparse
 *     mapping, read faults on the zero page): they are Unmovable
 *     allocations, and once the Unmovable free lists run dry they claim
 *     Movable pageblocks; the child exits and frees them, which leaves
 *     Unmovable pageblocks holding only free pages, so isolation passes
 *     over them;
 *  2. anonymous memory is faulted in, and in each memory block that has
 *     Unmovable or Reclaimable pageblocks one of its pages is pinned by
 *     vmsplice() into a pipe: migration cannot move a page with that extra
 *     reference, so the offline retries until its writer's alarm fires and
 *     fails with the block fully isolated (or fails earlier, at a pageblock
 *     with an unmovable page, with the pageblocks before it isolated);
 *  3. for each such block: the per-block pageblock counts of debugfs
 *     mmguard/pageblock_types before and after the failed offline must be
 *     equal, with no pageblock left Isolate.
 *
 * Bounded: each offline attempt is killed after OFFLINE_SECONDS, at most
 * MAX_BLOCKS blocks are tried. Needs root, debugfs and memory hotplug.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmguard_util.h"

#define TYPES_FILE	"/sys/kernel/debug/mmguard/pageblock_types"
#define MEMORY_DIR	"/sys/devices/system/memory"
#define OFFLINE_SECONDS	3
#define MAX_BLOCKS	8
#define MAX_TRACKED	256
#define PT_SPAN		(2UL << 20)		/* one page table maps this */
#define PT_TABLES	(48UL << 10)		/* 192 MiB of page tables */

enum { UNMOVABLE, MOVABLE, RECLAIMABLE, HIGHATOMIC, CMA, ISOLATE, NR_TYPES };
static const char *const type_names[NR_TYPES] = {
	"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate",
};

struct block_types {
	long block;
	unsigned long n[NR_TYPES];
};

static long page_size;

/* Parses the debugfs readout: number of blocks filled in @out, or -1. */
static int read_types(struct block_types *out, int max)
{
	static char buf[1 << 16];
	char *line, *save;
	int nr = 0;

	if (mmg_read_file(TYPES_FILE, buf, sizeof(buf)) <= 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line && nr < max;
	     line = strtok_r(NULL, "\n", &save)) {
		struct block_types *b = &out[nr];
		int t;

		if (sscanf(line, "memory%ld", &b->block) != 1)
			continue;
		for (t = 0; t < NR_TYPES; t++) {
			char key[32], *at;

			snprintf(key, sizeof(key), " %s=", type_names[t]);
			at = strstr(line, key);
			b->n[t] = at ? strtoul(at + strlen(key), NULL, 10) : 0;
		}
		nr++;
	}
	return nr;
}

static const struct block_types *find_block(const struct block_types *bt,
					    int nr, long block)
{
	int i;

	for (i = 0; i < nr; i++)
		if (bt[i].block == block)
			return &bt[i];
	return NULL;
}

static void format_types(const struct block_types *b, char *s, size_t len)
{
	snprintf(s, len, "U%lu M%lu R%lu H%lu C%lu I%lu", b->n[UNMOVABLE],
		 b->n[MOVABLE], b->n[RECLAIMABLE], b->n[HIGHATOMIC], b->n[CMA],
		 b->n[ISOLATE]);
}

/* Step 1: a child faults in PT_TABLES page tables, then exits. */
static int churn_page_tables(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		size_t len = PT_TABLES * PT_SPAN;
		volatile char *p = mmap(NULL, len, PROT_READ,
					MAP_PRIVATE | MAP_ANONYMOUS |
					MAP_NORESERVE, -1, 0);
		unsigned long i;

		if (p == MAP_FAILED)
			_exit(1);
		/* Not the huge zero page: it needs no page table. */
		madvise((void *)p, len, MADV_NOHUGEPAGE);
		for (i = 0; i < PT_TABLES; i++)
			(void)p[i * PT_SPAN];
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/* The PFN behind @addr, or 0. */
static uint64_t pfn_of(int pagemap, void *addr)
{
	uint64_t e;

	if (pread(pagemap, &e, sizeof(e),
		  (uintptr_t)addr / page_size * sizeof(e)) != sizeof(e))
		return 0;
	return (e >> 63) & 1 ? e & ((1ULL << 55) - 1) : 0;
}

int main(void)
{
	static struct block_types before[MAX_TRACKED], after[MAX_TRACKED];
	int nr_before, nr_after, i, pipefd[2], pagemap, nr_candidates = 0;
	int kept = 0, changed = 0, offlined = 0, pinned = 0;
	long candidates[MAX_BLOCKS], block_pages, block_bytes;
	size_t anon_len;
	char *anon;

	ksft_print_header();
	page_size = sysconf(_SC_PAGESIZE);
	if (geteuid())
		ksft_exit_skip("needs root\n");
	block_bytes = mmg_read_long(MEMORY_DIR "/block_size_bytes", 16);
	if (block_bytes <= 0)
		ksft_exit_skip("no memory hotplug (" MEMORY_DIR ")\n");
	if (read_types(before, MAX_TRACKED) <= 0)
		ksft_exit_skip("no " TYPES_FILE " (mmguard KUnit hook)\n");
	block_pages = block_bytes / page_size;
	ksft_set_plan(3);

	/* 1: Unmovable pageblocks that hold only free pages. */
	if (churn_page_tables())
		ksft_exit_fail_msg("page-table churn failed\n");
	mmg_write_file("/proc/sys/vm/drop_caches", "3");
	nr_before = read_types(before, MAX_TRACKED);
	for (i = 0; i < nr_before; i++)
		if (before[i].block && (before[i].n[UNMOVABLE] ||
					before[i].n[RECLAIMABLE]) &&
		    nr_candidates < MAX_BLOCKS)
			candidates[nr_candidates++] = before[i].block;
	ksft_test_result(nr_candidates > 0,
			 "%d memory blocks (not memory0) hold Unmovable or Reclaimable pageblocks\n",
			 nr_candidates);

	/* 2: anonymous pages, one of them pinned in each candidate block. */
	anon_len = (size_t)sysconf(_SC_AVPHYS_PAGES) * page_size / 2;
	anon = mmap(NULL, anon_len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (anon == MAP_FAILED || pagemap < 0 || pipe(pipefd))
		ksft_exit_fail_msg("setup: %s\n", strerror(errno));
	madvise(anon, anon_len, MADV_NOHUGEPAGE);
	memset(anon, 0x5a, anon_len);
	for (i = 0; i < nr_candidates; i++) {
		struct iovec iov = { .iov_len = page_size };
		size_t off;

		for (off = 0; off < anon_len && !iov.iov_base;
		     off += page_size)
			if (pfn_of(pagemap, anon + off) / block_pages ==
			    (uint64_t)candidates[i])
				iov.iov_base = anon + off;
		if (iov.iov_base &&
		    vmsplice(pipefd[1], &iov, 1, SPLICE_F_NONBLOCK) ==
		    page_size)
			pinned++;
	}
	ksft_print_msg("%zu MiB of anonymous memory, a page pinned in %d of %d blocks\n",
		       anon_len >> 20, pinned, nr_candidates);

	/* 3: a failed offline keeps every pageblock's type. */
	for (i = 0; i < nr_candidates; i++) {
		const struct block_types *b, *a;
		char state[256], was[64], now[64];

		/* The types right before the attempt are the reference. */
		nr_before = read_types(before, MAX_TRACKED);
		b = find_block(before, nr_before, candidates[i]);
		if (!b)
			continue;
		snprintf(state, sizeof(state), MEMORY_DIR "/memory%ld/state",
			 b->block);
		if (mmg_offline_block(state, OFFLINE_SECONDS) == 0) {
			/* Went offline: onlining resets the types, by design. */
			offlined++;
			if (mmg_write_file(state, "online"))
				ksft_exit_fail_msg("memory%ld stays offline\n",
						   b->block);
			continue;
		}
		nr_after = read_types(after, MAX_TRACKED);
		a = find_block(after, nr_after, b->block);
		format_types(b, was, sizeof(was));
		if (a)
			format_types(a, now, sizeof(now));
		if (a && !memcmp(a->n, b->n, sizeof(a->n))) {
			kept++;
			ksft_print_msg("memory%ld: %s before and after the failed offline\n",
				       b->block, was);
		} else {
			changed++;
			ksft_print_msg("memory%ld: %s before the failed offline, %s after\n",
				       b->block, was, a ? now : "gone");
		}
	}
	ksft_print_msg("%d blocks tried, %d went offline (not compared)\n",
		       nr_candidates, offlined);
	ksft_test_result(kept + changed > 0, "%d offlines failed\n",
			 kept + changed);
	ksft_test_result(kept + changed > 0 && !changed,
			 "%d of %d blocks kept every pageblock's type through a failed offline\n",
			 kept, kept + changed);
	ksft_finished();
}
