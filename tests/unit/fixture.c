// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cmocka.h>

#include "fixture.h"
#include "io.h"

struct fake_kernel fake_kernel;
struct fs_guard fs_guard;

/* Roots of the fixtures open now (resolved), the only places the library may reach. */
static char guard_roots[8][PATH_MAX];
static pthread_mutex_t guard_lock = PTHREAD_MUTEX_INITIALIZER;

static void guard_add_root(const char *root)
{
	char real[PATH_MAX];

	if (!realpath(root, real))
		fail_msg("cannot resolve fixture root %s: %s", root, strerror(errno));
	pthread_mutex_lock(&guard_lock);
	for (size_t i = 0; i < KT_ELEMENTSOF(guard_roots); i++)
		if (!guard_roots[i][0]) {
			snprintf(guard_roots[i], sizeof(guard_roots[i]), "%s", real);
			pthread_mutex_unlock(&guard_lock);
			return;
		}
	pthread_mutex_unlock(&guard_lock);
	fail_msg("more than %zu fixtures open at once", KT_ELEMENTSOF(guard_roots));
}

static void guard_remove_root(const char *root)
{
	char real[PATH_MAX];

	if (!realpath(root, real))
		return;
	pthread_mutex_lock(&guard_lock);
	for (size_t i = 0; i < KT_ELEMENTSOF(guard_roots); i++)
		if (strcmp(guard_roots[i], real) == 0)
			guard_roots[i][0] = '\0';
	pthread_mutex_unlock(&guard_lock);
}

/* Where dirfd + path lands, as the kernel will resolve it (symlinks included, if it exists). */
static void guard_resolve(int dirfd, const char *path, char *buf, size_t size)
{
	char dir[PATH_MAX] = "", joined[2 * PATH_MAX + 2], real[PATH_MAX];

	if (path[0] != '/') {
		if (dirfd == AT_FDCWD) {
			if (!getcwd(dir, sizeof(dir)))
				snprintf(dir, sizeof(dir), "(unknown cwd)");
		} else {
			char link[64];
			ssize_t n;

			snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
			n = readlink(link, dir, sizeof(dir) - 1);
			if (n < 0)
				snprintf(dir, sizeof(dir), "(fd %d)", dirfd);
			else
				dir[n] = '\0';
		}
	}
	snprintf(joined, sizeof(joined), "%s%s%s", dir, *dir && strcmp(dir, "/") != 0 ? "/" : "",
		 path);
	/* A path too long to show is still refused: it cannot be inside a fixture either. */
	if (snprintf(buf, size, "%s", realpath(joined, real) ? real : joined) >= (int)size)
		buf[size - 1] = '\0';
}

/* 0 to let the call through; -1 with errno EPERM when it leaves every fixture. */
static int guard(const char *op, int dirfd, const char *path)
{
	char where[sizeof(fs_guard.last)];
	bool inside = false, expect;

	guard_resolve(dirfd, path, where, sizeof(where));
	pthread_mutex_lock(&guard_lock);
	for (size_t i = 0; !inside && i < KT_ELEMENTSOF(guard_roots); i++) {
		size_t len = strlen(guard_roots[i]);

		inside = len && strncmp(where, guard_roots[i], len) == 0 &&
			 (where[len] == '/' || where[len] == '\0');
	}
	expect = fs_guard.expect;
	if (!inside) {
		memcpy(fs_guard.last, where, sizeof(fs_guard.last));
		if (expect)
			fs_guard.caught++;
		else
			fs_guard.unexpected++;
	}
	pthread_mutex_unlock(&guard_lock);
	if (inside)
		return 0;
	if (!expect)
		fprintf(stderr, "UNIT TEST LEFT ITS FIXTURE: the library tried to %s %s%s (refused)\n",
			op, where,
			strncmp(where, "/sys", 4) == 0 || strncmp(where, "/proc", 5) == 0
				? ", on the host's real kernel"
				: "");
	errno = EPERM;
	return -1;
}

