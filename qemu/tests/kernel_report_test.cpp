#include "kernel_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "console_line.h"

namespace mmguard {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// Feeds `console` line by line, as the console reader does: sanitised, then
// the printk timestamp split off. Lines without a "[ ... ]" timestamp get one
// when `add_timestamps` is set.
class ConsoleFeeder {
public:
    explicit ConsoleFeeder(ReportDetector& det) : det_(det) {}

    void feed(const std::string& console, bool add_timestamps = true) {
        std::istringstream in(console);
        std::string raw;
        while (std::getline(in, raw)) feed_line(raw, add_timestamps);
    }

    void feed_line(const std::string& raw, bool add_timestamp = true) {
        std::string s = raw;
        if (add_timestamp) {
            time_ += 0.000113;
            s = fmt::format("[{:12.6f}] {}", time_, raw);
        }
        det_.feed(split_console_line(sanitize_console_text(s), ++number_));
    }

    std::size_t line_number() const { return number_; }

private:
    ReportDetector& det_;
    std::size_t number_ = 0;
    double time_ = 12.0;
};

std::vector<KernelReport> Detect(const std::string& console, bool finish = true) {
    ReportDetector det;
    ConsoleFeeder f(det);
    f.feed(console);
    if (finish) det.finish();
    return det.reports();
}

std::vector<std::string> Signatures(const std::vector<KernelReport>& reports) {
    std::vector<std::string> out;
    for (const auto& r : reports) out.push_back(r.signature);
    return out;
}

// ---------------------------------------------------------------------------
// Realistic 6.12-style splats.

// VM_WARN_ONCE in __add_to_free_list(): the message comes between "cut here"
// and the WARNING line.
const char* const kWarnAddToFreeList = R"(------------[ cut here ]------------
page type is 1, passed migratetype is 2 (nr=512)
WARNING: CPU: 1 PID: 123 at mm/page_alloc.c:700 __add_to_free_list+0x8b/0x110
Modules linked in:
CPU: 1 UID: 0 PID: 123 Comm: kunit_try_catch Tainted: G                 N 6.12.0-mmguard #1
Tainted: [N]=TEST
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
RIP: 0010:__add_to_free_list+0x8b/0x110
Code: 48 8b 4d 08 48 89 c2 48 c7 c7 e8 52 8b 82 c6 05 0d 4b 6e 01 01 e8 <0f> 0b e9 6d ff ff ff 90 0f 0b 90 e9 9e ff ff ff
RSP: 0000:ffffc90000013c60 EFLAGS: 00010086
RAX: 0000000000000000 RBX: ffffea0000040000 RCX: 0000000000000000
RDX: 0000000000000002 RSI: 0000000000000001 RDI: ffff88807ffd8000
RBP: ffff88807ffd8000 R08: 0000000000000000 R09: 0000000000000000
R10: 0000000000000000 R11: 0000000000000000 R12: 0000000000000009
R13: 0000000000000002 R14: 0000000000000001 R15: ffff88807ffd8000
FS:  0000000000000000(0000) GS:ffff88807dd00000(0000) knlGS:0000000000000000
CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033
CR2: 0000000000000000 CR3: 0000000002a2e000 CR4: 00000000000006f0
Call Trace:
 <TASK>
 ? __warn+0x89/0x130
 ? __add_to_free_list+0x8b/0x110
 ? report_bug+0x17e/0x1b0
 ? handle_bug+0x58/0x90
 ? exc_invalid_op+0x17/0x70
 ? asm_exc_invalid_op+0x1a/0x20
 ? __add_to_free_list+0x8b/0x110
 __free_one_page+0x1f4/0x4a0
 free_pcppages_bulk+0x12c/0x2a0
 page_alloc_kunit_free+0x45/0x90
 kunit_try_run_case+0x7a/0x180
 kunit_generic_run_threadfn_adapter+0x1c/0x40
 kthread+0xd2/0x100
 ? __pfx_kthread+0x10/0x10
 ret_from_fork+0x34/0x50
 ? __pfx_kthread+0x10/0x10
 ret_from_fork_asm+0x1a/0x30
 </TASK>
---[ end trace 0000000000000000 ]---
)";

// The same WARN on another run: other CPU, PID, registers, offsets.
const char* const kWarnAddToFreeListAgain = R"(------------[ cut here ]------------
page type is 3, passed migratetype is 0 (nr=8)
WARNING: CPU: 0 PID: 4711 at mm/page_alloc.c:702 __add_to_free_list+0x93/0x120
Modules linked in: virtio_net
CPU: 0 UID: 0 PID: 4711 Comm: kunit_try_catch Tainted: G        W        N 6.12.3 #7
Hardware name: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
RIP: 0010:__add_to_free_list+0x93/0x120
Code: 00 00 48 c7 c7 10 53 8b 82 e8 <0f> 0b e9 6d ff ff ff
RSP: 0000:ffffc90000a77c10 EFLAGS: 00010282
RAX: 0000000000000000 RBX: ffffea0000a12000 RCX: 0000000000000027
Call Trace:
 <TASK>
 ? __warn+0x89/0x130
 ? __add_to_free_list+0x93/0x120
 __free_one_page+0x200/0x4b0
 free_unref_page+0x2fe/0x560
 </TASK>
---[ end trace 0000000000000000 ]---
)";

// Newer WARNING format (and CONFIG_PRINTK_CALLER prefixes).
const char* const kWarnNewFormat = R"([    T1] ------------[ cut here ]------------
[    T1] page type is 1, passed migratetype is 2 (nr=512)
[    T1] WARNING: mm/page_alloc.c:700 at __add_to_free_list+0x8b/0x110, CPU#1: swapper/0/1
[    T1] Modules linked in:
[    T1] CPU: 1 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.18.0 #1 PREEMPT(voluntary)
[    T1] Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
[    T1] RIP: 0010:__add_to_free_list+0x8b/0x110
[    T1] Code: 48 8b 4d 08 e8 <0f> 0b e9 6d ff ff ff
[    T1] RSP: 0000:ffffc90000013c60 EFLAGS: 00010086
[  C0] random: crng init done
[    T1] Call Trace:
[    T1]  <TASK>
[    T1]  __free_one_page+0x1f4/0x4a0
[    T1]  memblock_free_all+0x10c/0x2a0
[    T1]  </TASK>
[    T1] ---[ end trace 0000000000000000 ]---
)";

