/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"
#include "kvlist.h"

#define KT_KSM_DIR "sys/kernel/mm/ksm"

/* The writable knobs of /sys/kernel/mm/ksm, in the kernel's documentation order. */
enum kt_ksm_knob {
	KT_KSM_RUN,
	KT_KSM_PAGES_TO_SCAN,
	KT_KSM_SLEEP_MILLISECS,
	KT_KSM_MERGE_ACROSS_NODES,
	KT_KSM_USE_ZERO_PAGES,
	KT_KSM_MAX_PAGE_SHARING,
	KT_KSM_STABLE_NODE_CHAINS_PRUNE_MILLISECS,
	KT_KSM_SMART_SCAN,
	KT_KSM_ADVISOR_MODE,
	KT_KSM_ADVISOR_MAX_CPU,
	KT_KSM_ADVISOR_MIN_PAGES_TO_SCAN,
	KT_KSM_ADVISOR_MAX_PAGES_TO_SCAN,
	KT_KSM_ADVISOR_TARGET_SCAN_TIME,
	KT_KSM_KNOB_MAX,
	KT_KSM_KNOB_INVALID = -EINVAL,
};

#define KT_KSM_VALUE_MAX 32

/* A partial assignment of knobs: set[k] says whether value[k] (canonical form) is present. */
struct kt_ksm_values {
	bool set[KT_KSM_KNOB_MAX];
	char value[KT_KSM_KNOB_MAX][KT_KSM_VALUE_MAX];
};

const char *kt_ksm_knob_name(enum kt_ksm_knob knob);
enum kt_ksm_knob kt_ksm_knob_from_name(const char *name);
/* What a person may write, for messages: "an integer 0..100000". */
const char *kt_ksm_knob_allowed(enum kt_ksm_knob knob);

bool kt_ksm_available(const struct kt_ctx *ctx);
bool kt_ksm_knob_supported(const struct kt_ctx *ctx, enum kt_ksm_knob knob);

/* Validates one value and writes its canonical sysfs form ("true" -> "1"). */
int kt_ksm_normalize(enum kt_ksm_knob knob, const char *value, char ret[KT_KSM_VALUE_MAX]);
/*
 * Turns option=value pairs into knob values. Every invalid pair is logged with the option,
 * the value and what is allowed; any of them makes the whole set -EINVAL.
 */
int kt_ksm_values_from_options(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			       struct kt_ksm_values *ret);
int kt_ksm_values_to_kvlist(const struct kt_ksm_values *vals, struct kt_kvlist *ret);

/* Reads one knob in canonical form (advisor_mode "[none] scan-time" -> "none"). */
int kt_ksm_read(const struct kt_ctx *ctx, enum kt_ksm_knob knob, char ret[KT_KSM_VALUE_MAX]);
/* Writes one knob as is; kt_ksm_apply() is the ordered, validated way. */
int kt_ksm_write(const struct kt_ctx *ctx, enum kt_ksm_knob knob, const char *value);
/* Reads every knob this kernel offers. */
int kt_ksm_read_all(const struct kt_ctx *ctx, struct kt_ksm_values *ret);

enum kt_ksm_apply_flags {
	/* Putting back saved values: skip quietly what the kernel now owns. */
	KT_KSM_APPLY_RESTORE = 1 << 0,
};

/*
 * Writes the knobs of want in the order the kernel requires: merge_across_nodes and
 * max_page_sharing only while nothing is merged, advisor_mode=none before pages_to_scan,
 * advisor_mode=scan-time after it, run last. Knobs this kernel lacks are skipped with a
 * warning. Either every write happens or, after a failed write, the written ones are put
 * back. ret_prev (optional) receives the values replaced.
 */
int kt_ksm_apply(const struct kt_ctx *ctx, const struct kt_ksm_values *want, unsigned flags,
		 struct kt_ksm_values *ret_prev);

/*
 * Whether unmerging (run=2) is safe: every sharing page becomes a private copy again, so
 * MemAvailable + SwapFree must hold pages_sharing pages plus a margin. Returns 1 (fits),
 * 0 (does not), or -errno; ret_need/ret_avail (optional) receive the byte counts.
 */
/* Headroom kept on top of the unmerged pages: 5% of RAM, at least 256 MiB. */
uint64_t kt_ksm_unmerge_margin(uint64_t mem_total);
int kt_ksm_unmerge_fits(const struct kt_ctx *ctx, uint64_t *ret_need, uint64_t *ret_avail);

typedef void (*kt_ksm_verify_fn)(void *data, enum kt_ksm_knob knob, const char *want,
				 const char *current, bool ok);
/* Compares want with the kernel, one callback per knob; returns the number of mismatches. */
int kt_ksm_verify(const struct kt_ctx *ctx, const struct kt_ksm_values *want,
		  kt_ksm_verify_fn fn, void *data);

/*
 * Apply with a journal: the originals are written to the journal named name before the
 * first change. A journal left by a crash supplies the true originals instead of what the
 * kernel holds now (which is what the crashed apply wrote). ret_orig receives them.
 */
int kt_ksm_tune(const struct kt_ctx *ctx, const char *name, const struct kt_ksm_values *want,
		struct kt_ksm_values *ret_orig);
/* Restores the journal's values (else orig) and removes the journal once they are back. */
int kt_ksm_untune(const struct kt_ctx *ctx, const char *name, const struct kt_ksm_values *orig);
