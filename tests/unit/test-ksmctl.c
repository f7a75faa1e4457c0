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
#include "ksmctl-run.h"
#include "ksmctl-state.h"
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
	/*
	 * pages_sharing after each full scan: checksums, big merge, more, then little new:
	 * the sweep's scan still finds some, not 1%.
	 */
	static const int64_t sharing[] = { 0, 200000, 320000, 321000, 321100 };

	(void)state;
	kt_ksmctl_state_init(&st);
	s.committed = 22 * GIB;
	/* 3 GiB of guests: a full scan per 2 s would be 3932 pages every 10 ms. */
	s.guests_rss = 3 * GIB;
	d = feed(&cfg, &st, &s);
	assert_int_equal(d.phase, KT_KSMCTL_MERGING);
	assert_int_equal(d.pages_to_scan, cfg.merge_pages);
	/* Merging: a sample a second. */
	assert_int_equal(d.next_ms, cfg.busy_interval_ms);
	for (size_t i = 0; i < KT_ELEMENTSOF(sharing); i++) {
		s.t += 5;
		s.full_scans++;
		s.pages_sharing = sharing[i];
		s.ksmd_cpu += 2.5; /* 50% of a CPU: on budget */
		d = feed(&cfg, &st, &s);
		if (i < 3) {
			assert_int_equal(d.phase, KT_KSMCTL_MERGING);
		} else if (i == 3) {
			/* The first quiet scan: a sweep at a full scan per 5 s, 1572 pages. */
			assert_int_equal(d.phase, KT_KSMCTL_MERGING);
			assert_true(d.write);
			assert_int_equal(d.pages_to_scan, 1572);
			assert_int_equal(d.sleep_ms, cfg.merge_sleep_ms);
			assert_non_null(strstr(d.reason, "sweeping: the last full scan added 1000 "
							 "pages (< 3210), 0 of 1 more"));
			assert_int_equal(d.next_ms, cfg.busy_interval_ms);
		}
	}
	assert_int_equal(d.phase, KT_KSMCTL_SETTLED);
	assert_true(d.write);
	assert_int_equal(d.pages_to_scan, cfg.idle_pages);
	assert_int_equal(d.sleep_ms, cfg.idle_sleep_ms);
	assert_non_null(strstr(d.reason, "settled: 2 full scans in a row added under 3211 pages "
					 "each, the last 100"));
	/* Settled: a sample per interval. */
	assert_int_equal(d.next_ms, cfg.interval_ms);

	/* Settled stays quiet while nothing changes... */
	for (int i = 0; i < 5; i++) {
		s.t += 5;
		d = feed(&cfg, &st, &s);
		assert_false(d.write);
		assert_int_equal(d.phase, KT_KSMCTL_SETTLED);
	}
	/*
	 * ...and merges again when guests grow: at the trickle while new guests write their
	 * memory, at the full rate from the first sample at which it holds still.
	 */
	s.t += 5;
	s.committed += 2 * GIB;
	d = feed(&cfg, &st, &s);
	assert_int_equal(d.phase, KT_KSMCTL_MERGING);
	assert_int_equal(d.pages_to_scan, cfg.idle_pages);
	assert_int_equal(d.sleep_ms, cfg.idle_sleep_ms);
	assert_non_null(strstr(d.reason, "guests grew"));
	assert_int_equal(d.next_ms, cfg.busy_interval_ms);
	s.t += 1;
	s.guests_rss += 1 * GIB;
	d = feed(&cfg, &st, &s);
	assert_false(d.write);
	assert_non_null(strstr(d.reason, "waiting: the guests' resident memory grew 1024 MiB in "
					 "1.0 s"));
	s.t += 1;
	d = feed(&cfg, &st, &s);
	assert_true(d.write);
	assert_int_equal(d.pages_to_scan, cfg.merge_pages);
	assert_int_equal(d.sleep_ms, cfg.merge_sleep_ms);
	assert_non_null(strstr(d.reason, "merging at the full rate"));
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
	/*
	 * Guests writing their memory: ksmd holds metadata for pages it looked at once and
	 * merges them on the next look, so a loss now is no reason to back off.
	 */
	for (int i = 1; i <= 3; i++) {
		s.t += 5;
		s.full_scans++;
		s.guests_rss += 512 * MIB;
		s.general_profit = -4 * (int64_t)MIB;
		s.ksmd_cpu += 2.5;
		d = feed(&cfg, &st, &s);
		assert_int_equal(d.phase, KT_KSMCTL_MERGING);
	}
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

