// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "pin-plan.h"

static const char *const policy_names[KT_PIN_POLICY_MAX] = { "shared", "dedicated" };
static const char *const emulator_names[KT_PIN_EMULATOR_MAX] = { "share", "isolate" };
static const char *const threads_names[KT_PIN_THREADS_MAX] = { "prefer", "isolate", "require" };

static int from_name(const char *const *names, int n, const char *s)
{
	for (int i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -EINVAL;
}

const char *kt_pin_policy_name(enum kt_pin_policy p)
{
	return p >= 0 && p < KT_PIN_POLICY_MAX ? policy_names[p] : "invalid";
}

enum kt_pin_policy kt_pin_policy_from_name(const char *s)
{
	return from_name(policy_names, KT_PIN_POLICY_MAX, s);
}

const char *kt_pin_emulator_name(enum kt_pin_emulator e)
{
	return e >= 0 && e < KT_PIN_EMULATOR_MAX ? emulator_names[e] : "invalid";
}

enum kt_pin_emulator kt_pin_emulator_from_name(const char *s)
{
	return from_name(emulator_names, KT_PIN_EMULATOR_MAX, s);
}

const char *kt_pin_threads_name(enum kt_pin_threads t)
{
	return t >= 0 && t < KT_PIN_THREADS_MAX ? threads_names[t] : "invalid";
}

enum kt_pin_threads kt_pin_threads_from_name(const char *s)
{
	return from_name(threads_names, KT_PIN_THREADS_MAX, s);
}

bool kt_pin_nodeset_empty(const struct kt_pin_nodeset *s)
{
	for (size_t i = 0; i < KT_ELEMENTSOF(s->bits); i++)
		if (s->bits[i])
			return false;
	return true;
}

int kt_pin_nodeset_format(const struct kt_pin_nodeset *s, char *buf, size_t size)
{
	struct kt_cpuset set;

	kt_cpuset_clear(&set);
	for (unsigned n = 0; n < KT_NODE_MAX; n++)
		if (kt_pin_nodeset_has(s, n))
			kt_cpuset_add(&set, n);
	return kt_cpulist_format(&set, buf, size);
}

/* Threads per core on x86 and POWER; a core with more is cut at this. */
#define CORE_THREADS_MAX 8

struct core {
	unsigned cpu[CORE_THREADS_MAX];
	unsigned n;
	int node;
};

struct planner {
	const struct kt_topology *t;
	const struct kt_pin_config *cfg;
	/* Online CPUs of the dedicated set, and those given away. */
	struct kt_cpuset pool;
	struct kt_cpuset used;
	struct kt_cpuset shared;
	struct core *cores;
	unsigned n_cores;
	bool smt;
};

/* Cores in the order of their first thread, with their online threads in the pool. */
static int make_cores(struct planner *p)
{
	const struct kt_topology *t = p->t;

	p->cores = calloc(t->n_cpus ? t->n_cpus : 1, sizeof(*p->cores));
	if (!p->cores)
		return -ENOMEM;
	for (unsigned c = 0; c < t->n_cpus; c++) {
		struct core *core = NULL;

		if (!kt_cpuset_has(&p->pool, c))
			continue;
		for (unsigned i = 0; i < p->n_cores && !core; i++) {
			unsigned first = p->cores[i].cpu[0];

			if (t->cpus[first].core == t->cpus[c].core &&
			    t->cpus[first].package == t->cpus[c].package)
				core = &p->cores[i];
		}
		if (!core) {
			core = &p->cores[p->n_cores++];
			core->node = t->cpus[c].node;
		}
		if (core->n < CORE_THREADS_MAX)
			core->cpu[core->n++] = c;
		if (core->n > 1)
			p->smt = true;
	}
	return 0;
}

static unsigned core_free(const struct core *core, const struct kt_cpuset *used)
{
	unsigned n = 0;

	for (unsigned i = 0; i < core->n; i++)
		if (!kt_cpuset_has(used, core->cpu[i]))
			n++;
	return n;
}

static bool node_allowed(const struct kt_pin_nodeset *nodes, int node)
{
	return !nodes || (node >= 0 && kt_pin_nodeset_has(nodes, (unsigned)node));
}

/*
 * Picks CPUs for n threads of a guest (its vCPUs, then the emulator) on cores of the
 * allowed nodes, marking them (and the idle siblings the thread policy reserves) in used.
 * -ENOSPC, with used unchanged in meaning to the caller (it works on a copy), when they do
 * not fit.
 */
static int pick(const struct planner *p, const struct kt_pin_nodeset *nodes, unsigned n,
		enum kt_pin_threads threads, struct kt_cpuset *used, unsigned *out)
{
	unsigned got = 0;

	if (threads == KT_PIN_THREADS_REQUIRE && !p->smt)
		return -EOPNOTSUPP;
	while (got < n) {
		const struct core *best = NULL;
		unsigned best_free = 0, want = n - got;

		for (unsigned i = 0; i < p->n_cores; i++) {
			const struct core *core = &p->cores[i];
			unsigned f;

			if (!node_allowed(nodes, core->node))
				continue;
			f = core_free(core, used);
			if (f == 0)
				continue;
			/* isolate and require take whole cores only. */
			if (threads != KT_PIN_THREADS_PREFER && f != core->n)
				continue;
			if (threads == KT_PIN_THREADS_REQUIRE && core->n < 2)
				continue;
			if (threads == KT_PIN_THREADS_ISOLATE) {
				best = core;
				break;
			}
			/*
			 * prefer/require: the smallest core that holds the rest (no whole core
			 * broken for one vCPU), else the one with the most free threads.
			 */
			if (!best || (f >= want && (best_free < want || f < best_free)) ||
			    (f < want && best_free < want && f > best_free)) {
				best = core;
				best_free = f;
			}
		}
		if (!best)
			return -ENOSPC;
		for (unsigned i = 0, here = 0; i < best->n; i++) {
			unsigned c = best->cpu[i];

			if (kt_cpuset_has(used, c))
				continue;
			if (got < n && (threads != KT_PIN_THREADS_ISOLATE || here == 0)) {
				out[got++] = c;
				here++;
			} else if (threads == KT_PIN_THREADS_PREFER) {
				/* prefer leaves the rest of a core to others. */
				break;
			}
			/* isolate and require keep a used core's idle threads from others. */
			kt_cpuset_add(used, c);
		}
	}
	return 0;
}

static unsigned free_in_node(const struct planner *p, int node)
{
	unsigned n = 0;

	for (unsigned i = 0; i < p->n_cores; i++)
		if (p->cores[i].node == node)
			n += core_free(&p->cores[i], &p->used);
	return n;
}

/* The nodes allowed, fullest first (best fit: big holes stay for big guests), then by id. */
static unsigned nodes_by_fit(const struct planner *p, const struct kt_pin_request *req, int *out)
{
	unsigned n = 0, free_of[KT_NODE_MAX];

	for (unsigned i = 0; i < p->t->n_nodes && n < KT_NODE_MAX; i++) {
		int id = p->t->nodes[i].id;

		if (req->numatune && !kt_pin_nodeset_has(&req->numatune_nodes, (unsigned)id))
			continue;
		free_of[n] = free_in_node(p, id);
		out[n++] = id;
	}
	/* Insertion sort: a handful of nodes. */
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && free_of[j] < free_of[j - 1]; j--) {
			unsigned f = free_of[j];
			int id = out[j];

			free_of[j] = free_of[j - 1];
			out[j] = out[j - 1];
			free_of[j - 1] = f;
			out[j - 1] = id;
		}
	return n;
}

