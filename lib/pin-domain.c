// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvm_pin's options, and what a domain asks for, read from its XML with XPath. */
#include <stdio.h>
#include <string.h>

#include "domxml.h"
#include "parse.h"
#include "pin-domain.h"

const char *const kt_pin_option_names[] = {
	"default_policy",     "dedicated_cpus",	    "shared_cpus", "emulator_policy",
	"thread_policy",      "persist",	    "cpu_shares",  "memtune_soft_limit",
	"memtune_hard_limit", "blkio_weight",	    "libvirt_uri", NULL,
};

bool kt_pin_option_known(const char *name)
{
	for (size_t i = 0; kt_pin_option_names[i]; i++)
		if (strcmp(name, kt_pin_option_names[i]) == 0)
			return true;
	return false;
}

static void fmt(const struct kt_cpuset *set, char *buf, size_t size)
{
	if (kt_cpulist_format(set, buf, size) <= 0)
		snprintf(buf, size, "none");
}

/* A CPU list option: it parses, and names online CPUs only. */
static int cpus_option(const struct kt_ctx *ctx, const struct kt_topology *t, const char *name,
		       const char *value, struct kt_cpuset *ret)
{
	struct kt_cpuset set, bad;
	char online[256], badl[256];
	int r;

	fmt(&t->online, online, sizeof(online));
	r = kt_cpulist_parse(value, &set);
	if (r < 0) {
		kt_err(ctx, "%s=%s is invalid: expected a CPU list such as 1-3,6 (online: %s)", name,
		       value, online);
		return -EINVAL;
	}
	for (size_t i = 0; i < KT_ELEMENTSOF(bad.bits); i++)
		bad.bits[i] = set.bits[i] & ~t->online.bits[i];
	if (kt_cpuset_count(&bad) > 0) {
		fmt(&bad, badl, sizeof(badl));
		kt_err(ctx, "%s=%s names CPUs that are offline or absent (%s): expected CPUs of %s",
		       name, value, badl, online);
		return -EINVAL;
	}
	*ret = set;
	return 0;
}

static int uint_value(const char *value, long long min, long long max, unsigned *ret)
{
	long long v;
	int r = kt_parse_int(value, min, max, &v);

	if (r < 0)
		return r;
	*ret = (unsigned)v;
	return 0;
}

/* A memtune limit: a size, or "unlimited"; stored in KiB. */
static int limit_value(const char *value, uint64_t *ret)
{
	uint64_t bytes;

	if (strcmp(value, "unlimited") == 0) {
		*ret = UINT64_MAX;
		return 0;
	}
	if (kt_parse_size(value, &bytes) < 0 || bytes < 4096)
		return -EINVAL;
	*ret = bytes >> 10;
	return 0;
}

#define SHARES_ALLOWED "an integer 2..262144 (cpu.shares per vCPU)"
#define LIMIT_ALLOWED "a size of at least 4K such as 512M or 2G, or unlimited"
#define WEIGHT_ALLOWED "an integer 100..1000"

