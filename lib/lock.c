// SPDX-License-Identifier: LGPL-2.1-or-later
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "lock.h"
#include "parse.h"

static int lock_path(const char *area, char *buf, size_t size)
{
	int n;

	if (!kt_name_is_safe(area))
		return -EINVAL;
	n = snprintf(buf, size, "%s/%s.lock", KT_RUN_DIR, area);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void one_line(char *dst, size_t size, const char *src)
{
	size_t len = strcspn(src, "\n");

	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

int kt_lock_parse(const char *text, struct kt_lock_info *ret)
{
	struct kt_lock_info info;
	const char *p = text;

	memset(&info, 0, sizeof(info));
	while (*p) {
		size_t len = strcspn(p, "\n");
		char line[256];
		long long pid;

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (strncmp(line, "pid=", 4) == 0 && kt_parse_int(line + 4, 1, INT32_MAX, &pid) == 0)
			info.pid = (pid_t)pid;
		else if (strncmp(line, "holder=", 7) == 0)
			one_line(info.holder, sizeof(info.holder), line + 7);
		else if (strncmp(line, "journal=", 8) == 0)
			one_line(info.journal, sizeof(info.journal), line + 8);
		p += len;
		if (*p)
			p++;
	}
	if (!info.holder[0])
		snprintf(info.holder, sizeof(info.holder), "an unnamed holder");
	*ret = info;
	return 0;
}

static int read_info(int fd, struct kt_lock_info *ret)
{
	char buf[512];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0) {
		memset(ret, 0, sizeof(*ret));
		snprintf(ret->holder, sizeof(ret->holder), "an unknown holder");
		return kt_negerrno();
	}
	buf[n] = '\0';
	return kt_lock_parse(buf, ret);
}

static struct flock whole_file(short type)
{
	return (struct flock){ .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
}

int kt_lock_take(const struct kt_ctx *ctx, const char *area, const char *holder,
		 const char *journal, int *ret_fd)
{
	struct flock fl = whole_file(F_WRLCK);
	char path[128], text[512];
	int fd, r, n;

	r = lock_path(area, path, sizeof(path));
	if (r < 0)
		return r;
	r = kt_mkdir_p(ctx, KT_RUN_DIR, 0755);
	if (r < 0) {
		kt_err(ctx, "cannot create /%s: %s", KT_RUN_DIR, strerror(-r));
		return r;
	}
	fd = kt_open_file(ctx, path, O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		kt_err(ctx, "cannot open the lock /%s: %s", path, strerror(-fd));
		return fd;
	}
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		struct kt_lock_info info;

		r = kt_negerrno();
		if (r == -EAGAIN || r == -EACCES) {
			read_info(fd, &info);
			kt_err(ctx, "%s is held by %s (pid %d): refusing a second writer; undo that "
				    "first (tuned-adm off, or stop the command)",
			       area, info.holder, (int)info.pid);
			r = -EBUSY;
		} else {
			kt_err(ctx, "cannot lock /%s: %s", path, strerror(-r));
		}
		close(fd);
		return r;
	}
	n = snprintf(text, sizeof(text), "pid=%d\nholder=%s\njournal=%s\n", (int)getpid(),
		     holder ? holder : "", journal ? journal : "");
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, (size_t)n, 0) != n) {
		r = kt_negerrno();
		kt_err(ctx, "cannot write the lock /%s: %s", path, strerror(-r));
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

int kt_lock_release(int fd)
{
	if (fd < 0)
		return -1;
	/* Emptied first: a reader that finds the file unlocked finds no stale holder either. */
	if (ftruncate(fd, 0) < 0) {
		/* Nothing to do about it: the lock goes with the descriptor anyway. */
	}
	close(fd);
	return -1;
}

int kt_lock_holder(const struct kt_ctx *ctx, const char *area, struct kt_lock_info *ret)
{
	struct flock fl = whole_file(F_WRLCK);
	kt_cleanup_close int fd = -1;
	char path[128];
	int r;

	r = lock_path(area, path, sizeof(path));
	if (r < 0)
		return r;
	fd = kt_open_file(ctx, path, O_RDONLY, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	/* F_OFD_GETLK asks without taking, so a look never makes a taker fail. */
	if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
		return kt_negerrno();
	if (fl.l_type == F_UNLCK)
		return 0;
	r = read_info(fd, ret);
	return r < 0 ? r : 1;
}
