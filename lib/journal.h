/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "ctx.h"
#include "kvlist.h"

/*
 * The journal keeps the values a tuning replaced on disk, so that a tuned killed between
 * apply and unapply still restores the true originals. tuned holds them only in memory.
 * Files live in KT_STATE_DIR below the context's root, one per name, written atomically.
 */
#define KT_STATE_DIR "var/lib/kvmtune"

/* -ENOENT: no journal; -EBADMSG: present but corrupt or truncated (logged with the reason). */
int kt_journal_read(const struct kt_ctx *ctx, const char *name, struct kt_kvlist *ret);
int kt_journal_write(const struct kt_ctx *ctx, const char *name, const struct kt_kvlist *kv);
int kt_journal_remove(const struct kt_ctx *ctx, const char *name);
/* Calls fn with the name of every journal present, in name order; fn returns non-zero to stop. */
int kt_journal_list(const struct kt_ctx *ctx, int (*fn)(void *data, const char *name), void *data);
