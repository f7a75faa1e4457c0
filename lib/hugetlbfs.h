/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

/*
 * hugetlbfs mounts, which QEMU maps guest RAM from. libvirt's QEMU driver looks for them
 * only when it starts (virQEMUDriverConfig's hugetlbfs list): a mount made later is not
 * used until libvirtd (or virtqemud) restarts, hence kt_hugetlbfs_libvirt_pid().
 */

/* 1 and where a hugetlbfs of page size kb is mounted (proc/self/mounts), 0 when none. */
int kt_hugetlbfs_find(const struct kt_ctx *ctx, uint64_t kb, uint64_t default_kb, char *path,
		      size_t size);
/* Where kvmtune mounts one: dev/hugepages for the default size, dev/hugepages1G for 1G. */
void kt_hugetlbfs_path(uint64_t kb, uint64_t default_kb, char *buf, size_t size);
/*
 * mount(2) of hugetlbfs with pagesize= at path (relative to the root, created if missing).
 * -EOPNOTSUPP below a root other than "/": fixture trees are never mounted on.
 */
int kt_hugetlbfs_mount(const struct kt_ctx *ctx, uint64_t kb, const char *path);
int kt_hugetlbfs_umount(const struct kt_ctx *ctx, const char *path);
/* The pid of a running libvirtd or virtqemud, 0 when none runs. */
int kt_hugetlbfs_libvirt_pid(const struct kt_ctx *ctx);
