// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune status: what kvmtune manages on this host, what the host had, who controls it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "iosched.h"
#include "ksm-tuning.h"
#include "ksmctl.h"
#include "pin-domain.h"
#include "status.h"

/* Labels of the text view: "Last decision:" is the longest. */
#define LABEL 16

void kt_cmd_status_help(void)
{
	printf(
	    "Usage: kvmtune status [--json | --metrics]\n\n"
	    "The active tuned profile; the controllers' last decisions (KSM's controller from\n"
	    "its state file; pinning and I/O schedulers from their journals); per area (ksm,\n"
	    "hugepages-<size>, ...) who controls it (tuned instance, `kvmtune ... watch`, or\n"
	    "another tool), what kvmtune set and what the host had before (the journals); KSM\n"
	    "savings and the hugepage pools.\n\n"
	    "  --json     the same as JSON (schema: kvmtune-status.schema.json)\n"
	    "  --metrics  the Prometheus text format, for node_exporter's textfile "
	    "collector\n");
}

static const struct kt_status_controller *controller(const struct kt_status *st,
						     const char *area, unsigned *from)
{
	for (unsigned i = *from; i < st->n_controllers; i++)
		if (strcmp(st->controllers[i].area, area) == 0) {
			*from = i + 1;
			return &st->controllers[i];
		}
	return NULL;
}

/* "2 domains: g1 (vcpu0, emulator), g2 (vcpu0)": what a journal says was done. */
static void print_subjects(const struct kt_status_controller *c, const char *one,
			   const char *many)
{
	printf("%u %s", c->n_subjects, kt_plural(c->n_subjects, one, many));
	for (unsigned i = 0; i < c->n_subjects; i++)
		printf("%s%s%s%s%s", i ? ", " : ": ", c->subjects[i].name,
		       c->subjects[i].items[0] ? " (" : "", c->subjects[i].items,
		       c->subjects[i].items[0] ? ")" : "");
}

/* Pinning and the I/O schedulers: their journal, when it was last written, and by whom. */
static void print_journal_controllers(const struct kt_status *st, const char *area,
				      const char *label, const char *one, const char *many)
{
	const struct kt_status_controller *c;
	unsigned from = 0;
	bool any = false;

	while ((c = controller(st, area, &from))) {
		char when[64], ago[32];

		printf("%-*s", LABEL, any ? "" : label);
		printf("journal %s, written %s%s, ", c->journal,
		       kt_show_when(c->decided, when, sizeof(when)),
		       kt_show_ago(c->decided, ago, sizeof(ago)));
		if (c->stale)
			printf("held by nobody now: ");
		else
			printf("by %s: ", c->owner);
		print_subjects(c, one, many);
		printf("\n");
		any = true;
	}
	if (!any)
		printf("%-*snone (no journal: nothing is set now)\n", LABEL, label);
}

static void print_controllers(const struct kt_status *st)
{
	unsigned from = 0;
	const struct kt_status_controller *c = controller(st, KT_KSM_LOCK, &from);

	if (!c)
		printf("%-*snone (no KSM controller runs)\n", LABEL, "Controller:");
	else if (c->error)
		printf("%-*sunknown: /%s is unreadable (%s)\n", LABEL,
		       "Controller:", KT_KSMCTL_STATE_PATH, strerror(-c->error));
	else
		kt_show_ksm_controller(&c->state, !c->stale, LABEL);
	print_journal_controllers(st, KT_PIN_LOCK, "Pinning:", "domain", "domains");
	print_journal_controllers(st, KT_IOSCHED_LOCK, "I/O schedulers:", "device", "devices");
}

