/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Linux's default NR_CPUS ceiling on x86_64 MAXSMP kernels. */
#define KT_CPU_MAX 8192

struct kt_cpuset {
	uint64_t bits[KT_CPU_MAX / 64];
};

void kt_cpuset_clear(struct kt_cpuset *set);
void kt_cpuset_add(struct kt_cpuset *set, unsigned cpu);
bool kt_cpuset_has(const struct kt_cpuset *set, unsigned cpu);
unsigned kt_cpuset_count(const struct kt_cpuset *set);

/*
 * tuned's CPU list syntax: "0-3,8,^2" (elements joined by commas, "^" removes CPUs after all
 * additions), or a hex mask as in /proc ("0xff" or "ff,ffffffff" after a 0x prefix).
 */
int kt_cpulist_parse(const char *s, struct kt_cpuset *ret);
/* Canonical "0-1,4" form; returns the length, or -ENOSPC when buf is too small. */
int kt_cpulist_format(const struct kt_cpuset *set, char *buf, size_t size);
