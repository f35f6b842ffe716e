// The link check of `mmguard gates`: nm output in, link errors out.
#include <gtest/gtest.h>

#include "link_check.h"

namespace mmguard {
namespace {

ObjectSymbols syms(std::set<std::string> undefined, std::set<std::string> strong,
                   std::set<std::string> weak = {}) {
    ObjectSymbols s;
    s.undefined = std::move(undefined);
    s.strong = strong;
    s.defined = std::move(strong);
    s.defined.insert(weak.begin(), weak.end());
    return s;
}

TEST(LinkCheck, NmOutputGivesReferencesAndGlobalDefinitions) {
    std::string out =
        "                 U __stack_chk_fail\n"
        "0000000000000be0 T absent_pages_in_range\n"
        "0000000000000000 B check_pages_enabled\n"
        "0000000000000010 D init_on_alloc\n"
        "0000000000000020 R mmguard_table\n"
        "0000000000000030 W arch_hook\n"
        "0000000000000040 V weak_object\n"
        "                 w maybe_there\n"
        "                 v maybe_object\n"
        "00000000000004c0 t static_helper\n"
        "0000000000000000 d __already_done.1\n"
        "0000000000000000 r __func__.2\n";
    auto s = parse_nm(out);
    EXPECT_EQ(s.undefined, (std::set<std::string>{"__stack_chk_fail"}));
    EXPECT_EQ(s.strong, (std::set<std::string>{"absent_pages_in_range", "check_pages_enabled", "init_on_alloc",
                                               "mmguard_table"}));
    EXPECT_EQ(s.defined, (std::set<std::string>{"absent_pages_in_range", "arch_hook", "check_pages_enabled",
                                                "init_on_alloc", "mmguard_table", "weak_object"}));
}

// The case that must fail: a new reference to a symbol that no object of
// the configuration defines (the declaration without its stub).
TEST(LinkCheck, ANewReferenceNoObjectDefinesFails) {
    LinkInput in;
    in.config = "memory-isolation-off";
    in.base["mm/mm_init.o"] = syms({"__stack_chk_fail", "set_pageblock_migratetype"}, {"memmap_init_range"});
    in.base["mm/page_alloc.o"] = syms({"__stack_chk_fail"}, {"set_pageblock_migratetype"});
    in.patched = in.base;
    in.patched["mm/mm_init.o"].undefined.insert("clear_isolated_migratetype");
    auto v = check_links(in);
    EXPECT_FALSE(v.ok());
    EXPECT_EQ(v.new_references, 1);
    EXPECT_EQ(v.problems, (std::vector<std::string>{"mm/mm_init.o references clear_isolated_migratetype, defined "
                                                    "by no object built with memory-isolation-off"}));
    EXPECT_EQ(link_summary(v), "link: 1 error");
}

// The case that must pass: the same reference where page_isolation.o is
// built and defines it.
TEST(LinkCheck, ANewReferenceAPatchedObjectDefinesPasses) {
    LinkInput in;
    in.config = "project";
    in.base["mm/mm_init.o"] = syms({"__stack_chk_fail", "set_pageblock_migratetype"}, {"memmap_init_range"});
    in.base["mm/page_alloc.o"] = syms({"__stack_chk_fail"}, {"set_pageblock_migratetype"});
    in.base["mm/page_isolation.o"] = syms({"__stack_chk_fail"}, {"start_isolate_page_range"});
    in.patched = in.base;
    in.patched["mm/mm_init.o"].undefined.insert("clear_isolated_migratetype");
    in.patched["mm/page_isolation.o"].defined.insert("clear_isolated_migratetype");
    in.patched["mm/page_isolation.o"].strong.insert("clear_isolated_migratetype");
    auto v = check_links(in);
    EXPECT_TRUE(v.ok());
    EXPECT_EQ(v.new_references, 1);
    EXPECT_EQ(v.notes, (std::vector<std::string>{"mm/mm_init.o newly references clear_isolated_migratetype: "
                                                 "defined by mm/page_isolation.o"}));
    EXPECT_EQ(link_summary(v), "link: 1 new reference, all resolved");
}

TEST(LinkCheck, WhatBaseTakesFromUntouchedObjectsStaysAvailable) {
    LinkInput in;
    in.config = "project";
    in.base["mm/page_alloc.o"] = syms({"xa_erase", "__stack_chk_fail"}, {"free_pages"});
    in.base["mm/mm_init.o"] = syms({"__stack_chk_fail"}, {"memmap_init_range"});
    in.patched = in.base;
    in.patched["mm/mm_init.o"].undefined.insert("xa_erase");
    auto v = check_links(in);
    EXPECT_TRUE(v.ok());
    EXPECT_EQ(v.new_references, 1);
    ASSERT_EQ(v.notes.size(), 1u);
    EXPECT_NE(v.notes[0].find("base's mm/page_alloc.o references it too"), std::string::npos);
    EXPECT_EQ(link_summary(check_links({"x", in.base, in.base, {}})), "link: no new references");
}

TEST(LinkCheck, ADefinitionThePatchesDropIsAnErrorWhereStillReferenced) {
    LinkInput in;
    in.config = "cma-off";
    // Base: page_alloc.o defines foo, mm_init.o and vmstat.o call it.
    in.base["mm/page_alloc.o"] = syms({}, {"foo"});
    in.base["mm/mm_init.o"] = syms({"foo"}, {});
    in.base["mm/vmstat.o"] = syms({"foo"}, {});
    in.patched = in.base;
    in.patched["mm/page_alloc.o"] = syms({}, {});
    in.patched["mm/vmstat.o"] = syms({}, {});
    auto v = check_links(in);
    EXPECT_EQ(v.new_references, 0);
    EXPECT_EQ(v.problems, (std::vector<std::string>{"mm/mm_init.o references foo, which base's mm/page_alloc.o "
                                                    "defines and no patched object built with cma-off does"}));
}

TEST(LinkCheck, AStaticFunctionOfAnotherObjectDoesNotResolve) {
    LinkInput in;
    in.config = "project";
    in.base["mm/page_alloc.o"] = syms({}, {});
    in.base["mm/mm_init.o"] = syms({}, {});
    in.patched = in.base;
    in.patched["mm/page_alloc.o"] = parse_nm("0000000000000010 t helper\n");
    in.patched["mm/mm_init.o"] = parse_nm("                 U helper\n");
    EXPECT_FALSE(check_links(in).ok());
    in.patched["mm/page_alloc.o"] = parse_nm("0000000000000010 T helper\n");
    EXPECT_TRUE(check_links(in).ok());
}

TEST(LinkCheck, AnAllowedSymbolResolvesWithItsReason) {
    LinkInput in;
    in.config = "defconfig";
    in.base["mm/rmap.o"] = syms({}, {"rmap_walk"});
    in.patched = in.base;
    in.patched["mm/rmap.o"].undefined.insert("dump_page");
    EXPECT_FALSE(check_links(in).ok());
    in.allowed["dump_page"] = "mm/debug.c, always built";
    auto v = check_links(in);
    EXPECT_TRUE(v.ok());
    EXPECT_EQ(v.notes, (std::vector<std::string>{"mm/rmap.o newly references dump_page: listed in "
                                                 "qemu/gates/link-allowed: mm/debug.c, always built"}));
}

TEST(LinkCheck, TwoStrongDefinitionsAreAnErrorAWeakOneIsNot) {
    LinkInput in;
    in.config = "smp-off";
    in.base["mm/page_alloc.o"] = syms({}, {"drain_cpu"});
    in.base["mm/vmstat.o"] = syms({}, {});
    in.patched = in.base;
    in.patched["mm/vmstat.o"] = syms({}, {}, {"drain_cpu"});
    EXPECT_TRUE(check_links(in).ok());
    in.patched["mm/vmstat.o"] = syms({}, {"drain_cpu"});
    auto v = check_links(in);
    EXPECT_EQ(v.problems, (std::vector<std::string>{"drain_cpu is defined by both mm/page_alloc.o and "
                                                    "mm/vmstat.o in smp-off: a multiple definition"}));
}

TEST(LinkCheck, AnObjectBaseDidNotBuildHasOnlyNewReferences) {
    LinkInput in;
    in.config = "project";
    in.base["mm/page_alloc.o"] = syms({"kfree"}, {"free_pages"});
    in.patched = in.base;
    in.patched["mm/mmguard/new_kunit.o"] = syms({"kfree", "free_pages"}, {});
    auto v = check_links(in);
    EXPECT_TRUE(v.ok());
    EXPECT_EQ(v.new_references, 2);
}

}  // namespace
}  // namespace mmguard