static void print_text(const struct kt_status *st)
{
	const struct kt_host_facts *h = &st->h;

	printf("%-*s%s\n", LABEL, "Profile:",
	       h->active_profile[0] ? h->active_profile
				    : "(none: tuned has no active profile)");
	printf("%-*s%s, saving %.1f MiB", LABEL, "KSM:", kt_status_ksm_state(&h->ksm),
	       (double)h->ksm.saved_bytes / (1 << 20));
	if (h->ksm_rival[0])
		printf(", %s runs (pid %d)", h->ksm_rival, (int)h->ksm_rival_pid);
	printf("\n");
	print_controllers(st);
	printf("\n%-24s %s\n", "AREA", "CONTROLLED BY");
	for (unsigned i = 0; i < h->n_areas; i++) {
		const struct kt_area_holder *a = &h->areas[i];

		if (a->held)
			printf("%-24s %s (pid %d, journal %s)\n", a->area, a->info.holder,
			       (int)a->info.pid, a->info.journal[0] ? a->info.journal : "none");
		else
			printf("%-24s nobody\n", a->area);
	}
	printf("\n%-24s %-36s %-16s %s\n", "JOURNAL", "KEY", "HOST HAD", "NOW");
	if (!st->n_journals)
		printf("(none: kvmtune changes nothing now)\n");
	for (unsigned i = 0; i < st->n_journals; i++) {
		const struct kt_status_journal *j = &st->journals[i];
		const struct kt_area_holder *a = j->area;

		for (size_t k = 0; k < j->kv.n; k++) {
			const char *now = kt_status_current(st, j, j->kv.items[k].key);

			printf("%-24s %-36s %-16s %s\n", k ? "" : j->name, j->kv.items[k].key,
			       j->kv.items[k].value, now ? now : "?");
		}
		if (!j->valid)
			printf(
			    "%-24s (corrupt: %s; check the host's values before trusting it)\n",
			    j->name, j->why);
		else if (!a)
			printf("%-24s (nobody holds it: `kvmtune restore --orphans` puts it "
			       "back)\n",
			       "");
	}
	printf("\n%-8s %-10s %10s %10s\n", "NODE", "PAGE KiB", "TOTAL", "FREE");
	for (unsigned i = 0; i < h->n_pools; i++) {
		const struct kt_hugepage_pool *p = &h->pools[i];
		char node[16];

		snprintf(node, sizeof(node), p->node < 0 ? "all" : "%d", p->node);
		printf("%-8s %-10llu %10llu %10llu\n", node,
		       (unsigned long long)(p->page_size >> 10), (unsigned long long)p->total,
		       (unsigned long long)p->free);
	}
}

