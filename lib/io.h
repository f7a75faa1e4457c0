/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
/*
 * Replaces path whole: writes a temporary file next to it and renames it over path, so a
 * reader sees the old contents or the new, never a mix. No fsync: for state under run/
 * that is rebuilt after a reboot anyway (the journal syncs, it must survive one).
 */
int kt_write_file_atomic(const struct kt_ctx *ctx, const char *path, const char *data, size_t len,
			 unsigned mode);
/* unlink relative to the root; -ENOENT when there is nothing to remove. */
int kt_remove_file(const struct kt_ctx *ctx, const char *path);
/* mkdir -p relative to the root. */
int kt_mkdir_p(const struct kt_ctx *ctx, const char *path, unsigned mode);