static void one_node(struct kt_pin_nodeset *s, int node)
{
	memset(s, 0, sizeof(*s));
	if (node >= 0)
		kt_pin_nodeset_add(s, (unsigned)node);
}

static void fmt_cpus(const struct kt_cpuset *set, char *buf, size_t size)
{
	if (kt_cpulist_format(set, buf, size) <= 0)
		snprintf(buf, size, "none");
}

static void unplaceable(const struct planner *p, const struct kt_pin_request *req,
			struct kt_pin_placement *pl, int why, unsigned need)
{
	struct kt_cpuset free_set = p->pool;
	char pool[128], free_cpus[128];

	for (size_t i = 0; i < KT_ELEMENTSOF(free_set.bits); i++)
		free_set.bits[i] &= ~p->used.bits[i];
	fmt_cpus(&p->pool, pool, sizeof(pool));
	fmt_cpus(&free_set, free_cpus, sizeof(free_cpus));
	pl->placed = false;
	if (why == -EOPNOTSUPP)
		snprintf(pl->reason, sizeof(pl->reason),
			 "thread_policy=require needs SMT siblings, and the dedicated CPUs (%s) "
			 "have none",
			 pool);
	else
		snprintf(pl->reason, sizeof(pl->reason),
			 "needs %u dedicated CPU%s (%u vCPU%s%s, thread_policy=%s%s), but of the "
			 "dedicated CPUs %s %s%s %s free",
			 need, need == 1 ? "" : "s", req->vcpus, req->vcpus == 1 ? "" : "s",
			 req->emulator == KT_PIN_EMULATOR_ISOLATE ? " + emulator" : "",
			 kt_pin_threads_name(req->threads),
			 req->n_cells > 1 ? ", each guest NUMA cell in one node" : "", pool,
			 kt_cpuset_count(&free_set) ? "only " : "", free_cpus,
			 kt_cpuset_count(&free_set) > 1 ? "are" : "is");
}

