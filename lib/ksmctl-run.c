// SPDX-License-Identifier: LGPL-2.1-or-later
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "io.h"
#include "ksm-status.h"
#include "ksm.h"
#include "ksmctl-run.h"
#include "ksmctl-state.h"
#include "meminfo.h"
#include "parse.h"
#include "procscan.h"
#include "psi.h"
#include "runner.h"
#include "virt.h"

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
	F_PAGES_UNSHARED,
	F_PAGES_VOLATILE,
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
	[F_PAGES_UNSHARED] = KT_KSM_DIR "/pages_unshared",
	[F_PAGES_VOLATILE] = KT_KSM_DIR "/pages_volatile",
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
	/* Cycles before looking for a ksmd that was not found (a /proc walk) again. */
	unsigned ksmd_retry;
	int fd[F_MAX];
	uint64_t committed;
	unsigned committed_age;
	/* qemu processes and their /proc/<pid>/statm, kept open: one pread per guest a cycle. */
	pid_t qemu[256];
	int qemu_fd[256];
	int n_qemu;
	unsigned qemu_age;
	struct timespec run_dir_mtime;
	kt_ksmctl_report_fn report;
	void *report_data;
	/* The state file: who runs us, since when the phase holds, when it was last written. */
	int64_t phase_since;
	enum kt_ksmctl_phase phase_written;
	unsigned state_age;
	char owner[128];
	bool state_written;
	bool advisor_set;
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
	for (size_t i = 0; i < KT_ELEMENTSOF(r->qemu_fd); i++)
		r->qemu_fd[i] = -1;
	kt_ksmctl_state_init(&r->st);
	snprintf(r->owner, sizeof(r->owner), "kvmtune controller (pid %d)", (int)getpid());
	*ret = r;
	return 0;
}

struct kt_ksmctl_runner *kt_ksmctl_runner_free(struct kt_ksmctl_runner *r)
{
	if (!r)
		return NULL;
	r->thread = kt_runner_free(r->thread);
	/* Stopped cleanly: no controller is left to describe. */
	if (r->state_written)
		kt_ksmctl_statefile_remove(r->ctx, getpid());
	kt_virt_close(r->virt);
	for (int i = 0; i < F_MAX; i++)
		if (r->fd[i] >= 0)
			close(r->fd[i]);
	for (size_t i = 0; i < KT_ELEMENTSOF(r->qemu_fd); i++)
		if (r->qemu_fd[i] >= 0)
			close(r->qemu_fd[i]);
	kt_ctx_unref(r->ctx);
	free(r);
	return NULL;
}

void kt_ksmctl_runner_set_report(struct kt_ksmctl_runner *r, kt_ksmctl_report_fn fn, void *data)
{
	r->report = fn;
	r->report_data = data;
}

void kt_ksmctl_runner_set_owner(struct kt_ksmctl_runner *r, const char *owner)
{
	snprintf(r->owner, sizeof(r->owner), "%s", owner);
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
		if (r->ksmd_pid <= 0 && r->ksmd_retry > 0) {
			r->ksmd_retry--;
			return -ESRCH;
		}
		if (r->ksmd_pid <= 0 && kt_proc_find(r->ctx, "ksmd", &r->ksmd_pid) < 0) {
			/* Hidden from this /proc (a container): not a walk every cycle. */
			r->ksmd_retry = FOREIGN_SCAN_EVERY;
			return -ESRCH;
		}
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

	if (!kt_ksm_is_foreign_controller(comm))
		return 0;
	r->foreign_pid = pid;
	snprintf(r->foreign_comm, sizeof(r->foreign_comm), "%s", comm);
	return 1;
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

/* Finds the qemu processes again and opens their statm; closes what the last walk opened. */
static void find_qemu(struct kt_ksmctl_runner *r)
{
	char path[64];
	int n;

	for (size_t i = 0; i < KT_ELEMENTSOF(r->qemu_fd); i++)
		if (r->qemu_fd[i] >= 0) {
			close(r->qemu_fd[i]);
			r->qemu_fd[i] = -1;
		}
	n = kt_proc_qemu_pids(r->ctx, r->qemu, KT_ELEMENTSOF(r->qemu));
	r->n_qemu = n;
	r->qemu_age = 0;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "proc/%d/statm", (int)r->qemu[i]);
		/* One that exited since the walk reads as nothing and is dropped next cycle. */
		r->qemu_fd[i] = kt_open_attr(r->ctx, path);
	}
}

/*
 * The qemu processes' resident memory, every cycle: what the guests have touched, which
 * grows while they fill their RAM. The /proc walk that finds the processes runs when
 * libvirt's run directory changed (a guest started or stopped), when one of them exited,
 * and every COMMITTED_REFRESH_EVERY cycles for qemu that libvirt did not start.
 */
static void sample_guests_rss(struct kt_ksmctl_runner *r, bool changed, struct kt_ksmctl_sample *s)
{
	char buf[256];
	bool gone = false;

	if (r->n_qemu < 0 || changed || r->qemu_age >= COMMITTED_REFRESH_EVERY)
		find_qemu(r);
	r->qemu_age++;
	s->guests_rss = 0;
	for (int i = 0; i < r->n_qemu; i++) {
		uint64_t pages;

		/* The pread of an exited process fails with ESRCH: find the others again. */
		if (r->qemu_fd[i] < 0 || kt_pread_attr(r->qemu_fd[i], buf, sizeof(buf)) < 0 ||
		    kt_proc_statm_rss(buf, &pages) < 0) {
			gone = true;
			continue;
		}
		s->guests_rss += pages * s->page_size;
	}
	if (gone)
		r->n_qemu = -1;
}

