// SPDX-License-Identifier: LGPL-2.1-or-later
/* The KSM knob model: validation, canonical values, reading what each kernel offers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "ksm.h"

static void test_names_round_trip(void **state)
{
	(void)state;
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		assert_non_null(kt_ksm_knob_name(k));
		assert_int_equal(kt_ksm_knob_from_name(kt_ksm_knob_name(k)), k);
		assert_non_null(kt_ksm_knob_allowed(k));
	}
	assert_int_equal(kt_ksm_knob_from_name("pages_shared"), KT_KSM_KNOB_INVALID);
	assert_int_equal(kt_ksm_knob_from_name(NULL), KT_KSM_KNOB_INVALID);
	assert_null(kt_ksm_knob_name(KT_KSM_KNOB_MAX));
}

static void test_normalize(void **state)
{
	static const struct {
		enum kt_ksm_knob knob;
		const char *in;
		int r;
		const char *out;
	} cases[] = {
		{ KT_KSM_RUN, "1", 0, "1" },
		{ KT_KSM_RUN, "2", 0, "2" },
		{ KT_KSM_RUN, "7", -ERANGE, NULL },
		{ KT_KSM_RUN, "on", -EINVAL, NULL },
		{ KT_KSM_PAGES_TO_SCAN, "-5", -ERANGE, NULL },
		{ KT_KSM_PAGES_TO_SCAN, " 1000 ", 0, "1000" },
		{ KT_KSM_PAGES_TO_SCAN, "100001", -ERANGE, NULL },
		{ KT_KSM_USE_ZERO_PAGES, "true", 0, "1" },
		{ KT_KSM_USE_ZERO_PAGES, "off", 0, "0" },
		{ KT_KSM_SMART_SCAN, "maybe", -EINVAL, NULL },
		{ KT_KSM_MAX_PAGE_SHARING, "1", -ERANGE, NULL },
		{ KT_KSM_MAX_PAGE_SHARING, "2", 0, "2" },
		{ KT_KSM_ADVISOR_MODE, "scan-time", 0, "scan-time" },
		{ KT_KSM_ADVISOR_MODE, " none", 0, "none" },
		{ KT_KSM_ADVISOR_MODE, "fast", -EINVAL, NULL },
		{ KT_KSM_ADVISOR_MODE, "nonesuch", -EINVAL, NULL },
		{ KT_KSM_ADVISOR_MAX_CPU, "0", -ERANGE, NULL },
		{ KT_KSM_ADVISOR_TARGET_SCAN_TIME, "0", -ERANGE, NULL },
	};
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		char out[KT_KSM_VALUE_MAX] = "untouched";
		int r = kt_ksm_normalize(cases[i].knob, cases[i].in, out);

		if (r != cases[i].r)
			fail_msg("%s=%s: %d, expected %d", kt_ksm_knob_name(cases[i].knob), cases[i].in,
				 r, cases[i].r);
		assert_string_equal(out, r == 0 ? cases[i].out : "untouched");
	}
}

static void test_options_report_every_error(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_ksm_values vals;

	(void)state;
	kt_kvlist_set(&opts, "run", "7");
	kt_kvlist_set(&opts, "pages_to_scan", "-5");
	kt_kvlist_set(&opts, "advisor_mode", "fast");
	kt_kvlist_set(&opts, "sleep_milisecs", "20");
	kt_kvlist_set(&opts, "use_zero_pages", "1");
	assert_int_equal(kt_ksm_values_from_options(f->ctx, &opts, &vals), -EINVAL);
	assert_int_equal(f->errors, 4);
	assert_non_null(strstr(f->log, "run=7 is invalid: expected 0 (stop), 1 (run) or 2"));
	assert_non_null(strstr(f->log, "pages_to_scan=-5 is invalid: expected an integer 0..100000"));
	assert_non_null(strstr(f->log, "advisor_mode=fast is invalid: expected none or scan-time"));
	assert_non_null(strstr(f->log, "unknown option 'sleep_milisecs': expected one of run,"));
	kt_kvlist_clear(&opts);
	fixture_close(f);
}

static void test_options_valid(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist opts = KT_KVLIST_INIT, back = KT_KVLIST_INIT;
	struct kt_ksm_values vals;

	(void)state;
	kt_kvlist_set(&opts, "run", "1");
	kt_kvlist_set(&opts, "use_zero_pages", "yes");
	assert_int_equal(kt_ksm_values_from_options(f->ctx, &opts, &vals), 0);
	assert_true(vals.set[KT_KSM_RUN]);
	assert_false(vals.set[KT_KSM_PAGES_TO_SCAN]);
	assert_string_equal(vals.value[KT_KSM_USE_ZERO_PAGES], "1");
	assert_int_equal(kt_ksm_values_to_kvlist(&vals, &back), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(kt_kvlist_get(&back, "use_zero_pages"), "1");
	assert_int_equal(f->errors, 0);
	kt_kvlist_clear(&opts);
	kt_kvlist_clear(&back);
	fixture_close(f);
}

static void test_read_current_kernel(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values vals;

	(void)state;
	assert_true(kt_ksm_available(f->ctx));
	assert_int_equal(kt_ksm_read_all(f->ctx, &vals), 0);
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
		assert_true(vals.set[k]);
	/* "[none] scan-time" in sysfs reads as the active mode only. */
	assert_string_equal(vals.value[KT_KSM_ADVISOR_MODE], "none");
	fixture_write(f, "sys/kernel/mm/ksm/advisor_mode", "none [scan-time]\n");
	assert_int_equal(kt_ksm_read_all(f->ctx, &vals), 0);
	assert_string_equal(vals.value[KT_KSM_ADVISOR_MODE], "scan-time");
	fixture_close(f);
}

static void test_read_old_kernel(void **state)
{
	struct fixture *f = fixture_open("ksm-6.1");
	struct kt_ksm_values vals;

	(void)state;
	assert_int_equal(kt_ksm_read_all(f->ctx, &vals), 0);
	assert_true(vals.set[KT_KSM_RUN]);
	assert_true(vals.set[KT_KSM_USE_ZERO_PAGES]);
	assert_false(vals.set[KT_KSM_SMART_SCAN]);
	assert_false(vals.set[KT_KSM_ADVISOR_MODE]);
	assert_false(kt_ksm_knob_supported(f->ctx, KT_KSM_ADVISOR_MAX_CPU));
	fixture_close(f);
}

static void test_no_ksm(void **state)
{
	struct fixture *f = fixture_open("no-ksm");
	struct kt_ksm_values vals;

	(void)state;
	assert_false(kt_ksm_available(f->ctx));
	assert_int_equal(kt_ksm_read_all(f->ctx, &vals), 0);
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
		assert_false(vals.set[k]);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_options_report_every_error),
		cmocka_unit_test(test_options_valid),
		cmocka_unit_test(test_read_current_kernel),
		cmocka_unit_test(test_read_old_kernel),
		cmocka_unit_test(test_no_ksm),
	};

	return cmocka_run_group_tests_name("ksm", tests, host_guard_setup, host_guard_teardown);
}
