// SPDX-License-Identifier: LGPL-2.1-or-later
/* The on-disk journal and tune/untune: originals survive a crash, corruption never crashes. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "io.h"
#include "journal.h"
#include "ksm.h"

#define KSM "sys/kernel/mm/ksm/"
#define JOURNAL KT_STATE_DIR "/kvm_ksm-ksm.journal"
#define JOURNAL_T KT_STATE_DIR "/t.journal"

static void test_round_trip(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist kv = KT_KVLIST_INIT, back = KT_KVLIST_INIT;

	(void)state;
	kt_kvlist_set(&kv, "run", "0");
	kt_kvlist_set(&kv, "cmdline", "a=b c");
	kt_kvlist_set(&kv, "empty", "");
	assert_int_equal(kt_journal_read(f->ctx, "t", &back), -ENOENT);
	assert_int_equal(kt_journal_write(f->ctx, "t", &kv), 0);
	assert_int_equal(kt_journal_read(f->ctx, "t", &back), 0);
	assert_int_equal(back.n, 3);
	assert_string_equal(kt_kvlist_get(&back, "cmdline"), "a=b c");
	assert_string_equal(kt_kvlist_get(&back, "empty"), "");
	assert_false(fixture_exists(f, KT_STATE_DIR "/.t.journal.tmp"));
	assert_int_equal(kt_journal_remove(f->ctx, "t"), 0);
	assert_int_equal(kt_journal_remove(f->ctx, "t"), 0);
	assert_int_equal(kt_journal_write(f->ctx, "../escape", &kv), -EINVAL);
	assert_int_equal(kt_journal_write(f->ctx, ".hidden", &kv), -EINVAL);
	kt_kvlist_clear(&kv);
	kt_kvlist_clear(&back);
	fixture_close(f);
}

static int count_aside(void *data, const char *name)
{
	if (strncmp(name, "t.journal.corrupt-", 18) == 0)
		(*(int *)data)++;
	return 0;
}

static int journals_set_aside(struct fixture *f)
{
	int n = 0;

	assert_int_equal(kt_dir_for_each(f->ctx, KT_STATE_DIR, count_aside, &n), 0);
	return n;
}

static const struct {
	const char *text;
	const char *why;
} corrupt_cases[] = {
	{ "", "empty" },
	{ "# only a comment\n\n", "empty" },
	{ "garbage\n", "unknown header" },
	{ "kvmtune-journal 2\nend 0 00000000\n", "unknown header" },
	{ "kvmtune-journal 1\n", "truncated: no end line" },
	{ "kvmtune-journal 1\nrun=0\n", "truncated: no end line" },
	{ "kvmtune-journal 1\nrun=0\nend 1 00000000\n", "checksum or count mismatch" },
	{ "kvmtune-journal 1\nrun=0\nend 2 ffffffff\n", "checksum or count mismatch" },
	{ "kvmtune-journal 1\nrun0\nend 1 0\n", "a line without '='" },
	{ "kvmtune-journal 1\n../x=1\nend 1 0\n", "an invalid key" },
	{ "kvmtune-journal 1\n=1\nend 1 0\n", "an invalid key" },
	{ "kvmtune-journal 1\nrun=0\nrun=1\nend 2 0\n", "a key given twice" },
	{ "kvmtune-journal 1\nend 0 00000000\nrun=1\n", "data after the end line" },
	{ "kvmtune-journal 1\nend zz\n", "a malformed end line" },
	{ "kvmtune-journal 1\nend -1 0\n", "a malformed end line" },
	{ "kvmtune-journal 1\nend 0 00000000 more\n", "a malformed end line" },
};

static void test_parse(void **state)
{
	struct kt_kvlist kv = KT_KVLIST_INIT, back = KT_KVLIST_INIT, keep = KT_KVLIST_INIT;
	const char *why = NULL;
	char *text;
	size_t len;

	(void)state;
	kt_kvlist_set(&kv, "run", "0");
	kt_kvlist_set(&kv, "cmdline", "a=b c");
	kt_kvlist_set(&kv, "empty", "");
	assert_int_equal(kt_journal_format(&kv, &text, &len), 0);
	assert_int_equal(strlen(text), len);
	assert_int_equal(kt_journal_parse(text, &back, &why), 0);
	assert_int_equal(back.n, 3);
	for (size_t i = 0; i < kv.n; i++) {
		assert_string_equal(back.items[i].key, kv.items[i].key);
		assert_string_equal(back.items[i].value, kv.items[i].value);
	}
	kt_kvlist_clear(&back);
	/* Comments and blank lines anywhere, also after the end line. */
	assert_int_equal(kt_journal_parse("\n# a\nkvmtune-journal 1\n\n# b\nend 0 00000000\n# c\n",
					  &back, &why),
			 0);
	assert_int_equal(back.n, 0);
	free(text);
	/* What a journal cannot hold is refused, not written half. */
	kt_kvlist_set(&kv, "bad", "two\nlines");
	assert_int_equal(kt_journal_format(&kv, &text, &len), -EINVAL);
	kt_kvlist_clear(&kv);
	kt_kvlist_set(&kv, "bad key", "1");
	assert_int_equal(kt_journal_format(&kv, &text, &len), -EINVAL);
	kt_kvlist_clear(&kv);
	/* Pure: a reason for each corrupt shape, and *ret left alone. */
	kt_kvlist_set(&keep, "untouched", "1");
	for (size_t i = 0; i < KT_ELEMENTSOF(corrupt_cases); i++) {
		why = NULL;
		if (kt_journal_parse(corrupt_cases[i].text, &keep, &why) != -EBADMSG)
			fail_msg("journal \"%s\" was not reported corrupt", corrupt_cases[i].text);
		if (!why || strcmp(why, corrupt_cases[i].why) != 0)
			fail_msg("for \"%s\" expected '%s', got '%s'", corrupt_cases[i].text,
				 corrupt_cases[i].why, why ? why : "(null)");
		assert_int_equal(keep.n, 1);
	}
	kt_kvlist_clear(&keep);
}

