// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "parse.h"
#include "virt-internal.h"
#include "virt-pin.h"

void kt_virt_domain_clear(struct kt_virt_domain *d)
{
	free(d->xml);
	d->xml = NULL;
}

void kt_virt_domains_free(struct kt_virt_domain *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		kt_virt_domain_clear(&d[i]);
	free(d);
}

static int describe(virDomainPtr dom, struct kt_virt_domain *ret, char **ret_error)
{
	struct kt_virt_domain d;
	const char *name;
	int p;

	memset(&d, 0, sizeof(d));
	if (virDomainGetUUIDString(dom, d.uuid) < 0)
		return kt_virt_last_error(ret_error);
	name = virDomainGetName(dom);
	snprintf(d.name, sizeof(d.name), "%s", name ? name : "?");
	d.id = (int)virDomainGetID(dom);
	p = virDomainIsPersistent(dom);
	d.persistent = p == 1;
	d.xml = virDomainGetXMLDesc(dom, 0);
	if (!d.xml)
		return kt_virt_last_error(ret_error);
	*ret = d;
	return 0;
}

int kt_virt_running(struct kt_virt *v, struct kt_virt_domain **ret, size_t *ret_n,
		    char **ret_error)
{
	virDomainPtr *doms = NULL;
	struct kt_virt_domain *out;
	size_t n = 0;
	int count;

	count = virConnectListAllDomains(v->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	if (count < 0)
		return kt_virt_last_error(ret_error);
	out = calloc(count ? (size_t)count : 1, sizeof(*out));
	for (int i = 0; i < count; i++) {
		/* A domain that stopped since the listing is skipped. */
		if (out && describe(doms[i], &out[n], NULL) == 0)
			n++;
		else
			virResetLastError();
		virDomainFree(doms[i]);
	}
	free(doms);
	if (!out)
		return -ENOMEM;
	*ret = out;
	*ret_n = n;
	return 0;
}

static virDomainPtr lookup(struct kt_virt *v, const char *uuid, char **ret_error, int *r)
{
	virDomainPtr dom = virDomainLookupByUUIDString(v->conn, uuid);

	if (!dom)
		*r = kt_virt_last_error(ret_error);
	return dom;
}

int kt_virt_domain_get(struct kt_virt *v, const char *uuid, struct kt_virt_domain *ret,
		       char **ret_error)
{
	virDomainPtr dom;
	int r = 0;

	dom = lookup(v, uuid, ret_error, &r);
	if (!dom)
		return r;
	if (virDomainIsActive(dom) != 1)
		r = -ENOENT;
	else
		r = describe(dom, ret, ret_error);
	virDomainFree(dom);
	return r;
}

/* Asked once per connection: every pinning needs it, and it is a round trip to libvirtd. */
static int host_cpus(struct kt_virt *v, char **ret_error)
{
	int n;

	if (v->ncpus > 0)
		return v->ncpus;
	n = virNodeGetCPUMap(v->conn, NULL, NULL, 0);
	if (n < 0)
		return kt_virt_last_error(ret_error);
	v->ncpus = n;
	return n;
}

static void map_to_set(const unsigned char *map, int maplen, struct kt_cpuset *ret)
{
	kt_cpuset_clear(ret);
	for (int c = 0; c < maplen * 8; c++)
		if (map[c / 8] & (1u << (c % 8)))
			kt_cpuset_add(ret, (unsigned)c);
}

static void set_to_map(const struct kt_cpuset *set, unsigned char *map, int maplen)
{
	memset(map, 0, (size_t)maplen);
	for (int c = 0; c < maplen * 8; c++)
		if (kt_cpuset_has(set, (unsigned)c))
			map[c / 8] |= (unsigned char)(1u << (c % 8));
}

static int put_set(struct kt_kvlist *kv, const char *key, const struct kt_cpuset *set)
{
	char buf[512];

	if (kt_cpulist_format(set, buf, sizeof(buf)) < 0)
		return -E2BIG;
	return kt_kvlist_set(kv, key, buf);
}

static int put_u64(struct kt_kvlist *kv, const char *key, unsigned long long value)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", value);
	return kt_kvlist_set(kv, key, buf);
}

static void skipped(char *buf, size_t size, const char *what)
{
	size_t len = strlen(buf);

	if (size > len)
		snprintf(buf + len, size - len, "%s%s", len ? ", " : "", what);
}

