/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "ctx.h"

/*
 * Walks <root>/proc/<pid> and calls fn with each pid and its comm; fn returns non-zero to
 * stop the walk, and that value is returned.
 */
typedef int (*kt_proc_fn)(void *data, pid_t pid, const char *comm);
int kt_proc_walk(const struct kt_ctx *ctx, kt_proc_fn fn, void *data);

/* The first process whose comm is exactly comm; -ESRCH when there is none. */
int kt_proc_find(const struct kt_ctx *ctx, const char *comm, pid_t *ret_pid);

/*
 * QEMU guests as the kernel sees them (a fallback when libvirt cannot be asked): the pids
 * of qemu-system-* / qemu-kvm processes (at most max; returns how many), and the resident
 * memory of one process (-ESRCH once it has exited).
 */
int kt_proc_qemu_pids(const struct kt_ctx *ctx, pid_t *pids, size_t max);
int kt_proc_rss(const struct kt_ctx *ctx, pid_t pid, uint64_t *ret_bytes);
/* The resident pages in a /proc/<pid>/statm line. */
int kt_proc_statm_rss(const char *statm, uint64_t *ret_pages);
