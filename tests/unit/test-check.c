// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune check: every check on the check-2node fixture with domains given as XML. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "check.h"
#include "fixture.h"
#include "journal.h"
#include "lock.h"
#include "status.h"

#define GIB (1ULL << 30)

/* A domain of mem MiB and vcpus vCPUs; body goes inside <domain>. */
#define DOM(name, mem, vcpus, body)                                                            \
	"<domain type='kvm'><name>" name "</name><memory unit='MiB'>" #mem                      \
	"</memory><vcpu>" #vcpus "</vcpu>" body "</domain>"
#define DISK(attrs, dev, bus)                                                                  \
	"<disk type='block' device='disk'><driver name='qemu' " attrs "/><source dev='" dev    \
	"'/><target dev='vda' bus='" bus "'/></disk>"
#define DEVICES(x) "<devices>" x "</devices>"
/* Two guest NUMA cells of c0 and c1 GiB. */
#define CELLS(c0, c1)                                                                          \
	"<cpu><numa><cell id='0' cpus='0' memory='" #c0 "' unit='GiB'/><cell id='1' cpus='1' "   \
	"memory='" #c1 "' unit='GiB'/></numa></cpu>"
#define HUGEPAGES(pages) "<memoryBacking><hugepages>" pages "</hugepages></memoryBacking>"
#define PAGE_1G(cells) "<page size='1' unit='GiB' nodeset='" cells "'/>"
/* <numatune> of mode over nodes 0-1, guest cell 0 on host node n0, cell 1 on n1. */
#define MEMNODES(mode, n0, n1)                                                                 \
	"<numatune><memory mode='" mode "' nodeset='0-1'/><memnode cellid='0' mode='" mode      \
	"' nodeset='" #n0 "'/><memnode cellid='1' mode='" mode "' nodeset='" #n1 "'/></numatune>"
#define VIRTIO_NIC "<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>"

struct check_case {
	const char *desc;
	const char *domains[6];
	void (*tweak)(struct kt_host_facts *h);
	const char *check;
	/* The worst level the check reports, and a part of one of its messages. */
	enum kt_check_level level;
	const char *expect;
};

static void no_swap(struct kt_host_facts *h)
{
	h->mem.swap_total = 0;
}

static void more_swap(struct kt_host_facts *h)
{
	h->mem.swap_total = 16 * GIB;
}

static void ksmtuned_runs(struct kt_host_facts *h)
{
	snprintf(h->ksm_rival, sizeof(h->ksm_rival), "ksmtuned");
	h->ksm_rival_pid = 999;
}

static void dense_profile(struct kt_host_facts *h)
{
	snprintf(h->active_profile, sizeof(h->active_profile), "kvm-dense");
}

static void dense_held(struct kt_host_facts *h)
{
	dense_profile(h);
	for (unsigned i = 0; i < h->n_areas; i++)
		if (strcmp(h->areas[i].area, "ksm") == 0) {
			h->areas[i].held = true;
			snprintf(h->areas[i].info.holder, sizeof(h->areas[i].info.holder),
				 "tuned instance kvm_ksm (mode dynamic)");
		}
}

static void dense_held_ksmtuned(struct kt_host_facts *h)
{
	dense_held(h);
	ksmtuned_runs(h);
}

static void ratio_1(struct kt_host_facts *h)
{
	h->vcpu_ratio = 1;
}

static void dense_no_ksm(struct kt_host_facts *h)
{
	dense_profile(h);
	h->ksm.available = false;
}

/* check-2node: 4 CPUs (0-1 node 0, 2-3 node 1), 32 GiB (16 per node), 8 GiB swap, 2 MiB pool
 * of 1024 pages (512 a node), 1 GiB pool of 4 pages (2 a node); sda rotational with none,
 * sdb rotational with mq-deadline, nvme0n1 solid state with none. */