// The seed: VM_BUG_ON_PAGE(!PageHead(page)) in stable_page_flags(), read
// through /proc/kpageflags. dump_page() comes first, then the BUG, then the
// panic.
const char* const kSeedVmBugOnPage = R"(page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x104a01
head: order:9 mapcount:0 entire_mapcount:0 nr_pages_mapped:0 pincount:0
flags: 0x200000000000000(node=0|zone=2)
page_type: f0(buddy)
raw: 0200000000000000 ffffea0004128008 ffffea0004128008 0000000000000000
raw: 0000000000000000 0000000000000009 00000000f0000000 0000000000000000
page dumped because: VM_BUG_ON_PAGE(!PageHead(page))
------------[ cut here ]------------
kernel BUG at include/linux/page-flags.h:309!
Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
CPU: 1 UID: 0 PID: 214 Comm: page-types Not tainted 6.12.0-mmguard #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
RIP: 0010:stable_page_flags+0x336/0x340
Code: 48 c7 c6 20 5e 8b 82 48 89 df e8 5a 7d f9 ff <0f> 0b 48 c7 c6 60 5e 8b 82 e8 4c 7d f9 ff 0f 0b
RSP: 0018:ffffc90000457d68 EFLAGS: 00010246
RAX: 0000000000000037 RBX: ffffea0004128040 RCX: 0000000000000000
RDX: 0000000000000000 RSI: 0000000000000001 RDI: 00000000ffffffff
RBP: 0000000000000000 R08: 0000000000000000 R09: ffffc90000457c10
R10: 0000000000000001 R11: 0000000000000000 R12: 0000000000000000
R13: 0000000000104a01 R14: 0000000000000008 R15: 00007ffd5a1e3f30
FS:  00007f1a2b3c4740(0000) GS:ffff88807dd00000(0000) knlGS:0000000000000000
CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033
CR2: 00007f1a2b1e0000 CR3: 0000000004a52000 CR4: 00000000000006f0
Call Trace:
 <TASK>
 ? __die_body.cold+0x19/0x27
 ? die+0x2e/0x50
 ? do_trap+0xca/0x110
 ? stable_page_flags+0x336/0x340
 ? do_error_trap+0x6a/0x90
 ? stable_page_flags+0x336/0x340
 ? exc_invalid_op+0x50/0x70
 ? stable_page_flags+0x336/0x340
 ? asm_exc_invalid_op+0x1a/0x20
 ? stable_page_flags+0x336/0x340
 kpageflags_read+0xc8/0x130
 vfs_read+0xb8/0x370
 ksys_read+0x6b/0xf0
 do_syscall_64+0x82/0x160
 entry_SYSCALL_64_after_hwframe+0x76/0x7e
RIP: 0033:0x7f1a2b4d2a5d
Code: 31 c0 e9 c6 fe ff ff 50 48 8d 3d a6 53 0a 00 e8 59 ff 01 00 66 0f 1f 84
RSP: 002b:00007ffd5a1e3ee8 EFLAGS: 00000246 ORIG_RAX: 0000000000000000
RAX: ffffffffffffffda RBX: 0000000000104a00 RCX: 00007f1a2b4d2a5d
 </TASK>
Modules linked in:
---[ end trace 0000000000000000 ]---
RIP: 0010:stable_page_flags+0x336/0x340
Code: 48 c7 c6 20 5e 8b 82 48 89 df e8 5a 7d f9 ff <0f> 0b 48 c7 c6 60 5e 8b 82 e8 4c 7d f9 ff 0f 0b
RSP: 0018:ffffc90000457d68 EFLAGS: 00010246
RAX: 0000000000000037 RBX: ffffea0004128040 RCX: 0000000000000000
Kernel panic - not syncing: Fatal exception
Kernel Offset: disabled
---[ end Kernel panic - not syncing: Fatal exception ]---
)";

const char* const kNullDeref = R"(BUG: kernel NULL pointer dereference, address: 0000000000000008
#PF: supervisor read access in kernel mode
#PF: error_code(0x0000) - not-present page
PGD 0 P4D 0
Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI
CPU: 0 UID: 0 PID: 77 Comm: kunit_try_catch Tainted: G                 N 6.12.0 #1
Tainted: [N]=TEST
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
RIP: 0010:foo_bar+0x12/0x40
Code: 90 90 90 90 f3 0f 1e fa 0f 1f 44 00 00 55 48 89 e5 <48> 8b 47 08 5d c3
RSP: 0018:ffffc9000023fe08 EFLAGS: 00010246
RAX: 0000000000000000 RBX: ffff888003d2c000 RCX: 0000000000000000
Call Trace:
 <TASK>
 ? __die+0x23/0x70
 ? page_fault_oops+0x181/0x4c0
 ? exc_page_fault+0x7b/0x180
 ? asm_exc_page_fault+0x26/0x30
 ? foo_bar+0x12/0x40
 foo_test+0x2c/0x60
 kunit_try_run_case+0x7a/0x180
 kunit_generic_run_threadfn_adapter+0x1c/0x40
 kthread+0xd2/0x100
 ret_from_fork+0x34/0x50
 ret_from_fork_asm+0x1a/0x30
 </TASK>
Modules linked in:
CR2: 0000000000000008
---[ end trace 0000000000000000 ]---
RIP: 0010:foo_bar+0x12/0x40
Code: 90 90 90 90 f3 0f 1e fa 0f 1f 44 00 00 55 48 89 e5 <48> 8b 47 08 5d c3
note: kunit_try_catch[77] exited with irqs disabled
    # foo_test: try faulted: last line seen lib/foo_kunit.c:42
    not ok 1 foo_test
)";

// ---------------------------------------------------------------------------
// Individual kinds.

TEST(KernelReportTest, WarningWithMessageAfterCutHere) {
    auto reports = Detect(kWarnAddToFreeList);
    ASSERT_EQ(reports.size(), 1u);
    const KernelReport& r = reports[0];
    EXPECT_EQ(r.kind, "WARNING");
    EXPECT_EQ(r.message, "page type is N, passed migratetype is N (nr=N)");
    EXPECT_EQ(r.function, "__add_to_free_list");
    EXPECT_EQ(r.file, "mm/page_alloc.c");
    EXPECT_EQ(r.signature,
              "WARNING in __add_to_free_list: page type is N, passed migratetype is N (nr=N)");
    EXPECT_FALSE(r.fatal);
    EXPECT_EQ(r.first_line, 1u);   // the "cut here" line
    EXPECT_EQ(r.last_line, 39u);   // the end marker
    ASSERT_TRUE(r.timestamp.has_value());
    EXPECT_NEAR(*r.timestamp, 12.000339, 1e-6);  // the WARNING line
    ASSERT_EQ(r.context.size(), 39u);
    EXPECT_EQ(r.context.front(), "------------[ cut here ]------------");
    EXPECT_EQ(r.context.back(), "---[ end trace 0000000000000000 ]---");
}

TEST(KernelReportTest, NewWarningFormatAndCallerPrefixGiveTheSameSignature) {
    auto old_format = Detect(kWarnAddToFreeList);
    auto new_format = Detect(kWarnNewFormat);
    ASSERT_EQ(new_format.size(), 1u);
    EXPECT_EQ(new_format[0].kind, "WARNING");
    EXPECT_EQ(new_format[0].file, "mm/page_alloc.c");
    EXPECT_EQ(new_format[0].function, "__add_to_free_list");
    EXPECT_EQ(new_format[0].signature, old_format[0].signature);
    EXPECT_EQ(new_format[0].last_line, 16u);
}

TEST(KernelReportTest, SeedVmBugOnPageGivesOneKernelBugWithTheDumpReason) {
    ReportDetector det;
    ConsoleFeeder(det).feed(kSeedVmBugOnPage);
    det.finish();
    const auto& reports = det.reports();
    // The panic ("Fatal exception") is folded into the BUG it ends.
    ASSERT_EQ(reports.size(), 1u) << ::testing::PrintToString(Signatures(reports));

    const KernelReport& bug = reports[0];
    EXPECT_EQ(bug.kind, "kernel BUG");
    EXPECT_EQ(bug.message, "VM_BUG_ON_PAGE(!PageHead(page))");
    EXPECT_EQ(bug.function, "stable_page_flags");
    EXPECT_EQ(bug.file, "include/linux/page-flags.h");
    EXPECT_EQ(bug.signature, "kernel BUG in stable_page_flags: VM_BUG_ON_PAGE(!PageHead(page))");
    EXPECT_EQ(bug.title, "kernel BUG in stable_page_flags");
    EXPECT_TRUE(bug.fatal);   // its "Fatal exception" panic is folded in
    EXPECT_EQ(bug.first_line, 1u);   // the page dump is part of the report
    EXPECT_EQ(bug.context.front(),
              "page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x104a01");
    EXPECT_EQ(bug.context.back(), "---[ end Kernel panic - not syncing: Fatal exception ]---");
    EXPECT_TRUE(det.saw_panic());

    for (const auto& r : reports) {
        EXPECT_NE(r.kind, "page dump");
        EXPECT_NE(r.kind, "Oops");
    }
}