static void place_emulator_shared(const struct planner *p, struct kt_pin_placement *pl)
{
	pl->emulator_cpus = p->shared;
	if (kt_cpuset_count(&p->shared) > 0)
		return;
	/* No shared CPUs at all: the emulator stays with the guest's own. */
	for (unsigned v = 0; v < pl->vcpus; v++)
		kt_cpuset_add(&pl->emulator_cpus, pl->vcpu_cpu[v]);
}

static int place_dedicated(struct planner *p, const struct kt_pin_request *req,
			   struct kt_pin_placement *pl)
{
	bool emu = req->emulator == KT_PIN_EMULATOR_ISOLATE;
	unsigned need = req->vcpus + (emu ? 1 : 0), cpus[KT_PIN_VCPU_MAX + 1] = { 0 };
	int order[KT_NODE_MAX];
	unsigned n_order = nodes_by_fit(p, req, order);
	struct kt_pin_nodeset allowed;
	struct kt_cpuset work;
	int r = -ENOSPC;

	memset(&allowed, 0, sizeof(allowed));
	for (unsigned i = 0; i < n_order; i++)
		kt_pin_nodeset_add(&allowed, (unsigned)order[i]);
	if (req->n_cells > 1) {
		struct kt_pin_nodeset taken_nodes;

		memset(&taken_nodes, 0, sizeof(taken_nodes));
		work = p->used;
		for (unsigned c = 0; c < req->n_cells; c++) {
			unsigned k = req->cell_vcpus[c] + (c == 0 && emu ? 1 : 0);
			int found = -1;

			/* Distinct host nodes for distinct cells first, shared nodes after. */
			for (int pass = 0; pass < 2 && found < 0; pass++)
				for (unsigned i = 0; i < n_order && found < 0; i++) {
					struct kt_pin_nodeset one;
					struct kt_cpuset w = work;

					if (pass == 0 &&
					    kt_pin_nodeset_has(&taken_nodes, (unsigned)order[i]))
						continue;
					one_node(&one, order[i]);
					r = pick(p, &one, k, req->threads, &w, cpus);
					if (r == -EOPNOTSUPP)
						return r;
					if (r == 0) {
						found = order[i];
						work = w;
					}
				}
			if (found < 0)
				return -ENOSPC;
			kt_pin_nodeset_add(&taken_nodes, (unsigned)found);
			pl->cell_node[c] = found;
			for (unsigned v = 0; v < req->cell_vcpus[c]; v++)
				pl->vcpu_cpu[req->cell_first[c] + v] = (uint16_t)cpus[v];
			if (c == 0 && emu)
				kt_cpuset_add(&pl->emulator_cpus, cpus[req->cell_vcpus[c]]);
		}
	} else {
		/* One node when the guest fits in one, else across the allowed ones. */
		for (unsigned i = 0; i <= n_order && r != 0; i++) {
			struct kt_pin_nodeset one;

			work = p->used;
			if (i < n_order)
				one_node(&one, order[i]);
			r = pick(p, i < n_order ? &one : &allowed, need, req->threads, &work, cpus);
			if (r == -EOPNOTSUPP)
				return r;
		}
		if (r < 0)
			return r;
		for (unsigned v = 0; v < req->vcpus; v++)
			pl->vcpu_cpu[v] = (uint16_t)cpus[v];
		if (emu)
			kt_cpuset_add(&pl->emulator_cpus, cpus[req->vcpus]);
		if (req->n_cells == 1)
			pl->cell_node[0] = p->t->cpus[cpus[0]].node;
	}
	/* Everything work gained over used is this domain's, idle siblings included. */
	for (size_t i = 0; i < KT_ELEMENTSOF(work.bits); i++)
		pl->taken.bits[i] = work.bits[i] & ~p->used.bits[i];
	p->used = work;
	if (!emu)
		place_emulator_shared(p, pl);
	for (unsigned v = 0; v < req->vcpus; v++) {
		int node = p->t->cpus[pl->vcpu_cpu[v]].node;

		if (node >= 0)
			kt_pin_nodeset_add(&pl->nodes, (unsigned)node);
	}
	/* The domain's own <numatune> decides where its memory is; else it follows the vCPUs. */
	pl->mem_move = !req->numatune && p->t->n_nodes > 1;
	return 0;
}