int __real_openat(int dirfd, const char *path, int flags, ...);
int __wrap_openat(int dirfd, const char *path, int flags, ...);
int __real_faccessat(int dirfd, const char *path, int mode, int flags);
int __wrap_faccessat(int dirfd, const char *path, int mode, int flags);
int __real_fstatat(int dirfd, const char *path, struct stat *st, int flags);
int __wrap_fstatat(int dirfd, const char *path, struct stat *st, int flags);
int __real_mkdirat(int dirfd, const char *path, mode_t mode);
int __wrap_mkdirat(int dirfd, const char *path, mode_t mode);
int __real_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		     unsigned flags);
int __wrap_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		     unsigned flags);
int __real_unlinkat(int dirfd, const char *path, int flags);
int __wrap_unlinkat(int dirfd, const char *path, int flags);

int __wrap_openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	if (flags & (O_CREAT | __O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (guard("open", dirfd, path) < 0)
		return -1;
	return __real_openat(dirfd, path, flags, mode);
}

int __wrap_faccessat(int dirfd, const char *path, int mode, int flags)
{
	if (guard("access", dirfd, path) < 0)
		return -1;
	return __real_faccessat(dirfd, path, mode, flags);
}

int __wrap_fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
	if (guard("stat", dirfd, path) < 0)
		return -1;
	return __real_fstatat(dirfd, path, st, flags);
}

int __wrap_mkdirat(int dirfd, const char *path, mode_t mode)
{
	if (guard("create the directory", dirfd, path) < 0)
		return -1;
	return __real_mkdirat(dirfd, path, mode);
}

int __wrap_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
		     unsigned flags)
{
	if (guard("rename", olddirfd, oldpath) < 0 || guard("rename to", newdirfd, newpath) < 0)
		return -1;
	return __real_renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
}

int __wrap_unlinkat(int dirfd, const char *path, int flags)
{
	if (guard("remove", dirfd, path) < 0)
		return -1;
	return __real_unlinkat(dirfd, path, flags);
}

static void collect(void *data, enum kt_log_prio prio, const char *msg)
{
	struct fixture *f = data;
	size_t len = strlen(f->log);

	if (prio == KT_LOG_ERR)
		f->errors++;
	else if (prio == KT_LOG_WARNING)
		f->warnings++;
	snprintf(f->log + len, sizeof(f->log) - len, "%d %s\n", prio, msg);
}

static char copy_dst[512];
static size_t copy_src_len;

static int copy_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char dst[1024];
	(void)ftw;

	snprintf(dst, sizeof(dst), "%s%s", copy_dst, path + copy_src_len);
	if (type == FTW_D)
		return mkdir(dst, 0755) < 0 && errno != EEXIST ? -1 : 0;
	/* sysfs is links: sys/class/block, sys/dev/block, slaves/, holders/. */
	if (type == FTW_SL || type == FTW_SLN) {
		char target[1024];
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		if (n < 0)
			return -1;
		target[n] = '\0';
		return symlink(target, dst);
	}
	if (type == FTW_F) {
		char buf[65536];
		int in = open(path, O_RDONLY), out;
		ssize_t n;

		if (in < 0)
			return -1;
		out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, st->st_mode & 0777);
		if (out < 0) {
			close(in);
			return -1;
		}
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n)
				n = -1;
		close(in);
		close(out);
		return n < 0 ? -1 : 0;
	}
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

struct fixture *fixture_open(const char *name)
{
	const char *base = getenv("KT_FIXTURES") ? getenv("KT_FIXTURES") : "tests/fixtures";
	struct fixture *f = calloc(1, sizeof(*f));
	char src[512];

