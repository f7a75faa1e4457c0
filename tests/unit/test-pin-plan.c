// SPDX-License-Identifier: LGPL-2.1-or-later
/* The placement planner on fixture topologies: one scenario table, and its invariants. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "pin-domain.h"
#include "pin-plan.h"
#include "topology.h"

#define D KT_PIN_DEDICATED
#define S KT_PIN_SHARED
#define SHARE KT_PIN_EMULATOR_SHARE
#define ISO KT_PIN_EMULATOR_ISOLATE
#define PREFER KT_PIN_THREADS_PREFER
#define ISOLATE KT_PIN_THREADS_ISOLATE
#define REQUIRE KT_PIN_THREADS_REQUIRE

struct dom {
	const char *name;
	unsigned vcpus;
	enum kt_pin_policy policy;
	enum kt_pin_emulator emulator;
	enum kt_pin_threads threads;
	/* Guest NUMA cells as "first:count first:count", and <numatune> nodes. */
	const char *cells;
	const char *numatune;
	/* Expected: the host CPU of each vCPU ("2,18"), or "shared:0-1"; NULL: not placed. */
	const char *vcpus_on;
	const char *emulator_on;
	/* Expected nodes the memory goes to ("" when it is not moved), or a reason fragment. */
	const char *nodes_or_reason;
};

struct scenario {
	const char *what;
	const char *fixture;
	/* Options as the profile gives them (NULL: the defaults). */
	const char *dedicated;
	const char *shared;
	struct dom doms[6];
};

