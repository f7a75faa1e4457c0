/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * Parsers of outside input (profile options, sysfs values, config files). All accept
 * surrounding white space, return 0 or -EINVAL (not of the form) / -ERANGE (out of range),
 * and write *ret only on success.
 */
int kt_parse_int(const char *s, long long min, long long max, long long *ret);
/* tuned's spellings: 1/0, true/false, yes/no, y/n, on/off, any case. */
int kt_parse_bool(const char *s, bool *ret);
/* Bytes, or binary units: 4K, 4k, 4KB, 4KiB, 2M, 2MiB, 1G, 1T. */
int kt_parse_size(const char *s, uint64_t *ret);
/* 0..100, with or without a trailing '%'. */
int kt_parse_percent(const char *s, unsigned *ret);
