// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"

struct kt_ctx {
	atomic_int refcount;
	int root_fd;
	char *root;
	kt_log_fn log_fn;
	void *log_data;
	enum kt_log_prio log_priority;
};

int kt_ctx_new(const char *root, struct kt_ctx **ret)
{
	struct kt_ctx *ctx;

	if (!root || !*root)
		root = "/";
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->root = strdup(root);
	if (!ctx->root) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (ctx->root_fd < 0) {
		int r = kt_negerrno();

		free(ctx->root);
		free(ctx);
		return r;
	}
	atomic_init(&ctx->refcount, 1);
	ctx->log_priority = KT_LOG_DEBUG;
	*ret = ctx;
	return 0;
}

struct kt_ctx *kt_ctx_ref(struct kt_ctx *ctx)
{
	if (ctx)
		atomic_fetch_add(&ctx->refcount, 1);
	return ctx;
}

struct kt_ctx *kt_ctx_unref(struct kt_ctx *ctx)
{
	if (!ctx || atomic_fetch_sub(&ctx->refcount, 1) > 1)
		return NULL;
	close(ctx->root_fd);
	free(ctx->root);
	free(ctx);
	return NULL;
}

void kt_ctx_set_log_fn(struct kt_ctx *ctx, kt_log_fn fn, void *data)
{
	ctx->log_fn = fn;
	ctx->log_data = data;
}

void kt_ctx_set_log_priority(struct kt_ctx *ctx, enum kt_log_prio prio)
{
	ctx->log_priority = prio;
}

int kt_ctx_root_fd(const struct kt_ctx *ctx)
{
	return ctx->root_fd;
}

const char *kt_ctx_root(const struct kt_ctx *ctx)
{
	return ctx->root;
}

void kt_log(const struct kt_ctx *ctx, enum kt_log_prio prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	if (!ctx || !ctx->log_fn || prio > ctx->log_priority)
		return;
	va_start(ap, fmt);
	/* clang-analyzer 14 loses track of va_start through the format attribute. */
	vsnprintf(msg, sizeof(msg), fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
	va_end(ap);
	ctx->log_fn(ctx->log_data, prio, msg);
	errno = saved;
}
