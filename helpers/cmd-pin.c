// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune pin: plan, apply, restore, show and watch the guests' placement. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "journal.h"
#include "lock.h"
#include "pin-tuning.h"
#include "virt-events.h"
#include "virt-pin.h"

void kt_cmd_pin_help(void)
{
	printf("Usage: kvmtune pin plan [--json] [OPTION=VALUE...]\n"
	       "       kvmtune pin apply [OPTION=VALUE...]\n"
	       "       kvmtune pin restore [JOURNAL]\n"
	       "       kvmtune pin show [--json] [--uri=URI]\n"
	       "       kvmtune pin watch [--keep] [OPTION=VALUE...]\n\n"
	       "plan     where every running guest's vCPUs, emulator and iothreads would go,\n"
	       "         changing nothing\n"
	       "apply    pin every running guest now; the originals go to the journal pin-cmd\n"
	       "restore  put back what the journal (default pin-cmd; kvm_pin-NAME for a tuned\n"
	       "         instance) holds\n"
	       "show     the host as a map: NUMA nodes, cores, SMT siblings, each CPU with the\n"
	       "         guest vCPUs and emulators pinned to it, isolated (I) and housekeeping\n"
	       "         (H) CPUs marked\n"
	       "watch    pin each guest the moment it starts, until SIGINT/SIGTERM; then the\n"
	       "         originals are put back, unless --keep\n\n"
	       "OPTION=VALUE are kvm_pin's options: default_policy=shared|dedicated,\n"
	       "dedicated_cpus=LIST, shared_cpus=LIST, emulator_policy=share|isolate,\n"
	       "thread_policy=prefer|isolate|require, persist=live|config, cpu_shares=N (per vCPU),\n"
	       "memtune_soft_limit=SIZE, memtune_hard_limit=SIZE, blkio_weight=N, libvirt_uri=URI\n");
}

static void fmt_set(const struct kt_cpuset *set, char *buf, size_t size)
{
	if (kt_cpulist_format(set, buf, size) <= 0)
		snprintf(buf, size, "-");
}

static const char *uri_of(const struct kt_kvlist *opts)
{
	const char *uri = kt_kvlist_get(opts, "libvirt_uri");

	return uri ? uri : "qemu:///system";
}

static int open_virt(const char *uri, bool read_only, struct kt_virt **ret)
{
	char *err = NULL;
	int r = kt_virt_connect(uri, read_only, ret, &err);

	if (r < 0)
		fprintf(stderr, "kvmtune: error: cannot connect to %s: %s\n", uri,
			err ? err : strerror(-r));
	free(err);
	return r;
}

struct plan_out {
	bool json;
	int n;
	int unplaced;
};

static void print_plan(void *data, const struct kt_pin_domain_view *d)
{
	struct plan_out *o = data;
	const struct kt_pin_placement *pl = d->pl;
	char emu[256], shared[256], nodes[64] = "";

	if (!pl || !d->pinned)
		o->unplaced++;
	if (pl) {
		fmt_set(&pl->emulator_cpus, emu, sizeof(emu));
		fmt_set(&pl->shared, shared, sizeof(shared));
		if (pl->mem_move)
			kt_pin_nodeset_format(&pl->nodes, nodes, sizeof(nodes));
	}
	if (o->json) {
		printf("%s{\"name\":", o->n++ ? "," : "");
		kt_json_str(d->name);
		printf(",\"uuid\":");
		kt_json_str(d->uuid);
		printf(",\"placed\":%s", d->pinned ? "true" : "false");
		if (d->error) {
			printf(",\"reason\":");
			kt_json_str(d->error);
		}
		if (pl && d->pinned) {
			printf(",\"policy\":\"%s\",\"vcpus\":[", kt_pin_policy_name(pl->policy));
			for (unsigned v = 0; v < pl->vcpus; v++) {
				if (pl->policy == KT_PIN_SHARED)
					printf("%s\"%s\"", v ? "," : "", shared);
				else
					printf("%s\"%u\"", v ? "," : "", pl->vcpu_cpu[v]);
			}
			printf("],\"emulator\":\"%s\",\"memory_nodes\":\"%s\",\"cpu_shares\":%u", emu,
			       nodes, d->req ? d->req->cpu_shares : 0);
		}
		printf("}");
		return;
	}
	printf("%-20s ", d->name);
	if (!pl || !d->pinned) {
		printf("left as it is: %s\n", d->error ? d->error : "not placed");
		return;
	}
	if (pl->policy == KT_PIN_SHARED) {
		printf("shared     vCPUs 0-%u float over %s, emulator %s", pl->vcpus - 1, shared, emu);
	} else {
		printf("dedicated  vCPU");
		for (unsigned v = 0; v < pl->vcpus; v++)
			printf(" %u->%u", v, pl->vcpu_cpu[v]);
		printf(", emulator %s", emu);
	}
	if (nodes[0])
		printf(", memory on node %s", nodes);
	if (d->req && d->req->cpu_shares)
		printf(", cpu_shares %u", d->req->cpu_shares);
	printf("\n");
}

