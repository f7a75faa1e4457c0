// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The measuring half of bench/pin, on the library itself:
 *   pin-bench plan ROOT DOMAINS ROUNDS     plan DOMAINS guests on the topology below ROOT
 *   pin-bench cmd URI UUID N               N vCPU pinnings of one guest, in process
 *   pin-bench watch URI OPTION=VALUE...    the kvm_pin event loop; one line per start:
 *                                          "pinned NAME EVENT_TIME PINNED_TIME" (CLOCK_REALTIME)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pin-tuning.h"
#include "virt-events.h"
#include "virt-pin.h"

static double now(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int plan(const char *root, unsigned n, unsigned rounds)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_pin_request *reqs = calloc(n, sizeof(*reqs));
	struct kt_pin_placement *pls = calloc(n, sizeof(*pls));
	double *ms = calloc(rounds, sizeof(*ms));
	struct kt_topology *t = NULL;
	struct kt_pin_options o;
	struct kt_ctx *ctx = NULL;
	unsigned placed = 0, dedicated = 0;

	if (!reqs || !pls || !ms || kt_ctx_new(root, &ctx) < 0 || kt_topology_read(ctx, &t) < 0)
		return 1;
	/* Half the CPUs dedicated (every other core's pair of threads), half shared. */
	kt_kvlist_set(&opts, "dedicated_cpus", "32-255,288-511");
	kt_kvlist_set(&opts, "shared_cpus", "0-31,256-287");
	if (kt_pin_options_parse(ctx, t, &opts, &o) < 0)
		return 1;
	/* A dense host: one guest in ten dedicated (2 vCPUs, some with 2 NUMA cells, an
	 * isolated emulator or whole cores), the rest shared with 1..8 vCPUs. */
	for (unsigned i = 0; i < n; i++) {
		struct kt_pin_request *r = &reqs[i];

		snprintf(r->name, sizeof(r->name), "guest-%04u", i);
		r->policy = i % 10 == 0 ? KT_PIN_DEDICATED : KT_PIN_SHARED;
		r->vcpus = r->policy == KT_PIN_DEDICATED ? 2 : 1 + i % 8;
		r->emulator = i % 20 == 0 ? KT_PIN_EMULATOR_ISOLATE : KT_PIN_EMULATOR_SHARE;
		r->threads = i % 30 == 0 ? KT_PIN_THREADS_ISOLATE : KT_PIN_THREADS_PREFER;
		r->cpu_shares = 1024 * r->vcpus;
		if (i % 50 == 0 && r->policy == KT_PIN_DEDICATED) {
			r->vcpus = 4;
			r->n_cells = 2;
			r->cell_first[1] = 2;
			r->cell_vcpus[0] = r->cell_vcpus[1] = 2;
		}
	}
	for (unsigned k = 0; k < rounds; k++) {
		double t0 = now(CLOCK_MONOTONIC);

		kt_pin_plan(t, &o.cfg, reqs, n, pls);
		ms[k] = (now(CLOCK_MONOTONIC) - t0) * 1000;
	}
	for (unsigned i = 0; i < n; i++) {
		placed += pls[i].placed;
		dedicated += pls[i].placed && pls[i].policy == KT_PIN_DEDICATED;
	}
	qsort(ms, rounds, sizeof(*ms), cmp_double);
	printf("plan domains=%u cpus=%u nodes=%u placed=%u dedicated=%u median_ms=%.3f "
	       "max_ms=%.3f\n",
	       n, kt_cpuset_count(&t->online), t->n_nodes, placed, dedicated, ms[rounds / 2],
	       ms[rounds - 1]);
	kt_kvlist_clear(&opts);
	kt_topology_free(t);
	kt_ctx_unref(ctx);
	free(reqs);
	free(pls);
	free(ms);
	return 0;
}

/*
 * A guest's vCPU and emulator pinned to CPU 0 and 1 by turns, through the same call kvm_pin
 * makes for a placement (one domain lookup, then one libvirt call per item): the time per
 * pinning command is the total over every item set.
 */
