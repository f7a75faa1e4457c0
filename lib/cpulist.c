// SPDX-License-Identifier: LGPL-2.1-or-later
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpulist.h"

void kt_cpuset_clear(struct kt_cpuset *set)
{
	memset(set, 0, sizeof(*set));
}

void kt_cpuset_add(struct kt_cpuset *set, unsigned cpu)
{
	if (cpu < KT_CPU_MAX)
		set->bits[cpu / 64] |= UINT64_C(1) << (cpu % 64);
}

bool kt_cpuset_has(const struct kt_cpuset *set, unsigned cpu)
{
	return cpu < KT_CPU_MAX && (set->bits[cpu / 64] >> (cpu % 64)) & 1;
}

unsigned kt_cpuset_count(const struct kt_cpuset *set)
{
	unsigned n = 0;

	for (size_t i = 0; i < KT_CPU_MAX / 64; i++)
		n += (unsigned)__builtin_popcountll(set->bits[i]);
	return n;
}

static int parse_cpu(const char **p, unsigned *ret)
{
	unsigned v = 0;

	while (isspace((unsigned char)**p))
		(*p)++;
	if (!isdigit((unsigned char)**p))
		return -EINVAL;
	while (isdigit((unsigned char)**p)) {
		v = v * 10 + (unsigned)(**p - '0');
		if (v >= KT_CPU_MAX)
			return -ERANGE;
		(*p)++;
	}
	while (isspace((unsigned char)**p))
		(*p)++;
	*ret = v;
	return 0;
}

static int parse_hex_mask(const char *s, struct kt_cpuset *ret)
{
	size_t len = strlen(s);
	unsigned bit = 0;
	bool any = false;

	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	for (size_t i = len; i > 0; i--) {
		char c = s[i - 1];
		unsigned nibble;

		if (c == ',')
			continue;
		if (!isxdigit((unsigned char)c))
			return -EINVAL;
		nibble = (unsigned)(isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10);
		for (unsigned b = 0; b < 4; b++, bit++)
			if (nibble & (1u << b)) {
				if (bit >= KT_CPU_MAX)
					return -ERANGE;
				kt_cpuset_add(ret, bit);
			}
		any = true;
	}
	return any ? 0 : -EINVAL;
}

int kt_cpulist_parse(const char *s, struct kt_cpuset *ret)
{
	struct kt_cpuset add, del;
	const char *p;

	if (!s)
		return -EINVAL;
	kt_cpuset_clear(&add);
	kt_cpuset_clear(&del);
	while (isspace((unsigned char)*s))
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		int r = parse_hex_mask(s + 2, &add);

		if (r < 0)
			return r;
		*ret = add;
		return 0;
	}
	p = s;
	for (;;) {
		bool negate = false;
		unsigned lo, hi;
		int r;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '^') {
			negate = true;
			p++;
		}
		r = parse_cpu(&p, &lo);
		if (r < 0)
			return r;
		hi = lo;
		if (*p == '-') {
			p++;
			r = parse_cpu(&p, &hi);
			if (r < 0)
				return r;
			if (hi < lo)
				return -EINVAL;
		}
		for (unsigned c = lo; c <= hi; c++)
			kt_cpuset_add(negate ? &del : &add, c);
		if (*p == '\0')
			break;
		if (*p != ',')
			return -EINVAL;
		p++;
	}
	for (size_t i = 0; i < KT_CPU_MAX / 64; i++)
		add.bits[i] &= ~del.bits[i];
	*ret = add;
	return 0;
}

int kt_cpulist_format(const struct kt_cpuset *set, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return -ENOSPC;
	buf[0] = '\0';
	for (unsigned c = 0; c < KT_CPU_MAX; c++) {
		unsigned end = c;
		int n;

		if (!kt_cpuset_has(set, c))
			continue;
		while (end + 1 < KT_CPU_MAX && kt_cpuset_has(set, end + 1))
			end++;
		if (end == c)
			n = snprintf(buf + len, size - len, "%s%u", len ? "," : "", c);
		else
			n = snprintf(buf + len, size - len, "%s%u-%u", len ? "," : "", c, end);
		if (n < 0 || (size_t)n >= size - len)
			return -ENOSPC;
		len += (size_t)n;
		c = end;
	}
	return (int)len;
}
