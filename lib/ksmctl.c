// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Decisions of the dynamic KSM controller.
 *
 * When: the condition ksmtuned has used since 2009, so an operator's expectations carry
 * over: KSM is needed when the memory given to guests plus a threshold (thres_coef% of RAM)
 * exceeds RAM, or when less than the threshold is available; memory pressure (PSI) counts
 * too. It stops only after the condition has been false for calm_cycles samples.
 *
 * How fast: payoff-driven instead of ksmtuned's slow +300 pages/minute ramp. Engaging starts
 * at the full merge rate, held under a ksmd CPU budget, and no faster than a full scan of
 * the guests' memory per merge_pass_ms. While the guests are still writing their memory
 * (their resident memory grows fast), a scan would only look at pages about to change
 * again, and age them for smart_scan: ksmd trickles then, and goes at the full rate
 * within a sample (busy_interval_ms) of the guests holding still. Once a full scan of
 * memory adds almost nothing (settle_permille), a sweep of sweep_scans more full scans at
 * a slower pace picks up what the kernel's smart_scan skipped; when none of them adds as
 * much, merging is done: the rate drops to a trickle that keeps merged memory merged at
 * next to no CPU. New guests, memory pressure or a scan that finds new sharable pages
 * start merging again.
 *
 * New memory: guests boot and fill their RAM over minutes, after the profile was applied.
 * A full scan at the trickle rate takes 43 minutes per GiB of guests, so waiting for one to
 * find what they filled in takes days on a big host. The qemu processes' resident memory
 * shows it at the next sample instead: merging does not settle while it grows, and resumes
 * when it has grown by kt_ksmctl_new_memory_limit() since merging settled.
 */
#include <stdio.h>
#include <string.h>

#include "ksm.h"
#include "ksmctl.h"
#include "virt.h"

#define MIB (UINT64_C(1) << 20)

void kt_ksmctl_config_default(struct kt_ksmctl_config *cfg)
{
	*cfg = (struct kt_ksmctl_config){
		.mode = KT_KSMCTL_STATIC,
		/* Reading a few sysfs files costs microseconds; 5 s reacts to a new guest quickly. */
		.interval_ms = 5000,
		/*
		 * While merging, a sample a second: the rate follows the guests' writing
		 * within a second, not five, for 0.1-0.5 ms of CPU a sample.
		 */
		.busy_interval_ms = 1000,
		/* ksmtuned's defaults (KSM_THRES_COEF=20; KSM_THRES_CONST is 2048 KiB). */
		.thres_coef = 20,
		.thres_const = 2 * MIB,
		/* Half a CPU while there is work; merging a few GiB then takes seconds, not minutes. */
		.cpu_budget = 50,
		/* 2500 pages per 10 ms is the ceiling; the CPU budget usually binds first. */
		.merge_pages = 2500,
		.merge_sleep_ms = 10,
		/* 100 pages a second: a full pass over 64 GiB in under two days, ksmd all but idle. */
		.idle_pages = 100,
		.idle_sleep_ms = 1000,
		/* A full scan adding under 1% of what is already shared has little left to find. */
		.settle_permille = 10,
		/*
		 * smart_scan (Linux 6.7+, on by default) skips a page that has not merged
		 * after three looks on every other scan, later on more (mm/ksm.c,
		 * skip_age()): a quiet scan may have left some pages alone. Pages are not
		 * scanned while the guests write them, so few are that old when merging
		 * ends; one more full scan looks at those.
		 */
		.sweep_scans = 1,
		/*
		 * A guest fills its memory over seconds: scanning it more often than every
		 * 2 s looks again at pages still being written, costs CPU, and ages them for
		 * smart_scan. The sweep only looks again, at 2.5 times that.
		 */
		.merge_pass_ms = 2000,
		.sweep_pass_ms = 5000,
		/* 10% of the last 10 s stalled on memory is the kernel docs' "under pressure". */
		.psi_merge = 10,
		/* One minute at the default interval: a brief dip does not stop KSM. */
		.calm_cycles = 12,
		.stop = KT_KSMCTL_STOP_KEEP,
		.uri = KT_VIRT_DEFAULT_URI,
	};
}