static void test_corrupt_journals(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist kv = KT_KVLIST_INIT;
	int fd;

	(void)state;
	assert_int_equal(kt_journal_write(f->ctx, "t", &kv), 0);
	for (size_t i = 0; i < KT_ELEMENTSOF(corrupt_cases); i++) {
		char want[128];

		fixture_clear_log(f);
		fixture_write(f, JOURNAL_T, corrupt_cases[i].text);
		if (kt_journal_read(f->ctx, "t", &kv) != -EBADMSG)
			fail_msg("journal \"%s\" was not reported corrupt", corrupt_cases[i].text);
		/* Ignored, not a failure: one warning, no error. */
		assert_int_equal(f->errors, 0);
		assert_int_equal(f->warnings, 1);
		snprintf(want, sizeof(want), "journal /%s is corrupt (%s): moved to /%s.corrupt-",
			 JOURNAL_T, corrupt_cases[i].why, JOURNAL_T);
		if (!strstr(f->log, want) || !strstr(f->log, "check the host's values before trusting it"))
			fail_msg("for \"%s\" expected '%s' in: %s", corrupt_cases[i].text, want, f->log);
		assert_int_equal(kv.n, 0);
		/* Moved aside once, never replacing one moved aside before. */
		assert_false(fixture_exists(f, JOURNAL_T));
		assert_int_equal(journals_set_aside(f), (int)i + 1);
		fixture_clear_log(f);
		assert_int_equal(kt_journal_read(f->ctx, "t", &kv), -ENOENT);
		assert_int_equal(f->warnings, 0);
	}
	/* A NUL byte would hide whatever follows it from the parser. */
	fd = openat(kt_ctx_root_fd(f->ctx), JOURNAL_T, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "kvmtune-journal 1\nend 0 00000000\n\0x", 35), 35);
	close(fd);
	fixture_clear_log(f);
	assert_int_equal(kt_journal_read(f->ctx, "t", &kv), -EBADMSG);
	assert_non_null(strstr(f->log, "is corrupt (a NUL byte): moved to"));
	fixture_close(f);
}

static int list_names(void *data, const char *name)
{
	char *buf = data;

	if (strcmp(name, "stop") == 0)
		return 3;
	strcat(buf, name);
	strcat(buf, " ");
	return 0;
}

static void test_list(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_kvlist kv = KT_KVLIST_INIT;
	char names[256] = "";

	(void)state;
	/* No state directory yet: no journals, not an error. */
	assert_int_equal(kt_journal_list(f->ctx, list_names, names), 0);
	assert_string_equal(names, "");
	assert_int_equal(kt_journal_write(f->ctx, "kvm_ksm-b", &kv), 0);
	assert_int_equal(kt_journal_write(f->ctx, "kvm_ksm-a", &kv), 0);
	assert_int_equal(kt_journal_write(f->ctx, "watch", &kv), 0);
	fixture_write(f, KT_STATE_DIR "/.watch.journal.tmp", "");
	fixture_write(f, KT_STATE_DIR "/x.journal.corrupt-1764000000", "");
	fixture_write(f, KT_STATE_DIR "/notes.txt", "");
	fixture_write(f, KT_STATE_DIR "/.journal", "");
	fixture_write(f, KT_STATE_DIR "/bad name.journal", "");
	assert_int_equal(kt_journal_list(f->ctx, list_names, names), 0);
	assert_string_equal(names, "kvm_ksm-a kvm_ksm-b watch ");
	assert_int_equal(kt_journal_write(f->ctx, "stop", &kv), 0);
	names[0] = '\0';
	assert_int_equal(kt_journal_list(f->ctx, list_names, names), 3);
	assert_string_equal(names, "kvm_ksm-a kvm_ksm-b ");
	fixture_close(f);
}

