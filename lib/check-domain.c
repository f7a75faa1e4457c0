// SPDX-License-Identifier: LGPL-2.1-or-later
/* What `kvmtune check` needs of a libvirt domain, read from its XML with XPath. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "domxml.h"
#include "hugepages-plan.h"
#include "parse.h"

/* Copies the string value of expr, "" when it selects nothing. */
static int get(const struct kt_domxml_node *node, const char *expr, char *buf, size_t size)
{
	kt_cleanup_free char *s = NULL;
	int r = kt_domxml_string(node, expr, &s);

	buf[0] = '\0';
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	snprintf(buf, size, "%s", s);
	return 0;
}

/* libvirt's scaled integers (docs/formatdomain: "Memory Allocation"); unit defaults to KiB. */
static int scaled(const char *value, const char *unit, uint64_t *ret)
{
	static const struct {
		const char *name;
		uint64_t factor;
	} units[] = {
	    {"b", 1},	       {"bytes", 1},	    {"KB", 1000ULL},
	    {"k", 1ULL << 10}, {"KiB", 1ULL << 10}, {"MB", 1000000ULL},
	    {"M", 1ULL << 20}, {"MiB", 1ULL << 20}, {"GB", 1000000000ULL},
	    {"G", 1ULL << 30}, {"GiB", 1ULL << 30}, {"TB", 1000000000000ULL},
	    {"T", 1ULL << 40}, {"TiB", 1ULL << 40},
	};
	uint64_t factor = 1ULL << 10;
	long long v;

	if (kt_parse_int(value, 0, INT64_MAX, &v) < 0)
		return -EINVAL;
	if (unit[0]) {
		size_t i;

		for (i = 0; i < KT_ELEMENTSOF(units); i++)
			/* libvirt ignores case: "kb" is 1000, "k" and "kib" 1024. */
			if (strcasecmp(unit, units[i].name) == 0)
				break;
		if (i == KT_ELEMENTSOF(units))
			return -EINVAL;
		factor = units[i].factor;
	}
	if ((uint64_t)v > UINT64_MAX / factor)
		return -ERANGE;
	*ret = (uint64_t)v * factor;
	return 0;
}

static int get_scaled(const struct kt_domxml_node *node, const char *expr,
		      const char *unit_expr, uint64_t *ret)
{
	char value[32], unit[16];
	int r;

	r = get(node, expr, value, sizeof(value));
	if (r < 0 || !value[0])
		return r < 0 ? r : -ENOENT;
	r = get(node, unit_expr, unit, sizeof(unit));
	if (r < 0)
		return r;
	return scaled(value, unit, ret);
}

struct walk {
	struct kt_check_domain *d;
	struct kt_cpuset vcpus_pinned;
	/* The page sizes <memoryBacking><hugepages><page> names, in bytes. */
	unsigned n_sizes;
	uint64_t sizes[KT_HP_NODES_MAX];
	int r;
};

static int one_pin(void *data, const struct kt_domxml_node *node)
{
	struct walk *w = data;
	struct kt_cpuset set;
	char vcpu[16], cpuset[256];
	long long id;

	if (get(node, "string(@vcpu)", vcpu, sizeof(vcpu)) < 0 ||
	    get(node, "string(@cpuset)", cpuset, sizeof(cpuset)) < 0)
		return -ENOMEM;
	if (kt_parse_int(vcpu, 0, KT_CPU_MAX - 1, &id) < 0 ||
	    kt_cpulist_parse(cpuset, &set) < 0)
		return -EBADMSG;
	kt_cpuset_add(&w->vcpus_pinned, (unsigned)id);
	for (unsigned i = 0; i < KT_ELEMENTSOF(set.bits); i++)
		w->d->pinned.bits[i] |= set.bits[i];
	w->d->n_vcpupins++;
	return 0;
}

static int one_page(void *data, const struct kt_domxml_node *node)
{
	struct walk *w = data;
	uint64_t size;
	unsigned k;
	int r;

	r = get_scaled(node, "string(@size)", "string(@unit)", &size);
	if (r < 0)
		return -EBADMSG;
	for (k = 0; k < w->n_sizes && w->sizes[k] != size; k++)
		;
	if (k == w->n_sizes) {
		if (w->n_sizes == KT_ELEMENTSOF(w->sizes))
			return -EBADMSG;
		w->sizes[w->n_sizes++] = size;
	}
	return 0;
}