/* One typed parameter of a getter, or -ENOENT. */
static int param_u64(virTypedParameterPtr params, int n, const char *name, unsigned long long *ret)
{
	for (int i = 0; i < n; i++) {
		if (strcmp(params[i].field, name) != 0)
			continue;
		switch (params[i].type) {
		case VIR_TYPED_PARAM_ULLONG:
			*ret = params[i].value.ul;
			return 0;
		case VIR_TYPED_PARAM_UINT:
			*ret = params[i].value.ui;
			return 0;
		case VIR_TYPED_PARAM_LLONG:
			*ret = (unsigned long long)params[i].value.l;
			return 0;
		default:
			return -EINVAL;
		}
	}
	return -ENOENT;
}

static int save_vcpus(virDomainPtr dom, int ncpus, const struct kt_pin_placement *pl,
		      struct kt_kvlist *kv, char **ret_error)
{
	int maplen = VIR_CPU_MAPLEN(ncpus), n;
	kt_cleanup_free unsigned char *maps = NULL;

	maps = calloc(pl->vcpus ? pl->vcpus : 1, (size_t)maplen);
	if (!maps)
		return -ENOMEM;
	n = virDomainGetVcpuPinInfo(dom, (int)pl->vcpus, maps, maplen, VIR_DOMAIN_AFFECT_LIVE);
	if (n < 0)
		return kt_virt_last_error(ret_error);
	for (int i = 0; i < n && (unsigned)i < pl->vcpus; i++) {
		struct kt_cpuset set;
		char key[32];
		int r;

		map_to_set(maps + (size_t)i * (size_t)maplen, maplen, &set);
		snprintf(key, sizeof(key), "vcpu%d", i);
		r = put_set(kv, key, &set);
		if (r < 0)
			return r;
	}
	return 0;
}

static int save_iothreads(virDomainPtr dom, struct kt_kvlist *kv, char **ret_error)
{
	virDomainIOThreadInfoPtr *info = NULL;
	int n, r = 0;

	n = virDomainGetIOThreadInfo(dom, &info, VIR_DOMAIN_AFFECT_LIVE);
	if (n < 0) {
		r = kt_virt_last_error(ret_error);
		/* A driver without iothreads has none to move. */
		return r == -EOPNOTSUPP ? 0 : r;
	}
	for (int i = 0; i < n; i++) {
		struct kt_cpuset set;
		char key[32];

		map_to_set(info[i]->cpumap, info[i]->cpumaplen, &set);
		snprintf(key, sizeof(key), "iothread%u", info[i]->iothread_id);
		if (r == 0)
			r = put_set(kv, key, &set);
		virDomainIOThreadInfoFree(info[i]);
	}
	free(info);
	return r;
}

