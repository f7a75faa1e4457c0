// SPDX-License-Identifier: LGPL-2.1-or-later
/* The controller's state file: written whole, read back, judged stale, refused when bad. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "io.h"
#include "ksmctl-state.h"

static struct kt_ksmctl_statefile sample_state(void)
{
	struct kt_ksmctl_statefile sf;

	kt_ksmctl_statefile_init(&sf);
	snprintf(sf.owner, sizeof(sf.owner), "kvmtune ksm watch (pid 37)");
	snprintf(sf.mode, sizeof(sf.mode), "dynamic");
	snprintf(sf.phase, sizeof(sf.phase), "settled");
	snprintf(sf.reason, sizeof(sf.reason), "settled: the last full scan added 12 pages (< 3210)");
	sf.since = 1795000000;
	sf.decided = 1795000300;
	sf.guests_mib = 3072;
	sf.guests_rss_mib = 3350;
	sf.threshold_mib = 23864;
	sf.available_mib = 19000;
	sf.psi_some_avg10 = 0.25;
	sf.saved_mib = 1540.8;
	sf.ksmd_cpu_seconds = 12.5;
	/* ksmd's pid in the fixture: a process that is alive below its root. */
	sf.pid = 37;
	return sf;
}

static int entries(struct fixture *f, const char *rel)
{
	char path[1024];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	d = opendir(path);
	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_write_read(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksmctl_statefile sf = sample_state(), back;

	(void)state;
	assert_int_equal(kt_ksmctl_statefile_read(f->ctx, &back), -ENOENT);
	assert_int_equal(kt_ksmctl_statefile_write(f->ctx, &sf), 0);
	assert_string_equal(fixture_read(f, KT_KSMCTL_STATE_PATH) + 0,
			    "owner=kvmtune ksm watch (pid 37)\n"
			    "mode=dynamic\n"
			    "phase=settled\n"
			    "since=1795000000\n"
			    "decided=1795000300\n"
			    "reason=settled: the last full scan added 12 pages (< 3210)\n"
			    "guests_mib=3072\n"
			    "guests_rss_mib=3350\n"
			    "threshold_mib=23864\n"
			    "available_mib=19000\n"
			    "psi_some_avg10=0.25\n"
			    "saved_mib=1540.8\n"
			    "ksmd_cpu_seconds=12.50\n"
			    "pid=37");
	/* No temporary file is left next to it. */
	assert_int_equal(entries(f, "run/kvmtune"), 1);
	assert_int_equal(kt_ksmctl_statefile_read(f->ctx, &back), 0);
	assert_string_equal(back.owner, sf.owner);
	assert_string_equal(back.mode, "dynamic");
	assert_string_equal(back.phase, "settled");
	assert_string_equal(back.reason, sf.reason);
	assert_int_equal(back.since, sf.since);
	assert_int_equal(back.decided, sf.decided);
	assert_int_equal(back.guests_mib, 3072);
	assert_int_equal(back.guests_rss_mib, 3350);
	assert_int_equal(back.threshold_mib, 23864);
	assert_int_equal(back.available_mib, 19000);
	assert_true(back.psi_some_avg10 > 0.249 && back.psi_some_avg10 < 0.251);
	assert_true(back.saved_mib > 1540.7 && back.saved_mib < 1540.9);
	assert_true(back.ksmd_cpu_seconds > 12.49 && back.ksmd_cpu_seconds < 12.51);
	assert_int_equal(back.pid, 37);
	assert_true(kt_ksmctl_statefile_alive(f->ctx, &back));

	/* Rewritten whole: the new state replaces the old. */
	snprintf(sf.phase, sizeof(sf.phase), "merging");
	sf.pid = 4242;
	assert_int_equal(kt_ksmctl_statefile_write(f->ctx, &sf), 0);
	assert_int_equal(kt_ksmctl_statefile_read(f->ctx, &back), 0);
	assert_string_equal(back.phase, "merging");
	/* No proc/4242 below the root: the writer is gone and the state is stale. */
	assert_false(kt_ksmctl_statefile_alive(f->ctx, &back));

	/* Only the writer removes it. */
	assert_int_equal(kt_ksmctl_statefile_remove(f->ctx, 37), 0);
	assert_true(fixture_exists(f, KT_KSMCTL_STATE_PATH));
	assert_int_equal(kt_ksmctl_statefile_remove(f->ctx, 4242), 0);
	assert_false(fixture_exists(f, KT_KSMCTL_STATE_PATH));
	fixture_close(f);
}

/* A reason with a newline must not forge a key. */
static void test_reason_one_line(void **state)
{
	struct kt_ksmctl_statefile sf = sample_state(), back;
	char buf[2048];

	(void)state;
	snprintf(sf.reason, sizeof(sf.reason), "bad\npid=99");
	assert_true(kt_ksmctl_statefile_format(&sf, buf, sizeof(buf)) > 0);
	assert_int_equal(kt_ksmctl_statefile_parse(buf, &back), 0);
	assert_string_equal(back.reason, "bad pid=99");
	assert_int_equal(back.pid, 37);
	assert_int_equal(kt_ksmctl_statefile_format(&sf, buf, 64), -ENOBUFS);
}

static const struct {
	const char *name;
	const char *text;
	int ret;
} parse_cases[] = {
	{ "minimal", "owner=x\nphase=off\npid=1\n", 0 },
	{ "unknown keys are skipped", "owner=x\nphase=off\npid=1\nfuture_key=7\n", 0 },
	{ "comments and blank lines", "# kvmtune\n\nowner=x\nphase=off\npid=1", 0 },
	{ "unknown inputs", "owner=x\nphase=off\npid=1\nguests_mib=-1\nksmd_cpu_seconds=-1.00\n", 0 },
	{ "empty", "", -EBADMSG },
	{ "no owner", "phase=off\npid=1\n", -EBADMSG },
	{ "no pid", "owner=x\nphase=off\n", -EBADMSG },
	{ "pid 0", "owner=x\nphase=off\npid=0\n", -EBADMSG },
	{ "line without =", "owner=x\nphase=off\npid=1\ngarbage\n", -EBADMSG },
	{ "bad number", "owner=x\nphase=off\npid=1\nsince=yesterday\n", -EBADMSG },
	{ "bad float", "owner=x\nphase=off\npid=1\nsaved_mib=nan\n", -EBADMSG },
	{ "too long a mode", "owner=x\nphase=off\npid=1\nmode=dynamicdynamicdynamic\n", -EBADMSG },
	{ "too long a key", "owner=x\nphase=off\npid=1\nkeykeykeykeykeykeykeykeykeykeykeykey=1\n",
	  -EBADMSG },
};

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(parse_cases); i++) {
		struct kt_ksmctl_statefile sf;
		int r = kt_ksmctl_statefile_parse(parse_cases[i].text, &sf);

		if (r != parse_cases[i].ret)
			fail_msg("%s: %d, expected %d", parse_cases[i].name, r, parse_cases[i].ret);
	}
}

/* A truncated or binary file is refused, not half read. */
static void test_read_bad_file(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksmctl_statefile sf;

	(void)state;
	assert_int_equal(kt_mkdir_p(f->ctx, "run/kvmtune", 0755), 0);
	fixture_write(f, KT_KSMCTL_STATE_PATH, "owner=kvmtune ksm watch\nphase=sett");
	assert_int_equal(kt_ksmctl_statefile_read(f->ctx, &sf), -EBADMSG);
	assert_int_equal(kt_write_file_atomic(f->ctx, KT_KSMCTL_STATE_PATH, "owner=a\0phase=off\npid=1\n",
					      24, 0644),
			 0);
	assert_int_equal(kt_ksmctl_statefile_read(f->ctx, &sf), -EBADMSG);
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_reason_one_line),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_read_bad_file),
	};

	return cmocka_run_group_tests_name("ksmctl-state", tests, host_guard_setup,
					   host_guard_teardown);
}
