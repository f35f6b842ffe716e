// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard: the free-page audit, for the KUnit suites and for users.
 *
 * Invariants (Linux 6.12 semantics):
 *
 *  I1 Counters match the free lists.  Under zone->lock, the pages on
 *     zone->free_area[order].free_list[mt] (count << order) summed over
 *     every migratetype except MIGRATE_ISOLATE equal NR_FREE_PAGES (6.12's
 *     account_freepages() skips isolated pages), the MIGRATE_CMA lists
 *     equal NR_FREE_CMA_PAGES and the MIGRATE_HIGHATOMIC lists equal
 *     zone->nr_free_highatomic.
 *
 *  I2 Every free page is where its metadata says.  A page on
 *     free_area[order].free_list[mt] has PageBuddy set, buddy_order() ==
 *     order, a PFN aligned to 1 << order inside the zone, and every
 *     pageblock it covers has migratetype mt.  6.12 already warns when a
 *     page is added, moved or deleted with a mismatching type; the audit
 *     checks the state at rest, so a type changed without moving the pages
 *     is caught too.
 *
 *  I5 The highatomic reserve matches its blocks.  zone->nr_reserved_highatomic
 *     equals pageblock_nr_pages times the zone's MIGRATE_HIGHATOMIC
 *     pageblocks (reserve_highatomic_pageblock() and
 *     unreserve_highatomic_pageblock() change the two together, under
 *     zone->lock).  While a block of the zone is isolated its former type
 *     is not visible, so I5 is only compared when none is.
 *
 * The free lists, the NR_FREE_PAGES/NR_FREE_CMA_PAGES updates (all made by
 * account_freepages() under zone->lock), nr_free_highatomic and
 * nr_reserved_highatomic only change under zone->lock, so the audit takes it
 * with interrupts off and sees one consistent state.  The exception is
 * vmstat folding: vmstat_update() moves a CPU's delta into the zone counter
 * without zone->lock (this_cpu_xchg() of the delta, then atomic_long_add()),
 * so zone_page_state_snapshot(), which sums the zone counter and every CPU's
 * delta, misses the delta while a fold is between the two steps.  The audit
 * therefore repeats a mismatching comparison up to MMGUARD_AUDIT_TRIES times,
 * yielding between tries so a fold interrupted on this CPU can finish, and
 * reports drift only if every try disagrees.  Real accounting bugs persist
 * and are still reported; list/placement errors are exact under the lock and
 * never retried.
 *
 * /sys/kernel/debug/mmguard/free_pages runs the audit on every populated
 * zone when read and prints one line per zone (see mmguard_audit_show()).
 * /sys/kernel/debug/mmguard/pageblock_types counts each memory block's
 * pageblocks per migratetype (see mmguard_pageblock_types_show());
 * set_pageblock_type retypes a pageblock that a THP covers, for tests.
 *
 * The audit walks every free block and pageblock with interrupts off; that is
 * fine for test guests (a few GiB) but not meant for huge machines.
 */

#include <kunit/test.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/memblock.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/page-isolation.h>
#include <linux/seq_file.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/vmstat.h>

#include "../internal.h"
#include "mmguard_audit.h"

/* Compare the counters this many times before calling a mismatch drift. */
#define MMGUARD_AUDIT_TRIES	10

bool mmguard_counters_match(const struct mmguard_zone_audit *a)
{
	return a->free.expected == a->free.actual &&
	       a->cma.expected == a->cma.actual &&
	       a->highatomic.expected == a->highatomic.actual &&
	       (a->isolated_blocks ||
		a->reserved.expected == a->reserved.actual);
}

static bool mmguard_audit_clean(const struct mmguard_zone_audit *a)
{
	return mmguard_counters_match(a) && !a->misplaced;
}

/* I2 for one block on free_list[mt] of free_area[order]; zone->lock held. */
static enum mmguard_misplacement
mmguard_check_placement(struct zone *zone, struct page *page,
			unsigned int order, int mt, unsigned long *found)
{
	unsigned long pfn = page_to_pfn(page);
	unsigned long nr = 1UL << order;
	unsigned long block;

	if (!PageBuddy(page))
		return MMGUARD_NOT_BUDDY;
	if (buddy_order(page) != order) {
		*found = buddy_order(page);
		return MMGUARD_WRONG_ORDER;
	}
	if (!IS_ALIGNED(pfn, nr))
		return MMGUARD_UNALIGNED;
	if (!zone_spans_pfn(zone, pfn) || !zone_spans_pfn(zone, pfn + nr - 1) ||
	    page_zone(page) != zone)
		return MMGUARD_OUTSIDE_ZONE;

	/* A block larger than a pageblock must have one type throughout. */
	for (block = pfn; block < pfn + nr; block += pageblock_nr_pages) {
		int block_mt = get_pageblock_migratetype(pfn_to_page(block));

		if (block_mt != mt) {
			*found = block_mt;
			return MMGUARD_WRONG_TYPE;
		}
	}
	return MMGUARD_OK;
}