int kt_virt_pin_save(struct kt_virt *v, const char *uuid, const struct kt_pin_request *req,
		     const struct kt_pin_placement *pl, struct kt_kvlist *ret, char *ret_skipped,
		     size_t skipped_size, char **ret_error)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	virDomainPtr dom;
	int ncpus, r = 0;

	ret_skipped[0] = '\0';
	ncpus = host_cpus(v, ret_error);
	if (ncpus < 0)
		return ncpus;
	dom = lookup(v, uuid, ret_error, &r);
	if (!dom)
		return r;
	r = save_vcpus(dom, ncpus, pl, &kv, ret_error);
	if (r == 0) {
		int maplen = VIR_CPU_MAPLEN(ncpus);
		kt_cleanup_free unsigned char *map = calloc(1, (size_t)maplen);
		struct kt_cpuset set;

		if (!map)
			r = -ENOMEM;
		else if (virDomainGetEmulatorPinInfo(dom, map, maplen, VIR_DOMAIN_AFFECT_LIVE) < 0)
			r = kt_virt_last_error(ret_error);
		else {
			map_to_set(map, maplen, &set);
			r = put_set(&kv, "emulator", &set);
		}
	}
	if (r == 0)
		r = save_iothreads(dom, &kv, ret_error);
	if (r == 0 && req->cpu_shares) {
		virTypedParameterPtr params = NULL;
		unsigned long long shares;
		int n = 0;

		/* The scheduler's parameter count comes with its type, not from a NULL array. */
		char *type = virDomainGetSchedulerType(dom, &n);
		bool have_type = type != NULL;

		free(type);
		if (have_type && n > 0 && (params = calloc((size_t)n, sizeof(*params))) &&
		    virDomainGetSchedulerParametersFlags(dom, params, &n, VIR_DOMAIN_AFFECT_LIVE) ==
			    0 &&
		    param_u64(params, n, VIR_DOMAIN_SCHEDULER_CPU_SHARES, &shares) == 0)
			r = put_u64(&kv, "cpu_shares", shares);
		else
			skipped(ret_skipped, skipped_size, "cpu_shares");
		virResetLastError();
		if (params)
			virTypedParamsClear(params, n);
		free(params);
	}
	if (r == 0 && (req->mem_soft_limit_kib || req->mem_hard_limit_kib)) {
		virTypedParameterPtr params = NULL;
		unsigned long long soft, hard;
		int n = 0;

		if (virDomainGetMemoryParameters(dom, NULL, &n, VIR_DOMAIN_AFFECT_LIVE) == 0 &&
		    (params = calloc((size_t)(n ? n : 1), sizeof(*params))) &&
		    virDomainGetMemoryParameters(dom, params, &n, VIR_DOMAIN_AFFECT_LIVE) == 0 &&
		    param_u64(params, n, VIR_DOMAIN_MEMORY_SOFT_LIMIT, &soft) == 0 &&
		    param_u64(params, n, VIR_DOMAIN_MEMORY_HARD_LIMIT, &hard) == 0) {
			if (req->mem_soft_limit_kib)
				r = put_u64(&kv, "memtune_soft_limit", soft);
			if (r == 0 && req->mem_hard_limit_kib)
				r = put_u64(&kv, "memtune_hard_limit", hard);
		} else {
			skipped(ret_skipped, skipped_size, "memtune");
		}
		virResetLastError();
		if (params)
			virTypedParamsClear(params, n);
		free(params);
	}
	if (r == 0 && req->blkio_weight) {
		virTypedParameterPtr params = NULL;
		unsigned long long weight;
		int n = 0;

		if (virDomainGetBlkioParameters(dom, NULL, &n, VIR_DOMAIN_AFFECT_LIVE) == 0 &&
		    (params = calloc((size_t)(n ? n : 1), sizeof(*params))) &&
		    virDomainGetBlkioParameters(dom, params, &n, VIR_DOMAIN_AFFECT_LIVE) == 0 &&
		    param_u64(params, n, VIR_DOMAIN_BLKIO_WEIGHT, &weight) == 0)
			r = put_u64(&kv, "blkio_weight", weight);
		else
			skipped(ret_skipped, skipped_size, "blkio_weight");
		virResetLastError();
		if (params)
			virTypedParamsClear(params, n);
		free(params);
	}
	if (r == 0 && pl->mem_move) {
		virTypedParameterPtr params = NULL;
		int n = 0;

		if (virDomainGetNumaParameters(dom, NULL, &n, VIR_DOMAIN_AFFECT_LIVE) == 0 &&
		    (params = calloc((size_t)(n ? n : 1), sizeof(*params))) &&
		    virDomainGetNumaParameters(dom, params, &n, VIR_DOMAIN_AFFECT_LIVE) == 0) {
			const char *nodeset = NULL;

			virTypedParamsGetString(params, n, VIR_DOMAIN_NUMA_NODESET, &nodeset);
			/* libvirt gives "" for "every node": put back as the host's nodes. */
			r = kt_kvlist_set(&kv, "numa_nodeset", nodeset ? nodeset : "");
		} else {
			skipped(ret_skipped, skipped_size, "numatune");
		}
		virResetLastError();
		if (params)
			virTypedParamsClear(params, n);
		free(params);
	}
	virDomainFree(dom);
	if (r < 0) {
		kt_kvlist_clear(&kv);
		return r;
	}
	*ret = kv;
	return 0;
}

static int pin_vcpu(virDomainPtr dom, unsigned vcpu, const struct kt_cpuset *set, int ncpus,
		    unsigned flags)
{
	int maplen = VIR_CPU_MAPLEN(ncpus);
	kt_cleanup_free unsigned char *map = calloc(1, (size_t)maplen);

	if (!map)
		return -ENOMEM;
	set_to_map(set, map, maplen);
	if (virDomainPinVcpuFlags(dom, vcpu, map, maplen, flags) < 0)
		return -EIO;
	return 0;
}

