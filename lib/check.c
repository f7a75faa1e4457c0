// SPDX-License-Identifier: LGPL-2.1-or-later
/* The checks of `kvmtune check`: pure functions of a host's facts, one table row each. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

#define GIB (1ULL << 30)

static const char *const level_names[KT_CHECK_LEVEL_MAX] = {
    [KT_CHECK_PASS] = "PASS",
    [KT_CHECK_WARN] = "WARN",
    [KT_CHECK_FAIL] = "FAIL",
};

const char *kt_check_level_name(enum kt_check_level level)
{
	if (level < 0 || level >= KT_CHECK_LEVEL_MAX)
		return NULL;
	return level_names[level];
}

static int report_grow(struct kt_check_report *rep)
{
	unsigned cap = rep->cap ? rep->cap * 2 : 16;
	struct kt_check_result *items;

	if (rep->n < rep->cap)
		return 0;
	items = realloc(rep->items, cap * sizeof(*items));
	if (!items)
		return -ENOMEM;
	rep->items = items;
	rep->cap = cap;
	return 0;
}

int kt_check_add(struct kt_check_report *rep, const char *check, enum kt_check_level level,
		 const char *hint, const char *fmt, ...)
{
	struct kt_check_result *res;
	va_list ap;
	int r;

	r = report_grow(rep);
	if (r < 0)
		return r;
	res = &rep->items[rep->n++];
	res->check = check;
	res->level = level;
	snprintf(res->hint, sizeof(res->hint), "%s", hint ? hint : "");
	va_start(ap, fmt);
	/* clang-analyzer 14 loses track of va_start through the format attribute. */
	// NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized)
	vsnprintf(res->message, sizeof(res->message), fmt, ap);
	va_end(ap);
	rep->count[level]++;
	return 0;
}

void kt_check_report_clear(struct kt_check_report *rep)
{
	free(rep->items);
	memset(rep, 0, sizeof(*rep));
}

/*
 * Red Hat's recommended swap for a host by its RAM (RHEL 6 Deployment Guide, "Recommended
 * System Swap Space"), the "host's own swap" of the overcommit example: 8 GB for 32 GB.
 */
uint64_t kt_check_host_swap(uint64_t ram)
{
	if (ram <= 4 * GIB)
		return 2 * GIB;
	if (ram <= 16 * GIB)
		return 4 * GIB;
	if (ram <= 64 * GIB)
		return 8 * GIB;
	if (ram <= 256 * GIB)
		return 16 * GIB;
	return 32 * GIB;
}

/*
 * Red Hat's "Overcommitting memory" example: a 32 GB host keeping 4 GB for itself runs
 * 56 guests of 1 GB with 8 GB of host swap + (56 - (32 - 4)) = 36 GB of swap. Without the
 * swap, guests touching all their memory at once leave the OOM killer as the only way out.
 */
uint64_t kt_check_swap_needed(uint64_t ram, uint64_t host_reserve, uint64_t committed)
{
	uint64_t usable = ram > host_reserve ? ram - host_reserve : 0;

	return kt_check_host_swap(ram) + (committed > usable ? committed - usable : 0);
}

/* "36.0 GiB", "512 MiB" */
static const char *size_str(uint64_t bytes, char *buf, size_t size)
{
	if (bytes >= GIB)
		snprintf(buf, size, "%.1f GiB", (double)bytes / GIB);
	else if (bytes >= (1 << 20) || !bytes)
		snprintf(buf, size, "%llu MiB", (unsigned long long)(bytes >> 20));
	else
		snprintf(buf, size, "%llu KiB", (unsigned long long)(bytes >> 10));
	return buf;
}

static uint64_t committed(const struct kt_host_facts *h)
{
	uint64_t sum = 0;

	for (unsigned i = 0; i < h->n_domains; i++)
		sum += h->domains[i].memory;
	return sum;
}

static int check_memory(const struct kt_host_facts *h, const char *id,
			struct kt_check_report *rep)
{
	uint64_t ram = h->mem.mem_total, c = committed(h);
	uint64_t usable = ram > h->host_reserve ? ram - h->host_reserve : 0;
	char a[32], b[32], r[32], k[48] = "";

