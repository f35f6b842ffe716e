#!/usr/bin/env python3
"""Writes the crafted cases of the console corpus (consoles/crafted-*.txt) and
copies the real consoles named in REAL below. Headers other than SOURCE are
filled by the corpus test with MMGUARD_UPDATE_GOLDEN=1, then reviewed.
The shapes follow what a 6.12 x86_64 kernel prints (lib/bug.c, kernel/panic.c,
arch/x86/mm/fault.c, mm/page_alloc.c, kernel/locking/lockdep.c, ...)."""
import glob, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "consoles")
FIXTURES = os.path.join(HERE, "..", "fixtures")
MAX_REAL_LINES = 1500

PRE = "[    1.234567] Run /init as init process\n"
KTAP_HEAD = "KTAP version 1\n1..1\n    KTAP version 1\n    # Subtest: mmguard_demo\n    1..2\n"

def regs(fn):
    return (f"RIP: 0010:{fn}+0x2a/0x90\n"
            "Code: 48 89 df e8 5c fe ff ff 48 8b 43 08 <0f> 0b 48 c7 c7 a0 1b 62 82\n"
            "RSP: 0018:ffffc90000013d68 EFLAGS: 00010246\n"
            "RAX: 0000000000000000 RBX: ffffea0000400000 RCX: 0000000000000000\n"
            "RDX: 0000000000000000 RSI: 0000000000000001 RDI: ffffea0000400000\n"
            "RBP: ffffc90000013d90 R08: 0000000000000000 R09: 0000000000000000\n"
            "R10: 0000000000000000 R11: 0000000000000000 R12: 0000000000000001\n"
            "R13: ffff88800f01c000 R14: 0000000000000000 R15: 0000000000000000\n"
            "FS:  0000000000000000(0000) GS:ffff88803ec00000(0000) knlGS:0000000000000000\n"
            "CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033\n"
            "CR2: 0000000000000000 CR3: 0000000002a2e000 CR4: 00000000000006f0\n")

CPU = "CPU: 1 UID: 0 PID: 87 Comm: mmg_stress Not tainted 6.12.117 #1\nHardware name: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.3-debian-1.16.3-2 04/01/2014\n"

def trace(frames, extra_top=()):
    s = "Call Trace:\n <TASK>\n"
    for f in extra_top:
        s += f" {f}+0x1d/0x30\n"
    for f in frames:
        s += f" {f}+0x5c/0x120\n"
    s += " do_syscall_64+0x82/0x160\n entry_SYSCALL_64_after_hwframe+0x76/0x7e\n </TASK>\n"
    return s

END = "---[ end trace 0000000000000000 ]---\n"
MODS = "Modules linked in:\n"

def warn_new(file, line, fn, frames, text=""):
    s = "------------[ cut here ]------------\n"
    if text:
        s += text + "\n"
    s += f"WARNING: CPU: 1 PID: 87 at {file}:{line} {fn}+0x2a/0x90\n" + MODS + CPU + regs(fn) + trace(frames) + END
    return s

def warn_short(file, line, fn, frames, text=""):
    s = "------------[ cut here ]------------\n"
    if text:
        s += text + "\n"
    s += f"WARNING: {file}:{line} at {fn}+0x2a/0x90, CPU#1: mmg_stress/87\n" + MODS + CPU + regs(fn) + trace(frames) + END
    return s

def kbug(file, line, fn, frames, pre=""):
    return (pre + "------------[ cut here ]------------\n"
            f"kernel BUG at {file}:{line}!\n"
            "Oops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n" + CPU + regs(fn) + trace(frames) + MODS + END)

def fault(kind_line, addr, fn, frames, pf_err="0x0000) - not-present page"):
    return (f"{kind_line}: {addr}\n#PF: supervisor read access in kernel mode\n#PF: error_code({pf_err}\n"
            "PGD 0 P4D 0 \nOops: Oops: 0000 [#1] PREEMPT SMP NOPTI\n" + CPU + regs(fn) + trace(frames) + MODS +
            "CR2: " + addr + "\n" + END)

def panic(msg):
    return (f"Kernel panic - not syncing: {msg}\nKernel Offset: disabled\n"
            f"---[ end Kernel panic - not syncing: {msg} ]---\n")