void kt_ksmctl_state_init(struct kt_ksmctl_state *st)
{
	memset(st, 0, sizeof(*st));
	st->phase = KT_KSMCTL_OFF;
	st->run = -1;
}

static const char *const phase_names[KT_KSMCTL_PHASE_MAX] = {
	[KT_KSMCTL_OFF] = "off",
	[KT_KSMCTL_MERGING] = "merging",
	[KT_KSMCTL_SETTLED] = "settled",
	[KT_KSMCTL_YIELDED] = "yielded",
};

static const char *const mode_names[KT_KSMCTL_MODE_MAX] = {
	[KT_KSMCTL_STATIC] = "static",
	[KT_KSMCTL_DYNAMIC] = "dynamic",
	[KT_KSMCTL_ADVISOR] = "advisor",
};

const char *kt_ksmctl_phase_name(enum kt_ksmctl_phase p)
{
	return p >= 0 && p < KT_KSMCTL_PHASE_MAX ? phase_names[p] : NULL;
}

const char *kt_ksmctl_mode_name(enum kt_ksmctl_mode m)
{
	return m >= 0 && m < KT_KSMCTL_MODE_MAX ? mode_names[m] : NULL;
}

enum kt_ksmctl_mode kt_ksmctl_mode_from_name(const char *s)
{
	for (int m = 0; m < KT_KSMCTL_MODE_MAX; m++)
		if (s && strcmp(s, mode_names[m]) == 0)
			return (enum kt_ksmctl_mode)m;
	return KT_KSMCTL_MODE_INVALID;
}

static int64_t saved_pages(const struct kt_ksmctl_sample *s)
{
	return s->pages_sharing + s->zero_pages;
}

static int64_t settle_limit(const struct kt_ksmctl_config *cfg, const struct kt_ksmctl_sample *s)
{
	int64_t limit = saved_pages(s) * (int64_t)cfg->settle_permille / 1000;

	/* Below 64 pages (256 KiB) a scan's gain is noise. */
	return limit < 64 ? 64 : limit;
}

/* The settle rule's share (settle_permille) of the guests' resident memory, at least floor. */
static uint64_t settle_share(const struct kt_ksmctl_config *cfg, uint64_t guests_rss,
			     uint64_t floor)
{
	uint64_t share = guests_rss / 1000 * cfg->settle_permille;

	return share < floor ? floor : share;
}

uint64_t kt_ksmctl_new_memory_limit(const struct kt_ksmctl_config *cfg, uint64_t guests_rss)
{
	/*
	 * Resuming costs two full scans of the guests' memory: the same share as the settle
	 * rule keeps that cost in proportion to what it can find. 64 MiB is a quarter of the
	 * smallest guest worth merging; qemu's own heap moves by less.
	 */
	return settle_share(cfg, guests_rss, KT_KSMCTL_NEW_MEMORY_MIN);
}

uint64_t kt_ksmctl_filling_rate(const struct kt_ksmctl_config *cfg, uint64_t guests_rss)
{
	/*
	 * A booting guest writes tens to hundreds of MiB a second, an idle one next to
	 * nothing; on a big host, one guest booting among hundreds is scanned at the
	 * merge_pages ceiling whatever the pace.
	 */
	return settle_share(cfg, guests_rss, KT_KSMCTL_FILLING_MIN);
}

/* How much the guests' resident memory grew from base (0 when it shrank). */
static uint64_t grown(const struct kt_ksmctl_sample *s, uint64_t base)
{
	return s->guests_rss > base ? s->guests_rss - base : 0;
}

/* Pages per merge_sleep_ms batch for a full scan of the guests' memory to take pass_ms. */
static unsigned paced(const struct kt_ksmctl_config *cfg, const struct kt_ksmctl_sample *s,
		      unsigned pass_ms)
{
	uint64_t pages;

	/* The guests' memory unknown: nothing to pace by. */
	if (!s->guests_rss || !s->page_size || !pass_ms)
		return cfg->merge_pages;
	pages = s->guests_rss / s->page_size * cfg->merge_sleep_ms / pass_ms;
	if (pages < cfg->idle_pages)
		pages = cfg->idle_pages;
	return pages < cfg->merge_pages ? (unsigned)pages : cfg->merge_pages;
}