	if (h->ksm.available && h->ksm.saved_bytes)
		snprintf(k, sizeof(k), "; KSM saves %s",
			 size_str(h->ksm.saved_bytes, r, sizeof(r)));
	size_str(c, a, sizeof(a));
	size_str(ram, b, sizeof(b));
	size_str(h->host_reserve, r, sizeof(r));
	if (ram && c > KT_CHECK_OVERCOMMIT_MAX * ram)
		return kt_check_add(
		    rep, id, KT_CHECK_FAIL,
		    "no vendor supports overcommit beyond 10x RAM: add RAM or move guests",
		    "%u %s %s, %.1fx the host's %s of RAM%s", h->n_domains,
		    kt_plural(h->n_domains, "domain commits", "domains commit"), a,
		    (double)c / (double)ram, b, k);
	if (c > usable)
		return kt_check_add(
		    rep, id, KT_CHECK_PASS,
		    "KSM savings are not headroom: guests can unshare at any time",
		    "%u %s %s: overcommitted %.2fx of %s RAM less %s for the "
		    "host%s (not counted)",
		    h->n_domains, kt_plural(h->n_domains, "domain commits", "domains commit"),
		    a, usable ? (double)c / (double)usable : 0.0, b, r, k);
	return kt_check_add(rep, id, KT_CHECK_PASS, NULL,
			    "%u %s %s of %s RAM less %s for the host%s", h->n_domains,
			    kt_plural(h->n_domains, "domain commits", "domains commit"), a, b,
			    r, k);
}

static int check_swap(const struct kt_host_facts *h, const char *id,
		      struct kt_check_report *rep)
{
	uint64_t ram = h->mem.mem_total, c = committed(h);
	uint64_t usable = ram > h->host_reserve ? ram - h->host_reserve : 0;
	uint64_t need = kt_check_swap_needed(ram, h->host_reserve, c);
	uint64_t own = kt_check_host_swap(ram);
	char s[32], n[32], o[32], g[32];

	size_str(h->mem.swap_total, s, sizeof(s));
	size_str(need, n, sizeof(n));
	size_str(own, o, sizeof(o));
	size_str(need - own, g, sizeof(g));
	if (c <= usable)
		return kt_check_add(rep, id, KT_CHECK_PASS, NULL,
				    "guests fit in RAM: no swap needed for them (swap %s)", s);
	if (h->mem.swap_total >= need)
		return kt_check_add(
		    rep, id, KT_CHECK_PASS, NULL,
		    "swap %s covers the %s overcommit needs (%s for the host, %s "
		    "for the guests)",
		    s, n, o, g);
	return kt_check_add(
	    rep, id, KT_CHECK_FAIL,
	    "add swap or commit less guest memory: without it the OOM killer "
	    "ends guests that touch their memory",
	    "swap %s, overcommit needs at least %s (%s for the host, %s for the "
	    "guests)",
	    s, n, o, g);
}

static unsigned host_cpus(const struct kt_host_facts *h)
{
	return h->topo ? kt_cpuset_count(&h->topo->online) : 0;
}

static int check_vcpus(const struct kt_host_facts *h, const char *id,
		       struct kt_check_report *rep)
{
	unsigned cpus = host_cpus(h), total = 0, bad = 0;
	int r;

