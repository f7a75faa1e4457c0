// SPDX-License-Identifier: LGPL-2.1-or-later
/* Applying knobs: the kernel's ordering rules, unsupported knobs, rollback after a failed write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "ksm.h"

#define KSM "sys/kernel/mm/ksm/"

static struct kt_ksm_values want_of(struct fixture *f, const char *const *pairs)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_ksm_values vals;

	for (; pairs[0]; pairs += 2)
		kt_kvlist_set(&opts, pairs[0], pairs[1]);
	assert_int_equal(kt_ksm_values_from_options(f->ctx, &opts, &vals), 0);
	kt_kvlist_clear(&opts);
	return vals;
}

static void test_dense_values_run_last(void **state)
{
	static const char *const dense[] = { "run", "1", "pages_to_scan", "500", "use_zero_pages",
					     "1", "advisor_mode", "none", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = want_of(f, dense), prev;

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, &prev), 0);
	assert_string_equal(fixture_read(f, KSM "run"), "1");
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "500");
	assert_string_equal(fixture_read(f, KSM "use_zero_pages"), "1");
	/* Unchanged knobs are not written; run comes last so ksmd starts with the new rate. */
	assert_int_equal(fake_kernel.n, 3);
	assert_int_equal(fake_kernel_find("run=1"), 2);
	assert_string_equal(prev.value[KT_KSM_RUN], "0");
	assert_string_equal(prev.value[KT_KSM_PAGES_TO_SCAN], "100");
	assert_string_equal(prev.value[KT_KSM_ADVISOR_MODE], "none");
	assert_false(prev.set[KT_KSM_SLEEP_MILLISECS]);
	assert_int_equal(f->errors + f->warnings, 0);
	fixture_close(f);
}

static void test_advisor_off_before_pages_to_scan(void **state)
{
	static const char *const opts[] = { "advisor_mode", "none", "pages_to_scan", "1000", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = want_of(f, opts), prev;

	(void)state;
	fixture_write(f, KSM "advisor_mode", "none [scan-time]");
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, &prev), 0);
	assert_int_equal(fake_kernel_find("advisor_mode=none"), 0);
	assert_int_equal(fake_kernel_find("pages_to_scan=1000"), 1);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "1000");
	assert_string_equal(prev.value[KT_KSM_ADVISOR_MODE], "scan-time");

	/* Restoring: pages_to_scan is the advisor's again, so only the mode goes back. */
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &prev, KT_KSM_APPLY_RESTORE, NULL), 0);
	assert_string_equal(fixture_read(f, KSM "advisor_mode"), "none [scan-time]");
	assert_int_equal(fake_kernel.n, 1);
	assert_int_equal(f->warnings + f->errors, 0);
	fixture_close(f);
}

static void test_rate_equal_to_advisor_rate_still_written(void **state)
{
	static const char *const opts[] = { "advisor_mode", "none", "pages_to_scan", "500", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = want_of(f, opts);

	(void)state;
	/* Under scan-time pages_to_scan reads as the advisor's rate, here the value wanted. */
	fake_kernel_reset(true);
	fixture_write(f, KSM "advisor_mode", "none");
	assert_int_equal(__wrap_kt_write_attr(f->ctx, KSM "advisor_mode", "scan-time"), 0);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "500");
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, NULL), 0);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "500");
	assert_int_equal(fake_kernel_find("pages_to_scan=500"), 1);
	fixture_close(f);
}

static void test_pages_to_scan_under_advisor_refused(void **state)
{
	static const char *const opts[] = { "pages_to_scan", "1000", "run", "1", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = want_of(f, opts);

	(void)state;
	fixture_write(f, KSM "advisor_mode", "none [scan-time]");
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, NULL), -EINVAL);
	assert_int_equal(fake_kernel.n, 0);
	assert_non_null(strstr(f->log, "pages_to_scan=1000 cannot be set while advisor_mode=scan-time"));
	assert_string_equal(fixture_read(f, KSM "run"), "0");
	fixture_close(f);
}

static void test_switch_to_advisor_ignores_rate(void **state)
{
	static const char *const opts[] = { "advisor_mode", "scan-time", "pages_to_scan", "800",
					    "advisor_max_cpu", "30", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = want_of(f, opts);

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, NULL), 0);
	assert_int_equal(fake_kernel_find("pages_to_scan=800"), -1);
	assert_true(fake_kernel_find("advisor_max_cpu=30") < fake_kernel_find("advisor_mode=scan-time"));
	assert_int_equal(f->warnings, 1);
	assert_non_null(strstr(f->log, "pages_to_scan=800 has no effect with advisor_mode=scan-time"));
	fixture_close(f);
}

