// SPDX-License-Identifier: LGPL-2.1-or-later
/* Migration facts: /proc/cpuinfo, the JSON both ways, the JSON reader, two hosts compared. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "json.h"
#include "migrate.h"

static const char cpuinfo[] = "processor\t: 0\n"
			      "vendor_id\t: GenuineIntel\n"
			      "model name\t: Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz\n"
			      "flags\t\t: fpu vme pae nx lm avx avx2 avx512f\n"
			      "vmx flags\t: vnmi ept\n"
			      "\n"
			      "processor\t: 1\n"
			      "vendor_id\t: Other\n";

static void host(struct kt_mig_facts *f, const char *name, const char *cpu)
{
	memset(f, 0, sizeof(*f));
	assert_int_equal(kt_mig_cpuinfo_parse(cpu, f), 0);
	snprintf(f->hostname, sizeof(f->hostname), "%s", name);
	snprintf(f->libvirt_version, sizeof(f->libvirt_version), "9.0.0");
	snprintf(f->qemu_version, sizeof(f->qemu_version), "7.2.0");
}

static void test_cpuinfo(void **state)
{
	struct kt_mig_facts f;

	(void)state;
	host(&f, "a", cpuinfo);
	assert_string_equal(f.cpu_vendor, "GenuineIntel");
	assert_string_equal(f.cpu_model, "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz");
	assert_int_equal(f.cpu_flags.n, 8);
	assert_true(f.nx && f.lm);
	assert_int_equal(f.word_size, 64);
	/* "vmx flags" is not "flags". */
	assert_false(kt_strv_has(&f.cpu_flags, "ept"));
	kt_mig_facts_clear(&f);
	assert_int_equal(kt_mig_cpuinfo_parse("processor : 0\n", &f), -EBADMSG);
	kt_mig_facts_clear(&f);
}

static void test_json(void **state)
{
	static const struct {
		const char *text;
		int r;
	} cases[] = {
		{ "{\"a\":[1,-2.5e3,true,false,null,\"x\\u00e9\\ud83d\\ude00\\n\"]}", 0 },
		{ " [ ] ", 0 },
		{ "\"\\u0000\"", -EBADMSG },
		{ "\"\\ud800\"", -EBADMSG },
		{ "[1,]", -EBADMSG },
		{ "{\"a\" 1}", -EBADMSG },
		{ "01", -EBADMSG },
		{ "1.", -EBADMSG },
		{ "[1] x", -EBADMSG },
		{ "\"ab", -EBADMSG },
		{ "\"a\tb\"", -EBADMSG },
		{ "tru", -EBADMSG },
		{ "", -EBADMSG },
	};
	char deep[2 * (KT_JSON_DEPTH_MAX + 2) + 1];
	struct kt_json *v = NULL;

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		int r = kt_json_parse(cases[i].text, strlen(cases[i].text), &v);

		if (r != cases[i].r)
			fail_msg("%s: %d, expected %d", cases[i].text, r, cases[i].r);
		if (r == 0 && i == 0) {
			const struct kt_json *a = kt_json_get(v, "a");

			assert_non_null(a);
			assert_int_equal(a->n, 6);
			assert_true(a->items[1].number == -2500.0);
			assert_string_equal(a->items[5].string, "x\xc3\xa9\xf0\x9f\x98\x80\n");
		}
		v = kt_json_free(v);
	}
	memset(deep, '[', KT_JSON_DEPTH_MAX + 2);
	memset(deep + KT_JSON_DEPTH_MAX + 2, ']', KT_JSON_DEPTH_MAX + 2);
	deep[sizeof(deep) - 1] = '\0';
	assert_int_equal(kt_json_parse(deep, strlen(deep), &v), -EBADMSG);
}

