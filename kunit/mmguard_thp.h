/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A THP of the test's own: an anonymous mapping in a user address space
 * that only the test has (kunit_vm_mmap()), so no other task maps it.
 */
#ifndef MMGUARD_THP_H
#define MMGUARD_THP_H

#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/mman.h>

#ifdef CONFIG_TRANSPARENT_HUGEPAGE
/*
 * Map 4 MiB, fault a THP into its PMD-aligned 2 MiB (at *@addr) and return
 * its head page with a reference taken. Skips the test, saying why, when
 * no THP is faulted in (THP disabled, no contiguous 2 MiB free).
 */
static inline struct page *mmguard_fault_thp(struct kunit *test,
					     unsigned long *addr)
{
	unsigned long base;
	struct page *page;
	long got;

	base = kunit_vm_mmap(test, NULL, 0, 2 * HPAGE_PMD_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	if (IS_ERR_VALUE(base) || !base)
		kunit_skip(test, "kunit_vm_mmap failed: %ld", (long)base);
	*addr = ALIGN(base, HPAGE_PMD_SIZE);

	got = get_user_pages_unlocked(*addr, 1, &page, FOLL_WRITE);
	if (got != 1)
		kunit_skip(test, "GUP of %#lx failed: %ld", *addr, got);
	if (folio_order(page_folio(page)) != HPAGE_PMD_ORDER ||
	    &page_folio(page)->page != page) {
		unsigned int order = folio_order(page_folio(page));

		put_page(page);
		kunit_skip(test, "no THP at %#lx (order %u)", *addr, order);
	}
	return page;
}
#endif

#endif