TEST(KernelReportTest, NullPointerDereferenceIncludesItsOopsLine) {
    ReportDetector det;
    ConsoleFeeder(det).feed(kNullDeref);
    det.finish();
    ASSERT_EQ(det.reports().size(), 1u) << ::testing::PrintToString(Signatures(det.reports()));
    const KernelReport& r = det.reports()[0];
    EXPECT_EQ(r.kind, "BUG");
    EXPECT_EQ(r.message, "kernel NULL pointer dereference");
    EXPECT_EQ(r.function, "foo_bar");
    EXPECT_EQ(r.signature, "BUG: kernel NULL pointer dereference in foo_bar");
    EXPECT_THAT(r.context, ::testing::Contains("Oops: Oops: 0000 [#1] PREEMPT SMP NOPTI"));
    EXPECT_EQ(r.context.back(), "---[ end trace 0000000000000000 ]---");
    EXPECT_FALSE(det.saw_panic());
}

TEST(KernelReportTest, PageFaultInMemcpyNamesTheCaller) {
    auto reports = Detect(R"(BUG: unable to handle page fault for address: ffffed1000000000
#PF: supervisor read access in kernel mode
#PF: error_code(0x0000) - not-present page
PGD 7ffd0067 P4D 7ffd0067 PUD 0
Oops: Oops: 0000 [#1] PREEMPT SMP KASAN NOPTI
CPU: 1 UID: 0 PID: 301 Comm: madvise06 Not tainted 6.12.0 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
RIP: 0010:memcpy_orig+0x2a/0x140
Code: 48 89 f8 48 83 fa 20 72 7e 40 38 fe 7c 35 48 83 ea 20 48 83 ea 20 <4c> 8b 06
RSP: 0018:ffffc90000cbfb38 EFLAGS: 00010206
Call Trace:
 <TASK>
 ? __die+0x23/0x70
 ? page_fault_oops+0x181/0x4c0
 ? memcpy_orig+0x2a/0x140
 copy_mc_user_highpage.isra.0+0x3b/0x90
 __collapse_huge_page_copy+0x120/0x3a0
 collapse_huge_page+0x5f2/0x8d0
 </TASK>
Modules linked in:
CR2: ffffed1000000000
---[ end trace 0000000000000000 ]---
)");
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].kind, "BUG");
    EXPECT_EQ(reports[0].function, "copy_mc_user_highpage");
    EXPECT_EQ(reports[0].signature, "BUG: unable to handle page fault in copy_mc_user_highpage");
}

TEST(KernelReportTest, GeneralProtectionFaultOldAndNewFormatsMatch) {
    const char* const kNew = R"(Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI
KASAN: null-ptr-deref in range [0x0000000000000008-0x000000000000000f]
CPU: 0 UID: 0 PID: 55 Comm: kcompactd0 Not tainted 6.12.0 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
RIP: 0010:folio_mapping+0x3a/0x1c0
Code: 48 89 fa 48 c1 ea 03 80 3c 02 00 0f 85 4b 01 00 00 <48> 8b 5d 08
RSP: 0018:ffffc900003f7a28 EFLAGS: 00010202
Call Trace:
 <TASK>
 ? die_addr+0x3d/0xa0
 ? exc_general_protection+0x150/0x230
 ? asm_exc_general_protection+0x26/0x30
 isolate_migratepages_block+0x6f1/0x2a50
 compact_zone+0x1abc/0x2d40
 </TASK>
Modules linked in:
---[ end trace 0000000000000000 ]---
)";
    const char* const kOld = R"(general protection fault, probably for non-canonical address 0xdffffc0000000002: 0000 [#1] SMP KASAN
KASAN: null-ptr-deref in range [0x0000000000000010-0x0000000000000017]
CPU: 1 PID: 60 Comm: kcompactd0 Not tainted 6.1.0 #1
RIP: 0010:folio_mapping+0x41/0x1d0
Call Trace:
 <TASK>
 isolate_migratepages_block+0x700/0x2a60
 </TASK>
---[ end trace 0000000000000000 ]---
)";
    auto a = Detect(kNew);
    auto b = Detect(kOld);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(a[0].kind, "general protection fault");
    EXPECT_EQ(a[0].function, "folio_mapping");
    EXPECT_EQ(a[0].message, "general protection fault: KASAN: null-ptr-deref");
    EXPECT_EQ(a[0].signature, "general protection fault in folio_mapping: KASAN: null-ptr-deref");
    EXPECT_EQ(b[0].signature, a[0].signature);
}

TEST(KernelReportTest, StandaloneInvalidOpcodeOldAndNewFormats) {
    const char* const kOld = R"(invalid opcode: 0000 [#1] SMP
CPU: 0 PID: 1 Comm: swapper/0 Not tainted 5.15.0 #1
RIP: 0010:bar_init.cold+0x5/0x10
Call Trace:
 <TASK>
 do_one_initcall+0x5b/0x310
 </TASK>
---[ end trace 1a2b3c4d5e6f7a8b ]---
)";
    const char* const kNew = R"(Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI
CPU: 1 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1
RIP: 0010:bar_init+0x9/0x10
Call Trace:
 <TASK>
 do_one_initcall+0x5b/0x310
 </TASK>
---[ end trace 0000000000000000 ]---
)";
    auto a = Detect(kOld);
    auto b = Detect(kNew);
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(a[0].kind, "Oops");
    EXPECT_EQ(a[0].message, "invalid opcode");
    EXPECT_EQ(a[0].signature, "Oops: invalid opcode in bar_init");
    EXPECT_EQ(b[0].signature, a[0].signature);
}

TEST(KernelReportTest, KasanReportIsClosedByItsRuleAndKeepsItsPageDump) {
    ReportDetector det;
    ConsoleFeeder f(det);
    f.feed(R"(==================================================================
BUG: KASAN: slab-use-after-free in kmalloc_uaf+0x2b4/0x2e0
Read of size 1 at addr ffff888003f6e508 by task kunit_try_catch/185

CPU: 0 UID: 0 PID: 185 Comm: kunit_try_catch Tainted: G    B            N 6.12.0 #1
Tainted: [B]=BAD_PAGE, [N]=TEST
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x5d/0x80
 print_report+0x171/0x4e0
 ? __virt_addr_valid+0xd2/0x1a0
 ? kmalloc_uaf+0x2b4/0x2e0
 kasan_report+0xbf/0xf0
 ? kmalloc_uaf+0x2b4/0x2e0
 kmalloc_uaf+0x2b4/0x2e0
 ? __pfx_kmalloc_uaf+0x10/0x10
 kunit_try_run_case+0x1a5/0x480
 kthread+0x2e1/0x3a0
 ret_from_fork+0x34/0x70
 ret_from_fork_asm+0x1a/0x30
 </TASK>

Allocated by task 185:
 kasan_save_stack+0x33/0x60
 kasan_save_track+0x14/0x30
 __kasan_kmalloc+0xaa/0xb0
 kmalloc_uaf+0xb0/0x2e0
 kunit_try_run_case+0x1a5/0x480

Freed by task 185:
 kasan_save_stack+0x33/0x60
 kasan_save_free_info+0x3b/0x60
 __kasan_slab_free+0x51/0x70
 kfree+0x137/0x3b0
 kmalloc_uaf+0x12b/0x2e0

The buggy address belongs to the object at ffff888003f6e500
 which belongs to the cache kmalloc-16 of size 16
The buggy address is located 8 bytes inside of
 freed 16-byte region [ffff888003f6e500, ffff888003f6e510)

The buggy address belongs to the physical page:
page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x3f6e
flags: 0x100000000000000(node=0|zone=1)
page_type: f5(slab)
raw: 0100000000000000 ffff888001041640 dead000000000100 dead000000000122
raw: 0000000000000000 0000000080800080 00000001f5000000 0000000000000000
page dumped because: kasan: bad access detected

Memory state around the buggy address:
 ffff888003f6e400: 00 00 fc fc 00 00 fc fc 00 00 fc fc 00 00 fc fc
>ffff888003f6e500: fa fb fc fc 00 00 fc fc 00 00 fc fc 00 00 fc fc
                      ^
 ffff888003f6e580: fa fb fc fc fa fb fc fc fa fb fc fc fa fb fc fc
==================================================================
Disabling lock debugging due to kernel taint
    ok 1 kmalloc_uaf
)");
    det.finish();
    const auto& reports = det.reports();
    ASSERT_EQ(reports.size(), 1u) << ::testing::PrintToString(Signatures(reports));
    const KernelReport& r = reports[0];
    EXPECT_EQ(r.kind, "KASAN");
    EXPECT_EQ(r.message, "slab-use-after-free");
    EXPECT_EQ(r.function, "kmalloc_uaf");
    EXPECT_EQ(r.signature, "KASAN: slab-use-after-free in kmalloc_uaf");
    EXPECT_EQ(r.first_line, 1u);
    EXPECT_EQ(r.last_line, 56u);
    EXPECT_EQ(r.context.back(),
              "==================================================================");
}

