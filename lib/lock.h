/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "ctx.h"

/* Runtime state below the context's root: locks and the controllers' state files. */
#define KT_RUN_DIR "run/kvmtune"

/*
 * One writer of an area of the host (KSM, the hugepage pools, ...) at a time: tuned's
 * instance, a `kvmtune ... watch` and a restore take the area's lock, an open file
 * description lock (F_OFD_SETLK) on run/kvmtune/<area>.lock. The kernel drops it when the
 * holder exits however it exits, so a killed tuned leaves no stale lock; the file itself
 * names the holder for the next one who asks.
 */
struct kt_lock_info {
	pid_t pid;
	/* Who, for people: "tuned instance kvm_ksm (mode dynamic)". */
	char holder[160];
	/* The journal that holder keeps the originals in, or "". */
	char journal[80];
};

/*
 * Takes area's lock for holder, recording journal (may be NULL). -EBUSY when another
 * holds it, logged with the holder; ret_fd is the lock, released by kt_lock_release().
 */
int kt_lock_take(const struct kt_ctx *ctx, const char *area, const char *holder,
		 const char *journal, int *ret_fd);
/* The holder file's "pid=", "holder=" and "journal=" lines; unknown lines are skipped. */
int kt_lock_parse(const char *text, struct kt_lock_info *ret);
/* Accepts -1; returns -1. */
int kt_lock_release(int fd);
/* 1 and who holds area's lock, 0 when nobody does, or -errno. */
int kt_lock_holder(const struct kt_ctx *ctx, const char *area, struct kt_lock_info *ret);
