// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune iosched: the guests' disks down to the devices beneath them, and their schedulers. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "iosched.h"
#include "journal.h"
#include "lock.h"

void kt_cmd_iosched_help(void)
{
	printf("Usage: kvmtune iosched show [--json] [OPTION=VALUE...]\n"
	       "       kvmtune iosched watch [--keep] [OPTION=VALUE...]\n"
	       "       kvmtune iosched restore NAME\n\n"
	       "show     every disk of the running guests (and the defined ones with\n"
	       "         include_defined=1), the devices beneath it down to the physical disks,\n"
	       "         and each device's scheduler now and the one kvm_iosched wants;\n"
	       "         OPTION=VALUE are kvm_iosched's options (hdd_scheduler=, overrides=,\n"
	       "         nr_requests=, libvirt_uri=, ...), so that it shows what a profile would do\n"
	       "watch    apply those options as a profile would, and again whenever a guest\n"
	       "         starts or stops or has a disk plugged in or out (libvirt's events),\n"
	       "         until SIGINT/SIGTERM; then the originals are put back, unless --keep;\n"
	       "         the journal is " KT_IOSCHED_CMD_JOURNAL "\n"
	       "restore  put back the original values kept in the journal NAME (for example\n"
	       "         kvm_iosched-kvm_iosched) when tuned cannot\n");
}

static void print_device(const struct kt_iosched_device *d)
{
	const char *now = d->now[KT_IOSCHED_SCHEDULER];

	printf("%s  %s", d->name, kt_iosched_class_name(d->cls));
	if (!d->has_queue) {
		printf("  (%s)\n", d->why);
		return;
	}
	if (!d->want[0])
		printf("  %s, kept (%s)", now[0] ? now : "?", d->why);
	else if (strcmp(d->want, now) == 0)
		printf("  %s ok (%s)", now, d->why);
	else
		printf("  %s -> %s (%s)", now[0] ? now : "?", d->want, d->why);
	for (int k = KT_IOSCHED_SCHEDULER + 1; k < KT_IOSCHED_KNOB_MAX; k++)
		if (d->wanted[k][0] && strcmp(d->wanted[k], d->now[k]) != 0)
			printf("  %s %s -> %s", kt_iosched_knob_name(k), d->now[k], d->wanted[k]);
		else if (d->wanted[k][0])
			printf("  %s %s ok", kt_iosched_knob_name(k), d->now[k]);
	printf("\n");
}

static void print_tree(const struct kt_ctx *ctx, const struct kt_iosched_plan *p)
{
	struct kt_lock_info info;
	unsigned change = 0;

	if (kt_lock_holder(ctx, KT_IOSCHED_LOCK, &info) > 0)
		printf("Applied by %s (pid %d, journal %s)\n\n", info.holder, (int)info.pid,
		       info.journal[0] ? info.journal : "none");
	if (p->n_disks == 0)
		printf("No guest has a disk.\n");
	for (size_t i = 0; i < p->n_disks; i++) {
		const struct kt_iosched_disk *d = &p->disks[i];

		if (i == 0 || strcmp(d->domain, p->disks[i - 1].domain) != 0)
			printf("%s%s%s\n", i ? "\n" : "", d->domain,
			       d->active ? "" : " (defined, not running)");
		if (d->backing)
			printf("  %s  backing %u: %s\n", d->target, d->backing, d->source);
		else
			printf("  %s  %s\n", d->target, d->source);
		for (size_t n = d->first_node; n < d->first_node + d->n_nodes; n++) {
			const struct kt_iosched_node *node = &p->nodes[n];

			printf("  %*s└─ ", (int)(node->depth * 3 + 2), "");
			print_device(&p->devices[node->device]);
			if (node->detail[0])
				printf("  %*s   %s\n", (int)(node->depth * 3 + 2), "", node->detail);
		}
		if (d->note[0])
			printf("      ! %s\n", d->note);
	}
	for (size_t i = 0; i < p->n_devices; i++) {
		const struct kt_iosched_device *d = &p->devices[i];

		for (int k = 0; k < KT_IOSCHED_KNOB_MAX; k++)
			if (d->wanted[k][0] && strcmp(d->wanted[k], d->now[k]) != 0) {
				change++;
				break;
			}
		/* A device only an override names backs no guest: shown on its own. */
		if (d->guests == 0) {
			printf("\n(no guest)\n  └─ ");
			print_device(d);
		}
	}
	printf("\n%zu device%s beneath the guests' disks, %u to change\n", p->n_devices,
	       p->n_devices == 1 ? "" : "s", change);
}

