// SPDX-License-Identifier: LGPL-2.1-or-later
/* Domain XML through XPath, and the kernel command line's isolated CPUs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "domxml.h"
#include "fixture.h"
#include "topology.h"

static const char domain[] =
	"<domain type='qemu'><name>g1</name><memory unit='KiB'>1048576</memory>"
	"<vcpu placement='static'>2</vcpu>"
	"<metadata><kt:tuning xmlns:kt='" KT_DOMXML_NS "' policy='dedicated'/></metadata>"
	"<devices><disk type='file'><source file='/a.img'/></disk>"
	"<disk type='block'><source dev='/dev/vdb'/></disk></devices></domain>";

static int collect(void *data, const struct kt_domxml_node *node)
{
	char *s = NULL, *buf = data;

	if (kt_domxml_string(node, "source/@file | source/@dev", &s) == 0) {
		strcat(buf, s);
		strcat(buf, ";");
	}
	free(s);
	return 0;
}

static void test_xpath(void **state)
{
	struct kt_domxml *d = NULL;
	const struct kt_domxml_node *root;
	char *s = NULL, seen[128] = "";
	uint64_t v;

	(void)state;
	assert_int_equal(kt_domxml_parse(domain, sizeof(domain) - 1, &d), 0);
	root = kt_domxml_root(d);
	assert_int_equal(kt_domxml_string(root, "/domain/name", &s), 0);
	assert_string_equal(s, "g1");
	free(s);
	assert_int_equal(kt_domxml_u64(root, "/domain/memory", &v), 0);
	assert_int_equal(v, 1048576);
	assert_int_equal(kt_domxml_string(root, "/domain/metadata/kt:tuning/@policy", &s), 0);
	assert_string_equal(s, "dedicated");
	free(s);
	assert_int_equal(kt_domxml_string(root, "/domain/nothing", &s), -ENOENT);
	assert_int_equal(kt_domxml_u64(root, "/domain/name", &v), -EINVAL);
	assert_int_equal(kt_domxml_string(root, "/domain/[", &s), -EINVAL);
	assert_int_equal(kt_domxml_count(root, "/domain/devices/disk"), 2);
	assert_int_equal(kt_domxml_each(root, "/domain/devices/disk", collect, seen), 0);
	assert_string_equal(seen, "/a.img;/dev/vdb;");
	kt_domxml_free(d);
}

static void test_bad_xml(void **state)
{
	static const char *const bad[] = {
		"", "<domain>", "not xml", "<a></b>",
		"<!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><domain>&e;</domain>",
	};
	struct kt_domxml *d = NULL;

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(bad); i++) {
		int r = kt_domxml_parse(bad[i], strlen(bad[i]), &d);

		if (r == 0) {
			char *s = NULL;

			/* Parsed, but the external entity was never loaded. */
			assert_int_equal(kt_domxml_string(kt_domxml_root(d), "/domain", &s), 0);
			assert_null(strstr(s, "root:"));
			free(s);
			d = kt_domxml_free(d);
			continue;
		}
		assert_int_equal(r, -EBADMSG);
	}
}

static void test_cmdline_isolated(void **state)
{
	static const struct {
		const char *cmdline;
		int r;
		const char *cpus;
	} cases[] = {
		{ "quiet splash", 0, "" },
		{ "isolcpus=2-3", 0, "2-3" },
		{ "isolcpus=domain,managed_irq,2-3,5 nohz_full=7", 0, "2-3,5,7" },
		{ "nohz_full=1-3 isolcpus=nohz,1-3", 0, "1-3" },
		{ "ro -- isolcpus=9", 0, "" },
		{ "isolcpus=domain", 0, "" },
		{ "isolcpus=2-x", -EINVAL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct kt_cpuset set;
		char buf[64];

		assert_int_equal(kt_topology_parse_cmdline(cases[i].cmdline, &set), cases[i].r);
		if (cases[i].r < 0)
			continue;
		assert_true(kt_cpulist_format(&set, buf, sizeof(buf)) >= 0);
		assert_string_equal(buf, cases[i].cpus);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xpath),
		cmocka_unit_test(test_bad_xml),
		cmocka_unit_test(test_cmdline_isolated),
	};

	return cmocka_run_group_tests_name("domxml", tests, host_guard_setup, host_guard_teardown);
}
