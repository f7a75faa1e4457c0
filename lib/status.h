/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <time.h>

#include "check.h"
#include "ksmctl-state.h"
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

/* What an event-driven area's journal says it did: a domain or device and what was set. */
struct kt_status_subject {
	char name[128];
	/* "vcpu0, emulator", "scheduler, nr_requests": the items journalled for it. */
	char items[160];
};

/*
 * A controller's last decision. The KSM controller keeps its own (KT_KSMCTL_STATE_PATH);
 * pinning and the I/O schedulers act on libvirt's events and keep no record but their
 * journal, rewritten at every change: its time and what it holds say what they last did.
 */
struct kt_status_controller {
	char area[64];
	/* The journal read, "" for the KSM controller's state file. */
	char journal[80];
	/* Who runs it: the state file's owner, or the holder of the journal's area. */
	char owner[128];
	/* The writer no longer runs (a state file left behind, a journal nobody holds). */
	bool stale;
	/* CLOCK_REALTIME seconds of the decision: the state file's, the journal's mtime. */
	int64_t decided;
	/* KSM: the file as read (error: -errno of one that does not parse). */
	bool have_state;
	int error;
	struct kt_ksmctl_statefile state;
	unsigned n_subjects;
	struct kt_status_subject *subjects;
};

struct kt_status {
	struct kt_host_facts h;
	unsigned n_journals;
	struct kt_status_journal *journals;
	unsigned n_controllers;
	struct kt_status_controller *controllers;
};

int kt_status_read(const struct kt_ctx *ctx, struct kt_status *ret);
void kt_status_clear(struct kt_status *st);
/* What a journalled key is now, where the library can read it (KSM's knobs), else NULL. */
const char *kt_status_current(const struct kt_status *st, const struct kt_status_journal *j,
			      const char *key);
/* Seconds from t to now, -1 when t is unknown or ahead. */
int64_t kt_status_age(int64_t t);
/* "stopped", "running", "unmerged", "unavailable" or "unknown". */
const char *kt_status_ksm_state(const struct kt_ksm_status *k);
