/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "ctx.h"

/* The /proc/meminfo fields kvmtune decides on, in bytes. A field the kernel lacks stays 0. */
struct kt_meminfo {
	uint64_t mem_total;
	uint64_t mem_free;
	uint64_t mem_available;
	uint64_t buffers;
	uint64_t cached;
	uint64_t swap_total;
	uint64_t swap_free;
	uint64_t anon_huge_pages;
	uint64_t hugepages_total;
	uint64_t hugepages_free;
	uint64_t hugepage_size;
};

/* Parses the text of /proc/meminfo; -EINVAL when MemTotal is missing or a known field is malformed. */
int kt_meminfo_parse(const char *text, struct kt_meminfo *ret);
int kt_meminfo_read(const struct kt_ctx *ctx, struct kt_meminfo *ret);
