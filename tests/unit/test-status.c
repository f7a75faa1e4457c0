// SPDX-License-Identifier: LGPL-2.1-or-later
/* KSM status, /proc/meminfo and /proc/<pid>/stat parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "ksm-status.h"
#include "meminfo.h"

static void test_status(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_status st;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	(void)state;
	fixture_write(f, "sys/kernel/mm/ksm/pages_sharing", "1000");
	fixture_write(f, "sys/kernel/mm/ksm/ksm_zero_pages", "24");
	fixture_write(f, "sys/kernel/mm/ksm/general_profit", "-4096");
	assert_int_equal(kt_ksm_status_read(f->ctx, &st), 0);
	assert_true(st.available);
	assert_true(st.knobs.set[KT_KSM_ADVISOR_MODE]);
	assert_int_equal(st.counter[KT_KSM_PAGES_SHARING], 1000);
	assert_int_equal(st.counter[KT_KSM_GENERAL_PROFIT], -4096);
	assert_true(st.saved_bytes == 1024 * page);
	assert_int_equal(st.ksmd_pid, 37);
	assert_true(st.ksmd_cpu_seconds > 0);
	assert_true(st.ksmd_cpu_seconds * (double)sysconf(_SC_CLK_TCK) > 399.0 &&
		    st.ksmd_cpu_seconds * (double)sysconf(_SC_CLK_TCK) < 401.0);
	fixture_close(f);
}

static void test_status_old_and_missing(void **state)
{
	struct fixture *f = fixture_open("ksm-6.1");
	struct kt_ksm_status st;

	(void)state;
	assert_int_equal(kt_ksm_status_read(f->ctx, &st), 0);
	assert_false(st.have[KT_KSM_GENERAL_PROFIT]);
	assert_true(st.have[KT_KSM_PAGES_SHARED]);
	fixture_close(f);
	f = fixture_open("no-ksm");
	assert_int_equal(kt_ksm_status_read(f->ctx, &st), 0);
	assert_false(st.available);
	assert_int_equal(st.ksmd_pid, 0);
	assert_true(st.ksmd_cpu_seconds < 0);
	fixture_close(f);
}

static void test_proc_stat(void **state)
{
	uint64_t t = 0;

	(void)state;
	assert_int_equal(kt_proc_stat_cpu_ticks("37 (ksmd) S 2 0 0 0 -1 1 0 0 0 0 150 250 0 0", &t), 0);
	assert_true(t == 400);
	/* A comm may hold spaces and parentheses: fields count from the last ')'. */
	assert_int_equal(kt_proc_stat_cpu_ticks("9 (a) b (c) S 2 0 0 0 -1 1 0 0 0 0 7 8 0", &t), 0);
	assert_true(t == 15);
	assert_int_equal(kt_proc_stat_cpu_ticks("9 (x) S 2 0", &t), -EINVAL);
	assert_int_equal(kt_proc_stat_cpu_ticks("no paren", &t), -EINVAL);
}

static void test_meminfo(void **state)
{
	struct kt_meminfo mi;

	(void)state;
	assert_int_equal(kt_meminfo_parse("MemTotal:       24576000 kB\n"
					  "MemFree:        20000000 kB\n"
					  "MemAvailable:   22000000 kB\n"
					  "SwapFree:              0 kB\n"
					  "HugePages_Total:      16\n"
					  "Hugepagesize:       2048 kB\n"
					  "Unknown:        1 kB",
					  &mi),
			 0);
	assert_true(mi.mem_total == UINT64_C(24576000) * 1024);
	assert_true(mi.mem_available == UINT64_C(22000000) * 1024);
	assert_true(mi.hugepages_total == 16);
	assert_true(mi.hugepage_size == 2u << 20);
	assert_int_equal(kt_meminfo_parse("MemFree: 1 kB\n", &mi), -EINVAL);
	assert_int_equal(kt_meminfo_parse("MemTotal: lots\n", &mi), -EINVAL);
	assert_int_equal(kt_meminfo_parse("", &mi), -EINVAL);
}

static void test_meminfo_fixture(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_meminfo mi;

	(void)state;
	assert_int_equal(kt_meminfo_read(f->ctx, &mi), 0);
	assert_true(mi.mem_total > mi.mem_available);
	assert_true(mi.mem_available > 0);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status),	 cmocka_unit_test(test_status_old_and_missing),
		cmocka_unit_test(test_proc_stat), cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_meminfo_fixture),
	};

	return cmocka_run_group_tests_name("status", tests, host_guard_setup, host_guard_teardown);
}
