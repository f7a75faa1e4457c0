// SPDX-License-Identifier: LGPL-2.1-or-later
/* The KSM controller's last decision, as `ksm status` and `status` show it. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands.h"

const char *kt_show_when(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm) ||
	    strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		snprintf(buf, size, "an unknown time");
	return buf;
}

const char *kt_show_ago(int64_t t, char *buf, size_t size)
{
	long long d = (long long)time(NULL) - (long long)t;

	if (t <= 0 || d < 0)
		buf[0] = '\0';
	else if (d < 120)
		snprintf(buf, size, " (%lld s ago)", d);
	else if (d < 7200)
		snprintf(buf, size, " (%lld min ago)", d / 60);
	else
		snprintf(buf, size, " (%lld h ago)", d / 3600);
	return buf;
}

void kt_show_ksm_controller(const struct kt_ksmctl_statefile *sf, bool alive, int width)
{
	char t1[64], t2[64], a1[32], a2[32], mode[32] = "";

	/* tuned's instance names its mode in the owner already ("tuned instance kvm_ksm, mode
	 * dynamic"); `ksm watch` does not. */
	if (!strstr(sf->owner, "mode "))
		snprintf(mode, sizeof(mode), ", mode %s", sf->mode);
	kt_show_ago(sf->since, a1, sizeof(a1));
	kt_show_ago(sf->decided, a2, sizeof(a2));
	if (alive) {
		printf("%-*s%s%s, phase %s since %s%s\n", width, "Controller:", sf->owner, mode,
		       sf->phase, kt_show_when(sf->since, t1, sizeof(t1)), a1);
	} else {
		char pid[32] = "";

		/* Front-ends name their pid in the owner already ("kvmtune ksm watch (pid
		 * 42)"). */
		if (!strstr(sf->owner, "pid"))
			snprintf(pid, sizeof(pid), " (pid %d)", (int)sf->pid);
		printf(
		    "%-*sstale state: %s%s no longer runs; it last said%s, phase %s since %s\n",
		    width, "Controller:", sf->owner, pid, mode[0] ? mode + 1 : "", sf->phase,
		    kt_show_when(sf->since, t1, sizeof(t1)));
	}
	printf("%-*s%s%s: %s\n", width,
	       "Last decision:", kt_show_when(sf->decided, t2, sizeof(t2)), a2, sf->reason);
	printf("%-*sguests %lld MiB (resident %lld MiB), threshold %lld MiB, MemAvailable %lld "
	       "MiB, ",
	       width, "Inputs:", (long long)sf->guests_mib, (long long)sf->guests_rss_mib,
	       (long long)sf->threshold_mib, (long long)sf->available_mib);
	if (sf->psi_some_avg10 >= 0)
		printf("PSI some avg10 %.2f%%, ", sf->psi_some_avg10);
	else
		printf("PSI unknown, ");
	printf("saved %.1f MiB, ", sf->saved_mib);
	if (sf->ksmd_cpu_seconds >= 0)
		printf("ksmd CPU %.2f s\n", sf->ksmd_cpu_seconds);
	else
		printf("ksmd CPU unknown\n");
}

void kt_json_ksm_controller(const struct kt_ksmctl_statefile *sf, bool alive)
{
	printf("{\"owner\":");
	kt_json_str(sf->owner);
	printf(",\"mode\":");
	kt_json_str(sf->mode);
	printf(",\"phase\":");
	kt_json_str(sf->phase);
	printf(",\"since\":%lld,\"decided\":%lld,\"reason\":", (long long)sf->since,
	       (long long)sf->decided);
	kt_json_str(sf->reason);
	printf(",\"pid\":%d,\"stale\":%s,\"inputs\":{", (int)sf->pid, alive ? "false" : "true");
#define JNUM(name, fmt, v, comma)                                                              \
	((v) >= 0 ? printf("%s\"" name "\":" fmt, comma, v)                                    \
		  : printf("%s\"" name "\":null", comma))
	JNUM("guests_mib", "%lld", (long long)sf->guests_mib, "");
	JNUM("guests_rss_mib", "%lld", (long long)sf->guests_rss_mib, ",");
	JNUM("threshold_mib", "%lld", (long long)sf->threshold_mib, ",");
	JNUM("available_mib", "%lld", (long long)sf->available_mib, ",");
	JNUM("psi_some_avg10", "%.2f", sf->psi_some_avg10, ",");
	JNUM("saved_mib", "%.1f", sf->saved_mib, ",");
	JNUM("ksmd_cpu_seconds", "%.2f", sf->ksmd_cpu_seconds, ",");
#undef JNUM
	printf("}}");
}