/* clang-format off */
static const struct scenario scenarios[] = {
	{ "this host: housekeeping CPU 0, dedicated CPU 1", "topo-2cpu", "1", "0", {
		{ "g1", 1, D, SHARE, PREFER, NULL, NULL, "1", "0", "" },
		{ "g2", 1, D, SHARE, PREFER, NULL, NULL, NULL, NULL, "of the dedicated CPUs 1 none is free" },
		{ "g3", 2, S, SHARE, PREFER, NULL, NULL, "shared:0", "0", "" },
	} },
	{ "1 socket without SMT: prefer packs, emulator isolate takes a CPU of its own",
	  "topo-1s-nosmt", "2-7", NULL, {
		{ "a", 2, D, SHARE, PREFER, NULL, NULL, "2,3", "0-1", "" },
		{ "b", 2, D, ISO, PREFER, NULL, NULL, "4,5", "6", "" },
		{ "c", 2, D, SHARE, PREFER, NULL, NULL, NULL, NULL, "needs 2 dedicated CPUs (2 vCPUs, thread_policy=prefer), but of the dedicated CPUs 2-7 only 7 is free" },
		{ "d", 1, D, SHARE, PREFER, NULL, NULL, "7", "0-1", "" },
		{ "e", 4, S, SHARE, PREFER, NULL, NULL, "shared:0-1", "0-1", "" },
	} },
	{ "1 socket without SMT: require refuses, isolate is one vCPU per core",
	  "topo-1s-nosmt", "1-7", NULL, {
		{ "a", 2, D, SHARE, REQUIRE, NULL, NULL, NULL, NULL, "thread_policy=require needs SMT" },
		{ "b", 2, D, SHARE, ISOLATE, NULL, NULL, "1,2", "0", "" },
	} },
	{ "2 sockets x SMT2 x 2 nodes: prefer on siblings, one node, memory follows",
	  "topo-2s-smt2-2n", "2-15,18-31", "0-1,16-17", {
		{ "a", 4, D, SHARE, PREFER, NULL, NULL, "2,18,3,19", "0-1,16-17", "0" },
		{ "b", 3, D, SHARE, PREFER, NULL, NULL, "4,20,5", "0-1,16-17", "0" },
		{ "c", 1, D, SHARE, PREFER, NULL, NULL, "21", "0-1,16-17", "0" },
		{ "d", 16, D, SHARE, PREFER, NULL, NULL,
		  "8,24,9,25,10,26,11,27,12,28,13,29,14,30,15,31", "0-1,16-17", "1" },
	} },
	{ "2 sockets x SMT2: isolate leaves siblings idle, require takes whole cores",
	  "topo-2s-smt2-2n", "2-15,18-31", "0-1,16-17", {
		{ "a", 2, D, SHARE, ISOLATE, NULL, NULL, "2,3", "0-1,16-17", "0" },
		{ "b", 3, D, ISO, REQUIRE, NULL, NULL, "4,20,5", "21", "0" },
		{ "c", 1, D, SHARE, PREFER, NULL, NULL, "6", "0-1,16-17", "0" },
	} },
	{ "2 sockets: a guest with 2 NUMA cells gets one host node per cell",
	  "topo-2s-smt2-2n", "2-15,18-31", "0-1,16-17", {
		{ "big", 4, D, ISO, PREFER, "0:2 2:2", NULL, "2,18,8,24", "3", "0-1" },
	} },
	{ "2 sockets: numatune keeps the guest on its nodes and its memory where it is",
	  "topo-2s-smt2-2n", "2-15,18-31", "0-1,16-17", {
		{ "n1", 2, D, SHARE, PREFER, NULL, "1", "8,24", "0-1,16-17", "" },
		/* The shared CPUs are all on node 0: they float there. */
		{ "s1", 2, S, SHARE, PREFER, NULL, "1", "shared:0-1,16-17", "0-1,16-17", "" },
	} },
	{ "4 nodes x 64 CPUs: best fit keeps big holes for big guests",
	  "topo-4n-64", "4-31,36-63", NULL, {
		{ "a", 8, D, SHARE, PREFER, NULL, NULL, "4,36,5,37,6,38,7,39", "0-3,32-35", "0" },
		{ "b", 16, D, SHARE, PREFER, NULL, NULL,
		  "8,40,9,41,10,42,11,43,12,44,13,45,14,46,15,47", "0-3,32-35", "1" },
		{ "c", 20, D, SHARE, PREFER, NULL, NULL,
		  "16,48,17,49,18,50,19,51,20,52,21,53,22,54,23,55,24,56,25,57", "0-3,32-35", "2-3" },
		{ "d", 40, D, SHARE, PREFER, NULL, NULL, NULL, NULL, "needs 40 dedicated CPUs" },
	} },
	{ "isolated cores: dedicated defaults to isolcpus, shared to the rest",
	  "topo-isolated", NULL, NULL, {
		{ "a", 2, D, SHARE, PREFER, NULL, NULL, "2,10", "0-1,8-9", "" },
		{ "b", 1, S, SHARE, PREFER, NULL, NULL, "shared:0-1,8-9", "0-1,8-9", "" },
	} },
	{ "full host: every dedicated CPU given, the next guest is left alone",
	  "topo-isolated", NULL, NULL, {
		{ "a", 6, D, SHARE, ISOLATE, NULL, NULL, "2,3,4,5,6,7", "0-1,8-9", "" },
		{ "b", 1, D, SHARE, PREFER, NULL, NULL, NULL, NULL, "none is free" },
		{ "c", 2, S, SHARE, PREFER, NULL, NULL, "shared:0-1,8-9", "0-1,8-9", "" },
	} },
};
/* clang-format on */

static struct kt_topology *topology(const char *name)
{
	struct fixture *f = fixture_open(name);
	struct kt_topology *t = NULL;

	assert_int_equal(kt_topology_read(f->ctx, &t), 0);
	fixture_close(f);
	return t;
}

static void config(const struct kt_topology *t, const char *dedicated, const char *shared,
		   struct kt_pin_options *ret)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_ctx *ctx = NULL;

	assert_int_equal(kt_ctx_new("/", &ctx), 0);
	if (dedicated)
		assert_int_equal(kt_kvlist_set(&opts, "dedicated_cpus", dedicated), 0);
	if (shared)
		assert_int_equal(kt_kvlist_set(&opts, "shared_cpus", shared), 0);
	assert_int_equal(kt_pin_options_parse(ctx, t, &opts, ret), 0);
	kt_kvlist_clear(&opts);
	kt_ctx_unref(ctx);
}

