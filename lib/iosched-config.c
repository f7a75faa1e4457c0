// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvm_iosched's parsers: scheduler lists, device names, options and overrides. */
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "iosched.h"
#include "parse.h"

static const char *const class_names[KT_IOSCHED_CLASS_MAX] = {
	[KT_IOSCHED_NVME] = "nvme",	    [KT_IOSCHED_SSD] = "ssd",
	[KT_IOSCHED_HDD] = "hdd",	    [KT_IOSCHED_LOOP] = "loop",
	[KT_IOSCHED_PARTITION] = "partition", [KT_IOSCHED_DM] = "dm",
	[KT_IOSCHED_MD] = "md",
};

const char *kt_iosched_class_name(enum kt_iosched_class cls)
{
	return cls >= 0 && cls < KT_IOSCHED_CLASS_MAX ? class_names[cls] : "unknown";
}

static const char *const knob_names[KT_IOSCHED_KNOB_MAX] = {
	[KT_IOSCHED_SCHEDULER] = "scheduler",
	[KT_IOSCHED_NR_REQUESTS] = "nr_requests",
	[KT_IOSCHED_READ_AHEAD_KB] = "read_ahead_kb",
	[KT_IOSCHED_RQ_AFFINITY] = "rq_affinity",
};

const char *kt_iosched_knob_name(enum kt_iosched_knob knob)
{
	return knob >= 0 && knob < KT_IOSCHED_KNOB_MAX ? knob_names[knob] : "unknown";
}

bool kt_iosched_sched_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len >= KT_IOSCHED_NAME_MAX)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
		      *p == '_'))
			return false;
	return true;
}

bool kt_iosched_dev_name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len >= KT_IOSCHED_NAME_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	/* Printable ASCII without '/' or blanks: the kernel's own names ("cciss!c0d0" too). */
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '/')
			return false;
	return true;
}

bool kt_iosched_is_blockdev(const struct kt_ctx *ctx, const char *name)
{
	char path[64];

	if (!kt_iosched_dev_name_valid(name))
		return false;
	snprintf(path, sizeof(path), "sys/class/block/%s", name);
	return kt_attr_exists(ctx, path);
}

int kt_iosched_list_parse(const char *text, struct kt_iosched_list *ret)
{
	struct kt_iosched_list l;
	const char *p = text;

	if (!text)
		return -EINVAL;
	memset(&l, 0, sizeof(l));
	l.current = -1;
	for (;;) {
		char word[KT_IOSCHED_NAME_MAX];
		bool bracket = false;
		size_t len;

		p += strspn(p, " \t\n");
		if (!*p)
			break;
		len = strcspn(p, " \t\n");
		if (*p == '[') {
			if (len < 3 || p[len - 1] != ']' || l.current >= 0)
				return -EINVAL;
			bracket = true;
		}
		if (len - (bracket ? 2 : 0) >= sizeof(word) || l.n >= KT_IOSCHED_SCHED_MAX)
			return -EINVAL;
		memcpy(word, p + bracket, len - (bracket ? 2 : 0));
		word[len - (bracket ? 2 : 0)] = '\0';
		if (!kt_iosched_sched_name_valid(word) || kt_iosched_list_has(&l, word))
			return -EINVAL;
		if (bracket)
			l.current = (int)l.n;
		memcpy(l.name[l.n++], word, sizeof(word));
		p += len;
	}
	if (l.n == 0)
		return -EINVAL;
	/* Queues without a scheduler of their own (dm, md) show a bare "none". */
	if (l.n == 1 && l.current < 0)
		l.current = 0;
	*ret = l;
	return 0;
}

bool kt_iosched_list_has(const struct kt_iosched_list *l, const char *name)
{
	for (unsigned i = 0; i < l->n; i++)
		if (strcmp(l->name[i], name) == 0)
			return true;
	return false;
}

void kt_iosched_list_format(const struct kt_iosched_list *l, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < l->n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", l->name[i]);
}

