// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune ksm: show KSM state; put back values a crashed tuned left in the journal. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "journal.h"
#include "ksm-status.h"
#include "ksm-tuning.h"
#include "ksmctl-run.h"
#include "ksmctl-state.h"
#include "lock.h"
#include "parse.h"

void kt_cmd_ksm_help(void)
{
	printf("Usage: kvmtune ksm status [--json]\n"
	       "       kvmtune ksm restore NAME\n"
	       "       kvmtune ksm watch [--cycles=N] [--keep] [OPTION=VALUE...]\n\n"
	       "status   every KSM knob and whether this kernel has it, the merge counters,\n"
	       "         memory saved, ksmd's CPU time, and which controller runs KSM, in\n"
	       "         what phase and why\n"
	       "restore  put back the original values kept in the journal NAME (for example\n"
	       "         kvm_ksm-kvm_ksm, the [kvm_ksm] section of kvm-dense) when tuned cannot\n"
	       "watch    run the dynamic KSM controller in the foreground, one line per decision;\n"
	       "         OPTION=VALUE are the controller options of kvm_ksm (mode=dynamic|advisor,\n"
	       "         interval, thres_coef, cpu_budget, libvirt_uri, ksmtuned_conf=...). On exit\n"
	       "         the KSM settings it changed are put back, unless --keep; --cycles stops\n"
	       "         after N decisions\n");
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

static void print_holder(const struct kt_ctx *ctx, bool json)
{
	struct kt_lock_info info;
	int r = kt_lock_holder(ctx, KT_KSM_LOCK, &info);
	char comm[16] = "";
	pid_t pid = 0;
	int foreign = kt_ksm_find_foreign(ctx, &pid, comm);

	if (json) {
		printf("\"controlled_by\":");
		if (r > 0) {
			printf("{\"holder\":");
			kt_json_str(info.holder);
			printf(",\"pid\":%d,\"journal\":", (int)info.pid);
			kt_json_str(info.journal);
			printf("},");
		} else {
			printf("null,");
		}
		printf("\"other_controller\":");
		if (foreign > 0) {
			printf("{\"name\":");
			kt_json_str(comm);
			printf(",\"pid\":%d},", (int)pid);
		} else {
			printf("null,");
		}
		return;
	}
	if (r > 0)
		printf("Controlled by:  %s (pid %d, journal %s)\n", info.holder, (int)info.pid,
		       info.journal[0] ? info.journal : "none");
	else
		printf("Controlled by:  no kvmtune tuning\n");
	if (foreign > 0)
		printf("Other tool:     %s (pid %d) drives KSM; kvmtune's controller leaves it alone\n",
		       comm, (int)pid);
}

/* The controller's state file, if there is one; ret_error is the -errno of a bad one. */
struct controller {
	bool have;
	bool alive;
	int error;
	struct kt_ksmctl_statefile sf;
};

static void read_controller(struct kt_ctx *ctx, struct controller *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	r = kt_ksmctl_statefile_read(ctx, &c->sf);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		c->error = r;
		return;
	}
	c->have = true;
	c->alive = kt_ksmctl_statefile_alive(ctx, &c->sf);
}

static void json_controller(const struct controller *c)
{
	printf(",\"controller\":");
	if (c->have)
		kt_json_ksm_controller(&c->sf, c->alive);
	else
		printf("null");
}

static void print_controller(const struct kt_ctx *ctx, const struct controller *c)
{
	if (c->error) {
		printf("Controller:     unknown: /%s is unreadable (%s)\n", KT_KSMCTL_STATE_PATH,
		       strerror(-c->error));
		return;
	}
	if (!c->have) {
		printf("Controller:     none (no kvmtune controller runs below %s)\n", kt_ctx_root(ctx));
		return;
	}
	kt_show_ksm_controller(&c->sf, c->alive, 16);
}

static void print_json(const struct kt_ctx *ctx, const struct kt_ksm_status *st,
		       const struct controller *ctl)
{
	printf("{\"available\":%s,\"state\":", st->available ? "true" : "false");
	kt_json_str(run_state(st));
	printf(",");
	print_holder(ctx, true);
	printf("\"knobs\":{");
	for (int k = 0; k < KT_KSM_KNOB_MAX; k++) {
		printf("%s", k ? "," : "");
		kt_json_str(kt_ksm_knob_name(k));
		printf(":{\"supported\":%s,\"value\":", st->knobs.set[k] ? "true" : "false");
		if (st->knobs.set[k])
			kt_json_str(st->knobs.value[k]);
		else
			printf("null");
		printf("}");
	}
	printf("},\"counters\":{");
	for (int c = 0, n = 0; c < KT_KSM_COUNTER_MAX; c++) {
		if (!st->have[c])
			continue;
		printf("%s", n++ ? "," : "");
		kt_json_str(kt_ksm_counter_name(c));
		printf(":%lld", (long long)st->counter[c]);
	}
	printf("},\"page_size\":%llu,\"saved_bytes\":%llu,\"saved_mib\":%.1f,",
	       (unsigned long long)st->page_size, (unsigned long long)st->saved_bytes,
	       (double)st->saved_bytes / (1 << 20));
	if (st->ksmd_cpu_seconds >= 0)
		printf("\"ksmd_pid\":%d,\"ksmd_cpu_seconds\":%.2f", (int)st->ksmd_pid,
		       st->ksmd_cpu_seconds);
	else
		printf("\"ksmd_pid\":null,\"ksmd_cpu_seconds\":null");
	json_controller(ctl);
	printf("}\n");
}