static struct kt_ksm_values dense(struct fixture *f)
{
	struct kt_kvlist opts = KT_KVLIST_INIT;
	struct kt_ksm_values vals;

	kt_kvlist_set(&opts, "run", "1");
	kt_kvlist_set(&opts, "pages_to_scan", "500");
	kt_kvlist_set(&opts, "use_zero_pages", "1");
	assert_int_equal(kt_ksm_values_from_options(f->ctx, &opts, &vals), 0);
	kt_kvlist_clear(&opts);
	return vals;
}

static void test_tune_untune(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = dense(f), orig;

	(void)state;
	fake_kernel_reset(true);
	fixture_write(f, KSM "pages_to_scan", "123");
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), 0);
	assert_true(fixture_exists(f, JOURNAL));
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "500");
	assert_string_equal(orig.value[KT_KSM_PAGES_TO_SCAN], "123");
	assert_int_equal(kt_ksm_untune(f->ctx, "kvm_ksm-ksm", &orig), 0);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "123");
	assert_string_equal(fixture_read(f, KSM "run"), "0");
	assert_string_equal(fixture_read(f, KSM "use_zero_pages"), "0");
	assert_false(fixture_exists(f, JOURNAL));
	fixture_close(f);
}

static void test_crash_keeps_true_originals(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = dense(f), orig, orig2;

	(void)state;
	fake_kernel_reset(true);
	fixture_write(f, KSM "pages_to_scan", "123");
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), 0);
	/* tuned is killed: orig is lost. The restarted tuned applies the profile again. */
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig2), 0);
	assert_string_equal(orig2.value[KT_KSM_PAGES_TO_SCAN], "123");
	assert_string_equal(orig2.value[KT_KSM_RUN], "0");
	assert_non_null(strstr(f->log, "holds the original values"));
	/* Even an unapply that was handed the values we wrote restores the journal's. */
	assert_int_equal(kt_ksm_untune(f->ctx, "kvm_ksm-ksm", &want), 0);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "123");
	assert_string_equal(fixture_read(f, KSM "run"), "0");
	assert_false(fixture_exists(f, JOURNAL));
	fixture_close(f);
}

static void test_crash_then_restore_without_memory(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = dense(f), orig;

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), 0);
	assert_int_equal(kt_ksm_untune(f->ctx, "kvm_ksm-ksm", NULL), 0);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "100");
	assert_string_equal(fixture_read(f, KSM "run"), "0");
	fixture_close(f);
}

static void test_corrupt_journal_on_tune(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = dense(f), orig;

	(void)state;
	fake_kernel_reset(true);
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), 0);
	fixture_write(f, JOURNAL, "kvmtune-journal 1\nrun=0\npages_to_scan=1");
	fixture_clear_log(f);
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), 0);
	assert_non_null(strstr(f->log, "journal /" JOURNAL " is corrupt (truncated: no end line): "
					"moved to /" JOURNAL ".corrupt-"));
	assert_int_equal(f->errors, 0);
	assert_int_equal(f->warnings, 1);
	/* Without a usable journal the values found become the originals. */
	assert_string_equal(orig.value[KT_KSM_PAGES_TO_SCAN], "500");
	assert_true(fixture_exists(f, JOURNAL));
	/* Well formed, but not something kvmtune would have written: kept aside just the same. */
	fixture_write(f, JOURNAL, "kvmtune-journal 1\nrun=9\nend 1 df01f081\n");
	fixture_clear_log(f);
	assert_int_equal(kt_ksm_untune(f->ctx, "kvm_ksm-ksm", &orig), 0);
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "500");
	assert_non_null(strstr(f->log, "journal /" JOURNAL " is corrupt (an unknown knob or value): "
					"moved to /" JOURNAL ".corrupt-"));
	assert_int_equal(f->errors, 0);
	assert_int_equal(f->warnings, 1);
	assert_false(fixture_exists(f, JOURNAL));
	fixture_close(f);
}

static void test_failed_apply_leaves_no_journal(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct kt_ksm_values want = dense(f), orig;

	(void)state;
	fake_kernel_reset(true);
	fake_kernel.fail_at = 2;
	assert_int_equal(kt_ksm_tune(f->ctx, "kvm_ksm-ksm", &want, &orig), -EIO);
	assert_false(fixture_exists(f, JOURNAL));
	assert_string_equal(fixture_read(f, KSM "pages_to_scan"), "100");
	assert_string_equal(fixture_read(f, KSM "run"), "0");
	fixture_close(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_corrupt_journals),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_tune_untune),
		cmocka_unit_test(test_crash_keeps_true_originals),
		cmocka_unit_test(test_crash_then_restore_without_memory),
		cmocka_unit_test(test_corrupt_journal_on_tune),
		cmocka_unit_test(test_failed_apply_leaves_no_journal),
	};

	return cmocka_run_group_tests_name("journal", tests, host_guard_setup, host_guard_teardown);
}