static int pin_plan(struct kt_ctx *ctx, int argc, char **argv)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct plan_out out = { false, 0, 0 };
	struct kt_virt *v = NULL;
	int first = 1, r;

	if (argc > 1 && strcmp(argv[1], "--json") == 0) {
		out.json = true;
		first = 2;
	}
	r = kt_cmd_pairs(argc, argv, first, &opts);
	if (r == 0 && open_virt(uri_of(&opts), true, &v) < 0)
		r = 1;
	if (r == 0) {
		if (out.json)
			printf("[");
		if (kt_pin_plan_only(ctx, v, &opts, print_plan, &out, NULL) < 0)
			r = 1;
		if (out.json)
			printf("]\n");
	}
	kt_virt_close(v);
	kt_kvlist_clear(&opts);
	return r;
}

static int pin_apply(struct kt_ctx *ctx, int argc, char **argv)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_pin_tuning *t = NULL;
	struct kt_virt *v = NULL;
	int r;

	r = kt_cmd_pairs(argc, argv, 1, &opts);
	if (r == 0 && kt_pin_tuning_new(ctx, KT_PIN_CMD_JOURNAL, "kvmtune pin apply", &opts, &t) < 0)
		r = 1;
	if (r == 0 && open_virt(kt_pin_tuning_options(t)->libvirt_uri, false, &v) < 0)
		r = 1;
	if (r == 0 && kt_pin_tuning_sync(t, v) < 0)
		r = 1;
	if (r == 0) {
		struct plan_out out = { false, 0, 0 };

		kt_pin_tuning_each(t, print_plan, &out);
		printf("'kvmtune pin restore' puts the originals back (journal /%s/%s.journal)\n",
		       KT_STATE_DIR, KT_PIN_CMD_JOURNAL);
	}
	/* The journal stays: the pinning outlives the command until a restore. */
	kt_pin_tuning_unapply(t, v, false);
	kt_virt_close(v);
	kt_kvlist_clear(&opts);
	return r;
}

static int pin_restore(struct kt_ctx *ctx, int argc, char **argv)
{
	const char *journal = argc > 1 ? argv[1] : KT_PIN_CMD_JOURNAL;

	if (argc > 2) {
		fprintf(stderr, "kvmtune: error: pin restore takes at most one journal name, for "
				"example kvm_pin-kvm_pin\n");
		return 2;
	}
	return kt_pin_restore_journal(ctx, journal, "kvmtune pin restore") < 0 ? 1 : 0;
}

struct label {
	char text[1024];
};

struct show_dom {
	char name[KT_PIN_NAME_MAX];
	unsigned n;
	struct kt_cpuset *vcpus;
	struct kt_cpuset emulator;
};

static void add_label(struct label *labels, unsigned cpu, const char *text)
{
	size_t len = strlen(labels[cpu].text);

	snprintf(labels[cpu].text + len, sizeof(labels[cpu].text) - len, "%s%s", len ? " " : "",
		 text);
}

