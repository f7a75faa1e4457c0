/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cpulist.h"
#include "ksm-status.h"
#include "lock.h"
#include "meminfo.h"
#include "topology.h"

/*
 * `kvmtune check`: is this host's plan safe? The host's facts are gathered once into plain
 * data (struct kt_host_facts); each check is a pure function of them, one row of a table
 * (kt_check_table), so an area adds a check by adding a row and, if it needs them, facts.
 * Nothing here does I/O: check-facts.c reads the host, check-domain.c reads domain XML.
 */

enum kt_check_level {
	KT_CHECK_PASS,
	KT_CHECK_WARN,
	KT_CHECK_FAIL,
	KT_CHECK_LEVEL_MAX,
	KT_CHECK_LEVEL_INVALID = -EINVAL,
};

const char *kt_check_level_name(enum kt_check_level level);

/* A host block device with a queue of its own, and the devices above it, for messages. */
struct kt_block_dev {
	char name[32];
	bool rotational;
	char scheduler[32]; /* the one in brackets */
	char via[96];	    /* "dm-0, md0, sdb1": the stack from the guest's disk down to it */
};

#define KT_CHECK_DISK_DEVS 8

/* "domain" or "domains", by count: every line that counts says it right. */
static inline const char *kt_plural(unsigned long long n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

/* A guest disk or NIC as the domain XML describes it. */
struct kt_check_disk {
	char target[32]; /* vda, sdb */
	char device[16]; /* disk, cdrom, floppy, lun */
	char bus[16];	 /* virtio, sata, ide, scsi, usb */
	char cache[16];	 /* "" when the XML leaves it to QEMU */
	char source[256];
	/*
	 * The physical disks beneath it and its backing chain, through partitions, dm, md and
	 * loop devices, as kvm_iosched resolves them (kt_iosched_plan_build); a disk beyond
	 * KT_CHECK_DISK_DEVS is not kept.
	 */
	unsigned n_devs;
	struct kt_block_dev devs[KT_CHECK_DISK_DEVS];
};

struct kt_check_nic {
	char type[16];	 /* network, bridge, direct */
	char source[64]; /* the network or bridge name */
	char model[32];	 /* "" when the XML leaves it to QEMU */
};

struct kt_check_hp_need {
	uint64_t page_size;
	int node;
	uint64_t pages;
};

struct kt_check_domain {
	char name[128];
	bool active;
	uint64_t memory; /* bytes, <memory> */
	unsigned vcpus;
	/* <cputune><vcpupin>: the union of the pinned CPUs, and whether every vCPU is pinned.
	 */
	unsigned n_vcpupins;
	struct kt_cpuset pinned;
	bool dedicated;
	/*
	 * <memoryBacking><hugepages>: the pages each page size needs on each host node, node -1
	 * where libvirt leaves the node to the kernel (lib/hugepages-plan.c attributes them: a
	 * <page nodeset=> names guest cells, <numatune> puts cells on host nodes). page_size 0
	 * stands for the host's default size when the host has none.
	 */
	bool hugepages;
	unsigned n_hp;
	struct kt_check_hp_need *hp;
	/* Its memory must come from the nodes <numatune> names (mode strict or restrictive). */
	bool numa_bound;
	/* <numatune><memory mode= nodeset=>: nodes as bits of a kt_cpuset. */
	char numa_mode[16];
	bool has_nodeset;
	struct kt_cpuset nodeset;
	unsigned n_disks, n_nics;
	struct kt_check_disk *disks;
	struct kt_check_nic *nics;
};

/*
 * -EBADMSG when xml is not a domain; ret is the caller's (kt_check_domain_clear).
 * default_hugepage_size is the host's (Hugepagesize), 0 when it has none.
 */
int kt_check_domain_parse(const char *xml, size_t len, uint64_t default_hugepage_size,
			  struct kt_check_domain *ret);
void kt_check_domain_clear(struct kt_check_domain *d);

/* A hugepage pool: the host's (node -1) or one NUMA node's, of one page size. */
struct kt_hugepage_pool {
	int node;
	uint64_t page_size;
	uint64_t total;
	uint64_t free;
};

/* The holder of one area's lock (run/kvmtune/<area>.lock). */
struct kt_area_holder {
	char area[64];
	bool held;
	struct kt_lock_info info;
};

struct kt_host_facts {
	struct kt_meminfo mem;
	struct kt_topology *topo;
	struct kt_ksm_status ksm;
	char active_profile[128]; /* "" without tuned */
	/* ksmtuned or momd, found in /proc: another KSM controller. */
	char ksm_rival[16];
	pid_t ksm_rival_pid;
	unsigned n_pools;
	struct kt_hugepage_pool *pools;
	unsigned n_areas;
	struct kt_area_holder *areas;
	unsigned n_domains;
	struct kt_check_domain *domains;
	/* Set by the front-end: memory kept for the host itself (Red Hat's example: 4 GiB). */
	uint64_t host_reserve;
	/* Set by the front-end: vCPUs per host CPU above which the host is warned. */
	unsigned vcpu_ratio;
};

/* Reads everything but the domains below ctx's root. ret is cleared by kt_host_facts_clear. */
int kt_host_facts_read(const struct kt_ctx *ctx, struct kt_host_facts *ret);
/*
 * Takes a domain's XML; -EBADMSG (nothing added) when it is not one. Each disk is resolved
 * below ctx's root to the physical disks beneath it, by kvm_iosched's resolver.
 */
int kt_host_facts_add_domain(const struct kt_ctx *ctx, struct kt_host_facts *h, const char *xml,
			     size_t len, bool active);
void kt_host_facts_clear(struct kt_host_facts *h);
const struct kt_hugepage_pool *kt_host_facts_pool(const struct kt_host_facts *h, int node,
						  uint64_t page_size);

/* One line of the report. */
struct kt_check_result {
	const char *check; /* the table row's id */
	enum kt_check_level level;
	char message[320];
	char hint[240];
};

struct kt_check_report {
	unsigned n, cap;
	struct kt_check_result *items;
	unsigned count[KT_CHECK_LEVEL_MAX];
};

struct kt_check {
	const char *id;
	const char *title;
	int (*run)(const struct kt_host_facts *h, const char *id, struct kt_check_report *rep);
};

extern const struct kt_check kt_check_table[];
extern const unsigned kt_check_table_len;

int kt_check_add(struct kt_check_report *rep, const char *check, enum kt_check_level level,
		 const char *hint, const char *fmt, ...) KT_PRINTF(5, 6);
/* Runs every row of the table over h; -ENOMEM only. */
int kt_check_run(const struct kt_host_facts *h, struct kt_check_report *ret);
void kt_check_report_clear(struct kt_check_report *rep);

/*
 * Red Hat's rule for the swap an overcommitted host needs: the host's own recommended swap
 * plus what the guests commit beyond RAM minus the host's reserve. 0 guests' part when they
 * fit. kt_check_host_swap() is the host's own part, by RAM size.
 */
uint64_t kt_check_host_swap(uint64_t ram);
uint64_t kt_check_swap_needed(uint64_t ram, uint64_t host_reserve, uint64_t committed);

/* Overcommit beyond this many times RAM fails whatever the swap. */
#define KT_CHECK_OVERCOMMIT_MAX 10
/*
 * vCPUs per host CPU above which a host is warned (--vcpu-ratio): Red Hat's "KVM should
 * safely support guests with loads under 100% at a ratio of five vCPUs ... to one physical
 * CPU" (RHEL 7 Virtualization Deployment and Administration Guide, 7.3 "Overcommitting
 * Virtualized CPUs"; the same in RHEL 10's "Optimizing virtual machine CPU performance").
 */
#define KT_CHECK_VCPU_RATIO_WARN 5
/* --vcpu-ratio's bound: Nova's historic default cpu_allocation_ratio of 16, four times. */
#define KT_CHECK_VCPU_RATIO_MAX 64
/* 4 GiB: the host reserve of Red Hat's worked example, kvmtune's default. */
#define KT_CHECK_HOST_RESERVE (4ULL << 30)