static const struct check_case cases[] = {
	{ "guests fit", { DOM("a", 4096, 1, ""), DOM("b", 4096, 1, "") }, NULL,
	  "memory-overcommit", KT_CHECK_PASS, "2 domains commit 8.0 GiB of 32.0 GiB" },
	{ "no swap needed when guests fit", { DOM("a", 28672, 1, "") }, no_swap, "swap",
	  KT_CHECK_PASS, "guests fit in RAM" },
	{ "overcommit with enough swap", { DOM("a", 32768, 1, "") }, more_swap, "swap",
	  KT_CHECK_PASS, "swap 16.0 GiB covers the 12.0 GiB" },
	{ "overcommit with the host's swap only", { DOM("a", 32768, 1, "") }, NULL, "swap",
	  KT_CHECK_FAIL, "swap 8.0 GiB, overcommit needs at least 12.0 GiB" },
	{ "overcommit without swap", { DOM("a", 32768, 1, "") }, no_swap, "swap", KT_CHECK_FAIL,
	  "at least 12.0 GiB (8.0 GiB for the host, 4.0 GiB for the guests)" },
	{ "overcommit is shown", { DOM("a", 32768, 1, "") }, NULL, "memory-overcommit",
	  KT_CHECK_PASS, "overcommitted 1.14x" },
	{ "beyond 10x RAM", { DOM("a", 335872, 1, "") }, NULL, "memory-overcommit", KT_CHECK_FAIL,
	  "10.2x the host's 32.0 GiB" },
	{ "vCPUs within CPUs", { DOM("a", 1024, 2, ""), DOM("b", 1024, 2, "") }, NULL,
	  "vcpu-overcommit", KT_CHECK_PASS, "4 vCPUs on 4 CPUs: 1.00 per CPU" },
	{ "vCPU ratio at Red Hat's 5", { DOM("a", 1024, 4, ""), DOM("b", 1024, 4, ""),
	  DOM("c", 1024, 4, ""), DOM("d", 1024, 4, ""), DOM("e", 1024, 4, "") }, NULL,
	  "vcpu-overcommit", KT_CHECK_PASS, "20 vCPUs on 4 CPUs: 5.00 per CPU, at most 5" },
	{ "vCPU ratio above Red Hat's 5", { DOM("a", 1024, 4, ""), DOM("b", 1024, 4, ""),
	  DOM("c", 1024, 4, ""), DOM("d", 1024, 4, ""), DOM("e", 1024, 4, ""), DOM("f", 1024, 1, "") },
	  NULL, "vcpu-overcommit", KT_CHECK_WARN, "21 vCPUs on 4 CPUs: 5.25 per CPU, above 5" },
	{ "vCPU ratio of the operator's choice", { DOM("a", 1024, 3, ""), DOM("b", 1024, 3, "") },
	  ratio_1, "vcpu-overcommit", KT_CHECK_WARN, "6 vCPUs on 4 CPUs: 1.50 per CPU, above 1" },
	{ "one vCPU", { DOM("a", 1024, 1, "") }, NULL, "vcpu-overcommit", KT_CHECK_PASS,
	  "1 vCPU on 4 CPUs" },
	{ "more vCPUs than CPUs", { DOM("big", 1024, 8, "") }, NULL, "vcpu-overcommit",
	  KT_CHECK_FAIL, "domain big has 8 vCPUs, the host 4 CPUs" },
	{ "dedicated pins apart",
	  { DOM("a", 1024, 2, "<cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/></cputune>"),
	    DOM("b", 1024, 2, "<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='3'/></cputune>") },
	  NULL, "vcpu-pinning", KT_CHECK_PASS, "2 domains pin vCPUs" },
	{ "one domain pins", { DOM("a", 1024, 1, "<cputune><vcpupin vcpu='0' cpuset='0'/></cputune>") },
	  NULL, "vcpu-pinning", KT_CHECK_PASS, "1 domain pins vCPUs, to online CPUs" },
	{ "dedicated pins overlap",
	  { DOM("a", 1024, 2, "<cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/></cputune>"),
	    DOM("b", 1024, 2, "<cputune><vcpupin vcpu='0' cpuset='1'/><vcpupin vcpu='1' cpuset='2'/></cputune>") },
	  NULL, "vcpu-pinning", KT_CHECK_FAIL, "domains a and b both pin every vCPU, and share CPUs 1" },
	{ "partly pinned domains may share",
	  { DOM("a", 1024, 2, "<cputune><vcpupin vcpu='0' cpuset='0-1'/></cputune>"),
	    DOM("b", 1024, 2, "<cputune><vcpupin vcpu='0' cpuset='0-1'/><vcpupin vcpu='1' cpuset='0-1'/></cputune>") },
	  NULL, "vcpu-pinning", KT_CHECK_PASS, "2 domains pin" },
	{ "pins to CPUs the host lacks",
	  { DOM("a", 1024, 1, "<cputune><vcpupin vcpu='0' cpuset='6'/></cputune>") }, NULL,
	  "vcpu-pinning", KT_CHECK_FAIL, "domain a pins vCPUs to CPUs 6" },
	{ "2 MiB pages within the pool",
	  { DOM("a", 2048, 1, "<memoryBacking><hugepages/></memoryBacking>") }, NULL, "hugepages",
	  KT_CHECK_PASS, "1 domain uses hugepages: the pools hold them" },
	{ "2 MiB pages beyond the pool",
	  { DOM("a", 2048, 1, "<memoryBacking><hugepages/></memoryBacking>"),
	    DOM("b", 2048, 1, "<memoryBacking><hugepages/></memoryBacking>") }, NULL, "hugepages",
	  KT_CHECK_FAIL, "2 domains need 2048 pages of 2 MiB, the pool has 1024" },
	{ "1 GiB pages on a node beyond its pool",
	  { DOM("a", 3072, 1, "<memoryBacking><hugepages><page size='1' unit='GiB'/></hugepages></memoryBacking>"
			      "<numatune><memory nodeset='1'/></numatune>") },
	  NULL, "hugepages", KT_CHECK_FAIL, "1 domain bound to node 1 needs 3 pages of 1.0 GiB there, its pool has 2" },
	/* <page nodeset=> names guest cells; <memnode> puts each cell on host nodes. */
	{ "1 GiB cell 0 on node 1, 2 MiB cell 1 on node 0, each within its pool",
	  { DOM("a", 3072, 2, CELLS(2, 1) HUGEPAGES(PAGE_1G("0")) MEMNODES("strict", 1, 0)) },
	  NULL, "hugepages", KT_CHECK_PASS, "1 domain uses hugepages: the pools hold them" },
	{ "the 2 MiB cell beyond its node's pool, though the 1 GiB pool holds the whole guest",
	  { DOM("a", 4096, 2, CELLS(2, 2) HUGEPAGES(PAGE_1G("0")) MEMNODES("strict", 1, 0)) },
	  NULL, "hugepages", KT_CHECK_FAIL,
	  "1 domain bound to node 0 needs 1024 pages of 2 MiB there, its pool has 512" },
	{ "the 1 GiB cell beyond its node's pool",
	  { DOM("a", 4096, 2, CELLS(1, 3) HUGEPAGES(PAGE_1G("1")) MEMNODES("strict", 0, 1)) },
	  NULL, "hugepages", KT_CHECK_FAIL,
	  "1 domain bound to node 1 needs 3 pages of 1.0 GiB there, its pool has 2" },
	{ "restrictive binds like strict",
	  { DOM("a", 4096, 2, CELLS(1, 3) HUGEPAGES(PAGE_1G("1")) MEMNODES("restrictive", 0, 1)) },
	  NULL, "hugepages", KT_CHECK_FAIL, "bound to node 1 needs 3 pages of 1.0 GiB" },
	{ "<memory> without a mode is strict, whatever a <memnode> says",
	  { DOM("a", 4096, 2, CELLS(1, 3) HUGEPAGES(PAGE_1G("1"))
			       "<numatune><memory nodeset='0-1'/><memnode cellid='1' mode='preferred' "
			       "nodeset='1'/></numatune>") },
	  NULL, "hugepages", KT_CHECK_FAIL, "bound to node 1 needs 3 pages of 1.0 GiB" },
	{ "preferred cells may take pages from the other node",
	  { DOM("a", 4096, 2, CELLS(1, 3) HUGEPAGES(PAGE_1G("1")) MEMNODES("preferred", 0, 1)) },
	  NULL, "hugepages", KT_CHECK_PASS, "1 domain uses hugepages" },
	{ "one page for both cells, split evenly over the nodeset",
	  { DOM("a", 4096, 2, CELLS(2, 2) HUGEPAGES(PAGE_1G("0-1"))
			       "<numatune><memory nodeset='0-1'/></numatune>") },
	  NULL, "hugepages", KT_CHECK_PASS, "1 domain uses hugepages" },
	{ "two domains' 1 GiB cells on one node",
	  { DOM("a", 3072, 2, CELLS(2, 1) HUGEPAGES(PAGE_1G("0")) MEMNODES("strict", 0, 1)),
	    DOM("b", 2048, 2, CELLS(1, 1) HUGEPAGES(PAGE_1G("0")) MEMNODES("strict", 0, 1)) },
	  NULL, "hugepages", KT_CHECK_FAIL,
	  "2 domains bound to node 0 need 3 pages of 1.0 GiB there, its pool has 2" },
	{ "cells on a node the host lacks",
	  { DOM("a", 2048, 2, CELLS(1, 1) HUGEPAGES(PAGE_1G("0-1")) MEMNODES("strict", 0, 3)) },
	  NULL, "hugepages", KT_CHECK_FAIL, "1 domain bound to node 3 needs 1 page of 1.0 GiB there, its pool has 0" },
	{ "a page size the host lacks",
	  { DOM("a", 1024, 1, "<memoryBacking><hugepages><page size='16384' unit='KiB'/></hugepages></memoryBacking>") },
	  NULL, "hugepages", KT_CHECK_FAIL, "1 domain needs 64 pages of 16 MiB: the host has no pool of that size" },
	{ "strict within the node", { DOM("a", 8192, 1, "<numatune><memory mode='strict' nodeset='0'/></numatune>") },
	  NULL, "numa", KT_CHECK_PASS, "1 domain binds memory strictly" },
	{ "strict beyond the node", { DOM("a", 20480, 1, "<numatune><memory mode='strict' nodeset='0'/></numatune>") },
	  NULL, "numa", KT_CHECK_FAIL, "domain a needs 20.0 GiB, strictly from nodes 0 which have 16.0 GiB" },
	{ "strict domains together beyond the node",
	  { DOM("a", 10240, 1, "<numatune><memory nodeset='1'/></numatune>"),
	    DOM("b", 10240, 1, "<numatune><memory mode='strict' nodeset='1'/></numatune>") },
	  NULL, "numa", KT_CHECK_FAIL, "domains bound strictly to node 1 need 20.0 GiB there" },
	{ "preferred may go beyond", { DOM("a", 20480, 1, "<numatune><memory mode='preferred' nodeset='0'/></numatune>") },
	  NULL, "numa", KT_CHECK_PASS, "0 domains bind memory strictly to NUMA nodes" },
	{ "a node the host lacks", { DOM("a", 1024, 1, "<numatune><memory nodeset='3'/></numatune>") },
	  NULL, "numa", KT_CHECK_FAIL, "the host does not all have" },
	{ "KSM without a profile", { NULL }, NULL, "ksm", KT_CHECK_PASS, "controlled by nobody" },
	{ "ksmtuned alone", { NULL }, ksmtuned_runs, "ksm", KT_CHECK_PASS, "controlled by ksmtuned" },
	{ "dense profile, KSM held", { NULL }, dense_held, "ksm", KT_CHECK_PASS,
	  "controlled by tuned instance kvm_ksm" },
	{ "dense profile, nothing holds KSM", { NULL }, dense_profile, "ksm", KT_CHECK_WARN,
	  "no kvm_ksm tuning holds KSM" },
	{ "dense profile and ksmtuned", { NULL }, dense_held_ksmtuned, "ksm", KT_CHECK_WARN,
	  "ksmtuned (pid 999) drives KSM while tuned instance kvm_ksm" },
	{ "dense profile, kernel without KSM", { NULL }, dense_no_ksm, "ksm", KT_CHECK_WARN,
	  "this kernel has no KSM" },
	{ "rotational disk with none", { DOM("a", 1024, 1, DEVICES(DISK("cache='none'", "/dev/sda", "virtio"))) },
	  NULL, "disk-scheduler", KT_CHECK_WARN, "domain a disk vda is on sda, a rotational disk with scheduler none" },
	{ "rotational disk with mq-deadline", { DOM("a", 1024, 1, DEVICES(DISK("", "/dev/sdb1", "virtio"))) },
	  NULL, "disk-scheduler", KT_CHECK_PASS, "1 guest disk on host block devices" },
	{ "solid state disk with none", { DOM("a", 1024, 1, DEVICES(DISK("", "/dev/nvme0n1p2", "virtio"))) },
	  NULL, "disk-scheduler", KT_CHECK_PASS, "1 guest disk on host block devices" },
	{ "cache unsafe", { DOM("a", 1024, 1, DEVICES(DISK("cache='unsafe'", "/dev/sdb", "virtio"))) },
	  NULL, "disk-cache", KT_CHECK_FAIL, "domain a disk vda has cache mode unsafe" },
	{ "cache writeback", { DOM("a", 1024, 1, DEVICES(DISK("cache='writeback'", "/dev/sdb", "virtio"))) },
	  NULL, "disk-cache", KT_CHECK_WARN, "cache mode writeback" },
	{ "cache none", { DOM("a", 1024, 1, DEVICES(DISK("cache='none'", "/dev/sdb", "virtio"))) },
	  NULL, "disk-cache", KT_CHECK_PASS, "1 guest disk, none with" },
	{ "all virtio", { DOM("a", 1024, 1, DEVICES(DISK("", "/dev/sdb", "virtio") VIRTIO_NIC)) },
	  NULL, "virtio", KT_CHECK_PASS, "2 guest disks and NICs, all virtio" },
	{ "an IDE disk", { DOM("a", 1024, 1, DEVICES(DISK("", "/dev/sdb", "ide"))) },
	  NULL, "virtio", KT_CHECK_WARN, "domain a disk vda is on bus ide, not virtio" },
	{ "an e1000 NIC", { DOM("a", 1024, 1, DEVICES("<interface type='network'><source network='default'/><model type='e1000'/></interface>")) },
	  NULL, "virtio", KT_CHECK_WARN, "domain a NIC on default is e1000, not virtio" },
	{ "a NIC without a model", { DOM("a", 1024, 1, DEVICES("<interface type='network'><source network='default'/></interface>")) },
	  NULL, "virtio", KT_CHECK_WARN, "QEMU's default model" },
};

