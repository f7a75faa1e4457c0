// SPDX-License-Identifier: LGPL-2.1-or-later
/* Migration readiness: a host's facts, as JSON both ways, and two hosts compared. */
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "json.h"
#include "migrate.h"

#define FACTS_VERSION 1

int kt_strv_add(struct kt_strv *s, const char *str)
{
	char **v, *copy;

	if (kt_strv_has(s, str))
		return 0;
	copy = strdup(str);
	if (!copy)
		return -ENOMEM;
	v = realloc(s->v, (s->n + 1) * sizeof(*v));
	if (!v) {
		free(copy);
		return -ENOMEM;
	}
	s->v = v;
	s->v[s->n++] = copy;
	return 0;
}

bool kt_strv_has(const struct kt_strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return true;
	return false;
}

void kt_strv_clear(struct kt_strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

void kt_mig_facts_clear(struct kt_mig_facts *f)
{
	kt_strv_clear(&f->cpu_flags);
	kt_strv_clear(&f->domains);
	kt_strv_clear(&f->networks);
	kt_strv_clear(&f->bridges);
	kt_strv_clear(&f->storage_pools);
	kt_strv_clear(&f->used_networks);
	kt_strv_clear(&f->used_bridges);
	memset(f, 0, sizeof(*f));
}

/* "key\t: value" of one line, the value copied without its newline. */
static bool field(const char *line, size_t len, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *colon;

	if (len < klen || strncmp(line, key, klen) != 0)
		return false;
	colon = memchr(line, ':', len);
	if (!colon || strspn(line + klen, " \t") != (size_t)(colon - line - (long)klen))
		return false;
	colon++;
	while (colon < line + len && (*colon == ' ' || *colon == '\t'))
		colon++;
	snprintf(buf, size, "%.*s", (int)(line + len - colon), colon);
	return true;
}

int kt_mig_cpuinfo_parse(const char *text, struct kt_mig_facts *f)
{
	const char *p = text;
	char flags[8192];
	bool have_flags = false;
	int r;

	while (*p) {
		size_t len = strcspn(p, "\n");

		/* A blank line ends the first processor. */
		if (len == 0 && (f->cpu_vendor[0] || have_flags))
			break;
		field(p, len, "vendor_id", f->cpu_vendor, sizeof(f->cpu_vendor));
		field(p, len, "model name", f->cpu_model, sizeof(f->cpu_model));
		if (field(p, len, "flags", flags, sizeof(flags)))
			have_flags = true;
		p += len;
		if (*p)
			p++;
	}
	if (!f->cpu_vendor[0] && !have_flags)
		return -EBADMSG;
	for (char *save = NULL, *tok = have_flags ? strtok_r(flags, " \t", &save) : NULL; tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		r = kt_strv_add(&f->cpu_flags, tok);
		if (r < 0)
			return r;
	}
	f->nx = kt_strv_has(&f->cpu_flags, "nx");
	f->lm = kt_strv_has(&f->cpu_flags, "lm");
	f->word_size = f->lm ? 64 : 32;
	return 0;
}

static int one_bridge(void *data, const char *name)
{
	const struct kt_ctx *ctx = ((void **)data)[0];
	struct kt_mig_facts *f = ((void **)data)[1];
	char path[160];

	if (!kt_name_is_safe(name))
		return 0;
	snprintf(path, sizeof(path), "sys/class/net/%s/bridge", name);
	return kt_attr_exists(ctx, path) ? kt_strv_add(&f->bridges, name) : 0;
}

int kt_mig_facts_read(const struct kt_ctx *ctx, const struct kt_host_facts *h,
		      struct kt_mig_facts *ret)
{
	struct kt_mig_facts f = {0};
	void *data[2] = {(void *)ctx, &f};
	kt_cleanup_free char *text = NULL;
	int r;

	if (kt_read_attr(ctx, "proc/sys/kernel/hostname", f.hostname, sizeof(f.hostname)) < 0)
		f.hostname[0] = '\0';
	r = kt_read_file(ctx, "proc/cpuinfo", &text, NULL);
	if (r >= 0)
		r = kt_mig_cpuinfo_parse(text, &f);
	if (r < 0) {
		kt_err(ctx, "cannot read the CPU of /proc/cpuinfo below %s: %s",
		       kt_ctx_root(ctx), strerror(-r));
		kt_mig_facts_clear(&f);
		return r;
	}
	r = kt_dir_for_each(ctx, "sys/class/net", one_bridge, data);
	if (r == -ENOENT)
		r = 0;
	for (unsigned i = 0; r >= 0 && i < h->n_domains; i++) {
		const struct kt_check_domain *d = &h->domains[i];

		r = kt_strv_add(&f.domains, d->name);
		for (unsigned j = 0; r >= 0 && j < d->n_nics; j++) {
			const struct kt_check_nic *nic = &d->nics[j];

			if (!nic->source[0])
				continue;
			if (strcmp(nic->type, "bridge") == 0)
				r = kt_strv_add(&f.used_bridges, nic->source);
			else if (strcmp(nic->type, "network") == 0)
				r = kt_strv_add(&f.used_networks, nic->source);
		}
	}
	if (r < 0) {
		kt_mig_facts_clear(&f);
		return r;
	}
	*ret = f;
	return 0;
}

static void json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static void json_strv(FILE *out, const char *key, const struct kt_strv *s)
{
	fprintf(out, ",\"%s\":[", key);
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			fputc(',', out);
		json_str(out, s->v[i]);
	}
	fputc(']', out);
}

