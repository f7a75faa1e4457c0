// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune hugepages: the pools per node and size; reserve and release them by hand. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "hugepages-tuning.h"
#include "lock.h"
#include "virt.h"

void kt_cmd_hugepages_help(void)
{
	printf("Usage: kvmtune hugepages status [--json] [--libvirt-uri=URI|none]\n"
	       "       kvmtune hugepages reserve --pages=N|SIZE|PERCENT%%|NODE:N|SIZE,... [--size=2M]\n"
	       "                                 [--reclaim=none|compact|drop-caches] [--timeout=S]\n"
	       "                                 [--min-available=SIZE] [--headroom=N|SIZE]\n"
	       "                                 [--libvirt-uri=URI|none] [--mount]\n"
	       "       kvmtune hugepages release [--size=2M]\n\n"
	       "status   every page size's pools per NUMA node: total, free, in use, surplus,\n"
	       "         reserved, the pages running and autostart domains need (and which), and\n"
	       "         what a kvm_hugepages section with pages=auto would reserve\n"
	       "reserve  size the pool of --size (default: the kernel's default size) as --pages\n"
	       "         says (auto: from the domains), node by node, compacting and retrying\n"
	       "         (and dropping clean caches with --reclaim=drop-caches); exits 1 with the\n"
	       "         numbers when memory cannot give every page; --mount mounts a hugetlbfs\n"
	       "         for the size where none is (kept after the command)\n"
	       "release  free every free page of --size's pools; pages in use stay\n");
}

static void node_label(int node, char *buf, size_t size)
{
	if (node >= 0)
		snprintf(buf, size, "node%d", node);
	else
		snprintf(buf, size, "any");
}

static void print_size_table(const struct kt_ctx *ctx, const struct kt_hp_host *h,
			     const struct kt_hp_plan *plan, bool is_default)
{
	struct kt_lock_info info;
	char sz[16], area[48];

	kt_hp_size_name(h->page_kb, sz, sizeof(sz));
	printf("%s pages (%llu kB)%s: %llu in all, %llu free, %llu reserved, %llu surplus\n", sz,
	       (unsigned long long)h->page_kb, is_default ? ", the default size" : "",
	       (unsigned long long)h->global.nr, (unsigned long long)h->global.free,
	       (unsigned long long)h->global.resv, (unsigned long long)h->global.surplus);
	snprintf(area, sizeof(area), KT_HP_LOCK "-%llukB", (unsigned long long)h->page_kb);
	if (kt_lock_holder(ctx, area, &info) > 0)
		printf("  controlled by %s (pid %d, journal %s)\n", info.holder, (int)info.pid,
		       info.journal[0] ? info.journal : "none");
	printf("  %-8s %10s %10s %10s %10s %10s %10s\n", "NODE", "TOTAL", "FREE", "IN USE",
	       "SURPLUS", "DOMAINS", "AUTO");
	for (unsigned i = 0; i < h->n; i++) {
		char node[16];

		node_label(h->nodes[i].node, node, sizeof(node));
		printf("  %-8s %10llu %10llu %10llu %10llu %10llu %10llu\n", node,
		       (unsigned long long)h->counts[i].nr, (unsigned long long)h->counts[i].free,
		       (unsigned long long)kt_hp_in_use(&h->counts[i]),
		       (unsigned long long)h->counts[i].surplus,
		       (unsigned long long)plan->nodes[i].domains,
		       (unsigned long long)plan->nodes[i].target);
	}
	for (unsigned d = 0; d < h->n_doms; d++) {
		printf("  domain %s:", h->doms[d].name);
		for (unsigned j = 0; j < h->doms[d].n; j++) {
			char node[16];

			node_label(h->doms[d].needs[j].node, node, sizeof(node));
			printf(" %s %llu", node, (unsigned long long)h->doms[d].needs[j].pages);
		}
		printf("\n");
	}
	if (h->libvirt_error[0])
		printf("  domains unknown: %s\n", h->libvirt_error);
	printf("\n");
}

