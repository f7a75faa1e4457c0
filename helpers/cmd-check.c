// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvmtune check: the host's plan of guests against the rules vendors publish. */
#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "migrate.h"
#include "commands.h"
#include "parse.h"
#include "virt.h"

void kt_cmd_check_help(void)
{
	printf(
	    "Usage: kvmtune check [--json] [--domains-dir=DIR | --uri=URI] "
	    "[--host-reserve=SIZE]\n"
	    "                     [--vcpu-ratio=N]\n\n"
	    "One line per check, PASS, WARN or FAIL, with a hint; exit status 1 on any FAIL.\n"
	    "Domains come from libvirt (qemu:///system on the host, --uri=URI, e.g.\n"
	    "test:///default; --uri=none for none) or from the *.xml files of --domains-dir,\n"
	    "which is how fixture roots (--root) are checked.\n\n"
	    "  --json               the results as JSON (schema: kvmtune-check.schema.json)\n"
	    "  --host-reserve=SIZE  memory the host keeps for itself (default 4G, Red Hat's\n"
	    "                       example)\n"
	    "  --vcpu-ratio=N       warn above N vCPUs per host CPU (default %d: Red Hat's\n"
	    "                       safe ratio for KVM guests below full load)\n",
	    KT_CHECK_VCPU_RATIO_WARN);
}

/* Reading input files is the front-end's job: the library reads only below its root. */
static int read_whole(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f)
		return -errno;
	do {
		if (len + 4096 + 1 > cap) {
			char *b = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!b) {
				free(buf);
				fclose(f);
				return -ENOMEM;
			}
			buf = b;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0 && len < (16u << 20));
	fclose(f);
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

static int xml_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int is_xml(const struct dirent *de)
{
	size_t len = strlen(de->d_name);

	return len > 4 && de->d_name[0] != '.' && strcmp(de->d_name + len - 4, ".xml") == 0;
}

static int domains_from_dir(const struct kt_ctx *ctx, struct kt_host_facts *h, const char *dir)
{
	struct dirent **list;
	int n, r = 0;

	n = scandir(dir, &list, is_xml, xml_name_cmp);
	if (n < 0) {
		fprintf(stderr, "kvmtune: error: --domains-dir=%s: %s\n", dir, strerror(errno));
		return -errno;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		char *xml = NULL;
		size_t len = 0;

		snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
		free(list[i]);
		if (r < 0)
			continue;
		r = read_whole(path, &xml, &len);
		if (r >= 0)
			r = kt_host_facts_add_domain(ctx, h, xml, len, false);
		free(xml);
		if (r == -EBADMSG) {
			fprintf(stderr, "kvmtune: %s is not a libvirt domain, ignoring\n",
				path);
			r = 0;
		} else if (r < 0) {
			fprintf(stderr, "kvmtune: error: %s: %s\n", path, strerror(-r));
		}
	}
	free(list);
	return r;
}

struct from_virt {
	const struct kt_ctx *ctx;
	struct kt_host_facts *h;
};

static int one_domain(void *data, const char *name, const char *xml, bool active)
{
	struct from_virt *fv = data;
	int r = kt_host_facts_add_domain(fv->ctx, fv->h, xml, strlen(xml), active);

	if (r == -EBADMSG) {
		fprintf(stderr,
			"kvmtune: libvirt's XML of domain %s does not parse, ignoring\n", name);
		return 0;
	}
	return r < 0 ? r : 0;
}

/* *ret_v stays NULL when libvirt cannot be reached: that is a WARN line, not an error. */
static int domains_from_libvirt(const struct kt_ctx *ctx, struct kt_host_facts *h,
				const char *uri, struct kt_check_report *rep,
				struct kt_virt **ret_v)
{
	struct from_virt fv = {ctx, h};
	struct kt_virt *v = NULL;
	char *err = NULL;
	int r;

	r = kt_virt_open(uri, &v, &err);
	if (r < 0) {
		r = kt_check_add(rep, "domains", KT_CHECK_WARN,
				 "start libvirtd, or give the domains with --domains-dir",
				 "cannot ask libvirt at %s (%s): no domain was checked", uri,
				 err ? err : strerror(-r));
		free(err);
		return r;
	}
	r = kt_virt_each_domain(v, KT_VIRT_ALL, one_domain, &fv);
	*ret_v = v;
	if (r < 0)
		fprintf(stderr, "kvmtune: error: cannot list the domains of %s: %s\n", uri,
			strerror(-r));
	return r;
}