static void test_roundtrip(void **state)
{
	struct kt_mig_facts a, b;
	char *text = NULL;

	(void)state;
	host(&a, "host \"a\"", cpuinfo);
	assert_int_equal(kt_strv_add(&a.domains, "web1"), 0);
	assert_int_equal(kt_strv_add(&a.used_bridges, "br0"), 0);
	assert_int_equal(kt_strv_add(&a.storage_pools, "default"), 0);
	assert_int_equal(kt_mig_facts_format(&a, &text), 0);
	assert_int_equal(kt_mig_facts_parse(text, strlen(text), &b), 0);
	assert_string_equal(b.hostname, "host \"a\"");
	assert_string_equal(b.cpu_model, a.cpu_model);
	assert_int_equal(b.cpu_flags.n, a.cpu_flags.n);
	assert_true(b.nx && b.lm && b.word_size == 64);
	assert_true(kt_strv_has(&b.used_bridges, "br0"));
	assert_true(kt_strv_has(&b.storage_pools, "default"));
	free(text);
	kt_mig_facts_clear(&b);
	/* Another version, or a field missing, is not ours to guess at. */
	assert_int_equal(kt_mig_facts_parse("{\"version\":2}", 13, &b), -EBADMSG);
	assert_int_equal(kt_mig_facts_parse("[]", 2, &b), -EBADMSG);
	kt_mig_facts_clear(&a);
}

struct peer_case {
	const char *desc;
	void (*change)(struct kt_mig_facts *local, struct kt_mig_facts *peer);
	const char *check;
	enum kt_check_level level;
	const char *expect;
};

static void amd(struct kt_mig_facts *l, struct kt_mig_facts *p)
{
	(void)l;
	snprintf(p->cpu_vendor, sizeof(p->cpu_vendor), "AuthenticAMD");
}

static void no_nx(struct kt_mig_facts *l, struct kt_mig_facts *p)
{
	(void)l;
	p->nx = false;
}

static void bits32(struct kt_mig_facts *l, struct kt_mig_facts *p)
{
	(void)l;
	p->lm = false;
	p->word_size = 32;
}

static void fewer_flags(struct kt_mig_facts *l, struct kt_mig_facts *p)
{
	(void)l;
	kt_strv_clear(&p->cpu_flags);
	kt_strv_add(&p->cpu_flags, "fpu");
	kt_strv_add(&p->cpu_flags, "avx");
}

static void same_name(struct kt_mig_facts *l, struct kt_mig_facts *p)
{
	kt_strv_add(&l->domains, "web1");
	kt_strv_add(&l->domains, "db1");
	kt_strv_add(&p->domains, "db1");
}

static void bridge(struct kt_mig_facts *l, struct kt_mig_facts *p)
{
	kt_strv_add(&l->used_bridges, "br0");
	kt_strv_add(&l->used_networks, "default");
	kt_strv_add(&p->networks, "default");
}

static void network(struct kt_mig_facts *l, struct kt_mig_facts *p)
{
	kt_strv_add(&l->used_networks, "san");
	kt_strv_add(&p->bridges, "br0");
}

static void pool(struct kt_mig_facts *l, struct kt_mig_facts *p)
{
	(void)p;
	kt_strv_add(&l->storage_pools, "images");
}

static void older(struct kt_mig_facts *l, struct kt_mig_facts *p)
{
	(void)l;
	snprintf(p->qemu_version, sizeof(p->qemu_version), "5.2.0");
}