/*
 * Guests that fill their memory after the controller settled, waves of guests, guests that
 * hold still: one row per sample, every value absolute, judged at every row. A 24 GiB host
 * with thres_coef=100 (KSM always needed), samples 5 s apart.
 */
struct fill_step {
	unsigned rss_mib;	  /* the qemu processes' resident memory */
	unsigned committed_mib; /* what libvirt says the guests were given */
	int64_t sharing;	  /* pages_sharing */
	int64_t scans;		  /* full_scans */
	enum kt_ksmctl_phase phase;
	const char *reason; /* a part of the decision's reason, or NULL */
	unsigned pages;	    /* pages_to_scan after the decision, or 0 */
};

struct fill_case {
	const char *name;
	/* Samples before each row: the steady ones repeat a row to show there is no flapping. */
	unsigned repeat_from, repeat_to, repeat_times;
	struct fill_step steps[24];
};

#define END { 0, 0, 0, 0, KT_KSMCTL_PHASE_INVALID, NULL, 0 }
/* Merging rss MiB of guests: checksums, two scans that merge, a quiet one starts the sweep. */
#define TO_SWEEP(rss, committed)                                                      \
	{ rss, committed, 0, 0, KT_KSMCTL_MERGING, NULL, 0 },                             \
	{ rss, committed, 100000, 1, KT_KSMCTL_MERGING, NULL, 0 },                        \
	{ rss, committed, 200000, 2, KT_KSMCTL_MERGING, NULL, 0 },                        \
	{ rss, committed, 200100, 3, KT_KSMCTL_MERGING, "sweeping", 0 }
/* The rest of a sweep: its quiet scan settles. */
#define SWEEP(rss, committed, sharing, scan)                                              \
	{ rss, committed, sharing, scan, KT_KSMCTL_SETTLED, "settled: 2 full scans in a row", 100 }