/* I5's side of the blocks: count HighAtomic and Isolate pageblocks. */
static void mmguard_count_blocks(struct zone *zone,
				 struct mmguard_zone_audit *a)
{
	unsigned long pfn = ALIGN_DOWN(zone->zone_start_pfn, pageblock_nr_pages);
	unsigned long highatomic = 0;

	for (; pfn < zone_end_pfn(zone); pfn += pageblock_nr_pages) {
		struct page *page = pfn_to_online_page(pfn);
		int mt;

		if (!page || page_zone(page) != zone)
			continue;
		mt = get_pageblock_migratetype(page);
		if (is_migrate_highatomic(mt))
			highatomic++;
		else if (is_migrate_isolate(mt))
			a->isolated_blocks++;
	}
	a->reserved.expected = highatomic * pageblock_nr_pages;
}

/* One consistent look at @zone under zone->lock. */
static void mmguard_audit_zone_once(struct zone *zone,
				    struct mmguard_zone_audit *a)
{
	unsigned long flags;
	unsigned int order;
	int mt;

	memset(a, 0, sizeof(*a));

	spin_lock_irqsave(&zone->lock, flags);
	for_each_migratetype_order(order, mt) {
		struct list_head *list = &zone->free_area[order].free_list[mt];
		struct page *page;

		list_for_each_entry(page, list, buddy_list) {
			unsigned long nr = 1UL << order;
			enum mmguard_misplacement why;
			unsigned long found = 0;

			a->blocks++;
			if (is_migrate_isolate(mt)) {
				a->isolated += nr;
			} else {
				a->free.expected += nr;
				if (is_migrate_cma(mt))
					a->cma.expected += nr;
				else if (is_migrate_highatomic(mt))
					a->highatomic.expected += nr;
			}

			why = mmguard_check_placement(zone, page, order, mt,
						      &found);
			if (why != MMGUARD_OK && !a->misplaced++) {
				a->first.why = why;
				a->first.pfn = page_to_pfn(page);
				a->first.order = order;
				a->first.list_mt = mt;
				a->first.found = found;
			}
		}
	}
	mmguard_count_blocks(zone, a);
	a->free.actual = zone_page_state_snapshot(zone, NR_FREE_PAGES);
	a->cma.actual = zone_page_state_snapshot(zone, NR_FREE_CMA_PAGES);
	a->highatomic.actual = READ_ONCE(zone->nr_free_highatomic);
	a->reserved.actual = READ_ONCE(zone->nr_reserved_highatomic);
	spin_unlock_irqrestore(&zone->lock, flags);
}

/**
 * mmguard_audit_zone() - Compare a zone's free lists with its counters.
 * @zone: a populated zone
 * @a: filled with the last try's expected/actual values and placement errors
 *
 * A counter mismatch is re-read up to MMGUARD_AUDIT_TRIES times (a vmstat
 * fold in flight is invisible to zone_page_state_snapshot()); only a
 * mismatch every try saw is drift.
 *
 * Return: true if the zone is clean (I1, I2 and I5 hold).
 */
bool mmguard_audit_zone(struct zone *zone, struct mmguard_zone_audit *a)
{
	unsigned int try;

	for (try = 1; ; try++) {
		mmguard_audit_zone_once(zone, a);
		a->tries = try;
		if (mmguard_counters_match(a) || try == MMGUARD_AUDIT_TRIES)
			break;
		/* Let a fold interrupted on this CPU, or a remote one, finish. */
		cond_resched();
		cpu_relax();
	}
	return mmguard_audit_clean(a);
}

static const char *mmguard_mt_name(unsigned long mt)
{
	return mt < MIGRATE_TYPES ? migratetype_names[mt] : "?";
}

static const char * const mmguard_why_names[] = {
	[MMGUARD_OK]		= "ok",
	[MMGUARD_NOT_BUDDY]	= "PageBuddy clear",
	[MMGUARD_WRONG_ORDER]	= "buddy_order differs",
	[MMGUARD_UNALIGNED]	= "PFN not aligned to order",
	[MMGUARD_OUTSIDE_ZONE]	= "outside the zone",
	[MMGUARD_WRONG_TYPE]	= "pageblock type differs",
};