static int add_hp(struct kt_check_domain *d, uint64_t page_size, int node, uint64_t pages)
{
	struct kt_check_hp_need *hp = realloc(d->hp, (d->n_hp + 1) * sizeof(*hp));

	if (!hp)
		return -ENOMEM;
	d->hp = hp;
	hp[d->n_hp++] = (struct kt_check_hp_need){page_size, node, pages};
	return 0;
}

/*
 * The pages of every size the domain needs on every host node, attributed as the hugepages
 * plugin sizes its pools (kt_hp_domain_parse: per guest cell, its <page nodeset=>, its
 * <numatune> nodes), one page size at a time: those its <page> elements name and the
 * host's default, which cells no <page> covers get.
 */
static int hugepage_needs(const char *xml, size_t len, uint64_t default_size, struct walk *w)
{
	/* A host without hugepages has no default size: an impossible one stands in for it. */
	uint64_t default_kb = default_size ? default_size >> 10 : 1;
	struct kt_check_domain *d = w->d;
	int r;

	if (w->n_sizes < KT_ELEMENTSOF(w->sizes))
		w->sizes[w->n_sizes++] = default_size;
	for (unsigned k = 0; k < w->n_sizes; k++) {
		uint64_t size = w->sizes[k], kb = size ? size >> 10 : default_kb;
		struct kt_hp_domain need;
		bool seen = false;

		for (unsigned j = 0; j < k; j++)
			seen = seen || w->sizes[j] == size;
		if (seen || !kb)
			continue;
		r = kt_hp_domain_parse(xml, len, kb, default_kb, &need);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return -EBADMSG;
		for (unsigned i = 0; i < need.n; i++) {
			r = add_hp(d, size, size ? need.needs[i].node : -1,
				   size ? need.needs[i].pages : 0);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int one_disk(void *data, const struct kt_domxml_node *node)
{
	struct walk *w = data;
	struct kt_check_domain *d = w->d;
	struct kt_check_disk *disk, *disks;
	int r;

	disks = realloc(d->disks, (d->n_disks + 1) * sizeof(*disks));
	if (!disks)
		return -ENOMEM;
	d->disks = disks;
	disk = &disks[d->n_disks++];
	memset(disk, 0, sizeof(*disk));
	r = get(node, "string(@device)", disk->device, sizeof(disk->device));
	if (r >= 0)
		r = get(node, "string(target/@dev)", disk->target, sizeof(disk->target));
	if (r >= 0)
		r = get(node, "string(target/@bus)", disk->bus, sizeof(disk->bus));
	if (r >= 0)
		r = get(node, "string(driver/@cache)", disk->cache, sizeof(disk->cache));
	if (r >= 0)
		r = get(node, "string(source/@file | source/@dev | source/@name)", disk->source,
			sizeof(disk->source));
	return r;
}

static int one_nic(void *data, const struct kt_domxml_node *node)
{
	struct walk *w = data;
	struct kt_check_domain *d = w->d;
	struct kt_check_nic *nic, *nics;
	int r;

	nics = realloc(d->nics, (d->n_nics + 1) * sizeof(*nics));
	if (!nics)
		return -ENOMEM;
	d->nics = nics;
	nic = &nics[d->n_nics++];
	memset(nic, 0, sizeof(*nic));
	r = get(node, "string(@type)", nic->type, sizeof(nic->type));
	if (r >= 0)
		r = get(node, "string(source/@network | source/@bridge | source/@dev)",
			nic->source, sizeof(nic->source));
	if (r >= 0)
		r = get(node, "string(model/@type)", nic->model, sizeof(nic->model));
	return r;
}

static int parse(const struct kt_domxml_node *root, const char *xml, size_t len,
		 uint64_t default_hugepage_size, struct kt_check_domain *d)
{
	struct walk w = {.d = d};
	char buf[1024];
	long long v;
	int r;

	if (kt_domxml_count(root, "/domain") != 1)
		return -EBADMSG;
	r = get(root, "string(/domain/name)", d->name, sizeof(d->name));
	if (r < 0)
		return r;
	if (!d->name[0])
		return -EBADMSG;
	r = get_scaled(root, "string(/domain/memory)", "string(/domain/memory/@unit)",
		       &d->memory);
	if (r < 0)
		return r == -ENOENT ? -EBADMSG : r;
	d->vcpus = 1;
	r = get(root, "string(/domain/vcpu)", buf, sizeof(buf));
	if (r < 0)
		return r;
	if (buf[0]) {
		if (kt_parse_int(buf, 1, KT_CPU_MAX, &v) < 0)
			return -EBADMSG;
		d->vcpus = (unsigned)v;
	}
	kt_cpuset_clear(&w.vcpus_pinned);
	r = kt_domxml_each(root, "/domain/cputune/vcpupin", one_pin, &w);
	if (r < 0)
		return r;
	d->dedicated = d->n_vcpupins && kt_cpuset_count(&w.vcpus_pinned) >= d->vcpus;

	d->hugepages = kt_domxml_count(root, "/domain/memoryBacking/hugepages") > 0;
	if (d->hugepages) {
		r = kt_domxml_each(root, "/domain/memoryBacking/hugepages/page", one_page, &w);
		if (r >= 0)
			r = hugepage_needs(xml, len, default_hugepage_size, &w);
		if (r < 0)
			return r;
	}

	r = get(root, "string(/domain/numatune/memory/@nodeset)", buf, sizeof(buf));
	if (r < 0)
		return r;
	if (buf[0]) {
		if (kt_cpulist_parse(buf, &d->nodeset) < 0)
			return -EBADMSG;
		d->has_nodeset = true;
		r = get(root, "string(/domain/numatune/memory/@mode)", d->numa_mode,
			sizeof(d->numa_mode));
		if (r < 0)
			return r;
		/* libvirt's default mode is strict. */
		if (!d->numa_mode[0])
			snprintf(d->numa_mode, sizeof(d->numa_mode), "strict");
	}
	/*
	 * Where the memory must come from: <memory>'s mode, else the first <memnode>'s (each
	 * strict unless it says). restrictive binds through the cgroup's cpuset.mems, which
	 * hugetlb allocations honour as much as strict's mempolicy.
	 */
	{
		char mode[16];

		r = get(root,
			kt_domxml_count(root, "/domain/numatune/memory") > 0
			    ? "string(/domain/numatune/memory/@mode)"
			    : "string(/domain/numatune/memnode[1]/@mode)",
			mode, sizeof(mode));
		if (r < 0)
			return r;
		d->numa_bound = kt_domxml_count(root, "/domain/numatune/memory[@nodeset] | "
						      "/domain/numatune/memnode") > 0 &&
				(!mode[0] || strcmp(mode, "strict") == 0 ||
				 strcmp(mode, "restrictive") == 0);
	}
	r = kt_domxml_each(root, "/domain/devices/disk", one_disk, &w);
	if (r < 0)
		return r;
	return kt_domxml_each(root, "/domain/devices/interface", one_nic, &w);
}

int kt_check_domain_parse(const char *xml, size_t len, uint64_t default_hugepage_size,
			  struct kt_check_domain *ret)
{
	struct kt_check_domain d;
	struct kt_domxml *doc = NULL;
	int r;

	r = kt_domxml_parse(xml, len, &doc);
	if (r < 0)
		return r;
	memset(&d, 0, sizeof(d));
	r = parse(kt_domxml_root(doc), xml, len, default_hugepage_size, &d);
	kt_domxml_free(doc);
	if (r < 0) {
		kt_check_domain_clear(&d);
		return r == -ENOMEM ? r : -EBADMSG;
	}
	*ret = d;
	return 0;
}

void kt_check_domain_clear(struct kt_check_domain *d)
{
	free(d->disks);
	free(d->nics);
	free(d->hp);
	d->disks = NULL;
	d->nics = NULL;
	d->hp = NULL;
	d->n_disks = d->n_nics = d->n_hp = 0;
}
