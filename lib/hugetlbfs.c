// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

#include "hugepages.h"
#include "hugetlbfs.h"
#include "io.h"
#include "parse.h"

/* /proc/mounts escapes blanks and backslashes in paths as octal (\040). */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

int kt_hugetlbfs_find(const struct kt_ctx *ctx, uint64_t kb, uint64_t default_kb, char *path,
		      size_t size)
{
	kt_cleanup_free char *text = NULL;
	char *line, *save = NULL;
	int r;

	r = kt_read_file(ctx, "proc/self/mounts", &text, NULL);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char dev[256], dir[1024], type[64], opts[1024];
		const char *ps;
		uint64_t mkb = default_kb;

		if (sscanf(line, "%255s %1023s %63s %1023s", dev, dir, type, opts) != 4 ||
		    strcmp(type, "hugetlbfs") != 0)
			continue;
		/* No pagesize= option means the default size. */
		ps = strstr(opts, "pagesize=");
		if (ps) {
			char val[32];
			uint64_t bytes;

			snprintf(val, sizeof(val), "%.*s", (int)strcspn(ps + 9, ","), ps + 9);
			if (kt_parse_size(val, &bytes) < 0)
				continue;
			mkb = bytes >> 10;
		}
		if (mkb != kb)
			continue;
		unescape(dir);
		snprintf(path, size, "%s", dir);
		return 1;
	}
	return 0;
}

void kt_hugetlbfs_path(uint64_t kb, uint64_t default_kb, char *buf, size_t size)
{
	char name[16];

	if (kb == default_kb) {
		snprintf(buf, size, "dev/hugepages");
		return;
	}
	kt_hp_size_name(kb, name, sizeof(name));
	snprintf(buf, size, "dev/hugepages%s", name);
}

static bool at_slash(const struct kt_ctx *ctx)
{
	return strcmp(kt_ctx_root(ctx), "/") == 0;
}

int kt_hugetlbfs_mount(const struct kt_ctx *ctx, uint64_t kb, const char *path)
{
	char abs[512], opts[64];
	int r;

	if (!at_slash(ctx))
		return -EOPNOTSUPP;
	if (!kt_path_is_safe(path))
		return -EINVAL;
	r = kt_mkdir_p(ctx, path, 0755);
	if (r < 0)
		return r;
	snprintf(abs, sizeof(abs), "/%s", path);
	snprintf(opts, sizeof(opts), "pagesize=%lluK", (unsigned long long)kb);
	if (mount("hugetlbfs", abs, "hugetlbfs", MS_NOSUID | MS_NODEV, opts) < 0)
		return kt_negerrno();
	return 0;
}

int kt_hugetlbfs_umount(const struct kt_ctx *ctx, const char *path)
{
	char abs[512];

	if (!at_slash(ctx))
		return -EOPNOTSUPP;
	if (!kt_path_is_safe(path))
		return -EINVAL;
	snprintf(abs, sizeof(abs), "/%s", path);
	if (umount(abs) < 0)
		return kt_negerrno();
	return 0;
}

int kt_hugetlbfs_libvirt_pid(const struct kt_ctx *ctx)
{
	static const char *const pidfiles[] = { "run/libvirtd.pid", "run/libvirt/virtqemud.pid" };

	for (size_t i = 0; i < KT_ELEMENTSOF(pidfiles); i++) {
		char buf[32], proc[64];
		long long pid;

		if (kt_read_attr(ctx, pidfiles[i], buf, sizeof(buf)) <= 0 ||
		    kt_parse_int(buf, 1, INT32_MAX, &pid) < 0)
			continue;
		snprintf(proc, sizeof(proc), "proc/%lld", pid);
		if (kt_attr_exists(ctx, proc))
			return (int)pid;
	}
	return 0;
}
