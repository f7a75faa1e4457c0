// SPDX-License-Identifier: LGPL-2.1-or-later
/* io.c below a root, and the guard that keeps unit tests off the host's /sys and /proc. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "fixture.h"
#include "io.h"

static void test_write_file_atomic(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct stat st;

	(void)state;
	assert_int_equal(kt_mkdir_p(f->ctx, "var/lib/kt", 0700), 0);
	assert_int_equal(kt_write_file_atomic(f->ctx, "var/lib/kt/state", "a\nb\n", 4, 0640), 0);
	assert_string_equal(fixture_read(f, "var/lib/kt/state"), "a\nb");
	assert_int_equal(kt_stat(f->ctx, "var/lib/kt/state", &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(kt_write_file_atomic(f->ctx, "var/lib/kt/state", "c", 1, 0600), 0);
	assert_string_equal(fixture_read(f, "var/lib/kt/state"), "c");
	assert_false(fixture_exists(f, "var/lib/kt/.state.tmp"));
	/* A file directly below the root has the root as its directory. */
	assert_int_equal(kt_write_file_atomic(f->ctx, "top", "x", 1, 0600), 0);
	assert_string_equal(fixture_read(f, "top"), "x");
	assert_int_equal(kt_write_file_atomic(f->ctx, "no/such/dir/file", "x", 1, 0600), -ENOENT);
	fixture_close(f);
}

