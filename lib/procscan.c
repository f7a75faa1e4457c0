// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "parse.h"
#include "procscan.h"

struct walk_data {
	const struct kt_ctx *ctx;
	kt_proc_fn fn;
	void *data;
};

static int walk_one(void *data, const char *name)
{
	struct walk_data *wd = data;
	char path[64], comm[64];
	long long pid;

	if (kt_parse_int(name, 1, INT32_MAX, &pid) < 0)
		return 0;
	snprintf(path, sizeof(path), "proc/%lld/comm", pid);
	/* The process may have exited since readdir. */
	if (kt_read_attr(wd->ctx, path, comm, sizeof(comm)) < 0)
		return 0;
	return wd->fn(wd->data, (pid_t)pid, comm);
}

int kt_proc_walk(const struct kt_ctx *ctx, kt_proc_fn fn, void *data)
{
	struct walk_data wd = { ctx, fn, data };

	return kt_dir_for_each(ctx, "proc", walk_one, &wd);
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

struct qemu_data {
	pid_t *pids;
	size_t max, n;
};

static int add_qemu(void *data, pid_t pid, const char *comm)
{
	struct qemu_data *qd = data;

	/* comm is cut at 15 characters: "qemu-system-x86". */
	if (strncmp(comm, "qemu-system-", 12) != 0 && strcmp(comm, "qemu-kvm") != 0)
		return 0;
	if (qd->n < qd->max)
		qd->pids[qd->n++] = pid;
	return 0;
}

int kt_proc_qemu_pids(const struct kt_ctx *ctx, pid_t *pids, size_t max)
{
	struct qemu_data qd = { pids, max, 0 };
	int r;

	r = kt_proc_walk(ctx, add_qemu, &qd);
	return r < 0 ? r : (int)qd.n;
}

int kt_proc_rss(const struct kt_ctx *ctx, pid_t pid, uint64_t *ret_bytes)
{
	unsigned long long size, resident;
	char path[64], buf[256];
	int r;

	snprintf(path, sizeof(path), "proc/%d/statm", (int)pid);
	r = kt_read_attr(ctx, path, buf, sizeof(buf));
	if (r < 0)
		return r == -ENOENT ? -ESRCH : r;
	if (sscanf(buf, "%llu %llu", &size, &resident) != 2)
		return -EINVAL;
	*ret_bytes = (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
	return 0;
}
