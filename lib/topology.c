// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "meminfo.h"
#include "parse.h"
#include "topology.h"

#define CPU_DIR "sys/devices/system/cpu"
#define NODE_DIR "sys/devices/system/node"

static int read_cpulist(const struct kt_ctx *ctx, const char *path, struct kt_cpuset *ret)
{
	char buf[4096];
	int r;

	r = kt_read_attr(ctx, path, buf, sizeof(buf));
	if (r < 0)
		return r;
	if (r == 0) {
		kt_cpuset_clear(ret);
		return 0;
	}
	return kt_cpulist_parse(buf, ret);
}

static int read_int(const struct kt_ctx *ctx, const char *path, int *ret)
{
	char buf[32];
	long long v;
	int r;

	r = kt_read_attr(ctx, path, buf, sizeof(buf));
	if (r < 0)
		return r;
	r = kt_parse_int(buf, -1, INT32_MAX, &v);
	if (r < 0)
		return r;
	*ret = (int)v;
	return 0;
}

static int highest(const struct kt_cpuset *set)
{
	for (int c = KT_CPU_MAX - 1; c >= 0; c--)
		if (kt_cpuset_has(set, (unsigned)c))
			return c;
	return -1;
}

/* "Node 0 MemTotal:  24599552 kB" lines of node/nodeN/meminfo. */
static void node_meminfo(const struct kt_ctx *ctx, struct kt_topo_node *n)
{
	kt_cleanup_free char *text = NULL;
	char path[96];
	const char *p;

	snprintf(path, sizeof(path), NODE_DIR "/node%d/meminfo", n->id);
	if (kt_read_file(ctx, path, &text, NULL) < 0)
		return;
	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		unsigned long long kb;
		char key[32];
		int id;

		if (sscanf(p, "Node %d %31[^:]: %llu kB", &id, key, &kb) != 3)
			continue;
		if (strcmp(key, "MemTotal") == 0)
			n->mem_total = (uint64_t)kb << 10;
		else if (strcmp(key, "MemFree") == 0)
			n->mem_free = (uint64_t)kb << 10;
	}
}

static int read_nodes(const struct kt_ctx *ctx, struct kt_topology *t)
{
	struct kt_cpuset ids;
	int r;

	r = read_cpulist(ctx, NODE_DIR "/online", &ids);
	if (r == -ENOENT) {
		/* No NUMA in this kernel: one node holds everything. */
		struct kt_meminfo mi;

		t->nodes = calloc(1, sizeof(*t->nodes));
		if (!t->nodes)
			return -ENOMEM;
		t->n_nodes = 1;
		t->nodes[0].cpus = t->online;
		if (kt_meminfo_read(ctx, &mi) == 0) {
			t->nodes[0].mem_total = mi.mem_total;
			t->nodes[0].mem_free = mi.mem_free;
		}
		t->nodes[0].distance = calloc(1, sizeof(unsigned));
		if (!t->nodes[0].distance)
			return -ENOMEM;
		t->nodes[0].distance[0] = 10;
		return 0;
	}
	if (r < 0)
		return r;
	t->n_nodes = kt_cpuset_count(&ids);
	t->nodes = calloc(t->n_nodes ? t->n_nodes : 1, sizeof(*t->nodes));
	if (!t->nodes)
		return -ENOMEM;
	for (unsigned id = 0, i = 0; id < KT_NODE_MAX && i < t->n_nodes; id++) {
		struct kt_topo_node *n;
		char path[96], buf[4096], *p, *end;

		if (!kt_cpuset_has(&ids, id))
			continue;
		n = &t->nodes[i++];
		n->id = (int)id;
		snprintf(path, sizeof(path), NODE_DIR "/node%u/cpulist", id);
		r = read_cpulist(ctx, path, &n->cpus);
		if (r < 0)
			return r;
		node_meminfo(ctx, n);
		n->distance = calloc(t->n_nodes, sizeof(unsigned));
		if (!n->distance)
			return -ENOMEM;
		snprintf(path, sizeof(path), NODE_DIR "/node%u/distance", id);
		if (kt_read_attr(ctx, path, buf, sizeof(buf)) < 0)
			continue;
		p = buf;
		for (unsigned j = 0; j < t->n_nodes; j++) {
			unsigned long d = strtoul(p, &end, 10);

			if (end == p)
				break;
			n->distance[j] = (unsigned)d;
			p = end;
		}
	}
	return 0;
}