TEST(KernelReportTest, UbsanNamesFileAndSkipsUbsanHandlers) {
    auto reports = Detect(R"(------------[ cut here ]------------
UBSAN: array-index-out-of-bounds in mm/foo.c:12:3
index 5 is out of range for type 'int [4]'
CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x5d/0x80
 __ubsan_handle_out_of_bounds+0xa3/0xe0
 foo_lookup+0x3c/0x50
 foo_init+0x1e/0x40
 do_one_initcall+0x5b/0x310
 kernel_init_freeable+0x1d0/0x2a0
 kernel_init+0x1a/0x1c0
 ret_from_fork+0x34/0x50
 ret_from_fork_asm+0x1a/0x30
 </TASK>
---[ end trace ]---
)");
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].kind, "UBSAN");
    EXPECT_EQ(reports[0].file, "mm/foo.c");
    EXPECT_EQ(reports[0].function, "foo_lookup");
    EXPECT_EQ(reports[0].signature, "UBSAN: array-index-out-of-bounds in foo_lookup");
    EXPECT_EQ(reports[0].last_line, 18u);
}

TEST(KernelReportTest, SchedulingWhileAtomicEndsWhenNormalOutputResumes) {
    auto reports = Detect(R"(BUG: scheduling while atomic: kworker/1:2/345/0x00000002
Modules linked in:
CPU: 1 UID: 0 PID: 345 Comm: kworker/1:2 Not tainted 6.12.0 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
Workqueue: events foo_work_fn
Call Trace:
 <TASK>
 dump_stack_lvl+0x5d/0x80
 __schedule_bug+0x56/0x70
 __schedule+0x9e3/0xbb0
 schedule+0x27/0xa0
 schedule_timeout+0x95/0x150
 foo_work_fn+0x3e/0x80
 process_one_work+0x176/0x330
 worker_thread+0x252/0x390
 kthread+0xd2/0x100
 ret_from_fork+0x34/0x50
 ret_from_fork_asm+0x1a/0x30
 </TASK>
Freeing unused kernel image (initmem) memory: 2048K
Write protecting the kernel read-only data: 24576k
Run /init as init process
)");
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].kind, "BUG");
    EXPECT_EQ(reports[0].message, "scheduling while atomic");
    EXPECT_EQ(reports[0].function, "foo_work_fn");
    EXPECT_EQ(reports[0].signature, "BUG: scheduling while atomic in foo_work_fn");
    EXPECT_EQ(reports[0].last_line, 19u);   // </TASK>
    EXPECT_THAT(reports[0].context, Not(::testing::Contains(HasSubstr("Freeing unused"))));
}

TEST(KernelReportTest, SleepingFunctionWithDecodedFrames) {
    auto reports = Detect(R"(BUG: sleeping function called from invalid context at kernel/locking/mutex.c:585
in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 1, name: swapper/0
preempt_count: 1, expected: 0
RCU nest depth: 0, expected: 0
CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl (lib/dump_stack.c:123)
 __might_resched.cold (kernel/sched/core.c:8632)
 ? lock_is_held_type (kernel/locking/lockdep.c:5822)
 __mutex_lock (kernel/locking/mutex.c:585)
 mutex_lock_nested (kernel/locking/mutex.c:752)
 foo_setup.constprop.0 (mm/foo.c:88 (discriminator 3))
 foo_init (mm/foo.c:120)
 </TASK>
)");
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].file, "kernel/locking/mutex.c");
    EXPECT_EQ(reports[0].function, "foo_setup");
    EXPECT_EQ(reports[0].signature,
              "BUG: sleeping function called from invalid context in foo_setup");
}

TEST(KernelReportTest, OldStyleAddressFrames) {
    auto reports = Detect(R"(INFO: task kworker/u8:3:88 blocked for more than 120 seconds.
      Not tainted 4.19.0 #1
"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
kworker/u8:3    D    0    88      2 0x80000000
Call Trace:
 [<ffffffff81a3c2d1>] ? __schedule+0x2b1/0x8b0
 [<ffffffff81a3c2d1>] __schedule+0x2b1/0x8b0
 [<ffffffff81a3c8f6>] schedule+0x36/0x80
 [<ffffffff81243588>] kpageflags_read.part.0+0xc8/0x130
 [<ffffffff81243600>] vfs_read+0x80/0x130
Normal output resumes here.
)");
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].kind, "hung task");
    EXPECT_EQ(reports[0].function, "kpageflags_read");
    EXPECT_EQ(reports[0].message, "task kworker/uN:N blocked");
    EXPECT_EQ(reports[0].signature, "INFO: task kworker/uN:N blocked in kpageflags_read");
    EXPECT_EQ(reports[0].last_line, 10u);
}

TEST(KernelReportTest, BadPageStateTakesTheDumpReasonAndIsNotAPageDump) {
    auto reports = Detect(R"(BUG: Bad page state in process swapper/0  pfn:01234
page: refcount:0 mapcount:1 mapping:0000000000000000 index:0x0 pfn:0x1234
flags: 0x100000000000000(node=0|zone=1)
raw: 0100000000000000 dead000000000100 dead000000000122 0000000000000000
raw: 0000000000000000 0000000000000000 0000000000000000 0000000000000000
page dumped because: nonzero mapcount
Modules linked in:
CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
Call Trace:
 <TASK>
 dump_stack_lvl+0x5d/0x80
 bad_page+0x6b/0x100
 free_page_is_bad_report+0x86/0xa0
 __free_pages_ok+0x3a1/0x4b0
 bad_page_kunit_test+0x52/0xa0
 </TASK>
Disabling lock debugging due to kernel taint
    ok 4 bad_page_kunit_test
)");
    ASSERT_EQ(reports.size(), 1u) << ::testing::PrintToString(Signatures(reports));
    EXPECT_EQ(reports[0].kind, "BUG");
    EXPECT_EQ(reports[0].message, "Bad page state: nonzero mapcount");
    EXPECT_EQ(reports[0].function, "__free_pages_ok");
    EXPECT_EQ(reports[0].signature, "BUG: Bad page state in __free_pages_ok: nonzero mapcount");
    EXPECT_EQ(reports[0].last_line, 18u);
}

