// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer target: kvm_pin's options (CPU lists, policies, sizes; "name=value" lines) and
 * a domain's XML with kvmtune's metadata, each then planned on a 2-node SMT2 host of 16
 * CPUs, where no CPU may be given twice.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pin-domain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void host(struct kt_topology *t, struct kt_topo_cpu *cpus, struct kt_topo_node *nodes,
		 unsigned *dist)
{
	memset(t, 0, sizeof(*t));
	t->n_cpus = 16;
	t->cpus = cpus;
	t->n_nodes = 2;
	t->nodes = nodes;
	for (unsigned n = 0; n < 2; n++) {
		memset(&nodes[n], 0, sizeof(nodes[n]));
		nodes[n].id = (int)n;
		nodes[n].distance = dist;
	}
	for (unsigned c = 0; c < 16; c++) {
		cpus[c] = (struct kt_topo_cpu){ true, true, (int)(c % 8), (int)(c % 8) / 4,
						(int)(c % 8) / 4 };
		kt_cpuset_add(&t->online, c);
		kt_cpuset_add(&nodes[(c % 8) / 4].cpus, c);
		if (c >= 12 || (c >= 4 && c < 8))
			kt_cpuset_add(&t->isolated, c);
		else
			kt_cpuset_add(&t->housekeeping, c);
	}
}

static void plan_checked(const struct kt_topology *t, const struct kt_pin_options *o,
			 const struct kt_pin_request *req)
{
	struct kt_pin_request reqs[2] = { *req, *req };
	struct kt_pin_placement *pl = calloc(2, sizeof(*pl));

	if (!pl)
		return;
	reqs[1].name[0] = 'z';
	kt_pin_plan(t, &o->cfg, reqs, 2, pl);
	for (int i = 0; i < 2; i++)
		if (pl[0].placed && pl[1].placed && pl[0].policy == KT_PIN_DEDICATED &&
		    pl[1].policy == KT_PIN_DEDICATED)
			for (size_t w = 0; w < KT_ELEMENTSOF(pl[0].taken.bits); w++)
				if (pl[0].taken.bits[w] & pl[1].taken.bits[w])
					abort();
	free(pl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_topo_cpu cpus[16];
	struct kt_topo_node nodes[2];
	unsigned dist[2] = { 10, 21 };
	struct kt_topology t;
	struct kt_pin_options o;
	struct kt_pin_request req;
	struct kt_ctx *ctx = NULL;
	char *text, *line, *save = NULL;

	if (size > 8192 || kt_ctx_new("/", &ctx) < 0)
		return 0;
	host(&t, cpus, nodes, dist);
	text = malloc(size + 1);
	if (!text) {
		kt_ctx_unref(ctx);
		return 0;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	if (text[0] == '<') {
		if (kt_pin_options_parse(ctx, &t, &opts, &o) == 0 &&
		    kt_pin_request_from_xml(ctx, &o, text, strlen(text), &req) == 0)
			plan_checked(&t, &o, &req);
	} else {
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char *eq = strchr(line, '=');

			if (!eq)
				continue;
			*eq = '\0';
			kt_kvlist_set(&opts, line, eq + 1);
		}
		if (kt_pin_options_parse(ctx, &t, &opts, &o) == 0) {
			memset(&req, 0, sizeof(req));
			req.vcpus = 3;
			req.policy = o.cfg.default_policy;
			req.emulator = o.cfg.emulator;
			req.threads = o.cfg.threads;
			plan_checked(&t, &o, &req);
		}
	}
	kt_kvlist_clear(&opts);
	free(text);
	kt_ctx_unref(ctx);
	return 0;
}