static void test_table(void **state)
{
	struct fixture *f = fixture_open("check-2node");

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		const struct check_case *c = &cases[i];
		enum kt_check_level worst = KT_CHECK_PASS;
		struct kt_check_report rep;
		struct kt_host_facts h;
		bool found = false;

		assert_int_equal(kt_host_facts_read(f->ctx, &h), 0);
		for (size_t d = 0; d < KT_ELEMENTSOF(c->domains) && c->domains[d]; d++) {
			int r = kt_host_facts_add_domain(f->ctx, &h, c->domains[d],
							 strlen(c->domains[d]), true);

			if (r < 0)
				fail_msg("%s: domain %zu: %s", c->desc, d, strerror(-r));
		}
		if (c->tweak)
			c->tweak(&h);
		assert_int_equal(kt_check_run(&h, &rep), 0);
		for (unsigned k = 0; k < rep.n; k++) {
			if (strcmp(rep.items[k].check, c->check) != 0)
				continue;
			if (rep.items[k].level > worst)
				worst = rep.items[k].level;
			if (strstr(rep.items[k].message, c->expect))
				found = true;
		}
		if (worst != c->level || !found) {
			for (unsigned k = 0; k < rep.n; k++)
				fprintf(stderr, "  %s %s %s\n", kt_check_level_name(rep.items[k].level),
					rep.items[k].check, rep.items[k].message);
			fail_msg("%s: %s is %s, expected %s with \"%s\"", c->desc, c->check,
				 kt_check_level_name(worst), kt_check_level_name(c->level), c->expect);
		}
		kt_check_report_clear(&rep);
		kt_host_facts_clear(&h);
	}
	fixture_close(f);
}

