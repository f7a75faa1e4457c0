// SPDX-License-Identifier: LGPL-2.1-or-later
/* The facts `kvmtune check` judges, read once below the context's root. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "check.h"
#include "io.h"
#include "parse.h"
#include "procscan.h"

#define HUGEPAGES_DIR "sys/kernel/mm/hugepages"
#define NODE_DIR      "sys/devices/system/node"

/* The other KSM controllers kvm_ksm's controller gives way to (as ksmctl-run.c does). */
static const char *const ksm_rivals[] = {"ksmtuned", "momd"};

static int find_rival(void *data, pid_t pid, const char *comm)
{
	struct kt_host_facts *h = data;

	for (size_t i = 0; i < KT_ELEMENTSOF(ksm_rivals); i++)
		if (strcmp(comm, ksm_rivals[i]) == 0) {
			snprintf(h->ksm_rival, sizeof(h->ksm_rival), "%s", comm);
			h->ksm_rival_pid = pid;
			return 1;
		}
	return 0;
}

struct pool_dir {
	const struct kt_ctx *ctx;
	struct kt_host_facts *h;
	const char *dir;
	int node;
};

/* "hugepages-2048kB" entries, each with nr_hugepages and free_hugepages. */
static int one_pool(void *data, const char *name)
{
	struct pool_dir *p = data;
	struct kt_hugepage_pool pool = {.node = p->node}, *pools;
	unsigned long long kb;
	char path[192], end;

	if (sscanf(name, "hugepages-%llukB%c", &kb, &end) != 1 || !kb)
		return 0;
	pool.page_size = (uint64_t)kb << 10;
	snprintf(path, sizeof(path), "%s/%s/nr_hugepages", p->dir, name);
	if (kt_read_u64(p->ctx, path, &pool.total) < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/%s/free_hugepages", p->dir, name);
	if (kt_read_u64(p->ctx, path, &pool.free) < 0)
		pool.free = 0;
	pools = realloc(p->h->pools, (p->h->n_pools + 1) * sizeof(*pools));
	if (!pools)
		return -ENOMEM;
	p->h->pools = pools;
	pools[p->h->n_pools++] = pool;
	return 0;
}

static int read_pools(const struct kt_ctx *ctx, struct kt_host_facts *h)
{
	struct pool_dir p = {ctx, h, HUGEPAGES_DIR, -1};
	char dir[96];
	int r;

	r = kt_dir_for_each(ctx, HUGEPAGES_DIR, one_pool, &p);
	if (r < 0 && r != -ENOENT)
		return r;
	for (unsigned i = 0; h->topo && i < h->topo->n_nodes; i++) {
		snprintf(dir, sizeof(dir), NODE_DIR "/node%d/hugepages", h->topo->nodes[i].id);
		p.dir = dir;
		p.node = h->topo->nodes[i].id;
		r = kt_dir_for_each(ctx, dir, one_pool, &p);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

struct ctx_facts {
	const struct kt_ctx *ctx;
	struct kt_host_facts *h;
};

static int one_block(void *data, const char *name)
{
	struct ctx_facts *cf = data;
	struct kt_block_dev b = {0}, *blocks;
	char path[160], buf[256], *open, *close;
	uint64_t rot = 0;

	if (!kt_name_is_safe(name))
		return 0;
	snprintf(b.name, sizeof(b.name), "%s", name);
	snprintf(path, sizeof(path), "sys/block/%s/queue/rotational", name);
	if (kt_read_u64(cf->ctx, path, &rot) < 0)
		return 0;
	b.rotational = rot != 0;
	snprintf(path, sizeof(path), "sys/block/%s/queue/scheduler", name);
	if (kt_read_attr(cf->ctx, path, buf, sizeof(buf)) >= 0) {
		/* "[none] mq-deadline": the active one is in brackets. */
		open = strchr(buf, '[');
		close = open ? strchr(open, ']') : NULL;
		if (open && close) {
			*close = '\0';
			snprintf(b.scheduler, sizeof(b.scheduler), "%s", open + 1);
		} else {
			snprintf(b.scheduler, sizeof(b.scheduler), "%.*s",
				 (int)sizeof(b.scheduler) - 1, buf);
		}
	}
	blocks = realloc(cf->h->blocks, (cf->h->n_blocks + 1) * sizeof(*blocks));
	if (!blocks)
		return -ENOMEM;
	cf->h->blocks = blocks;
	blocks[cf->h->n_blocks++] = b;
	return 0;
}

static int add_area(struct kt_host_facts *h, const struct kt_ctx *ctx, const char *area)
{
	struct kt_area_holder *areas, *a;
	int r;

	for (unsigned i = 0; i < h->n_areas; i++)
		if (strcmp(h->areas[i].area, area) == 0)
			return 0;
	areas = realloc(h->areas, (h->n_areas + 1) * sizeof(*areas));
	if (!areas)
		return -ENOMEM;
	h->areas = areas;
	a = &areas[h->n_areas++];
	memset(a, 0, sizeof(*a));
	snprintf(a->area, sizeof(a->area), "%s", area);
	r = kt_lock_holder(ctx, area, &a->info);
	a->held = r > 0;
	return 0;
}

/* Every area that has a lock file: areas (hugepages per size, pinning, ...) name themselves. */
static int one_lock(void *data, const char *name)
{
	struct ctx_facts *cf = data;
	char area[64];
	size_t len = strlen(name);

	if (len <= 5 || len - 5 >= sizeof(area) || strcmp(name + len - 5, ".lock") != 0)
		return 0;
	memcpy(area, name, len - 5);
	area[len - 5] = '\0';
	return add_area(cf->h, cf->ctx, area);
}

static int area_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kt_area_holder *)a)->area,
		      ((const struct kt_area_holder *)b)->area);
}

