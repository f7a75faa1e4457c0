// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Pinning through libvirt's test driver (test:///default: one running domain "test" with 2
 * vCPUs on an 8-CPU host, its state private to the connection) on the 8-CPU fixture
 * topology: apply, exact restore, a killed predecessor's journal, an unplaceable domain,
 * bad metadata, and orphans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <libvirt/libvirt.h>

#include "domxml.h"
#include "fixture.h"
#include "journal.h"
#include "pin-tuning.h"
#include "restore.h"
#include "virt-internal.h"
#include "virt-pin.h"

#define TEST_UUID "6695eb01-f6a4-8304-79aa-97f2502e193f"

static struct kt_virt *test_driver(void)
{
	struct kt_virt *v = NULL;

	assert_int_equal(kt_virt_connect("test:///default", false, &v, NULL), 0);
	return v;
}

static struct kt_pin_tuning *tuning(struct fixture *f, const char *const *pairs)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_pin_tuning *t = NULL;

	assert_int_equal(kt_kvlist_set(&opts, "libvirt_uri", "test:///default"), 0);
	for (; pairs[0]; pairs += 2)
		assert_int_equal(kt_kvlist_set(&opts, pairs[0], pairs[1]), 0);
	assert_int_equal(kt_pin_tuning_new(f->ctx, "kvm_pin-test", "test", &opts, &t), 0);
	kt_kvlist_clear(&opts);
	return t;
}

/* "v0 v1 emulator" affinities as CPU lists. */
static void affinity(struct kt_virt *v, char *buf, size_t size)
{
	struct kt_cpuset vcpus[4], emu;
	unsigned n = 0;
	size_t len = 0;

	assert_int_equal(kt_virt_pin_read(v, TEST_UUID, vcpus, 4, &n, &emu, NULL), 0);
	buf[0] = '\0';
	for (unsigned i = 0; i < n; i++) {
		len += (size_t)kt_cpulist_format(&vcpus[i], buf + len, size - len);
		len += (size_t)snprintf(buf + len, size - len, " ");
	}
	kt_cpulist_format(&emu, buf + len, size - len);
}

static const char *const dedicated[] = { "default_policy", "dedicated", "dedicated_cpus", "2-7",
					 NULL };

static void test_apply_restore(void **state)
{
	struct fixture *f = fixture_open("topo-1s-nosmt");
	struct kt_virt *v = test_driver();
	struct kt_pin_tuning *t;
	char got[128];

	(void)state;
	affinity(v, got, sizeof(got));
	assert_string_equal(got, "0-7 0-7 0-7");
	t = tuning(f, dedicated);
	assert_int_equal(kt_pin_tuning_sync(t, v), 1);
	affinity(v, got, sizeof(got));
	assert_string_equal(got, "2 3 0-1");
	assert_true(fixture_exists(f, "var/lib/kvmtune/kvm_pin-test.journal"));
	assert_non_null(strstr(f->log, "domain test pinned, dedicated: vCPU 0->2 1->3"));
	/* A second sync changes nothing. */
	assert_int_equal(kt_pin_tuning_sync(t, v), 1);
	assert_int_equal(kt_pin_tuning_unapply(t, v, true), 0);
	affinity(v, got, sizeof(got));
	assert_string_equal(got, "0-7 0-7 0-7");
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_pin-test.journal"));
	assert_int_equal(f->errors, 0);
	kt_virt_close(v);
	fixture_close(f);
}

/* A tuned killed while pinned: the next run keeps the journal's originals. */
static void test_killed_predecessor(void **state)
{
	static const char *const other[] = { "default_policy", "dedicated", "dedicated_cpus", "4-7",
					     NULL };
	struct fixture *f = fixture_open("topo-1s-nosmt");
	struct kt_virt *v = test_driver();
	struct kt_pin_tuning *t;
	char got[128];

	(void)state;
	t = tuning(f, dedicated);
	assert_int_equal(kt_pin_tuning_sync(t, v), 1);
	/* Killed: nothing restored, the journal stays. */
	assert_int_equal(kt_pin_tuning_unapply(t, v, false), 0);
	assert_true(fixture_exists(f, "var/lib/kvmtune/kvm_pin-test.journal"));
	t = tuning(f, other);
	assert_int_equal(kt_pin_tuning_sync(t, v), 1);
	affinity(v, got, sizeof(got));
	assert_string_equal(got, "4 5 0-3");
	assert_int_equal(kt_pin_tuning_unapply(t, v, true), 0);
	affinity(v, got, sizeof(got));
	assert_string_equal(got, "0-7 0-7 0-7");
	kt_virt_close(v);
	fixture_close(f);
}