/*
 * Red Hat's worked example ("Overcommitting memory", RHEL Virtualization Administration
 * Guide): 32 GB of RAM, 4 GB for the host, 56 guests of 1 GB need at least 36 GB of swap,
 * 8 for the host and 28 for the guests.
 */
static void test_red_hat_example(void **state)
{
	struct kt_host_facts h = { .host_reserve = 4 * GIB };
	struct kt_check_domain doms[56];
	struct kt_check_report rep;
	int swap_level = -1;

	(void)state;
	assert_true(kt_check_host_swap(32 * GIB) == 8 * GIB);
	assert_true(kt_check_swap_needed(32 * GIB, 4 * GIB, 56 * GIB) == 36 * GIB);
	assert_true(kt_check_swap_needed(32 * GIB, 4 * GIB, 28 * GIB) == 8 * GIB);

	memset(doms, 0, sizeof(doms));
	for (int i = 0; i < 56; i++) {
		snprintf(doms[i].name, sizeof(doms[i].name), "guest%d", i);
		doms[i].memory = GIB;
		doms[i].vcpus = 1;
	}
	h.mem.mem_total = 32 * GIB;
	h.domains = doms;
	h.n_domains = 56;
	/* KSM savings are shown but never make up for missing swap. */
	h.ksm.available = true;
	h.ksm.saved_bytes = 20 * GIB;
	for (int pass = 0; pass < 2; pass++) {
		h.mem.swap_total = pass ? 36 * GIB : 36 * GIB - 1;
		assert_int_equal(kt_check_run(&h, &rep), 0);
		for (unsigned k = 0; k < rep.n; k++) {
			if (strcmp(rep.items[k].check, "swap") == 0) {
				swap_level = rep.items[k].level;
				assert_non_null(strstr(rep.items[k].message, " 36.0 GiB "));
				assert_non_null(strstr(rep.items[k].message,
						       "(8.0 GiB for the host, 28.0 GiB for the guests)"));
			}
			if (strcmp(rep.items[k].check, "memory-overcommit") == 0) {
				assert_int_equal(rep.items[k].level, KT_CHECK_PASS);
				assert_non_null(strstr(rep.items[k].message, "KSM saves 20.0 GiB"));
			}
		}
		assert_int_equal(swap_level, pass ? KT_CHECK_PASS : KT_CHECK_FAIL);
		kt_check_report_clear(&rep);
	}
	/* 321 GiB committed on 32 GiB: beyond 10x, whatever the swap. */
	doms[0].memory = 266 * GIB;
	h.mem.swap_total = 1024 * GIB;
	assert_int_equal(kt_check_run(&h, &rep), 0);
	for (unsigned k = 0; k < rep.n; k++)
		if (strcmp(rep.items[k].check, "memory-overcommit") == 0)
			assert_int_equal(rep.items[k].level, KT_CHECK_FAIL);
	assert_true(rep.count[KT_CHECK_FAIL] >= 1);
	kt_check_report_clear(&rep);
}