const char *const kt_iosched_options[] = {
	"nvme_scheduler", "ssd_scheduler", "hdd_scheduler", "loop_scheduler", "bfq_guests",
	"nr_requests",	  "read_ahead_kb", "rq_affinity",   "overrides",      "include_defined",
	"libvirt_uri",	  NULL,
};

bool kt_iosched_option_known(const char *name)
{
	for (size_t i = 0; kt_iosched_options[i]; i++)
		if (strcmp(kt_iosched_options[i], name) == 0)
			return true;
	return false;
}

void kt_iosched_config_default(struct kt_iosched_config *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->nvme, sizeof(ret->nvme), "none");
	snprintf(ret->ssd, sizeof(ret->ssd), "none");
	snprintf(ret->hdd, sizeof(ret->hdd), "auto");
	snprintf(ret->loop, sizeof(ret->loop), "none");
	ret->bfq_guests = KT_IOSCHED_BFQ_GUESTS;
	snprintf(ret->uri, sizeof(ret->uri), "qemu:///system");
}

static int parse_override(const char *item, size_t len, struct kt_iosched_override *ret)
{
	struct kt_iosched_override o;
	const char *colon = memchr(item, ':', len), *end = item + len;
	size_t dlen;

	if (!colon)
		return -EINVAL;
	dlen = (size_t)(colon - item);
	/* /dev/sdb and sdb are the same device; nothing deeper than /dev is a name. */
	if (dlen > 5 && strncmp(item, "/dev/", 5) == 0) {
		item += 5;
		dlen -= 5;
	}
	if (dlen >= sizeof(o.device) || (size_t)(end - colon - 1) >= sizeof(o.scheduler))
		return -EINVAL;
	memcpy(o.device, item, dlen);
	o.device[dlen] = '\0';
	memcpy(o.scheduler, colon + 1, (size_t)(end - colon - 1));
	o.scheduler[end - colon - 1] = '\0';
	if (!kt_iosched_dev_name_valid(o.device) || !kt_iosched_sched_name_valid(o.scheduler))
		return -EINVAL;
	*ret = o;
	return 0;
}

int kt_iosched_overrides_parse(const char *text, struct kt_iosched_override *ret, unsigned max,
			       unsigned *ret_n)
{
	const char *p = text;
	unsigned n = 0;

	if (!text)
		return -EINVAL;
	for (;;) {
		struct kt_iosched_override o;
		size_t len;

		p += strspn(p, " \t,");
		if (!*p)
			break;
		len = strcspn(p, " \t,");
		if (n >= max || parse_override(p, len, &o) < 0)
			return n >= max ? -ERANGE : -EINVAL;
		for (unsigned i = 0; i < n; i++)
			if (strcmp(ret[i].device, o.device) == 0)
				return -EINVAL;
		ret[n++] = o;
		p += len;
	}
	*ret_n = n;
	return 0;
}

static int set_sched(const struct kt_ctx *ctx, char *dst, size_t size, const char *name,
		     const char *value, bool auto_ok)
{
	/* "auto" is HDDs' only: the other classes have one right answer. */
	if ((auto_ok || strcmp(value, "auto") != 0) && kt_iosched_sched_name_valid(value)) {
		snprintf(dst, size, "%s", value);
		return 0;
	}
	kt_err(ctx, "%s=%s is invalid: expected a scheduler name (none, mq-deadline, bfq, kyber)%s "
		    "or keep",
	       name, value, auto_ok ? ", auto" : "");
	return -EINVAL;
}

