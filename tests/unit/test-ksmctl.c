// SPDX-License-Identifier: LGPL-2.1-or-later
/* The controller's decisions, on recorded sequences of host samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "io.h"
#include "ksmctl.h"

#define GIB (UINT64_C(1) << 30)
#define MIB (UINT64_C(1) << 20)

/* A 24 GiB host; every field a test does not set is a quiet, roomy host. */
static struct kt_ksmctl_sample roomy(double t)
{
	struct kt_ksmctl_sample s;

	memset(&s, 0, sizeof(s));
	s.t = t;
	s.mem_total = 24 * GIB;
	s.mem_available = 20 * GIB;
	s.committed = 3 * GIB;
	s.have_psi = true;
	s.ksmd_cpu = 10.0;
	s.page_size = 4096;
	s.pages_to_scan = 100;
	s.sleep_ms = 20;
	return s;
}

static struct kt_ksmctl_config dynamic(void)
{
	struct kt_ksmctl_config cfg;

	kt_ksmctl_config_default(&cfg);
	cfg.mode = KT_KSMCTL_DYNAMIC;
	return cfg;
}

/* Feeds a sample and makes the next one see what was written, as the kernel would. */
static struct kt_ksmctl_decision feed(const struct kt_ksmctl_config *cfg, struct kt_ksmctl_state *st,
				      struct kt_ksmctl_sample *s)
{
	struct kt_ksmctl_decision d;

	kt_ksmctl_decide(cfg, st, s, &d);
	if (d.write) {
		s->run = d.run;
		s->pages_to_scan = d.pages_to_scan;
		s->sleep_ms = d.sleep_ms;
	}
	return d;
}

static void test_plenty_of_memory_stays_off(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);

	(void)state;
	kt_ksmctl_state_init(&st);
	for (int i = 0; i < 30; i++) {
		struct kt_ksmctl_decision d = feed(&cfg, &st, &s);

		assert_false(d.write);
		assert_int_equal(d.phase, KT_KSMCTL_OFF);
		assert_non_null(strstr(d.reason, "not needed"));
		s.t += 5;
	}
}

static void test_running_but_not_needed_stops_after_calm(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);
	struct kt_ksmctl_decision d;
	int i;

	(void)state;
	kt_ksmctl_state_init(&st);
	s.run = 1;
	for (i = 0; i < 100; i++) {
		d = feed(&cfg, &st, &s);
		if (d.write)
			break;
		s.t += 5;
	}
	/* A brief dip does not stop KSM: the condition holds for calm_cycles samples first. */
	assert_int_equal(i, (int)cfg.calm_cycles - 1);
	assert_int_equal(d.run, 0);
	assert_int_equal(d.phase, KT_KSMCTL_OFF);
	assert_true(d.notable);
}

static void test_guests_fill_ram_merges_at_once(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);
	struct kt_ksmctl_decision d;

	(void)state;
	kt_ksmctl_state_init(&st);
	s.committed = 21 * GIB;
	d = feed(&cfg, &st, &s);
	assert_true(d.write);
	assert_int_equal(d.run, 1);
	assert_int_equal(d.pages_to_scan, cfg.merge_pages);
	assert_int_equal(d.sleep_ms, cfg.merge_sleep_ms);
	assert_int_equal(d.phase, KT_KSMCTL_MERGING);
	assert_non_null(strstr(d.reason, "guests 21504 MiB + threshold 4915 MiB vs RAM 24576 MiB"));
}

static void test_pressure_rising_merges(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);
	struct kt_ksmctl_decision d;

	(void)state;
	kt_ksmctl_state_init(&st);
	d = feed(&cfg, &st, &s);
	assert_false(d.write);
	s.t += 5;
	s.psi_some_avg10 = 4.0;
	d = feed(&cfg, &st, &s);
	assert_false(d.write);
	s.t += 5;
	s.psi_some_avg10 = 12.5;
	d = feed(&cfg, &st, &s);
	assert_true(d.write);
	assert_int_equal(d.run, 1);
	assert_non_null(strstr(d.reason, "memory pressure"));
}

