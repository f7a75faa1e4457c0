// SPDX-License-Identifier: LGPL-2.1-or-later
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

static const char *skip_ws(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static bool only_ws(const char *s)
{
	return *skip_ws(s) == '\0';
}

/* Parses the leading unsigned decimal number; leaves *end after it. */
static int parse_u64_prefix(const char *s, uint64_t *ret, const char **end)
{
	unsigned long long v;
	char *e;

	s = skip_ws(s);
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*ret = v;
	*end = e;
	return 0;
}

int kt_parse_int(const char *s, long long min, long long max, long long *ret)
{
	bool neg = false;
	uint64_t mag;
	const char *end;
	long long v;
	int r;

	if (!s)
		return -EINVAL;
	s = skip_ws(s);
	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	r = parse_u64_prefix(s, &mag, &end);
	if (r < 0)
		return r;
	if (!only_ws(end))
		return -EINVAL;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(long long)mag;
	} else {
		if (mag > INT64_MAX)
			return -ERANGE;
		v = (long long)mag;
	}
	if (v < min || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

int kt_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "1", "true", "yes", "y", "on" };
	static const char *const no[] = { "0", "false", "no", "n", "off" };
	char buf[8];
	size_t len;

	if (!s)
		return -EINVAL;
	s = skip_ws(s);
	len = strcspn(s, " \t\n");
	if (len == 0 || len >= sizeof(buf) || !only_ws(s + len))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(buf, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(buf, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int kt_parse_size(const char *s, uint64_t *ret)
{
	static const struct {
		const char *suffix;
		unsigned shift;
	} units[] = {
		{ "", 0 },     { "b", 0 },    { "k", 10 },   { "kb", 10 },  { "kib", 10 },
		{ "m", 20 },   { "mb", 20 },  { "mib", 20 }, { "g", 30 },   { "gb", 30 },
		{ "gib", 30 }, { "t", 40 },   { "tb", 40 },  { "tib", 40 },
	};
	const char *end;
	char unit[4];
	uint64_t v;
	size_t len;
	int r;

	if (!s)
		return -EINVAL;
	r = parse_u64_prefix(s, &v, &end);
	if (r < 0)
		return r;
	end = skip_ws(end);
	len = strcspn(end, " \t\n");
	if (len >= sizeof(unit) || !only_ws(end + len))
		return -EINVAL;
	memcpy(unit, end, len);
	unit[len] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(unit, units[i].suffix) != 0)
			continue;
		if (units[i].shift && v > (UINT64_MAX >> units[i].shift))
			return -ERANGE;
		*ret = v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

int kt_parse_percent(const char *s, unsigned *ret)
{
	char buf[32];
	long long v;
	size_t len;
	int r;

	if (!s)
		return -EINVAL;
	s = skip_ws(s);
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len > 0 && s[len - 1] == '%')
		len--;
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	r = kt_parse_int(buf, 0, 100, &v);
	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}
