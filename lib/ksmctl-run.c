// SPDX-License-Identifier: LGPL-2.1-or-later
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "io.h"
#include "ksm-status.h"
#include "ksm.h"
#include "ksmctl-run.h"
#include "meminfo.h"
#include "parse.h"
#include "procscan.h"
#include "psi.h"
#include "runner.h"
#include "virt.h"

/* Other programs that drive /sys/kernel/mm/ksm: two controllers would fight. */
static const char *const foreign_controllers[] = { "ksmtuned", "momd" };

/*
 * Looking for them walks /proc: every 5 minutes at the default interval. One that starts
 * in between shows itself sooner, by writing to the knobs, and is then looked for at once.
 */
#define FOREIGN_SCAN_EVERY 60
/* Asking libvirt again after it failed, and refreshing guest memory (ballooning) anyway. */
#define VIRT_RETRY_EVERY 12
#define COMMITTED_REFRESH_EVERY 12
/* libvirt's QEMU driver keeps a pid file per running domain here: its mtime changes when one starts or stops. */
#define LIBVIRT_QEMU_RUN_DIR "run/libvirt/qemu"

/* The files read every cycle, kept open and re-read with pread (a third of the syscalls). */
enum sample_file {
	F_MEMINFO,
	F_PSI,
	F_RUN,
	F_PAGES_TO_SCAN,
	F_SLEEP,
	F_PAGES_SHARED,
	F_PAGES_SHARING,
	F_ZERO_PAGES,
	F_FULL_SCANS,
	F_GENERAL_PROFIT,
	F_KSMD_STAT,
	F_MAX,
};

static const char *const sample_paths[F_MAX] = {
	[F_MEMINFO] = "proc/meminfo",
	[F_PSI] = "proc/pressure/memory",
	[F_RUN] = KT_KSM_DIR "/run",
	[F_PAGES_TO_SCAN] = KT_KSM_DIR "/pages_to_scan",
	[F_SLEEP] = KT_KSM_DIR "/sleep_millisecs",
	[F_PAGES_SHARED] = KT_KSM_DIR "/pages_shared",
	[F_PAGES_SHARING] = KT_KSM_DIR "/pages_sharing",
	[F_ZERO_PAGES] = KT_KSM_DIR "/ksm_zero_pages",
	[F_FULL_SCANS] = KT_KSM_DIR "/full_scans",
	[F_GENERAL_PROFIT] = KT_KSM_DIR "/general_profit",
	/* F_KSMD_STAT: proc/<ksmd pid>/stat, found at the first sample. */
};

struct kt_ksmctl_runner {
	struct kt_ctx *ctx;
	struct kt_ksmctl_config cfg;
	struct kt_ksmctl_state st;
	struct kt_virt *virt;
	unsigned virt_retry;
	bool virt_warned;
	unsigned foreign_countdown;
	pid_t foreign_pid;
	char foreign_comm[16];
	pid_t ksmd_pid;
	int fd[F_MAX];
	uint64_t committed;
	unsigned committed_age;
	pid_t qemu[256];
	int n_qemu;
	struct timespec run_dir_mtime;
	bool advisor_set;
	kt_ksmctl_report_fn report;
	void *report_data;
	double cpu_seconds;
	unsigned cycles;
	struct kt_runner *thread;
};

int kt_ksmctl_runner_new(struct kt_ctx *ctx, const struct kt_ksmctl_config *cfg,
			 struct kt_ksmctl_runner **ret)
{
	struct kt_ksmctl_runner *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->ctx = kt_ctx_ref(ctx);
	r->cfg = *cfg;
	for (int i = 0; i < F_MAX; i++)
		r->fd[i] = -1;
	r->n_qemu = -1;
	kt_ksmctl_state_init(&r->st);
	*ret = r;
	return 0;
}

struct kt_ksmctl_runner *kt_ksmctl_runner_free(struct kt_ksmctl_runner *r)
{
	if (!r)
		return NULL;
	r->thread = kt_runner_free(r->thread);
	kt_virt_close(r->virt);
	for (int i = 0; i < F_MAX; i++)
		if (r->fd[i] >= 0)
			close(r->fd[i]);
	kt_ctx_unref(r->ctx);
	free(r);
	return NULL;
}

