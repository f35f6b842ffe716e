// SPDX-License-Identifier: GPL-2.0
/*
 * kpageflags_offline_race: read /proc/kpageflags, /proc/kpagecount and
 * /proc/kpagecgroup over a memory block while the block goes offline and
 * online again.
 *
 * kpageflags_read() and friends ask pfn_to_online_page() whether a PFN's
 * section is online and then read its struct page without holding off
 * memory offline. offline_pages() marks the sections offline and then
 * remove_pfn_range_from_zone() poisons the block's struct pages (all ones,
 * with CONFIG_DEBUG_VM): a reader that got its struct page pointer before
 * the sections went offline and reads it after the poison follows
 * compound_head == ~0UL to the folio at 0xfffffffffffffffe and oopses.
 * The window is one PFN's worth of reading, so the reader must be held up
 * inside it while the offline goes on; readers on every vCPU (two per CPU)
 * and vCPUs that share host CPUs (boot with more vCPUs than host CPUs, or
 * pin QEMU to fewer host CPUs) make that happen.
 *
 * The block: the highest memory block (not memory0) that goes offline when
 * asked; it is onlined again at once and then cycled for the whole run.
 * Checks: the block went offline and online at least once per second of
 * the run, every reader survived (an oops kills the reader; the run ends
 * early when none is left), and every read returned the length asked.
 * Before the race, QUIET_READS quiet reads of the whole /proc/kpageflags
 * are timed; the best cost per PFN is printed for A/B comparisons.
 *
 * The run is bounded: KPF_OFFLINE_SECONDS (default 30) seconds, each
 * offline attempt at most OFFLINE_SECONDS. Needs root, /proc/kpageflags and
 * memory hotplug; skips otherwise.
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
#include <unistd.h>

#include "kselftest.h"
#include "mmguard_util.h"

#define MEMORY_DIR	"/sys/devices/system/memory"
#define OFFLINE_SECONDS	10
#define MAX_READERS	64
#define CHUNK_PFNS	4096
#define QUIET_READS	5

static const char *const kpage_files[] = {
	"/proc/kpageflags", "/proc/kpagecount", "/proc/kpagecgroup",
};

struct reader_stats {
	unsigned long rounds;		/* passes over the block, all files */
	unsigned long short_reads;	/* pread()s that returned less */
	int error;			/* errno of a failed pread(), or 0 */
};

struct shared {
	volatile int stop;
	struct reader_stats readers[MAX_READERS];
};

static struct shared *sh;

/* Reads @nr entries from @pfn on, in chunks, until told to stop. */
static void __attribute__((noreturn)) reader(int idx, uint64_t pfn,
					     uint64_t nr)
{
	struct reader_stats *st = &sh->readers[idx];
	uint64_t *buf = malloc(CHUNK_PFNS * sizeof(*buf));
	int fds[3], nfds = 0;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		int fd = open(kpage_files[i], O_RDONLY);

		if (fd >= 0)	/* kpagecgroup needs CONFIG_MEMCG */
			fds[nfds++] = fd;
	}
	while (!sh->stop && buf) {
		for (i = 0; i < (unsigned int)nfds; i++) {
			uint64_t at;

			for (at = pfn; at < pfn + nr; at += CHUNK_PFNS) {
				uint64_t n = pfn + nr - at;
				size_t want;
				ssize_t got;

				want = (n < CHUNK_PFNS ? n : CHUNK_PFNS) *
				       sizeof(*buf);
				got = pread(fds[i], buf, want,
					    at * sizeof(*buf));
				if (got < 0) {
					st->error = errno;
					_exit(1);
				}
				if ((size_t)got != want)
					st->short_reads++;
			}
		}
		st->rounds++;
	}
	_exit(buf ? 0 : 1);
}

/* True once every reader has exited (they only do on error or oops). */
static bool readers_gone(const pid_t *pids, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		siginfo_t si = { 0 };

		if (waitid(P_PID, pids[i], &si, WEXITED | WNOHANG | WNOWAIT) ||
		    !si.si_pid)
			return false;
	}
	return true;
}