static void print_json(const struct kt_status *st)
{
	const struct kt_host_facts *h = &st->h;

	printf("{\"version\":1,\"profile\":");
	if (h->active_profile[0])
		kt_json_str(h->active_profile);
	else
		printf("null");
	printf(",\"ksm\":{\"state\":");
	kt_json_str(kt_status_ksm_state(&h->ksm));
	printf(",\"saved_bytes\":%llu,\"rival\":", (unsigned long long)h->ksm.saved_bytes);
	if (h->ksm_rival[0]) {
		printf("{\"name\":");
		kt_json_str(h->ksm_rival);
		printf(",\"pid\":%d}", (int)h->ksm_rival_pid);
	} else {
		printf("null");
	}
	printf("},\"controllers\":[");
	for (unsigned i = 0; i < st->n_controllers; i++) {
		const struct kt_status_controller *c = &st->controllers[i];
		int64_t age = kt_status_age(c->decided);

		printf("%s{\"area\":", i ? "," : "");
		kt_json_str(c->area);
		printf(",\"source\":\"%s\",\"journal\":", c->journal[0] ? "journal" : "state");
		kt_json_str_or_null(c->journal);
		printf(",\"owner\":");
		kt_json_str_or_null(c->owner);
		printf(",\"stale\":%s,\"decided\":", c->stale ? "true" : "false");
		if (c->decided > 0)
			printf("%lld", (long long)c->decided);
		else
			printf("null");
		printf(",\"age_seconds\":");
		if (age >= 0)
			printf("%lld", (long long)age);
		else
			printf("null");
		printf(",\"error\":");
		kt_json_str_or_null(c->error ? strerror(-c->error) : NULL);
		printf(",\"ksm\":");
		if (c->have_state)
			kt_json_ksm_controller(&c->state, !c->stale);
		else
			printf("null");
		printf(",\"subjects\":[");
		for (unsigned k = 0; k < c->n_subjects; k++) {
			printf("%s{\"name\":", k ? "," : "");
			kt_json_str(c->subjects[k].name);
			printf(",\"items\":");
			kt_json_str(c->subjects[k].items);
			printf("}");
		}
		printf("]}");
	}
	printf("],\"areas\":[");
	for (unsigned i = 0; i < h->n_areas; i++) {
		const struct kt_area_holder *a = &h->areas[i];

		printf("%s{\"area\":", i ? "," : "");
		kt_json_str(a->area);
		printf(",\"controlled_by\":");
		if (a->held) {
			printf("{\"holder\":");
			kt_json_str(a->info.holder);
			printf(",\"pid\":%d,\"journal\":", (int)a->info.pid);
			kt_json_str(a->info.journal);
			printf("}");
		} else {
			printf("null");
		}
		printf("}");
	}
	printf("],\"journals\":[");
	for (unsigned i = 0; i < st->n_journals; i++) {
		const struct kt_status_journal *j = &st->journals[i];
		const struct kt_area_holder *a = j->area;

		printf("%s{\"name\":", i ? "," : "");
		kt_json_str(j->name);
		printf(",\"area\":");
		if (a)
			kt_json_str(a->area);
		else
			printf("null");
		printf(",\"orphan\":%s,\"corrupt\":", a ? "false" : "true");
		if (j->valid)
			printf("null");
		else
			kt_json_str(j->why);
		printf(",\"values\":[");
		for (size_t k = 0; k < j->kv.n; k++) {
			const char *now = kt_status_current(st, j, j->kv.items[k].key);

			printf("%s{\"key\":", k ? "," : "");
			kt_json_str(j->kv.items[k].key);
			printf(",\"host_had\":");
			kt_json_str(j->kv.items[k].value);
			printf(",\"now\":");
			if (now)
				kt_json_str(now);
			else
				printf("null");
			printf("}");
		}
		printf("]}");
	}
	printf("],\"hugepage_pools\":[");
	for (unsigned i = 0; i < h->n_pools; i++) {
		const struct kt_hugepage_pool *p = &h->pools[i];

		printf("%s{\"node\":", i ? "," : "");
		if (p->node < 0)
			printf("null");
		else
			printf("%d", p->node);
		printf(",\"page_size\":%llu,\"total\":%llu,\"free\":%llu}",
		       (unsigned long long)p->page_size, (unsigned long long)p->total,
		       (unsigned long long)p->free);
	}
	printf("]}\n");
}

/* A label value in the Prometheus text format: backslash, quote and newline escaped. */
static void prom_label(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			printf("\\n");
		else
			putchar(*s);
	}
	putchar('"');
}

/* node="all" is the host's pool, node="0" node 0's. */
static void print_pool(const struct kt_hugepage_pool *p, const char *what, uint64_t value)
{
	char node[16];

	snprintf(node, sizeof(node), p->node < 0 ? "all" : "%d", p->node);
	printf("kvmtune_hugepages_%s{node=\"%s\",page_size=\"%llu\"} %llu\n", what, node,
	       (unsigned long long)p->page_size, (unsigned long long)value);
}

