// SPDX-License-Identifier: LGPL-2.1-or-later
/* A kvm_ksm section as one unit: ownership by mode, the lock, the journal, orphans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "journal.h"
#include "ksm-tuning.h"
#include "lock.h"
#include "restore.h"

#define KSM "sys/kernel/mm/ksm/"

static struct kt_kvlist opts_of(const char *const *pairs)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;

	for (; pairs[0]; pairs += 2)
		assert_int_equal(kt_kvlist_set(&opts, pairs[0], pairs[1]), 0);
	return opts;
}

static void test_mode_owns(void **state)
{
	static const struct {
		enum kt_ksmctl_mode mode;
		enum kt_ksm_knob knob;
		bool owned;
	} cases[] = {
		{ KT_KSMCTL_STATIC, KT_KSM_RUN, false },
		{ KT_KSMCTL_STATIC, KT_KSM_PAGES_TO_SCAN, false },
		{ KT_KSMCTL_DYNAMIC, KT_KSM_RUN, true },
		{ KT_KSMCTL_DYNAMIC, KT_KSM_PAGES_TO_SCAN, true },
		{ KT_KSMCTL_DYNAMIC, KT_KSM_SLEEP_MILLISECS, true },
		{ KT_KSMCTL_DYNAMIC, KT_KSM_ADVISOR_MODE, false },
		{ KT_KSMCTL_DYNAMIC, KT_KSM_USE_ZERO_PAGES, false },
		{ KT_KSMCTL_ADVISOR, KT_KSM_RUN, true },
		{ KT_KSMCTL_ADVISOR, KT_KSM_ADVISOR_MODE, true },
		{ KT_KSMCTL_ADVISOR, KT_KSM_PAGES_TO_SCAN, false },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++)
		assert_int_equal(kt_ksm_mode_owns(cases[i].mode, cases[i].knob), cases[i].owned);
}

/* Dynamic mode on a kernel whose advisor is on: the same policy whoever applies it. */
static void test_dynamic_turns_advisor_off_and_journals_owned(void **state)
{
	static const char *const pairs[] = { "mode", "dynamic", "pages_to_scan", "900",
					     "use_zero_pages", "1", "libvirt_uri", "none", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist opts = opts_of(pairs);
	struct kt_ksm_tuning *t = NULL;
	struct kt_kvlist journal = KT_KVLIST_INIT;

	(void)state;
	fixture_write(f, KSM "advisor_mode", "none [scan-time]");
	fixture_write(f, KSM "pages_to_scan", "321");
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_tuning_apply(f->ctx, "kvm_ksm-a", "test", &opts, KT_KSMCTL_STATIC,
					     &t),
			 0);
	assert_non_null(kt_ksm_tuning_controller(t));
	assert_non_null(strstr(f->log, "pages_to_scan is decided by the controller with "
				       "mode=dynamic, ignoring"));
	assert_int_equal(fake_kernel_find("advisor_mode=none"), 0);
	assert_int_equal(fake_kernel_find("pages_to_scan=900"), -1);
	assert_string_equal(fixture_read(f, KSM "use_zero_pages"), "1");
	assert_int_equal(kt_journal_read(f->ctx, "kvm_ksm-a", &journal), 0);
	assert_string_equal(kt_kvlist_get(&journal, "advisor_mode"), "scan-time");
	assert_string_equal(kt_kvlist_get(&journal, "run"), "0");
	assert_non_null(kt_kvlist_get(&journal, "pages_to_scan"));
	assert_non_null(kt_kvlist_get(&journal, "sleep_millisecs"));
	kt_kvlist_clear(&journal);
	assert_int_equal(f->errors, 0);

	assert_int_equal(kt_ksm_tuning_unapply(t, true), 0);
	assert_string_equal(fixture_read(f, KSM "advisor_mode"), "none [scan-time]");
	assert_string_equal(fixture_read(f, KSM "use_zero_pages"), "0");
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_ksm-a.journal"));
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

static void test_one_writer_at_a_time(void **state)
{
	static const char *const pairs[] = { "use_zero_pages", "1", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist opts = opts_of(pairs);
	struct kt_ksm_tuning *t = NULL, *t2 = NULL;
	struct kt_lock_info info;

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_lock_holder(f->ctx, KT_KSM_LOCK, &info), 0);
	assert_int_equal(kt_ksm_tuning_apply(f->ctx, "kvm_ksm-a", "tuned instance a", &opts,
					     KT_KSMCTL_STATIC, &t),
			 0);
	assert_int_equal(kt_lock_holder(f->ctx, KT_KSM_LOCK, &info), 1);
	assert_int_equal(info.pid, getpid());
	assert_string_equal(info.holder, "tuned instance a, mode static");
	assert_string_equal(info.journal, "kvm_ksm-a");

	/* A second writer is refused, names the first and changes nothing. */
	fixture_clear_log(f);
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_tuning_apply(f->ctx, "kvm_ksm-b", "kvmtune ksm watch", &opts,
					     KT_KSMCTL_STATIC, &t2),
			 -EBUSY);
	assert_null(t2);
	assert_int_equal(fake_kernel.n, 0);
	assert_non_null(strstr(f->log, "ksm is held by tuned instance a, mode static (pid"));
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_ksm-b.journal"));
	assert_int_equal(kt_ksm_restore_journal(f->ctx, "kvm_ksm-a", "restore"), -EBUSY);

	/* Released with the tuning: the next one gets it. */
	assert_int_equal(kt_ksm_tuning_unapply(t, true), 0);
	assert_int_equal(kt_lock_holder(f->ctx, KT_KSM_LOCK, &info), 0);
	assert_int_equal(kt_ksm_tuning_apply(f->ctx, "kvm_ksm-b", "kvmtune ksm watch", &opts,
					     KT_KSMCTL_STATIC, &t2),
			 0);
	assert_int_equal(kt_ksm_tuning_unapply(t2, true), 0);
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

static void test_bad_options_change_nothing(void **state)
{
	static const char *const pairs[] = { "mode", "turbo", "pages_to_scan", "-5", "bogus", "1",
					     "use_zero_pages", "1", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist opts = opts_of(pairs);
	struct kt_ksm_tuning *t = NULL;
	struct kt_lock_info info;

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_tuning_apply(f->ctx, "kvm_ksm-a", "t", &opts, KT_KSMCTL_STATIC, &t),
			 -EINVAL);
	assert_int_equal(fake_kernel.n, 0);
	assert_int_equal(f->errors, 3);
	assert_non_null(strstr(f->log, "mode=turbo is invalid"));
	assert_non_null(strstr(f->log, "pages_to_scan=-5 is invalid"));
	assert_non_null(strstr(f->log, "unknown option 'bogus'"));
	assert_int_equal(kt_lock_holder(f->ctx, KT_KSM_LOCK, &info), 0);
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_ksm-a.journal"));
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

static void test_restore_of_a_missing_journal_lists_those_present(void **state)
{
	static const char *const pairs[] = { "use_zero_pages", "1", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist opts = opts_of(pairs);
	struct kt_ksm_tuning *t = NULL;

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_restore_journal(f->ctx, "kvm_ksm-x", "r"), -ENOENT);
	assert_non_null(strstr(f->log, "no journal 'kvm_ksm-x' in /var/lib/kvmtune; none is present"));
	assert_int_equal(kt_ksm_tuning_apply(f->ctx, "kvm_ksm-a", "t", &opts, KT_KSMCTL_STATIC, &t),
			 0);
	/* Left applied without restoring: the journal keeps the originals. */
	assert_int_equal(kt_ksm_tuning_unapply(t, false), 0);
	assert_string_equal(fixture_read(f, KSM "use_zero_pages"), "1");
	fixture_clear_log(f);
	assert_int_equal(kt_ksm_restore_journal(f->ctx, "kvm_ksm-x", "r"), -ENOENT);
	assert_non_null(strstr(f->log, "journals present: kvm_ksm-a"));
	assert_int_equal(kt_ksm_restore_journal(f->ctx, "kvm_ksm-a", "r"), 0);
	assert_string_equal(fixture_read(f, KSM "use_zero_pages"), "0");
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_ksm-a.journal"));
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

static void test_orphans(void **state)
{
	static const char *const zero[] = { "use_zero_pages", "1", NULL };
	static const char *const rate[] = { "sleep_millisecs", "77", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist o1 = opts_of(zero), o2 = opts_of(rate);
	struct kt_ksm_tuning *t = NULL, *held = NULL;

	(void)state;
	fake_kernel_reset(true);
	/* A tuning a killed tuned left behind (journal, no holder)... */
	assert_int_equal(kt_ksm_tuning_apply(f->ctx, "kvm_ksm-old", "t", &o1, KT_KSMCTL_STATIC, &t),
			 0);
	assert_int_equal(kt_ksm_tuning_unapply(t, false), 0);
	/* ...and one that is applied now. */
	assert_int_equal(kt_ksm_tuning_apply(f->ctx, "kvm_ksm-now", "tuned instance now", &o2,
					     KT_KSMCTL_STATIC, &held),
			 0);
	fixture_clear_log(f);
	/* KSM is held by another tuning: the orphan waits, with a warning. */
	assert_int_equal(kt_restore_orphans(f->ctx, "test"), 0);
	assert_non_null(strstr(f->log, "journal kvm_ksm-now is in use by tuned instance now"));
	assert_non_null(strstr(f->log, "journal kvm_ksm-old is not applied, but tuned instance now"));
	assert_string_equal(fixture_read(f, KSM "use_zero_pages"), "1");
	assert_int_equal(kt_ksm_tuning_unapply(held, true), 0);

	fixture_clear_log(f);
	assert_int_equal(kt_restore_orphans(f->ctx, "test"), 1);
	assert_non_null(strstr(f->log, "KSM restored from the journal kvm_ksm-old"));
	assert_string_equal(fixture_read(f, KSM "use_zero_pages"), "0");
	assert_string_equal(fixture_read(f, KSM "sleep_millisecs"), "20");
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_ksm-old.journal"));
	assert_int_equal(kt_restore_orphans(f->ctx, "test"), 0);
	kt_kvlist_clear(&o1);
	kt_kvlist_clear(&o2);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_owns),
		cmocka_unit_test(test_dynamic_turns_advisor_off_and_journals_owned),
		cmocka_unit_test(test_one_writer_at_a_time),
		cmocka_unit_test(test_bad_options_change_nothing),
		cmocka_unit_test(test_restore_of_a_missing_journal_lists_those_present),
		cmocka_unit_test(test_orphans),
	};

	return cmocka_run_group_tests_name("ksm-tuning", tests, host_guard_setup, host_guard_teardown);
}