TEST(KernelReportTest, BadPageMap) {
    auto reports = Detect(R"(BUG: Bad page map in process a.out  pte:8000000001234025 pmd:01235067
page: refcount:1 mapcount:-1 mapping:0000000000000000 index:0x7f1234567 pfn:0x1234
flags: 0x100000000000000(node=0|zone=1)
page dumped because: bad pte
addr:00007f1234567000 vm_flags:08100073 anon_vma:ffff888003c4a000 mapping:0000000000000000 index:7f1234567
file:(null) fault:0x0 mmap:0x0 read_folio:0x0
CPU: 1 UID: 0 PID: 400 Comm: a.out Tainted: G    B              6.12.0 #1
Call Trace:
 <TASK>
 dump_stack_lvl+0x5d/0x80
 print_bad_pte+0x1c2/0x290
 zap_present_ptes+0x3f3/0x5e0
 unmap_page_range+0x6cc/0xf80
 </TASK>
)");
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].signature, "BUG: Bad page map in zap_present_ptes: bad pte");
}

TEST(KernelReportTest, SoftLockupUsesRipAndDropsCpuSecondsAndComm) {
    const char* const kTemplate = R"(watchdog: BUG: soft lockup - CPU#{} stuck for {}s! [{}:{}]
Modules linked in:
CPU: {} UID: 0 PID: {} Comm: {} Not tainted 6.12.0 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
RIP: 0010:spin_forever+0x10/0x20
Code: f3 0f 1e fa 0f 1f 44 00 00 eb fe
RSP: 0018:ffffc90000cbfe88 EFLAGS: 00000246
Call Trace:
 <IRQ>
 ? watchdog_timer_fn+0x1e6/0x270
 ? __hrtimer_run_queues+0x10f/0x2a0
 ? hrtimer_interrupt+0xf6/0x250
 ? sysvec_apic_timer_interrupt+0x6c/0x90
 </IRQ>
 <TASK>
 ? asm_sysvec_apic_timer_interrupt+0x1a/0x20
 ? spin_forever+0x10/0x20
 lockup_test+0x2c/0x60
 kunit_try_run_case+0x7a/0x180
 </TASK>
)";
    auto a = Detect(fmt::format(fmt::runtime(kTemplate), 1, 22, "trinity-c1", 345, 1, 345, "trinity-c1"));
    auto b = Detect(fmt::format(fmt::runtime(kTemplate), 0, 48, "kunit_try_catch", 77, 0, 77, "kunit_try_catch"));
    ASSERT_EQ(a.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(a[0].kind, "soft lockup");
    EXPECT_EQ(a[0].message, "soft lockup");
    EXPECT_EQ(a[0].function, "spin_forever");
    EXPECT_EQ(a[0].signature, "BUG: soft lockup in spin_forever");
    EXPECT_EQ(b[0].signature, a[0].signature);
}

TEST(KernelReportTest, HungTaskSkipsSchedulerAndLockFrames) {
    auto reports = Detect(R"(INFO: task khugepaged:45 blocked for more than 122 seconds.
      Not tainted 6.12.0 #1
"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.
task:khugepaged      state:D stack:0     pid:45    tgid:45    ppid:2      flags:0x00004000
Call Trace:
 <TASK>
 __schedule+0x3f1/0xbb0
 schedule+0x27/0xa0
 schedule_preempt_disabled+0x15/0x30
 rwsem_down_write_slowpath+0x2a6/0x6b0
 down_write+0x5b/0x60
 collapse_huge_page+0x1a4/0x8d0
 hpage_collapse_scan_pmd+0x6a5/0x780
 khugepaged+0x2f5/0x6a0
 kthread+0xd2/0x100
 ret_from_fork+0x34/0x50
 ret_from_fork_asm+0x1a/0x30
 </TASK>
Showing all locks held in the system:
1 lock held by khungtaskd/30:
 #0: ffffffff82b5e460 (rcu_read_lock){....}-{1:2}, at: debug_show_all_locks+0x32/0x1c0

=============================================

)");
    ASSERT_EQ(reports.size(), 1u) << ::testing::PrintToString(Signatures(reports));
    EXPECT_EQ(reports[0].kind, "hung task");
    EXPECT_EQ(reports[0].message, "task khugepaged blocked");
    EXPECT_EQ(reports[0].function, "collapse_huge_page");
    EXPECT_EQ(reports[0].signature, "INFO: task khugepaged blocked in collapse_huge_page");
    EXPECT_EQ(reports[0].last_line, 21u);
}

TEST(KernelReportTest, RcuStallFollowsSeveralTracesAndStopsAtKtap) {
    const char* const kStall = R"(rcu: INFO: {} detected stalls on CPUs/tasks:
rcu:     1-...!: (1 GPs behind) idle=b5c4/1/0x4000000000000000 softirq=1234/1235 fqs=0
rcu:     (detected by 0, t=21002 jiffies, g=2345, q=67 ncpus=2)
Sending NMI from CPU 0 to CPUs 1:
NMI backtrace for cpu 1
CPU: 1 UID: 0 PID: 88 Comm: kunit_try_catch Not tainted 6.12.0 #1
Hardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014
RIP: 0010:stall_loop+0x15/0x30
Code: f3 0f 1e fa 0f 1f 44 00 00 eb fe
RSP: 0018:ffffc90000cbfe88 EFLAGS: 00000246
Call Trace:
 <NMI>
 ? nmi_cpu_backtrace+0xb1/0x130
 ? nmi_handle+0x5d/0x170
 ? default_do_nmi+0x49/0x120
 ? exc_nmi+0x101/0x180
 ? end_repeat_nmi+0xf/0x53
 ? stall_loop+0x15/0x30
 </NMI>
 <TASK>
 rcu_stall_test+0x33/0x70
 kunit_try_run_case+0x7a/0x180
 </TASK>
rcu: {} kthread starved for 21004 jiffies! g2345 f0x0 RCU_GP_WAIT_FQS(5) ->state=0x0 ->cpu=1
rcu:     Unless {} kthread gets sufficient CPU time, OOM is now expected behavior.
rcu: RCU grace-period kthread stack dump:
task:{}     state:R  running task     stack:0     pid:16    tgid:16    ppid:2      flags:0x00004000
Call Trace:
 <TASK>
 __schedule+0x3f1/0xbb0
 schedule+0x27/0xa0
 rcu_gp_fqs_loop+0x12e/0x520
 rcu_gp_kthread+0x16c/0x1f0
 </TASK>
    # Subtest: next_suite
)";
    auto a = Detect(fmt::format(fmt::runtime(kStall), "rcu_preempt", "rcu_preempt", "rcu_preempt", "rcu_preempt"));
    auto b = Detect(fmt::format(fmt::runtime(kStall), "rcu_sched", "rcu_sched", "rcu_sched", "rcu_sched"));
    ASSERT_EQ(a.size(), 1u) << ::testing::PrintToString(Signatures(a));
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(a[0].kind, "RCU stall");
    EXPECT_EQ(a[0].function, "stall_loop");
    EXPECT_EQ(a[0].signature, "INFO: RCU stall in stall_loop");
    EXPECT_EQ(a[0].last_line, 34u);
    EXPECT_EQ(b[0].signature, a[0].signature);
}

