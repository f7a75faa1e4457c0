// SPDX-License-Identifier: LGPL-2.1-or-later
/* The on-disk journal and tune/untune: originals survive a crash, corruption never crashes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "journal.h"
#include "ksm.h"

#define KSM "sys/kernel/mm/ksm/"
#define JOURNAL KT_STATE_DIR "/kvm_ksm-ksm.journal"

static void test_round_trip(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist kv = KT_KVLIST_INIT, back = KT_KVLIST_INIT;

	(void)state;
	kt_kvlist_set(&kv, "run", "0");
	kt_kvlist_set(&kv, "cmdline", "a=b c");
	kt_kvlist_set(&kv, "empty", "");
	assert_int_equal(kt_journal_read(f->ctx, "t", &back), -ENOENT);
	assert_int_equal(kt_journal_write(f->ctx, "t", &kv), 0);
	assert_int_equal(kt_journal_read(f->ctx, "t", &back), 0);
	assert_int_equal(back.n, 3);
	assert_string_equal(kt_kvlist_get(&back, "cmdline"), "a=b c");
	assert_string_equal(kt_kvlist_get(&back, "empty"), "");
	assert_false(fixture_exists(f, KT_STATE_DIR "/.t.journal.tmp"));
	assert_int_equal(kt_journal_remove(f->ctx, "t"), 0);
	assert_int_equal(kt_journal_remove(f->ctx, "t"), 0);
	assert_int_equal(kt_journal_write(f->ctx, "../escape", &kv), -EINVAL);
	assert_int_equal(kt_journal_write(f->ctx, ".hidden", &kv), -EINVAL);
	kt_kvlist_clear(&kv);
	kt_kvlist_clear(&back);
	fixture_close(f);
}

static void test_corrupt_journals(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{ "", "empty" },
		{ "garbage\n", "unknown header" },
		{ "kvmtune-journal 1\nrun=0\n", "truncated" },
		{ "kvmtune-journal 1\nrun=0\nend 1 00000000\n", "checksum" },
		{ "kvmtune-journal 1\nrun=0\nend 2 ffffffff\n", "checksum" },
		{ "kvmtune-journal 1\nrun0\nend 1 0\n", "without '='" },
		{ "kvmtune-journal 1\n../x=1\nend 1 0\n", "invalid key" },
		{ "kvmtune-journal 1\nend 0 00000000\nrun=1\n", "after the end" },
		{ "kvmtune-journal 1\nend zz\n", "checksum" },
	};
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist kv = KT_KVLIST_INIT;

	(void)state;
	assert_int_equal(kt_journal_write(f->ctx, "t", &kv), 0);
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		fixture_clear_log(f);
		fixture_write(f, KT_STATE_DIR "/t.journal", cases[i].text);
		if (kt_journal_read(f->ctx, "t", &kv) != -EBADMSG)
			fail_msg("journal \"%s\" was not reported corrupt", cases[i].text);
		assert_int_equal(f->errors, 1);
		if (!strstr(f->log, cases[i].why))
			fail_msg("for \"%s\" expected '%s' in: %s", cases[i].text, cases[i].why, f->log);
		assert_int_equal(kv.n, 0);
	}
	fixture_close(f);
}

static struct kt_ksm_values dense(struct fixture *f)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_ksm_values vals;

	kt_kvlist_set(&opts, "run", "1");
	kt_kvlist_set(&opts, "pages_to_scan", "500");
	kt_kvlist_set(&opts, "use_zero_pages", "1");
	assert_int_equal(kt_ksm_values_from_options(f->ctx, &opts, &vals), 0);
	kt_kvlist_clear(&opts);
	return vals;
}

static void test_tune_untune(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = dense(f), orig;

	(void)state;
	fake_kernel_reset(true);
	fixture_write(f, KSM "pages_to_scan", "123");
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), 0);
	assert_true(fixture_exists(f, JOURNAL));
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "500");
	assert_string_equal(orig.value[KT_KSM_PAGES_TO_SCAN], "123");
	assert_int_equal(kt_ksm_untune(f->ctx, "kvm_ksm-ksm", &orig), 0);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "123");
	assert_string_equal(fixture_read(f, KSM "run"), "0");
	assert_string_equal(fixture_read(f, KSM "use_zero_pages"), "0");
	assert_false(fixture_exists(f, JOURNAL));
	fixture_close(f);
}

static void test_crash_keeps_true_originals(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = dense(f), orig, orig2;

	(void)state;
	fake_kernel_reset(true);
	fixture_write(f, KSM "pages_to_scan", "123");
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), 0);
	/* tuned is killed: orig is lost. The restarted tuned applies the profile again. */
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig2), 0);
	assert_string_equal(orig2.value[KT_KSM_PAGES_TO_SCAN], "123");
	assert_string_equal(orig2.value[KT_KSM_RUN], "0");
	assert_non_null(strstr(f->log, "holds the original values"));
	/* Even an unapply that was handed the values we wrote restores the journal's. */
	assert_int_equal(kt_ksm_untune(f->ctx, "kvm_ksm-ksm", &want), 0);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "123");
	assert_string_equal(fixture_read(f, KSM "run"), "0");
	assert_false(fixture_exists(f, JOURNAL));
	fixture_close(f);
}

static void test_crash_then_restore_without_memory(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = dense(f), orig;

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), 0);
	assert_int_equal(kt_ksm_untune(f->ctx, "kvm_ksm-ksm", NULL), 0);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "100");
	assert_string_equal(fixture_read(f, KSM "run"), "0");
	fixture_close(f);
}

static void test_corrupt_journal_on_tune(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = dense(f), orig;

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), 0);
	fixture_write(f, JOURNAL, "kvmtune-journal 1\nrun=0\npages_to_scan=1");
	fixture_clear_log(f);
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), 0);
	assert_non_null(strstr(f->log, "is corrupt (truncated: no end line)"));
	/* Without a usable journal the values found become the originals. */
	assert_string_equal(orig.value[KT_KSM_PAGES_TO_SCAN], "500");
	fixture_write(f, JOURNAL, "kvmtune-journal 1\nrun=9\nend 1 0\n");
	assert_int_equal(kt_ksm_untune(f->ctx, "kvm_ksm-ksm", &orig), 0);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "500");
	fixture_close(f);
}

static void test_failed_apply_leaves_no_journal(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = dense(f), orig;

	(void)state;
	fake_kernel_reset(true);
	fake_kernel.fail_at = 2;
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), -EIO);
	assert_false(fixture_exists(f, JOURNAL));
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "100");
	assert_string_equal(fixture_read(f, KSM "run"), "0");
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_corrupt_journals),
		cmocka_unit_test(test_tune_untune),
		cmocka_unit_test(test_crash_keeps_true_originals),
		cmocka_unit_test(test_crash_then_restore_without_memory),
		cmocka_unit_test(test_corrupt_journal_on_tune),
		cmocka_unit_test(test_failed_apply_leaves_no_journal),
	};

	return cmocka_run_group_tests_name("journal", tests, host_guard_setup, host_guard_teardown);
}