	for (unsigned i = 0; i < h->n_domains; i++) {
		const struct kt_check_domain *d = &h->domains[i];

		total += d->vcpus;
		if (cpus && d->vcpus > cpus) {
			bad++;
			r = kt_check_add(
			    rep, id, KT_CHECK_FAIL,
			    "give the domain at most as many vCPUs as the host has CPUs: "
			    "more only add lock-holder preemption",
			    "domain %s has %u vCPUs, the host %u %s", d->name, d->vcpus, cpus,
			    kt_plural(cpus, "CPU", "CPUs"));
			if (r < 0)
				return r;
		}
	}
	if (!cpus)
		return kt_check_add(rep, id, KT_CHECK_WARN, "is sysfs mounted below the root?",
				    "cannot tell the host's CPUs");
	if ((uint64_t)total > (uint64_t)h->vcpu_ratio * cpus)
		return kt_check_add(
		    rep, id, KT_CHECK_WARN,
		    "latency-sensitive guests suffer from CPU overcommit: pin them or "
		    "move guests (Red Hat finds 5 per CPU safe below full load)",
		    "%u %s on %u %s: %.2f per CPU, above %u", total,
		    kt_plural(total, "vCPU", "vCPUs"), cpus, kt_plural(cpus, "CPU", "CPUs"),
		    (double)total / cpus, h->vcpu_ratio);
	if (bad)
		return 0;
	return kt_check_add(
	    rep, id, KT_CHECK_PASS, NULL, "%u %s on %u %s: %.2f per CPU, at most %u", total,
	    kt_plural(total, "vCPU", "vCPUs"), cpus, kt_plural(cpus, "CPU", "CPUs"),
	    (double)total / cpus, h->vcpu_ratio);
}

static int check_pinning(const struct kt_host_facts *h, const char *id,
			 struct kt_check_report *rep)
{
	unsigned pinned = 0, bad = 0;
	int r;

	for (unsigned i = 0; i < h->n_domains; i++) {
		const struct kt_check_domain *d = &h->domains[i];
		struct kt_cpuset off;
		char list[128];

		if (!d->n_vcpupins)
			continue;
		pinned++;
		kt_cpuset_clear(&off);
		for (unsigned c = 0; c < KT_CPU_MAX; c++)
			if (kt_cpuset_has(&d->pinned, c) &&
			    !(h->topo && kt_cpuset_has(&h->topo->online, c)))
				kt_cpuset_add(&off, c);
		if (kt_cpuset_count(&off)) {
			bad++;
			kt_cpulist_format(&off, list, sizeof(list));
			r = kt_check_add(
			    rep, id, KT_CHECK_FAIL, "pin to online CPUs only",
			    "domain %s pins vCPUs to CPUs %s, which are not online", d->name,
			    list);
			if (r < 0)
				return r;
		}
		if (!d->dedicated)
			continue;
		for (unsigned j = i + 1; j < h->n_domains; j++) {
			const struct kt_check_domain *e = &h->domains[j];
			struct kt_cpuset both;

			if (!e->dedicated)
				continue;
			kt_cpuset_clear(&both);
			for (unsigned w = 0; w < KT_ELEMENTSOF(both.bits); w++)
				both.bits[w] = d->pinned.bits[w] & e->pinned.bits[w];
			if (!kt_cpuset_count(&both))
				continue;
			bad++;
			kt_cpulist_format(&both, list, sizeof(list));
			r = kt_check_add(
			    rep, id, KT_CHECK_FAIL,
			    "dedicated CPUs are dedicated to one domain: move one's "
			    "<vcpupin> elsewhere",
			    "domains %s and %s both pin every vCPU, and share CPUs %s", d->name,
			    e->name, list);
			if (r < 0)
				return r;
		}
	}
	if (bad)
		return 0;
	return kt_check_add(rep, id, KT_CHECK_PASS, NULL, "%u %s vCPUs%s", pinned,
			    kt_plural(pinned, "domain pins", "domains pin"),
			    pinned ? ", to online CPUs, without overlap" : "");
}

/* Whether a domain's memory must come from its nodeset only (an empty one binds nothing). */
static bool strict_nodes(const struct kt_check_domain *d)
{
	return d->has_nodeset && strcmp(d->numa_mode, "strict") == 0 &&
	       kt_cpuset_count(&d->nodeset) > 0;
}

