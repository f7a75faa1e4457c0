/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "ctx.h"
#include "kvlist.h"
#include "virt-events.h"

/*
 * I/O schedulers and queue settings for the block devices beneath the guests' disks.
 *
 * A guest's disk (an image file, a block device, a partition, an LVM/dm-crypt or md stack, a
 * loop device) is resolved through sysfs to the devices beneath it; each device gets the
 * scheduler of its class (NVMe and SSD: none; HDD: mq-deadline, or bfq when many guests
 * share it; loop: none), the queue knobs the options ask for, or an explicit override.
 * Devices that back no guest are left alone.
 */

/* The lock area every writer of the guests' block queues takes (run/kvmtune/iosched.lock). */
#define KT_IOSCHED_LOCK "iosched"
/* The journal of `kvmtune iosched watch` (tuned's instances: kvm_iosched-<instance>). */
#define KT_IOSCHED_CMD_JOURNAL "kvm_iosched-cmd"
/* A kernel block device name ("nvme0n1p2", "dm-3"); the kernel's limit is 32 with the NUL. */
#define KT_IOSCHED_NAME_MAX 32
/* Schedulers a queue offers: the kernel has four today (none, mq-deadline, kyber, bfq). */
#define KT_IOSCHED_SCHED_MAX 8
/* Stacks deeper than this are cut (a cycle, or a fixture gone wrong): real ones are 4 or 5. */
#define KT_IOSCHED_DEPTH_MAX 12
/* hdd_scheduler=auto picks bfq from this many guests on one disk (README: why). */
#define KT_IOSCHED_BFQ_GUESTS 4

enum kt_iosched_class {
	KT_IOSCHED_NVME,
	KT_IOSCHED_SSD,
	KT_IOSCHED_HDD,
	/* Its I/O goes to a file, whose own device is scheduled: none here. */
	KT_IOSCHED_LOOP,
	/* No queue of its own: the whole disk's queue is the one scheduled. */
	KT_IOSCHED_PARTITION,
	/* dm and md: bio-based, they pass I/O to the devices in slaves/. */
	KT_IOSCHED_DM,
	KT_IOSCHED_MD,
	KT_IOSCHED_CLASS_MAX,
	KT_IOSCHED_CLASS_INVALID = -EINVAL,
};

const char *kt_iosched_class_name(enum kt_iosched_class cls);

/* The queue settings kvmtune writes, in the order it writes them: the scheduler first,
 * because switching it resets nr_requests. */
enum kt_iosched_knob {
	KT_IOSCHED_SCHEDULER,
	KT_IOSCHED_NR_REQUESTS,
	KT_IOSCHED_READ_AHEAD_KB,
	KT_IOSCHED_RQ_AFFINITY,
	KT_IOSCHED_KNOB_MAX,
	KT_IOSCHED_KNOB_INVALID = -EINVAL,
};

const char *kt_iosched_knob_name(enum kt_iosched_knob knob);

/* A queue/scheduler file: "mq-deadline [none] bfq". */
struct kt_iosched_list {
	unsigned n;
	/* Index of the bracketed one (or of the only one), -1 when none is. */
	int current;
	char name[KT_IOSCHED_SCHED_MAX][KT_IOSCHED_NAME_MAX];
};

/* -EINVAL unless every word is a scheduler name and at most one is bracketed. */
int kt_iosched_list_parse(const char *text, struct kt_iosched_list *ret);
bool kt_iosched_list_has(const struct kt_iosched_list *l, const char *name);
/* "none, mq-deadline, kyber, bfq", for messages. */
void kt_iosched_list_format(const struct kt_iosched_list *l, char *buf, size_t size);
/* What a scheduler name may look like ([a-z0-9_-], 1..31): before any device is asked. */
bool kt_iosched_sched_name_valid(const char *name);

/*
 * A block device name as sysfs and options give it: 1..31 printable characters, no '/',
 * no white space, not "." or "..". Whether it is a block device is kt_iosched_is_blockdev's.
 */
bool kt_iosched_dev_name_valid(const char *name);
/* Whether sys/class/block/<name> exists below the root. */
bool kt_iosched_is_blockdev(const struct kt_ctx *ctx, const char *name);

/* overrides=: "sdb:bfq nvme0n1:keep /dev/sdc:mq-deadline", separated by commas or spaces. */
struct kt_iosched_override {
	char device[KT_IOSCHED_NAME_MAX];
	/* A scheduler name, or "keep": leave the device alone. */
	char scheduler[KT_IOSCHED_NAME_MAX];
};

#define KT_IOSCHED_OVERRIDES_MAX 32