def gpf(fn, frames, kasan=False):
    s = ""
    if kasan:
        s += ("Oops: general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN NOPTI\n"
              "KASAN: null-ptr-deref in range [0x0000000000000008-0x000000000000000f]\n")
    else:
        s += "Oops: general protection fault, probably for non-canonical address 0xdead000000000122: 0000 [#1] PREEMPT SMP NOPTI\n"
    return s + CPU + regs(fn) + trace(frames) + MODS + END

def bad_page(fn, frames, reason="nonzero mapcount"):
    return ("BUG: Bad page state in process mmg_stress  pfn:10a3c\n"
            "page: refcount:0 mapcount:1 mapping:0000000000000000 index:0x7f3a1c000 pfn:0x10a3c\n"
            "flags: 0x100000000000000(node=0|zone=1)\n"
            "raw: 0100000000000000 dead000000000100 dead000000000122 0000000000000000\n"
            "raw: 00000007f3a1c000 0000000000000000 0000000000000000 0000000000000000\n"
            f"page dumped because: {reason}\n"
            "Modules linked in:\n" + CPU + trace(["bad_page", "free_page_is_bad_report"] + frames) +
            "Disabling lock debugging due to kernel taint\n")

def bad_map(fn, frames):
    return ("BUG: Bad page map in process mmg_stress  pte:8000000010a3c025 pmd:0c8f6067\n"
            "page: refcount:1 mapcount:-1 mapping:0000000000000000 index:0x0 pfn:0x10a3c\n"
            "flags: 0x100000000000000(node=0|zone=1)\n"
            "page dumped because: bad pte\n"
            "addr:00007f3a1c000000 vm_flags:00100073 anon_vma:ffff88800c1f2a00 mapping:0000000000000000 index:7f3a1c000\n"
            + CPU + trace(["print_bad_pte"] + frames) + "Disabling lock debugging due to kernel taint\n")

def sleeping(fn, frames):
    return (f"BUG: sleeping function called from invalid context at mm/page_alloc.c:4500\n"
            "in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 87, name: mmg_stress\n"
            "preempt_count: 1, expected: 0\nRCU nest depth: 0, expected: 0\n" + CPU +
            trace(["dump_stack_lvl", "__might_resched"] + frames))

def sched_atomic(fn, frames):
    return ("BUG: scheduling while atomic: mmg_stress/87/0x00000002\nModules linked in:\n" + CPU +
            trace(["dump_stack_lvl", "__schedule_bug", "__schedule", "schedule"] + frames))

def kasan(kind, access, fn, frames):
    return ("==================================================================\n"
            f"BUG: KASAN: {kind} in {fn}+0x4b/0x90\n"
            f"{access} of size 8 at addr ffff88800c4e1f08 by task mmg_stress/87\n\n" + CPU +
            trace(["dump_stack_lvl", "print_report", "kasan_report"] + frames) + "\n"
            "Allocated by task 87:\n kasan_save_stack+0x1c/0x40\n __kmalloc_cache_noprof+0x11a/0x2a0\n\n"
            "Freed by task 87:\n kasan_save_stack+0x1c/0x40\n kfree+0xf0/0x3a0\n\n"
            "The buggy address belongs to the object at ffff88800c4e1f00\n"
            "==================================================================\n")

def kfence(kind, fn, frames):
    return ("==================================================================\n"
            f"BUG: KFENCE: {kind} in {fn}+0x4b/0x90\n\n"
            f"{kind.split()[0].capitalize()} at 0xffff8880bfd2e000 (in kfence-#12):\n"
            + "".join(f" {f}+0x4b/0x90\n" for f in [fn] + frames) + "\n"
            "kfence-#12: 0xffff8880bfd2e000-0xffff8880bfd2e01f, size=32, cache=kmalloc-32\n\n"
            + CPU + "==================================================================\n")

def ubsan(kind, detail, file, fn, frames):
    return ("------------[ cut here ]------------\n"
            f"UBSAN: {kind} in {file}:123:17\n{detail}\n" + CPU +
            trace(["dump_stack_lvl", "__ubsan_handle_" + kind.replace("-", "_")] + [fn] + frames) +
            END)

