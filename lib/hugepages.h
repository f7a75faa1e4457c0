/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "ctx.h"

/*
 * The kernel's hugepage pools: one per page size the kernel offers (2M, 1G, ...), globally
 * in sys/kernel/mm/hugepages/hugepages-<kB>kB and per NUMA node in
 * sys/devices/system/node/nodeN/hugepages/hugepages-<kB>kB, below the context's root.
 * Node -1 means the global pool (a kernel without NUMA has only that one).
 */
#define KT_HP_DIR "sys/kernel/mm/hugepages"
#define KT_HP_SIZES_MAX 8

struct kt_hp_counts {
	uint64_t nr;
	uint64_t free;
	uint64_t surplus;
	/* Global only: pages promised to mappings but not yet faulted, and the overcommit limit. */
	uint64_t resv;
	uint64_t overcommit;
};

/* Pages that back a mapping now: they cannot be freed until their user lets go. */
static inline uint64_t kt_hp_in_use(const struct kt_hp_counts *c)
{
	return c->nr > c->free ? c->nr - c->free : 0;
}

/* The sizes of every pool, in kB, ascending; -ENOENT when the kernel has no hugetlb. */
int kt_hp_sizes(const struct kt_ctx *ctx, uint64_t ret[KT_HP_SIZES_MAX], unsigned *ret_n);
bool kt_hp_size_supported(const struct kt_ctx *ctx, uint64_t kb);
/* Hugepagesize of /proc/meminfo, in kB. */
int kt_hp_default_kb(const struct kt_ctx *ctx, uint64_t *ret);
/* "2M", "1G", "64K": the page size as people write it. */
void kt_hp_size_name(uint64_t kb, char *buf, size_t size);
/* A page size option ("2M", "1G", "2048kB", "default" or empty) -> kB; -EINVAL otherwise. */
int kt_hp_size_parse(const char *s, uint64_t *ret_kb);

/* Whether the kernel shows per-node pools for node (nodeN/hugepages). */
bool kt_hp_node_has_pools(const struct kt_ctx *ctx, int node);
int kt_hp_read(const struct kt_ctx *ctx, int node, uint64_t kb, struct kt_hp_counts *ret);
/* Writes nr_hugepages of one node's (or the global) pool; the kernel may give fewer. */
int kt_hp_write(const struct kt_ctx *ctx, int node, uint64_t kb, uint64_t nr);
/* Compacts one node's memory (nodeN/compact), or all memory for node -1. */
int kt_hp_compact(const struct kt_ctx *ctx, int node);
/* Drops clean page cache only (vm/drop_caches=1): nothing dirty, no slab. */
int kt_hp_drop_caches(const struct kt_ctx *ctx);