void kt_ksmctl_runner_set_report(struct kt_ksmctl_runner *r, kt_ksmctl_report_fn fn, void *data)
{
	r->report = fn;
	r->report_data = data;
}

static double now(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Reads a sample file through its cached descriptor; reopens once if it went stale. */
static int sample_read(struct kt_ksmctl_runner *r, enum sample_file f, char *buf, size_t size)
{
	char path[64];
	const char *p = sample_paths[f];
	int n;

	if (f == F_KSMD_STAT) {
		if (r->ksmd_pid <= 0 && kt_proc_find(r->ctx, "ksmd", &r->ksmd_pid) < 0)
			return -ESRCH;
		snprintf(path, sizeof(path), "proc/%d/stat", (int)r->ksmd_pid);
		p = path;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		if (r->fd[f] < 0) {
			r->fd[f] = kt_open_attr(r->ctx, p);
			if (r->fd[f] < 0)
				return r->fd[f];
		}
		n = kt_pread_attr(r->fd[f], buf, size);
		if (n >= 0)
			return n;
		close(r->fd[f]);
		r->fd[f] = -1;
	}
	return n;
}

static int64_t sample_counter(struct kt_ksmctl_runner *r, enum sample_file f)
{
	char buf[64];
	long long v;

	if (sample_read(r, f, buf, sizeof(buf)) < 0 || kt_parse_int(buf, INT64_MIN, INT64_MAX, &v) < 0)
		return 0;
	return v;
}

static int find_foreign(void *data, pid_t pid, const char *comm)
{
	struct kt_ksmctl_runner *r = data;

	for (size_t i = 0; i < KT_ELEMENTSOF(foreign_controllers); i++)
		if (strcmp(comm, foreign_controllers[i]) == 0) {
			r->foreign_pid = pid;
			snprintf(r->foreign_comm, sizeof(r->foreign_comm), "%s", comm);
			return 1;
		}
	return 0;
}

static void sample_foreign(struct kt_ksmctl_runner *r, bool force)
{
	char path[64];

	/* A known one is checked every cycle, cheaply, so its exit is seen at once. */
	if (r->foreign_pid > 0) {
		snprintf(path, sizeof(path), "proc/%d/comm", (int)r->foreign_pid);
		if (kt_attr_exists(r->ctx, path))
			return;
		r->foreign_pid = 0;
	}
	if (!force && r->foreign_countdown > 0) {
		r->foreign_countdown--;
		return;
	}
	r->foreign_countdown = FOREIGN_SCAN_EVERY;
	kt_proc_walk(r->ctx, find_foreign, r);
}

/* Whether libvirt's run directory changed since the last look: a guest started or stopped. */
static bool guests_changed(struct kt_ksmctl_runner *r)
{
	struct stat st;

	/* Without the directory there is no signal: the periodic refresh has to do. */
	if (kt_stat(r->ctx, LIBVIRT_QEMU_RUN_DIR, &st) < 0)
		return false;
	if (st.st_mtim.tv_sec == r->run_dir_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == r->run_dir_mtime.tv_nsec)
		return false;
	r->run_dir_mtime = st.st_mtim;
	return true;
}

static void sample_committed(struct kt_ksmctl_runner *r, struct kt_ksmctl_sample *s)
{
	char *err = NULL;
	int e;

	/* Asking libvirt costs a round trip: only when guests came or went, or now and then. */
	if (r->virt && r->committed_age < COMMITTED_REFRESH_EVERY && !guests_changed(r)) {
		r->committed_age++;
		s->committed = r->committed;
		return;
	}
	if (!r->virt && strcmp(r->cfg.uri, "none") != 0 && r->virt_retry == 0) {
		e = kt_virt_open(r->cfg.uri, &r->virt, &err);
		if (e < 0 && !r->virt_warned) {
			kt_info(r->ctx, "libvirt at %s cannot be reached (%s): counting the memory of "
					"qemu processes instead",
				r->cfg.uri, err ? err : strerror(-e));
			r->virt_warned = true;
		}
		free(err);
		if (e < 0)
			r->virt_retry = VIRT_RETRY_EVERY;
	} else if (r->virt_retry > 0) {
		r->virt_retry--;
	}
	if (r->virt) {
		if (kt_virt_committed(r->virt, &r->committed, NULL) == 0) {
			r->committed_age = 0;
			guests_changed(r);
			s->committed = r->committed;
			return;
		}
		/* libvirtd restarted or went away: reconnect later. */
		r->virt = kt_virt_close(r->virt);
		r->virt_retry = VIRT_RETRY_EVERY;
	}
	/* Without libvirt: the qemu processes' resident memory, the /proc walk cached likewise. */
	if (r->committed_age >= COMMITTED_REFRESH_EVERY || guests_changed(r) || r->n_qemu < 0) {
		r->n_qemu = kt_proc_qemu_pids(r->ctx, r->qemu, KT_ELEMENTSOF(r->qemu));
		r->committed_age = 0;
	}
	r->committed_age++;
	s->committed = 0;
	for (int i = 0; i < r->n_qemu; i++) {
		uint64_t rss;

		if (kt_proc_rss(r->ctx, r->qemu[i], &rss) < 0) {
			r->n_qemu = -1;
			continue;
		}
		s->committed += rss;
	}
}

static double ksmd_cpu(struct kt_ksmctl_runner *r)
{
	char buf[512];
	uint64_t ticks;

	if (sample_read(r, F_KSMD_STAT, buf, sizeof(buf)) < 0 ||
	    kt_proc_stat_cpu_ticks(buf, &ticks) < 0) {
		/* ksmd is a kernel thread and does not exit; look it up again next time anyway. */
		r->ksmd_pid = 0;
		return -1;
	}
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

int kt_ksmctl_runner_sample(struct kt_ksmctl_runner *r, struct kt_ksmctl_sample *ret)
{
	struct kt_ksmctl_sample s;
	struct kt_meminfo mi;
	struct kt_psi psi;
	char buf[4096];
	int e;

	memset(&s, 0, sizeof(s));
	s.t = now(CLOCK_MONOTONIC);
	e = sample_read(r, F_MEMINFO, buf, sizeof(buf));
	if (e >= 0)
		e = kt_meminfo_parse(buf, &mi);
	if (e < 0)
		return e;
	s.mem_total = mi.mem_total;
	s.mem_available = mi.mem_available;
	s.swap_free = mi.swap_free;
	if (sample_read(r, F_PSI, buf, sizeof(buf)) >= 0 && kt_psi_parse(buf, &psi) == 0) {
		s.have_psi = true;
		s.psi_some_avg10 = psi.some_avg10;
	}
	sample_committed(r, &s);
	/*
	 * Cold, each file costs microseconds: while KSM is off its counters stand still, and
	 * ksmd's CPU time matters only while merging, where the budget is held.
	 */
	if (r->st.phase == KT_KSMCTL_OFF && r->st.have_prev) {
		s.pages_shared = r->st.prev.pages_shared;
		s.pages_sharing = r->st.prev.pages_sharing;
		s.zero_pages = r->st.prev.zero_pages;
		s.full_scans = r->st.prev.full_scans;
		s.have_profit = r->st.prev.have_profit;
		s.general_profit = r->st.prev.general_profit;
	} else {
		long long v;

		s.have_profit = sample_read(r, F_GENERAL_PROFIT, buf, sizeof(buf)) >= 0 &&
				kt_parse_int(buf, INT64_MIN, INT64_MAX, &v) == 0;
		s.general_profit = s.have_profit ? v : 0;
		s.pages_shared = sample_counter(r, F_PAGES_SHARED);
		s.pages_sharing = sample_counter(r, F_PAGES_SHARING);
		s.zero_pages = sample_counter(r, F_ZERO_PAGES);
		s.full_scans = sample_counter(r, F_FULL_SCANS);
	}
	e = sample_read(r, F_RUN, buf, sizeof(buf));
	if (e < 0)
		return e;
	s.run = buf[0] - '0';
	s.pages_to_scan = (unsigned)sample_counter(r, F_PAGES_TO_SCAN);
	s.sleep_ms = (unsigned)sample_counter(r, F_SLEEP);
	s.ksmd_cpu = r->st.phase == KT_KSMCTL_MERGING || !r->st.have_prev ? ksmd_cpu(r) : -1;
	s.page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	/* A value we did not write is the sign of another writer: look for it by name now. */
	sample_foreign(r, r->st.wrote && (s.run != r->st.run || s.pages_to_scan != r->st.pages));
	s.foreign_pid = r->foreign_pid;
	memcpy(s.foreign_comm, r->foreign_comm, sizeof(s.foreign_comm));
	*ret = s;
	return 0;
}

static int write_decision(struct kt_ksmctl_runner *r, const struct kt_ksmctl_decision *d)
{
	char num[16];
	int e;

	if (d->run == 1 && d->advisor && !r->advisor_set) {
		e = kt_ksm_write(r->ctx, KT_KSM_ADVISOR_MODE, "scan-time");
		if (e < 0)
			return e;
		r->advisor_set = true;
	}
	if (d->run == 1 && !d->advisor) {
		snprintf(num, sizeof(num), "%u", d->pages_to_scan);
		e = kt_ksm_write(r->ctx, KT_KSM_PAGES_TO_SCAN, num);
		if (e < 0)
			return e;
		snprintf(num, sizeof(num), "%u", d->sleep_ms);
		e = kt_ksm_write(r->ctx, KT_KSM_SLEEP_MILLISECS, num);
		if (e < 0)
			return e;
	}
	snprintf(num, sizeof(num), "%d", d->run);
	return kt_ksm_write(r->ctx, KT_KSM_RUN, num);
}

int kt_ksmctl_runner_step(struct kt_ksmctl_runner *r, struct kt_ksmctl_decision *ret)
{
	double cpu0 = now(CLOCK_THREAD_CPUTIME_ID), cpu;
	struct kt_ksmctl_sample s;
	struct kt_ksmctl_decision d;
	int e;

	e = kt_ksmctl_runner_sample(r, &s);
	if (e < 0) {
		kt_err(r->ctx, "cannot read the host's memory and KSM state: %s", strerror(-e));
		return e;
	}
	kt_ksmctl_decide(&r->cfg, &r->st, &s, &d);
	if (d.write) {
		e = write_decision(r, &d);
		if (e < 0)
			kt_err(r->ctx, "cannot write KSM settings (run=%d pages_to_scan=%u): %s", d.run,
			       d.pages_to_scan, strerror(-e));
	}
	if (d.notable)
		kt_info(r->ctx, "%s", d.reason);
	else
		kt_dbg(r->ctx, "%s", d.reason);
	cpu = now(CLOCK_THREAD_CPUTIME_ID) - cpu0;
	r->cpu_seconds += cpu;
	r->cycles++;
	if (r->report)
		r->report(r->report_data, &s, &d, cpu);
	if (ret)
		*ret = d;
	return 0;
}

static void thread_step(void *data)
{
	kt_ksmctl_runner_step(data, NULL);
}

int kt_ksmctl_runner_start(struct kt_ksmctl_runner *r)
{
	if (!r->thread) {
		int e = kt_runner_new(thread_step, r, r->cfg.interval_ms, &r->thread);

		if (e < 0)
			return e;
	}
	return kt_runner_start(r->thread);
}

void kt_ksmctl_runner_stop(struct kt_ksmctl_runner *r)
{
	if (r->thread)
		kt_runner_stop(r->thread);
}

void kt_ksmctl_runner_cpu(struct kt_ksmctl_runner *r, double *ret_seconds, unsigned *ret_cycles)
{
	*ret_seconds = r->cpu_seconds;
	*ret_cycles = r->cycles;
}

enum kt_ksmctl_phase kt_ksmctl_runner_phase(struct kt_ksmctl_runner *r)
{
	return r->st.phase;
}