static int pin_emulator(virDomainPtr dom, const struct kt_cpuset *set, int ncpus, unsigned flags)
{
	int maplen = VIR_CPU_MAPLEN(ncpus);
	kt_cleanup_free unsigned char *map = calloc(1, (size_t)maplen);

	if (!map)
		return -ENOMEM;
	set_to_map(set, map, maplen);
	if (virDomainPinEmulator(dom, map, maplen, flags) < 0)
		return -EIO;
	return 0;
}

static int pin_iothread(virDomainPtr dom, unsigned id, const struct kt_cpuset *set, int ncpus,
			unsigned flags)
{
	int maplen = VIR_CPU_MAPLEN(ncpus);
	kt_cleanup_free unsigned char *map = calloc(1, (size_t)maplen);

	if (!map)
		return -ENOMEM;
	set_to_map(set, map, maplen);
	if (virDomainPinIOThread(dom, id, map, maplen, flags) < 0)
		return -EIO;
	return 0;
}

static int set_ullong(int (*fn)(virDomainPtr, virTypedParameterPtr, int, unsigned int),
		      virDomainPtr dom, const char *field, unsigned long long value, unsigned flags)
{
	virTypedParameter p;

	memset(&p, 0, sizeof(p));
	snprintf(p.field, sizeof(p.field), "%s", field);
	p.type = VIR_TYPED_PARAM_ULLONG;
	p.value.ul = value;
	return fn(dom, &p, 1, flags) < 0 ? -EIO : 0;
}

static int set_uint(int (*fn)(virDomainPtr, virTypedParameterPtr, int, unsigned int),
		    virDomainPtr dom, const char *field, unsigned value, unsigned flags)
{
	virTypedParameter p;

	memset(&p, 0, sizeof(p));
	snprintf(p.field, sizeof(p.field), "%s", field);
	p.type = VIR_TYPED_PARAM_UINT;
	p.value.ui = value;
	return fn(dom, &p, 1, flags) < 0 ? -EIO : 0;
}

static int set_string(int (*fn)(virDomainPtr, virTypedParameterPtr, int, unsigned int),
		      virDomainPtr dom, const char *field, const char *value, unsigned flags)
{
	virTypedParameter p;

	memset(&p, 0, sizeof(p));
	snprintf(p.field, sizeof(p.field), "%s", field);
	p.type = VIR_TYPED_PARAM_STRING;
	p.value.s = (char *)value;
	return fn(dom, &p, 1, flags) < 0 ? -EIO : 0;
}

static unsigned long long limit(uint64_t kib)
{
	return kib == UINT64_MAX ? (unsigned long long)VIR_DOMAIN_MEMORY_PARAM_UNLIMITED : kib;
}

/* One item to its value: the placement's (want) or the saved one (restore). */
static int set_item(virDomainPtr dom, int ncpus, const char *key, const char *value,
		    unsigned flags)
{
	struct kt_cpuset set;
	long long n;

	if (strncmp(key, "vcpu", 4) == 0 && kt_parse_int(key + 4, 0, KT_PIN_VCPU_MAX, &n) == 0)
		return kt_cpulist_parse(value, &set) < 0 ? -EINVAL
							 : pin_vcpu(dom, (unsigned)n, &set, ncpus, flags);
	if (strcmp(key, "emulator") == 0)
		return kt_cpulist_parse(value, &set) < 0 ? -EINVAL
							 : pin_emulator(dom, &set, ncpus, flags);
	if (strncmp(key, "iothread", 8) == 0 && kt_parse_int(key + 8, 0, INT32_MAX, &n) == 0)
		return kt_cpulist_parse(value, &set) < 0
			       ? -EINVAL
			       : pin_iothread(dom, (unsigned)n, &set, ncpus, flags);
	if (kt_parse_int(value, 0, INT64_MAX, &n) < 0 && strcmp(key, "numa_nodeset") != 0)
		return -EINVAL;
	if (strcmp(key, "cpu_shares") == 0)
		return set_ullong(virDomainSetSchedulerParametersFlags, dom,
				  VIR_DOMAIN_SCHEDULER_CPU_SHARES, (unsigned long long)n, flags);
	if (strcmp(key, "memtune_soft_limit") == 0)
		return set_ullong(virDomainSetMemoryParameters, dom, VIR_DOMAIN_MEMORY_SOFT_LIMIT,
				  (unsigned long long)n, flags);
	if (strcmp(key, "memtune_hard_limit") == 0)
		return set_ullong(virDomainSetMemoryParameters, dom, VIR_DOMAIN_MEMORY_HARD_LIMIT,
				  (unsigned long long)n, flags);
	if (strcmp(key, "blkio_weight") == 0)
		return set_uint(virDomainSetBlkioParameters, dom, VIR_DOMAIN_BLKIO_WEIGHT,
				(unsigned)n, flags);
	if (strcmp(key, "numa_nodeset") == 0)
		return value[0] ? set_string(virDomainSetNumaParameters, dom,
					     VIR_DOMAIN_NUMA_NODESET, value, flags)
				: 0;
	return -EINVAL;
}

