// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "hugepages.h"
#include "io.h"
#include "meminfo.h"
#include "parse.h"

#define NODE_DIR "sys/devices/system/node"

static int pool_path(int node, uint64_t kb, const char *file, char *buf, size_t size)
{
	int n;

	if (node >= 0)
		n = snprintf(buf, size, NODE_DIR "/node%d/hugepages/hugepages-%llukB/%s", node,
			     (unsigned long long)kb, file);
	else
		n = snprintf(buf, size, KT_HP_DIR "/hugepages-%llukB/%s", (unsigned long long)kb,
			     file);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int kt_hp_sizes(const struct kt_ctx *ctx, uint64_t ret[KT_HP_SIZES_MAX], unsigned *ret_n)
{
	unsigned n = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	fd = openat(kt_ctx_root_fd(ctx), KT_HP_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kt_negerrno();
	d = fdopendir(fd);
	if (!d) {
		int r = kt_negerrno();

		close(fd);
		return r;
	}
	while ((de = readdir(d)) && n < KT_HP_SIZES_MAX) {
		unsigned long long kb;
		char tail[4];

		/* "hugepages-2048kB": anything else in the directory is not a pool. */
		if (sscanf(de->d_name, "hugepages-%llu%3s", &kb, tail) == 2 &&
		    strcmp(tail, "kB") == 0 && kb > 0)
			ret[n++] = kb;
	}
	closedir(d);
	qsort(ret, n, sizeof(ret[0]), cmp_u64);
	*ret_n = n;
	return n ? 0 : -ENOENT;
}

bool kt_hp_size_supported(const struct kt_ctx *ctx, uint64_t kb)
{
	char path[128];

	return pool_path(-1, kb, "nr_hugepages", path, sizeof(path)) == 0 &&
	       kt_attr_exists(ctx, path);
}

int kt_hp_default_kb(const struct kt_ctx *ctx, uint64_t *ret)
{
	struct kt_meminfo mi;
	uint64_t sizes[KT_HP_SIZES_MAX] = { 0 };
	unsigned n = 0;
	int r;

	r = kt_meminfo_read(ctx, &mi);
	if (r == 0 && mi.hugepage_size) {
		*ret = mi.hugepage_size >> 10;
		return 0;
	}
	/* No Hugepagesize line: the smallest pool is the architecture's default. */
	r = kt_hp_sizes(ctx, sizes, &n);
	if (r < 0)
		return r;
	*ret = sizes[0];
	return 0;
}

void kt_hp_size_name(uint64_t kb, char *buf, size_t size)
{
	if (kb && kb % (UINT64_C(1) << 20) == 0)
		snprintf(buf, size, "%lluG", (unsigned long long)(kb >> 20));
	else if (kb && kb % 1024 == 0)
		snprintf(buf, size, "%lluM", (unsigned long long)(kb >> 10));
	else
		snprintf(buf, size, "%lluK", (unsigned long long)kb);
}

int kt_hp_size_parse(const char *s, uint64_t *ret_kb)
{
	uint64_t bytes;
	int r;

	if (!s)
		return -EINVAL;
	s += strspn(s, " \t");
	if (!*s || strcmp(s, "default") == 0) {
		*ret_kb = 0;
		return 0;
	}
	r = kt_parse_size(s, &bytes);
	if (r < 0)
		return r;
	/* A page is at least 4 KiB and a whole number of KiB. */
	if (bytes < 4096 || bytes % 1024)
		return -EINVAL;
	*ret_kb = bytes >> 10;
	return 0;
}

bool kt_hp_node_has_pools(const struct kt_ctx *ctx, int node)
{
	char path[96];

	if (node < 0)
		return false;
	snprintf(path, sizeof(path), NODE_DIR "/node%d/hugepages", node);
	return kt_attr_exists(ctx, path);
}

static int read_one(const struct kt_ctx *ctx, int node, uint64_t kb, const char *file,
		    uint64_t *ret)
{
	char path[160];
	int r;

	r = pool_path(node, kb, file, path, sizeof(path));
	if (r < 0)
		return r;
	return kt_read_u64(ctx, path, ret);
}

int kt_hp_read(const struct kt_ctx *ctx, int node, uint64_t kb, struct kt_hp_counts *ret)
{
	struct kt_hp_counts c = { 0 };
	int r;

	r = read_one(ctx, node, kb, "nr_hugepages", &c.nr);
	if (r < 0)
		return r;
	r = read_one(ctx, node, kb, "free_hugepages", &c.free);
	if (r < 0)
		return r;
	/* Older kernels and fixtures may lack these: zero is what they mean. */
	read_one(ctx, node, kb, "surplus_hugepages", &c.surplus);
	if (node < 0) {
		read_one(ctx, node, kb, "resv_hugepages", &c.resv);
		read_one(ctx, node, kb, "nr_overcommit_hugepages", &c.overcommit);
	}
	*ret = c;
	return 0;
}

int kt_hp_write(const struct kt_ctx *ctx, int node, uint64_t kb, uint64_t nr)
{
	char path[160], value[32];
	int r;

	r = pool_path(node, kb, "nr_hugepages", path, sizeof(path));
	if (r < 0)
		return r;
	snprintf(value, sizeof(value), "%llu", (unsigned long long)nr);
	return kt_write_attr(ctx, path, value);
}

int kt_hp_compact(const struct kt_ctx *ctx, int node)
{
	char path[96];

	if (node < 0)
		return kt_write_attr(ctx, "proc/sys/vm/compact_memory", "1");
	snprintf(path, sizeof(path), NODE_DIR "/node%d/compact", node);
	return kt_write_attr(ctx, path, "1");
}

int kt_hp_drop_caches(const struct kt_ctx *ctx)
{
	return kt_write_attr(ctx, "proc/sys/vm/drop_caches", "1");
}