TEST(KernelReportTest, PageDumpAloneIsItsOwnReport) {
    auto reports = Detect(R"(page: refcount:2 mapcount:1 mapping:0000000000000000 index:0x1 pfn:0x4321
memcg:ffff888003a1c000
anon flags: 0x100000000020008(uptodate|swapbacked|node=0|zone=1)
raw: 0100000000020008 dead000000000100 dead000000000122 ffff888003c4a001
raw: 0000000000000001 0000000000000000 0000000200000000 ffff888003a1c000
page dumped because: migrate_pages_test: unexpected refcount 2
Freeing unused kernel image (initmem) memory: 2048K
Write protecting the kernel read-only data: 24576k
Run /init as init process
  with arguments:
    /init
)");
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].kind, "page dump");
    EXPECT_EQ(reports[0].message, "migrate_pages_test: unexpected refcount N");
    EXPECT_EQ(reports[0].function, "");
    EXPECT_EQ(reports[0].signature, "page dump: migrate_pages_test: unexpected refcount N");
    EXPECT_EQ(reports[0].first_line, 1u);
    EXPECT_EQ(reports[0].last_line, 6u);
    EXPECT_EQ(reports[0].context.size(), 6u);
}

TEST(KernelReportTest, VmWarnOnFolioTakesTheDumpReason) {
    auto reports = Detect(R"(page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x2000
flags: 0x100000000000000(node=0|zone=1)
raw: 0100000000000000 dead000000000100 dead000000000122 0000000000000000
page dumped because: VM_WARN_ON_FOLIO(folio_test_lru(folio))
page_owner tracks the page as allocated
page last allocated via order 0, migratetype Movable, gfp_mask 0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), pid 1, tgid 1 (swapper/0), ts 1234567, free_ts 0
 post_alloc_hook+0x1c5/0x200
 get_page_from_freelist+0x3a7/0x12a0
------------[ cut here ]------------
WARNING: CPU: 0 PID: 1 at mm/swap.c:123 folio_add_lru+0x9e/0xb0
Modules linked in:
CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1
RIP: 0010:folio_add_lru+0x9e/0xb0
Call Trace:
 <TASK>
 ? __warn+0x89/0x130
 folio_add_lru_vma+0x2b/0x40
 </TASK>
---[ end trace 0000000000000000 ]---
)");
    ASSERT_EQ(reports.size(), 1u) << ::testing::PrintToString(Signatures(reports));
    EXPECT_EQ(reports[0].kind, "WARNING");
    EXPECT_EQ(reports[0].message, "VM_WARN_ON_FOLIO(folio_test_lru(folio))");
    EXPECT_EQ(reports[0].signature,
              "WARNING in folio_add_lru: VM_WARN_ON_FOLIO(folio_test_lru(folio))");
    EXPECT_EQ(reports[0].first_line, 1u);
}

// Seen in CI: memory offline on one CPU dumped the page that kept its block
// ("unmovable page") just before another CPU's WARN(); the WARNING is named
// by its own text, and the dump is no report.
TEST(KernelReportTest, DiagnosticDumpBeforeCutHereDoesNotNameTheWarning) {
    auto reports = Detect(R"(page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x48000
flags: 0x100000000000000(node=0|zone=2)
raw: 0100000000000000 dead000000000100 dead000000000122 0000000000000000
page dumped because: unmovable page
------------[ cut here ]------------
node 0 nr_isolated_anon is -97 after a fold, below what 2 CPUs can hold back (-64)
WARNING: CPU: 1 PID: 80 at mm/vmstat.c:812 node_stat_check_folded+0x5e/0x70
Modules linked in:
CPU: 1 UID: 0 PID: 80 Comm: kworker/1:1 Not tainted 6.12.57 #1
RIP: 0010:node_stat_check_folded+0x5e/0x70
Call Trace:
 <TASK>
 ? __warn+0x89/0x130
 refresh_cpu_vm_stats+0x1d0/0x2a0
 </TASK>
---[ end trace 0000000000000000 ]---
)");
    ASSERT_EQ(reports.size(), 1u) << ::testing::PrintToString(Signatures(reports));
    EXPECT_EQ(reports[0].signature,
              "WARNING in node_stat_check_folded: node N nr_isolated_anon is -N after a fold, "
              "below what N CPUs can hold back (-N)");
    EXPECT_EQ(reports[0].first_line, 5u);
}

// Seen in CI: the clocksource watchdog's lines interleaved with memory
// offline's diagnostic dumps. The dumps are still diagnostic (no report),
// and a real dump keeps its reason across such lines.
TEST(KernelReportTest, InterleavedLinesDoNotCutAPageDump) {
    auto diagnostic = Detect(R"(page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x70000
flags: 0x100000000000000(node=0|zone=1) CMA
page_type: f0(buddy)
raw: 0100000000000000 ffffea0001bf0008 ffffea0001c10008 0000000000000000
raw: 0000000000000000 000000000000000a 00000000f0000000 0000000000000000
page dumped because: unmovable page
clocksource: timekeeping watchdog on CPU1: Marking clocksource 'tsc' as unstable because the skew is too large:
page: refcount:0 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x78000
clocksource:                       'refined-jiffies' wd_nsec: 480030000 wd_now: fffee168 wd_last: fffee0f0 mask: ffffffff
flags: 0x100000000000000(node=0|zone=1) CMA
clocksource:                       'tsc' cs_nsec: 544623759 cs_now: 44e86ce5a cs_last: 3fa402e6b mask: ffffffffffffffff
page_type: f0(buddy)
clocksource:                       Clocksource 'tsc' skewed 64593759 ns (64 ms) over watchdog 'refined-jiffies' interval of 480030000 ns (480 ms)
raw: 0100000000000000 ffffea0001df0008 ffffea0001e10008 0000000000000000
clocksource:                       'tsc' is current clocksource.
raw: 0000000000000000 000000000000000a 00000000f0000000 0000000000000000
page dumped because: unmovable page
tsc: Marking TSC unstable due to clocksource watchdog
)");
    EXPECT_TRUE(diagnostic.empty()) << ::testing::PrintToString(Signatures(diagnostic));

    auto real = Detect(R"(page: refcount:2 mapcount:1 mapping:0000000000000000 index:0x1 pfn:0x4321
clocksource: timekeeping watchdog on CPU1: Marking clocksource 'tsc' as unstable
flags: 0x100000000020008(uptodate|swapbacked|node=0|zone=1)
raw: 0100000000020008 dead000000000100 dead000000000122 ffff888003c4a001
page dumped because: migrate_pages_test: unexpected refcount 2
Run /init as init process
)");
    ASSERT_EQ(real.size(), 1u) << ::testing::PrintToString(Signatures(real));
    EXPECT_EQ(real[0].signature, "page dump: migrate_pages_test: unexpected refcount N");
    EXPECT_EQ(real[0].last_line, 5u);
}

TEST(KernelReportTest, PanicEndMarkerAloneIsAPanic) {
    ReportDetector det;
    ConsoleFeeder(det).feed(R"(Run /init as init process
---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x0000000b ]---
)");
    det.finish();
    ASSERT_EQ(det.reports().size(), 1u);
    EXPECT_EQ(det.reports()[0].kind, "panic");
    EXPECT_EQ(det.reports()[0].signature, "panic: Attempted to kill init! exitcode=N");
    EXPECT_TRUE(det.reports()[0].fatal);
    EXPECT_TRUE(det.saw_panic());
}

