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
#include "procscan.h"
#include "psi.h"

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

static void test_procscan(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	pid_t pids[8], pid = 0;
	uint64_t total = 0, rss;
	int n;

	(void)state;
	n = kt_proc_qemu_pids(f->ctx, pids, KT_ELEMENTSOF(pids));
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++) {
		assert_int_equal(kt_proc_rss(f->ctx, pids[i], &rss), 0);
		total += rss;
	}
	assert_true(total == UINT64_C(196608) * (uint64_t)sysconf(_SC_PAGESIZE));
	assert_int_equal(kt_proc_rss(f->ctx, 4242, &rss), -ESRCH);
	assert_int_equal(kt_proc_find(f->ctx, "ksmd", &pid), 0);
	assert_int_equal(pid, 37);
	assert_int_equal(kt_proc_find(f->ctx, "ksmtuned", &pid), -ESRCH);
	/* Room for one pid only: the count says how many were kept. */
	assert_int_equal(kt_proc_qemu_pids(f->ctx, pids, 1), 1);
	fixture_close(f);
}

static void test_psi(void **state)
{
	struct kt_psi psi;

	(void)state;
	assert_int_equal(kt_psi_parse("some avg10=12.50 avg60=3.00 avg300=0.50 total=123456\n"
				      "full avg10=1.25 avg60=0.00 avg300=0.00 total=99\n",
				      &psi),
			 0);
	assert_true(psi.some_avg10 > 12.49 && psi.some_avg10 < 12.51);
	assert_true(psi.have_full && psi.full_avg10 > 1.24);
	assert_int_equal(kt_psi_parse("full avg10=1.25 avg60=0.00 avg300=0.00 total=99\n", &psi),
			 -EINVAL);
	assert_int_equal(kt_psi_parse("some avg10=101.00 avg60=0 avg300=0 total=1\n", &psi), -EINVAL);
	assert_int_equal(kt_psi_parse("some avg10=x\n", &psi), -EINVAL);
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
		cmocka_unit_test(test_meminfo_fixture), cmocka_unit_test(test_psi),
		cmocka_unit_test(test_procscan),
	};

	return cmocka_run_group_tests_name("status", tests, host_guard_setup, host_guard_teardown);
}