static void print_table(const struct kt_ctx *ctx, const struct kt_ksm_status *st,
			const struct controller *ctl)
{
	printf("KSM:            %s\n", run_state(st));
	print_holder(ctx, false);
	if (!st->available) {
		printf("This kernel has no /sys/kernel/mm/ksm (CONFIG_KSM is off).\n");
		return;
	}
	print_controller(ctx, ctl);
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
	struct controller ctl;
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
	read_controller(ctx, &ctl);
	if (json)
		print_json(ctx, &st, &ctl);
	else
		print_table(ctx, &st, &ctl);
	return 0;
}

static int ksm_restore(struct kt_ctx *ctx, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "kvmtune: error: ksm restore takes one journal name, "
				"for example kvm_ksm-kvm_ksm\n");
		return 2;
	}
	/* The library says what went wrong, and which journals there are. */
	return kt_ksm_restore_journal(ctx, argv[1], "kvmtune ksm restore") < 0 ? 1 : 0;
}

#define WATCH_JOURNAL "ksm-watch"

static void print_decision(void *data, const struct kt_ksmctl_sample *s,
			   const struct kt_ksmctl_decision *d, double cycle_cpu)
{
	const double *t0 = data;
	const struct kt_ksmctl_decision *shown = d;

	printf("%7.1fs %-8s run=%d pages=%-5u sleep=%-4u saved=%.1fMiB ksmd=%.2fs guests=%lluMiB "
	       "rss=%lluMiB avail=%lluMiB cycle=%.3fms | %s\n",
	       s->t - *t0, kt_ksmctl_phase_name(shown->phase), d->write ? d->run : s->run,
	       d->write ? d->pages_to_scan : s->pages_to_scan, d->write ? d->sleep_ms : s->sleep_ms,
	       (double)((uint64_t)(s->pages_sharing + s->zero_pages) * s->page_size) / (1 << 20),
	       s->ksmd_cpu, (unsigned long long)(s->committed >> 20),
	       (unsigned long long)(s->guests_rss >> 20),
	       (unsigned long long)(s->mem_available >> 20), cycle_cpu * 1000, d->reason);
	fflush(stdout);
}

static int ksm_watch(struct kt_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cycles", required_argument, NULL, 'n' },
		{ "keep", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kt_kvlist options = KT_KVLIST_INIT;
	struct kt_ksm_tuning *tuning = NULL;
	struct kt_ksmctl_runner *runner;
	struct kt_ksmctl_config cfg;
	struct kt_ksm_values knobs;
	long long cycles = -1;
	int keep = 0, c, r;
	double t0, cpu;
	unsigned n;
	sigset_t stop_signals;
	struct timespec ts;

	while ((c = getopt_long(argc, argv, "n:kh", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (kt_parse_int(optarg, 1, INT32_MAX, &cycles) < 0) {
				fprintf(stderr, "kvmtune: error: --cycles=%s is invalid: expected an "
						"integer 1..2147483647\n", optarg);
				return 2;
			}
			break;
		case 'k':
			keep = 1;
			break;
		case 'h':
			kt_cmd_ksm_help();
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
	r = kt_ksm_options_parse(ctx, &options, KT_KSMCTL_DYNAMIC, &knobs, &cfg);
	if (r == 0 && cfg.mode == KT_KSMCTL_STATIC) {
		fprintf(stderr, "kvmtune: error: mode=static has no controller to watch: use "
				"dynamic or advisor\n");
		r = -EINVAL;
	}
	if (r == 0 && !kt_ksm_available(ctx)) {
		fprintf(stderr, "kvmtune: error: this kernel has no KSM (/%s)\n", KT_KSM_DIR);
		kt_kvlist_clear(&options);
		return 1;
	}
	if (r < 0) {
		kt_kvlist_clear(&options);
		return 2;
	}
	/* The same policy as tuned's kvm_ksm: the same knobs owned, journalled and locked. */
	r = kt_ksm_tuning_apply(ctx, WATCH_JOURNAL, "kvmtune ksm watch", &options,
				KT_KSMCTL_DYNAMIC, &tuning);
	kt_kvlist_clear(&options);
	if (r < 0)
		return 1;
	runner = kt_ksm_tuning_controller(tuning);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	t0 = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	kt_ksmctl_runner_set_report(runner, print_decision, &t0);
	/* SIGINT/SIGTERM end the watch between two cycles, so the exit path restores. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_signals, NULL);
	while (cycles != 0) {
		struct kt_ksmctl_decision d;
		struct timespec wait;

		kt_ksmctl_runner_step(runner, &d);
		wait.tv_sec = (time_t)(d.next_ms / 1000);
		wait.tv_nsec = (long)(d.next_ms % 1000) * 1000000L;

		if (cycles > 0 && --cycles == 0)
			break;
		if (sigtimedwait(&stop_signals, NULL, &wait) > 0)
			break;
	}
	kt_ksmctl_runner_cpu(runner, &cpu, &n);
	printf("controller: %u cycles, %.3f ms CPU per cycle\n", n, n ? cpu * 1000 / n : 0.0);
	r = kt_ksm_tuning_unapply(tuning, !keep);
	/* --keep: the settings stay by request, so there is nothing left to restore. */
	if (keep)
		kt_journal_remove(ctx, WATCH_JOURNAL);
	return r < 0 ? 1 : 0;
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
	if (strcmp(argv[1], "watch") == 0)
		return ksm_watch(ctx, argc - 1, argv + 1);
	fprintf(stderr, "kvmtune: error: unknown ksm subcommand '%s': expected status, restore or watch\n",
		argv[1]);
	return 2;
}
