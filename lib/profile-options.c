// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The options of kvmtune's plugins with their defaults and meanings, one table per plugin,
 * and each plugin's own check of a section: what `kvmtune profile new` writes, what `kvmtune
 * profile lint` runs and what the man page lists. The names must be the library's (the unit
 * tests compare them with each area's list).
 */
#include <string.h>

#include "hugepages-tuning.h"
#include "iosched.h"
#include "ksm-tuning.h"
#include "pin-tuning.h"
#include "profile.h"
#include "topology.h"

static const struct kt_profile_option ksm_options[] = {
    {"mode", "static",
     "static: the knobs only; dynamic: the controller decides run and the scan rate; "
     "advisor: it decides run, the kernel's advisor the rate"},
    {"run", "",
     "0 stop, 1 run, 2 stop and unmerge; written last (the controller's in "
     "dynamic and advisor mode)"},
    {"pages_to_scan", "",
     "pages ksmd scans per wake-up, 0..100000 (the controller's in "
     "dynamic mode)"},
    {"sleep_millisecs", "",
     "ms ksmd sleeps between scans, 0..600000 (the controller's in "
     "dynamic mode)"},
    {"merge_across_nodes", "",
     "boolean: merge pages of different NUMA nodes; changes only after unmerging"},
    {"use_zero_pages", "", "boolean: merge zero-filled pages with the kernel's zero page"},
    {"max_page_sharing", "",
     "sharers per KSM page, 2..2147483647; changes only after "
     "unmerging"},
    {"stable_node_chains_prune_millisecs", "",
     "ms between prunes of stale stable nodes, "
     "0..3600000"},
    {"smart_scan", "", "boolean: skip pages that failed to merge before (Linux 6.7+)"},
    {"advisor_mode", "",
     "none or scan-time: the kernel advisor sets pages_to_scan "
     "(Linux 6.8+)"},
    {"advisor_max_cpu", "", "the advisor's CPU ceiling, percent, 1..100"},
    {"advisor_min_pages_to_scan", "", "the advisor's lowest pages_to_scan, 1..10000000"},
    {"advisor_max_pages_to_scan", "", "the advisor's highest pages_to_scan, 1..10000000"},
    {"advisor_target_scan_time", "", "seconds the advisor aims a full scan at, 1..86400"},
    {"interval", "5", "seconds between the controller's samples, 1..3600 (one a second while it merges)"},
    {"thres_coef", "20",
     "KSM is needed when guests' memory + this percent of RAM exceeds "
     "RAM, or less is available (ksmtuned's KSM_THRES_COEF)"},
    {"thres_const", "2M",
     "the threshold is at least this size (ksmtuned's "
     "KSM_THRES_CONST)"},
    {"cpu_budget", "50", "ksmd's CPU ceiling while merging, percent of one CPU, 1..100"},
    {"merge_pages", "2500", "pages per scan at the fastest rate, 1..100000"},
    {"merge_sleep", "10", "ms between scans at the fastest rate, 1..10000"},
    {"idle_pages", "100", "pages per scan once merged, 1..100000"},
    {"idle_sleep", "1000", "ms between scans once merged, 1..600000"},
    {"psi_merge", "10", "memory pressure (PSI some avg10, percent) from which KSM merges"},
    {"stop", "keep",
     "keep: stop with run=0; unmerge: run=2 when memory can hold the "
     "unmerged pages"},
    {"libvirt_uri", "qemu:///system", "where the guests' memory is read, or none"},
    {"ksmtuned_conf", "", "take thresholds and rates from this ksmtuned.conf"},
};

static const struct kt_profile_option hugepages_options[] = {
    {"size", "", "the page size (2M, 1G); unset: the kernel's default size"},
    {"pages", "auto",
     "auto (what the guests need), a count, a size, a percent of each "
     "node's memory, or per node (0:4G,1:2048)"},
    {"headroom", "0", "pages or a size added to auto, spread over the nodes"},
    {"min_available", "",
     "never push MemAvailable below this size; unset: 5% of RAM, "
     "at least 1G"},
    {"reclaim", "compact", "on a shortfall: none, compact the node, or drop-caches too"},
    {"shortfall", "keep", "keep the pages obtained, or release them all and fail"},
    {"timeout", "60", "seconds for the whole allocation, 1..3600"},
    {"libvirt_uri", "qemu:///system", "where auto reads the domains, or none"},
    {"mount", "yes", "boolean: mount a hugetlbfs of the size where none is"},
};

static const struct kt_profile_option pin_options[] = {
    {"default_policy", "shared", "shared or dedicated: what a guest without metadata gets"},
    {"dedicated_cpus", "",
     "CPUs given one vCPU each; unset: the isolated CPUs "
     "(isolcpus=, nohz_full=)"},
    {"shared_cpus", "",
     "CPUs shared guests float over; unset: online CPUs minus "
     "dedicated_cpus"},
    {"emulator_policy", "share",
     "share: emulator threads with the housekeeping work; "
     "isolate: on a dedicated CPU of their own"},
    {"thread_policy", "prefer",
     "prefer, isolate or require: how vCPUs use SMT siblings "
     "(Nova's hw:cpu_thread_policy)"},
    {"persist", "live", "live, or config to write the persistent definition too"},
    {"cpu_shares", "1024", "CPU weight per vCPU of shared guests, 2..262144"},
    {"memtune_soft_limit", "", "memtune soft limit of every guest: a size or unlimited"},
    {"memtune_hard_limit", "", "memtune hard limit of every guest: a size or unlimited"},
    {"blkio_weight", "", "blkiotune weight of every guest, 100..1000"},
    {"libvirt_uri", "qemu:///system", "the libvirt connection"},
};

static const struct kt_profile_option iosched_options[] = {
    {"nvme_scheduler", "none", "scheduler of NVMe devices beneath guests, or keep"},
    {"ssd_scheduler", "none", "scheduler of SSDs beneath guests, or keep"},
    {"hdd_scheduler", "auto",
     "scheduler of HDDs beneath guests; auto: mq-deadline, bfq "
     "from bfq_guests guests on a disk"},
    {"loop_scheduler", "none", "scheduler of loop devices beneath guests, or keep"},
    {"bfq_guests", "4", "guests on one HDD from which auto picks bfq"},
    {"nr_requests", "", "queue depth written to every device set, 4..65536"},
    {"read_ahead_kb", "", "read-ahead written to every device set, 0..65536"},
    {"rq_affinity", "", "completion CPU affinity written to every device set, 0, 1 or 2"},
    {"overrides", "",
     "devices with a scheduler or keep (sdb:bfq nvme1n1:keep), even "
     "without guests"},
    {"include_defined", "0", "boolean: also the disks of defined, stopped domains"},
    {"libvirt_uri", "qemu:///system", "where the domains are read"},
};

/* kvm_ksm applies in static mode unless the section says otherwise (as the plugin does). */
static int ksm_check(const struct kt_ctx *ctx, const struct kt_kvlist *opts)
{
	struct kt_ksmctl_config cfg;
	struct kt_ksm_values knobs;

	return kt_ksm_options_parse(ctx, opts, KT_KSMCTL_STATIC, &knobs, &cfg);
}

static int hugepages_check(const struct kt_ctx *ctx, const struct kt_kvlist *opts)
{
	struct kt_hp_options o;

	return kt_hp_options_parse(ctx, opts, &o);
}

static int pin_check(const struct kt_ctx *ctx, const struct kt_kvlist *opts)
{
	struct kt_topology *t = NULL;
	struct kt_pin_options o;
	int r;

	r = kt_pin_options_read(ctx, opts, &t, &o);
	kt_topology_free(t);
	return r;
}

static int iosched_check(const struct kt_ctx *ctx, const struct kt_kvlist *opts)
{
	struct kt_iosched_config cfg;

	return kt_iosched_options_parse(ctx, opts, &cfg);
}

const struct kt_profile_plugin kt_profile_plugins[] = {
    {"kvm_ksm", "KSM knobs and the dynamic controller", ksm_options, KT_ELEMENTSOF(ksm_options),
     ksm_check},
    {"kvm_hugepages", "one hugepage pool per section, sized per NUMA node", hugepages_options,
     KT_ELEMENTSOF(hugepages_options), hugepages_check},
    {"kvm_pin", "vCPU, emulator and iothread pinning of libvirt guests, with QoS", pin_options,
     KT_ELEMENTSOF(pin_options), pin_check},
    {"kvm_iosched", "I/O schedulers of the devices beneath the guests' disks", iosched_options,
     KT_ELEMENTSOF(iosched_options), iosched_check},
};

const size_t kt_profile_n_plugins = KT_ELEMENTSOF(kt_profile_plugins);

const struct kt_profile_plugin *kt_profile_plugin(const char *type)
{
	for (size_t i = 0; i < kt_profile_n_plugins; i++)
		if (type && strcmp(type, kt_profile_plugins[i].type) == 0)
			return &kt_profile_plugins[i];
	return NULL;
}

const struct kt_profile_option *kt_profile_plugin_option(const struct kt_profile_plugin *pl,
							 const char *name)
{
	for (size_t i = 0; i < pl->n_options; i++)
		if (strcmp(name, pl->options[i].name) == 0)
			return &pl->options[i];
	return NULL;
}