static void print_json(const struct kt_iosched_plan *p)
{
	printf("{\"domains\":[");
	for (size_t i = 0; i < p->n_disks; i++) {
		const struct kt_iosched_disk *d = &p->disks[i];
		bool first = i == 0 || strcmp(d->domain, p->disks[i - 1].domain) != 0;

		if (first) {
			printf("%s{\"name\":", i ? "]}," : "");
			kt_json_str(d->domain);
			printf(",\"active\":%s,\"disks\":[", d->active ? "true" : "false");
		} else {
			printf(",");
		}
		printf("{\"target\":");
		kt_json_str(d->target);
		printf(",\"source\":");
		kt_json_str(d->source);
		printf(",\"backing\":%u,\"note\":", d->backing);
		if (d->note[0])
			kt_json_str(d->note);
		else
			printf("null");
		printf(",\"chain\":[");
		for (size_t n = d->first_node; n < d->first_node + d->n_nodes; n++) {
			printf("%s{\"device\":", n > d->first_node ? "," : "");
			kt_json_str(p->devices[p->nodes[n].device].name);
			printf(",\"depth\":%u", p->nodes[n].depth);
			if (p->nodes[n].detail[0]) {
				printf(",\"detail\":");
				kt_json_str(p->nodes[n].detail);
			}
			printf("}");
		}
		printf("]}");
	}
	printf("%s],\"devices\":{", p->n_disks ? "]}" : "");
	for (size_t i = 0; i < p->n_devices; i++) {
		const struct kt_iosched_device *d = &p->devices[i];

		printf("%s", i ? "," : "");
		kt_json_str(d->name);
		printf(":{\"class\":");
		kt_json_str(kt_iosched_class_name(d->cls));
		printf(",\"guests\":%u,\"schedulers\":[", d->guests);
		for (unsigned s = 0; s < d->sched.n && d->has_queue; s++) {
			printf("%s", s ? "," : "");
			kt_json_str(d->sched.name[s]);
		}
		printf("],\"why\":");
		kt_json_str(d->why);
		for (int k = 0; k < KT_IOSCHED_KNOB_MAX; k++) {
			printf(",");
			kt_json_str(kt_iosched_knob_name(k));
			printf(":{\"now\":");
			if (d->now[k][0])
				kt_json_str(d->now[k]);
			else
				printf("null");
			printf(",\"wanted\":");
			if (d->wanted[k][0])
				kt_json_str(d->wanted[k]);
			else
				printf("null");
			printf("}");
		}
		printf("}");
	}
	printf("}}\n");
}

static int iosched_show(struct kt_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kt_kvlist options = KT_KVLIST_INIT;
	struct kt_iosched_config cfg;
	struct kt_iosched_plan plan;
	int json = 0, c, r;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			kt_cmd_iosched_help();
			return 0;
		default:
			return 2;
		}
	}
	r = kt_cmd_pairs(argc, argv, optind, &options);
	if (r != 0) {
		kt_kvlist_clear(&options);
		return r;
	}
	r = kt_iosched_options_parse(ctx, &options, &cfg);
	kt_kvlist_clear(&options);
	if (r < 0)
		return 2;
	/* The library logs what is wrong: an unreachable libvirt, an override it refuses. */
	r = kt_iosched_plan_load(ctx, &cfg, 0, &plan);
	if (r >= 0) {
		if (json)
			print_json(&plan);
		else
			print_tree(ctx, &plan);
	}
	kt_iosched_plan_clear(&plan);
	return r < 0 ? 1 : 0;
}

static int iosched_watch(struct kt_ctx *ctx, int argc, char **argv)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_virt_events *events = NULL;
	struct kt_iosched_tuning *t = NULL;
	bool keep;
	int r;

	r = kt_cmd_watch_args(argc, argv, &keep, &opts);
	if (r == 0) {
		/* The library logs what is wrong: an option, an unreachable libvirt, the lock. */
		r = kt_iosched_tuning_apply(ctx, KT_IOSCHED_CMD_JOURNAL, "kvmtune iosched watch",
					    &opts, &t);
		r = r == -EINVAL ? 2 : r < 0 ? 1 : 0;
	}
	kt_kvlist_clear(&opts);
	if (r != 0)
		return r;
	r = kt_cmd_watch(ctx, kt_iosched_tuning_uri(t), kt_iosched_tuning_on_event, t,
			 "setting the devices beneath each guest's disks as guests come and go",
			 keep, &events);
	if (kt_iosched_tuning_unapply(t, !keep) < 0)
		r = 1;
	/* --keep: the settings stay by request, so there is nothing left to restore. */
	if (keep)
		kt_journal_remove(ctx, KT_IOSCHED_CMD_JOURNAL);
	kt_virt_events_free(events);
	return r;
}

int kt_cmd_iosched(struct kt_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		kt_cmd_iosched_help();
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "show") == 0)
		return iosched_show(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "watch") == 0)
		return iosched_watch(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "restore") == 0) {
		if (argc != 3) {
			fprintf(stderr, "kvmtune: error: iosched restore takes one journal name, for "
					"example kvm_iosched-kvm_iosched\n");
			return 2;
		}
		return kt_iosched_restore_journal(ctx, argv[2], "kvmtune iosched restore") < 0 ? 1 : 0;
	}
	fprintf(stderr, "kvmtune: error: unknown iosched subcommand '%s': expected show, watch or "
		"restore\n",
		argv[1]);
	return 2;
}