/* The pages of page_size the domains need on node (-1: all of them, wherever they are). */
static uint64_t hp_need(const struct kt_host_facts *h, uint64_t page_size, int node,
			unsigned *ret_users)
{
	uint64_t need = 0;
	unsigned users = 0;

	for (unsigned i = 0; i < h->n_domains; i++) {
		const struct kt_check_domain *d = &h->domains[i];
		bool uses = false;

		for (unsigned k = 0; k < d->n_hp; k++) {
			const struct kt_check_hp_need *n = &d->hp[k];

			if (n->page_size != page_size)
				continue;
			if (node >= 0 && (n->node != node || !d->numa_bound))
				continue;
			need += n->pages;
			uses = true;
		}
		users += uses;
	}
	if (ret_users)
		*ret_users = users;
	return need;
}

/*
 * Each page size the domains use against its pool, and each node a bound domain takes
 * pages from against that node's pool: a strict (or restrictive) <numatune> allocates
 * there or fails, where preferred and interleave fall back to the other nodes.
 */
static int check_hugepages(const struct kt_host_facts *h, const char *id,
			   struct kt_check_report *rep)
{
	/* (page size, node) pairs in use: node -1 for the whole pool. */
	struct {
		uint64_t size;
		int node;
	} seen[64];
	unsigned n_seen = 0, users = 0, bad = 0;
	int r;

	for (unsigned i = 0; i < h->n_domains; i++) {
		const struct kt_check_domain *d = &h->domains[i];

		users += d->hugepages;
		for (unsigned k = 0; k < d->n_hp; k++) {
			int nodes[2] = {-1, d->numa_bound ? d->hp[k].node : -1};

			for (unsigned x = 0; x < 2; x++) {
				unsigned j;

				if (x && nodes[x] < 0)
					continue;
				for (j = 0; j < n_seen; j++)
					if (seen[j].size == d->hp[k].page_size &&
					    seen[j].node == nodes[x])
						break;
				if (j == n_seen && n_seen < KT_ELEMENTSOF(seen)) {
					seen[n_seen].size = d->hp[k].page_size;
					seen[n_seen++].node = nodes[x];
				}
			}
		}
	}
	for (unsigned k = 0; k < n_seen; k++) {
		uint64_t size = seen[k].size;
		int node = seen[k].node;
		const struct kt_hugepage_pool *pool = kt_host_facts_pool(h, node, size);
		unsigned n_users;
		uint64_t need = hp_need(h, size, node, &n_users);
		char s[32];

		size_str(size, s, sizeof(s));
		if (node < 0 && (!size || !pool)) {
			bad++;
			r = kt_check_add(
			    rep, id, KT_CHECK_FAIL,
			    "this kernel or CPU has no such page size: use another size "
			    "or boot with hugepagesz=",
			    size ? "%u %s %llu %s of %s: the host has no pool of that size"
				 : "%u %s hugepages of the default size: the host has none",
			    n_users, kt_plural(n_users, "domain needs", "domains need"),
			    (unsigned long long)need, kt_plural(need, "page", "pages"), s);
		} else if (node < 0 && pool->total < need) {
			bad++;
			r = kt_check_add(
			    rep, id, KT_CHECK_FAIL,
			    "raise nr_hugepages (kvmtune's hugepages plugin, or "
			    "hugepages= on the kernel command line for 1 GiB pages)",
			    "%u %s %llu %s of %s, the pool has %llu", n_users,
			    kt_plural(n_users, "domain needs", "domains need"),
			    (unsigned long long)need, kt_plural(need, "page", "pages"), s,
			    (unsigned long long)pool->total);
		} else if (node >= 0 && size && (!pool || pool->total < need)) {
			bad++;
			r = kt_check_add(
			    rep, id, KT_CHECK_FAIL,
			    "raise the node's nr_hugepages "
			    "(/sys/devices/system/node/nodeN/hugepages), or bind the "
			    "domain's cells to other nodes",
			    "%u %s bound to node %d %s %llu %s of %s there, its pool has %llu",
			    n_users, kt_plural(n_users, "domain", "domains"), node,
			    kt_plural(n_users, "needs", "need"), (unsigned long long)need,
			    kt_plural(need, "page", "pages"), s,
			    (unsigned long long)(pool ? pool->total : 0));
		} else {
			r = 0;
		}
		if (r < 0)
			return r;
	}
	if (bad)
		return 0;
	return kt_check_add(rep, id, KT_CHECK_PASS, NULL, "%u %s hugepages%s", users,
			    kt_plural(users, "domain uses", "domains use"),
			    users ? ": the pools hold them" : "");
}