static void test_payoff_collapsing_settles(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);
	struct kt_ksmctl_decision d;
	/* pages_sharing after each full scan: checksums, big merge, more, then nothing new. */
	static const int64_t sharing[] = { 0, 200000, 320000, 321000 };

	(void)state;
	kt_ksmctl_state_init(&st);
	s.committed = 22 * GIB;
	d = feed(&cfg, &st, &s);
	assert_int_equal(d.phase, KT_KSMCTL_MERGING);
	for (size_t i = 0; i < KT_ELEMENTSOF(sharing); i++) {
		s.t += 5;
		s.full_scans++;
		s.pages_sharing = sharing[i];
		s.ksmd_cpu += 2.5; /* 50% of a CPU: on budget */
		d = feed(&cfg, &st, &s);
		if (i < 3)
			assert_int_equal(d.phase, KT_KSMCTL_MERGING);
	}
	assert_int_equal(d.phase, KT_KSMCTL_SETTLED);
	assert_true(d.write);
	assert_int_equal(d.pages_to_scan, cfg.idle_pages);
	assert_int_equal(d.sleep_ms, cfg.idle_sleep_ms);
	assert_non_null(strstr(d.reason, "settled: the last full scan added 1000 pages (< 3210)"));

	/* Settled stays quiet while nothing changes... */
	for (int i = 0; i < 5; i++) {
		s.t += 5;
		d = feed(&cfg, &st, &s);
		assert_false(d.write);
		assert_int_equal(d.phase, KT_KSMCTL_SETTLED);
	}
	/* ...and merges again when guests grow. */
	s.t += 5;
	s.committed += 2 * GIB;
	d = feed(&cfg, &st, &s);
	assert_int_equal(d.phase, KT_KSMCTL_MERGING);
	assert_int_equal(d.pages_to_scan, cfg.merge_pages);
	assert_non_null(strstr(d.reason, "guests grew"));
}

static void test_negative_profit_backs_off(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);
	struct kt_ksmctl_decision d;

	(void)state;
	kt_ksmctl_state_init(&st);
	s.committed = 22 * GIB;
	s.have_profit = true;
	feed(&cfg, &st, &s);
	/* Scans keep finding pages, but the rmap items cost more than the pages saved. */
	for (int i = 1; i <= 2; i++) {
		s.t += 5;
		s.full_scans++;
		s.pages_sharing += 50000;
		s.general_profit = -(int64_t)i * 4 * MIB;
		s.ksmd_cpu += 2.5;
		d = feed(&cfg, &st, &s);
	}
	assert_int_equal(d.phase, KT_KSMCTL_SETTLED);
	assert_int_equal(d.pages_to_scan, cfg.idle_pages);
	assert_non_null(strstr(d.reason, "backing off: general_profit is -8192 KiB"));
}

static void test_cpu_budget_scales_rate(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);
	struct kt_ksmctl_decision d;

	(void)state;
	kt_ksmctl_state_init(&st);
	s.committed = 22 * GIB;
	feed(&cfg, &st, &s);
	s.t += 5;
	s.ksmd_cpu += 5.0; /* 100% of a CPU over 5 s: twice the budget */
	d = feed(&cfg, &st, &s);
	assert_true(d.write);
	assert_int_equal(d.pages_to_scan, cfg.merge_pages / 2);
	s.t += 5;
	s.ksmd_cpu += 0.5; /* 10%: room to speed up again, up to merge_pages */
	d = feed(&cfg, &st, &s);
	assert_true(d.write);
	assert_int_equal(d.pages_to_scan, cfg.merge_pages);
}

static void test_unmerge_guard(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);
	struct kt_ksmctl_decision d;

	(void)state;
	cfg.stop = KT_KSMCTL_STOP_UNMERGE;
	cfg.calm_cycles = 1;
	/* 5,000,000 sharing pages are 19 GiB once unmerged; 20 GiB are available: not enough with the margin. */
	kt_ksmctl_state_init(&st);
	s.run = 1;
	s.pages_sharing = 5000000;
	d = feed(&cfg, &st, &s);
	assert_true(d.write);
	assert_int_equal(d.run, 0);
	assert_non_null(strstr(d.reason, "not unmerging: it needs 20760 MiB, 20480 MiB are available"));

	/* Enough memory: stop and unmerge. */
	kt_ksmctl_state_init(&st);
	s = roomy(0);
	s.run = 1;
	s.pages_sharing = 100000;
	d = feed(&cfg, &st, &s);
	assert_true(d.write);
	assert_int_equal(d.run, 2);
}

