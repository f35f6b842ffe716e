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
 * The test makes that state in a known place and looks at it:
 *  1. THPs are faulted over 60 % of the available memory, and NR_MARKED of
 *     them in the memory block (not memory0) that holds the most are
 *     taken; each covers one pageblock whole, which debugfs
 *     mmguard/set_pageblock_type (KUnit hook, both kernels) retypes
 *     Unmovable, then Reclaimable: a pageblock with no free page whose
 *     folio is still movable, so isolation passes over it;
 *  2. one page of every marked THP is pinned by vmsplice() into a pipe, so
 *     migration cannot empty the block: the offline retries until its
 *     writer's alarm fires, then undoes the isolation.  Each marked
 *     pageblock stays in use: a marked THP that migrated away would leave
 *     its pageblock free, and a movable allocation may then claim the free
 *     block by fallback and rightly make it Movable (seen in CI when only
 *     one THP was pinned);
 *  3. the block's line of debugfs mmguard/pageblock_types before and after
 *     the failed offline must be equal, with no pageblock left Isolate.
 * Isolation stops at the first pageblock with an unmovable page; to be
 * sure it reaches the marked ones, boot with movablecore= (THPs fill
 * ZONE_MOVABLE first, and nothing unmovable is ever allocated there):
 * that is how patches/reproducers runs it. A patched kernel passes either
 * way.
 *
 * Bounded: each offline attempt is killed after OFFLINE_SECONDS. Needs
 * root, debugfs, THP and memory hotplug; skips otherwise.
 */
#define _GNU_SOURCE
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
#include <unistd.h>

#include "kselftest.h"
#include "mmguard_util.h"

#define TYPES_FILE	"/sys/kernel/debug/mmguard/pageblock_types"
#define SET_FILE	"/sys/kernel/debug/mmguard/set_pageblock_type"
#define MEMORY_DIR	"/sys/devices/system/memory"
#define OFFLINE_SECONDS	3
#define THP_SIZE	(2UL << 20)
#define NR_MARKED	2

enum { UNMOVABLE, MOVABLE, RECLAIMABLE, HIGHATOMIC, CMA, ISOLATE, NR_TYPES };
static const char *const type_names[NR_TYPES] = {
	"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate",
};

static long page_size;

/* @block's pageblock counts from the debugfs readout: 0, or -1. */
static int read_block_types(long block, unsigned long *n)
{
	static char buf[1 << 16];
	char *line, *save, key[32];
	int t;

	if (mmg_read_file(TYPES_FILE, buf, sizeof(buf)) <= 0)
		return -1;
	snprintf(key, sizeof(key), "memory%ld ", block);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, key, strlen(key)))
			continue;
		for (t = 0; t < NR_TYPES; t++) {
			char *at;

			snprintf(key, sizeof(key), " %s=", type_names[t]);
			at = strstr(line, key);
			n[t] = at ? strtoul(at + strlen(key), NULL, 10) : 0;
		}
		return 0;
	}
	return -1;
}