int kt_pin_options_parse(const struct kt_ctx *ctx, const struct kt_topology *t,
			 const struct kt_kvlist *opts, struct kt_pin_options *ret)
{
	struct kt_pin_options o;
	bool have_dedicated = false, have_shared = false;
	int r = 0;

	memset(&o, 0, sizeof(o));
	o.cfg.default_policy = KT_PIN_SHARED;
	o.cfg.emulator = KT_PIN_EMULATOR_SHARE;
	o.cfg.threads = KT_PIN_THREADS_PREFER;
	o.cfg.cpu_shares_per_vcpu = KT_PIN_CPU_SHARES_PER_VCPU;
	snprintf(o.libvirt_uri, sizeof(o.libvirt_uri), "qemu:///system");
	for (size_t i = 0; i < opts->n; i++) {
		const char *name = opts->items[i].key, *value = opts->items[i].value;
		const char *allowed = NULL;
		int e = 0;

		if (strcmp(name, "default_policy") == 0) {
			e = (int)(o.cfg.default_policy = kt_pin_policy_from_name(value));
			allowed = "shared or dedicated";
		} else if (strcmp(name, "emulator_policy") == 0) {
			e = (int)(o.cfg.emulator = kt_pin_emulator_from_name(value));
			allowed = "share or isolate";
		} else if (strcmp(name, "thread_policy") == 0) {
			e = (int)(o.cfg.threads = kt_pin_threads_from_name(value));
			allowed = "prefer, isolate or require";
		} else if (strcmp(name, "persist") == 0) {
			if (strcmp(value, "live") == 0 || strcmp(value, "config") == 0)
				o.cfg.persist_config = strcmp(value, "config") == 0;
			else
				e = -EINVAL;
			allowed = "live or config";
		} else if (strcmp(name, "dedicated_cpus") == 0) {
			if (cpus_option(ctx, t, name, value, &o.cfg.dedicated) < 0)
				r = -EINVAL;
			have_dedicated = true;
		} else if (strcmp(name, "shared_cpus") == 0) {
			if (cpus_option(ctx, t, name, value, &o.cfg.shared) < 0)
				r = -EINVAL;
			have_shared = true;
		} else if (strcmp(name, "cpu_shares") == 0) {
			e = uint_value(value, 2, KT_PIN_CPU_SHARES_MAX, &o.cfg.cpu_shares_per_vcpu);
			allowed = SHARES_ALLOWED;
		} else if (strcmp(name, "memtune_soft_limit") == 0) {
			e = limit_value(value, &o.cfg.mem_soft_limit_kib);
			allowed = LIMIT_ALLOWED;
		} else if (strcmp(name, "memtune_hard_limit") == 0) {
			e = limit_value(value, &o.cfg.mem_hard_limit_kib);
			allowed = LIMIT_ALLOWED;
		} else if (strcmp(name, "blkio_weight") == 0) {
			e = uint_value(value, 100, 1000, &o.cfg.blkio_weight);
			allowed = WEIGHT_ALLOWED;
		} else if (strcmp(name, "libvirt_uri") == 0) {
			if (!value[0] || strlen(value) >= sizeof(o.libvirt_uri) ||
			    strpbrk(value, " \t\n"))
				e = -EINVAL;
			else
				snprintf(o.libvirt_uri, sizeof(o.libvirt_uri), "%s", value);
			allowed = "a libvirt URI such as qemu:///system";
		} else {
			kt_err(ctx, "unknown option %s=%s: expected one of default_policy, "
				    "dedicated_cpus, shared_cpus, emulator_policy, thread_policy, "
				    "persist, cpu_shares, memtune_soft_limit, memtune_hard_limit, "
				    "blkio_weight, libvirt_uri",
			       name, value);
			r = -EINVAL;
			continue;
		}
		if (e < 0) {
			kt_err(ctx, "%s=%s is invalid: expected %s", name, value, allowed);
			r = -EINVAL;
		}
	}
	if (r < 0)
		return r;
	/* Nova's default: the isolated CPUs are for dedicated guests, the rest is shared. */
	if (!have_dedicated)
		for (size_t i = 0; i < KT_ELEMENTSOF(o.cfg.dedicated.bits); i++)
			o.cfg.dedicated.bits[i] = t->isolated.bits[i] & t->online.bits[i];
	if (!have_shared)
		for (size_t i = 0; i < KT_ELEMENTSOF(o.cfg.shared.bits); i++)
			o.cfg.shared.bits[i] = t->online.bits[i] & ~o.cfg.dedicated.bits[i];
	for (size_t i = 0; i < KT_ELEMENTSOF(o.cfg.shared.bits); i++)
		if (o.cfg.shared.bits[i] & o.cfg.dedicated.bits[i]) {
			char d[256], s[256];

			fmt(&o.cfg.dedicated, d, sizeof(d));
			fmt(&o.cfg.shared, s, sizeof(s));
			kt_err(ctx, "shared_cpus=%s overlaps dedicated_cpus=%s: expected disjoint "
				    "CPU lists",
			       s, d);
			return -EINVAL;
		}
	if (o.cfg.mem_soft_limit_kib && o.cfg.mem_hard_limit_kib &&
	    o.cfg.mem_soft_limit_kib > o.cfg.mem_hard_limit_kib) {
		kt_err(ctx, "memtune_soft_limit is above memtune_hard_limit: expected soft <= hard");
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

struct cells {
	struct kt_pin_request *req;
	int error;
};

static int add_cell(void *data, const struct kt_domxml_node *node)
{
	struct cells *c = data;
	kt_cleanup_free char *cpus = NULL;
	struct kt_cpuset set;
	unsigned first = KT_PIN_VCPU_MAX, n;

	if (c->req->n_cells >= KT_PIN_CELL_MAX) {
		c->error = -E2BIG;
		return 1;
	}
	if (kt_domxml_string(node, "@cpus", &cpus) < 0 || kt_cpulist_parse(cpus, &set) < 0) {
		c->error = -EINVAL;
		return 1;
	}
	n = kt_cpuset_count(&set);
	for (unsigned v = 0; v < KT_PIN_VCPU_MAX; v++)
		if (kt_cpuset_has(&set, v)) {
			first = v;
			break;
		}
	/* Cells of consecutive vCPUs, as libvirt writes them: anything else is refused. */
	for (unsigned v = first; v < first + n; v++)
		if (!kt_cpuset_has(&set, v)) {
			c->error = -EINVAL;
			return 1;
		}
	c->req->cell_first[c->req->n_cells] = first;
	c->req->cell_vcpus[c->req->n_cells] = n;
	c->req->n_cells++;
	return 0;
}

#define META "/domain/metadata/kt:tuning/@"

static int meta(const struct kt_domxml_node *root, const char *attr, char **ret)
{
	char expr[96];

	snprintf(expr, sizeof(expr), META "%s", attr);
	return kt_domxml_string(root, expr, ret);
}

static int bad_meta(const struct kt_ctx *ctx, const char *dom, const char *attr, const char *value,
		    const char *allowed)
{
	kt_err(ctx, "domain %s: metadata %s='%s' is invalid: expected %s; domain left as it is",
	       dom, attr, value, allowed);
	return -EINVAL;
}

int kt_pin_request_from_xml(const struct kt_ctx *ctx, const struct kt_pin_options *o,
			    const char *xml, size_t len, struct kt_pin_request *ret)
{
	struct kt_pin_request req;
	struct kt_domxml *d = NULL;
	const struct kt_domxml_node *root;
	struct cells cells;
	char *s = NULL;
	uint64_t v;
	bool shares_set = false;
	int r;

	memset(&req, 0, sizeof(req));
	r = kt_domxml_parse(xml, len, &d);
	if (r < 0) {
		kt_err(ctx, "a domain's XML does not parse: %s", strerror(-r));
		return r;
	}
	root = kt_domxml_root(d);
	if (kt_domxml_string(root, "/domain/name", &s) < 0 || !s[0] ||
	    strlen(s) >= sizeof(req.name)) {
		kt_err(ctx, "a domain's XML has no usable <name>");
		r = -EINVAL;
		goto out;
	}
	snprintf(req.name, sizeof(req.name), "%s", s);
	free(s);
	s = NULL;
	/* The vCPUs online now: <vcpu current=> when hotplug left some offline. */
	if (kt_domxml_u64(root, "/domain/vcpu/@current", &v) < 0 &&
	    kt_domxml_u64(root, "/domain/vcpu", &v) < 0)
		v = 0;
	req.vcpus = v > KT_PIN_VCPU_MAX ? KT_PIN_VCPU_MAX + 1 : (unsigned)v;
	if (kt_domxml_u64(root, "/domain/iothreads", &v) == 0 && v <= 1024)
		req.iothreads = (unsigned)v;
	if (kt_domxml_u64(root, "/domain/memory", &v) == 0)
		req.memory_kib = v;
	cells = (struct cells){ &req, 0 };
	kt_domxml_each(root, "/domain/cpu/numa/cell", add_cell, &cells);
	if (cells.error < 0) {
		kt_err(ctx, "domain %s: its guest NUMA cells are not lists of consecutive vCPUs "
			    "(at most %u cells); domain left as it is",
		       req.name, KT_PIN_CELL_MAX);
		r = -EINVAL;
		goto out;
	}
	if (kt_domxml_string(root, "/domain/numatune/memory/@nodeset", &s) == 0) {
		struct kt_cpuset nodes;

		if (kt_cpulist_parse(s, &nodes) == 0) {
			req.numatune = true;
			for (unsigned n = 0; n < KT_NODE_MAX; n++)
				if (kt_cpuset_has(&nodes, n))
					kt_pin_nodeset_add(&req.numatune_nodes, n);
		}
		free(s);
		s = NULL;
	}

	req.policy = o->cfg.default_policy;
	req.emulator = o->cfg.emulator;
	req.threads = o->cfg.threads;
	req.mem_soft_limit_kib = o->cfg.mem_soft_limit_kib;
	req.mem_hard_limit_kib = o->cfg.mem_hard_limit_kib;
	req.blkio_weight = o->cfg.blkio_weight;
	if (meta(root, "policy", &s) == 0) {
		req.policy = kt_pin_policy_from_name(s);
		if (req.policy < 0)
			r = bad_meta(ctx, req.name, "policy", s, "shared or dedicated");
		free(s);
		s = NULL;
	}
	if (r == 0 && meta(root, "emulator_policy", &s) == 0) {
		req.emulator = kt_pin_emulator_from_name(s);
		if (req.emulator < 0)
			r = bad_meta(ctx, req.name, "emulator_policy", s, "share or isolate");
		free(s);
		s = NULL;
	}
	if (r == 0 && meta(root, "thread_policy", &s) == 0) {
		req.threads = kt_pin_threads_from_name(s);
		if (req.threads < 0)
			r = bad_meta(ctx, req.name, "thread_policy", s, "prefer, isolate or require");
		free(s);
		s = NULL;
	}
	if (r == 0 && meta(root, "cpu_shares", &s) == 0) {
		if (uint_value(s, 2, KT_PIN_CPU_SHARES_MAX, &req.cpu_shares) < 0)
			r = bad_meta(ctx, req.name, "cpu_shares", s, "an integer 2..262144");
		shares_set = true;
		free(s);
		s = NULL;
	}
	if (r == 0 && meta(root, "memtune_soft_limit", &s) == 0) {
		if (limit_value(s, &req.mem_soft_limit_kib) < 0)
			r = bad_meta(ctx, req.name, "memtune_soft_limit", s, LIMIT_ALLOWED);
		free(s);
		s = NULL;
	}
	if (r == 0 && meta(root, "memtune_hard_limit", &s) == 0) {
		if (limit_value(s, &req.mem_hard_limit_kib) < 0)
			r = bad_meta(ctx, req.name, "memtune_hard_limit", s, LIMIT_ALLOWED);
		free(s);
		s = NULL;
	}
	if (r == 0 && meta(root, "blkio_weight", &s) == 0) {
		if (uint_value(s, 100, 1000, &req.blkio_weight) < 0)
			r = bad_meta(ctx, req.name, "blkio_weight", s, WEIGHT_ALLOWED);
		free(s);
		s = NULL;
	}
	if (r < 0)
		goto out;
	/*
	 * libvirt gives every domain the same cpu_shares whatever its size: a shared guest
	 * weighs its vCPUs, so that 8 vCPUs get 8 times the CPU of 1 under contention.
	 */
	if (!shares_set && req.policy == KT_PIN_SHARED && o->cfg.cpu_shares_per_vcpu) {
		uint64_t shares = (uint64_t)o->cfg.cpu_shares_per_vcpu * (req.vcpus ? req.vcpus : 1);

		req.cpu_shares = shares > KT_PIN_CPU_SHARES_MAX ? KT_PIN_CPU_SHARES_MAX
								: (unsigned)shares;
	}
	if (req.mem_soft_limit_kib && req.mem_hard_limit_kib &&
	    req.mem_soft_limit_kib > req.mem_hard_limit_kib) {
		kt_err(ctx, "domain %s: memtune_soft_limit is above memtune_hard_limit: expected "
			    "soft <= hard; domain left as it is",
		       req.name);
		r = -EINVAL;
		goto out;
	}
	*ret = req;
out:
	free(s);
	kt_domxml_free(d);
	return r;
}
