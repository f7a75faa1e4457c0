// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * From the guests' disks down to the block devices beneath them, through sysfs below the
 * context's root only, and the settings each device gets by its class.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "io.h"
#include "iosched.h"

struct builder {
	const struct kt_ctx *ctx;
	const struct kt_iosched_config *cfg;
	struct kt_iosched_plan *plan;
	/* 1 + the index of the domain being resolved. */
	size_t domain;
	bool active;
	const char *domain_name;
	size_t disk;
	/* The devices on the path from the disk to here: a device met twice is a cycle. */
	char path[KT_IOSCHED_DEPTH_MAX + 1][KT_IOSCHED_NAME_MAX];
	int error;
};

/* Arrays grow by doubling from 8; n is the count before the new element. */
static int grow(void **arr, size_t n, size_t size)
{
	void *p;

	if (n != 0 && (n < 8 || (n & (n - 1)) != 0))
		return 0;
	p = realloc(*arr, (n ? n * 2 : 8) * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

static void note(struct builder *b, const char *fmt, ...) KT_PRINTF(2, 3);
static void note(struct builder *b, const char *fmt, ...)
{
	struct kt_iosched_disk *d = &b->plan->disks[b->disk];
	size_t len = strlen(d->note);
	va_list ap;

	if (len && len < sizeof(d->note))
		len += (size_t)snprintf(d->note + len, sizeof(d->note) - len, "; ");
	if (len >= sizeof(d->note))
		return;
	va_start(ap, fmt);
	/* clang-analyzer 14 loses track of va_start through the format attribute. */
	vsnprintf(d->note + len, sizeof(d->note) - len, fmt, ap); // NOLINT(clang-analyzer-valist.Uninitialized)
	va_end(ap);
}

static enum kt_iosched_class classify(const struct kt_ctx *ctx, const char *name)
{
	char path[96], buf[16];

	snprintf(path, sizeof(path), "sys/class/block/%s/partition", name);
	if (kt_attr_exists(ctx, path))
		return KT_IOSCHED_PARTITION;
	snprintf(path, sizeof(path), "sys/class/block/%s/dm", name);
	if (kt_attr_exists(ctx, path))
		return KT_IOSCHED_DM;
	snprintf(path, sizeof(path), "sys/class/block/%s/md", name);
	if (kt_attr_exists(ctx, path))
		return KT_IOSCHED_MD;
	snprintf(path, sizeof(path), "sys/class/block/%s/loop", name);
	if (kt_attr_exists(ctx, path) || strncmp(name, "loop", 4) == 0)
		return KT_IOSCHED_LOOP;
	if (strncmp(name, "nvme", 4) == 0)
		return KT_IOSCHED_NVME;
	/* A disk that does not say is taken for rotational: the kernel's own default. */
	snprintf(path, sizeof(path), "sys/class/block/%s/queue/rotational", name);
	if (kt_read_attr(ctx, path, buf, sizeof(buf)) > 0 && strcmp(buf, "0") == 0)
		return KT_IOSCHED_SSD;
	return KT_IOSCHED_HDD;
}

static void read_device(const struct kt_ctx *ctx, struct kt_iosched_device *d)
{
	char path[96], buf[256];

	d->cls = classify(ctx, d->name);
	snprintf(path, sizeof(path), "sys/class/block/%s/queue/scheduler", d->name);
	if (kt_read_attr(ctx, path, buf, sizeof(buf)) > 0 &&
	    kt_iosched_list_parse(buf, &d->sched) == 0) {
		d->has_queue = true;
		if (d->sched.current >= 0)
			snprintf(d->now[KT_IOSCHED_SCHEDULER], KT_IOSCHED_NAME_MAX, "%s",
				 d->sched.name[d->sched.current]);
	} else if (d->cls != KT_IOSCHED_PARTITION && kt_attr_exists(ctx, path)) {
		kt_warn(ctx, "%s: cannot read /%s as a scheduler list ('%s'), ignoring", d->name,
			path, buf);
	}
	for (int k = KT_IOSCHED_SCHEDULER + 1; k < KT_IOSCHED_KNOB_MAX && d->has_queue; k++) {
		snprintf(path, sizeof(path), "sys/class/block/%s/queue/%s", d->name,
			 kt_iosched_knob_name(k));
		if (kt_read_attr(ctx, path, buf, sizeof(buf)) < 0)
			continue;
		snprintf(d->now[k], KT_IOSCHED_NAME_MAX, "%.31s", buf);
	}
}

static int device_index(struct builder *b, const char *name, size_t *ret)
{
	struct kt_iosched_plan *p = b->plan;
	struct kt_iosched_device *d;

	for (size_t i = 0; i < p->n_devices; i++)
		if (strcmp(p->devices[i].name, name) == 0) {
			*ret = i;
			return 0;
		}
	if (grow((void **)&p->devices, p->n_devices, sizeof(*p->devices)) < 0)
		return -ENOMEM;
	d = &p->devices[p->n_devices];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	read_device(b->ctx, d);
	*ret = p->n_devices++;
	return 0;
}

static int resolve_name(struct builder *b, const char *name, unsigned depth, const char *detail);

static int resolve_devnum(struct builder *b, dev_t dev, const char *path, unsigned depth)
{
	char link[64], target[512];
	const char *name;

	snprintf(link, sizeof(link), "sys/dev/block/%u:%u", major(dev), minor(dev));
	if (kt_read_link(b->ctx, link, target, sizeof(target)) < 0) {
		note(b, "%s is on device %u:%u, which is no block device (btrfs, tmpfs, NFS or "
			"another filesystem without one of its own)",
		     path, major(dev), minor(dev));
		return 0;
	}
	name = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
	return resolve_name(b, name, depth, "");
}

/* A path that is no device node in this root (a fixture): the name its symlinks lead to. */
static void node_name(const struct kt_ctx *ctx, const char *rel, char *buf, size_t size)
{
	char cur[512], target[512];

	snprintf(cur, sizeof(cur), "%s", rel);
	for (int i = 0; i < 8 && kt_read_link(ctx, cur, target, sizeof(target)) > 0; i++) {
		char *slash = strrchr(cur, '/');

		if (target[0] == '/')
			snprintf(cur, sizeof(cur), "%s", target + 1);
		else if (slash)
			snprintf(slash + 1, sizeof(cur) - (size_t)(slash + 1 - cur), "%s", target);
		else
			snprintf(cur, sizeof(cur), "%s", target);
	}
	{
		const char *base = strrchr(cur, '/') ? strrchr(cur, '/') + 1 : cur;
		size_t len = strlen(base) < size - 1 ? strlen(base) : size - 1;

		memcpy(buf, base, len);
		buf[len] = '\0';
	}
}

static int resolve_path(struct builder *b, const char *path, bool block, unsigned depth)
{
	struct stat st;
	int r;

	if (path[0] != '/' || !kt_path_is_safe(path + 1)) {
		note(b, "'%s' is not an absolute path without '..', skipped", path);
		return 0;
	}
	r = kt_stat(b->ctx, path + 1, &st);
	if (r < 0) {
		note(b, "cannot stat %s: %s", path, strerror(-r));
		return 0;
	}
	if (S_ISBLK(st.st_mode))
		return resolve_devnum(b, st.st_rdev, path, depth);
	if (block && strncmp(path, "/dev/", 5) == 0) {
		char name[KT_IOSCHED_NAME_MAX * 2];

		node_name(b->ctx, path + 1, name, sizeof(name));
		return resolve_name(b, name, depth, "");
	}
	if (block) {
		note(b, "%s is not a block device", path);
		return 0;
	}
	return resolve_devnum(b, st.st_dev, path, depth);
}

struct slaves {
	struct builder *b;
	unsigned depth;
	int r;
};

static int one_slave(void *data, const char *name)
{
	struct slaves *s = data;

	s->r = resolve_name(s->b, name, s->depth, "");
	return s->r < 0 ? 1 : 0;
}

/* A copy of the name: resolving below may grow plan->devices, which moves every device. */
static int resolve_below(struct builder *b, const char *device, enum kt_iosched_class cls,
			 unsigned depth)
{
	char name[KT_IOSCHED_NAME_MAX], path[96], buf[512];
	int r;

	snprintf(name, sizeof(name), "%s", device);
	switch (cls) {
	case KT_IOSCHED_PARTITION: {
		/* sys/class/block/sda1 -> ../../devices/.../block/sda/sda1: sda is its disk. */
		char *slash;

		snprintf(path, sizeof(path), "sys/class/block/%s", name);
		r = kt_read_link(b->ctx, path, buf, sizeof(buf));
		slash = r > 0 ? strrchr(buf, '/') : NULL;
		if (!slash) {
			note(b, "cannot find the disk of partition %s", name);
			return 0;
		}
		*slash = '\0';
		slash = strrchr(buf, '/');
		return resolve_name(b, slash ? slash + 1 : buf, depth, "");
	}
	case KT_IOSCHED_LOOP:
		snprintf(path, sizeof(path), "sys/class/block/%s/loop/backing_file", name);
		if (kt_read_attr(b->ctx, path, buf, sizeof(buf)) <= 0) {
			note(b, "%s has no backing file", name);
			return 0;
		}
		return resolve_path(b, buf, false, depth);
	case KT_IOSCHED_DM:
	case KT_IOSCHED_MD: {
		struct slaves s = { b, depth, 0 };

		snprintf(path, sizeof(path), "sys/class/block/%s/slaves", name);
		r = kt_dir_for_each(b->ctx, path, one_slave, &s);
		if (r < 0 && s.r == 0)
			note(b, "cannot list /%s: %s", path, strerror(-r));
		return s.r;
	}
	default:
		return 0;
	}
}

static int resolve_name(struct builder *b, const char *name, unsigned depth, const char *detail)
{
	struct kt_iosched_plan *p = b->plan;
	struct kt_iosched_node *n;
	struct kt_iosched_device *d;
	size_t idx;
	int r;

	if (!kt_iosched_dev_name_valid(name) || !kt_iosched_is_blockdev(b->ctx, name)) {
		note(b, "'%s' is not a block device in /sys/class/block, skipped", name);
		return 0;
	}
	if (depth > KT_IOSCHED_DEPTH_MAX) {
		note(b, "the stack below is deeper than %d devices at %s, cut", KT_IOSCHED_DEPTH_MAX,
		     name);
		return 0;
	}
	for (unsigned i = 0; i < depth; i++)
		if (strcmp(b->path[i], name) == 0) {
			note(b, "%s is beneath itself, cut", name);
			return 0;
		}
	r = device_index(b, name, &idx);
	if (r < 0)
		return r;
	if (grow((void **)&p->nodes, p->n_nodes, sizeof(*p->nodes)) < 0)
		return -ENOMEM;
	n = &p->nodes[p->n_nodes++];
	n->depth = depth;
	n->device = idx;
	snprintf(n->detail, sizeof(n->detail), "%s", detail);
	p->disks[b->disk].n_nodes++;
	d = &p->devices[idx];
	if (d->last_domain != b->domain) {
		d->last_domain = b->domain;
		d->guests++;
	}
	snprintf(b->path[depth], sizeof(b->path[0]), "%s", name);
	if (d->cls == KT_IOSCHED_LOOP) {
		char path[96], buf[256];

		snprintf(path, sizeof(path), "sys/class/block/%s/loop/backing_file", name);
		if (kt_read_attr(b->ctx, path, buf, sizeof(buf)) > 0)
			snprintf(n->detail, sizeof(n->detail), "backing %.150s", buf);
	}
	return resolve_below(b, d->name, d->cls, depth + 1);
}

static int one_source(void *data, const struct kt_iosched_source *src)
{
	struct builder *b = data;
	struct kt_iosched_plan *p = b->plan;
	struct kt_iosched_disk *d;

	if (grow((void **)&p->disks, p->n_disks, sizeof(*p->disks)) < 0)
		return -ENOMEM;
	b->disk = p->n_disks++;
	d = &p->disks[b->disk];
	memset(d, 0, sizeof(*d));
	snprintf(d->domain, sizeof(d->domain), "%s", b->domain_name);
	d->active = b->active;
	snprintf(d->target, sizeof(d->target), "%s", src->target ? src->target : "");
	snprintf(d->source, sizeof(d->source), "%s", src->path);
	d->backing = src->backing;
	d->first_node = p->n_nodes;
	switch (src->type) {
	case KT_IOSCHED_SRC_FILE:
	case KT_IOSCHED_SRC_DIR:
		return resolve_path(b, src->path, false, 0);
	case KT_IOSCHED_SRC_BLOCK:
		return resolve_path(b, src->path, true, 0);
	default:
		note(b, "%s disk: no host block device to tune, skipped", src->path);
		return 0;
	}
}

static const struct kt_iosched_override *override_of(const struct kt_iosched_config *cfg,
						     const char *name)
{
	for (unsigned i = 0; i < cfg->n_overrides; i++)
		if (strcmp(cfg->overrides[i].device, name) == 0)
			return &cfg->overrides[i];
	return NULL;
}

static int refuse(const struct kt_ctx *ctx, const char *option, const char *value,
		  const struct kt_iosched_device *d)
{
	char offers[128];

	kt_iosched_list_format(&d->sched, offers, sizeof(offers));
	kt_err(ctx, "%s=%s is invalid for %s (%s): it offers %s", option, value, d->name,
	       kt_iosched_class_name(d->cls), offers);
	return -EINVAL;
}

static int decide(const struct kt_ctx *ctx, const struct kt_iosched_config *cfg,
		  struct kt_iosched_device *d)
{
	const struct kt_iosched_override *o = override_of(cfg, d->name);
	const char *option = NULL, *want = NULL;
	char value[KT_IOSCHED_NAME_MAX * 2];

	if (o) {
		snprintf(value, sizeof(value), "%s:%s", o->device, o->scheduler);
		if (strcmp(o->scheduler, "keep") == 0) {
			snprintf(d->why, sizeof(d->why), "overrides: keep");
			return 0;
		}
		if (!d->has_queue) {
			kt_err(ctx, "overrides=%s is invalid: %s is a %s without a scheduler of its "
				    "own; name the disk beneath it",
			       value, d->name, kt_iosched_class_name(d->cls));
			return -EINVAL;
		}
		if (!kt_iosched_list_has(&d->sched, o->scheduler))
			return refuse(ctx, "overrides", value, d);
		snprintf(d->want, sizeof(d->want), "%s", o->scheduler);
		snprintf(d->why, sizeof(d->why), "overrides");
		return 0;
	}
	switch (d->cls) {
	case KT_IOSCHED_PARTITION:
		snprintf(d->why, sizeof(d->why), "its disk's queue is the one scheduled");
		return 0;
	case KT_IOSCHED_DM:
	case KT_IOSCHED_MD:
		snprintf(d->why, sizeof(d->why), "stacked: the devices beneath it are scheduled");
		return 0;
	case KT_IOSCHED_NVME:
		option = "nvme_scheduler";
		want = cfg->nvme;
		break;
	case KT_IOSCHED_SSD:
		option = "ssd_scheduler";
		want = cfg->ssd;
		break;
	case KT_IOSCHED_LOOP:
		option = "loop_scheduler";
		want = cfg->loop;
		break;
	case KT_IOSCHED_HDD:
	default:
		option = "hdd_scheduler";
		want = cfg->hdd;
		break;
	}
	if (!d->has_queue) {
		snprintf(d->why, sizeof(d->why), "no scheduler to set");
		return 0;
	}
	if (strcmp(want, "keep") == 0) {
		snprintf(d->why, sizeof(d->why), "%s=keep", option);
		return 0;
	}
	if (strcmp(want, "auto") == 0) {
		bool fair = d->guests >= cfg->bfq_guests && kt_iosched_list_has(&d->sched, "bfq");

		want = fair ? "bfq" : "mq-deadline";
		if (!kt_iosched_list_has(&d->sched, want)) {
			snprintf(d->why, sizeof(d->why), "offers no mq-deadline: left alone");
			kt_warn(ctx, "%s (hdd) offers no mq-deadline, ignoring", d->name);
			return 0;
		}
		snprintf(d->why, sizeof(d->why), "%s, %u guest%s", fair ? "hdd shared fairly" : "hdd",
			 d->guests, d->guests == 1 ? "" : "s");
	} else {
		if (!kt_iosched_list_has(&d->sched, want))
			return refuse(ctx, option, want, d);
		snprintf(d->why, sizeof(d->why), "%s", kt_iosched_class_name(d->cls));
	}
	snprintf(d->want, sizeof(d->want), "%s", want);
	return 0;
}

static int add_overridden(struct builder *b)
{
	for (unsigned i = 0; i < b->cfg->n_overrides; i++) {
		const char *name = b->cfg->overrides[i].device;
		size_t idx;
		int r;

		if (!kt_iosched_is_blockdev(b->ctx, name)) {
			kt_err(b->ctx, "overrides=%s:%s is invalid: %s is not a block device (none "
				       "in /sys/class/block)",
			       name, b->cfg->overrides[i].scheduler, name);
			b->error = -EINVAL;
			continue;
		}
		/* An explicit override tunes a device even when it backs no guest. */
		r = device_index(b, name, &idx);
		if (r < 0)
			return r;
	}
	return 0;
}

int kt_iosched_plan_build(const struct kt_ctx *ctx, const struct kt_iosched_config *cfg,
			  const struct kt_iosched_domain *domains, size_t n_domains,
			  struct kt_iosched_plan *ret)
{
	struct builder *b;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->ctx = ctx;
	b->cfg = cfg;
	b->plan = ret;
	for (size_t i = 0; i < n_domains && r >= 0; i++) {
		b->domain = i + 1;
		b->active = domains[i].active;
		b->domain_name = domains[i].name ? domains[i].name : "";
		r = kt_iosched_domain_sources(domains[i].xml, strlen(domains[i].xml),
					      NULL, one_source, b);
		if (r == -EBADMSG) {
			kt_warn(ctx, "domain %s: its XML is not a domain's, ignoring",
				b->domain_name);
			r = 0;
		}
	}
	for (size_t i = 0; i < ret->n_disks && r >= 0; i++)
		if (ret->disks[i].note[0])
			kt_dbg(ctx, "domain %s disk %s (%s): %s", ret->disks[i].domain,
			       ret->disks[i].target, ret->disks[i].source, ret->disks[i].note);
	if (r >= 0)
		r = add_overridden(b);
	for (size_t i = 0; i < ret->n_devices && r >= 0; i++) {
		struct kt_iosched_device *d = &ret->devices[i];
		int e = decide(ctx, cfg, d);

		if (e < 0) {
			b->error = e;
			continue;
		}
		for (int k = KT_IOSCHED_SCHEDULER + 1; k < KT_IOSCHED_KNOB_MAX && d->want[0]; k++) {
			if (!cfg->knob[k][0])
				continue;
			if (!d->now[k][0]) {
				kt_warn(ctx, "%s has no queue/%s on this kernel, ignoring", d->name,
					kt_iosched_knob_name(k));
				continue;
			}
			snprintf(d->wanted[k], sizeof(d->wanted[k]), "%s", cfg->knob[k]);
		}
		if (d->want[0])
			snprintf(d->wanted[KT_IOSCHED_SCHEDULER], sizeof(d->wanted[0]), "%s",
				 d->want);
	}
	if (r >= 0 && b->error < 0)
		r = b->error;
	free(b);
	return r;
}

void kt_iosched_plan_clear(struct kt_iosched_plan *plan)
{
	free(plan->disks);
	free(plan->nodes);
	free(plan->devices);
	memset(plan, 0, sizeof(*plan));
}