static int check_numa(const struct kt_host_facts *h, const char *id,
		      struct kt_check_report *rep)
{
	unsigned strict = 0, bad = 0;
	int r;

	for (unsigned i = 0; i < h->n_domains; i++) {
		const struct kt_check_domain *d = &h->domains[i];
		uint64_t mem = 0;
		bool missing = false;
		char list[128], a[32], b[32];

		if (!strict_nodes(d))
			continue;
		strict++;
		for (unsigned n = 0; n < KT_NODE_MAX; n++) {
			const struct kt_topo_node *tn;

			if (!kt_cpuset_has(&d->nodeset, n))
				continue;
			tn = h->topo ? kt_topology_node(h->topo, (int)n) : NULL;
			if (tn)
				mem += tn->mem_total;
			else
				missing = true;
		}
		kt_cpulist_format(&d->nodeset, list, sizeof(list));
		if (missing) {
			bad++;
			r = kt_check_add(
			    rep, id, KT_CHECK_FAIL, "name only the host's NUMA nodes",
			    "domain %s binds its memory strictly to nodes %s, which the "
			    "host does not all have",
			    d->name, list);
		} else if (d->memory > mem) {
			bad++;
			r = kt_check_add(
			    rep, id, KT_CHECK_FAIL,
			    "use mode='preferred', or more nodes: strict memory beyond "
			    "them ends in the OOM killer",
			    "domain %s needs %s, strictly from nodes %s which have %s", d->name,
			    size_str(d->memory, a, sizeof(a)), list,
			    size_str(mem, b, sizeof(b)));
		} else {
			r = 0;
		}
		if (r < 0)
			return r;
	}
	/* All strict domains together, each spread evenly over its nodes. */
	for (unsigned ni = 0; h->topo && ni < h->topo->n_nodes; ni++) {
		const struct kt_topo_node *tn = &h->topo->nodes[ni];
		uint64_t need = 0;
		char a[32], b[32];

		for (unsigned i = 0; i < h->n_domains; i++) {
			const struct kt_check_domain *d = &h->domains[i];

			unsigned nn = kt_cpuset_count(&d->nodeset);

			if (nn && strict_nodes(d) &&
			    kt_cpuset_has(&d->nodeset, (unsigned)tn->id))
				need += d->memory / nn;
		}
		if (need <= tn->mem_total || !need)
			continue;
		bad++;
		r = kt_check_add(rep, id, KT_CHECK_FAIL, "bind some of them to other nodes",
				 "domains bound strictly to node %d need %s there, it has %s",
				 tn->id, size_str(need, a, sizeof(a)),
				 size_str(tn->mem_total, b, sizeof(b)));
		if (r < 0)
			return r;
	}
	if (bad)
		return 0;
	return kt_check_add(
	    rep, id, KT_CHECK_PASS, NULL, "%u %s memory strictly to NUMA nodes%s", strict,
	    kt_plural(strict, "domain binds", "domains bind"), strict ? ", within them" : "");
}

/* Profiles of kvmtune that drive KSM through kvm_ksm, so hold the KSM lock when applied. */
static bool profile_drives_ksm(const char *profile)
{
	return strcmp(profile, "kvm-dense") == 0;
}

static const struct kt_area_holder *area(const struct kt_host_facts *h, const char *name)
{
	for (unsigned i = 0; i < h->n_areas; i++)
		if (strcmp(h->areas[i].area, name) == 0)
			return &h->areas[i];
	return NULL;
}