static void place_shared(struct planner *p, const struct kt_pin_request *req,
			 struct kt_pin_placement *pl)
{
	pl->shared = p->shared;
	if (req->numatune) {
		struct kt_cpuset in_nodes;

		kt_cpuset_clear(&in_nodes);
		for (unsigned c = 0; c < p->t->n_cpus; c++)
			if (kt_cpuset_has(&p->shared, c) && p->t->cpus[c].node >= 0 &&
			    kt_pin_nodeset_has(&req->numatune_nodes, (unsigned)p->t->cpus[c].node))
				kt_cpuset_add(&in_nodes, c);
		/* Float near the memory when the shared set reaches those nodes. */
		if (kt_cpuset_count(&in_nodes) > 0)
			pl->shared = in_nodes;
	}
	if (kt_cpuset_count(&pl->shared) == 0) {
		pl->placed = false;
		snprintf(pl->reason, sizeof(pl->reason),
			 "policy=shared, but shared_cpus leaves no online CPU to float over");
		return;
	}
	pl->emulator_cpus = pl->shared;
	pl->placed = true;
}

static bool keep_current(struct planner *p, const struct kt_pin_request *req,
			 struct kt_pin_placement *pl)
{
	const struct kt_pin_placement *cur = req->current;

	if (!cur || !cur->placed || cur->policy != KT_PIN_DEDICATED ||
	    req->policy != KT_PIN_DEDICATED || cur->vcpus != req->vcpus ||
	    cur->emulator != req->emulator || cur->threads != req->threads)
		return false;
	for (size_t i = 0; i < KT_ELEMENTSOF(cur->taken.bits); i++)
		if ((cur->taken.bits[i] & ~p->pool.bits[i]) || (cur->taken.bits[i] & p->used.bits[i]))
			return false;
	*pl = *cur;
	pl->reason[0] = '\0';
	for (size_t i = 0; i < KT_ELEMENTSOF(cur->taken.bits); i++)
		p->used.bits[i] |= cur->taken.bits[i];
	/* The shared set may have changed under a kept dedicated guest's emulator. */
	if (pl->emulator == KT_PIN_EMULATOR_SHARE) {
		kt_cpuset_clear(&pl->emulator_cpus);
		place_emulator_shared(p, pl);
	}
	return true;
}

