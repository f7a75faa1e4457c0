/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpulist.h"
#include "topology.h"

/*
 * Where every guest's vCPUs, emulator and iothreads run: a pure function of the topology,
 * the policy and the domains (with what each has now), in the spirit of OpenStack Nova's
 * hw:cpu_policy / hw:cpu_thread_policy / hw:emulator_threads_policy. No libvirt here: the
 * plan is applied by virt-pin.c and tested on fixture topologies.
 */

/* QEMU's own ceiling for x86 guests (MAX_CPUMASK_BITS was 288, now 1024 with x2APIC). */
#define KT_PIN_VCPU_MAX 1024u
/* Guest NUMA cells a domain may have. */
#define KT_PIN_CELL_MAX 16u
#define KT_PIN_NAME_MAX 64

enum kt_pin_policy {
	KT_PIN_SHARED,
	KT_PIN_DEDICATED,
	KT_PIN_POLICY_MAX,
	KT_PIN_POLICY_INVALID = -EINVAL,
};

enum kt_pin_emulator {
	/* With the housekeeping work on the shared CPUs. */
	KT_PIN_EMULATOR_SHARE,
	/* A dedicated CPU of its own, next to the vCPUs. */
	KT_PIN_EMULATOR_ISOLATE,
	KT_PIN_EMULATOR_MAX,
	KT_PIN_EMULATOR_INVALID = -EINVAL,
};

enum kt_pin_threads {
	/* vCPUs packed onto SMT siblings where they can be, any free CPU otherwise. */
	KT_PIN_THREADS_PREFER,
	/* One vCPU per core; the core's other threads stay idle. */
	KT_PIN_THREADS_ISOLATE,
	/* vCPUs on sibling threads of whole cores; refused on a host without SMT. */
	KT_PIN_THREADS_REQUIRE,
	KT_PIN_THREADS_MAX,
	KT_PIN_THREADS_INVALID = -EINVAL,
};

const char *kt_pin_policy_name(enum kt_pin_policy p);
enum kt_pin_policy kt_pin_policy_from_name(const char *s);
const char *kt_pin_emulator_name(enum kt_pin_emulator e);
enum kt_pin_emulator kt_pin_emulator_from_name(const char *s);
const char *kt_pin_threads_name(enum kt_pin_threads t);
enum kt_pin_threads kt_pin_threads_from_name(const char *s);

/* A set of node ids (KT_NODE_MAX). */
struct kt_pin_nodeset {
	uint64_t bits[KT_NODE_MAX / 64];
};

/* What a domain asks for: its size, its policy (profile defaults and its metadata) and QoS. */
struct kt_pin_request {
	char name[KT_PIN_NAME_MAX];
	unsigned vcpus;
	unsigned iothreads;
	uint64_t memory_kib;
	enum kt_pin_policy policy;
	enum kt_pin_emulator emulator;
	enum kt_pin_threads threads;
	/* Guest NUMA cells (<cpu><numa><cell cpus=...>): the first vCPU of each, in order. */
	unsigned n_cells;
	unsigned cell_first[KT_PIN_CELL_MAX];
	unsigned cell_vcpus[KT_PIN_CELL_MAX];
	/* <numatune><memory nodeset=...>: the domain's memory stays where it says. */
	bool numatune;
	struct kt_pin_nodeset numatune_nodes;
	/* QoS to set; 0 leaves the domain's own value. */
	unsigned cpu_shares;
	uint64_t mem_soft_limit_kib;
	uint64_t mem_hard_limit_kib;
	unsigned blkio_weight;
	/* The placement it has now, kept while it is still valid: NULL for a new domain. */
	const struct kt_pin_placement *current;
};

struct kt_pin_placement {
	bool placed;
	/* Why it was not, for people: "needs 4 dedicated CPUs, 1 of 1 (CPU 1) is free". */
	char reason[512];
	enum kt_pin_policy policy;
	enum kt_pin_emulator emulator;
	enum kt_pin_threads threads;
	unsigned vcpus;
	/* dedicated: the host CPU of each vCPU. */
	uint16_t vcpu_cpu[KT_PIN_VCPU_MAX];
	/* shared: the CPUs every vCPU floats over. */
	struct kt_cpuset shared;
	/* Emulator and iothreads. */
	struct kt_cpuset emulator_cpus;
	/* Every CPU this domain takes from the dedicated set, idle siblings included. */
	struct kt_cpuset taken;
	/* Nodes the vCPUs are on; the memory goes there when mem_move is set. */
	struct kt_pin_nodeset nodes;
	bool mem_move;
	/* Host node of each guest cell. */
	int cell_node[KT_PIN_CELL_MAX];
};

struct kt_pin_config {
	enum kt_pin_policy default_policy;
	enum kt_pin_emulator emulator;
	enum kt_pin_threads threads;
	/* Online CPUs given to dedicated vCPUs, and those shared guests float over. */
	struct kt_cpuset dedicated;
	struct kt_cpuset shared;
	/* Also write the domains' persistent definitions (persist=config). */
	bool persist_config;
	/* cpu_shares of a shared domain: this per vCPU; 0 leaves them. */
	unsigned cpu_shares_per_vcpu;
	uint64_t mem_soft_limit_kib;
	uint64_t mem_hard_limit_kib;
	unsigned blkio_weight;
};

/*
 * Places every domain: those whose current placement is still valid keep it (stable while
 * others come and go), then the others in name order (deterministic). A CPU of the
 * dedicated set is never given twice. A domain that cannot be placed gets placed = false
 * and a reason; the others are placed all the same. ret has n entries.
 */
void kt_pin_plan(const struct kt_topology *t, const struct kt_pin_config *cfg,
		 const struct kt_pin_request *reqs, size_t n, struct kt_pin_placement *ret);

static inline void kt_pin_nodeset_add(struct kt_pin_nodeset *s, unsigned node)
{
	if (node < KT_NODE_MAX)
		s->bits[node / 64] |= UINT64_C(1) << (node % 64);
}

static inline bool kt_pin_nodeset_has(const struct kt_pin_nodeset *s, unsigned node)
{
	return node < KT_NODE_MAX && (s->bits[node / 64] >> (node % 64)) & 1;
}

bool kt_pin_nodeset_empty(const struct kt_pin_nodeset *s);
/* "0-1,3", as kt_cpulist_format. */
int kt_pin_nodeset_format(const struct kt_pin_nodeset *s, char *buf, size_t size);
