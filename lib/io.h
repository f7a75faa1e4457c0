/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "ctx.h"

/*
 * Every path here is relative to the context's root ("sys/kernel/mm/ksm/run"). Absolute paths
 * and ".." components are refused, so nothing escapes the root a test or --root gave.
 */
bool kt_path_is_safe(const char *path);
bool kt_name_is_safe(const char *name);

/* Reads a small attribute into buf (NUL-terminated, trailing newline stripped); returns its length. */
int kt_read_attr(const struct kt_ctx *ctx, const char *path, char *buf, size_t size);
int kt_read_u64(const struct kt_ctx *ctx, const char *path, uint64_t *ret);
/* Reads a whole file (procfs files report size 0, so this reads until EOF). */
int kt_read_file(const struct kt_ctx *ctx, const char *path, char **ret, size_t *ret_len);
/* Writes value with one write(2), as sysfs stores expect. */
int kt_write_attr(const struct kt_ctx *ctx, const char *path, const char *value);
/*
 * For files read again and again (a controller's samples): open once, then re-read with
 * pread at offset 0, which makes sysfs and seq_file regenerate the contents. Returns the
 * length, as kt_read_attr does.
 */
int kt_open_attr(const struct kt_ctx *ctx, const char *path);
int kt_pread_attr(int fd, char *buf, size_t size);
bool kt_attr_exists(const struct kt_ctx *ctx, const char *path);
/* mkdir -p relative to the root. */
int kt_mkdir_p(const struct kt_ctx *ctx, const char *path, unsigned mode);

/*
 * Replaces path with data so that a crash leaves either the old or the new contents: a
 * temporary ".<name>.tmp" beside it, fsync, rename over path, fsync of the directory.
 * The directory must exist.
 */
int kt_write_file_atomic(const struct kt_ctx *ctx, const char *path, const char *data,
			 size_t len, unsigned mode);
/* -ENOENT when path does not exist: the caller decides whether that is a failure. */
int kt_unlink(const struct kt_ctx *ctx, const char *path);
/* flags as renameat2(2): RENAME_NOREPLACE fails with -EEXIST instead of replacing to. */
int kt_rename(const struct kt_ctx *ctx, const char *from, const char *to, unsigned flags);
/* stat(2), following symlinks. */
int kt_stat(const struct kt_ctx *ctx, const char *path, struct stat *ret);
/*
 * Calls fn with the name of each entry of the directory path (not "." or ".."), in the
 * order readdir gives them; fn returns non-zero to stop, and that value is returned.
 */
typedef int (*kt_dir_fn)(void *data, const char *name);
int kt_dir_for_each(const struct kt_ctx *ctx, const char *path, kt_dir_fn fn, void *data);
/* open(2) of a regular file below the root, for what keeps a descriptor (locks). */
int kt_open_file(const struct kt_ctx *ctx, const char *path, int flags, unsigned mode);
/* readlink(2) below the root; NUL-terminated, -ENAMETOOLONG when it does not fit. */
int kt_read_link(const struct kt_ctx *ctx, const char *path, char *buf, size_t size);
