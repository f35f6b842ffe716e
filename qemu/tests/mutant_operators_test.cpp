// The mutant generator on small C snippets: each operator, function
// location, the DEBUG_VM checks left alone, the diff git applies.
#include <gtest/gtest.h>

#include <algorithm>

#include "mutant_diff.h"
#include "mutant_operators.h"
#include "mutant_source.h"
#include "process.h"

using namespace mmguard;

namespace {

const char* kSnippet = R"(#include <linux/mm.h>

static void helper(int x);

static void move_it(struct zone *zone, struct page *page,
		    unsigned int order, int mt)
{
	unsigned long flags;

	spin_lock_irqsave(&zone->lock, flags);
	if (order < pageblock_order)
		zone->nr_free += 1 << order;
	list_move(&page->lru, &zone->free_area[order].free_list[mt]);
	VM_WARN_ON_ONCE(mt == MIGRATE_CMA);
	if (VM_WARN_ON_ONCE(mt >= MIGRATE_PCPTYPES)) {
		pr_warn("bad type %d\n", mt);
		zone->bad++;
	}
	set_pageblock_migratetype(page, MIGRATE_MOVABLE);
	spin_unlock_irqrestore(&zone->lock, flags);
}

static void helper(int x)
{
	move_it(NULL, NULL, x, 0);
}
)";

std::vector<std::string> ids_of(const std::vector<Mutant>& ms, const std::string& op) {
    std::vector<std::string> out;
    for (const auto& m : ms)
        if (m.op == op) out.push_back(m.id);
    return out;
}

}  // namespace

TEST(MutantSource, LocatesTheDefinitionNotThePrototypeOrACall) {
    auto lines = split_lines(kSnippet);
    auto body = locate_function(lines, "helper");
    EXPECT_EQ(lines[body.header], "static void helper(int x)");
    EXPECT_EQ(lines[body.open], "{");
    EXPECT_EQ(lines[body.close], "}");
    EXPECT_EQ(body.close, body.open + 2);
    auto mv = locate_function(lines, "move_it");
    EXPECT_EQ(mv.header, 4u);   // the multi-line declarator's first line
    EXPECT_EQ(mv.open, 6u);
    EXPECT_EQ(lines[mv.close - 1], "\tspin_unlock_irqrestore(&zone->lock, flags);");
    EXPECT_THROW(locate_function(lines, "absent"), HarnessError);
    EXPECT_THROW(locate_function(lines, "move"), HarnessError);   // a prefix is not the name
}

TEST(MutantSource, SkipsChecksAndTheirBlocks) {
    auto lines = split_lines(kSnippet);
    auto body = locate_function(lines, "move_it");
    auto skip = skipped_lines(lines, body);
    auto idx = [&](const std::string& text) {
        return static_cast<std::size_t>(std::find(lines.begin(), lines.end(), text) - lines.begin());
    };
    EXPECT_TRUE(skip[idx("\tVM_WARN_ON_ONCE(mt == MIGRATE_CMA);")]);
    EXPECT_TRUE(skip[idx("\t\tpr_warn(\"bad type %d\\n\", mt);")]);
    EXPECT_FALSE(skip[idx("\t\tzone->nr_free += 1 << order;")]);
    EXPECT_TRUE(skip[idx("\tif (VM_WARN_ON_ONCE(mt >= MIGRATE_PCPTYPES)) {")]);
    EXPECT_TRUE(skip[idx("\t\tzone->bad++;")]);   // inside the check's block
    EXPECT_TRUE(skip[body.open]);
    EXPECT_TRUE(skip[body.close]);
}

TEST(MutantSource, SkipsDebugVmIfdefBlocks) {
    auto lines = split_lines("void f(int *x)\n{\n\t(*x)++;\n#ifdef CONFIG_DEBUG_VM\n\t(*x)--;\n#endif\n\t(*x) += 2;\n}\n");
    auto skip = skipped_lines(lines, locate_function(lines, "f"));
    EXPECT_FALSE(skip[2]);
    EXPECT_TRUE(skip[4]);
    EXPECT_FALSE(skip[6]);
}