int kt_host_facts_read(const struct kt_ctx *ctx, struct kt_host_facts *ret)
{
	struct kt_host_facts h = {.host_reserve = KT_CHECK_HOST_RESERVE};
	struct ctx_facts cf = {ctx, &h};
	char buf[sizeof(h.active_profile)];
	int r;

	r = kt_meminfo_read(ctx, &h.mem);
	if (r < 0) {
		kt_err(ctx, "cannot read /proc/meminfo below %s: %s", kt_ctx_root(ctx),
		       strerror(-r));
		return r;
	}
	r = kt_topology_read(ctx, &h.topo);
	if (r < 0)
		kt_warn(ctx, "cannot read the CPU topology below %s: %s, ignoring",
			kt_ctx_root(ctx), strerror(-r));
	r = kt_ksm_status_read(ctx, &h.ksm);
	if (r < 0)
		memset(&h.ksm, 0, sizeof(h.ksm));
	if (kt_read_attr(ctx, "etc/tuned/active_profile", buf, sizeof(buf)) > 0)
		snprintf(h.active_profile, sizeof(h.active_profile), "%s", buf);
	kt_proc_walk(ctx, find_rival, &h);
	r = read_pools(ctx, &h);
	if (r >= 0) {
		r = kt_dir_for_each(ctx, "sys/block", one_block, &cf);
		if (r == -ENOENT)
			r = 0;
	}
	if (r >= 0)
		r = add_area(&h, ctx, "ksm");
	if (r >= 0) {
		r = kt_dir_for_each(ctx, KT_RUN_DIR, one_lock, &cf);
		if (r == -ENOENT)
			r = 0;
	}
	if (r < 0) {
		kt_host_facts_clear(&h);
		return r;
	}
	qsort(h.areas, h.n_areas, sizeof(*h.areas), area_cmp);
	*ret = h;
	return 0;
}