struct kt_iosched_config {
	/* The scheduler of each class, "" for none chosen; "auto" for HDDs. */
	char nvme[KT_IOSCHED_NAME_MAX];
	char ssd[KT_IOSCHED_NAME_MAX];
	char hdd[KT_IOSCHED_NAME_MAX];
	char loop[KT_IOSCHED_NAME_MAX];
	unsigned bfq_guests;
	/* Queue knobs, as the kernel takes them; "" leaves the knob alone. */
	char knob[KT_IOSCHED_KNOB_MAX][16];
	struct kt_iosched_override overrides[KT_IOSCHED_OVERRIDES_MAX];
	unsigned n_overrides;
	bool include_defined;
	char uri[256];
};

void kt_iosched_config_default(struct kt_iosched_config *ret);
bool kt_iosched_option_known(const char *name);
/* Every option kvm_iosched takes, NULL-terminated: for the shim and the tests. */
extern const char *const kt_iosched_options[];
/*
 * One option: checked and stored. A bad value is logged as "name=value is invalid: <what
 * is allowed>" and returns -EINVAL; cfg is unchanged.
 */
int kt_iosched_config_set(const struct kt_ctx *ctx, struct kt_iosched_config *cfg,
			  const char *name, const char *value);
/* Every option of a section, each bad one logged; any makes it -EINVAL. */
int kt_iosched_options_parse(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			     struct kt_iosched_config *ret);
/* overrides= alone, for the fuzzer and the tests. */
int kt_iosched_overrides_parse(const char *text, struct kt_iosched_override *ret, unsigned max,
			       unsigned *ret_n);

/* Domain XML -> the storage of each disk (image files, devices, backing chain). */
enum kt_iosched_source_type {
	KT_IOSCHED_SRC_FILE,
	KT_IOSCHED_SRC_BLOCK,
	KT_IOSCHED_SRC_DIR,
	/* Skipped, with a note: network (rbd, iscsi, nbd, ...), pool volumes, NVMe handed over. */
	KT_IOSCHED_SRC_OTHER,
	KT_IOSCHED_SRC_MAX,
	KT_IOSCHED_SRC_INVALID = -EINVAL,
};

struct kt_iosched_source {
	/* The guest's device name (target dev="vda"), or "" */
	const char *target;
	enum kt_iosched_source_type type;
	/* The path for file, block and dir; the disk type and protocol otherwise. */
	const char *path;
	/* 0 for the disk's own source, 1.. down its backing chain. */
	unsigned backing;
};

typedef int (*kt_iosched_source_fn)(void *data, const struct kt_iosched_source *src);
/*
 * Calls fn for every disk source of a domain's XML, its backing chain included, in
 * document order. Sources with no path (an empty CD-ROM) are not reported. -EBADMSG when
 * xml is no domain XML. ret_name (optional) gets the domain's name, the caller's to free.
 */
int kt_iosched_domain_sources(const char *xml, size_t len, char **ret_name,
			      kt_iosched_source_fn fn, void *data);

/* A domain as the plan sees it; xml is its libvirt XML. */
struct kt_iosched_domain {
	const char *name;
	bool active;
	const char *xml;
};

/* One line of the tree below a disk: a device, and how deep in the stack it is. */
struct kt_iosched_node {
	unsigned depth;
	/* Index into plan->devices. */
	size_t device;
	/* "backing /srv/img.raw" for a loop device, "" otherwise. */
	char detail[160];
};

struct kt_iosched_disk {
	char domain[128];
	bool active;
	char target[KT_IOSCHED_NAME_MAX];
	char source[256];
	unsigned backing;
	/* Why the disk resolves to nothing, or to less than all: "network disk (rbd)". */
	char note[192];
	size_t first_node;
	size_t n_nodes;
};

struct kt_iosched_device {
	char name[KT_IOSCHED_NAME_MAX];
	enum kt_iosched_class cls;
	/* Whether it has a queue/scheduler file, and what it offers. */
	bool has_queue;
	struct kt_iosched_list sched;
	/* Distinct domains above it (running ones, and defined ones when asked). */
	unsigned guests;
	/* The scheduler wanted, "" to leave it alone, and why, for people. */
	char want[KT_IOSCHED_NAME_MAX];
	char why[96];
	/* Knob values now ("" when the kernel lacks the file) and wanted ("" = leave). */
	char now[KT_IOSCHED_KNOB_MAX][KT_IOSCHED_NAME_MAX];
	char wanted[KT_IOSCHED_KNOB_MAX][KT_IOSCHED_NAME_MAX];
	/* Internal: the last domain counted in guests. */
	size_t last_domain;
};