def soft_lockup(fn, frames):
    return ("watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [mmg_stress:87]\nModules linked in:\n" + CPU +
            regs(fn) + "Call Trace:\n <IRQ>\n ? watchdog_timer_fn+0x1dc/0x260\n </IRQ>\n <TASK>\n"
            + "".join(f" {f}+0x5c/0x120\n" for f in frames) + " </TASK>\n")

def wq_lockup():
    return ("BUG: workqueue lockup - pool cpus=1 node=0 flags=0x0 nice=0 stuck for 33s!\n"
            "Showing busy workqueues and worker pools:\n"
            "workqueue events: flags=0x0\n  pwq 2: cpus=1 node=0 flags=0x0 nice=0 active=1 refcnt=2\n")

def spin(kind, fn, frames):
    return (f"BUG: spinlock {kind} on CPU#1, mmg_stress/87\n"
            " lock: 0xffff88800c4e1f00, .magic: 00000000, .owner: <none>/-1, .owner_cpu: 0\n"
            + CPU + trace(["dump_stack_lvl", "do_raw_spin_lock", "_raw_spin_lock"] + [fn] + frames))

def lockdep(banner, fn, frames, body=""):
    return ("\n======================================================\n"
            f"WARNING: {banner}\n6.12.117 #1 Not tainted\n"
            "------------------------------------------------------\n"
            f"mmg_stress/87 is trying to acquire lock:\nffff88800c4e1f18 (&zone->lock){{....}}-{{2:2}}, at: {fn}+0x4b/0x90\n\n"
            + body + "stack backtrace:\n" + CPU +
            trace(["dump_stack_lvl", "print_circular_bug", "check_noncircular", "__lock_acquire",
                   "lock_acquire", "_raw_spin_lock_irqsave", fn] + frames))

def lockdep_old(banner, fn, frames):
    return ("\n=====================================\n"
            f"[ BUG: {banner} ]\n6.12.117 #1 Not tainted\n"
            "-------------------------------------\n"
            "mmg_stress/87 is trying to release lock (&zone->lock) at:\n"
            f"[<ffffffff8123abcd>] {fn}+0x4b/0x90\n"
            "but there are no more locks to release!\n\nother info that might help us debug this:\n"
            "no locks held by mmg_stress/87.\n\nstack backtrace:\n" + CPU +
            trace(["dump_stack_lvl", "print_unlock_imbalance_bug", "lock_release", "_raw_spin_unlock", fn] + frames))

def hung(comm, fn, frames):
    return (f"INFO: task {comm}:87 blocked for more than 122 seconds.\n      Not tainted 6.12.117 #1\n"
            "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.\n"
            f"task:{comm}      state:D stack:0     pid:87    tgid:87    ppid:1      flags:0x00004000\n"
            "Call Trace:\n <TASK>\n __schedule+0x3c5/0xc20\n schedule+0x27/0xf0\n schedule_preempt_disabled+0x15/0x30\n"
            " __mutex_lock.constprop.0+0x3b8/0x800\n" + "".join(f" {f}+0x5c/0x120\n" for f in [fn] + frames) + " </TASK>\n")

def rcu_stall(flavour, fn, frames):
    return (f"rcu: INFO: {flavour} detected stalls on CPUs/tasks:\n"
            "rcu: \t1-...!: (2 GPs behind) idle=b1c/1/0x4000000000000000 softirq=1433/1433 fqs=0\n"
            "rcu: \t(detected by 0, t=21002 jiffies, g=2189, q=55 ncpus=2)\n"
            "Sending NMI from CPU 0 to CPUs 1:\nNMI backtrace for cpu 1\n" + CPU + regs(fn) +
            "Call Trace:\n <NMI>\n </NMI>\n <TASK>\n" + "".join(f" {f}+0x5c/0x120\n" for f in frames) + " </TASK>\n")

def list_corrupt(which, fn, frames, as_bug=False):
    if which == "list_add":
        text = "list_add corruption. prev->next should be next (ffff88800c4e1f08), but was ffff88800c4e1f00. (prev=ffff88800c4e1f00)."
        helper = "__list_add_valid_or_report"
    else:
        text = "list_del corruption, ffff88800c4e1f08->next is LIST_POISON1 (dead000000000100)"
        helper = "__list_del_entry_valid_or_report"
    if as_bug:
        return ("------------[ cut here ]------------\n" + text + "\n"
                "kernel BUG at lib/list_debug.c:65!\nOops: invalid opcode: 0000 [#1] PREEMPT SMP NOPTI\n" + CPU +
                regs(helper) + trace([helper, fn] + frames) + END)
    return warn_new("lib/list_debug.c", 32, helper, [fn] + frames, text)

