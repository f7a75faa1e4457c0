// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A kvm_iosched section applied: lock, journal, writes in the kernel's order, rollback, and
 * the guests' disks resolved again as libvirt's domain events come.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "io.h"
#include "iosched.h"
#include "journal.h"
#include "lock.h"
#include "virt-events.h"
#include "virt.h"

/* Journal entries are "<device>.<knob>" and this: queues are set anew at every boot. */
#define BOOT_KEY "boot_id"

struct kt_iosched_tuning {
	struct kt_ctx *ctx;
	char journal[80];
	int lock_fd;
	/*
	 * Held by every call that reads or writes what follows: refreshes come from the event
	 * loop's thread while tuned verifies or unapplies from its own.
	 */
	pthread_mutex_t lock;
	/* The originals of everything written, as the journal holds them. */
	struct kt_kvlist orig;
	/* Counters, read without the lock (atomics): stats are asked with the GIL held. */
	unsigned devices;
	unsigned writes;
	unsigned events;
	/* For refreshes: the section's options, and when libvirt's run directory last changed. */
	struct kt_iosched_config cfg;
	long long guests_changed;
};

/* libvirt's QEMU driver keeps a file per running domain here: it changes as they come and go. */
#define LIBVIRT_QEMU_RUN_DIR "run/libvirt/qemu"

static long long guests_changed(const struct kt_ctx *ctx)
{
	struct stat st;

	if (kt_stat(ctx, LIBVIRT_QEMU_RUN_DIR, &st) < 0)
		return 0;
	return (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
}

struct domains {
	struct kt_iosched_domain *items;
	size_t n;
	bool inactive;
};

static int add_domain(void *data, const char *name, const char *xml, bool active)
{
	struct domains *ds = data;
	struct kt_iosched_domain *items;
	char *n, *x;

	/* Defined domains that do not run are taken only when asked (include_defined). */
	if (!name || (!active && !ds->inactive))
		return 0;
	items = realloc(ds->items, (ds->n + 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	ds->items = items;
	n = strdup(name);
	x = strdup(xml);
	if (!n || !x) {
		free(n);
		free(x);
		return -ENOMEM;
	}
	items[ds->n].name = n;
	items[ds->n].active = active != 0;
	items[ds->n].xml = x;
	ds->n++;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct kt_iosched_domain *)a)->name,
		      ((const struct kt_iosched_domain *)b)->name);
}

/*
 * The plan for the domains v lists; v NULL: a connection of its own to cfg's URI, which
 * with KT_IOSCHED_LIBVIRT_OPTIONAL may be unreachable (a plan without guests, a warning).
 */
static int plan_load_on(const struct kt_ctx *ctx, const struct kt_iosched_config *cfg,
			struct kt_virt *v, unsigned flags, struct kt_iosched_plan *ret)
{
	struct domains ds = { NULL, 0, cfg->include_defined };
	struct kt_virt *own = NULL;
	char *error = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!v) {
		r = kt_virt_open(cfg->uri, &own, &error);
		if (r < 0 && (flags & KT_IOSCHED_LIBVIRT_OPTIONAL)) {
			kt_warn(ctx, "cannot reach libvirt at %s: %s; no guest disks to tune until "
				     "guests start, ignoring", cfg->uri, error ? error : strerror(-r));
			free(error);
			return kt_iosched_plan_build(ctx, cfg, NULL, 0, ret);
		}
		if (r < 0) {
			kt_err(ctx, "cannot reach libvirt at %s: %s", cfg->uri,
			       error ? error : strerror(-r));
			free(error);
			return r;
		}
		v = own;
	}
	r = kt_virt_each_domain(v, KT_VIRT_ALL, add_domain, &ds);
	kt_virt_close(own);
	if (r < 0)
		kt_err(ctx, "cannot list the domains of %s: %s", cfg->uri, strerror(-r));
	if (r >= 0 && ds.n > 1)
		/* libvirt lists in no particular order: people compare runs of show. */
		qsort(ds.items, ds.n, sizeof(ds.items[0]), by_name);
	if (r >= 0)
		r = kt_iosched_plan_build(ctx, cfg, ds.items, ds.n, ret);
	for (size_t i = 0; i < ds.n; i++) {
		free((char *)ds.items[i].name);
		free((char *)ds.items[i].xml);
	}
	free(ds.items);
	return r;
}