TEST(MutantOperators, DeleteStateTakesUpdatesOnly) {
    EXPECT_EQ(mutate_delete_state("\t\tzone->nr_free += 1 << order;"), std::vector<std::string>{"\t\t;"});
    EXPECT_EQ(mutate_delete_state("\tpcp->count--;").size(), 1u);
    EXPECT_EQ(mutate_delete_state("\tlist_del(&page->lru);").size(), 1u);
    EXPECT_EQ(mutate_delete_state("\t__mod_zone_page_state(zone, NR_FREE_PAGES, -nr);").size(), 1u);
    EXPECT_EQ(mutate_delete_state("\taccount_freepages(zone, -(1 << order), mt);").size(), 1u);
    EXPECT_EQ(mutate_delete_state("\tset_pageblock_migratetype(page, MIGRATE_MOVABLE);").size(), 1u);
    EXPECT_EQ(mutate_delete_state("\tpcp->count = 0;").size(), 1u);
    EXPECT_TRUE(mutate_delete_state("\treturn nr += 1;").empty());
    EXPECT_TRUE(mutate_delete_state("\tunsigned long n = 0;").empty());
    EXPECT_TRUE(mutate_delete_state("\tfoo(a,").empty());            // a statement that goes on
    EXPECT_TRUE(mutate_delete_state("\t\tb) += 1;").empty());         // ... and its tail
    EXPECT_TRUE(mutate_delete_state("\tpr_info(\"x\");").empty());   // not a state update
    EXPECT_TRUE(mutate_delete_state("\tif (x) y++;").empty());
}

TEST(MutantOperators, NegateCondWrapsTheWholeCondition) {
    EXPECT_EQ(mutate_negate_cond("\tif (a && (b || c)) {"), std::vector<std::string>{"\tif (!(a && (b || c))) {"});
    EXPECT_EQ(mutate_negate_cond("\t} else if (order < 3)"), std::vector<std::string>{"\t} else if (!(order < 3))"});
    EXPECT_TRUE(mutate_negate_cond("\tif (a &&").empty());          // condition on more lines
    EXPECT_TRUE(mutate_negate_cond("\tnotif (a)").empty());
    EXPECT_TRUE(mutate_negate_cond("\tpr_info(\"if (x)\");").empty());
}

TEST(MutantOperators, RelaxCmpLeavesShiftsAndArrowsAlone) {
    auto v = mutate_relax_cmp("\tif (p->order < max && n >= 1 << k)");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0], "\tif (p->order <= max && n >= 1 << k)");
    EXPECT_EQ(v[1], "\tif (p->order < max && n > 1 << k)");
    EXPECT_TRUE(mutate_relax_cmp("\tx = a->b << c >> d;").empty());
    EXPECT_TRUE(mutate_relax_cmp("\tx <<= 2;").empty());
    EXPECT_TRUE(mutate_relax_cmp("\tpr_info(\"a < b\");").empty());
    EXPECT_EQ(mutate_relax_cmp("\twhile (i <= n)"), std::vector<std::string>{"\twhile (i < n)"});
}

TEST(MutantOperators, OffByOneInBoundsAndShifts) {
    EXPECT_EQ(mutate_off_by_one("\tend = pfn + 1;"), std::vector<std::string>{"\tend = pfn;"});
    EXPECT_EQ(mutate_off_by_one("\tif (i < n - 1)"), std::vector<std::string>{"\tif (i < n)"});
    EXPECT_EQ(mutate_off_by_one("\tnr = 1 << order;"), std::vector<std::string>{"\tnr = 1 << (order - 1);"});
    EXPECT_EQ(mutate_off_by_one("\tnr = x >> zone->shift;"), std::vector<std::string>{"\tnr = x >> (zone->shift - 1);"});
    EXPECT_TRUE(mutate_off_by_one("\tx = y + 10;").empty());
    EXPECT_TRUE(mutate_off_by_one("\tx = 1 << f(y);").empty());
    EXPECT_TRUE(mutate_off_by_one("\tx <<= order;").empty());
}

TEST(MutantOperators, SwapMigratetypePerOccurrence) {
    auto v = mutate_swap_migratetype("\tif (mt == MIGRATE_CMA || mt == MIGRATE_MOVABLE)");
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0], "\tif (mt == MIGRATE_MOVABLE || mt == MIGRATE_MOVABLE)");
    EXPECT_EQ(v[1], "\tif (mt == MIGRATE_CMA || mt == MIGRATE_UNMOVABLE)");
    EXPECT_TRUE(mutate_swap_migratetype("\tfor (mt = 0; mt < MIGRATE_PCPTYPES; mt++)").empty());
    EXPECT_TRUE(mutate_swap_migratetype("\tis_MIGRATE_CMA(x);").empty());
}

