// SPDX-License-Identifier: GPL-2.0
/*
 * compaction_stress: THP faults, fork and compaction together, then check
 * that every page compaction (or anyone) isolated was accounted back:
 * nr_isolated_anon and nr_isolated_file return to exactly 0 and the kernel
 * never found them negative.
 *
 * Seed thread 002 (2011) chased nr_isolated_anon/file going negative under
 * THP faults + fork + compaction. For COMPACTION_STRESS_SECONDS (default
 * 15) this runs, as separate processes:
 *  - one THP task per online CPU: map 4 MiB with MADV_HUGEPAGE, write it,
 *    fork a child that writes one page of each THP (COW splits the child's
 *    PMDs) and exits, unmap;
 *  - a fragmenter: 64 MiB of small pages (MADV_NOHUGEPAGE), every other
 *    page dropped and refaulted in turn, so pageblocks stay half used and
 *    compaction has movable pages to migrate;
 *  - a compactor writing /proc/sys/vm/compact_memory in a loop,
 *  - an offliner taking each memory block offline and back online (what
 *    it holds is isolated and migrated too; a refused offline is fine),
 * with /proc/sys/vm/compaction_proactiveness at 100 (kcompactd compacts
 * proactively), restored at the end.
 *
 * A task still running GRACE_SECONDS after the end is killed and fails the
 * run (a leaked isolation count throttles compaction and reclaim forever
 * in too_many_isolated()). Then, with everything stopped, /proc/sys/vm/stat_refresh folds every
 * CPU's differentials; the test passes when, within 50 refreshes (5 s),
 * both counters read 0 (a leaked isolation never returns), the kernel
 * logged no "vmstat_refresh: nr_isolated_* <negative>" (/proc/vmstat
 * shows negative node counters as 0), and the stress really ran: THP
 * faults, forks, compact_memory writes and compaction migrations all
 * counted above zero, and compact_isolated grew with them. Needs root; kselftest TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest.h"
#include "mmguard_util.h"

#define THP		(2UL << 20)
#define FRAG_SIZE	(64UL << 20)
#define MAX_TASKS	16	/* 3 + one THP task per CPU */
#define GRACE_SECONDS	20

static unsigned long psize;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

static bool read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return true;
}

/* What a worker did, sent back through a pipe. */
struct counts {
	unsigned long thps, forks, compactions, offlines, onlines;
};

