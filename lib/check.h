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

/* A guest disk or NIC as the domain XML describes it. */
struct kt_check_disk {
	char target[32]; /* vda, sdb */
	char device[16]; /* disk, cdrom, floppy, lun */
	char bus[16];	 /* virtio, sata, ide, scsi, usb */
	char cache[16];	 /* "" when the XML leaves it to QEMU */
	char source[256];
	/* The host block device holding it (sys/block/<name>), "" when unknown. */
	char host_dev[64];
};

struct kt_check_nic {
	char type[16];	 /* network, bridge, direct */
	char source[64]; /* the network or bridge name */
	char model[32];	 /* "" when the XML leaves it to QEMU */
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
	/* <memoryBacking><hugepages>: page size in bytes (0: the host's default size). */
	bool hugepages;
	uint64_t hugepage_size;
	/* <numatune><memory mode= nodeset=>: nodes as bits of a kt_cpuset. */
	char numa_mode[16];
	bool has_nodeset;
	struct kt_cpuset nodeset;
	unsigned n_disks, n_nics;
	struct kt_check_disk *disks;
	struct kt_check_nic *nics;
};

/* -EBADMSG when xml is not a domain; ret is the caller's (kt_check_domain_clear). */
int kt_check_domain_parse(const char *xml, size_t len, struct kt_check_domain *ret);
void kt_check_domain_clear(struct kt_check_domain *d);

/* A hugepage pool: the host's (node -1) or one NUMA node's, of one page size. */
struct kt_hugepage_pool {
	int node;
	uint64_t page_size;
	uint64_t total;
	uint64_t free;
};

struct kt_block_dev {
	char name[64];
	bool rotational;
	char scheduler[32]; /* the one in brackets */
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
	unsigned n_blocks;
	struct kt_block_dev *blocks;
	unsigned n_areas;
	struct kt_area_holder *areas;
	unsigned n_domains;
	struct kt_check_domain *domains;
	/* Set by the front-end: memory kept for the host itself (Red Hat's example: 4 GiB). */
	uint64_t host_reserve;
};

/* Reads everything but the domains below ctx's root. ret is cleared by kt_host_facts_clear. */
int kt_host_facts_read(const struct kt_ctx *ctx, struct kt_host_facts *ret);
/*
 * Takes a domain's XML; -EBADMSG (nothing added) when it is not one. Each disk's host block
 * device is looked up below ctx's root (the device a /dev source names, or the one holding
 * an image file).
 */
int kt_host_facts_add_domain(const struct kt_ctx *ctx, struct kt_host_facts *h, const char *xml,
			     size_t len, bool active);
void kt_host_facts_clear(struct kt_host_facts *h);
const struct kt_hugepage_pool *kt_host_facts_pool(const struct kt_host_facts *h, int node,
						  uint64_t page_size);
const struct kt_block_dev *kt_host_facts_block(const struct kt_host_facts *h, const char *name);

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
/* vCPUs per host CPU above which a host is warned: kvmtune's threshold. */
#define KT_CHECK_VCPU_RATIO_WARN 4
/* 4 GiB: the host reserve of Red Hat's worked example, kvmtune's default. */
#define KT_CHECK_HOST_RESERVE (4ULL << 30)