/* The whole disk a partition belongs to: sda1 -> sda, nvme0n1p2 -> nvme0n1. */
static void whole_disk(const struct kt_host_facts *h, char *name)
{
	size_t len = strlen(name);

	if (kt_host_facts_block(h, name))
		return;
	while (len && name[len - 1] >= '0' && name[len - 1] <= '9')
		len--;
	if (len > 1 && name[len - 1] == 'p' && name[len - 2] >= '0' && name[len - 2] <= '9')
		len--;
	name[len] = '\0';
}

/* The block device of a device number, from sys/dev/block/MAJ:MIN/uevent's DEVNAME. */
static int dev_name(const struct kt_ctx *ctx, dev_t dev, char *buf, size_t size)
{
	char path[64], text[1024], *p;
	int r;

	snprintf(path, sizeof(path), "sys/dev/block/%u:%u/uevent", major(dev), minor(dev));
	r = kt_read_attr(ctx, path, text, sizeof(text));
	if (r < 0)
		return r;
	p = strstr(text, "DEVNAME=");
	if (!p)
		return -ENOENT;
	p += strlen("DEVNAME=");
	snprintf(buf, size, "%.*s", (int)strcspn(p, "\n"), p);
	return 0;
}

static void resolve_disk(const struct kt_ctx *ctx, const struct kt_host_facts *h,
			 struct kt_check_disk *disk)
{
	char name[sizeof(disk->host_dev)] = "";
	struct stat st;

	if (disk->source[0] != '/' || !kt_path_is_safe(disk->source + 1))
		return;
	if (kt_stat(ctx, disk->source + 1, &st) == 0) {
		if (S_ISBLK(st.st_mode))
			dev_name(ctx, st.st_rdev, name, sizeof(name));
		else if (S_ISREG(st.st_mode))
			dev_name(ctx, st.st_dev, name, sizeof(name));
	}
	/* Fixture trees hold no device nodes: /dev/NAME names the device. */
	if (!name[0] && strncmp(disk->source, "/dev/", 5) == 0 &&
	    !strchr(disk->source + 5, '/'))
		snprintf(name, sizeof(name), "%s", disk->source + 5);
	if (!name[0])
		return;
	whole_disk(h, name);
	snprintf(disk->host_dev, sizeof(disk->host_dev), "%s", name);
}

int kt_host_facts_add_domain(const struct kt_ctx *ctx, struct kt_host_facts *h, const char *xml,
			     size_t len, bool active)
{
	struct kt_check_domain d, *domains;
	int r;

	r = kt_check_domain_parse(xml, len, &d);
	if (r < 0)
		return r;
	domains = realloc(h->domains, (h->n_domains + 1) * sizeof(*domains));
	if (!domains) {
		kt_check_domain_clear(&d);
		return -ENOMEM;
	}
	d.active = active;
	for (unsigned i = 0; i < d.n_disks; i++)
		resolve_disk(ctx, h, &d.disks[i]);
	h->domains = domains;
	domains[h->n_domains++] = d;
	return 0;
}

void kt_host_facts_clear(struct kt_host_facts *h)
{
	for (unsigned i = 0; i < h->n_domains; i++)
		kt_check_domain_clear(&h->domains[i]);
	free(h->domains);
	free(h->pools);
	free(h->blocks);
	free(h->areas);
	kt_topology_free(h->topo);
	memset(h, 0, sizeof(*h));
}

const struct kt_hugepage_pool *kt_host_facts_pool(const struct kt_host_facts *h, int node,
						  uint64_t page_size)
{
	for (unsigned i = 0; i < h->n_pools; i++)
		if (h->pools[i].node == node && h->pools[i].page_size == page_size)
			return &h->pools[i];
	return NULL;
}

const struct kt_block_dev *kt_host_facts_block(const struct kt_host_facts *h, const char *name)
{
	for (unsigned i = 0; name && name[0] && i < h->n_blocks; i++)
		if (strcmp(h->blocks[i].name, name) == 0)
			return &h->blocks[i];
	return NULL;
}
