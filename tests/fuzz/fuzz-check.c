// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: what `kvmtune check` reads of a libvirt domain's XML (sizes with units,
 * vCPU pins, hugepages, numatune, disks, NICs), then every check over it, twice (two
 * domains alike: pins overlap, pools and nodes are shared) on a made-up host.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_hugepage_pool pools[] = {
		{ -1, 2 << 20, 512, 512 },
		{ 0, 2 << 20, 512, 512 },
		{ -1, 1 << 30, 1, 1 },
	};
	struct kt_host_facts h = { .host_reserve = KT_CHECK_HOST_RESERVE };
	struct kt_check_domain doms[2];
	struct kt_check_report rep;

	if (kt_check_domain_parse((const char *)data, size, 2 << 20, &doms[0]) < 0)
		return 0;
	doms[1] = doms[0];
	h.mem.mem_total = 8ULL << 30;
	h.mem.hugepage_size = 2 << 20;
	h.pools = pools;
	h.n_pools = sizeof(pools) / sizeof(pools[0]);
	h.vcpu_ratio = KT_CHECK_VCPU_RATIO_WARN;
	/* Each disk on a rotational disk with none beneath a stack: every line is formatted. */
	for (unsigned i = 0; i < doms[0].n_disks; i++) {
		struct kt_block_dev *b = &doms[0].disks[i].devs[0];

		doms[0].disks[i].n_devs = 1;
		snprintf(b->name, sizeof(b->name), "sda");
		snprintf(b->scheduler, sizeof(b->scheduler), "none");
		snprintf(b->via, sizeof(b->via), "dm-0, md0, sda1");
		b->rotational = true;
	}
	h.domains = doms;
	h.n_domains = 2;
	if (kt_check_run(&h, &rep) == 0) {
		for (unsigned i = 0; i < rep.n; i++)
			if (!kt_check_level_name(rep.items[i].level) ||
			    !memchr(rep.items[i].message, '\0', sizeof(rep.items[i].message)))
				abort();
		kt_check_report_clear(&rep);
	}
	kt_check_domain_clear(&doms[0]);
	return 0;
}