/*
 * The disk-scheduler check on the iosched-6.18 fixture, through the resolver kvm_iosched
 * uses: dm-crypt on md RAID1 on partitioned HDDs, a loop device on a file, an image file,
 * LVM on NVMe. dm-0 and md0 report rotational=1 and scheduler none themselves: only the
 * disks beneath them count.
 */
struct sched_case {
	const char *desc;
	const char *source;
	/* A disk whose scheduler is set to none first, or NULL. */
	const char *none_on;
	enum kt_check_level level;
	const char *expect;
};

#define BLOCK_DISK(dev)                                                                        \
	DOM("a", 1024, 1,                                                                      \
	    DEVICES("<disk type='block' device='disk'><source dev='" dev                      \
		    "'/><target dev='vda' bus='virtio'/></disk>"))
#define FILE_DISK(file)                                                                        \
	DOM("a", 1024, 1,                                                                      \
	    DEVICES("<disk type='file' device='disk'><source file='" file                     \
		    "'/><target dev='vda' bus='virtio'/></disk>"))

static const struct sched_case sched_cases[] = {
	{ "dm-crypt on md: the HDDs beneath have bfq", BLOCK_DISK("/dev/mapper/luks-data"), NULL,
	  KT_CHECK_PASS, "1 guest disk on host block devices with a fitting scheduler" },
	{ "dm-crypt on md: one HDD beneath with none", BLOCK_DISK("/dev/mapper/luks-data"), "sdc",
	  KT_CHECK_WARN,
	  "domain a disk vda is on sdc (through dm-0, md0, sdc1), a rotational disk with scheduler none" },
	{ "a loop device on a file on an HDD with none", BLOCK_DISK("/dev/loop0"), "sdd",
	  KT_CHECK_WARN, "domain a disk vda is on sdd (through loop0, sdd1), a rotational disk" },
	{ "an image file on an HDD's partition with none", FILE_DISK("/srv/guests/batch1.img"),
	  "sdd", KT_CHECK_WARN, "domain a disk vda is on sdd (through sdd1), a rotational disk" },
	{ "an image file on an HDD with mq-deadline", FILE_DISK("/srv/guests/batch1.img"), NULL,
	  KT_CHECK_PASS, "1 guest disk on" },
	{ "LVM on NVMe with none", BLOCK_DISK("/dev/mapper/vg-guests"), "nvme0n1", KT_CHECK_PASS,
	  "1 guest disk on" },
	{ "a whole HDD with none", BLOCK_DISK("/dev/sde"), NULL, KT_CHECK_WARN,
	  "domain a disk vda is on sde, a rotational disk with scheduler none" },
	{ "a network disk resolves to nothing",
	  DOM("a", 1024, 1, DEVICES("<disk type='network' device='disk'><source protocol='rbd' "
				    "name='pool/img'/><target dev='vda' bus='virtio'/></disk>")),
	  NULL, KT_CHECK_PASS, "0 guest disks on" },
};