static long mmguard_drift(const struct mmguard_counter *c)
{
	return (long)(c->actual - c->expected);
}

/* Turn an audit into one expectation per invariant, with the numbers. */
void mmguard_expect_clean(struct kunit *test, struct zone *zone,
			  const struct mmguard_zone_audit *a, const char *when)
{
	int nid = zone_to_nid(zone);

	KUNIT_EXPECT_EQ_MSG(test, a->free.actual, a->free.expected,
			    "%s: node %d zone %s: NR_FREE_PAGES is %lu but the non-isolated free lists hold %lu pages (drift %ld, seen in all %u reads)",
			    when, nid, zone->name, a->free.actual,
			    a->free.expected, mmguard_drift(&a->free), a->tries);
	KUNIT_EXPECT_EQ_MSG(test, a->cma.actual, a->cma.expected,
			    "%s: node %d zone %s: NR_FREE_CMA_PAGES is %lu but the CMA free lists hold %lu pages (drift %ld, seen in all %u reads)",
			    when, nid, zone->name, a->cma.actual,
			    a->cma.expected, mmguard_drift(&a->cma), a->tries);
	KUNIT_EXPECT_EQ_MSG(test, a->highatomic.actual, a->highatomic.expected,
			    "%s: node %d zone %s: nr_free_highatomic is %lu but the HighAtomic free lists hold %lu pages",
			    when, nid, zone->name, a->highatomic.actual,
			    a->highatomic.expected);
	if (!a->isolated_blocks)
		KUNIT_EXPECT_EQ_MSG(test, a->reserved.actual,
				    a->reserved.expected,
				    "%s: node %d zone %s: nr_reserved_highatomic is %lu but the zone has %lu pages of HighAtomic pageblocks",
				    when, nid, zone->name, a->reserved.actual,
				    a->reserved.expected);
	KUNIT_EXPECT_EQ_MSG(test, a->misplaced, 0UL,
			    "%s: node %d zone %s: %lu misplaced free blocks; first: pfn %#lx on the order-%u %s list: %s (found %lu)",
			    when, nid, zone->name, a->misplaced, a->first.pfn,
			    a->first.order, mmguard_mt_name(a->first.list_mt),
			    mmguard_why_names[a->first.why], a->first.found);
}

void mmguard_audit_all_zones(struct kunit *test, const char *when)
{
	struct mmguard_zone_audit a;
	struct zone *zone;

	for_each_populated_zone(zone) {
		mmguard_audit_zone(zone, &a);
		mmguard_expect_clean(test, zone, &a, when);
	}
}

void mmguard_audit_exit(struct kunit *test)
{
	mmguard_audit_all_zones(test, "after the case");
}

/*
 * debugfs: one line per populated zone, "key=value" words after the zone:
 *   node 0 zone DMA32 free=E/A/D cma=E/A/D highatomic=E/A/D reserved=E/A/D
 *     isolated=N isolated_blocks=N misplaced=N reads=N clean=0|1
 * where E is what the lists (or blocks) hold, A the counter, D = A - E
 * (reserved shows "-" for D while a block is isolated: not compared).
 */
static void mmguard_show_counter(struct seq_file *m, const char *name,
				 const struct mmguard_counter *c, bool compared)
{
	seq_printf(m, " %s=%lu/%lu/", name, c->expected, c->actual);
	if (compared)
		seq_printf(m, "%ld", mmguard_drift(c));
	else
		seq_puts(m, "-");
}

static int mmguard_audit_show(struct seq_file *m, void *unused)
{
	struct mmguard_zone_audit a;
	struct zone *zone;

	get_online_mems();	/* no memmap goes away under the walk */
	for_each_populated_zone(zone) {
		bool clean = mmguard_audit_zone(zone, &a);

		seq_printf(m, "node %d zone %s", zone_to_nid(zone), zone->name);
		mmguard_show_counter(m, "free", &a.free, true);
		mmguard_show_counter(m, "cma", &a.cma, true);
		mmguard_show_counter(m, "highatomic", &a.highatomic, true);
		mmguard_show_counter(m, "reserved", &a.reserved,
				     !a.isolated_blocks);
		seq_printf(m, " isolated=%lu isolated_blocks=%lu misplaced=%lu reads=%u clean=%d\n",
			   a.isolated, a.isolated_blocks, a.misplaced,
			   a.tries, clean);
		if (a.misplaced)
			seq_printf(m, "  first misplaced: pfn %#lx on the order-%u %s list: %s (found %lu)\n",
				   a.first.pfn, a.first.order,
				   mmguard_mt_name(a.first.list_mt),
				   mmguard_why_names[a.first.why],
				   a.first.found);
	}
	put_online_mems();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mmguard_audit);

