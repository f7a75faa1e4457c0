// SPDX-License-Identifier: LGPL-2.1-or-later
/* What `kvmtune check` needs of a libvirt domain, read from its XML with XPath. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "domxml.h"
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

static int parse(const struct kt_domxml_node *root, struct kt_check_domain *d)
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
	r = get_scaled(root, "string(/domain/memoryBacking/hugepages/page[1]/@size)",
		       "string(/domain/memoryBacking/hugepages/page[1]/@unit)",
		       &d->hugepage_size);
	if (r < 0 && r != -ENOENT)
		return -EBADMSG;

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
	r = kt_domxml_each(root, "/domain/devices/disk", one_disk, &w);
	if (r < 0)
		return r;
	return kt_domxml_each(root, "/domain/devices/interface", one_nic, &w);
}

int kt_check_domain_parse(const char *xml, size_t len, struct kt_check_domain *ret)
{
	struct kt_check_domain d;
	struct kt_domxml *doc = NULL;
	int r;

	r = kt_domxml_parse(xml, len, &doc);
	if (r < 0)
		return r;
	memset(&d, 0, sizeof(d));
	r = parse(kt_domxml_root(doc), &d);
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
	d->disks = NULL;
	d->nics = NULL;
	d->n_disks = d->n_nics = 0;
}