static int pin_show(struct kt_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "uri", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	const char *uri = "qemu:///system";
	struct kt_virt_domain *doms = NULL;
	struct kt_topology *t = NULL;
	struct show_dom *sd = NULL;
	struct label *labels = NULL;
	struct kt_virt *v = NULL;
	bool json = false;
	size_t n = 0;
	char *err = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "ju:", longopts, NULL)) != -1) {
		if (c == 'j')
			json = true;
		else if (c == 'u')
			uri = optarg;
		else
			return 2;
	}
	r = kt_topology_read(ctx, &t);
	if (r < 0) {
		fprintf(stderr, "kvmtune: error: cannot read the CPU topology below %s: %s\n",
			kt_ctx_root(ctx), strerror(-r));
		return 1;
	}
	if (open_virt(uri, true, &v) < 0) {
		kt_topology_free(t);
		return 1;
	}
	r = kt_virt_running(v, &doms, &n, &err);
	if (r < 0) {
		fprintf(stderr, "kvmtune: error: cannot list the domains: %s\n",
			err ? err : strerror(-r));
		free(err);
		goto out;
	}
	sd = calloc(n ? n : 1, sizeof(*sd));
	labels = calloc(t->n_cpus ? t->n_cpus : 1, sizeof(*labels));
	if (!sd || !labels) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(sd[i].name, sizeof(sd[i].name), "%s", doms[i].name);
		sd[i].vcpus = calloc(KT_PIN_VCPU_MAX, sizeof(*sd[i].vcpus));
		if (!sd[i].vcpus ||
		    kt_virt_pin_read(v, doms[i].uuid, sd[i].vcpus, KT_PIN_VCPU_MAX, &sd[i].n,
				     &sd[i].emulator, NULL) < 0)
			sd[i].n = 0;
		for (unsigned k = 0; k < sd[i].n; k++)
			for (unsigned cpu = 0; cpu < t->n_cpus; cpu++)
				if (kt_cpuset_count(&sd[i].vcpus[k]) == 1 &&
				    kt_cpuset_has(&sd[i].vcpus[k], cpu)) {
					char text[96];

					snprintf(text, sizeof(text), "%s:v%u", sd[i].name, k);
					add_label(labels, cpu, text);
				}
		for (unsigned cpu = 0; cpu < t->n_cpus; cpu++)
			if (kt_cpuset_count(&sd[i].emulator) == 1 &&
			    kt_cpuset_has(&sd[i].emulator, cpu)) {
				char text[96];

				snprintf(text, sizeof(text), "%s:emu", sd[i].name);
				add_label(labels, cpu, text);
			}
	}
	if (json) {
		printf("{\"nodes\":[");
		for (unsigned i = 0; i < t->n_nodes; i++) {
			const struct kt_topo_node *node = &t->nodes[i];
			int k = 0;

			printf("%s{\"id\":%d,\"mem_total\":%llu,\"mem_free\":%llu,\"cpus\":[", i ? "," : "",
			       node->id, (unsigned long long)node->mem_total,
			       (unsigned long long)node->mem_free);
			for (unsigned cpu = 0; cpu < t->n_cpus; cpu++) {
				if (!kt_cpuset_has(&node->cpus, cpu) || !t->cpus[cpu].online)
					continue;
				printf("%s{\"cpu\":%u,\"package\":%d,\"core\":%d,\"isolated\":%s,"
				       "\"housekeeping\":%s,\"labels\":",
				       k++ ? "," : "", cpu, t->cpus[cpu].package, t->cpus[cpu].core,
				       kt_cpuset_has(&t->isolated, cpu) ? "true" : "false",
				       kt_cpuset_has(&t->housekeeping, cpu) ? "true" : "false");
				kt_json_str(labels[cpu].text);
				printf("}");
			}
			printf("]}");
		}
		printf("],\"domains\":[");
		for (size_t i = 0; i < n; i++) {
			char set[256];

			printf("%s{\"name\":", i ? "," : "");
			kt_json_str(sd[i].name);
			printf(",\"vcpus\":[");
			for (unsigned k = 0; k < sd[i].n; k++) {
				fmt_set(&sd[i].vcpus[k], set, sizeof(set));
				printf("%s\"%s\"", k ? "," : "", set);
			}
			fmt_set(&sd[i].emulator, set, sizeof(set));
			printf("],\"emulator\":\"%s\"}", set);
		}
		printf("]}\n");
		goto out;
	}
	for (unsigned i = 0; i < t->n_nodes; i++) {
		const struct kt_topo_node *node = &t->nodes[i];
		struct kt_cpuset done;

		printf("node %d  %.1f GiB, %.1f GiB free\n", node->id,
		       (double)node->mem_total / (1 << 30), (double)node->mem_free / (1 << 30));
		kt_cpuset_clear(&done);
		for (unsigned cpu = 0; cpu < t->n_cpus; cpu++) {
			struct kt_cpuset sib;
			bool first = true;

			if (!kt_cpuset_has(&node->cpus, cpu) || !t->cpus[cpu].online ||
			    kt_cpuset_has(&done, cpu))
				continue;
			kt_topology_siblings(t, cpu, &sib);
			for (unsigned s = 0; s < t->n_cpus; s++) {
				if (!kt_cpuset_has(&sib, s))
					continue;
				kt_cpuset_add(&done, s);
				if (first)
					printf("  pkg %-2d core %-3d", t->cpus[s].package, t->cpus[s].core);
				else
					printf("  %-15s", "");
				first = false;
				printf(" +- cpu %-4u %s  %s\n", s,
				       kt_cpuset_has(&t->isolated, s) ? "I" : "H",
				       labels[s].text[0] ? labels[s].text : ".");
			}
		}
	}
	printf("\nI isolated, H housekeeping; guest:vN is vCPU N alone on that CPU, guest:emu its "
	       "emulator\n");
	for (size_t i = 0; i < n; i++) {
		char set[256], emu[256];
		bool floating = false;

		for (unsigned k = 0; k < sd[i].n; k++)
			floating |= kt_cpuset_count(&sd[i].vcpus[k]) != 1;
		fmt_set(&sd[i].emulator, emu, sizeof(emu));
		if (!floating && kt_cpuset_count(&sd[i].emulator) == 1)
			continue;
		printf("%-20s", sd[i].name);
		for (unsigned k = 0; k < sd[i].n; k++) {
			fmt_set(&sd[i].vcpus[k], set, sizeof(set));
			printf(" v%u:%s", k, set);
		}
		printf(" emulator:%s\n", emu);
	}
