// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "ksm-status.h"
#include "parse.h"
#include "procscan.h"

static const char *const counter_names[KT_KSM_COUNTER_MAX] = {
	[KT_KSM_PAGES_SHARED] = "pages_shared",	  [KT_KSM_PAGES_SHARING] = "pages_sharing",
	[KT_KSM_PAGES_UNSHARED] = "pages_unshared", [KT_KSM_PAGES_VOLATILE] = "pages_volatile",
	[KT_KSM_FULL_SCANS] = "full_scans",	  [KT_KSM_ZERO_PAGES] = "ksm_zero_pages",
	[KT_KSM_GENERAL_PROFIT] = "general_profit",
};

const char *kt_ksm_counter_name(enum kt_ksm_counter c)
{
	return c >= 0 && c < KT_KSM_COUNTER_MAX ? counter_names[c] : NULL;
}

int kt_proc_stat_cpu_ticks(const char *stat_line, uint64_t *ret_ticks)
{
	const char *p = strrchr(stat_line, ')');
	unsigned long long utime, stime;
	int field = 2;

	if (!p)
		return -EINVAL;
	/* Fields after the comm: 3 state ... 14 utime, 15 stime (proc(5)); stop before 14. */
	while (field < 14) {
		p = strchr(p + 1, ' ');
		if (!p)
			return -EINVAL;
		field++;
	}
	if (sscanf(p, " %llu %llu", &utime, &stime) != 2)
		return -EINVAL;
	*ret_ticks = utime + stime;
	return 0;
}

int kt_ksmd_cpu_ticks(const struct kt_ctx *ctx, pid_t *ret_pid, uint64_t *ret_ticks)
{
	char path[64], buf[512];
	pid_t pid;
	int r;

	r = kt_proc_find(ctx, "ksmd", &pid);
	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
	r = kt_read_attr(ctx, path, buf, sizeof(buf));
	if (r < 0)
		return r;
	r = kt_proc_stat_cpu_ticks(buf, ret_ticks);
	if (r == 0 && ret_pid)
		*ret_pid = pid;
	return r;
}

int kt_ksm_status_read(const struct kt_ctx *ctx, struct kt_ksm_status *ret)
{
	struct kt_ksm_status st;
	uint64_t ticks = 0;
	int r;

	memset(&st, 0, sizeof(st));
	st.page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	st.ksmd_cpu_seconds = -1;
	st.available = kt_ksm_available(ctx);
	if (st.available) {
		r = kt_ksm_read_all(ctx, &st.knobs);
		if (r < 0)
			return r;
		for (int c = 0; c < KT_KSM_COUNTER_MAX; c++) {
			char path[128], buf[64];
			long long v;

			snprintf(path, sizeof(path), "%s/%s", KT_KSM_DIR, counter_names[c]);
			if (kt_read_attr(ctx, path, buf, sizeof(buf)) < 0 ||
			    kt_parse_int(buf, INT64_MIN, INT64_MAX, &v) < 0)
				continue;
			st.have[c] = true;
			st.counter[c] = v;
		}
		st.saved_bytes = (uint64_t)(st.counter[KT_KSM_PAGES_SHARING] +
					    st.counter[KT_KSM_ZERO_PAGES]) *
				 st.page_size;
	}
	if (kt_ksmd_cpu_ticks(ctx, &st.ksmd_pid, &ticks) == 0)
		st.ksmd_cpu_seconds = (double)ticks / (double)sysconf(_SC_CLK_TCK);
	*ret = st;
	return 0;
}

/* Other programs that drive /sys/kernel/mm/ksm: two controllers would fight. */
static const char *const foreign_controllers[] = { "ksmtuned", "momd" };

bool kt_ksm_is_foreign_controller(const char *comm)
{
	for (size_t i = 0; i < KT_ELEMENTSOF(foreign_controllers); i++)
		if (strcmp(comm, foreign_controllers[i]) == 0)
			return true;
	return false;
}

struct foreign {
	pid_t pid;
	char comm[16];
};

static int match_foreign(void *data, pid_t pid, const char *comm)
{
	struct foreign *f = data;

	if (!kt_ksm_is_foreign_controller(comm))
		return 0;
	f->pid = pid;
	snprintf(f->comm, sizeof(f->comm), "%s", comm);
	return 1;
}

int kt_ksm_find_foreign(const struct kt_ctx *ctx, pid_t *ret_pid, char ret_comm[16])
{
	struct foreign f = { 0, "" };
	int r = kt_proc_walk(ctx, match_foreign, &f);

	if (r < 0)
		return r;
	if (r == 0)
		return 0;
	*ret_pid = f.pid;
	memcpy(ret_comm, f.comm, sizeof(f.comm));
	return 1;
}