TEST(MutantOperators, GenerateWholeFunctionWithStableIdsAndLockPair) {
    auto lines = split_lines(kSnippet);
    auto ms = generate_mutants("mm/x.c", lines, "move_it");
    auto locks = ids_of(ms, "drop_lock");
    ASSERT_EQ(locks.size(), 1u);
    EXPECT_EQ(locks[0], "mm/x.c:move_it:drop_lock:10:0");
    for (const auto& m : ms) {
        if (m.op != "drop_lock") continue;
        ASSERT_EQ(m.edits.size(), 2u);
        EXPECT_EQ(m.edits[0].text, "\t;");
        EXPECT_EQ(lines[m.edits[1].line], "\tspin_unlock_irqrestore(&zone->lock, flags);");
    }
    auto del = ids_of(ms, "delete_state");
    // nr_free +=, list_move, set_pageblock_migratetype; not zone->bad++ (in a check's block)
    EXPECT_EQ(del, (std::vector<std::string>{"mm/x.c:move_it:delete_state:12:0", "mm/x.c:move_it:delete_state:13:0",
                                            "mm/x.c:move_it:delete_state:19:0"}));
    EXPECT_EQ(ids_of(ms, "negate_cond"), std::vector<std::string>{"mm/x.c:move_it:negate_cond:11:0"});
    // No mutant touches the VM_WARN line or the pr_warn block.
    for (const auto& m : ms)
        for (const auto& e : m.edits) {
            EXPECT_EQ(lines[e.line].find("WARN"), std::string::npos) << m.id;
            EXPECT_EQ(lines[e.line].find("bad++"), std::string::npos) << m.id;
        }
    // Ids are unique.
    std::vector<std::string> all;
    for (const auto& m : ms) all.push_back(m.id);
    std::sort(all.begin(), all.end());
    EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

TEST(MutantOperators, LockWithUnbalancedUnlocksIsLeftAlone) {
    auto lines = split_lines("void f(spinlock_t *l, int x)\n{\n\tspin_lock(l);\n\tif (x) {\n\t\tspin_unlock(l);\n"
                             "\t\treturn;\n\t}\n\tspin_unlock(l);\n}\n");
    EXPECT_TRUE(ids_of(generate_mutants("f.c", lines, "f"), "drop_lock").empty());
}

TEST(MutantDiff, UnifiedDiffWithContextAndMergedHunks) {
    std::vector<std::string> lines;
    for (int i = 1; i <= 20; ++i) lines.push_back("l" + std::to_string(i));
    auto d = unified_diff("mm/a.c", lines, {{4, "X5"}, {7, "X8"}, {18, "X19"}});
    EXPECT_EQ(d,
              "diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n"
              "@@ -2,10 +2,10 @@\n l2\n l3\n l4\n-l5\n+X5\n l6\n l7\n-l8\n+X8\n l9\n l10\n l11\n"
              "@@ -16,5 +16,5 @@\n l16\n l17\n l18\n-l19\n+X19\n l20\n");
    EXPECT_THROW(unified_diff("mm/a.c", lines, {{20, "x"}}), HarnessError);
    auto applied = apply_edits(lines, {{0, "first"}});
    EXPECT_EQ(applied[0], "first");
    EXPECT_EQ(applied.size(), lines.size());
}

TEST(GuardedFunctions, ParsesTheListAndRejectsBadLines) {
    auto g = parse_guarded_functions("# comment\n\nmm/page_alloc.c  __free_one_page  000-cma\nfs/proc/page.c stable_page_flags\n");
    ASSERT_EQ(g.size(), 2u);
    EXPECT_EQ(g[0].file, "mm/page_alloc.c");
    EXPECT_EQ(g[0].function, "__free_one_page");
    EXPECT_EQ(g[0].topic, "000-cma");
    EXPECT_EQ(g[1].topic, "");
    EXPECT_THROW(parse_guarded_functions("mm/page_alloc.c\n"), HarnessError);
    EXPECT_THROW(parse_guarded_functions("mm/page_alloc.c foo-bar\n"), HarnessError);
}