static void test_scheduler_chains(void **state)
{
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(sched_cases); i++) {
		const struct sched_case *c = &sched_cases[i];
		struct fixture *f = fixture_open("iosched-6.18");
		enum kt_check_level worst = KT_CHECK_PASS;
		struct kt_check_report rep;
		struct kt_host_facts h;
		bool found = false;
		char path[96];

		/* The fixture holds the block layer only. */
		fixture_write(f, "proc/meminfo", "MemTotal: 33554432 kB\nMemFree: 30000000 kB\n"
						 "MemAvailable: 31000000 kB\nSwapTotal: 0 kB\n"
						 "SwapFree: 0 kB\nHugepagesize: 2048 kB\n");
		if (c->none_on) {
			snprintf(path, sizeof(path), "sys/class/block/%s/queue/scheduler", c->none_on);
			fixture_write(f, path, "mq-deadline kyber bfq [none]");
		}
		assert_int_equal(kt_host_facts_read(f->ctx, &h), 0);
		assert_int_equal(kt_host_facts_add_domain(f->ctx, &h, c->source, strlen(c->source),
							  true), 0);
		assert_int_equal(kt_check_run(&h, &rep), 0);
		for (unsigned k = 0; k < rep.n; k++) {
			if (strcmp(rep.items[k].check, "disk-scheduler") != 0)
				continue;
			if (rep.items[k].level > worst)
				worst = rep.items[k].level;
			if (strstr(rep.items[k].message, c->expect))
				found = true;
			else
				fprintf(stderr, "  %s\n", rep.items[k].message);
		}
		if (worst != c->level || !found)
			fail_msg("%s: disk-scheduler is %s, expected %s with \"%s\"", c->desc,
				 kt_check_level_name(worst), kt_check_level_name(c->level), c->expect);
		kt_check_report_clear(&rep);
		kt_host_facts_clear(&h);
		fixture_close(f);
	}
}

static void test_domain_parse(void **state)
{
	static const char xml[] =
		"<domain type='kvm'><name>db</name><memory unit='G'>8</memory><vcpu>2</vcpu>"
		"<cputune><vcpupin vcpu='0' cpuset='2'/><vcpupin vcpu='1' cpuset='2-3,^2'/></cputune>"
		"<memoryBacking><hugepages><page size='1048576'/></hugepages></memoryBacking>"
		"<numatune><memory nodeset='1'/></numatune><devices>"
		"<disk type='file' device='disk'><driver cache='none'/><source file='/img/db.qcow2'/>"
		"<target dev='vda' bus='virtio'/></disk>"
		"<disk type='file' device='cdrom'><target dev='sda' bus='sata'/></disk>"
		"<interface type='bridge'><source bridge='br0'/><model type='virtio'/></interface>"
		"</devices></domain>";
	static const char *const bad[] = {
		"<domain><memory>1</memory></domain>",	/* no name */
		"<domain><name>a</name></domain>",	/* no memory */
		"<domain><name>a</name><memory unit='parsec'>1</memory></domain>",
		"<domain><name>a</name><memory>1</memory><vcpu>0</vcpu></domain>",
		"<domain><name>a</name><memory>1</memory><cputune><vcpupin vcpu='0' cpuset='x'/></cputune></domain>",
		"<network><name>a</name></network>",
		"<domain><name>a</name><memory>1</memory><memoryBacking><hugepages>"
		"<page size='2048' nodeset='x'/></hugepages></memoryBacking></domain>",
		"<domain><name>a</name",
	};
	struct kt_check_domain d;

	(void)state;
	assert_int_equal(kt_check_domain_parse(xml, sizeof(xml) - 1, 2 << 20, &d), 0);
	assert_string_equal(d.name, "db");
	assert_true(d.memory == 8 * GIB);
	assert_int_equal(d.vcpus, 2);
	assert_int_equal(d.n_vcpupins, 2);
	assert_true(d.dedicated);
	assert_true(kt_cpuset_has(&d.pinned, 2) && kt_cpuset_has(&d.pinned, 3));
	assert_true(d.hugepages);
	/* No guest NUMA: one cell of all 8 GiB, on the strict nodeset's node 1. */
	assert_int_equal(d.n_hp, 1);
	assert_true(d.hp[0].page_size == GIB && d.hp[0].node == 1 && d.hp[0].pages == 8);
	assert_true(d.numa_bound);
	assert_string_equal(d.numa_mode, "strict");
	assert_true(kt_cpuset_has(&d.nodeset, 1) && !kt_cpuset_has(&d.nodeset, 0));
	assert_int_equal(d.n_disks, 2);
	assert_string_equal(d.disks[0].source, "/img/db.qcow2");
	assert_string_equal(d.disks[0].cache, "none");
	assert_string_equal(d.disks[1].device, "cdrom");
	assert_int_equal(d.n_nics, 1);
	assert_string_equal(d.nics[0].source, "br0");
	kt_check_domain_clear(&d);
	for (size_t i = 0; i < KT_ELEMENTSOF(bad); i++)
		if (kt_check_domain_parse(bad[i], strlen(bad[i]), 2 << 20, &d) != -EBADMSG)
			fail_msg("accepted %s", bad[i]);
}

