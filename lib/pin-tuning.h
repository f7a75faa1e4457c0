/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "kvlist.h"
#include "pin-domain.h"
#include "virt-events.h"
#include "virt.h"

/*
 * A kvm_pin section as one unit, the same for tuned's plugin and `kvmtune pin apply|watch`:
 * the options checked against the topology, the pin lock, the journal of every domain's
 * original pinning and QoS, and the domains placed now. Calls that talk to libvirt take the
 * connection to use (the event loop's, or one of the command's own).
 */
struct kt_pin_tuning;

/*
 * The CPU topology read and opts checked against it, as a tuning does before anything else:
 * each bad option logged. The caller frees *ret_topology (kt_topology_free), set even when
 * the options are bad; NULL when the topology could not be read.
 */
int kt_pin_options_read(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			struct kt_topology **ret_topology, struct kt_pin_options *ret);

/*
 * Checks opts, takes the pin lock for holder (-EBUSY, logged with the holder, when another
 * has it) and reads the journal a killed predecessor left: its originals stay the
 * originals. Domains are pinned by kt_pin_tuning_sync() and the events.
 */
int kt_pin_tuning_new(struct kt_ctx *ctx, const char *journal, const char *holder,
		      const struct kt_kvlist *opts, struct kt_pin_tuning **ret);
const struct kt_pin_options *kt_pin_tuning_options(const struct kt_pin_tuning *t);
/*
 * Every running domain checked: new ones placed and pinned, those gone forgotten. A domain
 * that cannot be placed, or whose metadata is bad, is left as it is with one line saying
 * why; the others are served. Returns how many domains are pinned, or -errno when libvirt
 * cannot be asked.
 */
int kt_pin_tuning_sync(struct kt_pin_tuning *t, struct kt_virt *v);
/* A domain started: placed and pinned at once. */
int kt_pin_tuning_started(struct kt_pin_tuning *t, struct kt_virt *v, const char *uuid);
/* A domain stopped: its CPUs are free, its originals are dropped from the journal. */
void kt_pin_tuning_stopped(struct kt_pin_tuning *t, const char *uuid);
/*
 * Puts every pinned domain's originals back when restore (v may be NULL: a connection is
 * opened for it), else leaves the journal for a later restore; releases the lock and frees
 * t, whatever fails. Accepts NULL.
 */
int kt_pin_tuning_unapply(struct kt_pin_tuning *t, struct kt_virt *v, bool restore);

/*
 * A kt_virt_events subscriber (data is the tuning): every domain checked on (re)connect,
 * each started domain pinned, each stopped one forgotten.
 */
void kt_pin_tuning_on_event(void *data, struct kt_virt *v, enum kt_virt_event ev,
			    const char *uuid);
/*
 * Compares each pinned domain's live vCPU and emulator affinity with its placement: fn gets
 * "<domain>.vcpu<N>" (or ".emulator"), the wanted and the current CPU list. Returns how
 * many differ, or -errno.
 */
typedef void (*kt_pin_verify_fn)(void *data, const char *what, const char *want,
				 const char *current, bool ok);
int kt_pin_tuning_verify(struct kt_pin_tuning *t, struct kt_virt *v, kt_pin_verify_fn fn,
			 void *data);
/* How many domains are pinned now. */
unsigned kt_pin_tuning_pinned(struct kt_pin_tuning *t);

/* What kt_pin_tuning_each reports per domain: its placement, or why it has none. */
struct kt_pin_domain_view {
	const char *name;
	const char *uuid;
	bool pinned;
	const char *error;
	const struct kt_pin_request *req;
	const struct kt_pin_placement *pl;
};
typedef void (*kt_pin_view_fn)(void *data, const struct kt_pin_domain_view *d);
void kt_pin_tuning_each(struct kt_pin_tuning *t, kt_pin_view_fn fn, void *data);
const struct kt_topology *kt_pin_tuning_topology(const struct kt_pin_tuning *t);

/*
 * The plan for every running domain under opts, without changing anything and without the
 * lock (`kvmtune pin plan`).
 */
int kt_pin_plan_only(struct kt_ctx *ctx, struct kt_virt *v, const struct kt_kvlist *opts,
		     kt_pin_view_fn fn, void *data, struct kt_topology **ret_topology);

/*
 * Puts back what the journal holds, under the pin lock, and removes it. -ENOENT (logged
 * with the journals that are present) when there is no such journal.
 */
int kt_pin_restore_journal(const struct kt_ctx *ctx, const char *journal, const char *holder);