static void gauge(const char *name, const char *help, double value)
{
	printf("# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, value);
}

/* One sample per journal-kept controller: when it was written, or for how many subjects. */
static void journal_metric(const struct kt_status *st, const char *name, const char *help,
			   bool subjects)
{
	bool any = false;

	for (unsigned i = 0; i < st->n_controllers; i++) {
		const struct kt_status_controller *c = &st->controllers[i];

		if (!c->journal[0])
			continue;
		if (!any)
			printf("# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
		any = true;
		printf("%s{area=", name);
		prom_label(c->area);
		printf(",journal=");
		prom_label(c->journal);
		printf("} %lld\n", subjects ? (long long)c->n_subjects : (long long)c->decided);
	}
}

/*
 * The KSM controller's last decision: its phase as a state set, who runs it as an info
 * metric, its inputs in base units (bytes, seconds, a 0..1 ratio) and when it decided. The
 * free-text reason is no label (a new series per number in it): --json and the text view
 * have it. Pinning and I/O schedulers: when their journal was last written, and for how
 * many domains or devices.
 */
static void print_controller_metrics(const struct kt_status *st)
{
	const struct kt_status_controller *ksm = NULL;
	const struct kt_ksmctl_statefile *sf;

	for (unsigned i = 0; i < st->n_controllers && !ksm; i++)
		if (st->controllers[i].have_state)
			ksm = &st->controllers[i];
	gauge("kvmtune_ksm_controller_up",
	      "Whether a running KSM controller keeps the state file (0: none, or it stopped).",
	      ksm && !ksm->stale);
	if (ksm) {
		sf = &ksm->state;
		printf(
		    "# HELP kvmtune_ksm_controller_info Who runs the KSM controller, in which "
		    "mode.\n"
		    "# TYPE kvmtune_ksm_controller_info gauge\n"
		    "kvmtune_ksm_controller_info{owner=");
		prom_label(sf->owner);
		printf(",mode=");
		prom_label(sf->mode);
		printf("} 1\n");
		printf("# HELP kvmtune_ksm_controller_phase The KSM controller's phase (1: the "
		       "current one).\n"
		       "# TYPE kvmtune_ksm_controller_phase gauge\n");
		for (int p = 0; p < KT_KSMCTL_PHASE_MAX; p++)
			printf("kvmtune_ksm_controller_phase{phase=\"%s\"} %d\n",
			       kt_ksmctl_phase_name(p),
			       strcmp(sf->phase, kt_ksmctl_phase_name(p)) == 0);
		gauge("kvmtune_ksm_controller_phase_since_timestamp_seconds",
		      "When the KSM controller entered its phase.", (double)sf->since);
		gauge("kvmtune_ksm_controller_last_decision_timestamp_seconds",
		      "When the KSM controller took its last decision.", (double)sf->decided);
		/* The inputs in base units; one the controller did not know (-1) is left out.
		 */
		const struct {
			const char *name, *help;
			double value, scale;
		} in[] = {
		    {"kvmtune_ksm_controller_guests_bytes",
		     "The guests' memory as libvirt gives it, at the last decision.",
		     (double)sf->guests_mib, 1 << 20},
		    {"kvmtune_ksm_controller_guests_resident_bytes",
		     "The qemu processes' resident memory, at the last decision.",
		     (double)sf->guests_rss_mib, 1 << 20},
		    {"kvmtune_ksm_controller_threshold_bytes",
		     "The memory threshold from which KSM is needed.",
		     (double)sf->threshold_mib, 1 << 20},
		    {"kvmtune_ksm_controller_mem_available_bytes",
		     "MemAvailable at the last decision.", (double)sf->available_mib, 1 << 20},
		    {"kvmtune_ksm_controller_memory_pressure_ratio",
		     "Memory PSI some avg10 at the last decision, 0..1.", sf->psi_some_avg10,
		     0.01},
		    {"kvmtune_ksm_controller_saved_bytes",
		     "Memory KSM saved at the last decision.", sf->saved_mib, 1 << 20},
		    {"kvmtune_ksm_controller_ksmd_cpu_seconds",
		     "ksmd's CPU time at the last decision.", sf->ksmd_cpu_seconds, 1},
		};

		for (size_t i = 0; i < KT_ELEMENTSOF(in); i++)
			if (in[i].value >= 0)
				gauge(in[i].name, in[i].help, in[i].value * in[i].scale);
	}
	journal_metric(st, "kvmtune_controller_journal_written_timestamp_seconds",
		       "When an event-driven area (pin, iosched) last wrote its journal.",
		       false);
	journal_metric(
	    st, "kvmtune_controller_journal_subjects",
	    "Domains (pin) or devices (iosched) an area's journal holds originals of.", true);
}

static void print_metrics(const struct kt_status *st)
{
	const struct kt_host_facts *h = &st->h;

	printf("# HELP kvmtune_profile_info The active tuned profile.\n"
	       "# TYPE kvmtune_profile_info gauge\n"
	       "kvmtune_profile_info{profile=");
	prom_label(h->active_profile);
	printf("} 1\n");
	printf("# HELP kvmtune_ksm_available Whether the kernel has KSM.\n"
	       "# TYPE kvmtune_ksm_available gauge\n"
	       "kvmtune_ksm_available %d\n",
	       h->ksm.available);
	printf("# HELP kvmtune_ksm_running Whether ksmd merges (run=1).\n"
	       "# TYPE kvmtune_ksm_running gauge\n"
	       "kvmtune_ksm_running %d\n",
	       strcmp(kt_status_ksm_state(&h->ksm), "running") == 0);
	printf("# HELP kvmtune_ksm_saved_bytes Memory KSM saves: (pages_sharing + "
	       "ksm_zero_pages) x page size.\n"
	       "# TYPE kvmtune_ksm_saved_bytes gauge\n"
	       "kvmtune_ksm_saved_bytes %llu\n",
	       (unsigned long long)h->ksm.saved_bytes);
	printf("# HELP kvmtune_ksm_counter Counters of /sys/kernel/mm/ksm (general_profit in "
	       "bytes, the others in pages).\n"
	       "# TYPE kvmtune_ksm_counter gauge\n");
	for (int c = 0; c < KT_KSM_COUNTER_MAX; c++)
		if (h->ksm.have[c])
			printf("kvmtune_ksm_counter{counter=\"%s\"} %lld\n",
			       kt_ksm_counter_name(c), (long long)h->ksm.counter[c]);
	printf("# HELP kvmtune_ksm_rival Whether ksmtuned or momd runs beside kvmtune.\n"
	       "# TYPE kvmtune_ksm_rival gauge\n"
	       "kvmtune_ksm_rival %d\n",
	       h->ksm_rival[0] != '\0');
	printf(
	    "# HELP kvmtune_area_controlled Whether a kvmtune tuning holds the area's lock.\n"
	    "# TYPE kvmtune_area_controlled gauge\n");
	for (unsigned i = 0; i < h->n_areas; i++) {
		printf("kvmtune_area_controlled{area=");
		prom_label(h->areas[i].area);
		printf(",holder=");
		prom_label(h->areas[i].held ? h->areas[i].info.holder : "");
		printf("} %d\n", h->areas[i].held);
	}
	printf("# HELP kvmtune_journal_values Original values a journal keeps to put back.\n"
	       "# TYPE kvmtune_journal_values gauge\n");
	for (unsigned i = 0; i < st->n_journals; i++) {
		printf("kvmtune_journal_values{journal=");
		prom_label(st->journals[i].name);
		printf(",orphan=\"%d\"} %zu\n", !st->journals[i].area, st->journals[i].kv.n);
	}
	print_controller_metrics(st);
	printf("# HELP kvmtune_hugepages_total Pages in a hugepage pool.\n"
	       "# TYPE kvmtune_hugepages_total gauge\n");
	for (unsigned i = 0; i < h->n_pools; i++)
		print_pool(&h->pools[i], "total", h->pools[i].total);
	printf("# HELP kvmtune_hugepages_free Free pages in a hugepage pool.\n"
	       "# TYPE kvmtune_hugepages_free gauge\n");
	for (unsigned i = 0; i < h->n_pools; i++)
		print_pool(&h->pools[i], "free", h->pools[i].free);
}

int kt_cmd_status(struct kt_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"metrics", no_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kt_status st;
	int mode = 0, c, r;

	while ((c = getopt_long(argc, argv, "jmh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
		case 'm':
			mode = c;
			break;
		case 'h':
			kt_cmd_status_help();
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kvmtune: error: status: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	r = kt_status_read(ctx, &st);
	if (r < 0) {
		fprintf(stderr,
			"kvmtune: error: cannot read what kvmtune manages below %s: %s\n",
			kt_ctx_root(ctx), strerror(-r));
		return 1;
	}
	if (mode == 'j')
		print_json(&st);
	else if (mode == 'm')
		print_metrics(&st);
	else
		print_text(&st);
	kt_status_clear(&st);
	return 0;
}
