/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "check.h"
#include "ctx.h"

/*
 * Migration readiness: what another host must match for this host's guests to move there
 * (`kvmtune check --facts > host.json` on one, `kvmtune check --peer host.json` on the
 * other). The facts are plain data; the comparison is a pure function adding check lines.
 */
struct kt_strv {
	char **v;
	size_t n;
};

int kt_strv_add(struct kt_strv *s, const char *str);
bool kt_strv_has(const struct kt_strv *s, const char *str);
void kt_strv_clear(struct kt_strv *s);

struct kt_mig_facts {
	char hostname[256];
	char cpu_vendor[64];
	char cpu_model[128];
	struct kt_strv cpu_flags;
	bool nx;
	bool lm; /* long mode: a 64-bit CPU */
	unsigned word_size;
	char libvirt_version[32];
	char qemu_version[32];
	struct kt_strv domains;
	/* libvirt networks, and the host's bridges (sys/class/net/<name>/bridge). */
	struct kt_strv networks;
	struct kt_strv bridges;
	struct kt_strv storage_pools;
	/* What this host's domains attach to: they need the same on the other host. */
	struct kt_strv used_networks;
	struct kt_strv used_bridges;
};

/* The first processor of /proc/cpuinfo: vendor_id, model name, flags (x86). */
int kt_mig_cpuinfo_parse(const char *text, struct kt_mig_facts *f);
/* CPU, hostname and bridges below ctx's root, and the domains of h. */
int kt_mig_facts_read(const struct kt_ctx *ctx, const struct kt_host_facts *h,
		      struct kt_mig_facts *ret);
void kt_mig_facts_clear(struct kt_mig_facts *f);

/* The facts as JSON (schemas/kvmtune-facts.schema.json); *ret is the caller's. */
int kt_mig_facts_format(const struct kt_mig_facts *f, char **ret);
/* -EBADMSG when text is not facts JSON of this version. */
int kt_mig_facts_parse(const char *text, size_t len, struct kt_mig_facts *ret);

/* Can this host's (local) guests move to peer? One or more lines per check. */
int kt_mig_compare(const struct kt_mig_facts *local, const struct kt_mig_facts *peer,
		   struct kt_check_report *rep);
