// SPDX-License-Identifier: LGPL-2.1-or-later
/* Controller options from profiles and the command line, and ksmtuned.conf compatibility. */
#include <ini.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "ksmctl.h"
#include "meminfo.h"
#include "parse.h"

enum opt_kind {
	OPT_MODE,
	OPT_STOP,
	OPT_UINT,
	OPT_SIZE,
	OPT_SECONDS,
	OPT_MS,
	OPT_PATH,
	OPT_URI,
};

struct opt {
	const char *name;
	enum opt_kind kind;
	size_t offset;
	long long min, max;
	const char *allowed;
};

#define OFF(field) offsetof(struct kt_ksmctl_config, field)

static const struct opt opts[] = {
	{ "mode", OPT_MODE, OFF(mode), 0, 0, "static, dynamic or advisor" },
	{ "interval", OPT_SECONDS, OFF(interval_ms), 1, 3600, "seconds, 1..3600" },
	{ "thres_coef", OPT_UINT, OFF(thres_coef), 0, 100, "a percentage of RAM, 0..100" },
	{ "thres_const", OPT_SIZE, OFF(thres_const), 0, 0, "a size such as 2G or 512M" },
	{ "cpu_budget", OPT_UINT, OFF(cpu_budget), 1, 100, "a percentage of one CPU, 1..100" },
	{ "merge_pages", OPT_UINT, OFF(merge_pages), 1, 100000, "an integer 1..100000" },
	{ "merge_sleep", OPT_MS, OFF(merge_sleep_ms), 1, 10000, "milliseconds, 1..10000" },
	{ "idle_pages", OPT_UINT, OFF(idle_pages), 1, 100000, "an integer 1..100000" },
	{ "idle_sleep", OPT_MS, OFF(idle_sleep_ms), 1, 600000, "milliseconds, 1..600000" },
	{ "psi_merge", OPT_UINT, OFF(psi_merge), 1, 100, "a percentage, 1..100" },
	{ "stop", OPT_STOP, OFF(stop), 0, 0, "keep or unmerge" },
	{ "libvirt_uri", OPT_URI, OFF(uri), 0, 0, "a libvirt URI, or none" },
	{ "ksmtuned_conf", OPT_PATH, 0, 0, 0, "the path of a ksmtuned.conf" },
};

bool kt_ksmctl_option_known(const char *name)
{
	for (size_t i = 0; i < KT_ELEMENTSOF(opts); i++)
		if (strcmp(name, opts[i].name) == 0)
			return true;
	return false;
}

static int set_one(const struct kt_ctx *ctx, struct kt_ksmctl_config *cfg, const struct opt *o,
		   const char *value)
{
	char *base = (char *)cfg + o->offset;
	long long v;
	uint64_t size;

	switch (o->kind) {
	case OPT_MODE: {
		enum kt_ksmctl_mode m = kt_ksmctl_mode_from_name(value);

		if (m < 0)
			return -EINVAL;
		*(enum kt_ksmctl_mode *)(void *)base = m;
		return 0;
	}
	case OPT_STOP:
		if (strcmp(value, "keep") == 0)
			*(enum kt_ksmctl_stop *)(void *)base = KT_KSMCTL_STOP_KEEP;
		else if (strcmp(value, "unmerge") == 0)
			*(enum kt_ksmctl_stop *)(void *)base = KT_KSMCTL_STOP_UNMERGE;
		else
			return -EINVAL;
		return 0;
	case OPT_SIZE:
		if (kt_parse_size(value, &size) < 0)
			return -EINVAL;
		*(uint64_t *)(void *)base = size;
		return 0;
	case OPT_PATH:
		return kt_ksmctl_config_ksmtuned(ctx, cfg, value);
	case OPT_URI:
		if (!*value || strlen(value) >= sizeof(cfg->uri) || strpbrk(value, " \t\n"))
			return -EINVAL;
		snprintf(cfg->uri, sizeof(cfg->uri), "%s", value);
		return 0;
	case OPT_SECONDS:
	case OPT_MS:
	case OPT_UINT:
	default:
		if (kt_parse_int(value, o->min, o->max, &v) < 0)
			return -EINVAL;
		*(unsigned *)(void *)base = (unsigned)(o->kind == OPT_SECONDS ? v * 1000 : v);
		return 0;
	}
}