static int cmd(const char *uri, const char *uuid, unsigned n)
{
	struct kt_kvlist saved = KT_KVLIST_INIT;
	struct kt_pin_placement *pl = calloc(1, sizeof(*pl));
	struct kt_pin_request req;
	struct kt_virt *v = NULL;
	double t0, total;

	if (!pl || kt_virt_connect(uri, false, &v, NULL) < 0)
		return 1;
	memset(&req, 0, sizeof(req));
	pl->policy = KT_PIN_DEDICATED;
	pl->vcpus = 1;
	kt_kvlist_set(&saved, "vcpu0", "0-1");
	kt_kvlist_set(&saved, "emulator", "0-1");
	t0 = now(CLOCK_MONOTONIC);
	for (unsigned i = 0; i < n; i++) {
		pl->vcpu_cpu[0] = (uint16_t)(i % 2);
		kt_cpuset_clear(&pl->emulator_cpus);
		kt_cpuset_add(&pl->emulator_cpus, (i + 1) % 2);
		if (kt_virt_pin_set(v, uuid, &req, pl, &saved, false, NULL) < 0)
			return 1;
	}
	total = now(CLOCK_MONOTONIC) - t0;
	kt_virt_pin_restore(v, uuid, &saved, false, NULL);
	printf("cmd in-process n=%u ms_per_command=%.3f\n", 2 * n, total * 1000 / (2 * n));
	kt_kvlist_clear(&saved);
	kt_virt_close(v);
	free(pl);
	return 0;
}

struct watch {
	struct kt_pin_tuning *t;
};

static void on_event(void *data, struct kt_virt *v, enum kt_virt_event ev, const char *uuid)
{
	struct watch *w = data;
	double t_event = now(CLOCK_REALTIME);

	kt_pin_tuning_on_event(w->t, v, ev, uuid);
	if (ev == KT_VIRT_STARTED)
		printf("pinned %s %.6f %.6f\n", uuid, t_event, now(CLOCK_REALTIME));
	else if (ev == KT_VIRT_CONNECTED)
		printf("connected\n");
	fflush(stdout);
}

static int watch(struct kt_ctx *ctx, int argc, char **argv)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_virt_events *events = NULL;
	struct kt_virt *v = NULL;
	struct watch w = { NULL };
	sigset_t sigs;
	int sig, sub;

	for (int i = 0; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq)
			return 2;
		*eq = '\0';
		kt_kvlist_set(&opts, argv[i], eq + 1);
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	if (kt_pin_tuning_new(ctx, "pin-bench", "bench/pin", &opts, &w.t) < 0 ||
	    kt_virt_events_new(ctx, kt_pin_tuning_options(w.t)->libvirt_uri, &events) < 0)
		return 1;
	sub = kt_virt_events_subscribe(events, on_event, &w);
	if (sub < 0 || kt_virt_events_start(events) < 0)
		return 1;
	sigwait(&sigs, &sig);
	kt_virt_events_unsubscribe(events, sub);
	if (kt_virt_events_connection(events, &v) < 0)
		v = NULL;
	kt_pin_tuning_unapply(w.t, v, true);
	kt_virt_close(v);
	kt_virt_events_free(events);
	kt_kvlist_clear(&opts);
	return 0;
}

static void log_stderr(void *data, enum kt_log_prio prio, const char *msg)
{
	(void)data;
	if (prio <= KT_LOG_WARNING)
		fprintf(stderr, "pin-bench: %s\n", msg);
}

int main(int argc, char **argv)
{
	struct kt_ctx *ctx = NULL;
	int r;

	if (argc >= 5 && strcmp(argv[1], "plan") == 0)
		return plan(argv[2], (unsigned)atoi(argv[3]), (unsigned)atoi(argv[4]));
	if (argc >= 5 && strcmp(argv[1], "cmd") == 0)
		return cmd(argv[2], argv[3], (unsigned)atoi(argv[4]));
	if (argc >= 2 && strcmp(argv[1], "watch") == 0) {
		if (kt_ctx_new("/", &ctx) < 0)
			return 1;
		kt_ctx_set_log_fn(ctx, log_stderr, NULL);
		r = watch(ctx, argc - 2, argv + 2);
		kt_ctx_unref(ctx);
		return r;
	}
	fprintf(stderr, "usage: pin-bench plan ROOT DOMAINS ROUNDS | cmd URI UUID N | "
			"watch OPTION=VALUE...\n");
	return 2;
}