out:
	for (size_t i = 0; sd && i < n; i++)
		free(sd[i].vcpus);
	free(sd);
	free(labels);
	kt_virt_domains_free(doms, n);
	kt_virt_close(v);
	kt_topology_free(t);
	return r < 0 ? 1 : 0;
}

static int pin_watch(struct kt_ctx *ctx, int argc, char **argv)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_virt_events *events = NULL;
	struct kt_pin_tuning *t = NULL;
	struct kt_virt *v = NULL;
	bool keep;
	int r;

	r = kt_cmd_watch_args(argc, argv, &keep, &opts);
	if (r == 0 && kt_pin_tuning_new(ctx, KT_PIN_CMD_JOURNAL, "kvmtune pin watch", &opts, &t) < 0)
		r = 1;
	kt_kvlist_clear(&opts);
	if (r != 0)
		return r;
	r = kt_cmd_watch(ctx, kt_pin_tuning_options(t)->libvirt_uri, kt_pin_tuning_on_event, t,
			 "pinning each guest as it starts", keep, &events);
	if (events && kt_virt_events_connection(events, &v) < 0)
		v = NULL;
	if (kt_pin_tuning_unapply(t, v, !keep) < 0)
		r = 1;
	/* --keep: the pinning stays by request, so there is nothing left to restore. */
	if (keep)
		kt_journal_remove(ctx, KT_PIN_CMD_JOURNAL);
	kt_virt_close(v);
	kt_virt_events_free(events);
	return r;
}

int kt_cmd_pin(struct kt_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		kt_cmd_pin_help();
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "plan") == 0)
		return pin_plan(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "apply") == 0)
		return pin_apply(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "restore") == 0)
		return pin_restore(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "show") == 0)
		return pin_show(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "watch") == 0)
		return pin_watch(ctx, argc - 1, argv + 1);
	fprintf(stderr, "kvmtune: error: unknown pin subcommand '%s': expected plan, apply, "
			"restore, show or watch\n",
		argv[1]);
	return 2;
}