/* Times one read of the whole /proc/kpageflags: ns per PFN, or -1. */
static double quiet_read_ns_per_pfn(uint64_t *pfns)
{
	uint64_t *buf = malloc(CHUNK_PFNS * sizeof(*buf));
	int fd = open("/proc/kpageflags", O_RDONLY);
	double t0 = mmg_now();
	ssize_t got;

	*pfns = 0;
	if (fd < 0 || !buf)
		return -1;
	while ((got = read(fd, buf, CHUNK_PFNS * sizeof(*buf))) > 0)
		*pfns += got / sizeof(*buf);
	close(fd);
	free(buf);
	return *pfns ? (mmg_now() - t0) * 1e9 / *pfns : -1;
}

int main(void)
{
	unsigned long cycles = 0, refused = 0, timeouts = 0, rounds = 0;
	unsigned long short_reads = 0;
	int seconds = 30, nreaders, i, died = 0, errors = 0;
	long cpus, block, block_bytes;
	pid_t pids[MAX_READERS];
	char state[512];
	uint64_t pfn, nr, total;
	double ns, t0, deadline;
	const char *env = getenv("KPF_OFFLINE_SECONDS");

	ksft_print_header();
	if (env && atoi(env) > 0)
		seconds = atoi(env);
	if (geteuid())
		ksft_exit_skip("needs root\n");
	if (access("/proc/kpageflags", R_OK))
		ksft_exit_skip("no /proc/kpageflags\n");
	block_bytes = mmg_read_long(MEMORY_DIR "/block_size_bytes", 16);
	if (block_bytes <= 0)
		ksft_exit_skip("no memory hotplug (" MEMORY_DIR ")\n");
	block = mmg_pick_offlinable_block(state, sizeof(state), OFFLINE_SECONDS);
	if (block == -2)
		ksft_exit_fail_msg("%s: the block stays offline\n", state);
	if (block < 0)
		ksft_exit_skip("no memory block goes offline\n");

	ksft_set_plan(3);
	pfn = (uint64_t)block * block_bytes / getpagesize();
	nr = block_bytes / getpagesize();
	for (i = 0, ns = -1; i < QUIET_READS; i++) {
		double t = quiet_read_ns_per_pfn(&total);

		if (t > 0 && (ns < 0 || t < ns))
			ns = t;
	}
	ksft_print_msg("quiet read of /proc/kpageflags: %" PRIu64
		       " PFNs, %.0f ns per PFN (best of %d)\n", total, ns,
		       QUIET_READS);

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	nreaders = cpus * 2 > MAX_READERS ? MAX_READERS : cpus * 2;
	ksft_print_msg("block %ld (PFNs 0x%" PRIx64 "-0x%" PRIx64
		       "), %d readers on %ld CPUs, %d s\n", block, pfn,
		       pfn + nr - 1, nreaders, cpus, seconds);
	for (i = 0; i < nreaders; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			reader(i, pfn, nr);
		if (pids[i] < 0)
			ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	}

	t0 = mmg_now();
	deadline = t0 + seconds;
	while (mmg_now() < deadline && !readers_gone(pids, nreaders)) {
		switch (mmg_offline_block(state, OFFLINE_SECONDS)) {
		case 0:
			if (mmg_write_file(state, "online")) {
				sh->stop = 1;
				ksft_exit_fail_msg("block %ld stays offline\n",
						   block);
			}
			cycles++;
			break;
		case 2:
			timeouts++;
			break;
		default:
			refused++;
		}
	}
	sh->stop = 1;
	for (i = 0; i < nreaders; i++) {
		int status;

		if (waitpid(pids[i], &status, 0) != pids[i] ||
		    WIFSIGNALED(status)) {
			died++;
			ksft_print_msg("reader %d died (signal %d)\n", i,
				       WIFSIGNALED(status) ?
				       WTERMSIG(status) : 0);
		} else if (WEXITSTATUS(status)) {
			errors++;
			ksft_print_msg("reader %d: pread: %s\n", i,
				       strerror(sh->readers[i].error));
		}
		rounds += sh->readers[i].rounds;
		short_reads += sh->readers[i].short_reads;
	}

	ksft_test_result(cycles >= (unsigned long)seconds,
			 "block %ld offline and online %lu times in %.0f s (%lu refused, %lu timed out)\n",
			 block, cycles, mmg_now() - t0, refused, timeouts);
	ksft_test_result(!died && !errors && rounds,
			 "%d of %d readers alive, %d pread errors, %lu passes over the block\n",
			 nreaders - died, nreaders, errors, rounds);
	ksft_test_result(!short_reads, "%lu short reads\n", short_reads);
	ksft_finished();
}
