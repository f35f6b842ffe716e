// SPDX-License-Identifier: GPL-2.0
/*
 * kpageflags_types: /proc/kpageflags reports the page types that every
 * running system has somewhere: page-table pages (KPF_PGTABLE: every
 * process has some), free buddy pages (KPF_BUDDY) and, for an anonymous
 * page that was only read, the shared zero page (KPF_ZERO_PAGE, found
 * through /proc/self/pagemap).
 *
 * Added for `make mutate` (Documentation/mutate.md): deleting the line of
 * stable_page_flags() that sets one of these bits survived every other
 * suite.  Needs root (PFNs in pagemap and /proc/kpageflags need
 * CAP_SYS_ADMIN).  Output is kselftest TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kernel-page-flags.h>

#include "kselftest.h"

#ifndef KPF_PGTABLE
#define KPF_PGTABLE	26
#endif
#ifndef KPF_ZERO_PAGE
#define KPF_ZERO_PAGE	24
#endif

#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define CHUNK		4096

int main(void)
{
	uint64_t buf[CHUNK], ent = 0, zflags = 0, pgtable = 0, buddy = 0;
	long page_size = sysconf(_SC_PAGESIZE);
	volatile char *p;
	ssize_t n;
	off_t off = 0;
	int kflags, pagemap, i;

	ksft_print_header();
	ksft_set_plan(3);
	if (geteuid() != 0) {
		for (i = 0; i < 3; i++)
			ksft_test_result_skip("needs root\n");
		ksft_finished();
	}
	kflags = open("/proc/kpageflags", O_RDONLY);
	pagemap = open("/proc/self/pagemap", O_RDONLY);
	if (kflags < 0 || pagemap < 0)
		ksft_exit_fail_msg("open /proc files: %s\n", strerror(errno));

	while ((n = pread(kflags, buf, sizeof(buf), off)) > 0) {
		for (i = 0; i < n / 8; i++) {
			pgtable += !!(buf[i] & (1ULL << KPF_PGTABLE));
			buddy += !!(buf[i] & (1ULL << KPF_BUDDY));
		}
		off += n;
	}
	ksft_test_result(pgtable > 0, "some PFN is KPF_PGTABLE (%llu of %llu)\n",
			 (unsigned long long)pgtable, (unsigned long long)(off / 8));
	ksft_test_result(buddy > 0, "some PFN is KPF_BUDDY (%llu)\n", (unsigned long long)buddy);

	p = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	madvise((void *)p, page_size, MADV_NOHUGEPAGE);
	(void)p[0];	/* a read fault maps the shared zero page */
	if (pread(pagemap, &ent, 8, (uintptr_t)p / page_size * 8) == 8 && (ent & PM_PRESENT))
		pread(kflags, &zflags, 8, (ent & PM_PFN_MASK) * 8);
	ksft_test_result((ent & PM_PRESENT) && (zflags & (1ULL << KPF_ZERO_PAGE)),
			 "a read-only anonymous page is KPF_ZERO_PAGE (pagemap %#llx, flags %#llx)\n",
			 (unsigned long long)ent, (unsigned long long)zflags);
	close(pagemap);
	close(kflags);
	ksft_finished();
}
