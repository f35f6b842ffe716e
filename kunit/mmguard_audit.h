/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mmguard free-page audit, shared by the suites: under each zone's
 * lock, the free lists must agree with NR_FREE_PAGES, NR_FREE_CMA_PAGES
 * and nr_free_highatomic, and every free page must sit on the list of its
 * order and pageblock type (see mmguard_alloc_kunit.c).
 */
#ifndef MMGUARD_AUDIT_H
#define MMGUARD_AUDIT_H

struct kunit;

/* One KUnit expectation per invariant and zone; @when names the moment. */
void mmguard_audit_all_zones(struct kunit *test, const char *when);

#endif