static int check_ksm(const struct kt_host_facts *h, const char *id, struct kt_check_report *rep)
{
	const struct kt_area_holder *a = area(h, "ksm");
	bool held = a && a->held;
	bool wants = profile_drives_ksm(h->active_profile);
	char s[32];

	if (h->ksm_rival[0] && held)
		return kt_check_add(
		    rep, id, KT_CHECK_WARN,
		    "stop it: kvm_ksm's controller keeps its hands off KSM while it runs",
		    "%s (pid %d) drives KSM while %s holds it", h->ksm_rival,
		    (int)h->ksm_rival_pid, a->info.holder);
	if (h->ksm_rival[0] && wants)
		return kt_check_add(rep, id, KT_CHECK_WARN,
				    "stop it: the profile's kvm_ksm replaces it",
				    "%s (pid %d) drives KSM under profile %s", h->ksm_rival,
				    (int)h->ksm_rival_pid, h->active_profile);
	if (wants && !h->ksm.available)
		return kt_check_add(
		    rep, id, KT_CHECK_WARN,
		    "boot a kernel with CONFIG_KSM for the dense profile to save memory",
		    "profile %s is active, but this kernel has no KSM", h->active_profile);
	if (wants && !held)
		return kt_check_add(
		    rep, id, KT_CHECK_WARN,
		    "is tuned running? `tuned-adm verify` and tuned's log say why",
		    "profile %s is active, but no kvm_ksm tuning holds KSM", h->active_profile);
	if (!h->ksm.available)
		return kt_check_add(rep, id, KT_CHECK_PASS, NULL, "this kernel has no KSM");
	return kt_check_add(rep, id, KT_CHECK_PASS, NULL,
			    "KSM run=%s, saving %s, controlled by %s",
			    h->ksm.knobs.set[KT_KSM_RUN] ? h->ksm.knobs.value[KT_KSM_RUN] : "?",
			    size_str(h->ksm.saved_bytes, s, sizeof(s)),
			    held	      ? a->info.holder
			    : h->ksm_rival[0] ? h->ksm_rival
					      : "nobody");
}

static bool is_disk(const struct kt_check_disk *d)
{
	return !d->device[0] || strcmp(d->device, "disk") == 0;
}

/* Judged on the physical disks beneath each guest disk: dm, md, partitions and loop
 * devices have no scheduler that matters (lib/iosched-plan.c resolves them). */
static int check_scheduler(const struct kt_host_facts *h, const char *id,
			   struct kt_check_report *rep)
{
	unsigned known = 0, bad = 0;
	int r;

	for (unsigned i = 0; i < h->n_domains; i++) {
		const struct kt_check_domain *d = &h->domains[i];

		for (unsigned j = 0; j < d->n_disks; j++) {
			const struct kt_check_disk *disk = &d->disks[j];

			if (!is_disk(disk) || !disk->n_devs)
				continue;
			known++;
			for (unsigned k = 0; k < disk->n_devs; k++) {
				const struct kt_block_dev *b = &disk->devs[k];

				if (!b->rotational || strcmp(b->scheduler, "none") != 0)
					continue;
				bad++;
				r = kt_check_add(
				    rep, id, KT_CHECK_WARN,
				    "rotational disks need a scheduler that sorts requests: "
				    "mq-deadline or bfq (kvmtune's iosched plugin sets them)",
				    "domain %s disk %s is on %s%s%s%s, a rotational disk with "
				    "scheduler none",
				    d->name, disk->target, b->name,
				    b->via[0] ? " (through " : "", b->via,
				    b->via[0] ? ")" : "");
				if (r < 0)
					return r;
			}
		}
	}
	if (bad)
		return 0;
	return kt_check_add(rep, id, KT_CHECK_PASS, NULL,
			    "%u guest %s on host block devices with a fitting scheduler", known,
			    kt_plural(known, "disk", "disks"));
}

static int check_cache(const struct kt_host_facts *h, const char *id,
		       struct kt_check_report *rep)
{
	unsigned disks = 0, bad = 0;
	int r = 0;