static void print_size_json(const struct kt_ctx *ctx, const struct kt_hp_host *h,
			    const struct kt_hp_plan *plan, bool is_default)
{
	struct kt_lock_info info;
	char area[48];

	printf("{\"size_kb\":%llu,\"default\":%s,\"total\":%llu,\"free\":%llu,\"reserved\":%llu,"
	       "\"surplus\":%llu,\"in_use\":%llu,\"controlled_by\":",
	       (unsigned long long)h->page_kb, is_default ? "true" : "false",
	       (unsigned long long)h->global.nr, (unsigned long long)h->global.free,
	       (unsigned long long)h->global.resv, (unsigned long long)h->global.surplus,
	       (unsigned long long)kt_hp_in_use(&h->global));
	snprintf(area, sizeof(area), KT_HP_LOCK "-%llukB", (unsigned long long)h->page_kb);
	if (kt_lock_holder(ctx, area, &info) > 0) {
		printf("{\"holder\":");
		kt_json_str(info.holder);
		printf(",\"pid\":%d,\"journal\":", (int)info.pid);
		kt_json_str(info.journal);
		printf("}");
	} else {
		printf("null");
	}
	printf(",\"nodes\":[");
	for (unsigned i = 0; i < h->n; i++)
		printf("%s{\"node\":%d,\"total\":%llu,\"free\":%llu,\"in_use\":%llu,\"surplus\":%llu,"
		       "\"domains\":%llu,\"auto\":%llu}",
		       i ? "," : "", h->nodes[i].node, (unsigned long long)h->counts[i].nr,
		       (unsigned long long)h->counts[i].free,
		       (unsigned long long)kt_hp_in_use(&h->counts[i]),
		       (unsigned long long)h->counts[i].surplus,
		       (unsigned long long)plan->nodes[i].domains,
		       (unsigned long long)plan->nodes[i].target);
	printf("],\"domains\":[");
	for (unsigned d = 0; d < h->n_doms; d++) {
		printf("%s{\"name\":", d ? "," : "");
		kt_json_str(h->doms[d].name);
		printf(",\"pages\":{");
		for (unsigned j = 0; j < h->doms[d].n; j++)
			printf("%s\"%d\":%llu", j ? "," : "", h->doms[d].needs[j].node,
			       (unsigned long long)h->doms[d].needs[j].pages);
		printf("}}");
	}
	printf("],\"libvirt_error\":");
	if (h->libvirt_error[0])
		kt_json_str(h->libvirt_error);
	else
		printf("null");
	printf("}");
}

