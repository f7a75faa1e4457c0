/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "cpulist.h"
#include "ctx.h"

/* Linux's default MAX_NUMNODES ceiling (NODES_SHIFT 10). */
#define KT_NODE_MAX 1024

/*
 * The host's CPUs and NUMA nodes as plain data, read from sysfs and /proc/cmdline below the
 * context's root (as lscpu --sysroot does), so that fixture trees of real machines and
 * made-up topologies feed the planners alike.
 */
struct kt_topo_cpu {
	bool present;
	bool online;
	int core;    /* topology/core_id: unique within its package only */
	int package; /* topology/physical_package_id */
	int node;    /* -1 when the kernel has no NUMA nodes */
};

struct kt_topo_node {
	int id;
	struct kt_cpuset cpus;
	uint64_t mem_total;
	uint64_t mem_free;
	/* node/nodeN/distance, by position in kt_topology.nodes; 10 is local. */
	unsigned *distance;
};

struct kt_topology {
	/* Highest CPU number + 1: cpus[] is indexed by CPU number. */
	unsigned n_cpus;
	struct kt_topo_cpu *cpus;
	struct kt_cpuset online;
	/* Sorted by id. A kernel without NUMA shows one node 0 holding every CPU and all RAM. */
	unsigned n_nodes;
	struct kt_topo_node *nodes;
	/* isolcpus= and nohz_full= of the kernel command line. */
	struct kt_cpuset isolated;
	/* Online CPUs that are not isolated: where the host's own work runs. */
	struct kt_cpuset housekeeping;
};

int kt_topology_read(const struct kt_ctx *ctx, struct kt_topology **ret);
/* Accepts NULL; returns NULL. */
struct kt_topology *kt_topology_free(struct kt_topology *t);
/* The node with this id, or NULL. */
const struct kt_topo_node *kt_topology_node(const struct kt_topology *t, int id);
/* The CPUs of cpu's core (its SMT siblings and itself). */
void kt_topology_siblings(const struct kt_topology *t, unsigned cpu, struct kt_cpuset *ret);
/*
 * The CPUs isolcpus= and nohz_full= name on a kernel command line; isolcpus' flags
 * ("domain,managed_irq,2-7") are skipped. -EINVAL when a list does not parse.
 */
int kt_topology_parse_cmdline(const char *cmdline, struct kt_cpuset *ret);