static void test_facts(void **state)
{
	struct fixture *f = fixture_open("check-2node");
	const struct kt_hugepage_pool *p;
	struct kt_host_facts h;
	int fd = -1;
	bool ksm_held = false;

	(void)state;
	assert_int_equal(kt_lock_take(f->ctx, "ksm", "kvmtune ksm watch (mode dynamic)", "ksm-watch",
				      &fd), 0);
	fixture_write(f, "run/kvmtune/hugepages-2048kB.lock", "");
	fixture_write(f, "etc/tuned/active_profile", "kvm-dense\n");
	assert_int_equal(kt_host_facts_read(f->ctx, &h), 0);
	assert_string_equal(h.active_profile, "kvm-dense");
	assert_true(h.mem.mem_total == 32 * GIB);
	assert_int_equal(kt_cpuset_count(&h.topo->online), 4);
	assert_int_equal(h.n_pools, 6);
	p = kt_host_facts_pool(&h, 1, GIB);
	assert_non_null(p);
	assert_true(p->total == 2);
	p = kt_host_facts_pool(&h, -1, 2 << 20);
	assert_true(p && p->total == 1024);
	/* A partition's disk, as kvm_iosched resolves it. */
	{
		static const char xml[] = DOM("p", 1024, 1, DEVICES(DISK("", "/dev/sdb1", "virtio")));
		const struct kt_block_dev *b;

		assert_int_equal(kt_host_facts_add_domain(f->ctx, &h, xml, sizeof(xml) - 1, true), 0);
		assert_int_equal(h.domains[0].disks[0].n_devs, 1);
		b = &h.domains[0].disks[0].devs[0];
		assert_string_equal(b->name, "sdb");
		assert_string_equal(b->via, "sdb1");
		assert_true(b->rotational);
		assert_string_equal(b->scheduler, "mq-deadline");
	}
	assert_int_equal(h.n_areas, 2);
	for (unsigned i = 0; i < h.n_areas; i++)
		if (strcmp(h.areas[i].area, "ksm") == 0)
			ksm_held = h.areas[i].held &&
				   strcmp(h.areas[i].info.journal, "ksm-watch") == 0;
	assert_true(ksm_held);
	assert_string_equal(h.areas[0].area, "hugepages-2048kB");
	assert_false(h.areas[0].held);
	assert_true(h.ksm.available);
	assert_string_equal(h.ksm_rival, "");
	kt_host_facts_clear(&h);
	kt_lock_release(fd);

	/* A host with nothing of kvmtune's: no locks, no profile, no KSM, no NUMA sysfs. */
	fixture_close(f);
	f = fixture_open("no-ksm");
	assert_int_equal(kt_host_facts_read(f->ctx, &h), 0);
	assert_false(h.ksm.available);
	assert_int_equal(h.n_areas, 1);
	assert_int_equal(h.n_pools, 0);
	kt_host_facts_clear(&h);
	fixture_close(f);
}

/* status: journals matched with their holders, orphans, corrupt ones only read. */
static void test_status_view(void **state)
{
	struct fixture *f = fixture_open("check-2node");
	struct kt_kvlist kv = KT_KVLIST_INIT;
	struct kt_status st;
	int fd = -1;

	(void)state;
	assert_int_equal(kt_kvlist_set(&kv, "run", "1"), 0);
	assert_int_equal(kt_kvlist_set(&kv, "pages_to_scan", "500"), 0);
	assert_int_equal(kt_journal_write(f->ctx, "kvm_ksm-kvm_ksm", &kv), 0);
	assert_int_equal(kt_journal_write(f->ctx, "hugepages-gone", &kv), 0);
	kt_kvlist_clear(&kv);
	fixture_write(f, "var/lib/kvmtune/pin-x.journal", "kvmtune-journal 1\nnr=1\n");
	assert_int_equal(kt_lock_take(f->ctx, "ksm", "tuned instance kvm_ksm", "kvm_ksm-kvm_ksm",
				      &fd), 0);
	assert_int_equal(kt_status_read(f->ctx, &st), 0);
	assert_int_equal(st.n_journals, 3);
	/* Sorted by name. */
	assert_string_equal(st.journals[0].name, "hugepages-gone");
	assert_true(st.journals[0].valid);
	assert_null(st.journals[0].area);
	assert_string_equal(st.journals[1].name, "kvm_ksm-kvm_ksm");
	assert_non_null(st.journals[1].area);
	assert_string_equal(st.journals[1].area->area, "ksm");
	/* The fixture's KSM has run=0 and pages_to_scan=100 now. */
	assert_string_equal(kt_status_current(&st, &st.journals[1], "run"), "0");
	assert_string_equal(kt_status_current(&st, &st.journals[1], "pages_to_scan"), "100");
	assert_null(kt_status_current(&st, &st.journals[1], "nr_hugepages"));
	assert_null(kt_status_current(&st, &st.journals[0], "run"));
	assert_false(st.journals[2].valid);
	assert_non_null(strstr(st.journals[2].why, "truncated"));
	assert_string_equal(kt_status_ksm_state(&st.h.ksm), "stopped");
	kt_status_clear(&st);
	assert_true(fixture_exists(f, "var/lib/kvmtune/pin-x.journal"));
	assert_int_equal(f->warnings, 0);
	kt_lock_release(fd);
	fixture_close(f);
}

/* A journal of key, value pairs, NULL-terminated. */
static void write_journal(struct fixture *f, const char *name, const char *const *pairs)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;

	for (; pairs[0]; pairs += 2)
		assert_int_equal(kt_kvlist_set(&kv, pairs[0], pairs[1]), 0);
	assert_int_equal(kt_journal_write(f->ctx, name, &kv), 0);
	kt_kvlist_clear(&kv);
}

