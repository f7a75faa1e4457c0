/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

/*
 * A private copy of a tree from tests/fixtures (or $KT_FIXTURES), with a context rooted in
 * it and every library message collected, so that a test can assert on both.
 */
struct fixture {
	char root[512];
	struct kt_ctx *ctx;
	char log[16384];
	int errors;
	int warnings;
	char buf[4096];
	int guard_unexpected;
};

struct fixture *fixture_open(const char *name);
void fixture_close(struct fixture *f);
/* Contents of root/rel with the trailing newline removed; aborts the test when unreadable. */
const char *fixture_read(struct fixture *f, const char *rel);
void fixture_write(struct fixture *f, const char *rel, const char *value);
bool fixture_exists(struct fixture *f, const char *rel);
void fixture_clear_log(struct fixture *f);

/*
 * kt_write_attr is wrapped (-Wl,--wrap) by a fake kernel that records every write and, when
 * enabled, answers as mm/ksm.c does: -EBUSY for merge_across_nodes/max_page_sharing while
 * pages are shared, -EINVAL for pages_to_scan under advisor_mode=scan-time, run=2 unmerges,
 * advisor_mode switches reset pages_to_scan; a block queue's scheduler must be one it offers,
 * and switching resets nr_requests. fail_at=N makes the Nth write fail with -EIO.
 * Hugepage pools always behave as mm/hugetlb.c's: a node gives at most its fake_capacity
 * pages, never drops pages in use, and the global pool is the nodes' sum; writes to a node's
 * compact or to vm/drop_caches raise capacity by fake_compact_gain / fake_drop_gain.
 */
struct fake_kernel {
	bool rules;
	/* hugetlbfs unmounts fail with -EBUSY, as when a guest maps the filesystem. */
	bool umount_busy;
	int fail_at;
	int n;
	char writes[64][128];
};

extern struct fake_kernel fake_kernel;
int __real_kt_write_attr(const struct kt_ctx *ctx, const char *path, const char *value);
int __wrap_kt_write_attr(const struct kt_ctx *ctx, const char *path, const char *value);
void fake_kernel_reset(bool rules);
int __wrap_kt_hugetlbfs_mount(const struct kt_ctx *ctx, uint64_t kb, const char *path);
int __wrap_kt_hugetlbfs_umount(const struct kt_ctx *ctx, const char *path);
/* A fixture's kt-devnums ("path M:m" lines) gives its files their device numbers. */
struct stat;
int __real_kt_stat(const struct kt_ctx *ctx, const char *path, struct stat *ret);
int __wrap_kt_stat(const struct kt_ctx *ctx, const char *path, struct stat *ret);
/* Index of the first recorded write "knob=value", or -1. */
int fake_kernel_find(const char *write);

/*
 * Group setup/teardown: fail the group if the host's real KSM knobs or hugepage pools
 * changed, or if the library reached outside a fixture (below).
 */
int host_guard_setup(void **state);
int host_guard_teardown(void **state);

/*
 * The libc calls io.c makes with a path (openat, faccessat, fstatat, mkdirat, renameat2,
 * unlinkat) are wrapped (-Wl,--wrap) by a guard that resolves the path they were given
 * (the directory fd through /proc/self/fd, then symlinks) and refuses with EPERM anything
 * that is not below the root of an open fixture: the host's /sys and /proc above all. An
 * unexpected refusal is printed with the path at once, fails the test in fixture_close()
 * and the group in host_guard_teardown(). A test that means to trip it sets expect: then
 * refusals are only counted in caught, with the last path in last.
 */
struct fs_guard {
	bool expect;
	int caught;
	int unexpected;
	int reported;
	char last[4096];
};

extern struct fs_guard fs_guard;
