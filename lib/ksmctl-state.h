/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ctx.h"
#include "lock.h"

/*
 * What the running controller last decided and why, for `kvmtune ksm status`: key=value
 * lines in KT_KSMCTL_STATE_PATH below the context's root, rewritten whole (temporary file,
 * rename) by the runner when its decision changes and every KT_KSMCTL_STATE_EVERY cycles.
 */
#define KT_KSMCTL_STATE_PATH KT_RUN_DIR "/ksm-controller.state"
#define KT_KSMCTL_STATE_EVERY 12

struct kt_ksmctl_statefile {
	/* Who runs the controller: "tuned instance kvm_ksm", "kvmtune ksm watch (pid 42)". */
	char owner[128];
	char mode[16];
	char phase[16];
	/* CLOCK_REALTIME seconds: when the phase began, when the last decision was taken. */
	int64_t since;
	int64_t decided;
	char reason[256];
	/* The inputs of that decision; -1 where unknown. */
	int64_t guests_mib;
	int64_t guests_rss_mib;
	int64_t threshold_mib;
	int64_t available_mib;
	double psi_some_avg10;
	double saved_mib;
	double ksmd_cpu_seconds;
	/* The process that wrote the file. */
	pid_t pid;
};

/* Sets every input to "unknown" and every string empty. */
void kt_ksmctl_statefile_init(struct kt_ksmctl_statefile *sf);
/* Formats sf as the file holds it; returns the length, -ENOBUFS when size is too small. */
int kt_ksmctl_statefile_format(const struct kt_ksmctl_statefile *sf, char *buf, size_t size);
/*
 * Parses the file's text. Unknown keys are skipped (a newer writer may add some); a line
 * without '=', a bad number or a missing owner, phase or pid is -EBADMSG.
 */
int kt_ksmctl_statefile_parse(const char *text, struct kt_ksmctl_statefile *ret);
int kt_ksmctl_statefile_write(const struct kt_ctx *ctx, const struct kt_ksmctl_statefile *sf);
/* -ENOENT when no controller wrote one. */
int kt_ksmctl_statefile_read(const struct kt_ctx *ctx, struct kt_ksmctl_statefile *ret);
/* Removes the file if the process pid wrote it (a runner that stops cleanly). */
int kt_ksmctl_statefile_remove(const struct kt_ctx *ctx, pid_t pid);
/* Whether the writing process still runs (below the context's root: proc/<pid>). */
bool kt_ksmctl_statefile_alive(const struct kt_ctx *ctx, const struct kt_ksmctl_statefile *sf);
