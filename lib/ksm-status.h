/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ksm.h"

/* The read-only counters of /sys/kernel/mm/ksm that status and the controller look at. */
enum kt_ksm_counter {
	KT_KSM_PAGES_SHARED,
	KT_KSM_PAGES_SHARING,
	KT_KSM_PAGES_UNSHARED,
	KT_KSM_PAGES_VOLATILE,
	KT_KSM_FULL_SCANS,
	KT_KSM_ZERO_PAGES,
	KT_KSM_GENERAL_PROFIT,
	KT_KSM_COUNTER_MAX,
	KT_KSM_COUNTER_INVALID = -EINVAL,
};

struct kt_ksm_status {
	bool available;
	struct kt_ksm_values knobs;
	bool have[KT_KSM_COUNTER_MAX];
	int64_t counter[KT_KSM_COUNTER_MAX];
	uint64_t page_size;
	/* (pages_sharing + ksm_zero_pages) * page size: what the kernel's general_profit counts as saved. */
	uint64_t saved_bytes;
	pid_t ksmd_pid;
	/* -1 when ksmd was not found. */
	double ksmd_cpu_seconds;
};

const char *kt_ksm_counter_name(enum kt_ksm_counter c);
int kt_ksm_status_read(const struct kt_ctx *ctx, struct kt_ksm_status *ret);

/* Finds the ksmd kernel thread below <root>/proc and returns its utime+stime in clock ticks. */
int kt_ksmd_cpu_ticks(const struct kt_ctx *ctx, pid_t *ret_pid, uint64_t *ret_ticks);
/* Parses the utime+stime of a /proc/<pid>/stat line (the comm may hold spaces and parens). */
int kt_proc_stat_cpu_ticks(const char *stat_line, uint64_t *ret_ticks);

/* Whether comm is another program that drives /sys/kernel/mm/ksm (ksmtuned, momd). */
bool kt_ksm_is_foreign_controller(const char *comm);
/* The first such process below <root>/proc: 1 with its pid and comm, 0 when none runs. */
int kt_ksm_find_foreign(const struct kt_ctx *ctx, pid_t *ret_pid, char ret_comm[16]);
