// SPDX-License-Identifier: LGPL-2.1-or-later
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "io.h"
#include "ksm-status.h"
#include "ksm.h"
#include "ksmctl-run.h"
#include "meminfo.h"
#include "procscan.h"
#include "psi.h"
#include "virt.h"

/* Other programs that drive /sys/kernel/mm/ksm: two controllers would fight. */
static const char *const foreign_controllers[] = { "ksmtuned", "momd" };

/* Looking for them walks /proc: once a minute at the default interval is enough. */
#define FOREIGN_SCAN_EVERY 12
/* Asking libvirt again after it failed. */
#define VIRT_RETRY_EVERY 12

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
	bool advisor_set;
	kt_ksmctl_report_fn report;
	void *report_data;
	double cpu_seconds;
	unsigned cycles;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running;
	bool stopping;
};

int kt_ksmctl_runner_new(struct kt_ctx *ctx, const struct kt_ksmctl_config *cfg,
			 struct kt_ksmctl_runner **ret)
{
	struct kt_ksmctl_runner *r = calloc(1, sizeof(*r));
	pthread_condattr_t attr;

	if (!r)
		return -ENOMEM;
	r->ctx = kt_ctx_ref(ctx);
	r->cfg = *cfg;
	kt_ksmctl_state_init(&r->st);
	pthread_mutex_init(&r->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&r->wake, &attr);
	pthread_condattr_destroy(&attr);
	*ret = r;
	return 0;
}

struct kt_ksmctl_runner *kt_ksmctl_runner_free(struct kt_ksmctl_runner *r)
{
	if (!r)
		return NULL;
	kt_ksmctl_runner_stop(r);
	kt_virt_close(r->virt);
	pthread_cond_destroy(&r->wake);
	pthread_mutex_destroy(&r->lock);
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

static int64_t counter(const struct kt_ctx *ctx, const char *name)
{
	char path[96];
	uint64_t v = 0;

	snprintf(path, sizeof(path), "%s/%s", KT_KSM_DIR, name);
	return kt_read_u64(ctx, path, &v) == 0 ? (int64_t)v : 0;
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

static void sample_committed(struct kt_ksmctl_runner *r, struct kt_ksmctl_sample *s)
{
	char *err = NULL;
	int e;

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
		if (kt_virt_committed(r->virt, &s->committed, NULL) == 0)
			return;
		/* libvirtd restarted or went away: reconnect later. */
		r->virt = kt_virt_close(r->virt);
		r->virt_retry = VIRT_RETRY_EVERY;
	}
	kt_proc_qemu_rss(r->ctx, &s->committed, NULL);
}

static double ksmd_cpu(struct kt_ksmctl_runner *r)
{
	char path[64], buf[512];
	uint64_t ticks;

	if (r->ksmd_pid > 0) {
		snprintf(path, sizeof(path), "proc/%d/stat", (int)r->ksmd_pid);
		if (kt_read_attr(r->ctx, path, buf, sizeof(buf)) > 0 &&
		    kt_proc_stat_cpu_ticks(buf, &ticks) == 0)
			return (double)ticks / (double)sysconf(_SC_CLK_TCK);
	}
	if (kt_ksmd_cpu_ticks(r->ctx, &r->ksmd_pid, &ticks) < 0)
		return -1;
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

int kt_ksmctl_runner_sample(struct kt_ksmctl_runner *r, struct kt_ksmctl_sample *ret)
{
	struct kt_ksmctl_sample s;
	struct kt_meminfo mi;
	struct kt_psi psi;
	uint64_t v;
	int e;

	memset(&s, 0, sizeof(s));
	s.t = now(CLOCK_MONOTONIC);
	e = kt_meminfo_read(r->ctx, &mi);
	if (e < 0)
		return e;
	s.mem_total = mi.mem_total;
	s.mem_available = mi.mem_available;
	s.swap_free = mi.swap_free;
	if (kt_psi_read_memory(r->ctx, &psi) == 0) {
		s.have_psi = true;
		s.psi_some_avg10 = psi.some_avg10;
	}
	sample_committed(r, &s);
	s.pages_shared = counter(r->ctx, "pages_shared");
	s.pages_sharing = counter(r->ctx, "pages_sharing");
	s.zero_pages = counter(r->ctx, "ksm_zero_pages");
	s.full_scans = counter(r->ctx, "full_scans");
	e = kt_read_u64(r->ctx, KT_KSM_DIR "/run", &v);
	if (e < 0)
		return e;
	s.run = (int)v;
	s.pages_to_scan = (unsigned)counter(r->ctx, "pages_to_scan");
	s.sleep_ms = (unsigned)counter(r->ctx, "sleep_millisecs");
	s.ksmd_cpu = ksmd_cpu(r);
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

static void *loop(void *data)
{
	struct kt_ksmctl_runner *r = data;
	struct timespec until;

	pthread_mutex_lock(&r->lock);
	while (!r->stopping) {
		pthread_mutex_unlock(&r->lock);
		kt_ksmctl_runner_step(r, NULL);
		pthread_mutex_lock(&r->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += r->cfg.interval_ms / 1000;
		until.tv_nsec += (long)(r->cfg.interval_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!r->stopping && pthread_cond_timedwait(&r->wake, &r->lock, &until) == 0)
			;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int kt_ksmctl_runner_start(struct kt_ksmctl_runner *r)
{
	int e;

	if (r->running)
		return -EALREADY;
	r->stopping = false;
	e = pthread_create(&r->thread, NULL, loop, r);
	if (e != 0)
		return -e;
	r->running = true;
	return 0;
}

void kt_ksmctl_runner_stop(struct kt_ksmctl_runner *r)
{
	if (!r->running)
		return;
	pthread_mutex_lock(&r->lock);
	r->stopping = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	r->running = false;
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