int kt_mig_facts_format(const struct kt_mig_facts *f, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	if (!out)
		return -ENOMEM;
	fprintf(out, "{\"version\":%d,\"hostname\":", FACTS_VERSION);
	json_str(out, f->hostname);
	fprintf(out, ",\"cpu\":{\"vendor\":");
	json_str(out, f->cpu_vendor);
	fprintf(out, ",\"model\":");
	json_str(out, f->cpu_model);
	fprintf(out, ",\"nx\":%s,\"lm\":%s,\"word_size\":%u", f->nx ? "true" : "false",
		f->lm ? "true" : "false", f->word_size);
	json_strv(out, "flags", &f->cpu_flags);
	fprintf(out, "},\"libvirt_version\":");
	json_str(out, f->libvirt_version);
	fprintf(out, ",\"qemu_version\":");
	json_str(out, f->qemu_version);
	json_strv(out, "domains", &f->domains);
	json_strv(out, "networks", &f->networks);
	json_strv(out, "bridges", &f->bridges);
	json_strv(out, "storage_pools", &f->storage_pools);
	json_strv(out, "used_networks", &f->used_networks);
	json_strv(out, "used_bridges", &f->used_bridges);
	fprintf(out, "}\n");
	if (fclose(out) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

static int copy_str(const struct kt_json *obj, const char *key, char *buf, size_t size)
{
	const char *s = kt_json_get_string(obj, key);

	if (!s)
		return -EBADMSG;
	snprintf(buf, size, "%s", s);
	return 0;
}

static int copy_strv(const struct kt_json *obj, const char *key, struct kt_strv *s)
{
	const struct kt_json *a = kt_json_get(obj, key);
	int r;

	if (!a || a->type != KT_JSON_ARRAY)
		return -EBADMSG;
	for (size_t i = 0; i < a->n; i++) {
		if (a->items[i].type != KT_JSON_STRING)
			return -EBADMSG;
		r = kt_strv_add(s, a->items[i].string);
		if (r < 0)
			return r;
	}
	return 0;
}

int kt_mig_facts_parse(const char *text, size_t len, struct kt_mig_facts *ret)
{
	struct kt_mig_facts f = {0};
	const struct kt_json *cpu, *ver, *ws;
	struct kt_json *doc = NULL;
	int r;

	r = kt_json_parse(text, len, &doc);
	if (r < 0)
		return r;
	ver = kt_json_get(doc, "version");
	cpu = kt_json_get(doc, "cpu");
	ws = kt_json_get(cpu, "word_size");
	r = -EBADMSG;
	if (!ver || ver->type != KT_JSON_NUMBER || ver->number != FACTS_VERSION || !cpu ||
	    cpu->type != KT_JSON_OBJECT || !ws || ws->type != KT_JSON_NUMBER ||
	    (ws->number != 32 && ws->number != 64))
		goto out;
	f.nx = kt_json_get_bool(cpu, "nx", false);
	f.lm = kt_json_get_bool(cpu, "lm", false);
	f.word_size = (unsigned)ws->number;
	r = copy_str(doc, "hostname", f.hostname, sizeof(f.hostname));
	if (r >= 0)
		r = copy_str(cpu, "vendor", f.cpu_vendor, sizeof(f.cpu_vendor));
	if (r >= 0)
		r = copy_str(cpu, "model", f.cpu_model, sizeof(f.cpu_model));
	if (r >= 0)
		r = copy_str(doc, "libvirt_version", f.libvirt_version,
			     sizeof(f.libvirt_version));
	if (r >= 0)
		r = copy_str(doc, "qemu_version", f.qemu_version, sizeof(f.qemu_version));
	if (r >= 0)
		r = copy_strv(cpu, "flags", &f.cpu_flags);
	if (r >= 0)
		r = copy_strv(doc, "domains", &f.domains);
	if (r >= 0)
		r = copy_strv(doc, "networks", &f.networks);
	if (r >= 0)
		r = copy_strv(doc, "bridges", &f.bridges);
	if (r >= 0)
		r = copy_strv(doc, "storage_pools", &f.storage_pools);
	if (r >= 0)
		r = copy_strv(doc, "used_networks", &f.used_networks);
	if (r >= 0)
		r = copy_strv(doc, "used_bridges", &f.used_bridges);
out:
	kt_json_free(doc);
	if (r < 0) {
		kt_mig_facts_clear(&f);
		return r;
	}
	*ret = f;
	return 0;
}

/* "a, b, c" of the items of a that b lacks, at most max of them; returns how many lack. */
static size_t missing(const struct kt_strv *a, const struct kt_strv *b, char *buf, size_t size,
		      size_t max)
{
	size_t n = 0, len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->n; i++) {
		if (kt_strv_has(b, a->v[i]))
			continue;
		if (n < max && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", n ? ", " : "",
						a->v[i]);
		n++;
	}
	if (n > max && len < size)
		snprintf(buf + len, size - len, " and %zu more", n - max);
	return n;
}

/* "9.0.0" as a number, for ordering; 0 for what does not parse. */
static unsigned long version_number(const char *v)
{
	unsigned a = 0, b = 0, c = 0;

	if (sscanf(v, "%u.%u.%u", &a, &b, &c) < 2)
		return 0;
	return a * 1000000UL + b * 1000UL + c;
}

int kt_mig_compare(const struct kt_mig_facts *local, const struct kt_mig_facts *peer,
		   struct kt_check_report *rep)
{
	const char *other = peer->hostname[0] ? peer->hostname : "the other host";
	char list[200];
	size_t n;
	int r = 0;

#define ADD(...)                                                                               \
	do {                                                                                   \
		r = kt_check_add(rep, __VA_ARGS__);                                            \
		if (r < 0)                                                                     \
			return r;                                                              \
	} while (0)

	if (strcmp(local->cpu_vendor, peer->cpu_vendor) != 0)
		ADD("peer-cpu", KT_CHECK_FAIL, "live migration needs CPUs of one vendor",
		    "CPU vendor %s here, %s on %s", local->cpu_vendor, peer->cpu_vendor, other);
	if (local->nx != peer->nx)
		ADD("peer-cpu", KT_CHECK_FAIL,
		    "enable NX (execute disable) in both hosts' firmware",
		    "NX is %s here and %s on %s", local->nx ? "on" : "off",
		    peer->nx ? "on" : "off", other);
	if (local->lm != peer->lm || local->word_size != peer->word_size)
		ADD("peer-cpu", KT_CHECK_FAIL, "64-bit guests need 64-bit hosts on both ends",
		    "%u-bit here, %u-bit on %s", local->word_size, peer->word_size, other);
	n = missing(&local->cpu_flags, &peer->cpu_flags, list, sizeof(list), 8);
	if (n)
		ADD("peer-cpu", KT_CHECK_WARN,
		    "guests with host-model or host-passthrough CPUs cannot move there: give "
		    "them "
		    "a named CPU model both hosts have",
		    "%s lacks %zu CPU %s this host has: %s", other, n,
		    kt_plural(n, "flag", "flags"), list);
	if (!rep->n || strcmp(rep->items[rep->n - 1].check, "peer-cpu") != 0)
		ADD("peer-cpu", KT_CHECK_PASS, NULL,
		    "%s %s on both, %s has every CPU flag of this host", local->cpu_vendor,
		    local->word_size == 64 ? "64-bit" : "32-bit", other);

	n = 0;
	for (size_t i = 0; i < local->domains.n; i++)
		if (kt_strv_has(&peer->domains, local->domains.v[i]))
			n++;
	if (n) {
		size_t len = 0, k = 0;

		list[0] = '\0';
		for (size_t i = 0; i < local->domains.n && len < sizeof(list); i++)
			if (kt_strv_has(&peer->domains, local->domains.v[i]) && k++ < 8)
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
							k > 1 ? ", " : "", local->domains.v[i]);
		ADD("peer-domains", KT_CHECK_FAIL,
		    "a domain cannot move to a host that has one of the same name: rename one",
		    "%zu %s defined on both hosts: %s", n,
		    kt_plural(n, "domain is", "domains are"), list);
	} else {
		ADD("peer-domains", KT_CHECK_PASS, NULL,
		    "no domain name of this host is taken on %s", other);
	}

	n = missing(&local->used_bridges, &peer->bridges, list, sizeof(list), 8);
	if (n)
		ADD("peer-network", KT_CHECK_FAIL, "create the bridges there first",
		    "this host's domains use bridges %s lacks: %s", other, list);
	n = missing(&local->used_networks, &peer->networks, list, sizeof(list), 8);
	if (n)
		ADD("peer-network", KT_CHECK_FAIL, "define the libvirt networks there first",
		    "this host's domains use libvirt networks %s lacks: %s", other, list);
	if (!rep->n || strcmp(rep->items[rep->n - 1].check, "peer-network") != 0)
		ADD("peer-network", KT_CHECK_PASS, NULL,
		    "%s has every bridge and network this host's domains use", other);

	n = missing(&local->storage_pools, &peer->storage_pools, list, sizeof(list), 8);
	if (n)
		ADD("peer-storage", KT_CHECK_WARN,
		    "disks in these pools need the same pool there, or --copy-storage-all",
		    "%s lacks storage pools of this host: %s", other, list);
	else
		ADD("peer-storage", KT_CHECK_PASS, NULL,
		    "%s has every storage pool of this host", other);

	if (version_number(peer->qemu_version) < version_number(local->qemu_version) ||
	    version_number(peer->libvirt_version) < version_number(local->libvirt_version))
		ADD("peer-versions", KT_CHECK_WARN,
		    "a guest started on a newer QEMU may use a machine type the older one "
		    "lacks",
		    "QEMU %s and libvirt %s here, QEMU %s and libvirt %s on %s",
		    local->qemu_version, local->libvirt_version, peer->qemu_version,
		    peer->libvirt_version, other);
	else
		ADD("peer-versions", KT_CHECK_PASS, NULL,
		    "QEMU %s and libvirt %s on %s, no older than here", peer->qemu_version,
		    peer->libvirt_version, other);
#undef ADD
	return r;
}