int kt_iosched_plan_load(const struct kt_ctx *ctx, const struct kt_iosched_config *cfg,
			 unsigned flags, struct kt_iosched_plan *ret)
{
	return plan_load_on(ctx, cfg, NULL, flags, ret);
}

static void boot_id(const struct kt_ctx *ctx, char *buf, size_t size)
{
	if (kt_read_attr(ctx, "proc/sys/kernel/random/boot_id", buf, size) <= 0)
		snprintf(buf, size, "unknown");
}

static void knob_path(const char *device, const char *knob, char *buf, size_t size)
{
	snprintf(buf, size, "sys/class/block/%s/queue/%s", device, knob);
}

/* "sda.nr_requests" -> "sda", "nr_requests"; false for what is no entry of a device. */
static bool split_key(const char *key, char *dev, char *knob)
{
	const char *dot = strrchr(key, '.');
	size_t len = dot ? (size_t)(dot - key) : 0;

	if (!dot || len == 0 || len >= KT_IOSCHED_NAME_MAX || strlen(dot + 1) >= 32)
		return false;
	memcpy(dev, key, len);
	dev[len] = '\0';
	snprintf(knob, 32, "%s", dot + 1);
	for (int k = 0; k < KT_IOSCHED_KNOB_MAX; k++)
		if (strcmp(knob, kt_iosched_knob_name(k)) == 0)
			return kt_iosched_dev_name_valid(dev);
	return false;
}

/*
 * Puts back every entry: schedulers first, since switching one resets nr_requests. A
 * device that is gone (a loop device detached) has nothing left to restore.
 */
static int restore_values(const struct kt_ctx *ctx, const struct kt_kvlist *kv)
{
	int r = 0;

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < kv->n; i++) {
			char dev[KT_IOSCHED_NAME_MAX], knob[32], path[128], now[256];
			const char *want = kv->items[i].value;
			bool sched;
			int e;

			if (!split_key(kv->items[i].key, dev, knob))
				continue;
			sched = strcmp(knob, "scheduler") == 0;
			if (sched != (pass == 0))
				continue;
			if (!kt_iosched_is_blockdev(ctx, dev)) {
				if (pass == 0)
					kt_warn(ctx, "%s is gone: nothing to put back, ignoring", dev);
				continue;
			}
			knob_path(dev, knob, path, sizeof(path));
			if (kt_read_attr(ctx, path, now, sizeof(now)) >= 0) {
				struct kt_iosched_list l;

				if (sched && kt_iosched_list_parse(now, &l) == 0 && l.current >= 0 &&
				    strcmp(l.name[l.current], want) == 0)
					continue;
				if (!sched && strcmp(now, want) == 0)
					continue;
			}
			e = kt_write_attr(ctx, path, want);
			if (e < 0) {
				kt_err(ctx, "cannot put %s back to %s on %s: %s", knob, want, dev,
				       strerror(-e));
				if (r == 0)
					r = e;
			}
		}
	return r;
}

static bool journal_is_stale(const struct kt_ctx *ctx, const char *name,
			     const struct kt_kvlist *kv)
{
	const char *then = kt_kvlist_get(kv, BOOT_KEY);
	char now[64];

	boot_id(ctx, now, sizeof(now));
	if (!then || strcmp(then, now) == 0)
		return false;
	kt_info(ctx, "journal %s is of an earlier boot: the kernel has set every queue anew since, "
		     "nothing to put back",
		name);
	return true;
}