#ifdef CONFIG_MEMORY_HOTPLUG
static void mmguard_show_block_types(struct seq_file *m, unsigned long block,
				     const unsigned long *counts)
{
	int mt;

	seq_printf(m, "memory%lu", block);
	for (mt = 0; mt < MIGRATE_TYPES; mt++)
		seq_printf(m, " %s=%lu", mmguard_mt_name(mt), counts[mt]);
	seq_putc(m, '\n');
}

/*
 * debugfs pageblock_types: one line per memory block with online pages,
 * the number of its pageblocks of each migratetype:
 *   memory14 Unmovable=0 Movable=64 Reclaimable=0 HighAtomic=0 CMA=0 Isolate=0
 * Tests compare a block's line before and after an offline that failed.
 */
static int mmguard_pageblock_types_show(struct seq_file *m, void *unused)
{
	unsigned long block_pages = memory_block_size_bytes() >> PAGE_SHIFT;
	unsigned long counts[MIGRATE_TYPES] = { 0 };
	unsigned long pfn, block = 0;
	bool any = false;

	get_online_mems();
	for (pfn = 0; pfn < max_pfn; pfn += pageblock_nr_pages) {
		struct page *page = pfn_to_online_page(pfn);

		if (any && pfn / block_pages != block) {
			mmguard_show_block_types(m, block, counts);
			memset(counts, 0, sizeof(counts));
			any = false;
		}
		if (!page)
			continue;
		block = pfn / block_pages;
		counts[get_pageblock_migratetype(page)]++;
		any = true;
	}
	if (any)
		mmguard_show_block_types(m, block, counts);
	put_online_mems();
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mmguard_pageblock_types);

/*
 * debugfs set_pageblock_type (write "PFN TYPE", PFN in hex, TYPE one of
 * Unmovable, Movable, Reclaimable): gives a pageblock another type, for
 * tests that need a known type in a known place. Only a pageblock that one
 * allocated folio covers whole (a THP) is accepted: it has no free page, so
 * no free list has to follow the change, and the folio stays movable.
 */
static ssize_t mmguard_set_pageblock_type_write(struct file *file,
						const char __user *ubuf,
						size_t len, loff_t *ppos)
{
	char buf[64], name[16];
	unsigned long pfn, flags;
	struct folio *folio;
	struct page *page;
	struct zone *zone;
	int mt, ret = -EINVAL;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%lx %15s", &pfn, name) != 2)
		return -EINVAL;
	for (mt = 0; mt < MIGRATE_PCPTYPES; mt++)
		if (!strcmp(name, migratetype_names[mt]))
			break;
	if (mt == MIGRATE_PCPTYPES || !IS_ALIGNED(pfn, pageblock_nr_pages))
		return -EINVAL;

	get_online_mems();
	page = pfn_to_online_page(pfn);
	folio = page ? page_folio(page) : NULL;
	if (!folio || !folio_try_get(folio))
		goto out;
	if (page_folio(page) == folio && &folio->page == page &&
	    folio_nr_pages(folio) >= pageblock_nr_pages) {
		zone = folio_zone(folio);
		spin_lock_irqsave(&zone->lock, flags);
		if (!is_migrate_isolate_page(page)) {
			set_pageblock_migratetype(page, mt);
			ret = len;
		} else {
			ret = -EBUSY;
		}
		spin_unlock_irqrestore(&zone->lock, flags);
	}
	folio_put(folio);
out:
	put_online_mems();
	return ret;
}

static const struct file_operations mmguard_set_pageblock_type_fops = {
	.owner = THIS_MODULE,
	.write = mmguard_set_pageblock_type_write,
	.llseek = noop_llseek,
};
#endif

static int __init mmguard_audit_debugfs_init(void)
{
	struct dentry *dir = debugfs_create_dir("mmguard", NULL);

	debugfs_create_file("free_pages", 0400, dir, NULL, &mmguard_audit_fops);
#ifdef CONFIG_MEMORY_HOTPLUG
	debugfs_create_file("pageblock_types", 0400, dir, NULL,
			    &mmguard_pageblock_types_fops);
	debugfs_create_file("set_pageblock_type", 0200, dir, NULL,
			    &mmguard_set_pageblock_type_fops);
#endif
	return 0;
}
late_initcall(mmguard_audit_debugfs_init);
