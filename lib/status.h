/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "check.h"
#include "kvlist.h"

/*
 * `kvmtune status`: what kvmtune manages on a host. The host's facts (profile, locks, KSM,
 * hugepage pools) and every journal, each matched with the area whose holder keeps it. It
 * only reads: a corrupt journal is reported as such and left where it is.
 */
struct kt_status_journal {
	char name[80];
	/* false when the journal does not parse; why says how. */
	bool valid;
	const char *why;
	struct kt_kvlist kv;
	/* The area whose lock holder keeps this journal; NULL: an orphan. */
	const struct kt_area_holder *area;
};

struct kt_status {
	struct kt_host_facts h;
	unsigned n_journals;
	struct kt_status_journal *journals;
};

int kt_status_read(const struct kt_ctx *ctx, struct kt_status *ret);
void kt_status_clear(struct kt_status *st);
/* What a journalled key is now, where the library can read it (KSM's knobs), else NULL. */
const char *kt_status_current(const struct kt_status *st, const struct kt_status_journal *j,
			      const char *key);
/* "stopped", "running", "unmerged", "unavailable" or "unknown". */
const char *kt_status_ksm_state(const struct kt_ksm_status *k);