/* The guests' resident memory grew fast since the last sample: they are writing it. */
static bool filling(const struct kt_ksmctl_config *cfg, const struct kt_ksmctl_state *st,
		    const struct kt_ksmctl_sample *s, double dt)
{
	if (!st->have_prev || dt <= 0)
		return false;
	return (double)grown(s, st->prev.guests_rss) >=
	       (double)kt_ksmctl_filling_rate(cfg, s->guests_rss) * dt;
}

static void set_rate(struct kt_ksmctl_decision *d, int run, unsigned pages, unsigned sleep_ms)
{
	d->write = true;
	d->run = run;
	d->pages_to_scan = pages;
	d->sleep_ms = sleep_ms;
}

static void mark_scan(struct kt_ksmctl_state *st, const struct kt_ksmctl_sample *s)
{
	st->scan_mark_full_scans = s->full_scans;
	st->scan_mark_saved = saved_pages(s);
	st->scan_mark_rss_prev = st->scan_mark_rss;
	st->scan_mark_rss = s->guests_rss;
}

/* Merging (re)starts: growth is counted from here, not from scans of an earlier phase. */
static void mark_start(struct kt_ksmctl_state *st, const struct kt_ksmctl_sample *s)
{
	mark_scan(st, s);
	st->scan_mark_rss_prev = s->guests_rss;
}

/*
 * The merging rate: a full scan of the guests' memory per merge_pass_ms, or the idle
 * trickle while they are writing it.
 */
static void merge_rate(const struct kt_ksmctl_config *cfg, const struct kt_ksmctl_sample *s,
		       bool writing, struct kt_ksmctl_decision *d)
{
	if (writing)
		set_rate(d, 1, cfg->idle_pages, cfg->idle_sleep_ms);
	else
		set_rate(d, 1, paced(cfg, s, cfg->merge_pass_ms), cfg->merge_sleep_ms);
}

static void start_merging(const struct kt_ksmctl_config *cfg, struct kt_ksmctl_state *st,
			  const struct kt_ksmctl_sample *s, bool writing,
			  struct kt_ksmctl_decision *d)
{
	st->phase = KT_KSMCTL_MERGING;
	st->scans_merging = 0;
	st->quiet_scans = 0;
	mark_start(st, s);
	merge_rate(cfg, s, writing, d);
	d->advisor = cfg->mode == KT_KSMCTL_ADVISOR;
	d->notable = true;
}

static void settle(const struct kt_ksmctl_config *cfg, struct kt_ksmctl_state *st,
		   const struct kt_ksmctl_sample *s, struct kt_ksmctl_decision *d)
{
	st->phase = KT_KSMCTL_SETTLED;
	st->committed_at_settle = s->committed;
	st->rss_at_settle = s->guests_rss;
	set_rate(d, 1, cfg->idle_pages, cfg->idle_sleep_ms);
	d->notable = true;
}

static bool other_writer(const struct kt_ksmctl_config *cfg, const struct kt_ksmctl_state *st,
			 const struct kt_ksmctl_sample *s)
{
	if (!st->wrote)
		return false;
	if (s->run != st->run)
		return true;
	return cfg->mode == KT_KSMCTL_DYNAMIC && st->run == 1 &&
	       (s->pages_to_scan != st->pages || s->sleep_ms != st->sleep_ms);
}

static void stop(const struct kt_ksmctl_config *cfg, struct kt_ksmctl_state *st,
		 const struct kt_ksmctl_sample *s, struct kt_ksmctl_decision *d, size_t *len)
{
	int run = 0;

	if (cfg->stop == KT_KSMCTL_STOP_UNMERGE) {
		uint64_t need = (uint64_t)s->pages_sharing * s->page_size +
				kt_ksm_unmerge_margin(s->mem_total);
		uint64_t avail = s->mem_available + s->swap_free;

		if (avail >= need)
			run = 2;
		else
			*len += (size_t)snprintf(d->reason + *len, sizeof(d->reason) - *len,
						 "; not unmerging: it needs %llu MiB, %llu MiB are "
						 "available with swap, so stopping with pages kept merged",
						 (unsigned long long)(need / MIB),
						 (unsigned long long)(avail / MIB));
	}
	st->phase = KT_KSMCTL_OFF;
	set_rate(d, run, st->pages, st->sleep_ms);
	d->notable = true;
}

