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
 * Memory of the running QEMU guests as the kernel sees it: the resident set of every
 * qemu-system-* / qemu-kvm process (a fallback when libvirt cannot be asked).
 */
int kt_proc_qemu_rss(const struct kt_ctx *ctx, uint64_t *ret_bytes, unsigned *ret_count);