static void request(const struct dom *d, struct kt_pin_request *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", d->name);
	r->vcpus = d->vcpus;
	r->policy = d->policy;
	r->emulator = d->emulator;
	r->threads = d->threads;
	for (const char *p = d->cells; p && *p;) {
		unsigned first, count;
		int used;

		assert_int_equal(sscanf(p, "%u:%u%n", &first, &count, &used), 2);
		r->cell_first[r->n_cells] = first;
		r->cell_vcpus[r->n_cells++] = count;
		p += used;
		p += strspn(p, " ");
	}
	if (d->numatune) {
		struct kt_cpuset nodes;

		assert_int_equal(kt_cpulist_parse(d->numatune, &nodes), 0);
		r->numatune = true;
		for (unsigned n = 0; n < 64; n++)
			if (kt_cpuset_has(&nodes, n))
				kt_pin_nodeset_add(&r->numatune_nodes, n);
	}
}

static void vcpus_on(const struct kt_pin_placement *pl, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	if (pl->policy == KT_PIN_SHARED) {
		len = (size_t)snprintf(buf, size, "shared:");
		kt_cpulist_format(&pl->shared, buf + len, size - len);
		return;
	}
	for (unsigned v = 0; v < pl->vcpus; v++)
		len += (size_t)snprintf(buf + len, size - len, "%s%u", v ? "," : "", pl->vcpu_cpu[v]);
}

/* No CPU of the dedicated set twice, and every vCPU on a CPU its domain took. */
static void check_invariants(const struct kt_pin_options *o, const struct kt_pin_placement *pls,
			     size_t n)
{
	struct kt_cpuset seen;

	kt_cpuset_clear(&seen);
	for (size_t i = 0; i < n; i++) {
		const struct kt_pin_placement *pl = &pls[i];

		if (!pl->placed || pl->policy != KT_PIN_DEDICATED)
			continue;
		for (unsigned c = 0; c < KT_CPU_MAX; c++) {
			if (!kt_cpuset_has(&pl->taken, c))
				continue;
			assert_false(kt_cpuset_has(&seen, c));
			assert_true(kt_cpuset_has(&o->cfg.dedicated, c));
			kt_cpuset_add(&seen, c);
		}
		for (unsigned v = 0; v < pl->vcpus; v++)
			assert_true(kt_cpuset_has(&pl->taken, pl->vcpu_cpu[v]));
	}
}

static void run_scenario(const struct scenario *sc, bool reversed)
{
	struct kt_topology *t = topology(sc->fixture);
	struct kt_pin_request reqs[6];
	struct kt_pin_placement *pls = calloc(6, sizeof(*pls));
	struct kt_pin_options o;
	size_t n = 0;

	assert_non_null(pls);
	config(t, sc->dedicated, sc->shared, &o);
	while (n < 6 && sc->doms[n].name)
		n++;
	/* The input order must not matter: placement goes by name. */
	for (size_t i = 0; i < n; i++)
		request(&sc->doms[reversed ? n - 1 - i : i], &reqs[i]);
	kt_pin_plan(t, &o.cfg, reqs, n, pls);
	check_invariants(&o, pls, n);
	for (size_t i = 0; i < n; i++) {
		const struct dom *d = &sc->doms[reversed ? n - 1 - i : i];
		const struct kt_pin_placement *pl = &pls[i];
		char got[512], nodes[64];

		if (!d->vcpus_on != !pl->placed)
			print_message("%s: %s: %s\n", sc->what, d->name, pl->reason);
		if (!d->vcpus_on) {
			assert_false(pl->placed);
			assert_non_null(strstr(pl->reason, d->nodes_or_reason));
			continue;
		}
		assert_true(pl->placed);
		vcpus_on(pl, got, sizeof(got));
		assert_string_equal(got, d->vcpus_on);
		kt_cpulist_format(&pl->emulator_cpus, got, sizeof(got));
		assert_string_equal(got, d->emulator_on);
		nodes[0] = '\0';
		if (pl->mem_move)
			kt_pin_nodeset_format(&pl->nodes, nodes, sizeof(nodes));
		assert_string_equal(nodes, d->nodes_or_reason);
	}
	free(pls);
	kt_topology_free(t);
}

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(scenarios); i++) {
		run_scenario(&scenarios[i], false);
		run_scenario(&scenarios[i], true);
	}
}