TEST(KernelReportTest, PanicOnWarnIsPartOfTheWarning) {
    auto reports = Detect(R"(------------[ cut here ]------------
WARNING: CPU: 0 PID: 1 at mm/vmscan.c:4000 shrink_folio_list+0x5a/0x60
Modules linked in:
Kernel panic - not syncing: kernel: panic_on_warn set ...
CPU: 0 UID: 0 PID: 1 Comm: swapper/0 Not tainted 6.12.0 #1
Call Trace:
 <TASK>
 panic+0x33e/0x390
 check_panic_on_warn+0x4f/0x60
 __warn+0xa8/0x130
 </TASK>
Kernel Offset: disabled
---[ end Kernel panic - not syncing: kernel: panic_on_warn set ... ]---
)");
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].signature, "WARNING in shrink_folio_list");
    EXPECT_EQ(reports[0].title, "WARNING in shrink_folio_list");
    EXPECT_TRUE(reports[0].fatal);
    EXPECT_EQ(reports[0].last_line, 13u);
}

// ---------------------------------------------------------------------------
// Sequences, deduplication, end of output.

TEST(KernelReportTest, WarnThenBugEndedByPanicAreTwoReports) {
    std::string console = kWarnAddToFreeList;
    console += "Freeing unused kernel image (initmem) memory: 2048K\n";
    console += kSeedVmBugOnPage;
    ReportDetector det;
    ConsoleFeeder(det).feed(console);
    det.finish();
    std::vector<std::string> kinds;
    for (const auto& r : det.reports()) kinds.push_back(r.kind);
    EXPECT_THAT(kinds, ElementsAre("WARNING", "kernel BUG"));
    EXPECT_TRUE(det.saw_panic());
    EXPECT_FALSE(det.reports()[0].fatal);
    EXPECT_TRUE(det.reports()[1].fatal);   // the panic that followed it is its end
    EXPECT_LT(det.reports()[0].last_line, det.reports()[1].first_line);
}

TEST(KernelReportTest, SameWarningTwiceDeduplicates) {
    std::string console = kWarnAddToFreeList;
    console += "    ok 1 page_alloc_free_one\n";
    console += kWarnAddToFreeListAgain;
    console += "    ok 2 page_alloc_free_two\n";
    ReportDetector det;
    ConsoleFeeder(det).feed(console);
    det.finish();
    ASSERT_EQ(det.reports().size(), 2u);
    EXPECT_EQ(det.reports()[0].signature, det.reports()[1].signature);
    EXPECT_NE(det.reports()[0].first_line, det.reports()[1].first_line);

    auto groups = deduplicate(det.reports());
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0].count, 2u);
    EXPECT_EQ(groups[0].first.first_line, 1u);
    EXPECT_THAT(groups[0].first.context, ::testing::Contains(HasSubstr("PID: 123")));

    auto merged = det.groups();
    ASSERT_EQ(merged.size(), 1u);
    EXPECT_EQ(merged[0].count, 2u);
}

TEST(KernelReportTest, DeduplicateKeepsOrderOfFirstAppearance) {
    std::string console = kWarnAddToFreeList;
    console += kNullDeref;
    console += kWarnAddToFreeListAgain;
    auto reports = Detect(console);
    ASSERT_EQ(reports.size(), 3u);
    auto groups = deduplicate(reports);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0].first.kind, "WARNING");
    EXPECT_EQ(groups[0].count, 2u);
    EXPECT_EQ(groups[1].first.signature, "BUG: kernel NULL pointer dereference in foo_bar");
    EXPECT_EQ(groups[1].count, 1u);
}

TEST(KernelReportTest, NormalMessagesAndKtapAreNotReports) {
    auto reports = Detect(R"(Linux version 6.12.0-mmguard (root@build) (gcc (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC
Command line: console=ttyS0 panic=-1 kunit.filter_glob=mm*
x86/mm: Checked W+X mappings: passed, no W+X pages found.
pcpu-alloc: s207448 r8192 d28136 u1048576 alloc=1*2097152
Memory: 1981234K/2096632K available (18432K kernel code, 2873K rwdata)
random: crng init done
KTAP version 1
1..2
    KTAP version 1
    # Subtest: mm_page_alloc
    # module: page_alloc_kunit
    1..3
    # test_bug_on_path: BUG: this is a KUnit diagnostic, not a report
    # test_warn: WARNING: expected warning text in a comment
    ok 1 test_bug_on_path
    ok 2 test_warn # SKIP needs CONFIG_DEBUG_VM
    not ok 3 test_oops_message
# mm_page_alloc: pass:1 fail:1 skip:1 total:3
not ok 1 mm_page_alloc
audit: type=2000 audit(1700000000.123:1): state=initialized audit_enabled=0 res=1
mm: WARNING is only a word in the middle of a line
Call Trace:
 </TASK>
---[ end trace 0000000000000000 ]---
ok 2 mm_other
reboot: Power down
)");
    EXPECT_TRUE(reports.empty()) << ::testing::PrintToString(Signatures(reports));
}

TEST(KernelReportTest, KtapLineClosesAReportWithoutEndMarker) {
    auto reports = Detect(R"(BUG: scheduling while atomic: kunit_try_catch/90/0x00000002
CPU: 1 UID: 0 PID: 90 Comm: kunit_try_catch Not tainted 6.12.0 #1
Call Trace:
 <TASK>
 dump_stack_lvl+0x5d/0x80
 __schedule_bug+0x56/0x70
 atomic_sleep_test+0x40/0x80
    ok 3 atomic_sleep_test
    ok 4 next_test
)");
    ASSERT_EQ(reports.size(), 1u);
    EXPECT_EQ(reports[0].function, "atomic_sleep_test");
    EXPECT_EQ(reports[0].last_line, 7u);
}