	assert_non_null(f);
	snprintf(src, sizeof(src), "%s/%s", base, name);
	snprintf(f->root, sizeof(f->root), "/tmp/kvmtune-fixture-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	snprintf(copy_dst, sizeof(copy_dst), "%s", f->root);
	copy_src_len = strlen(src);
	if (nftw(src, copy_one, 16, FTW_PHYS) != 0)
		fail_msg("cannot copy fixture %s to %s", src, f->root);
	assert_int_equal(kt_ctx_new(f->root, &f->ctx), 0);
	kt_ctx_set_log_fn(f->ctx, collect, f);
	guard_add_root(f->root);
	f->guard_unexpected = fs_guard.unexpected;
	return f;
}

void fixture_close(struct fixture *f)
{
	int left;

	if (!f)
		return;
	left = fs_guard.unexpected - f->guard_unexpected;
	guard_remove_root(f->root);
	kt_ctx_unref(f->ctx);
	nftw(f->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	fs_guard.reported = fs_guard.unexpected;
	if (left)
		fail_msg("the library reached outside the fixture %d time(s), last %s", left,
			 fs_guard.last);
}

const char *fixture_read(struct fixture *f, const char *rel)
{
	int r = kt_read_attr(f->ctx, rel, f->buf, sizeof(f->buf));

	if (r < 0)
		fail_msg("cannot read %s/%s: %s", f->root, rel, strerror(-r));
	return f->buf;
}

void fixture_write(struct fixture *f, const char *rel, const char *value)
{
	char path[1024];
	int fd;

	/* Not through the library: fixtures may gain files the kernel would have. */
	snprintf(path, sizeof(path), "%s/%s", f->root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, value, strlen(value)) != (ssize_t)strlen(value))
		fail_msg("cannot write %s: %s", path, strerror(errno));
	close(fd);
}

bool fixture_exists(struct fixture *f, const char *rel)
{
	return kt_attr_exists(f->ctx, rel);
}

void fixture_clear_log(struct fixture *f)
{
	f->log[0] = '\0';
	f->errors = f->warnings = 0;
}

void fake_kernel_reset(bool rules)
{
	memset(&fake_kernel, 0, sizeof(fake_kernel));
	fake_kernel.rules = rules;
}

int fake_kernel_find(const char *write)
{
	for (int i = 0; i < fake_kernel.n; i++)
		if (strcmp(fake_kernel.writes[i], write) == 0)
			return i;
	return -1;
}

static bool advisor_scan_time(const struct kt_ctx *ctx)
{
	char buf[64];

	return kt_read_attr(ctx, "sys/kernel/mm/ksm/advisor_mode", buf, sizeof(buf)) > 0 &&
	       strstr(buf, "[scan-time]") != NULL;
}

static uint64_t fake_u64(const struct kt_ctx *ctx, const char *path, uint64_t dflt)
{
	char buf[64];

	if (kt_read_attr(ctx, path, buf, sizeof(buf)) <= 0)
		return dflt;
	return strtoull(buf, NULL, 10);
}

static void fake_put(const struct kt_ctx *ctx, const char *path, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v);
	__real_kt_write_attr(ctx, path, buf);
}

#define FAKE_NODE "sys/devices/system/node/node%d/hugepages/hugepages-%llukB"

/* The global pool is the sum of the nodes' pools, as mm/hugetlb.c keeps it. */
static void fake_hp_sum(const struct kt_ctx *ctx, unsigned long long kb)
{
	static const char *const files[] = { "nr_hugepages", "free_hugepages", "surplus_hugepages" };

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		uint64_t sum = 0;
		char path[256];

		for (int n = 0; n < 64; n++) {
			snprintf(path, sizeof(path), FAKE_NODE "/%s", n, kb, files[f]);
			sum += fake_u64(ctx, path, 0);
		}
		snprintf(path, sizeof(path), "sys/kernel/mm/hugepages/hugepages-%llukB/%s", kb,
			 files[f]);
		fake_put(ctx, path, sum);
	}
}

/* Raises the capacity of every pool of node (-1: all nodes) by the gain file's value. */
static void fake_hp_gain(const struct kt_ctx *ctx, int node, const char *gain_file)
{
	static const unsigned long long sizes[] = { 2048, 1048576 };

	for (int n = node < 0 ? 0 : node; n < (node < 0 ? 64 : node + 1); n++)
		for (size_t s = 0; s < 2; s++) {
			char dir[160], path[256];
			uint64_t gain, cap;

			snprintf(dir, sizeof(dir), FAKE_NODE, n, sizes[s]);
			snprintf(path, sizeof(path), "%s/%s", dir, gain_file);
			gain = fake_u64(ctx, path, 0);
			snprintf(path, sizeof(path), "%s/fake_capacity", dir);
			cap = fake_u64(ctx, path, UINT64_MAX);
			if (gain && cap != UINT64_MAX)
				fake_put(ctx, path, cap + gain);
		}
}

/*
 * mm/hugetlb.c's answer to nr_hugepages: as many pages as the node can give (fake_capacity,
 * unlimited when absent), never fewer than those in use (the rest of a shrink becomes
 * surplus), and no error for a shortfall. Compaction and dropped caches raise the capacity.
 */