static void sample_committed(struct kt_ksmctl_runner *r, bool changed, struct kt_ksmctl_sample *s)
{
	char *err = NULL;
	int e;

	/* Asking libvirt costs a round trip: only when guests came or went, or now and then. */
	if (r->virt && r->committed_age < COMMITTED_REFRESH_EVERY && !changed) {
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
			s->committed = r->committed;
			return;
		}
		/* libvirtd restarted or went away: reconnect later. */
		r->virt = kt_virt_close(r->virt);
		r->virt_retry = VIRT_RETRY_EVERY;
	}
	/* Without libvirt: the qemu processes' resident memory. */
	s->committed = s->guests_rss;
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
	bool changed;
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
	s.page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	changed = guests_changed(r);
	sample_guests_rss(r, changed, &s);
	sample_committed(r, changed, &s);
	/* Cold, each file costs microseconds: while KSM is off its counters stand still. */
	if (r->st.phase == KT_KSMCTL_OFF && r->st.have_prev) {
		s.pages_shared = r->st.prev.pages_shared;
		s.pages_sharing = r->st.prev.pages_sharing;
		s.zero_pages = r->st.prev.zero_pages;
		s.pages_unshared = r->st.prev.pages_unshared;
		s.pages_volatile = r->st.prev.pages_volatile;
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
		s.pages_unshared = sample_counter(r, F_PAGES_UNSHARED);
		s.pages_volatile = sample_counter(r, F_PAGES_VOLATILE);
		s.full_scans = sample_counter(r, F_FULL_SCANS);
	}
	e = sample_read(r, F_RUN, buf, sizeof(buf));
	if (e < 0)
		return e;
	s.run = buf[0] - '0';
	s.pages_to_scan = (unsigned)sample_counter(r, F_PAGES_TO_SCAN);
	s.sleep_ms = (unsigned)sample_counter(r, F_SLEEP);
	/* Every cycle, whatever the phase: what KSM costs is part of every report. */
	s.ksmd_cpu = ksmd_cpu(r);
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

/*
 * Rewrites the state file when the decision changed something (a phase, a rate, a notable
 * event) and otherwise every KT_KSMCTL_STATE_EVERY cycles, so that its time shows the
 * controller alive: one small file written and renamed a minute at the default interval.
 */
static void write_state(struct kt_ksmctl_runner *r, const struct kt_ksmctl_sample *s,
			const struct kt_ksmctl_decision *d)
{
	struct kt_ksmctl_statefile sf;
	int64_t t = (int64_t)now(CLOCK_REALTIME);
	int e;

	if (!r->state_written || d->phase != r->phase_written)
		r->phase_since = t;
	if (r->state_written && !d->write && !d->notable && d->phase == r->phase_written &&
	    ++r->state_age < KT_KSMCTL_STATE_EVERY)
		return;
	kt_ksmctl_statefile_init(&sf);
	snprintf(sf.owner, sizeof(sf.owner), "%s", r->owner);
	snprintf(sf.mode, sizeof(sf.mode), "%s", kt_ksmctl_mode_name(r->cfg.mode));
	snprintf(sf.phase, sizeof(sf.phase), "%s", kt_ksmctl_phase_name(d->phase));
	snprintf(sf.reason, sizeof(sf.reason), "%s", d->reason);
	sf.since = r->phase_since;
	sf.decided = t;
	sf.guests_mib = (int64_t)(s->committed >> 20);
	sf.guests_rss_mib = (int64_t)(s->guests_rss >> 20);
	sf.threshold_mib = d->threshold ? (int64_t)(d->threshold >> 20) : -1;
	sf.available_mib = (int64_t)(s->mem_available >> 20);
	sf.psi_some_avg10 = s->have_psi ? s->psi_some_avg10 : -1;
	sf.saved_mib = (double)((uint64_t)(s->pages_sharing + s->zero_pages) * s->page_size) /
		       (1 << 20);
	sf.ksmd_cpu_seconds = s->ksmd_cpu;
	sf.pid = getpid();
	e = kt_ksmctl_statefile_write(r->ctx, &sf);
	if (e < 0 && !r->state_written)
		kt_warn(r->ctx, "cannot write /%s: %s; kvmtune ksm status will not show the "
				"controller, ignoring",
			KT_KSMCTL_STATE_PATH, strerror(-e));
	/* Tried once: a read-only /run is not retried, nor warned about, every cycle. */
	r->state_written = true;
	r->phase_written = d->phase;
	r->state_age = 0;
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
		/* Nothing decided: the next try after the usual interval. */
		if (ret) {
			memset(ret, 0, sizeof(*ret));
			ret->phase = r->st.phase;
			ret->next_ms = r->cfg.interval_ms;
		}
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
	write_state(r, &s, &d);
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
	struct kt_ksmctl_runner *r = data;
	struct kt_ksmctl_decision d;

	kt_ksmctl_runner_step(r, &d);
	kt_runner_set_interval(r->thread, d.next_ms);
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