int kt_topology_parse_cmdline(const char *cmdline, struct kt_cpuset *ret)
{
	static const char *const keys[] = { "isolcpus=", "nohz_full=" };
	struct kt_cpuset all;
	const char *p = cmdline;

	kt_cpuset_clear(&all);
	while (p && *p) {
		size_t len;

		p += strspn(p, " \t\n");
		len = strcspn(p, " \t\n");
		/* Everything after "--" belongs to init. */
		if (len == 2 && strncmp(p, "--", 2) == 0)
			break;
		for (size_t k = 0; k < KT_ELEMENTSOF(keys); k++) {
			size_t kl = strlen(keys[k]);
			char list[1024], *v;
			struct kt_cpuset set;

			if (len <= kl || strncmp(p, keys[k], kl) != 0 || len - kl >= sizeof(list))
				continue;
			memcpy(list, p + kl, len - kl);
			list[len - kl] = '\0';
			v = list;
			/* isolcpus=[flag,...,]cpu-list: the flags are words, the list starts with a digit. */
			while (*v && !(*v >= '0' && *v <= '9'))
				v += strcspn(v, ",") + (v[strcspn(v, ",")] ? 1 : 0);
			if (!*v)
				continue;
			if (kt_cpulist_parse(v, &set) < 0)
				return -EINVAL;
			for (unsigned c = 0; c < KT_CPU_MAX; c++)
				if (kt_cpuset_has(&set, c))
					kt_cpuset_add(&all, c);
		}
		p += len;
	}
	*ret = all;
	return 0;
}

int kt_topology_read(const struct kt_ctx *ctx, struct kt_topology **ret)
{
	struct kt_topology *t;
	struct kt_cpuset present;
	char buf[8192];
	int top, r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	r = read_cpulist(ctx, CPU_DIR "/online", &t->online);
	if (r < 0)
		goto fail;
	if (read_cpulist(ctx, CPU_DIR "/present", &present) < 0)
		present = t->online;
	top = highest(&present) > highest(&t->online) ? highest(&present) : highest(&t->online);
	t->n_cpus = (unsigned)(top + 1);
	t->cpus = calloc(t->n_cpus ? t->n_cpus : 1, sizeof(*t->cpus));
	if (!t->cpus) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned c = 0; c < t->n_cpus; c++) {
		struct kt_topo_cpu *cpu = &t->cpus[c];
		char path[96];

		cpu->present = kt_cpuset_has(&present, c) || kt_cpuset_has(&t->online, c);
		cpu->online = kt_cpuset_has(&t->online, c);
		cpu->node = -1;
		cpu->core = (int)c;
		if (!cpu->online)
			continue;
		snprintf(path, sizeof(path), CPU_DIR "/cpu%u/topology/core_id", c);
		read_int(ctx, path, &cpu->core);
		snprintf(path, sizeof(path), CPU_DIR "/cpu%u/topology/physical_package_id", c);
		read_int(ctx, path, &cpu->package);
	}
	r = read_nodes(ctx, t);
	if (r < 0)
		goto fail;
	for (unsigned i = 0; i < t->n_nodes; i++)
		for (unsigned c = 0; c < t->n_cpus; c++)
			if (kt_cpuset_has(&t->nodes[i].cpus, c))
				t->cpus[c].node = t->nodes[i].id;
	kt_cpuset_clear(&t->isolated);
	if (kt_read_attr(ctx, "proc/cmdline", buf, sizeof(buf)) >= 0 &&
	    kt_topology_parse_cmdline(buf, &t->isolated) < 0)
		kt_warn(ctx, "/proc/cmdline: isolcpus= or nohz_full= does not parse, ignoring");
	kt_cpuset_clear(&t->housekeeping);
	for (unsigned c = 0; c < t->n_cpus; c++)
		if (t->cpus[c].online && !kt_cpuset_has(&t->isolated, c))
			kt_cpuset_add(&t->housekeeping, c);
	*ret = t;
	return 0;
fail:
	kt_topology_free(t);
	return r;
}

struct kt_topology *kt_topology_free(struct kt_topology *t)
{
	if (!t)
		return NULL;
	for (unsigned i = 0; i < t->n_nodes && t->nodes; i++)
		free(t->nodes[i].distance);
	free(t->nodes);
	free(t->cpus);
	free(t);
	return NULL;
}

const struct kt_topo_node *kt_topology_node(const struct kt_topology *t, int id)
{
	for (unsigned i = 0; i < t->n_nodes; i++)
		if (t->nodes[i].id == id)
			return &t->nodes[i];
	return NULL;
}

void kt_topology_siblings(const struct kt_topology *t, unsigned cpu, struct kt_cpuset *ret)
{
	kt_cpuset_clear(ret);
	if (cpu >= t->n_cpus || !t->cpus[cpu].online)
		return;
	for (unsigned c = 0; c < t->n_cpus; c++)
		if (t->cpus[c].online && t->cpus[c].core == t->cpus[cpu].core &&
		    t->cpus[c].package == t->cpus[cpu].package)
			kt_cpuset_add(ret, c);
}