static int fake_hugepages(const struct kt_ctx *ctx, const char *path, const char *value)
{
	unsigned long long kb;
	char dir[160], p[256];
	int node, len = 0;

	if (strcmp(path, "proc/sys/vm/drop_caches") == 0) {
		fake_hp_gain(ctx, -1, "fake_drop_gain");
		return __real_kt_write_attr(ctx, path, value);
	}
	if (sscanf(path, "sys/devices/system/node/node%d/compact%n", &node, &len) == 1 &&
	    path[len] == '\0') {
		fake_hp_gain(ctx, node, "fake_compact_gain");
		return __real_kt_write_attr(ctx, path, value);
	}
	if (sscanf(path, FAKE_NODE "/nr_hugepages%n", &node, &kb, &len) == 2 && path[len] == '\0') {
		uint64_t want = strtoull(value, NULL, 10), nr, fr, in_use, cap, got;

		snprintf(dir, sizeof(dir), FAKE_NODE, node, kb);
		snprintf(p, sizeof(p), "%s/nr_hugepages", dir);
		nr = fake_u64(ctx, p, 0);
		snprintf(p, sizeof(p), "%s/free_hugepages", dir);
		fr = fake_u64(ctx, p, 0);
		in_use = nr > fr ? nr - fr : 0;
		snprintf(p, sizeof(p), "%s/fake_capacity", dir);
		cap = fake_u64(ctx, p, UINT64_MAX);
		got = want < cap ? want : cap;
		if (got > nr && nr > cap)
			got = nr;
		if (got < in_use)
			got = in_use;
		snprintf(p, sizeof(p), "%s/nr_hugepages", dir);
		fake_put(ctx, p, got);
		snprintf(p, sizeof(p), "%s/free_hugepages", dir);
		fake_put(ctx, p, got - in_use);
		snprintf(p, sizeof(p), "%s/surplus_hugepages", dir);
		fake_put(ctx, p, want < in_use ? in_use - want : 0);
		fake_hp_sum(ctx, kb);
		return 0;
	}
	return 1;
}

/*
 * A queue/scheduler file as block/elevator.c answers: the written name must be one the list
 * offers (-EINVAL), it becomes the bracketed one, and nr_requests is reset to the new
 * scheduler's default (the tag depth for none; 64 here otherwise).
 */
static int fake_scheduler(const struct kt_ctx *ctx, const char *path, const char *value)
{
	char buf[256], out[256] = "", nr[512];
	size_t len = 0;
	bool found = false, same = false;
	char *save = NULL;

	if (kt_read_attr(ctx, path, buf, sizeof(buf)) < 0)
		return -ENOENT;
	for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		bool cur = w[0] == '[';
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)strlen(w) - (cur ? 2 : 0), w + cur);
		if (strcmp(name, value) == 0) {
			found = true;
			same = cur;
		}
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s%s%s", len ? " " : "",
					strcmp(name, value) == 0 ? "[" : "", name,
					strcmp(name, value) == 0 ? "]" : "");
	}
	if (!found)
		return -EINVAL;
	if (same)
		return 0;
	snprintf(nr, sizeof(nr), "%.*snr_requests", (int)(strrchr(path, '/') - path + 1), path);
	__real_kt_write_attr(ctx, nr, strcmp(value, "none") == 0 ? "256" : "64");
	return __real_kt_write_attr(ctx, path, out);
}