static void format_types(const unsigned long *n, char *s, size_t len)
{
	snprintf(s, len, "U%lu M%lu R%lu H%lu C%lu I%lu", n[UNMOVABLE],
		 n[MOVABLE], n[RECLAIMABLE], n[HIGHATOMIC], n[CMA], n[ISOLATE]);
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
	unsigned long before[NR_TYPES], after[NR_TYPES];
	long block, block_bytes, avail_kb, pb_pages;
	int pagemap, pipefd[2], marked = 0, offline;
	long nr_thps, nr_blocks, *per_block;
	uint64_t *pfns;
	char state[512], cmd[64], was[64], now[64], zones[64];
	char *map, *thp, *pin[NR_MARKED];
	int i;
	size_t len, off;

	ksft_print_header();
	page_size = sysconf(_SC_PAGESIZE);
	pb_pages = THP_SIZE / page_size;
	if (geteuid())
		ksft_exit_skip("needs root\n");
	block_bytes = mmg_read_long(MEMORY_DIR "/block_size_bytes", 16);
	if (block_bytes <= 0)
		ksft_exit_skip("no memory hotplug (" MEMORY_DIR ")\n");
	if (access(SET_FILE, W_OK))
		ksft_exit_skip("no " SET_FILE " (mmguard KUnit hook)\n");
	if (mmg_read_file("/sys/kernel/mm/transparent_hugepage/enabled", cmd,
			  sizeof(cmd)) <= 0 || strstr(cmd, "[never]"))
		ksft_exit_skip("THP is off\n");

	ksft_set_plan(3);

	/*
	 * 1-2: THPs over most of the free memory; retype the first NR_MARKED
	 * that cover a pageblock of one block (not memory0).
	 */
	avail_kb = mmg_meminfo_kb("MemAvailable");
	len = avail_kb <= 0 ? 0 : (size_t)avail_kb * 1024 * 6 / 10 / THP_SIZE * THP_SIZE;
	map = mmap(NULL, len + THP_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (!len || map == MAP_FAILED || pagemap < 0 || pipe(pipefd))
		ksft_exit_fail_msg("setup: %s\n", strerror(errno));
	thp = (char *)(((uintptr_t)map + THP_SIZE - 1) & ~(THP_SIZE - 1));
	madvise(thp, len, MADV_HUGEPAGE);
	/*
	 * Fault them all, then take the memory block (not memory0) that holds
	 * the most of them: on a fragmented guest the first THPs may lie one
	 * per block.
	 */
	nr_thps = len / THP_SIZE;
	pfns = calloc(nr_thps, sizeof(*pfns));
	nr_blocks = mmg_meminfo_kb("MemTotal") * 1024L / block_bytes * 2 + 64;
	per_block = calloc(nr_blocks, sizeof(*per_block));
	if (!pfns || !per_block)
		ksft_exit_fail_msg("calloc\n");
	block = -1;
	for (off = 0; off < len; off += THP_SIZE) {
		uint64_t pfn;
		long b;

		memset(thp + off, 0x5a, THP_SIZE);
		pfn = pfn_of(pagemap, thp + off);
		b = pfn / (block_bytes / page_size);
		if (!pfn || pfn % pb_pages || !b || b >= nr_blocks)
			continue;
		pfns[off / THP_SIZE] = pfn;
		if (++per_block[b] > (block < 0 ? 0 : per_block[block]))
			block = b;
	}
	for (off = 0; off < len && block >= 0 && marked < NR_MARKED; off += THP_SIZE) {
		uint64_t pfn = pfns[off / THP_SIZE];

		if (!pfn || (long)(pfn / (block_bytes / page_size)) != block)
			continue;
		snprintf(cmd, sizeof(cmd), "%#" PRIx64 " %s", pfn,
			 marked ? "Reclaimable" : "Unmovable");
		if (mmg_write_file(SET_FILE, cmd))	/* not a THP after all */
			continue;
		pin[marked] = thp + off;
		marked++;
	}
	snprintf(state, sizeof(state), MEMORY_DIR "/memory%ld/valid_zones",
		 block);
	if (block < 0 || mmg_read_file(state, zones, sizeof(zones)) <= 0)
		strcpy(zones, "?\n");
	ksft_test_result(marked == NR_MARKED,
			 "%d THP pageblocks in memory%ld retyped (%zu MiB faulted; zone %.*s)\n",
			 marked, block, len >> 20, (int)strcspn(zones, "\n"),
			 zones);
	if (marked < NR_MARKED) {
		ksft_test_result_skip("no failed offline to look at\n");
		ksft_test_result_skip("no failed offline to look at\n");
		ksft_finished();
	}
	snprintf(state, sizeof(state), MEMORY_DIR "/memory%ld/state", block);

	/* 2: pin every marked THP and let the offline fail. */
	for (i = 0; i < NR_MARKED; i++) {
		struct iovec iov = { .iov_base = pin[i], .iov_len = page_size };

		if (vmsplice(pipefd[1], &iov, 1, SPLICE_F_NONBLOCK) != page_size)
			ksft_exit_fail_msg("vmsplice: %s\n", strerror(errno));
	}
	if (read_block_types(block, before))
		ksft_exit_fail_msg("memory%ld not in " TYPES_FILE "\n", block);
	offline = mmg_offline_block(state, OFFLINE_SECONDS);
	if (!offline && mmg_write_file(state, "online"))
		ksft_exit_fail_msg("%s: the block stays offline\n", state);
	ksft_test_result(offline != 0,
			 "offline of memory%ld with pinned THPs %s\n", block,
			 offline == 2 ? "timed out" :
			 offline ? "was refused" : "went through");

	/* 3: every pageblock has its type back. */
	if (read_block_types(block, after))
		ksft_exit_fail_msg("memory%ld not in " TYPES_FILE "\n", block);
	format_types(before, was, sizeof(was));
	format_types(after, now, sizeof(now));
	ksft_test_result(offline && !memcmp(before, after, sizeof(before)),
			 "memory%ld: %s before the failed offline, %s after\n",
			 block, was, now);
	ksft_finished();
}