	for (unsigned i = 0; i < h->n_domains; i++) {
		const struct kt_check_domain *d = &h->domains[i];

		for (unsigned j = 0; j < d->n_disks; j++) {
			const struct kt_check_disk *disk = &d->disks[j];

			if (!is_disk(disk))
				continue;
			disks++;
			if (strcmp(disk->cache, "unsafe") == 0) {
				bad++;
				r = kt_check_add(
				    rep, id, KT_CHECK_FAIL,
				    "cache='unsafe' ignores the guest's flushes: a host "
				    "crash loses written data; use none",
				    "domain %s disk %s has cache mode unsafe", d->name,
				    disk->target);
			} else if (strcmp(disk->cache, "writeback") == 0) {
				bad++;
				r = kt_check_add(
				    rep, id, KT_CHECK_WARN,
				    "writeback needs a trusted host (UPS, no crashes); none "
				    "is the safe choice for guests",
				    "domain %s disk %s has cache mode writeback", d->name,
				    disk->target);
			}
			if (r < 0)
				return r;
		}
	}
	if (bad)
		return 0;
	return kt_check_add(rep, id, KT_CHECK_PASS, NULL,
			    "%u guest %s, none with cache unsafe or writeback", disks,
			    kt_plural(disks, "disk", "disks"));
}

static int check_virtio(const struct kt_host_facts *h, const char *id,
			struct kt_check_report *rep)
{
	unsigned devices = 0, bad = 0;
	int r;

	for (unsigned i = 0; i < h->n_domains; i++) {
		const struct kt_check_domain *d = &h->domains[i];

		for (unsigned j = 0; j < d->n_disks; j++) {
			const struct kt_check_disk *disk = &d->disks[j];

			if (!is_disk(disk))
				continue;
			devices++;
			if (strcmp(disk->bus, "virtio") == 0)
				continue;
			bad++;
			r = kt_check_add(
			    rep, id, KT_CHECK_WARN,
			    "emulated controllers cost a VM exit per register access: "
			    "use bus='virtio'",
			    "domain %s disk %s is on bus %s, not virtio", d->name, disk->target,
			    disk->bus[0] ? disk->bus : "(default)");
			if (r < 0)
				return r;
		}
		for (unsigned j = 0; j < d->n_nics; j++) {
			const struct kt_check_nic *nic = &d->nics[j];

			devices++;
			if (strcmp(nic->model, "virtio") == 0)
				continue;
			bad++;
			r = kt_check_add(rep, id, KT_CHECK_WARN,
					 "emulated NICs cost a VM exit per packet: use <model "
					 "type='virtio'/>",
					 "domain %s NIC on %s is %s, not virtio", d->name,
					 nic->source[0] ? nic->source : nic->type,
					 nic->model[0] ? nic->model : "QEMU's default model");
			if (r < 0)
				return r;
		}
	}
	if (bad)
		return 0;
	return kt_check_add(rep, id, KT_CHECK_PASS, NULL, "%u guest %s, all virtio", devices,
			    kt_plural(devices, "disk or NIC", "disks and NICs"));
}

/* Areas add rows here; ids are stable (they are the JSON's "check"). */
const struct kt_check kt_check_table[] = {
    {"memory-overcommit", "guest memory against RAM", check_memory},
    {"swap", "swap for overcommitted memory", check_swap},
    {"vcpu-overcommit", "vCPUs against host CPUs", check_vcpus},
    {"vcpu-pinning", "pinned vCPUs", check_pinning},
    {"hugepages", "hugepage pools for the domains", check_hugepages},
    {"numa", "strict NUMA memory", check_numa},
    {"ksm", "KSM and its controller", check_ksm},
    {"disk-scheduler", "I/O scheduler under guest disks", check_scheduler},
    {"disk-cache", "disk cache modes", check_cache},
    {"virtio", "paravirtual disks and NICs", check_virtio},
};

const unsigned kt_check_table_len = KT_ELEMENTSOF(kt_check_table);

int kt_check_run(const struct kt_host_facts *h, struct kt_check_report *ret)
{
	struct kt_check_report rep = {0};

	for (unsigned i = 0; i < kt_check_table_len; i++) {
		int r = kt_check_table[i].run(h, kt_check_table[i].id, &rep);

		if (r < 0) {
			kt_check_report_clear(&rep);
			return r;
		}
	}
	*ret = rep;
	return 0;
}