static void print_text(const struct kt_check_report *rep)
{
	for (unsigned i = 0; i < rep->n; i++) {
		const struct kt_check_result *res = &rep->items[i];

		printf("%-4s  %-18s %s\n", kt_check_level_name(res->level), res->check,
		       res->message);
		if (res->hint[0] && res->level != KT_CHECK_PASS)
			printf("      %-18s hint: %s\n", "", res->hint);
	}
	printf("%u passed, %u %s, %u failed\n", rep->count[KT_CHECK_PASS],
	       rep->count[KT_CHECK_WARN],
	       kt_plural(rep->count[KT_CHECK_WARN], "warning", "warnings"),
	       rep->count[KT_CHECK_FAIL]);
}

static void print_json(const struct kt_ctx *ctx, const struct kt_host_facts *h,
		       const struct kt_check_report *rep)
{
	printf("{\"version\":1,\"root\":");
	kt_json_str(kt_ctx_root(ctx));
	printf(",\"summary\":{\"pass\":%u,\"warn\":%u,\"fail\":%u},\"domains\":[",
	       rep->count[KT_CHECK_PASS], rep->count[KT_CHECK_WARN], rep->count[KT_CHECK_FAIL]);
	for (unsigned i = 0; i < h->n_domains; i++) {
		printf("%s", i ? "," : "");
		kt_json_str(h->domains[i].name);
	}
	printf("],\"results\":[");
	for (unsigned i = 0; i < rep->n; i++) {
		const struct kt_check_result *res = &rep->items[i];

		printf("%s{\"check\":", i ? "," : "");
		kt_json_str(res->check);
		printf(",\"level\":");
		kt_json_str(kt_check_level_name(res->level));
		printf(",\"message\":");
		kt_json_str(res->message);
		printf(",\"hint\":");
		if (res->hint[0])
			kt_json_str(res->hint);
		else
			printf("null");
		printf("}");
	}
	printf("]}\n");
}

/* This host's migration facts: --facts prints them, --peer compares them. */
static int mig_facts(const struct kt_ctx *ctx, const struct kt_host_facts *h, struct kt_virt *v,
		     struct kt_mig_facts *ret)
{
	int r = kt_mig_facts_read(ctx, h, ret);

	if (r >= 0 && v)
		r = kt_virt_mig_facts(v, ret);
	if (r < 0)
		fprintf(stderr, "kvmtune: error: cannot gather this host's facts: %s\n",
			strerror(-r));
	return r;
}

static int print_facts(const struct kt_ctx *ctx, const struct kt_host_facts *h,
		       struct kt_virt *v)
{
	struct kt_mig_facts f;
	char *text = NULL;
	int r;

	r = mig_facts(ctx, h, v, &f);
	if (r < 0)
		return 1;
	r = kt_mig_facts_format(&f, &text);
	kt_mig_facts_clear(&f);
	if (r < 0)
		return 1;
	fputs(text, stdout);
	free(text);
	return 0;
}

static int compare_peer(const struct kt_ctx *ctx, const struct kt_host_facts *h,
			struct kt_virt *v, const char *path, struct kt_check_report *rep)
{
	struct kt_mig_facts local, peer;
	char *text = NULL;
	size_t len = 0;
	int r;

	r = read_whole(path, &text, &len);
	if (r < 0) {
		fprintf(stderr, "kvmtune: error: --peer=%s: %s\n", path, strerror(-r));
		return r;
	}
	r = kt_mig_facts_parse(text, len, &peer);
	free(text);
	if (r < 0) {
		fprintf(stderr,
			"kvmtune: error: --peer=%s is not the output of kvmtune check --facts "
			"(version 1)\n",
			path);
		return r;
	}
	r = mig_facts(ctx, h, v, &local);
	if (r >= 0)
		r = kt_mig_compare(&local, &peer, rep);
	kt_mig_facts_clear(&local);
	kt_mig_facts_clear(&peer);
	return r;
}