static const struct fill_case fill_cases[] = {
	{
		/* The reported run: settled 20 s in, then the guests filled 256 MiB alike each. */
		"guests fill after the controller settled",
		0, 0, 0,
		{
			{ 0, 3072, 0, 0, KT_KSMCTL_MERGING, "merging: guests 3072 MiB", 0 },
			{ 40, 3072, 0, 1, KT_KSMCTL_MERGING, NULL, 0 },
			/* 40 MiB of guests so far: too little to keep merging for. */
			{ 40, 3072, 20, 2, KT_KSMCTL_MERGING,
			  "sweeping: the last full scan added 20 pages (< 64)", 0 },
			SWEEP(40, 3072, 20, 3),
			{ 70, 3072, 20, 6, KT_KSMCTL_SETTLED, "settled: 0 MiB saved", 0 },
			{ 100, 3072, 20, 6, KT_KSMCTL_SETTLED, NULL, 0 },
			/* 64 MiB more than at settling: merging at this very sample. */
			{ 104, 3072, 20, 6, KT_KSMCTL_MERGING,
			  "resident memory grew 64 MiB since merging settled (104 MiB now)", 0 },
			END,
		},
	},
	{
		/* Scans find little while the guests are still filling: merge on until they stop. */
		"no settling while the guests fill",
		0, 0, 0,
		{
			{ 300, 3072, 0, 0, KT_KSMCTL_MERGING, NULL, 0 },
			{ 600, 3072, 10, 1, KT_KSMCTL_MERGING, NULL, 0 },
			{ 900, 3072, 20, 2, KT_KSMCTL_MERGING, "merging on: the last full scan added 10 "
							       "pages, but the guests' resident memory "
							       "grew 600 MiB", 0 },
			{ 1200, 3072, 30, 3, KT_KSMCTL_MERGING, "grew 600 MiB over the last two", 0 },
			{ 1300, 3072, 100000, 4, KT_KSMCTL_MERGING, "full scan added 99970 pages", 0 },
			{ 1300, 3072, 100010, 5, KT_KSMCTL_MERGING, "merging on", 0 },
			/* Two scans without growth: every page was looked at twice. */
			{ 1300, 3072, 100020, 6, KT_KSMCTL_MERGING,
			  "sweeping: the last full scan added 10", 0 },
			SWEEP(1300, 3072, 100020, 7),
			END,
		},
	},
	{
		/* A second wave: libvirt's count jumps as the domains start. */
		"a second wave of guests",
		0, 0, 0,
		{
			TO_SWEEP(1700, 1536),
			SWEEP(1700, 1536, 200100, 4),
			{ 1700, 1536, 200100, 7, KT_KSMCTL_SETTLED, NULL, 0 },
			{ 1750, 3072, 200100, 7, KT_KSMCTL_MERGING, "guests grew since merging settled",
			  0 },
			END,
		},
	},
	{
		/* The same without libvirt: only the resident memory shows the new guests. */
		"a second wave of guests, no libvirt",
		0, 0, 0,
		{
			TO_SWEEP(1700, 1700),
			SWEEP(1700, 1700, 200100, 4),
			{ 1860, 1860, 200100, 7, KT_KSMCTL_MERGING, "resident memory grew 160 MiB", 0 },
			END,
		},
	},
	{
		/* One guest stopped and another took its place: the total came back, not more. */
		"a guest replaced by another",
		0, 0, 0,
		{
			TO_SWEEP(2000, 2000),
			SWEEP(2000, 2000, 200100, 4),
			{ 1400, 1400, 150000, 7, KT_KSMCTL_SETTLED, NULL, 0 },
			{ 1450, 1450, 150000, 7, KT_KSMCTL_SETTLED, NULL, 0 },
			{ 1500, 1500, 150000, 7, KT_KSMCTL_MERGING, "grew 100 MiB since merging settled",
			  0 },
			END,
		},
	},
	{
		/* Guests that hold still, give or take 60 MiB: settled, and it stays so. */
		"steady guests",
		5, 6, 200,
		{
			{ 3000, 3072, 0, 0, KT_KSMCTL_MERGING, NULL, 0 },
			{ 3000, 3072, 300000, 1, KT_KSMCTL_MERGING, NULL, 0 },
			{ 3000, 3072, 390000, 2, KT_KSMCTL_MERGING, NULL, 0 },
			{ 3000, 3072, 391000, 3, KT_KSMCTL_MERGING, "sweeping", 0 },
			SWEEP(3000, 3072, 391000, 4),
			{ 3060, 3072, 391000, 7, KT_KSMCTL_SETTLED, "settled", 0 },
			{ 3000, 3072, 391000, 7, KT_KSMCTL_SETTLED, "settled", 0 },
			/* A slow scan that finds nothing new changes nothing either. */
			{ 3000, 3072, 391010, 8, KT_KSMCTL_SETTLED, "settled", 0 },
			END,
		},
	},
	{
		/*
		 * bench/ksm waves-kvmtune as the controller saw it: two guests, then two more.
		 * Scanning the second wave at the full rate while it booted cost ksmd a full
		 * scan of 2 GiB every 2 s for pages still being written, and aged them for
		 * smart_scan: the new guests are scanned at the slow pace until their resident
		 * memory holds still, then at the full rate.
		 */
		"the bench's second wave",
		0, 0, 0,
		{
			/* 1012 MiB of guests: a full scan per 2 s is 1295 pages every 10 ms. */
			{ 1012, 1024, 0, 30, KT_KSMCTL_MERGING, "merging: guests 1024 MiB", 1295 },
			{ 1012, 1024, 40000, 31, KT_KSMCTL_MERGING, NULL, 1295 },
			{ 1012, 1024, 82000, 32, KT_KSMCTL_MERGING, NULL, 1295 },
			/* A full scan per 5 s: 518 pages. */
			{ 1012, 1024, 82074, 33, KT_KSMCTL_MERGING,
			  "sweeping: the last full scan added 74 pages (< 820)", 518 },
			SWEEP(1012, 1024, 82074, 34),
			/* New guests: the trickle while they write. */
			{ 1803, 2048, 82074, 37, KT_KSMCTL_MERGING, "guests grew since merging settled",
			  100 },
			{ 2051, 2048, 152078, 39, KT_KSMCTL_MERGING,
			  "waiting: the guests' resident memory grew 248 MiB in 5.0 s", 100 },
			/* Holding still: 2019 MiB per 2 s, 2500 pages at most. */
			{ 2019, 2048, 235902, 41, KT_KSMCTL_MERGING,
			  "merging at the full rate: the guests' resident memory holds still (2019 MiB)",
			  2500 },
			{ 2019, 2048, 235912, 42, KT_KSMCTL_MERGING,
			  "sweeping: the last full scan added 10 pages (< 2359)", 1033 },
			{ 2019, 2048, 235930, 43, KT_KSMCTL_SETTLED,
			  "settled: 2 full scans in a row added under 2359 pages each, the last 18; "
			  "921 MiB saved",
			  100 },
			END,
		},
	},
	{
		/* Guests writing their memory: the slow pace while it grows, then the full rate. */
		"guests writing their memory",
		0, 0, 0,
		{
			/* No guest memory yet: nothing to pace by. */
			{ 0, 2048, 0, 0, KT_KSMCTL_MERGING, "merging: guests 2048 MiB", 2500 },
			/* 400 MiB in 5 s: the trickle. */
			{ 400, 2048, 0, 1, KT_KSMCTL_MERGING,
			  "waiting: the guests' resident memory grew 400 MiB in 5.0 s", 100 },
			{ 800, 2048, 1000, 2, KT_KSMCTL_MERGING, "waiting", 100 },
			/* 50 MiB in 5 s is under 16 MiB a second: a full scan per 2 s, 1088 pages. */
			{ 850, 2048, 60000, 3, KT_KSMCTL_MERGING, "merging at the full rate", 1088 },
			END,
		},
	},
	{
		/* A sweep's scan that finds 1% more: back to the full rate, then a new sweep. */
		"a sweep that finds more",
		0, 0, 0,
		{
			TO_SWEEP(2000, 2000),
			{ 2000, 2000, 203000, 4, KT_KSMCTL_MERGING,
			  "back to the full rate: full scan added 2900 pages", 2500 },
			{ 2000, 2000, 203010, 5, KT_KSMCTL_MERGING,
			  "sweeping: the last full scan added 10", 1024 },
			SWEEP(2000, 2000, 203010, 6),
			END,
		},
	},
	{
		/* The same while the guests write memory: the trickle, not the full rate. */
		"a sweep that finds more while the guests write",
		0, 0, 0,
		{
			TO_SWEEP(2000, 2000),
			{ 2200, 2200, 203000, 4, KT_KSMCTL_MERGING,
			  "sweep ended, the guests are writing memory: full scan added 2900 pages", 100 },
			END,
		},
	},
	{
		/* Guests that fill more memory during a sweep end it: merging on. */
		"new memory during a sweep",
		0, 0, 0,
		{
			TO_SWEEP(2000, 2000),
			/* 200 MiB in 5 s: written now, the trickle. */
			{ 2200, 2200, 200110, 4, KT_KSMCTL_MERGING,
			  "merging on: the last full scan added 10 pages, but the guests' resident "
			  "memory grew 200 MiB",
			  100 },
			{ 2200, 2200, 200120, 5, KT_KSMCTL_MERGING, "merging on", 0 },
			{ 2200, 2200, 200130, 6, KT_KSMCTL_MERGING, "sweeping", 0 },
			END,
		},
	},
	{
		/* A small guest is scanned no faster than once per 2 s. */
		"a small guest",
		0, 0, 0,
		{
			{ 200, 2048, 0, 0, KT_KSMCTL_MERGING, "merging", 256 },
			{ 200, 2048, 0, 1, KT_KSMCTL_MERGING, NULL, 256 },
			END,
		},
	},
};

