/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctx.h"

/*
 * The dynamic KSM controller. kt_ksmctl_decide() is a pure function of the configuration,
 * its own state and one sample of the host, so recorded sample sequences test it; the
 * runner (ksmctl-run.c) takes the samples, writes the decisions and owns the thread.
 */

enum kt_ksmctl_mode {
	KT_KSMCTL_STATIC,  /* knobs only: no controller */
	KT_KSMCTL_DYNAMIC, /* on/off and scan rate decided here */
	KT_KSMCTL_ADVISOR, /* on/off decided here, scan rate left to advisor_mode=scan-time */
	KT_KSMCTL_MODE_MAX,
	KT_KSMCTL_MODE_INVALID = -EINVAL,
};

enum kt_ksmctl_stop {
	KT_KSMCTL_STOP_KEEP,	/* run=0: merged pages stay merged */
	KT_KSMCTL_STOP_UNMERGE, /* run=2, only when the memory to unmerge into is there */
	KT_KSMCTL_STOP_MAX,
	KT_KSMCTL_STOP_INVALID = -EINVAL,
};

struct kt_ksmctl_config {
	enum kt_ksmctl_mode mode;
	unsigned interval_ms;
	/* The interval while merging: the end of a guest's fill shows within it. */
	unsigned busy_interval_ms;
	/* Engage when guests + this share of RAM exceed RAM, or less than it is available. */
	unsigned thres_coef;
	uint64_t thres_const;
	/* ksmd's CPU ceiling while merging, percent of one CPU. */
	unsigned cpu_budget;
	unsigned merge_pages, merge_sleep_ms;
	unsigned idle_pages, idle_sleep_ms;
	/* A full scan that adds fewer sharing pages than this share (per mille) of those shared settles. */
	unsigned settle_permille;
	/*
	 * Full scans, each adding less than that, before merging settles: the kernel's
	 * smart_scan looks at a page that did not merge only every few scans.
	 */
	unsigned sweep_scans;
	/* The shortest full scan of the guests' memory while merging, and while sweeping. */
	unsigned merge_pass_ms, sweep_pass_ms;
	/* Merge again when memory PSI some avg10 reaches this percentage. */
	unsigned psi_merge;
	/* Cycles the disengage condition must hold before KSM stops. */
	unsigned calm_cycles;
	enum kt_ksmctl_stop stop;
	/* libvirt connection for the guests' memory; "none" counts qemu processes instead. */
	char uri[256];
};

struct kt_ksmctl_sample {
	double t;
	uint64_t mem_total;
	uint64_t mem_available;
	uint64_t swap_free;
	bool have_psi;
	double psi_some_avg10;
	/* Memory given to running guests (libvirt) or resident in qemu processes (fallback). */
	uint64_t committed;
	/*
	 * Memory resident in the qemu processes, whatever libvirt says they were given: it
	 * grows while guests fill their RAM, and merging does not shrink it (a merged page
	 * stays mapped), so its growth is new memory for KSM to look at.
	 */
	uint64_t guests_rss;
	int64_t pages_shared;
	int64_t pages_sharing;
	/* Pages ksmd checked that merged with nothing yet, and those that change too often. */
	int64_t pages_unshared;
	int64_t pages_volatile;
	int64_t zero_pages;
	int64_t full_scans;
	/* The kernel's net saving in bytes after its own metadata (Linux 6.4+). */
	bool have_profit;
	int64_t general_profit;
	/* -1 when ksmd was not found. */
	double ksmd_cpu;
	int run;
	unsigned pages_to_scan;
	unsigned sleep_ms;
	uint64_t page_size;
	/* Another KSM controller found running (ksmtuned, momd), or 0. */
	pid_t foreign_pid;
	char foreign_comm[16];
};

enum kt_ksmctl_phase {
	KT_KSMCTL_OFF,
	KT_KSMCTL_MERGING,
	KT_KSMCTL_SETTLED,
	KT_KSMCTL_YIELDED,
	KT_KSMCTL_PHASE_MAX,
	KT_KSMCTL_PHASE_INVALID = -EINVAL,
};

