/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "ksmctl.h"

/*
 * Runs the controller: samples the host, decides, writes. Either one step at a time
 * (kvmtune ksm watch) or on a thread of its own (inside tuned), stopped and joined by
 * kt_ksmctl_runner_stop().
 */
struct kt_ksmctl_runner;

typedef void (*kt_ksmctl_report_fn)(void *data, const struct kt_ksmctl_sample *s,
				    const struct kt_ksmctl_decision *d, double cycle_cpu_seconds);

int kt_ksmctl_runner_new(struct kt_ctx *ctx, const struct kt_ksmctl_config *cfg,
			 struct kt_ksmctl_runner **ret);
struct kt_ksmctl_runner *kt_ksmctl_runner_free(struct kt_ksmctl_runner *r);
void kt_ksmctl_runner_set_report(struct kt_ksmctl_runner *r, kt_ksmctl_report_fn fn, void *data);
/*
 * Who runs the controller, as `kvmtune ksm status` names it from the state file
 * ("tuned instance kvm_ksm"); the default is "kvmtune controller (pid N)".
 */
void kt_ksmctl_runner_set_owner(struct kt_ksmctl_runner *r, const char *owner);

int kt_ksmctl_runner_sample(struct kt_ksmctl_runner *r, struct kt_ksmctl_sample *ret);
/*
 * One cycle: sample, decide, write what was decided. ret (may be NULL) gets the decision;
 * when the host could not be read, an empty one whose next_ms is the interval.
 */
int kt_ksmctl_runner_step(struct kt_ksmctl_runner *r, struct kt_ksmctl_decision *ret);

int kt_ksmctl_runner_start(struct kt_ksmctl_runner *r);
/* Stops the thread and waits for it; a runner that is not running is left as it is. */
void kt_ksmctl_runner_stop(struct kt_ksmctl_runner *r);
/* The controller's own CPU time over all its cycles, and how many there were. */
void kt_ksmctl_runner_cpu(struct kt_ksmctl_runner *r, double *ret_seconds, unsigned *ret_cycles);
enum kt_ksmctl_phase kt_ksmctl_runner_phase(struct kt_ksmctl_runner *r);