static const struct peer_case peer_cases[] = {
	{ "alike", NULL, "peer-cpu", KT_CHECK_PASS, "GenuineIntel 64-bit on both" },
	{ "another vendor", amd, "peer-cpu", KT_CHECK_FAIL, "CPU vendor GenuineIntel here, AuthenticAMD on b" },
	{ "no NX", no_nx, "peer-cpu", KT_CHECK_FAIL, "NX is on here and off on b" },
	{ "32-bit", bits32, "peer-cpu", KT_CHECK_FAIL, "64-bit here, 32-bit on b" },
	{ "fewer flags", fewer_flags, "peer-cpu", KT_CHECK_WARN, "b lacks 6 CPU flags this host has: vme, pae, nx, lm, avx2, avx512f" },
	{ "a name on both", same_name, "peer-domains", KT_CHECK_FAIL, "1 domain is defined on both hosts: db1" },
	{ "no names on both", NULL, "peer-domains", KT_CHECK_PASS, "no domain name" },
	{ "a bridge missing", bridge, "peer-network", KT_CHECK_FAIL, "use bridges b lacks: br0" },
	{ "a network missing", network, "peer-network", KT_CHECK_FAIL, "use libvirt networks b lacks: san" },
	{ "networks alike", NULL, "peer-network", KT_CHECK_PASS, "b has every bridge and network" },
	{ "a pool missing", pool, "peer-storage", KT_CHECK_WARN, "b lacks storage pools of this host: images" },
	{ "an older QEMU", older, "peer-versions", KT_CHECK_WARN, "QEMU 7.2.0 and libvirt 9.0.0 here, QEMU 5.2.0" },
	{ "same versions", NULL, "peer-versions", KT_CHECK_PASS, "no older than here" },
};

static void test_compare(void **state)
{
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(peer_cases); i++) {
		const struct peer_case *c = &peer_cases[i];
		enum kt_check_level worst = KT_CHECK_PASS;
		struct kt_check_report rep = { 0 };
		struct kt_mig_facts l, p;
		bool found = false;

		host(&l, "a", cpuinfo);
		host(&p, "b", cpuinfo);
		if (c->change)
			c->change(&l, &p);
		assert_int_equal(kt_mig_compare(&l, &p, &rep), 0);
		for (unsigned k = 0; k < rep.n; k++) {
			if (strcmp(rep.items[k].check, c->check) != 0)
				continue;
			if (rep.items[k].level > worst)
				worst = rep.items[k].level;
			found = found || strstr(rep.items[k].message, c->expect);
		}
		if (worst != c->level || !found) {
			for (unsigned k = 0; k < rep.n; k++)
				fprintf(stderr, "  %s %s %s\n", kt_check_level_name(rep.items[k].level),
					rep.items[k].check, rep.items[k].message);
			fail_msg("%s: %s is %s, expected %s with \"%s\"", c->desc, c->check,
				 kt_check_level_name(worst), kt_check_level_name(c->level), c->expect);
		}
		kt_check_report_clear(&rep);
		kt_mig_facts_clear(&l);
		kt_mig_facts_clear(&p);
	}
}

static void test_read(void **state)
{
	struct fixture *f = fixture_open("check-2node");
	struct kt_host_facts h;
	struct kt_mig_facts m;
	static const char xml[] = "<domain><name>web1</name><memory>1024</memory><devices>"
				  "<interface type='bridge'><source bridge='br0'/></interface>"
				  "<interface type='network'><source network='default'/></interface>"
				  "</devices></domain>";

	(void)state;
	assert_int_equal(kt_host_facts_read(f->ctx, &h), 0);
	assert_int_equal(kt_host_facts_add_domain(f->ctx, &h, xml, sizeof(xml) - 1, false), 0);
	assert_int_equal(kt_mig_facts_read(f->ctx, &h, &m), 0);
	assert_string_equal(m.hostname, "kvm-a");
	assert_string_equal(m.cpu_vendor, "GenuineIntel");
	assert_true(kt_strv_has(&m.bridges, "br0"));
	assert_false(kt_strv_has(&m.bridges, "eth0"));
	assert_true(kt_strv_has(&m.used_bridges, "br0"));
	assert_true(kt_strv_has(&m.used_networks, "default"));
	assert_true(kt_strv_has(&m.domains, "web1"));
	kt_mig_facts_clear(&m);
	kt_host_facts_clear(&h);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuinfo),	 cmocka_unit_test(test_json),
		cmocka_unit_test(test_roundtrip), cmocka_unit_test(test_compare),
		cmocka_unit_test(test_read),
	};

	return cmocka_run_group_tests(tests, host_guard_setup, host_guard_teardown);
}