def refcount(kind, fn, frames):
    text = f"refcount_t: {kind}; use-after-free." if kind in ("underflow", "addition on 0") else f"refcount_t: {kind}."
    return warn_new("lib/refcount.c", 28, "refcount_warn_saturate", ["__refcount_sub_and_test", fn] + frames, text)

def kmemleak(fn, frames):
    s = ""
    for i in range(2):
        s += (f"unreferenced object 0xffff88800c4e1f{i}0 (size 64):\n"
              "  comm \"mmg_stress\", pid 87, jiffies 4294892296\n"
              "  hex dump (first 32 bytes):\n    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................\n"
              "  backtrace (crc 9c3b2f1e):\n"
              "    [<ffffffff8134e5a1>] kmemleak_alloc+0x4a/0x80\n"
              "    [<ffffffff81300c21>] __kmalloc_cache_noprof+0x2b1/0x320\n"
              + "".join(f"    [<ffffffff8123{j}abc>] {f}+0x5c/0x120\n" for j, f in enumerate([fn] + frames)) + "\n")
    return s

def oom(fn):
    return ("mmg_stress invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), order=0, oom_score_adj=0\n"
            + CPU + "Call Trace:\n <TASK>\n dump_stack_lvl+0x5d/0x80\n dump_header+0x43/0x1a0\n oom_kill_process+0xfa/0x200\n"
            f" out_of_memory+0x246/0x580\n __alloc_pages_slowpath.constprop.0+0xa10/0xd10\n {fn}+0x5c/0x120\n </TASK>\n"
            "Mem-Info:\nOut of memory: Killed process 87 (mmg_stress) total-vm:1048576kB, anon-rss:900000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1800kB oom_score_adj:0\n")

def page_dump(reason):
    return ("page: refcount:3 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x10a3c\n"
            "flags: 0x100000000000040(head|node=0|zone=1)\n"
            "raw: 0100000000000040 dead000000000100 dead000000000122 0000000000000000\n"
            f"page dumped because: {reason}\n")

def rss():
    return "BUG: Bad rss-counter state mm:ffff88800c4e1f00 type:MM_ANONPAGES val:-1 Comm:mmg_stress Pid:87\n"

def ktap_crash(body):
    return ("KTAP version 1\n1..2\n    KTAP version 1\n    # Subtest: mmguard_demo\n    1..3\n"
            "    ok 1 demo_first\n" + body)

FNS = [("mm/page_alloc.c", "free_pcppages_bulk", ["free_unref_folios", "folios_put_refs", "release_pages"]),
       ("mm/huge_memory.c", "split_huge_page_to_list_to_order", ["split_folio_to_list", "deferred_split_scan", "do_shrink_slab"]),
       ("fs/proc/page.c", "stable_page_flags", ["kpageflags_read", "proc_reg_read", "vfs_read"]),
       ("mm/compaction.c", "isolate_migratepages_block", ["isolate_migratepages", "compact_zone", "compact_node"])]

cases = {}
def add(name, source, console):
    cases[name] = (source, console)