TEST(KernelReportTest, ReportCutOffByEndOfConsoleNeedsFinish) {
    ReportDetector det;
    ConsoleFeeder f(det);
    f.feed(R"(Run /init as init process
BUG: kernel NULL pointer dereference, address: 0000000000000010
#PF: supervisor write access in kernel mode
#PF: error_code(0x0002) - not-present page
PGD 0 P4D 0
Oops: Oops: 0002 [#1] PREEMPT SMP NOPTI
CPU: 0 UID: 0 PID: 1 Comm: init Not tainted 6.12.0 #1
RIP: 0010:truncated_fn+0x4/0x20
Call Trace:
 <TASK>
 ? __die+0x23/0x70
 caller_fn+0x10/0x30
)");
    EXPECT_TRUE(det.reports().empty());
    det.finish();
    ASSERT_EQ(det.reports().size(), 1u);
    const KernelReport& r = det.reports()[0];
    EXPECT_EQ(r.signature, "BUG: kernel NULL pointer dereference in truncated_fn");
    EXPECT_EQ(r.first_line, 2u);
    EXPECT_EQ(r.last_line, 12u);
    EXPECT_EQ(r.context.size(), 11u);
    EXPECT_FALSE(det.saw_panic());
    det.finish();   // idempotent
    EXPECT_EQ(det.reports().size(), 1u);
}

TEST(KernelReportTest, CutHereWithoutTitleIsNotAReport) {
    auto reports = Detect(R"(------------[ cut here ]------------
some message that never got its WARNING line
)");
    EXPECT_TRUE(reports.empty());
}

TEST(KernelReportTest, GarbageInputDoesNotCrashOrInventReports) {
    ReportDetector det;
    ConsoleFeeder f(det);
    std::mt19937 rng(12345);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> len(0, 300);
    for (int i = 0; i < 20000; ++i) {
        std::string raw;
        int n = len(rng);
        for (int k = 0; k < n; ++k) {
            char c = static_cast<char>(byte(rng));
            if (c != '\n') raw += c;
        }
        f.feed_line(raw, i % 2 == 0);
    }
    // Fragments of report syntax out of place.
    for (const char* s :
         {"BUG:", "BUG: ", "WARNING:", "WARNING: ", "kernel BUG at", "Oops:", "Call Trace:",
          " <TASK>", " </TASK>", "RIP: 0010:", "RIP: 0010:+0x1/0x2", "page dumped because: ",
          "---[ end trace", "------------[ cut here ]", "==========", "[   T1]", "[", "]", "",
          " ? +0x0/0x0", "INFO: task", "rcu: INFO:", "watchdog: BUG:", "UBSAN: in",
          "general protection fault", "invalid opcode", "Kernel panic"}) {
        f.feed_line(s);
    }
    f.feed_line(std::string(100000, 'A'));
    det.finish();
    EXPECT_TRUE(det.reports().empty()) << ::testing::PrintToString(Signatures(det.reports()));
    EXPECT_FALSE(det.saw_panic());
}

TEST(KernelReportTest, TruncatedAndGarbledSplatsStillGiveBoundedReports) {
    auto reports = Detect(R"(BUG: kernel NULL pointer dereference, address: 0000000000000008
#PF: sup\x01\x02ervisor read acc
Oops: Oops: 0000 [#1] PREE
WARNING: CPU: 0 PID: 1 at
kernel BUG at !
Call Trace:
 ??? +0x/0x
---[ end trace
)");
    ASSERT_FALSE(reports.empty());
    EXPECT_EQ(reports[0].signature, "BUG: kernel NULL pointer dereference");
    for (const auto& r : reports) {
        EXPECT_FALSE(r.signature.empty());
        EXPECT_LE(r.context.size(), kMaxReportContextLines);
    }
}

// ---------------------------------------------------------------------------
// Memory bounds.

TEST(KernelReportTest, CutHereFloodKeepsNoState) {
    ReportDetector det;
    ConsoleFeeder f(det);
    for (int i = 0; i < 200000; ++i) f.feed_line("------------[ cut here ]------------", false);
    EXPECT_TRUE(det.reports().empty());
    // Only the last "cut here" is carried into the next report.
    f.feed(kWarnAddToFreeList, false);
    det.finish();
    ASSERT_EQ(det.reports().size(), 1u);
    EXPECT_EQ(det.reports()[0].context.size(), 39u);
    EXPECT_EQ(det.reports()[0].first_line, 200001u);
}

TEST(KernelReportTest, WarningFloodIsCappedAndCounted) {
    ReportDetector det;
    ConsoleFeeder f(det);
    const std::size_t n = kMaxStoredReports * 5;
    for (std::size_t i = 0; i < n; ++i)
        f.feed_line(fmt::format("WARNING: CPU: {} PID: {} at mm/foo.c:{} foo_fn+0x{:x}/0x100",
                                i % 4, i, i, i % 256));
    det.finish();
    EXPECT_EQ(det.reports().size(), kMaxStoredReports);
    EXPECT_EQ(det.dropped_reports(), n - kMaxStoredReports);
    for (const auto& r : det.reports()) EXPECT_EQ(r.signature, "WARNING in foo_fn");
    auto groups = det.groups();
    ASSERT_EQ(groups.size(), 1u);
    EXPECT_EQ(groups[0].count, n);
    EXPECT_EQ(deduplicate(det.reports())[0].count, kMaxStoredReports);
}

TEST(KernelReportTest, DistinctSignatureFloodIsBounded) {
    ReportDetector det;
    ConsoleFeeder f(det);
    const std::size_t n = kMaxStoredReports + kMaxDroppedSignatures + 500;
    for (std::size_t i = 0; i < n; ++i)
        f.feed_line(fmt::format("WARNING: CPU: 0 PID: 1 at mm/foo.c:1 fn_{}+0x1/0x2", i));
    det.finish();
    EXPECT_EQ(det.reports().size(), kMaxStoredReports);
    EXPECT_EQ(det.dropped_reports(), n - kMaxStoredReports);
    auto groups = det.groups();
    EXPECT_EQ(groups.size(), kMaxStoredReports + kMaxDroppedSignatures);
    EXPECT_EQ(groups.back().first.signature,
              fmt::format("WARNING in fn_{}", kMaxStoredReports + kMaxDroppedSignatures - 1));
    EXPECT_TRUE(groups.back().first.context.empty());
}

TEST(KernelReportTest, PanicAfterFloodIsStillStored) {
    ReportDetector det;
    ConsoleFeeder f(det);
    for (std::size_t i = 0; i < kMaxStoredReports + 10; ++i)
        f.feed_line("BUG: scheduling while atomic: swapper/0/1/0x00000002");
    f.feed_line("Kernel panic - not syncing: Fatal exception");
    det.finish();
    EXPECT_EQ(det.reports().size(), kMaxStoredReports + 1);
    EXPECT_EQ(det.reports().back().kind, "panic");
    EXPECT_TRUE(det.saw_panic());
}

TEST(KernelReportTest, EndlessReportContextIsBounded) {
    ReportDetector det;
    ConsoleFeeder f(det);
    f.feed_line("==================================================================");
    f.feed_line("BUG: KASAN: slab-out-of-bounds in flood_fn+0x10/0x20");
    for (int i = 0; i < 100000; ++i)
        f.feed_line(fmt::format(" ffff888003f6e{:03x}: fa fb fc fc 00 00 fc fc", i % 4096));
    det.finish();
    ASSERT_EQ(det.reports().size(), 1u);
    EXPECT_EQ(det.reports()[0].context.size(), kMaxReportContextLines);
    EXPECT_EQ(det.reports()[0].signature, "KASAN: slab-out-of-bounds in flood_fn");
}

TEST(KernelReportTest, LongLinesAreCut) {
    ReportDetector det;
    det.feed(ConsoleLine{1, std::nullopt, "BUG: " + std::string(1 << 20, 'x')});
    det.finish();
    ASSERT_EQ(det.reports().size(), 1u);
    EXPECT_LE(det.reports()[0].context[0].size(), kMaxLineLength);
    EXPECT_LE(det.reports()[0].message.size(), 256u);
}

// ---------------------------------------------------------------------------
// Helpers.

TEST(KernelReportTest, NormaliseMessage) {
    EXPECT_EQ(normalise_message("page type is 1, passed migratetype is 2"),
              "page type is N, passed migratetype is N");
    EXPECT_EQ(normalise_message("ext4_foo in page_alloc.c:123"), "ext4_foo in page_alloc.c:N");
    EXPECT_EQ(normalise_message("addr ffff888003f6e508 0x1F pfn:01234"), "addr N N pfn:N");
    EXPECT_EQ(normalise_message("x86_64 kmalloc-64 CPU#3 mapcount:-1"),
              "x86_64 kmalloc-N CPU#N mapcount:-N");
    EXPECT_EQ(normalise_message("  VM_BUG_ON_PAGE(!PageHead(page))  "),
              "VM_BUG_ON_PAGE(!PageHead(page))");
    EXPECT_EQ(normalise_message("a\t\tb   c"), "a b c");
    EXPECT_EQ(normalise_message("64bit u8 deadbeef"), "Nbit u8 deadbeef");
}

TEST(KernelReportTest, NormaliseFunction) {
    EXPECT_EQ(normalise_function("foo.isra.0+0x1a/0x40 [mod]"), "foo");
    EXPECT_EQ(normalise_function("bar.constprop.0.cold+0x5/0x9"), "bar");
    EXPECT_EQ(normalise_function("baz.llvm.1234567890"), "baz");
    EXPECT_EQ(normalise_function("qux.part.3"), "qux");
    EXPECT_EQ(normalise_function("? kpageflags_read+0x5/0x130"), "kpageflags_read");
    EXPECT_EQ(normalise_function("0xffffffff81000000"), "");
    EXPECT_EQ(normalise_function(""), "");
}

}  // namespace
}  // namespace mmguard
