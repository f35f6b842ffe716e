// SPDX-License-Identifier: GPL-2.0
/*
 * mmguard harness self-test: lets the host tool prove, on a real boot, that
 * it catches what it claims to catch. Nothing happens unless the kernel
 * command line asks for it:
 *
 *   mmguard_harness_kunit.inject=bug    BUG() inside a KUnit case
 *   mmguard_harness_kunit.inject=warn   WARN() inside a KUnit case
 *
 * Without a request the case is skipped, saying how to trigger it.
 */
#include <kunit/test.h>
#include <linux/bug.h>
#include <linux/moduleparam.h>
#include <linux/string.h>

static char *inject = "";
module_param(inject, charp, 0444);
MODULE_PARM_DESC(inject, "bug or warn: make the harness self-test crash on purpose");

static noinline void mmguard_harness_injected_bug(void)
{
	BUG();
}

static noinline void mmguard_harness_injected_warning(void)
{
	WARN(1, "mmguard harness: injected warning");
}

static void mmguard_harness_inject(struct kunit *test)
{
	if (!strcmp(inject, "bug"))
		mmguard_harness_injected_bug();
	else if (!strcmp(inject, "warn"))
		mmguard_harness_injected_warning();
	else
		kunit_skip(test,
			   "boot with mmguard_harness_kunit.inject=bug|warn to test the harness");
}

static struct kunit_case mmguard_harness_cases[] = {
	KUNIT_CASE(mmguard_harness_inject),
	{}
};

static struct kunit_suite mmguard_harness_suite = {
	.name = "mmguard_harness",
	.test_cases = mmguard_harness_cases,
};

kunit_test_suite(mmguard_harness_suite);

MODULE_DESCRIPTION("mmguard harness self-test");
MODULE_LICENSE("GPL");
