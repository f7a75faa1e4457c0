/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "ctx.h"
#include "kvlist.h"
#include "pin-plan.h"

/* The lock area of every writer of guests' pinning (run/kvmtune/pin.lock). */
#define KT_PIN_LOCK "pin"
/* Journals of kvm_pin instances start so; `kvmtune pin apply|watch` use "pin-cmd". */
#define KT_PIN_JOURNAL_PREFIX "kvm_pin-"
#define KT_PIN_CMD_JOURNAL "pin-cmd"

/* cgroup v1's default cpu.shares: a 1-vCPU guest weighs what any other task group does. */
#define KT_PIN_CPU_SHARES_PER_VCPU 1024
/* cgroup v1 caps cpu.shares at 262144 (cgroup v2's cpu.weight at 10000: libvirt refuses more). */
#define KT_PIN_CPU_SHARES_MAX 262144

/* Options of a kvm_pin section (and of `kvmtune pin`), and what they say when unset. */
struct kt_pin_options {
	struct kt_pin_config cfg;
	char libvirt_uri[256];
};

/* Whether name is an option of kvm_pin. */
bool kt_pin_option_known(const char *name);
/* Every option name, NULL-terminated: the shim's table and the tests use this one list. */
extern const char *const kt_pin_option_names[];

/*
 * Every option checked as a whole against the topology: each bad one is logged with its
 * value and what is allowed ("kvm_pin: dedicated_cpus=4-7 names CPUs that are not online
 * (4-7): expected CPUs of 0-1"), and any makes it -EINVAL.
 */
int kt_pin_options_parse(const struct kt_ctx *ctx, const struct kt_topology *t,
			 const struct kt_kvlist *opts, struct kt_pin_options *ret);

/*
 * A running domain's request from its libvirt XML: vCPUs, iothreads, memory, guest NUMA
 * cells, <numatune>, and kvmtune's metadata
 *   <metadata><kt:tuning xmlns:kt="https://kvmtune.org/xmlns/domain/1" policy="dedicated"
 *     emulator_policy="isolate" thread_policy="prefer" cpu_shares="2048"
 *     memtune_soft_limit="1G" memtune_hard_limit="2G" blkio_weight="500"/></metadata>
 * over the profile's defaults in o. Bad metadata is logged in one line naming the domain,
 * the attribute and its value, and gives -EINVAL.
 */
int kt_pin_request_from_xml(const struct kt_ctx *ctx, const struct kt_pin_options *o,
			    const char *xml, size_t len, struct kt_pin_request *ret);