struct kt_ksmctl_state {
	enum kt_ksmctl_phase phase;
	bool have_prev;
	struct kt_ksmctl_sample prev;
	/* Written by the controller: a different value in a sample means another writer. */
	bool wrote;
	int run;
	unsigned pages;
	unsigned sleep_ms;
	int64_t scan_mark_full_scans;
	int64_t scan_mark_saved;
	/* The guests' resident memory at the last full scan and at the one before it. */
	uint64_t scan_mark_rss;
	uint64_t scan_mark_rss_prev;
	unsigned scans_merging;
	/* Full scans in a row that added too little to go on merging at the full rate. */
	unsigned quiet_scans;
	unsigned calm;
	uint64_t committed_at_settle;
	/* The lowest resident memory of the guests since merging settled. */
	uint64_t rss_at_settle;
};

struct kt_ksmctl_decision {
	/* Whether to write run/pages_to_scan/sleep_millisecs (or advisor_mode) now. */
	bool write;
	int run;
	unsigned pages_to_scan;
	unsigned sleep_ms;
	bool advisor;
	enum kt_ksmctl_phase phase;
	/* The phase changed or an unusual event: worth a log line. */
	bool notable;
	/* The threshold of ksmtuned's rule this sample was judged against, in bytes. */
	uint64_t threshold;
	/* When to take the next sample. */
	unsigned next_ms;
	char reason[256];
};

void kt_ksmctl_config_default(struct kt_ksmctl_config *cfg);
void kt_ksmctl_state_init(struct kt_ksmctl_state *st);
const char *kt_ksmctl_phase_name(enum kt_ksmctl_phase p);
const char *kt_ksmctl_mode_name(enum kt_ksmctl_mode m);
enum kt_ksmctl_mode kt_ksmctl_mode_from_name(const char *s);
/*
 * How much the guests' resident memory must grow for the controller to treat it as new
 * memory to merge: settle_permille of it, at least KT_KSMCTL_NEW_MEMORY_MIN.
 */
#define KT_KSMCTL_NEW_MEMORY_MIN (UINT64_C(64) << 20)
uint64_t kt_ksmctl_new_memory_limit(const struct kt_ksmctl_config *cfg, uint64_t guests_rss);
/*
 * How fast the guests' resident memory must grow, in bytes a second, for the controller to
 * treat them as still writing it: settle_permille of it a second, at least
 * KT_KSMCTL_FILLING_MIN.
 */
#define KT_KSMCTL_FILLING_MIN (UINT64_C(16) << 20)
uint64_t kt_ksmctl_filling_rate(const struct kt_ksmctl_config *cfg, uint64_t guests_rss);

void kt_ksmctl_decide(const struct kt_ksmctl_config *cfg, struct kt_ksmctl_state *st,
		      const struct kt_ksmctl_sample *s, struct kt_ksmctl_decision *ret);

/*
 * Controller options as profiles and the command line give them (mode, interval,
 * thres_coef, thres_const, cpu_budget, merge_pages, merge_sleep, idle_pages, idle_sleep,
 * psi_merge, stop, libvirt_uri, ksmtuned_conf). Errors are logged with option, value and what is allowed.
 */
bool kt_ksmctl_option_known(const char *name);
int kt_ksmctl_config_set(const struct kt_ctx *ctx, struct kt_ksmctl_config *cfg, const char *name,
			 const char *value);
/* Takes KSM_THRES_COEF, KSM_THRES_CONST, KSM_NPAGES_MIN/MAX and KSM_SLEEP_MSEC from ksmtuned.conf. */
int kt_ksmctl_config_ksmtuned(const struct kt_ctx *ctx, struct kt_ksmctl_config *cfg,
			      const char *path);
/*
 * The same for text already read, without I/O: mem_total (bytes, 0 when unknown) scales
 * KSM_SLEEP_MSEC as ksmtuned does, path only names the file in messages. cfg is changed
 * only on success.
 */
int kt_ksmctl_config_ksmtuned_parse(const struct kt_ctx *ctx, const char *path, const char *text,
				    uint64_t mem_total, struct kt_ksmctl_config *cfg);
