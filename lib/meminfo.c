// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stddef.h>
#include <string.h>

#include "io.h"
#include "meminfo.h"
#include "parse.h"

static const struct {
	const char *name;
	size_t offset;
	/* HugePages_Total/Free are page counts, every other field is "N kB". */
	int is_count;
} fields[] = {
	{ "MemTotal", offsetof(struct kt_meminfo, mem_total), 0 },
	{ "MemFree", offsetof(struct kt_meminfo, mem_free), 0 },
	{ "MemAvailable", offsetof(struct kt_meminfo, mem_available), 0 },
	{ "Buffers", offsetof(struct kt_meminfo, buffers), 0 },
	{ "Cached", offsetof(struct kt_meminfo, cached), 0 },
	{ "SwapTotal", offsetof(struct kt_meminfo, swap_total), 0 },
	{ "SwapFree", offsetof(struct kt_meminfo, swap_free), 0 },
	{ "AnonHugePages", offsetof(struct kt_meminfo, anon_huge_pages), 0 },
	{ "HugePages_Total", offsetof(struct kt_meminfo, hugepages_total), 1 },
	{ "HugePages_Free", offsetof(struct kt_meminfo, hugepages_free), 1 },
	{ "Hugepagesize", offsetof(struct kt_meminfo, hugepage_size), 0 },
};

int kt_meminfo_parse(const char *text, struct kt_meminfo *ret)
{
	struct kt_meminfo mi;
	const char *line = text;
	int have_total = 0;

	memset(&mi, 0, sizeof(mi));
	while (line && *line) {
		const char *eol = strchr(line, '\n'), *colon = strchr(line, ':');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);

		if (colon && colon < line + len) {
			size_t nlen = (size_t)(colon - line);

			for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
				char val[64];
				size_t vlen = len - nlen - 1;
				uint64_t v;
				long long n;

				if (strlen(fields[i].name) != nlen || memcmp(fields[i].name, line, nlen) != 0)
					continue;
				if (vlen >= sizeof(val))
					return -EINVAL;
				memcpy(val, colon + 1, vlen);
				val[vlen] = '\0';
				if (fields[i].is_count) {
					if (kt_parse_int(val, 0, INT64_MAX, &n) < 0)
						return -EINVAL;
					v = (uint64_t)n;
				} else if (kt_parse_size(val, &v) < 0) {
					return -EINVAL;
				}
				*(uint64_t *)((char *)&mi + fields[i].offset) = v;
				if (i == 0)
					have_total = 1;
				break;
			}
		}
		line = eol ? eol + 1 : NULL;
	}
	if (!have_total)
		return -EINVAL;
	*ret = mi;
	return 0;
}

int kt_meminfo_read(const struct kt_ctx *ctx, struct kt_meminfo *ret)
{
	kt_cleanup_free char *text = NULL;
	int r;

	r = kt_read_file(ctx, "proc/meminfo", &text, NULL);
	if (r < 0)
		return r;
	return kt_meminfo_parse(text, ret);
}
