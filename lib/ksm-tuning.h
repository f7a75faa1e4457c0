/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "ksm.h"
#include "ksmctl-run.h"
#include "kvlist.h"

/* The lock area every writer of /sys/kernel/mm/ksm takes (run/kvmtune/ksm.lock). */
#define KT_KSM_LOCK "ksm"

/*
 * A kvm_ksm section as one unit, the same for tuned's plugin and `kvmtune ksm watch`:
 * which knobs the mode's controller owns (they are journalled, never set statically),
 * that dynamic mode turns the kernel advisor off first, the KSM lock, the journal, and the
 * controller that runs while the tuning is applied.
 */
struct kt_ksm_tuning;

bool kt_ksm_mode_owns(enum kt_ksmctl_mode mode, enum kt_ksm_knob knob);

/*
 * Every option of a section, knobs and controller options, checked as a whole: each bad
 * one is logged with its value and what is allowed, and any makes it -EINVAL. mode in
 * ret_cfg is default_mode unless the options say otherwise.
 */
int kt_ksm_options_parse(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			 enum kt_ksmctl_mode default_mode, struct kt_ksm_values *ret_knobs,
			 struct kt_ksmctl_config *ret_cfg);

/*
 * Checks opts, takes the KSM lock for holder (-EBUSY, logged with the holder, when another
 * writer has it), journals the originals under journal and applies the static knobs.
 * The controller, if the mode has one, is made but not started: the front-end starts it
 * on a thread (kt_ksmctl_runner_start) or steps it itself.
 */
int kt_ksm_tuning_apply(struct kt_ctx *ctx, const char *journal, const char *holder,
			const struct kt_kvlist *opts, enum kt_ksmctl_mode default_mode,
			struct kt_ksm_tuning **ret);
/* NULL in static mode. */
struct kt_ksmctl_runner *kt_ksm_tuning_controller(struct kt_ksm_tuning *t);
enum kt_ksmctl_mode kt_ksm_tuning_mode(const struct kt_ksm_tuning *t);
/*
 * Stops the controller, puts the originals back when restore (else the journal keeps them
 * for a later restore), releases the lock and frees t, whatever fails. Accepts NULL.
 */
int kt_ksm_tuning_unapply(struct kt_ksm_tuning *t, bool restore);

/* Compares the section's static knobs with the kernel (the controller's are skipped). */
int kt_ksm_verify_options(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			  kt_ksm_verify_fn fn, void *data);

/*
 * Puts back what the journal holds, under the KSM lock, and removes it. -ENOENT (logged
 * with the journals that are present) when there is no such journal.
 */
int kt_ksm_restore_journal(const struct kt_ctx *ctx, const char *journal, const char *holder);
