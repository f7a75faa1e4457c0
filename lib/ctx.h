/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdarg.h>

#include "macro.h"

/* Priorities follow syslog so front-ends can map them to their own loggers. */
enum kt_log_prio {
	KT_LOG_ERR = 3,
	KT_LOG_WARNING = 4,
	KT_LOG_INFO = 6,
	KT_LOG_DEBUG = 7,
};

typedef void (*kt_log_fn)(void *data, enum kt_log_prio prio, const char *msg);

struct kt_ctx;

/*
 * A context holds the root directory every sysfs/procfs/state path is resolved against
 * (default "/"), so the same code runs on the host and on fixture trees. It holds no
 * mutable state besides the log callback, so one context may serve several threads.
 */
int kt_ctx_new(const char *root, struct kt_ctx **ret);
struct kt_ctx *kt_ctx_unref(struct kt_ctx *ctx);
struct kt_ctx *kt_ctx_ref(struct kt_ctx *ctx);
void kt_ctx_set_log_fn(struct kt_ctx *ctx, kt_log_fn fn, void *data);
/* Messages above prio (less important) are not even formatted; the default is KT_LOG_DEBUG. */
void kt_ctx_set_log_priority(struct kt_ctx *ctx, enum kt_log_prio prio);
int kt_ctx_root_fd(const struct kt_ctx *ctx);
const char *kt_ctx_root(const struct kt_ctx *ctx);

void kt_log(const struct kt_ctx *ctx, enum kt_log_prio prio, const char *fmt, ...) KT_PRINTF(3, 4);

#define kt_err(ctx, ...) kt_log(ctx, KT_LOG_ERR, __VA_ARGS__)
#define kt_warn(ctx, ...) kt_log(ctx, KT_LOG_WARNING, __VA_ARGS__)
#define kt_info(ctx, ...) kt_log(ctx, KT_LOG_INFO, __VA_ARGS__)
#define kt_dbg(ctx, ...) kt_log(ctx, KT_LOG_DEBUG, __VA_ARGS__)