static void test_new_memory(void **state)
{
	(void)state;
	for (size_t c = 0; c < KT_ELEMENTSOF(fill_cases); c++) {
		const struct fill_case *fc = &fill_cases[c];
		struct kt_ksmctl_config cfg = dynamic();
		struct kt_ksmctl_state st;
		struct kt_ksmctl_sample s = roomy(0);
		int writes = 0;

		cfg.thres_coef = 100;
		kt_ksmctl_state_init(&st);
		for (size_t i = 0; fc->steps[i].phase != KT_KSMCTL_PHASE_INVALID; i++) {
			const struct fill_step *step = &fc->steps[i];
			unsigned times = i >= fc->repeat_from && i <= fc->repeat_to && fc->repeat_times
						 ? fc->repeat_times
						 : 1;

			for (unsigned k = 0; k < times; k++) {
				struct kt_ksmctl_decision d;

				s.guests_rss = step->rss_mib * MIB;
				s.committed = step->committed_mib * MIB;
				s.pages_sharing = step->sharing;
				s.full_scans = step->scans;
				s.ksmd_cpu += 2.5;
				d = feed(&cfg, &st, &s);
				if (d.phase != step->phase ||
				    (step->reason && !strstr(d.reason, step->reason)) ||
				    (step->pages && s.pages_to_scan != step->pages))
					fail_msg("%s, row %zu: phase %s, reason '%s', %u pages; "
						 "expected %s, '%s', %u pages",
						 fc->name, i, kt_ksmctl_phase_name(d.phase), d.reason,
						 s.pages_to_scan, kt_ksmctl_phase_name(step->phase),
						 step->reason ? step->reason : "", step->pages);
				/* Repeated rows are a steady host: no writes, no flapping. */
				if (times > 1 && d.write)
					writes++;
				s.t += 5;
			}
		}
		assert_int_equal(writes, 0);
	}
}

