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

/*
 * -ENOENT: no journal. -EBADMSG: present but corrupt or truncated; it is then moved aside
 * (kt_journal_set_aside) and reported once as a warning, so it neither counts as the
 * originals nor gets overwritten before someone looked at it.
 */
int kt_journal_read(const struct kt_ctx *ctx, const char *name, struct kt_kvlist *ret);
int kt_journal_write(const struct kt_ctx *ctx, const char *name, const struct kt_kvlist *kv);
int kt_journal_remove(const struct kt_ctx *ctx, const char *name);
/*
 * A journal whose contents cannot be used (why says how, e.g. "names an unknown knob"):
 * renamed to <name>.journal.corrupt-<unix time> in the same directory and reported once,
 * as a warning, with the new path. Returns -errno only when it could not be renamed.
 */
int kt_journal_set_aside(const struct kt_ctx *ctx, const char *name, const char *why);
/*
 * Calls fn with the name of every journal present, sorted (not temporary files or journals
 * set aside); fn returns non-zero to stop, and that value is returned. No state directory
 * means no journals.
 */
int kt_journal_list(const struct kt_ctx *ctx, int (*fn)(void *data, const char *name),
		    void *data);

/*
 * The file format, without any I/O. kt_journal_parse returns -EBADMSG with a short reason in
 * *ret_why ("truncated: no end line") for text that is not a complete journal; *ret is
 * written only on success. kt_journal_format returns -EINVAL for a key that is not a safe
 * name or a value with a newline.
 */
int kt_journal_parse(const char *text, struct kt_kvlist *ret, const char **ret_why);
int kt_journal_format(const struct kt_kvlist *kv, char **ret, size_t *ret_len);
