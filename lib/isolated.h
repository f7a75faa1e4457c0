/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "cpulist.h"
#include "ctx.h"
#include "topology.h"

/*
 * isolated_cores for tuned's cpu-partitioning and the profiles built on it (kvm-latency):
 * the value a host's variables file gives, checked, or a default computed from the
 * topology and written into that file, so that the host keeps it and says it.
 */

/*
 * The default: every online CPU except the first core of each package (the core of its
 * lowest-numbered online CPU) with all its SMT siblings, which stay for housekeeping, as
 * cpu-partitioning's own calc_isolated_cores advises. -ERANGE when that isolates nothing
 * (every package has one core).
 */
int kt_isolated_default(const struct kt_topology *t, struct kt_cpuset *ret);

/*
 * text (a variables file, len bytes, may be NULL for none) with every "isolated_cores ="
 * assignment removed and "isolated_cores=value" appended after comment (one line, "# "
 * is prepended); every other line is kept as it was. *ret is NUL-terminated.
 */
int kt_isolated_vars_set(const char *text, size_t len, const char *comment, const char *value,
			 char **ret);

/*
 * The isolated CPUs of a profile: value (as tuned expanded it; NULL or blank when the
 * variables file does not set it) checked to be a CPU list of online CPUs that leaves at
 * least one online CPU for housekeeping, or else kt_isolated_default(), written into
 * varfile (a path below the context's root, replaced atomically, its other lines kept)
 * and logged as a warning naming the value and the file. *ret is the canonical list.
 * -EINVAL (logged, naming the file, the value and what is allowed) for a bad value.
 */
int kt_isolated_cores_resolve(const struct kt_ctx *ctx, const char *varfile, const char *value,
			      char **ret);
