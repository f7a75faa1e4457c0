// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "io.h"
#include "parse.h"

bool kt_path_is_safe(const char *path)
{
	const char *p = path;

	if (!path || !*path || *path == '/')
		return false;
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += len;
		if (*p == '/')
			p++;
	}
	return true;
}

bool kt_name_is_safe(const char *name)
{
	if (!name || !*name || strlen(name) > 64)
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return false;
	return name[0] != '.';
}

static int open_rel(const struct kt_ctx *ctx, const char *path, int flags)
{
	int fd;

	if (!kt_path_is_safe(path))
		return -EINVAL;
	/* Files created get no permissions beyond the owner's until the caller says so. */
	fd = openat(kt_ctx_root_fd(ctx), path, flags | O_CLOEXEC | O_NOCTTY, 0600);
	return fd < 0 ? kt_negerrno() : fd;
}

int kt_read_attr(const struct kt_ctx *ctx, const char *path, char *buf, size_t size)
{
	kt_cleanup_close int fd = -1;

	if (size < 2)
		return -EINVAL;
	fd = open_rel(ctx, path, O_RDONLY);
	if (fd < 0)
		return fd;
	return kt_pread_attr(fd, buf, size);
}

int kt_open_attr(const struct kt_ctx *ctx, const char *path)
{
	return open_rel(ctx, path, O_RDONLY);
}

int kt_pread_attr(int fd, char *buf, size_t size)
{
	ssize_t n;

	if (size < 2)
		return -EINVAL;
	n = pread(fd, buf, size - 1, 0);
	if (n < 0)
		return kt_negerrno();
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

int kt_read_u64(const struct kt_ctx *ctx, const char *path, uint64_t *ret)
{
	char buf[64];
	long long v;
	int r;

	r = kt_read_attr(ctx, path, buf, sizeof(buf));
	if (r < 0)
		return r;
	r = kt_parse_int(buf, 0, INT64_MAX, &v);
	if (r < 0)
		return r;
	*ret = (uint64_t)v;
	return 0;
}

int kt_read_file(const struct kt_ctx *ctx, const char *path, char **ret, size_t *ret_len)
{
	kt_cleanup_close int fd = -1;
	kt_cleanup_free char *buf = NULL;
	size_t len = 0, cap = 4096;

	fd = open_rel(ctx, path, O_RDONLY);
	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (cap - len < 2) {
			char *nbuf;

			if (cap >= (64u << 20))
				return -EFBIG;
			nbuf = realloc(buf, cap * 2);
			if (!nbuf)
				return -ENOMEM;
			buf = nbuf;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kt_negerrno();
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = buf;
	buf = NULL;
	return 0;
}

int kt_write_attr(const struct kt_ctx *ctx, const char *path, const char *value)
{
	kt_cleanup_close int fd = -1;
	size_t len = strlen(value);
	ssize_t n;

	/* O_TRUNC is a no-op on sysfs and keeps fixture files equal to what was written. */
	fd = open_rel(ctx, path, O_WRONLY | O_TRUNC);
	if (fd < 0)
		return fd;
	n = write(fd, value, len);
	if (n < 0)
		return kt_negerrno();
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

bool kt_attr_exists(const struct kt_ctx *ctx, const char *path)
{
	if (!kt_path_is_safe(path))
		return false;
	return faccessat(kt_ctx_root_fd(ctx), path, F_OK, 0) == 0;
}

int kt_mkdir_p(const struct kt_ctx *ctx, const char *path, unsigned mode)
{
	char buf[4096];
	size_t len;

	if (!kt_path_is_safe(path))
		return -EINVAL;
	len = strlen(path);
	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdirat(kt_ctx_root_fd(ctx), buf, mode) < 0 && errno != EEXIST)
				return kt_negerrno();
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return kt_negerrno();
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int kt_write_file_atomic(const struct kt_ctx *ctx, const char *path, const char *data,
			 size_t len, unsigned mode)
{
	kt_cleanup_close int fd = -1, dfd = -1;
	const char *base = strrchr(path, '/');
	char dir[4096], tmp[4096];
	size_t dlen;
	int r, n;

	if (!kt_path_is_safe(path))
		return -EINVAL;
	base = base ? base + 1 : path;
	dlen = (size_t)(base - path);
	if (dlen >= sizeof(dir))
		return -ENAMETOOLONG;
	/* The directory itself, for the fsync that makes the rename durable. */
	if (dlen)
		snprintf(dir, sizeof(dir), "%.*s", (int)dlen - 1, path);
	else
		snprintf(dir, sizeof(dir), ".");
	n = snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp", (int)dlen, path, base);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open_rel(ctx, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW);
	if (fd < 0)
		return fd;
	r = fchmod(fd, mode) < 0 ? kt_negerrno() : 0;
	if (r == 0)
		r = write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = kt_negerrno();
	if (r == 0)
		r = kt_rename(ctx, tmp, path, 0);
	if (r < 0) {
		kt_unlink(ctx, tmp);
		return r;
	}
	dfd = open_rel(ctx, dir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0)
		fsync(dfd);
	return 0;
}

int kt_unlink(const struct kt_ctx *ctx, const char *path)
{
	if (!kt_path_is_safe(path))
		return -EINVAL;
	return unlinkat(kt_ctx_root_fd(ctx), path, 0) < 0 ? kt_negerrno() : 0;
}

int kt_rename(const struct kt_ctx *ctx, const char *from, const char *to, unsigned flags)
{
	int fd = kt_ctx_root_fd(ctx);

	if (!kt_path_is_safe(from) || !kt_path_is_safe(to))
		return -EINVAL;
	return renameat2(fd, from, fd, to, flags) < 0 ? kt_negerrno() : 0;
}

int kt_stat(const struct kt_ctx *ctx, const char *path, struct stat *ret)
{
	if (!kt_path_is_safe(path))
		return -EINVAL;
	return fstatat(kt_ctx_root_fd(ctx), path, ret, 0) < 0 ? kt_negerrno() : 0;
}

int kt_dir_for_each(const struct kt_ctx *ctx, const char *path, kt_dir_fn fn, void *data)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	fd = open_rel(ctx, path, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		r = kt_negerrno();
		close(fd);
		return r;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				r = kt_negerrno();
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		r = fn(data, de->d_name);
		if (r != 0)
			break;
	}
	closedir(d);
	return r;
}

int kt_open_file(const struct kt_ctx *ctx, const char *path, int flags, unsigned mode)
{
	int fd;

	if (!kt_path_is_safe(path))
		return -EINVAL;
	fd = openat(kt_ctx_root_fd(ctx), path, flags | O_CLOEXEC | O_NOCTTY, mode);
	return fd < 0 ? kt_negerrno() : fd;
}

int kt_read_link(const struct kt_ctx *ctx, const char *path, char *buf, size_t size)
{
	ssize_t n;

	if (!kt_path_is_safe(path) || size < 2)
		return -EINVAL;
	n = readlinkat(kt_ctx_root_fd(ctx), path, buf, size);
	if (n < 0)
		return kt_negerrno();
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	return (int)n;
}