for i, (f, fn, fr) in enumerate(FNS):
    add(f"warning-new-{i}", "crafted: lib/bug.c __warn() with file:line", PRE + warn_new(f, 700 + i, fn, fr, "mmguard: counter drift"))
    add(f"warning-short-{i}", "crafted: WARNING file:line at F, CPU#N form", PRE + warn_short(f, 700 + i, fn, fr))
    add(f"kernel-bug-{i}", "crafted: BUG() at file:line + invalid opcode", PRE + kbug(f, 300 + i, fn, fr))
    add(f"kernel-bug-panic-{i}", "crafted: kernel BUG then Fatal exception panic", PRE + kbug(f, 300 + i, fn, fr) + panic("Fatal exception"))
    add(f"null-deref-{i}", "crafted: arch/x86/mm/fault.c NULL dereference", PRE + "BUG: kernel NULL pointer dereference, address: 0000000000000008\n" + fault("", "", fn, fr)[2:].split("\n", 1)[1])
    add(f"paging-request-{i}", "crafted: arch/x86/mm/fault.c page fault", PRE + fault("BUG: unable to handle page fault for address", "ffffea0004000008", fn, fr))
    add(f"gpf-{i}", "crafted: general protection fault, non-canonical", PRE + gpf(fn, fr))
    add(f"gpf-kasan-{i}", "crafted: general protection fault + KASAN null-ptr-deref range", PRE + gpf(fn, fr, True))
    add(f"bad-page-state-{i}", "crafted: mm/page_alloc.c bad_page()", PRE + bad_page(fn, fr))
    add(f"sleeping-{i}", "crafted: __might_resched", PRE + sleeping(fn, fr))
    add(f"sched-atomic-{i}", "crafted: __schedule_bug", PRE + sched_atomic(fn, fr))
    add(f"kasan-uaf-{i}", "crafted: mm/kasan/report.c slab-use-after-free", PRE + kasan("slab-use-after-free", "Read", fn, fr))
    add(f"kasan-oob-{i}", "crafted: mm/kasan/report.c slab-out-of-bounds write", PRE + kasan("slab-out-of-bounds", "Write", fn, fr))
    add(f"kfence-{i}", "crafted: mm/kfence/report.c", PRE + kfence("use-after-free read", fn, fr))
    add(f"soft-lockup-{i}", "crafted: kernel/watchdog.c soft lockup", PRE + soft_lockup(fn, fr))
    add(f"lockdep-circular-{i}", "crafted: lockdep circular dependency", PRE + lockdep("possible circular locking dependency detected", fn, fr,
        "but task is already holding lock:\nffff88800c4e1e00 (&pcp->lock){+.+.}-{2:2}, at: free_unref_page+0x1a/0x90\n\n"))
    add(f"lockdep-recursive-{i}", "crafted: lockdep recursive locking", PRE + lockdep("possible recursive locking detected", fn, fr))
    add(f"lockdep-inconsistent-{i}", "crafted: lockdep inconsistent lock state", PRE + lockdep("inconsistent lock state", fn, fr))
    add(f"lockdep-rcu-{i}", "crafted: lockdep suspicious RCU usage", PRE + lockdep("suspicious RCU usage", fn, fr))
    add(f"lockdep-freed-{i}", "crafted: lockdep held lock freed", PRE + lockdep("held lock freed!", fn, fr))
    add(f"lockdep-old-{i}", "crafted: lockdep's older bracketed banner", PRE + lockdep_old("bad unlock balance detected!", fn, fr))
    add(f"hung-task-{i}", "crafted: kernel/hung_task.c", PRE + hung("khugepaged" if i % 2 else "kworker/u8:3", fn, fr))
    add(f"rcu-stall-{i}", "crafted: kernel/rcu/tree_stall.h", PRE + rcu_stall("rcu_preempt" if i % 2 else "rcu_sched", fn, fr))
    add(f"list-add-{i}", "crafted: lib/list_debug.c list_add corruption (WARN)", PRE + list_corrupt("list_add", fn, fr))
    add(f"list-del-{i}", "crafted: lib/list_debug.c list_del corruption (BUG_ON_DATA_CORRUPTION)", PRE + list_corrupt("list_del", fn, fr, True))
    add(f"refcount-{i}", "crafted: lib/refcount.c", PRE + refcount(["underflow", "addition on 0", "saturated", "decrement hit 0"][i], fn, fr))
    add(f"kmemleak-{i}", "crafted: mm/kmemleak.c", PRE + kmemleak(fn, fr))
    add(f"spinlock-{i}", "crafted: kernel/locking/spinlock_debug.c", PRE + spin(["bad magic", "recursion", "already unlocked", "wrong owner"][i], fn, fr))
    add(f"ubsan-{i}", "crafted: lib/ubsan.c", PRE + ubsan(["array-index-out-of-bounds", "shift-out-of-bounds", "signed-integer-overflow", "array-index-out-of-bounds"][i],
        ["index 8 is out of range for type 'long [8]'", "shift exponent 64 is too large for 64-bit type 'long unsigned int'", "9223372036854775807 + 1 cannot be represented in type 'long int'", "index 3 is out of range for type 'int [3]'"][i], f, fn, fr))
    add(f"panic-on-warn-{i}", "crafted: WARNING with panic_on_warn", PRE + warn_new(f, 700 + i, fn, fr)[:-len(END)] + panic("kernel: panic_on_warn set ..."))
    add(f"oops-kill-init-{i}", "crafted: NULL deref in init then Attempted to kill init", PRE + fault("BUG: unable to handle page fault for address", "ffffea0004000008", fn, fr) + panic("Attempted to kill init! exitcode=0x00000009"))
    add(f"cut-{i}", "crafted: a report cut by the end of output", PRE + kbug(f, 300 + i, fn, fr)[:400])
    add(f"interleaved-{i}", "crafted: another CPU's lines inside a WARNING", PRE + warn_new(f, 700 + i, fn, fr).replace(MODS, MODS + "mmguard: stress round 12 done\n"))
    add(f"oom-{i}", "crafted: mm/oom_kill.c (recorded, not a report)", PRE + oom(fn))
    add(f"ktap-crash-{i}", "crafted: KTAP with a crash mid-suite", ktap_crash(kbug(f, 300 + i, fn, fr) + panic("Fatal exception")))