int __wrap_kt_write_attr(const struct kt_ctx *ctx, const char *path, const char *value)
{
	const char *knob = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	char buf[64];

	if (fake_kernel.n < (int)(sizeof(fake_kernel.writes) / sizeof(fake_kernel.writes[0])))
		snprintf(fake_kernel.writes[fake_kernel.n++], sizeof(fake_kernel.writes[0]), "%s=%s",
			 knob, value);
	if (fake_kernel.fail_at && fake_kernel.n == fake_kernel.fail_at)
		return -EIO;
	if (strstr(path, "hugepages") || strstr(path, "compact") || strstr(path, "drop_caches")) {
		int r = fake_hugepages(ctx, path, value);

		if (r <= 0)
			return r;
	}
	if (fake_kernel.rules && strstr(path, "/queue/scheduler"))
		return fake_scheduler(ctx, path, value);
	if (!fake_kernel.rules || strncmp(path, "sys/kernel/mm/ksm/", 18) != 0)
		return __real_kt_write_attr(ctx, path, value);

	if (strcmp(knob, "merge_across_nodes") == 0 || strcmp(knob, "max_page_sharing") == 0) {
		if (kt_read_attr(ctx, "sys/kernel/mm/ksm/pages_shared", buf, sizeof(buf)) > 0 &&
		    strcmp(buf, "0") != 0)
			return -EBUSY;
	}
	if (strcmp(knob, "pages_to_scan") == 0 && advisor_scan_time(ctx))
		return -EINVAL;
	if (strcmp(knob, "run") == 0 && strcmp(value, "2") == 0) {
		__real_kt_write_attr(ctx, "sys/kernel/mm/ksm/pages_shared", "0");
		__real_kt_write_attr(ctx, "sys/kernel/mm/ksm/pages_sharing", "0");
	}
	if (strcmp(knob, "advisor_mode") == 0) {
		bool to_scan = strcmp(value, "scan-time") == 0;

		if (!to_scan && strcmp(value, "none") != 0)
			return -EINVAL;
		if (to_scan != advisor_scan_time(ctx)) {
			char min[32] = "500";

			kt_read_attr(ctx, "sys/kernel/mm/ksm/advisor_min_pages_to_scan", min,
				     sizeof(min));
			__real_kt_write_attr(ctx, "sys/kernel/mm/ksm/pages_to_scan",
					     to_scan ? min : "100");
		}
		return __real_kt_write_attr(ctx, path, to_scan ? "none [scan-time]" : "[none] scan-time");
	}
	return __real_kt_write_attr(ctx, path, value);
}