static void test_merge_across_nodes_unmerges_first(void **state)
{
	static const char *const opts[] = { "merge_across_nodes", "0", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = want_of(f, opts);
	int stop, unmerge, knob, start;

	(void)state;
	fixture_write(f, KSM "run", "1");
	fixture_write(f, KSM "pages_shared", "1000");
	fixture_write(f, KSM "pages_sharing", "5000");
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, NULL), 0);
	stop = fake_kernel_find("run=0");
	unmerge = fake_kernel_find("run=2");
	knob = fake_kernel_find("merge_across_nodes=0");
	start = fake_kernel_find("run=1");
	assert_true(stop == 0 && unmerge == 1 && knob == 2 && start == 3);
	assert_string_equal(fixture_read(f, KSM "merge_across_nodes"), "0");
	assert_string_equal(fixture_read(f, KSM "run"), "1");
	fixture_close(f);
}

static void test_merge_across_nodes_kept_when_memory_is_short(void **state)
{
	static const char *const opts[] = { "merge_across_nodes", "0", "sleep_millisecs", "50", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = want_of(f, opts);

	(void)state;
	fixture_write(f, KSM "run", "1");
	fixture_write(f, KSM "pages_shared", "100000");
	/* 4,000,000 sharing pages are 15 GiB once unmerged; the host has 1 GiB free. */
	fixture_write(f, KSM "pages_sharing", "4000000");
	fixture_write(f, "proc/meminfo", "MemTotal: 25165824 kB\nMemFree: 1048576 kB\n"
					 "MemAvailable: 1048576 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, NULL), 0);
	assert_int_equal(fake_kernel_find("run=2"), -1);
	assert_string_equal(fixture_read(f, KSM "merge_across_nodes"), "1");
	assert_string_equal(fixture_read(f, KSM "sleep_millisecs"), "50");
	assert_string_equal(fixture_read(f, KSM "run"), "1");
	assert_string_equal(fixture_read(f, KSM "pages_sharing"), "4000000");
	assert_non_null(strstr(f->log, "merge_across_nodes=0 needs every page unmerged first"));
	fixture_close(f);
}

/* clang-format off */
static const struct {
	const char *what;
	const char *shared, *sharing;
	/* NULL: the fixture's roomy /proc/meminfo */
	const char *meminfo;
	const char *run_written;
	const char *sharing_after;
	const char *warning;
} run2_cases[] = {
	{ "memory holds every merged page: unmerged", "1000", "5000", NULL, "run=2", "0", NULL },
	/* 4,000,000 sharing pages are 15 GiB once unmerged; the host has 1 GiB free. */
	{ "memory is short: ksmd only stopped", "100000", "4000000",
	  "MemTotal: 25165824 kB\nMemFree: 1048576 kB\nMemAvailable: 1048576 kB\n"
	  "SwapTotal: 0 kB\nSwapFree: 0 kB\n", "run=0", "4000000",
	  "run=2 would unmerge every merged page, which needs 16853 MiB but only 1024 MiB are "
	  "available (MemAvailable + SwapFree): stopping ksmd with run=0 instead" },
};
/* clang-format on */

/* run=2 (KSM off, as kvm-latency asks) unmerges only when memory holds every merged page. */
static void test_run2_unmerge_guard(void **state)
{
	static const char *const opts[] = { "run", "2", NULL };

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(run2_cases); i++) {
		struct fixture *f = fixture_open("ksm-6.18");
		struct kt_ksm_values want = want_of(f, opts);

		fixture_write(f, KSM "run", "1");
		fixture_write(f, KSM "pages_shared", run2_cases[i].shared);
		fixture_write(f, KSM "pages_sharing", run2_cases[i].sharing);
		if (run2_cases[i].meminfo)
			fixture_write(f, "proc/meminfo", run2_cases[i].meminfo);
		fake_kernel_reset(true);
		assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, NULL), 0);
		if (fake_kernel.n != 1 || fake_kernel_find(run2_cases[i].run_written) != 0)
			fail_msg("%s: expected only %s", run2_cases[i].what, run2_cases[i].run_written);
		assert_string_equal(fixture_read(f, KSM "pages_sharing"), run2_cases[i].sharing_after);
		assert_int_equal(f->warnings, run2_cases[i].warning ? 1 : 0);
		if (run2_cases[i].warning && !strstr(f->log, run2_cases[i].warning))
			fail_msg("%s: log '%s'", run2_cases[i].what, f->log);
		fixture_close(f);
	}
}