static void place(struct planner *p, const struct kt_pin_request *req, struct kt_pin_placement *pl)
{
	unsigned covered = 0;
	int r;

	memset(pl, 0, sizeof(*pl));
	pl->policy = req->policy;
	pl->emulator = req->emulator;
	pl->threads = req->threads;
	pl->vcpus = req->vcpus;
	for (unsigned c = 0; c < KT_PIN_CELL_MAX; c++)
		pl->cell_node[c] = -1;
	if (req->vcpus == 0 || req->vcpus > KT_PIN_VCPU_MAX) {
		snprintf(pl->reason, sizeof(pl->reason), "has %u vCPUs: expected 1..%u", req->vcpus,
			 KT_PIN_VCPU_MAX);
		return;
	}
	for (unsigned c = 0; c < req->n_cells && c < KT_PIN_CELL_MAX; c++) {
		if (req->cell_first[c] + req->cell_vcpus[c] > req->vcpus) {
			snprintf(pl->reason, sizeof(pl->reason),
				 "guest NUMA cell %u names vCPUs beyond its %u", c, req->vcpus);
			return;
		}
		covered += req->cell_vcpus[c];
	}
	if (req->n_cells > KT_PIN_CELL_MAX || (req->n_cells > 1 && covered != req->vcpus)) {
		snprintf(pl->reason, sizeof(pl->reason),
			 "has %u guest NUMA cells covering %u of %u vCPUs: expected at most %u "
			 "cells covering every vCPU once",
			 req->n_cells, covered, req->vcpus, KT_PIN_CELL_MAX);
		return;
	}
	if (req->policy == KT_PIN_SHARED) {
		place_shared(p, req, pl);
		return;
	}
	r = place_dedicated(p, req, pl);
	if (r < 0) {
		struct kt_pin_placement keep = *pl;

		memset(pl, 0, sizeof(*pl));
		pl->policy = keep.policy;
		pl->emulator = keep.emulator;
		pl->threads = keep.threads;
		pl->vcpus = keep.vcpus;
		unplaceable(p, req, pl, r, req->vcpus + (req->emulator == KT_PIN_EMULATOR_ISOLATE));
		return;
	}
	pl->placed = true;
}

static int by_name(const void *a, const void *b, void *data)
{
	const struct kt_pin_request *reqs = data;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(reqs[i].name, reqs[j].name);

	return c ? c : (i > j) - (i < j);
}

void kt_pin_plan(const struct kt_topology *t, const struct kt_pin_config *cfg,
		 const struct kt_pin_request *reqs, size_t n, struct kt_pin_placement *ret)
{
	struct planner p = { .t = t, .cfg = cfg };
	kt_cleanup_free size_t *idx = NULL;
	bool *kept = NULL;

	kt_cpuset_clear(&p.used);
	for (size_t i = 0; i < KT_ELEMENTSOF(p.pool.bits); i++) {
		p.pool.bits[i] = cfg->dedicated.bits[i] & t->online.bits[i];
		p.shared.bits[i] = cfg->shared.bits[i] & t->online.bits[i];
	}
	idx = calloc(n ? n : 1, sizeof(*idx));
	kept = calloc(n ? n : 1, sizeof(*kept));
	if (!idx || !kept || make_cores(&p) < 0) {
		for (size_t i = 0; i < n; i++) {
			memset(&ret[i], 0, sizeof(ret[i]));
			snprintf(ret[i].reason, sizeof(ret[i].reason), "out of memory while planning");
		}
		free(kept);
		free(p.cores);
		return;
	}
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	qsort_r(idx, n, sizeof(*idx), by_name, (void *)reqs);
	/* Those already placed keep their CPUs first: nobody moves for a newcomer. */
	for (size_t k = 0; k < n; k++)
		kept[idx[k]] = keep_current(&p, &reqs[idx[k]], &ret[idx[k]]);
	for (size_t k = 0; k < n; k++)
		if (!kept[idx[k]])
			place(&p, &reqs[idx[k]], &ret[idx[k]]);
	free(kept);
	free(p.cores);
}
