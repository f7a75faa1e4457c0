// SPDX-License-Identifier: LGPL-2.1-or-later
/* The facts `kvmtune check` judges, read once below the context's root. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "io.h"
#include "iosched.h"
#include "ksm-status.h"
#include "parse.h"
#include "procscan.h"

#define HUGEPAGES_DIR "sys/kernel/mm/hugepages"
#define NODE_DIR      "sys/devices/system/node"

static int find_rival(void *data, pid_t pid, const char *comm)
{
	struct kt_host_facts *h = data;

	if (!kt_ksm_is_foreign_controller(comm))
		return 0;
	snprintf(h->ksm_rival, sizeof(h->ksm_rival), "%s", comm);
	h->ksm_rival_pid = pid;
	return 1;
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
	struct kt_host_facts h = {.host_reserve = KT_CHECK_HOST_RESERVE,
				  .vcpu_ratio = KT_CHECK_VCPU_RATIO_WARN};
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

/* The disk of the domain that target names, if it is one the checks judge. */
static struct kt_check_disk *disk_of(struct kt_check_domain *d, const char *target)
{
	for (unsigned i = 0; i < d->n_disks; i++)
		if (strcmp(d->disks[i].target, target) == 0)
			return &d->disks[i];
	return NULL;
}

static void add_dev(struct kt_check_disk *disk, const struct kt_iosched_device *dev,
		    const char *via)
{
	struct kt_block_dev *b;

	for (unsigned i = 0; i < disk->n_devs; i++)
		if (strcmp(disk->devs[i].name, dev->name) == 0)
			return;
	if (disk->n_devs == KT_CHECK_DISK_DEVS)
		return;
	b = &disk->devs[disk->n_devs++];
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", dev->name);
	b->rotational = dev->cls == KT_IOSCHED_HDD;
	snprintf(b->scheduler, sizeof(b->scheduler), "%s", dev->now[KT_IOSCHED_SCHEDULER]);
	snprintf(b->via, sizeof(b->via), "%s", via);
}

/*
 * Every disk's physical disks, by the resolver kvm_iosched tunes with (partitions, dm, md,
 * loop devices and image files down to the disks that have a queue of their own); with
 * every class kept, it only reads.
 */
static int resolve_disks(const struct kt_ctx *ctx, struct kt_check_domain *d, const char *xml,
			 size_t len, bool active)
{
	kt_cleanup_free char *text = strndup(xml, len);
	struct kt_iosched_config cfg;
	struct kt_iosched_plan plan;
	struct kt_iosched_domain dom = {d->name, active, text};
	int r;

	if (!text)
		return -ENOMEM;
	kt_iosched_config_default(&cfg);
	snprintf(cfg.nvme, sizeof(cfg.nvme), "keep");
	snprintf(cfg.ssd, sizeof(cfg.ssd), "keep");
	snprintf(cfg.hdd, sizeof(cfg.hdd), "keep");
	snprintf(cfg.loop, sizeof(cfg.loop), "keep");
	r = kt_iosched_plan_build(ctx, &cfg, &dom, 1, &plan);
	for (size_t i = 0; r >= 0 && i < plan.n_disks; i++) {
		const struct kt_iosched_disk *pd = &plan.disks[i];
		struct kt_check_disk *disk = disk_of(d, pd->target);
		/* The devices above the current one, by depth: "dm-0, md0, sdb1". */
		char stack[KT_IOSCHED_DEPTH_MAX + 1][KT_IOSCHED_NAME_MAX];

		for (size_t k = 0; disk && k < pd->n_nodes; k++) {
			const struct kt_iosched_node *n = &plan.nodes[pd->first_node + k];
			const struct kt_iosched_device *dev = &plan.devices[n->device];
			char via[96] = "";
			size_t used = 0;

			if (n->depth > KT_IOSCHED_DEPTH_MAX)
				continue;
			snprintf(stack[n->depth], sizeof(stack[0]), "%s", dev->name);
			if (!dev->has_queue ||
			    (dev->cls != KT_IOSCHED_HDD && dev->cls != KT_IOSCHED_SSD &&
			     dev->cls != KT_IOSCHED_NVME))
				continue;
			for (unsigned j = 0; j < n->depth && used < sizeof(via); j++)
				used += (size_t)snprintf(via + used, sizeof(via) - used, "%s%s",
							 j ? ", " : "", stack[j]);
			add_dev(disk, dev, via);
		}
	}
	kt_iosched_plan_clear(&plan);
	return r == -ENOMEM ? r : 0;
}

int kt_host_facts_add_domain(const struct kt_ctx *ctx, struct kt_host_facts *h, const char *xml,
			     size_t len, bool active)
{
	struct kt_check_domain d, *domains;
	int r;

	r = kt_check_domain_parse(xml, len, h->mem.hugepage_size, &d);
	if (r < 0)
		return r;
	domains = realloc(h->domains, (h->n_domains + 1) * sizeof(*domains));
	if (!domains) {
		kt_check_domain_clear(&d);
		return -ENOMEM;
	}
	d.active = active;
	h->domains = domains;
	r = resolve_disks(ctx, &d, xml, len, active);
	if (r < 0) {
		kt_check_domain_clear(&d);
		return r;
	}
	domains[h->n_domains++] = d;
	return 0;
}

void kt_host_facts_clear(struct kt_host_facts *h)
{
	for (unsigned i = 0; i < h->n_domains; i++)
		kt_check_domain_clear(&h->domains[i]);
	free(h->domains);
	free(h->pools);
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