/* The resume limit is a share of the guests' memory, never under 64 MiB. */
static void test_new_memory_limit(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();

	(void)state;
	assert_true(kt_ksmctl_new_memory_limit(&cfg, 0) == 64 * MIB);
	assert_true(kt_ksmctl_new_memory_limit(&cfg, 3 * GIB) == 64 * MIB);
	/* 512 GiB of guests: 1%, 5.12 GiB. */
	assert_true(kt_ksmctl_new_memory_limit(&cfg, 512 * GIB) == 512 * GIB / 1000 * 10);
}

/* Growth that counts as guests writing their memory: 1% of it a second, never under 16 MiB. */
static void test_filling_rate(void **state)
{
	struct kt_ksmctl_config cfg = dynamic();

	(void)state;
	assert_true(kt_ksmctl_filling_rate(&cfg, 0) == 16 * MIB);
	assert_true(kt_ksmctl_filling_rate(&cfg, 1 * GIB) == 16 * MIB);
	/* 512 GiB of guests: 5.12 GiB a second, the README's figure. */
	assert_true(kt_ksmctl_filling_rate(&cfg, 512 * GIB) == 512 * GIB / 1000 * 10);
}

static void record_sample(void *data, const struct kt_ksmctl_sample *s,
			  const struct kt_ksmctl_decision *d, double cycle_cpu)
{
	struct kt_ksmctl_sample *last = data;

	(void)d;
	(void)cycle_cpu;
	*last = *s;
}

