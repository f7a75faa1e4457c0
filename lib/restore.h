/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "ctx.h"

/*
 * Crash recovery: every journal whose tuning nobody holds now (its tuned was killed and
 * came back with another profile, or has not started yet) gets its originals back and is
 * removed; each is logged. Journals of tunings that are applied now are left alone.
 * Returns how many were restored, or the first error after trying them all.
 */
int kt_restore_orphans(const struct kt_ctx *ctx, const char *holder);

/* The lock area a journal's tuning holds ("ksm", "pin", "iosched"), from its name; NULL for
 * hugepages (a lock per page size) and for names no area writes. */
const char *kt_restore_journal_area(const char *journal);