static void test_unlink_rename_stat(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	struct stat st;

	(void)state;
	fixture_write(f, "a", "1");
	fixture_write(f, "b", "2");
	assert_int_equal(kt_rename(f->ctx, "a", "b", RENAME_NOREPLACE), -EEXIST);
	assert_int_equal(kt_rename(f->ctx, "a", "c", RENAME_NOREPLACE), 0);
	assert_int_equal(kt_rename(f->ctx, "c", "b", 0), 0);
	assert_string_equal(fixture_read(f, "b"), "1");
	assert_int_equal(kt_stat(f->ctx, "a", &st), -ENOENT);
	assert_int_equal(kt_stat(f->ctx, "sys/kernel/mm/ksm", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(kt_unlink(f->ctx, "b"), 0);
	assert_int_equal(kt_unlink(f->ctx, "b"), -ENOENT);
	fixture_close(f);
}

static int collect_name(void *data, const char *name)
{
	char *buf = data;

	if (strcmp(name, "stop") == 0)
		return 7;
	strcat(buf, name);
	strcat(buf, " ");
	return 0;
}

static void test_dir_for_each(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	char names[256] = "";

	(void)state;
	assert_int_equal(kt_mkdir_p(f->ctx, "d/e", 0755), 0);
	fixture_write(f, "d/x", "");
	assert_int_equal(kt_dir_for_each(f->ctx, "d", collect_name, names), 0);
	/* readdir order is the filesystem's: compare as a set. */
	assert_int_equal(strlen(names), 4);
	assert_non_null(strstr(names, "e "));
	assert_non_null(strstr(names, "x "));
	fixture_write(f, "d/stop", "");
	assert_int_equal(kt_dir_for_each(f->ctx, "d", collect_name, names), 7);
	assert_int_equal(kt_dir_for_each(f->ctx, "nowhere", collect_name, names), -ENOENT);
	assert_int_equal(kt_dir_for_each(f->ctx, "d/x", collect_name, names), -ENOTDIR);
	fixture_close(f);
}

static void test_unsafe_paths(void **state)
{
	static const char *const bad[] = { "/etc/passwd", "../x", "a/../../x", "a//b", "", ".." };
	struct fixture *f = fixture_open("ksm-6.18");
	struct stat st;
	char buf[64];

	(void)state;
	for (size_t i = 0; i < KT_ELEMENTSOF(bad); i++) {
		assert_int_equal(kt_read_attr(f->ctx, bad[i], buf, sizeof(buf)), -EINVAL);
		assert_int_equal(kt_write_file_atomic(f->ctx, bad[i], "x", 1, 0600), -EINVAL);
		assert_int_equal(kt_unlink(f->ctx, bad[i]), -EINVAL);
		assert_int_equal(kt_rename(f->ctx, "a", bad[i], 0), -EINVAL);
		assert_int_equal(kt_rename(f->ctx, bad[i], "a", 0), -EINVAL);
		assert_int_equal(kt_stat(f->ctx, bad[i], &st), -EINVAL);
		assert_int_equal(kt_dir_for_each(f->ctx, bad[i], collect_name, buf), -EINVAL);
		assert_int_equal(kt_mkdir_p(f->ctx, bad[i], 0700), -EINVAL);
		assert_false(kt_attr_exists(f->ctx, bad[i]));
	}
	fixture_close(f);
}

static int count_entry(void *data, const char *name)
{
	(void)name;
	(*(int *)data)++;
	return 0;
}

/* Each io.c entry point, on a context rooted at the host's "/". */
enum host_op {
	READ_ATTR,
	READ_FILE,
	OPEN_ATTR,
	WRITE_ATTR,
	ATTR_EXISTS,
	STAT,
	DIR_FOR_EACH,
	MKDIR_P,
	WRITE_ATOMIC,
	UNLINK,
	RENAME,
};

static int host_op(struct kt_ctx *ctx, enum host_op op, const char *path)
{
	char buf[64], *text = NULL;
	struct stat st;
	int n = 0, r;

	switch (op) {
	case READ_ATTR:
		return kt_read_attr(ctx, path, buf, sizeof(buf));
	case READ_FILE:
		r = kt_read_file(ctx, path, &text, NULL);
		free(text);
		return r;
	case OPEN_ATTR:
		r = kt_open_attr(ctx, path);
		if (r >= 0)
			close(r);
		return r;
	case WRITE_ATTR:
		return kt_write_attr(ctx, path, "1");
	case ATTR_EXISTS:
		return kt_attr_exists(ctx, path) ? 0 : -EPERM;
	case STAT:
		return kt_stat(ctx, path, &st);
	case DIR_FOR_EACH:
		return kt_dir_for_each(ctx, path, count_entry, &n);
	case MKDIR_P:
		return kt_mkdir_p(ctx, path, 0700);
	case WRITE_ATOMIC:
		return kt_write_file_atomic(ctx, path, "1", 1, 0600);
	case UNLINK:
		return kt_unlink(ctx, path);
	case RENAME:
	default:
		return kt_rename(ctx, path, "tmp/kvmtune-guard-renamed", RENAME_NOREPLACE);
	}
}

static void test_guard_catches_the_host(void **state)
{
	static const struct {
		enum host_op op;
		const char *path;
		const char *caught;
	} cases[] = {
		{ READ_ATTR, "sys/kernel/mm/ksm/run", "/sys/kernel/mm/ksm/run" },
		{ READ_FILE, "proc/meminfo", "/proc/meminfo" },
		{ OPEN_ATTR, "proc/pressure/memory", "/proc/pressure/memory" },
		{ WRITE_ATTR, "sys/kernel/mm/ksm/run", "/sys/kernel/mm/ksm/run" },
		{ ATTR_EXISTS, "sys/kernel/mm/ksm/smart_scan", "/sys/kernel/mm/ksm/smart_scan" },
		{ STAT, "proc/self", "/proc/" },
		{ DIR_FOR_EACH, "proc", "/proc" },
		{ MKDIR_P, "tmp/kvmtune-guard/x", "/tmp" },
		{ WRITE_ATOMIC, "tmp/kvmtune-guard", "/tmp/.kvmtune-guard.tmp" },
		{ UNLINK, "sys/kernel/mm/ksm/run", "/sys/kernel/mm/ksm/run" },
		{ RENAME, "proc/meminfo", "/proc/meminfo" },
	};
	struct kt_ctx *ctx;

	(void)state;
	assert_int_equal(kt_ctx_new("/", &ctx), 0);
	fake_kernel_reset(false);
	fs_guard.expect = true;
	for (size_t i = 0; i < KT_ELEMENTSOF(cases); i++) {
		int r;

		fs_guard.caught = 0;
		fs_guard.last[0] = '\0';
		r = host_op(ctx, cases[i].op, cases[i].path);
		if (r != -EPERM || fs_guard.caught != 1 ||
		    strncmp(fs_guard.last, cases[i].caught, strlen(cases[i].caught)) != 0) {
			fs_guard.expect = false;
			fail_msg("case %zu (%s): r=%d, caught %d, last '%s'", i, cases[i].path, r,
				 fs_guard.caught, fs_guard.last);
		}
	}
	fs_guard.expect = false;
	kt_ctx_unref(ctx);
}

static void test_guard_follows_symlinks(void **state)
{
	struct fixture *f = fixture_open("ksm-6.18");
	char link[600], buf[64];

	(void)state;
	snprintf(link, sizeof(link), "%s/escape", f->root);
	assert_int_equal(symlink("/proc", link), 0);
	fs_guard.expect = true;
	fs_guard.caught = 0;
	assert_int_equal(kt_read_attr(f->ctx, "escape/meminfo", buf, sizeof(buf)), -EPERM);
	fs_guard.expect = false;
	assert_int_equal(fs_guard.caught, 1);
	assert_string_equal(fs_guard.last, "/proc/meminfo");
	/* The fixture's own files stay readable. */
	assert_string_equal(fixture_read(f, "sys/kernel/mm/ksm/run"), "0");
	fixture_close(f);
}

/*
 * Unexpected, the guard fails loudly: the path on stderr at once and a failed group. A child
 * does it, so this run's own tally stays clean.
 */
static void test_guard_fails_unexpected(void **state)
{
	char out[4096] = "";
	int pipefd[2], status;
	ssize_t n, len = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kt_ctx *ctx;
		char buf[64];

		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		if (kt_ctx_new("/", &ctx) < 0)
			_exit(3);
		if (kt_read_attr(ctx, "sys/kernel/mm/ksm/run", buf, sizeof(buf)) != -EPERM)
			_exit(4);
		_exit(host_guard_teardown(NULL) < 0 ? 0 : 5);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], out + len, sizeof(out) - 1 - (size_t)len)) > 0)
		len += n;
	out[len] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	if (!strstr(out, "/sys/kernel/mm/ksm/run, on the host's real kernel"))
		fail_msg("expected the path on stderr, got: %s", out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_file_atomic),
		cmocka_unit_test(test_unlink_rename_stat),
		cmocka_unit_test(test_dir_for_each),
		cmocka_unit_test(test_unsafe_paths),
		cmocka_unit_test(test_guard_catches_the_host),
		cmocka_unit_test(test_guard_follows_symlinks),
		cmocka_unit_test(test_guard_fails_unexpected),
	};

	return cmocka_run_group_tests_name("io", tests, host_guard_setup, host_guard_teardown);
}