/* The originals of an earlier run, unless its journal is of another boot, corrupt or absent. */
static int load_journal(const struct kt_ctx *ctx, const char *name, struct kt_kvlist *ret)
{
	int r = kt_journal_read(ctx, name, ret);

	if (r == -ENOENT || r == -EBADMSG)
		return 0;
	if (r < 0) {
		kt_err(ctx, "cannot read the journal /%s/%s.journal: %s", KT_STATE_DIR, name,
		       strerror(-r));
		return r;
	}
	if (journal_is_stale(ctx, name, ret)) {
		kt_kvlist_clear(ret);
		return 0;
	}
	kt_info(ctx, "journal %s from an earlier run holds the original values: keeping them", name);
	return 1;
}

static int journal_add(struct kt_kvlist *kv, const char *dev, enum kt_iosched_knob k,
		       const char *value)
{
	char key[80];

	snprintf(key, sizeof(key), "%s.%s", dev, kt_iosched_knob_name(k));
	if (kt_kvlist_get(kv, key))
		return 0;
	return kt_kvlist_set(kv, key, value);
}

static bool differs(const struct kt_iosched_device *d, int k)
{
	return d->wanted[k][0] && strcmp(d->wanted[k], d->now[k]) != 0;
}

static int write_plan(struct kt_iosched_tuning *t, const struct kt_iosched_plan *plan)
{
	for (size_t i = 0; i < plan->n_devices; i++) {
		const struct kt_iosched_device *d = &plan->devices[i];
		bool changed = false;

		for (int k = 0; k < KT_IOSCHED_KNOB_MAX; k++) {
			char path[128];
			int r;

			if (!differs(d, k))
				continue;
			knob_path(d->name, kt_iosched_knob_name(k), path, sizeof(path));
			r = kt_write_attr(t->ctx, path, d->wanted[k]);
			if (r < 0) {
				kt_err(t->ctx, "cannot set %s of %s to %s: %s", kt_iosched_knob_name(k),
				       d->name, d->wanted[k], strerror(-r));
				return r;
			}
			kt_info(t->ctx, "%s: %s %s -> %s (%s)", d->name, kt_iosched_knob_name(k),
				d->now[k][0] ? d->now[k] : "?", d->wanted[k], d->why);
			__atomic_add_fetch(&t->writes, 1, __ATOMIC_RELAXED);
			changed = true;
		}
		if (changed)
			__atomic_add_fetch(&t->devices, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

static bool journal_name_ok(const struct kt_ctx *ctx, const char *journal)
{
	if (kt_name_is_safe(journal))
		return true;
	kt_err(ctx, "journal name '%s' is invalid: expected 1..64 of [A-Za-z0-9_.-], not starting "
		    "with '.'",
	       journal ? journal : "");
	return false;
}

int kt_iosched_tuning_apply(struct kt_ctx *ctx, const char *journal, const char *holder,
			    const struct kt_kvlist *opts, struct kt_iosched_tuning **ret)
{
	struct kt_iosched_plan plan;
	struct kt_iosched_config cfg;
	struct kt_iosched_tuning *t;
	char boot[64];
	int have = 0, r;

	if (!journal_name_ok(ctx, journal))
		return -EINVAL;
	r = kt_iosched_options_parse(ctx, opts, &cfg);
	if (r < 0)
		return r;
	/* Everything is checked against every device before the first write. */
	r = kt_iosched_plan_load(ctx, &cfg, KT_IOSCHED_LIBVIRT_OPTIONAL, &plan);
	if (r < 0) {
		kt_iosched_plan_clear(&plan);
		return r;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		kt_iosched_plan_clear(&plan);
		return -ENOMEM;
	}
	t->ctx = kt_ctx_ref(ctx);
	t->lock_fd = -1;
	pthread_mutex_init(&t->lock, NULL);
	t->cfg = cfg;
	t->guests_changed = guests_changed(ctx);
	snprintf(t->journal, sizeof(t->journal), "%s", journal);
	r = kt_lock_take(ctx, KT_IOSCHED_LOCK, holder ? holder : "kvmtune", journal, &t->lock_fd);
	if (r >= 0)
		r = have = load_journal(ctx, journal, &t->orig);
	for (size_t i = 0; i < plan.n_devices && r >= 0; i++) {
		const struct kt_iosched_device *d = &plan.devices[i];

		for (int k = 0; k < KT_IOSCHED_KNOB_MAX && r >= 0; k++)
			if (differs(d, k))
				r = journal_add(&t->orig, d->name, k, d->now[k]);
		/* A new scheduler resets nr_requests: the original is put back after it. */
		if (r >= 0 && differs(d, KT_IOSCHED_SCHEDULER) && d->now[KT_IOSCHED_NR_REQUESTS][0])
			r = journal_add(&t->orig, d->name, KT_IOSCHED_NR_REQUESTS,
					d->now[KT_IOSCHED_NR_REQUESTS]);
	}
	boot_id(ctx, boot, sizeof(boot));
	if (r >= 0)
		r = kt_kvlist_set(&t->orig, BOOT_KEY, boot);
	if (r >= 0) {
		r = kt_journal_write(ctx, journal, &t->orig);
		if (r < 0)
			kt_err(ctx, "cannot write the journal /%s/%s.journal: %s; nothing was changed",
			       KT_STATE_DIR, journal, strerror(-r));
	}
	if (r >= 0) {
		r = write_plan(t, &plan);
		if (r < 0) {
			kt_err(ctx, "putting back what was written");
			if (restore_values(ctx, &t->orig) == 0 && !have)
				kt_journal_remove(ctx, journal);
		}
	}
	if (r >= 0 && t->devices == 0)
		kt_info(ctx, "%zu device%s beneath %zu disk%s: nothing to change", plan.n_devices,
			plan.n_devices == 1 ? "" : "s", plan.n_disks, plan.n_disks == 1 ? "" : "s");
	kt_iosched_plan_clear(&plan);
	if (r < 0) {
		t->lock_fd = kt_lock_release(t->lock_fd);
		kt_kvlist_clear(&t->orig);
		pthread_mutex_destroy(&t->lock);
		kt_ctx_unref(t->ctx);
		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

unsigned kt_iosched_tuning_devices(const struct kt_iosched_tuning *t)
{
	return __atomic_load_n(&t->devices, __ATOMIC_RELAXED);
}

unsigned kt_iosched_tuning_writes(const struct kt_iosched_tuning *t)
{
	return __atomic_load_n(&t->writes, __ATOMIC_RELAXED);
}

unsigned kt_iosched_tuning_events(const struct kt_iosched_tuning *t)
{
	return __atomic_load_n(&t->events, __ATOMIC_RELAXED);
}

const char *kt_iosched_tuning_uri(const struct kt_iosched_tuning *t)
{
	return t->cfg.uri;
}

/* Whether the device of a journal entry is still one the plan sets. */
static bool still_wanted(const struct kt_iosched_plan *plan, const char *dev, const char *knob)
{
	for (size_t i = 0; i < plan->n_devices; i++) {
		const struct kt_iosched_device *d = &plan->devices[i];

		if (strcmp(d->name, dev) != 0)
			continue;
		/* nr_requests is journalled with the scheduler, which resets it. */
		if (d->want[0])
			return true;
		for (int k = 0; k < KT_IOSCHED_KNOB_MAX; k++)
			if (d->wanted[k][0] && strcmp(kt_iosched_knob_name(k), knob) == 0)
				return true;
		return false;
	}
	return false;
}

/* kt_iosched_tuning_refresh with t->lock held, on v (NULL: a connection of its own). */
static int refresh_locked(struct kt_iosched_tuning *t, struct kt_virt *v, bool force)
{
	struct kt_kvlist keep = KT_KVLIST_INIT, back = KT_KVLIST_INIT;
	long long changed = guests_changed(t->ctx);
	struct kt_iosched_plan plan;
	int r;

	if (!force && changed == t->guests_changed)
		return 0;
	t->guests_changed = changed;
	r = plan_load_on(t->ctx, &t->cfg, v, 0, &plan);
	if (r < 0) {
		kt_iosched_plan_clear(&plan);
		kt_warn(t->ctx, "cannot resolve the guests' disks again: %s; keeping the settings, "
				"ignoring",
			strerror(-r));
		return r;
	}
	/* What backs no guest now gets its original back and leaves the journal. */
	for (size_t i = 0; i < t->orig.n && r >= 0; i++) {
		const struct kt_kv *kv = &t->orig.items[i];
		char dev[KT_IOSCHED_NAME_MAX], knob[32];

		if (split_key(kv->key, dev, knob) && !still_wanted(&plan, dev, knob))
			r = kt_kvlist_set(&back, kv->key, kv->value);
		else
			r = kt_kvlist_set(&keep, kv->key, kv->value);
	}
	/* New devices and values: journalled before they are written. */
	for (size_t i = 0; i < plan.n_devices && r >= 0; i++) {
		const struct kt_iosched_device *d = &plan.devices[i];

		for (int k = 0; k < KT_IOSCHED_KNOB_MAX && r >= 0; k++)
			if (differs(d, k))
				r = journal_add(&keep, d->name, k, d->now[k]);
		if (r >= 0 && differs(d, KT_IOSCHED_SCHEDULER) && d->now[KT_IOSCHED_NR_REQUESTS][0])
			r = journal_add(&keep, d->name, KT_IOSCHED_NR_REQUESTS,
					d->now[KT_IOSCHED_NR_REQUESTS]);
	}
	if (r >= 0)
		r = kt_journal_write(t->ctx, t->journal, &keep);
	if (r >= 0) {
		kt_kvlist_clear(&t->orig);
		t->orig = keep;
		keep = (struct kt_kvlist)KT_KVLIST_INIT;
		if (back.n)
			kt_info(t->ctx, "guests changed: putting back what backs no guest now");
		r = restore_values(t->ctx, &back);
		if (r >= 0)
			r = write_plan(t, &plan);
	} else {
		kt_err(t->ctx, "cannot write the journal /%s/%s.journal: %s; the guests' new disks "
			       "are left as they are",
		       KT_STATE_DIR, t->journal, strerror(-r));
	}
	kt_kvlist_clear(&keep);
	kt_kvlist_clear(&back);
	kt_iosched_plan_clear(&plan);
	return r < 0 ? r : 1;
}

int kt_iosched_tuning_refresh(struct kt_iosched_tuning *t, bool force)
{
	int r;

	pthread_mutex_lock(&t->lock);
	r = refresh_locked(t, NULL, force);
	pthread_mutex_unlock(&t->lock);
	return r;
}

void kt_iosched_tuning_on_event(void *data, struct kt_virt *v, enum kt_virt_event ev,
				const char *uuid)
{
	struct kt_iosched_tuning *t = data;

	switch (ev) {
	case KT_VIRT_DEFINED:
	case KT_VIRT_UNDEFINED:
		/* A running domain's disks are those it started with: its configuration
		 * matters only where defined domains count. */
		if (!t->cfg.include_defined)
			return;
		break;
	case KT_VIRT_CONNECTED:
	case KT_VIRT_STARTED:
	case KT_VIRT_STOPPED:
	case KT_VIRT_DEVICE_ADDED:
	case KT_VIRT_DEVICE_REMOVED:
		break;
	case KT_VIRT_DISCONNECTED:
	default:
		/* The reconnect that follows says CONNECTED: everything is checked then. */
		return;
	}
	kt_dbg(t->ctx, "libvirt event %s%s%s: resolving the guests' disks again",
	       kt_virt_event_name(ev), uuid ? " of " : "", uuid ? uuid : "");
	pthread_mutex_lock(&t->lock);
	/* Forced: the event says what changed, whatever libvirt's run directory says. */
	refresh_locked(t, v, true);
	pthread_mutex_unlock(&t->lock);
	__atomic_add_fetch(&t->events, 1, __ATOMIC_RELAXED);
}

/* The journal's entries, or what this tuning remembers when the journal is gone. */
static int untune(const struct kt_ctx *ctx, const char *journal, const struct kt_kvlist *orig)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	int r = kt_journal_read(ctx, journal, &kv);

	if (r == -ENOENT || r == -EBADMSG) {
		kt_kvlist_clear(&kv);
		r = orig ? restore_values(ctx, orig) : r;
	} else if (r >= 0) {
		r = journal_is_stale(ctx, journal, &kv) ? 0 : restore_values(ctx, &kv);
		kt_kvlist_clear(&kv);
	}
	if (r < 0)
		return r;
	r = kt_journal_remove(ctx, journal);
	return r == -ENOENT ? 0 : r;
}

int kt_iosched_tuning_unapply(struct kt_iosched_tuning *t, bool restore)
{
	int r = 0;

	if (!t)
		return 0;
	pthread_mutex_lock(&t->lock);
	if (restore) {
		r = untune(t->ctx, t->journal, &t->orig);
		if (r < 0)
			kt_err(t->ctx, "cannot restore every block queue: %s; the journal /%s/%s.journal "
				       "keeps the originals",
			       strerror(-r), KT_STATE_DIR, t->journal);
	}
	t->lock_fd = kt_lock_release(t->lock_fd);
	kt_kvlist_clear(&t->orig);
	pthread_mutex_unlock(&t->lock);
	pthread_mutex_destroy(&t->lock);
	kt_ctx_unref(t->ctx);
	free(t);
	return r;
}

static int verify_cfg(const struct kt_ctx *ctx, const struct kt_iosched_config *cfg,
		      kt_iosched_verify_fn fn, void *data)
{
	struct kt_iosched_plan plan;
	int r, bad = 0;

	r = kt_iosched_plan_load(ctx, cfg, KT_IOSCHED_LIBVIRT_OPTIONAL, &plan);
	for (size_t i = 0; i < plan.n_devices && r >= 0; i++) {
		const struct kt_iosched_device *d = &plan.devices[i];

		for (int k = 0; k < KT_IOSCHED_KNOB_MAX; k++) {
			if (!d->wanted[k][0])
				continue;
			bad += differs(d, k);
			if (fn)
				fn(data, d->name, k, d->wanted[k], d->now[k][0] ? d->now[k] : NULL,
				   !differs(d, k));
		}
	}
	kt_iosched_plan_clear(&plan);
	return r < 0 ? r : bad;
}

int kt_iosched_verify_options(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			      kt_iosched_verify_fn fn, void *data)
{
	struct kt_iosched_config cfg;
	int r;

	r = kt_iosched_options_parse(ctx, opts, &cfg);
	return r < 0 ? r : verify_cfg(ctx, &cfg, fn, data);
}

int kt_iosched_tuning_verify(struct kt_iosched_tuning *t, kt_iosched_verify_fn fn, void *data)
{
	int r;

	/* Not while an event's refresh is half way through a device's knobs. */
	pthread_mutex_lock(&t->lock);
	r = verify_cfg(t->ctx, &t->cfg, fn, data);
	pthread_mutex_unlock(&t->lock);
	return r;
}

int kt_iosched_restore_journal(const struct kt_ctx *ctx, const char *journal, const char *holder)
{
	struct kt_kvlist kv = KT_KVLIST_INIT;
	int fd = -1, r;

	if (!journal_name_ok(ctx, journal))
		return -EINVAL;
	/* Only under the lock: a tuning applied meanwhile would rewrite the journal. */
	r = kt_lock_take(ctx, KT_IOSCHED_LOCK, holder, journal, &fd);
	if (r < 0)
		return r;
	r = kt_journal_read(ctx, journal, &kv);
	kt_kvlist_clear(&kv);
	if (r == -ENOENT) {
		kt_err(ctx, "there is no journal '%s' in /%s", journal, KT_STATE_DIR);
		kt_lock_release(fd);
		return r;
	}
	if (r >= 0)
		r = untune(ctx, journal, NULL);
	if (r < 0)
		kt_err(ctx, "cannot restore the block queues from the journal %s: %s", journal,
		       strerror(-r));
	else
		kt_info(ctx, "block queues restored from the journal %s", journal);
	kt_lock_release(fd);
	return r;
}