/*
 * The runner on a fixture host: ksmd's CPU time is read whatever the phase (it was read
 * only while merging), the qemu processes' resident memory every cycle, and the state
 * file says who runs the controller, in which phase and why.
 */
static void test_runner_settled_reports(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksmctl_runner *r = NULL;
	struct kt_ksmctl_config cfg = dynamic();
	struct kt_ksmctl_sample last;
	struct kt_ksmctl_decision d;
	struct kt_ksmctl_statefile sf;
	char num[32];

	(void)state;
	fake_kernel_reset(true);
	cfg.thres_coef = 100;
	snprintf(cfg.uri, sizeof(cfg.uri), "none");
	assert_int_equal(kt_ksmctl_runner_new(f->ctx, &cfg, &r), 0);
	kt_ksmctl_runner_set_report(r, record_sample, &last);
	kt_ksmctl_runner_set_owner(r, "tuned instance kvm_ksm");
	fixture_write(f, "sys/kernel/mm/ksm/full_scans", "10");
	assert_int_equal(kt_ksmctl_runner_step(r, &d), 0);
	assert_int_equal(d.phase, KT_KSMCTL_MERGING);
	/* qemu-system-x86 (131072 pages) and qemu-kvm (65536), not bash. */
	assert_true(last.guests_rss == (131072 + 65536) * (uint64_t)sysconf(_SC_PAGESIZE));
	/* Checksums, a quiet scan, the sweep's: settled. */
	for (int scan = 11; scan <= 12 + (int)cfg.sweep_scans; scan++) {
		snprintf(num, sizeof(num), "%d", scan);
		fixture_write(f, "sys/kernel/mm/ksm/full_scans", num);
		assert_int_equal(kt_ksmctl_runner_step(r, &d), 0);
	}
	assert_int_equal(d.phase, KT_KSMCTL_SETTLED);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(kt_ksmctl_runner_step(r, &d), 0);
		assert_int_equal(d.phase, KT_KSMCTL_SETTLED);
		/* utime 150 + stime 250 ticks in the fixture's proc/37/stat. */
		assert_true(last.ksmd_cpu * (double)sysconf(_SC_CLK_TCK) > 399.0 &&
			    last.ksmd_cpu * (double)sysconf(_SC_CLK_TCK) < 401.0);
	}
	assert_int_equal(kt_ksmctl_statefile_read(f->ctx, &sf), 0);
	assert_string_equal(sf.owner, "tuned instance kvm_ksm");
	assert_string_equal(sf.mode, "dynamic");
	assert_string_equal(sf.phase, "settled");
	assert_non_null(strstr(sf.reason, "settled: 2 full scans in a row added"));
	assert_true(sf.ksmd_cpu_seconds > 0);
	assert_int_equal(sf.guests_rss_mib, (int)(last.guests_rss >> 20));
	assert_int_equal(sf.pid, (int)getpid());
	assert_true(sf.since > 0 && sf.decided >= sf.since);
	/* A runner that stops cleanly leaves no state behind. */
	kt_ksmctl_runner_free(r);
	assert_false(fixture_exists(f, KT_KSMCTL_STATE_PATH));
	fixture_close(f);
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
		cmocka_unit_test(test_filling_rate),
		cmocka_unit_test(test_cpu_budget_scales_rate),
		cmocka_unit_test(test_unmerge_guard),
		cmocka_unit_test(test_ksmtuned_conflict_no_flapping),
		cmocka_unit_test(test_other_writer_yields_once),
		cmocka_unit_test(test_advisor_mode),
		cmocka_unit_test(test_new_memory),
		cmocka_unit_test(test_new_memory_limit),
		cmocka_unit_test(test_runner_settled_reports),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_ksmtuned_conf),
		cmocka_unit_test(test_ksmtuned_parse),
	};

	return cmocka_run_group_tests_name("ksmctl", tests, host_guard_setup, host_guard_teardown);
}