int kt_cmd_check(struct kt_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"domains-dir", required_argument, NULL, 'd'},
	    {"uri", required_argument, NULL, 'u'},
	    {"host-reserve", required_argument, NULL, 'R'},
	    {"vcpu-ratio", required_argument, NULL, 'V'},
	    {"facts", no_argument, NULL, 'f'},
	    {"peer", required_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct kt_check_report pre = {0}, rep = {0};
	struct kt_host_facts h;
	struct kt_virt *v = NULL;
	const char *dir = NULL, *uri = NULL, *peer = NULL;
	uint64_t reserve = KT_CHECK_HOST_RESERVE;
	long long ratio = KT_CHECK_VCPU_RATIO_WARN;
	int json = 0, facts = 0, c, r;

	while ((c = getopt_long(argc, argv, "jd:u:R:V:fp:h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'u':
			uri = optarg;
			break;
		case 'R':
			if (kt_parse_size(optarg, &reserve) < 0) {
				fprintf(
				    stderr,
				    "kvmtune: error: --host-reserve=%s is invalid: expected "
				    "a size such as 4G\n",
				    optarg);
				return 2;
			}
			break;
		case 'V':
			if (kt_parse_int(optarg, 1, KT_CHECK_VCPU_RATIO_MAX, &ratio) < 0) {
				fprintf(stderr,
					"kvmtune: error: --vcpu-ratio=%s is invalid: expected "
					"vCPUs per host CPU, an integer 1..%d\n",
					optarg, KT_CHECK_VCPU_RATIO_MAX);
				return 2;
			}
			break;
		case 'f':
			facts = 1;
			break;
		case 'p':
			peer = optarg;
			break;
		case 'h':
			kt_cmd_check_help();
			return 0;
		default:
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kvmtune: error: check: unexpected argument '%s'\n",
			argv[optind]);
		return 2;
	}
	if (dir && uri) {
		fprintf(stderr,
			"kvmtune: error: check: --domains-dir and --uri exclude each other\n");
		return 2;
	}
	if (facts && (peer || json)) {
		fprintf(stderr,
			"kvmtune: error: check: --facts prints JSON of its own, without "
			"--peer or --json\n");
		return 2;
	}
	/* On a fixture root, the host's libvirt knows nothing of the fixture's guests. */
	if (!dir && !uri)
		uri = strcmp(kt_ctx_root(ctx), "/") == 0 ? KT_VIRT_DEFAULT_URI : "none";

	r = kt_host_facts_read(ctx, &h);
	if (r < 0)
		return 1;
	h.host_reserve = reserve;
	h.vcpu_ratio = (unsigned)ratio;
	if (dir)
		r = domains_from_dir(ctx, &h, dir);
	else if (strcmp(uri, "none") != 0)
		r = domains_from_libvirt(ctx, &h, uri, &pre, &v);
	if (r >= 0 && facts) {
		r = print_facts(ctx, &h, v);
		goto out;
	}
	if (r >= 0)
		r = peer ? compare_peer(ctx, &h, v, peer, &rep) : kt_check_run(&h, &rep);
	/* Lines about where the domains came from go first. */
	for (unsigned i = 0; r >= 0 && i < pre.n; i++)
		r = kt_check_add(&rep, pre.items[i].check, pre.items[i].level,
				 pre.items[i].hint, "%s", pre.items[i].message);
	if (r >= 0 && pre.n) {
		struct kt_check_result *items = rep.items;

		memmove(items + pre.n, items, (rep.n - pre.n) * sizeof(*items));
		memcpy(items, pre.items, pre.n * sizeof(*items));
	}
	if (r < 0) {
		if (r == -ENOMEM)
			fprintf(stderr, "kvmtune: error: out of memory\n");
		r = peer && r == -EBADMSG ? 2 : 1;
		goto out;
	}
	if (json)
		print_json(ctx, &h, &rep);
	else
		print_text(&rep);
	r = rep.count[KT_CHECK_FAIL] ? 1 : 0;
out:
	kt_virt_close(v);
	kt_check_report_clear(&pre);
	kt_check_report_clear(&rep);
	kt_host_facts_clear(&h);
	return r;
}