for i in range(3):
    add(f"panic-alone-{i}", "crafted: panic alone", PRE + panic(["VFS: Unable to mount root fs on unknown-block(0,0)", "No working init found.  Try passing init= option to kernel.", "Out of memory and no killable processes..."][i]))
    add(f"bad-page-map-{i}", "crafted: mm/memory.c print_bad_pte", PRE + bad_map(FNS[i][1], FNS[i][2]))
    add(f"rss-counter-{i}", "crafted: kernel/fork.c check_mm", PRE + rss())
    add(f"workqueue-lockup-{i}", "crafted: kernel/workqueue.c", PRE + wq_lockup())
    add(f"page-dump-{i}", "crafted: dump_page alone", PRE + page_dump(["VM_BUG_ON_FOLIO(folio_test_large(folio))", "page still charged to cgroup", "nonzero _refcount"][i]) + "Freeing unused memory\n")
    add(f"ktap-skip-all-{i}", "crafted: KTAP 1..0 # SKIP", f"KTAP version 1\n1..0 # SKIP no tests {i}\n")
    add(f"ktap-nested-{i}", "crafted: nested KTAP", KTAP_HEAD + "    ok 1 a\n        KTAP version 1\n        # Subtest: param\n        1..2\n        ok 1 p1\n        ok 2 p2\n    ok 2 param\nok 1 mmguard_demo\n")
    add(f"ktap-numbering-{i}", "crafted: KTAP with a numbering error", KTAP_HEAD + "    ok 1 a\n    ok 3 b\nok 1 mmguard_demo\n")

def real():
    srcs = sorted(glob.glob(os.path.join(FIXTURES, "*.log")))
    srcs += sorted(glob.glob("/work/main/out/*/console.log"))
    srcs += sorted(glob.glob("/work/wt-kpageflags/out/*/console.log"))[:12]
    for p in srcs:
        with open(p, errors="replace") as f:
            lines = f.readlines()
        trimmed = len(lines) > MAX_REAL_LINES
        lines = lines[:MAX_REAL_LINES]
        rel = p.replace(os.path.join(FIXTURES, ""), "qemu/tests/fixtures/")
        name = "real-" + rel.replace("/work/", "").replace("/", "-").replace(".log", "").replace("qemu-tests-fixtures-", "fixture-")
        add(name, f"real: {rel}" + (f" (first {MAX_REAL_LINES} lines)" if trimmed else ""), "".join(lines))

real()
os.makedirs(OUT, exist_ok=True)
for name, (source, console) in cases.items():
    path = os.path.join(OUT, name + ".txt")
    if os.path.exists(path):
        continue   # keep reviewed headers
    if source.startswith("crafted") and not name.startswith("cut-"):
        console += "[   99.000000] mmguard: console goes on\n"
    with open(path, "w") as f:
        f.write(f"SOURCE: {source}\n\n{console}")
print(len(cases), "cases")