static void test_unplaceable(void **state)
{
	static const char *const small[] = { "default_policy", "dedicated", "dedicated_cpus", "7",
					     NULL };
	struct fixture *f = fixture_open("topo-1s-nosmt");
	struct kt_virt *v = test_driver();
	struct kt_pin_tuning *t;
	char got[128];

	(void)state;
	t = tuning(f, small);
	assert_int_equal(kt_pin_tuning_sync(t, v), 0);
	affinity(v, got, sizeof(got));
	assert_string_equal(got, "0-7 0-7 0-7");
	assert_non_null(strstr(f->log, "domain test: cannot be placed: needs 2 dedicated CPUs"));
	assert_non_null(strstr(f->log, "left as it is"));
	/* Said once, not at every event. */
	fixture_clear_log(f);
	assert_int_equal(kt_pin_tuning_sync(t, v), 0);
	assert_int_equal(f->warnings, 0);
	assert_int_equal(kt_pin_tuning_unapply(t, v, true), 0);
	kt_virt_close(v);
	fixture_close(f);
}

static void test_bad_metadata(void **state)
{
	static const char *const none[] = { NULL };
	struct fixture *f = fixture_open("topo-1s-nosmt");
	struct kt_virt *v = test_driver();
	struct kt_pin_tuning *t;
	virDomainPtr dom = virDomainLookupByName(v->conn, "test");
	char got[128];

	(void)state;
	assert_non_null(dom);
	assert_int_equal(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
					      "<tuning policy='fastest'/>", "kt", KT_DOMXML_NS,
					      VIR_DOMAIN_AFFECT_LIVE),
			 0);
	t = tuning(f, none);
	assert_int_equal(kt_pin_tuning_sync(t, v), 0);
	assert_non_null(strstr(f->log, "domain test: metadata policy='fastest' is invalid: "
				       "expected shared or dedicated; domain left as it is"));
	affinity(v, got, sizeof(got));
	assert_string_equal(got, "0-7 0-7 0-7");
	assert_int_equal(kt_pin_tuning_unapply(t, v, true), 0);
	/* Marked dedicated by the operator, the same guest is pinned. */
	assert_int_equal(virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT,
					      "<tuning policy='dedicated' emulator_policy='isolate'/>",
					      "kt", KT_DOMXML_NS, VIR_DOMAIN_AFFECT_LIVE),
			 0);
	t = tuning(f, (const char *const[]){ "dedicated_cpus", "5-7", NULL });
	assert_int_equal(kt_pin_tuning_sync(t, v), 1);
	affinity(v, got, sizeof(got));
	assert_string_equal(got, "5 6 7");
	assert_int_equal(kt_pin_tuning_unapply(t, v, true), 0);
	affinity(v, got, sizeof(got));
	assert_string_equal(got, "0-7 0-7 0-7");
	virDomainFree(dom);
	kt_virt_close(v);
	fixture_close(f);
}

/* restore --orphans knows kvm_pin's journals. */
static void test_orphans(void **state)
{
	struct fixture *f = fixture_open("topo-1s-nosmt");
	struct kt_virt *v = test_driver();
	struct kt_pin_tuning *t;

	(void)state;
	t = tuning(f, dedicated);
	assert_int_equal(kt_pin_tuning_sync(t, v), 1);
	assert_int_equal(kt_pin_tuning_unapply(t, v, false), 0);
	/* A fresh test:///default runs "test" with the id the journal names: put back. */
	assert_int_equal(kt_restore_orphans(f->ctx, "test"), 1);
	assert_false(fixture_exists(f, "var/lib/kvmtune/kvm_pin-test.journal"));
	kt_virt_close(v);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apply_restore),
		cmocka_unit_test(test_killed_predecessor),
		cmocka_unit_test(test_unplaceable),
		cmocka_unit_test(test_bad_metadata),
		cmocka_unit_test(test_orphans),
	};

	return cmocka_run_group_tests(tests, host_guard_setup, host_guard_teardown);
}