static void fake_put_file(const struct kt_ctx *ctx, const char *rel, const char *text)
{
	int fd;

	kt_mkdir_p(ctx, "proc/self", 0755);
	fd = kt_open_file(ctx, rel, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail_msg("cannot write %s below the fixture", rel);
	close(fd);
}

/* A hugetlbfs mount is a line in the fixture's proc/self/mounts, and a recorded write. */
int __wrap_kt_hugetlbfs_mount(const struct kt_ctx *ctx, uint64_t kb, const char *path)
{
	kt_cleanup_free char *text = NULL;
	char line[512], *all;

	if (fake_kernel.n < (int)(sizeof(fake_kernel.writes) / sizeof(fake_kernel.writes[0])))
		snprintf(fake_kernel.writes[fake_kernel.n++], sizeof(fake_kernel.writes[0]),
			 "mount=%s", path);
	kt_read_file(ctx, "proc/self/mounts", &text, NULL);
	snprintf(line, sizeof(line), "hugetlbfs /%s hugetlbfs rw,nosuid,nodev,relatime,pagesize=%lluK 0 0\n",
		 path, (unsigned long long)kb);
	if (asprintf(&all, "%s%s", text ? text : "", line) < 0)
		return -ENOMEM;
	fake_put_file(ctx, "proc/self/mounts", all);
	free(all);
	return 0;
}

int __wrap_kt_hugetlbfs_umount(const struct kt_ctx *ctx, const char *path)
{
	kt_cleanup_free char *text = NULL;
	char needle[512], *at;

	if (fake_kernel.n < (int)(sizeof(fake_kernel.writes) / sizeof(fake_kernel.writes[0])))
		snprintf(fake_kernel.writes[fake_kernel.n++], sizeof(fake_kernel.writes[0]),
			 "umount=%s", path);
	if (fake_kernel.umount_busy)
		return -EBUSY;
	if (kt_read_file(ctx, "proc/self/mounts", &text, NULL) < 0)
		return -EINVAL;
	snprintf(needle, sizeof(needle), "hugetlbfs /%s ", path);
	at = strstr(text, needle);
	if (!at)
		return -EINVAL;
	memmove(at, at + strcspn(at, "\n") + 1, strlen(at + strcspn(at, "\n") + 1) + 1);
	fake_put_file(ctx, "proc/self/mounts", text);
	return 0;
}

/* kt_stat, with the device numbers fixture files have on the machine they describe. */
int __wrap_kt_stat(const struct kt_ctx *ctx, const char *path, struct stat *ret)
{
	char map[1024], line[600];
	unsigned maj, min;
	FILE *f;

	snprintf(map, sizeof(map), "%s/kt-devnums", kt_ctx_root(ctx));
	f = fopen(map, "r");
	while (f && fgets(line, sizeof(line), f)) {
		char p[512];

		if (sscanf(line, "%511s %u:%u", p, &maj, &min) == 3 && strcmp(p, path) == 0) {
			fclose(f);
			memset(ret, 0, sizeof(*ret));
			ret->st_mode = S_IFREG | 0644;
			ret->st_dev = makedev(maj, min);
			return 0;
		}
	}
	if (f)
		fclose(f);
	return __real_kt_stat(ctx, path, ret);
}

static char host_ksm[4096];

static void snapshot_host(char *buf, size_t size)
{
	DIR *d = opendir("/sys/kernel/mm/ksm");
	struct dirent *de;
	size_t len = 0;

	buf[0] = '\0';
	if (!d)
		return;
	while ((de = readdir(d))) {
		static const char *const knobs[] = { "run", "pages_to_scan", "sleep_millisecs",
						     "use_zero_pages", "merge_across_nodes",
						     "max_page_sharing", "smart_scan", "advisor_mode" };
		char path[512], val[128] = "";
		int fd;

		for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
			if (strcmp(de->d_name, knobs[i]) != 0)
				continue;
			snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", de->d_name);
			fd = open(path, O_RDONLY);
			if (fd >= 0) {
				ssize_t n = read(fd, val, sizeof(val) - 1);

				val[n > 0 ? n : 0] = '\0';
				close(fd);
			}
			len += (size_t)snprintf(buf + len, size - len, "%s=%s", de->d_name, val);
		}
	}
	closedir(d);
	/* The host's hugepage pools, which no unit test may touch either. */
	for (size_t i = 0; i < 2; i++) {
		static const char *const pools[] = {
			"/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages",
			"/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages",
		};
		char val[64] = "";
		int fd = open(pools[i], O_RDONLY);

		if (fd >= 0) {
			ssize_t n = read(fd, val, sizeof(val) - 1);

			val[n > 0 ? n : 0] = '\0';
			close(fd);
		}
		len += (size_t)snprintf(buf + len, size - len, " %s=%s", pools[i], val);
	}
	/* And every block queue's scheduler: the iosched tests write only below fixtures. */
	d = opendir("/sys/block");
	while (d && (de = readdir(d))) {
		char path[512], val[128] = "";
		int fd;

		snprintf(path, sizeof(path), "/sys/block/%s/queue/scheduler", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		ssize_t n = read(fd, val, sizeof(val) - 1);

		val[n > 0 ? n : 0] = '\0';
		close(fd);
		if (len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s=%s", de->d_name, val);
	}
	if (d)
		closedir(d);
}

/*
 * Whatever changes the host's KSM on purpose (integration tests, benches) holds this lock
 * while it runs, and unit tests run at the same time on a shared machine.
 */
#define HOST_LOCK "/run/lock/kvmtune-host.lock"
static bool host_lock_was_held;

static bool host_lock_held(void)
{
	int fd = open(HOST_LOCK, O_RDONLY | O_CLOEXEC);
	bool held;

	if (fd < 0)
		return false;
	held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

int host_guard_setup(void **state)
{
	(void)state;
	host_lock_was_held = host_lock_held();
	snapshot_host(host_ksm, sizeof(host_ksm));
	return 0;
}

int host_guard_teardown(void **state)
{
	char now[4096];

	(void)state;
	/* What no fixture_close() could pin on a test (a thread, a test without fixture). */
	if (fs_guard.unexpected > fs_guard.reported) {
		fprintf(stderr, "the library reached outside its fixture %d time(s), last %s\n",
			fs_guard.unexpected - fs_guard.reported, fs_guard.last);
		return -1;
	}
	snapshot_host(now, sizeof(now));
	if (strcmp(now, host_ksm) == 0)
		return 0;
	/* The guard above kept the library off the host: someone else's run changed it. */
	if (host_lock_was_held || host_lock_held()) {
		fprintf(stderr, "the host's /sys/kernel/mm/ksm changed while %s was held by another "
				"run, not by these tests:\n%s\n-> %s\n",
			HOST_LOCK, host_ksm, now);
		return 0;
	}
	fprintf(stderr, "a unit test changed the host's /sys/kernel/mm/ksm:\n%s\n-> %s\n", host_ksm,
		now);
	return -1;
}
