// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune ksm: show KSM state; put back values a crashed tuned left in the journal. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "ksm-status.h"

void kt_cmd_ksm_help(void)
{
	printf("Usage: kvmtune ksm status [--json]\n"
	       "       kvmtune ksm restore NAME\n\n"
	       "status   every KSM knob and whether this kernel has it, the merge counters,\n"
	       "         memory saved and ksmd's CPU time\n"
	       "restore  put back the original values kept in the journal NAME (for example\n"
	       "         kvm_ksm-ksm, the kvm_ksm instance 'ksm') when tuned cannot\n");
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static const char *run_state(const struct kt_ksm_status *st)
{
	if (!st->available)
		return "unavailable";
	if (!st->knobs.set[KT_KSM_RUN])
		return "unknown";
	switch (st->knobs.value[KT_KSM_RUN][0]) {
	case '0':
		return "stopped";
	case '1':
		return "running";
	case '2':
		return "unmerged";
	default:
		return "unknown";
	}
}

static void print_json(const struct kt_ksm_status *st)
{
	printf("{\"available\":%s,\"state\":", st->available ? "true" : "false");
	json_str(run_state(st));
	printf(",\"knobs\":{");
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		printf("%s", k ? "," : "");
		json_str(kt_ksm_knob_name(k));
		printf(":{\"supported\":%s,\"value\":", st->knobs.set[k] ? "true" : "false");
		if (st->knobs.set[k])
			json_str(st->knobs.value[k]);
		else
			printf("null");
		printf("}");
	}
	printf("},\"counters\":{");
	for (int c = 0, n = 0; c < KT_KSM_COUNTER_MAX; c++) {
		if (!st->have[c])
			continue;
		printf("%s", n++ ? "," : "");
		json_str(kt_ksm_counter_name(c));
		printf(":%lld", (long long)st->counter[c]);
	}
	printf("},\"page_size\":%llu,\"saved_bytes\":%llu,\"saved_mib\":%.1f,",
	       (unsigned long long)st->page_size, (unsigned long long)st->saved_bytes,
	       (double)st->saved_bytes / (1 << 20));
	if (st->ksmd_cpu_seconds >= 0)
		printf("\"ksmd_pid\":%d,\"ksmd_cpu_seconds\":%.2f}\n", (int)st->ksmd_pid,
		       st->ksmd_cpu_seconds);
	else
		printf("\"ksmd_pid\":null,\"ksmd_cpu_seconds\":null}\n");
}

static void print_table(const struct kt_ksm_status *st)
{
	printf("KSM:            %s\n", run_state(st));
	if (!st->available) {
		printf("This kernel has no /sys/kernel/mm/ksm (CONFIG_KSM is off).\n");
		return;
	}
	printf("Memory saved:   %.1f MiB\n", (double)st->saved_bytes / (1 << 20));
	if (st->have[KT_KSM_GENERAL_PROFIT])
		printf("General profit: %.1f MiB\n",
		       (double)st->counter[KT_KSM_GENERAL_PROFIT] / (1 << 20));
	if (st->ksmd_cpu_seconds >= 0)
		printf("ksmd CPU time:  %.2f s (pid %d)\n", st->ksmd_cpu_seconds, (int)st->ksmd_pid);
	else
		printf("ksmd CPU time:  unknown (ksmd not found in /proc)\n");
	printf("\n%-36s %s\n", "KNOB", "VALUE");
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++)
		printf("%-36s %s\n", kt_ksm_knob_name(k),
		       st->knobs.set[k] ? st->knobs.value[k] : "(unsupported by this kernel)");
	printf("\n%-36s %s\n", "COUNTER", "VALUE");
	for (int c = 0; c < KT_KSM_COUNTER_MAX; c++)
		if (st->have[c])
			printf("%-36s %lld\n", kt_ksm_counter_name(c), (long long)st->counter[c]);
}

static int ksm_status(struct kt_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kt_ksm_status st;
	int json = 0, c, r;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			kt_cmd_ksm_help();
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kvmtune: error: ksm status: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	r = kt_ksm_status_read(ctx, &st);
	if (r < 0) {
		fprintf(stderr, "kvmtune: error: cannot read KSM state below %s: %s\n",
			kt_ctx_root(ctx), strerror(-r));
		return 1;
	}
	if (json)
		print_json(&st);
	else
		print_table(&st);
	return 0;
}

static int ksm_restore(struct kt_ctx *ctx, int argc, char **argv)
{
	int r;

	if (argc != 2) {
		fprintf(stderr, "kvmtune: error: ksm restore takes one journal name, "
				"for example kvm_ksm-ksm\n");
		return 2;
	}
	r = kt_ksm_untune(ctx, argv[1], NULL);
	if (r < 0) {
		fprintf(stderr, "kvmtune: error: cannot restore from the journal '%s': %s\n", argv[1],
			strerror(-r));
		return 1;
	}
	return 0;
}

int kt_cmd_ksm(struct kt_ctx *ctx, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		kt_cmd_ksm_help();
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "status") == 0)
		return ksm_status(ctx, argc - 1, argv + 1);
	if (strcmp(argv[1], "restore") == 0)
		return ksm_restore(ctx, argc - 1, argv + 1);
	fprintf(stderr, "kvmtune: error: unknown ksm subcommand '%s': expected status or restore\n",
		argv[1]);
	return 2;
}