struct kt_iosched_plan {
	struct kt_iosched_disk *disks;
	size_t n_disks;
	struct kt_iosched_node *nodes;
	size_t n_nodes;
	struct kt_iosched_device *devices;
	size_t n_devices;
};

/*
 * Resolves every disk of domains to the devices beneath it and decides each device's
 * settings by cfg. Disks that resolve to nothing get a note (and a debug line); an override
 * or a scheduler a device does not offer is logged, naming the option, the device and what
 * it offers, and makes it -EINVAL. ret is the caller's (kt_iosched_plan_clear), also on
 * failure.
 */
int kt_iosched_plan_build(const struct kt_ctx *ctx, const struct kt_iosched_config *cfg,
			  const struct kt_iosched_domain *domains, size_t n_domains,
			  struct kt_iosched_plan *ret);
void kt_iosched_plan_clear(struct kt_iosched_plan *plan);

/*
 * The domains of cfg's libvirt URI (running ones, and defined ones with include_defined),
 * and the plan for them. A libvirt that cannot be reached is logged and returned, unless
 * flags has KT_IOSCHED_LIBVIRT_OPTIONAL: then it is a warning and the plan has no guests
 * (a profile applied at boot, before libvirtd: the devices are set once guests start).
 */
#define KT_IOSCHED_LIBVIRT_OPTIONAL 1u
int kt_iosched_plan_load(const struct kt_ctx *ctx, const struct kt_iosched_config *cfg,
			 unsigned flags, struct kt_iosched_plan *ret);

/* A kvm_iosched section applied: the lock, the journal, what was written. */
struct kt_iosched_tuning;

/*
 * Checks opts, asks libvirt for the domains, plans, and then, all checks passed: takes the
 * iosched lock, journals the originals of everything it will write under journal (keeping
 * those of an earlier run's journal) and writes. A write that fails puts back what was
 * written. Nothing is written when anything is invalid.
 */
int kt_iosched_tuning_apply(struct kt_ctx *ctx, const char *journal, const char *holder,
			    const struct kt_kvlist *opts, struct kt_iosched_tuning **ret);
/*
 * The devices this tuning set, how many values it wrote, and how many libvirt events made
 * it look again; any thread, without waiting for one that is busy with the tuning.
 */
unsigned kt_iosched_tuning_devices(const struct kt_iosched_tuning *t);
unsigned kt_iosched_tuning_writes(const struct kt_iosched_tuning *t);
unsigned kt_iosched_tuning_events(const struct kt_iosched_tuning *t);
/* The libvirt URI of its section, for the event loop it subscribes to. */
const char *kt_iosched_tuning_uri(const struct kt_iosched_tuning *t);
/*
 * Resolves the guests' disks again when the running domains changed since (libvirt's
 * run/libvirt/qemu changed) or when forced: devices that now back a guest are journalled
 * and set, devices that no longer do get their originals back and leave the journal.
 * 1 when it looked again, 0 when nothing changed, -errno (logged; the settings stay).
 */
int kt_iosched_tuning_refresh(struct kt_iosched_tuning *t, bool force);
/*
 * A kt_virt_events subscriber (data is the tuning), the same for tuned's plugin and `kvmtune
 * iosched watch`: on (re)connect and whenever a domain starts or stops, or has a device
 * plugged in or out (and is defined or undefined, with include_defined), the disks are
 * resolved again on the loop's connection, as kt_iosched_tuning_refresh does. Calls on one
 * tuning are serialised: the front-end unsubscribes before it unapplies.
 */
void kt_iosched_tuning_on_event(void *data, struct kt_virt *v, enum kt_virt_event ev,
				const char *uuid);
/*
 * Puts the originals back when restore (else the journal keeps them), releases the lock and
 * frees t, whatever fails. Accepts NULL.
 */
int kt_iosched_tuning_unapply(struct kt_iosched_tuning *t, bool restore);

typedef void (*kt_iosched_verify_fn)(void *data, const char *device, enum kt_iosched_knob knob,
				     const char *want, const char *current, bool ok);
/* Compares what the section wants now with the devices; returns how many differ. */
int kt_iosched_verify_options(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			      kt_iosched_verify_fn fn, void *data);
/* The same for an applied tuning, never half way through an event's writes. */
int kt_iosched_tuning_verify(struct kt_iosched_tuning *t, kt_iosched_verify_fn fn, void *data);

/*
 * Puts back what the journal holds, under the iosched lock, and removes it. A journal of an
 * earlier boot is only removed: the kernel set every queue anew since. -ENOENT when there is
 * no such journal.
 */
int kt_iosched_restore_journal(const struct kt_ctx *ctx, const char *journal, const char *holder);