static void thp_task(double end, int out)
{
	struct counts c = { 0 };

	while (now() < end) {
		char *raw, *p;
		unsigned long off;
		pid_t pid;
		int st;

		raw = mmap(NULL, 3 * THP, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (raw == MAP_FAILED)
			_exit(2);
		p = (char *)(((unsigned long)raw + THP - 1) & ~(THP - 1));
		madvise(p, 2 * THP, MADV_HUGEPAGE);
		memset(p, 0x33, 2 * THP);
		c.thps += 2;
		pid = fork();
		if (pid == 0) {
			for (off = psize; off < 2 * THP; off += THP)
				p[off] = 1;
			_exit(0);
		}
		if (pid > 0) {
			c.forks++;
			waitpid(pid, &st, 0);
		}
		munmap(raw, 3 * THP);
	}
	if (write(out, &c, sizeof(c)) != sizeof(c))
		_exit(3);
	_exit(0);
}

static void frag_task(double end, int out)
{
	struct counts c = { 0 };
	unsigned long i, n = FRAG_SIZE / psize, round = 0;
	char *p;

	p = mmap(NULL, FRAG_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(2);
	madvise(p, FRAG_SIZE, MADV_NOHUGEPAGE);
	memset(p, 0x44, FRAG_SIZE);
	while (now() < end) {
		/* Drop every other page, then refault the other half. */
		for (i = round & 1; i < n; i += 2)
			madvise(p + i * psize, psize, MADV_DONTNEED);
		for (i = (round + 1) & 1; i < n; i += 2)
			p[i * psize] = (char)round;
		round++;
	}
	munmap(p, FRAG_SIZE);
	if (write(out, &c, sizeof(c)) != sizeof(c))
		_exit(3);
	_exit(0);
}

static void compact_task(double end, int out)
{
	struct counts c = { 0 };

	while (now() < end) {
		if (write_str("/proc/sys/vm/compact_memory", "1"))
			c.compactions++;
		usleep(50000);
	}
	if (write(out, &c, sizeof(c)) != sizeof(c))
		_exit(3);
	_exit(0);
}

/*
 * Offline and online again every memory block that lets itself be
 * offlined: offlining isolates and migrates what is in the block, another
 * user of NR_ISOLATED_*. Runs until killed; the kill interrupts an
 * offline that is still retrying (offline_pages() gives up on a fatal
 * signal). Reports after every block.
 */
static void offline_task(int out)
{
	struct counts c = { 0 };
	char path[128];
	int i;

	for (;;) {
		for (i = 0; i < 4096; i++) {
			snprintf(path, sizeof(path),
				 "/sys/devices/system/memory/memory%d/state", i);
			if (access(path, W_OK))
				continue;
			c = (struct counts){ 0 };
			if (write_str(path, "offline")) {
				c.offlines = 1;
				if (write_str(path, "online"))
					c.onlines = 1;
			}
			if (c.offlines && write(out, &c, sizeof(c)) != sizeof(c))
				_exit(3);
		}
		usleep(100000);
	}
}

/*
 * Lines the kernel logged since @fd was opened (at the end of the log)
 * that contain "vmstat_refresh: nr_isolated"; the first one in @line.
 */
static int kmsg_isolated_warnings(int fd, char *line, size_t len)
{
	char rec[1024];
	int found = 0;
	ssize_t n;

	for (;;) {
		char *msg;

		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* records overwritten */
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		if (!msg || !strstr(msg, "vmstat_refresh: nr_isolated"))
			continue;
		if (!found++) {
			snprintf(line, len, "%s", msg + 1);
			line[strcspn(line, "\n")] = 0;
		}
	}
	return found;
}

int main(void)
{
	const char *secs_env = getenv("COMPACTION_STRESS_SECONDS");
	double secs = secs_env ? atof(secs_env) : 15, end;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long mig0, mig1, thp0, thp1, cmig0, cmig1, iso0, iso1, anon = -1, file = -1;
	char proactive[32] = "", warn[256] = "";
	struct counts total = { 0 };
	pid_t pids[MAX_TASKS];
	int ntasks = 0, i, fds[2], kmsg, refreshes, warnings, bad = 0, stuck = 0;

	ksft_print_header();
	ksft_set_plan(3);
	psize = getpagesize();
	if (geteuid() || access("/proc/sys/vm/compact_memory", W_OK) ||
	    access("/proc/sys/vm/stat_refresh", W_OK) ||
	    !read_str("/proc/sys/vm/compaction_proactiveness", proactive,
		      sizeof(proactive))) {
		ksft_test_result_skip("stress ran: needs root and compaction\n");
		ksft_test_result_skip("nr_isolated back to 0\n");
		ksft_test_result_skip("no negative nr_isolated\n");
		ksft_finished();
	}
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg >= 0)
		lseek(kmsg, 0, SEEK_END);

	if (cpus < 1)
		cpus = 1;
	if (cpus > MAX_TASKS - 3)
		cpus = MAX_TASKS - 3;
	mig0 = mmg_vmstat("compact_migrate_scanned");
	thp0 = mmg_vmstat("thp_fault_alloc");
	cmig0 = mmg_vmstat("pgmigrate_success");
	iso0 = mmg_vmstat("compact_isolated");

	write_str("/proc/sys/vm/compaction_proactiveness", "100");
	if (pipe(fds))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	end = now() + secs;
	for (i = 0; i < cpus + 3; i++) {
		pid_t pid = fork();

		if (pid < 0)
			break;
		if (pid == 0) {
			close(fds[0]);
			if (i == 0)
				offline_task(fds[1]);
			else if (i == 1)
				compact_task(end, fds[1]);
			else if (i == 2)
				frag_task(end, fds[1]);
			else
				thp_task(end, fds[1]);
		}
		pids[ntasks++] = pid;
	}
	close(fds[1]);
	/*
	 * The others stop at @end; then the offliner is stopped. A task
	 * still running GRACE_SECONDS after @end is stuck (e.g. compaction
	 * throttled forever by a leaked NR_ISOLATED count): it is killed
	 * (a fatal signal ends the kernel's wait) and counted.
	 */
	for (i = 1; i < ntasks; i++) {
		pid_t got;
		int st;

		while (!(got = waitpid(pids[i], &st, WNOHANG)) &&
		       now() < end + GRACE_SECONDS)
			usleep(100000);
		if (!got) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], &st, 0);
			stuck++;
		} else if (got != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st)) {
			bad++;
		}
	}
	if (ntasks) {
		kill(pids[0], SIGKILL);
		waitpid(pids[0], NULL, 0);
	}
	for (;;) {
		struct counts c;

		if (read(fds[0], &c, sizeof(c)) != sizeof(c))
			break;
		total.thps += c.thps;
		total.forks += c.forks;
		total.compactions += c.compactions;
		total.offlines += c.offlines;
		total.onlines += c.onlines;
	}
	close(fds[0]);
	write_str("/proc/sys/vm/compaction_proactiveness", proactive);

	mig1 = mmg_vmstat("compact_migrate_scanned");
	thp1 = mmg_vmstat("thp_fault_alloc");
	cmig1 = mmg_vmstat("pgmigrate_success");
	iso1 = mmg_vmstat("compact_isolated");
	ksft_print_msg("%d tasks, %.0f s: %lu THPs mapped, %lu forks, %lu compact_memory writes, "
		       "%lu memory blocks offlined (%lu onlined again), "
		       "compact_migrate_scanned +%ld, compact_isolated +%ld, pgmigrate_success +%ld, "
		       "thp_fault_alloc +%ld\n",
		       ntasks, secs, total.thps, total.forks, total.compactions,
		       total.offlines, total.onlines,
		       mig1 - mig0, iso1 - iso0, cmig1 - cmig0, thp1 - thp0);
	if (total.onlines != total.offlines)
		ksft_print_msg("a block stayed offline\n");
	if (stuck)
		ksft_print_msg("%d tasks still running %d s after the end, killed\n",
			       stuck, GRACE_SECONDS);
	ksft_test_result(!bad && !stuck && ntasks == cpus + 3 && total.forks > 0 &&
			 total.compactions > 0 && mig1 > mig0 && iso1 > iso0 && cmig1 > cmig0 &&
			 thp1 > thp0,
			 "stress ran\n");

	/* Everything stopped: a leaked isolation stays, a transient one goes. */
	for (refreshes = 1; refreshes <= 50; refreshes++) {
		if (!write_str("/proc/sys/vm/stat_refresh", "1"))
			ksft_print_msg("stat_refresh: %s\n", strerror(errno));
		anon = mmg_vmstat("nr_isolated_anon");
		file = mmg_vmstat("nr_isolated_file");
		if (!anon && !file)
			break;
		usleep(100000);
	}
	ksft_print_msg("after %d stat_refresh: nr_isolated_anon %ld nr_isolated_file %ld\n",
		       refreshes > 50 ? 50 : refreshes, anon, file);
	ksft_test_result(!anon && !file, "nr_isolated back to 0\n");

	if (kmsg < 0) {
		ksft_test_result_skip("no negative nr_isolated: no /dev/kmsg\n");
	} else {
		warnings = kmsg_isolated_warnings(kmsg, warn, sizeof(warn));
		if (warnings)
			ksft_print_msg("%d kernel lines, first: %s\n", warnings, warn);
		ksft_test_result(!warnings, "no negative nr_isolated\n");
	}
	ksft_finished();
}
