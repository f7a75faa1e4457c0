// SPDX-License-Identifier: LGPL-2.1-or-later
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "parse.h"
#include "procscan.h"

int kt_proc_walk(const struct kt_ctx *ctx, kt_proc_fn fn, void *data)
{
	struct dirent *de;
	DIR *d;
	int fd, r = 0;

	fd = openat(kt_ctx_root_fd(ctx), "proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kt_negerrno();
	d = fdopendir(fd);
	if (!d) {
		r = kt_negerrno();
		close(fd);
		return r;
	}
	while (r == 0 && (de = readdir(d))) {
		char path[64], comm[64];
		long long pid;

		if (kt_parse_int(de->d_name, 1, INT32_MAX, &pid) < 0)
			continue;
		snprintf(path, sizeof(path), "proc/%lld/comm", pid);
		/* The process may have exited since readdir. */
		if (kt_read_attr(ctx, path, comm, sizeof(comm)) < 0)
			continue;
		r = fn(data, (pid_t)pid, comm);
	}
	closedir(d);
	return r;
}

struct find_data {
	const char *comm;
	pid_t pid;
};

static int match_comm(void *data, pid_t pid, const char *comm)
{
	struct find_data *fd = data;

	if (strcmp(comm, fd->comm) != 0)
		return 0;
	fd->pid = pid;
	return 1;
}

int kt_proc_find(const struct kt_ctx *ctx, const char *comm, pid_t *ret_pid)
{
	struct find_data fd = { comm, 0 };
	int r;

	r = kt_proc_walk(ctx, match_comm, &fd);
	if (r < 0)
		return r;
	if (r == 0)
		return -ESRCH;
	*ret_pid = fd.pid;
	return 0;
}

struct rss_data {
	const struct kt_ctx *ctx;
	uint64_t pages;
	unsigned count;
};

static int add_qemu(void *data, pid_t pid, const char *comm)
{
	struct rss_data *rd = data;
	unsigned long long size, resident;
	char path[64], buf[256];

	/* comm is cut at 15 characters: "qemu-system-x86". */
	if (strncmp(comm, "qemu-system-", 12) != 0 && strcmp(comm, "qemu-kvm") != 0)
		return 0;
	snprintf(path, sizeof(path), "proc/%d/statm", (int)pid);
	if (kt_read_attr(rd->ctx, path, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return 0;
	rd->pages += resident;
	rd->count++;
	return 0;
}

int kt_proc_qemu_rss(const struct kt_ctx *ctx, uint64_t *ret_bytes, unsigned *ret_count)
{
	struct rss_data rd = { ctx, 0, 0 };
	int r;

	r = kt_proc_walk(ctx, add_qemu, &rd);
	if (r < 0)
		return r;
	*ret_bytes = rd.pages * (uint64_t)sysconf(_SC_PAGESIZE);
	if (ret_count)
		*ret_count = rd.count;
	return 0;
}