static int want_of(const struct kt_pin_request *req, const struct kt_pin_placement *pl,
		   const char *key, char *buf, size_t size)
{
	long long n;

	if (strncmp(key, "vcpu", 4) == 0 && kt_parse_int(key + 4, 0, KT_PIN_VCPU_MAX - 1, &n) == 0) {
		struct kt_cpuset one;

		if (pl->policy == KT_PIN_SHARED)
			return kt_cpulist_format(&pl->shared, buf, size);
		if ((unsigned)n >= pl->vcpus)
			return -ENOENT;
		kt_cpuset_clear(&one);
		kt_cpuset_add(&one, pl->vcpu_cpu[n]);
		return kt_cpulist_format(&one, buf, size);
	}
	/* iothreads go with the emulator. */
	if (strcmp(key, "emulator") == 0 || strncmp(key, "iothread", 8) == 0)
		return kt_cpulist_format(&pl->emulator_cpus, buf, size);
	/* A value only an earlier run changed stays until the restore puts it back. */
	if (strcmp(key, "cpu_shares") == 0)
		return req->cpu_shares ? snprintf(buf, size, "%u", req->cpu_shares) : -ENOENT;
	if (strcmp(key, "memtune_soft_limit") == 0)
		return req->mem_soft_limit_kib
			       ? snprintf(buf, size, "%llu", limit(req->mem_soft_limit_kib))
			       : -ENOENT;
	if (strcmp(key, "memtune_hard_limit") == 0)
		return req->mem_hard_limit_kib
			       ? snprintf(buf, size, "%llu", limit(req->mem_hard_limit_kib))
			       : -ENOENT;
	if (strcmp(key, "blkio_weight") == 0)
		return req->blkio_weight ? snprintf(buf, size, "%u", req->blkio_weight) : -ENOENT;
	if (strcmp(key, "numa_nodeset") == 0)
		return pl->mem_move ? kt_pin_nodeset_format(&pl->nodes, buf, size) : -ENOENT;
	return -ENOENT;
}

/*
 * The kernel refuses a memory hard limit below the soft one: when both move, the one that
 * keeps soft <= hard at every step goes first.
 */
static bool hard_first(const struct kt_kvlist *saved, const struct kt_pin_request *req)
{
	const char *old_hard = kt_kvlist_get(saved, "memtune_hard_limit");
	long long h;

	return req && old_hard && kt_parse_int(old_hard, 0, INT64_MAX, &h) == 0 &&
	       limit(req->mem_hard_limit_kib) > (unsigned long long)h;
}

