// SPDX-License-Identifier: LGPL-2.1-or-later
/* The controller's state file: what it decided last, why, and on what inputs. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "ksmctl-state.h"
#include "parse.h"


void kt_ksmctl_statefile_init(struct kt_ksmctl_statefile *sf)
{
	memset(sf, 0, sizeof(*sf));
	sf->guests_mib = -1;
	sf->guests_rss_mib = -1;
	sf->threshold_mib = -1;
	sf->available_mib = -1;
	sf->psi_some_avg10 = -1;
	sf->saved_mib = -1;
	sf->ksmd_cpu_seconds = -1;
}

/* Strings go on one line: a newline in a reason would start a new key. */
static void one_line(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < size && src[i]; i++)
		dst[i] = src[i] == '\n' ? ' ' : src[i];
	dst[i] = '\0';
}

int kt_ksmctl_statefile_format(const struct kt_ksmctl_statefile *sf, char *buf, size_t size)
{
	char owner[sizeof(sf->owner)], mode[sizeof(sf->mode)], phase[sizeof(sf->phase)];
	char reason[sizeof(sf->reason)];
	int n;

	one_line(owner, sizeof(owner), sf->owner);
	one_line(mode, sizeof(mode), sf->mode);
	one_line(phase, sizeof(phase), sf->phase);
	one_line(reason, sizeof(reason), sf->reason);
	n = snprintf(buf, size,
		     "owner=%s\nmode=%s\nphase=%s\nsince=%lld\ndecided=%lld\nreason=%s\n"
		     "guests_mib=%lld\nguests_rss_mib=%lld\nthreshold_mib=%lld\navailable_mib=%lld\n"
		     "psi_some_avg10=%.2f\nsaved_mib=%.1f\nksmd_cpu_seconds=%.2f\npid=%d\n",
		     owner, mode, phase, (long long)sf->since, (long long)sf->decided, reason,
		     (long long)sf->guests_mib, (long long)sf->guests_rss_mib,
		     (long long)sf->threshold_mib, (long long)sf->available_mib, sf->psi_some_avg10,
		     sf->saved_mib, sf->ksmd_cpu_seconds, (int)sf->pid);
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	return n;
}

static int parse_double(const char *s, double *ret)
{
	char *end;
	double v;

	if (!*s)
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	/* -1 is "unknown"; 1e12 MiB or seconds is beyond any host. */
	if (errno || *end || !isfinite(v) || v < -1 || v > 1e12)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int set_string(char *dst, size_t size, const char *value)
{
	if (strlen(value) >= size)
		return -EINVAL;
	memcpy(dst, value, strlen(value) + 1);
	return 0;
}

int kt_ksmctl_statefile_parse(const char *text, struct kt_ksmctl_statefile *ret)
{
	struct kt_ksmctl_statefile sf;
	struct {
		const char *key;
		int64_t *i;
		double *d;
	} const numbers[] = {
		{ "since", &sf.since, NULL },
		{ "decided", &sf.decided, NULL },
		{ "guests_mib", &sf.guests_mib, NULL },
		{ "guests_rss_mib", &sf.guests_rss_mib, NULL },
		{ "threshold_mib", &sf.threshold_mib, NULL },
		{ "available_mib", &sf.available_mib, NULL },
		{ "psi_some_avg10", NULL, &sf.psi_some_avg10 },
		{ "saved_mib", NULL, &sf.saved_mib },
		{ "ksmd_cpu_seconds", NULL, &sf.ksmd_cpu_seconds },
	};
	const char *line = text;

	kt_ksmctl_statefile_init(&sf);
	while (*line) {
		const char *nl = strchr(line, '\n'), *eq;
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		char key[32], value[512];
		long long v;
		int r = 0;

		eq = memchr(line, '=', len);
		if (len == 0 || line[0] == '#')
			goto next;
		if (!eq || (size_t)(eq - line) >= sizeof(key) || len - (size_t)(eq - line) > sizeof(value))
			return -EBADMSG;
		memcpy(key, line, (size_t)(eq - line));
		key[eq - line] = '\0';
		memcpy(value, eq + 1, len - (size_t)(eq - line) - 1);
		value[len - (size_t)(eq - line) - 1] = '\0';
		if (strlen(value) != len - (size_t)(eq - line) - 1)
			return -EBADMSG; /* a NUL byte inside the line */

		if (strcmp(key, "owner") == 0)
			r = set_string(sf.owner, sizeof(sf.owner), value);
		else if (strcmp(key, "mode") == 0)
			r = set_string(sf.mode, sizeof(sf.mode), value);
		else if (strcmp(key, "phase") == 0)
			r = set_string(sf.phase, sizeof(sf.phase), value);
		else if (strcmp(key, "reason") == 0)
			r = set_string(sf.reason, sizeof(sf.reason), value);
		else if (strcmp(key, "pid") == 0) {
			r = kt_parse_int(value, 1, INT32_MAX, &v);
			if (r == 0)
				sf.pid = (pid_t)v;
		} else {
			for (size_t i = 0; i < KT_ELEMENTSOF(numbers); i++) {
				if (strcmp(key, numbers[i].key) != 0)
					continue;
				if (numbers[i].i) {
					r = kt_parse_int(value, -1, INT64_MAX, &v);
					if (r == 0)
						*numbers[i].i = v;
				} else {
					r = parse_double(value, numbers[i].d);
				}
				break;
			}
		}
		if (r < 0)
			return -EBADMSG;
	next:
		if (!nl)
			break;
		line = nl + 1;
	}
	if (!sf.owner[0] || !sf.phase[0] || sf.pid <= 0)
		return -EBADMSG;
	*ret = sf;
	return 0;
}

int kt_ksmctl_statefile_write(const struct kt_ctx *ctx, const struct kt_ksmctl_statefile *sf)
{
	char buf[2048];
	int n, r;

	n = kt_ksmctl_statefile_format(sf, buf, sizeof(buf));
	if (n < 0)
		return n;
	r = kt_mkdir_p(ctx, KT_RUN_DIR, 0755);
	if (r < 0)
		return r;
	return kt_write_file_atomic(ctx, KT_KSMCTL_STATE_PATH, buf, (size_t)n, 0644);
}

int kt_ksmctl_statefile_read(const struct kt_ctx *ctx, struct kt_ksmctl_statefile *ret)
{
	kt_cleanup_free char *text = NULL;
	size_t len;
	int r;

	r = kt_read_file(ctx, KT_KSMCTL_STATE_PATH, &text, &len);
	if (r < 0)
		return r;
	if (strlen(text) != len)
		return -EBADMSG;
	return kt_ksmctl_statefile_parse(text, ret);
}

int kt_ksmctl_statefile_remove(const struct kt_ctx *ctx, pid_t pid)
{
	struct kt_ksmctl_statefile sf;
	int r;

	r = kt_ksmctl_statefile_read(ctx, &sf);
	if (r < 0)
		return r;
	/* Another process's controller took over the file: it is not ours to remove. */
	if (sf.pid != pid)
		return 0;
	return kt_unlink(ctx, KT_KSMCTL_STATE_PATH);
}

bool kt_ksmctl_statefile_alive(const struct kt_ctx *ctx, const struct kt_ksmctl_statefile *sf)
{
	char path[32];

	if (sf->pid <= 0)
		return false;
	snprintf(path, sizeof(path), "proc/%d", (int)sf->pid);
	return kt_attr_exists(ctx, path);
}