static void test_ksmtuned_conflict_no_flapping(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);
	struct kt_ksmctl_decision d;
	int notable = 0;

	(void)state;
	kt_ksmctl_state_init(&st);
	s.committed = 22 * GIB;
	s.foreign_pid = 4242;
	snprintf(s.foreign_comm, sizeof(s.foreign_comm), "ksmtuned");
	for (int i = 0; i < 20; i++) {
		/* ksmtuned writes whatever it likes meanwhile. */
		s.run = i % 2;
		s.pages_to_scan = 64 + (unsigned)i * 300;
		d = feed(&cfg, &st, &s);
		assert_false(d.write);
		assert_int_equal(d.phase, KT_KSMCTL_YIELDED);
		notable += d.notable;
		s.t += 5;
	}
	assert_int_equal(notable, 1);
	assert_non_null(strstr(d.reason, "ksmtuned (pid 4242) controls KSM"));
	/* ksmtuned exits: the controller takes over from what the kernel has. */
	s.foreign_pid = 0;
	s.run = 1;
	d = feed(&cfg, &st, &s);
	assert_int_equal(d.phase, KT_KSMCTL_MERGING);
	assert_true(d.notable);
}

static void test_other_writer_yields_once(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);
	struct kt_ksmctl_decision d;
	int notable = 0;

	(void)state;
	kt_ksmctl_state_init(&st);
	s.committed = 22 * GIB;
	d = feed(&cfg, &st, &s);
	assert_true(d.write);
	s.t += 5;
	s.pages_to_scan = 1250; /* someone else's value */
	for (int i = 0; i < 10; i++) {
		d = feed(&cfg, &st, &s);
		assert_false(d.write);
		assert_int_equal(d.phase, KT_KSMCTL_YIELDED);
		notable += d.notable;
		s.t += 5;
	}
	assert_int_equal(notable, 1);
}

static void test_advisor_mode(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_state st;
	struct kt_ksmctl_sample s = roomy(0);
	struct kt_ksmctl_decision d;

	(void)state;
	cfg.mode = KT_KSMCTL_ADVISOR;
	kt_ksmctl_state_init(&st);
	s.committed = 22 * GIB;
	d = feed(&cfg, &st, &s);
	assert_true(d.write);
	assert_true(d.advisor);
	assert_int_equal(d.run, 1);
	/* The advisor moves pages_to_scan itself: that is no other writer. */
	s.t += 5;
	s.pages_to_scan = 7777;
	s.full_scans = 5;
	d = feed(&cfg, &st, &s);
	assert_false(d.write);
	assert_int_equal(d.phase, KT_KSMCTL_MERGING);
}

static void test_options(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksmctl_config cfg;

	(void)state;
	kt_ksmctl_config_default(&cfg);
	assert_int_equal(kt_ksmctl_config_set(f->ctx, &cfg, "mode", "dynamic"), 0);
	assert_int_equal(cfg.mode, KT_KSMCTL_DYNAMIC);
	assert_int_equal(kt_ksmctl_config_set(f->ctx, &cfg, "interval", "2"), 0);
	assert_int_equal(cfg.interval_ms, 2000);
	assert_int_equal(kt_ksmctl_config_set(f->ctx, &cfg, "thres_const", "1G"), 0);
	assert_true(cfg.thres_const == GIB);
	assert_int_equal(kt_ksmctl_config_set(f->ctx, &cfg, "mode", "turbo"), -EINVAL);
	assert_int_equal(kt_ksmctl_config_set(f->ctx, &cfg, "cpu_budget", "0"), -EINVAL);
	assert_int_equal(kt_ksmctl_config_set(f->ctx, &cfg, "stop", "later"), -EINVAL);
	assert_int_equal(kt_ksmctl_config_set(f->ctx, &cfg, "bogus", "1"), -EINVAL);
	assert_int_equal(f->errors, 4);
	assert_non_null(strstr(f->log, "mode=turbo is invalid: expected static, dynamic or advisor"));
	assert_non_null(strstr(f->log, "cpu_budget=0 is invalid: expected a percentage of one CPU"));
	assert_int_equal(cfg.mode, KT_KSMCTL_DYNAMIC);
	assert_true(kt_ksmctl_option_known("ksmtuned_conf"));
	assert_false(kt_ksmctl_option_known("run"));
	fixture_close(f);
}