int kt_iosched_config_set(const struct kt_ctx *ctx, struct kt_iosched_config *cfg,
			  const char *name, const char *value)
{
	static const struct {
		const char *name;
		enum kt_iosched_knob knob;
		long long min, max;
		const char *what;
	} knobs[] = {
		/* BLKDEV_MIN_RQ is 4; the kernel caps at the tag depth (or 2048 with a scheduler). */
		{ "nr_requests", KT_IOSCHED_NR_REQUESTS, 4, 65536, "an integer 4..65536" },
		{ "read_ahead_kb", KT_IOSCHED_READ_AHEAD_KB, 0, 65536, "an integer 0..65536 (KiB)" },
		{ "rq_affinity", KT_IOSCHED_RQ_AFFINITY, 0, 2,
		  "0 (complete anywhere), 1 (on the submitting CPU's group) or 2 (on that CPU)" },
	};
	long long v;
	bool b;

	if (strcmp(name, "nvme_scheduler") == 0)
		return set_sched(ctx, cfg->nvme, sizeof(cfg->nvme), name, value, false);
	if (strcmp(name, "ssd_scheduler") == 0)
		return set_sched(ctx, cfg->ssd, sizeof(cfg->ssd), name, value, false);
	if (strcmp(name, "hdd_scheduler") == 0)
		return set_sched(ctx, cfg->hdd, sizeof(cfg->hdd), name, value, true);
	if (strcmp(name, "loop_scheduler") == 0)
		return set_sched(ctx, cfg->loop, sizeof(cfg->loop), name, value, false);
	for (size_t i = 0; i < KT_ELEMENTSOF(knobs); i++) {
		if (strcmp(name, knobs[i].name) != 0)
			continue;
		if (kt_parse_int(value, knobs[i].min, knobs[i].max, &v) < 0) {
			kt_err(ctx, "%s=%s is invalid: expected %s", name, value, knobs[i].what);
			return -EINVAL;
		}
		snprintf(cfg->knob[knobs[i].knob], sizeof(cfg->knob[0]), "%lld", v);
		return 0;
	}
	if (strcmp(name, "bfq_guests") == 0) {
		if (kt_parse_int(value, 1, 100000, &v) < 0) {
			kt_err(ctx, "bfq_guests=%s is invalid: expected an integer 1..100000", value);
			return -EINVAL;
		}
		cfg->bfq_guests = (unsigned)v;
		return 0;
	}
	if (strcmp(name, "overrides") == 0) {
		struct kt_iosched_override o[KT_IOSCHED_OVERRIDES_MAX];
		unsigned n;

		if (kt_iosched_overrides_parse(value, o, KT_IOSCHED_OVERRIDES_MAX, &n) < 0) {
			kt_err(ctx, "overrides=%s is invalid: expected DEVICE:SCHEDULER (or "
				    "DEVICE:keep) items, at most %d, one per device, separated by "
				    "commas or spaces",
			       value, KT_IOSCHED_OVERRIDES_MAX);
			return -EINVAL;
		}
		memcpy(cfg->overrides, o, sizeof(o[0]) * n);
		cfg->n_overrides = n;
		return 0;
	}
	if (strcmp(name, "include_defined") == 0) {
		if (kt_parse_bool(value, &b) < 0) {
			kt_err(ctx, "include_defined=%s is invalid: expected a boolean", value);
			return -EINVAL;
		}
		cfg->include_defined = b;
		return 0;
	}
	if (strcmp(name, "libvirt_uri") == 0) {
		if (!*value || strlen(value) >= sizeof(cfg->uri) || strpbrk(value, " \t\n")) {
			kt_err(ctx, "libvirt_uri=%s is invalid: expected a libvirt URI such as "
				    "qemu:///system",
			       value);
			return -EINVAL;
		}
		snprintf(cfg->uri, sizeof(cfg->uri), "%s", value);
		return 0;
	}
	kt_err(ctx, "unknown option '%s' (value %s): expected one of nvme_scheduler, ssd_scheduler, "
		    "hdd_scheduler, loop_scheduler, bfq_guests, nr_requests, read_ahead_kb, "
		    "rq_affinity, overrides, include_defined, libvirt_uri",
	       name, value);
	return -EINVAL;
}

int kt_iosched_options_parse(const struct kt_ctx *ctx, const struct kt_kvlist *opts,
			     struct kt_iosched_config *ret)
{
	struct kt_iosched_config cfg;
	int r = 0;

	kt_iosched_config_default(&cfg);
	for (size_t i = 0; i < opts->n; i++) {
		int e = kt_iosched_config_set(ctx, &cfg, opts->items[i].key, opts->items[i].value);

		if (e < 0 && r == 0)
			r = e;
	}
	if (r < 0)
		return r;
	*ret = cfg;
	return 0;
}