/*
 * The controllers' last decisions: the KSM controller's state file (a live writer, then a
 * gone one), a pinning journal its tuning holds, an I/O scheduler journal nobody holds.
 */
static void test_status_controllers(void **state)
{
	struct fixture *f = fixture_open("check-2node");
	struct kt_ksmctl_statefile sf;
	const struct kt_status_controller *ksm, *pin, *io;
	int64_t now = (int64_t)time(NULL), age;
	struct kt_status st;
	int fd = -1;

	(void)state;
	/* Nothing runs: no controller at all. */
	assert_int_equal(kt_status_read(f->ctx, &st), 0);
	assert_int_equal(st.n_controllers, 0);
	kt_status_clear(&st);

	kt_ksmctl_statefile_init(&sf);
	snprintf(sf.owner, sizeof(sf.owner), "tuned instance kvm_ksm");
	snprintf(sf.mode, sizeof(sf.mode), "dynamic");
	snprintf(sf.phase, sizeof(sf.phase), "settled");
	snprintf(sf.reason, sizeof(sf.reason), "settled: 1540 MiB saved");
	sf.since = now - 300;
	sf.decided = now - 20;
	sf.guests_mib = 3072;
	sf.saved_mib = 1540.8;
	sf.pid = 1; /* proc/1 is in the fixture: the writer runs */
	assert_int_equal(kt_ksmctl_statefile_write(f->ctx, &sf), 0);

	write_journal(f, "kvm_pin-kvm_pin",
		      (const char *const[]){ "uri", "qemu:///system", "0b6e.id", "3", "0b6e.name",
					     "web1", "0b6e.vcpu0", "0-3", "0b6e.emulator", "0-3",
					     NULL });
	write_journal(f, "kvm_iosched-kvm_iosched",
		      (const char *const[]){ "boot_id", "5c1d", "sdb.scheduler", "bfq",
					     "sdb.nr_requests", "64", "sdc.scheduler", "bfq", NULL });
	/* Journals of other areas are no controller's. */
	write_journal(f, "kvm_ksm-kvm_ksm", (const char *const[]){ "run", "0", NULL });
	assert_int_equal(kt_lock_take(f->ctx, "pin", "tuned instance kvm_pin", "kvm_pin-kvm_pin",
				      &fd), 0);

	assert_int_equal(kt_status_read(f->ctx, &st), 0);
	assert_int_equal(st.n_controllers, 3);
	ksm = &st.controllers[0];
	assert_string_equal(ksm->area, "ksm");
	assert_true(ksm->have_state && !ksm->stale && !ksm->error);
	assert_string_equal(ksm->owner, "tuned instance kvm_ksm");
	assert_string_equal(ksm->state.reason, "settled: 1540 MiB saved");
	assert_true(ksm->state.guests_mib == 3072 && ksm->state.threshold_mib == -1);
	age = kt_status_age(ksm->decided);
	assert_true(age >= 20 && age < 80);
	/* Journals in name order: iosched, then pin. */
	io = &st.controllers[1];
	pin = &st.controllers[2];
	assert_string_equal(pin->area, "pin");
	assert_string_equal(pin->journal, "kvm_pin-kvm_pin");
	assert_false(pin->stale);
	assert_string_equal(pin->owner, "tuned instance kvm_pin");
	assert_int_equal(pin->n_subjects, 1);
	assert_string_equal(pin->subjects[0].name, "web1");
	assert_string_equal(pin->subjects[0].items, "vcpu0, emulator");
	assert_true(kt_status_age(pin->decided) >= 0 && kt_status_age(pin->decided) < 60);
	assert_string_equal(io->area, "iosched");
	assert_true(io->stale);
	assert_string_equal(io->owner, "");
	assert_int_equal(io->n_subjects, 2);
	assert_string_equal(io->subjects[0].name, "sdb");
	assert_string_equal(io->subjects[0].items, "scheduler, nr_requests");
	assert_string_equal(io->subjects[1].name, "sdc");
	kt_status_clear(&st);
	kt_lock_release(fd);

	/* The controller's process is gone: its state is stale. */
	sf.pid = 4242;
	assert_int_equal(kt_ksmctl_statefile_write(f->ctx, &sf), 0);
	assert_int_equal(kt_status_read(f->ctx, &st), 0);
	assert_true(st.controllers[0].have_state && st.controllers[0].stale);
	assert_true(st.controllers[2].stale);
	kt_status_clear(&st);

	/* A corrupt state file is reported, not trusted. */
	fixture_write(f, "run/kvmtune/ksm-controller.state", "owner\n");
	assert_int_equal(kt_status_read(f->ctx, &st), 0);
	assert_false(st.controllers[0].have_state);
	assert_int_equal(st.controllers[0].error, -EBADMSG);
	kt_status_clear(&st);
	assert_int_equal(kt_status_age(0), -1);
	assert_int_equal(kt_status_age(now + 3600), -1);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_red_hat_example),
		cmocka_unit_test(test_scheduler_chains),
		cmocka_unit_test(test_domain_parse),
		cmocka_unit_test(test_facts),
		cmocka_unit_test(test_status_view),
		cmocka_unit_test(test_status_controllers),
	};

	return cmocka_run_group_tests(tests, host_guard_setup, host_guard_teardown);
}