static void test_ksmtuned_conf(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksmctl_config cfg;

	(void)state;
	kt_ksmctl_config_default(&cfg);
	assert_int_equal(kt_mkdir_p(f->ctx, "etc", 0755), 0);
	fixture_write(f, "etc/ksmtuned.conf", "# Configuration file for ksmtuned.\n"
					      "KSM_MONITOR_INTERVAL=60\n"
					      "KSM_THRES_COEF=99\n"
					      "KSM_THRES_CONST=4096\n"
					      "KSM_NPAGES_MAX=1250\n"
					      "# DEBUG=1\n"
					      "LOGFILE=/var/log/ksmtuned\n");
	assert_int_equal(kt_ksmctl_config_set(f->ctx, &cfg, "ksmtuned_conf", "/etc/ksmtuned.conf"), 0);
	assert_int_equal(cfg.thres_coef, 99);
	assert_true(cfg.thres_const == 4096 * 1024);
	assert_int_equal(cfg.merge_pages, 1250);
	fixture_write(f, "etc/ksmtuned.conf", "KSM_THRES_COEF=lots\n");
	assert_int_equal(kt_ksmctl_config_set(f->ctx, &cfg, "ksmtuned_conf", "/etc/ksmtuned.conf"),
			 -EINVAL);
	assert_non_null(strstr(f->log, "KSM_THRES_COEF=lots is not a value kvmtune understands"));
	assert_int_equal(cfg.thres_coef, 99);
	assert_true(kt_ksmctl_config_set(f->ctx, &cfg, "ksmtuned_conf", "/etc/missing.conf") < 0);
	assert_int_equal(kt_ksmctl_config_set(f->ctx, &cfg, "ksmtuned_conf", "relative.conf"), -EINVAL);
	fixture_close(f);
}

static void test_ksmtuned_parse(void **state)
{
	static const struct {
		uint64_t mem_total;
		unsigned sleep_ms;
	} sleeps[] = {
		/* ksmtuned's own scaling: 10 ms at 16 GiB, longer on smaller hosts, never below 10. */
		{ 16 * GIB, 10 },
		{ 8 * GIB, 20 },
		{ 2 * GIB, 80 },
		{ 64 * GIB, 10 },
		{ 0, 10 },
	};
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksmctl_config cfg, before;

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(sleeps); i++) {
		kt_ksmctl_config_default(&cfg);
		assert_int_equal(kt_ksmctl_config_ksmtuned_parse(f->ctx, "/k.conf",
								 "KSM_SLEEP_MSEC=10\nKSM_NPAGES_MIN=64\n",
								 sleeps[i].mem_total, &cfg),
				 0);
		assert_int_equal(cfg.merge_sleep_ms, sleeps[i].sleep_ms);
		assert_int_equal(cfg.idle_pages, 64);
	}
	/* One bad line and nothing is taken, every bad line is named. */
	kt_ksmctl_config_default(&cfg);
	before = cfg;
	assert_int_equal(kt_ksmctl_config_ksmtuned_parse(f->ctx, "/k.conf",
							 "KSM_THRES_COEF=30\nKSM_NPAGES_MAX=0\n"
							 "KSM_TURBO=1\n",
							 16 * GIB, &cfg),
			 -EINVAL);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	assert_non_null(strstr(f->log, "/k.conf: KSM_NPAGES_MAX=0 is not a value kvmtune understands"));
	assert_non_null(strstr(f->log, "/k.conf: KSM_TURBO=1 is not a value kvmtune understands"));
	assert_int_equal(kt_ksmctl_config_ksmtuned_parse(f->ctx, "/k.conf", "[section\n", 0, &cfg),
			 -EINVAL);
	assert_non_null(strstr(f->log, "ksmtuned_conf=/k.conf: line 1 is not KEY=value"));
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plenty_of_memory_stays_off),
		cmocka_unit_test(test_running_but_not_needed_stops_after_calm),
		cmocka_unit_test(test_guests_fill_ram_merges_at_once),
		cmocka_unit_test(test_pressure_rising_merges),
		cmocka_unit_test(test_payoff_collapsing_settles),
		cmocka_unit_test(test_negative_profit_backs_off),
		cmocka_unit_test(test_cpu_budget_scales_rate),
		cmocka_unit_test(test_unmerge_guard),
		cmocka_unit_test(test_ksmtuned_conflict_no_flapping),
		cmocka_unit_test(test_other_writer_yields_once),
		cmocka_unit_test(test_advisor_mode),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_ksmtuned_conf),
		cmocka_unit_test(test_ksmtuned_parse),
	};

	return cmocka_run_group_tests_name("ksmctl", tests, host_guard_setup, host_guard_teardown);
}
