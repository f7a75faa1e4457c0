// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * isolated_cores for cpu-partitioning based profiles: the default on fixture topologies,
 * a host's value checked, and the variables file rewritten with its other lines kept.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fixture.h"
#include "isolated.h"
#include "topology.h"

#define VARFILE "/etc/tuned/kvm-latency-variables.conf"
#define VARREL "etc/tuned/kvm-latency-variables.conf"

static void make_etc(struct fixture *f)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/etc", f->root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/tuned", f->root);
	mkdir(path, 0755);
}

/* clang-format off */
static const struct {
	const char *fixture;
	const char *isolated;
} defaults[] = {
	/* this host: 1 socket, 2 cores */
	{ "topo-2cpu", "1" },
	{ "topo-1s-nosmt", "1-7" },
	/* cores 0 of both sockets with their siblings (0,16 and 8,24) stay */
	{ "topo-2s-smt2-2n", "1-7,9-15,17-23,25-31" },
	{ "topo-4n-64", "1-7,9-15,17-23,25-31,33-39,41-47,49-55,57-63" },
	/* the command line's isolcpus= does not change the default */
	{ "topo-isolated", "1-7,9-15" },
};
/* clang-format on */

static void test_default(void **state)
{
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(defaults); i++) {
		struct fixture *f = fixture_open(defaults[i].fixture);
		kt_cleanup_free char *list = NULL;
		char want[512];

		make_etc(f);
		fixture_write(f, VARREL, "# the host's values\nno_balance_cores=5\n");
		assert_int_equal(kt_isolated_cores_resolve(f->ctx, VARFILE, NULL, &list), 0);
		assert_string_equal(list, defaults[i].isolated);
		/* said once, naming the value and the file */
		assert_int_equal(f->warnings, 1);
		snprintf(want, sizeof(want), "wrote isolated_cores=%s to " VARFILE,
			 defaults[i].isolated);
		assert_non_null(strstr(f->log, want));
		/* the other lines kept, the value appended */
		snprintf(want, sizeof(want), "isolated_cores=%s", defaults[i].isolated);
		assert_non_null(strstr(fixture_read(f, VARREL), "# the host's values\nno_balance_cores=5\n# "));
		assert_non_null(strstr(fixture_read(f, VARREL), want));
		fixture_close(f);
	}
}

static void test_default_no_file(void **state)
{
	struct fixture *f = fixture_open("topo-2cpu");
	kt_cleanup_free char *list = NULL;

	(void)state;
	make_etc(f);
	/* blank counts as unset, and a missing file is created */
	assert_int_equal(kt_isolated_cores_resolve(f->ctx, VARFILE, "  ", &list), 0);
	assert_string_equal(list, "1");
	assert_non_null(strstr(fixture_read(f, VARREL), "\nisolated_cores=1"));
	fixture_close(f);
}

static void test_default_nothing_to_isolate(void **state)
{
	struct fixture *f = fixture_open("topo-2cpu");
	kt_cleanup_free char *list = NULL;

	(void)state;
	make_etc(f);
	/* CPU 1 offline: one core is left, and it is housekeeping */
	fixture_write(f, "sys/devices/system/cpu/online", "0\n");
	fixture_write(f, "sys/devices/system/cpu/cpu1/online", "0\n");
	assert_int_equal(kt_isolated_cores_resolve(f->ctx, VARFILE, NULL, &list), -EINVAL);
	assert_int_equal(f->errors, 1);
	assert_non_null(strstr(f->log, "no CPU to isolate"));
	assert_false(fixture_exists(f, VARREL));
	fixture_close(f);
}

/* A host's value is kept as it is (canonical form) and the file is not touched. */
static void test_value_kept(void **state)
{
	struct fixture *f = fixture_open("topo-2s-smt2-2n");
	kt_cleanup_free char *list = NULL;

	(void)state;
	make_etc(f);
	fixture_write(f, VARREL, "isolated_cores=4-7,2,3\n");
	assert_int_equal(kt_isolated_cores_resolve(f->ctx, VARFILE, "4-7,2,3", &list), 0);
	assert_string_equal(list, "2-7");
	assert_int_equal(f->warnings + f->errors, 0);
	assert_string_equal(fixture_read(f, VARREL), "isolated_cores=4-7,2,3");
	fixture_close(f);
}

/* clang-format off */
static const struct {
	const char *value;
	const char *message;
} bad[] = {
	{ "2-x", "isolated_cores=2-x in " VARFILE " is invalid: expected a CPU list" },
	{ "1-2;5", "is invalid: expected a CPU list" },
	{ "1,40", "isolated_cores=1,40 in " VARFILE " is invalid: CPUs 40 are not online; expected online CPUs (0-31)" },
	{ "0-31", "it leaves no CPU for the host's own work" },
	{ "^3", "is invalid: expected a CPU list" },
};
/* clang-format on */

static void test_bad_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(bad); i++) {
		struct fixture *f = fixture_open("topo-2s-smt2-2n");
		char *list = NULL;

		make_etc(f);
		fixture_write(f, VARREL, "x=1\n");
		assert_int_equal(kt_isolated_cores_resolve(f->ctx, VARFILE, bad[i].value, &list),
				 -EINVAL);
		assert_null(list);
		assert_int_equal(f->errors, 1);
		if (!strstr(f->log, bad[i].message))
			fail_msg("%s: log '%s' lacks '%s'", bad[i].value, f->log, bad[i].message);
		assert_string_equal(fixture_read(f, VARREL), "x=1");
		fixture_close(f);
	}
}

static void test_bad_path(void **state)
{
	struct fixture *f = fixture_open("topo-2cpu");
	char *list = NULL;

	(void)state;
	assert_int_equal(kt_isolated_cores_resolve(f->ctx, "/etc/../../x", NULL, &list), -EINVAL);
	assert_int_equal(f->errors, 1);
	fixture_close(f);
}

/* clang-format off */
static const struct {
	const char *text;
	const char *want;
} edits[] = {
	{ "", "# C\nisolated_cores=3\n" },
	{ "a=1", "a=1\n# C\nisolated_cores=3\n" },
	/* every assignment goes, whatever its spacing; comments and look-alikes stay */
	{ "isolated_cores=1\n#isolated_cores=2-7\n  isolated_cores = 5\nisolated_cores_x=1\n",
	  "#isolated_cores=2-7\nisolated_cores_x=1\n# C\nisolated_cores=3\n" },
	/* the comment written before is not repeated */
	{ "# C\nisolated_cores=\nb=2\n", "b=2\n# C\nisolated_cores=3\n" },
};
/* clang-format on */

static void test_vars_set(void **state)
{
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(edits); i++) {
		kt_cleanup_free char *out = NULL;

		assert_int_equal(kt_isolated_vars_set(edits[i].text, strlen(edits[i].text), "C",
						      "3", &out),
				 0);
		assert_string_equal(out, edits[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_default_no_file),
		cmocka_unit_test(test_default_nothing_to_isolate),
		cmocka_unit_test(test_value_kept),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_path),
		cmocka_unit_test(test_vars_set),
	};

	return cmocka_run_group_tests(tests, host_guard_setup, host_guard_teardown);
}