static void test_failed_write_rolls_back(void **state)
{
	static const char *const opts[] = { "pages_to_scan", "500", "sleep_millisecs", "10",
					    "use_zero_pages", "1", "run", "1", NULL };
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = want_of(f, opts);

	(void)state;
	fake_kernel_reset(true);
	fake_kernel.fail_at = 3;
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, NULL), -EIO);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "100");
	assert_string_equal(fixture_read(f, KSM "sleep_millisecs"), "20");
	assert_string_equal(fixture_read(f, KSM "use_zero_pages"), "0");
	assert_string_equal(fixture_read(f, KSM "run"), "0");
	assert_non_null(strstr(f->log, "cannot write use_zero_pages=1"));
	fixture_close(f);
}

static void test_old_kernel_skips_missing_knobs(void **state)
{
	static const char *const opts[] = { "run", "1", "smart_scan", "1", "advisor_mode", "none",
					    "pages_to_scan", "500", NULL };
	struct fixture *f = fixture_open("ksm-6.1");
	struct kt_ksm_values want = want_of(f, opts), prev;

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, &prev), 0);
	assert_int_equal(f->errors, 0);
	assert_int_equal(f->warnings, 2);
	assert_non_null(strstr(f->log, "smart_scan is not supported by this kernel, ignoring"));
	assert_non_null(strstr(f->log, "advisor_mode is not supported by this kernel, ignoring"));
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "500");
	assert_false(prev.set[KT_KSM_SMART_SCAN]);
	assert_false(fixture_exists(f, KSM "smart_scan"));
	fixture_close(f);
}

static void test_no_ksm_is_not_an_error(void **state)
{
	static const char *const opts[] = { "run", "1", NULL };
	struct fixture *f = fixture_open("no-ksm");
	struct kt_ksm_values want = want_of(f, opts), prev;

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, &prev), 0);
	assert_int_equal(fake_kernel.n, 0);
	assert_int_equal(f->errors, 0);
	assert_non_null(strstr(f->log, "KSM is not available on this kernel"));
	assert_false(prev.set[KT_KSM_RUN]);
	fixture_close(f);
}

struct verify_seen {
	int calls, bad, missing;
};

static void on_verify(void *data, enum kt_ksm_knob knob, const char *want, const char *cur, bool ok)
{
	struct verify_seen *s = data;

	(void)knob;
	(void)want;
	s->calls++;
	s->bad += !ok;
	s->missing += cur == NULL;
}

static void test_verify(void **state)
{
	static const char *const opts[] = { "run", "1", "pages_to_scan", "500", "smart_scan", "1",
					    NULL };
	struct fixture *f = fixture_open("ksm-6.1");
	struct kt_ksm_values want = want_of(f, opts);
	struct verify_seen seen = { 0 };

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_apply(f->ctx, &want, 0, NULL), 0);
	assert_int_equal(kt_ksm_verify(f->ctx, &want, on_verify, &seen), 0);
	assert_int_equal(seen.calls, 3);
	assert_int_equal(seen.missing, 1);
	fixture_write(f, KSM "pages_to_scan", "64");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(kt_ksm_verify(f->ctx, &want, on_verify, &seen), 1);
	assert_int_equal(seen.bad, 1);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dense_values_run_last),
		cmocka_unit_test(test_advisor_off_before_pages_to_scan),
		cmocka_unit_test(test_rate_equal_to_advisor_rate_still_written),
		cmocka_unit_test(test_pages_to_scan_under_advisor_refused),
		cmocka_unit_test(test_switch_to_advisor_ignores_rate),
		cmocka_unit_test(test_merge_across_nodes_unmerges_first),
		cmocka_unit_test(test_merge_across_nodes_kept_when_memory_is_short),
		cmocka_unit_test(test_run2_unmerge_guard),
		cmocka_unit_test(test_failed_write_rolls_back),
		cmocka_unit_test(test_old_kernel_skips_missing_knobs),
		cmocka_unit_test(test_no_ksm_is_not_an_error),
		cmocka_unit_test(test_verify),
	};

	return cmocka_run_group_tests_name("ksm-apply", tests, host_guard_setup, host_guard_teardown);
}
