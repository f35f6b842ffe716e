/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mmguard free-page audit (mmguard_audit.c), shared by the suites and
 * exposed in debugfs as mmguard/free_pages.  Under each zone's lock the
 * free lists must agree with NR_FREE_PAGES, NR_FREE_CMA_PAGES and
 * nr_free_highatomic, every free page must sit on the list of its order and
 * pageblock type, and nr_reserved_highatomic must equal the pages of the
 * zone's MIGRATE_HIGHATOMIC pageblocks.
 */
#ifndef MMGUARD_AUDIT_H
#define MMGUARD_AUDIT_H

struct kunit;
struct zone;

/* @expected: what the free lists (or blocks) say; @actual: the counter. */
struct mmguard_counter {
	unsigned long expected;
	unsigned long actual;
};

enum mmguard_misplacement {
	MMGUARD_OK,
	MMGUARD_NOT_BUDDY,	/* on a free list without PageBuddy */
	MMGUARD_WRONG_ORDER,	/* buddy_order() differs from the list's */
	MMGUARD_UNALIGNED,	/* PFN not aligned to the list's order */
	MMGUARD_OUTSIDE_ZONE,	/* block not inside the zone */
	MMGUARD_WRONG_TYPE,	/* a covered pageblock has another type */
};

struct mmguard_zone_audit {
	struct mmguard_counter free;		/* NR_FREE_PAGES */
	struct mmguard_counter cma;		/* NR_FREE_CMA_PAGES */
	struct mmguard_counter highatomic;	/* zone->nr_free_highatomic */
	/*
	 * zone->nr_reserved_highatomic against the HighAtomic pageblocks;
	 * only compared while no pageblock of the zone is isolated (an
	 * isolated reserve still counts, but its type reads as Isolate).
	 */
	struct mmguard_counter reserved;
	unsigned long isolated;		/* pages on MIGRATE_ISOLATE lists */
	unsigned long isolated_blocks;	/* MIGRATE_ISOLATE pageblocks */
	unsigned long blocks;		/* free blocks walked */
	unsigned int tries;		/* counter reads made */

	unsigned long misplaced;	/* free blocks violating placement */
	struct {			/* the first of them */
		enum mmguard_misplacement why;
		unsigned long pfn;
		unsigned int order;
		int list_mt;
		unsigned long found;	/* the buddy order or pageblock type */
	} first;
};

/* One look at @zone (re-read while counters disagree); true if clean. */
bool mmguard_audit_zone(struct zone *zone, struct mmguard_zone_audit *a);
bool mmguard_counters_match(const struct mmguard_zone_audit *a);

/* One KUnit expectation per invariant of @a; @when names the moment. */
void mmguard_expect_clean(struct kunit *test, struct zone *zone,
			  const struct mmguard_zone_audit *a, const char *when);

/* mmguard_expect_clean() for every populated zone. */
void mmguard_audit_all_zones(struct kunit *test, const char *when);

/*
 * A suite's .exit (KUnit runs it after the case, in its cleanup kthread,
 * before the case's deferred actions): whatever the case did, every zone
 * must be clean.
 */
void mmguard_audit_exit(struct kunit *test);

#endif