int kt_ksmctl_config_set(const struct kt_ctx *ctx, struct kt_ksmctl_config *cfg, const char *name,
			 const char *value)
{
	for (size_t i = 0; i < KT_ELEMENTSOF(opts); i++) {
		int r;

		if (strcmp(name, opts[i].name) != 0)
			continue;
		r = set_one(ctx, cfg, &opts[i], value);
		/* ksmtuned_conf reports its own errors, with the file's line. */
		if (r < 0 && opts[i].kind != OPT_PATH)
			kt_err(ctx, "%s=%s is invalid: expected %s", name, value, opts[i].allowed);
		return r;
	}
	kt_err(ctx, "unknown controller option '%s'", name);
	return -EINVAL;
}

struct ksmtuned_parse {
	const struct kt_ctx *ctx;
	const char *path;
	struct kt_ksmctl_config cfg;
	uint64_t mem_total;
	int bad;
};

static int ksmtuned_line(void *user, const char *section, const char *name, const char *value)
{
	struct ksmtuned_parse *p = user;
	long long v;

	(void)section;
	if (strcmp(name, "KSM_THRES_COEF") == 0 && kt_parse_int(value, 0, 100, &v) == 0)
		p->cfg.thres_coef = (unsigned)v;
	/* ksmtuned compares it with /proc/meminfo figures: KiB. */
	else if (strcmp(name, "KSM_THRES_CONST") == 0 && kt_parse_int(value, 0, INT32_MAX, &v) == 0)
		p->cfg.thres_const = (uint64_t)v << 10;
	else if (strcmp(name, "KSM_NPAGES_MIN") == 0 && kt_parse_int(value, 1, 100000, &v) == 0)
		p->cfg.idle_pages = (unsigned)v;
	else if (strcmp(name, "KSM_NPAGES_MAX") == 0 && kt_parse_int(value, 1, 100000, &v) == 0)
		p->cfg.merge_pages = (unsigned)v;
	else if (strcmp(name, "KSM_SLEEP_MSEC") == 0 && kt_parse_int(value, 1, 10000, &v) == 0) {
		/* ksmtuned scales it for a 16 GiB host: smaller hosts sleep longer, at least 10 ms. */
		uint64_t ms = p->mem_total ? (uint64_t)v * (UINT64_C(16) << 30) / p->mem_total : 10;

		p->cfg.merge_sleep_ms = ms < 10 ? 10 : (unsigned)ms;
	} else if (strncmp(name, "KSM_", 4) == 0 && strcmp(name, "KSM_MONITOR_INTERVAL") != 0 &&
		   strcmp(name, "KSM_NPAGES_BOOST") != 0 && strcmp(name, "KSM_NPAGES_DECAY") != 0) {
		kt_err(p->ctx, "%s: %s=%s is not a value kvmtune understands", p->path, name, value);
		p->bad++;
	}
	/* LOGFILE, DEBUG and the ramp steps have no meaning for this controller. */
	return 1;
}

int kt_ksmctl_config_ksmtuned_parse(const struct kt_ctx *ctx, const char *path, const char *text,
				    uint64_t mem_total, struct kt_ksmctl_config *cfg)
{
	struct ksmtuned_parse p = { ctx, path, *cfg, mem_total, 0 };
	int r;

	r = ini_parse_string(text, ksmtuned_line, &p);
	if (r > 0) {
		kt_err(ctx, "ksmtuned_conf=%s: line %d is not KEY=value", path, r);
		return -EINVAL;
	}
	if (r < 0)
		return -ENOMEM;
	if (p.bad)
		return -EINVAL;
	*cfg = p.cfg;
	return 0;
}

int kt_ksmctl_config_ksmtuned(const struct kt_ctx *ctx, struct kt_ksmctl_config *cfg,
			      const char *path)
{
	kt_cleanup_free char *text = NULL;
	struct kt_meminfo mi;
	uint64_t mem_total = 0;
	int r;

	if (!path || !*path)
		return 0;
	if (path[0] != '/') {
		kt_err(ctx, "ksmtuned_conf=%s is invalid: expected an absolute path", path);
		return -EINVAL;
	}
	r = kt_read_file(ctx, path + 1, &text, NULL);
	if (r < 0) {
		kt_err(ctx, "ksmtuned_conf=%s: cannot read it: %s", path, strerror(-r));
		return r;
	}
	if (kt_meminfo_read(ctx, &mi) == 0)
		mem_total = mi.mem_total;
	return kt_ksmctl_config_ksmtuned_parse(ctx, path, text, mem_total, cfg);
}