static int apply_items(struct kt_virt *v, const char *uuid, const struct kt_pin_request *req,
		       const struct kt_pin_placement *pl, const struct kt_kvlist *saved,
		       unsigned flags, bool best_effort, char **ret_error)
{
	virDomainPtr dom;
	int ncpus, r = 0, first = 0;

	ncpus = host_cpus(v, ret_error);
	if (ncpus < 0)
		return ncpus;
	dom = lookup(v, uuid, ret_error, &r);
	if (!dom)
		return r;
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < saved->n; i++) {
			const char *key = saved->items[i].key, *value = saved->items[i].value;
			bool mem = strncmp(key, "memtune_", 8) == 0;
			bool hard = strcmp(key, "memtune_hard_limit") == 0;
			char buf[512];
			int e;

			/* Pass 0: all but memtune, then the memtune limit that must lead. */
			if (pass == 0 && (mem && hard != hard_first(saved, req)))
				continue;
			if (pass == 1 && !(mem && hard != hard_first(saved, req)))
				continue;
			if (pl) {
				if (want_of(req, pl, key, buf, sizeof(buf)) < 0)
					continue;
				value = buf;
			}
			e = set_item(dom, ncpus, key, value, flags);
			/*
			 * Some drivers (libvirt's test driver) take no explicit LIVE flag: for a
			 * domain that runs, CURRENT is its live state.
			 */
			if (e == -EIO && flags == VIR_DOMAIN_AFFECT_LIVE &&
			    virGetLastError() && virGetLastError()->code == VIR_ERR_INVALID_ARG &&
			    virDomainIsActive(dom) == 1) {
				virResetLastError();
				e = set_item(dom, ncpus, key, value, VIR_DOMAIN_AFFECT_CURRENT);
			}
			/*
			 * Moving memory is worth having, not worth leaving a guest unpinned for:
			 * the pinning stands, and the message says why the memory did not move.
			 */
			if (e < 0 && pl && strcmp(key, "numa_nodeset") == 0) {
				char *msg = NULL;

				kt_virt_last_error(&msg);
				if (ret_error && !*ret_error &&
				    asprintf(ret_error, "%s: %s", key, msg ? msg : "failed") < 0)
					*ret_error = NULL;
				free(msg);
				continue;
			}
			if (e < 0) {
				char *msg = NULL;
				int le = kt_virt_last_error(&msg);

				if (first == 0) {
					first = e == -EIO ? le : e;
					if (ret_error && !*ret_error && msg &&
					    asprintf(ret_error, "%s: %s", key, msg) < 0)
						*ret_error = NULL;
				}
				free(msg);
				if (!best_effort) {
					virDomainFree(dom);
					return first;
				}
			}
		}
	virDomainFree(dom);
	return first;
}

int kt_virt_pin_set(struct kt_virt *v, const char *uuid, const struct kt_pin_request *req,
		    const struct kt_pin_placement *pl, const struct kt_kvlist *saved, bool config,
		    char **ret_error)
{
	unsigned flags = VIR_DOMAIN_AFFECT_LIVE | (config ? VIR_DOMAIN_AFFECT_CONFIG : 0);

	if (ret_error)
		*ret_error = NULL;
	return apply_items(v, uuid, req, pl, saved, flags, false, ret_error);
}

int kt_virt_pin_restore(struct kt_virt *v, const char *uuid, const struct kt_kvlist *saved,
			bool config, char **ret_error)
{
	unsigned flags = VIR_DOMAIN_AFFECT_LIVE | (config ? VIR_DOMAIN_AFFECT_CONFIG : 0);

	if (ret_error)
		*ret_error = NULL;
	return apply_items(v, uuid, NULL, NULL, saved, flags, true, ret_error);
}

int kt_virt_pin_read(struct kt_virt *v, const char *uuid, struct kt_cpuset *vcpus, unsigned max,
		     unsigned *ret_n, struct kt_cpuset *emulator, char **ret_error)
{
	kt_cleanup_free unsigned char *maps = NULL;
	virDomainPtr dom;
	int ncpus, maplen, n, r = 0;

	ncpus = host_cpus(v, ret_error);
	if (ncpus < 0)
		return ncpus;
	dom = lookup(v, uuid, ret_error, &r);
	if (!dom)
		return r;
	maplen = VIR_CPU_MAPLEN(ncpus);
	maps = calloc(max ? max : 1, (size_t)maplen);
	if (!maps) {
		virDomainFree(dom);
		return -ENOMEM;
	}
	n = virDomainGetVcpuPinInfo(dom, (int)max, maps, maplen, VIR_DOMAIN_AFFECT_LIVE);
	if (n < 0) {
		r = kt_virt_last_error(ret_error);
		virDomainFree(dom);
		return r;
	}
	for (int i = 0; i < n && (unsigned)i < max; i++)
		map_to_set(maps + (size_t)i * (size_t)maplen, maplen, &vcpus[i]);
	*ret_n = (unsigned)n < max ? (unsigned)n : max;
	memset(maps, 0, (size_t)maplen);
	if (virDomainGetEmulatorPinInfo(dom, maps, maplen, VIR_DOMAIN_AFFECT_LIVE) < 0) {
		virResetLastError();
		kt_cpuset_clear(emulator);
	} else {
		map_to_set(maps, maplen, emulator);
	}
	virDomainFree(dom);
	return 0;
}