void kt_ksmctl_decide(const struct kt_ksmctl_config *cfg, struct kt_ksmctl_state *st,
		      const struct kt_ksmctl_sample *s, struct kt_ksmctl_decision *ret)
{
	struct kt_ksmctl_decision d;
	uint64_t thres, committed_mib = s->committed / MIB, total_mib = s->mem_total / MIB;
	double dt = st->have_prev ? s->t - st->prev.t : 0;
	bool pressure = s->have_psi && s->psi_some_avg10 >= cfg->psi_merge;
	bool fill = filling(cfg, st, s, dt);
	bool need, trickling;
	size_t len = 0;

	memset(&d, 0, sizeof(d));
#define REASON(...) (len += (size_t)snprintf(d.reason + len, sizeof(d.reason) - len, __VA_ARGS__))

	if (!st->have_prev && s->run == 1 && st->phase == KT_KSMCTL_OFF) {
		/* KSM already runs: take it over, so that it stops when it is not needed. */
		st->phase = KT_KSMCTL_MERGING;
		st->pages = s->pages_to_scan;
		st->sleep_ms = s->sleep_ms;
		mark_start(st, s);
	}
	if (s->foreign_pid > 0) {
		if (st->phase != KT_KSMCTL_YIELDED)
			d.notable = true;
		st->phase = KT_KSMCTL_YIELDED;
		st->wrote = false;
		REASON("%s (pid %d) controls KSM: leaving KSM to it while it runs", s->foreign_comm,
		       (int)s->foreign_pid);
		goto out;
	}
	if (st->phase == KT_KSMCTL_YIELDED) {
		if (st->wrote) {
			REASON("another process changed KSM: leaving KSM to it");
			goto out;
		}
		/* The other controller exited: start over from what the kernel has now. */
		st->phase = s->run == 1 ? KT_KSMCTL_MERGING : KT_KSMCTL_OFF;
		st->pages = s->pages_to_scan;
		st->sleep_ms = s->sleep_ms;
		mark_start(st, s);
		d.notable = true;
		REASON("no other KSM controller runs any more; ");
	}
	if (other_writer(cfg, st, s)) {
		REASON("another process changed KSM (run %d->%d, pages_to_scan %u->%u, "
		       "sleep_millisecs %u->%u): leaving KSM to it",
		       st->run, s->run, st->pages, s->pages_to_scan, st->sleep_ms, s->sleep_ms);
		st->phase = KT_KSMCTL_YIELDED;
		d.notable = true;
		goto out;
	}

	thres = s->mem_total * cfg->thres_coef / 100;
	if (thres < cfg->thres_const)
		thres = cfg->thres_const;
	need = s->committed + thres >= s->mem_total || s->mem_available < thres || pressure;
	d.threshold = thres;

	if (!need) {
		st->calm++;
		if (st->phase == KT_KSMCTL_OFF) {
			REASON("not needed: guests %llu MiB + threshold %llu MiB < RAM %llu MiB, "
			       "%llu MiB available",
			       (unsigned long long)committed_mib, (unsigned long long)(thres / MIB),
			       (unsigned long long)total_mib,
			       (unsigned long long)(s->mem_available / MIB));
			goto out;
		}
		if (st->calm >= cfg->calm_cycles) {
			REASON("stopping: not needed for %u samples (guests %llu MiB, %llu MiB "
			       "available)",
			       st->calm, (unsigned long long)committed_mib,
			       (unsigned long long)(s->mem_available / MIB));
			stop(cfg, st, s, &d, &len);
			goto out;
		}
		REASON("not needed for %u of %u samples before stopping", st->calm, cfg->calm_cycles);
		goto out;
	} else {
		st->calm = 0;
	}

	if (st->phase == KT_KSMCTL_OFF) {
		start_merging(cfg, st, s, fill, &d);
		REASON("merging: guests %llu MiB + threshold %llu MiB vs RAM %llu MiB, %llu MiB "
		       "available%s",
		       (unsigned long long)committed_mib, (unsigned long long)(thres / MIB),
		       (unsigned long long)total_mib, (unsigned long long)(s->mem_available / MIB),
		       pressure ? ", memory pressure" : "");
		goto out;
	}
	if (cfg->mode == KT_KSMCTL_ADVISOR) {
		REASON("running; the kernel advisor sets the scan rate");
		goto out;
	}

	if (s->full_scans > st->scan_mark_full_scans) {
		int64_t gain = saved_pages(s) - st->scan_mark_saved, limit = settle_limit(cfg, s);
		unsigned scans = (unsigned)(s->full_scans - st->scan_mark_full_scans);
		/* Over the last two scans: a page needs two looks (checksum, then merge). */
		uint64_t filled = grown(s, st->scan_mark_rss_prev);

		mark_scan(st, s);
		if (st->phase == KT_KSMCTL_MERGING) {
			st->scans_merging += scans;
			/*
			 * Merged pages cost the kernel metadata: a net loss means stop trying
			 * so hard. Not while the guests write memory: ksmd holds metadata for
			 * pages it has looked at once, and merges them on the next look.
			 */
			if (st->scans_merging >= 2 && s->have_profit && s->general_profit < 0 &&
			    !fill && filled < kt_ksmctl_new_memory_limit(cfg, s->guests_rss)) {
				settle(cfg, st, s, &d);
				REASON("backing off: general_profit is %lld KiB, merging costs more than "
				       "it saves",
				       (long long)(s->general_profit / 1024));
				goto out;
			}
			/*
			 * The first pass only records checksums: merging shows from the
			 * second. And a scan that found nothing new says nothing about memory
			 * the guests filled in while it ran: it may have seen those pages once,
			 * or not at all, so merging goes on until the guests stop growing.
			 * Nor about pages smart_scan skipped: a sweep of sweep_scans more
			 * scans, none adding as much, looks at those before settling.
			 */
			if (st->scans_merging >= 2 && gain < limit &&
			    filled >= kt_ksmctl_new_memory_limit(cfg, s->guests_rss)) {
				if (st->quiet_scans)
					merge_rate(cfg, s, fill, &d);
				st->quiet_scans = 0;
				REASON("merging on: the last full scan added %lld pages, but the "
				       "guests' resident memory grew %llu MiB over the last two; ",
				       (long long)gain, (unsigned long long)(filled / MIB));
			} else if (st->scans_merging >= 2 && gain < limit) {
				st->quiet_scans += scans;
				if (st->quiet_scans > cfg->sweep_scans) {
					settle(cfg, st, s, &d);
					REASON("settled: %u full scans in a row added under %lld pages "
					       "each, the last %lld; %llu MiB saved",
					       st->quiet_scans, (long long)limit, (long long)gain,
					       (unsigned long long)((uint64_t)saved_pages(s) *
								    s->page_size / MIB));
					goto out;
				}
				REASON("sweeping: the last full scan added %lld pages (< %lld), %u "
				       "of %u more full scans at a slower rate before settling",
				       (long long)gain, (long long)limit, st->quiet_scans - 1,
				       cfg->sweep_scans);
			} else if (st->quiet_scans) {
				st->quiet_scans = 0;
				merge_rate(cfg, s, fill, &d);
				REASON(fill ? "sweep ended, the guests are writing memory: "
					    : "back to the full rate: ");
			}
			if (!st->quiet_scans)
				REASON("full scan added %lld pages; ", (long long)gain);
		} else if (gain >= limit) {
			start_merging(cfg, st, s, false, &d);
			REASON("merging: a slow scan found %lld new sharable pages", (long long)gain);
			goto out;
		}
	}

	if (st->phase == KT_KSMCTL_SETTLED) {
		uint64_t grow = st->committed_at_settle / 20, filled;

		if (grow < 256 * MIB)
			grow = 256 * MIB;
		if (s->committed > st->committed_at_settle + grow || pressure) {
			/* New guests have their memory still to write. */
			start_merging(cfg, st, s, !pressure, &d);
			REASON("merging: %s",
			       pressure ? "memory pressure" : "guests grew since merging settled");
			goto out;
		}
		/*
		 * From the lowest point since settling: a guest that stopped and one that
		 * started in its place bring new memory while the total stays where it was.
		 */
		if (s->guests_rss < st->rss_at_settle)
			st->rss_at_settle = s->guests_rss;
		filled = grown(s, st->rss_at_settle);
		if (filled >= kt_ksmctl_new_memory_limit(cfg, s->guests_rss)) {
			start_merging(cfg, st, s, fill, &d);
			REASON("merging: the guests' resident memory grew %llu MiB since merging "
			       "settled (%llu MiB now)",
			       (unsigned long long)(filled / MIB),
			       (unsigned long long)(s->guests_rss / MIB));
			goto out;
		}
		REASON("settled: %llu MiB saved",
		       (unsigned long long)((uint64_t)saved_pages(s) * s->page_size / MIB));
		goto out;
	}

	if (st->quiet_scans) {
		if (!len)
			REASON("sweeping: %u of %u more full scans at a slower rate before "
			       "settling",
			       st->quiet_scans - 1, cfg->sweep_scans);
		/* Never faster than merging was: the sweep only looks again. */
		if (paced(cfg, s, cfg->sweep_pass_ms) < st->pages)
			set_rate(&d, 1, paced(cfg, s, cfg->sweep_pass_ms), cfg->merge_sleep_ms);
		goto out;
	}

	trickling = st->pages == cfg->idle_pages && st->sleep_ms == cfg->idle_sleep_ms;
	if (fill) {
		/* The guests are writing their memory: ksmd trickles until they hold still. */
		if (!d.write && !trickling)
			merge_rate(cfg, s, true, &d);
		REASON("waiting: the guests' resident memory grew %llu MiB in %.1f s, they are still "
		       "writing it",
		       (unsigned long long)(grown(s, st->prev.guests_rss) / MIB), dt);
	} else if (!d.write && trickling) {
		/* The trickle of a fill, or of guests that started: they hold still now. */
		merge_rate(cfg, s, false, &d);
		REASON("merging at the full rate: the guests' resident memory holds still (%llu MiB)",
		       (unsigned long long)(s->guests_rss / MIB));
	} else if (!d.write && dt > 0 && s->ksmd_cpu >= 0 && st->prev.ksmd_cpu >= 0) {
		/* Merging: hold ksmd near the CPU budget by scaling the batch, at the merge pace. */
		unsigned pace = paced(cfg, s, cfg->merge_pass_ms);
		double cpu = (s->ksmd_cpu - st->prev.ksmd_cpu) / dt * 100.0;
		unsigned pages = st->pages;

		if (cpu > cfg->cpu_budget * 1.1 && cpu > 0)
			pages = (unsigned)(st->pages * (cfg->cpu_budget / cpu));
		else if (cpu < cfg->cpu_budget * 0.7 && st->pages < cfg->merge_pages)
			pages = cpu > 1.0 ? (unsigned)(st->pages * (cfg->cpu_budget / cpu))
					  : cfg->merge_pages;
		if (pages > pace)
			pages = pace;
		if (pages < cfg->idle_pages)
			pages = cfg->idle_pages;
		if (pages > cfg->merge_pages)
			pages = cfg->merge_pages;
		REASON("merging: ksmd at %.0f%% of a CPU (budget %u%%), %lld pages saved", cpu,
		       cfg->cpu_budget, (long long)saved_pages(s));
		if (pages != st->pages)
			set_rate(&d, 1, pages, cfg->merge_sleep_ms);
	} else {
		REASON("merging: %lld pages saved", (long long)saved_pages(s));
	}
#undef REASON
out:
	/* Merging with the rate its own: samples come faster, so the full rate follows a fill sooner. */
	d.next_ms = cfg->interval_ms;
	if (cfg->mode == KT_KSMCTL_DYNAMIC && st->phase == KT_KSMCTL_MERGING && st->calm == 0 &&
	    cfg->busy_interval_ms && cfg->busy_interval_ms < cfg->interval_ms)
		d.next_ms = cfg->busy_interval_ms;
	if (d.write) {
		st->wrote = true;
		st->run = d.run;
		st->pages = d.pages_to_scan;
		st->sleep_ms = d.sleep_ms;
	}
	d.phase = st->phase;
	st->prev = *s;
	st->have_prev = true;
	*ret = d;
}