/* A placed domain keeps its CPUs while others stop and start around it. */
static void test_stable(void **state)
{
	struct kt_topology *t = topology("topo-2s-smt2-2n");
	static const struct dom doms[] = {
		{ "a", 2, D, SHARE, PREFER, NULL, NULL, NULL, NULL, NULL },
		{ "b", 2, D, SHARE, PREFER, NULL, NULL, NULL, NULL, NULL },
		{ "c", 3, D, ISO, ISOLATE, NULL, NULL, NULL, NULL, NULL },
		{ "0-new", 4, D, SHARE, PREFER, NULL, NULL, NULL, NULL, NULL },
	};
	struct kt_pin_placement *first = calloc(3, sizeof(*first)), *second = calloc(3, sizeof(*second));
	struct kt_pin_request reqs[3];
	struct kt_pin_options o;

	(void)state;
	assert_non_null(first);
	assert_non_null(second);
	config(t, "2-15,18-31", "0-1,16-17", &o);
	for (int i = 0; i < 3; i++)
		request(&doms[i], &reqs[i]);
	kt_pin_plan(t, &o.cfg, reqs, 3, first);
	/* a stops; a new domain whose name sorts first starts: b and c stay put. */
	request(&doms[3], &reqs[0]);
	reqs[1].current = &first[1];
	reqs[2].current = &first[2];
	kt_pin_plan(t, &o.cfg, reqs, 3, second);
	check_invariants(&o, second, 3);
	for (int i = 1; i < 3; i++) {
		assert_true(second[i].placed);
		assert_memory_equal(second[i].vcpu_cpu, first[i].vcpu_cpu,
				    sizeof(first[i].vcpu_cpu[0]) * first[i].vcpus);
		assert_memory_equal(&second[i].taken, &first[i].taken, sizeof(first[i].taken));
	}
	assert_true(second[0].placed);
	/* The same plan twice is the same plan. */
	kt_pin_plan(t, &o.cfg, reqs, 3, first);
	assert_memory_equal(first, second, 3 * sizeof(*first));
	/* A current placement that conflicts with the options now is placed anew. */
	config(t, "8-15,24-31", "0-7,16-23", &o);
	kt_pin_plan(t, &o.cfg, reqs, 3, second);
	check_invariants(&o, second, 3);
	free(first);
	free(second);
	kt_topology_free(t);
}

static void test_bad_requests(void **state)
{
	struct kt_topology *t = topology("topo-2s-smt2-2n");
	static const struct {
		struct dom d;
		const char *reason;
	} cases[] = {
		{ { "zero", 0, D, SHARE, PREFER, NULL, NULL, NULL, NULL, NULL }, "has 0 vCPUs" },
		{ { "cells", 4, D, SHARE, PREFER, "0:2 2:1", NULL, NULL, NULL, NULL }, "covering 3 of 4" },
		{ { "beyond", 2, D, SHARE, PREFER, "0:2 2:2", NULL, NULL, NULL, NULL }, "beyond its 2" },
		{ { "many", 40, D, SHARE, PREFER, NULL, NULL, NULL, NULL, NULL }, "needs 40 dedicated" },
	};
	struct kt_pin_placement *pl = calloc(1, sizeof(*pl));
	struct kt_pin_options o;

	(void)state;
	assert_non_null(pl);
	config(t, "2-15,18-31", "0-1,16-17", &o);
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct kt_pin_request r;

		request(&cases[i].d, &r);
		kt_pin_plan(t, &o.cfg, &r, 1, pl);
		assert_false(pl->placed);
		assert_non_null(strstr(pl->reason, cases[i].reason));
	}
	free(pl);
	kt_topology_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_stable),
		cmocka_unit_test(test_bad_requests),
	};

	return cmocka_run_group_tests(tests, host_guard_setup, host_guard_teardown);
}
