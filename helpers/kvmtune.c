// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune: the command-line front-end of the kvmtune library. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct kt_command commands[] = {
	{ "check", "is this host's plan of guests safe", kt_cmd_check, kt_cmd_check_help },
	{ "ksm", "KSM state and tuning", kt_cmd_ksm, kt_cmd_ksm_help },
	{ "hugepages", "hugepage pools per NUMA node", kt_cmd_hugepages, kt_cmd_hugepages_help },
	{ "pin", "vCPU, emulator and iothread pinning of the guests", kt_cmd_pin, kt_cmd_pin_help },
	{ "iosched", "the guests' disks, the devices beneath them and their I/O schedulers",
	  kt_cmd_iosched, kt_cmd_iosched_help },
	{ "profile", "write and check tuned profiles built on kvmtune's", kt_cmd_profile,
	  kt_cmd_profile_help },
	{ "restore", "put back what a killed tuned left applied", kt_cmd_restore,
	  kt_cmd_restore_help },
	{ "status", "what kvmtune manages on this host, and who controls it", kt_cmd_status,
	  kt_cmd_status_help },
};

static void log_stderr(void *data, enum kt_log_prio prio, const char *msg)
{
	(void)data;
	fprintf(stderr, "kvmtune: %s%s\n", prio == KT_LOG_ERR ? "error: " : "", msg);
}

static void usage(FILE *out)
{
	fprintf(out, "Usage: kvmtune [--root=DIR] [--verbose] COMMAND [ARGS...]\n\n"
		     "Options:\n"
		     "  --root=DIR   read and write sysfs/procfs below DIR instead of /\n"
		     "  --verbose    print debug messages\n"
		     "  --version    print the version\n\n"
		     "Commands:\n");
	for (size_t i = 0; i < KT_ELEMENTSOF(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'kvmtune COMMAND --help' describes a command.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' }, { "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },	  { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kt_ctx *ctx = NULL;
	const char *root = "/";
	int verbose = 0, c, r;

	/* '+' stops at the command name so that each command parses its own options. */
	while ((c = getopt_long(argc, argv, "+r:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			root = optarg;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'V':
			printf("kvmtune %s\n", KT_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < KT_ELEMENTSOF(commands); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		r = kt_ctx_new(root, &ctx);
		if (r < 0) {
			fprintf(stderr, "kvmtune: error: --root=%s: %s\n", root, strerror(-r));
			return 1;
		}
		kt_ctx_set_log_fn(ctx, log_stderr, &verbose);
		kt_ctx_set_log_priority(ctx, verbose ? KT_LOG_DEBUG : KT_LOG_INFO);
		argc -= optind;
		argv += optind;
		optind = 1;
		r = commands[i].run(ctx, argc, argv);
		kt_ctx_unref(ctx);
		return r;
	}
	fprintf(stderr, "kvmtune: error: unknown command '%s': expected one of:", argv[optind]);
	for (size_t i = 0; i < KT_ELEMENTSOF(commands); i++)
		fprintf(stderr, " %s", commands[i].name);
	fprintf(stderr, "\n");
	return 2;
}
