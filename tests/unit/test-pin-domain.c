// SPDX-License-Identifier: LGPL-2.1-or-later
/* kvm_pin's options and a domain's request from its XML: good input, and one line for bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "domxml.h"
#include "fixture.h"
#include "pin-domain.h"

static int options(struct fixture *f, struct kt_topology *t, const char *const *pairs,
		   struct kt_pin_options *ret)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	int r;

	for (; pairs[0]; pairs += 2)
		assert_int_equal(kt_kvlist_set(&opts, pairs[0], pairs[1]), 0);
	r = kt_pin_options_parse(f->ctx, t, &opts, ret);
	kt_kvlist_clear(&opts);
	return r;
}

static void test_options(void **state)
{
	static const struct {
		const char *pairs[8];
		int r;
		/* The one error line, or for good options the dedicated and shared sets. */
		const char *expect;
	} cases[] = {
		{ { NULL }, 0, "dedicated=2-7,10-15 shared=0-1,8-9" },
		{ { "dedicated_cpus", "4-5", NULL }, 0, "dedicated=4-5 shared=0-3,6-15" },
		{ { "dedicated_cpus", "4-5", "shared_cpus", "0", NULL }, 0, "dedicated=4-5 shared=0" },
		{ { "dedicated_cpus", "14-17", NULL }, -EINVAL,
		  "dedicated_cpus=14-17 names CPUs that are offline or absent (16-17): expected "
		  "CPUs of 0-15" },
		{ { "dedicated_cpus", "1-", NULL }, -EINVAL,
		  "dedicated_cpus=1- is invalid: expected a CPU list such as 1-3,6 (online: 0-15)" },
		{ { "default_policy", "fast", NULL }, -EINVAL,
		  "default_policy=fast is invalid: expected shared or dedicated" },
		{ { "thread_policy", "sometimes", NULL }, -EINVAL,
		  "thread_policy=sometimes is invalid: expected prefer, isolate or require" },
		{ { "dedicated_cpus", "2-3", "shared_cpus", "3-4", NULL }, -EINVAL,
		  "shared_cpus=3-4 overlaps dedicated_cpus=2-3: expected disjoint CPU lists" },
		{ { "memtune_soft_limit", "2G", "memtune_hard_limit", "1G", NULL }, -EINVAL,
		  "memtune_soft_limit is above memtune_hard_limit: expected soft <= hard" },
		{ { "colour", "blue", NULL }, -EINVAL, "unknown option colour=blue" },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct fixture *f = fixture_open("topo-isolated");
		struct kt_topology *t = NULL;
		struct kt_pin_options o;
		char d[64], s[64], got[160];

		assert_int_equal(kt_topology_read(f->ctx, &t), 0);
		assert_int_equal(options(f, t, cases[i].pairs, &o), cases[i].r);
		if (cases[i].r == 0) {
			kt_cpulist_format(&o.cfg.dedicated, d, sizeof(d));
			kt_cpulist_format(&o.cfg.shared, s, sizeof(s));
			snprintf(got, sizeof(got), "dedicated=%s shared=%s", d, s);
			assert_string_equal(got, cases[i].expect);
			assert_int_equal(f->errors, 0);
		} else {
			assert_int_equal(f->errors, 1);
			assert_non_null(strstr(f->log, cases[i].expect));
		}
		kt_topology_free(t);
		fixture_close(f);
	}
}

#define DOM(meta, extra)                                                                      \
	"<domain type='qemu'><name>g1</name><memory unit='KiB'>1048576</memory>"              \
	"<vcpu placement='static'>4</vcpu><iothreads>2</iothreads>" extra                     \
	"<metadata><kt:tuning xmlns:kt='" KT_DOMXML_NS "' " meta "/></metadata></domain>"

static void test_request(void **state)
{
	static const struct {
		const char *xml;
		int r;
		const char *expect;
	} cases[] = {
		{ DOM("", ""), 0, "shared 4 vcpus 2 iothreads shares 4096 cells 0" },
		{ DOM("policy='dedicated' emulator_policy='isolate' thread_policy='require'", ""), 0,
		  "dedicated 4 vcpus 2 iothreads shares 0 cells 0" },
		{ DOM("cpu_shares='300'", "<cpu><numa><cell id='0' cpus='0-1' memory='512'/>"
					  "<cell id='1' cpus='2-3' memory='512'/></numa></cpu>"),
		  0, "shared 4 vcpus 2 iothreads shares 300 cells 2" },
		{ DOM("policy='fast'", ""), -EINVAL,
		  "domain g1: metadata policy='fast' is invalid: expected shared or dedicated" },
		{ DOM("blkio_weight='5'", ""), -EINVAL,
		  "domain g1: metadata blkio_weight='5' is invalid: expected an integer 100..1000" },
		{ DOM("memtune_hard_limit='lots'", ""), -EINVAL,
		  "domain g1: metadata memtune_hard_limit='lots' is invalid" },
		{ DOM("", "<cpu><numa><cell id='0' cpus='0,2' memory='512'/></numa></cpu>"), -EINVAL,
		  "domain g1: its guest NUMA cells are not lists of consecutive vCPUs" },
		{ "<domain><name>g1</name>", -EBADMSG, "a domain's XML does not parse" },
	};

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		struct fixture *f = fixture_open("topo-isolated");
		struct kt_topology *t = NULL;
		struct kt_pin_request req;
		struct kt_pin_options o;
		const char *none[] = { NULL };
		char got[160];

		assert_int_equal(kt_topology_read(f->ctx, &t), 0);
		assert_int_equal(options(f, t, none, &o), 0);
		assert_int_equal(kt_pin_request_from_xml(f->ctx, &o, cases[i].xml,
							 strlen(cases[i].xml), &req),
				 cases[i].r);
		if (cases[i].r == 0) {
			snprintf(got, sizeof(got), "%s %u vcpus %u iothreads shares %u cells %u",
				 kt_pin_policy_name(req.policy), req.vcpus, req.iothreads,
				 req.cpu_shares, req.n_cells);
			assert_string_equal(got, cases[i].expect);
			assert_string_equal(req.name, "g1");
		} else {
			assert_int_equal(f->errors, 1);
			assert_non_null(strstr(f->log, cases[i].expect));
		}
		kt_topology_free(t);
		fixture_close(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_request),
	};

	return cmocka_run_group_tests(tests, host_guard_setup, host_guard_teardown);
}