static int hp_status(struct kt_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "libvirt-uri", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *uri = KT_VIRT_DEFAULT_URI;
	uint64_t sizes[KT_HP_SIZES_MAX], dflt = 0;
	unsigned n = 0;
	int json = 0, c, r;

	while ((c = getopt_long(argc, argv, "ju:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'u':
			uri = optarg;
			break;
		case 'h':
			kt_cmd_hugepages_help();
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kvmtune: error: hugepages status: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	r = kt_hp_sizes(ctx, sizes, &n);
	if (r < 0) {
		fprintf(stderr, "kvmtune: error: no hugepage pools below %s/%s: %s\n",
			kt_ctx_root(ctx), KT_HP_DIR, strerror(-r));
		return 1;
	}
	kt_hp_default_kb(ctx, &dflt);
	if (json)
		printf("{\"sizes\":[");
	for (unsigned i = 0; i < n; i++) {
		struct kt_hp_host h;
		struct kt_hp_plan plan;

		r = kt_hp_status_read(ctx, sizes[i], uri, &h, &plan);
		if (r < 0) {
			if (json)
				printf("]}\n");
			return 1;
		}
		if (json) {
			printf("%s", i ? "," : "");
			print_size_json(ctx, &h, &plan, sizes[i] == dflt);
		} else {
			print_size_table(ctx, &h, &plan, sizes[i] == dflt);
		}
		kt_hp_host_clear(&h);
	}
	if (json)
		printf("]}\n");
	return 0;
}

/* --name=value options map onto the kvm_hugepages options of the same name. */
static int hp_change(struct kt_ctx *ctx, int argc, char **argv, bool release)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "pages", required_argument, NULL, 'p' },
		{ "reclaim", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "min-available", required_argument, NULL, 'm' },
		{ "headroom", required_argument, NULL, 'H' },
		{ "libvirt-uri", required_argument, NULL, 'u' },
		{ "mount", no_argument, NULL, 'M' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kt_kvlist kv = KT_KVLIST_INIT;
	struct kt_hp_tuning *t = NULL;
	bool mount = false;
	const char *verb = release ? "release" : "reserve";
	bool pages = false;
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "s:p:r:t:m:H:u:Mh", opts, NULL)) != -1) {
		const char *name = NULL;

		if (c == 'M' && !release) {
			mount = true;
			continue;
		}
		for (size_t i = 0; i < KT_ELEMENTSOF(opts); i++)
			if (opts[i].val == c)
				name = opts[i].name;
		if (c == 'h') {
			kt_cmd_hugepages_help();
			kt_kvlist_clear(&kv);
			return 0;
		}
		if (c == '?' || !name || (release && c != 's')) {
			if (c != '?')
				fprintf(stderr, "kvmtune: error: hugepages release takes --size only\n");
			kt_kvlist_clear(&kv);
			return 2;
		}
		pages |= c == 'p';
		/* The library's option names use underscores. */
		r = kt_kvlist_set(&kv, c == 'm' ? "min_available" : c == 'u' ? "libvirt_uri" : name,
				  optarg);
		if (r < 0)
			break;
	}
	if (r == 0 && optind < argc) {
		fprintf(stderr, "kvmtune: error: hugepages %s: unexpected argument '%s'\n", verb,
			argv[optind]);
		kt_kvlist_clear(&kv);
		return 2;
	}
	if (r == 0 && !release && !pages) {
		fprintf(stderr, "kvmtune: error: hugepages reserve needs --pages=N|SIZE|auto|"
				"NODE:SIZE,...\n");
		kt_kvlist_clear(&kv);
		return 2;
	}
	/* Release: the pools go down to what is in use, which the library never takes. */
	if (r == 0 && release)
		r = kt_kvlist_set(&kv, "pages", "0");
	/* No journal remembers a mount made here: only --mount asks for one. */
	if (r == 0)
		r = kt_kvlist_set(&kv, "mount", mount ? "yes" : "no");
	if (r == 0 && !kt_kvlist_get(&kv, "libvirt_uri"))
		r = kt_kvlist_set(&kv, "libvirt_uri", KT_VIRT_DEFAULT_URI);
	if (r == 0)
		r = kt_hp_tuning_apply(ctx, NULL, release ? "kvmtune hugepages release"
							   : "kvmtune hugepages reserve",
				       &kv, &t);
	kt_kvlist_clear(&kv);
	if (r < 0)
		return 1;
	r = kt_hp_tuning_short(t) ? 1 : 0;
	/* The pools stay as they are now: a command's change lasts until the next one. */
	kt_hp_tuning_unapply(t, false);
	return r;
}

int kt_cmd_hugepages(struct kt_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		kt_cmd_hugepages_help();
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "status") == 0)
		return hp_status(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "reserve") == 0)
		return hp_change(ctx, argc - 1, argv + 1, false);
	if (strcmp(argv[1], "release") == 0)
		return hp_change(ctx, argc - 1, argv + 1, true);
	fprintf(stderr, "kvmtune: error: unknown hugepages subcommand '%s': expected status, "
			"reserve or release\n",
		argv[1]);
	return 2;
}
